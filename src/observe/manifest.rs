//! `manifest.json`: what a run was (scenario echo, seed, version, commit, threads) and how it
//! went (status, timings per stage, throughput, error, files written).
//!
//! Written at start with status `running`, then rewritten once at the end with `complete`,
//! `failed` or `interrupted`; a manifest still saying `running` means the process died.
//! Every write goes to a temporary file that is then renamed over the manifest, so readers
//! never see half a manifest.
//!
//! Reads: nothing. Writes: `<run dir>/manifest.json` (via `.manifest.json.tmp`).

use std::io::{self, Write};
use std::path::Path;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// File name of the manifest inside a run directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The commit this binary was built from (`<sha>[-dirty]` or `unknown`), set by `build.rs`.
pub const GIT_COMMIT: &str = env!("MYELOSIM_GIT_COMMIT");

/// The crate version of this binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How a run stands or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Started; still running (or the process died without finishing the manifest).
    Running,
    /// Reached the end of the scenario.
    Complete,
    /// Stopped by an error; `error` says which.
    Failed,
    /// Stopped on request (Ctrl-C); outputs hold everything up to that step.
    Interrupted,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Running => "running",
            Status::Complete => "complete",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        })
    }
}

/// The scenario echo.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioEcho {
    /// Scenario name.
    pub name: String,
    /// File path or `<built-in default>`.
    pub origin: String,
    /// `--set` overrides as given (including `run.seed=N` from `--seed`).
    pub overrides: Vec<String>,
    /// The effective TOML text, overrides applied.
    pub text: String,
}

/// Seconds per pipeline stage, serialised as a JSON object in pipeline order.
#[derive(Clone, Debug, Default)]
pub struct StageSeconds(pub Vec<(String, f64)>);

impl Serialize for StageSeconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The contents of `manifest.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// How the run stands or ended.
    pub status: Status,
    /// Crate version.
    pub myelosim_version: String,
    /// Git commit of the build (`<sha>[-dirty]` or `unknown`).
    pub git_commit: String,
    /// What was run.
    pub scenario: ScenarioEcho,
    /// Master seed.
    pub seed: u64,
    /// Worker threads of the run's pool.
    pub threads: usize,
    /// Step length [h].
    pub dt_h: f64,
    /// Steps the scenario asks for.
    pub steps_planned: u64,
    /// Steps completed.
    pub steps_done: u64,
    /// Simulated time reached [d].
    pub simulated_days: f64,
    /// Start time, ISO 8601 UTC.
    pub started_utc: String,
    /// End time, ISO 8601 UTC (absent while running).
    pub finished_utc: Option<String>,
    /// Wall-clock duration of the whole run [s].
    pub wall_seconds: f64,
    /// Wall-clock seconds per pipeline stage, in pipeline order.
    pub stage_seconds: StageSeconds,
    /// Steps per wall-clock second over the stepping loop.
    pub steps_per_second: f64,
    /// Lattice sites advanced per wall-clock second (steps/s × sites).
    pub site_steps_per_second: f64,
    /// The error message when `status` is `failed`.
    pub error: Option<String>,
    /// Files written into the run directory (relative names).
    pub outputs: Vec<String>,
    /// Problems met while drawing snapshots, plots or the report (the run itself is kept).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub render_errors: Vec<String>,
    /// Wall-clock seconds spent drawing plots and the report after the run.
    pub render_seconds: f64,
}

impl Manifest {
    /// Pretty JSON text with a trailing newline.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        let mut s = serde_json::to_string_pretty(self).expect("manifest serialises to JSON");
        s.push('\n');
        s
    }

    /// Creates `dir/manifest.json` only if it does not exist yet (`create_new`): claims an
    /// output directory so that a second run racing for it fails instead of sharing it.
    pub fn claim(&self, dir: &Path) -> io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(MANIFEST_FILE))?;
        f.write_all(self.to_json().as_bytes())?;
        f.sync_all()
    }

    /// Replaces `dir/manifest.json` atomically (temporary file, then rename).
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join(".manifest.json.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.to_json().as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(MANIFEST_FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_seconds_keep_pipeline_order_and_status_is_lowercase() {
        let m = Manifest {
            status: Status::Interrupted,
            myelosim_version: VERSION.into(),
            git_commit: GIT_COMMIT.into(),
            scenario: ScenarioEcho {
                name: "n".into(),
                origin: "o".into(),
                overrides: vec![],
                text: String::new(),
            },
            seed: 1,
            threads: 1,
            dt_h: 1.0,
            steps_planned: 1,
            steps_done: 0,
            simulated_days: 0.0,
            started_utc: String::new(),
            finished_utc: None,
            wall_seconds: 0.0,
            stage_seconds: StageSeconds(vec![("zeta".into(), 1.0), ("alpha".into(), 2.0)]),
            steps_per_second: 0.0,
            site_steps_per_second: 0.0,
            error: None,
            outputs: vec![],
            render_errors: vec![],
            render_seconds: 0.0,
        };
        let j = m.to_json();
        assert!(j.contains("\"status\": \"interrupted\""));
        assert!(j.find("zeta").unwrap() < j.find("alpha").unwrap());
    }
}
