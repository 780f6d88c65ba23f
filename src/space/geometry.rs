//! Lattice geometry: site indexing, boundaries and neighbourhood offset tables, for 2D and 3D
//! through the same code (a 2D lattice is a 3D one with `nz = 1`).
//!
//! Sites are stored x-fastest: `index = x + nx·(y + ny·z)`. Neighbourhoods are tables of
//! coordinate offsets plus the matching index deltas, so the interior fast path is one add.
//!
//! Reads: nothing. Writes: nothing (pure geometry).

/// What happens at the lattice edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// No site beyond the edge: cells cannot leave, fields have no flux across it.
    Closed,
    /// The lattice wraps around (a torus).
    Periodic,
}

/// Which sites count as neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Neighbourhood {
    /// Face neighbours: 4 in 2D, 6 in 3D.
    VonNeumann,
    /// Face, edge and corner neighbours: 8 in 2D, 26 in 3D.
    Moore,
}

/// Shape of the lattice and how its sites connect.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    /// Sites along x, y, z (`nz = 1` for 2D).
    pub dims: [usize; 3],
    /// Edge of one site [µm].
    pub site_um: f64,
    /// Edge behaviour.
    pub boundary: Boundary,
    /// Neighbour set used by cells.
    pub hood: Neighbourhood,
    offsets: Vec<[i32; 3]>,
    deltas: Vec<isize>,
}

impl Geometry {
    /// A lattice of `dims` sites of `site_um` µm.
    ///
    /// # Panics
    /// If any dimension is zero (validation rejects that before it gets here).
    pub fn new(dims: [usize; 3], site_um: f64, boundary: Boundary, hood: Neighbourhood) -> Self {
        assert!(
            dims.iter().all(|&d| d > 0),
            "lattice dimensions must be positive"
        );
        let offsets = neighbour_offsets(hood, dims[2] > 1);
        let (nx, ny) = (dims[0] as isize, dims[1] as isize);
        let deltas = offsets
            .iter()
            .map(|o| o[0] as isize + nx * (o[1] as isize + ny * o[2] as isize))
            .collect();
        Self {
            dims,
            site_um,
            boundary,
            hood,
            offsets,
            deltas,
        }
    }

    /// Number of sites.
    #[inline]
    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// True when the lattice has no sites (never, for a validated scenario).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for a 3D lattice.
    pub fn is_3d(&self) -> bool {
        self.dims[2] > 1
    }

    /// Number of spatial dimensions in use (2 or 3).
    pub fn spatial_dims(&self) -> usize {
        if self.is_3d() { 3 } else { 2 }
    }

    /// Flat index of `(x, y, z)`.
    #[inline]
    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        x + self.dims[0] * (y + self.dims[1] * z)
    }

    /// Coordinates of a flat index.
    #[inline]
    pub fn coords(&self, i: usize) -> [usize; 3] {
        let x = i % self.dims[0];
        let r = i / self.dims[0];
        [x, r % self.dims[1], r / self.dims[1]]
    }

    /// The neighbourhood's coordinate offsets, in a fixed order.
    pub fn offsets(&self) -> &[[i32; 3]] {
        &self.offsets
    }

    /// Index deltas of the neighbourhood, matching [`Self::offsets`] (valid for interior sites).
    pub fn deltas(&self) -> &[isize] {
        &self.deltas
    }

    /// Size of the neighbourhood.
    #[inline]
    pub fn hood_size(&self) -> usize {
        self.offsets.len()
    }

    /// True if every neighbour of `c` is inside the lattice without wrapping, so the index
    /// deltas apply directly.
    #[inline]
    pub fn is_interior(&self, c: [usize; 3]) -> bool {
        let [nx, ny, nz] = self.dims;
        c[0] > 0
            && c[0] + 1 < nx
            && c[1] > 0
            && c[1] + 1 < ny
            && (nz == 1 || (c[2] > 0 && c[2] + 1 < nz))
    }

    /// The `k`-th neighbour of site `i` at coordinates `c`, or `None` beyond a closed edge.
    #[inline]
    pub fn neighbour(&self, i: usize, c: [usize; 3], k: usize) -> Option<usize> {
        if self.is_interior(c) {
            return Some((i as isize + self.deltas[k]) as usize);
        }
        self.neighbour_slow(c, k)
    }

    /// Neighbour lookup with edge handling.
    fn neighbour_slow(&self, c: [usize; 3], k: usize) -> Option<usize> {
        let o = self.offsets[k];
        let mut q = [0usize; 3];
        for a in 0..3 {
            let n = self.dims[a] as i64;
            let mut v = c[a] as i64 + o[a] as i64;
            if v < 0 || v >= n {
                match self.boundary {
                    Boundary::Closed => return None,
                    Boundary::Periodic => v = v.rem_euclid(n),
                }
            }
            q[a] = v as usize;
        }
        Some(self.index(q[0], q[1], q[2]))
    }

    /// Writes the neighbours of a site known to be interior (see [`Self::is_interior`]).
    #[inline]
    pub fn neighbours_interior(&self, i: usize, out: &mut [usize; 26]) -> usize {
        for (o, d) in out.iter_mut().zip(&self.deltas) {
            *o = (i as isize + d) as usize;
        }
        self.deltas.len()
    }

    /// Writes the in-lattice neighbours of site `i` into `out` and returns how many there are.
    #[inline]
    pub fn neighbours(&self, i: usize, c: [usize; 3], out: &mut [usize; 26]) -> usize {
        if self.is_interior(c) {
            return self.neighbours_interior(i, out);
        }
        let mut n = 0;
        for k in 0..self.offsets.len() {
            if let Some(j) = self.neighbour_slow(c, k) {
                out[n] = j;
                n += 1;
            }
        }
        n
    }

    /// Physical position of a site centre [µm].
    pub fn position_um(&self, c: [usize; 3]) -> [f64; 3] {
        [
            (c[0] as f64 + 0.5) * self.site_um,
            (c[1] as f64 + 0.5) * self.site_um,
            (c[2] as f64 + 0.5) * self.site_um,
        ]
    }
}

/// The offsets of a neighbourhood, in a fixed order (x fastest), excluding the centre.
fn neighbour_offsets(hood: Neighbourhood, three_d: bool) -> Vec<[i32; 3]> {
    let zr: &[i32] = if three_d { &[-1, 0, 1] } else { &[0] };
    let mut v = Vec::new();
    for &dz in zr {
        for dy in -1i32..=1 {
            for dx in -1i32..=1 {
                let manhattan = dx.abs() + dy.abs() + dz.abs();
                let keep = match hood {
                    Neighbourhood::VonNeumann => manhattan == 1,
                    Neighbourhood::Moore => manhattan > 0,
                };
                if keep {
                    v.push([dx, dy, dz]);
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hood_sizes() {
        let g2 = Geometry::new([5, 5, 1], 10.0, Boundary::Closed, Neighbourhood::VonNeumann);
        assert_eq!(g2.hood_size(), 4);
        let g2m = Geometry::new([5, 5, 1], 10.0, Boundary::Closed, Neighbourhood::Moore);
        assert_eq!(g2m.hood_size(), 8);
        let g3 = Geometry::new([5, 5, 5], 10.0, Boundary::Closed, Neighbourhood::VonNeumann);
        assert_eq!(g3.hood_size(), 6);
        let g3m = Geometry::new([5, 5, 5], 10.0, Boundary::Closed, Neighbourhood::Moore);
        assert_eq!(g3m.hood_size(), 26);
    }

    #[test]
    fn closed_corner_has_fewer_neighbours() {
        let g = Geometry::new([4, 3, 1], 10.0, Boundary::Closed, Neighbourhood::Moore);
        let mut out = [0; 26];
        assert_eq!(g.neighbours(0, [0, 0, 0], &mut out), 3);
        let mut got = out[..3].to_vec();
        got.sort();
        assert_eq!(got, vec![1, 4, 5]);
    }

    #[test]
    fn periodic_wraps() {
        let g = Geometry::new(
            [4, 3, 1],
            10.0,
            Boundary::Periodic,
            Neighbourhood::VonNeumann,
        );
        let mut out = [0; 26];
        assert_eq!(g.neighbours(0, [0, 0, 0], &mut out), 4);
        let mut got = out[..4].to_vec();
        got.sort();
        // (0,-1)->(0,2)=8, (-1,0)->(3,0)=3, (1,0)=1, (0,1)=4
        assert_eq!(got, vec![1, 3, 4, 8]);
    }

    #[test]
    fn interior_fast_path_matches_slow_path() {
        for hood in [Neighbourhood::VonNeumann, Neighbourhood::Moore] {
            let g = Geometry::new([6, 5, 4], 10.0, Boundary::Closed, hood);
            for i in 0..g.len() {
                let c = g.coords(i);
                for k in 0..g.hood_size() {
                    assert_eq!(g.neighbour(i, c, k), g.neighbour_slow(c, k));
                }
            }
        }
    }

    #[test]
    fn index_roundtrip() {
        let g = Geometry::new([7, 5, 3], 10.0, Boundary::Closed, Neighbourhood::Moore);
        for i in 0..g.len() {
            let c = g.coords(i);
            assert_eq!(g.index(c[0], c[1], c[2]), i);
        }
    }
}
