//! Initial bone matrix: a procedural trabecular network generated from the seed, or a mask
//! read from a PNG image or a CSV file.
//!
//! Reads: [`BoneParams`], the lattice [`Geometry`], the run seed, and (for `Mask`) the mask
//! file. Writes: nothing; returns one `bool` per site (`true` = bone matrix).
//!
//! ## Procedural geometry (why this scheme)
//! Trabecular bone is a connected network of plates and rods surrounding marrow spaces. We
//! take a smooth, statistically isotropic Gaussian random field `f` (white noise blurred by a
//! separable Gaussian kernel of standard deviation σ) and call bone the band `|f| < q` around
//! its zero level set. Because both excursion sets `f ≥ q` and `f ≤ −q` are islands, the band
//! between them is a connected "sea" with marrow holes — the look of a trabecular slice — in
//! 2D and 3D alike, with no preferred direction. The threshold `q` is the exact order
//! statistic that makes the bone count `round(BV/TV · sites)` (ties broken by site index), so
//! BV/TV is hit to within one site.
//!
//! On a lattice only a few correlation lengths wide the band also contains small closed loops
//! (nodal lines of the field are critical-percolation-like in 2D: a 200×200 test lattice at
//! 20% BV/TV kept only ~70% of bone in its largest piece). We therefore keep the largest
//! face-connected component and grow it back to the exact target count by repeatedly adding
//! the neighbouring site of smallest `|f|` (a deterministic priority flood), so the network is
//! one connected piece that still follows the zero level set. Measured on 200×200 at 20%
//! BV/TV and `t = 100 µm`, four seeds give thicknesses 65–138 µm (mean ≈ 100 µm; estimator
//! 2·area/perimeter·π/4).
//!
//! Thickness: for Gaussian-blurred noise the covariance is Gaussian with variance 2σ², so a
//! test line crosses the zero set `ν = 1/(π·√2·σ)` times per unit length (Rice's formula;
//! Adler & Taylor 2007, *Random Fields and Geometry*, §11.6). Stereology relates that to the
//! zero set's length per area `L_A = (π/2)·ν` in 2D and area per volume `S_V = 2·ν` in 3D
//! (Cauchy–Crofton; Weibel 1979, *Stereological Methods* vol. 1). A band of thickness `t`
//! around the zero set has volume fraction `BV/TV = t·L_A` (2D) or `t·S_V` (3D), hence
//! `σ = t / (2√2·BV/TV)` in 2D and `σ = √2·t / (π·BV/TV)` in 3D. With `t = 100–150 µm` and
//! BV/TV ≈ 0.2 this puts trabeculae about 0.6–1 mm apart, the human range (Tb.Sp; Hildebrand
//! et al. 1999, *J Bone Miner Res* 14:1167). The blur wraps around the lattice edges, so the
//! pattern is equally "trabecular" up to the border and tiles seamlessly on a periodic
//! lattice; the border is not kept free of bone (a marrow region is a cut-out of a larger
//! network). Sites should be several times smaller than `t` for a smooth result.
//!
//! Determinism: row `(y, z)` draws its white noise from
//! `rng::stream(seed, Purpose::BoneGeometry, 0, y + ny·z)`, and the blur and the selection are
//! fixed-order arithmetic per site, so the mask depends only on the seed and the lattice, not on
//! the thread count.
//!
//! ## Masks
//! - **PNG** (any bit depth and colour type the `png` crate decodes; palettes are expanded and
//!   16-bit samples reduced to 8 bits): a pixel is bone if it is *dark and opaque*: luma
//!   `0.299R + 0.587G + 0.114B < 128` (ITU-R BT.601 weights) and alpha ≥ 128 (no alpha =
//!   opaque). So black-on-white images and black-on-transparent images both work.
//! - **CSV**: rows of `0`/`1` separated by commas (spaces around values allowed; blank lines
//!   and lines starting with `#` skipped); `1` = bone. All rows must have the same length.
//! - Orientation: the first image row / first CSV row is `y = 0`, the first column `x = 0`.
//! - A file is read as PNG if it starts with the PNG signature, otherwise as CSV.
//! - If the mask size differs from the lattice, it is resampled nearest-neighbour: lattice site
//!   `x` takes mask column `⌊(x + ½)·W/nx⌋` (likewise for y). A 3D lattice extrudes the 2D
//!   mask along z.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::rng::{self, Purpose};
use crate::scenario::types::BoneParams;
use crate::space::geometry::Geometry;

/// Why a bone geometry could not be made. Messages name the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum BoneError {
    /// Procedural parameters out of range.
    #[error("procedural bone: {0}")]
    InvalidParams(String),
    /// The mask file could not be read.
    #[error("bone mask {}: cannot read file: {source}", path.display())]
    Read {
        /// Mask path as given.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file looks like a PNG but does not decode.
    #[error("bone mask {}: cannot decode PNG: {message}", path.display())]
    Png {
        /// Mask path as given.
        path: PathBuf,
        /// Decoder message.
        message: String,
    },
    /// A CSV mask is malformed.
    #[error("bone mask {}, line {line}: {message}", path.display())]
    Csv {
        /// Mask path as given.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is empty or otherwise unusable as a mask.
    #[error("bone mask {}: {message}", path.display())]
    Format {
        /// Mask path as given.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Which sites are bone matrix at the start (`true` = bone), one per site, x fastest.
pub fn generate(params: &BoneParams, geom: &Geometry, seed: u64) -> Result<Vec<bool>, BoneError> {
    match params {
        BoneParams::None => Ok(vec![false; geom.len()]),
        BoneParams::Procedural {
            bv_tv,
            thickness_um,
        } => procedural(*bv_tv, *thickness_um, geom, seed),
        BoneParams::Mask { path } => {
            let (w, h, px) = read_mask(path)?;
            Ok(resample(w, h, &px, geom.dims))
        }
    }
}

/// Bone volume fraction BV/TV of a mask (0 for an empty mask).
pub fn bv_tv(mask: &[bool]) -> f64 {
    if mask.is_empty() {
        return 0.0;
    }
    mask.iter().filter(|&&b| b).count() as f64 / mask.len() as f64
}

/// The blur standard deviation [µm] that gives trabeculae of mean thickness `t` at `bv_tv`
/// (see the module docs for the derivation).
pub fn blur_sigma_um(thickness_um: f64, bv_tv: f64, spatial_dims: usize) -> f64 {
    if spatial_dims >= 3 {
        std::f64::consts::SQRT_2 * thickness_um / (std::f64::consts::PI * bv_tv)
    } else {
        thickness_um / (2.0 * std::f64::consts::SQRT_2 * bv_tv)
    }
}

fn procedural(bv: f64, t_um: f64, geom: &Geometry, seed: u64) -> Result<Vec<bool>, BoneError> {
    if !(0.0..=1.0).contains(&bv) {
        return Err(BoneError::InvalidParams(format!(
            "bv_tv = {bv} is outside [0, 1]"
        )));
    }
    if !(t_um.is_finite() && t_um > 0.0) {
        return Err(BoneError::InvalidParams(format!(
            "thickness_um = {t_um} must be a positive number"
        )));
    }
    let n = geom.len();
    let target = (bv * n as f64).round() as usize;
    if target == 0 {
        return Ok(vec![false; n]);
    }
    if target >= n {
        return Ok(vec![true; n]);
    }
    let nx = geom.dims[0];
    // White noise, one keyed stream per x-row.
    let mut f = vec![0.0f64; n];
    f.par_chunks_mut(nx).enumerate().for_each(|(row, out)| {
        let mut s = rng::stream(seed, Purpose::BoneGeometry, 0, row as u64);
        for v in out.iter_mut() {
            *v = std_normal(&mut s);
        }
    });
    let sigma = blur_sigma_um(t_um, bv, geom.spatial_dims()) / geom.site_um;
    let mut tmp = vec![0.0f64; n];
    for axis in 0..3 {
        if geom.dims[axis] > 1 && sigma > 1e-3 {
            blur_axis(&f, &mut tmp, geom.dims, axis, sigma);
            std::mem::swap(&mut f, &mut tmp);
        }
    }
    // Exact order statistic of |f| with ties broken by index.
    let mut keyed: Vec<(f64, u32)> = f
        .iter()
        .enumerate()
        .map(|(i, v)| (v.abs(), i as u32))
        .collect();
    let cmp = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let (_, pivot, _) = keyed.select_nth_unstable_by(target, cmp);
    let pivot = *pivot;
    let band: Vec<bool> = f
        .iter()
        .enumerate()
        .map(|(i, v)| cmp(&(v.abs(), i as u32), &pivot).is_lt())
        .collect();
    Ok(connect(band, &f, target, geom))
}

/// Keeps the largest face-connected component of `band` and grows it back to `target` sites
/// by adding, one at a time, the neighbouring site of smallest `|f|` (ties: lowest index), so
/// the result is one connected network that follows the zero level set. Connectivity wraps
/// on a periodic lattice.
#[allow(clippy::needless_range_loop)]
fn connect(band: Vec<bool>, f: &[f64], target: usize, geom: &Geometry) -> Vec<bool> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = band.len();
    let periodic = geom.boundary == crate::space::geometry::Boundary::Periodic;
    let dims = geom.dims;
    let strides = [1, dims[0], dims[0] * dims[1]];
    // Face neighbours of `i` (wrapping if periodic).
    let neighbours = |i: usize, out: &mut [usize; 6]| -> usize {
        let c = geom.coords(i);
        let mut k = 0;
        for a in 0..3 {
            if dims[a] == 1 {
                continue;
            }
            for up in [false, true] {
                let j = if up {
                    if c[a] + 1 < dims[a] {
                        Some(i + strides[a])
                    } else if periodic {
                        Some(i - c[a] * strides[a])
                    } else {
                        None
                    }
                } else if c[a] > 0 {
                    Some(i - strides[a])
                } else if periodic {
                    Some(i + (dims[a] - 1) * strides[a])
                } else {
                    None
                };
                if let Some(j) = j {
                    out[k] = j;
                    k += 1;
                }
            }
        }
        k
    };
    // Label components; keep the first largest in index order.
    let mut label = vec![u32::MAX; n];
    let mut stack = Vec::new();
    let mut nb = [0usize; 6];
    let (mut best, mut best_size, mut next) = (u32::MAX, 0usize, 0u32);
    for s in 0..n {
        if !band[s] || label[s] != u32::MAX {
            continue;
        }
        label[s] = next;
        stack.push(s);
        let mut size = 0;
        while let Some(i) = stack.pop() {
            size += 1;
            let k = neighbours(i, &mut nb);
            for &j in &nb[..k] {
                if band[j] && label[j] == u32::MAX {
                    label[j] = next;
                    stack.push(j);
                }
            }
        }
        if size > best_size {
            (best, best_size) = (next, size);
        }
        next += 1;
    }
    let mut mask: Vec<bool> = label.iter().map(|&l| l == best).collect();
    let mut count = best_size;
    // Grow back to the target by smallest |f| on the boundary.
    let key = |i: usize| Reverse((f[i].abs().to_bits(), i as u32));
    let mut queued = mask.clone();
    let mut heap = BinaryHeap::new();
    for i in 0..n {
        if mask[i] {
            let k = neighbours(i, &mut nb);
            for &j in &nb[..k] {
                if !queued[j] {
                    queued[j] = true;
                    heap.push(key(j));
                }
            }
        }
    }
    while count < target {
        let Some(Reverse((_, i))) = heap.pop() else {
            break;
        };
        let i = i as usize;
        mask[i] = true;
        count += 1;
        let k = neighbours(i, &mut nb);
        for &j in &nb[..k] {
            if !queued[j] {
                queued[j] = true;
                heap.push(key(j));
            }
        }
    }
    mask
}

/// A standard normal deviate by Box–Muller from two 53-bit uniforms.
fn std_normal(s: &mut rng::Stream) -> f64 {
    use rand::Rng;
    let u1 = ((s.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
    let u2 = (s.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Periodic Gaussian blur of `src` along `axis` into `dst` (kernel truncated at 3σ and
/// normalised). Output rows are independent: parallel and thread-count independent.
fn blur_axis(src: &[f64], dst: &mut [f64], dims: [usize; 3], axis: usize, sigma: f64) {
    let [nx, ny, _] = dims;
    let radius = (3.0 * sigma).ceil() as isize;
    let mut w: Vec<f64> = (-radius..=radius)
        .map(|o| (-0.5 * (o as f64 / sigma).powi(2)).exp())
        .collect();
    let norm: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= norm);
    let len = dims[axis] as isize;
    dst.par_chunks_mut(nx).enumerate().for_each(|(row, out)| {
        let (y, z) = (row % ny, row / ny);
        match axis {
            0 => {
                for (x, o) in out.iter_mut().enumerate() {
                    let mut acc = 0.0;
                    for (k, wk) in w.iter().enumerate() {
                        let xs = (x as isize + k as isize - radius).rem_euclid(len) as usize;
                        acc += wk * src[row * nx + xs];
                    }
                    *o = acc;
                }
            }
            _ => {
                out.fill(0.0);
                for (k, wk) in w.iter().enumerate() {
                    let (ys, zs) = if axis == 1 {
                        (
                            (y as isize + k as isize - radius).rem_euclid(len) as usize,
                            z,
                        )
                    } else {
                        (
                            y,
                            (z as isize + k as isize - radius).rem_euclid(len) as usize,
                        )
                    };
                    let s0 = (ys + ny * zs) * nx;
                    for (o, v) in out.iter_mut().zip(&src[s0..s0 + nx]) {
                        *o += wk * v;
                    }
                }
            }
        }
    });
}

/// Reads a PNG or CSV mask: `(width, height, pixels row-major with row 0 = y 0)`.
fn read_mask(path: &Path) -> Result<(usize, usize, Vec<bool>), BoneError> {
    let bytes = std::fs::read(path).map_err(|source| BoneError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    const PNG_SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let is_png_ext = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if bytes.starts_with(&PNG_SIG) || is_png_ext {
        read_png(path, &bytes)
    } else {
        read_csv(path, &bytes)
    }
}

fn read_png(path: &Path, bytes: &[u8]) -> Result<(usize, usize, Vec<bool>), BoneError> {
    let err = |m: String| BoneError::Png {
        path: path.to_path_buf(),
        message: m,
    };
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().map_err(|e| err(e.to_string()))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| err("image too large".into()))?;
    let mut buf = vec![0u8; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| err(e.to_string()))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let ch = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(err("palette image was not expanded".into())),
    };
    if info.bit_depth != png::BitDepth::Eight {
        return Err(err(format!("unexpected bit depth {:?}", info.bit_depth)));
    }
    if w == 0 || h == 0 {
        return Err(err("image has no pixels".into()));
    }
    let mut px = Vec::with_capacity(w * h);
    for y in 0..h {
        let line = &buf[y * info.line_size..y * info.line_size + w * ch];
        for p in line.chunks_exact(ch) {
            let (luma, alpha) = match ch {
                1 => (p[0] as f64, 255u8),
                2 => (p[0] as f64, p[1]),
                3 => (luma601(p), 255),
                _ => (luma601(p), p[3]),
            };
            px.push(luma < 128.0 && alpha >= 128);
        }
    }
    Ok((w, h, px))
}

/// ITU-R BT.601 luma of an 8-bit RGB pixel.
fn luma601(p: &[u8]) -> f64 {
    0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64
}

fn read_csv(path: &Path, bytes: &[u8]) -> Result<(usize, usize, Vec<bool>), BoneError> {
    let text = std::str::from_utf8(bytes).map_err(|_| BoneError::Format {
        path: path.to_path_buf(),
        message: "neither a PNG image nor a UTF-8 CSV file of 0/1".into(),
    })?;
    let mut px = Vec::new();
    let mut width = None;
    let mut height = 0;
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let csv_err = |message: String| BoneError::Csv {
            path: path.to_path_buf(),
            line: ln + 1,
            message,
        };
        let mut count = 0;
        for (col, cell) in line.split(',').enumerate() {
            match cell.trim() {
                "0" => px.push(false),
                "1" => px.push(true),
                other => {
                    return Err(csv_err(format!(
                        "column {}: expected 0 or 1, found {other:?}",
                        col + 1
                    )));
                }
            }
            count += 1;
        }
        match width {
            None => width = Some(count),
            Some(w) if w != count => {
                return Err(csv_err(format!(
                    "row has {count} values but the first row has {w}"
                )));
            }
            _ => {}
        }
        height += 1;
    }
    match width {
        Some(w) => Ok((w, height, px)),
        None => Err(BoneError::Format {
            path: path.to_path_buf(),
            message: "CSV mask has no rows".into(),
        }),
    }
}

/// Nearest-neighbour resampling of a `w × h` mask onto the lattice, extruded along z.
fn resample(w: usize, h: usize, px: &[bool], dims: [usize; 3]) -> Vec<bool> {
    let [nx, ny, nz] = dims;
    let col: Vec<usize> = (0..nx)
        .map(|x| ((2 * x + 1) * w / (2 * nx)).min(w - 1))
        .collect();
    let mut out = Vec::with_capacity(nx * ny * nz);
    for _z in 0..nz {
        for y in 0..ny {
            let my = ((2 * y + 1) * h / (2 * ny)).min(h - 1);
            out.extend(col.iter().map(|&mx| px[my * w + mx]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::geometry::{Boundary, Neighbourhood};

    fn geom(dims: [usize; 3]) -> Geometry {
        Geometry::new(dims, 10.0, Boundary::Closed, Neighbourhood::Moore)
    }

    fn proc(bv: f64, t: f64) -> BoneParams {
        BoneParams::Procedural {
            bv_tv: bv,
            thickness_um: t,
        }
    }

    /// A unique temporary directory for one test (no tempfile crate in the tree).
    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("myelosim-bone-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Size of the largest face-connected (4/6-neighbour, no wrap) bone component.
    fn largest_component(mask: &[bool], dims: [usize; 3]) -> usize {
        let g = geom(dims);
        let mut seen = vec![false; mask.len()];
        let mut best = 0;
        let mut stack = Vec::new();
        for s in 0..mask.len() {
            if !mask[s] || seen[s] {
                continue;
            }
            seen[s] = true;
            stack.push(s);
            let mut size = 0;
            while let Some(i) = stack.pop() {
                size += 1;
                let c = g.coords(i);
                for a in 0..3 {
                    for d in [-1i64, 1] {
                        let v = c[a] as i64 + d;
                        if v < 0 || v >= dims[a] as i64 {
                            continue;
                        }
                        let mut q = c;
                        q[a] = v as usize;
                        let j = g.index(q[0], q[1], q[2]);
                        if mask[j] && !seen[j] {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
            best = best.max(size);
        }
        best
    }

    /// Mean thickness estimate 2·A/P·(π/4) (the π/4 undoes the staircase perimeter of a
    /// lattice boundary) in sites, 2D.
    fn thickness_sites(mask: &[bool], dims: [usize; 3]) -> f64 {
        let [nx, ny, _] = dims;
        let mut faces = 0usize;
        for y in 0..ny {
            for x in 0..nx {
                let i = x + nx * y;
                if x + 1 < nx && mask[i] != mask[i + 1] {
                    faces += 1;
                }
                if y + 1 < ny && mask[i] != mask[i + nx] {
                    faces += 1;
                }
            }
        }
        let area = mask.iter().filter(|&&b| b).count() as f64;
        2.0 * area / faces as f64 * std::f64::consts::PI / 4.0
    }

    #[test]
    fn none_is_all_marrow() {
        let m = generate(&BoneParams::None, &geom([8, 6, 1]), 1).unwrap();
        assert_eq!(m.len(), 48);
        assert_eq!(bv_tv(&m), 0.0);
    }

    #[test]
    fn procedural_hits_bv_tv_2d_and_3d() {
        for (dims, t) in [([200, 200, 1], 100.0), ([48, 48, 48], 40.0)] {
            for bv in [0.12, 0.2, 0.35] {
                let m = generate(&proc(bv, t), &geom(dims), 7).unwrap();
                let got = bv_tv(&m);
                assert!((got - bv).abs() <= 0.01, "{dims:?} target {bv} got {got}");
                let n = m.len() as f64;
                assert!((got * n - (bv * n).round()).abs() < 0.5, "exact count");
            }
        }
    }

    #[test]
    fn procedural_is_seeded() {
        let g = geom([120, 100, 1]);
        let a = generate(&proc(0.2, 100.0), &g, 11).unwrap();
        let b = generate(&proc(0.2, 100.0), &g, 11).unwrap();
        let c = generate(&proc(0.2, 100.0), &g, 12).unwrap();
        assert_eq!(a, b);
        let differ = a.iter().zip(&c).filter(|(x, y)| x != y).count();
        assert!(differ > a.len() / 20, "only {differ} sites differ");
    }

    #[test]
    fn procedural_is_thread_count_independent() {
        let g = geom([90, 70, 1]);
        let run = |t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| generate(&proc(0.2, 80.0), &g, 5).unwrap())
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn procedural_2d_is_connected_and_about_as_thick_as_asked() {
        let dims = [200, 200, 1];
        for seed in 1..=4 {
            let m = generate(&proc(0.2, 100.0), &geom(dims), seed).unwrap();
            let bone = m.iter().filter(|&&b| b).count();
            let big = largest_component(&m, dims);
            let frac = big as f64 / bone as f64;
            let th = thickness_sites(&m, dims) * 10.0;
            eprintln!("seed {seed}: largest component {frac:.3}, thickness ≈ {th:.0} µm");
            assert!(
                frac >= 0.8,
                "seed {seed}: largest component holds {frac:.3}"
            );
            assert!(
                (50.0..200.0).contains(&th),
                "seed {seed}: thickness {th} µm"
            );
        }
    }

    #[test]
    fn procedural_rejects_bad_params() {
        let g = geom([10, 10, 1]);
        assert!(matches!(
            generate(&proc(1.5, 100.0), &g, 1),
            Err(BoneError::InvalidParams(_))
        ));
        assert!(generate(&proc(0.2, 0.0), &g, 1).is_err());
    }

    #[test]
    fn png_round_trip_gray_and_rgba() {
        let dir = temp_dir("png");
        let (w, h) = (7usize, 5usize);
        let want: Vec<bool> = (0..w * h).map(|i| (i * 7 + i / w) % 3 == 0).collect();
        // 8-bit grayscale: bone black, marrow white.
        let gray: Vec<u8> = want.iter().map(|&b| if b { 0 } else { 255 }).collect();
        let p1 = dir.join("gray.png");
        write_png(&p1, w, h, png::ColorType::Grayscale, &gray);
        // RGBA: bone dark opaque; marrow either light, or dark but transparent.
        let rgba: Vec<u8> = want
            .iter()
            .enumerate()
            .flat_map(|(i, &b)| match (b, i % 2) {
                (true, _) => [30, 20, 40, 255],
                (false, 0) => [250, 240, 230, 255],
                (false, _) => [0, 0, 0, 0],
            })
            .collect();
        let p2 = dir.join("rgba.png");
        write_png(&p2, w, h, png::ColorType::Rgba, &rgba);
        for p in [p1, p2] {
            let got = generate(&BoneParams::Mask { path: p.clone() }, &geom([w, h, 1]), 0).unwrap();
            assert_eq!(got, want, "{}", p.display());
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    fn write_png(p: &Path, w: usize, h: usize, ct: png::ColorType, data: &[u8]) {
        let f = std::io::BufWriter::new(std::fs::File::create(p).unwrap());
        let mut e = png::Encoder::new(f, w as u32, h as u32);
        e.set_color(ct);
        e.set_depth(png::BitDepth::Eight);
        let mut wr = e.write_header().unwrap();
        wr.write_image_data(data).unwrap();
    }

    #[test]
    fn csv_mask_first_row_is_y0() {
        let dir = temp_dir("csv");
        let p = dir.join("m.csv");
        std::fs::write(&p, "# comment\n1,0,0\n0, 1 ,0\n\n0,0,1\n0,0,0\n").unwrap();
        let m = generate(&BoneParams::Mask { path: p }, &geom([3, 4, 1]), 0).unwrap();
        let want = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0].map(|v| v == 1);
        assert_eq!(m, want);
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "1,0\n1,0,1\n").unwrap();
        let e = generate(&BoneParams::Mask { path: bad.clone() }, &geom([3, 4, 1]), 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&bad.display().to_string()) && e.contains("line 2"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn missing_or_broken_file_names_the_path() {
        let p = PathBuf::from("/nonexistent/dir/bone-mask.png");
        let e = generate(&BoneParams::Mask { path: p.clone() }, &geom([4, 4, 1]), 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/dir/bone-mask.png"), "{e}");
        let dir = temp_dir("broken");
        let b = dir.join("broken.png");
        std::fs::write(&b, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let e = generate(&BoneParams::Mask { path: b.clone() }, &geom([4, 4, 1]), 0).unwrap_err();
        assert!(matches!(e, BoneError::Png { .. }), "{e}");
        assert!(e.to_string().contains(&b.display().to_string()));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn mismatched_mask_is_resampled_and_extruded() {
        let dir = temp_dir("resample");
        let p = dir.join("m.csv");
        // 2×2 mask: bone top-left and bottom-right.
        std::fs::write(&p, "1,0\n0,1\n").unwrap();
        let m = generate(&BoneParams::Mask { path: p.clone() }, &geom([4, 4, 1]), 0).unwrap();
        let g = geom([4, 4, 1]);
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(m[g.index(x, y, 0)], (x < 2) == (y < 2), "({x},{y})");
            }
        }
        // Downsampling 2×2 → 1×1 takes the pixel under the site centre: (1, 1) = bone.
        let one = generate(&BoneParams::Mask { path: p.clone() }, &geom([1, 1, 1]), 0).unwrap();
        assert_eq!(one, vec![true]);
        // 3D extrudes along z.
        let g3 = geom([4, 4, 3]);
        let m3 = generate(&BoneParams::Mask { path: p }, &g3, 0).unwrap();
        for z in 0..3 {
            assert_eq!(&m3[z * 16..(z + 1) * 16], &m[..]);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
