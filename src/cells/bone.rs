//! Bone remodeling cells: lining cells, osteoclasts and osteoblasts (stage `update_cells`;
//! the RANKL of activated lining cells and the TGF-β of fresh reversal surfaces are written
//! in stage `secrete`).
//!
//! One remodeling cycle (a basic multicellular unit, BMU), after Bishop et al. 2024 (MODEL.md
//! Table 1.5a) and the reversal-phase biology of Delaisse 2014:
//! 1. **Activation.** A quiescent lining cell activates spontaneously (`activation_per_h`,
//!    calibrated to ~25 %/yr trabecular turnover) or when a myeloma cell touches it (vicious
//!    cycle), and expresses RANKL for `activation_h` (Bishop: up to 14 d).
//! 2. **Osteoclast formation** where RANKL outweighs OPG: a lining cell on bone is replaced by
//!    a fused osteoclast at rate `oc_formation_per_h`·H₂(RANKL/(1 + OPG/K_OPG); K_RANKL)
//!    (precursors come from the circulation and are not represented as lattice cells). Its
//!    lifespan is Normal(`oc_lifespan_mean_h`, `oc_lifespan_sd_h`) truncated to
//!    [mean/2, 3·mean/2] (Bishop: 14 ± 2.3 d in [7, 21] d).
//! 3. **Resorption.** An osteoclast removes an adjacent bone site at `oc_resorption_per_h`
//!    (Bishop: one 10-µm site a day) and crawls into freed space when no bone is adjacent.
//! 4. **Reversal.** When it dies, the osteoclast's site becomes a reversal (lining-lineage)
//!    cell that carries the count of resorbed sites and releases matrix TGF-β for
//!    `reversal_release_h` (Bishop: 3 d).
//! 5. **Formation.** A reversal cell turns into an osteoblast at `ob_recruit_per_h` ×
//!    (basal + (1 − basal)·H₂(TGF-β)) / (1 + DKK1/K_DKK1). The osteoblast's deposit quota is
//!    the resorbed count (coupling: what one osteoclast removed, its successor refills); it
//!    deposits a site at `ob_formation_per_h`/(1 + DKK1/K_DKK1) (Bishop: one site per ~8.6 d
//!    → ~14 sites in ~4 months) into a free neighbouring site, else onto a haematopoietic
//!    neighbour (displacing it); myeloma cells in a cavity block refilling. A buried osteoblast becomes bone (an osteocyte); a finished
//!    one becomes a lining cell (or dies with `ob_apoptosis_fraction`).
//!
//! Edits of neighbouring bone are *two-phase*, because an `Edit` cannot change the acting
//! cell's payload: the cell first records its target site in `clone` with the `PENDING` flag
//! (an `Update`, counting the site), performs the `Edit` on a later step, and clears the flag
//! once the target shows the new kind. One extra hour per site; counts stay exact.
//!
//! Reads: neighbourhood, committed RANKL/OPG/TGF-β/DKK1, time. Decides: `Become`, `Edit`,
//! `Move`, `Update`, `Die` or `Stay`.

use crate::cells::lattice::CellKind;
use crate::cells::marrow::{Env, hill2, step_prob, unit};
use crate::cells::myeloma::{CellState, flags};
use crate::engine::sweep::{Action, SiteView};
use crate::rng::Stream;
use crate::scenario::{BoneCellParams, MyelomaEnvParams};
use rand::Rng;

/// Bone-cell rules with per-step probabilities.
#[derive(Clone, Debug)]
pub struct BoneRule {
    p_activate: f32,
    p_mm_activate: f32,
    activation_h: f32,
    p_form: f32,
    rankl_half: f32,
    opg_half: f32,
    oc_life_mean_h: f32,
    oc_life_sd_h: f32,
    p_resorb: f32,
    p_oc_move: f32,
    release_h: f32,
    p_recruit: f32,
    tgfb_half: f32,
    basal: f32,
    dkk1_half: f32,
    p_deposit: f32,
    ob_life_h: f32,
    ob_apoptosis: f32,
    /// RANKL secreted by an activated lining cell [nM/h] (read by `secrete`).
    pub activated_rankl_nm_per_h: f64,
    /// TGF-β released by a fresh reversal surface [nM/h] (read by `secrete`).
    pub reversal_tgfb_nm_per_h: f64,
}

/// Osteoclast crawling rate when no bone is adjacent [1/h] (one site per ~4 h; osteoclasts
/// migrate ~µm/min on bone, Kanehisa 1990) [L].
pub const OC_MOVE_PER_H: f64 = 0.25;

impl BoneRule {
    /// From `[bone_cells]`, the myeloma–lining interaction and the step [h].
    pub fn new(p: &BoneCellParams, mm: &MyelomaEnvParams, dt_h: f64) -> Self {
        Self {
            p_activate: step_prob(p.activation_per_h, dt_h),
            p_mm_activate: step_prob(mm.lining_activation_per_h, dt_h),
            activation_h: p.activation_h as f32,
            p_form: step_prob(p.oc_formation_per_h, dt_h),
            rankl_half: p.oc_rankl_half_nm as f32,
            opg_half: p.oc_opg_half_nm as f32,
            oc_life_mean_h: p.oc_lifespan_mean_h as f32,
            oc_life_sd_h: p.oc_lifespan_sd_h as f32,
            p_resorb: step_prob(p.oc_resorption_per_h, dt_h),
            p_oc_move: step_prob(OC_MOVE_PER_H, dt_h),
            release_h: p.reversal_release_h as f32,
            p_recruit: step_prob(p.ob_recruit_per_h, dt_h),
            tgfb_half: p.ob_tgfb_half_nm as f32,
            basal: p.ob_basal_fraction as f32,
            dkk1_half: p.ob_dkk1_half_nm as f32,
            p_deposit: step_prob(p.ob_formation_per_h, dt_h),
            ob_life_h: p.ob_lifespan_max_h as f32,
            ob_apoptosis: p.ob_apoptosis_fraction as f32,
            activated_rankl_nm_per_h: p.activated_rankl_nm_per_h,
            reversal_tgfb_nm_per_h: p.reversal_tgfb_nm_per_h,
        }
    }

    /// Osteoclast-formation drive in [0, 1]: H₂ of RANKL discounted by its decoy OPG.
    #[inline]
    pub fn formation_drive(&self, rankl: f32, opg: f32) -> f32 {
        hill2(rankl / (1.0 + opg / self.opg_half), self.rankl_half)
    }

    /// Osteoclast lifespan [h] from two uniform draws: Normal(mean, sd) by Box–Muller,
    /// truncated to [mean/2, 3·mean/2] by clamping.
    pub fn oc_lifespan_h(&self, d1: u64, d2: u64) -> f32 {
        let u1 = ((d1 >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let u2 = (d2 >> 11) as f64 / (1u64 << 53) as f64;
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let m = self.oc_life_mean_h as f64;
        (m + self.oc_life_sd_h as f64 * z).clamp(0.5 * m, 1.5 * m) as f32
    }

    fn dkk1_factor(&self, env: &Env<'_>, site: usize) -> f32 {
        1.0 / (1.0 + Env::at(env.dkk1, site) / self.dkk1_half)
    }

    /// A lining cell: reversal → osteoblast; quiescent/activated → osteoclast or activation.
    #[inline]
    pub fn lining(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        env: &Env<'_>,
    ) -> Action<CellState> {
        let me = view.payload();
        let draw = rng.next_u64();
        let u1 = unit(draw);
        if me.flags & flags::REVERSAL != 0 {
            if u1 < self.p_recruit * env.drug.ob_factor.max(1.0) {
                let t = Env::at(env.tgfb, view.site);
                let f = (self.basal + (1.0 - self.basal) * hill2(t, self.tgfb_half))
                    * self.dkk1_factor(env, view.site)
                    * env.drug.ob_factor;
                if u1 < self.p_recruit * f {
                    return Action::Become {
                        kind: CellKind::Osteoblast,
                        payload: CellState {
                            until_h: env.now_h + self.ob_life_h,
                            count: me.count,
                            ..CellState::default()
                        },
                    };
                }
            }
            return Action::Stay;
        }
        if u1 < self.p_form {
            let drive =
                self.formation_drive(Env::at(env.rankl, view.site), Env::at(env.opg, view.site));
            if u1 < self.p_form * drive * env.drug.oc_keep
                && view.count_neighbours(CellKind::Bone) > 0
            {
                let life = self.oc_lifespan_h(rng.next_u64(), rng.next_u64());
                return Action::Become {
                    kind: CellKind::Osteoclast,
                    payload: CellState {
                        until_h: env.now_h + life,
                        ..CellState::default()
                    },
                };
            }
        }
        let active = me.flags & flags::ACTIVE != 0;
        if active {
            if env.now_h >= me.until_h {
                return Action::Update(CellState {
                    flags: me.flags & !flags::ACTIVE,
                    ..me
                });
            }
            return Action::Stay;
        }
        let u2 = unit(draw << 24);
        let trigger = u2 < self.p_activate
            || (u2 < self.p_mm_activate && view.count_neighbours(CellKind::Myeloma) > 0);
        if trigger {
            return Action::Update(CellState {
                flags: me.flags | flags::ACTIVE,
                until_h: env.now_h + self.activation_h,
                ..me
            });
        }
        Action::Stay
    }

    /// An osteoclast: resorb adjacent bone, crawl, and end as a reversal cell.
    #[inline]
    pub fn osteoclast(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        env: &Env<'_>,
    ) -> Action<CellState> {
        let me = view.payload();
        if me.flags & flags::PENDING != 0 {
            let target = me.clone as usize;
            if view.kind_at(target) == CellKind::Bone as u8 {
                return Action::Edit {
                    at: target,
                    kind: CellKind::Empty,
                };
            }
            return Action::Update(CellState {
                flags: me.flags & !flags::PENDING,
                ..me
            });
        }
        // Drug-induced apoptosis (bisphosphonates; issue 4) ends the lifespan early; the
        // cavity still passes through reversal, so formation stays coupled to what was resorbed.
        if env.now_h >= me.until_h
            || (env.drug.p_oc_die > 0.0 && unit(rng.next_u64()) < env.drug.p_oc_die)
        {
            return Action::Become {
                kind: CellKind::Lining,
                payload: CellState {
                    flags: flags::REVERSAL,
                    until_h: env.now_h + self.release_h,
                    count: me.count,
                    ..CellState::default()
                },
            };
        }
        let u = unit(rng.next_u64());
        if u < self.p_resorb * env.drug.oc_keep {
            if let Some(b) = view.random_neighbour_of(CellKind::Bone, rng) {
                return Action::Update(CellState {
                    clone: b as u32,
                    count: me.count.saturating_add(1),
                    flags: me.flags | flags::PENDING,
                    ..me
                });
            }
        } else if u < self.p_resorb + self.p_oc_move
            && view.count_neighbours(CellKind::Bone) == 0
            && let Some(to) = view.random_neighbour_of(CellKind::Empty, rng)
        {
            return Action::Move { to };
        }
        Action::Stay
    }

    /// An osteoblast: deposit its quota of bone, then become lining (or die, or be buried).
    #[inline]
    pub fn osteoblast(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        env: &Env<'_>,
    ) -> Action<CellState> {
        let me = view.payload();
        if me.flags & flags::PENDING != 0 {
            let target = me.clone as usize;
            let k = view.kind_at(target);
            if k == CellKind::Empty as u8 || k == CellKind::Haematopoietic as u8 {
                return Action::Edit {
                    at: target,
                    kind: CellKind::Bone,
                };
            }
            // Done (target is bone now) or taken by another kind of cell (refund the site).
            let refund = (k != CellKind::Bone as u8) as u16;
            return Action::Update(CellState {
                flags: me.flags & !flags::PENDING,
                count: me.count + refund,
                ..me
            });
        }
        let draw = rng.next_u64();
        if me.count == 0 || env.now_h >= me.until_h {
            let die = unit(draw) < self.ob_apoptosis;
            if die {
                return Action::Die;
            }
            return Action::Become {
                kind: CellKind::Lining,
                payload: CellState::default(),
            };
        }
        let u = unit(draw);
        if u < self.p_deposit && u < self.p_deposit * self.dkk1_factor(env, view.site) {
            // New matrix goes into free space, else displaces a (mobile) haematopoietic
            // cell; myeloma cells filling a cavity block formation (lesions do not heal).
            let target = view
                .random_neighbour_of(CellKind::Empty, rng)
                .or_else(|| view.random_neighbour_of(CellKind::Haematopoietic, rng));
            match target {
                Some(j) => {
                    return Action::Update(CellState {
                        clone: j as u32,
                        count: me.count - 1,
                        flags: me.flags | flags::PENDING,
                        ..me
                    });
                }
                None => {
                    let mut hood = [0usize; 26];
                    let n = view.neighbours(&mut hood);
                    if view.count_neighbours(CellKind::Bone) == n {
                        // Walled in by its own matrix: an osteocyte.
                        return Action::Become {
                            kind: CellKind::Bone,
                            payload: CellState::default(),
                        };
                    }
                }
            }
        }
        Action::Stay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifespan_is_truncated_normal() {
        let r = BoneRule::new(
            &BoneCellParams::default(),
            &MyelomaEnvParams::default(),
            1.0,
        );
        let mut s = crate::rng::stream(7, crate::rng::Purpose::Systemic, 0, 0);
        let n = 20_000;
        let v: Vec<f64> = (0..n)
            .map(|_| r.oc_lifespan_h(s.next_u64(), s.next_u64()) as f64)
            .collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        // Normal(336 h, 55.2 h): SE of the mean 0.39 h; truncation at ±3 sd changes little.
        assert!((mean - 336.0).abs() < 2.0, "mean {mean}");
        assert!((sd - 55.2).abs() < 2.0, "sd {sd}");
        assert!(v.iter().all(|&x| (168.0..=504.0).contains(&x)));
    }

    #[test]
    fn opg_discounts_rankl() {
        let r = BoneRule::new(
            &BoneCellParams::default(),
            &MyelomaEnvParams::default(),
            1.0,
        );
        assert!(r.formation_drive(0.1, 0.0) > r.formation_drive(0.1, 0.5));
        assert_eq!(r.formation_drive(0.0, 0.0), 0.0);
    }
}
