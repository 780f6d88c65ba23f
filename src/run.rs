//! The run driver: one scenario, start to finish, into a fresh run directory.
//!
//! [`run`] builds a rayon pool of the requested size, builds the [`Model`] inside it, creates
//! the run directory, writes `manifest.json` (`running`), then steps until the scenario ends
//! or the caller's cancel flag is set, feeding a [`CsvObserver`] and a [`Progress`] bar. However
//! the run ends, everything recorded is flushed and the manifest is rewritten with the final
//! status (`complete`, `interrupted` or `failed` with the error), timings and files written.
//!
//! The library never reads argv, calls `exit` or installs signal handlers: the binary owns
//! the cancel flag and maps [`RunError`] to exit codes.
//!
//! Reads: a validated [`Scenario`], [`RunOptions`], the cancel flag. Writes: a run directory
//! with `manifest.json`, `timeseries.csv`, `events.csv`; a progress bar on a terminal.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use crate::model::{Model, ModelError};
use crate::observe::csv_out::CsvObserver;
use crate::observe::manifest::{
    GIT_COMMIT, MANIFEST_FILE, Manifest, ScenarioEcho, StageSeconds, Status, VERSION,
};
use crate::observe::progress::Progress;
use crate::observe::run_dir::{self, RunDirError, UtcTime};
use crate::observe::{Event, Frame, Observer};
use crate::render::{self, background::BackgroundSnapshots, snapshot::SnapshotObserver};
use crate::scenario::Scenario;

/// How to run (everything that is not part of the scenario).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker threads; `None` (or `Some(0)`) = the machine's available parallelism.
    /// Results do not depend on it.
    pub threads: Option<usize>,
    /// Write exactly into this directory (created if absent; refused if not empty).
    pub out: Option<PathBuf>,
    /// Root of the default layout `<root>/<scenario-name>/<run-id>/`.
    pub output_root: PathBuf,
    /// No progress bar.
    pub quiet: bool,
}

impl Default for RunOptions {
    /// Default threads, default layout under `output/`, progress bar on a terminal.
    fn default() -> Self {
        Self {
            threads: None,
            out: None,
            output_root: PathBuf::from("output"),
            quiet: false,
        }
    }
}

/// What a finished (complete or interrupted) run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// The run directory.
    pub dir: PathBuf,
    /// `Complete` or `Interrupted` (failures are [`RunError::Failed`]).
    pub status: Status,
    /// Steps completed.
    pub steps_done: u64,
    /// Steps the scenario asked for.
    pub steps_planned: u64,
    /// Simulated time reached [d].
    pub simulated_days: f64,
    /// Wall-clock duration [s].
    pub wall_seconds: f64,
    /// Worker threads used.
    pub threads: usize,
}

/// Why a run did not complete or could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The output directory cannot be used (e.g. `--out` is not empty).
    #[error(transparent)]
    OutputDir(#[from] RunDirError),
    /// The model could not be built from the scenario (e.g. unreadable bone mask).
    #[error("cannot set up the model: {0}")]
    Setup(#[source] ModelError),
    /// The thread pool could not be started.
    #[error("cannot start {threads} worker threads: {source}")]
    ThreadPool {
        /// Threads requested.
        threads: usize,
        /// Rayon's error.
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    /// The run started and then failed; the manifest says `failed` and what was recorded
    /// up to the failure is on disk.
    #[error("run failed after {steps_done} steps: {source} (partial outputs in `{}`)", dir.display())]
    Failed {
        /// The run directory.
        dir: PathBuf,
        /// Steps completed before the failure.
        steps_done: u64,
        /// What went wrong.
        #[source]
        source: ModelError,
    },
    /// The manifest could not be written.
    #[error("cannot write `{}`: {source}", dir.join(MANIFEST_FILE).display())]
    Manifest {
        /// The run directory.
        dir: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
}

impl RunError {
    /// True when the cause is the user's input (scenario or options), not the run itself:
    /// the binary exits with 2 for these and 1 otherwise.
    pub fn is_bad_input(&self) -> bool {
        match self {
            RunError::OutputDir(e) => !matches!(e, RunDirError::Io { .. }),
            RunError::Setup(_) => true,
            _ => false,
        }
    }

    /// The run directory, when one was created.
    pub fn run_dir(&self) -> Option<&Path> {
        match self {
            RunError::Failed { dir, .. } | RunError::Manifest { dir, .. } => Some(dir),
            _ => None,
        }
    }
}

/// Runs `scenario` to its end, or until `cancel` becomes true (checked between steps).
///
/// Returns the summary of a complete or interrupted run; a run that fails after its directory
/// exists returns [`RunError::Failed`], with the manifest saying `failed`.
pub fn run(
    scenario: &Scenario,
    opts: &RunOptions,
    cancel: &AtomicBool,
) -> Result<RunSummary, RunError> {
    let threads = match opts.threads {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // Refuse an unusable --out before spending time on the model.
    if let Some(out) = &opts.out {
        run_dir::check_out_dir(out)?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("myelosim-{i}"))
        .build()
        .map_err(|source| RunError::ThreadPool { threads, source })?;
    pool.install(|| run_in_pool(scenario, opts, cancel, pool.current_num_threads()))
}

/// How the stepping loop ended.
enum Ending {
    Complete,
    Interrupted,
}

fn run_in_pool(
    scenario: &Scenario,
    opts: &RunOptions,
    cancel: &AtomicBool,
    threads: usize,
) -> Result<RunSummary, RunError> {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let mut model = Model::new(scenario).map_err(RunError::Setup)?;
    let dir = match &opts.out {
        Some(out) => run_dir::prepare_out_dir(out)?,
        None => run_dir::create_run_dir(&opts.output_root, &scenario.name, scenario.seed, started)?,
    };
    let mut manifest = Manifest {
        status: Status::Running,
        myelosim_version: VERSION.to_string(),
        git_commit: GIT_COMMIT.to_string(),
        scenario: ScenarioEcho {
            name: scenario.name.clone(),
            origin: scenario.origin.clone(),
            overrides: scenario.overrides.clone(),
            text: scenario.source_text.clone(),
        },
        seed: scenario.seed,
        threads,
        dt_h: scenario.dt_h,
        steps_planned: scenario.steps,
        steps_done: 0,
        simulated_days: 0.0,
        started_utc: UtcTime::from_system(started).iso8601(),
        finished_utc: None,
        wall_seconds: 0.0,
        stage_seconds: stage_seconds(&model),
        steps_per_second: 0.0,
        site_steps_per_second: 0.0,
        error: None,
        outputs: vec![MANIFEST_FILE.to_string()],
        render_errors: vec![],
        render_seconds: 0.0,
    };
    // create_new: a concurrent run that raced us to the same --out directory loses here.
    manifest.claim(&dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            RunError::OutputDir(RunDirError::NotEmpty(dir.clone()))
        }
        _ => RunError::Manifest {
            dir: dir.clone(),
            source: e,
        },
    })?;

    let mut progress = Progress::new(scenario.steps, opts.quiet);
    let mut loop_seconds = 0.0;
    let mut loop_steps = 0;
    let every = scenario.output.snapshot_every_steps;
    let expected_frames = scenario.steps.checked_div(every).map_or(0, |n| n + 2);
    let mut snaps = BackgroundSnapshots::spawn(SnapshotObserver::new(&dir, expected_frames));
    let outcome: Result<Ending, ModelError> = (|| {
        let mut csv = CsvObserver::create(&dir, model.columns())?;
        manifest
            .outputs
            .extend(CsvObserver::files().iter().map(|f| f.to_string()));
        let result = drive(
            &mut model,
            &mut Fanout {
                csv: &mut csv,
                snaps: &mut snaps,
            },
            cancel,
            &mut progress,
            &mut loop_seconds,
            &mut loop_steps,
        );
        // Snapshot problems never fail the run: they are logged as events.
        snaps.finish();
        for e in &snaps.errors() {
            csv.on_event(&Event {
                step: model.steps_done(),
                time_d: model.time_d(),
                kind: "render_error".into(),
                detail: e.clone(),
            })?;
        }
        // Flush whatever happened; a flush error only matters if nothing failed before it.
        let flushed = csv.finish();
        let ending = result?;
        flushed?;
        Ok(ending)
    })();
    snaps.finish(); // also when the run failed before the closure reached it
    manifest.outputs.extend(snaps.files());
    manifest.render_errors.extend(snaps.errors());
    // Clone table, per-clone series and tree (issue 5), also after a failed or stopped run.
    match model.write_clone_outputs(&dir) {
        Ok(files) => manifest.outputs.extend(files),
        Err(e) => manifest.render_errors.push(format!("clone outputs: {e}")),
    }
    progress.finish();

    let (status, error) = match &outcome {
        Ok(Ending::Complete) => (Status::Complete, None),
        Ok(Ending::Interrupted) => (Status::Interrupted, None),
        Err(e) => (Status::Failed, Some(e.to_string())),
    };
    let wall_seconds = t0.elapsed().as_secs_f64();
    let steps_per_second = if loop_seconds > 0.0 {
        loop_steps as f64 / loop_seconds
    } else {
        0.0
    };
    let sites: usize = scenario.space.dims.iter().product();
    manifest.status = status;
    manifest.steps_done = model.steps_done();
    manifest.simulated_days = model.time_d();
    manifest.finished_utc = Some(UtcTime::from_system(SystemTime::now()).iso8601());
    manifest.wall_seconds = wall_seconds;
    manifest.stage_seconds = stage_seconds(&model);
    manifest.steps_per_second = steps_per_second;
    manifest.site_steps_per_second = steps_per_second * sites as f64;
    manifest.error = error;
    manifest.write(&dir).map_err(|source| RunError::Manifest {
        dir: dir.clone(),
        source,
    })?;
    // Treatment milestones (issue 4) from the CSVs on disk; problems are recorded.
    match crate::observe::milestones::write(&dir) {
        Ok(true) => manifest.outputs.push("milestones.csv".into()),
        Ok(false) => {}
        Err(e) => manifest.render_errors.push(format!("milestones: {e}")),
    }
    // Plots and the report, from what is on disk; problems are recorded, never fatal.
    let drawn = render::render_run(&dir);
    manifest.outputs.extend(drawn.files);
    manifest.render_errors.extend(drawn.errors);
    manifest.render_seconds = drawn.seconds;
    manifest.write(&dir).map_err(|source| RunError::Manifest {
        dir: dir.clone(),
        source,
    })?;

    match outcome {
        Err(source) => Err(RunError::Failed {
            dir,
            steps_done: model.steps_done(),
            source,
        }),
        Ok(_) => Ok(RunSummary {
            dir,
            status,
            steps_done: model.steps_done(),
            steps_planned: scenario.steps,
            simulated_days: model.time_d(),
            wall_seconds,
            threads,
        }),
    }
}

/// Writes the start, steps until done or cancelled; on cancel logs `interrupted` and records
/// the current row if the last recorded one is older.
fn drive(
    model: &mut Model,
    obs: &mut dyn Observer,
    cancel: &AtomicBool,
    progress: &mut Progress,
    loop_seconds: &mut f64,
    loop_steps: &mut u64,
) -> Result<Ending, ModelError> {
    model.begin(obs)?;
    let t = Instant::now();
    let mut ending = Ending::Complete;
    while !model.is_done() {
        if cancel.load(Ordering::Relaxed) {
            ending = Ending::Interrupted;
            break;
        }
        let r = model.step(obs);
        *loop_steps += 1;
        *loop_seconds = t.elapsed().as_secs_f64();
        r?;
        progress.update(model.steps_done(), model.time_d());
    }
    *loop_seconds = t.elapsed().as_secs_f64();
    if let Ending::Interrupted = ending {
        let step = model.steps_done();
        if step % model.scenario().record_every_steps != 0 {
            let row = model.row();
            obs.on_record(model.columns(), &row)?;
        }
        if model.scenario().output.snapshot_every_steps > 0 && !model.frame_due() {
            obs.on_frame(&model.frame())?;
        }
        obs.on_event(&Event {
            step,
            time_d: model.time_d(),
            kind: "interrupted".into(),
            detail: format!("stopped on request after step {step}"),
        })?;
    }
    Ok(ending)
}

/// Rows and events to the CSV files, frames to the snapshots.
struct Fanout<'a> {
    csv: &'a mut CsvObserver,
    snaps: &'a mut BackgroundSnapshots,
}

impl Observer for Fanout<'_> {
    fn on_record(
        &mut self,
        columns: &[String],
        row: &[crate::observe::Value],
    ) -> std::io::Result<()> {
        self.csv.on_record(columns, row)
    }
    fn on_event(&mut self, event: &Event) -> std::io::Result<()> {
        self.csv.on_event(event)
    }
    fn on_frame(&mut self, frame: &Frame<'_>) -> std::io::Result<()> {
        self.snaps.on_frame(frame)
    }
}

/// The model's stage timers as manifest entries, in pipeline order.
fn stage_seconds(model: &Model) -> StageSeconds {
    StageSeconds(
        model
            .timers()
            .named()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}
