//! Engine contracts: determinism across thread counts, seed sensitivity, no directional bias,
//! and the reference benchmark's statistics.

mod common;

use common::{bare_scenario, run_in_memory};
use myelosim::bench::bdd::{self, BddConfig};
use myelosim::cells::lattice::CellKind;
use myelosim::model::Model;
use myelosim::observe::MemoryObserver;
use myelosim::space::geometry::Neighbourhood;

fn growing(seed: u64) -> myelosim::scenario::Scenario {
    let mut s = bare_scenario(96, 20.0, seed);
    s.myeloma.initial_cells = 40;
    s.myeloma.death_per_h = 0.01;
    s.space.tile_edge = 16;
    s
}

#[test]
fn one_and_two_threads_give_identical_runs() {
    let s = growing(11);
    let (m1, o1) = run_in_memory(&s, 1);
    let (m2, o2) = run_in_memory(&s, 2);
    assert!(o1.rows.len() > 10);
    assert_eq!(
        o1.rows, o2.rows,
        "time series differ between 1 and 2 threads"
    );
    assert_eq!(
        m1.lattice().kind,
        m2.lattice().kind,
        "final lattices differ"
    );
    // and the run did something
    let mm = o1.column("mm_cells").unwrap();
    assert!(mm.last().unwrap() > &mm[0]);
}

#[test]
fn rerun_is_identical_and_seeds_differ() {
    let (_, a) = run_in_memory(&growing(5), 2);
    let (_, b) = run_in_memory(&growing(5), 2);
    let (_, c) = run_in_memory(&growing(6), 2);
    assert_eq!(a.rows, b.rows);
    assert_ne!(a.rows, c.rows, "different seeds gave identical runs");
}

/// Second moments of the colony about its centroid: returns (centroid offset from the
/// lattice centre in sites, ratio of the principal axes).
fn shape(m: &Model) -> (f64, f64, Vec<f64>) {
    let g = m.geometry();
    let c0 = (g.dims[0] / 2) as f64;
    let cells: Vec<[f64; 2]> = (0..g.len())
        .filter(|&i| m.lattice().kind[i] == CellKind::Myeloma as u8)
        .map(|i| {
            let c = g.coords(i);
            [c[0] as f64, c[1] as f64]
        })
        .collect();
    let n = cells.len() as f64;
    let mx = cells.iter().map(|p| p[0]).sum::<f64>() / n;
    let my = cells.iter().map(|p| p[1]).sum::<f64>() / n;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for p in &cells {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    let tr = (sxx + syy) / n;
    let det = (sxx * syy - sxy * sxy) / (n * n);
    let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
    let (l1, l2) = (tr / 2.0 + disc, tr / 2.0 - disc);
    // Reach of the colony in 8 directions (E, NE, N, …): farthest cell within ±10° of each.
    let mut reach = vec![0.0f64; 8];
    for p in &cells {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        let r = (dx * dx + dy * dy).sqrt();
        if r < 1.0 {
            continue;
        }
        let a = dy.atan2(dx).to_degrees().rem_euclid(360.0);
        let k = ((a / 45.0).round() as usize) % 8;
        if (a - 45.0 * (a / 45.0).round()).abs() <= 10.0 {
            reach[k] = reach[k].max(r);
        }
    }
    let off = ((mx - c0).powi(2) + (my - c0).powi(2)).sqrt();
    ((off), (l1 / l2).sqrt(), reach)
}

#[test]
fn colony_from_one_cell_stays_round() {
    // No death, fast division: an Eden-like colony of ~15 000 cells (radius ≈ 70 sites).
    for (hood, seed) in [(Neighbourhood::Moore, 1), (Neighbourhood::VonNeumann, 2)] {
        let mut s = bare_scenario(201, 1000.0, seed);
        s.space.hood = hood;
        s.myeloma.division_per_h = 0.3;
        let mut m = Model::new(&s).unwrap();
        let mut obs = MemoryObserver::default();
        while m.lattice().count(CellKind::Myeloma) < 15_000 {
            m.step(&mut obs).unwrap();
        }
        let (off, axis_ratio, reach) = shape(&m);
        let (lo, hi) = reach
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
        eprintln!(
            "{hood:?}: centroid offset {off:.2} sites, axis ratio {axis_ratio:.3}, reach {reach:.1?}"
        );
        // Tolerances: the centroid of an unbiased colony wanders by ~1 site; principal axes
        // within 5%; reach in the 8 compass directions within 15% (Eden clusters on a square
        // lattice are known to be slightly anisotropic, Eden 1961; Zabolitzky & Stauffer 1986).
        assert!(off < 5.0, "{hood:?}: colony drifted {off:.2} sites");
        assert!(
            axis_ratio < 1.05,
            "{hood:?}: colony elongated, axis ratio {axis_ratio:.3}"
        );
        assert!(
            hi / lo < 1.15,
            "{hood:?}: reach varies by direction {reach:?}"
        );
    }
}

#[test]
fn colony_centroid_has_no_directional_drift() {
    // A sweep-order bias (e.g. always sweeping left to right) would push every colony the
    // same way. Over 12 seeds the mean centroid shift must be within 3 standard errors of 0.
    let mut dx = Vec::new();
    let mut dy = Vec::new();
    for seed in 1..=12 {
        let mut s = bare_scenario(121, 1000.0, 100 + seed);
        s.myeloma.division_per_h = 0.3;
        let mut m = Model::new(&s).unwrap();
        let mut obs = MemoryObserver::default();
        while m.lattice().count(CellKind::Myeloma) < 3_000 {
            m.step(&mut obs).unwrap();
        }
        let g = m.geometry();
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
        for i in 0..g.len() {
            if m.lattice().kind[i] == CellKind::Myeloma as u8 {
                let c = g.coords(i);
                sx += c[0] as f64 - 60.0;
                sy += c[1] as f64 - 60.0;
                n += 1.0;
            }
        }
        dx.push(sx / n);
        dy.push(sy / n);
    }
    for (axis, v) in [("x", &dx), ("y", &dy)] {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd / n.sqrt();
        eprintln!("{axis}: mean shift {mean:.3} sites, se {se:.3}");
        assert!(
            mean.abs() < 3.0 * se.max(0.05),
            "drift along {axis}: {mean:.3} (se {se:.3})"
        );
    }
}

#[test]
fn bdd_reference_statistics_n256() {
    // REFERENCE_MODEL.md, N = 256: cell-updates 5.43–5.46 M, population at t = 300 ≈ 34 700 ± 300
    // (means across seeds). Mean of 4 seeds here; allowed band widened by the seed-to-seed sd.
    let mut updates = 0.0;
    let mut pop = 0.0;
    let seeds = 4;
    for seed in 1..=seeds {
        let r = bdd::run(&BddConfig {
            size: 256,
            steps: 300,
            seed,
            tile: myelosim::bench::bdd::DEFAULT_TILE,
            three_d: false,
        });
        updates += r.cell_updates as f64 / seeds as f64;
        pop += r.final_population as f64 / seeds as f64;
    }
    assert!(
        (5.40e6..=5.49e6).contains(&updates),
        "cell updates {updates}"
    );
    assert!(
        (34_300.0..=35_100.0).contains(&pop),
        "final population {pop}"
    );
}

#[test]
fn bdd_is_identical_across_thread_counts() {
    let cfg = BddConfig {
        size: 200,
        steps: 120,
        seed: 9,
        tile: [32, 8, 8],
        three_d: false,
    };
    let p1 = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let p2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = p1.install(|| bdd::run(&cfg));
    let b = p2.install(|| bdd::run(&cfg));
    assert_eq!(a.population, b.population);
    assert_eq!(a.cell_updates, b.cell_updates);
}

#[test]
fn three_d_runs_identically_on_one_and_two_threads() {
    let mut s = bare_scenario(24, 6.0, 3);
    s.space.dims = [24, 24, 24];
    s.space.tile_edge = 8;
    s.myeloma.initial_cells = 30;
    s.myeloma.death_per_h = 0.01;
    let (m1, o1) = run_in_memory(&s, 1);
    let (m2, o2) = run_in_memory(&s, 2);
    assert_eq!(o1.rows, o2.rows);
    assert_eq!(m1.lattice().kind, m2.lattice().kind);
    let mm = o1.column("mm_cells").unwrap();
    assert!(mm.last().unwrap() > &40.0, "3D colony did not grow: {mm:?}");
}

#[test]
fn tallied_population_matches_a_lattice_scan() {
    let (m, _) = run_in_memory(&growing(21), 2);
    assert_eq!(
        m.count(CellKind::Myeloma),
        m.lattice().count(CellKind::Myeloma) as u64
    );
    assert!(m.count(CellKind::Myeloma) > 0);
}

#[test]
fn default_scenario_with_bone_and_fields_is_thread_count_independent() {
    let set: Vec<String> = [
        "space.nx=64",
        "space.ny=48",
        "run.duration_d=10",
        "space.tile_sites=16",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let s = myelosim::scenario::load_default(&set).unwrap();
    assert!(!s.fields.is_empty());
    let (m1, o1) = run_in_memory(&s, 1);
    let (m2, o2) = run_in_memory(&s, 2);
    assert_eq!(o1.columns, o2.columns);
    // Bitwise equality of every value, fields included.
    let bits = |o: &MemoryObserver| -> Vec<Vec<u64>> {
        o.rows
            .iter()
            .map(|r| r.iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    assert_eq!(bits(&o1), bits(&o2));
    for (f1, f2) in m1.fields().iter().zip(m2.fields()) {
        assert!(
            f1.conc()
                .iter()
                .zip(f2.conc())
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
    assert!(o1.column("dkk1_mean_nM").unwrap().last().unwrap() > &0.0);
}

/// `mm_births` and `mm_deaths` count myeloma cells only: in a marrow without myeloma they
/// stay 0 while the haematopoietic cells divide and die (before the per-kind tallies they
/// counted every family's divisions). `mm_deaths` is births − net change of the myeloma
/// count by construction, so the balance itself is not what this checks.
#[test]
fn myeloma_births_and_deaths_ignore_other_families() {
    let set: Vec<String> = [
        "space.nx=60",
        "space.ny=60",
        "run.duration_d=40",
        "space.tile_sites=16",
        "output.snapshot_every_d=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/healthy_marrow.toml");
    let s = myelosim::scenario::load_file(&path, &set).unwrap();
    let (_, o) = run_in_memory(&s, 2);
    let haem = o.column("haem_cells").unwrap();
    assert!(
        haem.windows(2).any(|w| w[0] != w[1]),
        "haematopoietic cells never changed: the check would be empty"
    );
    for col in ["mm_cells", "mm_births", "mm_deaths"] {
        let v = o.column(col).unwrap();
        assert!(v.iter().all(|&x| x == 0.0), "{col} not all 0: {v:?}");
    }
}
