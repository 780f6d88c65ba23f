//! Whole-body state (stages `advance_compartments` and `assess`): blood counts, serum
//! M-protein and free light chains, calcium and creatinine, the region→patient scale, and
//! IMWG response/progression. Small ODE systems advanced once per step with stable
//! integrators (exact exponential updates or RK4 with dt in hours); no I/O.
//!
//! Reads: per-step marrow summaries from the lattice ([`MarrowSummary`]). Writes: its own
//! state; the model turns it into time-series columns and events.

pub mod chemistry;
pub mod compartments;
pub mod infection;
pub mod mprotein;
pub mod patient;
pub mod response;
pub mod scale;

pub use chemistry::Chemistry;
pub use compartments::Blood;
pub use mprotein::Serum;
pub use patient::PatientTraits;
pub use response::{Assessment, Category, ResponseTracker, meets_diagnosis};
pub use scale::Scale;

/// Fraction of the region's initial bone that must be lost before its lytic disease counts
/// as the CRAB **B** feature [0–1]. A radiograph shows a lytic lesion only after 30 % or more
/// of trabecular bone has been lost (IMWG imaging consensus: Dimopoulos et al. 2009,
/// Leukemia 23:1545; 30–50 % in most reviews); the region (2 mm) is smaller than a
/// radiological lesion (≥ 5 mm), so its own bone loss is the proxy, together with ≥ 1
/// connected lesion of `lesion_min_sites` [M].
pub const RADIOGRAPHIC_BONE_LOSS: f64 = 0.3;

/// What the whole-body compartments need from the lattice at the end of a step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MarrowSummary {
    /// Myeloma cells on the lattice.
    pub mm_cells: f64,
    /// Myeloma cells that secrete M-protein and FLC on the lattice: the differentiated ones
    /// (= `mm_cells` without a clone hierarchy; see `clones::hierarchy`).
    pub mm_secreting: f64,
    /// Haematopoietic cells on the lattice.
    pub haem_cells: f64,
    /// Healthy reference number of haematopoietic cells (at the start) [cells].
    pub haem_reference: f64,
    /// Nucleated marrow cells (myeloma + haematopoietic + stroma + immune) on the lattice.
    pub nucleated: f64,
    /// Bone sites now.
    pub bone_sites: f64,
    /// Bone sites at the start of the step.
    pub bone_sites_before: f64,
}

impl MarrowSummary {
    /// Myeloma fraction of nucleated marrow cells [0–1].
    pub fn mm_fraction(&self) -> f64 {
        if self.nucleated > 0.0 {
            self.mm_cells / self.nucleated
        } else {
            0.0
        }
    }

    /// Myeloma cells on the lattice that secrete M-protein and FLC: the differentiated
    /// ones (every myeloma cell without a clone hierarchy).
    pub fn secreting_cells(&self) -> f64 {
        self.mm_secreting
    }

    /// Normal marrow output relative to the healthy reference (1 = healthy). Without
    /// modelled haematopoiesis (no reference), 1 − myeloma fraction (space taken by tumour).
    pub fn marrow_output(&self) -> f64 {
        if self.haem_reference > 0.0 {
            self.haem_cells / self.haem_reference
        } else {
            1.0 - self.mm_fraction()
        }
    }
}

/// Advances serum proteins and calcium/kidneys one step of `dt_h` hours from the marrow
/// summary `m` scaled to the patient by `scale` (the model's `advance_compartments` and
/// cohort studies that replay one marrow for many patients call this same function).
///
/// The whole-patient myeloma count that secretes M-protein and FLC is read through
/// [`MarrowSummary::secreting_cells`] only.
pub fn advance_serum_chemistry(
    serum: &mut Serum,
    chem: &mut Chemistry,
    scale: &Scale,
    m: &MarrowSummary,
    dt_h: f64,
) {
    let n_patient = m.secreting_cells() * scale.cells_per_site;
    serum.advance(
        dt_h,
        n_patient,
        m.marrow_output(),
        m.mm_fraction(),
        chem.renal,
    );
    let lost_ml_per_h = (m.bone_sites_before - m.bone_sites) * scale.ml_per_site / dt_h;
    chem.advance(dt_h, lost_ml_per_h, serum.flc_mg_l());
}
