//! STUB — to be replaced: a diffusing field with source buffer, explicit and implicit solvers.
use crate::scenario::types::FieldParams;
use crate::space::geometry::Geometry;

/// A diffusing, decaying signal on the lattice [nM].
pub struct Field {
    /// Parameters (internal units).
    pub params: FieldParams,
    conc: Vec<f64>,
    source: Vec<f64>,
}

impl Field {
    /// A field at its initial concentration.
    pub fn new(params: FieldParams, geom: &Geometry) -> Self {
        let n = geom.len();
        Self {
            conc: vec![params.initial_nm; n],
            source: vec![0.0; n],
            params,
        }
    }
    /// Field name.
    pub fn name(&self) -> &str {
        &self.params.name
    }
    /// Committed concentrations [nM].
    pub fn conc(&self) -> &[f64] {
        &self.conc
    }
    /// Source rates per site [nM/h]; cleared by `advance`.
    pub fn sources_mut(&mut self) -> &mut [f64] {
        &mut self.source
    }
    /// Advances diffusion, decay and sources by `dt_h`; `kind` is the lattice occupancy (bone
    /// sites diffuse `bone_diffusion_factor` times slower).
    pub fn advance(&mut self, _geom: &Geometry, dt_h: f64, _kind: &[u8]) {
        let k = self.params.decay_per_h;
        for (c, s) in self.conc.iter_mut().zip(self.source.iter_mut()) {
            *c = (*c + *s * dt_h) / (1.0 + k * dt_h);
            *s = 0.0;
        }
    }
    /// Mean concentration [nM].
    pub fn mean(&self) -> f64 {
        self.conc.iter().sum::<f64>() / self.conc.len() as f64
    }
    /// Maximum concentration [nM].
    pub fn max(&self) -> f64 {
        self.conc.iter().cloned().fold(0.0, f64::max)
    }
}
