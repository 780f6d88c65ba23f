//! Myeloma clones (issue 5): thread-count-independent clone ids and counts, lineage
//! consistency, drug selection of a resistant subclone, CAM-DR, the biphasic VRd response of
//! the hierarchy, subclone seeding and self-renewal, and the clonal relapse under maintenance
//! (clonal_relapse.toml on 100 × 100, six ~800-day runs: the slowest test, ~20 s wall on two
//! idle cores). Small lattices (60 × 60) and short runs for the rest.

mod common;

use std::path::Path;

use myelosim::clones::CloneTable;
use myelosim::model::Model;
use myelosim::scenario::{Scenario, load_str};

/// untreated_myeloma.toml's biology on a 60 × 60 lattice with 400 random initial cells, plus
/// `extra` TOML (a `[clones]` and optionally a `[treatment]` section).
fn scenario(extra: &str, set: &[&str]) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let base = std::fs::read_to_string(dir.join("untreated_myeloma.toml")).unwrap();
    let text = format!("{base}\n{extra}");
    let mut sets: Vec<String> = [
        "space.nx=60",
        "space.ny=60",
        "space.tile_sites=16",
        "myeloma.initial_cells=400",
        "run.record_every_h=24",
        "output.snapshot_every_d=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    sets.extend(set.iter().map(|s| s.to_string()));
    load_str(&text, "<clones test>", &dir, &sets).unwrap_or_else(|e| panic!("{e}"))
}

/// A fast-mutating clone run (mutation 2 % per division) so that dozens of subclones are born.
fn mutating(seed: u64) -> Scenario {
    scenario(
        "[clones]\nfounder_lesions = [\"t4_14\"]\nmutation_per_division = 0.02\n",
        &["run.duration_d=60", &format!("run.seed={seed}")],
    )
}

fn table(m: &Model) -> CloneTable {
    m.clones().expect("clones on").table().clone()
}

/// Clone ids, the clone table and the per-clone count series are identical on 1 and 2
/// threads (new clones are born inside the parallel sweep).
#[test]
fn clone_ids_and_counts_independent_of_threads() {
    let s = mutating(7);
    let (m1, o1) = common::run_in_memory(&s, 1);
    let (m2, o2) = common::run_in_memory(&s, 2);
    let (t1, t2) = (table(&m1), table(&m2));
    eprintln!("{} clones born", t1.len() - 1);
    assert!(t1.len() >= 5, "too few clones to test ids: {}", t1.len());
    assert_eq!(t1, t2, "clone tables differ between 1 and 2 threads");
    assert_eq!(m1.clone_counts(), m2.clone_counts());
    assert_eq!(
        m1.clones().unwrap().series(),
        m2.clones().unwrap().series(),
        "per-clone series differ"
    );
    assert_eq!(m1.lattice().payload, m2.lattice().payload);
    assert_eq!(o1.column("mm_cells"), o2.column("mm_cells"));
    // Counts sum to the myeloma population and no provisional id survives a step.
    let n: u64 = m1.clone_counts().iter().sum();
    assert_eq!(n, m1.count(myelosim::cells::lattice::CellKind::Myeloma));
    let mm = myelosim::cells::lattice::CellKind::Myeloma as u8;
    for (k, p) in m1.lattice().kind.iter().zip(&m1.lattice().payload) {
        if *k == mm {
            assert!(p.clone & myelosim::clones::PROVISIONAL == 0);
            assert!((p.clone as usize) < t1.len());
        }
    }
}

/// Every parent exists, is older than its child (born at an earlier step) and the child's
/// lesions are the parent's plus exactly one new one.
#[test]
fn lineage_is_consistent() {
    for seed in [1, 2] {
        let (m, _) = common::run_in_memory(&mutating(seed), 2);
        let t = table(&m);
        assert!(t.len() >= 5, "seed {seed}: {} clones", t.len());
        assert_eq!(t.rows[0].parent, None);
        for r in &t.rows[1..] {
            let p = r.parent.expect("subclone has a parent") as usize;
            assert!(p < r.id as usize, "clone {} has parent {p}", r.id);
            let pr = &t.rows[p];
            assert!(
                pr.birth_step < r.birth_step,
                "clone {} born at step {} not after parent {p} (step {})",
                r.id,
                r.birth_step,
                pr.birth_step
            );
            assert!(pr.birth_time_d < r.birth_time_d);
            assert_eq!(r.lesions.len(), pr.lesions.len() + 1, "clone {}", r.id);
            assert_eq!(&r.lesions[..pr.lesions.len()], &pr.lesions[..]);
        }
        let nwk = t.newick();
        assert!(nwk.ends_with(");\n"));
        for r in &t.rows {
            assert!(nwk.contains(&format!("c{}:", r.id)));
        }
    }
}

/// Bortezomib alone, four 21-day cycles from day 2.
const BORTEZOMIB: &str = r#"
[treatment]
start_d = 2.0
[treatment.regimens.V]
description = "bortezomib alone (test)"
source = "test"
cycle_length_d = 21
cycles = 4
[[treatment.regimens.V.doses]]
drug = "bortezomib"
dose_mg_m2 = 1.3
route = "sc"
days = [1, 4, 8, 11]
[[treatment.phases]]
name = "V"
regimen = "V"
cycles = 4
"#;

/// A 10 % subclone with proteasome-inhibitor resistance, no further mutation.
const PI_RESISTANT: &str = r#"
[clones]
mutation_per_division = 0.0
[[clones.seed_subclones]]
lesions = ["pi_resistance"]
fraction = 0.1
"#;

/// Share of clone 1 at the start and the end.
fn resistant_share(treated: bool, seed: u64) -> (f64, f64) {
    let extra = if treated {
        format!("{PI_RESISTANT}\n{BORTEZOMIB}")
    } else {
        PI_RESISTANT.to_string()
    };
    let s = scenario(&extra, &["run.duration_d=80", &format!("run.seed={seed}")]);
    let (m, _) = common::run_in_memory(&s, 2);
    let ser = m.clones().unwrap().series();
    let share = |t: f64| {
        let at: Vec<_> = ser.iter().filter(|r| r.0 == t).collect();
        let tot: u64 = at.iter().map(|r| r.2).sum();
        let r: u64 = at.iter().filter(|r| r.1 == 1).map(|r| r.2).sum();
        r as f64 / tot.max(1) as f64
    };
    let t_end = ser.last().unwrap().0;
    (share(0.0), share(t_end))
}

/// Under bortezomib the PI-resistant subclone's share rises in every replicate; without the
/// drug it does not (its traits carry a small fitness cost).
#[test]
fn drug_selects_resistant_subclone() {
    let mut rise_untreated = Vec::new();
    for seed in [1, 2, 3] {
        let (a, b) = resistant_share(true, seed);
        let (c, d) = resistant_share(false, seed);
        eprintln!("seed {seed}: treated {a:.3} -> {b:.3}; untreated {c:.3} -> {d:.3}");
        assert!(b > a + 0.05, "seed {seed}: treated share {a:.3} -> {b:.3}");
        rise_untreated.push(d - c);
    }
    let mean = rise_untreated.iter().sum::<f64>() / 3.0;
    assert!(mean < 0.02, "untreated share rose by {mean:.3} on average");
}

// ---- hierarchy, environment-mediated resistance, clonal relapse (issue 5, session 2) ----

use myelosim::cells::lattice::CellKind;
use myelosim::observe::MemoryObserver;

/// Bortezomib from day 0 (a steady dose every 2 days keeps the kill on for the whole run).
const BORTEZOMIB_STEADY: &str = r#"
[treatment]
start_d = 0.0
[treatment.regimens.Vq2d]
description = "bortezomib every other day (test: steady kill)"
source = "test"
cycle_length_d = 20
cycles = 1
[[treatment.regimens.Vq2d.doses]]
drug = "bortezomib"
dose_mg_m2 = 1.3
route = "sc"
days = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]
[[treatment.phases]]
name = "V"
regimen = "Vq2d"
cycles = 1
"#;

/// Per-step myeloma deaths next to a stromal cell and elsewhere, summed over days 2–8 of
/// steady bortezomib: (exposed cell-steps, deaths) near stroma and far from it.
fn deaths_by_stroma_contact(protection: f64) -> ([u64; 2], [u64; 2]) {
    let extra = format!(
        "[clones]\nmutation_per_division = 0.0\ndrug_protection_factor = {protection}\n\
         {BORTEZOMIB_STEADY}"
    );
    // Dense myeloma and stroma; the TGF-β criterion is switched off to isolate stroma contact.
    let s = scenario(
        &extra,
        &[
            "run.duration_d=8",
            "run.dt_h=1",
            "myeloma.initial_cells=1500",
            "stroma.density_pct=8",
            "myeloma.protect_tgfb_nM=1000",
        ],
    );
    let [nx, ny, _] = s.space.dims;
    let mut m = Model::new(&s).unwrap();
    let mut obs = MemoryObserver::default();
    m.begin(&mut obs).unwrap();
    let (mm, st) = (CellKind::Myeloma as u8, CellKind::Stroma as u8);
    let (mut near, mut far) = ([0u64; 2], [0u64; 2]);
    while !m.is_done() {
        let before: Vec<(usize, bool)> = {
            let k = &m.lattice().kind;
            (0..k.len())
                .filter(|&i| k[i] == mm)
                .map(|i| {
                    let (x, y) = ((i % nx) as i64, (i / nx) as i64);
                    let touches = (-1..=1i64).any(|dy| {
                        (-1..=1i64).any(|dx| {
                            let (u, v) = (x + dx, y + dy);
                            (dx, dy) != (0, 0)
                                && (0..nx as i64).contains(&u)
                                && (0..ny as i64).contains(&v)
                                && k[(v * nx as i64 + u) as usize] == st
                        })
                    });
                    (i, touches)
                })
                .collect()
        };
        m.step(&mut obs).unwrap();
        if m.time_d() <= 2.0 {
            continue; // bortezomib reaching its effect site
        }
        for (i, touches) in before {
            let died = (m.lattice().kind[i] != mm) as u64;
            let c = if touches { &mut near } else { &mut far };
            c[0] += 1;
            c[1] += died;
        }
    }
    (near, far)
}

/// Environment-mediated drug resistance: with `drug_protection_factor = 0.5` a myeloma cell
/// touching a stromal cell dies of bortezomib markedly less often per step than one that does
/// not (two-proportion z > 3, ratio < 0.6; measured 0.41); with factor 1 the ratio is 0.85
/// (> 0.75 asserted; only the apoptosis protection next to stroma differs), so the test
/// can fail.
#[test]
fn drug_kill_is_lower_next_to_stroma() {
    let rate = |c: [u64; 2]| c[1] as f64 / c[0].max(1) as f64;
    let z = |a: [u64; 2], b: [u64; 2]| {
        let (pa, pb) = (rate(a), rate(b));
        let p = (a[1] + b[1]) as f64 / (a[0] + b[0]) as f64;
        (pb - pa) / (p * (1.0 - p) * (1.0 / a[0] as f64 + 1.0 / b[0] as f64)).sqrt()
    };
    let (near, far) = deaths_by_stroma_contact(0.5);
    let ratio = rate(near) / rate(far);
    eprintln!(
        "factor 0.5: near {near:?} far {far:?} ratio {ratio:.3} z {:.1}",
        z(near, far)
    );
    assert!(
        near[0] > 2000 && far[1] > 200,
        "too few events: {near:?} {far:?}"
    );
    assert!(ratio < 0.6 && z(near, far) > 3.0, "ratio {ratio:.3}");
    let (near1, far1) = deaths_by_stroma_contact(1.0);
    let ratio1 = rate(near1) / rate(far1);
    eprintln!("factor 1.0: near {near1:?} far {far1:?} ratio {ratio1:.3}");
    assert!(
        ratio1 > 0.75,
        "without CAM-DR the kill should not depend on contact"
    );
}

/// default.toml's patient (biology, clones, hierarchy) on a 100 × 100 patch (50 seeds: the
/// same density), with the transplant pathway replaced by `cycles` VRd cycles from day 270;
/// `hierarchy = false` drops `[clones.hierarchy]`.
fn default_vrd(hierarchy: bool, cycles: u32, seed: u64) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let text = myelosim::scenario::DEFAULT_SCENARIO;
    let biology = &text[..text.find("# ---- treatment (issue 4)").unwrap()];
    let mut clones = &text[text.find("# ---- clones (issue 5)").unwrap()..];
    if !hierarchy {
        clones = &clones[..clones.find("[clones.hierarchy]").unwrap()];
    }
    let vrd = format!(
        "\n[treatment]\nstart_d = 270.0\n[[treatment.phases]]\nname = \"induction\"\n\
         regimen = \"VRd\"\ncycles = {cycles}\n"
    );
    let sets: Vec<String> = [
        "space.nx=100".to_string(),
        "space.ny=100".into(),
        "myeloma.initial_cells=50".into(),
        "output.snapshot_every_d=0".into(),
        format!("run.duration_d={}", 270 + 21 * cycles),
        format!("run.seed={seed}"),
    ]
    .into();
    load_str(
        &format!("{biology}\n{clones}\n{vrd}"),
        "<vrd test>",
        &dir,
        &sets,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Myeloma cells at day `d` (daily records).
fn mm_at(o: &MemoryObserver, d: f64) -> f64 {
    let t = o.column("time_d").unwrap();
    let n = o.column("mm_cells").unwrap();
    let i = t.iter().position(|&x| x >= d - 1e-9).expect("day recorded");
    n[i]
}

/// Serum M-protein at day `d` (daily records) [g/dL].
fn m_at(o: &MemoryObserver, d: f64) -> f64 {
    let t = o.column("time_d").unwrap();
    let m = o.column("m_protein_g_dl").unwrap();
    let i = t.iter().position(|&x| x >= d - 1e-9).expect("day recorded");
    m[i]
}

/// Log-slope of `f` between days `a` and `b` of induction (day 0 = day 270) [1/day]
/// (positive: falling).
fn decline(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    (f(270.0 + a) / f(270.0 + b)).ln() / (b - a)
}

/// VRd cycles of the biphasic test: 14 × 21 d = 294 d of continuous VRd.
const VRD_CYCLES: u32 = 14;
/// The late window of the biphasic test: the last six weeks of the course [days of VRd].
const LATE: (f64, f64) = (252.0, 294.0);

/// The hierarchy makes the response to continuous VRd biphasic in the cells and in the
/// M-protein, and leaves MRD (issue 5; Tang 2016). Default.toml's patient, fourteen 21-day VRd
/// cycles from day 270 without transplant (as vrd_no_asct.toml but continued; days below count
/// from the start of VRd).
///
/// * Cells (seeds 1 and 2 each): the differentiated cells die fast, the drug-tolerant
///   progenitors hardly (Matsui 2008): log-slope over days 0–21 ≥ 2 × over days 42–84,
///   myeloma cells remain at the end.
/// * M-protein (the two seeds' patches summed: two marrow regions of one patient): it can
///   fall at most at the IgG clearance rate (t½ 21 d: 0.033/d), and does so while the
///   differentiated cells die (days 0–42); once it nears the level that the progenitors'
///   differentiated progeny sustain, it levels off (`LATE`, days 252–294). Asserted: early
///   slope ≥ 2 × late slope. History: with ten cycles and a late window of days 168–210 this
///   measured 0.0267 vs 0.0106/d (2.5×) on the classic fields; on the accurate
///   (distributed-splitting) fields the plateau is deeper (~0.3 % vs ~0.7 % of the start) and
///   is reached later, so days 168–210 still caught the end of the first phase (0.0278 vs
///   0.0148/d, 1.88×; docs/MODEL.md §5 "Biphasic VRd test"); the course and the window were
///   extended to reach the plateau (session 3), no model parameter was changed.
/// * Control, without `[clones.hierarchy]` (seed 1): the one-compartment clone is (nearly)
///   eradicated by day 42 and the M-protein falls at the clearance rate throughout (ratio
///   ≈ 0.84), so the biphasic assertions fail there; asserted: ≤ 1 % of the cells at the
///   start of VRd remain at day 42, and ratio < 1.3.
#[test]
fn hierarchy_gives_biphasic_vrd_response_and_mrd() {
    let mut pooled: Vec<MemoryObserver> = Vec::new();
    for seed in [1, 2] {
        let (_, o) = common::run_in_memory(&default_vrd(true, VRD_CYCLES, seed), 2);
        let n = |d: f64| mm_at(&o, d).max(1.0);
        let (early, late) = (decline(n, 0.0, 21.0), decline(n, 42.0, 84.0));
        let m = |d: f64| m_at(&o, d);
        eprintln!(
            "seed {seed}: cells {} -> {} (d21) -> {} (d42) -> {} (d84) -> {} (end); slopes \
             early {early:.3}/d, late {late:.3}/d; M-protein {:.4} -> {:.4} (d42) -> {:.4} \
             (late start) -> {:.4} g/dL (late end): slopes {:.4}/d, {:.4}/d",
            n(270.0),
            n(291.0),
            n(312.0),
            n(354.0),
            mm_at(&o, 270.0 + LATE.1),
            m(270.0),
            m(312.0),
            m(270.0 + LATE.0),
            m(270.0 + LATE.1),
            decline(m, 0.0, 42.0),
            decline(m, LATE.0, LATE.1),
        );
        assert!(mm_at(&o, 270.0 + LATE.1) > 0.0, "seed {seed}: eradicated");
        assert!(
            early > 0.0 && early >= 2.0 * late,
            "seed {seed}: cell decline not biphasic"
        );
        pooled.push(o);
    }
    let m = |d: f64| pooled.iter().map(|o| m_at(o, d)).sum::<f64>();
    let (early, late) = (decline(m, 0.0, 42.0), decline(m, LATE.0, LATE.1));
    eprintln!(
        "pooled M-protein slopes: early {early:.4}/d, late {late:.4}/d, ratio {:.2}",
        early / late
    );
    assert!(
        early > 0.02 && early >= 2.0 * late,
        "M-protein decline not biphasic: early {early:.4}/d, late {late:.4}/d"
    );

    let (_, o) = common::run_in_memory(&default_vrd(false, VRD_CYCLES, 1), 2);
    let m = |d: f64| m_at(&o, d);
    let (e0, l0) = (decline(m, 0.0, 42.0), decline(m, LATE.0, LATE.1));
    eprintln!(
        "no hierarchy: {} -> {} cells (d42); M-protein slopes early {e0:.4}/d, late {l0:.4}/d, \
         ratio {:.2}",
        mm_at(&o, 270.0),
        mm_at(&o, 312.0),
        e0 / l0
    );
    // Without the drug-tolerant compartment six weeks of VRd leave (almost) nothing: at most
    // 1 % of the cells at the start of therapy (the exact day of extinction varies with how
    // the drug effects are averaged within a step).
    assert!(
        mm_at(&o, 312.0) <= 0.01 * mm_at(&o, 270.0),
        "control should be (nearly) eradicated by day 42 of VRd"
    );
    assert!(
        e0 < 1.3 * l0,
        "control: M-protein should fall monophasically"
    );
}

// ---- clonal relapse under maintenance (issue 5 done-when, session 3) ----

/// `scenarios/clonal_relapse.toml` as shipped (200 × 200, 4000 initial cells, the subclone
/// 0.3 % = 12 progenitors), 800 days, with the resistant subclone's lesions replaced by
/// `lesions` (TOML array text). A 100 × 100 patch with 1000 cells was used before: its 3–5
/// subclone progenitors made the outcome flip with any change of the biology (one seed's
/// M-protein peaked 0.002 g/dL short of the progression rise), so the test runs the
/// scenario itself (~20 s per run on 2 cores).
fn clonal_relapse(lesions: &str, seed: u64) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let text = std::fs::read_to_string(dir.join("clonal_relapse.toml")).unwrap();
    let resistant = "lesions = [\"crbn_loss\", \"xbp1s_low\", \"gc_resistance\"]\nfraction = 0.003";
    assert!(text.contains(resistant), "clonal_relapse.toml changed");
    let text = text.replace(resistant, &format!("lesions = {lesions}\nfraction = 0.003"));
    let sets: Vec<String> = [
        "run.duration_d=800".to_string(),
        "output.snapshot_every_d=0".into(),
        format!("run.seed={seed}"),
    ]
    .into();
    load_str(&text, "<clonal relapse test>", &dir, &sets).unwrap_or_else(|e| panic!("{e}"))
}

/// What a clonal-relapse run shows: the resistant clone's (id 1) share of the myeloma cells
/// at t = 0, at the start of therapy, at the start of maintenance and at the first
/// `progression` event after therapy started (with its day), from the daily per-clone series.
struct Relapse {
    t0: f64,
    therapy: f64,
    maintenance: (f64, f64),
    progression: Option<(f64, f64)>,
}

fn relapse_course(s: &Scenario) -> Relapse {
    let (m, o) = common::run_in_memory(s, 2);
    let ser = m.clones().unwrap().series();
    let share = |t: f64| {
        let day = ser
            .iter()
            .map(|r| r.0)
            .find(|&d| d >= t - 1e-9)
            .expect("day recorded");
        let at = ser.iter().filter(|r| r.0 == day);
        let (tot, res) = at.fold((0u64, 0u64), |(a, b), r| {
            (a + r.2, b + r.2 * (r.1 == 1) as u64)
        });
        res as f64 / tot.max(1) as f64
    };
    let when = |kind: &str, prefix: &str| {
        o.events
            .iter()
            .find(|e| e.kind == kind && e.detail.starts_with(prefix))
            .map(|e| e.time_d)
    };
    let start = when("phase", myelosim::observe::TREATMENT_STARTS).expect("therapy starts");
    let maint = when("phase", "start maintenance").expect("maintenance starts");
    let progression = o
        .events
        .iter()
        .find(|e| e.kind == "progression" && e.time_d > start)
        .map(|e| (e.time_d, share(e.time_d)));
    Relapse {
        t0: share(0.0),
        therapy: share(start),
        maintenance: (maint, share(maint)),
        progression,
    }
}

/// Issue 5, done when: the resistant subclone grows from below 1 % to dominance at
/// progression under maintenance. clonal_relapse.toml as shipped (see [`clonal_relapse`]),
/// seeds 1–3: the CRBN-lost, XBP1s-low (PI-resistant, progenitor-like), glucocorticoid-resistant
/// subclone is < 1 % of the myeloma cells at t = 0 and at the start of VRd, confirmed
/// progression happens after lenalidomide maintenance has started, and the subclone is > 50 %
/// of the myeloma cells then (measured, session 3: 0.30 % at t = 0; 0.55 / 0.50 / 0.34 % at
/// therapy start; progression on days 504 / 616 / 392 at 58 / 83 / 61 %).
///
/// Control (can fail): the same subclone without its lesions (`lesions = []`: the founder's
/// traits) never makes up the majority at a progression (measured: seeds 1 and 2 do not
/// progress by day 800; seed 3 progresses on day 588 from the founder, subclone 1.1 %), so the
/// assertion above fails there.
#[test]
fn resistant_subclone_drives_relapse_under_maintenance() {
    for seed in [1, 2, 3] {
        let r = relapse_course(&clonal_relapse(
            "[\"crbn_loss\", \"xbp1s_low\", \"gc_resistance\"]",
            seed,
        ));
        eprintln!(
            "seed {seed}: resistant share {:.4} (t=0), {:.4} (therapy), {:.3} (maintenance, day \
             {}), progression {:?}",
            r.t0, r.therapy, r.maintenance.1, r.maintenance.0, r.progression
        );
        assert!(
            r.t0 > 0.0 && r.t0 < 0.01,
            "seed {seed}: share at t=0 {}",
            r.t0
        );
        assert!(
            r.therapy > 0.0 && r.therapy < 0.01,
            "seed {seed}: share at therapy start {}",
            r.therapy
        );
        let (day, share) = r
            .progression
            .unwrap_or_else(|| panic!("seed {seed}: no progression"));
        assert!(
            day > r.maintenance.0,
            "seed {seed}: progressed on day {day} before maintenance"
        );
        assert!(
            share > 0.5,
            "seed {seed}: resistant share at progression {share:.3}"
        );
    }
    for seed in [1, 2, 3] {
        let r = relapse_course(&clonal_relapse("[]", seed));
        eprintln!("control seed {seed}: progression {:?}", r.progression);
        assert!(
            r.progression.is_none_or(|(_, s)| s < 0.5),
            "seed {seed}: a subclone without resistance lesions drove the relapse"
        );
    }
}

/// Seeding and the per-clone self-renewal: a subclone with its own `progenitor_fraction` is
/// seeded with exactly that share of progenitors while the founder keeps the hierarchy's; the
/// clone's self-renewal probability is the hierarchy's × its `self_renewal` trait, capped at
/// `SELF_RENEWAL_MAX`; an out-of-range or hierarchy-less `progenitor_fraction` is refused.
#[test]
fn subclone_seeding_and_self_renewal_trait() {
    let clones = |pf: &str, sr: f64, hierarchy: bool| {
        format!(
            "[clones]\nmutation_per_division = 0.0\n[[clones.seed_subclones]]\n\
             lesions = [\"xbp1s_low\"]\nfraction = 0.1\nprogenitor_fraction = {pf}\n\
             [clones.lesions.xbp1s_low]\nself_renewal = {sr}\n{}",
            if hierarchy {
                "[clones.hierarchy]\nprogenitor_fraction = 0.2\n"
            } else {
                ""
            }
        )
    };
    let s = scenario(&clones("1.0", 2.5, true), &["run.duration_d=1"]);
    let m = Model::new(&s).unwrap();
    let c = m.clones().unwrap();
    let (cells, prog) = (c.counts(m.lattice()), c.progenitor_counts(m.lattice()));
    assert_eq!(
        (cells[1], prog[1]),
        (40, 40),
        "subclone: all 40 progenitors"
    );
    assert_eq!((cells[0], prog[0]), (360, 72), "founder: 20 % of 360");
    let sr = |id: u32| c.phenotypes().hierarchy_of(id).unwrap().self_renewal;
    assert!((sr(0) - 0.3).abs() < 1e-6 && (sr(1) - 0.75).abs() < 1e-6);
    let s = scenario(&clones("1.0", 10.0, true), &["run.duration_d=1"]);
    let m = Model::new(&s).unwrap();
    let sr1 = m.clones().unwrap().phenotypes().hierarchy_of(1).unwrap();
    assert_eq!(
        sr1.self_renewal as f64,
        myelosim::clones::hierarchy::SELF_RENEWAL_MAX as f32 as f64
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let base = std::fs::read_to_string(dir.join("untreated_myeloma.toml")).unwrap();
    for (pf, h) in [("1.5", true), ("0.5", false)] {
        let text = format!("{base}\n{}", clones(pf, 1.0, h));
        let e = load_str(&text, "<t>", &dir, &[]).unwrap_err().to_string();
        assert!(e.contains("seed_subclones[0].progenitor_fraction"), "{e}");
    }
}
