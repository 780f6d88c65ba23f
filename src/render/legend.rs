//! Where a panel's legend goes: inside the frame, in the corner its data leave free, or —
//! when data reach into every corner (the drug panel: doses spike across the whole time
//! axis and concentration range) — outside the frame, in a band between the panel's title
//! and its frame, the entries flowed in rows. The corner test uses the legend's real size
//! (estimated with the embedded font, as plotters lays it out), not a fixed share of the plot.
//!
//! Reads: a panel's series and its axis range. Writes: the band legend onto a drawing area
//! (corner legends are drawn by plotters).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::measure;
use super::plots::Panel;

/// Legend text size [px] (also plotters' in-frame legend).
pub const FONT_PX: u32 = 12;
/// Height of one row of the band legend [px].
const ROW_H: u32 = 17;
/// Room for an entry's sample (line, dot or block) before its text [px].
const SAMPLE_W: i32 = 24;
/// Space between entries of one row of the band [px].
const GAP: i32 = 16;
/// plotters' in-frame legend box: sample area, inner margin [px], line height [× font],
/// offset from the frame [px].
const BOX_SAMPLE_W: f64 = 30.0;
const BOX_MARGIN: f64 = 10.0;
const BOX_LINE_H: f64 = 1.25;
const BOX_OFFSET: f64 = 5.0;

/// How an entry's series is drawn, for its sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    /// A line.
    Line,
    /// Isolated dots (e.g. one day of high-dose melphalan).
    Dot,
    /// A filled area (stacked shares).
    Block,
}

/// One legend entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Label.
    pub label: String,
    /// Colour.
    pub rgb: [u8; 3],
    /// Sample shape.
    pub sample: Sample,
}

/// Where the legend goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// Inside the frame, in this corner (no data there).
    Corner(SeriesLabelPosition),
    /// Above the frame: the entries (indices into the entry list) of each row.
    Band(Vec<Vec<usize>>),
}

impl Place {
    /// Height [px] the band takes from the panel (0 for a corner).
    pub fn band_height(&self) -> u32 {
        match self {
            Place::Corner(_) => 0,
            Place::Band(rows) => rows.len() as u32 * ROW_H + 4,
        }
    }
}

/// The four in-frame corners, in order of preference (ties keep the first).
const CORNERS: [SeriesLabelPosition; 4] = [
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::LowerLeft,
];

/// The entries of a panel's series that show up: a line where some two consecutive values are
/// drawable (`drawable(y)`, e.g. finite and inside a log axis' range), a dot where only isolated
/// ones are, a block on a stacked panel; none for a series with nothing drawable.
pub fn entries(p: &Panel, drawable: &dyn Fn(f64) -> bool) -> Vec<Entry> {
    p.series
        .iter()
        .filter_map(|s| {
            let ok: Vec<bool> =
                s.x.iter()
                    .zip(&s.y)
                    .map(|(&x, &y)| x.is_finite() && drawable(y))
                    .collect();
            let sample = if p.stacked {
                Sample::Block
            } else if ok.windows(2).any(|w| w[0] && w[1]) {
                Sample::Line
            } else if ok.contains(&true) {
                Sample::Dot
            } else {
                return None;
            };
            Some(Entry {
                label: s.label.clone(),
                rgb: s.rgb,
                sample,
            })
        })
        .collect()
}

/// Size [px] of plotters' in-frame legend box for these labels.
fn box_size(entries: &[Entry]) -> (f64, f64) {
    let font = FONT_PX as f64;
    let text_w = entries
        .iter()
        .map(|e| measure(&e.label, font).0)
        .max()
        .unwrap_or(0) as f64;
    let n = entries.len().max(1) as f64;
    (
        text_w + BOX_SAMPLE_W + 2.0 * BOX_MARGIN,
        (n - 1.0) * BOX_LINE_H * font + font + 2.0 * BOX_MARGIN,
    )
}

/// Picks the place: the first corner whose legend box covers none of the panel's data
/// points, else the band. `plot_px` is the frame's size [px]; `y0..y1` the axis range after
/// `tr` (log10 on a log axis).
pub fn place(
    p: &Panel,
    entries: &[Entry],
    plot_px: (f64, f64),
    t_end: f64,
    (y0, y1): (f64, f64),
    tr: &dyn Fn(f64) -> f64,
) -> Place {
    let (bw, bh) = box_size(entries);
    // The box as shares of the frame, from its corner (plotters keeps it 5 px off the edges).
    let fw = ((bw + BOX_OFFSET) / plot_px.0).min(1.0);
    let fh = ((bh + BOX_OFFSET) / plot_px.1).min(1.0);
    for (k, pos) in CORNERS.into_iter().enumerate() {
        let (left, top) = (k == 0 || k == 3, k < 2);
        let covered = p
            .series
            .iter()
            .flat_map(|s| s.x.iter().zip(&s.y))
            .any(|(&x, &y)| {
                let (fx, fy) = (x / t_end, (tr(y) - y0) / (y1 - y0));
                let in_x = if left { fx <= fw } else { fx >= 1.0 - fw };
                let in_y = if top { fy >= 1.0 - fh } else { fy <= fh };
                in_x && in_y && (0.0..=1.0).contains(&fy)
            });
        if !covered {
            return Place::Corner(pos);
        }
    }
    Place::Band(rows(entries, plot_px.0))
}

/// Width [px] of one band entry, gap included.
fn entry_w(e: &Entry) -> i32 {
    SAMPLE_W + measure(&e.label, FONT_PX as f64).0 as i32 + GAP
}

/// The entries flowed into rows no wider than `width` [px] (at least one entry a row).
fn rows(entries: &[Entry], width: f64) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = 0;
    for (i, e) in entries.iter().enumerate() {
        let w = entry_w(e);
        match rows.last_mut() {
            Some(row) if (used + w - GAP) as f64 <= width => {
                row.push(i);
                used += w;
            }
            _ => {
                rows.push(vec![i]);
                used = w;
            }
        }
    }
    rows
}

/// Draws the band legend into `band`, rows starting `left` px from its left edge (the
/// frame's left edge, so the legend lines up with the plot).
pub fn draw_band<DB: DrawingBackend>(
    band: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[Entry],
    rows: &[Vec<usize>],
    left: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = ("sans-serif", FONT_PX)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (r, row) in rows.iter().enumerate() {
        let y = (r as u32 * ROW_H + ROW_H / 2) as i32;
        let mut x = left;
        for &i in row {
            let e = &entries[i];
            let c = RGBColor(e.rgb[0], e.rgb[1], e.rgb[2]);
            match e.sample {
                Sample::Line => {
                    band.draw(&PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)))?
                }
                Sample::Dot => band.draw(&Circle::new((x + 9, y), 3, c.filled()))?,
                Sample::Block => {
                    band.draw(&Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()))?
                }
            }
            band.draw(&Text::new(
                e.label.clone(),
                (x + SAMPLE_W, y),
                style.clone(),
            ))?;
            x += entry_w(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::plots::Series;

    fn entry(label: &str) -> Entry {
        Entry {
            label: label.into(),
            rgb: [0, 0, 0],
            sample: Sample::Line,
        }
    }

    fn panel(points: &[(f64, f64)]) -> Panel {
        Panel {
            series: vec![Series {
                label: "a".into(),
                x: points.iter().map(|p| p.0).collect(),
                y: points.iter().map(|p| p.1).collect(),
                rgb: [0, 0, 0],
            }],
            ..Panel::default()
        }
    }

    #[test]
    fn legend_goes_to_a_free_corner_or_above_the_frame() {
        let entries = [entry("first series"), entry("second")];
        let id = |v: f64| v;
        let plot = (450.0, 160.0);
        // Data along the top: the legend goes to a lower corner.
        let top = panel(&[(0.0, 1.0), (50.0, 0.95), (100.0, 1.0)]);
        assert_eq!(
            place(&top, &entries, plot, 100.0, (0.0, 1.0), &id),
            Place::Corner(SeriesLabelPosition::LowerRight)
        );
        // Data in all four corners: above the frame, in one row (both labels fit).
        let all = panel(&[(0.0, 1.0), (0.0, 0.0), (100.0, 0.0), (100.0, 1.0)]);
        assert_eq!(
            place(&all, &entries, plot, 100.0, (0.0, 1.0), &id),
            Place::Band(vec![vec![0, 1]])
        );
        // A point right of the box (well under half the 450-px frame wide) leaves it free.
        let near = panel(&[(50.0, 1.0)]);
        assert_eq!(
            place(&near, &entries, plot, 100.0, (0.0, 1.0), &id),
            Place::Corner(SeriesLabelPosition::UpperLeft)
        );
    }

    #[test]
    fn band_rows_wrap_at_the_frame_width() {
        let entries: Vec<Entry> = (0..5)
            .map(|i| entry(&format!("drug {i} peak [nM]")))
            .collect();
        let w = entry_w(&entries[0]) as f64;
        assert_eq!(rows(&entries, 3.0 * w - GAP as f64).len(), 2);
        assert_eq!(rows(&entries, 3.0 * w - GAP as f64)[0], [0, 1, 2]);
        assert_eq!(
            rows(&entries, 10.0),
            vec![vec![0], vec![1], vec![2], vec![3], vec![4]]
        );
        assert_eq!(Place::Band(rows(&entries, 1e4)).band_height(), ROW_H + 4);
    }
}
