//! Fixed spatial partition of the lattice into tiles with a 2×2(×2) colouring.
//!
//! The partition depends only on the lattice size, the boundary and the scenario's target tile
//! edge — never on the thread count — so the parallel sweep gives the same result on any
//! machine. Tiles of one colour are at least one whole tile apart (and every tile is at least
//! 3 sites wide), so cells with a reach of one site in same-colour tiles never touch the same
//! site. With periodic boundaries the tile count along a wrapped axis is made even so the
//! colouring also holds across the wrap.
//!
//! Reads: geometry. Writes: nothing (pure partition).

use super::geometry::{Boundary, Geometry};

/// Smallest tile edge that keeps same-colour halos (reach 1) disjoint: 2·reach + 1.
pub const MIN_TILE_EDGE: usize = 3;

/// One tile: a box of sites `lo..hi` on each axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Position in `Tiling::tiles` (also its RNG stream key).
    pub id: usize,
    /// First site on each axis (inclusive).
    pub lo: [usize; 3],
    /// Last site on each axis (exclusive).
    pub hi: [usize; 3],
    /// Colour 0–7: parity of the tile coordinate on each axis.
    pub colour: usize,
    /// True when no site of the tile lies on a lattice edge, so neighbour lookups can
    /// use the fast index-delta path.
    pub interior: bool,
}

impl Tile {
    /// Number of sites in the tile.
    pub fn len(&self) -> usize {
        (0..3).map(|a| self.hi[a] - self.lo[a]).product()
    }

    /// True for a tile with no sites (never produced by `Tiling::new`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The tiles of a lattice grouped by colour.
#[derive(Clone, Debug)]
pub struct Tiling {
    /// All tiles, x-fastest.
    pub tiles: Vec<Tile>,
    /// Tile ids of each colour (colours with no tile are empty lists).
    pub by_colour: [Vec<usize>; 8],
    /// Tiles along each axis.
    pub counts: [usize; 3],
}

impl Tiling {
    /// Partitions `geom` into tiles whose edge is as close to `target_edge` as the rules allow.
    pub fn new(geom: &Geometry, target_edge: usize) -> Self {
        Self::with_shape(geom, [target_edge; 3])
    }

    /// As [`Self::new`] with a target edge per axis.
    pub fn with_shape(geom: &Geometry, target: [usize; 3]) -> Self {
        let mut counts = [1usize; 3];
        let mut bounds: [Vec<usize>; 3] = Default::default();
        for a in 0..3 {
            let target = target[a].max(MIN_TILE_EDGE);
            let n = geom.dims[a];
            let mut t = ((n as f64 / target as f64).round() as usize).max(1);
            if geom.boundary == Boundary::Periodic && t > 1 && t % 2 == 1 {
                t = if n / (t + 1) >= MIN_TILE_EDGE {
                    t + 1
                } else {
                    t - 1
                };
            }
            while t > 1 && n / t < MIN_TILE_EDGE {
                t -= if geom.boundary == Boundary::Periodic && t > 2 {
                    2
                } else {
                    1
                };
            }
            counts[a] = t;
            // Spread the remainder so edges differ by at most one site.
            bounds[a] = (0..=t).map(|k| k * n / t).collect();
        }
        let mut tiles = Vec::with_capacity(counts.iter().product());
        let mut by_colour: [Vec<usize>; 8] = Default::default();
        for tz in 0..counts[2] {
            for ty in 0..counts[1] {
                for tx in 0..counts[0] {
                    let lo = [bounds[0][tx], bounds[1][ty], bounds[2][tz]];
                    let hi = [bounds[0][tx + 1], bounds[1][ty + 1], bounds[2][tz + 1]];
                    let colour = (tx % 2) + 2 * (ty % 2) + 4 * (tz % 2);
                    let interior =
                        (0..3).all(|a| geom.dims[a] == 1 || (lo[a] > 0 && hi[a] < geom.dims[a]));
                    let id = tiles.len();
                    by_colour[colour].push(id);
                    tiles.push(Tile {
                        id,
                        lo,
                        hi,
                        colour,
                        interior,
                    });
                }
            }
        }
        Self {
            tiles,
            by_colour,
            counts,
        }
    }

    /// Colours that have at least one tile.
    pub fn used_colours(&self) -> Vec<usize> {
        (0..8).filter(|&c| !self.by_colour[c].is_empty()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::geometry::Neighbourhood;

    fn covers_every_site_once(g: &Geometry, t: &Tiling) {
        let mut seen = vec![0u8; g.len()];
        for tile in &t.tiles {
            for z in tile.lo[2]..tile.hi[2] {
                for y in tile.lo[1]..tile.hi[1] {
                    for x in tile.lo[0]..tile.hi[0] {
                        seen[g.index(x, y, z)] += 1;
                    }
                }
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    /// Same-colour tiles must be separated by at least one site on some axis (taking wraps
    /// into account), so reach-1 halos never overlap.
    fn same_colour_tiles_are_separated(g: &Geometry, t: &Tiling) {
        for c in 0..8 {
            let ids = &t.by_colour[c];
            for (i, &a) in ids.iter().enumerate() {
                for &b in &ids[i + 1..] {
                    let (ta, tb) = (&t.tiles[a], &t.tiles[b]);
                    let separated = (0..3).any(|ax| {
                        let n = g.dims[ax];
                        if g.boundary == Boundary::Periodic {
                            // Gaps between the boxes going either way round the torus.
                            let g1 = (tb.lo[ax] + n - ta.hi[ax]) % n;
                            let g2 = (ta.lo[ax] + n - tb.hi[ax]) % n;
                            g1 >= 2 && g2 >= 2
                        } else {
                            tb.lo[ax] >= ta.hi[ax] + 2 || ta.lo[ax] >= tb.hi[ax] + 2
                        }
                    });
                    assert!(separated, "tiles {a} and {b} of colour {c} touch");
                }
            }
        }
    }

    #[test]
    fn partitions_are_valid() {
        for (dims, b, edge) in [
            ([100, 100, 1], Boundary::Closed, 32),
            ([100, 100, 1], Boundary::Periodic, 32),
            ([97, 61, 1], Boundary::Periodic, 16),
            ([40, 40, 40], Boundary::Closed, 16),
            ([30, 30, 30], Boundary::Periodic, 8),
            ([5, 5, 1], Boundary::Periodic, 32),
        ] {
            let g = Geometry::new(dims, 10.0, b, Neighbourhood::Moore);
            let t = Tiling::new(&g, edge);
            covers_every_site_once(&g, &t);
            same_colour_tiles_are_separated(&g, &t);
            for a in 0..3 {
                if b == Boundary::Periodic && t.counts[a] > 1 {
                    assert_eq!(t.counts[a] % 2, 0, "{dims:?}");
                }
            }
        }
    }

    #[test]
    fn partition_ignores_thread_count() {
        let g = Geometry::new([256, 256, 1], 10.0, Boundary::Closed, Neighbourhood::Moore);
        let a = Tiling::new(&g, 32);
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| Tiling::new(&g, 32));
        assert_eq!(a.tiles, b.tiles);
    }
}
