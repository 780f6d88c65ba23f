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

/// The patient's body size, for BSA- and weight-based doses. Until the `[patient]` section
/// (issue 3) exists, callers use [`Body::REFERENCE`].
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

/// Whole-body drug state: one [`PkState`] per library drug (library order), the latest
/// PD-driving concentrations and the combined effects.
#[derive(Clone, Debug)]
pub struct Pharmacology {
    drugs: Vec<Drug>,
    states: Vec<PkState>,
    /// PD-driving concentration per drug [nM] after the last advance.
    effect_nm: Vec<f64>,
    effects: DrugEffects,
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
        }
    }

    /// Gives `amount_mg` of library drug `drug` by `route` now.
    pub fn dose(&mut self, drug: usize, amount_mg: f64, route: Route) {
        self.states[drug].dose(amount_mg, route);
    }

    /// Advances every drug by `dt_h` and recomputes concentrations and effects.
    /// `target_burden`: CD38+/target burden relative to diagnosis (1 = at diagnosis).
    pub fn advance(&mut self, dt_h: f64, target_burden: f64) {
        for (i, s) in self.states.iter_mut().enumerate() {
            if s.given_mg() == 0.0 {
                continue;
            }
            s.advance(dt_h, target_burden);
            self.effect_nm[i] = s.effect_concentration_nm();
        }
        self.effects = effects(&self.drugs, &self.effect_nm);
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
