//! IMWG response and confirmed progression (stage `assess`), after Kumar et al. 2016 and
//! Durie 2006 (MODEL.md §4a).
//!
//! The marker is serum M-protein for intact-immunoglobulin disease and the involved FLC above
//! background (≈ the involved–uninvolved difference) for light-chain disease. *Baseline* is
//! the first assessment at which disease is measurable (M ≥ 1 g/dL, or involved FLC ≥
//! 100 mg/L); before that the category is `NA`. With a baseline:
//! - **sCR**: CR and no clonal cells at 10⁻⁴ (flow) — myeloma fraction < 1e-4;
//! - **CR**: marker below immunofixation detection (M < 0.01 g/dL; FLC excess < 1 mg/L) and
//!   marrow plasma cells < 5 %;
//! - **VGPR**: ≥ 90 % fall, or M below electrophoresis detection (< 0.1 g/dL);
//! - **PR**: ≥ 50 % fall; **MR**: 25–49 % fall; **SD** otherwise;
//! - **PD**: confirmed progression — on two consecutive assessments the marker is ≥ 25 % above
//!   the nadir (lowest value since baseline) *and* ≥ 0.5 g/dL above it (≥ 1 g/dL if the nadir
//!   was ≥ 5 g/dL; FLC: ≥ 100 mg/L). Once confirmed, PD persists (no re-baselining without
//!   treatment).
//!
//! Reads: assessment values. Writes: its own state.

/// IMWG response category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// No baseline yet (disease not measurable).
    NA,
    /// Stringent complete response.
    SCR,
    /// Complete response.
    CR,
    /// Very good partial response.
    VGPR,
    /// Partial response.
    PR,
    /// Minimal response.
    MR,
    /// Stable disease.
    SD,
    /// Progressive disease (confirmed).
    PD,
}

impl Category {
    /// Label as written in outputs.
    pub fn label(self) -> &'static str {
        match self {
            Category::NA => "NA",
            Category::SCR => "sCR",
            Category::CR => "CR",
            Category::VGPR => "VGPR",
            Category::PR => "PR",
            Category::MR => "MR",
            Category::SD => "SD",
            Category::PD => "PD",
        }
    }
}

/// One assessment's measurements.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Assessment {
    /// Serum M-protein [g/dL].
    pub m_g_dl: f64,
    /// Involved FLC above background [mg/L].
    pub flc_excess_mg_l: f64,
    /// Marrow plasma cells [%].
    pub marrow_pc_pct: f64,
    /// Myeloma fraction of nucleated marrow cells [0–1].
    pub mm_fraction: f64,
}

/// Baseline, nadir and confirmation state across assessments.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseTracker {
    light_chain: bool,
    baseline: Option<f64>,
    nadir: f64,
    rising: u32,
    progressed: bool,
    /// Current category.
    pub current: Category,
}

impl ResponseTracker {
    /// A tracker using M-protein (`light_chain = false`) or involved FLC as marker.
    pub fn new(light_chain: bool) -> Self {
        Self {
            light_chain,
            baseline: None,
            nadir: f64::INFINITY,
            rising: 0,
            progressed: false,
            current: Category::NA,
        }
    }

    /// The baseline marker value, if set (g/dL or mg/L).
    pub fn baseline(&self) -> Option<f64> {
        self.baseline
    }

    /// Records one assessment; returns the category and whether progression was confirmed
    /// by this assessment (true at most once).
    pub fn assess(&mut self, a: &Assessment) -> (Category, bool) {
        let (v, measurable, ife, spep, abs_rise) = if self.light_chain {
            (a.flc_excess_mg_l, 100.0, 1.0, 0.0, 100.0)
        } else {
            let abs = if self.nadir >= 5.0 && self.nadir.is_finite() {
                1.0
            } else {
                0.5
            };
            (a.m_g_dl, 1.0, 0.01, 0.1, abs)
        };
        let Some(base) = self.baseline else {
            if v >= measurable {
                self.baseline = Some(v);
                self.nadir = v;
                self.current = Category::SD;
            }
            return (self.current, false);
        };
        let mut confirmed_now = false;
        if !self.progressed {
            if v >= 1.25 * self.nadir && v - self.nadir >= abs_rise {
                self.rising += 1;
            } else {
                self.rising = 0;
            }
            if self.rising >= 2 {
                self.progressed = true;
                confirmed_now = true;
            }
        }
        self.nadir = self.nadir.min(v);
        self.current = if self.progressed {
            Category::PD
        } else if v < ife && a.marrow_pc_pct < 5.0 {
            if a.mm_fraction < 1e-4 {
                Category::SCR
            } else {
                Category::CR
            }
        } else if v <= 0.1 * base || v < spep {
            Category::VGPR
        } else if v <= 0.5 * base {
            Category::PR
        } else if v <= 0.75 * base {
            Category::MR
        } else {
            Category::SD
        };
        (self.current, confirmed_now)
    }
}

/// Whether an assessment meets the model's **diagnosis** of active myeloma (IMWG 2014,
/// Rajkumar et al.; MODEL.md §4b): clonal marrow plasma cells ≥ 10 % *and* at least one
/// myeloma-defining event — a CRAB feature (`crab` = [C, R, A, B] as from `Model::crab`) or
/// plasma cells ≥ 60 % (SLiM). The FLC-ratio and MRI SLiM criteria are not modelled.
pub fn meets_diagnosis(marrow_pc_pct: f64, crab: [bool; 4]) -> bool {
    marrow_pc_pct >= 10.0 && (marrow_pc_pct >= 60.0 || crab.iter().any(|&f| f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: f64) -> Assessment {
        Assessment {
            m_g_dl: v,
            marrow_pc_pct: 30.0,
            mm_fraction: 0.3,
            ..Default::default()
        }
    }

    #[test]
    fn categories_and_confirmed_progression() {
        let mut t = ResponseTracker::new(false);
        assert_eq!(t.assess(&m(0.5)).0, Category::NA);
        assert_eq!(t.assess(&m(4.0)).0, Category::SD);
        assert_eq!(t.assess(&m(2.9)).0, Category::MR);
        assert_eq!(t.assess(&m(1.9)).0, Category::PR);
        assert_eq!(t.assess(&m(0.3)).0, Category::VGPR);
        // nadir 0.3: 0.7 is +133 % but only +0.4 g/dL → not yet.
        assert_eq!(t.assess(&m(0.7)), (Category::PR, false));
        // 0.9 (+0.6) once: unconfirmed; twice: PD confirmed once.
        assert!(!t.assess(&m(0.9)).1);
        assert_eq!(t.assess(&m(1.0)), (Category::PD, true));
        assert_eq!(t.assess(&m(1.5)), (Category::PD, false));
    }
}
