//! The parallel, thread-count-independent cell sweep (stage `update_cells`).
//!
//! Scheme (DESIGN.md §4): the lattice is cut into fixed tiles with a 2×2(×2) colouring
//! ([`Tiling`]). Each step the colours are visited in an order shuffled by the step's own
//! stream; the tiles of one colour run in parallel on the rayon pool. Inside a tile, the cells
//! that were alive at the start of the step are visited once each in a shuffled order drawn
//! from the tile's stream `(seed, CellSweep, step, tile)` — asynchronous update, as in
//! sequential agent-based models. A [`Rule`] *decides* an [`Action`] for each cell; the sweep
//! *applies* it at once, so later cells see earlier changes.
//!
//! Why this is deterministic: a cell reads and writes only its own site and its neighbours
//! (reach 1). Same-colour tiles are a whole tile apart, so their read/write sets are disjoint
//! and the outcome of a colour pass does not depend on which thread runs which tile or when.
//! Colour passes are sequential. Random numbers are keyed by tile and step, never by thread.
//!
//! Reads: the lattice, the rule's inputs (fields, parameters). Writes: the lattice; returns a
//! [`Tally`] of what happened.

use rayon::prelude::*;

use crate::cells::lattice::{CellKind, Lattice, step_tag};
use crate::rng::{self, Purpose, Stream};
use crate::space::geometry::Geometry;
use crate::space::tiles::{Tile, Tiling};
use rand::Rng;

/// What a cell does this step. Returned by a [`Rule`], applied by the sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action<P> {
    /// Nothing changes.
    Stay,
    /// The cell keeps its site and its payload becomes the given value (e.g. it ages).
    Update(P),
    /// The site empties.
    Die,
    /// A daughter with payload `daughter` is placed on the empty site `to`; the mother's payload
    /// becomes `mother`.
    Divide {
        /// Empty neighbouring site receiving the daughter.
        to: usize,
        /// Mother's payload after division.
        mother: P,
        /// Daughter's payload.
        daughter: P,
    },
    /// The cell moves to the empty neighbouring site `to`.
    Move {
        /// Empty neighbouring site.
        to: usize,
    },
    /// The cell turns into another kind with a new payload (differentiation, fusion …).
    Become {
        /// New kind.
        kind: CellKind,
        /// New payload.
        payload: P,
    },
    /// The cell stays and changes a neighbouring site (e.g. resorbs bone: `Bone` → `Empty`;
    /// deposits bone: `Empty` → `Bone`; kills a neighbouring cell: `Myeloma` → `Empty`). The
    /// changed site counts as having acted this step.
    Edit {
        /// Neighbouring site to change.
        at: usize,
        /// What that site becomes.
        kind: CellKind,
    },
    /// As [`Action::Edit`], and the acting cell's payload becomes `payload` in the same step
    /// (e.g. an osteoclast counting the sites it has resorbed).
    EditAndUpdate {
        /// Neighbouring site to change.
        at: usize,
        /// What that site becomes.
        kind: CellKind,
        /// The acting cell's new payload.
        payload: P,
    },
}

/// Counts of applied actions, summed over tiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cells that acted.
    pub acted: u64,
    /// Divisions.
    pub births: u64,
    /// Deaths.
    pub deaths: u64,
    /// Moves.
    pub moves: u64,
    /// Kind changes of the acting cell.
    pub becomes: u64,
    /// Edits of neighbouring sites.
    pub edits: u64,
    /// Divisions by kind code of the dividing cell.
    pub births_by: [u64; KIND_SLOTS],
    /// Deaths by kind code of the dying cell (kills by a neighbour's `Edit` are not deaths).
    pub deaths_by: [u64; KIND_SLOTS],
    /// Net change in the number of sites holding each kind (indexed by kind code), so callers
    /// keep exact populations without rescanning the lattice.
    pub net: [i64; KIND_SLOTS],
}

/// Kind codes tracked in [`Tally::net`] (every [`CellKind`] code is below this).
pub const KIND_SLOTS: usize = 16;

impl Tally {
    /// Adds another tally to this one.
    pub fn add(&mut self, o: &Tally) {
        self.acted += o.acted;
        self.births += o.births;
        self.deaths += o.deaths;
        self.moves += o.moves;
        self.becomes += o.becomes;
        self.edits += o.edits;
        for k in 0..KIND_SLOTS {
            self.net[k] += o.net[k];
            self.births_by[k] += o.births_by[k];
            self.deaths_by[k] += o.deaths_by[k];
        }
    }
}

/// Cell behaviour: decides what the cell at a site does. Implementations hold read-only
/// references to whatever they need (parameters, committed fields, drug effects).
pub trait Rule: Sync {
    /// Per-cell payload stored in the lattice.
    type Payload: Copy + Default + Send + Sync;

    /// Whether cells of this kind take part in the sweep (bone matrix and empty sites never do).
    fn acts(&self, kind: u8) -> bool;

    /// What the cell at `view.site` does this step.
    fn decide(&self, view: &SiteView<'_, Self::Payload>, rng: &mut Stream)
    -> Action<Self::Payload>;
}

/// Raw access to the lattice arrays, shared by the tasks of one colour pass.
struct Shared<P> {
    kind: *mut u8,
    stamp: *mut u8,
    payload: *mut P,
    len: usize,
}

// SAFETY: the sweep hands a `Shared` to tasks that run concurrently only for tiles of one
// colour. Each task reads and writes only its own tile plus a one-site halo, and same-colour
// tiles are at least `MIN_TILE_EDGE` sites apart (checked by `Tiling`'s tests), so no two
// concurrent tasks ever touch the same element.
unsafe impl<P: Send> Send for Shared<P> {}
unsafe impl<P: Send> Sync for Shared<P> {}

impl<P: Copy> Shared<P> {
    #[inline]
    fn kind(&self, i: usize) -> u8 {
        debug_assert!(i < self.len);
        // SAFETY: `i` is a site index of this lattice (tile site or its neighbour), see above.
        unsafe { *self.kind.add(i) }
    }
    /// The eight kind bytes from `i` as one little-endian word (caller ensures `i + 8 ≤ len`).
    #[inline]
    fn word(&self, i: usize) -> u64 {
        debug_assert!(i + 8 <= self.len);
        // SAFETY: in bounds as above; unaligned read of bytes no other task writes now.
        u64::from_le(unsafe { (self.kind.add(i) as *const u64).read_unaligned() })
    }
    #[inline]
    fn stamp(&self, i: usize) -> u8 {
        debug_assert!(i < self.len);
        // SAFETY: as for `kind`.
        unsafe { *self.stamp.add(i) }
    }
    #[inline]
    fn payload(&self, i: usize) -> P {
        debug_assert!(i < self.len);
        // SAFETY: as for `kind`.
        unsafe { *self.payload.add(i) }
    }
    #[inline]
    fn set(&self, i: usize, kind: u8, stamp: u8, payload: P) {
        debug_assert!(i < self.len);
        // SAFETY: as for `kind`; this task is the only one touching site `i` in this pass.
        unsafe {
            *self.kind.add(i) = kind;
            *self.stamp.add(i) = stamp;
            *self.payload.add(i) = payload;
        }
    }
    #[inline]
    fn set_kind(&self, i: usize, kind: u8, stamp: u8) {
        debug_assert!(i < self.len);
        // SAFETY: as for `set`.
        unsafe {
            *self.kind.add(i) = kind;
            *self.stamp.add(i) = stamp;
        }
    }
}

/// Read-only view of one cell and its neighbourhood, given to [`Rule::decide`].
pub struct SiteView<'a, P> {
    shared: &'a Shared<P>,
    geom: &'a Geometry,
    /// The acting cell's site index.
    pub site: usize,
    /// The acting cell's kind code.
    pub kind: u8,
    interior: bool,
    /// Index deltas of the neighbourhood (valid for interior sites).
    deltas: &'a [isize],
}

impl<P: Copy> SiteView<'_, P> {
    /// The acting cell's payload.
    #[inline]
    pub fn payload(&self) -> P {
        self.shared.payload(self.site)
    }

    /// Kind code at a neighbouring site.
    #[inline]
    pub fn kind_at(&self, j: usize) -> u8 {
        self.shared.kind(j)
    }

    /// Payload at a neighbouring site.
    #[inline]
    pub fn payload_at(&self, j: usize) -> P {
        self.shared.payload(j)
    }

    /// Coordinates of the acting cell.
    pub fn coords(&self) -> [usize; 3] {
        self.geom.coords(self.site)
    }

    /// Writes the in-lattice neighbours into `out`, returning how many there are.
    #[inline]
    pub fn neighbours(&self, out: &mut [usize; 26]) -> usize {
        if self.interior {
            self.geom.neighbours_interior(self.site, out)
        } else {
            self.geom
                .neighbours(self.site, self.geom.coords(self.site), out)
        }
    }

    /// A uniformly chosen neighbour holding `kind`, or `None` if there is none.
    ///
    /// Hot path: for interior sites the matches are collected as a bit mask over the offset
    /// table (no scratch array to clear), and the chosen bit is found by popping set bits.
    #[inline]
    pub fn random_neighbour_of(&self, kind: CellKind, rng: &mut Stream) -> Option<usize> {
        let want = kind as u8;
        if self.interior {
            // Fixed-size copies let the compiler unroll the common neighbourhoods.
            let mut mask = match self.deltas.len() {
                4 => self.match_mask::<4>(want),
                6 => self.match_mask::<6>(want),
                8 => self.match_mask::<8>(want),
                26 => self.match_mask::<26>(want),
                _ => unreachable!("neighbourhoods have 4, 6, 8 or 26 sites"),
            };
            let m = mask.count_ones();
            if m == 0 {
                return None;
            }
            let mut pick = if m == 1 {
                0
            } else {
                rng::below(rng.next_u64(), m)
            };
            while pick > 0 {
                mask &= mask - 1;
                pick -= 1;
            }
            let k = mask.trailing_zeros() as usize;
            return Some((self.site as isize + self.deltas[k]) as usize);
        }
        let mut hood = [0usize; 26];
        let n = self
            .geom
            .neighbours(self.site, self.geom.coords(self.site), &mut hood);
        let mut hits = [0usize; 26];
        let mut m = 0;
        for &j in &hood[..n] {
            hits[m] = j;
            m += (self.shared.kind(j) == want) as usize;
        }
        match m {
            0 => None,
            1 => Some(hits[0]),
            _ => Some(hits[rng::below(rng.next_u64(), m as u32) as usize]),
        }
    }

    /// Bit k is set where the k-th interior neighbour holds kind code `want`.
    #[inline(always)]
    fn match_mask<const N: usize>(&self, want: u8) -> u32 {
        let deltas: &[isize; N] = self.deltas.try_into().expect("neighbourhood size");
        let mut mask = 0u32;
        for (k, &d) in deltas.iter().enumerate() {
            let j = (self.site as isize + d) as usize;
            mask |= ((self.shared.kind(j) == want) as u32) << k;
        }
        mask
    }

    /// Number of neighbours holding `kind`.
    #[inline]
    pub fn count_neighbours(&self, kind: CellKind) -> usize {
        let mut hood = [0usize; 26];
        let n = self.neighbours(&mut hood);
        hood[..n]
            .iter()
            .filter(|&&j| self.shared.kind(j) == kind as u8)
            .count()
    }
}

/// Reusable per-tile buffers for the sweep (kept between steps: no allocation in the loop).
pub struct Sweep {
    tiling: Tiling,
    /// For each colour, one (tile id, cell list, tally) per tile of that colour.
    work: [Vec<TileWork>; 8],
}

struct TileWork {
    tile: Tile,
    cells: Vec<u32>,
    tally: Tally,
}

impl Sweep {
    /// Buffers for sweeping `tiling`.
    pub fn new(tiling: Tiling) -> Self {
        let mut work: [Vec<TileWork>; 8] = Default::default();
        for (c, ids) in tiling.by_colour.iter().enumerate() {
            work[c] = ids
                .iter()
                .map(|&id| TileWork {
                    tile: tiling.tiles[id].clone(),
                    cells: Vec::new(),
                    tally: Tally::default(),
                })
                .collect();
        }
        Self { tiling, work }
    }

    /// The partition in use.
    pub fn tiling(&self) -> &Tiling {
        &self.tiling
    }

    /// One asynchronous sweep of every cell alive at the start of `step`.
    pub fn run<R: Rule>(
        &mut self,
        lattice: &mut Lattice<R::Payload>,
        geom: &Geometry,
        rule: &R,
        seed: u64,
        step: u64,
    ) -> Tally {
        assert_eq!(
            lattice.kind.len(),
            geom.len(),
            "lattice and geometry disagree in size"
        );
        let mut acts = [false; 256];
        for (k, a) in acts.iter_mut().enumerate() {
            *a = rule.acts(k as u8);
        }
        let tag = step_tag(step);
        let shared = Shared {
            kind: lattice.kind.as_mut_ptr(),
            stamp: lattice.stamp.as_mut_ptr(),
            payload: lattice.payload.as_mut_ptr(),
            len: lattice.kind.len(),
        };
        let mut colours = self.tiling.used_colours();
        let mut order_rng = rng::stream(seed, Purpose::ColourOrder, step, 0);
        for i in (1..colours.len()).rev() {
            let j = rng::below(order_rng.next_u64(), i as u32 + 1) as usize;
            colours.swap(i, j);
        }
        let mut total = Tally::default();
        for c in colours {
            let shared = &shared;
            self.work[c].par_iter_mut().for_each(|w| {
                w.tally = Tally::default();
                sweep_tile(w, shared, geom, rule, &acts, seed, step, tag);
            });
            for w in &self.work[c] {
                total.add(&w.tally);
            }
        }
        total
    }
}

/// Marks a gathered cell on the lattice edge (site indices stay below 2³¹: validation caps
/// lattices at 2³¹ − 1 sites).
const EDGE_BIT: u32 = 1 << 31;

/// Changes the neighbouring site `at` to `kind` and counts it.
#[inline]
fn edit<P: Copy>(lat: &Shared<P>, t: &mut Tally, at: usize, kind: CellKind, tag: u8) {
    t.net[lat.kind(at) as usize] -= 1;
    lat.set_kind(at, kind as u8, tag);
    t.edits += 1;
    t.net[kind as usize] += 1;
}

/// Bit 7 of each byte of the result is set where that byte of `w` is non-zero (exact: no
/// carries between bytes; Mycroft's zero-byte trick inverted).
#[inline]
fn nonzero_bytes(w: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    (((w & LOW7) + LOW7) | w) & !LOW7
}

/// Visits the tile's cells in shuffled order, deciding and applying each action.
#[allow(clippy::too_many_arguments)]
fn sweep_tile<R: Rule>(
    w: &mut TileWork,
    lat: &Shared<R::Payload>,
    geom: &Geometry,
    rule: &R,
    acts: &[bool; 256],
    seed: u64,
    step: u64,
    tag: u8,
) {
    let tile = &w.tile;
    // Gather the cells due to act: sites whose kind acts and whose stamp is not this step's.
    // Branch-free append into a buffer sized for the whole tile; eight empty sites at a time
    // are skipped with one word test (marrow outside a colony is mostly empty).
    w.cells.resize(tile.len(), 0);
    let mut n = 0usize;
    let row_len = tile.hi[0] - tile.lo[0];
    let [nx, ny, nz] = geom.dims;
    for z in tile.lo[2]..tile.hi[2] {
        for y in tile.lo[1]..tile.hi[1] {
            let start = geom.index(tile.lo[0], y, z);
            // Cells on the lattice edge are tagged (bit 31) so only they take the slow,
            // coordinate-checked neighbour path; everything else uses index deltas. Whole rows
            // on an edge get the tag as they are gathered; the end sites of other rows are
            // patched below (they are the first and last entries a row can append).
            let row_edge =
                !tile.interior && (y == 0 || y + 1 == ny || (nz > 1 && (z == 0 || z + 1 == nz)));
            let flag = (row_edge as u32) << 31;
            let row_first = n;
            let mut x = 0;
            // Whole words of eight sites: visit only the non-empty bytes.
            while x + 8 <= row_len {
                let mut occupied = nonzero_bytes(lat.word(start + x));
                while occupied != 0 {
                    let i = start + x + (occupied.trailing_zeros() / 8) as usize;
                    let due = acts[lat.kind(i) as usize] & (lat.stamp(i) != tag);
                    w.cells[n] = i as u32 | flag;
                    n += due as usize;
                    occupied &= occupied - 1;
                }
                x += 8;
            }
            for i in start + x..start + row_len {
                let due = acts[lat.kind(i) as usize] & (lat.stamp(i) != tag);
                w.cells[n] = i as u32 | flag;
                n += due as usize;
            }
            if n > row_first && !tile.interior {
                if tile.lo[0] == 0 && w.cells[row_first] & !EDGE_BIT == start as u32 {
                    w.cells[row_first] |= EDGE_BIT;
                }
                let last = (start + row_len - 1) as u32;
                if tile.hi[0] == nx && w.cells[n - 1] & !EDGE_BIT == last {
                    w.cells[n - 1] |= EDGE_BIT;
                }
            }
        }
    }
    if n == 0 {
        return;
    }
    let mut rng = rng::stream(seed, Purpose::CellSweep, step, tile.id as u64);
    // Fisher–Yates, two 32-bit choices per 64-bit draw (Lemire multiply-shift on each half).
    let cells = &mut w.cells[..n];
    let mut i = n - 1;
    while i >= 2 {
        let r = rng.next_u64();
        let j = ((r & 0xFFFF_FFFF) * (i as u64 + 1)) >> 32;
        cells.swap(i, j as usize);
        let j = ((r >> 32) * i as u64) >> 32;
        cells.swap(i - 1, j as usize);
        i -= 2;
    }
    if i == 1 {
        let j = rng::below(rng.next_u64(), 2);
        cells.swap(1, j as usize);
    }
    let deltas = geom.deltas();
    // Counters live in locals: writes through the lattice pointers could alias a `&mut Tally`
    // and force a store per cell.
    let mut t = Tally::default();
    for &entry in &w.cells[..n] {
        let s = (entry & !EDGE_BIT) as usize;
        let kind = lat.kind(s);
        if !acts[kind as usize] || lat.stamp(s) == tag {
            continue; // died, moved or was replaced earlier in this sweep
        }
        let view = SiteView {
            shared: lat,
            geom,
            site: s,
            kind,
            interior: entry & EDGE_BIT == 0,
            deltas,
        };
        t.acted += 1;
        match rule.decide(&view, &mut rng) {
            Action::Stay => lat.set_kind(s, kind, tag),
            Action::Update(p) => lat.set(s, kind, tag, p),
            Action::Die => {
                lat.set_kind(s, CellKind::Empty as u8, tag);
                t.deaths += 1;
                t.deaths_by[kind as usize] += 1;
                t.net[kind as usize] -= 1;
            }
            Action::Divide {
                to,
                mother,
                daughter,
            } => {
                debug_assert_eq!(
                    lat.kind(to),
                    CellKind::Empty as u8,
                    "division into an occupied site"
                );
                lat.set(s, kind, tag, mother);
                lat.set(to, kind, tag, daughter);
                t.births += 1;
                t.births_by[kind as usize] += 1;
                t.net[kind as usize] += 1;
            }
            Action::Move { to } => {
                debug_assert_eq!(
                    lat.kind(to),
                    CellKind::Empty as u8,
                    "move into an occupied site"
                );
                let p = lat.payload(s);
                lat.set_kind(s, CellKind::Empty as u8, tag);
                lat.set(to, kind, tag, p);
                t.moves += 1;
            }
            Action::Become { kind: k, payload } => {
                lat.set(s, k as u8, tag, payload);
                t.becomes += 1;
                t.net[kind as usize] -= 1;
                t.net[k as usize] += 1;
            }
            Action::Edit { at, kind: k } => {
                lat.set_kind(s, kind, tag);
                edit(lat, &mut t, at, k, tag);
            }
            Action::EditAndUpdate {
                at,
                kind: k,
                payload,
            } => {
                lat.set(s, kind, tag, payload);
                edit(lat, &mut t, at, k, tag);
            }
        }
    }
    w.tally = t;
}

#[cfg(test)]
mod tests {
    use super::nonzero_bytes;

    #[test]
    fn nonzero_byte_mask_is_exact() {
        for w in [
            0u64,
            1,
            0x80,
            0xFF00,
            0x0100_0000_0000_0000,
            u64::MAX,
            0x0201_0080_7F00_FF01,
        ] {
            let expect: u64 = (0..8)
                .filter(|b| (w >> (8 * b)) & 0xFF != 0)
                .map(|b| 0x80u64 << (8 * b))
                .sum();
            assert_eq!(nonzero_bytes(w), expect, "{w:#x}");
        }
    }
}
