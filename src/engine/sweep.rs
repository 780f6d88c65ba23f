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

    /// As [`Rule::decide`], with 32 uniform random bits (independent of the visiting order)
    /// that the rule must use before drawing from `rng`. Called only by the
    /// [`Rule::birth_death`] fast path, for its cells on the lattice edge; the default ignores
    /// the bits (rules without a fast path never see it called).
    #[inline]
    fn decide_with(
        &self,
        view: &SiteView<'_, Self::Payload>,
        bits: u32,
        rng: &mut Stream,
    ) -> Action<Self::Payload> {
        let _ = bits;
        self.decide(view, rng)
    }

    /// Opt-in fast path for rules that are nothing but a [`BirthDeath`] decision on 32
    /// uniform bits (BDD-lattice-v1). When this returns `Some`, a single kind acts, `into` is
    /// another kind and the neighbourhood has 4 sites, the sweep applies the decision itself:
    /// each cell's 32 bits are drawn first (two cells per draw), cells with no event are
    /// dropped, only the rest are shuffled (`shuffle_keeping_events`) and they act without
    /// branching on whether or where they divide (see [`BirthDeath`]). Cells on the lattice
    /// edge that have an event still go through [`Rule::decide_with`], which must make the
    /// same decision from the same bits (and return [`Action::Stay`] without drawing when the
    /// bits are `≥ attempt`). Otherwise (the default `None`, or another neighbourhood such as
    /// 3D's 6 sites) the rule takes the plain path and [`Rule::decide`] draws its own bits.
    #[inline]
    fn birth_death(&self) -> Option<BirthDeath> {
        None
    }
}

/// A decision that depends only on 32 uniform bits `u` and the neighbours' kinds: the cell
/// dies if `u < death`; else, if `u < attempt`, it divides into a uniformly chosen neighbour
/// holding `into` (if there is one; the daughter gets the mother's payload); else it stays.
/// Thresholds are in units of 2⁻³² ([`crate::rng::threshold32`]), `death ≤ attempt ≤ 2³²`.
///
/// The sweep's fast path picks the neighbour from the same bits: given an attempt, `u −
/// death` is uniform on `0..attempt − death`, so scaling it to `0..m` (m = matching
/// neighbours) is a uniform choice (to within m/(attempt − death), below 10⁻⁷ for BDD) that
/// needs no further draw and no branch on the random outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BirthDeath {
    /// Death threshold: dies if `u < death`.
    pub death: u64,
    /// Attempt threshold: tries to divide if `death ≤ u < attempt`.
    pub attempt: u64,
    /// Kind of the neighbouring site a daughter may occupy (normally [`CellKind::Empty`]).
    pub into: CellKind,
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
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))] // the x86_64 gather uses SSE2
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
    fn set_stamp(&self, i: usize, stamp: u8) {
        debug_assert!(i < self.len);
        // SAFETY: as for `set`.
        unsafe { *self.stamp.add(i) = stamp }
    }
    #[inline]
    fn set_payload(&self, i: usize, payload: P) {
        debug_assert!(i < self.len);
        // SAFETY: as for `set`.
        unsafe { *self.payload.add(i) = payload }
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
            // A predictable branch chain, cheaper than a jump table on this path.
            let h = self.deltas.len();
            let mut mask = if h == 4 {
                self.match_mask::<4>(want)
            } else if h == 8 {
                self.match_mask::<8>(want)
            } else if h == 6 {
                self.match_mask::<6>(want)
            } else {
                self.match_mask::<26>(want)
            };
            let m = mask.count_ones();
            if m == 0 {
                return None;
            }
            let mut pick = if m == 1 { 0 } else { draw_below(rng, m) };
            while pick > 0 {
                mask &= mask - 1;
                pick -= 1;
            }
            let k = mask.trailing_zeros() as usize;
            return Some((self.site as isize + self.deltas[k]) as usize);
        }
        random_neighbour_on_edge(self.shared, self.geom, self.site, want, rng)
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
    /// Sites due to act (bit 31: on the lattice edge), in visiting order after the shuffle.
    cells: Vec<u32>,
    /// Birth–death fast path only: the rule's 32 random bits for each position of `cells`.
    bits: Vec<u32>,
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
                    bits: Vec::new(),
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
        // With a single acting kind the gather can test "kind == k" sixteen sites at a time
        // instead of looking up every occupied site in `acts`.
        let mut acting = (1..256).filter(|&k| acts[k]);
        let sole = match (acting.next(), acting.next()) {
            (Some(k), None) => Some(k as u8),
            _ => None,
        };
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
                sweep_tile(w, shared, geom, rule, &acts, sole, seed, step, tag);
            });
            for w in &self.work[c] {
                total.add(&w.tally);
            }
        }
        total
    }
}

/// [`SiteView::random_neighbour_of`] for a site on the lattice edge (coordinate-checked).
/// Kept out of line, with plain arguments: it is rare, and inlined (or taking the view by
/// reference) it would crowd the sweep loop's registers.
#[cold]
#[inline(never)]
fn random_neighbour_on_edge<P: Copy>(
    lat: &Shared<P>,
    geom: &Geometry,
    site: usize,
    want: u8,
    rng: &mut Stream,
) -> Option<usize> {
    let mut hood = [0usize; 26];
    let n = geom.neighbours(site, geom.coords(site), &mut hood);
    let mut hits = [0usize; 26];
    let mut m = 0;
    for &j in &hood[..n] {
        hits[m] = j;
        m += (lat.kind(j) == want) as usize;
    }
    match m {
        0 => None,
        1 => Some(hits[0]),
        _ => Some(hits[rng::below(rng.next_u64(), m as u32) as usize]),
    }
}

/// A uniform integer in `0..m` from the next draw of `rng`. Out of line so the generator's
/// state need not stay in registers across the sweep loop.
#[inline(never)]
fn draw_below(rng: &mut Stream, m: u32) -> u32 {
    rng::below(rng.next_u64(), m)
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
#[cfg_attr(target_arch = "x86_64", allow(dead_code))] // the x86_64 gather uses SSE2
#[inline]
fn nonzero_bytes(w: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    (((w & LOW7) + LOW7) | w) & !LOW7
}

/// Bit b (b < 16) is set where site `i + b` holds a cell that may act this step: its kind is
/// `sole` (or, when `SOLE` is false, any non-empty kind) and its stamp differs from `tag`.
/// The caller ensures `i + 16 ≤ len`.
#[inline(always)]
fn candidates16<const SOLE: bool, P: Copy>(lat: &Shared<P>, i: usize, sole: u8, tag: u8) -> u32 {
    debug_assert!(i + 16 <= lat.len);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; both 16-byte loads are in bounds (see
        // above) and unaligned loads are allowed.
        unsafe {
            let k = _mm_loadu_si128(lat.kind.add(i) as *const __m128i);
            let occ = if SOLE {
                _mm_movemask_epi8(_mm_cmpeq_epi8(k, _mm_set1_epi8(sole as i8))) as u32
            } else {
                !(_mm_movemask_epi8(_mm_cmpeq_epi8(k, _mm_setzero_si128())) as u32) & 0xFFFF
            };
            if occ == 0 {
                return 0;
            }
            let st = _mm_loadu_si128(lat.stamp.add(i) as *const __m128i);
            let is_tag = _mm_cmpeq_epi8(st, _mm_set1_epi8(tag as i8));
            // Reset stale stamps (see `lattice::step_tag`): only this step's tag survives.
            _mm_storeu_si128(lat.stamp.add(i) as *mut __m128i, _mm_and_si128(st, is_tag));
            occ & !(_mm_movemask_epi8(is_tag) as u32)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let half = |j: usize| -> u32 {
            let k = lat.word(j);
            let occ = if SOLE {
                !nonzero_bytes(k ^ (sole as u64 * 0x0101_0101_0101_0101))
            } else {
                nonzero_bytes(k)
            };
            let p = lat.stamp.wrapping_add(j) as *mut u64;
            // SAFETY: as for `word`, on the stamp array.
            let st = u64::from_le(unsafe { p.read_unaligned() });
            let stale = nonzero_bytes(st ^ (tag as u64 * 0x0101_0101_0101_0101));
            // Reset stale stamps (see `lattice::step_tag`): only this step's tag survives.
            let keep = !((stale >> 7) * 0xFF);
            // SAFETY: as above; this task owns these sites.
            unsafe { p.write_unaligned((st & keep).to_le()) };
            let due = occ & stale;
            // Gather bit 7 of each byte into the low 8 bits.
            (((due >> 7) & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
        };
        half(i) | half(i + 8) << 8
    }
}

/// False only if none of the 32 sites from `i` holds `sole` (or, when `SOLE` is false, any
/// cell). Conservative on targets without SSE2 (always true). Caller ensures `i + 32 ≤ len`.
#[inline(always)]
fn any_candidate32<const SOLE: bool, P: Copy>(lat: &Shared<P>, i: usize, sole: u8) -> bool {
    debug_assert!(i + 32 <= lat.len);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; both loads are in bounds (see above).
        unsafe {
            let a = _mm_loadu_si128(lat.kind.add(i) as *const __m128i);
            let b = _mm_loadu_si128(lat.kind.add(i + 16) as *const __m128i);
            if SOLE {
                let k = _mm_set1_epi8(sole as i8);
                let m = _mm_or_si128(_mm_cmpeq_epi8(a, k), _mm_cmpeq_epi8(b, k));
                _mm_movemask_epi8(m) != 0
            } else {
                let m = _mm_cmpeq_epi8(_mm_or_si128(a, b), _mm_setzero_si128());
                _mm_movemask_epi8(m) != 0xFFFF
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (lat, i, sole);
        true
    }
}

/// Collects into `cells` the sites of `tile` whose cell is due to act (kind acts, stamp is
/// not `tag`), in index order, and returns how many there are. Sixteen sites are tested at
/// a time ([`candidates16`]) so empty stretches cost a few instructions; with `SOLE` the
/// single acting kind is `sole` and no per-cell lookup is needed.
///
/// Cells on the lattice edge are tagged with [`EDGE_BIT`] so only they take the slow,
/// coordinate-checked neighbour path; everything else uses index deltas.
fn gather<const SOLE: bool, P: Copy>(
    tile: &Tile,
    cells: &mut Vec<u32>,
    lat: &Shared<P>,
    geom: &Geometry,
    acts: &[bool; 256],
    sole: u8,
    tag: u8,
) -> usize {
    // A buffer sized for the whole tile makes the append branch-free.
    cells.resize(tile.len(), 0);
    let out = cells.as_mut_ptr();
    let mut n = 0usize;
    let row_len = tile.hi[0] - tile.lo[0];
    let [nx, ny, nz] = geom.dims;
    for z in tile.lo[2]..tile.hi[2] {
        for y in tile.lo[1]..tile.hi[1] {
            let start = geom.index(tile.lo[0], y, z);
            // Whole rows on an edge get the tag as they are gathered; the end sites of other
            // rows are patched below (they are the first and last entries a row can append).
            let row_edge =
                !tile.interior && (y == 0 || y + 1 == ny || (nz > 1 && (z == 0 || z + 1 == nz)));
            let flag = (row_edge as u32) << 31;
            let row_first = n;
            let mut x = 0;
            while x + 16 <= row_len {
                // Skip 32 sites at once where none can act (most of a sparse lattice).
                if x + 32 <= row_len && !any_candidate32::<SOLE, P>(lat, start + x, sole) {
                    x += 32;
                    continue;
                }
                let mut due = candidates16::<SOLE, P>(lat, start + x, sole, tag);
                if SOLE {
                    // Branch-free append of all 16 sites: chunks that reach here hold ~14
                    // due cells on average (BDD, N = 1024), and a loop over the set bits
                    // mispredicts its exit about once per chunk.
                    let base = (start + x) as u32 | flag;
                    for b in 0..16u32 {
                        // SAFETY: n counts due sites before this one, so n < tile.len().
                        unsafe { *out.add(n) = base + b };
                        n += (due >> b & 1) as usize;
                    }
                    due = 0;
                }
                while due != 0 {
                    let i = start + x + due.trailing_zeros() as usize;
                    // SAFETY: every site is appended at most once, so n < tile.len() = len.
                    unsafe { *out.add(n) = i as u32 | flag };
                    n += if SOLE {
                        1
                    } else {
                        acts[lat.kind(i) as usize] as usize
                    };
                    due &= due - 1;
                }
                x += 16;
            }
            for i in start + x..start + row_len {
                let k = lat.kind(i);
                let stale = lat.stamp(i) != tag;
                if stale {
                    lat.set_stamp(i, 0);
                }
                let due = if SOLE { k == sole } else { acts[k as usize] } & stale;
                // SAFETY: as above.
                unsafe { *out.add(n) = i as u32 | flag };
                n += due as usize;
            }
            if n > row_first && !tile.interior {
                if tile.lo[0] == 0 && cells[row_first] & !EDGE_BIT == start as u32 {
                    cells[row_first] |= EDGE_BIT;
                }
                let last = (start + row_len - 1) as u32;
                if tile.hi[0] == nx && cells[n - 1] & !EDGE_BIT == last {
                    cells[n - 1] |= EDGE_BIT;
                }
            }
        }
    }
    n
}

/// Visits the tile's cells in shuffled order, deciding and applying each action.
#[allow(clippy::too_many_arguments)]
fn sweep_tile<R: Rule>(
    w: &mut TileWork,
    lat: &Shared<R::Payload>,
    geom: &Geometry,
    rule: &R,
    acts: &[bool; 256],
    sole: Option<u8>,
    seed: u64,
    step: u64,
    tag: u8,
) {
    let tile = &w.tile;
    let n = match sole {
        Some(k) => gather::<true, _>(tile, &mut w.cells, lat, geom, acts, k, tag),
        None => gather::<false, _>(tile, &mut w.cells, lat, geom, acts, 0, tag),
    };
    if n == 0 {
        return;
    }
    let mut rng = rng::stream(seed, Purpose::CellSweep, step, tile.id as u64);
    let deltas = geom.deltas();
    // Counters live in locals: writes through the lattice pointers could alias a `&mut Tally`
    // and force a store per cell.
    let mut t = Tally::default();
    let cells = &mut w.cells[..n];
    if let (Some(bd), Some(k), 4) = (rule.birth_death(), sole, deltas.len())
        && bd.into as u8 != k
    {
        // Cells whose bits say "no event" change nothing: only the others are kept, then put
        // in a random visiting order, for the acting pass. Drawing the bits and shuffling
        // first, then acting in a second pass, keeps the generator's 256-bit state out of
        // the hot loop's registers (an edge cell's rare further draws, e.g. which empty
        // neighbour, continue the same stream).
        w.bits.resize(n, 0);
        let bits = &mut w.bits[..n];
        let m = shuffle_keeping_events(cells, bits, &mut rng, bd.attempt);
        let deltas: &[isize; 4] = deltas.try_into().expect("4 neighbours");
        let (cells, bits) = (&cells[..m], &bits[..m]);
        act_birth_death(
            cells, bits, lat, geom, rule, bd, k, tag, &mut rng, deltas, &mut t,
        );
        // No cell of kind `k` is overwritten in this sweep (daughters go to sites of kind
        // `into` ≠ `k`), so every gathered cell acted.
        t.acted = n as u64;
    } else {
        // Fisher–Yates, two 32-bit choices per 64-bit draw (Lemire multiply-shift on each
        // half), then one pass acting in the shuffled order.
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
        for &entry in cells.iter() {
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
            let action = rule.decide(&view, &mut rng);
            apply(lat, &mut t, s, kind, action, tag);
        }
    }
    w.tally = t;
}

/// `PICK4[mask << 2 | p]`: index of the p-th set bit (from the lowest) of a 4-bit mask, for
/// p below the mask's popcount (other entries are 0 and never used to write).
const PICK4: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut mask = 0;
    while mask < 16 {
        let mut p = 0;
        let mut k = 0;
        while k < 4 {
            if mask >> k & 1 == 1 {
                t[mask << 2 | p] = k as u8;
                p += 1;
            }
            k += 1;
        }
        mask += 1;
    }
    t
};

/// Nibble `mask` of `POP4` is the number of set bits of the 4-bit `mask`.
const POP4: u64 = 0x4332_3221_3221_2110;

/// Scale for [`residual_pick`]: ⌊2⁴⁰ / width⌋ (0 for an empty band).
#[inline]
fn residual_scale(width: u64) -> u64 {
    (1u64 << 40).checked_div(width).unwrap_or(0)
}

/// A choice in `0..m` (m ≤ 26) from `v`, uniform on `0..width`: ⌊v·m / width⌋ computed as
/// `(v · ⌊2⁴⁰/width⌋ · m) >> 40` — no division in the loop. Always below m for v < width
/// (v·scale < 2⁴⁰); each value's probability is within m/width of 1/m.
#[inline(always)]
fn residual_pick(v: u64, scale: u64, m: u64) -> u64 {
    v.wrapping_mul(scale).wrapping_mul(m) >> 40
}

/// The [`Rule::birth_death`] fast path's order: first each cell's 32 rule bits (two cells
/// per 64-bit draw, in index order); a cell whose bits are `≥ attempt` has no event (it stays
/// and writes nothing) and is dropped, the others are packed to the front of `cells`, their
/// bits to the front of `bits`. Then the kept cells — not their bits — are shuffled (Fisher–
/// Yates, two 32-bit Lemire choices per draw). Returns how many were kept.
///
/// Why this is exact: each cell has an event independently with the right probability; the
/// kept cells are visited in a uniform random order (a uniform permutation of all cells,
/// restricted to the kept ones, is a uniform permutation of those); the bits at each position
/// are i.i.d. given "event" and independent of the permutation, so handing position k's bits
/// to whichever cell lands there gives every kept cell i.i.d. bits from the right conditional
/// law. Why: ≈ 79 % of BDD cells have no event, so only ≈ 21 % need a place in the order —
/// 0.6 draws per cell instead of 1, and the acting loop has no "attempt?" branch.
#[inline(never)]
fn shuffle_keeping_events(
    cells: &mut [u32],
    bits: &mut [u32],
    rng: &mut Stream,
    attempt: u64,
) -> usize {
    let n = cells.len();
    assert_eq!(bits.len(), n);
    let mut g = rng.clone();
    let mut kept = 0usize;
    let mut k = 0usize;
    // SAFETY (all unchecked accesses below): kept ≤ k < n while packing, and the shuffle's
    // indices are below `kept` ≤ n; both slices have length n.
    while k + 2 <= n {
        let r = g.next_u64();
        unsafe {
            *cells.get_unchecked_mut(kept) = *cells.get_unchecked(k);
            *bits.get_unchecked_mut(kept) = r as u32;
            kept += ((r & 0xFFFF_FFFF) < attempt) as usize;
            *cells.get_unchecked_mut(kept) = *cells.get_unchecked(k + 1);
            *bits.get_unchecked_mut(kept) = (r >> 32) as u32;
            kept += ((r >> 32) < attempt) as usize;
        }
        k += 2;
    }
    if k < n {
        let r = g.next_u64();
        unsafe {
            *cells.get_unchecked_mut(kept) = *cells.get_unchecked(k);
            *bits.get_unchecked_mut(kept) = r as u32;
        }
        kept += ((r & 0xFFFF_FFFF) < attempt) as usize;
    }
    // Fisher–Yates over the kept cells, from the back, two positions per draw.
    let mut i = kept;
    while i >= 3 {
        let r = g.next_u64();
        let j = (((r & 0xFFFF_FFFF) * i as u64) >> 32) as usize;
        let l = (((r >> 32) * (i - 1) as u64) >> 32) as usize;
        debug_assert!(j < i && l < i - 1);
        unsafe {
            let e = *cells.get_unchecked(j);
            *cells.get_unchecked_mut(j) = *cells.get_unchecked(i - 1);
            *cells.get_unchecked_mut(i - 1) = e;
            let e = *cells.get_unchecked(l);
            *cells.get_unchecked_mut(l) = *cells.get_unchecked(i - 2);
            *cells.get_unchecked_mut(i - 2) = e;
        }
        i -= 2;
    }
    if i == 2 {
        let j = rng::below(g.next_u64(), 2) as usize;
        cells.swap(1, j);
    }
    *rng = g;
    kept
}

/// The acting pass of the [`Rule::birth_death`] fast path (one acting kind `sole`, 4
/// neighbours), over the cells [`shuffle_keeping_events`] kept (those that die or
/// try to divide), in visiting order. Whether a division finds an empty neighbour (often
/// not, inside a dense tumour) and which neighbour it takes are computed without branching
/// (arithmetic selects, neighbour from the event bits: [`BirthDeath`]); the one write lands
/// on the daughter's site, or on the cell's own site when it dies or cannot divide. Edge
/// cells go through [`Rule::decide_with`].
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn act_birth_death<R: Rule>(
    cells: &[u32],
    bits: &[u32],
    lat: &Shared<R::Payload>,
    geom: &Geometry,
    rule: &R,
    bd: BirthDeath,
    sole: u8,
    tag: u8,
    rng: &mut Stream,
    deltas: &[isize; 4],
    t: &mut Tally,
) {
    let death = bd.death;
    let scale = residual_scale(bd.attempt.max(death) - death);
    let want = bd.into as u8;
    // `offset[mask << 2 | p]`: index delta of the p-th matching neighbour for that mask, 0
    // where the mask is empty (the write then lands on the cell's own site).
    let mut offset = [0isize; 64];
    for (i, o) in offset.iter_mut().enumerate().skip(4) {
        *o = deltas[PICK4[i] as usize & 3];
    }
    // The rare edge path's inputs behind one pointer: fewer live registers in the loop.
    let mut edge = EdgeCtx {
        lat,
        geom,
        rule,
        rng,
        t,
        deltas,
        sole,
        tag,
    };
    let (mut births, mut deaths) = (0u64, 0u64);
    for (&entry, &b) in cells.iter().zip(bits.iter()) {
        let s = (entry & !EDGE_BIT) as usize;
        if entry & EDGE_BIT != 0 {
            edge.act(s, b);
            continue;
        }
        let u = b as u64;
        // All ones if the cell dies (u < death), else 0: the sign of a wrapping difference
        // (both are below 2³³), which the compiler keeps as arithmetic rather than a branch.
        let v = u.wrapping_sub(death);
        let dies = (v as i64 >> 63) as isize;
        let at = |d: isize| (lat.kind((s as isize + d) as usize) == want) as usize;
        let mask = at(deltas[0]) | at(deltas[1]) << 1 | at(deltas[2]) << 2 | at(deltas[3]) << 3;
        // Popcount of a 4-bit mask from a packed table (no `popcnt` in the x86_64 baseline).
        let m = (POP4 >> (mask << 2)) & 0xF;
        // For a dying cell `v` wrapped: the pick is meaningless and masked off below.
        let p = residual_pick(v, scale, m) as usize & 3;
        // Arithmetic selects, no branch: a dying cell writes Empty on its own site; a
        // dividing one its kind on the chosen neighbour; one without a free neighbour its
        // own kind on its own site (unchanged but for the stamp: harmless, it has acted).
        let keep = !dies;
        let site = (s as isize + (offset[mask << 2 | p] & keep)) as usize;
        let kind = sole & keep as u8;
        lat.set(site, kind, tag, lat.payload(s));
        births += ((mask != 0) as u64) & keep as u64;
        deaths += dies as u64 & 1;
    }
    let k = sole as usize;
    let t = edge.t;
    t.births += births;
    t.deaths += deaths;
    t.births_by[k] += births;
    t.net[k] += births as i64 - deaths as i64;
}

/// What an edge cell of the [`Rule::birth_death`] fast path needs, passed by one pointer.
struct EdgeCtx<'a, 'r, R: Rule> {
    lat: &'a Shared<R::Payload>,
    geom: &'a Geometry,
    rule: &'a R,
    rng: &'r mut Stream,
    t: &'r mut Tally,
    deltas: &'a [isize; 4],
    sole: u8,
    tag: u8,
}

impl<R: Rule> EdgeCtx<'_, '_, R> {
    /// The edge cell at `s` with event bits `b`: the rule's general decision, applied.
    /// Out of line and cold so the acting loop keeps its registers.
    #[cold]
    #[inline(never)]
    fn act(&mut self, s: usize, b: u32) {
        let view = SiteView {
            shared: self.lat,
            geom: self.geom,
            site: s,
            kind: self.sole,
            interior: false,
            deltas: self.deltas,
        };
        let action = self.rule.decide_with(&view, b, self.rng);
        apply(self.lat, self.t, s, self.sole, action, self.tag);
    }
}

/// Applies the action of the cell of `kind` at site `s` at once, stamping every site it
/// writes with `tag` and counting it in `t`.
#[inline(always)]
fn apply<P: Copy>(lat: &Shared<P>, t: &mut Tally, s: usize, kind: u8, action: Action<P>, tag: u8) {
    match action {
        // A cell that keeps its site and kind writes no stamp: it was gathered once, so it
        // cannot act again this step, and the gather resets stale stamps (`step_tag`).
        Action::Stay => {}
        Action::Update(p) => lat.set_payload(s, p),
        Action::Die => {
            lat.set_kind(s, CellKind::Empty as u8, tag);
            t.deaths += 1;
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
            lat.set_payload(s, mother);
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
            edit(lat, t, at, k, tag);
        }
        Action::EditAndUpdate {
            at,
            kind: k,
            payload,
        } => {
            lat.set_payload(s, payload);
            edit(lat, t, at, k, tag);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_masks_match_a_site_by_site_check_and_reset_stale_stamps() {
        let mut r = rng::stream(6, Purpose::Bench, 0, 0);
        let n = 64;
        for round in 0..200 {
            let mut kind: Vec<u8> = (0..n).map(|_| (r.next_u64() % 4) as u8).collect();
            let mut stamp: Vec<u8> = (0..n).map(|_| (r.next_u64() % 3) as u8 * 7).collect();
            let tag = 7u8;
            let (k0, s0) = (kind.clone(), stamp.clone());
            let lat = Shared::<()> {
                kind: kind.as_mut_ptr(),
                stamp: stamp.as_mut_ptr(),
                payload: std::ptr::NonNull::<()>::dangling().as_ptr(),
                len: n,
            };
            let i = round % 17;
            let any = candidates16::<false, ()>(&lat, i, 0, tag);
            let two = candidates16::<true, ()>(&lat, i, 2, tag);
            for b in 0..16 {
                let stale = s0[i + b] != tag;
                assert_eq!(
                    any >> b & 1 == 1,
                    k0[i + b] != 0 && stale,
                    "round {round} b {b}"
                );
                assert_eq!(
                    two >> b & 1 == 1,
                    k0[i + b] == 2 && stale,
                    "round {round} b {b}"
                );
                assert_eq!(stamp[i + b], if stale { 0 } else { tag });
            }
            let has2 = (i..i + 32).any(|j| k0[j] == 2);
            let has_any = (i..i + 32).any(|j| k0[j] != 0);
            assert!(!has2 || any_candidate32::<true, ()>(&lat, i, 2));
            assert!(!has_any || any_candidate32::<false, ()>(&lat, i, 0));
            if cfg!(target_arch = "x86_64") {
                assert_eq!(any_candidate32::<true, ()>(&lat, i, 2), has2);
                assert_eq!(any_candidate32::<false, ()>(&lat, i, 0), has_any);
            }
        }
    }

    #[test]
    fn keeping_events_keeps_the_right_cells_in_a_uniform_order() {
        // Kept cells are exactly those whose bits (two per draw, index order) are below the
        // threshold, each kept once; bits at the front are all below it.
        for (n, attempt) in [
            (1usize, 1u64 << 31),
            (7, 0),
            (301, 900_000_000),
            (300, 1 << 32),
        ] {
            let mut cells: Vec<u32> = (0..n as u32).collect();
            let mut bits = vec![0u32; n];
            let mut r = rng::stream(3, Purpose::Bench, n as u64, 0);
            let mut check = r.clone();
            let kept = shuffle_keeping_events(&mut cells, &mut bits, &mut r, attempt);
            let mut expect = Vec::new();
            let mut i = 0;
            while i < n {
                let d = check.next_u64();
                for (c, u) in [(i, d & 0xFFFF_FFFF), (i + 1, d >> 32)] {
                    if c < n && u < attempt {
                        expect.push(c as u32);
                    }
                }
                i += 2;
            }
            let mut got = cells[..kept].to_vec();
            got.sort_unstable();
            assert_eq!(got, expect, "n {n} attempt {attempt}");
            assert!(bits[..kept].iter().all(|&u| (u as u64) < attempt));
        }
        // Order of 3 kept cells (threshold 2³²: all kept): 6 orders, 60 000 runs, 5 sd.
        let mut counts = std::collections::HashMap::new();
        let mut r = rng::stream(5, Purpose::Bench, 1, 0);
        for _ in 0..60_000 {
            let mut cells = [0u32, 1, 2];
            let mut bits = [0u32; 3];
            shuffle_keeping_events(&mut cells, &mut bits, &mut r, 1 << 32);
            *counts.entry(cells).or_insert(0i64) += 1;
        }
        assert_eq!(counts.len(), 6);
        for (order, c) in &counts {
            assert!((c - 10_000).abs() < 460, "{order:?}: {c}");
        }
    }

    #[test]
    fn pick_tables_match_bit_counting() {
        for mask in 0..16usize {
            let m = (POP4 >> (mask << 2)) & 0xF;
            assert_eq!(m, (mask as u32).count_ones() as u64, "mask {mask}");
            let set: Vec<usize> = (0..4).filter(|k| mask >> k & 1 == 1).collect();
            for (p, &k) in set.iter().enumerate() {
                assert_eq!(PICK4[mask << 2 | p] as usize, k, "mask {mask} p {p}");
            }
        }
    }

    #[test]
    fn residual_pick_is_in_range_and_uniform() {
        // Every v of a band: each of the m choices gets ⌊W/m⌋ or ⌈W/m⌉ values, up to the
        // fixed-point rounding (±m).
        for width in [1u64, 3, 10, 1000, 12_345] {
            let scale = residual_scale(width);
            for m in 1..=4u64 {
                let mut counts = [0u64; 4];
                for v in 0..width {
                    let p = residual_pick(v, scale, m);
                    assert!(p < m, "width {width} m {m} v {v}: {p}");
                    counts[p as usize] += 1;
                }
                for &c in &counts[..m as usize] {
                    assert!(
                        c.abs_diff(width / m) <= m + 1,
                        "width {width} m {m}: {counts:?}"
                    );
                }
            }
        }
        // The BDD band (d = 0.01, b = 0.2): the extremes stay in range.
        let (d, a) = (rng::threshold32(0.01), rng::threshold32(0.01 + 0.99 * 0.2));
        let scale = residual_scale(a - d);
        for m in 1..=4 {
            assert_eq!(residual_pick(0, scale, m), 0);
            assert_eq!(residual_pick(a - d - 1, scale, m), m - 1);
        }
    }

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
