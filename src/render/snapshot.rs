//! Lattice snapshots: for every [`Frame`] the model hands over, PNG maps of the cell kinds,
//! the clones (when the model tracks them) and each field (viridis heat map with a colour
//! bar, nM), plus one frame of an animated GIF of the cell map. 3D lattices show their middle
//! z-slice (said in each title). Small lattices are upscaled by a whole factor (200×200 sites
//! → 600 px), large ones sampled down to about 1000 px.
//!
//! Rendering problems never fail the run: the first error stops further snapshots and is kept
//! in [`SnapshotObserver::errors`] for the driver to log.
//!
//! Reads: frames from the model. Writes: `<run dir>/snapshots/{cells,clones,<field>}_d<day>.png`
//! and `<run dir>/snapshots/marrow.gif`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use super::field_label;
use super::font::Anchor;
use super::image::{Canvas, fmt_num, nice_ticks};
use super::palette::{clone_rgb, kind_label, kind_rgb, viridis};
use crate::cells::lattice::CellKind;
use crate::observe::{Event, Frame, Observer};

/// Folder of the snapshots inside a run directory.
pub const SNAPSHOT_DIR: &str = "snapshots";
/// File name of the animation inside [`SNAPSHOT_DIR`].
pub const GIF_FILE: &str = "marrow.gif";
/// Most frames kept in the GIF; denser cadences are subsampled evenly.
pub const MAX_GIF_FRAMES: u64 = 120;

const BG: [u8; 3] = [0xff, 0xff, 0xff];
const INK: [u8; 3] = [0x22, 0x22, 0x2a];
const SUBTLE: [u8; 3] = [0x5a, 0x5a, 0x66];
const MARGIN: usize = 16;
const HEADER: usize = 62;
const FOOTER: usize = 34;
const LEGEND_W: usize = 200;

/// What goes right of the map.
enum Legend {
    /// Colour swatches with labels.
    Items(Vec<([u8; 3], String)>),
    /// A vertical colour bar from 0 to `max` with a unit label.
    Bar { max: f64, label: String },
}

/// One picture of a 2D slice: title, subtitle, per-pixel colours, legend.
struct Picture<'a> {
    title: String,
    subtitle: String,
    nx: usize,
    ny: usize,
    site_um: f64,
    colour: &'a dyn Fn(usize, usize) -> [u8; 3],
    legend: Legend,
}

/// Whole-number upscale (or down-sampling stride) for an `n`-site edge: `(scale, stride)`.
pub fn scale_for(n: usize, target_px: usize) -> (usize, usize) {
    if n == 0 {
        return (1, 1);
    }
    if n <= target_px {
        ((target_px / n).max(1), 1)
    } else {
        (1, n.div_ceil(target_px.max(1)))
    }
}

fn render(p: &Picture<'_>, target_px: usize, font_scale: f64) -> Canvas {
    let (s, stride) = scale_for(p.nx.max(p.ny), target_px);
    let (mw, mh) = (p.nx.div_ceil(stride) * s, p.ny.div_ceil(stride) * s);
    let legend_w = (LEGEND_W as f64 * font_scale) as usize;
    let header = (HEADER as f64 * font_scale) as usize;
    let footer = (FOOTER as f64 * font_scale) as usize;
    let w = MARGIN + mw + MARGIN + legend_w;
    let h = header + mh + footer;
    let mut c = Canvas::new(w, h, BG);
    let fs = |x: f64| x * font_scale;
    c.text(&p.title, (MARGIN as i32, 8), Anchor::TopLeft, fs(20.0), INK);
    c.text(
        &p.subtitle,
        (MARGIN as i32, (8.0 + fs(28.0)) as i32),
        Anchor::TopLeft,
        fs(13.0),
        SUBTLE,
    );
    // The map, y = 0 at the top (as in bone-mask images).
    for my in 0..mh {
        let y = (my / s) * stride;
        let row = 3 * ((header + my) * w + MARGIN);
        for mx in 0..mw {
            let x = (mx / s) * stride;
            let rgb = (p.colour)(x.min(p.nx - 1), y.min(p.ny - 1));
            c.px[row + 3 * mx..row + 3 * mx + 3].copy_from_slice(&rgb);
        }
    }
    // Scale bar under the map, about a fifth of its width.
    let px_per_um = s as f64 / stride as f64 / p.site_um;
    let want = mw as f64 / 5.0 / px_per_um;
    let bar_um = [
        10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
    ]
    .into_iter()
    .rev()
    .find(|&u| u <= want)
    .unwrap_or(10.0);
    let bar_px = (bar_um * px_per_um).round() as usize;
    let by = header + mh + (footer / 3);
    c.rect(MARGIN, by, bar_px.max(1), 4, INK);
    let label = if bar_um >= 1000.0 {
        format!("{} mm", bar_um / 1000.0)
    } else {
        format!("{bar_um} µm")
    };
    c.text(
        &label,
        ((MARGIN + bar_px + 8) as i32, (by + 2) as i32),
        Anchor::MiddleLeft,
        fs(12.0),
        INK,
    );
    // Legend.
    let lx = MARGIN + mw + MARGIN;
    match &p.legend {
        Legend::Items(items) => {
            let sw = fs(16.0) as usize;
            let step = fs(24.0) as usize;
            for (k, (rgb, label)) in items.iter().enumerate() {
                let y = header + k * step;
                c.rect(lx, y, sw, sw, SUBTLE);
                c.rect(lx + 1, y + 1, sw - 2, sw - 2, *rgb);
                c.text(
                    label,
                    ((lx + sw + 8) as i32, (y + sw / 2) as i32),
                    Anchor::MiddleLeft,
                    fs(13.0),
                    INK,
                );
            }
        }
        Legend::Bar { max, label } => {
            c.text(
                label,
                (lx as i32, header as i32),
                Anchor::TopLeft,
                fs(13.0),
                INK,
            );
            let top = header + fs(26.0) as usize;
            let bh = (mh.saturating_sub(fs(40.0) as usize)).max(20);
            let bw = fs(22.0) as usize;
            for yy in 0..bh {
                let t = 1.0 - yy as f64 / (bh - 1).max(1) as f64;
                c.rect(lx, top + yy, bw, 1, viridis(t));
            }
            let ticks = if *max > 0.0 {
                nice_ticks(0.0, *max, 4)
            } else {
                vec![0.0]
            };
            for t in ticks {
                let frac = if *max > 0.0 { t / max } else { 0.0 };
                let y = top + ((1.0 - frac) * (bh - 1) as f64).round() as usize;
                c.rect(lx + bw, y, 5, 1, INK);
                c.text(
                    &fmt_num(t),
                    ((lx + bw + 8) as i32, y as i32),
                    Anchor::MiddleLeft,
                    fs(12.0),
                    INK,
                );
            }
        }
    }
    c
}

/// The day as used in file names: `0007` for whole days, `0007.50` otherwise.
pub fn day_tag(time_d: f64) -> String {
    if (time_d - time_d.round()).abs() < 1e-9 {
        format!("{:04}", time_d.round() as i64)
    } else {
        format!("{time_d:07.2}")
    }
}

fn day_text(time_d: f64) -> String {
    if (time_d - time_d.round()).abs() < 1e-9 {
        format!("day {}", time_d.round() as i64)
    } else {
        format!("day {time_d:.2}")
    }
}

/// Renders and writes the snapshots and the GIF of one run.
pub struct SnapshotObserver {
    run_dir: PathBuf,
    written: Vec<String>,
    gif: Option<gif::Encoder<BufWriter<File>>>,
    gif_size: (u16, u16),
    gif_palette: Vec<[u8; 3]>,
    gif_cache: HashMap<[u8; 3], u8>,
    pending: Option<Vec<u8>>,
    frames_seen: u64,
    stride: u64,
    failed: bool,
    /// Problems met while rendering (rendering stops at the first).
    pub errors: Vec<String>,
}

impl SnapshotObserver {
    /// Snapshots for a run in `run_dir` expecting about `expected_frames` frames (for GIF
    /// subsampling). Creates nothing until the first frame.
    pub fn new(run_dir: &Path, expected_frames: u64) -> Self {
        let mut pal = vec![BG, INK];
        for k in 1..15u32 {
            let v = (0x22 + (0xff - 0x22) * k / 15) as u8;
            pal.push([v, v, v]);
        }
        pal.push(SUBTLE);
        for k in CellKind::ALL {
            pal.push(kind_rgb(k as u8));
        }
        pal.push(kind_rgb(255));
        Self {
            run_dir: run_dir.to_path_buf(),
            written: Vec::new(),
            gif: None,
            gif_size: (0, 0),
            gif_palette: pal,
            gif_cache: HashMap::new(),
            pending: None,
            frames_seen: 0,
            stride: expected_frames.div_ceil(MAX_GIF_FRAMES).max(1),
            failed: false,
            errors: Vec::new(),
        }
    }

    /// Files written so far, relative to the run directory, in writing order.
    pub fn files(&self) -> &[String] {
        &self.written
    }

    /// Writes the last GIF frame (held longer) and closes the GIF. Call once at the end.
    pub fn finish(&mut self) {
        if let Err(e) = self.flush_pending(300) {
            self.fail(e);
        }
        self.gif = None;
    }

    fn fail(&mut self, e: io::Error) {
        self.failed = true;
        self.errors.push(format!("snapshots: {e}"));
    }

    fn flush_pending(&mut self, delay: u16) -> io::Result<()> {
        if let (Some(buf), Some(enc)) = (self.pending.take(), self.gif.as_mut()) {
            let f = gif::Frame {
                width: self.gif_size.0,
                height: self.gif_size.1,
                delay,
                buffer: std::borrow::Cow::Owned(buf),
                ..gif::Frame::default()
            };
            enc.write_frame(&f).map_err(io::Error::other)?;
        }
        Ok(())
    }

    fn render_frame(&mut self, fr: &Frame<'_>) -> io::Result<()> {
        let [nx, ny, nz] = fr.dims;
        let n2 = nx * ny;
        if nx == 0 || ny == 0 || fr.kinds.len() < n2 * nz {
            return Err(io::Error::other(format!(
                "frame has {} sites for a {nx}×{ny}×{nz} lattice",
                fr.kinds.len()
            )));
        }
        let z = nz / 2;
        let off = z * n2;
        let kinds = &fr.kinds[off..off + n2];
        let dir = self.run_dir.join(SNAPSHOT_DIR);
        if self.written.is_empty() && self.gif.is_none() {
            std::fs::create_dir_all(&dir)?;
        }
        let size = format!(
            "{nx} × {ny}{} sites of {} µm ({} × {} mm)",
            if nz > 1 {
                format!(" × {nz}")
            } else {
                String::new()
            },
            fr.site_um,
            fmt_num(nx as f64 * fr.site_um / 1000.0),
            fmt_num(ny as f64 * fr.site_um / 1000.0)
        );
        let slice = if nz > 1 {
            format!(" · middle z-slice {} of {nz}", z + 1)
        } else {
            String::new()
        };
        let phase = if fr.phase.is_empty() {
            String::new()
        } else {
            format!(" · {}", fr.phase)
        };
        let when = format!("{}{phase}", day_text(fr.time_d));
        let tag = day_tag(fr.time_d);

        // Cell kinds.
        let mut counts = [0usize; 256];
        for &k in kinds {
            counts[k as usize] += 1;
        }
        let items: Vec<([u8; 3], String)> = (0..=255u8)
            .filter(|&k| counts[k as usize] > 0)
            .map(|k| {
                let pct = 100.0 * counts[k as usize] as f64 / n2 as f64;
                (kind_rgb(k), format!("{}  {}", kind_label(k), fmt_pct(pct)))
            })
            .collect();
        let colour = |x: usize, y: usize| kind_rgb(kinds[x + nx * y]);
        let pic = Picture {
            title: format!("Marrow cells — {when}"),
            subtitle: format!("{size}{slice}"),
            nx,
            ny,
            site_um: fr.site_um,
            colour: &colour,
            legend: Legend::Items(items.clone()),
        };
        self.save(&render(&pic, 640, 1.0), &format!("cells_d{tag}.png"))?;
        if self.frames_seen % self.stride == 0 {
            let small = render(&pic, 400, 0.85);
            self.gif_frame(&small)?;
        }
        self.frames_seen += 1;

        // Clones.
        if let Some(cl) = fr.clones
            && cl.len() >= off + n2
        {
            let cl = &cl[off..off + n2];
            let mut per: HashMap<u32, usize> = HashMap::new();
            for (i, &k) in kinds.iter().enumerate() {
                if k == CellKind::Myeloma as u8 {
                    *per.entry(cl[i]).or_default() += 1;
                }
            }
            let mut list: Vec<(u32, usize)> = per.into_iter().collect();
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let total: usize = list.iter().map(|c| c.1).sum();
            let mut items: Vec<([u8; 3], String)> = list
                .iter()
                .take(12)
                .map(|&(id, n)| {
                    let pct = 100.0 * n as f64 / total.max(1) as f64;
                    (clone_rgb(id), format!("clone {id}  {}", fmt_pct(pct)))
                })
                .collect();
            if list.len() > 12 {
                items.push(([0x80; 3], format!("… {} more clones", list.len() - 12)));
            }
            items.push(([0xd6, 0xd2, 0xc4], "bone".into()));
            let colour = |x: usize, y: usize| {
                let i = x + nx * y;
                match CellKind::from_code(kinds[i]) {
                    Some(CellKind::Myeloma) => clone_rgb(cl[i]),
                    Some(CellKind::Bone) => [0xd6, 0xd2, 0xc4],
                    _ => [0x33, 0x33, 0x3a],
                }
            };
            let pic = Picture {
                title: format!("Myeloma clones — {when}"),
                subtitle: format!("{size}{slice} · share of myeloma cells"),
                nx,
                ny,
                site_um: fr.site_um,
                colour: &colour,
                legend: Legend::Items(items),
            };
            self.save(&render(&pic, 640, 1.0), &format!("clones_d{tag}.png"))?;
        }

        // Fields.
        for (name, conc) in &fr.fields {
            if conc.len() < off + n2 {
                continue;
            }
            let conc = &conc[off..off + n2];
            let max = conc
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0f64, f64::max);
            let colour = |x: usize, y: usize| {
                let v = conc[x + nx * y];
                viridis(if max > 0.0 { v / max } else { 0.0 })
            };
            let label = field_label(name);
            let pic = Picture {
                title: format!("{label} — {when}"),
                subtitle: format!("{size}{slice} · max {} nM", fmt_num(max)),
                nx,
                ny,
                site_um: fr.site_um,
                colour: &colour,
                legend: Legend::Bar {
                    max,
                    label: format!("{label} [nM]"),
                },
            };
            let file = format!("{}_d{tag}.png", safe_name(name));
            self.save(&render(&pic, 640, 1.0), &file)?;
        }
        Ok(())
    }

    fn save(&mut self, c: &Canvas, file: &str) -> io::Result<()> {
        c.write_png(&self.run_dir.join(SNAPSHOT_DIR).join(file))?;
        self.written.push(format!("{SNAPSHOT_DIR}/{file}"));
        Ok(())
    }

    fn gif_frame(&mut self, c: &Canvas) -> io::Result<()> {
        if self.gif.is_none() {
            let (w, h) = (
                u16::try_from(c.w).map_err(io::Error::other)?,
                u16::try_from(c.h).map_err(io::Error::other)?,
            );
            let path = self.run_dir.join(SNAPSHOT_DIR).join(GIF_FILE);
            let flat: Vec<u8> = self.gif_palette.iter().flatten().copied().collect();
            let mut enc = gif::Encoder::new(BufWriter::new(File::create(path)?), w, h, &flat)
                .map_err(io::Error::other)?;
            enc.set_repeat(gif::Repeat::Infinite)
                .map_err(io::Error::other)?;
            self.gif = Some(enc);
            self.gif_size = (w, h);
            self.written.push(format!("{SNAPSHOT_DIR}/{GIF_FILE}"));
        }
        if (c.w, c.h) != (self.gif_size.0 as usize, self.gif_size.1 as usize) {
            return Err(io::Error::other("GIF frame size changed"));
        }
        let mut idx = Vec::with_capacity(c.w * c.h);
        for p in c.px.chunks_exact(3) {
            let rgb = [p[0], p[1], p[2]];
            let pal = &self.gif_palette;
            let i = *self
                .gif_cache
                .entry(rgb)
                .or_insert_with(|| nearest(pal, rgb));
            idx.push(i);
        }
        self.flush_pending(25)?;
        self.pending = Some(idx);
        Ok(())
    }
}

fn nearest(pal: &[[u8; 3]], c: [u8; 3]) -> u8 {
    let d = |p: &[u8; 3]| -> i32 { (0..3).map(|k| (p[k] as i32 - c[k] as i32).pow(2)).sum() };
    let mut best = 0;
    for (i, p) in pal.iter().enumerate() {
        if d(p) < d(&pal[best]) {
            best = i;
        }
    }
    best as u8
}

fn fmt_pct(p: f64) -> String {
    if p >= 10.0 {
        format!("{p:.0} %")
    } else if p >= 0.1 {
        format!("{p:.1} %")
    } else {
        "<0.1 %".into()
    }
}

/// A name made safe for a file name.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

impl Observer for SnapshotObserver {
    fn on_record(&mut self, _: &[String], _: &[crate::observe::Value]) -> io::Result<()> {
        Ok(())
    }
    fn on_event(&mut self, _: &Event) -> io::Result<()> {
        Ok(())
    }
    fn on_frame(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        if !self.failed
            && let Err(e) = self.render_frame(frame)
        {
            self.fail(e);
        }
        Ok(())
    }
}
