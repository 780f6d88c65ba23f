//! Model state and the step pipeline.
//!
//! [`Model::step`] runs the named stages of DESIGN.md §3 in a fixed order, timing each one.
//! Persistent state (lattice, fields, clock) is kept apart from scratch (sweep buffers).
//! Stages that later capabilities fill in (protocol, pharmacokinetics, compartments,
//! assessment) are present and timed so the pipeline and its timings keep one shape.
//!
//! Reads: the validated [`Scenario`]. Writes: rows and events to an [`Observer`].

use std::time::Instant;

use crate::cells::bone::BoneRule;
use crate::cells::haematopoiesis::HaemRule;
use crate::cells::immune::ImmuneRule;
use crate::cells::lattice::{CellKind, Lattice};
use crate::cells::marrow::{Env, MarrowRule};
use crate::cells::myeloma::{CellState, MyelomaRule, flags};
use crate::cells::stroma::StromaRule;
use crate::clinical::{
    Assessment, Blood, Category, Chemistry, MarrowSummary, PatientTraits, RADIOGRAPHIC_BONE_LOSS,
    ResponseTracker, Scale, Serum,
};
use crate::engine::sweep::{KIND_SLOTS, Sweep, Tally};
use crate::fields::Field;
use crate::observe::{Event, Frame, Observer, Value};
use crate::rng::{self, Purpose};
use crate::scenario::Isotype;
use crate::scenario::{Placement, Scenario};
use crate::space::bone::{self, BoneError};
use crate::space::geometry::Geometry;
use crate::space::tiles::Tiling;
use rand::Rng;
use rayon::prelude::*;

mod clones;
mod treatment;

/// The pipeline stages, in execution order (names as reported in the manifest).
pub const STAGES: [&str; 8] = [
    "apply_protocol",
    "advance_pharmacokinetics",
    "secrete",
    "advance_fields",
    "update_cells",
    "advance_compartments",
    "assess",
    "observe",
];

/// Wall-clock seconds spent in each stage so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageTimers {
    /// Seconds per stage, indexed like [`STAGES`].
    pub seconds: [f64; 8],
}

impl StageTimers {
    /// `(stage name, seconds)` pairs in pipeline order.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        STAGES.iter().copied().zip(self.seconds).collect()
    }
}

/// Why a run could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The bone geometry could not be built (e.g. unreadable mask).
    #[error("bone geometry: {0}")]
    Bone(#[from] BoneError),
    /// An observer failed to write.
    #[error("writing outputs: {0}")]
    Output(#[from] std::io::Error),
    /// A state check failed (non-finite or negative concentration …).
    #[error("numerical failure at step {step}: {what}")]
    Numeric {
        /// Step at which it was detected.
        step: u64,
        /// What was wrong.
        what: String,
    },
}

/// A running simulation.
pub struct Model {
    scenario: Scenario,
    geom: Geometry,
    lattice: Lattice<CellState>,
    sweep: Sweep,
    fields: Vec<Field>,
    /// Source rate per kind code for each field [nM/h], precomputed at load.
    secretion: Vec<[f64; 256]>,
    rule: MyelomaRule,
    families: Families,
    signals: SignalIndex,
    clinical: ClinicalState,
    step: u64,
    timers: StageTimers,
    since_record: Tally,
    columns: Vec<String>,
    initial_bone_sites: usize,
    /// Sites holding each kind code, kept exact from the sweep's tallies.
    population: [u64; KIND_SLOTS],
    mm_alive: bool,
    /// The running treatment (issue 4; `None`: untreated).
    treatment: Option<crate::protocol::runtime::TreatmentState>,
    /// Clone table and per-clone traits (issue 5; `None`: no `[clones]` section).
    clones: Option<crate::clones::CloneState>,
}

impl Model {
    /// Builds the initial state: bone geometry, seeded myeloma cells, fields.
    pub fn new(scenario: &Scenario) -> Result<Self, ModelError> {
        let s = scenario.clone();
        let geom = Geometry::new(
            s.space.dims,
            s.space.site_um,
            s.space.boundary,
            s.space.hood,
        );
        let tiling = Tiling::new(&geom, s.space.tile_edge);
        let mut lattice = Lattice::new(&geom);
        let bone_mask = bone::generate(&s.bone, &geom, s.seed)?;
        for (i, &b) in bone_mask.iter().enumerate() {
            if b {
                lattice.place(i, CellKind::Bone, CellState::default());
            }
        }
        let initial_bone_sites = bone_mask.iter().filter(|&&b| b).count();
        let bio = &s.biology;
        if bio.bone_cells.is_some() {
            place_lining(&mut lattice, &geom);
        }
        seed_myeloma(&mut lattice, &geom, &s);
        // Clones (issue 5): founder and seeded subclones on the initial myeloma cells.
        let clones = s.clones.as_ref().map(|plan| {
            crate::clones::CloneState::new(
                plan,
                &mut lattice,
                s.seed,
                s.myeloma.death_per_h,
                s.myeloma.division_per_h,
                s.dt_h,
            )
        });
        let marrow_sites = geom.len() - initial_bone_sites;
        // Stroma and immune effectors are scattered uniformly over free marrow, each kind from
        // its own placement stream (unit 1 and 2).
        let scattered = [
            (CellKind::Stroma, 1, bio.stroma.as_ref().map(|p| p.density)),
            (CellKind::Immune, 2, bio.immune.as_ref().map(|p| p.density)),
        ];
        for (kind, unit, density) in scattered {
            if let Some(density) = density {
                place_random(
                    &mut lattice,
                    &geom,
                    s.seed,
                    unit,
                    marrow_sites,
                    density,
                    |_| (kind, CellState::default()),
                );
            }
        }
        if let Some(p) = &bio.haematopoiesis {
            let stem_every = if p.stem_fraction > 0.0 {
                (1.0 / p.stem_fraction).round().max(1.0) as u64
            } else {
                u64::MAX
            };
            // Initial progenitors spread over the upper half of the generation range, close
            // to the steady state's age structure (avoids a start-up burst of divisions).
            let lo = p.max_generations as u64 / 2;
            let gens = p.max_generations as u64 - lo + 1;
            place_random(
                &mut lattice,
                &geom,
                s.seed,
                3,
                marrow_sites,
                p.cellularity,
                |r| {
                    let st = if r % stem_every == 0 {
                        CellState {
                            flags: flags::STEM,
                            ..CellState::default()
                        }
                    } else {
                        CellState {
                            count: (lo + (r >> 20) % gens) as u16,
                            ..CellState::default()
                        }
                    };
                    (CellKind::Haematopoietic, st)
                },
            );
        }
        let fields: Vec<Field> = s
            .fields
            .iter()
            .map(|p| Field::new(p.clone(), &geom))
            .collect();
        let secretion = s
            .fields
            .iter()
            .map(|p| {
                let mut t = [0.0; 256];
                for &(k, r) in &p.secretion_nm_per_h {
                    t[k as usize] = r;
                }
                t
            })
            .collect();
        let mut columns: Vec<String> = [
            "time_d",
            "step",
            "mm_cells",
            "mm_births",
            "mm_deaths",
            "bone_sites",
            "bv_tv_pct",
            "osteoclasts",
            "osteoblasts",
            "lining_cells",
            "haem_cells",
            "stroma_cells",
            "immune_cells",
            "mm_cells_patient",
            "m_protein_g_dl",
            "flc_mg_l",
            "marrow_pc_pct",
            "hb_g_dl",
            "anc_1e9_l",
            "platelets_1e9_l",
            "igg_poly_g_l",
            "calcium_mg_dl",
            "creatinine_mg_dl",
            "lytic_lesions",
            "mrd_log10",
            "crab_c",
            "crab_r",
            "crab_a",
            "crab_b",
            "response",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        for f in &fields {
            columns.push(format!("{}_mean_nM", f.name()));
            columns.push(format!("{}_max_nM", f.name()));
        }
        let treatment = treatment::new_state(&s);
        columns.extend(treatment.iter().flat_map(|t| t.columns()));
        let rule = MyelomaRule::with_env(&s.myeloma, &bio.myeloma_env, s.dt_h);
        let families = Families {
            bone: bio.bone_cells.as_ref().map(|p| {
                BoneRule::new(p, &bio.myeloma_env, s.dt_h).with_lattice(
                    geom.dims,
                    s.space.boundary == crate::space::geometry::Boundary::Periodic,
                )
            }),
            stroma: bio.stroma.as_ref().map(StromaRule::new),
            haem: bio
                .haematopoiesis
                .as_ref()
                .map(|p| HaemRule::new(p, s.dt_h)),
            immune: bio.immune.as_ref().map(|p| ImmuneRule::new(p, s.dt_h)),
        };
        let find = |n: &str| fields.iter().position(|f| f.name() == n);
        let signals = SignalIndex {
            rankl: find("rankl"),
            opg: find("opg"),
            tgfb: find("tgfb"),
            dkk1: find("dkk1"),
            il6: find("il6"),
        };
        let initial_bone: Vec<bool> = lattice
            .kind
            .iter()
            .map(|&k| k == CellKind::Bone as u8)
            .collect();
        let mut population = [0u64; KIND_SLOTS];
        for &k in &lattice.kind {
            population[k as usize] += 1;
        }
        let mm_alive = population[CellKind::Myeloma as usize] > 0;
        let c = &bio.clinical;
        let pat = &bio.patient;
        // The typical patient, or (cohort) this seed's patient (clinical::patient).
        let traits = if pat.cohort {
            PatientTraits::cohort(s.seed, 0)
        } else {
            PatientTraits::typical(pat.isotype)
        };
        let clinical = ClinicalState {
            scale: Scale::new(
                pat.weight_kg,
                c.red_marrow_g_per_kg,
                marrow_sites,
                s.space.site_um,
                c.cells_per_site,
            ),
            blood: Blood::for_patient(traits.hb_factor),
            serum: Serum::new(
                traits.isotype,
                pat.weight_kg,
                c.mprotein_pg_per_cell_day * traits.m_factor,
                c.flc_pg_per_cell_day * traits.flc_factor,
                c.fcrn_saturation,
            ),
            chem: Chemistry::new(pat.weight_kg).with_renal_reserve(traits.renal_reserve),
            response: ResponseTracker::new(traits.isotype == Isotype::LightChain),
            traits,
            haem_reference: population[CellKind::Haematopoietic as usize] as f64,
            assess_every_steps: ((c.assess_every_h / s.dt_h).round() as u64).max(1),
            lesion_min_sites: c.lesion_min_sites,
            initial_bone,
            bone_before: population[CellKind::Bone as usize],
            burden: 0.0,
        };
        Ok(Self {
            geom,
            lattice,
            sweep: Sweep::new(tiling),
            fields,
            secretion,
            rule,
            families,
            signals,
            clinical,
            step: 0,
            timers: StageTimers::default(),
            since_record: Tally::default(),
            columns,
            initial_bone_sites,
            population,
            mm_alive,
            treatment,
            clones,
            scenario: s,
        })
    }

    /// The scenario this model runs.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Lattice geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geom
    }

    /// Cell state of every site.
    pub fn lattice(&self) -> &Lattice<CellState> {
        &self.lattice
    }

    /// The fields, in scenario order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The fixed tile partition.
    pub fn tiling(&self) -> &Tiling {
        self.sweep.tiling()
    }

    /// Steps completed.
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    /// Simulated time [d], derived from the step counter.
    pub fn time_d(&self) -> f64 {
        self.step as f64 * self.scenario.dt_h / 24.0
    }

    /// True once the scenario's duration is reached.
    pub fn is_done(&self) -> bool {
        self.step >= self.scenario.steps
    }

    /// Time spent per stage so far.
    pub fn timers(&self) -> &StageTimers {
        &self.timers
    }

    /// Column names of the time series (with units).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Writes the step-0 row and the `start` event. Call once before the first `step`.
    pub fn begin(&mut self, obs: &mut dyn Observer) -> Result<(), ModelError> {
        let detail = format!(
            "{} myeloma cells, {} bone sites on {}x{}x{} sites",
            self.count(CellKind::Myeloma),
            self.initial_bone_sites,
            self.geom.dims[0],
            self.geom.dims[1],
            self.geom.dims[2]
        );
        obs.on_event(&self.event("start", detail))?;
        let row = self.row();
        obs.on_record(&self.columns, &row)?;
        self.record_clones(false);
        self.record_clones(true);
        if self.scenario.output.snapshot_every_steps > 0 {
            obs.on_frame(&self.frame())?;
        }
        Ok(())
    }

    /// The current lattice as a [`Frame`] for observers (no copy).
    pub fn frame(&self) -> Frame<'_> {
        Frame {
            step: self.step,
            time_d: self.time_d(),
            phase: self.phase_name(),
            dims: self.geom.dims,
            site_um: self.scenario.space.site_um,
            kinds: &self.lattice.kind,
            clones: self.clones.as_ref().map(|c| c.map()),
            fields: self.fields.iter().map(|f| (f.name(), f.conc())).collect(),
        }
    }

    /// True when the snapshot cadence hands a frame to observers after the current step
    /// (every `snapshot_every_steps` steps and at the last step, if snapshots are on).
    pub fn frame_due(&self) -> bool {
        let every = self.scenario.output.snapshot_every_steps;
        every > 0 && (self.step % every == 0 || self.is_done())
    }

    /// Advances one step through every stage of the pipeline.
    pub fn step(&mut self, obs: &mut dyn Observer) -> Result<(), ModelError> {
        let mut tx_events = Vec::new();
        self.timed(0, |m| m.apply_protocol(&mut tx_events))?;
        self.timed(1, Self::advance_pharmacokinetics)?;
        self.timed(2, Self::secrete)?;
        self.timed(3, Self::advance_fields)?;
        self.timed(4, Self::update_cells)?;
        self.step += 1;
        self.timed(5, Self::advance_compartments)?;
        let mut events = tx_events;
        self.timed(6, |m| {
            m.assess(&mut events);
            Ok(())
        })?;
        let t0 = Instant::now();
        for e in &events {
            obs.on_event(e)?;
        }
        if self.step % self.scenario.record_every_steps == 0 || self.is_done() {
            let row = self.row();
            obs.on_record(&self.columns, &row)?;
            self.since_record = Tally::default();
            if let Some(t) = self.treatment.as_mut() {
                t.take_interval();
            }
            self.record_clones(false);
        }
        if self.frame_due() {
            self.record_clones(true);
            obs.on_frame(&self.frame())?;
        }
        self.timers.seconds[7] += t0.elapsed().as_secs_f64();
        Ok(())
    }

    fn timed(
        &mut self,
        stage: usize,
        f: impl FnOnce(&mut Self) -> Result<(), ModelError>,
    ) -> Result<(), ModelError> {
        let t0 = Instant::now();
        let r = f(self);
        self.timers.seconds[stage] += t0.elapsed().as_secs_f64();
        r
    }

    /// Stage `secrete`: every cell adds its kind's source rate to each field, plus the
    /// state-dependent sources: RANKL of activated lining cells, TGF-β released by fresh
    /// reversal (resorbed) surfaces, the boost of stromal cells engaged by myeloma, and the
    /// per-clone RANKL/DKK1 multipliers of myeloma cells (`[clones]`).
    fn secrete(&mut self) -> Result<(), ModelError> {
        let kinds = &self.lattice.kind;
        let payload = &self.lattice.payload;
        let now = self.time_h() as f32;
        let bone = self.families.bone.as_ref();
        // Engaged stroma: IL-6 and RANKL × engaged_factor, OPG × engaged_opg_factor
        // (Giuliani 2001: contact raises RANKL, strongly lowers OPG); other fields unchanged.
        let (boost, opg_change) = self.families.stroma.as_ref().map_or((0.0, 0.0), |s| {
            (s.engaged_factor - 1.0, s.engaged_opg_factor - 1.0)
        });
        for (fi, (f, table)) in self.fields.iter_mut().zip(&self.secretion).enumerate() {
            let active = match bone {
                Some(b) if Some(fi) == self.signals.rankl => b.activated_rankl_nm_per_h,
                _ => 0.0,
            };
            let reversal = match bone {
                Some(b) if Some(fi) == self.signals.tgfb => b.reversal_tgfb_nm_per_h,
                _ => 0.0,
            };
            let engaged = table[CellKind::Stroma as usize]
                * if Some(fi) == self.signals.opg {
                    opg_change
                } else if Some(fi) == self.signals.rankl || Some(fi) == self.signals.il6 {
                    boost
                } else {
                    0.0
                };
            // Per-clone RANKL/DKK1 secretion traits (issue 5).
            let mm_mult = self.clones.as_ref().and_then(|c| {
                let ph = c.phenotypes();
                if Some(fi) == self.signals.rankl {
                    Some(ph.rankl_mult())
                } else if Some(fi) == self.signals.dkk1 {
                    Some(ph.dkk1_mult())
                } else {
                    None
                }
            });
            const LINING: u8 = CellKind::Lining as u8;
            const STROMA: u8 = CellKind::Stroma as u8;
            const MYELOMA: u8 = CellKind::Myeloma as u8;
            f.sources_mut()
                .par_chunks_mut(4096)
                .zip(kinds.par_chunks(4096))
                .zip(payload.par_chunks(4096))
                .for_each(|((src, ks), ps)| {
                    for ((s, &k), p) in src.iter_mut().zip(ks).zip(ps) {
                        let mut r = table[k as usize];
                        if k == LINING {
                            if p.flags & flags::ACTIVE != 0 {
                                r += active;
                            }
                            if p.flags & flags::REVERSAL != 0 && now < p.until_h {
                                r += reversal;
                            }
                        } else if k == STROMA && p.flags & flags::ENGAGED != 0 {
                            r += engaged;
                        } else if k == MYELOMA
                            && let Some(m) = mm_mult
                        {
                            r *= m[p.clone as usize] as f64;
                        }
                        *s += r;
                    }
                });
        }
        Ok(())
    }

    /// Simulated time [h] at the start of the current step.
    fn time_h(&self) -> f64 {
        self.step as f64 * self.scenario.dt_h
    }

    /// Stage `advance_fields`: diffusion, decay and sources, then a finiteness check.
    fn advance_fields(&mut self) -> Result<(), ModelError> {
        for f in &mut self.fields {
            f.advance(&self.geom, self.scenario.dt_h, &self.lattice.kind);
            let m = f.mean();
            if !m.is_finite() || m < 0.0 {
                return Err(ModelError::Numeric {
                    step: self.step,
                    what: format!("field {} has mean {m}", f.name()),
                });
            }
        }
        Ok(())
    }

    /// Stage `update_cells`: the parallel tile sweep with the marrow dispatcher rule.
    fn update_cells(&mut self) -> Result<(), ModelError> {
        self.clinical.bone_before = self.count(CellKind::Bone);
        self.set_clone_drug_action();
        let conc = |i: Option<usize>| i.map(|i| self.fields[i].conc());
        let rule = MarrowRule {
            myeloma: &self.rule,
            bone: self.families.bone.as_ref(),
            stroma: self.families.stroma.as_ref(),
            haem: self.families.haem.as_ref(),
            immune: self.families.immune.as_ref(),
            env: Env {
                rankl: conc(self.signals.rankl),
                opg: conc(self.signals.opg),
                tgfb: conc(self.signals.tgfb),
                dkk1: conc(self.signals.dkk1),
                il6: conc(self.signals.il6),
                now_h: (self.step as f64 * self.scenario.dt_h) as f32,
                burden: self.clinical.burden,
                drug: self.drug_step(),
                clones: self.clones.as_ref().map(|c| c.phenotypes()),
            },
        };
        let t = self.sweep.run(
            &mut self.lattice,
            &self.geom,
            &rule,
            self.scenario.seed,
            self.step,
        );
        self.since_record.add(&t);
        if let Some(c) = &mut self.clones {
            let time_d = (self.step + 1) as f64 * self.scenario.dt_h / 24.0;
            c.resolve(&mut self.lattice, self.step + 1, time_d);
            c.count_progenitors(&self.lattice);
        }
        for (p, d) in self.population.iter_mut().zip(&t.net) {
            *p = p
                .checked_add_signed(*d)
                .ok_or_else(|| ModelError::Numeric {
                    step: self.step,
                    what: "a cell population went negative".into(),
                })?;
        }
        Ok(())
    }

    /// What the whole-body compartments read from the lattice now.
    pub fn marrow_summary(&self) -> MarrowSummary {
        let mm = self.count(CellKind::Myeloma) as f64;
        let haem = self.count(CellKind::Haematopoietic) as f64;
        // Progenitors secrete no M-protein (clones::hierarchy; 0 without a hierarchy).
        let progenitors = self.clones.as_ref().map_or(0, |c| c.progenitors()) as f64;
        MarrowSummary {
            mm_cells: mm,
            mm_secreting: mm - progenitors,
            haem_cells: haem,
            haem_reference: self.clinical.haem_reference,
            nucleated: mm
                + haem
                + self.count(CellKind::Stroma) as f64
                + self.count(CellKind::Immune) as f64,
            bone_sites: self.count(CellKind::Bone) as f64,
            bone_sites_before: self.clinical.bone_before as f64,
        }
    }

    /// Stage `advance_compartments`: blood counts, serum proteins, calcium and kidneys,
    /// driven by this step's lattice (scaled to the patient).
    fn advance_compartments(&mut self) -> Result<(), ModelError> {
        let m = self.marrow_summary();
        let dt = self.scenario.dt_h;
        let c = &mut self.clinical;
        let output = m.marrow_output();
        c.blood.advance_with_myeloma(dt, output, m.mm_fraction());
        treatment::treat_blood(self.treatment.as_ref(), &mut c.blood, dt, output);
        crate::clinical::advance_serum_chemistry(&mut c.serum, &mut c.chem, &c.scale, &m, dt);
        c.burden = m.mm_fraction() as f32;
        let ok = [
            c.blood.hb.level(),
            c.serum.m_g_l,
            c.serum.flc_excess_mg_l,
            c.chem.ca_excess_mg_dl,
        ]
        .iter()
        .all(|v| v.is_finite());
        if !ok {
            return Err(ModelError::Numeric {
                step: self.step,
                what: "a whole-body compartment is not finite".into(),
            });
        }
        Ok(())
    }

    /// Stage `assess`: extinction of the myeloma, and at the assessment cadence the IMWG
    /// response (event on change) and confirmed progression (event).
    fn assess(&mut self, events: &mut Vec<Event>) {
        self.check_diagnosis(events);
        if self.mm_alive && self.count(CellKind::Myeloma) == 0 {
            self.mm_alive = false;
            events.push(self.event("extinction", "no myeloma cells remain".into()));
        }
        if self.step % self.clinical.assess_every_steps != 0 {
            return;
        }
        let m = self.marrow_summary();
        let a = Assessment {
            m_g_dl: self.clinical.serum.m_g_dl(),
            flc_excess_mg_l: self.clinical.serum.flc_excess_mg_l,
            marrow_pc_pct: 100.0 * m.mm_fraction(),
            mm_fraction: m.mm_fraction(),
        };
        let before = self.clinical.response.current;
        let (cat, progressed) = self.clinical.response.assess(&a);
        if cat != before {
            events.push(self.event(
                "response",
                format!(
                    "{} -> {} (M-protein {:.2} g/dL, iFLC {:.0} mg/L, marrow PC {:.1} %)",
                    before.label(),
                    cat.label(),
                    a.m_g_dl,
                    self.clinical.serum.flc_mg_l(),
                    a.marrow_pc_pct
                ),
            ));
        }
        if progressed {
            events.push(self.event(
                "progression",
                format!(
                    "confirmed: M-protein {:.2} g/dL, iFLC {:.0} mg/L (≥25 % and ≥0.5 g/dL above \
                     nadir on two consecutive assessments)",
                    a.m_g_dl,
                    self.clinical.serum.flc_mg_l()
                ),
            ));
        }
    }

    /// Starts a targeted remodeling event: activates the lining cell at `site` (it expresses
    /// RANKL as if triggered). Returns false if `site` holds no lining cell. For experiments
    /// and tests; call between steps.
    pub fn trigger_remodeling(&mut self, site: usize) -> bool {
        if self.lattice.kind[site] != CellKind::Lining as u8 {
            return false;
        }
        let Some(b) = &self.scenario.biology.bone_cells else {
            return false;
        };
        let until = (self.time_h() + b.activation_h) as f32;
        let p = &mut self.lattice.payload[site];
        p.flags |= flags::ACTIVE;
        p.until_h = until;
        true
    }

    /// Removes every cell of `kind` at once (an idealised instant eradication, e.g. to test
    /// that M-protein falls no faster than its catabolism). Returns how many were removed.
    pub fn remove_all(&mut self, kind: CellKind) -> u64 {
        let k = kind as u8;
        let mut n = 0;
        for s in self.lattice.kind.iter_mut().filter(|s| **s == k) {
            *s = CellKind::Empty as u8;
            n += 1;
        }
        self.population[k as usize] -= n;
        self.population[CellKind::Empty as usize] += n;
        n
    }

    /// Current IMWG response category.
    pub fn response(&self) -> Category {
        self.clinical.response.current
    }

    /// Whole-body state (blood, serum, chemistry, scale).
    pub fn clinical(&self) -> &ClinicalState {
        &self.clinical
    }

    /// Lytic lesions: 8-connected (26 in 3D) regions of sites that were bone at the start and
    /// are not bone now, with at least `lesion_min_sites` sites (see docs/MODEL.md for the
    /// mapping to the ≥ 5 mm radiographic criterion). Deterministic (scan in index order).
    pub fn lytic_lesions(&self) -> usize {
        let init = &self.clinical.initial_bone;
        let bone = CellKind::Bone as u8;
        let lost = |i: usize| init[i] && self.lattice.kind[i] != bone;
        let mut seen = vec![false; init.len()];
        let mut stack = Vec::new();
        let mut hood = [0usize; 26];
        let mut lesions = 0;
        for start in 0..init.len() {
            if seen[start] || !lost(start) {
                continue;
            }
            seen[start] = true;
            stack.push(start);
            let mut size = 0usize;
            while let Some(i) = stack.pop() {
                size += 1;
                let n = self.geom.neighbours(i, self.geom.coords(i), &mut hood);
                for &j in &hood[..n] {
                    if !seen[j] && lost(j) {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
            if size >= self.clinical.lesion_min_sites {
                lesions += 1;
            }
        }
        lesions
    }

    fn event(&self, kind: &str, detail: String) -> Event {
        Event {
            step: self.step,
            time_d: self.time_d(),
            kind: kind.into(),
            detail,
        }
    }

    /// Number of sites currently holding `kind` (exact; maintained from the sweep's tallies).
    pub fn count(&self, kind: CellKind) -> u64 {
        self.population[kind as usize]
    }

    /// The current time-series row, matching [`Self::columns`].
    pub fn row(&self) -> Vec<Value> {
        let bone = self.count(CellKind::Bone);
        let m = self.marrow_summary();
        let c = &self.clinical;
        let frac = m.mm_fraction();
        let lesions = self.lytic_lesions();
        let crab = self.crab(lesions);
        let mut row: Vec<Value> = [
            self.time_d(),
            self.step as f64,
            self.count(CellKind::Myeloma) as f64,
            self.since_record.births_by[CellKind::Myeloma as usize] as f64,
            // Every myeloma cell lost since the last row — apoptosis, drug kill and kills by
            // immune neighbours (an `Edit`) — as divisions minus the net change.
            (self.since_record.births_by[CellKind::Myeloma as usize] as i64
                - self.since_record.net[CellKind::Myeloma as usize]) as f64,
            bone as f64,
            100.0 * bone as f64 / self.geom.len() as f64,
            self.count(CellKind::Osteoclast) as f64,
            self.count(CellKind::Osteoblast) as f64,
            self.count(CellKind::Lining) as f64,
            m.haem_cells,
            self.count(CellKind::Stroma) as f64,
            self.count(CellKind::Immune) as f64,
            m.mm_cells * c.scale.cells_per_site,
            c.serum.m_g_dl(),
            c.serum.flc_mg_l(),
            100.0 * frac,
            c.blood.hb.level(),
            c.blood.anc.level(),
            c.blood.platelets.level(),
            c.serum.igg_poly_g_l,
            c.chem.calcium_mg_dl(),
            c.chem.creatinine_mg_dl(),
            lesions as f64,
            // log10 of the myeloma fraction, floored at -7 (below the 10^-6 NGS limit).
            frac.max(1e-7).log10(),
            crab[0] as u8 as f64,
            crab[1] as u8 as f64,
            crab[2] as u8 as f64,
            crab[3] as u8 as f64,
        ]
        .into_iter()
        .map(Value::Num)
        .collect();
        row.push(Value::Text(self.response().label()));
        for f in &self.fields {
            row.push(Value::Num(f.mean()));
            row.push(Value::Num(f.max()));
        }
        if let Some(t) = &self.treatment {
            row.extend(t.concentrations_nm().map(Value::Num));
        }
        row
    }

    /// CRAB flags [C, R, A, B] now (IMWG 2014, MODEL.md §4b): calcium > 11 mg/dL,
    /// creatinine > 2 mg/dL, Hb < 10 g/dL, and B: ≥ 1 lytic lesion (given the current count)
    /// *and* the region has lost ≥ [`RADIOGRAPHIC_BONE_LOSS`] of its bone (a radiograph shows
    /// a lesion only after 30 % or more of trabecular bone is lost; docs/MODEL.md §3.4.7).
    pub fn crab(&self, lesions: usize) -> [bool; 4] {
        let c = &self.clinical;
        [
            c.chem.calcium_mg_dl() > 11.0,
            c.chem.creatinine_mg_dl() > 2.0,
            c.blood.hb.level() < 10.0,
            lesions >= 1
                && self.count(CellKind::Bone) as f64
                    <= (1.0 - RADIOGRAPHIC_BONE_LOSS) * self.initial_bone_sites as f64,
        ]
    }
}

/// The non-myeloma cell families' rules.
struct Families {
    bone: Option<BoneRule>,
    stroma: Option<StromaRule>,
    haem: Option<HaemRule>,
    immune: Option<ImmuneRule>,
}

/// Which scenario field (index) carries each signal the rules read.
struct SignalIndex {
    rankl: Option<usize>,
    opg: Option<usize>,
    tgfb: Option<usize>,
    dkk1: Option<usize>,
    il6: Option<usize>,
}

/// Whole-body state and the bookkeeping the clinical readouts need.
#[derive(Clone, Debug)]
pub struct ClinicalState {
    /// Region → patient scale.
    pub scale: Scale,
    /// Blood counts.
    pub blood: Blood,
    /// Serum proteins.
    pub serum: Serum,
    /// Calcium and kidneys.
    pub chem: Chemistry,
    /// The patient's whole-body traits (typical, or drawn for a cohort member).
    pub traits: PatientTraits,
    /// IMWG response.
    pub response: ResponseTracker,
    /// Healthy reference number of haematopoietic cells [cells on the lattice].
    pub haem_reference: f64,
    assess_every_steps: u64,
    lesion_min_sites: usize,
    initial_bone: Vec<bool>,
    bone_before: u64,
    burden: f32,
}

/// Puts lining cells on every free site touching bone.
fn place_lining(lattice: &mut Lattice<CellState>, geom: &Geometry) {
    let bone = CellKind::Bone as u8;
    let mut hood = [0usize; 26];
    let sites: Vec<usize> = (0..geom.len())
        .filter(|&i| {
            lattice.kind[i] == CellKind::Empty as u8 && {
                let n = geom.neighbours(i, geom.coords(i), &mut hood);
                hood[..n].iter().any(|&j| lattice.kind[j] == bone)
            }
        })
        .collect();
    for i in sites {
        lattice.place(i, CellKind::Lining, CellState::default());
    }
}

/// Places `fraction × marrow_sites` cells (made by `make` from a random draw) on uniformly
/// chosen free sites, using seeding stream `unit`.
fn place_random(
    lattice: &mut Lattice<CellState>,
    geom: &Geometry,
    seed: u64,
    unit: u64,
    marrow_sites: usize,
    fraction: f64,
    make: impl Fn(u64) -> (CellKind, CellState),
) {
    let mut free: Vec<usize> = (0..geom.len())
        .filter(|&i| lattice.kind[i] == CellKind::Empty as u8)
        .collect();
    let n = ((fraction * marrow_sites as f64).round() as usize).min(free.len());
    let mut r = rng::stream(seed, Purpose::Seeding, 0, unit);
    for i in 0..n {
        let j = i + rng::below(r.next_u64(), (free.len() - i) as u32) as usize;
        free.swap(i, j);
        let (k, p) = make(r.next_u64());
        lattice.place(free[i], k, p);
    }
}

/// Places the scenario's initial myeloma cells on free marrow sites.
fn seed_myeloma(lattice: &mut Lattice<CellState>, geom: &Geometry, s: &Scenario) {
    let mut free: Vec<usize> = (0..geom.len())
        .filter(|&i| lattice.kind[i] == CellKind::Empty as u8)
        .collect();
    let n = s.myeloma.initial_cells.min(free.len());
    match s.myeloma.placement {
        Placement::Centre => {
            let c = geom.dims.map(|d| (d / 2) as f64);
            let d2 = |i: usize| {
                let p = geom.coords(i);
                (0..3).map(|a| (p[a] as f64 - c[a]).powi(2)).sum::<f64>()
            };
            // Nearest free sites to the centre; ties broken by index so the disc is exact.
            free.sort_by(|&a, &b| d2(a).total_cmp(&d2(b)).then(a.cmp(&b)));
        }
        Placement::Random => {
            let mut r = rng::stream(s.seed, Purpose::Seeding, 0, 0);
            for i in 0..n {
                let j = i + rng::below(r.next_u64(), (free.len() - i) as u32) as usize;
                free.swap(i, j);
            }
        }
    }
    for &i in &free[..n] {
        lattice.place(i, CellKind::Myeloma, CellState::default());
    }
}
