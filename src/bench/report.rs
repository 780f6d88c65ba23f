//! Benchmark drivers behind `myelosim bench`: run a benchmark on a pool of the requested size
//! and report what was measured, as text and as one JSON object.
//!
//! Reads: benchmark settings, a scenario (for `bench model`), `/proc/self/status` (peak RSS).
//! Writes: nothing (returns reports).

use std::time::Instant;

use serde::Serialize;

use super::bdd::{self, BddConfig};
use crate::model::{Model, ModelError};
use crate::observe::MemoryObserver;
use crate::scenario::Scenario;

/// What `myelosim bench bdd` measured.
#[derive(Clone, Debug, Serialize)]
pub struct BddReport {
    /// Always `BDD-lattice-v1`.
    pub model: &'static str,
    /// Lattice edge N.
    pub size: usize,
    /// Worker threads.
    pub threads: usize,
    /// Steps run.
    pub steps: u64,
    /// Master seed.
    pub seed: u64,
    /// Target tile edges (x, y, z) of the parallel partition.
    pub tile: [usize; 3],
    /// Σ over steps of cells alive at the step's start.
    pub cell_updates: u64,
    /// Wall time of the step loop [s].
    pub seconds: f64,
    /// Million cell-updates per second.
    pub mcups: f64,
    /// Population after the last step.
    pub final_population: u64,
    /// Population at t = 100 and t = 150 (the drug window dip).
    pub population_t100: u64,
    /// Population at t = 150.
    pub population_t150: u64,
    /// Peak resident memory of the process [MiB] (`VmHWM`), if the OS reports it.
    pub peak_rss_mib: Option<f64>,
}

/// Runs BDD-lattice-v1 on a pool of `threads` threads.
pub fn bench_bdd(
    cfg: &BddConfig,
    threads: usize,
) -> Result<BddReport, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let r = pool.install(|| bdd::run(cfg));
    let at = |t: usize| r.population.get(t).copied().unwrap_or(0);
    Ok(BddReport {
        model: "BDD-lattice-v1",
        size: cfg.size,
        threads,
        steps: cfg.steps,
        seed: cfg.seed,
        tile: cfg.tile,
        cell_updates: r.cell_updates,
        seconds: r.seconds,
        mcups: r.cell_updates as f64 / r.seconds / 1e6,
        final_population: r.final_population,
        population_t100: at(100),
        population_t150: at(150),
        peak_rss_mib: peak_rss_mib(),
    })
}

/// What `myelosim bench model` measured.
#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    /// Scenario name.
    pub scenario: String,
    /// Worker threads.
    pub threads: usize,
    /// Lattice sites.
    pub sites: usize,
    /// Steps run.
    pub steps: u64,
    /// Simulated days.
    pub simulated_days: f64,
    /// Wall time of the step loop [s] (set-up excluded).
    pub seconds: f64,
    /// Set-up time (bone geometry, seeding) [s].
    pub setup_seconds: f64,
    /// Site-steps per second (sites × steps / seconds), fields included.
    pub site_steps_per_second: f64,
    /// Simulated days per wall-clock second.
    pub simulated_days_per_second: f64,
    /// Seconds per stage, in pipeline order.
    pub stage_seconds: Vec<(String, f64)>,
    /// Nanoseconds per site-step for each stage.
    pub stage_ns_per_site_step: Vec<(String, f64)>,
    /// Peak resident memory of the process [MiB].
    pub peak_rss_mib: Option<f64>,
}

/// Runs a full-model scenario in memory (no files) on a pool of `threads` threads.
pub fn bench_model(s: &Scenario, threads: usize) -> Result<ModelReport, ModelError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ModelError::Numeric {
            step: 0,
            what: format!("thread pool: {e}"),
        })?;
    pool.install(|| {
        let t0 = Instant::now();
        let mut m = Model::new(s)?;
        let mut obs = MemoryObserver::default();
        m.begin(&mut obs)?;
        let setup_seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        while !m.is_done() {
            m.step(&mut obs)?;
        }
        let seconds = t1.elapsed().as_secs_f64();
        let sites = m.geometry().len();
        let site_steps = sites as f64 * m.steps_done() as f64;
        let named = m.timers().named();
        Ok(ModelReport {
            scenario: s.name.clone(),
            threads,
            sites,
            steps: m.steps_done(),
            simulated_days: m.time_d(),
            seconds,
            setup_seconds,
            site_steps_per_second: site_steps / seconds,
            simulated_days_per_second: m.time_d() / seconds,
            stage_ns_per_site_step: named
                .iter()
                .map(|(n, t)| (n.to_string(), t * 1e9 / site_steps))
                .collect(),
            stage_seconds: named.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            peak_rss_mib: peak_rss_mib(),
        })
    })
}

/// Peak resident set size of this process [MiB], from `/proc/self/status` (Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bdd_report_counts_and_rates_are_consistent() {
        let cfg = BddConfig {
            size: 64,
            steps: 20,
            seed: 1,
            tile: [16; 3],
            three_d: false,
        };
        let r = bench_bdd(&cfg, 1).unwrap();
        assert_eq!(r.steps, 20);
        assert!(r.cell_updates > 0);
        let rate = r.cell_updates as f64 / r.seconds / 1e6;
        assert!((r.mcups - rate).abs() <= 1e-9 * rate);
        let json = serde_json::to_string(&r).unwrap();
        for key in [
            "model",
            "size",
            "threads",
            "steps",
            "cell_updates",
            "seconds",
            "mcups",
            "final_population",
            "peak_rss_mib",
        ] {
            assert!(
                json.contains(&format!("\"{key}\"")),
                "{key} missing from {json}"
            );
        }
    }
}
