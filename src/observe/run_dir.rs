//! Run directories: where one run's outputs land, and UTC timestamps without a date crate.
//!
//! Default layout `<root>/<scenario-name>/<run-id>/` with run-id `YYYYmmdd-HHMMSS-s<seed>`
//! (UTC), suffixed `-2`, `-3`, … when taken. The leaf is made with `create_dir`, which fails if
//! it exists, so two concurrent runs can never share a directory and no run is overwritten.
//! An explicit `--out DIR` is used as is when absent or empty, and refused otherwise.
//!
//! Reads: the system clock (only for names), existing directory entries. Writes: directories.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why an output directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// `--out` names a directory that already holds files.
    #[error("output directory `{}` exists and is not empty; choose a new or empty directory", .0.display())]
    NotEmpty(PathBuf),
    /// `--out` names something that is not a directory.
    #[error("output path `{}` exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The file system refused.
    #[error("cannot create output directory `{}`: {source}", path.display())]
    Io {
        /// The directory being created or inspected.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
}

impl RunDirError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A UTC calendar time to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcTime {
    /// Year (proleptic Gregorian).
    pub year: i64,
    /// Month 1–12.
    pub month: u32,
    /// Day of month 1–31.
    pub day: u32,
    /// Hour 0–23.
    pub hour: u32,
    /// Minute 0–59.
    pub minute: u32,
    /// Second 0–59 (no leap seconds: Unix time has none).
    pub second: u32,
}

impl UtcTime {
    /// The calendar time of `t` (times before 1970 are clamped to the epoch).
    pub fn from_system(t: SystemTime) -> Self {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0) as i64;
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400) as u32;
        Self {
            year,
            month,
            day,
            hour: s / 3600,
            minute: s / 60 % 60,
            second: s % 60,
        }
    }

    /// ISO 8601, e.g. `2025-03-01T14:05:09Z`.
    pub fn iso8601(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Compact form for names, e.g. `20250301-140509`.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Civil date `(year, month, day)` of a day count since 1970-01-01 (H. Hinnant's algorithm,
/// exact for the proleptic Gregorian calendar). Avoids a date crate for one conversion.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The run id `YYYYmmdd-HHMMSS-s<seed>` for a run started at `t`.
pub fn run_id(t: SystemTime, seed: u64) -> String {
    format!("{}-s{seed}", UtcTime::from_system(t).compact())
}

/// A scenario name made safe as one path component (`[A-Za-z0-9._-]`, others become `_`).
pub fn safe_component(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        format!("_{s}")
    } else {
        s
    }
}

/// Creates a fresh run directory `<root>/<scenario>/<run-id>[-k]` and returns its path.
pub fn create_run_dir(
    root: &Path,
    scenario: &str,
    seed: u64,
    now: SystemTime,
) -> Result<PathBuf, RunDirError> {
    let parent = root.join(safe_component(scenario));
    std::fs::create_dir_all(&parent).map_err(RunDirError::io(&parent))?;
    let id = run_id(now, seed);
    for k in 1u32.. {
        let dir = if k == 1 {
            parent.join(&id)
        } else {
            parent.join(format!("{id}-{k}"))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(RunDirError::io(&dir)(e)),
        }
    }
    unreachable!("u32 run-id suffixes exhausted")
}

/// Checks that `dir` can take a run (absent, or an empty directory) without creating it.
pub fn check_out_dir(dir: &Path) -> Result<(), RunDirError> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RunDirError::io(dir)(e)),
        Ok(m) if !m.is_dir() => Err(RunDirError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(RunDirError::io(dir))?;
            if entries.next().is_some() {
                Err(RunDirError::NotEmpty(dir.to_path_buf()))
            } else {
                Ok(())
            }
        }
    }
}

/// Makes `dir` ready for a run: creates it (and its parents) if absent; refuses it if it exists
/// and is not an empty directory. Claiming the directory is completed by creating the first
/// output file with `create_new` (see `manifest::Manifest::claim`), which loses a race cleanly.
pub fn prepare_out_dir(dir: &Path) -> Result<PathBuf, RunDirError> {
    check_out_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(RunDirError::io(dir))?;
    check_out_dir(dir)?;
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn civil_from_days_matches_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1)); // 2100 is not a leap year
    }

    #[test]
    fn run_id_is_utc_compact_with_seed() {
        // 2024-02-29T13:04:05Z
        let t = UNIX_EPOCH + Duration::from_secs(19_782 * 86_400 + 13 * 3600 + 4 * 60 + 5);
        assert_eq!(run_id(t, 42), "20240229-130405-s42");
        assert_eq!(UtcTime::from_system(t).iso8601(), "2024-02-29T13:04:05Z");
    }

    #[test]
    fn unsafe_scenario_names_become_one_component() {
        assert_eq!(safe_component("a/b c"), "a_b_c");
        assert_eq!(safe_component(".."), "_..");
        assert_eq!(safe_component(""), "_");
        assert_eq!(safe_component("tiny-2.v1"), "tiny-2.v1");
    }

    #[test]
    fn taken_run_ids_get_numeric_suffixes() {
        let root = std::env::temp_dir().join(format!("myelosim-rundir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let t = UNIX_EPOCH + Duration::from_secs(1);
        let a = create_run_dir(&root, "x", 7, t).unwrap();
        let b = create_run_dir(&root, "x", 7, t).unwrap();
        let c = create_run_dir(&root, "x", 7, t).unwrap();
        assert!(a.ends_with("x/19700101-000001-s7"));
        assert!(b.ends_with("x/19700101-000001-s7-2"));
        assert!(c.ends_with("x/19700101-000001-s7-3"));
        std::fs::write(a.join("f"), "").unwrap();
        assert!(matches!(prepare_out_dir(&a), Err(RunDirError::NotEmpty(_))));
        assert!(prepare_out_dir(&b).is_ok());
        assert!(prepare_out_dir(&root.join("new/deep")).is_ok());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
