//! Scaling study: BDD-lattice-v1 throughput against lattice size (2D N = 256 … 4096, and a
//! 3D case) and thread count (1, 2), with peak memory per site. Each configuration runs in a
//! fresh child process (this same executable with `--child`), so peak RSS belongs to that
//! configuration alone.
//!
//! `cargo bench --bench scaling` writes `benches/results/<machine>/scaling.{csv,md,svg}`.
//! Options: `--runs R` (default 3, median reported), `--quick` (N ≤ 1024, for a smoke run).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use myelosim::bench::bdd::BddConfig;
use myelosim::bench::report::bench_bdd;

struct Case {
    label: String,
    size: usize,
    three_d: bool,
    threads: usize,
    /// Tile shape the run uses (recorded as `WxHxD` in the CSV).
    tile: [usize; 3],
}

struct Measured {
    mcups: Vec<f64>,
    cell_updates: u64,
    final_population: u64,
    rss_mib: f64,
    sites: f64,
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..]);
        return;
    }
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let quick = args.iter().any(|a| a == "--quick");
    let mut sizes = vec![256usize, 512, 1024, 2048, 4096];
    if quick {
        sizes.retain(|&n| n <= 1024);
    }
    let mut cases = Vec::new();
    for &n in &sizes {
        for t in [1, 2] {
            cases.push(Case {
                label: format!("2D {n}x{n}"),
                size: n,
                three_d: false,
                threads: t,
                tile: myelosim::bench::bdd::default_tile(n, false),
            });
        }
    }
    let n3 = if quick { 64 } else { 128 };
    for t in [1, 2] {
        cases.push(Case {
            label: format!("3D {n3}^3"),
            size: n3,
            three_d: true,
            threads: t,
            tile: [16; 3],
        });
    }
    let exe = std::env::current_exe().expect("own path");
    let mut results = Vec::new();
    for c in &cases {
        let mut m = Measured {
            mcups: vec![],
            cell_updates: 0,
            final_population: 0,
            rss_mib: 0.0,
            sites: 0.0,
        };
        for r in 0..runs {
            let out = Command::new(&exe)
                .args([
                    "--child",
                    &c.size.to_string(),
                    &c.threads.to_string(),
                    &tile_str(c.tile),
                ])
                .arg(if c.three_d { "3d" } else { "2d" })
                .arg((1 + r).to_string())
                .output()
                .expect("child runs");
            let line = String::from_utf8_lossy(&out.stdout);
            let v: serde_json::Value = serde_json::from_str(line.trim()).expect("child JSON");
            m.mcups.push(v["mcups"].as_f64().unwrap());
            m.cell_updates = v["cell_updates"].as_u64().unwrap();
            m.final_population = v["final_population"].as_u64().unwrap();
            m.rss_mib = m.rss_mib.max(v["peak_rss_mib"].as_f64().unwrap_or(0.0));
        }
        m.sites = (c.size as f64).powi(if c.three_d { 3 } else { 2 });
        m.mcups.sort_by(f64::total_cmp);
        eprintln!(
            "{} threads={} median {:.1} M/s",
            c.label,
            c.threads,
            m.mcups[m.mcups.len() / 2]
        );
        results.push(m);
    }
    write_results(&cases, &results, runs);
}

/// One configuration, printed as the report's JSON line.
fn child(a: &[String]) {
    let p = |i: usize| a[i].parse::<usize>().expect("number");
    let cfg = BddConfig {
        size: p(0),
        steps: 300,
        seed: a[4].parse().unwrap(),
        tile: myelosim::bench::bdd::parse_tile(&a[2]).expect("tile WxHxD"),
        three_d: a[3] == "3d",
    };
    let r = bench_bdd(&cfg, p(1)).expect("thread pool");
    println!("{}", serde_json::to_string(&r).unwrap());
}

fn machine() -> (String, String) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
                    / 1048576.0
            })
        })
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let words: Vec<String> = cpu
        .replace("(R)", "")
        .replace("(TM)", "")
        .split_whitespace()
        .filter(|w| !matches!(*w, "CPU" | "Processor" | "@"))
        .map(|w| {
            w.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect()
        })
        .filter(|w: &String| !w.is_empty())
        .collect();
    let id = format!("{}core-{}", cores, words.join("-").to_lowercase());
    (id, format!("{cpu}; {cores} cores; {mem:.0} GiB RAM"))
}

fn write_results(cases: &[Case], res: &[Measured], runs: usize) {
    let (id, desc) = machine();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches/results")
        .join(&id);
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from(
        "case,size,three_d,threads,tile,sites,cell_updates,final_population,mcups_min,mcups_median,mcups_max,peak_rss_mib,bytes_per_site\n",
    );
    let mut md = format!(
        "# Scaling study: BDD-lattice-v1\n\nMachine: {desc}. {runs} runs per row (fresh process each), median shown; \
         regenerate with `cargo bench --bench scaling`.\n\n\
         | case | threads | M cell-updates/s (min / median / max) | speed-up vs 1 thread | peak RSS (MiB) | bytes/site |\n|---|---|---|---|---|---|\n"
    );
    for (i, (c, m)) in cases.iter().zip(res).enumerate() {
        let med = m.mcups[m.mcups.len() / 2];
        let bps = m.rss_mib * 1048576.0 / m.sites;
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{:.2},{:.2},{:.2},{:.1},{:.2}",
            c.label,
            c.size,
            c.three_d,
            c.threads,
            tile_str(c.tile),
            m.sites,
            m.cell_updates,
            m.final_population,
            m.mcups[0],
            med,
            m.mcups[m.mcups.len() - 1],
            m.rss_mib,
            bps
        );
        let speedup = if c.threads == 2 && i > 0 {
            let one = &res[i - 1].mcups;
            format!("{:.2}×", med / one[one.len() / 2])
        } else {
            "—".into()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} / {:.1} / {:.1} | {} | {:.1} | {:.2} |",
            c.label,
            c.threads,
            m.mcups[0],
            med,
            m.mcups[m.mcups.len() - 1],
            speedup,
            m.rss_mib,
            bps
        );
    }
    md.push_str("\nbytes/site is peak RSS divided by lattice sites, so small lattices are dominated by the fixed process size.\n\n![throughput](scaling.svg)\n");
    std::fs::write(dir.join("scaling.csv"), csv).unwrap();
    std::fs::write(dir.join("scaling.md"), md).unwrap();
    std::fs::write(dir.join("scaling.svg"), svg(cases, res, &desc)).unwrap();
    eprintln!("wrote {}", dir.display());
}

/// A small log-x line chart of median throughput against sites, one line per thread count.
/// Hand-written SVG: a benchmark script should not depend on the plotting stack it measures.
fn svg(cases: &[Case], res: &[Measured], desc: &str) -> String {
    let (w, h, l, r, t, b) = (720.0, 420.0, 70.0, 20.0, 40.0, 60.0);
    let pts: Vec<(f64, f64, usize, bool)> = cases
        .iter()
        .zip(res)
        .map(|(c, m)| (m.sites, m.mcups[m.mcups.len() / 2], c.threads, c.three_d))
        .collect();
    let xmin = pts
        .iter()
        .map(|p| p.0)
        .fold(f64::MAX, f64::min)
        .log10()
        .floor();
    let xmax = pts.iter().map(|p| p.0).fold(0.0, f64::max).log10().ceil();
    let ymax = (pts.iter().map(|p| p.1).fold(0.0, f64::max) / 50.0).ceil() * 50.0;
    let x = |v: f64| l + (v.log10() - xmin) / (xmax - xmin) * (w - l - r);
    let y = |v: f64| h - b - v / ymax * (h - t - b);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{l}\" y=\"20\" font-size=\"14\">BDD-lattice-v1 throughput ({desc})</text>"
    );
    for k in 0..=5 {
        let v = ymax * k as f64 / 5.0;
        let _ = write!(
            s,
            "<line x1=\"{l}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{v:.0}</text>",
            w - r,
            l - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    for e in xmin as i32..=xmax as i32 {
        let xv = x(10f64.powi(e));
        let _ = write!(
            s,
            "<line x1=\"{xv}\" x2=\"{xv}\" y1=\"{t}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{xv}\" y=\"{}\" text-anchor=\"middle\">10^{e}</text>",
            h - b,
            h - b + 16.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">lattice sites (log scale)</text>",
        (l + w - r) / 2.0,
        h - 15.0
    );
    let _ = write!(
        s,
        "<text transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\">M cell-updates / s (median)</text>",
        (t + h - b) / 2.0
    );
    for (threads, colour) in [(1usize, "#1b9e77"), (2, "#d95f02")] {
        let line: Vec<String> = pts
            .iter()
            .filter(|p| p.2 == threads && !p.3)
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
            .collect();
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            line.join(" ")
        );
        for p in pts.iter().filter(|p| p.2 == threads) {
            let shape = if p.3 {
                format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"8\" height=\"8\" fill=\"{colour}\"/>",
                    x(p.0) - 4.0,
                    y(p.1) - 4.0
                )
            } else {
                format!(
                    "<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{colour}\"/>",
                    x(p.0),
                    y(p.1)
                )
            };
            s.push_str(&shape);
        }
        let ly = t + 10.0 + 18.0 * threads as f64;
        let _ = write!(
            s,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{threads} thread{} (● 2D, ■ 3D)</text>",
            w - 230.0,
            w - 205.0,
            w - 200.0,
            ly + 4.0,
            if threads > 1 { "s" } else { "" }
        );
    }
    s.push_str("</svg>\n");
    s
}

/// `[w, h, d]` as `WxHxD` (the form `parse_tile` reads back).
fn tile_str(t: [usize; 3]) -> String {
    format!("{}x{}x{}", t[0], t[1], t[2])
}
