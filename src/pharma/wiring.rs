//! Drug effects as the cell rules read them: [`CellDrugStep`] turns the combined
//! [`DrugEffects`] of this step into per-step probabilities and multipliers, carried in the
//! marrow rule's [`Env`](crate::cells::marrow::Env). The neutral value ([`Default`]) leaves
//! every rule exactly as without treatment *and draws no extra random numbers*, so untreated
//! runs are byte-identical to runs of a binary without treatment.
//!
//! Target → rule mapping (MODEL.md §3c; part A of issue 4):
//!
//! | effect | rule | how |
//! |---|---|---|
//! | `mm_kill` + `cd38_kill`·CD38·NK | myeloma death | extra hazard, not protected by stroma/TGF-β |
//! | `mm_antiproliferation` | myeloma division | a division is blocked with this probability |
//! | `oc_inhibition` | osteoclast formation and resorption | × (1 − E) (thinning) |
//! | `oc_apoptosis` | osteoclasts | extra hazard; ends the lifespan early (reversal follows) |
//! | `ob_stimulation` | osteoblast recruitment from reversal cells | × max(0, 1 + E) |
//! | `immune_activation` | T/NK effector killing | × max(0, 1 + E) |
//! | `myelosuppression` | haematopoietic progenitors (stem cells: excess over [`STEM_SPARING_PER_H`]) | extra death hazard |
//!
//! `nk_depletion`, `erythropoiesis` and `treg_depletion` act on whole-body compartments (see
//! [`crate::protocol::runtime`]).
//!
//! Reads: [`DrugEffects`], the NK availability, the step. Writes: nothing.

use super::DrugEffects;

/// Share of the CD38-directed kill that needs NK cells (ADCC); the rest (complement-dependent
/// cytotoxicity, macrophage phagocytosis, apoptosis on cross-linking) does not. De Weers
/// 2011, Overdijk 2015: all three mechanisms contribute in vitro [L].
pub const CD38_NK_DEPENDENT: f64 = 0.5;

/// CD38 density of myeloma cells relative to diagnosis [0–1]. Myeloma plasma cells express
/// CD38 uniformly and strongly (Lin 2004) [H]; loss under daratumumab is not modelled.
pub const CD38_DENSITY: f64 = 1.0;

/// Myelosuppression hazard that quiescent haematopoietic stem cells (and the direct kill of
/// proliferating precursors in the blood compartments) tolerate [1/h]: only the excess kills
/// them. Cell-cycle-specific or low-exposure agents (bortezomib, IMiDs, standard-dose
/// alkylators: peak hazards ≤ 0.05/h in drugs.toml) spare the stem-cell pool and act through
/// progenitor death on the lattice; high-dose melphalan (Mel200 peak ~1/h) is myeloablative,
/// which is why it needs a stem-cell graft (MODEL.md §3a) [L].
pub const STEM_SPARING_PER_H: f64 = 0.05;

/// Per-step drug action on the cell rules (probabilities per step, multipliers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellDrugStep {
    /// Probability per step that a myeloma cell dies of the drugs [0–1].
    pub p_mm_kill: f32,
    /// Probability that a myeloma division is blocked [0–1].
    pub mm_block: f32,
    /// Multiplier on osteoclast formation and resorption [0–1] (1 − oc_inhibition).
    pub oc_keep: f32,
    /// Probability per step that an osteoclast undergoes drug-induced apoptosis [0–1].
    pub p_oc_die: f32,
    /// Multiplier on osteoblast recruitment [≥ 0] (max(0, 1 + ob_stimulation)).
    pub ob_factor: f32,
    /// Multiplier on immune-effector killing [≥ 0] (max(0, 1 + immune_activation)).
    pub immune_factor: f32,
    /// Probability per step that a haematopoietic progenitor cell dies [0–1].
    pub p_haem_die: f32,
    /// Probability per step that a haematopoietic stem cell dies [0–1] (myeloablation).
    pub p_stem_die: f32,
}

impl Default for CellDrugStep {
    fn default() -> Self {
        Self::NEUTRAL
    }
}

impl CellDrugStep {
    /// No drug on board.
    pub const NEUTRAL: CellDrugStep = CellDrugStep {
        p_mm_kill: 0.0,
        mm_block: 0.0,
        oc_keep: 1.0,
        p_oc_die: 0.0,
        ob_factor: 1.0,
        immune_factor: 1.0,
        p_haem_die: 0.0,
        p_stem_die: 0.0,
    };

    /// From the combined effects, the NK availability (NK cells relative to before
    /// treatment, 0–1) and the step [h].
    pub fn new(fx: &DrugEffects, nk_availability: f64, dt_h: f64) -> Self {
        let p = |rate: f64| (-(-rate.max(0.0) * dt_h).exp_m1()) as f32;
        let nk = (1.0 - CD38_NK_DEPENDENT) + CD38_NK_DEPENDENT * nk_availability.clamp(0.0, 1.0);
        Self {
            p_mm_kill: p(fx.mm_kill_per_h + fx.cd38_kill_per_h * CD38_DENSITY * nk),
            mm_block: fx.mm_antiproliferation.clamp(0.0, 1.0) as f32,
            oc_keep: (1.0 - fx.oc_inhibition).clamp(0.0, 1.0) as f32,
            p_oc_die: p(fx.oc_apoptosis_per_h),
            ob_factor: (1.0 + fx.ob_stimulation).max(0.0) as f32,
            immune_factor: (1.0 + fx.immune_activation).max(0.0) as f32,
            p_haem_die: p(fx.myelosuppression_per_h),
            p_stem_die: p(fx.myelosuppression_per_h - STEM_SPARING_PER_H),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_without_drugs() {
        assert_eq!(
            CellDrugStep::new(&DrugEffects::default(), 1.0, 1.0),
            CellDrugStep::NEUTRAL
        );
        let fx = DrugEffects {
            cd38_kill_per_h: 0.02,
            ..Default::default()
        };
        // Without NK cells only the NK-independent half of the CD38 kill remains.
        let full = CellDrugStep::new(&fx, 1.0, 1.0).p_mm_kill;
        let none = CellDrugStep::new(&fx, 0.0, 1.0).p_mm_kill;
        assert!((none / full - 0.5).abs() < 0.01, "{none} {full}");
    }
}
