//! Myeloma plasma-cell rules (stage `update_cells`).
//!
//! Each step a myeloma cell dies with probability `1 − exp(−death·dt)`; otherwise it divides
//! with probability `1 − exp(−division·dt)` into a uniformly chosen empty neighbouring site.
//! With no empty neighbour it cannot divide (contact inhibition: crowding limits growth to the
//! colony rim, the mechanism behind Gompertz-like slowing of net growth; MODEL.md §2a).
//! Rates come from the scenario (`[myeloma]`, defaults from the Bishop 2024 HAL code).
//!
//! Reads: the acting cell's neighbourhood. Decides: `Die`, `Divide` or `Update` (ageing).

use rand::Rng;

use crate::cells::lattice::CellKind;
use crate::engine::sweep::{Action, Rule, SiteView};
use crate::rng::{Stream, threshold32};
use crate::scenario::MyelomaParams;

/// Per-cell state carried by every cell on the lattice.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CellState {
    /// Index into the clone table (0 = founding clone).
    pub clone: u32,
    /// Time since the cell was born or last divided [h].
    pub age_h: f32,
}

/// The myeloma rule with its per-step probabilities precomputed as 32-bit thresholds.
#[derive(Clone, Debug)]
pub struct MyelomaRule {
    death_threshold: u64,
    division_threshold: u64,
    dt_h: f32,
}

impl MyelomaRule {
    /// Converts the scenario's rates [1/h] into per-step probabilities for step `dt_h`.
    pub fn new(p: &MyelomaParams, dt_h: f64) -> Self {
        Self {
            death_threshold: threshold32(1.0 - (-p.death_per_h * dt_h).exp()),
            division_threshold: threshold32(1.0 - (-p.division_per_h * dt_h).exp()),
            dt_h: dt_h as f32,
        }
    }
}

impl Rule for MyelomaRule {
    type Payload = CellState;

    fn acts(&self, kind: u8) -> bool {
        kind == CellKind::Myeloma as u8
    }

    #[inline]
    fn decide(&self, view: &SiteView<'_, CellState>, rng: &mut Stream) -> Action<CellState> {
        let draw = rng.next_u64();
        if draw & 0xFFFF_FFFF < self.death_threshold {
            return Action::Die;
        }
        let me = view.payload();
        if draw >> 32 < self.division_threshold {
            if let Some(to) = view.random_neighbour_of(CellKind::Empty, rng) {
                let fresh = CellState {
                    clone: me.clone,
                    age_h: 0.0,
                };
                return Action::Divide {
                    to,
                    mother: fresh,
                    daughter: fresh,
                };
            }
        }
        Action::Update(CellState {
            age_h: me.age_h + self.dt_h,
            ..me
        })
    }
}
