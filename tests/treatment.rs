//! Treatment wired into the model (issue 4, part B): ASCT aplasia and engraftment, dose
//! response, VRd response and the IgG floor, bisphosphonate bone protection, and thread-count
//! determinism with drugs on board. Small lattices (100 × 100) keep each test to seconds.

mod common;

use std::path::Path;

use myelosim::model::Model;
use myelosim::observe::MemoryObserver;
use myelosim::scenario::{Scenario, load_str};

/// untreated_myeloma.toml's biology on a 100 × 100 lattice plus a `[treatment]` block.
fn scenario(treatment: &str, set: &[&str]) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let base = std::fs::read_to_string(dir.join("untreated_myeloma.toml")).unwrap();
    let text = format!("{base}\n{treatment}");
    let mut sets: Vec<String> = ["space.nx=100", "space.ny=100", "run.record_every_h=24"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    sets.extend(set.iter().map(|s| s.to_string()));
    load_str(&text, "<treatment test>", &dir, &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &Scenario) -> (Model, MemoryObserver) {
    common::run_in_memory(s, 1)
}

fn col(o: &MemoryObserver, c: &str) -> Vec<f64> {
    o.column(c).unwrap_or_else(|| panic!("no column {c}"))
}

/// First day ≥ +1 from which ANC ≥ 0.5 × 10⁹/L on 3 consecutive daily samples after an
/// aplasia (the usual definition of neutrophil engraftment), relative to day 0.
fn engraftment_day(t: &[f64], anc: &[f64], day0: f64) -> Option<f64> {
    let seen_low = |k: usize| anc[..k].iter().zip(t).any(|(a, x)| *a < 0.5 && *x > day0);
    (0..t.len().saturating_sub(2))
        .find(|&k| t[k] > day0 && anc[k..k + 3].iter().all(|a| *a >= 0.5) && seen_low(k))
        .map(|k| t[k] - day0)
}

/// Mel200 on day −2 (protocol start at day 20), graft on day 0 (MODEL.md §3a): ANC falls
/// below 0.5 × 10⁹/L between day +2 and +7 (clinically +3 to +5) and engrafts (3 days
/// ≥ 0.5) on day +11 to +14; platelets fall below 20 × 10⁹/L by day +10 and stay there for
/// several days (≥ 3), then recover above 20 by day +21; counts are back near normal by
/// day +30.
#[test]
fn asct_nadir_and_engraftment_timing() {
    let s = scenario(
        "[treatment]\nstart_d = 20.0\n[[treatment.phases]]\nname = \"asct\"\nprocedure = \"asct\"\n",
        &["run.duration_d=55"],
    );
    let (_, o) = run(&s);
    let t = col(&o, "time_d");
    let anc = col(&o, "anc_1e9_l");
    let plt = col(&o, "platelets_1e9_l");
    let day0 = 22.0;
    let below: Vec<f64> = t
        .iter()
        .zip(&anc)
        .filter(|(_, a)| **a < 0.5)
        .map(|(t, _)| t - day0)
        .collect();
    assert!(
        !below.is_empty(),
        "no aplasia: ANC min {:?}",
        anc.iter().cloned().fold(f64::INFINITY, f64::min)
    );
    let first = below[0];
    let engraft = engraftment_day(&t, &anc, day0);
    let plt_low: Vec<f64> = t
        .iter()
        .zip(&plt)
        .filter(|(x, p)| **p < 20.0 && **x > day0)
        .map(|(x, _)| x - day0)
        .collect();
    let (k_min, p_min) =
        plt.iter().enumerate().fold(
            (0, f64::INFINITY),
            |b, (k, &p)| if p < b.1 { (k, p) } else { b },
        );
    eprintln!(
        "ANC < 0.5 from day +{first}, engraftment day +{engraft:?}; platelets < 20 on days \
         {plt_low:?}, nadir {p_min:.1} on day +{}",
        t[k_min] - day0
    );
    assert!((2.0..=7.0).contains(&first), "aplasia starts day +{first}");
    let engraft = engraft.expect("ANC never engrafted");
    assert!(
        (11.0..=14.0).contains(&engraft),
        "ANC engraftment day +{engraft}"
    );
    assert!(p_min < 20.0, "platelet nadir {p_min}");
    assert!(
        plt_low.first().is_some_and(|&d| (5.0..=10.0).contains(&d)),
        "platelets < 20 from day {plt_low:?}"
    );
    assert!(plt_low.len() >= 3, "platelets < 20 only on {plt_low:?}");
    assert!(
        plt_low.last().is_some_and(|&d| d < 21.0),
        "platelets still < 20 on day +{:?}",
        plt_low.last()
    );
    // Engrafted: counts back near normal by day +30 (normal 4.0 and 250).
    let k = t.iter().position(|&x| x >= day0 + 30.0).unwrap();
    assert!(anc[k] > 2.0, "ANC {} at day +30", anc[k]);
    assert!(plt[k] > 150.0, "platelets {} at day +30", plt[k]);
}

/// Infection prophylaxis lowers the number of infection episodes (same seeds, with and
/// without a prophylaxis rule; the aplasia after Mel200 carries most of the hazard). The
/// `infections` column is cumulative and matches the `infection` events.
#[test]
fn infection_prophylaxis_lowers_infections_across_seeds() {
    let asct = "[treatment]\nstart_d = 20.0\n[[treatment.phases]]\nname = \"asct\"\nprocedure = \"asct\"\n";
    let with = format!(
        "{asct}[[treatment.supportive]]\nname = \"levofloxacin\"\ninfection_hazard_factor = 0.5\n"
    );
    let seeds = [1u64, 2, 3, 4];
    let count = |tx: &str, seed: u64| {
        let seed = format!("run.seed={seed}");
        let (_, o) = run(&scenario(tx, &["run.duration_d=45", &seed]));
        let n = *col(&o, "infections").last().unwrap();
        let ev = o.events.iter().filter(|e| e.kind == "infection").count();
        assert_eq!(n as usize, ev, "column and events disagree");
        n
    };
    let (a, b): (Vec<f64>, Vec<f64>) = std::thread::scope(|sc| {
        let a: Vec<_> = seeds
            .iter()
            .map(|&k| sc.spawn(move || count(asct, k)))
            .collect();
        let w = &with;
        let b: Vec<_> = seeds
            .iter()
            .map(|&k| sc.spawn(move || count(w, k)))
            .collect();
        (
            a.into_iter().map(|h| h.join().unwrap()).collect(),
            b.into_iter().map(|h| h.join().unwrap()).collect(),
        )
    });
    let (na, nb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    eprintln!("infections per seed without prophylaxis {a:?}, with {b:?}");
    assert!(na >= 3.0, "too few infections to compare: {a:?}");
    assert!(
        nb < na,
        "prophylaxis did not lower infections: {b:?} vs {a:?}"
    );
}

/// Higher bortezomib dose (same seed, same biology) leaves fewer myeloma cells after one
/// 21-day cycle of single-agent bortezomib (days 1, 4, 8, 11).
#[test]
fn bortezomib_dose_response_is_monotone() {
    let cells = |mg_m2: f64| {
        let tx = format!(
            "[treatment]\nstart_d = 30.0\n\
             [treatment.regimens.V]\ncycle_length_d = 21\ncycles = 1\n\
             [[treatment.regimens.V.doses]]\ndrug = \"bortezomib\"\ndose_mg_m2 = {mg_m2}\nroute = \"sc\"\ndays = [1, 4, 8, 11]\n\
             [[treatment.phases]]\nname = \"V\"\nregimen = \"V\"\n"
        );
        let (m, _) = run(&scenario(
            &tx,
            &["run.duration_d=51", "myeloma.initial_cells=2000"],
        ));
        m.count(myelosim::cells::lattice::CellKind::Myeloma)
    };
    let doses = [0.0001, 1.3, 2.6, 5.2];
    let n: Vec<u64> = std::thread::scope(|sc| {
        let hs: Vec<_> = doses.iter().map(|&d| sc.spawn(move || cells(d))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!("myeloma cells after one cycle at {doses:?} mg/m²: {n:?}");
    // Monotone up to 1 % stochastic noise (1.3 mg/m² single-agent is within noise of no
    // drug over one cycle at the current potency; see the report), and a clear effect at the
    // top dose.
    for w in n.windows(2) {
        assert!(w[1] as f64 <= 1.01 * w[0] as f64, "not monotone: {n:?}");
    }
    assert!(n[2] < n[0] && 2 * n[3] < n[0], "no dose effect: {n:?}");
}

/// VRd from diagnosis: ≥ PR (M-protein ≤ 50 % of baseline) within 2 cycles (42 d), and the
/// M-protein never falls faster than IgG catabolism allows (t½ 21 d; FcRn unsaturated) —
/// even total eradication cannot beat that floor.
#[test]
fn vrd_partial_response_within_two_cycles_above_igg_floor() {
    let s = scenario(
        "[treatment]\nstart_on_diagnosis = true\n[[treatment.phases]]\nname = \"induction\"\nregimen = \"VRd\"\ncycles = 2\n",
        &["run.duration_d=500"],
    );
    let (m, o) = run(&s);
    let start = o
        .events
        .iter()
        .find(|e| e.kind == "phase" && e.detail.starts_with(myelosim::observe::TREATMENT_STARTS))
        .unwrap_or_else(|| panic!("never diagnosed; events: {:?}", o.events))
        .time_d;
    assert!(
        start + 42.0 <= m.time_d(),
        "run too short after diagnosis at day {start}"
    );
    let t = col(&o, "time_d");
    let mp = col(&o, "m_protein_g_dl");
    let k0 = t.iter().position(|&x| x >= start).unwrap();
    let k42 = t.iter().position(|&x| x >= start + 42.0).unwrap();
    eprintln!(
        "diagnosis day {start}: M {:.3} → {:.3} g/dL after 42 d",
        mp[k0], mp[k42]
    );
    assert!(mp[k42] <= 0.5 * mp[k0], "no PR: {} → {}", mp[k0], mp[k42]);
    // IgG floor: M(t+1 d) ≥ M(t)·exp(−ln2/21 d · 1 d) (allow 1 % for the daily sampling).
    let floor = (-std::f64::consts::LN_2 / 21.0).exp();
    for k in k0..t.len() - 1 {
        assert!(
            mp[k + 1] >= 0.99 * floor * mp[k],
            "day {}: {} → {} beats the IgG floor",
            t[k],
            mp[k],
            mp[k + 1]
        );
    }
}

/// Zoledronic acid q4w from day 60 slows the myeloma's bone loss (same seed without it).
#[test]
fn bisphosphonate_slows_bone_loss() {
    let with = "[treatment]\nstart_d = 60.0\n[[treatment.supportive]]\nname = \"zol\"\nregimen = \"zoledronic-q4w\"\n";
    let without = "[treatment]\nstart_d = 60.0\n";
    let (a, b) = std::thread::scope(|sc| {
        let a = sc.spawn(|| run(&scenario(with, &["run.duration_d=365"])));
        let b = sc.spawn(|| run(&scenario(without, &["run.duration_d=365"])));
        (a.join().unwrap(), b.join().unwrap())
    });
    let bone = |o: &MemoryObserver| col(o, "bone_sites");
    let (bw, bo) = (bone(&a.1), bone(&b.1));
    let lost_with = bw[0] - bw.last().unwrap();
    let lost_without = bo[0] - bo.last().unwrap();
    eprintln!(
        "bone sites lost in a year: {lost_with} with zoledronic acid, {lost_without} without"
    );
    assert!(lost_without > 0.0, "no bone loss to protect against");
    assert!(lost_with < lost_without, "{lost_with} vs {lost_without}");
}

/// With drugs on board the run is byte-identical on 1 and 2 threads (rows and events).
#[test]
fn treatment_is_thread_count_deterministic() {
    let s = scenario(
        "[treatment]\nstart_d = 5.0\n[[treatment.phases]]\nname = \"i\"\nregimen = \"VRd\"\ncycles = 1\n\
         [[treatment.phases]]\nname = \"asct\"\nprocedure = \"asct\"\n",
        &["run.duration_d=45"],
    );
    let (_, a) = common::run_in_memory(&s, 1);
    let (_, b) = common::run_in_memory(&s, 2);
    assert_eq!(format!("{:?}", a.rows), format!("{:?}", b.rows));
    assert_eq!(format!("{:?}", a.events), format!("{:?}", b.events));
    assert!(a.events.iter().any(|e| e.kind == "dose"));
    assert!(a.events.iter().any(|e| e.kind == "procedure"));
}

/// default.toml's patient on a 100 × 100 patch (50 seeds: the same density) to day 660, with
/// its lenalidomide maintenance (`maintenance = true`) or without it (placebo: the phase
/// removed).
fn default_pathway(maintenance: bool, seed: u64) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut text = myelosim::scenario::DEFAULT_SCENARIO.to_string();
    if !maintenance {
        let a = text
            .find("[[treatment.phases]]\n# Lenalidomide 10 mg days 1–28")
            .expect("maintenance phase in default.toml");
        let b = a + text[a..].find("[[treatment.toxicity]]").unwrap();
        text.replace_range(a..b, "");
    }
    let sets: Vec<String> = [
        "space.nx=100".to_string(),
        "space.ny=100".into(),
        "myeloma.initial_cells=50".into(),
        "run.duration_d=660".into(),
        "output.snapshot_every_d=0".into(),
        format!("run.seed={seed}"),
    ]
    .into();
    load_str(&text, "<maintenance test>", &dir, &sets).unwrap_or_else(|e| panic!("{e}"))
}

/// Lenalidomide maintenance roughly halves the regrowth of a drug-sensitive clone after
/// induction, ASCT and consolidation (the calibration target of lenalidomide's
/// `mm_antiproliferation`: McCarthy 2017 meta-analysis, median PFS 53 vs 24 months, HR 0.48;
/// docs/MODEL.md §3.3.6). Log-slope of the M-protein summed over seeds 1–3 from the start of
/// maintenance (day 472) to 180 days later, maintenance / placebo: asserted 0.3–0.7 (measured
/// 0.45 with EC50 90 nM on the distributed fields; 0.44 on seeds 1–6). Before the calibration
/// (emax 0.5, EC50 1 µM) it was 0.92, and the classic-field value 70 nM gives 0.24 on the
/// distributed fields, so the test fails there.
#[test]
fn lenalidomide_maintenance_halves_regrowth() {
    let mut sums = [[0.0f64; 2]; 2];
    let mut start = None;
    for seed in [1, 2, 3] {
        for (arm, maint) in [(0, true), (1, false)] {
            let (_, o) = run(&default_pathway(maint, seed));
            if maint && start.is_none() {
                start = o
                    .events
                    .iter()
                    .find(|e| e.kind == "phase" && e.detail.starts_with("start maintenance"))
                    .map(|e| e.time_d);
            }
            let d0 = start.expect("maintenance starts");
            let (t, m) = (col(&o, "time_d"), col(&o, "m_protein_g_dl"));
            let at = |d: f64| m[t.iter().position(|&x| x >= d - 1e-9).expect("recorded")];
            sums[arm][0] += at(d0);
            sums[arm][1] += at(d0 + 180.0);
        }
    }
    let slope = |s: [f64; 2]| (s[1] / s[0]).ln() / 180.0;
    let (m, p) = (slope(sums[0]), slope(sums[1]));
    eprintln!(
        "M-protein (sum of 3 seeds) maintenance {:.3} -> {:.3}, placebo {:.3} -> {:.3} g/dL; \
         log-slopes {m:.4}/d vs {p:.4}/d, ratio {:.2}",
        sums[0][0],
        sums[0][1],
        sums[1][0],
        sums[1][1],
        m / p
    );
    assert!(p > 0.005, "placebo should regrow: {p:.4}/d");
    assert!((0.3..0.7).contains(&(m / p)), "ratio {:.2}", m / p);
}
