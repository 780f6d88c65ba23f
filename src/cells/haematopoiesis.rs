//! Normal haematopoiesis on the lattice (stage `update_cells`).
//!
//! Stem cells (flag `STEM`, placed at the start) sit in their niches and divide
//! asymmetrically at `stem_division_per_h` into a free neighbouring site, giving a
//! generation-0 progenitor. Progenitors divide into free neighbouring sites at
//! `progenitor_division_per_h` until they have made `max_generations` divisions, and mature
//! and leave for the blood at `progenitor_exit_per_h`. Both daughters inherit generation + 1,
//! so the tissue depends on its stem cells (transit amplification).
//!
//! Myeloma harms this tissue two ways: by *crowding* (a myeloma cell takes free sites that
//! progenitors need to divide into, and niches whose neighbourhood is full of myeloma cannot
//! renew) and by *local suppression*: each adjacent myeloma cell divides the progenitor's
//! division rate by (1 + `mm_suppression`·n_MM). The whole-body blood compartments take the
//! haematopoietic cell count relative to its healthy reference as marrow output.
//!
//! Stem cells re-infused with an autologous graft carry `until_h` (end of homing) and stay
//! quiescent until then.
//!
//! Reads: the neighbourhood and the time. Decides: `Divide`, `Die` (exit to the blood) or `Stay`.

use crate::cells::lattice::CellKind;
use crate::cells::marrow::{step_prob, unit};
use crate::cells::myeloma::{CellState, flags};
use crate::engine::sweep::{Action, SiteView};
use crate::rng::Stream;
use crate::scenario::HaemParams;
use rand::Rng;

/// Haematopoietic rule with per-step probabilities.
#[derive(Clone, Debug)]
pub struct HaemRule {
    p_stem: f32,
    p_div: f32,
    p_exit: f32,
    max_gen: u16,
    /// Division-probability factor by number of adjacent myeloma cells (0..=26).
    suppression: [f32; 27],
}

impl HaemRule {
    /// From `[haematopoiesis]` and the step [h].
    pub fn new(p: &HaemParams, dt_h: f64) -> Self {
        let mut suppression = [1.0f32; 27];
        for (n, s) in suppression.iter_mut().enumerate() {
            *s = (1.0 / (1.0 + p.mm_suppression * n as f64)) as f32;
        }
        Self {
            p_stem: step_prob(p.stem_division_per_h, dt_h),
            p_div: step_prob(p.progenitor_division_per_h, dt_h),
            p_exit: step_prob(p.progenitor_exit_per_h, dt_h),
            max_gen: p.max_generations,
            suppression,
        }
    }

    /// One stem or progenitor cell's decision.
    ///
    /// `now_h`: time at the start of the step; a stem cell with `until_h > now_h` (a graft
    /// cell still homing, see `model::treatment::GRAFT_HOMING_LAG_H`) does not divide yet.
    #[inline]
    pub fn decide(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        now_h: f32,
    ) -> Action<CellState> {
        let me = view.payload();
        let draw = rng.next_u64();
        let u1 = unit(draw);
        if me.flags & flags::STEM != 0 {
            if u1 < self.p_stem
                && me.until_h <= now_h
                && let Some(to) = view.random_neighbour_of(CellKind::Empty, rng)
            {
                return Action::Divide {
                    to,
                    mother: me,
                    daughter: CellState::default(),
                };
            }
            return Action::Stay;
        }
        if u1 < self.p_exit {
            return Action::Die;
        }
        let u2 = unit(draw << 24);
        if me.count < self.max_gen && u2 < self.p_div {
            let n_mm = view.count_neighbours(CellKind::Myeloma);
            if (n_mm == 0 || u2 < self.p_div * self.suppression[n_mm])
                && let Some(to) = view.random_neighbour_of(CellKind::Empty, rng)
            {
                let d = CellState {
                    count: me.count + 1,
                    ..CellState::default()
                };
                return Action::Divide {
                    to,
                    mother: d,
                    daughter: d,
                };
            }
        }
        Action::Stay
    }
}
