//! Pharmacology: the drug library ([`library`]), per-drug pharmacokinetics ([`pk`]) and
//! pharmacodynamic effects on named targets ([`pd`]), plus [`Pharmacology`], the whole-body
//! drug state the model advances once per step (stage `advance_pharmacokinetics`).
//!
//! Units: amounts mg, volumes L, time h, concentrations mg/L inside PK and nM at the PD and
//! output boundary (C_nM = C_mg_L · 10⁶ / MW).
//!
//! Reads: doses (from `protocol`), the step length and the target burden. Writes: drug
//! concentrations and effects.

pub mod drug;
pub mod library;
pub mod pd;
pub mod pk;
pub mod wiring;

pub use drug::{Combination, DoseBasis, DoseSpec, Drug, Effect, PkParams, Route, Target};
pub use library::DrugLibrary;
pub use pd::{DrugEffects, effects, hill};
pub use pk::PkState;

/// The patient's body size, for BSA- and weight-based doses (from `[patient]`, see
/// [`Body::from_weight_height`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Body {
    /// Body weight [kg].
    pub weight_kg: f64,
    /// Body-surface area [m²].
    pub bsa_m2: f64,
}

impl Body {
    /// The reference adult: 70 kg, 170 cm → BSA 1.82 m² (Mosteller).
    pub const REFERENCE: Body = Body {
        weight_kg: 70.0,
        bsa_m2: 1.8181,
    };

    /// Body from weight [kg] and height [cm], BSA by Mosteller (1987): √(h·w/3600).
    pub fn from_weight_height(weight_kg: f64, height_cm: f64) -> Body {
        Body {
            weight_kg,
            bsa_m2: (weight_kg * height_cm / 3600.0).sqrt(),
        }
    }
}

/// Longest PD sub-step [h]. The effects the cell rules and blood compartments apply over a
/// step are the *time average* of the combined Emax/Hill effects over the step, evaluated on
/// sub-steps of at most this length (trapezoid rule). Without it a 4-h step evaluated at its
/// end sees high-dose melphalan (infusion 30 min, t½ ≈ 52 min) at 1/20 of its peak and the
/// conditioning does not ablate the marrow. 15 min resolves the fastest library kinetics
/// (melphalan distribution t½ ≈ 10 min is within a factor 2 of it; the integrated hazard of
/// Mel200 differs by < 2 % from a 1-min grid, see `tests/pharma.rs`) [measured].
pub const PD_SUBSTEP_H: f64 = 0.25;

/// Whole-body drug state: one [`PkState`] per library drug (library order), the latest
/// PD-driving concentrations, the combined effects averaged over the last step, and per-drug
/// statistics of the current output interval (maximum and plasma AUC).
#[derive(Clone, Debug)]
pub struct Pharmacology {
    drugs: Vec<Drug>,
    states: Vec<PkState>,
    /// PD-driving concentration per drug [nM] after the last advance.
    effect_nm: Vec<f64>,
    effects: DrugEffects,
    /// Largest plasma concentration per drug seen on the PD sub-step grid since the last
    /// [`Pharmacology::take_interval`] [nM].
    interval_max_nm: Vec<f64>,
    /// Plasma AUC per drug at the last [`Pharmacology::take_interval`] [mg·h/L].
    interval_auc_mark: Vec<f64>,
    /// Time since the last [`Pharmacology::take_interval`] [h].
    interval_h: f64,
}

/// Per-drug statistics of one output interval (see [`Pharmacology::take_interval`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IntervalStats {
    /// Largest plasma concentration on the PD sub-step grid (every step start after its
    /// doses, every sub-step end, every infusion end) [nM].
    pub max_nm: f64,
    /// Mean plasma concentration over the interval, AUC/interval, exact from the PK solution
    /// [nM].
    pub mean_nm: f64,
}

impl Pharmacology {
    /// No drug on board, for every drug of `library`.
    pub fn new(library: &DrugLibrary) -> Self {
        let drugs = library.drugs().to_vec();
        let states = drugs.iter().map(PkState::new).collect();
        let n = drugs.len();
        Self {
            drugs,
            states,
            effect_nm: vec![0.0; n],
            effects: DrugEffects::default(),
            interval_max_nm: vec![0.0; n],
            interval_auc_mark: vec![0.0; n],
            interval_h: 0.0,
        }
    }

    /// Gives `amount_mg` of library drug `drug` by `route` now.
    pub fn dose(&mut self, drug: usize, amount_mg: f64, route: Route) {
        self.states[drug].dose(amount_mg, route);
    }

    /// Advances every drug by `dt_h` and sets the effects to their time average over the
    /// step (trapezoid rule on sub-steps of at most [`PD_SUBSTEP_H`], starting from the
    /// concentrations after this step's doses). `target_burden`: CD38+/target burden relative
    /// to diagnosis (1 = at diagnosis).
    pub fn advance(&mut self, dt_h: f64, target_burden: f64) {
        let active: Vec<usize> = (0..self.states.len())
            .filter(|&i| self.states[i].given_mg() > 0.0)
            .collect();
        self.interval_h += dt_h;
        if active.is_empty() {
            self.effects = DrugEffects::default();
            return;
        }
        let n = ((dt_h / PD_SUBSTEP_H).ceil() as usize).max(1);
        let h = dt_h / n as f64;
        let mut prev = self.point_effects(&active);
        let mut sum = DrugEffects::default();
        for _ in 0..n {
            for &i in &active {
                self.states[i].advance(h, target_burden);
            }
            let next = self.point_effects(&active);
            sum.add_scaled(&prev, 0.5 * h / dt_h);
            sum.add_scaled(&next, 0.5 * h / dt_h);
            prev = next;
        }
        self.effects = sum;
    }

    /// Effects at the current concentrations of the `active` drugs; updates the PD-driving
    /// concentrations and the interval maxima.
    fn point_effects(&mut self, active: &[usize]) -> DrugEffects {
        for &i in active {
            let s = &self.states[i];
            self.effect_nm[i] = s.effect_concentration_nm();
            self.interval_max_nm[i] = self.interval_max_nm[i].max(s.concentration_nm());
        }
        effects(&self.drugs, &self.effect_nm)
    }

    /// Statistics of drug `i` over the output interval so far (see [`IntervalStats`]).
    pub fn interval(&self, i: usize) -> IntervalStats {
        let s = &self.states[i];
        let mean_mg_l = if self.interval_h > 0.0 {
            (s.auc_mg_h_l() - self.interval_auc_mark[i]) / self.interval_h
        } else {
            s.concentration_mg_l()
        };
        IntervalStats {
            max_nm: self.interval_max_nm[i],
            mean_nm: mean_mg_l.max(0.0) * s.nm_per_mg_l(),
        }
    }

    /// Starts a new output interval (call after recording [`Self::interval`]): the maximum
    /// restarts from the current concentration, the AUC from its current value.
    pub fn take_interval(&mut self) {
        for (i, s) in self.states.iter().enumerate() {
            self.interval_max_nm[i] = s.concentration_nm();
            self.interval_auc_mark[i] = s.auc_mg_h_l();
        }
        self.interval_h = 0.0;
    }

    /// Combined effects after the last advance.
    pub fn effects(&self) -> &DrugEffects {
        &self.effects
    }

    /// Library drugs (index = drug id).
    pub fn drugs(&self) -> &[Drug] {
        &self.drugs
    }

    /// PK state of drug `i`.
    pub fn state(&self, i: usize) -> &PkState {
        &self.states[i]
    }

    /// Mutable PK state of drug `i` (e.g. to take per-cycle AUCs).
    pub fn state_mut(&mut self, i: usize) -> &mut PkState {
        &mut self.states[i]
    }

    /// Plasma concentration of drug `i` [nM].
    pub fn concentration_nm(&self, i: usize) -> f64 {
        self.states[i].concentration_nm()
    }
}
