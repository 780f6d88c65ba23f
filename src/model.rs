//! Model state and the step pipeline.
//!
//! [`Model::step`] runs the named stages of DESIGN.md §3 in a fixed order, timing each one.
//! Persistent state (lattice, fields, clock) is kept apart from scratch (sweep buffers).
//! Stages that later capabilities fill in (protocol, pharmacokinetics, compartments,
//! assessment) are present and timed so the pipeline and its timings keep one shape.
//!
//! Reads: the validated [`Scenario`]. Writes: rows and events to an [`Observer`].

use std::time::Instant;

use crate::cells::lattice::{CellKind, Lattice};
use crate::cells::myeloma::{CellState, MyelomaRule};
use crate::engine::sweep::{KIND_SLOTS, Sweep, Tally};
use crate::fields::Field;
use crate::observe::{Event, Frame, Observer};
use crate::rng::{self, Purpose};
use crate::scenario::{Placement, Scenario};
use crate::space::bone::{self, BoneError};
use crate::space::geometry::Geometry;
use crate::space::tiles::Tiling;
use rand::Rng;
use rayon::prelude::*;

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
    step: u64,
    timers: StageTimers,
    since_record: Tally,
    columns: Vec<String>,
    initial_bone_sites: usize,
    /// Sites holding each kind code, kept exact from the sweep's tallies.
    population: [u64; KIND_SLOTS],
    mm_alive: bool,
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
        seed_myeloma(&mut lattice, &geom, &s);
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
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        for f in &fields {
            columns.push(format!("{}_mean_nM", f.name()));
            columns.push(format!("{}_max_nM", f.name()));
        }
        let rule = MyelomaRule::new(&s.myeloma, s.dt_h);
        let mut population = [0u64; KIND_SLOTS];
        for &k in &lattice.kind {
            population[k as usize] += 1;
        }
        let mm_alive = population[CellKind::Myeloma as usize] > 0;
        Ok(Self {
            geom,
            lattice,
            sweep: Sweep::new(tiling),
            fields,
            secretion,
            rule,
            step: 0,
            timers: StageTimers::default(),
            since_record: Tally::default(),
            columns,
            initial_bone_sites,
            population,
            mm_alive,
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
            phase: "",
            dims: self.geom.dims,
            site_um: self.scenario.space.site_um,
            kinds: &self.lattice.kind,
            clones: None,
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
        self.timed(0, |_| Ok(()))?; // apply_protocol: no protocol in this scenario format yet
        self.timed(1, |_| Ok(()))?; // advance_pharmacokinetics: no drugs yet
        self.timed(2, Self::secrete)?;
        self.timed(3, Self::advance_fields)?;
        self.timed(4, Self::update_cells)?;
        self.step += 1;
        self.timed(5, |_| Ok(()))?; // advance_compartments: no whole-body compartments yet
        let mut events = Vec::new();
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
        }
        if self.frame_due() {
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

    /// Stage `secrete`: every cell adds its kind's source rate to each field.
    fn secrete(&mut self) -> Result<(), ModelError> {
        let kinds = &self.lattice.kind;
        for (f, table) in self.fields.iter_mut().zip(&self.secretion) {
            f.sources_mut()
                .par_chunks_mut(4096)
                .zip(kinds.par_chunks(4096))
                .for_each(|(src, ks)| {
                    for (s, &k) in src.iter_mut().zip(ks) {
                        *s += table[k as usize];
                    }
                });
        }
        Ok(())
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

    /// Stage `update_cells`: the parallel tile sweep with the myeloma rule.
    fn update_cells(&mut self) -> Result<(), ModelError> {
        let t = self.sweep.run(
            &mut self.lattice,
            &self.geom,
            &self.rule,
            self.scenario.seed,
            self.step,
        );
        self.since_record.add(&t);
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

    /// Stage `assess`: detects run-level events (for now: extinction of the myeloma).
    fn assess(&mut self, events: &mut Vec<Event>) {
        if self.mm_alive && self.count(CellKind::Myeloma) == 0 {
            self.mm_alive = false;
            events.push(self.event("extinction", "no myeloma cells remain".into()));
        }
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
    pub fn row(&self) -> Vec<f64> {
        let bone = self.count(CellKind::Bone);
        let mut row = vec![
            self.time_d(),
            self.step as f64,
            self.count(CellKind::Myeloma) as f64,
            self.since_record.births as f64,
            self.since_record.deaths as f64,
            bone as f64,
            100.0 * bone as f64 / self.geom.len() as f64,
        ];
        for f in &self.fields {
            row.push(f.mean());
            row.push(f.max());
        }
        row
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
