//! Patient-level traits of the whole-body compartments (read at set-up by the model and by
//! cohort studies; no stage of its own).
//!
//! Real patients with the same marrow differ in their kidneys, in how much immunoglobulin and
//! free light chain (FLC) their clone secretes, and in the clone's isotype. Those differences,
//! not the marrow alone, spread the CRAB features at diagnosis (MODEL.md §5: Ca ≥ 11 mg/dL in
//! 13 %, creatinine ≥ 2 mg/dL in 19 % — Kyle et al. 2003). A scenario chooses:
//! - `variability = "typical"` (default): the deterministic typical patient — normal kidneys
//!   (r₀ = 1), the scenario's secretion rates and isotype;
//! - `variability = "cohort"`: one patient drawn from the documented distributions below with
//!   the keyed stream `(seed, Systemic, step 0, unit PATIENT_KEY + index)`, so each seed is a
//!   different, reproducible patient (independent of threads and of every other stream).
//!
//! | Trait | Distribution | Source |
//! |---|---|---|
//! | renal reserve r₀ (GFR / normal) | eGFR ~ Normal(78, 18) mL/min/1.73 m² ÷ 100, clamped to [0.3, 1] | age-66 eGFR (NHANES 1999–2004, Coresh et al. 2007 JAMA 298:2038: mean ~75–80 at 60–69 y, ~20 % < 60) [M] |
//! | isotype | IgG 57 %, IgA 23 %, light chain 20 % | Kyle 2003 (IgG 52 %, IgA 21 %, LC 16–20 %, IgD 2 % counted with IgA: short t½; non-secretory counted with IgG) [H] |
//! | M-protein secretion × | log-normal, median 1, σ_ln 0.4 | Salmon & Smith 1970: 10–50 pg/cell/day between patients (a 5-fold range ≈ ±2σ) [M] |
//! | FLC secretion × | log-normal, median 1, σ_ln 1.0 | involved FLC at diagnosis spans ~2 decades within an isotype (Dispenzieri et al. 2009 Leukemia 23:215; Bradwell 2003) [M] |
//! | normal Hb (× of the model's 14.5 g/dL) | men 58 %: Normal(15.0, 1.0) g/dL; women: Normal(13.6, 0.9) g/dL | men:women ≈ 1.4:1 among new myeloma diagnoses (SEER; Kyle 2003 similar) [M]; healthy Hb at 60–69 y (Beutler & Waalen 2006 Blood 107:1747, NHANES III / Scripps–Kaiser) [M] |
//!
//! The normal-Hb trait scales the red-cell lineage's normal level; the lineage's dynamics are
//! invariant to that scale (its feedback reads level/normal), so a patient's Hb trajectory is
//! exactly `hb_factor` × the typical patient's on the same marrow.
//!
//! Reads: scenario numbers, the master seed. Writes: nothing.

use crate::rng::{self, Purpose};
use crate::scenario::Isotype;
use rand::Rng;

/// Unit key of the patient-trait stream (ASCII "PATIENT"); cohort member `i` uses
/// `PATIENT_KEY + i`.
pub const PATIENT_KEY: u64 = 0x0050_4154_4945_4E54;
/// Mean eGFR at the median age at diagnosis (66 y) [mL/min/1.73 m²] (Coresh 2007) [M].
pub const EGFR_MEAN: f64 = 78.0;
/// Between-person sd of eGFR at that age [mL/min/1.73 m²] (Coresh 2007) [M].
pub const EGFR_SD: f64 = 18.0;
/// Normal eGFR [mL/min/1.73 m²] (r = 1) [H].
pub const EGFR_NORMAL: f64 = 100.0;
/// Lowest drawn renal reserve (eGFR 30: CKD stage 4 patients are rare among new myeloma
/// diagnoses without myeloma kidney) [L].
pub const RENAL_RESERVE_MIN: f64 = 0.3;
/// Isotype frequencies (IgG, IgA, light chain) (Kyle 2003; MODEL.md §2a) [H].
pub const ISOTYPE_FREQ: [f64; 3] = [0.57, 0.23, 0.20];
/// Between-patient σ of ln(M-protein secretion) (Salmon & Smith 1970) [M].
pub const M_SECRETION_SIGMA_LN: f64 = 0.4;
/// Between-patient σ of ln(FLC secretion) (Dispenzieri 2009) [M].
pub const FLC_SECRETION_SIGMA_LN: f64 = 1.0;

/// Share of men among newly diagnosed patients (men:women ≈ 1.4:1; SEER) [M].
pub const MALE_SHARE: f64 = 0.58;
/// Normal Hb of men and women aged 60–69 years, mean and between-person sd [g/dL]
/// (Beutler & Waalen 2006) [M].
pub const NORMAL_HB_MEN: (f64, f64) = (15.0, 1.0);
/// See [`NORMAL_HB_MEN`].
pub const NORMAL_HB_WOMEN: (f64, f64) = (13.6, 0.9);
/// The typical patient's normal Hb [g/dL]: the red-cell lineage's default level
/// (`clinical::compartments::Blood`), which `hb_factor` multiplies.
pub const NORMAL_HB_TYPICAL: f64 = 14.5;
/// Drawn normal Hb kept within this range [g/dL] (±3 sd of the pooled distribution).
pub const NORMAL_HB_RANGE: (f64, f64) = (11.0, 18.0);

/// One patient's whole-body traits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PatientTraits {
    /// Clone isotype.
    pub isotype: Isotype,
    /// Baseline renal function relative to normal GFR, (0, 1] (kidneys recover to it).
    pub renal_reserve: f64,
    /// Multiplier of the scenario's M-protein secretion per cell.
    pub m_factor: f64,
    /// Multiplier of the scenario's FLC secretion per cell.
    pub flc_factor: f64,
    /// This patient's normal Hb relative to [`NORMAL_HB_TYPICAL`].
    pub hb_factor: f64,
}

impl PatientTraits {
    /// The deterministic typical patient: normal kidneys, scenario secretion and `isotype`.
    pub fn typical(isotype: Isotype) -> Self {
        Self {
            isotype,
            renal_reserve: 1.0,
            m_factor: 1.0,
            flc_factor: 1.0,
            hb_factor: 1.0,
        }
    }

    /// Cohort member `index` of master seed `seed`, drawn from the module's distributions.
    pub fn cohort(seed: u64, index: u64) -> Self {
        let mut s = rng::stream(seed, Purpose::Systemic, 0, PATIENT_KEY.wrapping_add(index));
        // Uniform in (0, 1) from the top 53 bits of one draw.
        let mut uniform = move || ((s.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        // Standard normal by Box–Muller from two uniforms.
        let normal = |uniform: &mut dyn FnMut() -> f64| {
            let u1 = uniform();
            let u2 = uniform();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let egfr = EGFR_MEAN + EGFR_SD * normal(&mut uniform);
        let renal_reserve = (egfr / EGFR_NORMAL).clamp(RENAL_RESERVE_MIN, 1.0);
        let m_factor = (M_SECRETION_SIGMA_LN * normal(&mut uniform)).exp();
        let flc_factor = (FLC_SECRETION_SIGMA_LN * normal(&mut uniform)).exp();
        let pick = uniform();
        let isotype = if pick < ISOTYPE_FREQ[0] {
            Isotype::IgG
        } else if pick < ISOTYPE_FREQ[0] + ISOTYPE_FREQ[1] {
            Isotype::IgA
        } else {
            Isotype::LightChain
        };
        // Drawn after the traits above so that adding it left their values unchanged.
        let (mean, sd) = if uniform() < MALE_SHARE {
            NORMAL_HB_MEN
        } else {
            NORMAL_HB_WOMEN
        };
        let hb = (mean + sd * normal(&mut uniform)).clamp(NORMAL_HB_RANGE.0, NORMAL_HB_RANGE.1);
        Self {
            isotype,
            renal_reserve,
            m_factor,
            flc_factor,
            hb_factor: hb / NORMAL_HB_TYPICAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cohort draws are reproducible and follow their distributions: over 4000 members the
    /// isotype shares are within 4 standard errors of `ISOTYPE_FREQ`, the mean renal reserve
    /// within 0.02 of the clamped-normal mean (~0.77), and the ln-FLC factor has sd 1 ± 0.05.
    #[test]
    fn cohort_follows_its_distributions() {
        assert_eq!(PatientTraits::cohort(3, 7), PatientTraits::cohort(3, 7));
        assert_ne!(PatientTraits::cohort(3, 7), PatientTraits::cohort(3, 8));
        let n = 4000;
        let v: Vec<PatientTraits> = (0..n).map(|i| PatientTraits::cohort(11, i)).collect();
        for (k, iso) in [Isotype::IgG, Isotype::IgA, Isotype::LightChain]
            .into_iter()
            .enumerate()
        {
            let p = v.iter().filter(|t| t.isotype == iso).count() as f64 / n as f64;
            let q = ISOTYPE_FREQ[k];
            let se = (q * (1.0 - q) / n as f64).sqrt();
            assert!((p - q).abs() < 4.0 * se, "{iso:?}: {p} vs {q}");
        }
        let r = v.iter().map(|t| t.renal_reserve).sum::<f64>() / n as f64;
        assert!((r - 0.77).abs() < 0.02, "mean renal reserve {r}");
        assert!(
            v.iter()
                .all(|t| (RENAL_RESERVE_MIN..=1.0).contains(&t.renal_reserve))
        );
        let l: Vec<f64> = v.iter().map(|t| t.flc_factor.ln()).collect();
        let m = l.iter().sum::<f64>() / n as f64;
        let sd = (l.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(
            (sd - 1.0).abs() < 0.05 && m.abs() < 0.07,
            "ln FLC factor {m} ± {sd}"
        );
        // Normal Hb: mixture mean 0.58·15.0 + 0.42·13.6 = 14.41 g/dL, sd ≈ 1.2 (se ≈ 0.02).
        let hb: Vec<f64> = v.iter().map(|t| t.hb_factor * NORMAL_HB_TYPICAL).collect();
        let mean = hb.iter().sum::<f64>() / n as f64;
        assert!((mean - 14.41).abs() < 0.08, "mean normal Hb {mean}");
        let below_13 = hb.iter().filter(|&&h| h < 13.0).count() as f64 / n as f64;
        // P(Hb < 13) = 0.58·Φ(−2) + 0.42·Φ(−0.67) ≈ 0.013 + 0.105 = 0.118.
        assert!(
            (below_13 - 0.118).abs() < 0.02,
            "normal Hb < 13 in {below_13}"
        );
    }
}
