//! Reading a run's outputs back for plotting: `timeseries.csv` (numeric columns, plus text
//! columns such as `response`), `events.csv`, `clones.csv` (if present) and `manifest.json`.
//! Missing files or columns are not errors: plots use what exists.
//!
//! Reads: `<run dir>/{timeseries,events,clones}.csv`, `<run dir>/manifest.json`.
//! Writes: nothing.

use std::path::Path;

/// A CSV table: column names and, per column, its values as text.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Header names.
    pub columns: Vec<String>,
    /// Rows of text cells (short rows are padded with empty cells).
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a CSV file; `Ok(None)` when it does not exist.
    pub fn read(path: &Path) -> Result<Option<Self>, String> {
        if !path.exists() {
            return Ok(None);
        }
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let columns: Vec<String> = r
            .headers()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            // A truncated last line (interrupted run) is skipped, not fatal.
            let Ok(rec) = rec else { continue };
            let mut row: Vec<String> = rec.iter().map(str::to_string).collect();
            row.resize(columns.len(), String::new());
            rows.push(row);
        }
        Ok(Some(Self { columns, rows }))
    }

    /// Index of a column.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// A numeric column (unparsable cells become NaN); `None` if absent or entirely non-numeric.
    pub fn num(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.index(name)?;
        let v: Vec<f64> = self
            .rows
            .iter()
            .map(|r| r[k].trim().parse::<f64>().unwrap_or(f64::NAN))
            .collect();
        v.iter().any(|x| x.is_finite()).then_some(v)
    }

    /// A text column.
    pub fn text(&self, name: &str) -> Option<Vec<&str>> {
        let k = self.index(name)?;
        Some(self.rows.iter().map(|r| r[k].as_str()).collect())
    }
}

/// One row of `events.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    /// Simulated time [d].
    pub time_d: f64,
    /// Event kind (`start`, `dose`, `phase`, `response`, `progression`, …).
    pub kind: String,
    /// Free text.
    pub detail: String,
}

/// Everything a run left that plots and the report use.
#[derive(Clone, Debug, Default)]
pub struct RunData {
    /// `timeseries.csv`, if present.
    pub ts: Option<Table>,
    /// `events.csv` rows (empty if absent).
    pub events: Vec<EventRow>,
    /// `clones.csv`, if present.
    pub clones: Option<Table>,
    /// `manifest.json`, if present and valid JSON.
    pub manifest: Option<serde_json::Value>,
}

impl RunData {
    /// Loads what exists in `dir`. Unreadable files are reported; absent ones are not.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let ts = Table::read(&dir.join("timeseries.csv"))?;
        let events = Table::read(&dir.join("events.csv"))?
            .map(|t| {
                let (ti, ki, di) = (t.index("time_d"), t.index("kind"), t.index("detail"));
                t.rows
                    .iter()
                    .filter_map(|r| {
                        Some(EventRow {
                            time_d: r[ti?].parse().ok()?,
                            kind: r[ki?].clone(),
                            detail: di.map(|d| r[d].clone()).unwrap_or_default(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Per-clone counts (issue 5 writes them long-form to `clones_timeseries.csv`; an older
        // `clones.csv` in that form is still read).
        let clones = match Table::read(&dir.join("clones_timeseries.csv"))? {
            Some(t) => Some(t),
            None => Table::read(&dir.join("clones.csv"))?,
        };
        let manifest = std::fs::read_to_string(dir.join("manifest.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok());
        Ok(Self {
            ts,
            events,
            clones,
            manifest,
        })
    }

    /// Time axis [d] of the time series.
    pub fn time(&self) -> Option<Vec<f64>> {
        self.ts.as_ref()?.num("time_d")
    }

    /// A numeric time-series column.
    pub fn col(&self, name: &str) -> Option<Vec<f64>> {
        self.ts.as_ref()?.num(name)
    }

    /// Events of one kind.
    pub fn events_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a EventRow> + 'a {
        self.events.iter().filter(move |e| e.kind == kind)
    }
}
