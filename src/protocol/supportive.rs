//! Conditional supportive care: ESA when Hb falls below a threshold (stopping above another),
//! bone therapy every 4 weeks, infection prophylaxis that scales the infection hazard —
//! each rule optionally limited to named phases.
//!
//! Reads: a [`ClinicalSnapshot`](super::ClinicalSnapshot) and the current phase. Writes: doses
//! and events into a [`ProtocolOutput`](super::ProtocolOutput).

use serde::Deserialize;

/// `[[treatment.supportive]]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSupportive {
    /// `name`: label in events. Required.
    pub name: Option<String>,
    /// `regimen`: a regimen whose cycles repeat while the rule is active (e.g.
    /// `"zoledronic-q4w"`, `"ESA-weekly"`). Optional (prophylaxis needs none).
    pub regimen: Option<String>,
    /// `when_hb_below_g_dl`: start when Hb < this [g/dL], 3..=20. Optional (then: always).
    pub when_hb_below_g_dl: Option<f64>,
    /// `stop_when_hb_above_g_dl`: stop when Hb ≥ this [g/dL]; must exceed the start threshold.
    /// Default 12 g/dL (ESA label: the lowest Hb that avoids transfusion, ≤ 12).
    pub stop_when_hb_above_g_dl: Option<f64>,
    /// `during_phases`: phase names in which the rule may be active. Default: always.
    pub during_phases: Option<Vec<String>>,
    /// `infection_hazard_factor`: multiplier on the infection hazard while active, 0..=1.
    /// Default 1 (no effect). Aciclovir/antibacterial prophylaxis [L]: e.g. 0.5.
    pub infection_hazard_factor: Option<f64>,
}

/// A validated supportive-care rule.
#[derive(Clone, Debug, PartialEq)]
pub struct SupportiveRule {
    /// Label.
    pub name: String,
    /// Regimen index (its cycles repeat while active).
    pub regimen: Option<usize>,
    /// Start when Hb < this [g/dL].
    pub when_hb_below_g_dl: Option<f64>,
    /// Stop when Hb ≥ this [g/dL] (with `when_hb_below_g_dl`).
    pub stop_when_hb_above_g_dl: f64,
    /// Phase indices in which it may be active (empty = always).
    pub during_phases: Vec<usize>,
    /// Infection-hazard multiplier while active.
    pub infection_hazard_factor: f64,
}

/// Run-time state of one rule.
#[derive(Clone, Debug, Default)]
pub(super) struct SupportiveState {
    pub active: bool,
    /// The rule's regimen cycle (unused for rules without a regimen).
    pub cursor: super::calendar::CycleCursor,
}
