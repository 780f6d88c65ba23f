//! Side-by-side: myelosim's engine on BDD-lattice-v1 vs the straightforward sequential
//! baseline, alternating runs in one process so machine noise hits both alike.
//!
//! `cargo bench --bench bdd_vs_baseline -- [SIZES...] [--runs R]` (default sizes 1024 2048,
//! 5 runs). Prints min/median/max M cell-updates/s for baseline, engine on 1 thread and on 2
//! threads, and the ratios of medians.

mod bdd_baseline;

use myelosim::bench::bdd::{self, BddConfig};

fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut runs = 5usize;
    let mut only: Option<String> = None;
    // BDD_TILE=WxH overrides the default tile shape (for experiments).
    let tile_override: Option<[usize; 3]> = std::env::var("BDD_TILE").ok().map(|v| {
        myelosim::bench::bdd::parse_tile(&v)
            .unwrap_or_else(|| panic!("BDD_TILE: expected W, WxH or WxHxD, got {v:?}"))
    });
    let tile_for = |n: usize| tile_override.unwrap_or(myelosim::bench::bdd::default_tile(n, false));
    let mut sizes = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--only" {
            only = it.next().cloned();
        } else if a == "--runs" {
            runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(5);
        } else if let Ok(n) = a.parse::<usize>() {
            sizes.push(n);
        }
    }
    if sizes.is_empty() {
        sizes = vec![1024, 2048];
    }
    if let Some(which) = only {
        // One run of one variant (for instruction counting under callgrind).
        let n = sizes[0];
        let (updates, pop) = if which == "baseline" {
            let b = bdd_baseline::run_baseline(n, 300, 1);
            (b.cell_updates, b.final_population)
        } else {
            let cfg = BddConfig {
                size: n,
                steps: 300,
                seed: 1,
                tile: tile_for(n),
                three_d: false,
            };
            let r = bdd::run(&cfg);
            (r.cell_updates, r.final_population)
        };
        println!("{which} N={n}: {updates} cell updates, final population {pop}");
        return;
    }
    let p1 = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let p2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    println!(
        "size  variant            min     median  max   (M cell-updates/s, {runs} alternating runs)"
    );
    for &n in &sizes {
        let (mut base, mut one, mut two) = (Vec::new(), Vec::new(), Vec::new());
        let (mut pop_base, mut pop_engine) = (0.0, 0.0);
        for r in 0..runs {
            let seed = 1 + r as u64;
            let b = bdd_baseline::run_baseline(n, 300, seed);
            base.push(b.cell_updates as f64 / b.seconds / 1e6);
            pop_base += b.final_population as f64 / runs as f64;
            let cfg = BddConfig {
                size: n,
                steps: 300,
                seed,
                tile: tile_for(n),
                three_d: false,
            };
            let e1 = p1.install(|| bdd::run(&cfg));
            one.push(e1.cell_updates as f64 / e1.seconds / 1e6);
            let e2 = p2.install(|| bdd::run(&cfg));
            two.push(e2.cell_updates as f64 / e2.seconds / 1e6);
            assert_eq!(e1.population, e2.population, "thread counts disagree");
            pop_engine += e1.final_population as f64 / runs as f64;
        }
        let b = stats(&mut base);
        let o = stats(&mut one);
        let t = stats(&mut two);
        println!(
            "{n:<5} baseline (1 thr)  {:7.1} {:7.1} {:7.1}",
            b.0, b.1, b.2
        );
        println!(
            "{n:<5} myelosim 1 thread {:7.1} {:7.1} {:7.1}",
            o.0, o.1, o.2
        );
        println!(
            "{n:<5} myelosim 2 thread {:7.1} {:7.1} {:7.1}",
            t.0, t.1, t.2
        );
        println!("{n:<5} mean final population: baseline {pop_base:.0}, myelosim {pop_engine:.0}");
        println!(
            "{n:<5} ratio 1 thr / baseline = {:.2}x, 2 thr / baseline = {:.2}x",
            o.1 / b.1,
            t.1 / b.1
        );
    }
}
