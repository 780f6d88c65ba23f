//! Snapshot rendering on a background thread, so drawing and PNG/GIF encoding overlap with the
//! simulation instead of stalling it. Frames are copied (cell kinds, clones, fields) and sent
//! through a bounded channel to one worker that owns the [`SnapshotObserver`]; frames are
//! rendered in the order they were produced, so every output byte is the same as rendering
//! them inline.
//!
//! Reads: frames from the model. Writes: nothing itself (the worker writes `snapshots/`).

use std::io;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::snapshot::SnapshotObserver;
use crate::observe::{Event, Frame, Observer, Value};

/// Frames waiting to be drawn at most; the simulation waits beyond that (bounded memory).
const QUEUE: usize = 2;

/// An owned copy of a [`Frame`].
struct OwnedFrame {
    step: u64,
    time_d: f64,
    phase: String,
    dims: [usize; 3],
    site_um: f64,
    kinds: Vec<u8>,
    clones: Option<Vec<u32>>,
    fields: Vec<(String, Vec<f64>)>,
}

/// An [`Observer`] that forwards frames to a [`SnapshotObserver`] on its own thread.
pub struct BackgroundSnapshots {
    tx: Option<SyncSender<OwnedFrame>>,
    worker: Option<JoinHandle<SnapshotObserver>>,
    done: Option<SnapshotObserver>,
    /// Set if the worker could not be reached or panicked.
    lost: Option<String>,
}

impl BackgroundSnapshots {
    /// Starts the worker that owns `snaps`.
    pub fn spawn(mut snaps: SnapshotObserver) -> Self {
        let (tx, rx) = sync_channel::<OwnedFrame>(QUEUE);
        let worker = std::thread::Builder::new()
            .name("myelosim-snapshots".into())
            .spawn(move || {
                for f in rx {
                    let view = Frame {
                        step: f.step,
                        time_d: f.time_d,
                        phase: &f.phase,
                        dims: f.dims,
                        site_um: f.site_um,
                        kinds: &f.kinds,
                        clones: f.clones.as_deref(),
                        fields: f
                            .fields
                            .iter()
                            .map(|(n, c)| (n.as_str(), c.as_slice()))
                            .collect(),
                    };
                    // Rendering problems are kept in `snaps.errors`; never fatal.
                    let _ = snaps.on_frame(&view);
                }
                snaps.finish();
                snaps
            });
        match worker {
            Ok(h) => Self {
                tx: Some(tx),
                worker: Some(h),
                done: None,
                lost: None,
            },
            Err(e) => Self {
                tx: None,
                worker: None,
                done: None,
                lost: Some(format!("snapshots: cannot start the rendering thread: {e}")),
            },
        }
    }

    /// Waits for every queued frame to be drawn and closes the GIF. Idempotent.
    pub fn finish(&mut self) {
        self.tx = None; // closes the channel: the worker drains it and returns
        if let Some(h) = self.worker.take() {
            match h.join() {
                Ok(s) => self.done = Some(s),
                Err(_) => self.lost = Some("snapshots: the rendering thread panicked".into()),
            }
        }
    }

    /// Files written, relative to the run directory (after [`Self::finish`]).
    pub fn files(&self) -> Vec<String> {
        self.done
            .as_ref()
            .map(|s| s.files().to_vec())
            .unwrap_or_default()
    }

    /// Problems met (after [`Self::finish`]).
    pub fn errors(&self) -> Vec<String> {
        let mut v = self
            .done
            .as_ref()
            .map(|s| s.errors.clone())
            .unwrap_or_default();
        v.extend(self.lost.clone());
        v
    }
}

impl Observer for BackgroundSnapshots {
    fn on_record(&mut self, _: &[String], _: &[Value]) -> io::Result<()> {
        Ok(())
    }
    fn on_event(&mut self, _: &Event) -> io::Result<()> {
        Ok(())
    }
    fn on_frame(&mut self, fr: &Frame<'_>) -> io::Result<()> {
        let Some(tx) = &self.tx else { return Ok(()) };
        let owned = OwnedFrame {
            step: fr.step,
            time_d: fr.time_d,
            phase: fr.phase.to_string(),
            dims: fr.dims,
            site_um: fr.site_um,
            kinds: fr.kinds.to_vec(),
            clones: fr.clones.map(<[u32]>::to_vec),
            fields: fr
                .fields
                .iter()
                .map(|(n, c)| (n.to_string(), c.to_vec()))
                .collect(),
        };
        if tx.send(owned).is_err() {
            // The worker is gone (it panicked); `finish` reports it.
            self.tx = None;
        }
        Ok(())
    }
}
