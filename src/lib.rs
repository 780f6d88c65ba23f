//! # myelosim
//!
//! A parallel, exactly reproducible agent-based simulator of multiple myeloma in the bone
//! marrow. A scenario file (TOML) describes the marrow region, the patient and the protocol;
//! [`model::Model`] advances a 2D or 3D lattice of cells and diffusing signals through a fixed
//! pipeline of named, timed stages; observers write what a clinician or researcher reads.
//!
//! ## The step pipeline ([`model::Model::step`])
//! 1. `apply_protocol` — due doses, phase transitions and procedures, logged as events.
//! 2. `advance_pharmacokinetics` — plasma and effect-site drug concentrations.
//! 3. `secrete` — cells write field source rates.
//! 4. `advance_fields` — diffusion and decay sub-steps (count fixed at load), then commit.
//! 5. `update_cells` — the tile-coloured parallel sweep: every cell decides (divide, die,
//!    move, …) from its neighbourhood and the committed fields; the engine applies.
//! 6. `advance_compartments` — whole-body ODE compartments (blood counts, M-protein …).
//! 7. `assess` — clinical readouts, response, progression.
//! 8. `observe` — observers fire on integer step cadences.
//!
//! Simulated time is `step × dt`, never an accumulated float. Randomness comes from streams
//! keyed by purpose, step and tile ([`rng`]), so results do not depend on the thread count.
#![warn(missing_docs)]

pub mod bench;
pub mod cells;
pub mod clinical;
pub mod clones;
pub mod engine;
pub mod fields;
pub mod model;
pub mod observe;
pub mod pharma;
pub mod protocol;
pub mod render;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod space;
