//! Treatment milestones of a finished run (`milestones.csv`, `myelosim summary RUN_DIR`): the
//! clinical state at the time points a transplant course is judged by — diagnosis / start of
//! treatment, end of induction, day +14 and day +100 after the stem-cell infusion, and 1 and
//! 3 years after the start of treatment — read back from the run's `events.csv` (phase and
//! procedure events) and `timeseries.csv` (the first row at or after each time point).
//!
//! *Induction* is the protocol's first phase when another phase follows it, whatever its name
//! (`induction`, `D-Rd`, …): its end is the first [`PHASE_ENDS`] event, provided the next event
//! is a [`PHASE_STARTS`] one. A first phase that is the whole protocol (continuous Rd until
//! progression) has no end of induction.
//!
//! Reads: a run directory. Writes: `milestones.csv` there (from [`write`]).

use std::fmt::Write as _;
use std::path::Path;

use super::{PHASE_ENDS, PHASE_STARTS};
use crate::render::data::{EventRow, RunData};

/// Columns of a milestone row, with units.
pub const COLUMNS: [&str; 9] = [
    "milestone",
    "time_d",
    "m_protein_g_dl",
    "response",
    "hb_g_dl",
    "anc_1e9_l",
    "platelets_1e9_l",
    "bv_tv_pct",
    "infections",
];

/// One milestone: its label, the time asked for [d], and the row found (None if the run
/// ended before it).
#[derive(Clone, Debug, PartialEq)]
pub struct Milestone {
    /// Label, e.g. `ASCT day +14`.
    pub label: String,
    /// Time of the milestone [d].
    pub time_d: f64,
    /// Values in [`COLUMNS`] order after `milestone` and `time_d` (text), or None.
    pub values: Option<Vec<String>>,
}

/// The milestones of the run in `dir` (empty if it had no treatment start).
pub fn milestones(dir: &Path) -> Result<Vec<Milestone>, String> {
    let d = RunData::load(dir)?;
    let find = |kind: &str, needle: &str| {
        d.events_of(kind)
            .find(|e| e.detail.contains(needle))
            .map(|e| e.time_d)
    };
    let Some(start) = find("phase", super::TREATMENT_STARTS) else {
        return Ok(Vec::new());
    };
    let mut points: Vec<(String, Option<f64>)> = Vec::new();
    let diagnosis = d.events_of("diagnosis").next().map(|e| e.time_d);
    if let Some(t) = diagnosis {
        points.push(("diagnosis".into(), Some(t)));
    }
    points.push(("start of treatment".into(), Some(start)));
    points.push(("end of induction".into(), end_of_induction(&d.events)));
    let infusion = find("procedure", "stem-cell infusion");
    points.push(("ASCT day +14".into(), infusion.map(|t| t + 14.0)));
    points.push(("ASCT day +100".into(), infusion.map(|t| t + 100.0)));
    points.push(("1 year from start".into(), Some(start + 365.0)));
    points.push(("3 years from start".into(), Some(start + 3.0 * 365.0)));
    let Some(ts) = &d.ts else {
        return Err("no timeseries.csv".into());
    };
    let t = ts.num("time_d").ok_or("timeseries.csv has no time_d")?;
    let cols: Vec<Option<usize>> = COLUMNS[2..].iter().map(|c| ts.index(c)).collect();
    let mut out = Vec::new();
    for (label, when) in points {
        let Some(when) = when else { continue };
        let row = t.iter().position(|&x| x >= when - 1e-9);
        let values = row.map(|k| {
            cols.iter()
                .map(|c| c.map_or(String::new(), |c| ts.rows[k][c].clone()))
                .collect()
        });
        out.push(Milestone {
            label,
            time_d: when,
            values,
        });
    }
    Ok(out)
}

/// Time [d] the protocol's first phase ended and handed over to another (see the module docs).
fn end_of_induction(events: &[EventRow]) -> Option<f64> {
    let i = events
        .iter()
        .position(|e| e.kind == "phase" && e.detail.starts_with(PHASE_ENDS))?;
    let next = events.get(i + 1)?;
    (next.kind == "phase" && next.detail.starts_with(PHASE_STARTS)).then_some(events[i].time_d)
}

/// The milestones as CSV text (header [`COLUMNS`]; values rounded for reading; a milestone
/// after the end of the run has empty values).
pub fn to_csv(ms: &[Milestone]) -> String {
    let mut s = COLUMNS.join(",");
    s.push('\n');
    for m in ms {
        let _ = write!(s, "{},{}", m.label, trim(m.time_d));
        match &m.values {
            Some(v) => {
                for x in v {
                    let shown = x.parse::<f64>().map_or(x.clone(), trim);
                    let _ = write!(s, ",{shown}");
                }
            }
            None => s.push_str(&",".repeat(COLUMNS.len() - 2)),
        }
        s.push('\n');
    }
    s
}

fn trim(v: f64) -> String {
    if v == 0.0 || v.abs() >= 1.0 {
        format!("{}", (v * 100.0).round() / 100.0)
    } else {
        format!("{v:.3}")
    }
}

/// Writes `milestones.csv` into `dir` if the run had a treatment; returns whether it did.
pub fn write(dir: &Path) -> Result<bool, String> {
    let ms = milestones(dir)?;
    if ms.is_empty() {
        return Ok(false);
    }
    std::fs::write(dir.join("milestones.csv"), to_csv(&ms))
        .map_err(|e| format!("milestones.csv: {e}"))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time_d: f64, kind: &str, detail: &str) -> EventRow {
        EventRow {
            time_d,
            kind: kind.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn induction_is_the_first_phase_that_hands_over_to_another() {
        let start = [
            ev(270.0, "phase", "treatment starts: M-protein 1.2 g/dL"),
            ev(270.0, "phase", "start D-Rd (regimen D-Rd; start)"),
            ev(270.0, "phase", "cycle: D-Rd cycle 1 (D-Rd)"),
            ev(271.0, "dose", "D-Rd C1D1: lenalidomide 25 mg"),
        ];
        let mut handed_over = start.to_vec();
        handed_over.extend([
            ev(354.0, "phase", "end D-Rd (4 cycles completed)"),
            ev(
                354.0,
                "phase",
                "start collection (stem-cell collection; 4 cycles completed)",
            ),
            ev(368.0, "phase", "end collection (duration 14 d reached)"),
        ]);
        assert_eq!(end_of_induction(&handed_over), Some(354.0));
        // The only phase ends the protocol: no induction, whatever its name.
        let mut alone = start.to_vec();
        alone[1].detail = "start induction (regimen Rd; start)".into();
        alone.extend([
            ev(900.0, "phase", "end induction (confirmed progression)"),
            ev(900.0, "protocol_end", "last phase completed"),
        ]);
        assert_eq!(end_of_induction(&alone), None);
        assert_eq!(end_of_induction(&start), None, "still running");
    }
}
