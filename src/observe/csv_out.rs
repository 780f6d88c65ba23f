//! CSV observer: `timeseries.csv` (one row per recorded step, units in the headers) and
//! `events.csv` (`time_d,kind,detail`).
//!
//! Floats use Rust's shortest round-trip `Display`, so identical runs give byte-identical
//! files; nothing time-of-day-dependent is written. Rows are buffered; [`CsvObserver::finish`]
//! flushes everything and must be called however the run ends (complete, failed, interrupted).
//!
//! Reads: recorded rows and events from the model. Writes: `<run dir>/timeseries.csv`,
//! `<run dir>/events.csv` (created with `create_new`: never overwrites).

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::Path;

use super::{Event, Observer, Value};

/// File name of the time series inside a run directory.
pub const TIMESERIES_FILE: &str = "timeseries.csv";
/// File name of the event log inside a run directory.
pub const EVENTS_FILE: &str = "events.csv";

/// Writes the time series and the event log of one run as CSV.
pub struct CsvObserver {
    timeseries: csv::Writer<BufWriter<File>>,
    events: csv::Writer<BufWriter<File>>,
    columns: usize,
    buf: String,
}

impl CsvObserver {
    /// Creates both files in `dir` and writes their headers (`columns` for the time series,
    /// first `time_d`). Fails if either file already exists.
    pub fn create(dir: &Path, columns: &[String]) -> io::Result<Self> {
        let open = |name: &str| -> io::Result<csv::Writer<BufWriter<File>>> {
            let f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(dir.join(name))?;
            Ok(csv::Writer::from_writer(BufWriter::new(f)))
        };
        let mut timeseries = open(TIMESERIES_FILE)?;
        let mut events = open(EVENTS_FILE)?;
        timeseries.write_record(columns)?;
        events.write_record(["time_d", "kind", "detail"])?;
        Ok(Self {
            timeseries,
            events,
            columns: columns.len(),
            buf: String::new(),
        })
    }

    /// The files this observer writes, relative to the run directory.
    pub fn files() -> [&'static str; 2] {
        [TIMESERIES_FILE, EVENTS_FILE]
    }

    /// Flushes everything buffered to disk. Call once at the end of every run.
    pub fn finish(&mut self) -> io::Result<()> {
        let a = self.timeseries.flush();
        let b = self.events.flush();
        a.and(b)
    }
}

impl Observer for CsvObserver {
    fn on_record(&mut self, columns: &[String], row: &[Value]) -> io::Result<()> {
        if columns.len() != self.columns || row.len() != self.columns {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "time-series row has {} values for {} columns (header has {})",
                    row.len(),
                    columns.len(),
                    self.columns
                ),
            ));
        }
        let Self {
            timeseries, buf, ..
        } = self;
        for &v in row {
            buf.clear();
            // Writing to a String cannot fail.
            let _ = write!(buf, "{v}");
            timeseries.write_field(&*buf)?;
        }
        timeseries.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> io::Result<()> {
        self.buf.clear();
        let _ = write!(self.buf, "{}", event.time_d);
        self.events.write_record([
            self.buf.as_str(),
            event.kind.as_str(),
            event.detail.as_str(),
        ])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_headers_rows_and_events_with_round_trip_floats() {
        let dir = std::env::temp_dir().join(format!("myelosim-csv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let cols: Vec<String> = ["time_d", "mm_cells", "response"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut o = CsvObserver::create(&dir, &cols).unwrap();
        o.on_record(
            &cols,
            &[Value::Num(0.1 + 0.2), Value::Num(3.0), Value::Text("VGPR")],
        )
        .unwrap();
        o.on_event(&Event {
            step: 1,
            time_d: 1.0 / 24.0,
            kind: "dose".into(),
            detail: "a, \"b\"".into(),
        })
        .unwrap();
        assert!(o.on_record(&cols, &[Value::Num(1.0)]).is_err());
        o.finish().unwrap();
        let ts = std::fs::read_to_string(dir.join(TIMESERIES_FILE)).unwrap();
        assert_eq!(ts, "time_d,mm_cells,response\n0.30000000000000004,3,VGPR\n");
        let ev = std::fs::read_to_string(dir.join(EVENTS_FILE)).unwrap();
        assert_eq!(
            ev,
            "time_d,kind,detail\n0.041666666666666664,dose,\"a, \"\"b\"\"\"\n"
        );
        assert!(
            CsvObserver::create(&dir, &cols).is_err(),
            "must not overwrite"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
