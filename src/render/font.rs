//! The embedded font and text rendering: DejaVu Sans is compiled into the binary
//! (`assets/fonts/DejaVuSans.ttf`, licence beside it), so pictures are identical on every
//! machine and nothing looks for system fonts.
//!
//! plotters 0.3.7 (the current release) only draws text through `font-kit` (system fonts)
//! or not at all, so [`TextBackend`] wraps any plotters backend: it measures text with the
//! embedded font for layout and, on bitmaps, rasterises it with `ab_glyph`; on SVG it hands
//! the text to the SVG backend, which writes `<text>` elements (the viewer's sans-serif).
//!
//! Reads: the embedded font bytes. Writes: pixels into caller-owned RGB buffers.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    text_anchor::{HPos, VPos},
};

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`).
pub static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The embedded font, parsed once. `None` only if the embedded bytes were corrupt.
pub fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
}

/// Pixel scale for a font size in pixels per em (CSS-like sizes).
fn scale(f: &FontRef<'_>, size_px: f64) -> PxScale {
    let upem = f.units_per_em().unwrap_or(2048.0);
    PxScale::from((size_px as f32) * f.height_unscaled() / upem)
}

/// Width and height [px] of `text` at `size_px` (height = ascent − descent).
pub fn measure(text: &str, size_px: f64) -> (u32, u32) {
    let Some(f) = font() else {
        // Rough fallback so layout still works.
        return (
            (text.chars().count() as f64 * size_px * 0.6) as u32,
            size_px as u32,
        );
    };
    let sf = f.as_scaled(scale(f, size_px));
    let mut w = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    (w.ceil() as u32, (sf.ascent() - sf.descent()).ceil() as u32)
}

/// Rasterises `text` with its box's top-left corner at (0, 0), calling `put(x, y, coverage)`
/// for every covered pixel (coverage in 0..=1).
pub fn raster(text: &str, size_px: f64, mut put: impl FnMut(i32, i32, f32)) {
    let Some(f) = font() else { return };
    let sc = scale(f, size_px);
    let sf = f.as_scaled(sc);
    let mut x = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            x += sf.kern(p, id);
        }
        let g = id.with_scale_and_position(sc, point(x, sf.ascent()));
        x += sf.h_advance(id);
        prev = Some(id);
        if let Some(og) = f.outline_glyph(g) {
            let b = og.px_bounds();
            og.draw(|gx, gy, cov| {
                put(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, cov);
            });
        }
    }
}

/// Where text goes relative to its anchor point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Anchor is the top-left corner.
    TopLeft,
    /// Anchor is the top centre.
    TopCentre,
    /// Anchor is the left end of the vertical middle.
    MiddleLeft,
    /// Anchor is the top-right corner.
    TopRight,
}

/// Draws `text` into an RGB8 buffer of width `w` (blending by coverage).
pub fn draw_rgb(
    buf: &mut [u8],
    w: usize,
    text: &str,
    at: (i32, i32),
    anchor: Anchor,
    size_px: f64,
    rgb: [u8; 3],
) {
    let (tw, th) = measure(text, size_px);
    let (dx, dy) = match anchor {
        Anchor::TopLeft => (0, 0),
        Anchor::TopCentre => (-(tw as i32) / 2, 0),
        Anchor::MiddleLeft => (0, -(th as i32) / 2),
        Anchor::TopRight => (-(tw as i32), 0),
    };
    let h = buf.len() / 3 / w.max(1);
    raster(text, size_px, |x, y, cov| {
        let (x, y) = (at.0 + dx + x, at.1 + dy + y);
        if x < 0 || y < 0 || x as usize >= w || y as usize >= h {
            return;
        }
        let i = 3 * (y as usize * w + x as usize);
        let a = cov.clamp(0.0, 1.0);
        for k in 0..3 {
            let v = buf[i + k] as f32 * (1.0 - a) + rgb[k] as f32 * a;
            buf[i + k] = v.round() as u8;
        }
    });
}

/// A plotters backend with text measured (and, for bitmaps, drawn) with the embedded font.
pub struct TextBackend<B> {
    inner: B,
    raster: bool,
}

impl<B> TextBackend<B> {
    /// Wraps a bitmap backend: text is rasterised here.
    pub fn bitmap(inner: B) -> Self {
        Self {
            inner,
            raster: true,
        }
    }
    /// Wraps a vector backend: text is passed on as text (measured here for layout).
    pub fn vector(inner: B) -> Self {
        Self {
            inner,
            raster: false,
        }
    }
}

impl<B: DrawingBackend> DrawingBackend for TextBackend<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        p: BackendCoord,
        c: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(a, b, s)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(a, b, s, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, s)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(c, r, s, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        v: I,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(v, s)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(measure(text, style.size()))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if !self.raster {
            return self.inner.draw_text(text, style, pos);
        }
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (w, h) = measure(text, style.size());
        let (w, h) = (w as i32, h as i32);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -w,
            HPos::Center => -w / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let trans = style.transform();
        let (sw, sh) = self.get_size();
        let mut result = Ok(());
        raster(text, style.size(), |x, y, cov| {
            if result.is_err() || cov <= 0.0 {
                return;
            }
            let (x, y) = trans.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && y >= 0 && x < sw as i32 && y < sh as i32 {
                let c = BackendColor {
                    alpha: color.alpha * cov.min(1.0) as f64,
                    rgb: color.rgb,
                };
                result = self.inner.draw_pixel((x, y), c);
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_parses_and_measures() {
        assert!(font().is_some());
        let (w1, h) = measure("Day 1", 16.0);
        let (w2, _) = measure("Day 100", 16.0);
        assert!(w2 > w1 && (14..=24).contains(&h), "{w1} {w2} {h}");
        let mut n = 0;
        raster("Hb", 16.0, |_, _, c| n += (c > 0.5) as usize);
        assert!(n > 20);
    }
}
