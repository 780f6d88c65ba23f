fn main() {
    let size: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(256);
    let threads: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    for seed in 1..=3 {
        let r = pool.install(|| {
            myelosim::bench::bdd::run(&myelosim::bench::bdd::BddConfig {
                size,
                steps: 300,
                seed,
                tile_edge: 64,
            })
        });
        println!(
            "seed {seed}: updates {} final {} p100 {} p150 {} {:.3}s {:.1} M/s",
            r.cell_updates,
            r.final_population,
            r.population[100],
            r.population[150],
            r.seconds,
            r.cell_updates as f64 / r.seconds / 1e6
        );
    }
}
