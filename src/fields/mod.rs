//! Diffusing signals (RANKL, OPG, TGF-β, DKK1, IL-6 …): storage, sources, solvers, stability.
//!
//! Reads: [`crate::scenario::types::FieldParams`], the lattice [`crate::space::geometry::Geometry`]
//! and the per-site kind codes (bone slows diffusion). Writes: the field's own concentration
//! and source arrays.
//!
//! - [`field`]: the [`Field`] type (storage, the finite-volume face conductances, reductions).
//! - [`explicit`]: forward-Euler (FTCS) diffusion sub-steps with exact decay.
//! - [`implicit`]: locally-one-dimensional backward Euler (Thomas / cyclic Thomas per line).
//! - [`stability`]: the explicit-scheme limit and the sub-step count that meets it.
pub mod explicit;
pub mod field;
pub mod implicit;
pub mod stability;
pub use field::Field;
