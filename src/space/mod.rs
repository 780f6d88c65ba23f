//! Space: lattice geometry, the fixed tile partition, and bone geometry.
pub mod bone;
pub mod geometry;
pub mod tiles;
