//! A diffusing, decaying signal on the lattice: concentrations, per-site source rates, the
//! finite-volume face conductances, and the dispatch to the explicit or implicit solver.
//!
//! Reads: [`FieldParams`], the [`Geometry`] (dims, boundary, site size) and the per-site kind
//! codes (bone matrix slows diffusion). Writes: its own concentration array (committed at the
//! end of [`Field::advance`]) and its source array (filled by the `secrete` stage, consumed
//! and zeroed by `advance`).
//!
//! ## Scheme
//! Conservative finite volumes on the lattice: the flux through the face between neighbouring
//! sites `i` and `j` is `D_ij·(c_j − c_i)/Δx` with `D_ij` the **harmonic mean** of the two
//! site diffusivities (`D` in marrow, `D·bone_diffusion_factor` in bone). The harmonic mean is
//! the exact series conductance of two half-cells (Patankar 1980, *Numerical Heat Transfer and
//! Fluid Flow*, §4.2-3), so an interface with a no-flux bone site (factor 0) carries no flux,
//! and because each face flux leaves one site and enters the other, mass is conserved to
//! round-off. Closed edges are faces with zero conductance; periodic edges wrap.
//!
//! Face conductances (relative to `D`, so 1 in plain marrow) and the implicit factorisations
//! are rebuilt only when the bone layout, the step or the parameters change; the bone layout
//! is compared each call, eight sites per word operation (`bone_changes`). `advance` never
//! allocates.
//!
//! Reductions (`total`, `mean`) sum each x-row left to right and add the row sums in row
//! order, so they do not depend on the thread count (DESIGN.md §4).

use crate::cells::lattice::CellKind;
use crate::scenario::types::{FieldParams, Solver, Splitting};
use crate::space::geometry::{Boundary, Geometry};

use super::{explicit, implicit, stability};

/// Everything the current coefficients were built from; a change triggers a rebuild.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key {
    dt_h: f64,
    site_um: f64,
    diffusion: f64,
    decay: f64,
    bone_factor: f64,
    substeps: u32,
    solver: Solver,
    periodic: bool,
    distributed_decay: bool,
}

/// Solver-specific scratch.
#[derive(Debug)]
enum Scratch {
    /// Explicit: the next-state buffer.
    Explicit(Vec<f64>),
    /// Implicit: per-axis line factorisations.
    Implicit(Box<implicit::Factors>),
}

/// A diffusing, decaying signal on the lattice [nM].
#[derive(Debug)]
pub struct Field {
    /// Parameters (internal units). Changing them is allowed between calls to
    /// [`Field::advance`]; the coefficients are rebuilt on the next call.
    pub params: FieldParams,
    conc: Vec<f64>,
    source: Vec<f64>,
    dims: [usize; 3],
    periodic: bool,
    /// Bone layout the face conductances were built for (1 = bone).
    bone: Vec<u8>,
    /// Relative face conductance between each site and its +axis neighbour (wrapping; zero
    /// across a closed edge). Empty for an axis of length 1.
    faces: [Vec<f64>; 3],
    /// Sites whose bone state changed since the last call (scratch).
    changed: Vec<usize>,
    /// Per axis, per line: whether a face on it changed (scratch for partial refactoring).
    dirty: [Vec<bool>; 3],
    key: Option<Key>,
    substeps: u32,
    scratch: Scratch,
}

impl Field {
    /// A field at its initial concentration `params.initial_nm` everywhere, with no sources.
    pub fn new(params: FieldParams, geom: &Geometry) -> Self {
        let n = geom.len();
        let dims = geom.dims;
        let faces = std::array::from_fn(|a| {
            if dims[a] > 1 {
                vec![0.0; n]
            } else {
                Vec::new()
            }
        });
        let scratch = new_scratch(params.solver, dims);
        Self {
            conc: vec![params.initial_nm; n],
            source: vec![0.0; n],
            dims,
            periodic: geom.boundary == Boundary::Periodic,
            bone: vec![0; n],
            changed: Vec::new(),
            dirty: std::array::from_fn(|a| vec![false; if dims[a] > 1 { n / dims[a] } else { 0 }]),
            faces,
            key: None,
            substeps: params.substeps.max(1),
            scratch,
            params,
        }
    }

    /// Field name.
    pub fn name(&self) -> &str {
        &self.params.name
    }

    /// Committed concentrations [nM], one per site (x fastest).
    pub fn conc(&self) -> &[f64] {
        &self.conc
    }

    /// Mutable concentrations [nM], for set-up and tests.
    pub fn conc_mut(&mut self) -> &mut [f64] {
        &mut self.conc
    }

    /// Source rates per site [nM/h], written by the `secrete` stage; consumed and zeroed by
    /// [`Field::advance`].
    pub fn sources_mut(&mut self) -> &mut [f64] {
        &mut self.source
    }

    /// Sub-steps used by the last [`Field::advance`]: `params.substeps`, raised for the
    /// explicit solver to [`stability::min_explicit_substeps`] if that is larger (validation
    /// should have prevented it; raising keeps the scheme stable and non-negative rather than
    /// letting it blow up).
    pub fn effective_substeps(&self) -> u32 {
        self.substeps
    }

    /// Advances diffusion, decay and sources by `dt_h` hours in sub-steps, then commits.
    ///
    /// Sites whose `kind` is [`CellKind::Bone`] diffuse `params.bone_diffusion_factor` times
    /// slower. Sources (nM/h) act throughout the step and are zeroed afterwards.
    ///
    /// # Panics
    /// If `geom` or `kind` does not match the lattice the field was made for.
    pub fn advance(&mut self, geom: &Geometry, dt_h: f64, kind: &[u8]) {
        assert_eq!(
            geom.dims, self.dims,
            "field {}: lattice changed",
            self.params.name
        );
        assert_eq!(
            kind.len(),
            self.conc.len(),
            "field {}: kind length",
            self.params.name
        );
        self.periodic = geom.boundary == Boundary::Periodic;
        self.refresh(geom, dt_h, kind);
        let n_sub = self.substeps;
        let sub = dt_h / n_sub as f64;
        let r = self.params.diffusion_um2_per_h * sub / (geom.site_um * geom.site_um);
        let k = self.params.decay_per_h;
        match &mut self.scratch {
            Scratch::Explicit(next) => {
                // Diffusion by FTCS, then decay and sources integrated exactly over the
                // sub-step: c ← e·c* + φ·s with e = exp(−kΔt), φ = (1 − e)/k (→ Δt as k → 0).
                let e = (-k * sub).exp();
                let phi = if k > 0.0 {
                    -(-k * sub).exp_m1() / k
                } else {
                    sub
                };
                for _ in 0..n_sub {
                    explicit::step(
                        self.dims,
                        &self.faces,
                        &self.conc,
                        &self.source,
                        next,
                        explicit::Coeffs { r, e, phi },
                    );
                    std::mem::swap(&mut self.conc, next);
                }
                self.source.fill(0.0);
            }
            Scratch::Implicit(f) => {
                // The last sub-step zeroes the sources as it reads them.
                for i in 0..n_sub {
                    f.substep(
                        self.dims,
                        &mut self.conc,
                        &mut self.source,
                        sub,
                        i + 1 == n_sub,
                    );
                }
            }
        }
    }

    /// Rebuilds face conductances and factorisations if anything they depend on changed.
    fn refresh(&mut self, geom: &Geometry, dt_h: f64, kind: &[u8]) {
        let p = &self.params;
        // Implicit splitting (`[fields.X] splitting`); part of the key, so a change of
        // `params.splitting` between calls refactors the lines.
        let distributed = p.splitting == Splitting::Distributed;
        let substeps = match p.solver {
            Solver::Explicit => p.substeps.max(stability::min_explicit_substeps(
                p,
                dt_h,
                geom.site_um,
                geom.spatial_dims(),
            )),
            Solver::Implicit => p.substeps.max(1),
        };
        let key = Key {
            dt_h,
            site_um: geom.site_um,
            diffusion: p.diffusion_um2_per_h,
            decay: p.decay_per_h,
            bone_factor: p.bone_diffusion_factor,
            substeps,
            solver: p.solver,
            periodic: self.periodic,
            distributed_decay: distributed,
        };
        let bone_code = CellKind::Bone as u8;
        if self.key == Some(key) {
            // Only the bone layout can have moved: remodeling changes a few sites per step,
            // so update their faces and refactor only the lines through them. Each line's
            // factors depend only on its own faces, so this equals a full rebuild.
            self.changed.clear();
            bone_changes(kind, &self.bone, bone_code, &mut self.changed);
            if self.changed.is_empty() {
                return;
            }
            for d in &mut self.dirty {
                d.fill(false);
            }
            for &i in &self.changed {
                self.bone[i] ^= 1;
            }
            for &i in &self.changed {
                update_faces_at(
                    self.dims,
                    self.periodic,
                    &self.bone,
                    p.bone_diffusion_factor,
                    &mut self.faces,
                    &mut self.dirty,
                    i,
                );
            }
            if let Scratch::Implicit(f) = &mut self.scratch {
                let sub = dt_h / substeps as f64;
                let r = p.diffusion_um2_per_h * sub / (geom.site_um * geom.site_um);
                let kdt = p.decay_per_h * sub;
                f.factor(
                    self.dims,
                    self.periodic,
                    &self.faces,
                    Some(&self.dirty),
                    r,
                    kdt,
                    distributed,
                );
            }
            return;
        }
        for (b, &k) in self.bone.iter_mut().zip(kind) {
            *b = (k == bone_code) as u8;
        }
        build_faces(
            self.dims,
            self.periodic,
            &self.bone,
            p.bone_diffusion_factor,
            &mut self.faces,
        );
        let solver_matches = matches!(
            (&self.scratch, p.solver),
            (Scratch::Explicit(_), Solver::Explicit) | (Scratch::Implicit(_), Solver::Implicit)
        );
        if !solver_matches {
            self.scratch = new_scratch(p.solver, self.dims);
        }
        if let Scratch::Implicit(f) = &mut self.scratch {
            let sub = dt_h / substeps as f64;
            let r = p.diffusion_um2_per_h * sub / (geom.site_um * geom.site_um);
            f.factor(
                self.dims,
                self.periodic,
                &self.faces,
                None,
                r,
                p.decay_per_h * sub,
                distributed,
            );
        }
        self.substeps = substeps;
        self.key = Some(key);
    }

    /// Sum of all concentrations [nM·sites], summed row by row in a fixed order.
    pub fn total(&self) -> f64 {
        let nx = self.dims[0];
        self.conc
            .chunks_exact(nx)
            .map(|row| row.iter().sum::<f64>())
            .fold(0.0, |acc, s| acc + s)
    }

    /// Mean concentration [nM].
    pub fn mean(&self) -> f64 {
        self.total() / self.conc.len() as f64
    }

    /// Maximum concentration [nM] (0 for an all-zero field).
    pub fn max(&self) -> f64 {
        self.conc.iter().copied().fold(0.0, f64::max)
    }
}

fn new_scratch(solver: Solver, dims: [usize; 3]) -> Scratch {
    let n = dims[0] * dims[1] * dims[2];
    match solver {
        Solver::Explicit => Scratch::Explicit(vec![0.0; n]),
        Solver::Implicit => Scratch::Implicit(Box::new(implicit::Factors::new(dims))),
    }
}

/// Appends to `out` the sites whose bone state in `kind` differs from `bone` (1 = bone).
///
/// Runs every advance, so it compares eight sites per step with word arithmetic ("SWAR"):
/// `x = word ⊕ (code·0x0101…)` has a zero byte exactly where a site is bone, and
/// `¬(((x & 0x7F…) + 0x7F…) | x) & 0x80…` sets the top bit of exactly those bytes (no carry
/// crosses a byte: Warren, *Hacker's Delight*, 2nd ed., §6-1). Shifted down, that is the
/// stored 0/1 mask of the same eight sites; only differing words are examined byte by byte.
fn bone_changes(kind: &[u8], bone: &[u8], code: u8, out: &mut Vec<usize>) {
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let pattern = ONES * code as u64;
    let (k8, b8) = (kind.chunks_exact(8), bone.chunks_exact(8));
    let tail = kind.len() - k8.remainder().len();
    for (w, (k, b)) in k8.zip(b8).enumerate() {
        let x = u64::from_le_bytes(k.try_into().unwrap()) ^ pattern;
        let is_bone = !(((x & LO7) + LO7) | x) & !LO7;
        let diff = (is_bone >> 7) ^ u64::from_le_bytes(b.try_into().unwrap());
        if diff != 0 {
            for j in 0..8 {
                if (diff >> (8 * j)) & 1 != 0 {
                    out.push(8 * w + j);
                }
            }
        }
    }
    for i in tail..kind.len() {
        if (kind[i] == code) as u8 != bone[i] {
            out.push(i);
        }
    }
}

/// Relative conductance of the face joining site `i` to its +axis-`a` neighbour (wrapping
/// when periodic; 0 across a closed far edge).
fn face_value(
    dims: [usize; 3],
    periodic: bool,
    bone: &[u8],
    factor: f64,
    a: usize,
    i: usize,
) -> f64 {
    let w = |i: usize| if bone[i] != 0 { factor } else { 1.0 };
    let strides = [1, dims[0], dims[0] * dims[1]];
    let pos = (i / strides[a]) % dims[a];
    if pos + 1 < dims[a] {
        harmonic(w(i), w(i + strides[a]))
    } else if periodic {
        harmonic(w(i), w(i + strides[a] - dims[a] * strides[a]))
    } else {
        0.0
    }
}

/// Recomputes the faces on both sides of site `i` along every axis and marks the lines
/// through `i` dirty.
fn update_faces_at(
    dims: [usize; 3],
    periodic: bool,
    bone: &[u8],
    factor: f64,
    faces: &mut [Vec<f64>; 3],
    dirty: &mut [Vec<bool>; 3],
    i: usize,
) {
    let [nx, ny, _] = dims;
    let strides = [1, nx, nx * ny];
    for a in 0..3 {
        let n = dims[a];
        if n == 1 {
            continue;
        }
        let pos = (i / strides[a]) % n;
        faces[a][i] = face_value(dims, periodic, bone, factor, a, i);
        let below = if pos > 0 {
            Some(i - strides[a])
        } else if periodic {
            Some(i + (n - 1) * strides[a])
        } else {
            None
        };
        if let Some(j) = below {
            faces[a][j] = face_value(dims, periodic, bone, factor, a, j);
        }
        // Line ids as enumerated by `implicit::Factors::factor`.
        let line = match a {
            0 => i / nx,
            1 => i % nx + nx * (i / (nx * ny)),
            _ => i % (nx * ny),
        };
        dirty[a][line] = true;
    }
}

/// Harmonic mean of two relative diffusivities (0 if either is 0).
#[inline]
fn harmonic(a: f64, b: f64) -> f64 {
    if a + b > 0.0 {
        2.0 * a * b / (a + b)
    } else {
        0.0
    }
}

/// Fills the relative face conductances: `faces[a][i]` joins site `i` to its +axis neighbour
/// (wrapping to 0 at the far edge); at a closed far edge it is 0.
fn build_faces(
    dims: [usize; 3],
    periodic: bool,
    bone: &[u8],
    factor: f64,
    faces: &mut [Vec<f64>; 3],
) {
    for a in 0..3 {
        if dims[a] == 1 {
            continue;
        }
        for (i, g) in faces[a].iter_mut().enumerate() {
            *g = face_value(dims, periodic, bone, factor, a, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bone_changes;

    fn bone_changed(kind: &[u8], bone: &[u8], code: u8) -> Vec<usize> {
        let mut out = Vec::new();
        bone_changes(kind, bone, code, &mut out);
        out
    }

    /// The word-wise comparison agrees with a byte-by-byte one for every byte value as the
    /// code, including lengths that are not a multiple of eight.
    #[test]
    fn bone_changed_matches_bytewise() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u8
        };
        for code in 0..=255u8 {
            for len in [0, 5, 8, 37] {
                let kind: Vec<u8> = (0..len)
                    .map(|_| if next() < 64 { code } else { next() })
                    .collect();
                let exact: Vec<u8> = kind.iter().map(|&k| (k == code) as u8).collect();
                assert!(bone_changed(&kind, &exact, code).is_empty(), "code {code}");
                for i in 0..len {
                    let mut other = exact.clone();
                    other[i] ^= 1;
                    let j = (i * 7 + 3) % len;
                    other[j] ^= (j != i) as u8;
                    let mut want = vec![i.min(j), i.max(j)];
                    want.dedup();
                    assert_eq!(
                        bone_changed(&kind, &other, code),
                        want,
                        "code {code} at {i}"
                    );
                }
            }
        }
    }
}
