//! Colours: cell kinds (colour-blind-aware, after Okabe & Ito 2008), clones, and the viridis
//! colormap for fields (perceptually uniform; matplotlib's control points).
//!
//! Reads: nothing. Writes: nothing (constants and pure functions).

use crate::cells::lattice::CellKind;

/// Display colour of a cell kind code (unknown codes: mid grey).
pub fn kind_rgb(code: u8) -> [u8; 3] {
    match CellKind::from_code(code) {
        Some(CellKind::Empty) => [0x2a, 0x27, 0x38], // marrow: dark slate
        Some(CellKind::Bone) => [0xec, 0xe4, 0xcc],  // bone: ivory
        Some(CellKind::Myeloma) => [0xe0, 0x2e, 0x7a], // myeloma: magenta-red
        Some(CellKind::Stroma) => [0x00, 0x9e, 0x73], // stroma: bluish green
        Some(CellKind::Osteoclast) => [0xe6, 0x9f, 0x00], // osteoclast: orange
        Some(CellKind::Osteoblast) => [0x56, 0xb4, 0xe9], // osteoblast: sky blue
        Some(CellKind::Lining) => [0xa8, 0x9f, 0x88], // lining: warm grey
        Some(CellKind::Haematopoietic) => [0x55, 0x52, 0x72], // haematopoietic: muted lavender
        Some(CellKind::Immune) => [0xf0, 0xe4, 0x42], // immune: yellow
        None => [0x80, 0x80, 0x80],
    }
}

/// Human-readable legend label of a kind code.
pub fn kind_label(code: u8) -> &'static str {
    match CellKind::from_code(code) {
        Some(CellKind::Empty) => "marrow (empty)",
        Some(CellKind::Bone) => "bone",
        Some(CellKind::Myeloma) => "myeloma",
        Some(CellKind::Stroma) => "stroma",
        Some(CellKind::Osteoclast) => "osteoclast",
        Some(CellKind::Osteoblast) => "osteoblast",
        Some(CellKind::Lining) => "lining cell",
        Some(CellKind::Haematopoietic) => "haematopoietic",
        Some(CellKind::Immune) => "immune (NK/T)",
        None => "other",
    }
}

/// Ten distinct clone colours (Okabe–Ito plus Tableau), cycled by clone index.
pub const CLONE_RGB: [[u8; 3]; 10] = [
    [0xe0, 0x2e, 0x7a],
    [0x00, 0x72, 0xb2],
    [0xe6, 0x9f, 0x00],
    [0x00, 0x9e, 0x73],
    [0x56, 0xb4, 0xe9],
    [0xd5, 0x5e, 0x00],
    [0xcc, 0x79, 0xa7],
    [0xf0, 0xe4, 0x42],
    [0x8c, 0x56, 0x4b],
    [0x7f, 0x7f, 0x7f],
];

/// Colour of clone `i`.
pub fn clone_rgb(i: u32) -> [u8; 3] {
    CLONE_RGB[i as usize % CLONE_RGB.len()]
}

const VIRIDIS: [[u8; 3]; 9] = [
    [0x44, 0x01, 0x54],
    [0x47, 0x2d, 0x7b],
    [0x3b, 0x52, 0x8b],
    [0x2c, 0x72, 0x8e],
    [0x21, 0x91, 0x8c],
    [0x28, 0xae, 0x80],
    [0x5e, 0xc9, 0x62],
    [0xad, 0xdc, 0x30],
    [0xfd, 0xe7, 0x25],
];

/// Viridis at `t` in 0..=1 (clamped; NaN → the low end).
pub fn viridis(t: f64) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    [0, 1, 2].map(|k| (a[k] as f64 + (b[k] as f64 - a[k] as f64) * f).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_colours_and_viridis_is_monotone_in_lightness() {
        let mut seen: Vec<[u8; 3]> = CellKind::ALL.iter().map(|&k| kind_rgb(k as u8)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), CellKind::ALL.len());
        let l = |c: [u8; 3]| 0.2126 * c[0] as f64 + 0.7152 * c[1] as f64 + 0.0722 * c[2] as f64;
        let mut prev = -1.0;
        for i in 0..=20 {
            let v = l(viridis(i as f64 / 20.0));
            assert!(v > prev, "viridis lightness must increase");
            prev = v;
        }
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }
}
