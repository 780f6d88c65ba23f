//! Micro-benchmarks (divan) of the hot paths: one sweep step of the lattice update, one field
//! advance per solver. `cargo bench --bench engine`. No assertions on time: figures go to
//! `docs/PERFORMANCE.md` and `benches/results/`.

use myelosim::bench::bdd::{Bdd, BddConfig};
use myelosim::cells::lattice::CellKind;
use myelosim::fields::Field;
use myelosim::scenario::{FieldParams, Solver, Splitting};
use myelosim::space::geometry::{Boundary, Geometry, Neighbourhood};

fn main() {
    divan::main();
}

/// One BDD-lattice-v1 step (single thread) on an N×N lattice, starting from the reference disc.
#[divan::bench(args = [256, 1024])]
fn lattice_step_bdd(bencher: divan::Bencher, n: usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let cfg = BddConfig {
        size: n,
        steps: 0,
        seed: 1,
        tile: myelosim::bench::bdd::DEFAULT_TILE,
        three_d: false,
    };
    bencher
        .with_inputs(|| Bdd::new(&cfg))
        .bench_local_values(|mut sim| pool.install(|| sim.step()));
}

fn field(solver: Solver) -> (Geometry, Field, Vec<u8>) {
    let geom = Geometry::new([200, 200, 1], 10.0, Boundary::Closed, Neighbourhood::Moore);
    let params = FieldParams {
        name: "dkk1".into(),
        diffusion_um2_per_h: 10.0 * 3600.0,
        decay_per_h: std::f64::consts::LN_2,
        solver,
        substeps: if solver == Solver::Explicit { 1600 } else { 1 },
        splitting: Splitting::Classic,
        bone_diffusion_factor: 0.1,
        initial_nm: 0.0,
        secretion_nm_per_h: vec![(CellKind::Myeloma, 0.5)],
    };
    let mut kind = vec![0u8; geom.len()];
    for (i, k) in kind.iter_mut().enumerate() {
        if (i / 200) % 20 < 3 {
            *k = CellKind::Bone as u8;
        }
    }
    let mut f = Field::new(params, &geom);
    for (i, s) in f.sources_mut().iter_mut().enumerate() {
        *s = if i % 7 == 0 { 0.5 } else { 0.0 };
    }
    (geom, f, kind)
}

/// One 1-hour advance of a DKK1-like field on 200×200 sites (single thread).
#[divan::bench(args = [Solver::Implicit, Solver::Explicit])]
fn field_advance(bencher: divan::Bencher, solver: Solver) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (geom, mut f, kind) = field(solver);
    bencher.bench_local(|| pool.install(|| f.advance(&geom, 1.0, &kind)));
}

/// The default scenario's five implicit fields (RANKL, OPG, TGF-β, DKK1, IL-6: D and t½ of
/// scenarios/default.toml) advanced one 4-hour step on 200×200 sites with a bone band
/// (single thread). With `remodel`, one bone site flips every step, as remodeling does, so
/// the incremental refactoring is included.
#[divan::bench(args = [false, true])]
fn field_advance_default_five(bencher: divan::Bencher, remodel: bool) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let geom = Geometry::new([200, 200, 1], 10.0, Boundary::Closed, Neighbourhood::Moore);
    let mut fields: Vec<Field> = [
        (13.0, 2.0),
        (10.0, 30.0),
        (13.0, 2.0),
        (10.0, 60.0),
        (15.0, 30.0),
    ]
    .iter()
    .map(|&(d_um2_s, t_half_min): &(f64, f64)| {
        let params = FieldParams {
            name: "f".into(),
            diffusion_um2_per_h: d_um2_s * 3600.0,
            decay_per_h: std::f64::consts::LN_2 / (t_half_min / 60.0),
            solver: Solver::Implicit,
            substeps: 1,
            splitting: Splitting::Classic,
            bone_diffusion_factor: 0.1,
            initial_nm: 0.0,
            secretion_nm_per_h: vec![],
        };
        Field::new(params, &geom)
    })
    .collect();
    let mut kind = vec![0u8; geom.len()];
    for (i, k) in kind.iter_mut().enumerate() {
        if (i / 200) % 20 < 3 {
            *k = CellKind::Bone as u8;
        }
    }
    let mut step = 0usize;
    bencher.bench_local(|| {
        pool.install(|| {
            if remodel {
                let i = (step * 7919) % kind.len();
                kind[i] = if kind[i] == 0 {
                    CellKind::Bone as u8
                } else {
                    0
                };
            }
            step += 1;
            for f in &mut fields {
                for (i, s) in f.sources_mut().iter_mut().enumerate() {
                    *s = if (i + step) % 7 == 0 { 0.5 } else { 0.0 };
                }
                f.advance(&geom, 4.0, &kind);
            }
        })
    });
}

/// One 1-hour PK advance of every drug in the library after a D-VRd-like day of dosing
/// (linear drugs: cached exact propagator; daratumumab: RK4 with target-mediated clearance).
#[divan::bench]
fn pk_advance_all_drugs(bencher: divan::Bencher) {
    use myelosim::pharma::{DrugLibrary, Pharmacology, Route};
    let lib = DrugLibrary::shipped().unwrap();
    let mut p = Pharmacology::new(&lib);
    for (name, mg, route) in [
        ("bortezomib", 2.4, Route::Subcutaneous),
        ("lenalidomide", 25.0, Route::Oral),
        ("dexamethasone", 40.0, Route::Oral),
        ("daratumumab", 1800.0, Route::Subcutaneous),
        ("zoledronic_acid", 4.0, Route::IvInfusion { hours: 0.25 }),
    ] {
        p.dose(lib.index(name).unwrap(), mg, route);
    }
    p.advance(1.0, 1.0);
    bencher.bench_local(|| {
        p.advance(divan::black_box(1.0), 1.0);
        divan::black_box(p.effects().mm_kill_per_h)
    });
}
