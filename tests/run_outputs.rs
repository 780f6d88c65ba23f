//! End-to-end tests of the run driver through the library: run directories, manifest,
//! CSV outputs, `--out` refusal and cancellation.
//!
//! Reads: a tiny scenario given as text. Writes: run directories under cargo's per-target
//! temporary directory (`CARGO_TARGET_TMPDIR`), removed by each test on success.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use myelosim::model::STAGES;
use myelosim::observe::manifest::Status;
use myelosim::run::{RunError, RunOptions, run};
use myelosim::scenario::{Scenario, load_str};

const TINY: &str = "[run]\nduration_d = 2\n[space]\nnx = 32\nny = 32\n[bone]\ngeometry = \"none\"\n[myeloma]\ninitial_cells = 20\n";

/// A fresh, empty directory for one test.
fn scratch(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("run_outputs-{test}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny(overrides: &[&str]) -> Scenario {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    load_str(TINY, "tiny.toml", Path::new("."), &o).expect("tiny scenario is valid")
}

fn opts(root: &Path) -> RunOptions {
    RunOptions {
        threads: Some(2),
        out: None,
        output_root: root.to_path_buf(),
        quiet: true,
    }
}

fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn two_runs_get_distinct_directories_both_complete_with_identical_csvs() {
    let root = scratch("two_runs");
    let s = tiny(&[]);
    let never = AtomicBool::new(false);
    let a = run(&s, &opts(&root), &never).unwrap();
    let mut o1 = opts(&root);
    o1.threads = Some(1);
    let b = run(&s, &o1, &never).unwrap();
    assert_ne!(a.dir, b.dir);
    assert!(a.dir.starts_with(root.join("tiny")) && b.dir.starts_with(root.join("tiny")));
    for r in [&a, &b] {
        assert_eq!(r.status, Status::Complete);
        assert_eq!(r.steps_done, s.steps);
        assert_eq!(manifest(&r.dir)["status"], "complete");
    }
    // Same scenario and seed: byte-identical CSVs, whatever the thread count.
    for f in ["timeseries.csv", "events.csv"] {
        assert_eq!(read(&a.dir, f), read(&b.dir, f), "{f} differs between runs");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn timeseries_starts_with_time_and_every_header_has_a_unit_or_is_a_count() {
    let root = scratch("headers");
    let r = run(&tiny(&[]), &opts(&root), &AtomicBool::new(false)).unwrap();
    let ts = read(&r.dir, "timeseries.csv");
    let header: Vec<&str> = ts.lines().next().unwrap().split(',').collect();
    assert_eq!(header[0], "time_d");
    const UNITS: [&str; 14] = [
        "_d", "_h", "_nM", "_pct", "_um", "_um2", "_per_h", "_g_per_L", "_g_dl", "_mg_dl", "_mg_l",
        "_g_l", "_1e9_l", "_log10",
    ];
    const COUNTS: [&str; 9] = [
        "_cells",
        "_births",
        "_deaths",
        "_sites",
        "_count",
        "_events",
        "_patient",
        "osteoclasts",
        "osteoblasts",
    ];
    // Issue 3 output contract: lesion count, 0/1 CRAB flags and the IMWG category label.
    const OTHER: [&str; 6] = [
        "lytic_lesions",
        "response",
        "crab_c",
        "crab_r",
        "crab_a",
        "crab_b",
    ];
    for h in &header {
        let ok = *h == "step"
            || OTHER.contains(h)
            || UNITS.iter().any(|u| h.ends_with(u))
            || COUNTS.iter().any(|c| h.ends_with(c));
        assert!(ok, "column `{h}` has no unit suffix and is not a count");
    }
    // One row per recorded step, each with a value per column.
    let rows: Vec<&str> = ts.lines().skip(1).collect();
    assert!(rows.len() >= 2);
    assert!(rows.iter().all(|r| r.split(',').count() == header.len()));
    assert!(read(&r.dir, "events.csv").starts_with("time_d,kind,detail\n"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn out_into_non_empty_directory_is_refused_and_left_alone() {
    let root = scratch("out_non_empty");
    let out = root.join("taken");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("precious.txt"), "keep me").unwrap();
    let mut o = opts(&root);
    o.out = Some(out.clone());
    let e = run(&tiny(&[]), &o, &AtomicBool::new(false)).unwrap_err();
    assert!(matches!(e, RunError::OutputDir(_)), "{e:?}");
    assert!(e.is_bad_input());
    assert!(e.to_string().contains("not empty"), "{e}");
    let names: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "nothing may be written into a refused directory"
    );
    // An absent --out directory is created and used exactly.
    let fresh = root.join("fresh/run");
    o.out = Some(fresh.clone());
    let r = run(&tiny(&[]), &o, &AtomicBool::new(false)).unwrap();
    assert_eq!(r.dir, fresh);
    assert_eq!(manifest(&fresh)["status"], "complete");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn cancel_before_start_gives_interrupted_manifest_and_step_zero_row() {
    let root = scratch("cancel");
    let r = run(&tiny(&[]), &opts(&root), &AtomicBool::new(true)).unwrap();
    assert_eq!(r.status, Status::Interrupted);
    assert_eq!(r.steps_done, 0);
    let m = manifest(&r.dir);
    assert_eq!(m["status"], "interrupted");
    assert_eq!(m["steps_done"], 0);
    let ts = read(&r.dir, "timeseries.csv");
    let lines: Vec<&str> = ts.lines().collect();
    assert_eq!(lines.len(), 2, "header and the step-0 row: {ts}");
    assert!(lines[0].starts_with("time_d,"));
    assert!(lines[1].starts_with("0,0,"), "{}", lines[1]);
    let ev = read(&r.dir, "events.csv");
    assert!(
        ev.lines().last().unwrap().starts_with("0,interrupted,"),
        "{ev}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn manifest_records_seed_commit_scenario_and_all_stages_in_order() {
    let root = scratch("manifest");
    let s = tiny(&["run.seed=77"]);
    let r = run(&s, &opts(&root), &AtomicBool::new(false)).unwrap();
    assert!(
        r.dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with("-s77")
    );
    let m = manifest(&r.dir);
    assert_eq!(m["seed"], 77);
    assert_eq!(m["threads"], 2);
    assert_eq!(m["steps_planned"], s.steps);
    assert_eq!(m["steps_done"], s.steps);
    assert_eq!(m["myelosim_version"], env!("CARGO_PKG_VERSION"));
    let commit = m["git_commit"].as_str().unwrap();
    assert!(
        commit == "unknown" || commit.trim_end_matches("-dirty").len() >= 40,
        "{commit}"
    );
    assert_eq!(m["scenario"]["name"], "tiny");
    assert_eq!(m["scenario"]["overrides"][0], "run.seed=77");
    assert!(
        m["scenario"]["text"]
            .as_str()
            .unwrap()
            .contains("initial_cells")
    );
    let text = std::fs::read_to_string(r.dir.join("manifest.json")).unwrap();
    let mut at = 0;
    for stage in STAGES {
        assert!(
            m["stage_seconds"][stage].as_f64().unwrap() >= 0.0,
            "{stage}"
        );
        let k = text.find(&format!("\"{stage}\"")).unwrap();
        assert!(k > at, "stage {stage} out of pipeline order");
        at = k;
    }
    assert_eq!(m["stage_seconds"].as_object().unwrap().len(), STAGES.len());
    for f in ["manifest.json", "timeseries.csv", "events.csv"] {
        assert!(
            m["outputs"].as_array().unwrap().iter().any(|o| o == f),
            "{f}"
        );
        assert!(r.dir.join(f).is_file());
    }
    assert!(m["finished_utc"].as_str().unwrap().ends_with('Z'));
    assert!(m["error"].is_null());
    assert!(!r.dir.join(".manifest.json.tmp").exists());
    std::fs::remove_dir_all(&root).unwrap();
}
