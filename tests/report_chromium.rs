//! `report.html` in headless Chromium: the page loads with no console errors, its DOM holds
//! the report, and its screenshot is not blank. Skips (with a message) when `chromium` is
//! absent and `CI` is unset; fails when `CI=true` and it is absent (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use myelosim::run::{self, RunOptions};
use myelosim::scenario;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs chromium with the standard headless flags plus `extra`; returns (stdout, stderr).
fn run_chromium(bin: &Path, profile: &Path, extra: &[String], url: &str) -> (String, String) {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let out_t = {
        let mut o = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut o, &mut s);
            s
        })
    };
    let err_t = {
        let mut e = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
            s
        })
    };
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (out_t.join().unwrap(), err_t.join().unwrap())
}

#[test]
fn report_loads_in_headless_chromium_without_errors_and_is_not_blank() {
    let Some(bin) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
            panic!("CI is set but `chromium` is not on PATH; .ci/run must install it");
        }
        println!(
            "SKIPPED report_chromium: `chromium` not found (install the Debian package `chromium`)"
        );
        return;
    };
    let base = std::env::temp_dir().join(format!("myelosim-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let run_dir = base.join("run");
    let s = scenario::load_str(
        "[run]\nduration_d = 6.0\n[space]\nnx = 40\nny = 40\ntile_sites = 10\n\
         [myeloma]\ninitial_cells = 30\n[fields.dkk1]\ndiffusion_um2_per_s = 10.0\n\
         half_life_min = 60.0\n[fields.dkk1.secretion_nM_per_h]\nmyeloma = 0.5\n",
        "<chromium-test>",
        Path::new("."),
        &[],
    )
    .unwrap();
    let opts = RunOptions {
        threads: Some(2),
        out: Some(run_dir.clone()),
        quiet: true,
        ..RunOptions::default()
    };
    run::run(&s, &opts, &AtomicBool::new(false)).unwrap();
    let report = std::fs::canonicalize(run_dir.join("report.html")).unwrap();
    let url = format!("file://{}", report.display());

    let shot = base.join("shot.png");
    let (_, log) = run_chromium(
        &bin,
        &base.join("profile-1"),
        &[format!("--screenshot={}", shot.display())],
        &url,
    );
    for line in log.lines() {
        assert!(
            !line.contains("CONSOLE") && !line.contains("Uncaught"),
            "console message while loading the report: {line}"
        );
    }
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}); log:\n{log}")),
    ));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks_exact(ch).collect();
    let bg = px[0];
    let mut colours: Vec<[u8; 3]> = px.iter().map(|p| [p[0], p[1], p[2]]).collect();
    let non_bg = px.iter().filter(|p| p[..3] != bg[..3]).count();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 64,
        "screenshot has only {} colours",
        colours.len()
    );
    assert!(
        // A blank or failed page is one flat colour (< 1 % differs); a rendered report with
        // text and plots differs in several percent of the first screen even when mostly white.
        non_bg * 30 > px.len(),
        "screenshot is mostly background ({non_bg} of {} pixels differ)",
        px.len()
    );

    let (dom, log) = run_chromium(&bin, &base.join("profile-2"), &["--dump-dom".into()], &url);
    assert!(!log.contains("Uncaught"), "{log}");
    for needle in [
        "Key outcomes",
        "Myeloma cells",
        "data:image/png;base64,",
        "data:image/gif;base64,",
        "Parameters",
    ] {
        assert!(dom.contains(needle), "rendered DOM lacks {needle:?}");
    }
    assert!(
        !dom.contains("http://") && !dom.contains("https://"),
        "report must not reference the network"
    );
    std::fs::remove_dir_all(&base).unwrap();
}
