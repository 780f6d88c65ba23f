//! Every shipped scenario validates and a shrunken copy of it runs end to end through the
//! run driver (so a scenario that loads but cannot run is caught in CI).
//!
//! Reads: `scenarios/*.toml`. Writes: run folders under `CARGO_TARGET_TMPDIR`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use myelosim::observe::manifest::Status;
use myelosim::run::{RunOptions, run};
use myelosim::scenario::load_file;

fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 3,
        "expected the shipped scenario ladder, found {v:?}"
    );
    v
}

#[test]
fn every_shipped_scenario_runs_shrunken() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenarios_run");
    let _ = std::fs::remove_dir_all(&root);
    for path in shipped() {
        let full = load_file(&path, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Shrink: at most 40 sites per axis (16 in z), 3 simulated days.
        let mut set = vec![
            format!("space.nx={}", full.space.dims[0].min(40)),
            format!("space.ny={}", full.space.dims[1].min(40)),
            format!("space.nz={}", full.space.dims[2].min(16)),
            "run.duration_d=3".to_string(),
            "run.record_every_h=24".to_string(),
        ];
        let sites =
            full.space.dims[0].min(40) * full.space.dims[1].min(40) * full.space.dims[2].min(16);
        if full.myeloma.initial_cells > sites / 4 {
            set.push(format!("myeloma.initial_cells={}", sites / 4));
        }
        if full.space.tile_edge > 16 {
            set.push("space.tile_sites=16".into());
        }
        let s = load_file(&path, &set).unwrap_or_else(|e| panic!("{} shrunk: {e}", path.display()));
        let opts = RunOptions {
            threads: Some(2),
            out: None,
            output_root: root.clone(),
            quiet: true,
        };
        let summary = run(&s, &opts, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{} failed to run: {e}", path.display()));
        assert_eq!(summary.status, Status::Complete, "{}", path.display());
        // Every run leaves the pictures a user opens first (issue 7).
        for f in [
            "report.html",
            "plots/clinical.png",
            "plots/clinical.svg",
            "plots/populations.png",
            "snapshots/marrow.gif",
        ] {
            assert!(summary.dir.join(f).is_file(), "{}: no {f}", path.display());
        }
        let ts = std::fs::read_to_string(summary.dir.join("timeseries.csv")).unwrap();
        assert_eq!(
            ts.lines().count(),
            1 + 4,
            "{}: header + days 0..=3",
            path.display()
        );
    }
}
