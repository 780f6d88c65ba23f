//! Infections (part of stage `apply_protocol`, runs with a `[treatment]` block only): a
//! whole-body hazard of a clinically significant infection (febrile episode or documented
//! infection) per day, driven by the neutrophil count and the polyclonal IgG, lowered by
//! active infection prophylaxis, and sampled once per step from a keyed random stream
//! (`Purpose::Systemic`, unit [`RNG_UNIT`]), so it draws nothing from the cell streams.
//!
//! ```text
//! h = (h_base + h_ANC) · m_IgG · f_prophylaxis          [1/day]
//! h_ANC = H_ANC_BELOW_0_5 if ANC < 0.5, H_ANC_BELOW_1_0 if 0.5 ≤ ANC < 1.0, else 0
//! m_IgG = 1 + IGG_RISK_SLOPE · max(0, 1 − IgG/IGG_LOW_G_L)
//! ```
//!
//! One infection is an episode of [`EPISODE_D`] days: no new onset is drawn during it.
//!
//! Reads: ANC [10⁹/L], polyclonal IgG [g/L], the prophylaxis factor. Writes: its own state
//! (episode count, episode end); the model turns onsets into `infection` events.

use crate::rng::{self, Purpose};
use rand::Rng;

/// Baseline hazard in treated myeloma with normal counts [1/day]: TEAMM placebo arm
/// (Drayson et al. 2019, Lancet Oncol 20:1760), 19 % febrile episodes or deaths in the first
/// 12 weeks of therapy → −ln(0.81)/84 d ≈ 0.0025/day [M].
pub const H_BASE_PER_D: f64 = 0.0025;
/// Extra hazard while ANC < 0.5 × 10⁹/L [1/day]: the risk of infection rises steeply below
/// 0.5 and 0.1 (Bodey et al. 1966, Ann Intern Med 64:328); ~70–90 % of Mel200/ASCT patients
/// have a febrile neutropenic episode during 6–8 d of aplasia → ≈ 0.2/day [M].
pub const H_ANC_BELOW_0_5: f64 = 0.2;
/// Extra hazard while 0.5 ≤ ANC < 1.0 × 10⁹/L [1/day]: an order of magnitude below severe
/// neutropenia and well above baseline (Bodey 1966: infections in ~10 % of days at
/// 0.5–1.0 vs ~50 % below 0.1 in acute leukaemia) [L].
pub const H_ANC_BELOW_1_0: f64 = 0.02;
/// Polyclonal IgG below which the infection risk rises [g/L]: lower limit of normal ~6–7
/// (Blimark et al. 2015, Haematologica 100:107: myeloma has a 7× risk of bacterial infection,
/// attributed mainly to hypogammaglobulinaemia and treatment) [M].
pub const IGG_LOW_G_L: f64 = 6.0;
/// Relative risk increase at IgG → 0 (m_IgG = 1 + slope at zero IgG) [L]: with slope 2 a
/// patient at IgG 3 g/L has twice the baseline risk, in line with the ~2× risk of severe
/// hypogammaglobulinaemia reported in CLL and myeloma cohorts.
pub const IGG_RISK_SLOPE: f64 = 2.0;
/// Length of one infection episode, during which no new onset is drawn [days] [L].
pub const EPISODE_D: f64 = 7.0;
/// Unit of the `Purpose::Systemic` stream used for infection draws.
pub const RNG_UNIT: u64 = 17;

/// Infection hazard [1/day] at ANC `anc` [10⁹/L], polyclonal IgG `igg_g_l` [g/L] and
/// prophylaxis factor `factor` (1 = none; 0.5 = levofloxacin in TEAMM, HR ≈ 0.5).
pub fn hazard_per_day(anc: f64, igg_g_l: f64, factor: f64) -> f64 {
    let h_anc = if anc < 0.5 {
        H_ANC_BELOW_0_5
    } else if anc < 1.0 {
        H_ANC_BELOW_1_0
    } else {
        0.0
    };
    let m_igg = 1.0 + IGG_RISK_SLOPE * (1.0 - igg_g_l / IGG_LOW_G_L).max(0.0);
    (H_BASE_PER_D + h_anc) * m_igg * factor.max(0.0)
}

/// Infection state of the patient.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Infections {
    /// Episodes so far.
    pub count: u64,
    /// Time the current episode ends [h] (no onset before it).
    busy_until_h: f64,
}

impl Infections {
    /// One step of `dt_h` ending at `time_h` (step index `step`, master `seed`): draws an
    /// onset with probability 1 − exp(−h·dt) unless an episode is running. Returns the hazard
    /// [1/day] if an infection starts.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        seed: u64,
        step: u64,
        time_h: f64,
        dt_h: f64,
        anc: f64,
        igg_g_l: f64,
        factor: f64,
    ) -> Option<f64> {
        if time_h < self.busy_until_h {
            return None;
        }
        let h = hazard_per_day(anc, igg_g_l, factor);
        let p = -(-h * dt_h / 24.0).exp_m1();
        let draw = rng::stream(seed, Purpose::Systemic, step, RNG_UNIT).next_u64();
        // 53 high bits → uniform in [0, 1).
        let u = (draw >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        if u < p {
            self.count += 1;
            self.busy_until_h = time_h + EPISODE_D * 24.0;
            Some(h)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazard_rises_with_neutropenia_and_low_igg_and_falls_with_prophylaxis() {
        let base = hazard_per_day(4.0, 10.0, 1.0);
        assert!((base - H_BASE_PER_D).abs() < 1e-12);
        assert!(hazard_per_day(0.8, 10.0, 1.0) > base);
        assert!(hazard_per_day(0.3, 10.0, 1.0) > hazard_per_day(0.8, 10.0, 1.0));
        assert!(hazard_per_day(4.0, 3.0, 1.0) > base);
        assert!(
            (hazard_per_day(0.3, 3.0, 0.5) - 0.5 * hazard_per_day(0.3, 3.0, 1.0)).abs() < 1e-12
        );
    }

    /// 400 patients through a 10-day aplasia (ANC 0.2) on 4-h steps: the number with an
    /// episode matches the hazard (the 7-d episode length allows at most 2 per patient) and
    /// prophylaxis (factor 0.5) lowers it by about the expected share.
    #[test]
    fn sampled_episodes_follow_the_hazard_and_prophylaxis() {
        let count = |factor: f64| -> u64 {
            (0..400u64)
                .map(|seed| {
                    let mut inf = Infections::default();
                    for step in 0..60u64 {
                        inf.step(seed, step, step as f64 * 4.0, 4.0, 0.2, 10.0, factor);
                    }
                    inf.count
                })
                .sum()
        };
        let (none, half) = (count(1.0), count(0.5));
        // P(≥ 1 episode in 10 d) = 1 − e^{−h·10}: 0.87 without, 0.64 with prophylaxis.
        let p_none = 1.0 - (-hazard_per_day(0.2, 10.0, 1.0) * 10.0).exp();
        let p_half = 1.0 - (-hazard_per_day(0.2, 10.0, 0.5) * 10.0).exp();
        assert!(none as f64 >= 400.0 * p_none * 0.9, "{none}");
        assert!(half as f64 >= 400.0 * p_half * 0.85, "{half}");
        assert!((half as f64) < 0.85 * none as f64, "{half} vs {none}");
    }
}
