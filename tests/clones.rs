//! Myeloma clones (issue 5): thread-count-independent clone ids and counts, lineage
//! consistency, and drug selection of a resistant subclone. Small lattices (60 × 60) and short
//! runs keep the file well under 30 s in release mode.

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
