//! Plots of a run over time, drawn from its CSVs (never from the model), as PNG and SVG:
//! `clinical` (M-protein with IMWG response lines and progression markers, FLC, marrow PC %,
//! MRD, Hb, ANC, platelets, calcium, creatinine, BV/TV, lytic lesions, drug concentrations with
//! dose ticks; treatment phases shaded), `populations` (myeloma cells, births/deaths),
//! `bone_cells` (osteoclasts, osteoblasts), `fields` (mean and max per field) and `muller`
//! (clone shares). Every sub-panel appears only if its columns exist, so the plots follow the
//! model as it gains outputs. Axes are log-scaled where positive values span ≥ 2 decades.
//!
//! Drawn with `plotters` (axes, ticks, legends; a maintained, widely used crate) through
//! [`TextBackend`], which supplies text from the embedded font, so PNGs are identical on every
//! machine. PNG bytes come from the `png` crate (no image-crate dependency).
//!
//! Reads: [`RunData`]. Writes: `<run dir>/plots/<name>.{png,svg}`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::RunData;
use super::field_label;
use super::font::TextBackend;
use super::image::{Canvas, fmt_num};
use super::legend;
use super::palette::clone_rgb;
use crate::observe::{PHASE_ENDS, PHASE_STARTS};

/// Folder of the plots inside a run directory.
pub const PLOT_DIR: &str = "plots";
/// Width of every plot [px].
pub const WIDTH: u32 = 1100;
const PANEL_H: u32 = 250;
const TITLE_H: u32 = 44;
/// Panel margins [px] (right: room for the last time label) and axis label areas [px].
const MARGIN: u32 = 10;
const MARGIN_RIGHT: u32 = 18;
const X_LABELS: u32 = 40;
const Y_LABELS: u32 = 72;

/// A line of a panel.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Times [d].
    pub x: Vec<f64>,
    /// Values (NaN = gap).
    pub y: Vec<f64>,
    /// Colour.
    pub rgb: [u8; 3],
}

/// One sub-panel: a y quantity over time.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// Y-axis description, with unit.
    pub y_desc: String,
    /// Lines.
    pub series: Vec<Series>,
    /// Horizontal reference lines `(value, label)`.
    pub hlines: Vec<(f64, String)>,
    /// Vertical markers `(time, label)` (e.g. progression).
    pub markers: Vec<(f64, String)>,
    /// Short ticks at the top (e.g. doses).
    pub ticks: Vec<f64>,
    /// Force a linear axis.
    pub linear: bool,
    /// Stacked shares 0..1 (Muller plot) instead of lines.
    pub stacked: bool,
}

/// A figure: title, panels in a grid, phases shaded on every panel.
#[derive(Clone, Debug, Default)]
pub struct Figure {
    /// File stem (`clinical`, …).
    pub name: String,
    /// Figure title.
    pub title: String,
    /// Panels.
    pub panels: Vec<Panel>,
    /// Columns of the panel grid.
    pub cols: usize,
    /// Treatment phases `(start, end, name)` [d].
    pub phases: Vec<(f64, f64, String)>,
    /// Time span [d].
    pub t_end: f64,
}

const LINE: [[u8; 3]; 6] = [
    [0x00, 0x72, 0xb2],
    [0xd5, 0x5e, 0x00],
    [0x00, 0x9e, 0x73],
    [0xcc, 0x79, 0xa7],
    [0xe6, 0x9f, 0x00],
    [0x56, 0xb4, 0xe9],
];
const PHASE_RGB: [[u8; 3]; 6] = [
    [0xde, 0xeb, 0xf7],
    [0xfd, 0xe8, 0xd0],
    [0xe5, 0xf5, 0xe0],
    [0xef, 0xe5, 0xf3],
    [0xff, 0xf7, 0xcc],
    [0xe8, 0xe8, 0xe8],
];

fn rgb(c: [u8; 3]) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// Builds every figure the data supports (empty figures are left out).
pub fn figures(d: &RunData) -> Vec<Figure> {
    let Some(t) = d.time() else { return vec![] };
    let t_end = t
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let phases = phases(d, t_end);
    let s = |name: &str, label: &str, k: usize| -> Option<Series> {
        Some(Series {
            label: label.into(),
            x: t.clone(),
            y: d.col(name)?,
            rgb: LINE[k % LINE.len()],
        })
    };
    let one = |col: &str, title: &str, y_desc: &str| -> Option<Panel> {
        Some(Panel {
            title: title.into(),
            y_desc: y_desc.into(),
            series: vec![s(col, title, 0)?],
            ..Panel::default()
        })
    };
    let progression: Vec<(f64, String)> = d
        .events_of("progression")
        .map(|e| (e.time_d, "progression".to_string()))
        .collect();
    let mut figs = Vec::new();

    // Clinical panel.
    let mut clin = Vec::new();
    if let Some(mut p) = one("m_protein_g_dl", "Serum M-protein", "M-protein [g/dL]") {
        // IMWG bands are relative to the response baseline: the M-protein when treatment
        // starts, or (untreated runs) at the first response assessment. Not the first row,
        // which is the tiny value of a newly seeded clone.
        let base_time = d
            .events_of("phase")
            .find(|e| e.detail.starts_with(crate::observe::TREATMENT_STARTS))
            .or_else(|| d.events_of("response").next())
            .map(|e| e.time_d);
        let series = &p.series[0];
        let base = base_time.and_then(|t0| {
            series
                .x
                .iter()
                .zip(&series.y)
                .find(|(x, y)| **x >= t0 && y.is_finite() && **y > 0.0)
                .map(|(_, y)| *y)
        });
        if let Some(base) = base {
            p.hlines = vec![
                (base, "baseline".into()),
                (0.5 * base, "PR (−50 %)".into()),
                (0.1 * base, "VGPR (−90 %)".into()),
            ];
        }
        p.markers = progression.clone();
        p.linear = true;
        clin.push(p);
    }
    for (col, title, desc) in [
        ("flc_mg_l", "Involved free light chain", "FLC [mg/L]"),
        ("marrow_pc_pct", "Marrow plasma cells", "plasma cells [%]"),
    ] {
        clin.extend(one(col, title, desc));
    }
    if let Some(mut p) = one("mrd_log10", "MRD", "tumour fraction [log10]") {
        p.linear = true;
        p.hlines = vec![(-5.0, "10⁻⁵".into()), (-6.0, "10⁻⁶".into())];
        clin.push(p);
    }
    for (col, title, desc) in [
        ("hb_g_dl", "Haemoglobin", "Hb [g/dL]"),
        ("anc_1e9_l", "Neutrophils (ANC)", "ANC [10⁹/L]"),
        ("platelets_1e9_l", "Platelets", "platelets [10⁹/L]"),
        ("igg_poly_g_l", "Polyclonal IgG", "IgG [g/L]"),
        ("calcium_mg_dl", "Serum calcium", "calcium [mg/dL]"),
        ("creatinine_mg_dl", "Serum creatinine", "creatinine [mg/dL]"),
        ("bv_tv_pct", "Bone volume fraction", "BV/TV [%]"),
        ("lytic_lesions", "Lytic lesions", "lesions [count]"),
    ] {
        if let Some(mut p) = one(col, title, desc) {
            p.linear = true;
            clin.push(p);
        }
    }
    let drug_cols: Vec<&String> =
        d.ts.as_ref()
            .map(|ts| ts.columns.iter().filter(|c| is_drug_column(c)).collect())
            .unwrap_or_default();
    // Interval peaks in nM (what the model writes): the unit goes on the axis and the legend
    // names only the drugs, short enough to sit in a band above the frame. Other columns keep
    // their unit in the legend.
    let all_peaks = drug_cols.iter().all(|c| c.ends_with("_cmax_nM"));
    let drugs: Vec<Series> = drug_cols
        .iter()
        .enumerate()
        .filter_map(|(k, c)| {
            let label = match c.strip_suffix("_cmax_nM") {
                Some(d) if all_peaks => d.replace('_', " "),
                Some(d) => format!("{} peak [nM]", d.replace('_', " ")),
                None => c.replace('_', " "),
            };
            s(c, &label, k)
        })
        .collect();
    if !drugs.is_empty() {
        clin.push(Panel {
            title: "Drug concentrations (ticks: doses)".into(),
            y_desc: if all_peaks {
                "peak [nM]".into()
            } else {
                "concentration [unit in legend]".into()
            },
            series: drugs,
            ticks: d.events_of("dose").map(|e| e.time_d).collect(),
            ..Panel::default()
        });
    }
    if !clin.is_empty() {
        for p in &mut clin {
            if p.markers.is_empty() {
                p.markers = progression.clone();
            }
        }
        figs.push(Figure {
            name: "clinical".into(),
            title: "Clinical course".into(),
            panels: clin,
            cols: 2,
            phases: phases.clone(),
            t_end,
        });
    }

    // Populations.
    let mut pops = Vec::new();
    if let Some(p) = one("mm_cells", "Myeloma cells", "cells [count]") {
        pops.push(p);
    }
    let bd: Vec<Series> = [("mm_births", "births", 2), ("mm_deaths", "deaths", 1)]
        .iter()
        .filter_map(|&(c, l, k)| s(c, l, k))
        .collect();
    if !bd.is_empty() {
        pops.push(Panel {
            title: "Myeloma births and deaths per record interval".into(),
            y_desc: "events [count]".into(),
            series: bd,
            ..Panel::default()
        });
    }
    if !pops.is_empty() {
        figs.push(Figure {
            name: "populations".into(),
            title: "Cell populations".into(),
            panels: pops,
            cols: 2,
            phases: phases.clone(),
            t_end,
        });
    }
    let bone: Vec<Series> = [
        ("osteoclasts", "osteoclasts", 1),
        ("osteoblasts", "osteoblasts", 0),
    ]
    .iter()
    .filter_map(|&(c, l, k)| s(c, l, k))
    .collect();
    if !bone.is_empty() {
        figs.push(Figure {
            name: "bone_cells".into(),
            title: "Bone cells".into(),
            panels: vec![Panel {
                title: "Osteoclasts and osteoblasts".into(),
                y_desc: "cells [count]".into(),
                series: bone,
                ..Panel::default()
            }],
            cols: 1,
            phases: phases.clone(),
            t_end,
        });
    }

    // Fields.
    let mut fields = Vec::new();
    if let Some(ts) = &d.ts {
        for c in &ts.columns {
            let Some(name) = c.strip_suffix("_mean_nM") else {
                continue;
            };
            let label = field_label(name);
            let series: Vec<Series> =
                [(c.clone(), "mean", 0), (format!("{name}_max_nM"), "max", 1)]
                    .iter()
                    .filter_map(|(col, l, k)| s(col, l, *k))
                    .collect();
            if !series.is_empty() {
                fields.push(Panel {
                    title: format!("{label} over the lattice"),
                    y_desc: format!("{label} [nM]"),
                    series,
                    ..Panel::default()
                });
            }
        }
    }
    if !fields.is_empty() {
        figs.push(Figure {
            name: "fields".into(),
            title: "Signals (fields)".into(),
            panels: fields,
            cols: 2,
            phases: phases.clone(),
            t_end,
        });
    }

    // Muller plot.
    if let Some(p) = muller_panel(d, &t) {
        figs.push(Figure {
            name: "muller".into(),
            title: "Clonal composition (Muller plot)".into(),
            panels: vec![p],
            cols: 1,
            phases,
            t_end,
        });
    }
    figs
}

/// The parts of the polyline `pts` inside the band `lo ≤ y ≤ hi`, each segment cut where it
/// crosses an edge (linear interpolation), so nothing is drawn outside the plot area.
fn clip_polyline(pts: &[(f64, f64)], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let inside = |y: f64| (lo..=hi).contains(&y);
    let cut = |a: (f64, f64), b: (f64, f64), y: f64| {
        let f = (y - a.1) / (b.1 - a.1);
        (a.0 + f * (b.0 - a.0), y)
    };
    let mut parts = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for (k, &q) in pts.iter().enumerate() {
        let p = if k > 0 { Some(pts[k - 1]) } else { None };
        match (p, inside(q.1)) {
            (None, true) => cur.push(q),
            (None, false) => {}
            (Some(p), true) => {
                if !inside(p.1) {
                    cur.push(cut(p, q, if p.1 > hi { hi } else { lo }));
                }
                cur.push(q);
            }
            (Some(p), false) => {
                let edge_in = if q.1 > hi { hi } else { lo };
                if inside(p.1) {
                    cur.push(cut(p, q, edge_in));
                    parts.push(std::mem::take(&mut cur));
                } else if (p.1 > hi) != (q.1 > hi) {
                    // Jumps across the whole band: the visible piece.
                    let (e1, e2) = if p.1 > hi { (hi, lo) } else { (lo, hi) };
                    parts.push(vec![cut(p, q, e1), cut(p, q, e2)]);
                }
            }
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts.retain(|v| v.len() >= 2);
    parts
}

/// True for drug-concentration columns `<drug>_<unit>` (not fields, not known readouts).
fn is_drug_column(c: &str) -> bool {
    const UNITS: [&str; 6] = ["_nM", "_uM", "_ng_mL", "_ng_ml", "_ug_mL", "_ug_ml"];
    // `<drug>_avg_nM` (interval mean) is left to the CSV: the panel shows the interval maxima
    // `<drug>_cmax_nM`, which carry the peaks.
    UNITS.iter().any(|u| c.ends_with(u))
        && !c.ends_with("_mean_nM")
        && !c.ends_with("_max_nM")
        && !c.ends_with("_avg_nM")
}

/// Treatment phases from `phase` events, each lasting until the next phase starts. The protocol
/// logs `start NAME (…)` ([`PHASE_STARTS`]), `end NAME (…)` and `cycle: …` details; only the
/// starts delimit phases. Runs whose phase events carry bare names (older outputs) use every event.
fn phases(d: &RunData, t_end: f64) -> Vec<(f64, f64, String)> {
    let ev: Vec<_> = d.events_of("phase").collect();
    // `(time, phase name)` of the events `<prefix><name> (…)`.
    let named = |prefix: &str| -> Vec<(f64, String)> {
        ev.iter()
            .filter_map(|e| {
                let rest = e.detail.strip_prefix(prefix)?;
                let name = rest.split([' ', '(']).next().unwrap_or(rest);
                Some((e.time_d, name.to_string()))
            })
            .collect()
    };
    let starts = if ev.iter().any(|e| e.detail.starts_with(PHASE_STARTS)) {
        named(PHASE_STARTS)
    } else {
        ev.iter().map(|e| (e.time_d, e.detail.clone())).collect()
    };
    // A phase ends at the next phase's start, or earlier at its own `end <name>` event (e.g.
    // maintenance ended by confirmed progression with no phase after it).
    let ends = named(PHASE_ENDS);
    starts
        .iter()
        .enumerate()
        .map(|(i, (t, name))| {
            let next = starts.get(i + 1).map_or(t_end, |n| n.0);
            let own_end = ends
                .iter()
                .find(|(te, n)| *te >= *t && n == name)
                .map_or(next, |e| e.0);
            (*t, own_end.min(next), name.clone())
        })
        .collect()
}

/// Clone shares over time from `clones.csv` (long: time_d, clone, cells) or from wide
/// time-series columns `clone_<id>_cells`.
fn muller_panel(d: &RunData, t: &[f64]) -> Option<Panel> {
    let mut series: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    if let Some(c) = &d.clones {
        let ti = c.index("time_d")?;
        let ci = c.index("clone").or_else(|| c.index("clone_id"))?;
        let ni = ["cells", "count", "mm_cells", "n"]
            .iter()
            .find_map(|n| c.index(n))?;
        let mut times: Vec<f64> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for r in &c.rows {
            let tv: f64 = r[ti].parse().ok()?;
            if times.last() != Some(&tv) {
                times.push(tv);
            }
            if !ids.contains(&r[ci]) {
                ids.push(r[ci].clone());
            }
        }
        let mut grid = vec![vec![0.0; times.len()]; ids.len()];
        for r in &c.rows {
            let (Ok(tv), Ok(n)) = (r[ti].parse::<f64>(), r[ni].parse::<f64>()) else {
                continue;
            };
            let (Some(a), Some(b)) = (
                ids.iter().position(|i| *i == r[ci]),
                times.iter().position(|x| *x == tv),
            ) else {
                continue;
            };
            grid[a][b] = n;
        }
        for (id, ys) in ids.into_iter().zip(grid) {
            series.push((format!("clone {id}"), times.clone(), ys));
        }
    } else if let Some(ts) = &d.ts {
        for c in &ts.columns {
            if let Some(id) = c
                .strip_prefix("clone_")
                .and_then(|r| r.strip_suffix("_cells"))
            {
                series.push((format!("clone {id}"), t.to_vec(), ts.num(c)?));
            }
        }
    }
    if series.len() < 2 {
        return None;
    }
    let n = series[0].1.len();
    let mut out = Vec::new();
    for (k, (label, x, y)) in series.iter().enumerate() {
        let share: Vec<f64> = (0..n)
            .map(|i| {
                let tot: f64 = series.iter().map(|s| s.2[i].max(0.0)).sum();
                if tot > 0.0 { y[i].max(0.0) / tot } else { 0.0 }
            })
            .collect();
        out.push(Series {
            label: label.clone(),
            x: x.clone(),
            y: share,
            rgb: clone_rgb(k as u32),
        });
    }
    Some(Panel {
        title: "Share of myeloma cells by clone".into(),
        y_desc: "share of myeloma cells [fraction]".into(),
        series: out,
        stacked: true,
        linear: true,
        ..Panel::default()
    })
}

/// Size [px] of a figure.
pub fn size(f: &Figure) -> (u32, u32) {
    let rows = f.panels.len().div_ceil(f.cols.max(1)) as u32;
    (WIDTH, TITLE_H + rows * PANEL_H)
}

/// Renders a figure to PNG and SVG files named after it in `dir`; returns the file names.
pub fn write_figure(f: &Figure, dir: &Path) -> Result<Vec<String>, String> {
    let (w, h) = size(f);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root =
            TextBackend::bitmap(BitMapBackend::with_buffer(&mut buf, (w, h))).into_drawing_area();
        draw(f, &root).map_err(|e| format!("{}: {e}", f.name))?;
        root.present().map_err(|e| format!("{}: {e}", f.name))?;
    }
    let png = format!("{}.png", f.name);
    Canvas {
        w: w as usize,
        h: h as usize,
        px: buf,
    }
    .write_png(&dir.join(&png))
    .map_err(|e| format!("{png}: {e}"))?;
    let mut svg = String::new();
    {
        let root =
            TextBackend::vector(SVGBackend::with_string(&mut svg, (w, h))).into_drawing_area();
        draw(f, &root).map_err(|e| format!("{}: {e}", f.name))?;
        root.present().map_err(|e| format!("{}: {e}", f.name))?;
    }
    let svg_name = format!("{}.svg", f.name);
    std::fs::write(dir.join(&svg_name), svg).map_err(|e| format!("{svg_name}: {e}"))?;
    Ok(vec![png, svg_name])
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(f: &Figure, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (top, rest) = root.split_vertically(TITLE_H);
    top.draw(&Text::new(
        f.title.clone(),
        (16, 12),
        ("sans-serif", 22)
            .into_font()
            .color(&RGBColor(0x22, 0x22, 0x2a)),
    ))?;
    if !f.phases.is_empty() {
        // Phase key, right-aligned in the title band.
        let mut x = w as i32 - 16;
        for (k, (_, _, name)) in f.phases.iter().enumerate().rev() {
            let tw = super::font::measure(name, 13.0).0 as i32;
            x -= tw + 26;
            top.draw(&Rectangle::new(
                [(x, 16), (x + 14, 30)],
                rgb(PHASE_RGB[k % PHASE_RGB.len()]).filled(),
            ))?;
            top.draw(&Text::new(
                name.clone(),
                (x + 18, 16),
                ("sans-serif", 13).into_font(),
            ))?;
        }
    }
    let rows = f.panels.len().div_ceil(f.cols.max(1));
    let areas = rest.split_evenly((rows, f.cols.max(1)));
    for (p, area) in f.panels.iter().zip(areas.iter()) {
        draw_panel(f, p, area)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    f: &Figure,
    p: &Panel,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let t_end = if f.t_end > 0.0 { f.t_end } else { 1.0 };
    // Value range over finite values (and reference lines).
    let vals = p
        .series
        .iter()
        .flat_map(|s| s.y.iter().copied())
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let min_pos = p
        .series
        .iter()
        .flat_map(|s| s.y.iter().copied())
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let log = !p.linear && !p.stacked && min_pos.is_finite() && hi / min_pos >= 100.0;
    // A log axis shows at most six decades below the largest value: a washed-out drug at
    // 1e-300 nM is not information, and would squash everything else flat.
    let min_pos = if log { min_pos.max(hi * 1e-6) } else { min_pos };
    let tr = |v: f64| if log { v.log10() } else { v };
    let (y0, y1) = if p.stacked {
        (0.0, 1.0)
    } else if log {
        (
            min_pos.log10().floor(),
            hi.log10().ceil().max(min_pos.log10().floor() + 1.0),
        )
    } else {
        for (v, _) in &p.hlines {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
        let lo = if lo >= 0.0 && lo < 0.5 * hi { 0.0 } else { lo };
        let pad = if hi > lo {
            0.06 * (hi - lo)
        } else {
            0.5 * hi.abs().max(1.0)
        };
        (if lo == 0.0 { 0.0 } else { lo - pad }, hi + pad)
    };
    let tr_dyn: &dyn Fn(f64) -> f64 = &tr;
    let entries = legend::entries(p, &|y| y.is_finite() && (!log || y >= min_pos));
    let place = (entries.len() > 1).then(|| {
        // The frame's size: the panel less margins, title and axis label areas.
        let (w, h) = area.dim_in_pixel();
        let title_h = super::font::measure(&p.title, 16.0).1 as f64;
        let frame = (
            w as f64 - (MARGIN + MARGIN_RIGHT + Y_LABELS) as f64,
            h as f64 - (2 * MARGIN + X_LABELS) as f64 - title_h - 2.0 * (title_h / 2.0).min(5.0),
        );
        legend::place(p, &entries, frame, t_end, (y0, y1), tr_dyn)
    });
    let band_h = place.as_ref().map_or(0, legend::Place::band_height);
    // With the legend above the frame the title is drawn here (as plotters would) and the band
    // taken below it; otherwise plotters lays out title and frame as usual.
    let framed;
    let mut builder = if band_h == 0 {
        let mut b = ChartBuilder::on(area);
        b.margin(MARGIN)
            .margin_right(MARGIN_RIGHT)
            .caption(p.title.clone(), ("sans-serif", 16).into_font());
        b
    } else {
        let titled = area
            .margin(MARGIN, MARGIN, MARGIN, MARGIN_RIGHT)
            .titled(&p.title, ("sans-serif", 16).into_font())?;
        let (band, rest) = titled.split_vertically(band_h);
        if let Some(legend::Place::Band(rows)) = &place {
            legend::draw_band(&band, &entries, rows, Y_LABELS as i32)?;
        }
        framed = rest;
        ChartBuilder::on(&framed)
    };
    let mut chart = builder
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(0.0..t_end, y0..y1)?;
    // Phases first, under everything.
    for (k, (a, b, _)) in f.phases.iter().enumerate() {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*a, y0), (*b, y1)],
            rgb(PHASE_RGB[k % PHASE_RGB.len()]).filled(),
        )))?;
    }
    let y_fmt = |v: &f64| {
        if log {
            fmt_num(10f64.powf(*v))
        } else {
            fmt_num(*v)
        }
    };
    let desc = if log {
        format!("{} (log)", p.y_desc)
    } else {
        p.y_desc.clone()
    };
    chart
        .configure_mesh()
        .x_desc("time [d]")
        .y_desc(desc)
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&|v| fmt_num(*v))
        .x_labels(8)
        .y_labels(6)
        .max_light_lines(1)
        .light_line_style(RGBColor(0xf2, 0xf2, 0xf2))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .axis_desc_style(("sans-serif", 13))
        .label_style(("sans-serif", 12))
        .draw()?;
    for (v, label) in &p.hlines {
        let y = tr(*v);
        chart.draw_series(LineSeries::new(
            [(0.0, y), (t_end, y)],
            RGBColor(0x99, 0x99, 0x99).stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (t_end * 0.995, y),
            ("sans-serif", 11)
                .into_font()
                .color(&RGBColor(0x66, 0x66, 0x66))
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Right,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
        )))?;
    }
    for (t, label) in &p.markers {
        let red = RGBColor(0xc0, 0x1c, 0x28);
        chart.draw_series(LineSeries::new([(*t, y0), (*t, y1)], red.stroke_width(2)))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (*t, y1),
            ("sans-serif", 11).into_font().color(&red),
        )))?;
    }
    let tick = (y1 - y0) * 0.06;
    for t in &p.ticks {
        chart.draw_series(LineSeries::new(
            [(*t, y1), (*t, y1 - tick)],
            BLACK.stroke_width(1),
        ))?;
    }
    if p.stacked {
        let n = p.series.first().map_or(0, |s| s.x.len());
        let mut base = vec![0.0; n];
        for s in &p.series {
            let top: Vec<f64> = base.iter().zip(&s.y).map(|(b, v)| b + v.max(0.0)).collect();
            let mut poly: Vec<(f64, f64)> = s.x.iter().copied().zip(top.iter().copied()).collect();
            poly.extend(s.x.iter().copied().zip(base.iter().copied()).rev());
            let c = rgb(s.rgb);
            chart
                .draw_series(std::iter::once(Polygon::new(poly, c.filled())))?
                .label(s.label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
            base = top;
        }
        // The areas fill the frame and hide the phase shading drawn under them: mark each
        // phase again on top, as a strip along the frame's top edge and a line at its start.
        let strip = (y1 - y0) * 0.035;
        for (k, (a, b, _)) in f.phases.iter().enumerate() {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*a, y1 - strip), (*b, y1)],
                rgb(PHASE_RGB[k % PHASE_RGB.len()]).filled(),
            )))?;
            chart.draw_series(LineSeries::new(
                [(*a, y0), (*a, y1)],
                RGBColor(0x33, 0x33, 0x33).stroke_width(1),
            ))?;
        }
    } else {
        for s in &p.series {
            let c = rgb(s.rgb);
            let mut first = true;
            // Split at gaps (NaN, or non-positive values on a log axis).
            let mut seg: Vec<(f64, f64)> = Vec::new();
            let pts = s.x.iter().zip(&s.y);
            let mut flush = |seg: &mut Vec<(f64, f64)>, first: &mut bool| -> DrawResult<DB> {
                if seg.is_empty() {
                    return Ok(());
                }
                let pts = std::mem::take(seg);
                if pts.len() == 1 {
                    // An isolated value (e.g. one day of high-dose melphalan): a dot, and a
                    // legend entry if the series has nothing else.
                    if (y0..=y1).contains(&pts[0].1) {
                        let a = chart.draw_series(std::iter::once(Circle::new(
                            pts[0],
                            3,
                            c.filled(),
                        )))?;
                        if *first {
                            a.label(s.label.clone())
                                .legend(move |(x, y)| Circle::new((x + 9, y), 3, c.filled()));
                            *first = false;
                        }
                    }
                    return Ok(());
                }
                // plotters does not clip lines to the plot area: cut them at its edges. Each
                // segment is its own path: a 2-px polyline joins segments with miters, and at
                // the sharp reversals of a dosing spike (up one row, down the next) the miter
                // tips shoot far outside the frame (the drug panel's "spikes").
                for part in clip_polyline(&pts, y0, y1) {
                    let segs: Vec<PathElement<(f64, f64)>> = part
                        .windows(2)
                        .map(|w| PathElement::new(vec![w[0], w[1]], c.stroke_width(2)))
                        .collect();
                    let a = chart.draw_series(segs)?;
                    if *first {
                        a.label(s.label.clone()).legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2))
                        });
                        *first = false;
                    }
                }
                Ok(())
            };
            for (&x, &y) in pts {
                if x.is_finite() && y.is_finite() && (!log || y >= min_pos) {
                    seg.push((x, tr(y)));
                } else {
                    flush(&mut seg, &mut first)?;
                }
            }
            flush(&mut seg, &mut first)?;
        }
    }
    if let Some(legend::Place::Corner(pos)) = place {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0xcc, 0xcc, 0xcc))
            .label_font(("sans-serif", legend::FONT_PX))
            .position(pos)
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{RunData, clip_polyline, phases};
    use crate::render::data::EventRow;

    /// A phase lasts until the next phase starts, or until its own `end` event when that comes
    /// first (maintenance stopped by progression, nothing after it).
    #[test]
    fn phases_end_at_their_own_end_event() {
        let ev = |t: f64, d: &str| EventRow {
            time_d: t,
            kind: "phase".into(),
            detail: d.into(),
        };
        let d = RunData {
            ts: None,
            events: vec![
                ev(45.0, "start induction (regimen VRd; start)"),
                ev(213.0, "end induction (cycles done)"),
                ev(213.0, "start maintenance (regimen R-maintenance; start)"),
                ev(504.0, "end maintenance (confirmed progression)"),
            ],
            clones: None,
            manifest: None,
        };
        assert_eq!(
            phases(&d, 1000.0),
            vec![
                (45.0, 213.0, "induction".to_string()),
                (213.0, 504.0, "maintenance".to_string())
            ]
        );
    }

    #[test]
    fn clipping_keeps_lines_inside_the_band() {
        // A spike from 0 to 10 and back in the band [0, 1]: cut at y = 1 on both flanks.
        let parts = clip_polyline(&[(0.0, 0.0), (1.0, 10.0), (2.0, 0.0)], 0.0, 1.0);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0], vec![(0.0, 0.0), (0.1, 1.0)]);
        assert_eq!(parts[1], vec![(1.9, 1.0), (2.0, 0.0)]);
        for p in parts.iter().flatten() {
            assert!((0.0..=1.0).contains(&p.1));
        }
        // A jump across the whole band keeps its visible middle.
        let parts = clip_polyline(&[(0.0, 2.0), (1.0, -2.0)], 0.0, 1.0);
        assert_eq!(parts, vec![vec![(0.25, 1.0), (0.5, 0.0)]]);
    }
}
