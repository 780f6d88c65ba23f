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
    /// The disease mechanism (other cell families, patient, clinical readouts).
    pub biology: Biology,
    /// What a run writes besides the time series.
    pub output: OutputParams,
    // ---- treatment (issue 4) ----
    /// The validated `[treatment]` section (`None`: untreated).
    pub treatment: Option<crate::protocol::TreatmentPlan>,
    // ---- clones (issue 5) ----
    /// The validated `[clones]` section (`None`: one untracked founder clone).
    pub clones: Option<crate::clones::ClonePlan>,
}

/// `[output]`: snapshot cadence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputParams {
    /// Hand a [`Frame`](crate::observe::Frame) to observers every this many steps (and at
    /// step 0 and the last step); 0 = never.
    pub snapshot_every_steps: u64,
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

/// How the implicit (LOD) solver splits decay from the per-axis diffusion solves
/// (`[fields.<name>] splitting`; docs/MODEL.md §3.3.6). Ignored by the explicit solver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Splitting {
    /// Decay and sources first, then one implicit solve per axis. At a 4-h step a
    /// 2-minute signal spreads ~9× too wide (relative L2 error 0.31; `tests/numerics.rs`).
    Classic,
    /// The decay is distributed over the axis factors, `r' = r/(1 + kΔt)` (Hundsdorfer &
    /// Verwer 2003, §IV.3–5): the same cost, relative L2 error 0.08 for the same signal.
    /// The default.
    Distributed,
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
    /// Implicit splitting of decay and diffusion.
    pub splitting: Splitting,
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

/// The disease-mechanism parameters (issue 3): cell families besides myeloma, the myeloma
/// cells' response to their microenvironment, the patient and the clinical readouts.
///
/// A family whose scenario section is absent is left out (`None`): no cells of it are placed
/// and its rules never run, as in the benchmark and minimal scenarios. `Default` gives that
/// "bare" biology plus default patient and clinical settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Biology {
    /// `[myeloma]` microenvironment keys (growth and survival signals, secretion).
    pub myeloma_env: MyelomaEnvParams,
    /// `[bone_cells]`: lining cells, osteoclasts, osteoblasts (bone remodeling).
    pub bone_cells: Option<BoneCellParams>,
    /// `[stroma]`: bone-marrow stromal cells.
    pub stroma: Option<StromaParams>,
    /// `[haematopoiesis]`: normal blood-forming tissue on the lattice.
    pub haematopoiesis: Option<HaemParams>,
    /// `[immune]`: NK / cytotoxic T effectors.
    pub immune: Option<ImmuneParams>,
    /// `[patient]`.
    pub patient: PatientParams,
    /// `[clinical]`.
    pub clinical: ClinicalParams,
}

/// How myeloma cells respond to their microenvironment (`[myeloma]` keys beyond the rates).
#[derive(Clone, Debug, PartialEq)]
pub struct MyelomaEnvParams {
    /// Fraction of the maximal division rate without growth signals [0–1]. Default 1 (no
    /// signal dependence, the foundation's behaviour). Bishop et al. 2024 gate division fully
    /// by a TGF-β Hill term (fraction 0); the untreated scenario uses 0.3 [L].
    pub basal_division_fraction: f64,
    /// Half-maximal growth signal (IL-6 + TGF-β) [nM] of the Hill term (n = 2) [L].
    pub growth_half_nm: f64,
    /// Death-rate multiplier for a cell next to a stromal cell or in TGF-β above
    /// `protect_tgfb_nm` [0–1]. Default 0.1: Bishop et al. 2024, 1/(5 d) → 1/(50 d).
    pub protection_factor: f64,
    /// TGF-β level [nM] above which bone-derived-factor protection applies [L].
    pub protect_tgfb_nm: f64,
    /// Maximal rate at which myeloma cells next to a quiescent lining cell activate it (start
    /// a remodeling event) [1/h]; scaled by H₂(n; `lining_activation_half_cells`) of the n
    /// adjacent myeloma cells (n = `cells::bone::MM_ACTIVATION_HILL`). Bishop et al. 2024: MM
    /// next to lining triggers RANKL [L].
    pub lining_activation_per_h: f64,
    /// Adjacent myeloma cells giving half the maximal lining activation (Hill n = 4) [cells].
    /// Activation needs a local colony, not a lone plasma cell: the osteoclast-activating
    /// signal is induced by VLA-4/VCAM-1 adhesion of myeloma cells to the osteoblast lineage
    /// (Michigami 2000; Giuliani 2001: contact-dependent) and osteoclast numbers rise only in
    /// areas massively invaded by plasma cells (Valentin-Opran 1982). Default 3: one cell
    /// gives 1.2 % of the maximal rate, two 16 %, three 50 % [L].
    pub lining_activation_half_cells: f64,
}

impl Default for MyelomaEnvParams {
    fn default() -> Self {
        Self {
            basal_division_fraction: 1.0,
            growth_half_nm: 0.5,
            protection_factor: 0.1,
            protect_tgfb_nm: 0.2,
            lining_activation_per_h: 0.002,
            lining_activation_half_cells: 3.0,
        }
    }
}

/// Bone remodeling cells (`[bone_cells]`). Sources: Bishop et al. 2024 HAL code (MODEL.md
/// Table 1.5a), Parfitt/Manolagas (MODEL.md §2b).
#[derive(Clone, Debug, PartialEq)]
pub struct BoneCellParams {
    /// Spontaneous activation rate of a quiescent lining cell (targeted remodeling trigger)
    /// [1/h]. Calibrated so that the healthy region turns over ~25 %/yr of trabecular bone
    /// (MODEL.md §2b): 1.5 × 10⁻⁶ gives ~22–26 %/yr over 6 seeds with distributed-splitting
    /// fields (docs/MODEL.md §4.2) [cal].
    pub activation_per_h: f64,
    /// How long an activated lining cell expresses RANKL [h]. Bishop 2024: up to 14 d.
    pub activation_h: f64,
    /// RANKL secreted by an activated lining cell into its site [nM/h]. Calibrated with
    /// `oc_rankl_half_nm` so that a triggered unit forms ~5–10 osteoclasts (measured 8–10 on
    /// seeds 5–7 with distributed-splitting fields; docs/MODEL.md §3.3.2) [cal].
    pub activated_rankl_nm_per_h: f64,
    /// Maximal rate at which osteoclast precursors fuse into an osteoclast on a lining site
    /// [1/h]. Bishop 2024: at most one fusion per 3 d → 1/72 h.
    pub oc_formation_per_h: f64,
    /// Half-maximal effective RANKL signal [nM] (Hill n = 2) [L].
    pub oc_rankl_half_nm: f64,
    /// OPG level that halves the effective RANKL signal [nM] (decoy receptor) [L].
    pub oc_opg_half_nm: f64,
    /// Mean osteoclast lifespan [h]. Bishop 2024: Normal(14 d, 2.3 d) truncated to [7, 21] d.
    pub oc_lifespan_mean_h: f64,
    /// Standard deviation of the osteoclast lifespan [h] (Bishop 2024: 2.3 d).
    pub oc_lifespan_sd_h: f64,
    /// Resorption rate of one osteoclast [sites/h]. Bishop 2024: one 10-µm site per day.
    pub oc_resorption_per_h: f64,
    /// TGF-β release of a fresh reversal (resorbed) surface [nM/h] (latent matrix TGF-β
    /// activated by resorption; Bishop 2024 "bone-derived factor") [L].
    pub reversal_tgfb_nm_per_h: f64,
    /// How long a resorbed surface releases TGF-β [h]. Bishop 2024: 3 d.
    pub reversal_release_h: f64,
    /// Maximal osteoblast recruitment rate onto a reversal surface [1/h]. Bishop 2024: MSC →
    /// pre-osteoblast up to 1/day × Hill(TGF-β, n = 2).
    pub ob_recruit_per_h: f64,
    /// Half-maximal TGF-β for recruitment [nM] (Hill n = 2) [L].
    pub ob_tgfb_half_nm: f64,
    /// Recruitment floor without TGF-β, as a fraction of the maximum [0–1] (reversal cells
    /// eventually differentiate even without fresh signal; Delaisse 2014) [L].
    pub ob_basal_fraction: f64,
    /// DKK1 level that halves recruitment and deposition [nM] (Wnt inhibition; Tian 2003) [L].
    pub ob_dkk1_half_nm: f64,
    /// Bone deposition rate of one osteoblast [sites/h]: the adjusted apposition rate (mineral
    /// apposition averaged over the whole formation period, off-periods included) 0.4 µm/d on
    /// 10-µm sites = 0.04 sites/d — a 50-µm wall in ~125 d (Eriksen 1986, Endocr Rev 7:379:
    /// trabecular wall ~50–60 µm, formation period ~4–5 months). Bishop 2024's one
    /// site per ~8.6 d was for one osteoblast refilling a whole cavity alone; here teams of
    /// osteoblasts (`OB_WALL_SITES`) work side by side.
    pub ob_formation_per_h: f64,
    /// Longest osteoblast active life [h] (Manolagas 2000: ~3 months; cap 200 d).
    pub ob_lifespan_max_h: f64,
    /// Fraction of osteoblasts that die at the end of formation instead of becoming lining
    /// cells [0–1]. Manolagas 2000: 50–70 %; default 0 keeps surface coverage (see MODEL.md).
    pub ob_apoptosis_fraction: f64,
    /// Sites an osteoblast is to deposit per site its osteoclast resorbed [ratio]. 1 would be
    /// exact coupling; on the lattice ~20 % of the quota is lost to osteoblasts walled in by
    /// matrix (they become osteocytes, as 10–20 % of real osteoblasts do; Manolagas 2000), so
    /// 1.15 restores a near-zero balance per remodeling cycle in health (calibrated against
    /// the triggered-cycle test, −1.6 % to 0 % per unit on seeds 5–7, and the 2-year healthy
    /// BV/TV; 1.25 overfilled by ~+1.5 % once osteoblast teams existed; docs/MODEL.md) [cal].
    pub ob_refill_factor: f64,
}

impl Default for BoneCellParams {
    fn default() -> Self {
        Self {
            activation_per_h: 1.5e-6,
            activation_h: 7.0 * 24.0,
            activated_rankl_nm_per_h: 200.0,
            oc_formation_per_h: 1.0 / 72.0,
            oc_rankl_half_nm: 0.04,
            oc_opg_half_nm: 0.1,
            oc_lifespan_mean_h: 14.0 * 24.0,
            oc_lifespan_sd_h: 2.3 * 24.0,
            oc_resorption_per_h: 1.0 / 24.0,
            reversal_tgfb_nm_per_h: 1.0,
            reversal_release_h: 3.0 * 24.0,
            ob_recruit_per_h: 1.0 / 24.0,
            ob_tgfb_half_nm: 0.1,
            ob_basal_fraction: 0.05,
            ob_dkk1_half_nm: 0.2,
            ob_formation_per_h: 0.04 / 24.0,
            ob_lifespan_max_h: 200.0 * 24.0,
            ob_apoptosis_fraction: 0.0,
            ob_refill_factor: 1.15,
        }
    }
}

/// Bone-marrow stromal cells (`[stroma]`).
#[derive(Clone, Debug, PartialEq)]
pub struct StromaParams {
    /// Stromal cells as a fraction of free marrow sites at the start [0–1] [L].
    pub density: f64,
    /// Multiplier on a stromal cell's IL-6 and RANKL secretion while a myeloma cell adheres to
    /// it (adhesion → NF-κB → IL-6, RANKL; Uchiyama 1993, Wang 2011) [L].
    pub engaged_factor: f64,
    /// Multiplier on a stromal cell's OPG secretion while a myeloma cell adheres to it [0–1].
    /// Giuliani et al. 2001 (Blood 98:3527): myeloma cells strongly down-regulate OPG in
    /// stromal and pre-osteoblastic cells by cell contact (VLA-4), while raising RANKL.
    /// Default 0.2 [L: "strongly" is not quantified as a single factor].
    pub engaged_opg_factor: f64,
}

impl Default for StromaParams {
    fn default() -> Self {
        Self {
            density: 0.01,
            engaged_factor: 5.0,
            engaged_opg_factor: 0.2,
        }
    }
}

/// Normal haematopoiesis on the lattice (`[haematopoiesis]`).
#[derive(Clone, Debug, PartialEq)]
pub struct HaemParams {
    /// Fraction of free marrow sites holding haematopoietic cells at the start [0–1] (adult
    /// marrow cellularity ~40–60 %, the rest fat) [M].
    pub cellularity: f64,
    /// Fraction of the initial haematopoietic cells that are stem cells in niches [0–1] [L].
    pub stem_fraction: f64,
    /// Stem-cell division rate [1/h] (asymmetric: a progenitor daughter) [L]; multipotent
    /// progenitors cycle about weekly (HSC proper: once per 25–50 weeks, Catlin 2011).
    pub stem_division_per_h: f64,
    /// Progenitor division rate into a free neighbouring site [1/h] (~1 cycle/day) [M].
    pub progenitor_division_per_h: f64,
    /// Progenitor exit rate (maturation and egress to the blood) [1/h]: ~1/(6 d), the
    /// 5–7 d marrow transit (MODEL.md §2c), and calibrated so that the lattice's
    /// steady-state cellularity matches `cellularity` [M].
    pub progenitor_exit_per_h: f64,
    /// Divisions a progenitor lineage may make before it can only mature [count] [L].
    pub max_generations: u16,
    /// Factor by which each adjacent myeloma cell divides a progenitor's division rate
    /// (local suppression: 1/(1 + k·n_MM)) [L].
    pub mm_suppression: f64,
}

impl Default for HaemParams {
    fn default() -> Self {
        Self {
            cellularity: 0.5,
            stem_fraction: 0.02,
            stem_division_per_h: 1.0 / (7.0 * 24.0),
            progenitor_division_per_h: 1.0 / 24.0,
            progenitor_exit_per_h: 1.0 / (6.0 * 24.0),
            max_generations: 12,
            mm_suppression: 0.5,
        }
    }
}

/// Immune effectors (`[immune]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ImmuneParams {
    /// Effector cells as a fraction of free marrow sites at the start [0–1] [L].
    pub density: f64,
    /// Kill rate per adjacent myeloma cell [1/h]. Froid myelomaSimpleABM: 0.12/h per contact.
    pub kill_per_h: f64,
    /// Random-walk step rate [1/h] [L]: 0.25/h keeps `move·dt ≤ 1` up to dt = 4 h, so the
    /// walk (one step per time step with probability move·dt) is the same for dt 1–4 h.
    pub move_per_h: f64,
    /// TGF-β level halving the kill rate [nM] (TGF-β immunosuppression) [L].
    pub tgfb_half_nm: f64,
    /// Marrow myeloma fraction halving the kill rate [0–1] (Tregs, MDSC, PD-L1, exhaustion) [L].
    pub burden_half: f64,
}

impl Default for ImmuneParams {
    fn default() -> Self {
        Self {
            density: 0.005,
            kill_per_h: 0.12,
            move_per_h: 0.25,
            tgfb_half_nm: 0.2,
            burden_half: 0.05,
        }
    }
}

/// Myeloma isotype: which protein the clone secretes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isotype {
    /// Intact IgG (t½ ~21 d).
    IgG,
    /// Intact IgA (t½ ~6 d).
    IgA,
    /// Light chains only (no serum M-spike; involved FLC).
    LightChain,
}

impl Isotype {
    /// Name as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Isotype::IgG => "IgG",
            Isotype::IgA => "IgA",
            Isotype::LightChain => "light_chain",
        }
    }
}

/// The patient (`[patient]`).
#[derive(Clone, Debug, PartialEq)]
pub struct PatientParams {
    /// Body weight [kg].
    pub weight_kg: f64,
    /// Height [cm] (body surface area for dosing; Mosteller).
    pub height_cm: f64,
    /// Clone isotype.
    pub isotype: Isotype,
    /// Whole-body traits: the deterministic typical patient (false, default) or one patient
    /// drawn per seed from documented distributions (true; `clinical::patient`).
    pub cohort: bool,
}

impl Default for PatientParams {
    fn default() -> Self {
        Self {
            weight_kg: 70.0,
            height_cm: 170.0,
            isotype: Isotype::IgG,
            cohort: false,
        }
    }
}

/// Clinical readouts (`[clinical]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ClinicalParams {
    /// Assessment cadence [h] (IMWG response checked monthly in trials). Default 28 d.
    pub assess_every_h: f64,
    /// Active (red) marrow mass per kg body weight [g/kg]. ICRP 89: 1170 g in the 73-kg
    /// reference man, 900 g in the 60-kg woman → ~16 g/kg.
    pub red_marrow_g_per_kg: f64,
    /// Fixed real cells per simulated site (0 = derive from marrow mass; see `clinical::scale`).
    pub cells_per_site: f64,
    /// M-protein secretion per myeloma cell [pg/day]. Salmon & Smith 1970: 10–50.
    pub mprotein_pg_per_cell_day: f64,
    /// Involved free-light-chain secretion per myeloma cell [pg/day] [L] (light-chain disease
    /// ×5).
    pub flc_pg_per_cell_day: f64,
    /// Faster IgG catabolism at high total IgG (FcRn saturation; Waldmann & Strober 1969).
    pub fcrn_saturation: bool,
    /// Size of a connected resorbed region counted as a lytic lesion [sites]: 100, just above
    /// the cavity of one healthy remodeling unit (75–95 sites), so only coalesced or
    /// unrepaired resorption counts; no lesion appears in 2-year healthy runs (docs/MODEL.md
    /// §3.4.5) [calibrated].
    pub lesion_min_sites: usize,
}

impl Default for ClinicalParams {
    fn default() -> Self {
        Self {
            assess_every_h: 28.0 * 24.0,
            red_marrow_g_per_kg: 16.0,
            cells_per_site: 0.0,
            mprotein_pg_per_cell_day: 20.0,
            flc_pg_per_cell_day: 5.0,
            fcrn_saturation: false,
            lesion_min_sites: 100,
        }
    }
}
