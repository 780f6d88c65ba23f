//! Serum calcium and creatinine (stage `advance_compartments`).
//!
//! **Calcium.** Net bone resorption releases calcium: a lattice site of bone is
//! `ml_per_site` mL of bone tissue in the patient (see `scale`), holding
//! `BONE_CA_MG_PER_ML` mg of calcium. The excess above the set point, ΔCa [mg/dL], follows
//! `dΔ/dt = J/V_ECF − k·(1 + r)/2·Δ`, J the net release [mg/h] (bone lost minus bone
//! formed; Δ floored at 0), V_ECF = 0.2 L/kg extracellular fluid,
//! r the renal function. Normal 9.5 mg/dL (8.5–10.5). `CA_CLEARANCE_PER_H` = k at normal
//! kidneys (time constant ~10 h) [L]; the clearance is **renal only** and scales with r
//! (filtered calcium load ∝ GFR; with PTH suppressed by hypercalcaemia, tubular reabsorption
//! cannot adapt). Skeletal uptake is not a second clearance term: the skeleton's calcium
//! uptake is bone formation, already subtracted in J — counting it in k as well would count
//! it twice, and in myeloma formation is suppressed. Consequence (MODEL.md §5): one
//! k·r sensitivity makes hypercalcaemia concentrate in patients with reduced renal
//! reserve or myeloma kidney, as observed clinically (hypercalcaemia and renal failure
//! co-occur). Sensitivity: a sustained net release of 500 mg Ca/day (≈ 1 mL bone/day)
//! raises calcium by 1.5 mg/dL at r = 1 and by 3 mg/dL at r = 0.5.
//!
//! **Why J is smoothed.** The region is a sample of a skeleton with ~10⁶ remodeling units at
//! random phases, whose summed resorption and formation are steady and balance in health;
//! the region holds ~1 unit at a time, and each resorbed site is released in one step. Fed
//! raw, one resorbing unit (or one step's sites) would be scaled up as if every unit in the
//! patient resorbed in synchrony — a region-size artefact that fakes hypercalcaemia
//! (12.8 mg/dL on a 100 × 100 healthy lattice). J is therefore the region's net bone-loss
//! rate averaged over the past `BONE_FLUX_WINDOW_H` (an exponential moving average): by
//! ergodicity the time average of one unit's flux estimates the ensemble average over many
//! asynchronous units, and a window of about one resorption phase (~4 weeks) removes the
//! single-unit spike while a sustained myeloma-driven imbalance (months) passes through.
//!
//! **Creatinine.** Light-chain cast nephropathy: renal function r ∈ (0, 1] is injured in
//! proportion to involved FLC above `CAST_THRESHOLD_MG_L` (casts are rare below ~500 mg/L;
//! Hutchison 2012) and by hypercalcaemia above 11 mg/dL, and recovers slowly:
//! `dr/dt = −k_inj·(FLC/500 − 1)⁺·r − k_ca·(Ca − 11)⁺·r + k_rec·(r₀ − r)`, r₀ the patient's
//! renal reserve (baseline GFR / normal; 1 for the typical patient, drawn from the age-66
//! eGFR distribution in a cohort — see `patient`). Each step uses the exact solution with the
//! injury held constant over the step (stable for any dt). Creatinine = 0.9 mg/dL / r
//! (creatinine ∝ 1/GFR at steady production) [M]. Reduced r also slows the clearance of
//! FLC (see `mprotein`) and of excess calcium, which couples the three (light chains →
//! kidney → calcium, as in myeloma kidney with hypercalcaemia).
//!
//! Reads: net bone loss, involved FLC. Writes: its own state.

/// Calcium in bone tissue [mg/mL] (hydroxyapatite ~ 40 % Ca; mineralised bone ~1.2 g
/// mineral/mL of tissue → ~0.48 g Ca/mL, trabecular tissue level) [M].
pub const BONE_CA_MG_PER_ML: f64 = 480.0;
/// Extracellular-fluid volume [L/kg] [H].
pub const ECF_L_PER_KG: f64 = 0.2;
/// Normal serum calcium [mg/dL] [H].
pub const CA_NORMAL_MG_DL: f64 = 9.5;
/// Renal clearance of excess calcium at normal kidneys [1/h] (time constant ~10 h; scaled by
/// renal function r) [L].
pub const CA_CLEARANCE_PER_H: f64 = 0.1;
/// Averaging window of the region's net bone-loss rate before it is scaled to the patient
/// [h] (one resorption phase, 28 d; MODEL.md §2b: resorption lasts ~2–4 weeks) [L].
pub const BONE_FLUX_WINDOW_H: f64 = 28.0 * 24.0;
/// Normal creatinine [mg/dL] [H].
pub const CREATININE_NORMAL_MG_DL: f64 = 0.9;
/// FLC level above which casts form [mg/L] (Hutchison 2012) [M].
pub const CAST_THRESHOLD_MG_L: f64 = 500.0;
/// Injury rate per unit of excess FLC (FLC/500 − 1) [1/h] [L].
pub const CAST_INJURY_PER_H: f64 = 0.002;
/// Injury rate per mg/dL of calcium above 11 [1/h] (hypercalcaemic nephropathy) [L].
pub const CA_INJURY_PER_H: f64 = 0.0005;
/// Renal recovery rate [1/h] (weeks) [L].
pub const RENAL_RECOVERY_PER_H: f64 = 1.0 / (30.0 * 24.0);

/// Calcium and kidney state.
#[derive(Clone, Debug, PartialEq)]
pub struct Chemistry {
    /// Serum calcium above normal [mg/dL].
    pub ca_excess_mg_dl: f64,
    /// Renal function relative to normal (1 = normal).
    pub renal: f64,
    /// Net bone loss averaged over `BONE_FLUX_WINDOW_H` [mL/h] (negative = net formation).
    pub bone_loss_ml_per_h: f64,
    /// Baseline renal function the kidneys recover to, (0, 1].
    pub renal_reserve: f64,
    ecf_dl: f64,
}

impl Chemistry {
    /// A healthy patient of `weight_kg`.
    pub fn new(weight_kg: f64) -> Self {
        Self {
            ca_excess_mg_dl: 0.0,
            renal: 1.0,
            bone_loss_ml_per_h: 0.0,
            renal_reserve: 1.0,
            ecf_dl: ECF_L_PER_KG * weight_kg * 10.0,
        }
    }

    /// The same patient with baseline renal function `r0` ∈ (0, 1] (starts there).
    pub fn with_renal_reserve(mut self, r0: f64) -> Self {
        self.renal_reserve = r0.clamp(0.05, 1.0);
        self.renal = self.renal_reserve;
        self
    }

    /// Serum calcium [mg/dL].
    pub fn calcium_mg_dl(&self) -> f64 {
        CA_NORMAL_MG_DL + self.ca_excess_mg_dl
    }

    /// Serum creatinine [mg/dL].
    pub fn creatinine_mg_dl(&self) -> f64 {
        CREATININE_NORMAL_MG_DL / self.renal
    }

    /// Advances `dt_h` hours with a net bone loss of `bone_ml_per_h` [mL/h] (negative =
    /// net formation) and involved FLC `flc_mg_l`.
    pub fn advance(&mut self, dt_h: f64, bone_ml_per_h: f64, flc_mg_l: f64) {
        // Windowed net flux (see the module notes); formation takes calcium back (excess
        // floored at 0 below).
        let w = -(-dt_h / BONE_FLUX_WINDOW_H).exp_m1();
        self.bone_loss_ml_per_h += w * (bone_ml_per_h - self.bone_loss_ml_per_h);
        let j = self.bone_loss_ml_per_h * BONE_CA_MG_PER_ML; // mg/h
        let k = CA_CLEARANCE_PER_H * self.renal;
        self.ca_excess_mg_dl =
            super::mprotein::exact(self.ca_excess_mg_dl, j / self.ecf_dl, k, dt_h).max(0.0);
        let cast = (flc_mg_l / CAST_THRESHOLD_MG_L - 1.0).max(0.0) * CAST_INJURY_PER_H;
        let hyper = (self.calcium_mg_dl() - 11.0).max(0.0) * CA_INJURY_PER_H;
        // Exact step of dr/dt = −inj·r + k_rec·(r₀ − r) with inj constant over the step.
        let rate = cast + hyper + RENAL_RECOVERY_PER_H;
        let target = RENAL_RECOVERY_PER_H * self.renal_reserve / rate;
        self.renal = (target + (self.renal - target) * (-rate * dt_h).exp()).clamp(0.05, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_without_load_and_injured_by_light_chains() {
        let mut c = Chemistry::new(70.0);
        for _ in 0..1000 {
            c.advance(1.0, 0.0, 20.0);
        }
        assert_eq!(c.calcium_mg_dl(), CA_NORMAL_MG_DL);
        assert_eq!(c.creatinine_mg_dl(), CREATININE_NORMAL_MG_DL);
        for _ in 0..(60 * 24) {
            c.advance(1.0, 0.0, 3000.0);
        }
        assert!(c.creatinine_mg_dl() > 2.0, "{}", c.creatinine_mg_dl());
    }

    /// One step's burst of resorption is spread over the window: a single 0.1-mL release in
    /// one hour raises calcium far less than the raw flux would (≥ 10× less), while a loss
    /// sustained for months reaches the same plateau as the raw flux.
    #[test]
    fn bone_flux_is_windowed() {
        let mut c = Chemistry::new(70.0);
        c.advance(1.0, 0.1, 20.0);
        let raw = 0.1 * BONE_CA_MG_PER_ML / c.ecf_dl; // mg/dL added in 1 h unsmoothed
        assert!(
            c.ca_excess_mg_dl < raw / 10.0,
            "{} vs {raw}",
            c.ca_excess_mg_dl
        );
        let mut c = Chemistry::new(70.0);
        for _ in 0..(365 * 24) {
            c.advance(1.0, 0.002, 20.0);
        }
        let plateau = 0.002 * BONE_CA_MG_PER_ML / c.ecf_dl / CA_CLEARANCE_PER_H;
        assert!((c.ca_excess_mg_dl / plateau - 1.0).abs() < 0.01);
    }

    /// A patient with half the renal reserve starts at creatinine 1.8 mg/dL and, under the
    /// same sustained bone loss, reaches twice the calcium excess (clearance ∝ r).
    #[test]
    fn renal_reserve_sets_creatinine_and_calcium_sensitivity() {
        let mut a = Chemistry::new(70.0);
        let mut b = Chemistry::new(70.0).with_renal_reserve(0.5);
        assert!((b.creatinine_mg_dl() - 1.8).abs() < 1e-12);
        for _ in 0..(200 * 24) {
            a.advance(1.0, 0.002, 20.0);
            b.advance(1.0, 0.002, 20.0);
        }
        assert!((b.renal - 0.5).abs() < 1e-9, "{}", b.renal);
        let ratio = b.ca_excess_mg_dl / a.ca_excess_mg_dl;
        assert!((ratio - 2.0).abs() < 0.01, "{ratio}");
    }
}
