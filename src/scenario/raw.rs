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
    /// `[output]`: what a run writes besides the time series.
    #[serde(default)]
    pub output: RawOutput,
    /// `[bone_cells]`: lining cells, osteoclasts, osteoblasts. Absent: no remodeling.
    pub bone_cells: Option<RawBoneCells>,
    /// `[stroma]`: stromal cells. Absent: none.
    pub stroma: Option<RawStroma>,
    /// `[haematopoiesis]`: normal blood-forming cells. Absent: none (blood output then falls
    /// only with the space myeloma takes).
    pub haematopoiesis: Option<RawHaematopoiesis>,
    /// `[immune]`: NK/T effectors. Absent: none.
    pub immune: Option<RawImmune>,
    /// `[patient]`: body size and clone isotype.
    #[serde(default)]
    pub patient: RawPatient,
    /// `[clinical]`: readouts and scaling.
    #[serde(default)]
    pub clinical: RawClinical,
    // ---- treatment (issue 4) ----
    /// `[treatment]`: drug/regimen overrides, protocol phases, toxicity and supportive care.
    /// Optional; see [`crate::protocol::RawTreatment`].
    pub treatment: Option<crate::protocol::RawTreatment>,
    // ---- clones (issue 5) ----
    /// `[clones]`: founder lesions, mutation, seeded subclones, lesion-library overrides.
    /// Optional; see [`crate::clones::RawClones`].
    pub clones: Option<crate::clones::RawClones>,
}

/// `[output]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    /// `snapshot_every_d`: cadence of lattice snapshots (PNG maps and GIF frames) [days],
    /// 0..=36500; `0` = no snapshots. Step 0 and the last step are always included when > 0.
    /// A whole multiple of `dt_h`. Default: `duration_d / 50` rounded up to whole days (one
    /// year → every 8 d, 47 frames; 60 d → every 2 d; ≤ 50 d → daily), so an animation has
    /// ~50 frames and a run stays a few tens of MB whatever its length.
    pub snapshot_every_d: Option<f64>,
}

/// `[bone_cells]`. Every key optional; defaults and sources in
/// [`BoneCellParams`](super::BoneCellParams).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBoneCells {
    /// `activation_rate_per_h`: spontaneous lining activation [1/h], 0..=0.01. Default 1.5e-6.
    pub activation_rate_per_h: Option<f64>,
    /// `activation_d`: RANKL expression of an activated lining cell [d], > 0 and ≤ 100. Default 7.
    pub activation_d: Option<f64>,
    /// `activated_rankl_nM_per_h`: RANKL of an activated lining cell [nM/h], 0..=1e3. Default 200.
    #[serde(rename = "activated_rankl_nM_per_h")]
    pub activated_rankl_nm_per_h: Option<f64>,
    /// `oc_formation_rate_per_h`: maximal osteoclast formation [1/h], 0..=1. Default 1/72.
    pub oc_formation_rate_per_h: Option<f64>,
    /// `oc_rankl_half_nM`: half-maximal effective RANKL [nM], > 0 and ≤ 1e3. Default 0.04.
    #[serde(rename = "oc_rankl_half_nM")]
    pub oc_rankl_half_nm: Option<f64>,
    /// `oc_opg_half_nM`: OPG halving the RANKL signal [nM], > 0 and ≤ 1e3. Default 0.1.
    #[serde(rename = "oc_opg_half_nM")]
    pub oc_opg_half_nm: Option<f64>,
    /// `oc_lifespan_mean_d`: osteoclast lifespan mean [d], > 0 and ≤ 100. Default 14.
    pub oc_lifespan_mean_d: Option<f64>,
    /// `oc_lifespan_sd_d`: osteoclast lifespan sd [d], 0..=50. Default 2.3.
    pub oc_lifespan_sd_d: Option<f64>,
    /// `oc_resorption_sites_per_d`: resorption [sites/d], 0..=24. Default 1.
    pub oc_resorption_sites_per_d: Option<f64>,
    /// `reversal_tgfb_nM_per_h`: TGF-β released by a fresh resorbed surface [nM/h], 0..=1e3. Default 1.
    #[serde(rename = "reversal_tgfb_nM_per_h")]
    pub reversal_tgfb_nm_per_h: Option<f64>,
    /// `reversal_release_d`: duration of that release [d], 0..=100. Default 3.
    pub reversal_release_d: Option<f64>,
    /// `ob_recruit_rate_per_h`: maximal osteoblast recruitment [1/h], 0..=1. Default 1/24.
    pub ob_recruit_rate_per_h: Option<f64>,
    /// `ob_tgfb_half_nM`: half-maximal TGF-β for recruitment [nM], > 0 and ≤ 1e3. Default 0.1.
    #[serde(rename = "ob_tgfb_half_nM")]
    pub ob_tgfb_half_nm: Option<f64>,
    /// `ob_basal_fraction`: recruitment without TGF-β [fraction], 0..=1. Default 0.05.
    pub ob_basal_fraction: Option<f64>,
    /// `ob_dkk1_half_nM`: DKK1 halving recruitment and deposition [nM], > 0 and ≤ 1e3. Default 0.2.
    #[serde(rename = "ob_dkk1_half_nM")]
    pub ob_dkk1_half_nm: Option<f64>,
    /// `ob_formation_sites_per_d`: deposition [sites/d], 0..=24. Default 1/8.6.
    pub ob_formation_sites_per_d: Option<f64>,
    /// `ob_lifespan_max_d`: longest active osteoblast life [d], > 0 and ≤ 1000. Default 200.
    pub ob_lifespan_max_d: Option<f64>,
    /// `ob_apoptosis_fraction`: finished osteoblasts that die [fraction], 0..=1. Default 0.
    pub ob_apoptosis_fraction: Option<f64>,
    /// `ob_refill_factor`: osteoblast quota per resorbed site [ratio], 0.5..=3. Default 1.15.
    pub ob_refill_factor: Option<f64>,
}

/// `[stroma]`; defaults in [`StromaParams`](super::StromaParams).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStroma {
    /// `density_pct`: stromal cells [% of marrow sites], 0..=50. Default 1.
    pub density_pct: Option<f64>,
    /// `engaged_factor`: IL-6 and RANKL secretion multiplier with adherent myeloma, 1..=100.
    /// Default 5.
    pub engaged_factor: Option<f64>,
    /// `engaged_opg_factor`: OPG secretion multiplier with adherent myeloma, 0..=1. Default 0.2
    /// (Giuliani 2001).
    pub engaged_opg_factor: Option<f64>,
}

/// `[haematopoiesis]`; defaults in [`HaemParams`](super::HaemParams).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHaematopoiesis {
    /// `cellularity_pct`: haematopoietic cells [% of marrow sites], 0..=95. Default 50.
    pub cellularity_pct: Option<f64>,
    /// `stem_pct`: stem cells [% of haematopoietic cells], 0..=100. Default 2.
    pub stem_pct: Option<f64>,
    /// `stem_division_rate_per_h`: [1/h], 0..=1. Default 1/168.
    pub stem_division_rate_per_h: Option<f64>,
    /// `progenitor_division_rate_per_h`: [1/h], 0..=1. Default 1/24.
    pub progenitor_division_rate_per_h: Option<f64>,
    /// `progenitor_exit_rate_per_h`: [1/h], 0..=1. Default 1/144 (6 d).
    pub progenitor_exit_rate_per_h: Option<f64>,
    /// `max_generations`: progenitor divisions, 0..=1000. Default 12.
    pub max_generations: Option<i64>,
    /// `mm_suppression`: division divisor per adjacent myeloma cell, 0..=100. Default 0.5.
    pub mm_suppression: Option<f64>,
}

/// `[immune]`; defaults in [`ImmuneParams`](super::ImmuneParams).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImmune {
    /// `density_pct`: effectors [% of marrow sites], 0..=50. Default 0.5.
    pub density_pct: Option<f64>,
    /// `kill_rate_per_h`: per adjacent myeloma cell [1/h], 0..=10. Default 0.12.
    pub kill_rate_per_h: Option<f64>,
    /// `move_rate_per_h`: random-walk steps [1/h], 0..=1. Default 0.25.
    pub move_rate_per_h: Option<f64>,
    /// `tgfb_half_nM`: TGF-β halving the kill rate [nM], > 0 and ≤ 1e3. Default 0.2.
    #[serde(rename = "tgfb_half_nM")]
    pub tgfb_half_nm: Option<f64>,
    /// `burden_half_pct`: myeloma marrow % halving the kill rate, > 0 and ≤ 100. Default 5.
    pub burden_half_pct: Option<f64>,
}

/// `[patient]`; defaults in [`PatientParams`](super::PatientParams).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPatient {
    /// `weight_kg`: 20..=250. Default 70.
    pub weight_kg: Option<f64>,
    /// `height_cm`: 100..=230. Default 170.
    pub height_cm: Option<f64>,
    /// `isotype`: `"IgG"`, `"IgA"` or `"light_chain"`. Default IgG (~50–55 % of patients).
    pub isotype: Option<String>,
    /// `variability`: `"typical"` (deterministic typical patient) or `"cohort"` (kidneys,
    /// secretion and isotype drawn per seed; `clinical::patient`). Default typical.
    pub variability: Option<String>,
}

/// `[clinical]`; defaults in [`ClinicalParams`](super::ClinicalParams).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClinical {
    /// `assess_every_d`: assessment cadence [d], > 0 and ≤ 365. Default 28.
    pub assess_every_d: Option<f64>,
    /// `red_marrow_g_per_kg`: active marrow mass [g/kg], > 0 and ≤ 50. Default 16 (ICRP 89).
    pub red_marrow_g_per_kg: Option<f64>,
    /// `cells_per_site`: fixed scale [cells/site], 0 (derive) ..=1e15. Default 0.
    pub cells_per_site: Option<f64>,
    /// `mprotein_pg_per_cell_day`: 0..=1000. Default 20 (Salmon & Smith 1970: 10–50).
    pub mprotein_pg_per_cell_day: Option<f64>,
    /// `flc_pg_per_cell_day`: 0..=1000. Default 5 [L].
    pub flc_pg_per_cell_day: Option<f64>,
    /// `fcrn_saturation`: faster IgG catabolism at high IgG. Default false.
    pub fcrn_saturation: Option<bool>,
    /// `lesion_min_sites`: connected resorbed sites counted as a lytic lesion, 1..=10⁹. Default 100.
    pub lesion_min_sites: Option<i64>,
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
    /// `basal_division_fraction`: division without growth signal [fraction of max], 0..=1.
    /// Default 1 (no signal dependence).
    pub basal_division_fraction: Option<f64>,
    /// `growth_half_nM`: IL-6 + TGF-β for half-maximal division drive [nM], > 0 and ≤ 1e3.
    /// Default 0.5.
    #[serde(rename = "growth_half_nM")]
    pub growth_half_nm: Option<f64>,
    /// `protection_factor`: death multiplier next to stroma / in TGF-β, 0..=1. Default 0.1
    /// (Bishop 2024).
    pub protection_factor: Option<f64>,
    /// `protect_tgfb_nM`: TGF-β above which cells are protected [nM], 0..=1e3. Default 0.2.
    #[serde(rename = "protect_tgfb_nM")]
    pub protect_tgfb_nm: Option<f64>,
    /// `lining_activation_rate_per_h`: activation of an adjacent lining cell [1/h], 0..=1.
    /// Default 0.002.
    pub lining_activation_rate_per_h: Option<f64>,
    /// `lining_activation_half_cells`: adjacent myeloma cells for half the maximal lining
    /// activation [cells], > 0 and ≤ 26. Default 3.
    pub lining_activation_half_cells: Option<f64>,
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
    /// `splitting`: how the implicit solver splits decay from diffusion, `"distributed"`
    /// (decay shared by the axis factors; accurate for fast-decaying signals at large steps)
    /// or `"classic"` (decay first, then the axis solves; ~9× too wide for a 2-min signal at
    /// dt 4 h). Default distributed. Only with `solver = "implicit"`.
    pub splitting: Option<String>,
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
