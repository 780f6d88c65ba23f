//! The protocol phase state machine: phases (regimen cycles or procedures), transitions
//! (number of cycles, duration, response ≥ a category at a cycle boundary, confirmed
//! progression), ASCT (melphalan on day −2, stem-cell re-infusion on day 0), toxicity holds and
//! reductions, and the supportive-care rules. Advanced once per step on integer step indices.
//!
//! Transition rules, checked in this order at the start of each step:
//! 1. **Progression** (rising edge of `progressed`): a phase with `until_progression` ends; a
//!    phase with `on_progression = "<name>"` jumps there (next line of therapy).
//! 2. **Duration**: `duration_d` after the phase started.
//! 3. **Cycle boundary** (regimen phases): after `cycles` cycles; or, with `until_response`,
//!    once the response is ≥ that category at the end of a cycle.
//!
//! A regimen phase without `cycles`, `duration_d`, `until_response` or `until_progression`
//! runs the regimen's own `cycles` (or continuously if the regimen has none).
//!
//! Reads: [`TreatmentPlan`], [`ClinicalSnapshot`]. Writes: [`ProtocolOutput`].

use serde::Deserialize;

use super::calendar::{self, CycleCursor};
use super::regimen::RegimenLibrary;
use super::response;
use super::supportive::{RawSupportive, SupportiveRule, SupportiveState};
use super::{ClinicalSnapshot, Dose, Procedure, ProtocolOutput, TreatmentPlan};
use crate::clinical::Category;
use crate::observe::{PHASE_ENDS, PHASE_STARTS};
use crate::pharma::{Body, DrugLibrary, Route};
use crate::scenario::Problem;
use crate::scenario::range::{IntRange, Range};

/// Default stem-cell collection phase length [days]: G-CSF 4–5 d + apheresis, then processing
/// (MODEL.md §3a) [M].
pub const COLLECTION_DEFAULT_D: f64 = 14.0;
/// Default ASCT phase length [days], from day −2 to day +60 (consolidation or maintenance
/// typically starts ~2–3 months after ASCT; IFM 2009) [M].
pub const ASCT_DEFAULT_D: f64 = 62.0;
/// Default conditioning dose [mg/m²]: Mel200 (MODEL.md §3a) [H].
pub const MEL200_MG_M2: f64 = 200.0;
/// Default CD34+ cells re-infused [1/kg]: 4 × 10⁶/kg (target ≥ 2, ideally 4–5 × 10⁶) [H].
pub const CD34_PER_KG: f64 = 4e6;

/// `[[treatment.phases]]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    /// `name`: unique phase name. Required.
    pub name: Option<String>,
    /// `regimen`: regimen name (exactly one of `regimen` and `procedure`).
    pub regimen: Option<String>,
    /// `procedure`: `"stem_cell_collection"` or `"asct"`.
    pub procedure: Option<String>,
    /// `cycles`: end after this many cycles, 1..=1000.
    pub cycles: Option<i64>,
    /// `duration_d`: end this many days after the phase starts, > 0 and ≤ 36500. Defaults:
    /// collection 14 d, asct 62 d (day −2 to +60).
    pub duration_d: Option<f64>,
    /// `until_response`: end at the first cycle boundary with response ≥ this (`PR`, `VGPR`,
    /// `CR`, `sCR`, …).
    pub until_response: Option<String>,
    /// `until_progression`: end on confirmed progression. Default false.
    pub until_progression: Option<bool>,
    /// `on_progression`: phase to jump to on confirmed progression (e.g. the next line).
    pub on_progression: Option<String>,
    /// `melphalan_mg_m2`: ASCT conditioning dose [mg/m²], 50..=250. Default 200 (140 for
    /// low CrCl or older patients; MODEL.md §3a).
    pub melphalan_mg_m2: Option<f64>,
}

/// `[[treatment.toxicity]]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToxicity {
    /// `drugs`: drug names the rule applies to. Default: all drugs.
    pub drugs: Option<Vec<String>>,
    /// `anc_below_1e9_per_l`: trigger when ANC < this [10⁹/L], 0..=20 (e.g. 1.0 for
    /// lenalidomide, label).
    pub anc_below_1e9_per_l: Option<f64>,
    /// `platelets_below_1e9_per_l`: trigger when platelets < this [10⁹/L], 0..=1000 (e.g. 25
    /// for bortezomib, 30 for lenalidomide, labels).
    pub platelets_below_1e9_per_l: Option<f64>,
    /// `action`: `"hold"` (skip the dose) or `"reduce"` (lower the drug's dose level).
    /// Default hold.
    pub action: Option<String>,
    /// `reduce_factor`: dose-level multiplier per reduction, > 0 and < 1. Default 0.75 (e.g.
    /// bortezomib 1.3 → 1.0 mg/m², label dose levels).
    pub reduce_factor: Option<f64>,
    /// `min_level`: lowest dose level, 0..=1. Default 0.25.
    pub min_level: Option<f64>,
}

/// What a phase does.
#[derive(Clone, Debug, PartialEq)]
pub enum PhaseKind {
    /// Cycles of a regimen (index into the regimen library).
    Regimen(usize),
    /// Stem-cell mobilisation and collection.
    StemCellCollection,
    /// High-dose melphalan + autologous stem-cell transplant.
    Asct {
        /// Conditioning dose [mg/m²].
        melphalan_mg_m2: f64,
    },
}

/// A validated phase.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseSpec {
    /// Name.
    pub name: String,
    /// What it does.
    pub kind: PhaseKind,
    /// End after this many cycles.
    pub cycles: Option<u32>,
    /// End after this many days.
    pub duration_d: Option<f64>,
    /// End at a cycle boundary once response ≥ this.
    pub until_response: Option<Category>,
    /// End on confirmed progression.
    pub until_progression: bool,
    /// Jump to this phase on confirmed progression.
    pub on_progression: Option<usize>,
}

/// What a toxicity rule does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ToxicityAction {
    /// Skip the dose while counts are low.
    Hold,
    /// Lower the drug's dose level (at most once per cycle), then give it.
    Reduce {
        /// Multiplier per reduction.
        factor: f64,
        /// Lowest level.
        min_level: f64,
    },
}

/// A validated toxicity rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ToxicityRule {
    /// Drug ids (empty = all).
    pub drugs: Vec<usize>,
    /// ANC threshold [10⁹/L].
    pub anc_below: Option<f64>,
    /// Platelet threshold [10⁹/L].
    pub platelets_below: Option<f64>,
    /// Action.
    pub action: ToxicityAction,
}

impl ToxicityRule {
    fn fires(&self, drug: usize, s: &ClinicalSnapshot) -> bool {
        (self.drugs.is_empty() || self.drugs.contains(&drug))
            && (self.anc_below.is_some_and(|t| s.anc_1e9_l < t)
                || self.platelets_below.is_some_and(|t| s.platelets_1e9_l < t))
    }
}

/// Validates `[[treatment.phases]]`.
pub(super) fn check_phases(
    raw: &[RawPhase],
    regimens: &RegimenLibrary,
    problems: &mut Vec<Problem>,
) -> Vec<PhaseSpec> {
    let names: Vec<Option<&str>> = raw.iter().map(|p| p.name.as_deref()).collect();
    let mut out = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let k = |s: &str| format!("treatment.phases[{i}].{s}");
        let before = problems.len();
        let name = match p.name.as_deref() {
            None | Some("") => {
                problems.push(Problem::new(
                    k("name"),
                    "missing required key: expected a phase name, e.g. `name = \"induction\"`",
                ));
                String::new()
            }
            Some(n) => {
                if names[..i].contains(&Some(n)) {
                    problems.push(
                        Problem::new(k("name"), "duplicate phase name")
                            .with_value(format!("\"{n}\"")),
                    );
                }
                n.to_string()
            }
        };
        let kind = match (&p.regimen, &p.procedure) {
            (Some(r), None) => match regimens.index(r) {
                Some(ix) => Some(PhaseKind::Regimen(ix)),
                None => {
                    problems.push(
                        Problem::new(
                            k("regimen"),
                            format!("unknown regimen; known: {}", regimens.names().join(", ")),
                        )
                        .with_value(format!("\"{r}\"")),
                    );
                    None
                }
            },
            (None, Some(pr)) => match pr.as_str() {
                "stem_cell_collection" => Some(PhaseKind::StemCellCollection),
                "asct" => Range::closed(50.0, 250.0, "mg/m²")
                    .required(
                        problems,
                        k("melphalan_mg_m2"),
                        p.melphalan_mg_m2,
                        Some(MEL200_MG_M2),
                    )
                    .map(|m| PhaseKind::Asct { melphalan_mg_m2: m }),
                _ => {
                    problems.push(
                        Problem::new(
                            k("procedure"),
                            "unknown procedure; allowed: \"stem_cell_collection\", \"asct\"",
                        )
                        .with_value(format!("\"{pr}\"")),
                    );
                    None
                }
            },
            _ => {
                problems.push(Problem::new(
                    format!("treatment.phases[{i}]"),
                    "expected exactly one of `regimen = \"<name>\"` or `procedure = \"stem_cell_collection\" | \"asct\"`",
                ));
                None
            }
        };
        if p.melphalan_mg_m2.is_some() && p.procedure.as_deref() != Some("asct") {
            problems.push(Problem::new(
                k("melphalan_mg_m2"),
                "only used with procedure = \"asct\"",
            ));
        }
        let cycles = IntRange::new(1, 1000, "cycles")
            .optional(problems, k("cycles"), p.cycles)
            .flatten()
            .map(|c| c as u32);
        if cycles.is_some() && !matches!(kind, Some(PhaseKind::Regimen(_))) {
            problems.push(Problem::new(
                k("cycles"),
                "only used with a regimen phase; procedures use duration_d",
            ));
        }
        let duration = Range::positive(36_500.0, "days")
            .optional(problems, k("duration_d"), p.duration_d)
            .flatten();
        let until_response = match &p.until_response {
            None => None,
            Some(s) => match response::parse(s) {
                Some(r) => Some(r),
                None => {
                    problems.push(
                        Problem::new(
                            k("until_response"),
                            format!(
                                "unknown response category; allowed: {}",
                                response::names().join(", ")
                            ),
                        )
                        .with_value(format!("\"{s}\"")),
                    );
                    None
                }
            },
        };
        let on_progression = match &p.on_progression {
            None => None,
            Some(t) => match names.iter().position(|n| *n == Some(t.as_str())) {
                Some(ix) => Some(ix),
                None => {
                    problems.push(
                        Problem::new(k("on_progression"), "no phase with this name")
                            .with_value(format!("\"{t}\"")),
                    );
                    None
                }
            },
        };
        if problems.len() > before {
            continue;
        }
        let Some(kind) = kind else { continue };
        let duration_d = duration.or(match kind {
            PhaseKind::StemCellCollection => Some(COLLECTION_DEFAULT_D),
            PhaseKind::Asct { .. } => Some(ASCT_DEFAULT_D),
            PhaseKind::Regimen(_) => None,
        });
        let until_progression = p.until_progression.unwrap_or(false);
        let cycles = match (&kind, cycles) {
            (PhaseKind::Regimen(r), None)
                if duration_d.is_none() && until_response.is_none() && !until_progression =>
            {
                regimens.regimens()[*r].cycles
            }
            (_, c) => c,
        };
        out.push(PhaseSpec {
            name,
            kind,
            cycles,
            duration_d,
            until_response,
            until_progression,
            on_progression,
        });
    }
    out
}

/// Validates `[[treatment.toxicity]]`.
pub(super) fn check_toxicity(
    raw: &[RawToxicity],
    drugs: &DrugLibrary,
    problems: &mut Vec<Problem>,
) -> Vec<ToxicityRule> {
    let mut out = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let k = |s: &str| format!("treatment.toxicity[{i}].{s}");
        let before = problems.len();
        let mut ids = Vec::new();
        for n in t.drugs.iter().flatten() {
            match drugs.index(n) {
                Some(ix) => ids.push(ix),
                None => problems.push(
                    Problem::new(
                        k("drugs"),
                        format!("unknown drug; known: {}", drugs.names().join(", ")),
                    )
                    .with_value(format!("\"{n}\"")),
                ),
            }
        }
        let anc = Range::closed(0.0, 20.0, "10⁹/L")
            .optional(problems, k("anc_below_1e9_per_l"), t.anc_below_1e9_per_l)
            .flatten();
        let plt = Range::closed(0.0, 1000.0, "10⁹/L")
            .optional(
                problems,
                k("platelets_below_1e9_per_l"),
                t.platelets_below_1e9_per_l,
            )
            .flatten();
        if t.anc_below_1e9_per_l.is_none() && t.platelets_below_1e9_per_l.is_none() {
            problems.push(Problem::new(
                format!("treatment.toxicity[{i}]"),
                "expected at least one of anc_below_1e9_per_l, platelets_below_1e9_per_l",
            ));
        }
        let factor = Range::positive(0.999, "").required(
            problems,
            k("reduce_factor"),
            t.reduce_factor,
            Some(0.75),
        );
        let min_level =
            Range::closed(0.0, 1.0, "").required(problems, k("min_level"), t.min_level, Some(0.25));
        let action = match t.action.as_deref().unwrap_or("hold") {
            "hold" => Some(ToxicityAction::Hold),
            "reduce" => match (factor, min_level) {
                (Some(factor), Some(min_level)) => {
                    Some(ToxicityAction::Reduce { factor, min_level })
                }
                _ => None,
            },
            a => {
                problems.push(
                    Problem::new(k("action"), "unknown action; allowed: \"hold\", \"reduce\"")
                        .with_value(format!("\"{a}\"")),
                );
                None
            }
        };
        if problems.len() > before {
            continue;
        }
        if let Some(action) = action {
            ids.sort_unstable();
            out.push(ToxicityRule {
                drugs: ids,
                anc_below: anc,
                platelets_below: plt,
                action,
            });
        }
    }
    out
}

/// Validates `[[treatment.supportive]]`.
pub(super) fn check_supportive(
    raw: &[RawSupportive],
    regimens: &RegimenLibrary,
    phase_names: &[&str],
    problems: &mut Vec<Problem>,
) -> Vec<SupportiveRule> {
    let mut out = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        let k = |x: &str| format!("treatment.supportive[{i}].{x}");
        let before = problems.len();
        let name = s.name.clone().unwrap_or_else(|| {
            problems.push(Problem::new(
                k("name"),
                "missing required key: expected a label, e.g. `name = \"ESA\"`",
            ));
            String::new()
        });
        let regimen = match &s.regimen {
            None => None,
            Some(r) => {
                let ix = regimens.index(r);
                if ix.is_none() {
                    problems.push(
                        Problem::new(
                            k("regimen"),
                            format!("unknown regimen; known: {}", regimens.names().join(", ")),
                        )
                        .with_value(format!("\"{r}\"")),
                    );
                }
                ix
            }
        };
        let start = Range::closed(3.0, 20.0, "g/dL")
            .optional(problems, k("when_hb_below_g_dl"), s.when_hb_below_g_dl)
            .flatten();
        let stop = Range::closed(3.0, 20.0, "g/dL").required(
            problems,
            k("stop_when_hb_above_g_dl"),
            s.stop_when_hb_above_g_dl,
            Some(12.0),
        );
        if let (Some(a), Some(b)) = (start, stop)
            && b <= a
        {
            problems.push(
                Problem::new(
                    k("stop_when_hb_above_g_dl"),
                    format!("must exceed when_hb_below_g_dl = {a} g/dL"),
                )
                .with_value(b),
            );
        }
        let factor = Range::closed(0.0, 1.0, "").required(
            problems,
            k("infection_hazard_factor"),
            s.infection_hazard_factor,
            Some(1.0),
        );
        let mut during = Vec::new();
        for n in s.during_phases.iter().flatten() {
            match phase_names.iter().position(|p| p == n) {
                Some(ix) => during.push(ix),
                None => problems.push(
                    Problem::new(k("during_phases"), "no phase with this name")
                        .with_value(format!("\"{n}\"")),
                ),
            }
        }
        if problems.len() > before {
            continue;
        }
        during.sort_unstable();
        out.push(SupportiveRule {
            name,
            regimen,
            when_hb_below_g_dl: start,
            stop_when_hb_above_g_dl: stop.unwrap_or(12.0),
            during_phases: during,
            infection_hazard_factor: factor.unwrap_or(1.0),
        });
    }
    out
}

/// The protocol's run-time state. Deterministic: only integer steps and the snapshot decide.
#[derive(Clone, Debug)]
pub struct Protocol {
    plan: TreatmentPlan,
    body: Body,
    dt_h: f64,
    started: bool,
    /// Current phase (`None` before the start or after the last phase).
    phase: Option<usize>,
    phase_start: u64,
    /// The current phase's regimen cycle (cleared in procedure phases).
    cursor: CycleCursor,
    /// Step of the ASCT stem-cell infusion still to come.
    infusion_step: Option<u64>,
    dose_level: Vec<f64>,
    reduced_in_cycle: Vec<bool>,
    last_progressed: bool,
    supportive: Vec<SupportiveState>,
}

impl Protocol {
    /// A protocol about to start (its first phase begins at the first [`Protocol::step`]).
    /// `body` sizes BSA/weight doses; `dt_h` converts calendar days to steps.
    pub fn new(plan: &TreatmentPlan, body: Body, dt_h: f64) -> Self {
        let n = plan.drugs.drugs().len();
        Self {
            plan: plan.clone(),
            body,
            dt_h,
            started: false,
            phase: None,
            phase_start: 0,
            cursor: CycleCursor::default(),
            infusion_step: None,
            dose_level: vec![1.0; n],
            reduced_in_cycle: vec![false; n],
            last_progressed: false,
            supportive: vec![SupportiveState::default(); plan.supportive.len()],
        }
    }

    /// Current phase name, if any.
    pub fn phase_name(&self) -> Option<&str> {
        self.phase.map(|p| self.plan.phases[p].name.as_str())
    }

    /// Multiplier on the infection hazard: the product of active prophylaxis factors.
    pub fn infection_hazard_factor(&self) -> f64 {
        self.plan
            .supportive
            .iter()
            .zip(&self.supportive)
            .filter(|(_, s)| s.active)
            .map(|(r, _)| r.infection_hazard_factor)
            .product()
    }

    /// Advances to step `step` (call once per step, increasing) with the latest snapshot.
    pub fn step(&mut self, step: u64, snap: &ClinicalSnapshot) -> ProtocolOutput {
        let mut out = ProtocolOutput::default();
        if !self.started {
            self.started = true;
            if !self.plan.phases.is_empty() {
                self.enter(0, step, "start", &mut out);
            }
        }
        let edge = snap.progressed && !self.last_progressed;
        self.last_progressed = snap.progressed;
        self.transitions(step, snap, edge, &mut out);
        self.phase_doses(step, snap, &mut out);
        if self.infusion_step == Some(step) {
            self.infusion_step = None;
            let p = Procedure::StemCellInfusion {
                cd34_per_kg: CD34_PER_KG,
            };
            out.events.push((
                "procedure",
                format!("autologous stem-cell infusion (day 0), {CD34_PER_KG:.0} CD34+/kg"),
            ));
            out.procedures.push(p);
        }
        self.supportive_step(step, snap, &mut out);
        out
    }

    fn transitions(
        &mut self,
        step: u64,
        snap: &ClinicalSnapshot,
        edge: bool,
        out: &mut ProtocolOutput,
    ) {
        let Some(p) = self.phase else { return };
        let spec = self.plan.phases[p].clone();
        let mut next: Option<(Option<usize>, String)> = None;
        if edge && (spec.until_progression || spec.on_progression.is_some()) {
            let to = spec.on_progression.or(Some(p + 1));
            next = Some((to, "confirmed progression".into()));
        }
        if next.is_none()
            && let Some(d) = spec.duration_d
            && step - self.phase_start >= calendar::days_to_steps(d, self.dt_h)
        {
            next = Some((Some(p + 1), format!("duration {d} d reached")));
        }
        if next.is_none()
            && let PhaseKind::Regimen(r) = spec.kind
        {
            let regimen = &self.plan.regimens.regimens()[r];
            if self.cursor.finished(regimen, step, self.dt_h) {
                let done = self.cursor.cycle();
                let got = snap.response;
                if spec.cycles.is_some_and(|n| done >= n) {
                    next = Some((Some(p + 1), format!("{done} cycles completed")));
                } else if let Some(want) = spec.until_response
                    && response::at_least(got, want)
                {
                    next = Some((
                        Some(p + 1),
                        format!(
                            "response {} ≥ {} after cycle {done}",
                            got.label(),
                            want.label()
                        ),
                    ));
                } else {
                    self.start_cycle(done + 1, step, out);
                }
            }
        }
        if let Some((to, why)) = next {
            out.events
                .push(("phase", format!("{PHASE_ENDS}{} ({why})", spec.name)));
            match to.filter(|&t| t < self.plan.phases.len()) {
                Some(t) => self.enter(t, step, &why, out),
                None => {
                    self.phase = None;
                    self.cursor.clear();
                    out.events
                        .push(("protocol_end", "last phase completed".into()));
                }
            }
        }
    }

    fn enter(&mut self, p: usize, step: u64, why: &str, out: &mut ProtocolOutput) {
        self.phase = Some(p);
        self.phase_start = step;
        self.cursor.clear();
        self.infusion_step = None;
        let spec = self.plan.phases[p].clone();
        let what = match &spec.kind {
            PhaseKind::Regimen(r) => format!("regimen {}", self.plan.regimens.regimens()[*r].name),
            PhaseKind::StemCellCollection => "stem-cell collection".into(),
            PhaseKind::Asct { melphalan_mg_m2 } => {
                format!("ASCT, melphalan {melphalan_mg_m2} mg/m²")
            }
        };
        out.events.push((
            "phase",
            format!("{PHASE_STARTS}{} ({what}; {why})", spec.name),
        ));
        match spec.kind {
            PhaseKind::Regimen(_) => self.start_cycle(1, step, out),
            PhaseKind::StemCellCollection => {
                out.events.push((
                    "procedure",
                    "stem-cell mobilisation (G-CSF 10 µg/kg/day × 5 d) and apheresis".into(),
                ));
                out.procedures.push(Procedure::StemCellCollection);
            }
            PhaseKind::Asct { melphalan_mg_m2 } => {
                let Some(mel) = self.plan.drugs.index("melphalan") else {
                    return;
                };
                let amount = melphalan_mg_m2 * self.body.bsa_m2;
                let route = Route::IvInfusion {
                    hours: self.plan.drugs.drugs()[mel].infusion_h,
                };
                let dose = Dose {
                    drug: mel,
                    drug_name: "melphalan".into(),
                    amount_mg: amount,
                    route,
                    source: spec.name.clone(),
                    cycle: 0,
                    day: -2,
                    basis: format!("{melphalan_mg_m2} mg/m²"),
                };
                out.events.push(("procedure", format!("conditioning: high-dose melphalan {} mg ({melphalan_mg_m2} mg/m²) on day −2", calendar::fmt_mg(amount))));
                out.events.push(("dose", describe_dose(&dose)));
                out.doses.push(dose);
                out.procedures.push(Procedure::Conditioning {
                    melphalan_mg: amount,
                });
                self.infusion_step = Some(step + calendar::days_to_steps(2.0, self.dt_h));
            }
        }
    }

    fn start_cycle(&mut self, c: u32, step: u64, out: &mut ProtocolOutput) {
        let Some(p) = self.phase else { return };
        let PhaseKind::Regimen(r) = self.plan.phases[p].kind else {
            return;
        };
        self.reduced_in_cycle.iter_mut().for_each(|v| *v = false);
        let reg = &self.plan.regimens.regimens()[r];
        self.cursor
            .begin(reg, c, step, &self.plan.drugs, &self.body, self.dt_h);
        out.events.push((
            "cycle",
            format!("{} cycle {c} ({})", self.plan.phases[p].name, reg.name),
        ));
    }

    fn phase_doses(&mut self, step: u64, snap: &ClinicalSnapshot, out: &mut ProtocolOutput) {
        let Some(p) = self.phase else { return };
        while let Some(d) = self.cursor.take_due(step) {
            let d = d.clone();
            let rule = self.plan.toxicity.iter().find(|r| r.fires(d.drug, snap));
            let mut level = self.dose_level[d.drug];
            match rule.map(|r| r.action) {
                Some(ToxicityAction::Hold) => {
                    out.events.push((
                        "dose_held",
                        format!(
                            "{} C{}D{} held (ANC {} ×10⁹/L, platelets {} ×10⁹/L)",
                            d.drug_name, d.cycle, d.day, snap.anc_1e9_l, snap.platelets_1e9_l
                        ),
                    ));
                    continue;
                }
                Some(ToxicityAction::Reduce { factor, min_level })
                    if !self.reduced_in_cycle[d.drug] =>
                {
                    self.reduced_in_cycle[d.drug] = true;
                    level = (level * factor).max(min_level);
                    self.dose_level[d.drug] = level;
                    out.events.push((
                            "dose_reduced",
                            format!(
                                "{} dose level → {:.3} from C{}D{} (ANC {} ×10⁹/L, platelets {} ×10⁹/L)",
                                d.drug_name, level, d.cycle, d.day, snap.anc_1e9_l, snap.platelets_1e9_l
                            ),
                        ));
                }
                _ => {}
            }
            let basis = if level < 1.0 {
                format!("{} × {level:.3}", d.spec.describe())
            } else {
                d.spec.describe()
            };
            let dose = Dose {
                drug: d.drug,
                drug_name: d.drug_name.clone(),
                amount_mg: d.amount_mg * level,
                route: d.route,
                source: self.plan.phases[p].name.clone(),
                cycle: d.cycle,
                day: d.day as i32,
                basis,
            };
            out.events.push(("dose", describe_dose(&dose)));
            out.doses.push(dose);
        }
    }

    fn supportive_step(&mut self, step: u64, snap: &ClinicalSnapshot, out: &mut ProtocolOutput) {
        for i in 0..self.plan.supportive.len() {
            let rule = &self.plan.supportive[i];
            let allowed = rule.during_phases.is_empty()
                || self.phase.is_some_and(|p| rule.during_phases.contains(&p));
            let st = &self.supportive[i];
            let want = allowed
                && match rule.when_hb_below_g_dl {
                    None => true,
                    Some(lo) => {
                        if st.active {
                            snap.hb_g_dl.is_nan() || snap.hb_g_dl < rule.stop_when_hb_above_g_dl
                        } else {
                            snap.hb_g_dl < lo
                        }
                    }
                };
            if want && !st.active {
                out.events.push((
                    "supportive_start",
                    format!("{} (Hb {:.1} g/dL)", rule.name, snap.hb_g_dl),
                ));
                self.supportive[i].active = true;
                self.start_supportive_cycle(i, 1, step);
            } else if !want && st.active {
                out.events.push((
                    "supportive_stop",
                    format!("{} (Hb {:.1} g/dL)", rule.name, snap.hb_g_dl),
                ));
                self.supportive[i] = SupportiveState::default();
                continue;
            }
            if !self.supportive[i].active {
                continue;
            }
            let Some(r) = self.plan.supportive[i].regimen else {
                continue;
            };
            let regimen = &self.plan.regimens.regimens()[r];
            let cursor = &self.supportive[i].cursor;
            if cursor.finished(regimen, step, self.dt_h) {
                let c = cursor.cycle() + 1;
                self.start_supportive_cycle(i, c, step);
            }
            let cursor = &mut self.supportive[i].cursor;
            while let Some(d) = cursor.take_due(step) {
                let dose = Dose {
                    drug: d.drug,
                    drug_name: d.drug_name.clone(),
                    amount_mg: d.amount_mg,
                    route: d.route,
                    source: self.plan.supportive[i].name.clone(),
                    cycle: d.cycle,
                    day: d.day as i32,
                    basis: d.spec.describe(),
                };
                out.events.push(("dose", describe_dose(&dose)));
                out.doses.push(dose);
            }
        }
    }

    /// Begins cycle `c` of supportive rule `i`'s regimen (rules without one have no doses).
    fn start_supportive_cycle(&mut self, i: usize, c: u32, step: u64) {
        if let Some(r) = self.plan.supportive[i].regimen {
            self.supportive[i].cursor.begin(
                &self.plan.regimens.regimens()[r],
                c,
                step,
                &self.plan.drugs,
                &self.body,
                self.dt_h,
            );
        }
    }
}

/// `VRd C1D4: bortezomib 2.36 mg (1.3 mg/m²) sc`.
pub fn describe_dose(d: &Dose) -> String {
    let route = match d.route {
        Route::IvInfusion { hours } => format!("iv_infusion {hours} h"),
        r => r.name().to_string(),
    };
    let when = if d.cycle == 0 {
        format!("day {}", d.day)
    } else {
        format!("C{}D{}", d.cycle, d.day)
    };
    format!(
        "{} {when}: {} {} mg ({}) {route}",
        d.source,
        d.drug_name,
        calendar::fmt_mg(d.amount_mg),
        d.basis
    )
}
