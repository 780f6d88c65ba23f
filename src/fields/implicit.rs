//! Locally-one-dimensional (LOD) backward Euler: one implicit 1D diffusion solve per axis and
//! sub-step, with implicit decay and sources; optionally with the decay distributed over the
//! axis solves (more accurate; the scenario default, `[fields.<name>] splitting`).
//!
//! Reads: the relative face conductances built by [`super::field`], the source rates.
//! Writes: the concentrations, in place (plus a solver-private transposed copy).
//!
//! ## Scheme
//! Classic LOD (`splitting = "classic"`; Yanenko 1971, *The Method of Fractional Steps*): per sub-step,
//! `c ← (c + Δt·s)/(1 + kΔt)`, then for each axis in the order x, y, z solve
//! `(I − r·L_a)·c⁺ = c`.
//!
//! Distributed decay (`distribute = true` in [`Factors::factor`]): the full backward-Euler
//! step for `∂c/∂t = D·L·c − k·c + s` over a sub-step Δt solves
//! `((1 + kΔt)·I − r·L)·c⁺ = c + Δt·s` with `r = DΔt/Δx²` and `L = Σ_a L_a` (the conservative
//! 1D operators, relative face conductances). It is approximated by the product of 1D factors
//! `(1 + kΔt)·Π_a (I − r'·L_a)` with `r' = r/(1 + kΔt)`:
//!
//! `c⁺ = Π_a (I − r'·L_a)⁻¹ · (c + Δt·s)/(1 + kΔt)`, axes in the order x, y, z.
//!
//! Expanding the product gives the full operator plus `r·r'·L_x·L_y` (in 2D); the classic LOD
//! form (Yanenko 1971, *The Method of Fractional Steps*), which applies decay separately and
//! solves `(I − r·L_a)`, carries `(1 + kΔt)·r²·L_x·L_y + kΔt·r·L` instead, i.e. it diffuses
//! a fast-decaying signal as if it lived the whole step — `(1 + kΔt)` times too far (84× for
//! RANKL at Δt = 4 h). Dividing `r` by `(1 + kΔt)` is the standard way of absorbing a
//! reaction term into an ADI factorisation (Hundsdorfer & Verwer 2003, *Numerical Solution of
//! Time-Dependent Advection-Diffusion-Reaction Equations*, §IV.3 and §IV.5: approximate
//! factorisation with the linear reaction split equally over the factors). It costs nothing
//! extra, keeps every property below, and its error in the quasi-steady limit (kΔt ≫ 1) is
//! `(D²/k)·L_x·L_y` instead of `kΔt·D·L`. Measured against a converged explicit solution at
//! the default scenario's settings (dt 4 h, one sub-step; `tests/numerics.rs`) the relative
//! L2 error falls from 31 % to 8 % for RANKL/TGF-β (docs/PERFORMANCE.md). It is not the
//! default yet because the model's biology was calibrated with the classic form: with it the
//! healthy-marrow BV/TV and the anaemia-at-diagnosis checks of `tests/biology.rs` fail.
//!
//! Each 1D matrix `I − r'·L_a` is a symmetric M-matrix whose columns sum to 1 under no-flux
//! walls, so every solve is unconditionally stable, keeps concentrations non-negative and
//! conserves mass; the total evolves exactly as `(M + Δt·S)/(1 + kΔt)`.
//!
//! Closed lines are tridiagonal: the Thomas algorithm (Conte & de Boor 1980, §3.4).
//! Periodic lines (length ≥ 3) are cyclic tridiagonal: Sherman–Morrison on top of Thomas
//! (Press et al., *Numerical Recipes*, 3rd ed., §2.7.2). The coefficients only change when the
//! bone layout, the step or the parameters do, so the elimination multipliers (and the
//! Sherman–Morrison vector `z`) are factored once and reused: a solve is two multiply-add
//! sweeps per line. With these signs (`am ≤ 0`, `cp ≤ 0`, `z ≤ 0`) every update adds non-negative
//! terms, so the result is non-negative in floating point too.
//!
//! ## Layout and parallelism
//! x-lines are contiguous in memory, so a plain Thomas sweep along a row is a serial
//! recurrence (latency-bound, not vectorisable). Instead, rows are solved [`W`] at a time: a
//! group of `W` rows is transposed (with the sources added) into a scratch block where element
//! `j` of the group's lines is `W` adjacent numbers, the sweeps run with the lane loop
//! innermost (unit stride, vectorised), and the block is transposed back. The x-factors are
//! stored in the same blocked layout. y- and z-lines are already interleaved in memory
//! ("batched": the sweep runs over the line position, the inner loop over adjacent lines).
//! Row groups (x) and column blocks (y, z) are solved in parallel with rayon. Every line's
//! arithmetic is the same whichever group, lane, block or thread it lands in (IEEE operations
//! lane by lane, no fused multiply-add), so results are bit-identical for any thread count.
//! On x86-64 CPUs with AVX2 the same code is compiled a second time with AVX2 enabled and
//! picked at run time; without FMA contraction (Rust never contracts) AVX2 and SSE2 lanes give
//! identical bits.

// Index loops over several parallel coefficient arrays read more clearly than zips here.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows per x-group: the lines solved together in one transposed block (two AVX2 or four
/// SSE2 registers per line position).
pub const W: usize = 8;

/// When set, the portable (baseline x86-64 / non-x86) code path is used even on AVX2 CPUs.
static FORCE_PORTABLE: AtomicBool = AtomicBool::new(false);

/// Forces (`true`) or releases (`false`) the portable code path, for tests that check the
/// AVX2 and portable paths give identical bits, and for measuring the difference.
pub fn force_portable(on: bool) {
    FORCE_PORTABLE.store(on, Ordering::Relaxed);
}

fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !FORCE_PORTABLE.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Factored 1D operators of one axis. For x, site arrays use the blocked layout of the row
/// groups (`((row / W)·nx + j)·W + row % W`) and per-line arrays are indexed by row (padded
/// to whole groups; padding lanes stay 0, so they solve to 0 and are never copied back). For
/// y and z, site arrays are indexed by site and per-line arrays by line id.
#[derive(Debug, Default)]
struct Axis {
    /// 1/pivot at each site (× 1/(1 + kΔt) on the first axis).
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
    /// Transposed x-row groups (`groups·nx·W` values), one block per rayon task.
    block: Vec<f64>,
    /// Per-line Sherman–Morrison factors of one plane (y and z solves).
    fac: Vec<f64>,
    /// The decay factor 1/(1 + kΔt), applied with the sources before the first solve.
    decay: f64,
    /// Scratch for factoring one line (kept so refactoring does not allocate).
    line: LineScratch,
}

/// Number of x-row groups of a lattice.
fn groups(dims: [usize; 3]) -> usize {
    (dims[1] * dims[2]).div_ceil(W)
}

impl Factors {
    /// Allocates storage for a lattice of `dims`.
    pub fn new(dims: [usize; 3]) -> Self {
        let n = dims[0] * dims[1] * dims[2];
        let nx_padded = groups(dims) * W * dims[0];
        let axes = std::array::from_fn(|a| {
            let len = if a == 0 { nx_padded } else { n };
            if dims[a] > 1 {
                Axis {
                    m: vec![0.0; len],
                    am: vec![0.0; len],
                    cp: vec![0.0; len],
                    ..Axis::default()
                }
            } else {
                Axis::default()
            }
        });
        Self {
            axes,
            block: if dims[0] > 1 {
                vec![0.0; nx_padded]
            } else {
                Vec::new()
            },
            fac: vec![0.0; (dims[0] * dims[1]).max(dims[0] * dims[2])],
            decay: 1.0,
            line: LineScratch::default(),
        }
    }

    /// Factors the operators `I − r'·L_a` for diffusion number `r = D·Δt/Δx²` and decay per
    /// sub-step `kdt = k·Δt`: `r' = r/(1 + kΔt)` if `distribute`, else `r' = r` (classic).
    ///
    /// With `dirty = Some(flags)` (same `r`, `kdt` and boundary as the last call), only the
    /// lines flagged (per axis, by line id) are refactored: remodeling moves a few bone sites
    /// per step, which touches a few rows and columns. Each line's factors depend only on its
    /// own faces, so the result is the same as a full refactor.
    // The arguments are the independent inputs of a factorisation; a struct would only
    // rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn factor(
        &mut self,
        dims: [usize; 3],
        periodic: bool,
        faces: &[Vec<f64>; 3],
        dirty: Option<&[Vec<bool>; 3]>,
        r: f64,
        kdt: f64,
        distribute: bool,
    ) {
        let [nx, ny, nz] = dims;
        let strides = [1, nx, nx * ny];
        let inv1k = 1.0 / (1.0 + kdt);
        self.decay = inv1k;
        // Diffusion number of each 1D factor: r' = r/(1 + kΔt) when the decay is distributed
        // over the factors, r for the classic LOD form.
        let r_line = if distribute { r * inv1k } else { r };
        let line = &mut self.line;
        for a in 0..3 {
            let n = dims[a];
            if n == 1 {
                continue;
            }
            let ax = &mut self.axes[a];
            ax.cyclic = periodic && n >= 3;
            let lines = nx * ny * nz / n;
            if ax.cyclic {
                let slots = if a == 0 { groups(dims) * W } else { lines };
                ax.z.resize(ax.m.len(), 0.0);
                ax.bg.resize(slots, 0.0);
                ax.inv.resize(slots, 0.0);
            }
            // Enumerate line starts (sites with coordinate a == 0) and their line ids.
            for id in 0..lines {
                let base = match a {
                    0 => id * nx,
                    1 => (id % nx) + nx * ny * (id / nx),
                    _ => id,
                };
                let g = &faces[a];
                if dirty.is_some_and(|d| !d[a][id]) {
                    continue;
                }
                line.load(n, |j| g[base + j * strides[a]], periodic, r_line);
                line.factor(ax.cyclic);
                for j in 0..n {
                    let i = if a == 0 {
                        ((id / W) * nx + j) * W + id % W
                    } else {
                        base + j * strides[a]
                    };
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

    /// One sub-step of length `sub` [h], in place on `c`, with source rates `s` [nM/h] (the
    /// decay was fixed by [`Factors::factor`]). With `consume` (the last sub-step) the
    /// sources are zeroed as they are read.
    pub fn substep(
        &mut self,
        dims: [usize; 3],
        c: &mut [f64],
        s: &mut [f64],
        sub: f64,
        consume: bool,
    ) {
        let [nx, ny, nz] = dims;
        let avx2 = use_avx2();
        let e = self.decay;
        if nx > 1 {
            let ax = &self.axes[0];
            let chunk = W * nx;
            self.block
                .par_chunks_mut(chunk)
                .zip(c.par_chunks_mut(chunk))
                .zip(s.par_chunks_mut(chunk))
                .enumerate()
                .for_each(|(g, ((t, cg), sg))| {
                    let lines = g * W..(g + 1) * W;
                    let co = XGroup {
                        m: &ax.m[g * chunk..(g + 1) * chunk],
                        am: &ax.am[g * chunk..(g + 1) * chunk],
                        cp: &ax.cp[g * chunk..(g + 1) * chunk],
                        cyclic: ax.cyclic.then(|| {
                            (
                                &ax.z[g * chunk..(g + 1) * chunk],
                                &ax.bg[lines.clone()],
                                &ax.inv[lines],
                            )
                        }),
                    };
                    #[cfg(target_arch = "x86_64")]
                    if avx2 {
                        // SAFETY: AVX2 support was detected at run time.
                        unsafe { x_group_avx2(t, cg, sg, &co, nx, (sub, e), consume) };
                        return;
                    }
                    x_group::<false>(t, cg, sg, &co, nx, (sub, e), consume);
                });
        } else {
            for (cv, sv) in c.iter_mut().zip(s) {
                *cv = (*cv + sub * *sv) * e;
                if consume {
                    *sv = 0.0;
                }
            }
        }
        let plane = nx * ny;
        if ny > 1 {
            for zi in 0..nz {
                let span = zi * plane..(zi + 1) * plane;
                let b = Batch {
                    ax: &self.axes[1],
                    sites0: span.start,
                    lines0: zi * nx,
                    width: nx,
                    n: ny,
                };
                b.solve(&mut c[span], &mut self.fac[..nx], avx2);
            }
        }
        if nz > 1 {
            let b = Batch {
                ax: &self.axes[2],
                sites0: 0,
                lines0: 0,
                width: plane,
                n: nz,
            };
            b.solve(c, &mut self.fac[..plane], avx2);
        }
    }
}

/// The x-factors of one row group (blocked layout), and the cyclic extras.
struct XGroup<'a> {
    m: &'a [f64],
    am: &'a [f64],
    cp: &'a [f64],
    /// `z` (blocked), β/γ and 1/(1 + …) per lane, for periodic lines.
    cyclic: Option<(&'a [f64], &'a [f64], &'a [f64])>,
}

/// Lane `l` of the group's block `t`, position `j`: `t[j·W + l]`.
fn lanes(t: &mut [f64], j: usize) -> &mut [f64; W] {
    (&mut t[j * W..(j + 1) * W]).try_into().unwrap()
}

fn lanes_ref(t: &[f64], j: usize) -> &[f64; W] {
    t[j * W..(j + 1) * W].try_into().unwrap()
}

/// Solves the x-lines of one row group: `c` holds up to `W` rows of length `nx` (the last
/// group may be short), `s` their sources, `t` the group's transposed scratch.
#[inline(always)]
fn x_group<const AVX2: bool>(
    t: &mut [f64],
    c: &mut [f64],
    s: &mut [f64],
    co: &XGroup,
    nx: usize,
    (sub, e): (f64, f64),
    consume: bool,
) {
    let cnt = c.len() / nx;
    // Transpose in, adding the sources: t[j][l] = c + Δt·s of row l. On the last sub-step
    // the sources are zeroed here, while in cache, instead of in a separate pass.
    for l in 0..cnt {
        let (cr, sr) = (&c[l * nx..(l + 1) * nx], &mut s[l * nx..(l + 1) * nx]);
        for j in 0..nx {
            t[j * W + l] = (cr[j] + sub * sr[j]) * e;
        }
        if consume {
            sr.fill(0.0);
        }
    }
    if cnt < W {
        for j in 0..nx {
            lanes(t, j)[cnt..].fill(0.0);
        }
    }
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: only instantiated with AVX2 = true from `x_group_avx2`, itself only called
        // after AVX2 was detected.
        unsafe { x_sweeps_avx2(t, co.m, co.am, co.cp) };
    } else {
        x_sweeps(t, co.m, co.am, co.cp);
    }
    #[cfg(not(target_arch = "x86_64"))]
    x_sweeps(t, co.m, co.am, co.cp);
    if let Some((z, bg, inv)) = co.cyclic {
        let (t0, tn) = (*lanes_ref(t, 0), *lanes_ref(t, nx - 1));
        let mut fac = [0.0f64; W];
        for l in 0..W {
            fac[l] = (t0[l] + bg[l] * tn[l]) * inv[l];
        }
        for (tj, zj) in t.chunks_exact_mut(W).zip(z.chunks_exact(W)) {
            lin_sub(tj, &fac, zj);
        }
    }
    // Transpose out.
    for l in 0..cnt {
        let cr = &mut c[l * nx..(l + 1) * nx];
        for j in 0..nx {
            cr[j] = t[j * W + l];
        }
    }
}

/// The Thomas sweeps of a transposed group, lanes innermost. The coefficients are separate
/// slice arguments (not fields of a struct) so the compiler knows they do not alias `t` and
/// vectorises the lane loops.
#[inline(always)]
fn x_sweeps(t: &mut [f64], m: &[f64], am: &[f64], cp: &[f64]) {
    // Forward: row_j = row_j·m_j − am_j·row_{j−1} (same kernels as the y and z solves).
    let n = t.len() / W;
    for (v, m) in lanes(t, 0).iter_mut().zip(lanes_ref(m, 0)) {
        *v *= m;
    }
    for j in 1..n {
        let (done, rest) = t.split_at_mut(j * W);
        let r = j * W..(j + 1) * W;
        lin_forward(&mut rest[..W], &done[(j - 1) * W..], &m[r.clone()], &am[r]);
    }
    // Back: row_j −= cp_j·row_{j+1}.
    for j in (0..n - 1).rev() {
        let (head, tail) = t.split_at_mut((j + 1) * W);
        lin_back(&mut head[j * W..], &tail[..W], &cp[j * W..(j + 1) * W]);
    }
}

/// [`x_sweeps`] written with AVX2 intrinsics: the eight lanes of a group are two 256-bit
/// registers, and the running row stays in registers between positions. Each lane does
/// exactly the IEEE operations of the portable code in the same order (`cur·m − am·prev`,
/// `cur − cp·next`; no fused multiply-add), so the bits are the same.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn x_sweeps_avx2(t: &mut [f64], m: &[f64], am: &[f64], cp: &[f64]) {
    use std::arch::x86_64::{_mm256_loadu_pd, _mm256_mul_pd, _mm256_storeu_pd, _mm256_sub_pd};
    const { assert!(W == 8) };
    let n = t.len() / W;
    assert!(n >= 1 && m.len() >= n * W && am.len() >= n * W && cp.len() >= n * W);
    let (tp, mp, ap, cq) = (t.as_mut_ptr(), m.as_ptr(), am.as_ptr(), cp.as_ptr());
    // SAFETY: every offset below is < n·W, within all four slices (asserted above).
    unsafe {
        let mut p0 = _mm256_mul_pd(_mm256_loadu_pd(tp), _mm256_loadu_pd(mp));
        let mut p1 = _mm256_mul_pd(_mm256_loadu_pd(tp.add(4)), _mm256_loadu_pd(mp.add(4)));
        _mm256_storeu_pd(tp, p0);
        _mm256_storeu_pd(tp.add(4), p1);
        for j in 1..n {
            let (o, q) = (j * W, j * W + 4);
            p0 = _mm256_sub_pd(
                _mm256_mul_pd(_mm256_loadu_pd(tp.add(o)), _mm256_loadu_pd(mp.add(o))),
                _mm256_mul_pd(_mm256_loadu_pd(ap.add(o)), p0),
            );
            p1 = _mm256_sub_pd(
                _mm256_mul_pd(_mm256_loadu_pd(tp.add(q)), _mm256_loadu_pd(mp.add(q))),
                _mm256_mul_pd(_mm256_loadu_pd(ap.add(q)), p1),
            );
            _mm256_storeu_pd(tp.add(o), p0);
            _mm256_storeu_pd(tp.add(q), p1);
        }
        // p0, p1 hold the last position.
        for j in (0..n - 1).rev() {
            let (o, q) = (j * W, j * W + 4);
            p0 = _mm256_sub_pd(
                _mm256_loadu_pd(tp.add(o)),
                _mm256_mul_pd(_mm256_loadu_pd(cq.add(o)), p0),
            );
            p1 = _mm256_sub_pd(
                _mm256_loadu_pd(tp.add(q)),
                _mm256_mul_pd(_mm256_loadu_pd(cq.add(q)), p1),
            );
            _mm256_storeu_pd(tp.add(o), p0);
            _mm256_storeu_pd(tp.add(q), p1);
        }
    }
}

/// `cur = cur·m − am·prev`, element-wise.
#[inline(always)]
fn lin_forward(cur: &mut [f64], prev: &[f64], m: &[f64], am: &[f64]) {
    let n = cur.len();
    let (prev, m, am) = (&prev[..n], &m[..n], &am[..n]);
    for l in 0..n {
        cur[l] = cur[l] * m[l] - am[l] * prev[l];
    }
}

/// `cur −= cp·next`, element-wise.
#[inline(always)]
fn lin_back(cur: &mut [f64], next: &[f64], cp: &[f64]) {
    let n = cur.len();
    let (next, cp) = (&next[..n], &cp[..n]);
    for l in 0..n {
        cur[l] -= cp[l] * next[l];
    }
}

/// `cur −= f·z`, element-wise (the Sherman–Morrison correction).
#[inline(always)]
fn lin_sub(cur: &mut [f64], f: &[f64], z: &[f64]) {
    let n = cur.len();
    let (f, z) = (&f[..n], &z[..n]);
    for l in 0..n {
        cur[l] -= f[l] * z[l];
    }
}

/// [`x_group`] compiled with AVX2 (same arithmetic, wider registers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn x_group_avx2(
    t: &mut [f64],
    c: &mut [f64],
    s: &mut [f64],
    co: &XGroup,
    nx: usize,
    sub_e: (f64, f64),
    consume: bool,
) {
    x_group::<true>(t, c, s, co, nx, sub_e, consume)
}

/// `width` interleaved lines of length `n` (element `j` of line `l` is `c[j·width + l]`) and
/// where their factors start: `sites0` in the axis's site arrays, `lines0` in its per-line
/// arrays.
struct Batch<'a> {
    ax: &'a Axis,
    sites0: usize,
    lines0: usize,
    width: usize,
    n: usize,
}

/// A pointer shared by the tasks of one batched solve; each task touches only its own
/// columns `x0..x1` of every row, so the accesses never overlap.
#[derive(Clone, Copy)]
struct Shared(*mut f64);
// SAFETY: tasks write disjoint column ranges (see `Batch::solve`).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl<'a> Batch<'a> {
    /// Solves all lines, in parallel over blocks of adjacent lines. The block width only
    /// decides which task solves a line, never how, so it may depend on the thread count.
    fn solve(&self, c: &mut [f64], fac: &mut [f64], avx2: bool) {
        assert_eq!(c.len(), self.width * self.n);
        assert_eq!(fac.len(), self.width);
        let threads = rayon::current_num_threads().max(1);
        let bw = self.width.div_ceil(threads).next_multiple_of(8);
        let (cs, fs) = (Shared(c.as_mut_ptr()), Shared(fac.as_mut_ptr()));
        let blocks = self.width.div_ceil(bw);
        (0..blocks).into_par_iter().for_each(|b| {
            let (x0, x1) = (b * bw, ((b + 1) * bw).min(self.width));
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: AVX2 was detected; the block's columns are disjoint from every
                // other task's and lie inside `c` and `fac` (asserted above).
                unsafe { self.block_avx2(cs, fs, x0, x1) };
                return;
            }
            let _ = avx2;
            // SAFETY: as above.
            unsafe { self.block(cs, fs, x0, x1) };
        });
    }

    /// Solves lines `x0..x1`.
    ///
    /// # Safety
    /// `c` must point to `width·n` values and `fac` to `width`, and no other thread may
    /// access columns `x0..x1` of them meanwhile.
    #[inline(always)]
    unsafe fn block(&self, c: Shared, fac: Shared, x0: usize, x1: usize) {
        let (w, n, ax) = (self.width, self.n, self.ax);
        let bw = x1 - x0;
        // SAFETY (all `row` calls): rows are disjoint ranges inside `c`, at most two alive.
        let row = |j: usize| unsafe { std::slice::from_raw_parts_mut(c.0.add(j * w + x0), bw) };
        let sites0 = self.sites0;
        let coef = |v: &'a [f64], j: usize| -> &'a [f64] {
            let at = sites0 + j * w;
            &v[at + x0..at + x1]
        };
        // Forward: row_j = row_j·m_j − am_j·row_{j−1}.
        for (v, m) in row(0).iter_mut().zip(coef(&ax.m, 0)) {
            *v *= m;
        }
        for j in 1..n {
            lin_forward(row(j), row(j - 1), coef(&ax.m, j), coef(&ax.am, j));
        }
        // Back: row_j −= cp_j·row_{j+1}.
        for j in (0..n - 1).rev() {
            lin_back(row(j), row(j + 1), coef(&ax.cp, j));
        }
        if ax.cyclic {
            // SAFETY: columns x0..x1 of `fac` belong to this task.
            let f = unsafe { std::slice::from_raw_parts_mut(fac.0.add(x0), bw) };
            let lr = self.lines0 + x0..self.lines0 + x1;
            let (bg, inv) = (&ax.bg[lr.clone()], &ax.inv[lr]);
            let (first, last) = (row(0), row(n - 1));
            for l in 0..bw {
                f[l] = (first[l] + bg[l] * last[l]) * inv[l];
            }
            for j in 0..n {
                lin_sub(row(j), f, coef(&ax.z, j));
            }
        }
    }

    /// [`Batch::block`] compiled with AVX2.
    ///
    /// # Safety
    /// As [`Batch::block`], and the CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn block_avx2(&self, c: Shared, fac: Shared, x0: usize, x1: usize) {
        unsafe { self.block(c, fac, x0, x1) }
    }
}

/// Scratch for factoring one line.
#[derive(Debug, Default)]
struct LineScratch {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    m: Vec<f64>,
    am: Vec<f64>,
    cp: Vec<f64>,
    z: Vec<f64>,
    /// Face conductances of the line being loaded.
    face: Vec<f64>,
    /// Diagonal modified for Sherman–Morrison.
    bmod: Vec<f64>,
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
            // Every entry is overwritten below; resizing only on a length change avoids
            // clearing seven buffers per line on each (partial) refactor.
            if v.len() != n {
                v.resize(n, 0.0);
            }
        }
        // Faces; a periodic line of 2 has two faces joining the same pair: merge them.
        let mut face = std::mem::take(&mut self.face);
        face.clear();
        face.extend((0..n).map(&g));
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
        self.face = face;
    }

    /// Factors the (modified, if cyclic) tridiagonal and, if cyclic, solves for `z`.
    fn factor(&mut self, cyclic: bool) {
        let n = self.b.len();
        let mut b = std::mem::take(&mut self.bmod);
        b.clone_from(&self.b);
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
        self.bmod = b;
    }
}
