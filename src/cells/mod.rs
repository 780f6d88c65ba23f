//! Cell families: the shared lattice state and one file of rules per family.
pub mod lattice;
pub mod myeloma;
