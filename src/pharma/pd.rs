//! Pharmacodynamics: Emax/Hill effects of drug concentrations on named [`Target`]s, combined
//! across drugs per target (Bliss independence for fractional targets, addition for rates and
//! relative changes — see [`Target::combination`]).
//!
//! Reads: drug definitions and concentrations [nM]. Writes: a [`DrugEffects`] value.

use super::drug::{Combination, Drug, Effect, Target};

/// E(C) = emax · Cʰ / (EC50ʰ + Cʰ) for C ≥ 0 [nM] (0 for C ≤ 0 or non-finite C).
pub fn hill(c_nm: f64, e: &Effect) -> f64 {
    if c_nm.is_nan() || c_nm <= 0.0 {
        return 0.0;
    }
    if c_nm.is_infinite() {
        return e.emax;
    }
    // (C/EC50)^h / (1 + (C/EC50)^h): stable for huge and tiny ratios.
    let r = (c_nm / e.ec50_nm).powf(e.hill);
    if r.is_infinite() {
        e.emax
    } else {
        e.emax * r / (1.0 + r)
    }
}

/// Combined drug effect on every target, in the target's unit ([`Target::unit`]). All zero
/// when no drug is present. Consumers: see the table on [`Target`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DrugEffects {
    /// Extra myeloma death rate [1/h].
    pub mm_kill_per_h: f64,
    /// Fraction of myeloma divisions blocked [0–1].
    pub mm_antiproliferation: f64,
    /// Fraction of osteoclast formation/resorption blocked [0–1].
    pub oc_inhibition: f64,
    /// Extra osteoclast death rate [1/h].
    pub oc_apoptosis_per_h: f64,
    /// Relative change of osteoblast differentiation (multiply by max(0, 1 + E)).
    pub ob_stimulation: f64,
    /// Relative change of T/NK effector killing (multiply by max(0, 1 + E)).
    pub immune_activation: f64,
    /// CD38-dependent kill rate of CD38+ myeloma cells at full CD38 and NK availability [1/h].
    pub cd38_kill_per_h: f64,
    /// Extra NK-cell death rate [1/h].
    pub nk_depletion_per_h: f64,
    /// Extra death rate of proliferating haematopoietic progenitors [1/h].
    pub myelosuppression_per_h: f64,
    /// Relative increase of erythroid output (multiply by 1 + E).
    pub erythropoiesis: f64,
    /// Extra Treg death rate [1/h].
    pub treg_depletion_per_h: f64,
}

impl DrugEffects {
    /// The effect on `target`.
    pub fn get(&self, target: Target) -> f64 {
        match target {
            Target::MmKill => self.mm_kill_per_h,
            Target::MmAntiproliferation => self.mm_antiproliferation,
            Target::OcInhibition => self.oc_inhibition,
            Target::OcApoptosis => self.oc_apoptosis_per_h,
            Target::ObStimulation => self.ob_stimulation,
            Target::ImmuneActivation => self.immune_activation,
            Target::Cd38Kill => self.cd38_kill_per_h,
            Target::NkDepletion => self.nk_depletion_per_h,
            Target::Myelosuppression => self.myelosuppression_per_h,
            Target::Erythropoiesis => self.erythropoiesis,
            Target::TregDepletion => self.treg_depletion_per_h,
        }
    }

    fn slot(&mut self, target: Target) -> &mut f64 {
        match target {
            Target::MmKill => &mut self.mm_kill_per_h,
            Target::MmAntiproliferation => &mut self.mm_antiproliferation,
            Target::OcInhibition => &mut self.oc_inhibition,
            Target::OcApoptosis => &mut self.oc_apoptosis_per_h,
            Target::ObStimulation => &mut self.ob_stimulation,
            Target::ImmuneActivation => &mut self.immune_activation,
            Target::Cd38Kill => &mut self.cd38_kill_per_h,
            Target::NkDepletion => &mut self.nk_depletion_per_h,
            Target::Myelosuppression => &mut self.myelosuppression_per_h,
            Target::Erythropoiesis => &mut self.erythropoiesis,
            Target::TregDepletion => &mut self.treg_depletion_per_h,
        }
    }

    /// Adds `w` × every target of `other` (time averaging over a step).
    pub fn add_scaled(&mut self, other: &DrugEffects, w: f64) {
        for t in Target::ALL {
            *self.slot(t) += w * other.get(t);
        }
    }

    /// Adds one drug's effect `e` on `target` by the target's combination rule.
    pub fn combine(&mut self, target: Target, e: f64) {
        let s = self.slot(target);
        *s = match target.combination() {
            Combination::Bliss => 1.0 - (1.0 - *s) * (1.0 - e),
            Combination::Additive => *s + e,
        };
    }
}

/// Combined effects of `drugs[i]` at PD-driving concentration `concentrations_nm[i]` [nM]
/// (plasma, or effect site for drugs with `ke0_per_h`). Drugs are combined in index order,
/// so the result is deterministic. Slices must have equal length.
pub fn effects(drugs: &[Drug], concentrations_nm: &[f64]) -> DrugEffects {
    debug_assert_eq!(drugs.len(), concentrations_nm.len());
    let mut out = DrugEffects::default();
    for (d, &c) in drugs.iter().zip(concentrations_nm) {
        if c <= 0.0 {
            continue;
        }
        for e in &d.effects {
            out.combine(e.target, hill(c, e));
        }
    }
    out
}
