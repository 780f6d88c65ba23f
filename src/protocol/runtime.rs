//! The treatment as it runs inside the model: [`TreatmentState`] owns the protocol state
//! machine ([`Protocol`]) and the whole-body drug state ([`Pharmacology`]), decides when the
//! protocol starts (on diagnosis or at a set day), and keeps the whole-body compartments the
//! drugs act on that the lattice does not hold (NK-cell availability for CD38-directed
//! killing). The model calls it in its stages `apply_protocol` and
//! `advance_pharmacokinetics`; cell rules read [`TreatmentState::cell_step`].
//!
//! Reads: the plan, the patient's body, clinical readouts. Writes: doses, events, procedures.

use super::{ClinicalSnapshot, PhaseKind, Procedure, Protocol, TreatmentPlan};
use crate::clinical::infection::Infections;
use crate::pharma::wiring::CellDrugStep;
use crate::pharma::{Body, DrugEffects, Pharmacology};

/// NK-cell recovery rate towards the pre-treatment level [1/h]: NK counts fall within a week
/// of starting daratumumab and recover within ~3 months of stopping (Casneuf et al. 2017,
/// Blood Adv 1:2105) → time constant ~30 d [L].
pub const NK_RECOVERY_PER_H: f64 = 1.0 / (30.0 * 24.0);

/// CD34+ dose [1/kg] that fully restores the stem-cell pool: 4–5 × 10⁶/kg is the ideal
/// autologous dose, ≥ 2 × 10⁶/kg the minimum for reliable engraftment (MODEL.md §3a) [M].
pub const CD34_FULL_PER_KG: f64 = 5e6;

/// Whether the protocol has started, and why.
#[derive(Clone, Debug, PartialEq)]
enum StartState {
    /// Waiting for diagnosis and/or the start day.
    Waiting,
    /// Started at this step.
    Started(u64),
}

/// The running treatment.
#[derive(Clone, Debug)]
pub struct TreatmentState {
    pharma: Pharmacology,
    proto: Protocol,
    start_on_diagnosis: bool,
    start_step: u64,
    diagnosed: bool,
    state: StartState,
    drug_ids: Vec<usize>,
    nk_availability: f64,
    burden_ref: f64,
    cells: CellDrugStep,
    dt_h: f64,
    infections: Infections,
}

impl TreatmentState {
    /// A treatment for `plan`, sized for `body`, on steps of `dt_h` hours.
    pub fn new(plan: &TreatmentPlan, body: Body, dt_h: f64) -> Self {
        let mut ids: Vec<usize> = Vec::new();
        let regs = plan.regimens.regimens();
        let add_reg = |r: usize, ids: &mut Vec<usize>| {
            for d in &regs[r].doses {
                ids.push(d.drug);
            }
        };
        for p in &plan.phases {
            match p.kind {
                PhaseKind::Regimen(r) => add_reg(r, &mut ids),
                PhaseKind::Asct { .. } => ids.extend(plan.drugs.index("melphalan")),
                PhaseKind::StemCellCollection => {}
            }
        }
        for s in &plan.supportive {
            if let Some(r) = s.regimen {
                add_reg(r, &mut ids);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Self {
            pharma: Pharmacology::new(&plan.drugs),
            proto: Protocol::new(plan, body, dt_h),
            start_on_diagnosis: plan.start_on_diagnosis,
            start_step: super::calendar::days_to_steps(plan.start_d, dt_h),
            diagnosed: false,
            state: StartState::Waiting,
            drug_ids: ids,
            nk_availability: 1.0,
            burden_ref: 0.0,
            cells: CellDrugStep::NEUTRAL,
            dt_h,
            infections: Infections::default(),
        }
    }

    /// Time-series column names, two per drug the plan can give (library order), then
    /// `infections` (cumulative infection episodes):
    /// `<drug>_cmax_nM`, the largest plasma concentration in the output interval, and
    /// `<drug>_avg_nM`, the interval mean (AUC / interval length, exact from the PK solution);
    /// see [`crate::pharma::IntervalStats`]. A once-per-row sample would miss short peaks
    /// (Mel200 is gone within hours).
    pub fn columns(&self) -> Vec<String> {
        self.drug_ids
            .iter()
            .flat_map(|&i| {
                let n = &self.pharma.drugs()[i].name;
                [format!("{n}_cmax_nM"), format!("{n}_avg_nM")]
            })
            .chain(std::iter::once("infections".to_string()))
            .collect()
    }

    /// Interval maximum and mean plasma concentrations [nM] matching [`Self::columns`],
    /// then the cumulative number of infection episodes.
    pub fn concentrations_nm(&self) -> impl Iterator<Item = f64> + '_ {
        self.drug_ids
            .iter()
            .flat_map(|&i| {
                let s = self.pharma.interval(i);
                [s.max_nm, s.mean_nm]
            })
            .chain(std::iter::once(self.infections.count as f64))
    }

    /// Infection state (episodes so far; see [`crate::clinical::infection`]).
    pub fn infections(&self) -> &Infections {
        &self.infections
    }

    /// After the protocol has started: draws this step's infection onset (see
    /// [`Infections::step`]) with the active prophylaxis factor. Returns the event detail
    /// of a new episode.
    pub fn infection_step(
        &mut self,
        seed: u64,
        step: u64,
        time_h: f64,
        anc: f64,
        igg_g_l: f64,
    ) -> Option<String> {
        if !matches!(self.state, StartState::Started(_)) {
            return None;
        }
        let factor = self.proto.infection_hazard_factor();
        let h = self
            .infections
            .step(seed, step, time_h, self.dt_h, anc, igg_g_l, factor)?;
        Some(format!(
            "infection episode {} (hazard {h:.4}/day: ANC {anc:.2} ×10⁹/L, polyclonal IgG \
             {igg_g_l:.1} g/L, prophylaxis factor {factor})",
            self.infections.count
        ))
    }

    /// Starts a new output interval for [`Self::concentrations_nm`] (after a row is written).
    pub fn take_interval(&mut self) {
        self.pharma.take_interval();
    }

    /// True if the protocol waits for a diagnosis that has not been made yet.
    pub fn awaits_diagnosis(&self) -> bool {
        self.start_on_diagnosis && !self.diagnosed
    }

    /// Records the diagnosis (the model checks the criteria).
    pub fn set_diagnosed(&mut self) {
        self.diagnosed = true;
    }

    /// True if the protocol should start at `step` (not started yet, start day reached, and
    /// diagnosed if the plan waits for diagnosis).
    pub fn due_to_start(&self, step: u64) -> bool {
        self.state == StartState::Waiting && step >= self.start_step && !self.awaits_diagnosis()
    }

    /// Marks the start; `mm_cells` is the myeloma burden that target-mediated clearance and
    /// [`ClinicalSnapshot::mm_burden_fraction`] are relative to.
    pub fn start(&mut self, step: u64, mm_cells: f64) {
        self.state = StartState::Started(step);
        self.burden_ref = mm_cells.max(1.0);
    }

    /// Myeloma burden relative to the start of treatment (1 before it).
    pub fn burden_fraction(&self, mm_cells: f64) -> f64 {
        if self.burden_ref > 0.0 {
            mm_cells / self.burden_ref
        } else {
            1.0
        }
    }

    /// Stage `apply_protocol`: steps the protocol (if started), gives the doses and returns
    /// the events (kind for `events.csv`, detail) and procedures of this step.
    pub fn apply(
        &mut self,
        step: u64,
        snap: &ClinicalSnapshot,
    ) -> (Vec<(&'static str, String)>, Vec<Procedure>) {
        if !matches!(self.state, StartState::Started(_)) {
            return (Vec::new(), Vec::new());
        }
        let out = self.proto.step(step, snap);
        for d in &out.doses {
            self.pharma.dose(d.drug, d.amount_mg, d.route);
        }
        let events = out
            .events
            .into_iter()
            .map(|(kind, detail)| match event_kind(kind) {
                k if k == kind => (k, detail),
                k => (k, format!("{kind}: {detail}")),
            })
            .collect();
        (events, out.procedures)
    }

    /// Stage `advance_pharmacokinetics`: advances every drug by `dt_h` (target-mediated
    /// clearance scaled by `burden_fraction`), the NK availability, and the cell effects.
    pub fn advance(&mut self, burden_fraction: f64) {
        let dt = self.dt_h;
        self.pharma.advance(dt, burden_fraction);
        let fx = self.pharma.effects();
        // dA/dt = k(1 − A) − d·A, exact over the step for constant d.
        let (k, d) = (NK_RECOVERY_PER_H, fx.nk_depletion_per_h.max(0.0));
        let a_inf = k / (k + d);
        self.nk_availability = a_inf + (self.nk_availability - a_inf) * (-(k + d) * dt).exp();
        self.cells = CellDrugStep::new(fx, self.nk_availability, dt);
    }

    /// Combined drug effects after the last advance.
    pub fn effects(&self) -> &DrugEffects {
        self.pharma.effects()
    }

    /// What the cell rules apply this step.
    pub fn cell_step(&self) -> CellDrugStep {
        self.cells
    }

    /// NK cells relative to before treatment [0–1].
    pub fn nk_availability(&self) -> f64 {
        self.nk_availability
    }

    /// The current phase name (`""` before the start and after the last phase).
    pub fn phase_name(&self) -> &str {
        self.proto.phase_name().unwrap_or("")
    }

    /// The whole-body drug state.
    pub fn pharmacology(&self) -> &Pharmacology {
        &self.pharma
    }

    /// Stem cells to seed for an infusion of `cd34_per_kg` CD34+ cells/kg into a marrow whose
    /// healthy stem-cell pool is `stem_reference` lattice cells: the graft's repopulating cells
    /// refill a share min(1, cd34 / [`CD34_FULL_PER_KG`]) of the niches. The lattice's stem
    /// cells divide only asymmetrically, so this stands in for the homing and symmetric
    /// self-renewal by which a graft rebuilds the stem-cell pool; neutrophil recovery then
    /// emerges from the progenitor amplification and the blood transit chain.
    pub fn graft_stem_cells(cd34_per_kg: f64, stem_reference: f64) -> usize {
        (stem_reference * (cd34_per_kg / CD34_FULL_PER_KG).min(1.0)).round() as usize
    }
}

/// `events.csv` kind for a protocol log kind: `phase` (phase and cycle starts, protocol
/// end), `dose`, `procedure`, `toxicity` (held or reduced doses), `supportive` (rules
/// switching on or off).
pub fn event_kind(protocol_kind: &'static str) -> &'static str {
    match protocol_kind {
        "cycle" | "protocol_end" | "phase" => "phase",
        "dose_held" | "dose_reduced" => "toxicity",
        "supportive_start" | "supportive_stop" => "supportive",
        "procedure" => "procedure",
        _ => "dose",
    }
}
