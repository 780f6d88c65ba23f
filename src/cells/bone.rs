//! Bone remodeling cells: lining cells, osteoclasts and osteoblasts (stage `update_cells`;
//! the RANKL of activated lining cells and the TGF-β of fresh reversal surfaces are written
//! in stage `secrete`).
//!
//! One remodeling cycle (a basic multicellular unit, BMU), after Bishop et al. 2024 (MODEL.md
//! Table 1.5a) and the reversal-phase biology of Delaisse 2014:
//! 1. **Activation.** A quiescent lining cell activates spontaneously (`activation_per_h`)
//!    or when myeloma cells touch it (vicious cycle; rate × a steep Hill function of the adjacent myeloma count,
//!    so a colony, not a lone cell, triggers it), and expresses RANKL for
//!    `activation_h` (Bishop: up to 14 d; default 7 d so the unit's osteoclasts form
//!    together). The activated cell is the unit's signalling centre and does not fuse itself.
//! 2. **Osteoclast formation** where RANKL outweighs OPG: a quiescent lining cell on bone is
//!    replaced by a fused osteoclast at rate `oc_formation_per_h`·H₂(RANKL/(1 + OPG/K_OPG);
//!    K_RANKL) (precursors come from the circulation and are not lattice cells). With the
//!    default source strength and K_RANKL a triggered unit gets ~5–10 osteoclasts within
//!    ~3 sites of the activated cell. Lifespan Normal(`oc_lifespan_mean_h`,
//!    `oc_lifespan_sd_h`) truncated to [mean/2, 3·mean/2] (Bishop: 14 ± 2.3 d in [7, 21] d).
//! 3. **Resorption.** An osteoclast removes an adjacent bone site at `oc_resorption_per_h`
//!    (Bishop: one 10-µm site a day), remembering it; with no bone adjacent it crawls into
//!    that last-resorbed site (following its pit), so pits reach ~3–5 sites (30–50 µm) deep.
//! 4. **Reversal.** When it dies, the osteoclast's site becomes a reversal (lining-lineage)
//!    cell that carries the count of resorbed sites and releases matrix TGF-β for
//!    `reversal_release_h` (Bishop: 3 d).
//! 5. **Formation.** A reversal cell turns into an osteoblast at `ob_recruit_per_h` ×
//!    (basal + (1 − basal)·H₂(TGF-β)) / (1 + DKK1/K_DKK1), with a deposit quota of
//!    `ob_refill_factor` × the resorbed count (coupling). While its quota exceeds
//!    [`OB_WALL_SITES`] it recruits a partner that takes half (a team fills the cavity side
//!    by side). It deposits at
//!    `ob_formation_per_h`/(1 + DKK1/K_DKK1) (Bishop: one site per ~8.6 d → ~12 sites in
//!    ~3–4 months), retreating into the most open free neighbour and mineralising the site it
//!    leaves (see [`BoneRule::osteoblast`]); it displaces haematopoietic cells, never myeloma
//!    cells (lesions filled by tumour do not heal). A walled-in osteoblast becomes bone (an
//!    osteocyte); a finished one becomes a lining cell (or dies with `ob_apoptosis_fraction`).
//!
//! Edits of neighbouring bone use `Action::EditAndUpdate`: the resorbed (deposited) site
//! changes and the acting cell's count changes in the same step, so counts stay exact.
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
    /// Per-step activation probability by n adjacent myeloma cells, n = 0..=26.
    p_mm_activate: [f32; 27],
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
    refill: f32,
    /// RANKL secreted by an activated lining cell [nM/h] (read by `secrete`).
    pub activated_rankl_nm_per_h: f64,
    /// TGF-β released by a fresh reversal surface [nM/h] (read by `secrete`).
    pub reversal_tgfb_nm_per_h: f64,
    /// Lattice extent [sites] and periodicity, to tell which neighbours touch each other.
    dims: [usize; 3],
    periodic: bool,
}

/// Largest deposit quota one osteoblast keeps [sites]: a wall of 5 sites = 50 µm, the wall
/// thickness of one remodeling packet (40–60 µm; MODEL.md §2b). An osteoblast whose quota is
/// larger recruits a partner (a dividing osteoprogenitor, at the recruitment rate) that takes
/// half of it, so a cavity is refilled by a team working side by side, as in a real BMU
/// (~1000–2000 osteoblasts per unit; Parfitt), not by one cell laying every site in turn.
pub const OB_WALL_SITES: u16 = 5;

/// Hill coefficient of myeloma-triggered lining activation in the number of adjacent myeloma
/// cells: steep, so that a colony (≥ `lining_activation_half_cells` cells) triggers a unit and
/// a lone plasma cell almost never does (with the default half-point 3: 1 cell 1.2 %, 2 cells
/// 16 %, 3 cells 50 % of the maximal rate). Osteoclast numbers rise only where plasma cells
/// are dense (Valentin-Opran 1982) [L].
pub const MM_ACTIVATION_HILL: i32 = 4;

/// Osteoclast crawling rate when no bone is adjacent [1/h] (one site per ~4 h; osteoclasts
/// migrate ~µm/min on bone, Kanehisa 1990) [L].
pub const OC_MOVE_PER_H: f64 = 0.25;

impl BoneRule {
    /// From `[bone_cells]`, the myeloma–lining interaction and the step [h].
    pub fn new(p: &BoneCellParams, mm: &MyelomaEnvParams, dt_h: f64) -> Self {
        Self {
            p_activate: step_prob(p.activation_per_h, dt_h),
            p_mm_activate: std::array::from_fn(|n| {
                let x = (n as f64 / mm.lining_activation_half_cells).powi(MM_ACTIVATION_HILL);
                step_prob(mm.lining_activation_per_h * x / (1.0 + x), dt_h)
            }),
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
            refill: p.ob_refill_factor as f32,
            activated_rankl_nm_per_h: p.activated_rankl_nm_per_h,
            reversal_tgfb_nm_per_h: p.reversal_tgfb_nm_per_h,
            dims: [0; 3],
            periodic: false,
        }
    }

    /// Sets the lattice extent [sites] and periodicity (needed by the osteoblast's choice
    /// of where to retreat; without it every free neighbour counts as equally open).
    pub fn with_lattice(mut self, dims: [usize; 3], periodic: bool) -> Self {
        self.dims = dims;
        self.periodic = periodic;
        self
    }

    /// True if sites `a` and `b` (both neighbours of one cell) touch each other.
    fn touch(&self, a: usize, b: usize) -> bool {
        let [nx, ny, _] = self.dims;
        let c = |i: usize| [i % nx, (i / nx) % ny, i / (nx * ny)];
        let (ca, cb) = (c(a), c(b));
        (0..3).all(|k| {
            let d = ca[k].abs_diff(cb[k]);
            d <= 1 || (self.periodic && d + 1 == self.dims[k])
        })
    }

    /// The free (empty) neighbour with the most free sites around it among this cell's own
    /// neighbourhood — the most open direction, so a retreating osteoblast does not step into
    /// a dead-end pocket and wall itself in. Ties broken by one draw. Reach 1 only.
    fn open_neighbour(&self, view: &SiteView<'_, CellState>, rng: &mut Stream) -> Option<usize> {
        if self.dims[0] == 0 {
            return view.random_neighbour_of(CellKind::Empty, rng);
        }
        const EMPTY: u8 = CellKind::Empty as u8;
        const HAEM: u8 = CellKind::Haematopoietic as u8;
        let mut hood = [0usize; 26];
        let n = view.neighbours(&mut hood);
        let mut best = [0usize; 26];
        let (mut nb, mut top) = (0, 0u32);
        for &j in &hood[..n] {
            if view.kind_at(j) != EMPTY {
                continue;
            }
            let score = hood[..n]
                .iter()
                .filter(|&&k| k != j && matches!(view.kind_at(k), EMPTY | HAEM) && self.touch(j, k))
                .count() as u32
                + 1;
            if score > top {
                top = score;
                nb = 0;
            }
            if score == top {
                best[nb] = j;
                nb += 1;
            }
        }
        (nb > 0).then(|| best[crate::rng::below(rng.next_u64(), nb as u32) as usize])
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

    /// A lining cell: reversal → osteoblast; quiescent → osteoclast (where RANKL outweighs
    /// OPG) or activation; activated → RANKL source until its activation ends.
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
                            count: (me.count as f32 * self.refill).round() as u16,
                            ..CellState::default()
                        },
                    };
                }
            }
            return Action::Stay;
        }
        let active = me.flags & flags::ACTIVE != 0;
        if active {
            // The activated cell is the unit's signalling centre (RANKL, read by `secrete`);
            // it does not itself fuse, so the signal lasts the whole activation.
            if env.now_h >= me.until_h {
                return Action::Update(CellState {
                    flags: me.flags & !flags::ACTIVE,
                    ..me
                });
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
                        clone: u32::MAX,
                        until_h: env.now_h + life,
                        ..CellState::default()
                    },
                };
            }
        }
        let u2 = unit(draw << 24);
        // Myeloma-triggered activation grows with the local colony (Hill of the adjacent count),
        // so a lone plasma cell rarely starts a unit; the count is only taken when the draw
        // could trigger at all (the 26-neighbour maximum bounds every n).
        let trigger = u2 < self.p_activate
            || (u2 < self.p_mm_activate[26]
                && u2 < self.p_mm_activate[view.count_neighbours(CellKind::Myeloma).min(26)]);
        if trigger {
            return Action::Update(CellState {
                flags: me.flags | flags::ACTIVE,
                until_h: env.now_h + self.activation_h,
                ..me
            });
        }
        Action::Stay
    }

    /// An osteoclast: resorb adjacent bone (one `EditAndUpdate` per site, counting it), follow
    /// its own pit when no bone is adjacent, and end as a reversal cell.
    #[inline]
    pub fn osteoclast(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        env: &Env<'_>,
    ) -> Action<CellState> {
        let me = view.payload();
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
                return Action::EditAndUpdate {
                    at: b,
                    kind: CellKind::Empty,
                    payload: CellState {
                        clone: b as u32,
                        count: me.count.saturating_add(1),
                        ..me
                    },
                };
            }
        }
        if u < self.p_resorb + self.p_oc_move && view.count_neighbours(CellKind::Bone) == 0 {
            // Follow the resorption front: into the last site it resorbed (deeper into its
            // pit) when that is free, else any free neighbour.
            let last = me.clone as usize;
            let mut hood = [0usize; 26];
            let n = view.neighbours(&mut hood);
            if hood[..n].contains(&last) && view.kind_at(last) == CellKind::Empty as u8 {
                return Action::Move { to: last };
            }
            if let Some(to) = view.random_neighbour_of(CellKind::Empty, rng) {
                return Action::Move { to };
            }
        }
        Action::Stay
    }

    /// An osteoblast: lay down its quota of bone one site at a time, retreating into the
    /// marrow as it does (appositional formation), then become lining (or die).
    ///
    /// A deposit takes two steps: the osteoblast divides into a free neighbouring site (the
    /// daughter carries the remaining quota and the death time), and the mother, flagged
    /// `MINERALISING`, becomes bone on the next step. The deposited site is thus always the
    /// osteoblast's own site, next to existing bone, and an osteoblast is never walled in.
    /// With no free neighbour it displaces a haematopoietic one (an `Edit` to `Empty`);
    /// with only myeloma neighbours it cannot deposit (lesions filled by tumour do not heal).
    #[inline]
    pub fn osteoblast(
        &self,
        view: &SiteView<'_, CellState>,
        rng: &mut Stream,
        env: &Env<'_>,
    ) -> Action<CellState> {
        let me = view.payload();
        if me.flags & flags::MINERALISING != 0 {
            return Action::Become {
                kind: CellKind::Bone,
                payload: CellState::default(),
            };
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
        let Some(to) = self.open_neighbour(view, rng) else {
            if view.count_neighbours(CellKind::Bone) == view.neighbours(&mut [0usize; 26]) {
                // Walled in by matrix: an osteocyte (its own site is its last deposit).
                return Action::Become {
                    kind: CellKind::Bone,
                    payload: CellState::default(),
                };
            }
            // Keep the osteoid seam clear: displace a haematopoietic neighbour (mobile; they
            // re-fill free marrow within hours), else a quiescent lining cell (osteoblasts
            // take over the surface and become its lining cells when they finish).
            let lining_q = |j: usize| {
                view.kind_at(j) == CellKind::Lining as u8
                    && view.payload_at(j).flags & (flags::ACTIVE | flags::REVERSAL) == 0
            };
            let mut hood = [0usize; 26];
            let n = view.neighbours(&mut hood);
            let target = view
                .random_neighbour_of(CellKind::Haematopoietic, rng)
                .or_else(|| hood[..n].iter().copied().find(|&j| lining_q(j)));
            return match target {
                Some(j) => Action::Edit {
                    at: j,
                    kind: CellKind::Empty,
                },
                None => Action::Stay,
            };
        };
        // Never seal another osteoblast (or a reversal cell awaiting one) into a pocket: a
        // deposit fills this cell's own site, which may be a neighbour's only exit. Crowded
        // osteoblasts spread out first (crawling at the osteoclast rate).
        let mut hood = [0usize; 26];
        let n = view.neighbours(&mut hood);
        const EMPTY: u8 = CellKind::Empty as u8;
        const HAEM: u8 = CellKind::Haematopoietic as u8;
        let crowded = hood[..n].iter().any(|&j| {
            let k = view.kind_at(j);
            let f = view.payload_at(j).flags;
            let waiting = (k == CellKind::Osteoblast as u8 && f & flags::MINERALISING == 0)
                || (k == CellKind::Lining as u8 && f & flags::REVERSAL != 0);
            // Its other exits visible from here (reach 1): free sites touching it.
            waiting
                && !hood[..n]
                    .iter()
                    .any(|&e| e != j && matches!(view.kind_at(e), EMPTY | HAEM) && self.touch(j, e))
        });
        let u = unit(draw);
        if crowded {
            if u < self.p_oc_move {
                return Action::Move { to };
            }
            return Action::Stay;
        }
        if me.count > OB_WALL_SITES {
            // Team recruitment: a partner takes half of the quota (osteoprogenitors proliferate
            // on the reversal surface, Bishop 2024 up to 1/day; DKK1 blocks it like recruitment).
            if u < self.p_recruit && u < self.p_recruit * self.dkk1_factor(env, view.site) {
                let half = me.count / 2;
                return Action::Divide {
                    to,
                    mother: CellState {
                        count: me.count - half,
                        ..me
                    },
                    daughter: CellState { count: half, ..me },
                };
            }
            return Action::Stay;
        }
        if u < self.p_deposit && u < self.p_deposit * self.dkk1_factor(env, view.site) {
            return Action::Divide {
                to,
                mother: CellState {
                    flags: flags::MINERALISING,
                    ..CellState::default()
                },
                daughter: CellState {
                    count: me.count - 1,
                    ..me
                },
            };
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

    /// Myeloma-triggered activation: none without myeloma, half the maximal rate at
    /// `lining_activation_half_cells`, ~1 % for a lone cell, rising with the colony.
    #[test]
    fn myeloma_activation_needs_a_colony() {
        let mm = MyelomaEnvParams::default();
        let dt = 4.0;
        let r = BoneRule::new(&BoneCellParams::default(), &mm, dt);
        let p = r.p_mm_activate;
        assert_eq!(p[0], 0.0);
        let half = step_prob(mm.lining_activation_per_h / 2.0, dt);
        assert!(
            (p[3] - half).abs() < 1e-6 * half.max(1e-9) + 1e-9,
            "{} vs {half}",
            p[3]
        );
        let lone = p[1] / step_prob(mm.lining_activation_per_h, dt);
        assert!(
            (0.01..0.015).contains(&lone),
            "lone cell at {lone} of the maximum"
        );
        assert!(p.windows(2).all(|w| w[1] >= w[0]));
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
