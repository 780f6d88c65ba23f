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
pub mod response;
pub mod scale;

pub use chemistry::Chemistry;
pub use compartments::Blood;
pub use mprotein::Serum;
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
