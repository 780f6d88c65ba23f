//! The raw scenario: a serde mirror of the TOML file, exactly as written (units in key names),
//! before any defaults, range checks or unit conversion. `validate.rs` turns it into a
//! [`Scenario`](super::Scenario).
//!
//! Every key is optional here so that validation, not serde, reports missing required keys —
//! all of them at once, with their location. Integers are read as `i64` and enumerations as
//! strings for the same reason: a negative count or a misspelt option becomes a located
//! range problem rather than an opaque type error. Unknown keys are rejected
//! (`deny_unknown_fields`).
//!
//! Reads: TOML text (through serde). Writes: nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole scenario file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `[run]`: duration, step, seed, recording cadence.
    #[serde(default)]
    pub run: RawRun,
    /// `[space]`: the lattice.
    #[serde(default)]
    pub space: RawSpace,
    /// `[bone]`: initial bone geometry.
    #[serde(default)]
    pub bone: RawBone,
    /// `[myeloma]`: myeloma plasma cells.
    #[serde(default)]
    pub myeloma: RawMyeloma,
    /// `[fields.<name>]`: diffusing signals by name (`rankl`, `opg`, `tgfb`, `dkk1`, `il6`).
    /// The map is sorted by name; validation restores the file order.
    #[serde(default)]
    pub fields: BTreeMap<String, RawField>,
    // ---- treatment (issue 4) ----
    /// `[treatment]`: drug/regimen overrides, protocol phases, toxicity and supportive care.
    /// Optional; see [`crate::protocol::RawTreatment`].
    pub treatment: Option<crate::protocol::RawTreatment>,
}

/// `[run]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// `name`: scenario name, used for the output folder. Default: the file stem
    /// (`default` for the built-in scenario).
    pub name: Option<String>,
    /// `duration_d`: simulated time [days], > 0 and ≤ 36500 (100 years). Required.
    pub duration_d: Option<f64>,
    /// `dt_h`: step length [hours], 0.01..=24. Default 1 h: matches the hourly event rates
    /// of the HAL myeloma model (Bishop et al. 2024) while keeping rate·dt small.
    pub dt_h: Option<f64>,
    /// `seed`: master seed of every random stream, 0..=2⁶³−1. Default 1.
    pub seed: Option<i64>,
    /// `record_every_h`: time-series cadence [hours]; a whole multiple of `dt_h`.
    /// Default 24 h (one row per simulated day).
    pub record_every_h: Option<f64>,
}

/// `[space]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpace {
    /// `nx`: sites along x, 4..=8192. Required.
    pub nx: Option<i64>,
    /// `ny`: sites along y, 4..=8192. Required.
    pub ny: Option<i64>,
    /// `nz`: sites along z, 1..=1024; 1 means a 2D lattice. Default 1.
    pub nz: Option<i64>,
    /// `site_um`: site edge [µm], 1..=100. Default 10 µm, about one marrow cell diameter
    /// (plasma cells ~10–15 µm).
    pub site_um: Option<f64>,
    /// `boundary`: `"closed"` (no flux, cells stay in) or `"periodic"` (torus). Default closed.
    pub boundary: Option<String>,
    /// `neighbourhood`: `"moore"` (8/26 neighbours) or `"von_neumann"` (4/6). Default moore.
    pub neighbourhood: Option<String>,
    /// `tile_sites`: target tile edge of the parallel partition [sites], 3..=1024, not larger
    /// than the longest lattice edge. Default 32 (a 32×32 tile of f64 fits in L1/L2 cache).
    pub tile_sites: Option<i64>,
}

/// `[bone]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBone {
    /// `geometry`: `"none"`, `"procedural"` (generated from the seed) or `"mask"` (image/CSV).
    /// Default procedural.
    pub geometry: Option<String>,
    /// `target_bv_tv_pct`: bone volume fraction BV/TV of the procedural network [%], 0..=60.
    /// Default 20 % (human iliac crest BV/TV ~20–25 % in young adults; MODEL.md §2b).
    pub target_bv_tv_pct: Option<f64>,
    /// `trabecular_thickness_um`: mean trabecular thickness [µm], 30..=500. Default 120 µm
    /// (human trabecular thickness ~100–150 µm; Parfitt 1983).
    pub trabecular_thickness_um: Option<f64>,
    /// `mask_path`: bone mask (`.png`: dark/opaque pixels are bone, or `.csv` of 0/1),
    /// relative to the scenario file's folder. Required iff `geometry = "mask"`.
    pub mask_path: Option<String>,
}

/// `[myeloma]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMyeloma {
    /// `initial_cells`: myeloma cells placed at the start, 0..=nx·ny·nz. Required.
    pub initial_cells: Option<i64>,
    /// `placement`: `"centre"` (compact disc/ball at the centre) or `"random"` (uniform over
    /// free marrow). Default centre.
    pub placement: Option<String>,
    /// `division_rate_per_h`: division rate with a free neighbour [1/h], 0..=1.
    /// Default 1/24 h ≈ 0.0417 (Bishop et al. 2024 HAL code: at most one division per day).
    pub division_rate_per_h: Option<f64>,
    /// `death_rate_per_h`: apoptosis rate [1/h], 0..=1. Default 1/120 h ≈ 0.00833
    /// (Bishop et al. 2024: death 1/(5 d) without stromal protection).
    pub death_rate_per_h: Option<f64>,
}

/// `[fields.<name>]`: one diffusing signal.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    /// `diffusion_um2_per_s`: diffusion coefficient in marrow [µm²/s], 0..=1000; converted to
    /// µm²/h (×3600). Required (depends on the molecule's size; ~10–100 µm²/s for cytokines).
    pub diffusion_um2_per_s: Option<f64>,
    /// `half_life_min`: half-life by first-order decay/uptake [minutes], > 0 and ≤ 10⁶;
    /// converted to a decay rate ln 2/(half_life_min/60) [1/h]. Required.
    pub half_life_min: Option<f64>,
    /// `solver`: `"explicit"` (FTCS sub-steps) or `"implicit"` (unconditionally stable
    /// backward-Euler splitting). Default implicit.
    pub solver: Option<String>,
    /// `substeps`: diffusion sub-steps per model step, 1..=100000. Default: implicit 1;
    /// explicit the smallest count with D·Δt_sub/Δx² ≤ 0.9/(2·dims) and k·Δt_sub ≤ 0.5.
    pub substeps: Option<i64>,
    /// `bone_diffusion_factor`: multiplier on D inside bone matrix, 0..=1. Default 0.1
    /// (Bishop et al. 2024 HAL code: D×0.1 inside bone).
    pub bone_diffusion_factor: Option<f64>,
    /// `initial_nM`: uniform starting concentration [nM], ≥ 0 (≤ 10⁶). Default 0.
    #[serde(rename = "initial_nM")]
    pub initial_nm: Option<f64>,
    /// `[fields.<name>.secretion_nM_per_h]`: secretion per cell into its own site [nM/h] by
    /// cell kind name (`myeloma`, `stroma`, `osteoclast`, …), each ≥ 0. Default: none.
    #[serde(rename = "secretion_nM_per_h", default)]
    pub secretion_nm_per_h: BTreeMap<String, f64>,
}
