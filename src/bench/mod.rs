//! Benchmark models run through the engine's own lattice, RNG streams and parallel sweep.
pub mod bdd;
pub mod report;
