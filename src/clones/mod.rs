//! Myeloma clones (issue 5): a clone table in the engine's cell state (each myeloma cell's
//! payload `clone` indexes it), lesions mapped to traits ([`lesions`], data with sources),
//! mutation on division, per-clone division/death/drug sensitivity applied in the myeloma rule,
//! and per-clone counts over time.
//!
//! **Deterministic ids in a parallel sweep.** A mutating division gives the daughter a
//! *provisional* payload: `clone = PROVISIONAL | parent` and `count = ` the drawn lesion (library
//! index). Nothing shared is written during the sweep. After the sweep, [`CloneState::resolve`]
//! scans the myeloma sites in ascending site order and gives each provisional cell the next
//! table id. A sweep's outcome does not depend on the thread count (see `engine::sweep`), and
//! neither does a site-ordered scan, so the ids are thread-count independent. A daughter is
//! born with the current step's stamp and so cannot act (or divide again) before it is resolved.
//!
//! Reads: the `[clones]` scenario section, the lattice, drug concentrations. Writes: myeloma
//! payloads (`clone`), `clones.csv`, `clones_timeseries.csv`, `clones.nwk`.

pub mod hierarchy;
pub mod lesions;
pub mod table;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use rand::Rng;
use serde::Deserialize;

use crate::cells::lattice::{CellKind, Lattice};
use crate::cells::marrow::unit;
use crate::cells::myeloma::CellState;
use crate::pharma::{Pharmacology, Target, hill};
use crate::rng::{self, Purpose, Stream, threshold32};
pub use hierarchy::{Hierarchy, RawHierarchy};
pub use lesions::{DrugClass, LesionLibrary, N_CLASSES, RawLesion, Traits};
pub use table::{CloneRecord, CloneTable};

/// Flag bit of a provisional clone id (set by the rule on a mutating division, cleared by
/// [`CloneState::resolve`] after the sweep).
pub const PROVISIONAL: u32 = 1 << 31;

/// `[clones]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClones {
    /// Lesions of the founding clone (library names).
    #[serde(default)]
    pub founder_lesions: Vec<String>,
    /// Probability per division that the daughter acquires a new lesion [1/division], before
    /// the clone's `mutation` trait. Default 1e-4 [L] (order of the per-division rate of
    /// copy-number events in unstable cancers; Bakhoum & Cantley 2018 — illustrative).
    pub mutation_per_division: Option<f64>,
    /// Subclones present at t = 0.
    #[serde(default)]
    pub seed_subclones: Vec<RawSubclone>,
    /// `[clones.lesions.<name>]`: overrides of or additions to the lesion library.
    #[serde(default)]
    pub lesions: BTreeMap<String, RawLesion>,
    /// `[clones.hierarchy]`: progenitor / differentiated compartments (absent: off).
    pub hierarchy: Option<RawHierarchy>,
    /// Drug kill multiplier next to stroma or in protective TGF-β [0–1]; default 0.5.
    pub drug_protection_factor: Option<f64>,
    /// Lognormal sd of trait drift per new clone [-]; default 0.1.
    pub drift_sd: Option<f64>,
}

/// `[[clones.seed_subclones]]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubclone {
    /// Lesions added to the founder's (library names).
    #[serde(default)]
    pub lesions: Vec<String>,
    /// Share of the initial myeloma cells [0–1).
    pub fraction: Option<f64>,
    /// Share of this subclone's initial cells that are progenitors [0–1] (default: the
    /// hierarchy's `progenitor_fraction`).
    pub progenitor_fraction: Option<f64>,
}

/// A subclone present at t = 0.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedSubclone {
    /// Lesions added to the founder's (library indices).
    pub lesions: Vec<usize>,
    /// Share of the initial myeloma cells [0–1).
    pub fraction: f64,
    /// Share of its initial cells that are progenitors [0–1] (`None`: the hierarchy's
    /// `progenitor_fraction`). A minor subclone is a handful of lattice sites although it is
    /// ~10⁸ cells in a patient; seeding it at its own (e.g. immature, progenitor-rich)
    /// composition keeps it from being lost by sampling noise (docs/MODEL.md §3.3.6).
    pub progenitor_fraction: Option<f64>,
}

/// The validated `[clones]` section.
#[derive(Clone, Debug, PartialEq)]
pub struct ClonePlan {
    /// Lesion library (shipped + overrides).
    pub library: LesionLibrary,
    /// Founder lesions (library indices).
    pub founder: Vec<usize>,
    /// Mutation probability per division [1/division].
    pub mutation_per_division: f64,
    /// Subclones at t = 0.
    pub seed_subclones: Vec<SeedSubclone>,
    /// Progenitor / differentiated hierarchy (`None`: one compartment, as without clones).
    pub hierarchy: Option<Hierarchy>,
    /// Environment-mediated drug resistance: the drug kill probability of a myeloma cell next
    /// to a stromal cell or in TGF-β ≥ `myeloma.protect_tgfb_nM` (resorbing bone) is
    /// multiplied by this [0–1]. Default 0.5: adhesion to fibronectin / stroma roughly halves
    /// drug-induced apoptosis of myeloma lines (cell-adhesion-mediated drug resistance,
    /// Damiano et al. 1999; review Meads, Gatenby & Dalton 2009; Hazlehurst 2003) and
    /// TGF-β/bone-derived factors protect likewise (Bishop 2024 use one protection for both)
    /// [M for direction, L for size].
    pub drug_protection: f64,
    /// Standard deviation of the lognormal trait drift given to each new clone (division,
    /// death, RANKL and DKK1 multipliers each × exp(sd·z), z ~ N(0, 1)) [-]. Default 0.1:
    /// small, mostly neutral passenger effects (subclonal fitness differences of a few to
    /// ~10 % per event; Bozic 2010, Williams 2018) [L].
    pub drift_sd: f64,
}

impl ClonePlan {
    /// Validates `[clones]`; every problem is collected as `(key path, message)`.
    pub fn from_raw(raw: &RawClones) -> Result<ClonePlan, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let library = match LesionLibrary::build(&raw.lesions) {
            Ok(l) => Some(l),
            Err(p) => {
                problems.extend(p);
                None
            }
        };
        let mut names = |key: String, v: &[String]| -> Vec<usize> {
            let Some(lib) = &library else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for (i, n) in v.iter().enumerate() {
                match lib.index(n) {
                    Some(ix) if !out.contains(&ix) => out.push(ix),
                    Some(_) => problems.push((format!("{key}[{i}]"), format!("`{n}` repeated"))),
                    None => problems.push((
                        format!("{key}[{i}]"),
                        format!(
                            "unknown lesion `{n}`; known: {}",
                            lib.lesions
                                .iter()
                                .map(|l| l.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                }
            }
            out
        };
        let founder = names("clones.founder_lesions".into(), &raw.founder_lesions);
        let mut seeds = Vec::new();
        for (i, s) in raw.seed_subclones.iter().enumerate() {
            let l = names(format!("clones.seed_subclones[{i}].lesions"), &s.lesions);
            seeds.push((l, s.fraction, s.progenitor_fraction));
        }
        let mut seed_subclones = Vec::new();
        let mut total = 0.0;
        for (i, (l, f, pf)) in seeds.into_iter().enumerate() {
            let key = format!("clones.seed_subclones[{i}].fraction");
            if let Some(p) = pf
                && !(0.0..=1.0).contains(&p)
            {
                problems.push((
                    format!("clones.seed_subclones[{i}].progenitor_fraction"),
                    format!("must be in [0, 1], got {p}"),
                ));
            }
            if pf.is_some() && raw.hierarchy.is_none() {
                problems.push((
                    format!("clones.seed_subclones[{i}].progenitor_fraction"),
                    "needs a [clones.hierarchy] section".into(),
                ));
            }
            match f {
                Some(f) if f.is_finite() && f > 0.0 && f < 1.0 => {
                    total += f;
                    seed_subclones.push(SeedSubclone {
                        lesions: l,
                        fraction: f,
                        progenitor_fraction: pf,
                    })
                }
                Some(f) => problems.push((key, format!("must be in (0, 1), got {f}"))),
                None => problems.push((key, "missing (share of the initial cells)".into())),
            }
        }
        if total >= 1.0 {
            problems.push((
                "clones.seed_subclones".into(),
                format!("fractions add up to {total} (must be < 1)"),
            ));
        }
        let mu = raw.mutation_per_division.unwrap_or(1e-4);
        if !(0.0..=1.0).contains(&mu) {
            problems.push((
                "clones.mutation_per_division".into(),
                format!("must be in [0, 1], got {mu}"),
            ));
        }
        let hierarchy = raw
            .hierarchy
            .as_ref()
            .map(|h| Hierarchy::from_raw(h, &mut problems));
        let mut in01 = |k: &str, v: Option<f64>, def: f64| -> f64 {
            let x = v.unwrap_or(def);
            if !(0.0..=1.0).contains(&x) {
                problems.push((format!("clones.{k}"), format!("must be in [0, 1], got {x}")));
            }
            x
        };
        let drug_protection = in01("drug_protection_factor", raw.drug_protection_factor, 0.5);
        let drift_sd = in01("drift_sd", raw.drift_sd, 0.1);
        match library {
            Some(library) if problems.is_empty() => Ok(ClonePlan {
                library,
                founder,
                mutation_per_division: mu,
                seed_subclones,
                hierarchy,
                drug_protection,
                drift_sd,
            }),
            _ => Err(problems),
        }
    }
}

/// Per-step hierarchy values the myeloma rule reads (see [`hierarchy`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HierarchyStep {
    /// Probability that a progenitor division yields a progenitor daughter [0–1] (the
    /// hierarchy's value in [`Phenotypes::hierarchy`], the clone's own in
    /// [`Phenotypes::hierarchy_of`]).
    pub self_renewal: f32,
    /// Divisions left to a newly differentiated cell [count].
    pub divisions: u8,
}

/// What the myeloma rule reads per clone (index = clone id); rebuilt when clones are born and
/// (drug multipliers) every step. Vectors prefixed `p_` are the progenitor compartment's.
#[derive(Debug, Default)]
pub struct Phenotypes {
    death_threshold: Vec<u64>,
    division_threshold: Vec<u64>,
    p_death_threshold: Vec<u64>,
    p_division_threshold: Vec<u64>,
    mutation_p: Vec<f32>,
    kill_mult: Vec<f32>,
    block_mult: Vec<f32>,
    p_kill_mult: Vec<f32>,
    p_block_mult: Vec<f32>,
    /// Probability that a progenitor division self-renews, per clone (hierarchy value × the
    /// clone's `self_renewal` trait, capped at [`hierarchy::SELF_RENEWAL_MAX`]) [0–1].
    self_renewal: Vec<f32>,
    /// RANKL and DKK1 secretion multipliers (clone traits) [-].
    rankl: Vec<f32>,
    dkk1: Vec<f32>,
    /// Acquired lesions (library index) with cumulative probabilities.
    acquired: Vec<(u16, f32)>,
    hierarchy: Option<HierarchyStep>,
    drug_protection: f32,
    /// Sites that received a provisional daughter during this sweep (any order; sorted by
    /// [`CloneState::resolve`]). Mutations are rare (≤ a few per step), so the lock is
    /// uncontended; it lets `resolve` cost O(new clones) instead of a lattice scan.
    pending: Mutex<Vec<u32>>,
}

impl Clone for Phenotypes {
    fn clone(&self) -> Self {
        Self {
            death_threshold: self.death_threshold.clone(),
            division_threshold: self.division_threshold.clone(),
            p_death_threshold: self.p_death_threshold.clone(),
            p_division_threshold: self.p_division_threshold.clone(),
            mutation_p: self.mutation_p.clone(),
            kill_mult: self.kill_mult.clone(),
            block_mult: self.block_mult.clone(),
            p_kill_mult: self.p_kill_mult.clone(),
            p_block_mult: self.p_block_mult.clone(),
            self_renewal: self.self_renewal.clone(),
            rankl: self.rankl.clone(),
            dkk1: self.dkk1.clone(),
            acquired: self.acquired.clone(),
            hierarchy: self.hierarchy,
            drug_protection: self.drug_protection,
            pending: Mutex::new(self.pending.lock().expect("pending sites").clone()),
        }
    }
}

impl Phenotypes {
    /// Per-step death and division thresholds (32-bit, as `rng::threshold32`) of a cell of
    /// `clone` with payload `flags`: progenitors divide at their own rate; differentiated
    /// cells without divisions left do not divide (hierarchy only).
    #[inline]
    pub fn thresholds(&self, clone: u32, flags: u8) -> (u64, u64) {
        let c = clone as usize;
        match self.hierarchy {
            None => (self.death_threshold[c], self.division_threshold[c]),
            Some(_) if hierarchy::is_progenitor(flags) => {
                (self.p_death_threshold[c], self.p_division_threshold[c])
            }
            Some(_) if flags & hierarchy::DIVISIONS_MASK == 0 => (self.death_threshold[c], 0),
            Some(_) => (self.death_threshold[c], self.division_threshold[c]),
        }
    }

    /// The hierarchy's per-step values (`None`: no hierarchy).
    #[inline]
    pub fn hierarchy(&self) -> Option<HierarchyStep> {
        self.hierarchy
    }

    /// The hierarchy's values for a cell of `clone`: the self-renewal probability is the
    /// clone's own (its `self_renewal` trait; `None`: no hierarchy).
    #[inline]
    pub fn hierarchy_of(&self, clone: u32) -> Option<HierarchyStep> {
        self.hierarchy.map(|h| HierarchyStep {
            self_renewal: self.self_renewal[clone as usize],
            ..h
        })
    }

    /// Multiplier on the drug kill probability next to stroma or in protective TGF-β [0–1].
    #[inline]
    pub fn drug_protection(&self) -> f32 {
        self.drug_protection
    }

    /// Multiplier on the drug kill probability of a `clone` cell with payload `flags` this
    /// step [-].
    #[inline]
    pub fn kill_mult(&self, clone: u32, flags: u8) -> f32 {
        if self.hierarchy.is_some() && hierarchy::is_progenitor(flags) {
            self.p_kill_mult[clone as usize]
        } else {
            self.kill_mult[clone as usize]
        }
    }

    /// Multiplier on the drug division-block probability of a `clone` cell with payload
    /// `flags` this step [-].
    #[inline]
    pub fn block_mult(&self, clone: u32, flags: u8) -> f32 {
        if self.hierarchy.is_some() && hierarchy::is_progenitor(flags) {
            self.p_block_mult[clone as usize]
        } else {
            self.block_mult[clone as usize]
        }
    }

    /// RANKL secretion multiplier per clone id [-].
    pub fn rankl_mult(&self) -> &[f32] {
        &self.rankl
    }

    /// DKK1 secretion multiplier per clone id [-].
    pub fn dkk1_mult(&self) -> &[f32] {
        &self.dkk1
    }

    /// The daughter's payload after a division of a `fresh.clone` cell into site `to`:
    /// `fresh`, or (with the clone's mutation probability) a provisional payload carrying the
    /// parent and the new lesion, with `to` noted for [`CloneState::resolve`]. Always one
    /// draw, two on a mutation.
    #[inline]
    pub fn daughter_of(&self, fresh: CellState, to: usize, rng: &mut Stream) -> CellState {
        let p = self.mutation_p[fresh.clone as usize];
        if p <= 0.0 || self.acquired.is_empty() || unit(rng.next_u64()) >= p {
            return fresh;
        }
        self.pending.lock().expect("pending sites").push(to as u32);
        let u = unit(rng.next_u64());
        let l = self
            .acquired
            .iter()
            .find(|a| u < a.1)
            .unwrap_or(self.acquired.last().expect("non-empty"))
            .0;
        CellState {
            clone: PROVISIONAL | fresh.clone,
            count: l,
            ..fresh
        }
    }
}

/// Per-class drug action this step: extra kill hazard [1/h] from `mm_kill`, CD38 kill
/// [1/h] from `cd38_kill` (NK-weighted), and division-block fractions from
/// `mm_antiproliferation`, summed by [`DrugClass`] (drugs without a class are pooled in an
/// unscaled remainder).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClassAction {
    kill: [f64; N_CLASSES],
    cd38: [f64; N_CLASSES],
    block: [f64; N_CLASSES],
    other_kill: f64,
    other_block: f64,
}

impl ClassAction {
    /// From the current PD-driving concentrations and the NK availability [0–1].
    pub fn from_pharmacology(ph: &Pharmacology, nk_availability: f64) -> Self {
        use crate::pharma::wiring::CD38_NK_DEPENDENT;
        let nk = (1.0 - CD38_NK_DEPENDENT) + CD38_NK_DEPENDENT * nk_availability.clamp(0.0, 1.0);
        let mut a = ClassAction::default();
        for (i, d) in ph.drugs().iter().enumerate() {
            let c = ph.state(i).effect_concentration_nm();
            if c <= 0.0 {
                continue;
            }
            let class = DrugClass::of(&d.name);
            for e in &d.effects {
                let h = hill(c, e);
                match (e.target, class) {
                    (Target::MmKill, Some(k)) => a.kill[k as usize] += h,
                    (Target::MmKill, None) => a.other_kill += h,
                    (Target::Cd38Kill, Some(k)) => a.cd38[k as usize] += h * nk,
                    (Target::Cd38Kill, None) => a.other_kill += h * nk,
                    (Target::MmAntiproliferation, Some(k)) => a.block[k as usize] += h,
                    (Target::MmAntiproliferation, None) => a.other_block += h,
                    _ => {}
                }
            }
        }
        a
    }

    /// (kill multiplier, block multiplier) of a clone with traits `t`: the clone's
    /// class-weighted share of this step's action (1 when nothing acts). The block fractions
    /// combine by Bliss in the wiring; weighting them linearly here is exact for one class
    /// and an approximation for several [L].
    pub fn multipliers(&self, t: &Traits) -> (f32, f32) {
        let s = &t.sensitivity;
        let mut kill_tot = self.other_kill;
        let mut kill = self.other_kill;
        let mut block_tot = self.other_block;
        let mut block = self.other_block;
        for (c, &sc) in s.iter().enumerate() {
            kill_tot += self.kill[c] + self.cd38[c];
            kill += sc * (self.kill[c] + t.cd38 * self.cd38[c]);
            block_tot += self.block[c];
            block += sc * self.block[c];
        }
        let r = |a: f64, b: f64| if b > 0.0 { (a / b) as f32 } else { 1.0 };
        (r(kill, kill_tot), r(block, block_tot))
    }
}

/// The running clone state of a model.
#[derive(Clone, Debug)]
pub struct CloneState {
    plan: ClonePlan,
    table: CloneTable,
    pheno: Phenotypes,
    /// Master seed (trait-drift streams are keyed by it and the new clone's id).
    seed: u64,
    /// Base myeloma rates [1/h] and step [h] (thresholds are rebuilt from them).
    death_per_h: f64,
    division_per_h: f64,
    dt_h: f64,
    action: ClassAction,
    /// Long-form per-clone counts at the record cadence: (time_d, clone id, cells > 0,
    /// progenitors among them).
    series: Vec<(f64, u32, u64, u64)>,
    /// Clone id per site (meaningful on myeloma sites), refreshed for frames.
    map: Vec<u32>,
    /// Myeloma progenitors on the lattice after the last sweep (counted once per step by
    /// [`CloneState::count_progenitors`]; 0 without a hierarchy).
    progenitors: u64,
}

/// A clone's traits with the progenitor sensitivities applied.
fn progenitor_traits(t: &Traits, h: Option<&Hierarchy>) -> Traits {
    let mut p = *t;
    if let Some(h) = h {
        for (s, f) in p.sensitivity.iter_mut().zip(h.progenitor_sensitivity) {
            *s *= f;
        }
    }
    p
}

/// A standard normal deviate from two draws (Box–Muller).
fn normal(r: &mut Stream) -> f64 {
    let u1 = 1.0 - (r.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
    let u2 = (r.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl CloneState {
    /// Sets up the founder (clone 0, on every initial myeloma cell) and the seeded subclones
    /// (clones 1…, children of 0): each takes `fraction` of the initial myeloma cells, chosen
    /// uniformly with the seeding stream `(seed, Seeding, 0, 100 + i)`. With a hierarchy,
    /// each clone's initial cells get `progenitor_fraction` progenitors (the subclone's own
    /// when it sets one; at least one, so a seeded minor clone is viable), chosen with stream `(seed, Seeding, 0, 300 + clone)`;
    /// the other cells are differentiated with 0…`differentiated_divisions` divisions left
    /// (uniform: a population caught at every stage of transit amplification).
    pub fn new(
        plan: &ClonePlan,
        lattice: &mut Lattice<CellState>,
        seed: u64,
        death_per_h: f64,
        division_per_h: f64,
        dt_h: f64,
    ) -> Self {
        let mut table = CloneTable::default();
        let lib = &plan.library;
        table.push(lib, None, 0, 0.0, plan.founder.clone());
        let mm = CellKind::Myeloma as u8;
        let sites: Vec<usize> = (0..lattice.kind.len())
            .filter(|&i| lattice.kind[i] == mm)
            .collect();
        let n0 = sites.len();
        let mut free: Vec<usize> = sites.clone();
        for (i, s) in plan.seed_subclones.iter().enumerate() {
            let mut lesions = plan.founder.clone();
            lesions.extend(s.lesions.iter().filter(|l| !plan.founder.contains(l)));
            let id = table.push(lib, Some(0), 0, 0.0, lesions);
            let n = ((s.fraction * n0 as f64).round() as usize).clamp(1, free.len().max(1));
            let mut r = rng::stream(seed, Purpose::Seeding, 0, 100 + i as u64);
            for k in 0..n.min(free.len()) {
                let j = k + rng::below(r.next_u64(), (free.len() - k) as u32) as usize;
                free.swap(k, j);
                lattice.payload[free[k]].clone = id;
            }
            free.drain(..n.min(free.len()));
        }
        if let Some(h) = &plan.hierarchy {
            for id in 0..table.len() as u32 {
                let mut own: Vec<usize> = sites
                    .iter()
                    .copied()
                    .filter(|&i| lattice.payload[i].clone == id)
                    .collect();
                if own.is_empty() {
                    continue;
                }
                // Clone 0 is the founder; clones 1… are the seeded subclones in order.
                let pf = match id {
                    0 => h.progenitor_fraction,
                    _ => plan.seed_subclones[id as usize - 1]
                        .progenitor_fraction
                        .unwrap_or(h.progenitor_fraction),
                };
                let n_p = ((pf * own.len() as f64).round() as usize).clamp(1, own.len());
                let mut r = rng::stream(seed, Purpose::Seeding, 0, 300 + id as u64);
                for k in 0..own.len() {
                    if k < n_p {
                        let j = k + rng::below(r.next_u64(), (own.len() - k) as u32) as usize;
                        own.swap(k, j);
                        lattice.payload[own[k]].flags = hierarchy::PROGENITOR;
                    } else {
                        let left = rng::below(r.next_u64(), h.differentiated_divisions as u32 + 1);
                        lattice.payload[own[k]].flags = left as u8;
                    }
                }
            }
        }
        let mut st = Self {
            plan: plan.clone(),
            table,
            pheno: Phenotypes::default(),
            seed,
            death_per_h,
            division_per_h,
            dt_h,
            action: ClassAction::default(),
            series: Vec::new(),
            map: Vec::new(),
            progenitors: 0,
        };
        let acquired = lib.acquired();
        let total: f64 = acquired.iter().map(|a| a.1).sum();
        let mut cum = 0.0;
        st.pheno.acquired = acquired
            .iter()
            .map(|&(i, w)| {
                cum += w / total;
                (i as u16, cum as f32)
            })
            .collect();
        if let Some(last) = st.pheno.acquired.last_mut() {
            last.1 = 1.0;
        }
        st.pheno.hierarchy = plan.hierarchy.as_ref().map(|h| HierarchyStep {
            self_renewal: h.self_renewal as f32,
            divisions: h.differentiated_divisions,
        });
        st.pheno.drug_protection = plan.drug_protection as f32;
        st.extend_phenotypes();
        st.count_progenitors(lattice);
        st
    }

    /// Appends phenotype rows for clones born since the last call.
    fn extend_phenotypes(&mut self) {
        let p = &mut self.pheno;
        let h = self.plan.hierarchy.as_ref();
        let px = h.map_or(1.0, |h| h.progenitor_division_x);
        let pd = h.map_or(1.0, |h| h.progenitor_death_x);
        let sr = h.map_or(0.0, |h| h.self_renewal);
        for r in &self.table.rows[p.death_threshold.len()..] {
            let t = &r.traits;
            let th = |rate: f64| threshold32(-(-rate * self.dt_h).exp_m1());
            p.death_threshold.push(th(self.death_per_h * t.death));
            p.division_threshold
                .push(th(self.division_per_h * t.division));
            p.p_death_threshold
                .push(th(self.death_per_h * t.death * pd));
            p.p_division_threshold
                .push(th(self.division_per_h * t.division * px));
            p.mutation_p
                .push((self.plan.mutation_per_division * t.mutation).min(1.0) as f32);
            let (k, b) = self.action.multipliers(t);
            p.kill_mult.push(k);
            p.block_mult.push(b);
            let (k, b) = self.action.multipliers(&progenitor_traits(t, h));
            p.p_kill_mult.push(k);
            p.p_block_mult.push(b);
            p.self_renewal
                .push((sr * t.self_renewal).min(hierarchy::SELF_RENEWAL_MAX) as f32);
            p.rankl.push(t.rankl as f32);
            p.dkk1.push(t.dkk1 as f32);
        }
    }

    /// Sets this step's drug action (recomputing the per-clone multipliers if it changed).
    pub fn set_drug_action(&mut self, a: ClassAction) {
        if a == self.action {
            return;
        }
        self.action = a;
        let h = self.plan.hierarchy.as_ref();
        for (i, r) in self.table.rows.iter().enumerate() {
            let (k, b) = a.multipliers(&r.traits);
            self.pheno.kill_mult[i] = k;
            self.pheno.block_mult[i] = b;
            let (k, b) = a.multipliers(&progenitor_traits(&r.traits, h));
            self.pheno.p_kill_mult[i] = k;
            self.pheno.p_block_mult[i] = b;
        }
    }

    /// What the rules read.
    pub fn phenotypes(&self) -> &Phenotypes {
        &self.pheno
    }

    /// The clone table.
    pub fn table(&self) -> &CloneTable {
        &self.table
    }

    /// The lesion library in use.
    pub fn library(&self) -> &LesionLibrary {
        &self.plan.library
    }

    /// The hierarchy parameters (`None`: one compartment).
    pub fn hierarchy(&self) -> Option<&Hierarchy> {
        self.plan.hierarchy.as_ref()
    }

    /// Myeloma progenitors on the lattice as of the last [`CloneState::count_progenitors`].
    pub fn progenitors(&self) -> u64 {
        self.progenitors
    }

    /// Counts the myeloma progenitors on the lattice (one pass, only with a hierarchy). The
    /// model calls it once per step after the sweep; readers use [`CloneState::progenitors`].
    pub fn count_progenitors(&mut self, lattice: &Lattice<CellState>) {
        if self.plan.hierarchy.is_none() {
            return;
        }
        let mm = CellKind::Myeloma as u8;
        self.progenitors = lattice
            .kind
            .iter()
            .zip(&lattice.payload)
            .filter(|(k, p)| **k == mm && hierarchy::is_progenitor(p.flags))
            .count() as u64;
    }

    /// Progenitors per clone now (index = clone id; zeros without a hierarchy).
    pub fn progenitor_counts(&self, lattice: &Lattice<CellState>) -> Vec<u64> {
        let mm = CellKind::Myeloma as u8;
        let mut n = vec![0u64; self.table.len()];
        if self.plan.hierarchy.is_none() {
            return n;
        }
        for (k, p) in lattice.kind.iter().zip(&lattice.payload) {
            if *k == mm && hierarchy::is_progenitor(p.flags) {
                n[(p.clone & !PROVISIONAL) as usize] += 1;
            }
        }
        n
    }

    /// After the sweep of step `step` (ending at `time_d`): gives every provisional daughter
    /// its final clone id, in ascending site order. Only the sites noted by
    /// [`Phenotypes::daughter_of`] during the sweep are visited (cost ∝ mutations, not
    /// lattice size): a provisional daughter is born stamped and cannot act or move before
    /// this, so it is still on its noted site unless a neighbour erased it (then the site
    /// holds no provisional cell and is skipped). A lesion the parent already carries makes
    /// no new clone. A new clone's traits are its parent's × the lesion's × a lognormal drift
    /// keyed by `(seed, CloneDrift, id)`. Returns the number of clones born.
    pub fn resolve(&mut self, lattice: &mut Lattice<CellState>, step: u64, time_d: f64) -> usize {
        let mut sites = std::mem::take(&mut *self.pheno.pending.lock().expect("pending sites"));
        if sites.is_empty() {
            return 0;
        }
        sites.sort_unstable();
        sites.dedup();
        let mm = CellKind::Myeloma as u8;
        let mut born = 0;
        for i in sites.into_iter().map(|i| i as usize) {
            if lattice.kind[i] != mm || lattice.payload[i].clone & PROVISIONAL == 0 {
                continue;
            }
            let p = &mut lattice.payload[i];
            let parent = p.clone & !PROVISIONAL;
            let lesion = p.count as usize;
            p.count = 0;
            let pr = &self.table.rows[parent as usize];
            if pr.lesions.contains(&lesion) {
                p.clone = parent;
                continue;
            }
            let mut lesions = pr.lesions.clone();
            lesions.push(lesion);
            let id = self.table.len() as u64;
            let mut traits = pr.traits.then(&self.plan.library.lesions[lesion].traits);
            let sd = self.plan.drift_sd;
            if sd > 0.0 {
                let mut r = rng::stream(self.seed, Purpose::CloneDrift, id, 0);
                traits.division *= (sd * normal(&mut r)).exp();
                traits.death *= (sd * normal(&mut r)).exp();
                traits.rankl *= (sd * normal(&mut r)).exp();
                traits.dkk1 *= (sd * normal(&mut r)).exp();
            }
            p.clone = self
                .table
                .push_with(Some(parent), step, time_d, lesions, traits);
            born += 1;
        }
        if born > 0 {
            self.extend_phenotypes();
        }
        born
    }

    /// Myeloma cells per clone now (index = clone id).
    pub fn counts(&self, lattice: &Lattice<CellState>) -> Vec<u64> {
        let mm = CellKind::Myeloma as u8;
        let mut n = vec![0u64; self.table.len()];
        for (k, p) in lattice.kind.iter().zip(&lattice.payload) {
            if *k == mm {
                n[(p.clone & !PROVISIONAL) as usize] += 1;
            }
        }
        n
    }

    /// Records the per-clone counts (cells, progenitors) at `time_d` (clones with cells only).
    pub fn record(&mut self, lattice: &Lattice<CellState>, time_d: f64) {
        let prog = self.progenitor_counts(lattice);
        for (id, n) in self.counts(lattice).into_iter().enumerate() {
            if n > 0 {
                self.series.push((time_d, id as u32, n, prog[id]));
            }
        }
    }

    /// The recorded long-form series (time_d, clone id, cells, progenitors among them).
    pub fn series(&self) -> &[(f64, u32, u64, u64)] {
        &self.series
    }

    /// Refreshes the per-site clone map for frames.
    pub fn refresh_map(&mut self, lattice: &Lattice<CellState>) {
        self.map.clear();
        self.map
            .extend(lattice.payload.iter().map(|p| p.clone & !PROVISIONAL));
    }

    /// Clone id per site as of the last [`Self::refresh_map`].
    pub fn map(&self) -> &[u32] {
        &self.map
    }

    /// Writes `clones.csv`, `clones_timeseries.csv` and `clones.nwk` into `dir`; returns the
    /// file names.
    pub fn write_outputs(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("clones.csv"))?);
        self.table.write_csv(&self.plan.library, &mut f)?;
        f.flush()?;
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(dir.join("clones_timeseries.csv"))?);
        writeln!(f, "time_d,clone_id,cells,progenitors")?;
        for (t, id, n, p) in &self.series {
            writeln!(f, "{t},{id},{n},{p}")?;
        }
        f.flush()?;
        std::fs::write(dir.join("clones.nwk"), self.table.newick())?;
        Ok(vec![
            "clones.csv".into(),
            "clones_timeseries.csv".into(),
            "clones.nwk".into(),
        ])
    }
}
