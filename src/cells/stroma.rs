//! Bone-marrow stromal cells (stage `update_cells`; their secretion in stage `secrete`).
//!
//! Stromal cells are sessile and long-lived. Each step a stromal cell notes whether a myeloma
//! cell adheres to it (any myeloma neighbour); while engaged it secretes `engaged_factor`
//! times its baseline IL-6 and RANKL (adhesion → NF-κB → IL-6/RANKL; Uchiyama 1993; Wang
//! 2011) and `engaged_opg_factor` times its baseline OPG (contact strongly lowers OPG;
//! Giuliani 2001), which the `secrete` stage reads from the `ENGAGED` flag. Adjacent myeloma cells are
//! protected from apoptosis (read by the myeloma rule).
//!
//! Reads: the neighbourhood. Decides: `Stay` or `Update` (flag change).

use crate::cells::lattice::CellKind;
use crate::cells::myeloma::{CellState, flags};
use crate::engine::sweep::{Action, SiteView};
use crate::scenario::StromaParams;

/// Stromal-cell rule.
#[derive(Clone, Debug)]
pub struct StromaRule {
    /// IL-6 and RANKL secretion multiplier while engaged (read by `secrete`).
    pub engaged_factor: f64,
    /// OPG secretion multiplier while engaged (read by `secrete`).
    pub engaged_opg_factor: f64,
}

impl StromaRule {
    /// From the scenario's `[stroma]`.
    pub fn new(p: &StromaParams) -> Self {
        Self {
            engaged_factor: p.engaged_factor,
            engaged_opg_factor: p.engaged_opg_factor,
        }
    }

    /// Updates the adhesion flag.
    #[inline]
    pub fn decide(&self, view: &SiteView<'_, CellState>) -> Action<CellState> {
        let me = view.payload();
        let engaged = view.count_neighbours(CellKind::Myeloma) > 0;
        if engaged == (me.flags & flags::ENGAGED != 0) {
            return Action::Stay;
        }
        Action::Update(CellState {
            flags: me.flags ^ flags::ENGAGED,
            ..me
        })
    }
}
