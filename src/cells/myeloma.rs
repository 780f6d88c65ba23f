//! Myeloma plasma-cell rules (stage `update_cells`).
//!
//! Each step a myeloma cell dies with probability `1 − exp(−death·dt)`; otherwise it divides
//! with probability `1 − exp(−division·dt)` into a uniformly chosen empty neighbouring site.
//! With no empty neighbour it cannot divide (contact inhibition: crowding limits growth to the
//! colony rim, the mechanism behind Gompertz-like slowing of net growth; MODEL.md §2a).
//! Rates come from the scenario (`[myeloma]`, defaults from the Bishop 2024 HAL code).
//!
//! Inside the full marrow ([`crate::cells::marrow::MarrowRule`]) the rates respond to the
//! microenvironment ([`MyelomaRule::decide_in`]): division is scaled by a Hill term in the
//! growth signal IL-6 + TGF-β (Bishop et al. 2024 gate division by TGF-β; IL-6 is the classic
//! myeloma growth factor, Kawano 1988), and death is cut by `protection_factor` next to a
//! stromal cell (adhesion-mediated protection) or where TGF-β exceeds `protect_tgfb_nm`
//! (bone-derived-factor protection; Bishop 2024: 1/(5 d) → 1/(50 d)).
//!
//! Reads: the acting cell's neighbourhood and the committed IL-6/TGF-β fields.
//! Decides: `Die`, `Divide` or `Update` (ageing).

use rand::Rng;

use crate::cells::lattice::CellKind;
use crate::cells::marrow::{Env, hill2, unit};
use crate::clones::hierarchy::{DIVISIONS_MASK, PROGENITOR, is_progenitor};
use crate::engine::sweep::{Action, Rule, SiteView};
use crate::rng::{Stream, threshold32};
use crate::scenario::{MyelomaEnvParams, MyelomaParams};

/// Per-cell state carried by every cell on the lattice (16 bytes).
///
/// The meaning of `until_h`, `count` and `flags` depends on the kind (see the family files):
/// osteoclasts keep their death time, resorbed-site count and last resorbed site (in
/// `clone`, which only myeloma cells use as a clone index); osteoblasts their deposit quota;
/// lining cells their activation/reversal state; progenitors their generation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CellState {
    /// Index into the clone table (0 = founding clone) for myeloma cells; the last site an
    /// osteoclast resorbed (it follows its pit into it).
    pub clone: u32,
    /// Time since the cell was born or last divided [h].
    pub age_h: f32,
    /// Absolute simulated time [h] at which the cell's current phase ends (lifespan,
    /// activation, TGF-β release); absolute so that steps that cannot update the payload
    /// (edits, moves) still count.
    pub until_h: f32,
    /// Small per-kind counter [count]: sites resorbed (osteoclast), sites still to deposit
    /// (osteoblast, reversal lining), generation (haematopoietic progenitor), the drawn lesion
    /// of a provisional myeloma daughter (until `clones::CloneState::resolve`).
    pub count: u16,
    /// Per-kind state bits (see [`flags`]); myeloma: progenitor bit and divisions left.
    pub flags: u8,
}

/// Bits of [`CellState::flags`], per kind.
pub mod flags {
    /// Lining: expressing RANKL (activated remodeling trigger).
    pub const ACTIVE: u8 = 1;
    /// Lining: reversal cell on a freshly resorbed surface, awaiting osteoblasts.
    pub const REVERSAL: u8 = 2;
    /// Osteoblast: its own site mineralises (becomes bone) on its next step.
    pub const MINERALISING: u8 = 4;
    /// Haematopoietic: stem cell (in a niche; never exits).
    pub const STEM: u8 = 8;
    /// Stroma: a myeloma cell adheres (secretion boosted).
    pub const ENGAGED: u8 = 16;
    /// Myeloma: progenitor compartment (with `[clones.hierarchy]`; the low nibble of a
    /// differentiated myeloma cell holds its divisions left, see [`crate::clones::hierarchy`]).
    pub const MM_PROGENITOR: u8 = crate::clones::hierarchy::PROGENITOR;
}

/// The myeloma rule with its per-step probabilities precomputed as 32-bit thresholds.
#[derive(Clone, Debug)]
pub struct MyelomaRule {
    death_threshold: u64,
    division_threshold: u64,
    dt_h: f32,
    env: MyelomaEnvParams,
}

impl MyelomaRule {
    /// TGF-β above which a myeloma cell is protected [nM] (apoptosis and, with clones, drug
    /// kill).
    #[inline]
    pub fn protect_tgfb_nm(&self) -> f32 {
        self.env.protect_tgfb_nm as f32
    }

    /// Converts the scenario's rates [1/h] into per-step probabilities for step `dt_h`.
    pub fn new(p: &MyelomaParams, dt_h: f64) -> Self {
        Self::with_env(p, &MyelomaEnvParams::default(), dt_h)
    }

    /// As [`Self::new`], with the microenvironment response used by [`Self::decide_in`].
    pub fn with_env(p: &MyelomaParams, env: &MyelomaEnvParams, dt_h: f64) -> Self {
        Self {
            death_threshold: threshold32(1.0 - (-p.death_per_h * dt_h).exp()),
            division_threshold: threshold32(1.0 - (-p.division_per_h * dt_h).exp()),
            dt_h: dt_h as f32,
            env: env.clone(),
        }
    }

    /// The decision inside the full marrow: rates modulated by the committed fields and by
    /// adjacent stroma. Thinning: an event drawn at the maximal rate is kept with the
    /// modulation factor (exact as rate·dt → 0; rate·dt ≤ 0.05 here).
    #[inline]
    pub fn decide_in(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        env: &Env<'_>,
    ) -> Action<CellState> {
        let draw = rng.next_u64();
        let e = &self.env;
        let me = view.payload();
        // Per-clone (and, with a hierarchy, per-compartment) rates (issue 5); the founder-only
        // thresholds without `[clones]`.
        let (death_threshold, division_threshold) = match env.clones {
            Some(c) => c.thresholds(me.clone, me.flags),
            None => (self.death_threshold, self.division_threshold),
        };
        if draw & 0xFFFF_FFFF < death_threshold {
            let protected = Env::at(env.tgfb, view.site) >= e.protect_tgfb_nm as f32
                || view.count_neighbours(CellKind::Stroma) > 0;
            if !protected || unit(rng.next_u64()) < e.protection_factor as f32 {
                return Action::Die;
            }
        }
        if draw >> 32 < division_threshold {
            let basal = e.basal_division_fraction as f32;
            let go = basal >= 1.0 || {
                let s = Env::at(env.il6, view.site) + Env::at(env.tgfb, view.site);
                let f = basal + (1.0 - basal) * hill2(s, e.growth_half_nm as f32);
                unit(rng.next_u64()) < f
            };
            if go && let Some(to) = view.random_neighbour_of(CellKind::Empty, rng) {
                // Hierarchy (clones::hierarchy): a progenitor stays one and its daughter
                // self-renews or differentiates; a differentiated cell spends a division.
                let (mother_flags, daughter_flags) =
                    match env.clones.and_then(|c| c.hierarchy_of(me.clone)) {
                        None => (0, 0),
                        Some(h) if is_progenitor(me.flags) => {
                            let d = if unit(rng.next_u64()) < h.self_renewal {
                                PROGENITOR
                            } else {
                                h.divisions
                            };
                            (PROGENITOR, d)
                        }
                        Some(_) => {
                            let left = (me.flags & DIVISIONS_MASK).saturating_sub(1);
                            (left, left)
                        }
                    };
                let fresh = CellState {
                    clone: me.clone,
                    ..CellState::default()
                };
                // Mutation on division (issue 5): the daughter may carry a provisional clone.
                let daughter = CellState {
                    flags: daughter_flags,
                    ..fresh
                };
                let daughter = match env.clones {
                    Some(c) => c.daughter_of(daughter, to, rng),
                    None => daughter,
                };
                return Action::Divide {
                    to,
                    mother: CellState {
                        flags: mother_flags,
                        ..fresh
                    },
                    daughter,
                };
            }
        }
        Action::Update(CellState {
            age_h: me.age_h + self.dt_h,
            ..me
        })
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
                    ..CellState::default()
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
