//! BDD-lattice-v1, the reference throughput model (`shared/bench/REFERENCE_MODEL.md`): cells
//! on an N×N closed lattice with a von Neumann neighbourhood die with probability d, else
//! divide with probability b into a uniformly chosen empty neighbour; d rises from 0.01 to
//! 0.05 for steps 100–199 ("drug on").
//!
//! It runs through the same [`Sweep`], [`Lattice`] and keyed RNG streams as the full model —
//! not a separate kernel — so its throughput is the engine's throughput.
//!
//! Reads: its parameters. Writes: nothing but the returned [`BddResult`].

use std::time::Instant;

use rand::Rng;

use crate::cells::lattice::{CellKind, Lattice};
use crate::engine::sweep::{Action, BirthDeath, Rule, SiteView, Sweep};
use crate::rng::{Stream, threshold32};
use crate::space::geometry::{Boundary, Geometry, Neighbourhood};
use crate::space::tiles::Tiling;

/// Birth probability per step.
pub const BIRTH: f64 = 0.2;
/// Death probability per step outside the drug window.
pub const DEATH_OFF: f64 = 0.01;
/// Death probability per step for 100 ≤ t < 200.
pub const DEATH_ON: f64 = 0.05;

/// Default tile shape: wide and flat. On a lattice whose rows are a power of two bytes long,
/// the rows of a square tile fall into a handful of L1 cache sets and evict each other;
/// 256×16 tiles cut simulated L1 misses ~6× against 64×64 at N = 1024 (cachegrind; see
/// docs/PERFORMANCE.md) for the same instruction count.
pub const DEFAULT_TILE: [usize; 3] = [256, 16, 16];

/// Tile shape for an N×N lattice (3D: [`DEFAULT_TILE`]): 4096 sites per tile, 16 rows up to
/// N = 1024, then half the rows per doubling of N (512×8 at 2048, 1024×4 at 4096, at least 4
/// rows). Why: rows of N bytes start at L1 set offsets N/64 apart (mod 64 sets), so the
/// larger N, the fewer set groups a tile's rows share; halving the rows keeps the kind and
/// stamp lines of a tile from evicting each other. Cachegrind, N = 2048, 100 steps: 23.7 M
/// D1 misses with 256×16, 14.4 M with 512×8 (docs/PERFORMANCE.md).
pub fn default_tile(size: usize, three_d: bool) -> [usize; 3] {
    if three_d {
        return DEFAULT_TILE;
    }
    let rows = (16 * 1024 / size.max(1)).clamp(4, 16);
    [4096 / rows, rows, rows]
}

/// Parses a tile shape `W`, `WxH` or `WxHxD` (missing edges repeat the last one given).
pub fn parse_tile(s: &str) -> Option<[usize; 3]> {
    let v: Vec<usize> = s
        .split('x')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    match v.as_slice() {
        [w] => Some([*w; 3]),
        [w, h] => Some([*w, *h, *h]),
        [w, h, d] => Some([*w, *h, *d]),
        _ => None,
    }
}

/// Settings of one benchmark run.
#[derive(Clone, Copy, Debug)]
pub struct BddConfig {
    /// Lattice edge N.
    pub size: usize,
    /// Steps (the reference uses 300).
    pub steps: u64,
    /// Master seed.
    pub seed: u64,
    /// Target tile edges (x, y, z) of the parallel partition; see [`DEFAULT_TILE`].
    pub tile: [usize; 3],
    /// Run the 3D variant (not part of the reference): an N×N×N lattice, 6 face neighbours,
    /// starting from a centred ball holding 10 % of the sites. Used by the scaling study.
    pub three_d: bool,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct BddResult {
    /// Σ over steps of cells alive at the step's start.
    pub cell_updates: u64,
    /// Wall time of the step loop [s] (set-up excluded).
    pub seconds: f64,
    /// Population after the last step.
    pub final_population: u64,
    /// Population at the start of each step, then the final one (`steps + 1` values).
    pub population: Vec<u64>,
}

/// The BDD rule for one step.
///
/// One uniform 32-bit number `u` decides the event: death if `u < death`, else a division
/// attempt if `u < attempt`, else nothing. The bands have widths d·2³² and (1 − d)·b·2³², so
/// P(death) = d and P(attempt) = (1 − d)·b — exactly the spec's "dies with probability d;
/// otherwise with probability b …" (to 2⁻³²), from half a draw.
struct BddRule {
    death: u64,
    attempt: u64,
}

impl BddRule {
    fn new(death: f64, birth: f64) -> Self {
        Self {
            death: threshold32(death),
            attempt: threshold32(death + (1.0 - death) * birth),
        }
    }
}

impl Rule for BddRule {
    type Payload = ();

    #[inline]
    fn acts(&self, kind: u8) -> bool {
        kind == CellKind::Myeloma as u8
    }

    #[inline]
    fn decide(&self, view: &SiteView<'_, ()>, rng: &mut Stream) -> Action<()> {
        let bits = rng.next_u64() as u32;
        self.decide_with(view, bits, rng)
    }

    #[inline]
    fn decide_with(&self, view: &SiteView<'_, ()>, bits: u32, rng: &mut Stream) -> Action<()> {
        let u = bits as u64;
        if u < self.death {
            return Action::Die;
        }
        if u < self.attempt {
            if let Some(to) = view.random_neighbour_of(CellKind::Empty, rng) {
                return Action::Divide {
                    to,
                    mother: (),
                    daughter: (),
                };
            }
        }
        Action::Stay
    }

    /// The same decision, applied branch-free by the sweep (neighbour picked from the event
    /// bits instead of a further draw; see [`BirthDeath`]).
    #[inline]
    fn birth_death(&self) -> Option<BirthDeath> {
        Some(BirthDeath {
            death: self.death,
            attempt: self.attempt,
            into: CellKind::Empty,
        })
    }
}

/// Number of cells in the reference starting disc: (x−c)² + (y−c)² ≤ 0.1·N²/π, c = ⌊N/2⌋.
pub fn initial_disc(size: usize) -> Vec<usize> {
    let c = (size / 2) as f64;
    let r2 = 0.1 * (size * size) as f64 / std::f64::consts::PI;
    let mut v = Vec::new();
    for y in 0..size {
        for x in 0..size {
            let (dx, dy) = (x as f64 - c, y as f64 - c);
            if dx * dx + dy * dy <= r2 {
                v.push(x + size * y);
            }
        }
    }
    v
}

/// Sites of the 3D variant's starting ball: (x−c)²+(y−c)²+(z−c)² ≤ r², r³ = 0.1·N³·3/(4π).
pub fn initial_ball(size: usize) -> Vec<usize> {
    let c = (size / 2) as f64;
    let r2 = (0.1 * (size as f64).powi(3) * 3.0 / (4.0 * std::f64::consts::PI)).powf(2.0 / 3.0);
    let mut v = Vec::new();
    for z in 0..size {
        for y in 0..size {
            for x in 0..size {
                let (dx, dy, dz) = (x as f64 - c, y as f64 - c, z as f64 - c);
                if dx * dx + dy * dy + dz * dz <= r2 {
                    v.push(x + size * (y + size * z));
                }
            }
        }
    }
    v
}

/// A BDD-lattice-v1 simulation in progress (exposed for micro-benchmarks of single steps).
pub struct Bdd {
    geom: Geometry,
    lattice: Lattice<()>,
    sweep: Sweep,
    seed: u64,
    step: u64,
    alive: u64,
}

impl Bdd {
    /// Sets up the lattice and the starting disc (or ball) of `cfg`.
    pub fn new(cfg: &BddConfig) -> Self {
        let nz = if cfg.three_d { cfg.size } else { 1 };
        let geom = Geometry::new(
            [cfg.size, cfg.size, nz],
            10.0,
            Boundary::Closed,
            Neighbourhood::VonNeumann,
        );
        let mut lattice: Lattice<()> = Lattice::new(&geom);
        let start = if cfg.three_d {
            initial_ball(cfg.size)
        } else {
            initial_disc(cfg.size)
        };
        for &i in &start {
            lattice.place(i, CellKind::Myeloma, ());
        }
        let sweep = Sweep::new(Tiling::with_shape(&geom, cfg.tile));
        Self {
            geom,
            lattice,
            sweep,
            seed: cfg.seed,
            step: 0,
            alive: start.len() as u64,
        }
    }

    /// Cells alive now.
    pub fn population(&self) -> u64 {
        self.alive
    }

    /// One step; returns the number of cells that acted (alive at the step's start).
    ///
    /// Never inlined, so profilers and the instruction-count guard (`.ci/instr-guard`) can
    /// count exactly the step loop (`valgrind --toggle-collect=…Bdd::step`).
    #[inline(never)]
    pub fn step(&mut self) -> u64 {
        let t = self.step;
        let d = if (100..200).contains(&t) {
            DEATH_ON
        } else {
            DEATH_OFF
        };
        let rule = BddRule::new(d, BIRTH);
        // 2D (4 neighbours) takes the sweep's birth–death fast path; 3D (6 neighbours) its
        // plain path, where `decide` draws the event bits itself.
        let tally = self
            .sweep
            .run(&mut self.lattice, &self.geom, &rule, self.seed, t);
        self.alive = self.alive + tally.births - tally.deaths;
        self.step += 1;
        tally.acted
    }
}

/// Runs BDD-lattice-v1 on the current rayon pool.
pub fn run(cfg: &BddConfig) -> BddResult {
    let mut sim = Bdd::new(cfg);
    let mut population = Vec::with_capacity(cfg.steps as usize + 1);
    let mut cell_updates = 0;
    let t0 = Instant::now();
    for _ in 0..cfg.steps {
        population.push(sim.population());
        cell_updates += sim.step();
    }
    let seconds = t0.elapsed().as_secs_f64();
    let alive = sim.population();
    population.push(alive);
    BddResult {
        cell_updates,
        seconds,
        final_population: alive,
        population,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tiles_follow_the_lattice_size() {
        assert_eq!(default_tile(256, false), DEFAULT_TILE);
        assert_eq!(default_tile(1024, false), DEFAULT_TILE);
        assert_eq!(default_tile(2048, false), [512, 8, 8]);
        assert_eq!(default_tile(4096, false), [1024, 4, 4]);
        assert_eq!(default_tile(8192, false), [1024, 4, 4]);
        assert_eq!(default_tile(2048, true), DEFAULT_TILE);
    }

    #[test]
    fn reference_disc_sizes() {
        // REFERENCE_MODEL.md: 6 557 / 104 861 / 419 437 cells for N = 256 / 1024 / 2048.
        assert_eq!(initial_disc(256).len(), 6_557);
        assert_eq!(initial_disc(1024).len(), 104_861);
    }
}
