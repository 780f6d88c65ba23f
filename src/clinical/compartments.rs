//! Blood compartments (stage `advance_compartments`): haemoglobin, neutrophils, platelets.
//!
//! Each lineage is a Friberg-type chain (Friberg et al. 2002, MODEL.md §1.6): a marrow
//! precursor compartment fed by the lattice's normal marrow output `p` (haematopoietic cells
//! relative to their healthy reference) times a feedback `(C₀/C)^γ` (capped at
//! `FEEDBACK_MAX`: EPO/G-CSF/TPO respond to low counts), three transit compartments
//! (k_tr = 4/MTT), and the circulating pool with first-order loss:
//!
//! ```text
//! dP/dt  = k_tr·(p·fb − P)      dT_i/dt = k_tr·(T_{i−1} − T_i)      dC/dt = k_c·(C₀·T₃ − C)
//! ```
//!
//! (normalised: P = T_i = 1 and C = C₀ in health). Platelets replace the single circulating
//! pool by [`PLATELET_AGE_STAGES`] ageing stages (senescent removal after a near-fixed
//! lifespan) and add the fixed platelet requirement ([`PLATELET_FIXED_REQUIREMENT_PER_H`]),
//! which makes counts fall faster once they are low. So C₀·p^(1/(1+γ)) is the steady state for a
//! sustained marrow output p. Integrated with RK4 in hours (k·dt ≤ 0.1 → stable, accurate).
//!
//! | lineage | C₀ | MTT (marrow) | circulating loss | source |
//! |---|---|---|---|---|
//! | red cells (Hb) | 14.5 g/dL | 7 d | 1/120 d (lifespan 120 d, exponential approx.) | MODEL.md §2c [H] |
//! | neutrophils | 4.0 ×10⁹/L | 6 d | ln2/7 h | MODEL.md §2c (transit 5–7 d, t½ ~7 h) [M] |
//! | platelets | 250 ×10⁹/L | 5 d | ageing chain, 8 stages, mean 8.5 d | MODEL.md §2c (lifespan 7–10 d) [H]; ICSH 1977 (near-linear survival); megakaryocyte maturation ~5 d [M] |
//!
//! γ = 0.17 (Friberg 2002: 0.16–0.2 for neutrophils; used for all lineages [L]).
//!
//! Reads: marrow output. Writes: its own state.

/// Feedback exponent γ (Friberg 2002) [M for neutrophils, L for others].
pub const GAMMA: f64 = 0.17;
/// Myeloma marrow fraction that halves *erythroid* output on top of crowding [0–1]: myeloma
/// cells kill erythroblasts through Fas-L/TRAIL (Silvestris 2002) and IL-6 raises hepcidin
/// (iron-restricted erythropoiesis; Sharma 2008), so anaemia (73 % at diagnosis) is far more
/// common than neutropenia or thrombocytopenia (MODEL.md §2a). Erythroid output is
/// p/(1 + f_MM/`ERY_MM_HALF`). 1.0 is calibrated so that Hb is < 10 g/dL in most untreated
/// runs by the time marrow plasma cells reach ~50–60 % (docs/MODEL.md §5) [L, calibrated].
pub const ERY_MM_HALF: f64 = 1.0;
/// Largest feedback multiplier on production (marrow can at most ~3× its output) [L].
pub const FEEDBACK_MAX: f64 = 3.0;

/// Ageing stages of circulating platelets [count]. Platelets are removed by senescence
/// after a fairly fixed lifespan (⁵¹Cr/¹¹¹In survival curves are nearly linear, mean life
/// span 8–10 d: ICSH 1977 panel, J Nucl Med 18:1; Leeksma & Cohen 1956), not at a constant
/// rate: a chain of 8 ageing compartments (gamma-distributed lifespan, CV 0.35) reproduces
/// the near-linear fall of the count once production stops (after Mel200: < 20 × 10⁹/L by
/// day +7 to +10), which a single exponential pool (CV 1) cannot — it keeps a third of the
/// platelets for a full lifespan [M].
pub const PLATELET_AGE_STAGES: usize = 8;
/// Mean platelet lifespan in the circulation [h]: 8.5 d (MODEL.md §2c: 7–10 d) [H].
pub const PLATELET_LIFESPAN_H: f64 = 8.5 * 24.0;

/// Fixed platelet requirement for endothelial support [10⁹/L per h]: ~7.1 × 10⁹/L/day are
/// consumed independent of the count (Hanson & Slichter 1985, Blood 66:1105, patients with
/// marrow hypoplasia) [H]. At normal counts it is part of the measured 8.5-d mean lifespan;
/// below normal it removes a growing share: extra hazard F/C − F/C₀ on every circulating
/// stage (zero in health, ≈ 0.33/day at 20 × 10⁹/L), capped at [`FIXED_LOSS_HAZARD_MAX`].
pub const PLATELET_FIXED_REQUIREMENT_PER_H: f64 = 7.1 / 24.0;
/// Largest extra hazard from a fixed requirement [1/h] (keeps RK4 with dt ≤ 4 h stable as the
/// count approaches zero; reached only below ~0.6 × 10⁹/L) [numerical].
pub const FIXED_LOSS_HAZARD_MAX: f64 = 0.5;

/// One lineage's chain: [P, T1, T2, T3] in the marrow, then `n` circulating ageing stages
/// q₁…q_n (each normalised to 1 in health; the level is `normal`·mean(q)).
#[derive(Clone, Debug, PartialEq)]
pub struct Lineage {
    /// Normal circulating level (units of the lineage).
    pub normal: f64,
    k_tr: f64,
    /// Transfer rate between circulating stages [1/h] (n / mean lifespan).
    k_c: f64,
    /// Count-independent consumption [level units per h] (see
    /// [`PLATELET_FIXED_REQUIREMENT_PER_H`]); 0 for none.
    fixed_loss: f64,
    /// [P, T1, T2, T3, q₁ … q_n].
    y: Vec<f64>,
}

impl Lineage {
    /// Treatment hook (issue 4): multiplies the marrow precursor pool and the first
    /// `stages − 1` transit compartments by `keep` (cytotoxic kill of proliferating precursors;
    /// the later transit stages are post-mitotic and survive).
    pub fn kill_precursors(&mut self, keep: f64, stages: usize) {
        for y in self.y.iter_mut().take(stages.min(4)) {
            *y *= keep.clamp(0.0, 1.0);
        }
    }

    /// Treatment hook (issue 4): extra production into the precursor pool over `dt_h`, as a
    /// fraction `extra` of the healthy rate (e.g. erythropoietin: `extra = E·p`).
    pub fn stimulate(&mut self, dt_h: f64, extra: f64) {
        self.y[0] += self.k_tr * extra.max(0.0) * dt_h;
    }

    /// A healthy lineage with normal level `normal`, marrow transit `mtt_h` and a single
    /// circulating pool with first-order loss rate `k_c` [1/h] (exponential lifespan).
    pub fn new(normal: f64, mtt_h: f64, k_c: f64) -> Self {
        Self::with_ageing(normal, mtt_h, 1.0 / k_c, 1)
    }

    /// A healthy lineage whose circulating cells pass `stages` ageing compartments with mean
    /// total lifespan `lifespan_h` (gamma-distributed, CV 1/√stages).
    pub fn with_ageing(normal: f64, mtt_h: f64, lifespan_h: f64, stages: usize) -> Self {
        let n = stages.max(1);
        Self {
            normal,
            k_tr: 4.0 / mtt_h,
            k_c: n as f64 / lifespan_h,
            fixed_loss: 0.0,
            y: vec![1.0; 4 + n],
        }
    }

    /// Adds a count-independent consumption of `per_h` [level units per h] (see
    /// [`PLATELET_FIXED_REQUIREMENT_PER_H`]).
    pub fn with_fixed_loss(mut self, per_h: f64) -> Self {
        self.fixed_loss = per_h.max(0.0);
        self
    }

    /// Circulating level.
    pub fn level(&self) -> f64 {
        let q = &self.y[4..];
        self.normal * q.iter().sum::<f64>() / q.len() as f64
    }

    fn level_of(&self, y: &[f64]) -> f64 {
        let q = &y[4..];
        self.normal * q.iter().sum::<f64>() / q.len() as f64
    }

    fn deriv(&self, y: &[f64], p: f64, d: &mut [f64]) {
        let c = self.level_of(y);
        let fb = (self.normal / c.max(1e-9 * self.normal))
            .powf(GAMMA)
            .min(FEEDBACK_MAX);
        d[0] = self.k_tr * (p * fb - y[0]);
        for i in 1..4 {
            d[i] = self.k_tr * (y[i - 1] - y[i]);
        }
        // Circulating stages: q₁ is fed by the last marrow stage; cells age through q_n and
        // leave the blood (dq_i/dt = k_c·(q_{i−1} − q_i), q₀ = T₃).
        let mu = if self.fixed_loss > 0.0 {
            (self.fixed_loss / c.max(1e-12) - self.fixed_loss / self.normal)
                .clamp(0.0, FIXED_LOSS_HAZARD_MAX)
        } else {
            0.0
        };
        for i in 4..y.len() {
            d[i] = self.k_c * (y[i - 1] - y[i]) - mu * y[i];
        }
    }

    /// One RK4 step of `dt_h` hours with marrow output `p` (1 = healthy).
    pub fn advance(&mut self, dt_h: f64, p: f64) {
        let n = self.y.len();
        let y0 = self.y.clone();
        let (mut k1, mut k2, mut k3, mut k4) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut tmp = vec![0.0; n];
        self.deriv(&y0, p, &mut k1);
        for i in 0..n {
            tmp[i] = y0[i] + dt_h / 2.0 * k1[i];
        }
        self.deriv(&tmp, p, &mut k2);
        for i in 0..n {
            tmp[i] = y0[i] + dt_h / 2.0 * k2[i];
        }
        self.deriv(&tmp, p, &mut k3);
        for i in 0..n {
            tmp[i] = y0[i] + dt_h * k3[i];
        }
        self.deriv(&tmp, p, &mut k4);
        for i in 0..n {
            self.y[i] = (y0[i] + dt_h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])).max(0.0);
        }
    }
}

/// The three blood lineages.
#[derive(Clone, Debug, PartialEq)]
pub struct Blood {
    /// Haemoglobin [g/dL].
    pub hb: Lineage,
    /// Absolute neutrophil count [10⁹/L].
    pub anc: Lineage,
    /// Platelets [10⁹/L].
    pub platelets: Lineage,
}

impl Default for Blood {
    fn default() -> Self {
        Self {
            hb: Lineage::new(14.5, 7.0 * 24.0, 1.0 / (120.0 * 24.0)),
            anc: Lineage::new(4.0, 6.0 * 24.0, std::f64::consts::LN_2 / 7.0),
            platelets: Lineage::with_ageing(
                250.0,
                5.0 * 24.0,
                PLATELET_LIFESPAN_H,
                PLATELET_AGE_STAGES,
            )
            .with_fixed_loss(PLATELET_FIXED_REQUIREMENT_PER_H),
        }
    }
}

impl Blood {
    /// Healthy lineages of a patient whose normal Hb is `hb_factor` × the default 14.5 g/dL
    /// (`PatientTraits::hb_factor`; the Hb dynamics are invariant to this scale).
    pub fn for_patient(hb_factor: f64) -> Self {
        let mut b = Self::default();
        b.hb.normal *= hb_factor;
        b
    }

    /// Advances all lineages by `dt_h` with marrow output `p`.
    pub fn advance(&mut self, dt_h: f64, p: f64) {
        self.advance_with_myeloma(dt_h, p, 0.0);
    }

    /// As [`Self::advance`], with the erythroid suppression of a myeloma marrow fraction
    /// `mm_fraction` [0–1] (see [`ERY_MM_HALF`]).
    pub fn advance_with_myeloma(&mut self, dt_h: f64, p: f64, mm_fraction: f64) {
        self.hb
            .advance(dt_h, p / (1.0 + mm_fraction.max(0.0) / ERY_MM_HALF));
        self.anc.advance(dt_h, p);
        self.platelets.advance(dt_h, p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_is_steady_and_suppression_lowers_counts() {
        let mut b = Blood::default();
        for _ in 0..1000 {
            b.advance(1.0, 1.0);
        }
        assert!((b.hb.level() - 14.5).abs() < 1e-9);
        // 1500 d ≈ 12 red-cell lifespans: at the steady state.
        for _ in 0..(1500 * 24) {
            b.advance(1.0, 0.5);
        }
        // Steady state C₀·p^(1/(1+γ)) = 14.5·0.5^0.855 ≈ 8.0 g/dL.
        let want = 14.5 * 0.5f64.powf(1.0 / 1.17);
        assert!((b.hb.level() - want).abs() < 0.1, "{}", b.hb.level());
        // Neutrophils fall within days of a marrow shutdown (t½ 7 h after ~6 d transit).
        let mut b = Blood::default();
        for _ in 0..(10 * 24) {
            b.advance(1.0, 0.0);
        }
        assert!(b.anc.level() < 1.0, "{}", b.anc.level());
        // Erythroid suppression by myeloma: only Hb falls at full marrow output.
        let mut b = Blood::default();
        for _ in 0..(1500 * 24) {
            b.advance_with_myeloma(1.0, 1.0, 0.5);
        }
        let want = 14.5 * (1.0f64 / 1.5).powf(1.0 / 1.17);
        assert!((b.hb.level() - want).abs() < 0.1, "{}", b.hb.level());
        assert!((b.anc.level() - 4.0).abs() < 1e-6);
    }

    /// Platelets: steady in health despite the fixed requirement; after production stops
    /// they fall near-linearly (ageing) and below 20 × 10⁹/L within 10 d, whereas a single
    /// exponential pool with the same mean lifespan is still > 60 then.
    #[test]
    fn platelets_age_and_fall_below_20_within_ten_days_of_aplasia() {
        let mut b = Blood::default();
        for _ in 0..(60 * 24) {
            b.advance(1.0, 1.0);
        }
        assert!(
            (b.platelets.level() - 250.0).abs() < 1e-6,
            "{}",
            b.platelets.level()
        );
        let mut expo = Lineage::new(250.0, 5.0 * 24.0, 1.0 / PLATELET_LIFESPAN_H);
        b.platelets.kill_precursors(0.0, 4);
        expo.kill_precursors(0.0, 4);
        let mut day_below = None;
        for h in 0..(14 * 24) {
            b.advance(1.0, 0.0);
            expo.advance(1.0, 0.0);
            if day_below.is_none() && b.platelets.level() < 20.0 {
                day_below = Some((h as f64 / 24.0, expo.level()));
            }
        }
        let (d, expo_then) = day_below.expect("never below 20");
        assert!((5.0..=10.0).contains(&d), "below 20 after {d} d");
        assert!(expo_then > 60.0, "exponential pool {expo_then} on day {d}");
    }
}
