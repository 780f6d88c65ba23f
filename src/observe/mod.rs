//! Observers (stage `observe`): what a run writes. The model hands each recorded row and each
//! event to an [`Observer`]; observers never change the model.
//!
//! Reads: model rows and events. Writes: whatever the observer implementation writes.

pub mod csv_out;
pub mod manifest;
pub mod milestones;
pub mod progress;
pub mod run_dir;

/// How the `phase` event that starts treatment (and sets the IMWG response baseline) begins;
/// milestones, plots and tests find the start of treatment by it.
pub const TREATMENT_STARTS: &str = "treatment starts";

/// How the protocol's `phase` event for entering a phase begins (`start NAME (…)`); plots
/// and milestones find phase boundaries by it.
pub const PHASE_STARTS: &str = "start ";

/// How the protocol's `phase` event for leaving a phase begins (`end NAME (why)`); it is
/// followed at once by the next phase's [`PHASE_STARTS`] event, or by `protocol_end`.
pub const PHASE_ENDS: &str = "end ";

/// Something that happened during a run, written to `events.csv` as `time_d,kind,detail`.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Step at which it happened.
    pub step: u64,
    /// Simulated time [d] (`step × dt`).
    pub time_d: f64,
    /// Short machine-readable kind (`start`, `extinction`, `dose`, `phase`, …).
    pub kind: String,
    /// Human-readable detail.
    pub detail: String,
}

/// A view of the whole lattice at one step, handed to [`Observer::on_frame`] at the
/// scenario's snapshot cadence (`[output] snapshot_every_d`), at step 0 and at the last step.
/// Borrowed from the model: observers render or copy what they need and keep no reference.
#[derive(Clone, Debug)]
pub struct Frame<'a> {
    /// Steps completed.
    pub step: u64,
    /// Simulated time [d].
    pub time_d: f64,
    /// Treatment phase name (empty while no protocol is running).
    pub phase: &'a str,
    /// Sites along x, y, z (`z = 1` for 2D); flat index `x + nx·(y + ny·z)`.
    pub dims: [usize; 3],
    /// Site edge [µm].
    pub site_um: f64,
    /// Cell kind code per site ([`crate::cells::lattice::CellKind`] as `u8`).
    pub kinds: &'a [u8],
    /// Clone index per site (meaningful on myeloma sites), when the model tracks clones.
    pub clones: Option<&'a [u32]>,
    /// Field concentrations per site [nM], by field name, in scenario order.
    pub fields: Vec<(&'a str, &'a [f64])>,
}

/// One time-series cell: a number, or a categorical label (e.g. the IMWG response `VGPR`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A number (written in shortest round-trip form).
    Num(f64),
    /// A fixed label.
    Text(&'static str),
}

impl Value {
    /// The number, or NaN for a label.
    pub fn num(self) -> f64 {
        match self {
            Value::Num(v) => v,
            Value::Text(_) => f64::NAN,
        }
    }

    /// A bit pattern for exact comparisons: the f64 bits of a number, an FNV-1a hash of a label.
    pub fn to_bits(self) -> u64 {
        match self {
            Value::Num(v) => v.to_bits(),
            Value::Text(t) => t.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
            }),
        }
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Num(v)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(v) => write!(f, "{v}"),
            Value::Text(t) => f.write_str(t),
        }
    }
}

/// Receives recorded rows and events from the model.
pub trait Observer {
    /// A time-series row; `columns` is the same slice for every call of one run.
    fn on_record(&mut self, columns: &[String], row: &[Value]) -> std::io::Result<()>;
    /// An event.
    fn on_event(&mut self, event: &Event) -> std::io::Result<()>;
    /// A lattice snapshot (see [`Frame`]). The default ignores it.
    fn on_frame(&mut self, _frame: &Frame<'_>) -> std::io::Result<()> {
        Ok(())
    }
}

/// An observer that keeps everything in memory (tests, benchmarks, embedding).
#[derive(Clone, Debug, Default)]
pub struct MemoryObserver {
    /// Column names (set on the first row).
    pub columns: Vec<String>,
    /// Recorded rows.
    pub rows: Vec<Vec<Value>>,
    /// Events in order.
    pub events: Vec<Event>,
}

impl Observer for MemoryObserver {
    fn on_record(&mut self, columns: &[String], row: &[Value]) -> std::io::Result<()> {
        if self.columns.is_empty() {
            self.columns = columns.to_vec();
        }
        self.rows.push(row.to_vec());
        Ok(())
    }
    fn on_event(&mut self, event: &Event) -> std::io::Result<()> {
        self.events.push(event.clone());
        Ok(())
    }
}

impl MemoryObserver {
    /// The values of one column, by name (labels read as NaN).
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[k].num()).collect())
    }

    /// The labels of a categorical column, by name (numbers read as "").
    pub fn labels(&self, name: &str) -> Option<Vec<&'static str>> {
        let k = self.columns.iter().position(|c| c == name)?;
        Some(
            self.rows
                .iter()
                .map(|r| match r[k] {
                    Value::Text(t) => t,
                    Value::Num(_) => "",
                })
                .collect(),
        )
    }
}
