//! Per-site cell state as struct-of-arrays: what occupies each site, when it last acted, and a
//! small per-cell payload (clone index, age, …) chosen by the model.
//!
//! One cell per site (HAL-style "unstackable" agents). `kind` is the hot array the sweep scans;
//! the payload is only touched for cells that act. A zero-sized payload (the benchmark model)
//! costs nothing.
//!
//! Reads: nothing. Writes: its own arrays (through the sweep engine and set-up code).

use crate::space::geometry::Geometry;

/// What occupies a site. Stored as `u8` in the lattice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum CellKind {
    /// Empty marrow (extracellular space, fat, or unmodelled cells).
    Empty = 0,
    /// Mineralised bone matrix.
    Bone = 1,
    /// Myeloma plasma cell.
    Myeloma = 2,
    /// Bone-marrow stromal cell.
    Stroma = 3,
    /// Active (multinucleated) osteoclast.
    Osteoclast = 4,
    /// Active osteoblast.
    Osteoblast = 5,
    /// Bone lining cell.
    Lining = 6,
    /// Normal haematopoietic cell (stem, progenitor or maturing).
    Haematopoietic = 7,
    /// Immune effector (NK or cytotoxic T cell).
    Immune = 8,
}

impl CellKind {
    /// Every kind, in code order.
    pub const ALL: [CellKind; 9] = [
        CellKind::Empty,
        CellKind::Bone,
        CellKind::Myeloma,
        CellKind::Stroma,
        CellKind::Osteoclast,
        CellKind::Osteoblast,
        CellKind::Lining,
        CellKind::Haematopoietic,
        CellKind::Immune,
    ];

    /// The kind stored as `code`, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    /// Snake-case name used in scenario files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Empty => "empty",
            CellKind::Bone => "bone",
            CellKind::Myeloma => "myeloma",
            CellKind::Stroma => "stroma",
            CellKind::Osteoclast => "osteoclast",
            CellKind::Osteoblast => "osteoblast",
            CellKind::Lining => "lining",
            CellKind::Haematopoietic => "haematopoietic",
            CellKind::Immune => "immune",
        }
    }
}

/// Stamp value of a cell that has never acted (set-up cells). Step tags are never zero.
pub const NEVER_ACTED: u8 = 0;

/// The tag the sweep writes into `stamp` on every site it changes in `step` (a birth, a move,
/// a death, a kind change, an edit of a neighbouring site).
///
/// A cell acts in a step iff its stamp differs from the step's tag. When a tile gathers its
/// cells at the start of its turn it resets every stamp that is not the current tag to
/// [`NEVER_ACTED`], so between steps a stamp is 0 or the tag of the step that just ended — a
/// cell that merely acts in place need not write its stamp, and cycling through 255 non-zero
/// values is unambiguous (consecutive tags differ).
#[inline]
pub fn step_tag(step: u64) -> u8 {
    (step % 255) as u8 + 1
}

/// Cell state of the whole lattice.
#[derive(Clone, Debug)]
pub struct Lattice<P> {
    /// Site occupancy as `CellKind as u8`.
    pub kind: Vec<u8>,
    /// [`step_tag`] of the step in which the site last changed (birth, move, death, kind
    /// change, edit), or [`NEVER_ACTED`]; see [`step_tag`].
    pub stamp: Vec<u8>,
    /// Model-specific per-cell data; meaningful only where `kind` holds a cell.
    pub payload: Vec<P>,
}

impl<P: Copy + Default> Lattice<P> {
    /// An empty lattice for `geom`.
    pub fn new(geom: &Geometry) -> Self {
        let n = geom.len();
        Self {
            kind: vec![0; n],
            stamp: vec![NEVER_ACTED; n],
            payload: vec![P::default(); n],
        }
    }

    /// Number of sites holding `kind`.
    pub fn count(&self, kind: CellKind) -> usize {
        let k = kind as u8;
        self.kind.iter().filter(|&&s| s == k).count()
    }

    /// Places a cell of `kind` with `payload` at `site` (set-up only).
    pub fn place(&mut self, site: usize, kind: CellKind, payload: P) {
        self.kind[site] = kind as u8;
        self.stamp[site] = NEVER_ACTED;
        self.payload[site] = payload;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_cycle_without_zero() {
        for s in 0..1000u64 {
            let t = step_tag(s);
            assert_ne!(t, NEVER_ACTED);
            assert_ne!(t, step_tag(s + 1));
        }
    }

    #[test]
    fn kind_codes_roundtrip() {
        for k in CellKind::ALL {
            assert_eq!(CellKind::from_code(k as u8), Some(k));
        }
        assert_eq!(CellKind::from_code(200), None);
    }
}
