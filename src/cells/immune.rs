//! Immune effectors: NK and cytotoxic T cells (stage `update_cells`).
//!
//! An effector random-walks through free marrow (`move_per_h`; one step per time step with
//! probability `min(move_per_h·dt, 1)`, so the walk's mean step rate does not depend on dt)
//! and kills one adjacent myeloma cell at `kill_per_h` (Froid myelomaSimpleABM: 0.12/h per contact), divided by
//! (1 + TGF-β/`tgfb_half_nM`) (TGF-β immunosuppression) and by (1 + burden/`burden_half`)
//! (systemic suppression growing with the myeloma fraction: Tregs, MDSC, PD-L1/exhaustion).
//! A kill empties the target's site (`Edit` to `Empty`). The effector pool is resident and
//! constant: replacement of dying effectors from the blood is implicit.
//!
//! Reads: neighbourhood, committed TGF-β, global burden. Decides: `Edit`, `Move` or `Stay`.

use crate::cells::lattice::CellKind;
use crate::cells::marrow::{Env, step_prob, unit};
use crate::cells::myeloma::CellState;
use crate::engine::sweep::{Action, SiteView};
use crate::rng::Stream;
use crate::scenario::ImmuneParams;
use rand::Rng;

/// Immune-effector rule with per-step probabilities.
#[derive(Clone, Debug)]
pub struct ImmuneRule {
    p_kill: f32,
    p_move: f32,
    tgfb_half: f32,
    burden_half: f32,
}

impl ImmuneRule {
    /// From `[immune]` and the step [h].
    pub fn new(p: &ImmuneParams, dt_h: f64) -> Self {
        Self {
            p_kill: step_prob(p.kill_per_h, dt_h),
            // A random walk keeps its mean step rate (its diffusivity): one step with
            // probability r·dt, exact while r·dt ≤ 1 (`check` warns above). 1 − e^(−r·dt)
            // would slow the walk as dt grows (0.39 vs 0.5 steps/h at dt 1 h, 0.22 at 4 h).
            p_move: (p.move_per_h * dt_h).min(1.0) as f32,
            tgfb_half: p.tgfb_half_nm as f32,
            burden_half: p.burden_half as f32,
        }
    }

    /// Kill suppression factor in [0, 1] for local TGF-β [nM] and burden [0–1].
    pub fn activity(&self, tgfb: f32, burden: f32) -> f32 {
        1.0 / ((1.0 + tgfb / self.tgfb_half) * (1.0 + burden / self.burden_half))
    }

    /// One effector's decision.
    #[inline]
    pub fn decide(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        env: &Env<'_>,
    ) -> Action<CellState> {
        let u = unit(rng.next_u64());
        if u < self.p_kill * env.drug.immune_factor.max(1.0) {
            let a =
                self.activity(Env::at(env.tgfb, view.site), env.burden) * env.drug.immune_factor;
            if u < self.p_kill * a
                && let Some(mm) = view.random_neighbour_of(CellKind::Myeloma, rng)
            {
                return Action::Edit {
                    at: mm,
                    kind: CellKind::Empty,
                };
            }
        }
        if unit(rng.next_u64()) < self.p_move
            && let Some(to) = view.random_neighbour_of(CellKind::Empty, rng)
        {
            return Action::Move { to };
        }
        Action::Stay
    }
}
