//! The engine that applies what cell rules decide: the parallel tile sweep.
pub mod sweep;
