//! THE factor that scales the simulated marrow region to the whole patient (used by stage
//! `advance_compartments`).
//!
//! The lattice is a *representative* sample of red marrow. One site is one cell-sized volume
//! (`site_um`³, 10 µm → 1 pL). The patient's active (red) marrow volume is
//! `red_marrow_g_per_kg × weight / density` (ICRP 89: 1170 g in the 73-kg reference man,
//! 900 g in the 60-kg woman, ≈ 16 g/kg; density ≈ 1.03 g/mL). The scale is
//!
//! ```text
//! cells_per_site = V_red_marrow / (marrow sites × site volume)
//! ```
//!
//! where *marrow sites* are the region's non-bone sites at the start (in 2D the region is a
//! one-site-thick slab, so the sample volume is `marrow sites × site_um³`). Worked example
//! (default 200 × 200 × 10 µm region with BV/TV 20 %, 70 kg): V = 1120 g/1.03 ≈ 1087 mL =
//! 1.087e12 pL; marrow sites 32 000 → 3.4e7 real cells per site. A region half filled with
//! myeloma (16 000 sites) then maps to 5.4e11 cells — the 10^11–10^12 cells at diagnosis of
//! MODEL.md §2a/§2d (Durie & Salmon 1975), and a fully packed marrow (~1.1e12 sites) to the
//! ~10^12 nucleated marrow cells of MODEL.md §2c.
//!
//! Reads: scenario numbers. Writes: nothing.

/// Red-marrow density [g/mL] (ICRP 89: ~1.03) [M].
pub const RED_MARROW_DENSITY_G_PER_ML: f64 = 1.03;

/// The region→patient scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// Real cells represented by one simulated site [cells/site].
    pub cells_per_site: f64,
    /// Real tissue volume represented by one simulated site [mL].
    pub ml_per_site: f64,
}

impl Scale {
    /// The scale for a patient of `weight_kg` with `red_marrow_g_per_kg`, a region with
    /// `marrow_sites` non-bone sites of edge `site_um`; `fixed > 0` overrides the result.
    pub fn new(
        weight_kg: f64,
        red_marrow_g_per_kg: f64,
        marrow_sites: usize,
        site_um: f64,
        fixed: f64,
    ) -> Self {
        let site_ml = (site_um * 1e-4).powi(3); // µm → cm; 1 cm³ = 1 mL
        let marrow_ml = red_marrow_g_per_kg * weight_kg / RED_MARROW_DENSITY_G_PER_ML;
        let derived = marrow_ml / (marrow_sites.max(1) as f64 * site_ml);
        let cells_per_site = if fixed > 0.0 { fixed } else { derived };
        Self {
            cells_per_site,
            ml_per_site: cells_per_site * site_ml,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example() {
        let s = Scale::new(70.0, 16.0, 32_000, 10.0, 0.0);
        assert!(
            (s.cells_per_site / 3.4e7 - 1.0).abs() < 0.02,
            "{}",
            s.cells_per_site
        );
        assert!((16_000.0 * s.cells_per_site / 5.4e11 - 1.0).abs() < 0.02);
        assert_eq!(Scale::new(70.0, 16.0, 10, 10.0, 5.0).cells_per_site, 5.0);
    }
}
