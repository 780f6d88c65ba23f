//! Scenario files: raw TOML mirror → validation → [`Scenario`] in internal units.
pub mod types;
pub use types::*;
