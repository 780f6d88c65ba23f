//! The validated scenario, in internal units (hours, µm, nM, per hour, µm²/h).
//!
//! Built only by `validate` from the raw TOML mirror; everything downstream (model, observers,
//! `check`) reads these types and never the raw file. Every field documents its unit; the
//! defaults and their sources live with the raw keys in `raw.rs`.
//!
//! Reads: nothing. Writes: nothing (plain data).

use std::path::PathBuf;

use crate::cells::lattice::CellKind;
use crate::space::geometry::{Boundary, Neighbourhood};

/// A fully validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Scenario name: `[run] name`, else the file stem; names the output folder.
    pub name: String,
    /// Where it came from: a file path, or `<built-in default>`.
    pub origin: String,
    /// The effective TOML text (file text with `--set` overrides applied), echoed in manifests.
    pub source_text: String,
    /// `--set` overrides as given (`key.path=value`).
    pub overrides: Vec<String>,
    /// Master seed of every random stream.
    pub seed: u64,
    /// Step length [h].
    pub dt_h: f64,
    /// Number of steps to run (`duration_d·24/dt_h`, rounded to the nearest step).
    pub steps: u64,
    /// Record a time-series row every this many steps (≥ 1).
    pub record_every_steps: u64,
    /// Lattice set-up.
    pub space: SpaceParams,
    /// Bone geometry.
    pub bone: BoneParams,
    /// Myeloma cells.
    pub myeloma: MyelomaParams,
    /// Diffusing signals, in scenario order.
    pub fields: Vec<FieldParams>,
    // ---- treatment (issue 4) ----
    /// The validated `[treatment]` section (`None`: untreated).
    pub treatment: Option<crate::protocol::TreatmentPlan>,
}

/// Lattice set-up.
#[derive(Clone, Debug, PartialEq)]
pub struct SpaceParams {
    /// Sites along x, y, z (`z = 1` for 2D).
    pub dims: [usize; 3],
    /// Site edge [µm].
    pub site_um: f64,
    /// Edge behaviour.
    pub boundary: Boundary,
    /// Neighbour set for cell rules.
    pub hood: Neighbourhood,
    /// Target tile edge [sites] of the parallel partition.
    pub tile_edge: usize,
}

/// How bone matrix is laid out at the start.
#[derive(Clone, Debug, PartialEq)]
pub enum BoneParams {
    /// No bone (pure marrow, e.g. benchmarks).
    None,
    /// Trabecular network generated from the seed.
    Procedural {
        /// Target bone volume fraction BV/TV [0–1].
        bv_tv: f64,
        /// Mean trabecular thickness [µm].
        thickness_um: f64,
    },
    /// Bone read from an image or CSV mask.
    Mask {
        /// Mask file (PNG: dark/opaque pixels = bone, or CSV of 0/1), resolved against the
        /// scenario's folder.
        path: PathBuf,
    },
}

/// Where the initial myeloma cells go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A compact disc (ball in 3D) around the lattice centre.
    Centre,
    /// Uniformly over free marrow sites.
    Random,
}

/// Myeloma plasma-cell kinetics.
#[derive(Clone, Debug, PartialEq)]
pub struct MyelomaParams {
    /// Cells placed at the start.
    pub initial_cells: usize,
    /// Where they go.
    pub placement: Placement,
    /// Division rate when a free neighbouring site exists [1/h].
    pub division_per_h: f64,
    /// Death (apoptosis) rate [1/h].
    pub death_per_h: f64,
}

/// Numerical scheme of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Solver {
    /// Forward-Euler (FTCS) sub-steps; sub-step count fixed at load for stability.
    Explicit,
    /// Locally one-dimensional backward Euler (an ADI-type splitting): unconditionally stable.
    Implicit,
}

/// One diffusing signal.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldParams {
    /// Field name (`rankl`, `opg`, `tgfb`, `dkk1`, `il6`).
    pub name: String,
    /// Diffusion coefficient in marrow [µm²/h].
    pub diffusion_um2_per_h: f64,
    /// First-order decay rate [1/h] (`ln 2 / half-life`).
    pub decay_per_h: f64,
    /// Scheme.
    pub solver: Solver,
    /// Sub-steps per model step (≥ 1), fixed at load time.
    pub substeps: u32,
    /// Multiplier on the diffusion coefficient inside bone matrix [0–1].
    pub bone_diffusion_factor: f64,
    /// Concentration everywhere at the start [nM].
    pub initial_nm: f64,
    /// Secretion per cell of each kind into its own site [nM/h].
    pub secretion_nm_per_h: Vec<(CellKind, f64)>,
}

impl FieldParams {
    /// The explicit-scheme stability number D·Δt/Δx² per sub-step (must be ≤ 1/(2·dims)).
    pub fn diffusion_number(&self, dt_h: f64, site_um: f64) -> f64 {
        self.diffusion_um2_per_h * (dt_h / self.substeps as f64) / (site_um * site_um)
    }

    /// Decay per sub-step k·Δt (≤ 1 keeps the explicit decay positive).
    pub fn decay_number(&self, dt_h: f64) -> f64 {
        self.decay_per_h * dt_h / self.substeps as f64
    }

    /// Diffusion length √(D/k) [µm]: how far the signal reaches from a source.
    pub fn diffusion_length_um(&self) -> f64 {
        if self.decay_per_h > 0.0 {
            (self.diffusion_um2_per_h / self.decay_per_h).sqrt()
        } else {
            f64::INFINITY
        }
    }
}
