//! One explicit (forward-Euler, FTCS) diffusion sub-step with exact decay and sources.
//!
//! Reads: the committed concentrations, the relative face conductances built by
//! [`super::field`], and the source rates. Writes: the next-state buffer (the caller swaps).
//!
//! Per site: `c' = e·(c·(1 − r·Σg) + r·Σ g_f·c_f) + φ·s`, where the sums run over the
//! 2·dims faces, `r = D·Δt/Δx²`, `e = exp(−kΔt)` and `φ = (1 − e)/k`. Written this way every
//! term is non-negative whenever `r·Σg ≤ 1`, which the stability guard guarantees (Σg ≤ 2·dims,
//! r ≤ 0.9/(2·dims)), so concentrations never go negative, even from round-off. The
//! diffusion part equals the flux form (each face flux leaves one site and enters the other),
//! so mass is conserved. Decay and sources are integrated exactly over the sub-step (a Lie
//! splitting), which keeps decay-only runs on `exp(−kt)` exactly.
//!
//! Rows (fixed x-lines) are independent and updated in parallel with rayon; the arithmetic of a
//! site does not depend on which thread runs it, so results are bit-identical for any thread
//! count. The inner loop runs along x over contiguous memory.

use rayon::prelude::*;

/// Per-sub-step coefficients.
#[derive(Clone, Copy, Debug)]
pub struct Coeffs {
    /// Diffusion number D·Δt/Δx² (with D the marrow value; faces carry the bone factor).
    pub r: f64,
    /// Decay factor exp(−kΔt).
    pub e: f64,
    /// Source weight (1 − exp(−kΔt))/k [h] (Δt when k = 0).
    pub phi: f64,
}

/// Rows per rayon task: enough work (~10 µs) to amortise scheduling.
const MIN_ROWS_PER_TASK: usize = 16;

/// One sub-step from `c` into `out`.
pub fn step(
    dims: [usize; 3],
    faces: &[Vec<f64>; 3],
    c: &[f64],
    s: &[f64],
    out: &mut [f64],
    k: Coeffs,
) {
    let [nx, ny, nz] = dims;
    out.par_chunks_mut(nx)
        .enumerate()
        .with_min_len(MIN_ROWS_PER_TASK)
        .for_each(|(row, o)| {
            let y = row % ny;
            let z = row / ny;
            let i0 = row * nx;
            let cr = &c[i0..i0 + nx];
            let sr = &s[i0..i0 + nx];
            let gx: &[f64] = if nx > 1 { &faces[0][i0..i0 + nx] } else { &[] };
            // y neighbours (wrapping; a closed edge has zero face conductance).
            let yn = if ny > 1 {
                let iu = ((y + 1) % ny + ny * z) * nx;
                let id = ((y + ny - 1) % ny + ny * z) * nx;
                Some(Nb {
                    c_up: &c[iu..iu + nx],
                    c_dn: &c[id..id + nx],
                    g_up: &faces[1][i0..i0 + nx],
                    g_dn: &faces[1][id..id + nx],
                })
            } else {
                None
            };
            let zn = if nz > 1 {
                let iu = (y + ny * ((z + 1) % nz)) * nx;
                let id = (y + ny * ((z + nz - 1) % nz)) * nx;
                Some(Nb {
                    c_up: &c[iu..iu + nx],
                    c_dn: &c[id..id + nx],
                    g_up: &faces[2][i0..i0 + nx],
                    g_dn: &faces[2][id..id + nx],
                })
            } else {
                None
            };
            match (yn, zn) {
                (Some(yn), Some(zn)) => row_3(cr, sr, gx, &yn, &zn, o, k),
                (Some(yn), None) => row_2(cr, sr, gx, &yn, o, k),
                (None, Some(zn)) => row_2(cr, sr, gx, &zn, o, k),
                (None, None) => row_1(cr, sr, gx, o, k),
            }
        });
}

/// The row above and below along one transverse axis, and the faces to them.
struct Nb<'a> {
    c_up: &'a [f64],
    c_dn: &'a [f64],
    g_up: &'a [f64],
    g_dn: &'a [f64],
}

/// x-neighbour values and faces of site `x` in a row (wrapping; closed edges have zero faces).
#[inline(always)]
fn x_terms(cr: &[f64], gx: &[f64], x: usize) -> (f64, f64) {
    let nx = cr.len();
    if nx == 1 {
        return (0.0, 0.0);
    }
    let xl = if x == 0 { nx - 1 } else { x - 1 };
    let xr = if x + 1 == nx { 0 } else { x + 1 };
    let (gl, gr) = (gx[xl], gx[x]);
    (gl + gr, gl * cr[xl] + gr * cr[xr])
}

#[inline(always)]
fn finish(cc: f64, sum_g: f64, nb: f64, s: f64, k: Coeffs) -> f64 {
    k.e * (cc * (1.0 - k.r * sum_g) + k.r * nb) + k.phi * s
}

/// A row of a 1D lattice (or of any lattice whose transverse axes have length 1).
fn row_1(cr: &[f64], sr: &[f64], gx: &[f64], o: &mut [f64], k: Coeffs) {
    for x in 0..cr.len() {
        let (sg, nb) = x_terms(cr, gx, x);
        o[x] = finish(cr[x], sg, nb, sr[x], k);
    }
}

/// A row with one transverse axis (2D).
fn row_2(cr: &[f64], sr: &[f64], gx: &[f64], yn: &Nb, o: &mut [f64], k: Coeffs) {
    let nx = cr.len();
    let edge = |x: usize| {
        let (sg, nb) = x_terms(cr, gx, x);
        let (gu, gd) = (yn.g_up[x], yn.g_dn[x]);
        finish(
            cr[x],
            sg + gu + gd,
            nb + gu * yn.c_up[x] + gd * yn.c_dn[x],
            sr[x],
            k,
        )
    };
    o[0] = edge(0);
    if nx > 1 {
        o[nx - 1] = edge(nx - 1);
    }
    if nx > 2 {
        // Interior: contiguous, bounds-check-free after the re-slicing below.
        let (cu, cd, gu, gd) = (
            &yn.c_up[..nx],
            &yn.c_dn[..nx],
            &yn.g_up[..nx],
            &yn.g_dn[..nx],
        );
        let (gx, sr, o) = (&gx[..nx], &sr[..nx], &mut o[..nx]);
        for x in 1..nx - 1 {
            let (gl, gr, gux, gdx) = (gx[x - 1], gx[x], gu[x], gd[x]);
            let sg = gl + gr + gux + gdx;
            let nb = gl * cr[x - 1] + gr * cr[x + 1] + gux * cu[x] + gdx * cd[x];
            o[x] = finish(cr[x], sg, nb, sr[x], k);
        }
    }
}

/// A row with two transverse axes (3D).
fn row_3(cr: &[f64], sr: &[f64], gx: &[f64], yn: &Nb, zn: &Nb, o: &mut [f64], k: Coeffs) {
    let nx = cr.len();
    let edge = |x: usize| {
        let (sg, nb) = x_terms(cr, gx, x);
        let (gu, gd) = (yn.g_up[x], yn.g_dn[x]);
        let (hu, hd) = (zn.g_up[x], zn.g_dn[x]);
        let nb = nb + gu * yn.c_up[x] + gd * yn.c_dn[x] + hu * zn.c_up[x] + hd * zn.c_dn[x];
        finish(cr[x], sg + gu + gd + hu + hd, nb, sr[x], k)
    };
    o[0] = edge(0);
    if nx > 1 {
        o[nx - 1] = edge(nx - 1);
    }
    if nx > 2 {
        let (cu, cd, gu, gd) = (
            &yn.c_up[..nx],
            &yn.c_dn[..nx],
            &yn.g_up[..nx],
            &yn.g_dn[..nx],
        );
        let (ku, kd, hu, hd) = (
            &zn.c_up[..nx],
            &zn.c_dn[..nx],
            &zn.g_up[..nx],
            &zn.g_dn[..nx],
        );
        let (gx, sr, o) = (&gx[..nx], &sr[..nx], &mut o[..nx]);
        for x in 1..nx - 1 {
            let (gl, gr) = (gx[x - 1], gx[x]);
            let sg = gl + gr + gu[x] + gd[x] + hu[x] + hd[x];
            let nb = gl * cr[x - 1]
                + gr * cr[x + 1]
                + gu[x] * cu[x]
                + gd[x] * cd[x]
                + hu[x] * ku[x]
                + hd[x] * kd[x];
            o[x] = finish(cr[x], sg, nb, sr[x], k);
        }
    }
}
