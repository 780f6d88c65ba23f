//! Clone hooks of the model (issue 5): per-step drug action by class, per-clone records and
//! frame maps, and the end-of-run clone outputs.

use std::path::Path;

use super::Model;
use crate::clones::{ClassAction, CloneState};

impl Model {
    /// The clone state (`None` without a `[clones]` section).
    pub fn clones(&self) -> Option<&CloneState> {
        self.clones.as_ref()
    }

    /// Myeloma cells per clone now (index = clone id; empty without clones).
    pub fn clone_counts(&self) -> Vec<u64> {
        self.clones
            .as_ref()
            .map_or_else(Vec::new, |c| c.counts(&self.lattice))
    }

    /// Hands this step's per-class drug action to the clones (before the sweep).
    pub(super) fn set_clone_drug_action(&mut self) {
        let Some(c) = &mut self.clones else {
            return;
        };
        let a = self.treatment.as_ref().map_or(ClassAction::default(), |t| {
            ClassAction::from_pharmacology(t.pharmacology(), t.nk_availability())
        });
        c.set_drug_action(a);
    }

    /// Records per-clone counts (`map_only`: refresh only the frame's clone map).
    pub(super) fn record_clones(&mut self, map_only: bool) {
        let time_d = self.time_d();
        if let Some(c) = &mut self.clones {
            if map_only {
                c.refresh_map(&self.lattice);
            } else {
                c.record(&self.lattice, time_d);
            }
        }
    }

    /// Writes `clones.csv`, `clones_timeseries.csv` and `clones.nwk` into `dir` (nothing
    /// without clones); returns the file names written.
    pub fn write_clone_outputs(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        match &self.clones {
            Some(c) => c.write_outputs(dir),
            None => Ok(Vec::new()),
        }
    }
}
