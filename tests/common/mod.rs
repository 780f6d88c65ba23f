//! Shared helpers for the integration tests.
#![allow(dead_code)]

use myelosim::model::Model;
use myelosim::observe::MemoryObserver;
use myelosim::scenario::{
    BoneParams, MyelomaParams, OutputParams, Placement, Scenario, SpaceParams,
};
use myelosim::space::geometry::{Boundary, Neighbourhood};

/// A bare scenario: `n`×`n` closed Moore lattice, no bone, no fields.
pub fn bare_scenario(n: usize, days: f64, seed: u64) -> Scenario {
    Scenario {
        name: "test".into(),
        origin: "<test>".into(),
        source_text: String::new(),
        overrides: vec![],
        seed,
        dt_h: 1.0,
        steps: (days * 24.0) as u64,
        record_every_steps: 24,
        space: SpaceParams {
            dims: [n, n, 1],
            site_um: 10.0,
            boundary: Boundary::Closed,
            hood: Neighbourhood::Moore,
            tile_edge: 16,
        },
        bone: BoneParams::None,
        myeloma: MyelomaParams {
            initial_cells: 1,
            placement: Placement::Centre,
            division_per_h: 0.1,
            death_per_h: 0.0,
        },
        treatment: None,
        clones: None,
        fields: vec![],
        output: OutputParams::default(),
        biology: Default::default(),
    }
}

/// Runs `s` to the end on a pool of `threads` threads, keeping everything in memory.
pub fn run_in_memory(s: &Scenario, threads: usize) -> (Model, MemoryObserver) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut m = Model::new(s).expect("model builds");
        let mut obs = MemoryObserver::default();
        m.begin(&mut obs).unwrap();
        while !m.is_done() {
            m.step(&mut obs).unwrap();
        }
        (m, obs)
    })
}
