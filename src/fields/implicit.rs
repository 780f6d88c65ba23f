//! Locally-one-dimensional (LOD) backward Euler: one implicit 1D diffusion solve per axis and
//! sub-step, with implicit decay and sources.
//!
//! Reads: the relative face conductances built by [`super::field`], the source rates.
//! Writes: the concentrations, in place (no second buffer).
//!
//! Per sub-step of length Δt: `c ← (c + Δt·s)/(1 + kΔt)` (backward Euler for decay and
//! sources), then for each axis in the order x, y, z solve `(I − Δt·L_a)·c⁺ = c` with `L_a` the
//! conservative 1D operator along that axis (Yanenko 1971, *The Method of Fractional Steps*;
//! the LOD form of the Douglas–Peaceman–Rachford ADI family). Each 1D matrix is a symmetric
//! M-matrix whose columns sum to 1 under no-flux walls, so every solve is unconditionally
//! stable, keeps concentrations non-negative and conserves mass; the splitting error is
//! O(Δt), the price of stability at the large steps these short-lived cytokines allow.
//!
//! Closed lines are tridiagonal: the Thomas algorithm (Conte & de Boor 1980, §3.4).
//! Periodic lines (length ≥ 3) are cyclic tridiagonal: Sherman–Morrison on top of Thomas
//! (Press et al., *Numerical Recipes*, 3rd ed., §2.7.2). Because the coefficients only change
//! when the bone layout or the step does, the elimination multipliers (and the
//! Sherman–Morrison vector `z`) are factored once and reused, so a solve is two multiply-add
//! sweeps per line. With these signs (`am ≤ 0`, `cp ≤ 0`, `z ≤ 0`) every update adds
//! non-negative terms, so the result is non-negative in floating point too.
//!
//! x-lines are contiguous and solved in parallel (rayon, one task per block of rows). y- and
//! z-lines are solved "batched": the sweep runs over the line position and the inner loop over
//! all lines of a plane at once, so memory is still walked contiguously along x. The
//! arithmetic of each line is fixed, so results are bit-identical for any thread count.

// Index loops over several parallel coefficient arrays read more clearly than zips here.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

/// Rows per rayon task for the x-solve.
const MIN_ROWS_PER_TASK: usize = 16;

/// Factored 1D operators of one axis.
#[derive(Debug, Default)]
struct Axis {
    /// 1/pivot at each site.
    m: Vec<f64>,
    /// lower coefficient × 1/pivot at each site.
    am: Vec<f64>,
    /// upper coefficient × 1/pivot (the modified super-diagonal) at each site.
    cp: Vec<f64>,
    /// Sherman–Morrison solution `A'⁻¹u` (cyclic lines only).
    z: Vec<f64>,
    /// β/γ per line (cyclic lines only).
    bg: Vec<f64>,
    /// 1/(1 + z₀ + (β/γ)·z_{n−1}) per line (cyclic lines only).
    inv: Vec<f64>,
    cyclic: bool,
}

/// The factored LOD operators for all axes plus scratch.
#[derive(Debug)]
pub struct Factors {
    axes: [Axis; 3],
    /// Per-line Sherman–Morrison factors of one batch.
    fac: Vec<f64>,
}

impl Factors {
    /// Allocates storage for a lattice of `dims`.
    pub fn new(dims: [usize; 3]) -> Self {
        let n = dims[0] * dims[1] * dims[2];
        let axes = std::array::from_fn(|a| {
            if dims[a] > 1 {
                Axis {
                    m: vec![0.0; n],
                    am: vec![0.0; n],
                    cp: vec![0.0; n],
                    ..Axis::default()
                }
            } else {
                Axis::default()
            }
        });
        Self {
            axes,
            fac: vec![0.0; (dims[0] * dims[1]).max(dims[0] * dims[2])],
        }
    }

    /// Factors the operators `I − r·L_a` for diffusion number `r = D·Δt/Δx²`.
    pub fn factor(&mut self, dims: [usize; 3], periodic: bool, faces: &[Vec<f64>; 3], r: f64) {
        let [nx, ny, nz] = dims;
        let strides = [1, nx, nx * ny];
        let mut line = LineScratch::default();
        for a in 0..3 {
            let n = dims[a];
            if n == 1 {
                continue;
            }
            let ax = &mut self.axes[a];
            ax.cyclic = periodic && n >= 3;
            let lines = nx * ny * nz / n;
            if ax.cyclic {
                ax.z.resize(nx * ny * nz, 0.0);
                ax.bg.resize(lines, 0.0);
                ax.inv.resize(lines, 0.0);
            }
            // Enumerate line starts (sites with coordinate a == 0) and their line ids.
            for id in 0..lines {
                let base = match a {
                    0 => id * nx,
                    1 => (id % nx) + nx * ny * (id / nx),
                    _ => id,
                };
                let g = &faces[a];
                line.load(n, |j| g[base + j * strides[a]], periodic, r);
                line.factor(ax.cyclic);
                for j in 0..n {
                    let i = base + j * strides[a];
                    ax.m[i] = line.m[j];
                    ax.am[i] = line.am[j];
                    ax.cp[i] = line.cp[j];
                    if ax.cyclic {
                        ax.z[i] = line.z[j];
                    }
                }
                if ax.cyclic {
                    ax.bg[id] = line.bg;
                    ax.inv[id] = line.inv;
                }
            }
        }
    }

    /// One sub-step of length `sub` [h] with decay rate `k` [1/h], in place on `c`.
    pub fn substep(&mut self, dims: [usize; 3], c: &mut [f64], s: &[f64], sub: f64, k: f64) {
        let [nx, ny, nz] = dims;
        let inv1k = 1.0 / (1.0 + k * sub);
        if nx > 1 {
            let ax = &self.axes[0];
            let cyclic = ax.cyclic;
            let row_job = |(row, cr): (usize, &mut [f64])| {
                let i0 = row * nx;
                let r = i0..i0 + nx;
                let (m, am, cp, sr) = (
                    &ax.m[r.clone()],
                    &ax.am[r.clone()],
                    &ax.cp[r.clone()],
                    &s[r.clone()],
                );
                // Forward sweep fused with decay and sources.
                let mut prev = 0.0;
                for j in 0..nx {
                    let d = (cr[j] + sub * sr[j]) * inv1k;
                    prev = d * m[j] - am[j] * prev;
                    cr[j] = prev;
                }
                for j in (0..nx - 1).rev() {
                    cr[j] -= cp[j] * cr[j + 1];
                }
                if cyclic {
                    let z = &ax.z[r];
                    let fac = (cr[0] + ax.bg[row] * cr[nx - 1]) * ax.inv[row];
                    for j in 0..nx {
                        cr[j] -= fac * z[j];
                    }
                }
            };
            c.par_chunks_mut(nx)
                .enumerate()
                .with_min_len(MIN_ROWS_PER_TASK)
                .for_each(row_job);
        } else {
            for (cv, &sv) in c.iter_mut().zip(s) {
                *cv = (*cv + sub * sv) * inv1k;
            }
        }
        if ny > 1 {
            let plane = nx * ny;
            let ax = &self.axes[1];
            for zi in 0..nz {
                let r = zi * plane..(zi + 1) * plane;
                let lr = zi * nx..(zi + 1) * nx;
                batched(&mut c[r.clone()], ax, r, lr, nx, ny, &mut self.fac[..nx]);
            }
        }
        if nz > 1 {
            let plane = nx * ny;
            let ax = &self.axes[2];
            batched(
                c,
                ax,
                0..plane * nz,
                0..plane,
                plane,
                nz,
                &mut self.fac[..plane],
            );
        }
    }
}

/// Solves `width` interleaved lines of length `n`: element `j` of line `l` is
/// `c[j·width + l]`. `sites` is the range of the factor arrays matching `c`; `lines` the range
/// of the per-line arrays.
fn batched(
    c: &mut [f64],
    ax: &Axis,
    sites: std::ops::Range<usize>,
    lines: std::ops::Range<usize>,
    width: usize,
    n: usize,
    fac: &mut [f64],
) {
    let (m, am, cp) = (
        &ax.m[sites.clone()],
        &ax.am[sites.clone()],
        &ax.cp[sites.clone()],
    );
    // Forward: row_j = row_j·m_j − am_j·row_{j−1}.
    for v in c[..width].iter_mut().zip(&m[..width]) {
        *v.0 *= v.1;
    }
    for j in 1..n {
        let (done, rest) = c.split_at_mut(j * width);
        let prev = &done[(j - 1) * width..];
        let cur = &mut rest[..width];
        let r = j * width..(j + 1) * width;
        let (mj, amj) = (&m[r.clone()], &am[r]);
        for l in 0..width {
            cur[l] = cur[l] * mj[l] - amj[l] * prev[l];
        }
    }
    // Back: row_j −= cp_j·row_{j+1}.
    for j in (0..n - 1).rev() {
        let (head, tail) = c.split_at_mut((j + 1) * width);
        let next = &tail[..width];
        let cur = &mut head[j * width..];
        let cpj = &cp[j * width..(j + 1) * width];
        for l in 0..width {
            cur[l] -= cpj[l] * next[l];
        }
    }
    if ax.cyclic {
        let z = &ax.z[sites];
        let (bg, inv) = (&ax.bg[lines.clone()], &ax.inv[lines]);
        let last = (n - 1) * width;
        for l in 0..width {
            fac[l] = (c[l] + bg[l] * c[last + l]) * inv[l];
        }
        for j in 0..n {
            let r = j * width..(j + 1) * width;
            let (cur, zj) = (&mut c[r.clone()], &z[r]);
            for l in 0..width {
                cur[l] -= fac[l] * zj[l];
            }
        }
    }
}

/// Scratch for factoring one line.
#[derive(Default)]
struct LineScratch {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    m: Vec<f64>,
    am: Vec<f64>,
    cp: Vec<f64>,
    z: Vec<f64>,
    /// Wrap-face coefficient −r·g_{n−1} (α = β, symmetric).
    corner: f64,
    bg: f64,
    inv: f64,
}

impl LineScratch {
    /// Builds the tridiagonal (plus corners) of `I − r·L` for a line of `n` sites with face
    /// conductances `g(j)` between `j` and `j+1` (`g(n−1)` is the wrap face, 0 if closed).
    fn load(&mut self, n: usize, g: impl Fn(usize) -> f64, periodic: bool, r: f64) {
        for v in [
            &mut self.a,
            &mut self.b,
            &mut self.c,
            &mut self.m,
            &mut self.am,
            &mut self.cp,
            &mut self.z,
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
        // Faces; a periodic line of 2 has two faces joining the same pair: merge them.
        let mut face: Vec<f64> = (0..n).map(&g).collect();
        if periodic && n == 2 {
            face[0] += face[1];
            face[1] = 0.0;
        }
        if !periodic {
            face[n - 1] = 0.0;
        }
        let wrap = periodic && n >= 3;
        for j in 0..n {
            let left = if j > 0 {
                face[j - 1]
            } else if wrap {
                face[n - 1]
            } else {
                0.0
            };
            let right = if j + 1 < n || wrap { face[j] } else { 0.0 };
            self.b[j] = 1.0 + r * (left + right);
            self.a[j] = if j > 0 { -r * face[j - 1] } else { 0.0 };
            self.c[j] = if j + 1 < n { -r * face[j] } else { 0.0 };
        }
        self.corner = if wrap { -r * face[n - 1] } else { 0.0 };
    }

    /// Factors the (modified, if cyclic) tridiagonal and, if cyclic, solves for `z`.
    fn factor(&mut self, cyclic: bool) {
        let n = self.b.len();
        let mut b = self.b.clone();
        let gamma = -self.b[0];
        let (alpha, beta) = (self.corner, self.corner);
        if cyclic {
            b[0] -= gamma;
            b[n - 1] -= alpha * beta / gamma;
        }
        let mut cp_prev = 0.0;
        for j in 0..n {
            let piv = b[j] - self.a[j] * cp_prev;
            self.m[j] = 1.0 / piv;
            self.am[j] = self.a[j] * self.m[j];
            self.cp[j] = self.c[j] * self.m[j];
            cp_prev = self.cp[j];
        }
        if cyclic {
            // Solve A'·z = u with u = (γ, 0, …, 0, α), using the same sweeps as a solve.
            let mut prev = 0.0;
            for j in 0..n {
                let u = if j == 0 {
                    gamma
                } else if j == n - 1 {
                    alpha
                } else {
                    0.0
                };
                prev = u * self.m[j] - self.am[j] * prev;
                self.z[j] = prev;
            }
            for j in (0..n - 1).rev() {
                self.z[j] -= self.cp[j] * self.z[j + 1];
            }
            self.bg = beta / gamma;
            self.inv = 1.0 / (1.0 + self.z[0] + self.bg * self.z[n - 1]);
        }
    }
}
