//! Tests of the `myelosim` binary: stdout contract, `check`, exit codes and error messages.
//!
//! Reads: tiny scenario files written to a temporary directory. Writes: run directories
//! under cargo's per-target temporary directory (`CARGO_TARGET_TMPDIR`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TINY: &str = "[run]\nduration_d = 2\n[space]\nnx = 32\nny = 32\n[bone]\ngeometry = \"none\"\n[myeloma]\ninitial_cells = 20\n";

/// A fresh, empty directory for one test, holding `tiny.toml`.
fn scratch(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{test}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    d
}

/// Runs the binary in `dir`.
fn myelosim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_myelosim"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_prints_existing_run_directory_as_last_stdout_line() {
    let d = scratch("run");
    let out = myelosim(
        &d,
        &[
            "run",
            "tiny.toml",
            "--seed",
            "9",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().expect("stdout has a line");
    let run_dir = d.join(last);
    assert!(run_dir.is_dir(), "`{last}` is not a directory");
    assert!(run_dir.starts_with(d.join("output/tiny")));
    assert!(last.ends_with("-s9"), "{last}");
    let m = std::fs::read_to_string(run_dir.join("manifest.json")).unwrap();
    assert!(m.contains("\"status\": \"complete\""));
    assert!(
        m.contains("\"run.seed=9\""),
        "--seed is echoed as an override"
    );
    assert!(
        out.stderr.is_empty(),
        "quiet, non-terminal: {}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn run_out_writes_there_and_refuses_a_non_empty_directory_with_exit_2() {
    let d = scratch("out");
    let out = myelosim(&d, &["run", "tiny.toml", "--out", "mine", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().last(), Some("mine"));
    assert!(d.join("mine/timeseries.csv").is_file());
    let again = myelosim(&d, &["run", "tiny.toml", "--out", "mine", "-q"]);
    assert_eq!(again.status.code(), Some(2));
    let err = text(&again.stderr);
    assert!(err.contains("not empty") && err.contains("mine"), "{err}");
    assert!(
        !err.contains("Error:") && !err.contains("panicked"),
        "{err}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn check_exits_0_and_prints_dimensionless_numbers() {
    let d = scratch("check");
    let out = myelosim(&d, &["check", "tiny.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("tiny"), "{s}");
    let lower = s.to_lowercase();
    assert!(
        lower.contains("dimensionless") || s.contains("·dt") || s.contains("*dt"),
        "no dimensionless numbers in:\n{s}"
    );
    assert!(!d.join("output").exists(), "check must not write outputs");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_scenario_exits_2_with_line_and_column() {
    let d = scratch("bad");
    std::fs::write(
        d.join("bad.toml"),
        "[run]\nduration_d = 2\n[space]\nnx = = 3\n",
    )
    .unwrap();
    for args in [&["run", "bad.toml", "-q"][..], &["check", "bad.toml"][..]] {
        let out = myelosim(&d, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        // `bad.toml:LINE:COL: …`
        let at = err
            .find("bad.toml:")
            .unwrap_or_else(|| panic!("{args:?}: {err}"));
        let loc: Vec<&str> = err[at + "bad.toml:".len()..].splitn(3, ':').collect();
        assert!(
            loc.len() == 3 && loc[0] == "4" && loc[1].parse::<u32>().is_ok(),
            "{args:?}: no line:col in {err}"
        );
        assert!(
            !err.contains("Error:") && !err.contains("panicked"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!d.join("output").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn missing_scenario_file_exits_2() {
    let d = scratch("missing");
    for args in [&["run", "nope.toml"][..], &["check", "nope.toml"][..]] {
        let out = myelosim(&d, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains("nope.toml"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one paragraph: {err}");
    }
    assert!(!d.join("output").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    let d = scratch("usage");
    for args in [
        &["run", "--threads", "0"][..],
        &["frobnicate"][..],
        &["check"][..],
    ] {
        let out = myelosim(&d, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    assert!(!d.join("output").exists());
    std::fs::remove_dir_all(&d).unwrap();
}
