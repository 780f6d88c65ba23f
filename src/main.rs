//! The `myelosim` command line: parses arguments, calls the library, maps outcomes to exit
//! codes. Nothing else lives here.
//!
//! Reads: argv, scenario files (via the library), Ctrl-C. Writes: the run directory path as
//! the last stdout line of `run`; `check` reports on stdout; `plot` redraws a run's plots and
//! report (listing the files on stdout); errors as one paragraph on stderr.
//!
//! Exit codes: 0 complete, 1 run failed, 2 bad input (scenario errors, unusable `--out`,
//! usage errors), 130 interrupted by Ctrl-C (the shell convention 128 + SIGINT).

use std::error::Error;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};
use myelosim::bench::bdd::BddConfig;
use myelosim::bench::report::{bench_bdd, bench_model};
use myelosim::observe::manifest::Status;
use myelosim::run::{self, RunOptions};
use myelosim::scenario::{self, Scenario, ScenarioError};

/// Set by the Ctrl-C handler; the run stops cleanly between steps.
static CANCEL: AtomicBool = AtomicBool::new(false);

const EXIT_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_INTERRUPTED: u8 = 130;

/// Agent-based simulator of multiple myeloma in the bone marrow.
#[derive(Parser)]
#[command(
    name = "myelosim",
    version,
    about,
    after_help = "Exit codes: 0 complete, 1 run failed, 2 bad input (scenario, options), \
                  130 interrupted (Ctrl-C; outputs are flushed and the manifest says \
                  \"interrupted\")."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario; prints the run directory as the last line on stdout.
    Run(RunArgs),
    /// Validate a scenario and print its resolved settings and dimensionless numbers.
    Check(CheckArgs),
    /// Redraw the plots and report.html of a finished run from its CSVs and manifest
    /// (snapshots and the GIF need the lattice and are kept as they are).
    Plot(PlotArgs),
    /// Print the treatment milestones of a finished run (diagnosis, end of induction, ASCT
    /// day +14 and +100, 1 and 3 years from the start of treatment) as CSV.
    Summary(PlotArgs),
    /// Measure throughput: the BDD-lattice-v1 reference model or a full-model scenario.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// BDD-lattice-v1 (shared/bench/REFERENCE_MODEL.md) through the engine's own sweep.
    Bdd(BddArgs),
    /// Time a full-model scenario: site-steps/s, simulated days/s, time per stage.
    Model(BenchModelArgs),
}

#[derive(Args)]
struct BddArgs {
    /// Lattice edge N (N×N sites).
    #[arg(long, default_value_t = 1024)]
    size: usize,
    /// Worker threads; results are identical for any count.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Steps (the reference uses 300).
    #[arg(long, default_value_t = 300)]
    steps: u64,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Tile shape of the fixed parallel partition [sites]: `W`, `WxH` or `WxHxD`
    /// (default by lattice size, `bench::bdd::default_tile`: 256x16 up to N = 1024, then
    /// wider and flatter; wide tiles avoid L1 set aliasing on power-of-two rows).
    #[arg(long, value_parser = parse_tile_arg)]
    tile: Option<[usize; 3]>,
    /// Run the 3D variant (N×N×N sites, 6 neighbours; not part of the reference).
    #[arg(long)]
    three_d: bool,
    /// Print one JSON object as the last line.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct BenchModelArgs {
    /// Scenario file; the built-in default when omitted.
    scenario: Option<PathBuf>,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Override a scenario key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Print one JSON object as the last line.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PlotArgs {
    /// A run directory (holding manifest.json and timeseries.csv).
    run_dir: PathBuf,
}

#[derive(Args)]
struct RunArgs {
    /// Scenario file (TOML); the built-in default scenario when omitted.
    scenario: Option<PathBuf>,
    /// Master seed (same as `--set run.seed=N`).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Worker threads [default: available parallelism]; results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
    /// Write outputs exactly into DIR (created if absent; refused if not empty).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Root of the default layout ROOT/<scenario-name>/<run-id>/.
    #[arg(long, value_name = "ROOT", default_value = "output")]
    output_root: PathBuf,
    /// Override a scenario key, e.g. `--set myeloma.initial_cells=50` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// No progress bar and no summary line (the run directory is still printed).
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct CheckArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Override a scenario key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

fn main() -> ExitCode {
    // Usage errors exit 2 through clap (its default), help/version exit 0.
    let cli = Cli::parse();
    match cli.command {
        Command::Run(a) => cmd_run(a),
        Command::Check(a) => cmd_check(a),
        Command::Plot(a) => cmd_plot(a),
        Command::Summary(a) => cmd_summary(a),
        Command::Bench(BenchCommand::Bdd(a)) => cmd_bench_bdd(a),
        Command::Bench(BenchCommand::Model(a)) => cmd_bench_model(a),
    }
}

fn parse_tile_arg(s: &str) -> Result<[usize; 3], String> {
    myelosim::bench::bdd::parse_tile(s)
        .ok_or_else(|| format!("expected W, WxH or WxHxD (sites), got `{s}`"))
}

fn cmd_bench_bdd(a: BddArgs) -> ExitCode {
    if a.size < 8 || a.threads == 0 || a.tile.is_some_and(|t| t.iter().any(|&e| e < 3)) {
        eprintln!("myelosim: bench bdd needs --size ≥ 8, --threads ≥ 1 and --tile ≥ 3");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let cfg = BddConfig {
        size: a.size,
        steps: a.steps,
        seed: a.seed,
        tile: a
            .tile
            .unwrap_or_else(|| myelosim::bench::bdd::default_tile(a.size, a.three_d)),
        three_d: a.three_d,
    };
    let r = match bench_bdd(&cfg, a.threads) {
        Ok(r) => r,
        Err(e) => return report(&e, EXIT_FAILED),
    };
    println!(
        "BDD-lattice-v1 N={} threads={} steps={}: {} cell-updates in {:.3} s = {:.1} M cell-updates/s; \
         population t=100 {}, t=150 {}, final {}; peak RSS {}",
        r.size,
        r.threads,
        r.steps,
        r.cell_updates,
        r.seconds,
        r.mcups,
        r.population_t100,
        r.population_t150,
        r.final_population,
        r.peak_rss_mib
            .map_or("n/a".to_string(), |m| format!("{m:.1} MiB"))
    );
    if a.json {
        println!("{}", serde_json::to_string(&r).expect("report serialises"));
    }
    ExitCode::SUCCESS
}

fn cmd_bench_model(a: BenchModelArgs) -> ExitCode {
    if a.threads == 0 {
        eprintln!("myelosim: bench model needs --threads ≥ 1");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let s = match load(a.scenario.as_ref(), &a.set) {
        Ok(s) => s,
        Err(e) => return report(&e, EXIT_BAD_INPUT),
    };
    let r = match bench_model(&s, a.threads) {
        Ok(r) => r,
        Err(e) => return report(&e, EXIT_FAILED),
    };
    println!(
        "{}: {} sites × {} steps ({:.0} d) on {} threads in {:.2} s (+{:.2} s set-up): \
         {:.3e} site-steps/s, {:.1} simulated days/s",
        r.scenario,
        r.sites,
        r.steps,
        r.simulated_days,
        r.threads,
        r.seconds,
        r.setup_seconds,
        r.site_steps_per_second,
        r.simulated_days_per_second
    );
    println!("{:<26} {:>10} {:>14}", "stage", "seconds", "ns/site-step");
    for ((name, secs), (_, ns)) in r.stage_seconds.iter().zip(&r.stage_ns_per_site_step) {
        println!("{name:<26} {secs:>10.3} {ns:>14.2}");
    }
    if a.json {
        println!("{}", serde_json::to_string(&r).expect("report serialises"));
    }
    ExitCode::SUCCESS
}

fn load(path: Option<&PathBuf>, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    match path {
        Some(p) => scenario::load_file(p, overrides),
        None => scenario::load_default(overrides),
    }
}

fn cmd_run(a: RunArgs) -> ExitCode {
    let mut overrides = a.set;
    if let Some(seed) = a.seed {
        overrides.push(format!("run.seed={seed}"));
    }
    let scenario = match load(a.scenario.as_ref(), &overrides) {
        Ok(s) => s,
        Err(e) => return report(&e, EXIT_BAD_INPUT),
    };
    if let Err(e) = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            // Second Ctrl-C: the user insists; stop now without flushing.
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("\nmyelosim: stopping after the current step (Ctrl-C again to abort)");
    }) {
        eprintln!("myelosim: warning: cannot install the Ctrl-C handler: {e}");
    }
    let opts = RunOptions {
        threads: a.threads.map(NonZeroUsize::get),
        out: a.out,
        output_root: a.output_root,
        quiet: a.quiet,
    };
    match run::run(&scenario, &opts, &CANCEL) {
        Ok(s) => {
            let interrupted = s.status == Status::Interrupted;
            if interrupted {
                eprintln!(
                    "myelosim: interrupted after {} of {} steps ({} d simulated); outputs are complete up to there",
                    s.steps_done, s.steps_planned, s.simulated_days
                );
            } else if !opts.quiet {
                println!(
                    "{}: {} steps ({} d simulated) on {} threads in {:.2} s",
                    scenario.name, s.steps_done, s.simulated_days, s.threads, s.wall_seconds
                );
            }
            println!("{}", s.dir.display());
            ExitCode::from(if interrupted { EXIT_INTERRUPTED } else { 0 })
        }
        Err(e) => {
            let code = if e.is_bad_input() {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILED
            };
            let code = report(&e, code);
            if let Some(dir) = e.run_dir() {
                println!("{}", dir.display());
            }
            code
        }
    }
}

fn cmd_plot(a: PlotArgs) -> ExitCode {
    let d = &a.run_dir;
    if !d.join("timeseries.csv").is_file() && !d.join("manifest.json").is_file() {
        eprintln!(
            "myelosim: error: `{}` is not a run directory (no manifest.json or timeseries.csv)",
            d.display()
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let out = myelosim::render::render_run(d);
    for f in &out.files {
        println!("{}", d.join(f).display());
    }
    for e in &out.errors {
        eprintln!("myelosim: warning: {e}");
    }
    if out.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

fn cmd_summary(a: PlotArgs) -> ExitCode {
    match myelosim::observe::milestones::milestones(&a.run_dir) {
        Ok(ms) if ms.is_empty() => {
            eprintln!(
                "myelosim: error: `{}` has no treatment start in events.csv",
                a.run_dir.display()
            );
            ExitCode::from(EXIT_BAD_INPUT)
        }
        Ok(ms) => {
            print!("{}", myelosim::observe::milestones::to_csv(&ms));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("myelosim: error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn cmd_check(a: CheckArgs) -> ExitCode {
    match scenario::load_file(&a.scenario, &a.set) {
        Ok(s) => {
            print!("{}", scenario::describe::describe(&s));
            ExitCode::SUCCESS
        }
        Err(e) => report(&e, EXIT_BAD_INPUT),
    }
}

/// Prints an error and its causes as one paragraph on stderr (skipping causes whose text the
/// message already contains) and returns `code`.
fn report(e: &dyn Error, code: u8) -> ExitCode {
    let mut msg = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        cause = c.source();
    }
    eprintln!("myelosim: error: {msg}");
    ExitCode::from(code)
}
