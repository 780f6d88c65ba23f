//! Stability limits of the explicit (FTCS) diffusion scheme and the sub-step count that meets
//! them.
//!
//! Reads: [`FieldParams`] (D, decay, bone factor). Writes: nothing (pure functions).
//!
//! Forward Euler on the 2·dims-point Laplacian is stable and positivity-preserving iff
//! D·Δt/Δx² ≤ 1/(2·dims) (von Neumann analysis, e.g. Morton & Mayers, *Numerical Solution of
//! Partial Differential Equations*, 2nd ed. 2005, §2.6 and §3.2; the Bishop-model HAL code uses
//! the 2D value 0.25, MODEL.md Table 1.5a). We keep a 10% margin (0.9 × limit) so round-off in
//! `dt/n` never lands exactly on the edge. The decay bound k·Δt ≤ 0.5 is an *accuracy* bound
//! on the diffusion/decay splitting (the explicit solver applies decay exactly as
//! `exp(−k·Δt)`, so decay alone can never make a concentration negative).

use crate::scenario::types::FieldParams;

/// Safety margin applied to the theoretical FTCS limit.
pub const MARGIN: f64 = 0.9;

/// Largest decay number k·Δt allowed per explicit sub-step (splitting accuracy).
pub const MAX_DECAY_NUMBER: f64 = 0.5;

/// The FTCS stability limit on D·Δt/Δx² for `spatial_dims` dimensions: 1/(2·dims).
pub fn explicit_limit(spatial_dims: usize) -> f64 {
    1.0 / (2.0 * spatial_dims.max(1) as f64)
}

/// Largest diffusion coefficient anywhere on the lattice [µm²/h] (bone may only slow
/// diffusion, but a factor > 1 is honoured if a scenario ever sets one).
pub fn max_diffusion(p: &FieldParams) -> f64 {
    p.diffusion_um2_per_h * p.bone_diffusion_factor.max(1.0)
}

/// True if `n` explicit sub-steps of `dt_h` meet both bounds
/// (D·(dt/n)/dx² ≤ 0.9·limit and k·dt/n ≤ 0.5).
pub fn explicit_substeps_ok(
    p: &FieldParams,
    dt_h: f64,
    site_um: f64,
    spatial_dims: usize,
    n: u32,
) -> bool {
    if n == 0 {
        return false;
    }
    let sub = dt_h / n as f64;
    let dnum = max_diffusion(p) * sub / (site_um * site_um);
    let knum = p.decay_per_h * sub;
    dnum <= MARGIN * explicit_limit(spatial_dims) && knum <= MAX_DECAY_NUMBER
}

/// The smallest sub-step count `n ≥ 1` with D·(dt/n)/dx² ≤ 0.9·[`explicit_limit`] and
/// k·dt/n ≤ 0.5.
pub fn min_explicit_substeps(p: &FieldParams, dt_h: f64, site_um: f64, spatial_dims: usize) -> u32 {
    let dnum = max_diffusion(p) * dt_h / (site_um * site_um);
    let guess_d = dnum / (MARGIN * explicit_limit(spatial_dims));
    let guess_k = p.decay_per_h * dt_h / MAX_DECAY_NUMBER;
    let guess = guess_d.max(guess_k).ceil();
    // Clamp before converting (NaN and huge values saturate).
    let mut n = if guess.is_finite() && guess >= 1.0 {
        guess.min(u32::MAX as f64) as u32
    } else {
        1
    };
    // Fix any off-by-one from rounding so the result is exactly the smallest passing count
    // under the same arithmetic as the check.
    while n < u32::MAX && !explicit_substeps_ok(p, dt_h, site_um, spatial_dims, n) {
        n += 1;
    }
    while n > 1 && explicit_substeps_ok(p, dt_h, site_um, spatial_dims, n - 1) {
        n -= 1;
    }
    n
}
