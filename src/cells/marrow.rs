//! The marrow dispatcher rule (stage `update_cells`): one [`Rule`] for the whole lattice that
//! matches on the acting cell's kind and calls the family's logic (myeloma, bone, stroma,
//! haematopoiesis, immune). It holds each family's per-step parameters and an [`Env`] with
//! read-only references to the *committed* fields, the current time and the global myeloma
//! burden — so every decision reads only committed state and its own neighbourhood.
//!
//! Reads: committed fields, the acting cell's neighbourhood. Decides: one [`Action`].

use crate::cells::bone::BoneRule;
use crate::cells::haematopoiesis::HaemRule;
use crate::cells::immune::ImmuneRule;
use crate::cells::lattice::CellKind;
use crate::cells::myeloma::{CellState, MyelomaRule};
use crate::cells::stroma::StromaRule;
use crate::engine::sweep::{Action, Rule, SiteView};
use crate::rng::Stream;
use rand::Rng;

/// What every rule may read besides its neighbourhood: committed field concentrations [nM]
/// (absent fields read as 0), simulated time and the marrow-wide myeloma fraction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Env<'a> {
    /// RANKL [nM] per site.
    pub rankl: Option<&'a [f64]>,
    /// OPG [nM] per site.
    pub opg: Option<&'a [f64]>,
    /// Active TGF-β [nM] per site.
    pub tgfb: Option<&'a [f64]>,
    /// DKK1 [nM] per site.
    pub dkk1: Option<&'a [f64]>,
    /// IL-6 [nM] per site.
    pub il6: Option<&'a [f64]>,
    /// Simulated time at the start of the step [h].
    pub now_h: f32,
    /// Myeloma cells / nucleated marrow cells at the last completed step [0–1].
    pub burden: f32,
    /// Drug action this step (treatment, issue 4; neutral without drugs).
    pub drug: crate::pharma::wiring::CellDrugStep,
    /// Per-clone traits (issue 5; `None`: no `[clones]` section, founder-only behaviour).
    pub clones: Option<&'a crate::clones::Phenotypes>,
}

impl Env<'_> {
    /// Concentration of `field` at `site` [nM] (0 when the field is not modelled).
    #[inline]
    pub fn at(field: Option<&[f64]>, site: usize) -> f32 {
        match field {
            Some(c) => c[site] as f32,
            None => 0.0,
        }
    }
}

/// Hill function with coefficient 2: x²/(x² + k²) (0 for x ≤ 0; 1 if k = 0 and x > 0).
#[inline]
pub fn hill2(x: f32, k: f32) -> f32 {
    if x <= 0.0 {
        return 0.0;
    }
    let x2 = x * x;
    x2 / (x2 + k * k)
}

/// A uniform number in [0, 1) from the top 24 bits of a draw.
#[inline]
pub fn unit(draw: u64) -> f32 {
    (draw >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// Per-step probability `1 − exp(−rate·dt)` for a rate [1/h] and step [h].
#[inline]
pub fn step_prob(rate_per_h: f64, dt_h: f64) -> f32 {
    (-(-rate_per_h * dt_h).exp_m1()) as f32
}

/// The whole-marrow rule: per-family rules plus the environment of this step.
pub struct MarrowRule<'a> {
    /// Myeloma cells (always present).
    pub myeloma: &'a MyelomaRule,
    /// Lining cells, osteoclasts, osteoblasts (`None`: no remodeling).
    pub bone: Option<&'a BoneRule>,
    /// Stromal cells.
    pub stroma: Option<&'a StromaRule>,
    /// Haematopoietic stem and progenitor cells.
    pub haem: Option<&'a HaemRule>,
    /// Immune effectors.
    pub immune: Option<&'a ImmuneRule>,
    /// Committed fields, time, burden.
    pub env: Env<'a>,
}

const MYELOMA: u8 = CellKind::Myeloma as u8;
const STROMA: u8 = CellKind::Stroma as u8;
const OSTEOCLAST: u8 = CellKind::Osteoclast as u8;
const OSTEOBLAST: u8 = CellKind::Osteoblast as u8;
const LINING: u8 = CellKind::Lining as u8;
const HAEM: u8 = CellKind::Haematopoietic as u8;
const IMMUNE: u8 = CellKind::Immune as u8;

impl Rule for MarrowRule<'_> {
    type Payload = CellState;

    fn acts(&self, kind: u8) -> bool {
        match kind {
            MYELOMA => true,
            STROMA => self.stroma.is_some(),
            OSTEOCLAST | OSTEOBLAST | LINING => self.bone.is_some(),
            HAEM => self.haem.is_some(),
            IMMUNE => self.immune.is_some(),
            _ => false,
        }
    }

    #[inline]
    fn decide(&self, view: &SiteView<'_, CellState>, rng: &mut Stream) -> Action<CellState> {
        let env = &self.env;
        match view.kind {
            // Treatment hooks (issue 4): drug kill, blocked divisions and myelosuppression
            // (osteoclast apoptosis: BoneRule::osteoclast); no extra draws without drugs (see pharma::wiring).
            MYELOMA if env.drug.p_mm_kill > 0.0 && self.drug_kills(view, rng) => Action::Die,
            MYELOMA if env.drug.mm_block > 0.0 => match self.myeloma.decide_in(view, rng, env) {
                Action::Divide { .. }
                    if unit(rng.next_u64()) < env.drug.mm_block * clone_mult(env, view, false) =>
                {
                    Action::Stay
                }
                a => a,
            },
            HAEM if env.drug.p_haem_die > 0.0
                && unit(rng.next_u64())
                    < if view.payload().flags & crate::cells::myeloma::flags::STEM != 0 {
                        env.drug.p_stem_die
                    } else {
                        env.drug.p_haem_die
                    } =>
            {
                Action::Die
            }
            MYELOMA => self.myeloma.decide_in(view, rng, env),
            HAEM => match self.haem {
                Some(h) => h.decide(view, rng, env.now_h),
                None => Action::Stay,
            },
            LINING => match self.bone {
                Some(b) => b.lining(view, rng, env),
                None => Action::Stay,
            },
            OSTEOCLAST => match self.bone {
                Some(b) => b.osteoclast(view, rng, env),
                None => Action::Stay,
            },
            OSTEOBLAST => match self.bone {
                Some(b) => b.osteoblast(view, rng, env),
                None => Action::Stay,
            },
            STROMA => match self.stroma {
                Some(s) => s.decide(view),
                None => Action::Stay,
            },
            IMMUNE => match self.immune {
                Some(i) => i.decide(view, rng, env),
                None => Action::Stay,
            },
            _ => Action::Stay,
        }
    }
}

impl MarrowRule<'_> {
    /// Whether this step's drugs kill the acting myeloma cell: probability `p_mm_kill` × the
    /// clone's (and compartment's) multiplier, × `clones.drug_protection_factor` next to a
    /// stromal cell or in TGF-β ≥ `protect_tgfb_nM` (environment-mediated drug resistance,
    /// issue 5: CAM-DR, Damiano 1999; Meads 2009). One draw; the neighbourhood is read only
    /// when that draw would kill, and only with `[clones]` (no change without it).
    #[inline]
    fn drug_kills(&self, view: &SiteView<'_, CellState>, rng: &mut Stream) -> bool {
        let env = &self.env;
        let u = unit(rng.next_u64());
        let p = env.drug.p_mm_kill * clone_mult(env, view, true);
        if u >= p {
            return false;
        }
        match env.clones {
            Some(c) if c.drug_protection() < 1.0 && u >= p * c.drug_protection() => {
                // Killed only if unprotected.
                !(view.count_neighbours(CellKind::Stroma) > 0
                    || Env::at(env.tgfb, view.site) >= self.myeloma.protect_tgfb_nm())
            }
            _ => true,
        }
    }
}

/// The acting myeloma cell's clone multiplier on the drug kill (`kill`) or division block
/// (issue 5; exactly 1 without `[clones]`; progenitors have their own with a hierarchy).
#[inline]
fn clone_mult(env: &Env<'_>, view: &SiteView<'_, CellState>, kill: bool) -> f32 {
    let me = view.payload();
    match env.clones {
        Some(c) if kill => c.kill_mult(me.clone, me.flags),
        Some(c) => c.block_mult(me.clone, me.flags),
        None => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hill_and_probabilities() {
        assert_eq!(hill2(0.0, 1.0), 0.0);
        assert!((hill2(1.0, 1.0) - 0.5).abs() < 1e-6);
        assert!((step_prob(1.0 / 24.0, 1.0) - 0.040_811).abs() < 1e-5);
        assert!(unit(u64::MAX) < 1.0);
    }
}
