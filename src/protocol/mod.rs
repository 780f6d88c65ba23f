//! Treatment protocols: regimens as dose calendars ([`regimen`], [`calendar`]), the phase
//! state machine with toxicity rules and procedures ([`phases`]; `until_response` compares
//! the clinical model's IMWG category in the order of [`response`]), and conditional
//! supportive care ([`supportive`]). The model's stage `apply_protocol` calls [`Protocol::step`] once per
//! step with a [`ClinicalSnapshot`] and applies the returned [`ProtocolOutput`].
//!
//! Scenario surface: the optional `[treatment]` section ([`RawTreatment`]), validated by
//! [`TreatmentPlan::from_raw`] with every problem collected and keyed by its dotted path.
//!
//! Reads: raw treatment tables, the shipped drug and regimen libraries. Writes: nothing.

pub mod calendar;
pub mod phases;
pub mod regimen;
pub mod response;
pub mod runtime;
pub mod supportive;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use calendar::PlannedDose;
pub use phases::{PhaseKind, PhaseSpec, Protocol, ToxicityAction, ToxicityRule};
pub use regimen::{Regimen, RegimenLibrary};
pub use supportive::SupportiveRule;

use crate::clinical::Category;
use crate::pharma::library::RawDrug;
use crate::pharma::{DrugLibrary, Route};
use crate::scenario::Problem;
use crate::scenario::range::Range;
use phases::{RawPhase, RawToxicity};
use regimen::RawRegimen;
use supportive::RawSupportive;

/// `[treatment]` as written. Every part is optional; without `phases` nothing is given.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTreatment {
    /// `[treatment.drugs.<name>]`: overrides of, or additions to, the shipped drug library.
    #[serde(default)]
    pub drugs: BTreeMap<String, RawDrug>,
    /// `[treatment.regimens.<name>]`: regimens replacing or adding to the shipped library.
    #[serde(default)]
    pub regimens: BTreeMap<String, RawRegimen>,
    /// `[[treatment.phases]]`: the protocol, in order.
    #[serde(default)]
    pub phases: Vec<RawPhase>,
    /// `[[treatment.toxicity]]`: dose holds and reductions on low blood counts.
    #[serde(default)]
    pub toxicity: Vec<RawToxicity>,
    /// `[[treatment.supportive]]`: conditional supportive care.
    #[serde(default)]
    pub supportive: Vec<RawSupportive>,
    /// `start_on_diagnosis`: start the protocol when the myeloma is diagnosed (the first
    /// daily check with a CRAB criterion or ≥ 60 % marrow plasma cells; IMWG 2014
    /// myeloma-defining events). Default false (start at `start_d`).
    pub start_on_diagnosis: Option<bool>,
    /// `start_d`: earliest start of the protocol [days], 0..=36500. Default 0.
    pub start_d: Option<f64>,
}

/// What the protocol needs to know about the patient at the start of a step (from the
/// previous step's `assess`). Unknown numbers may be NaN: comparisons with NaN are false, so
/// no threshold rule fires on them.
#[derive(Clone, Copy, Debug)]
pub struct ClinicalSnapshot {
    /// Simulated time [h] (for messages only; decisions use the integer step).
    pub time_h: f64,
    /// Current IMWG response category (`NA` before a measurable baseline).
    pub response: Category,
    /// Confirmed progression (acted on at its rising edge).
    pub progressed: bool,
    /// Haemoglobin [g/dL].
    pub hb_g_dl: f64,
    /// Absolute neutrophil count [10⁹/L].
    pub anc_1e9_l: f64,
    /// Platelets [10⁹/L].
    pub platelets_1e9_l: f64,
    /// Myeloma burden relative to diagnosis (1 = at diagnosis).
    pub mm_burden_fraction: f64,
}

impl ClinicalSnapshot {
    /// A healthy-looking snapshot (no response yet, normal counts), for tests and for runs
    /// without a clinical model.
    pub fn normal(time_h: f64) -> ClinicalSnapshot {
        ClinicalSnapshot {
            time_h,
            response: Category::NA,
            progressed: false,
            hb_g_dl: 13.0,
            anc_1e9_l: 4.0,
            platelets_1e9_l: 250.0,
            mm_burden_fraction: 1.0,
        }
    }
}

/// A dose to give now.
#[derive(Clone, Debug, PartialEq)]
pub struct Dose {
    /// Drug id (library index; same as [`crate::pharma::Pharmacology`] ids).
    pub drug: usize,
    /// Drug name.
    pub drug_name: String,
    /// Amount [mg] (after any toxicity reduction; before bioavailability).
    pub amount_mg: f64,
    /// Route.
    pub route: Route,
    /// Phase or supportive rule that gave it.
    pub source: String,
    /// Cycle (1-based; 0 for procedures).
    pub cycle: u32,
    /// Day of the cycle (1-based; for ASCT conditioning −2).
    pub day: i32,
    /// Prescription as written (`1.3 mg/m²`, `25 mg`, …), with the reduction factor if any.
    pub basis: String,
}

/// A procedure acting on the patient beyond a drug dose.
#[derive(Clone, Debug, PartialEq)]
pub enum Procedure {
    /// Mobilisation (G-CSF 10 µg/kg/day × 4–5 d) and apheresis of CD34+ stem cells.
    StemCellCollection,
    /// High-dose melphalan conditioning on day −2 (the dose itself is in `doses`).
    Conditioning {
        /// Melphalan given [mg].
        melphalan_mg: f64,
    },
    /// Autologous stem-cell re-infusion on day 0.
    StemCellInfusion {
        /// CD34+ cells infused per kg [1/kg] (target ≥ 2, ideally 4–5 × 10⁶/kg; MODEL.md §3a).
        cd34_per_kg: f64,
    },
}

/// Everything the protocol decided this step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProtocolOutput {
    /// Doses to give now, in a deterministic order (phase doses by day and regimen entry,
    /// then supportive rules in scenario order).
    pub doses: Vec<Dose>,
    /// The complete log for `events.csv`: (kind, detail). Kinds: `phase`, `cycle`, `dose`,
    /// `dose_held`, `dose_reduced`, `procedure`, `supportive_start`, `supportive_stop`,
    /// `protocol_end`.
    pub events: Vec<(&'static str, String)>,
    /// Procedures to perform now.
    pub procedures: Vec<Procedure>,
}

/// A validated `[treatment]`: libraries (with overrides), phases and rules.
#[derive(Clone, Debug, PartialEq)]
pub struct TreatmentPlan {
    /// Drugs (shipped + overrides).
    pub drugs: DrugLibrary,
    /// Regimens (shipped + scenario).
    pub regimens: RegimenLibrary,
    /// Phases in order.
    pub phases: Vec<PhaseSpec>,
    /// Toxicity rules in order (first matching rule decides).
    pub toxicity: Vec<ToxicityRule>,
    /// Supportive-care rules in order.
    pub supportive: Vec<SupportiveRule>,
    /// Start when the disease is diagnosed (not before `start_d`).
    pub start_on_diagnosis: bool,
    /// Earliest start [days].
    pub start_d: f64,
}

impl TreatmentPlan {
    /// Validates a raw `[treatment]` section; problems are keyed `treatment.…`.
    pub fn from_raw(raw: &RawTreatment) -> Result<TreatmentPlan, Vec<Problem>> {
        let drugs = DrugLibrary::with_overrides(&raw.drugs, "treatment.drugs")?;
        let regimens = RegimenLibrary::with_overrides(&raw.regimens, "treatment.regimens", &drugs)?;
        let mut problems = Vec::new();
        let phases = phases::check_phases(&raw.phases, &regimens, &mut problems);
        let toxicity = phases::check_toxicity(&raw.toxicity, &drugs, &mut problems);
        let names: Vec<&str> = raw
            .phases
            .iter()
            .map(|p| p.name.as_deref().unwrap_or(""))
            .collect();
        let supportive =
            phases::check_supportive(&raw.supportive, &regimens, &names, &mut problems);
        let start_d = Range::closed(0.0, 36_500.0, "days").required(
            &mut problems,
            "treatment.start_d",
            raw.start_d,
            Some(0.0),
        );
        match start_d {
            Some(start_d) if problems.is_empty() => Ok(TreatmentPlan {
                drugs,
                regimens,
                phases,
                toxicity,
                supportive,
                start_on_diagnosis: raw.start_on_diagnosis.unwrap_or(false),
                start_d,
            }),
            _ => Err(problems),
        }
    }

    /// The shipped libraries with no phases (nothing is given).
    pub fn shipped() -> Result<TreatmentPlan, Vec<Problem>> {
        Self::from_raw(&RawTreatment::default())
    }
}
