//! STUB — to be replaced: procedural trabecular bone and PNG/CSV masks.
use crate::scenario::types::BoneParams;
use crate::space::geometry::Geometry;

/// Why a bone geometry could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BoneError(pub String);

/// Which sites are bone matrix at the start.
pub fn generate(params: &BoneParams, geom: &Geometry, _seed: u64) -> Result<Vec<bool>, BoneError> {
    match params {
        BoneParams::None => Ok(vec![false; geom.len()]),
        _ => Ok(vec![false; geom.len()]),
    }
}
