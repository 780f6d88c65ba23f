//! Calendar expansion: a regimen cycle → dated doses (cycle, day, drug, mg), and calendar days
//! → integer step offsets. Step offsets are computed once, as `round(hours / dt_h)`, so the
//! protocol never compares floating-point times. A [`CycleCursor`] walks a regimen's cycles
//! step by step (for treatment phases and supportive-care rules alike).
//!
//! Reads: a [`Regimen`], the drug library, the [`Body`]. Writes: nothing (a cursor its own
//! position).

use super::regimen::Regimen;
use crate::pharma::{Body, DoseSpec, DrugLibrary, Route};

/// One planned dose of a regimen cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedDose {
    /// Cycle (1-based).
    pub cycle: u32,
    /// Day of the cycle (1-based).
    pub day: u32,
    /// Drug id.
    pub drug: usize,
    /// Drug name.
    pub drug_name: String,
    /// Prescription (basis).
    pub spec: DoseSpec,
    /// Resolved amount [mg] for the body.
    pub amount_mg: f64,
    /// Route.
    pub route: Route,
}

impl PlannedDose {
    /// `bortezomib 2.36 mg (1.3 mg/m²) sc`.
    pub fn describe(&self) -> String {
        let basis = match self.spec.basis {
            crate::pharma::DoseBasis::Flat => "flat".to_string(),
            _ => self.spec.describe(),
        };
        let route = match self.route {
            Route::IvInfusion { hours } => format!("iv_infusion {hours} h"),
            r => r.name().to_string(),
        };
        format!(
            "{} {} mg ({basis}) {route}",
            self.drug_name,
            fmt_mg(self.amount_mg)
        )
    }
}

/// A dose amount with up to 4 significant digits.
pub fn fmt_mg(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The doses of cycle `cycle` (1-based) of `regimen`, ordered by day, then regimen entry order.
pub fn cycle_doses(
    regimen: &Regimen,
    cycle: u32,
    drugs: &DrugLibrary,
    body: &Body,
) -> Vec<PlannedDose> {
    let mut out = Vec::new();
    for e in regimen.doses.iter().filter(|e| e.cycles.contains(cycle)) {
        let drug = &drugs.drugs()[e.drug];
        let amount_mg = e.dose.resolve_mg(body, drug.iu_per_mg);
        for &day in &e.days {
            out.push(PlannedDose {
                cycle,
                day,
                drug: e.drug,
                drug_name: e.drug_name.clone(),
                spec: e.dose,
                amount_mg,
                route: e.route,
            });
        }
    }
    // Stable: ties keep entry order.
    out.sort_by_key(|d| d.day);
    out
}

/// Step offset of `hours` after a reference step: `round(hours / dt_h)`.
pub fn hours_to_steps(hours: f64, dt_h: f64) -> u64 {
    (hours / dt_h).round().max(0.0) as u64
}

/// Step offset of day `day` (1-based) of a cycle from the cycle's first step.
pub fn day_offset_steps(day: u32, dt_h: f64) -> u64 {
    hours_to_steps((day as f64 - 1.0) * 24.0, dt_h)
}

/// Steps in `days` days (at least 1).
pub fn days_to_steps(days: f64, dt_h: f64) -> u64 {
    hours_to_steps(days * 24.0, dt_h).max(1)
}

/// Where a repeating regimen stands: the current cycle, the step it began, its doses as step
/// offsets from that step, and the next dose not yet given.
#[derive(Clone, Debug, Default)]
pub struct CycleCursor {
    cycle: u32,
    start: u64,
    /// (offset from `start` [steps], dose), in calendar order.
    doses: Vec<(u64, PlannedDose)>,
    next: usize,
}

impl CycleCursor {
    /// Begins cycle `cycle` (1-based) of `regimen` at `step`.
    pub fn begin(
        &mut self,
        regimen: &Regimen,
        cycle: u32,
        step: u64,
        drugs: &DrugLibrary,
        body: &Body,
        dt_h: f64,
    ) {
        self.cycle = cycle;
        self.start = step;
        self.next = 0;
        self.doses = cycle_doses(regimen, cycle, drugs, body)
            .into_iter()
            .map(|d| (day_offset_steps(d.day, dt_h), d))
            .collect();
    }

    /// No cycle running: cycle 0, nothing due.
    pub fn clear(&mut self) {
        self.cycle = 0;
        self.next = 0;
        self.doses.clear();
    }

    /// The current cycle (1-based; 0 when none runs).
    pub fn cycle(&self) -> u32 {
        self.cycle
    }

    /// Whether a cycle of `regimen`'s length has passed at `step` since this one began.
    pub fn finished(&self, regimen: &Regimen, step: u64, dt_h: f64) -> bool {
        step - self.start >= days_to_steps(regimen.cycle_length_d as f64, dt_h)
    }

    /// The next dose whose day has come by `step`, if any is left; moves past it.
    pub fn take_due(&mut self, step: u64) -> Option<&PlannedDose> {
        let (offset, dose) = self.doses.get(self.next)?;
        if *offset > step - self.start {
            return None;
        }
        self.next += 1;
        Some(dose)
    }
}
