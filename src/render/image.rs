//! A minimal RGB8 canvas for lattice pictures (maps, legends, colour bars, captions) and its
//! PNG encoding. Lattice maps are drawn pixel-exactly here rather than through a plotting
//! library: each site becomes an integer-scaled block, so small lattices stay crisp.
//!
//! Reads: nothing. Writes: PNG files (via [`Canvas::write_png`]).

use std::io::{self, BufWriter};
use std::path::Path;

use super::font::{self, Anchor};

/// An RGB8 image, rows top to bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    /// Width [px].
    pub w: usize,
    /// Height [px].
    pub h: usize,
    /// `3·w·h` bytes, RGB.
    pub px: Vec<u8>,
}

impl Canvas {
    /// A canvas filled with `bg`.
    pub fn new(w: usize, h: usize, bg: [u8; 3]) -> Self {
        let mut px = Vec::with_capacity(3 * w * h);
        for _ in 0..w * h {
            px.extend_from_slice(&bg);
        }
        Self { w, h, px }
    }

    /// Fills a rectangle (clipped to the canvas).
    pub fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: [u8; 3]) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                let i = 3 * (yy * self.w + xx);
                self.px[i..i + 3].copy_from_slice(&rgb);
            }
        }
    }

    /// Draws text (anti-aliased, embedded font).
    pub fn text(&mut self, s: &str, at: (i32, i32), anchor: Anchor, size_px: f64, rgb: [u8; 3]) {
        font::draw_rgb(&mut self.px, self.w, s, at, anchor, size_px, rgb);
    }

    /// Writes the canvas as an 8-bit RGB PNG (no timestamps or other ancillary chunks).
    pub fn write_png(&self, path: &Path) -> io::Result<()> {
        let f = std::fs::File::create(path)?;
        let mut enc = png::Encoder::new(BufWriter::new(f), self.w as u32, self.h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // fdeflate-based: several times faster than the default for a few % larger files;
        // snapshots are written during the run, so encoding speed is simulation time.
        enc.set_compression(png::Compression::Fast);
        let mut wr = enc.write_header().map_err(io::Error::other)?;
        wr.write_image_data(&self.px).map_err(io::Error::other)?;
        wr.finish().map_err(io::Error::other)
    }
}

/// "Nice" tick positions covering `lo..=hi` (about `n` of them), e.g. 0, 0.5, 1, 1.5.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 100 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

/// Compact number for tick labels: 0, 0.25, 12, 1.5k, 2e-05 …
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else if a >= 1e4 {
        format!("{:.0}", v)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0, 4), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(nice_ticks(0.0, 7.3, 4), vec![0.0, 2.0, 4.0, 6.0]);
        assert_eq!(nice_ticks(1.0, 1.0, 4), vec![1.0]);
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(2e-5), "2e-5");
    }
}
