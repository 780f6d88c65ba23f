//! Pictures of a run: lattice snapshots and the GIF while it runs ([`snapshot`]), then plots
//! ([`plots`]) and a self-contained `report.html` ([`report`]) drawn from its CSVs and
//! manifest, so `myelosim plot RUN_DIR` can redraw them without rerunning. Text uses the font
//! embedded in the binary ([`font`]); no output contains a wall-clock time except what the
//! manifest already records, so identical runs give identical pictures.
//!
//! Reads: frames (snapshots); a run directory's CSVs and manifest (plots, report).
//! Writes: `<run dir>/snapshots/`, `<run dir>/plots/`, `<run dir>/report.html`.

pub mod background;
pub mod data;
pub mod font;
pub mod image;
pub mod legend;
pub mod palette;
pub mod plots;
pub mod report;
pub mod snapshot;

use std::path::Path;
use std::time::Instant;

/// Display name of a field: `dkk1` → `DKK1`, `il6` → `IL-6`, `tgfb` → `TGF-β`.
pub fn field_label(name: &str) -> String {
    match name {
        "il6" => "IL-6".into(),
        "tgfb" => "TGF-β".into(),
        other => other.to_uppercase(),
    }
}

/// What [`render_run`] produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RenderOutcome {
    /// Files written, relative to the run directory.
    pub files: Vec<String>,
    /// Problems met (each one skipped a picture, never the rest).
    pub errors: Vec<String>,
    /// Wall-clock seconds spent.
    pub seconds: f64,
}

/// Draws the plots and the report of the run in `dir` from its CSVs and manifest. Never
/// fails as a whole: each problem skips only the picture it concerns and is listed in
/// [`RenderOutcome::errors`].
pub fn render_run(dir: &Path) -> RenderOutcome {
    let t0 = Instant::now();
    let mut out = RenderOutcome::default();
    let data = match data::RunData::load(dir) {
        Ok(d) => d,
        Err(e) => {
            out.errors.push(format!("reading outputs: {e}"));
            data::RunData::default()
        }
    };
    let plot_dir = dir.join(plots::PLOT_DIR);
    let figs = plots::figures(&data);
    if !figs.is_empty()
        && let Err(e) = std::fs::create_dir_all(&plot_dir)
    {
        out.errors
            .push(format!("creating {}: {e}", plot_dir.display()));
    }
    for f in &figs {
        // plotters may panic on a degenerate range; a picture is never worth the run.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            plots::write_figure(f, &plot_dir)
        }));
        match r {
            Ok(Ok(files)) => out.files.extend(
                files
                    .into_iter()
                    .map(|n| format!("{}/{n}", plots::PLOT_DIR)),
            ),
            Ok(Err(e)) => out.errors.push(format!("plot {e}")),
            Err(_) => out
                .errors
                .push(format!("plot {}: renderer panicked", f.name)),
        }
    }
    match report::write(dir, &data, &out.files, &out.errors) {
        Ok(()) => out.files.push(report::REPORT_FILE.to_string()),
        Err(e) => out.errors.push(format!("report: {e}")),
    }
    out.seconds = t0.elapsed().as_secs_f64();
    out
}
