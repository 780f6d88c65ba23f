//! Diffusing signals (RANKL, OPG, TGF-β, DKK1, IL-6 …): storage, sources, solvers, stability.
pub mod field;
pub use field::Field;
