//! Pictures of a run: golden pixels for a tiny run, determinism, SVG well-formedness and unit
//! labels, tolerance of missing columns, the GIF's frames, and `[output]` validation.
//!
//! Goldens live in `tests/golden/`; regenerate them with `UPDATE_GOLDEN=1 cargo test --release
//! --test visuals` after an intended change, and look at them before committing.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use myelosim::render;
use myelosim::run::{self, RunOptions};
use myelosim::scenario;

const TINY: &str = r#"
[run]
name = "tiny"
duration_d = 4.0
dt_h = 1.0
seed = 3
record_every_h = 24.0
[space]
nx = 24
ny = 24
tile_sites = 8
[bone]
target_bv_tv_pct = 20.0
trabecular_thickness_um = 40.0
[myeloma]
# Seeded at the centre.
initial_cells = 20
[fields.dkk1]
diffusion_um2_per_s = 10.0
half_life_min = 60.0
[fields.dkk1.secretion_nM_per_h]
myeloma = 0.5
[output]
snapshot_every_d = 2.0
"#;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("myelosim-vis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn run_tiny(out: &Path) {
    let s = scenario::load_str(TINY, "<tiny>", Path::new("."), &[]).expect("tiny scenario");
    let opts = RunOptions {
        threads: Some(2),
        out: Some(out.to_path_buf()),
        quiet: true,
        ..RunOptions::default()
    };
    run::run(&s, &opts, &AtomicBool::new(false)).expect("tiny run");
}

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn tiny_run_pictures_match_goldens_pixel_for_pixel() {
    let dir = tmp("golden");
    run_tiny(&dir);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (file, gold) in [
        ("snapshots/cells_d0004.png", "tiny_cells_d0004.png"),
        ("snapshots/dkk1_d0004.png", "tiny_dkk1_d0004.png"),
        ("plots/populations.png", "tiny_populations.png"),
    ] {
        let got = dir.join(file);
        let want = golden.join(gold);
        if update {
            std::fs::copy(&got, &want).unwrap();
            continue;
        }
        assert!(
            want.is_file(),
            "missing golden {}; run with UPDATE_GOLDEN=1",
            want.display()
        );
        let (a, b) = (decode_png(&got), decode_png(&want));
        assert_eq!((a.0, a.1), (b.0, b.1), "{file}: size differs from golden");
        let differing = a.2.iter().zip(&b.2).filter(|(x, y)| x != y).count();
        assert_eq!(differing, 0, "{file}: {differing} bytes differ from {gold}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn identical_runs_give_identical_picture_bytes_and_manifest_lists_them() {
    let (a, b) = (tmp("det-a"), tmp("det-b"));
    run_tiny(&a);
    run_tiny(&b);
    let manifest = std::fs::read_to_string(a.join("manifest.json")).unwrap();
    let mut n = 0;
    for sub in ["snapshots", "plots"] {
        for e in std::fs::read_dir(a.join(sub)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            let rel = format!("{sub}/{name}");
            assert_eq!(
                std::fs::read(a.join(&rel)).unwrap(),
                std::fs::read(b.join(&rel)).unwrap(),
                "{rel} differs between identical runs"
            );
            assert!(
                manifest.contains(&format!("\"{rel}\"")),
                "{rel} not in manifest outputs"
            );
            n += 1;
        }
    }
    assert!(n >= 8, "expected snapshots and plots, found {n} files");
    assert!(manifest.contains("\"report.html\""));
    // Day 0, 2 and 4 snapshots of cells and of the field.
    for d in ["0000", "0002", "0004"] {
        assert!(a.join(format!("snapshots/cells_d{d}.png")).is_file());
        assert!(a.join(format!("snapshots/dkk1_d{d}.png")).is_file());
    }
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn gif_decodes_with_one_frame_per_snapshot() {
    let dir = tmp("gif");
    run_tiny(&dir);
    let f = std::fs::File::open(dir.join("snapshots/marrow.gif")).unwrap();
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut d = opts.read_info(f).unwrap();
    let mut frames = 0;
    while let Some(fr) = d.read_next_frame().unwrap() {
        assert!(fr.width > 100 && fr.height > 100);
        frames += 1;
    }
    assert_eq!(frames, 3, "days 0, 2, 4");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Minimal XML well-formedness: every element closes in order, attributes are quoted.
fn check_xml(s: &str) -> Result<usize, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = s;
    let mut elements = 0;
    while let Some(i) = rest.find('<') {
        let j = rest[i..].find('>').ok_or("unclosed tag")? + i;
        let tag = &rest[i + 1..j];
        rest = &rest[j + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if tag.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("stray </{name}>"))?;
            if open != name.trim() {
                return Err(format!("<{open}> closed by </{name}>"));
            }
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().ok_or("empty tag")?;
            stack.push(name.to_string());
            elements += 1;
        } else {
            elements += 1;
        }
    }
    if stack.is_empty() {
        Ok(elements)
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

#[test]
fn svg_plots_are_well_formed_with_unit_labels() {
    let dir = tmp("svg");
    run_tiny(&dir);
    for (f, labels) in [
        ("plots/populations.svg", &["time [d]", "cells [count]"][..]),
        ("plots/fields.svg", &["time [d]", "DKK1 [nM]"][..]),
        ("plots/clinical.svg", &["time [d]", "BV/TV [%]"][..]),
    ] {
        let s = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(s.starts_with("<svg"), "{f} does not start with <svg");
        let n = check_xml(&s).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(n > 20, "{f} has only {n} elements");
        for l in labels {
            assert!(s.contains(l), "{f} lacks the axis label {l:?}");
        }
    }
    assert!(
        check_xml("<a><b></a></b>").is_err(),
        "the checker must catch misnesting"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plots_and_report_tolerate_missing_and_future_columns() {
    // Only a time column: nothing to plot, but a report all the same.
    let a = tmp("cols-a");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(a.join("timeseries.csv"), "time_d\n0\n1\n").unwrap();
    let out = render::render_run(&a);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.files, vec!["report.html".to_string()]);
    // No files at all.
    let b = tmp("cols-b");
    std::fs::create_dir_all(&b).unwrap();
    let out = render::render_run(&b);
    assert_eq!(out.files, vec!["report.html".to_string()]);
    // Clinical columns of issue 3 and treatment, a text column, gaps, a truncated last line.
    let c = tmp("cols-c");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(
        c.join("timeseries.csv"),
        "time_d,step,mm_cells,m_protein_g_dl,hb_g_dl,anc_1e9_l,response,bortezomib_nM,\
         osteoclasts,osteoblasts\n\
         0,0,1e6,3.0,11,4,NA,0,10,40\n\
         30,720,2e5,1.2,10,,PR,15,25,30\n\
         60,1440,1e4,0.2,9.5,1.1,VGPR,3,30,20\n\
         90,2160,3e5,0.9,10.5,2,PD,0,28,22\n\
         120,2880",
    )
    .unwrap();
    std::fs::write(
        c.join("events.csv"),
        "time_d,kind,detail\n0,phase,induction\n0,dose,bortezomib 1.3 mg/m2\n\
         80,phase,maintenance\n85,progression,IMWG\n",
    )
    .unwrap();
    std::fs::write(
        c.join("clones.csv"),
        "time_d,clone,cells\n0,0,900000\n0,1,100000\n30,0,100000\n30,1,100000\n60,0,1000\n\
         60,1,9000\n90,0,10000\n90,1,290000\n",
    )
    .unwrap();
    let out = render::render_run(&c);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    for f in [
        "plots/clinical.png",
        "plots/populations.svg",
        "plots/bone_cells.png",
        "plots/muller.png",
    ] {
        assert!(
            out.files.contains(&f.to_string()),
            "{f} missing: {:?}",
            out.files
        );
    }
    let html = std::fs::read_to_string(c.join("report.html")).unwrap();
    assert!(
        html.contains("VGPR — first reached on day 60"),
        "best response"
    );
    assert!(html.contains("Progression</th><td>day 85"), "progression");
    assert!(
        html.contains("ANC nadir</th><td>1.1"),
        "ANC nadir skips the gap"
    );
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn output_keys_are_validated_with_all_problems_collected() {
    let bad = TINY
        .replace("snapshot_every_d = 2.0", "snapshot_every_d = 0.01")
        .replace("nx = 24", "nx = 2");
    let e = scenario::load_str(&bad, "<t>", Path::new("."), &[]).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("output.snapshot_every_d"), "{msg}");
    assert!(msg.contains("space.nx"), "{msg}");
    let e = scenario::load_str(
        TINY,
        "<t>",
        Path::new("."),
        &["output.snapshot_every_d=-1".into()],
    );
    assert!(e.is_err());
    let s = scenario::load_str(
        TINY,
        "<t>",
        Path::new("."),
        &["output.snapshot_every_d=0".into()],
    )
    .unwrap();
    assert_eq!(s.output.snapshot_every_steps, 0);
    let s = scenario::load_str(
        &TINY.replace("[output]\nsnapshot_every_d = 2.0", ""),
        "<t>",
        Path::new("."),
        &[],
    )
    .unwrap();
    assert_eq!(
        s.output.snapshot_every_steps, 24,
        "default: ceil(4/50) = 1 d"
    );
    assert_eq!(scenario::validate::default_snapshot_every_d(365.0), 8.0);
    assert_eq!(scenario::validate::default_snapshot_every_d(1365.0), 28.0);
    assert_eq!(scenario::validate::default_snapshot_every_d(60.0), 2.0);
}
