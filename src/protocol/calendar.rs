//! Calendar expansion: a regimen cycle → dated doses (cycle, day, drug, mg), and calendar days
//! → integer step offsets. Step offsets are computed once, as `round(hours / dt_h)`, so the
//! protocol never compares floating-point times.
//!
//! Reads: a [`Regimen`], the drug library, the [`Body`]. Writes: nothing.

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
