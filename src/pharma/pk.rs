//! Stage `advance_pharmacokinetics`: plasma (and effect-site) drug concentrations.
//!
//! **Model.** Per drug a state of six numbers: SC/oral depot [mg], central [mg], peripheral
//! [mg], the current zero-order infusion rate [mg/h], the running AUC [mg·h/L] and the
//! effect-site concentration [mg/L]:
//!
//! ```text
//! d depot/dt   = −ka·depot
//! d central/dt =  ka·depot − (k10 + k12)·central + k21·periph + R_inf − TM(C)·V1·…
//! d periph/dt  =  k12·central − k21·periph
//! d AUC/dt     =  C,   C = central/V1
//! d Ce/dt      =  ke0·(C − Ce)
//! ```
//!
//! **Linear drugs** (everything but daratumumab) are advanced *exactly*: the system is
//! x' = M·x with the infusion rate carried as a constant state, so x(t+h) = e^{M·h}·x(t). The
//! 6×6 matrix exponential is computed once per step length (scaling and squaring with a
//! 20-term Taylor series after scaling to ‖M·h‖ ≤ 0.5; error ≪ 1e-12) and cached. This is
//! mathematically identical to superposing the single-dose closed forms of [`closed_form`]
//! (tests check both agree), but costs O(1) per step however many doses were given.
//! A step is split where an infusion ends, so infusions are exact too.
//!
//! **Target-mediated drugs** (daratumumab) add a Michaelis–Menten elimination
//! `vmax·burden·C/(km + C)` [mg/h] from the central compartment, whose capacity scales with
//! the target-burden input (CD38+ tumour relative to diagnosis, so the sink shrinks with the
//! tumour). They are advanced with classical RK4, with sub-steps of h ≤ 0.1/(largest rate),
//! where the largest rate bounds ka, k10 + k12, k21, ke0 and vmax/(km·V1).
//!
//! Doses enter at the state's current time (the start of the step in which they are due).
//!
//! Reads: [`PkParams`]. Writes: its own state.

use super::drug::{Drug, PkParams, Route};

const DEPOT: usize = 0;
const CENTRAL: usize = 1;
const PERIPH: usize = 2;
const RATE: usize = 3;
const AUC: usize = 4;
const CE: usize = 5;
const N: usize = 6;

type Mat = [[f64; N]; N];

/// Closed-form single-dose concentration–time curves [mg/L] (linear models). `t` is the time
/// since the dose started [h]; negative `t` gives 0. Used as references in tests and as the
/// documented meaning of the exact propagator.
pub mod closed_form {
    /// Hybrid rate constants (α ≥ β) [1/h] of a two-compartment model from micro-constants.
    pub fn hybrid_rates(k10: f64, k12: f64, k21: f64) -> (f64, f64) {
        let s = k10 + k12 + k21;
        let p = k10 * k21;
        let d = (s * s - 4.0 * p).max(0.0).sqrt();
        ((s + d) / 2.0, (s - d) / 2.0)
    }

    /// Unit-bolus response coefficients: C(t) = (D/V1)·Σ aᵢ·e^{−λᵢ t}. One compartment when
    /// k12 = 0 (a single term).
    pub fn unit_terms(k10: f64, k12: f64, k21: f64) -> Vec<(f64, f64)> {
        if k12 == 0.0 {
            return vec![(1.0, k10)];
        }
        let (a, b) = hybrid_rates(k10, k12, k21);
        vec![((a - k21) / (a - b), a), ((k21 - b) / (a - b), b)]
    }

    /// IV bolus of `dose_mg` (1 or 2 compartments; k12 = 0 → 1 compartment).
    pub fn bolus(dose_mg: f64, v1_l: f64, k10: f64, k12: f64, k21: f64, t: f64) -> f64 {
        if t < 0.0 {
            return 0.0;
        }
        unit_terms(k10, k12, k21)
            .iter()
            .map(|&(c, l)| dose_mg / v1_l * c * (-l * t).exp())
            .sum()
    }

    /// Zero-order infusion of `dose_mg` over `tinf_h`.
    pub fn infusion(
        dose_mg: f64,
        tinf_h: f64,
        v1_l: f64,
        k10: f64,
        k12: f64,
        k21: f64,
        t: f64,
    ) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let r = dose_mg / tinf_h;
        let on = t.min(tinf_h);
        unit_terms(k10, k12, k21)
            .iter()
            .map(|&(c, l)| r / v1_l * c / l * ((-l * (t - on)).exp() - (-l * t).exp()))
            .sum()
    }

    /// First-order absorption (SC/oral) of `dose_mg` with bioavailability `f`: for one
    /// compartment the Bateman function F·D·ka/(V·(ka − k))·(e^{−kt} − e^{−ka·t}).
    #[allow(clippy::too_many_arguments)]
    pub fn absorption(
        dose_mg: f64,
        f: f64,
        ka: f64,
        v1_l: f64,
        k10: f64,
        k12: f64,
        k21: f64,
        t: f64,
    ) -> f64 {
        if t < 0.0 {
            return 0.0;
        }
        unit_terms(k10, k12, k21)
            .iter()
            .map(|&(c, l)| {
                f * dose_mg / v1_l * c * ka / (ka - l) * ((-l * t).exp() - (-ka * t).exp())
            })
            .sum()
    }

    /// Steady-state accumulation ratio of a one-compartment drug dosed every `tau_h`:
    /// 1/(1 − e^{−k·τ}).
    pub fn accumulation_ratio(k: f64, tau_h: f64) -> f64 {
        1.0 / (1.0 - (-k * tau_h).exp())
    }
}

/// Per-drug PK state, advanced once per step.
#[derive(Clone, Debug)]
pub struct PkState {
    params: PkParams,
    /// Molar conversion: nM per mg/L.
    nm_per_mg_l: f64,
    x: [f64; N],
    /// Active infusions: (rate [mg/h], remaining [h]).
    infusions: Vec<(f64, f64)>,
    /// AUC at the last [`PkState::take_auc`] [mg·h/L].
    auc_mark: f64,
    /// Cached propagator e^{M·h} for the last full-step length h.
    cache: Option<(f64, Mat)>,
    /// Total amount given (after bioavailability) [mg].
    given_mg: f64,
}

impl PkState {
    /// An empty body for `drug`.
    pub fn new(drug: &Drug) -> Self {
        Self {
            params: drug.pk.clone(),
            nm_per_mg_l: drug.nm_per_mg_l(),
            x: [0.0; N],
            infusions: Vec::new(),
            auc_mark: 0.0,
            cache: None,
            given_mg: 0.0,
        }
    }

    /// Gives `amount_mg` (the prescribed amount; bioavailability is applied here) by `route`,
    /// starting now.
    pub fn dose(&mut self, amount_mg: f64, route: Route) {
        let f = self.params.bioavailability(route);
        let a = amount_mg * f;
        self.given_mg += a;
        match route {
            Route::IvBolus => self.x[CENTRAL] += a,
            Route::IvInfusion { hours } if hours > 0.0 => self.infusions.push((a / hours, hours)),
            Route::IvInfusion { .. } => self.x[CENTRAL] += a,
            Route::Subcutaneous | Route::Oral => self.x[DEPOT] += a,
        }
    }

    /// Advances `dt_h` hours. `target_burden` scales target-mediated elimination capacity
    /// (1 = target burden at diagnosis; ignored by linear drugs).
    pub fn advance(&mut self, dt_h: f64, target_burden: f64) {
        let mut left = dt_h;
        while left > 0.0 {
            let h = self
                .infusions
                .iter()
                .map(|&(_, rem)| rem)
                .fold(left, f64::min);
            self.x[RATE] = self.infusions.iter().map(|&(r, _)| r).sum();
            if self.params.is_linear() {
                self.propagate_linear(h, h == dt_h);
            } else {
                self.propagate_rk4(h, target_burden.max(0.0));
            }
            for inf in &mut self.infusions {
                inf.1 -= h;
            }
            // An infusion whose remaining time fell to (numerically) zero has ended.
            self.infusions
                .retain(|&(_, rem)| rem > 1e-12 * dt_h.max(1.0));
            left -= h;
            if left <= 1e-12 * dt_h {
                break;
            }
        }
        self.x[RATE] = 0.0;
        for v in &mut self.x[..3] {
            if *v < 0.0 {
                *v = 0.0;
            }
        }
    }

    /// Plasma concentration [mg/L].
    pub fn concentration_mg_l(&self) -> f64 {
        self.x[CENTRAL] / self.params.v1_l
    }

    /// Molar conversion factor [nM per mg/L].
    pub fn nm_per_mg_l(&self) -> f64 {
        self.nm_per_mg_l
    }

    /// Plasma concentration [nM].
    pub fn concentration_nm(&self) -> f64 {
        self.concentration_mg_l() * self.nm_per_mg_l
    }

    /// Concentration driving the PD [nM]: the effect-site concentration when the drug has
    /// `ke0_per_h`, otherwise the plasma concentration.
    pub fn effect_concentration_nm(&self) -> f64 {
        match self.params.ke0_per_h {
            Some(_) => self.x[CE] * self.nm_per_mg_l,
            None => self.concentration_nm(),
        }
    }

    /// Plasma AUC since the start [mg·h/L].
    pub fn auc_mg_h_l(&self) -> f64 {
        self.x[AUC]
    }

    /// Plasma AUC since the previous call (e.g. per cycle) [mg·h/L].
    pub fn take_auc(&mut self) -> f64 {
        let a = self.x[AUC] - self.auc_mark;
        self.auc_mark = self.x[AUC];
        a
    }

    /// Drug still in the body (depot + central + peripheral + infusion not yet delivered) [mg].
    pub fn amount_in_body_mg(&self) -> f64 {
        self.x[DEPOT]
            + self.x[CENTRAL]
            + self.x[PERIPH]
            + self.infusions.iter().map(|&(r, rem)| r * rem).sum::<f64>()
    }

    /// Total amount given after bioavailability [mg].
    pub fn given_mg(&self) -> f64 {
        self.given_mg
    }

    fn generator(&self) -> Mat {
        let p = &self.params;
        let (k10, k12, k21) = p.micro();
        let ke0 = p.ke0_per_h.unwrap_or(0.0);
        let mut m = [[0.0; N]; N];
        m[DEPOT][DEPOT] = -p.ka_per_h;
        m[CENTRAL][DEPOT] = p.ka_per_h;
        m[CENTRAL][CENTRAL] = -(k10 + k12);
        m[CENTRAL][PERIPH] = k21;
        m[CENTRAL][RATE] = 1.0;
        m[PERIPH][CENTRAL] = k12;
        m[PERIPH][PERIPH] = -k21;
        m[AUC][CENTRAL] = 1.0 / p.v1_l;
        m[CE][CENTRAL] = ke0 / p.v1_l;
        m[CE][CE] = -ke0;
        m
    }

    fn propagate_linear(&mut self, h: f64, cacheable: bool) {
        let e = match &self.cache {
            Some((ch, e)) if *ch == h => *e,
            _ => {
                let e = expm(&self.generator(), h);
                if cacheable {
                    self.cache = Some((h, e));
                }
                e
            }
        };
        self.x = mat_vec(&e, &self.x);
    }

    fn propagate_rk4(&mut self, h: f64, burden: f64) {
        let m = self.generator();
        let p = &self.params;
        let tm = p
            .target_mediated
            .map(|t| (t.vmax_mg_per_h * burden, t.km_mg_per_l));
        let v1 = p.v1_l;
        let (k10, k12, k21) = p.micro();
        let fastest = [
            p.ka_per_h,
            k10 + k12,
            k21,
            p.ke0_per_h.unwrap_or(0.0),
            tm.map_or(0.0, |(v, km)| v / (km * v1)),
        ]
        .into_iter()
        .fold(1e-9, f64::max);
        let n = ((h * fastest / 0.1).ceil() as usize).max(1);
        let hs = h / n as f64;
        let f = |x: &[f64; N]| -> [f64; N] {
            let mut d = mat_vec(&m, x);
            if let Some((vmax, km)) = tm {
                let c = (x[CENTRAL] / v1).max(0.0);
                d[CENTRAL] -= vmax * c / (km + c);
            }
            d
        };
        let mut x = self.x;
        for _ in 0..n {
            let k1 = f(&x);
            let k2 = f(&axpy(&x, hs / 2.0, &k1));
            let k3 = f(&axpy(&x, hs / 2.0, &k2));
            let k4 = f(&axpy(&x, hs, &k3));
            for i in 0..N {
                x[i] += hs / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
            }
        }
        self.x = x;
    }
}

fn axpy(x: &[f64; N], a: f64, y: &[f64; N]) -> [f64; N] {
    let mut r = *x;
    for i in 0..N {
        r[i] += a * y[i];
    }
    r
}

fn mat_vec(m: &Mat, x: &[f64; N]) -> [f64; N] {
    let mut r = [0.0; N];
    for i in 0..N {
        r[i] = (0..N).map(|j| m[i][j] * x[j]).sum();
    }
    r
}

fn mat_mul(a: &Mat, b: &Mat) -> Mat {
    let mut r = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..N {
            r[i][j] = (0..N).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    r
}

/// e^{M·h} by scaling and squaring: scale so ‖M·h/2ˢ‖∞ ≤ 0.5, sum 20 Taylor terms, square s
/// times.
fn expm(m: &Mat, h: f64) -> Mat {
    let norm = m
        .iter()
        .map(|row| row.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
        * h;
    let s = if norm > 0.5 {
        (norm / 0.5).log2().ceil() as i32
    } else {
        0
    };
    let scale = h / 2f64.powi(s);
    let mut a = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..N {
            a[i][j] = m[i][j] * scale;
        }
    }
    let mut result = [[0.0; N]; N];
    let mut term = [[0.0; N]; N];
    for i in 0..N {
        result[i][i] = 1.0;
        term[i][i] = 1.0;
    }
    for k in 1..=20 {
        term = mat_mul(&term, &a);
        for row in term.iter_mut() {
            for v in row.iter_mut() {
                *v /= k as f64;
            }
        }
        for i in 0..N {
            for j in 0..N {
                result[i][j] += term[i][j];
            }
        }
    }
    for _ in 0..s {
        result = mat_mul(&result, &result);
    }
    result
}
