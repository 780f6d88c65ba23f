//! A straightforward sequential Rust implementation of BDD-lattice-v1 — the yardstick that
//! `myelosim bench bdd` is compared against (REFERENCE_MODEL.md: "a `Vec<u8>` grid, a shuffled
//! cell list, `SmallRng`"). Deliberately written the obvious way, with no tuning.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

/// What one baseline run measured.
pub struct BaselineResult {
    pub cell_updates: u64,
    pub final_population: u64,
    pub seconds: f64,
}

pub fn run_baseline(n: usize, steps: u64, seed: u64) -> BaselineResult {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut grid = vec![0u8; n * n];
    let mut cells: Vec<(usize, usize)> = Vec::new();
    let c = (n / 2) as f64;
    let r2 = 0.1 * (n * n) as f64 / std::f64::consts::PI;
    for y in 0..n {
        for x in 0..n {
            let (dx, dy) = (x as f64 - c, y as f64 - c);
            if dx * dx + dy * dy <= r2 {
                grid[y * n + x] = 1;
                cells.push((x, y));
            }
        }
    }
    let mut cell_updates = 0u64;
    let mut next: Vec<(usize, usize)> = Vec::new();
    let t0 = std::time::Instant::now();
    for t in 0..steps {
        let d = if (100..200).contains(&t) { 0.05 } else { 0.01 };
        cells.shuffle(&mut rng);
        cell_updates += cells.len() as u64;
        next.clear();
        for &(x, y) in &cells {
            if rng.random::<f64>() < d {
                grid[y * n + x] = 0;
                continue;
            }
            next.push((x, y));
            if rng.random::<f64>() < 0.2 {
                let mut empty = [(0usize, 0usize); 4];
                let mut m = 0;
                if x > 0 && grid[y * n + x - 1] == 0 {
                    empty[m] = (x - 1, y);
                    m += 1;
                }
                if x + 1 < n && grid[y * n + x + 1] == 0 {
                    empty[m] = (x + 1, y);
                    m += 1;
                }
                if y > 0 && grid[(y - 1) * n + x] == 0 {
                    empty[m] = (x, y - 1);
                    m += 1;
                }
                if y + 1 < n && grid[(y + 1) * n + x] == 0 {
                    empty[m] = (x, y + 1);
                    m += 1;
                }
                if m > 0 {
                    let (ex, ey) = empty[rng.random_range(0..m)];
                    grid[ey * n + ex] = 1;
                    next.push((ex, ey));
                }
            }
        }
        std::mem::swap(&mut cells, &mut next);
    }
    BaselineResult {
        cell_updates,
        final_population: cells.len() as u64,
        seconds: t0.elapsed().as_secs_f64(),
    }
}
