//! Serum M-protein, involved free light chain and polyclonal IgG (stage
//! `advance_compartments`).
//!
//! MODEL.md §2d: `dM/dt = s·N/V − k(M)·M`. N is the whole-patient myeloma cell count (lattice
//! count × scale), s the secretion per cell, V the distribution volume and k = ln 2/t½ the
//! isotype's catabolic rate (IgG 21 d, IgA 6 d; Waldmann & Strober 1969). With
//! `fcrn_saturation`, IgG catabolism speeds up with total IgG: t½ falls linearly from 21 d at
//! ≤ 12 g/L to 11 d at ≥ 60 g/L (Waldmann & Strober 1969: ~11 d at very high IgG).
//! Each step uses the exact solution for constant production over the step,
//! `M' = M·e^(−k·dt) + (P/k)(1 − e^(−k·dt))`, so M can never fall faster than catabolism
//! (`M' ≥ M·e^(−k·dt)`), however abruptly the tumour disappears.
//!
//! Distribution volume: IgG is ~45 % intravascular, plasma volume 40 mL/kg (MODEL.md §2d), so
//! V = 0.040·W/0.45 L (6.2 L at 70 kg); IgA the same [M]. Free light chains (22.5 kDa) are
//! cleared by the kidneys: t½ ≈ 3 h (κ 2–4 h, λ 3–6 h) at normal function, prolonged in
//! proportion to lost function; V = plasma volume [M].
//! Polyclonal IgG: normal 10 g/L (reference 7–16 g/L), production from normal plasma cells
//! scaled by marrow output and suppressed by the myeloma fraction (immunoparesis, half at
//! `POLY_SUPPRESSION_HALF` myeloma fraction [L]).
//!
//! Reads: myeloma cell count, marrow output, renal function. Writes: its own state.

use crate::scenario::Isotype;

/// IgG half-life [h] (21 d; MODEL.md §2d [H]).
pub const IGG_HALF_LIFE_H: f64 = 21.0 * 24.0;
/// IgG half-life at saturated FcRn [h] (11 d; Waldmann & Strober 1969) [M].
pub const IGG_SATURATED_HALF_LIFE_H: f64 = 11.0 * 24.0;
/// IgA half-life [h] (6 d; MODEL.md §2d) [M].
pub const IGA_HALF_LIFE_H: f64 = 6.0 * 24.0;
/// Free-light-chain half-life with normal kidneys [h] (κ 2–4 h, λ 3–6 h; MODEL.md §2d) [H].
pub const FLC_HALF_LIFE_H: f64 = 3.0;
/// Plasma volume [L/kg] (MODEL.md §2d) [M].
pub const PLASMA_L_PER_KG: f64 = 0.040;
/// Intravascular fraction of IgG (MODEL.md §2d) [M].
pub const IGG_INTRAVASCULAR: f64 = 0.45;
/// Normal polyclonal IgG [g/L] (reference interval 7–16 g/L) [H].
pub const IGG_NORMAL_G_L: f64 = 10.0;
/// Normal uninvolved/involved FLC background [mg/L] (κ 3.3–19.4 mg/L; MODEL.md §2d) [H].
pub const FLC_NORMAL_MG_L: f64 = 10.0;
/// Myeloma fraction of marrow that halves normal plasma-cell output (immunoparesis) [L].
pub const POLY_SUPPRESSION_HALF: f64 = 0.1;

/// Serum proteins of one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct Serum {
    isotype: Isotype,
    /// Monoclonal protein [g/L] (0 for light-chain disease).
    pub m_g_l: f64,
    /// Involved free light chain above background [mg/L].
    pub flc_excess_mg_l: f64,
    /// Polyclonal IgG [g/L].
    pub igg_poly_g_l: f64,
    volume_l: f64,
    plasma_l: f64,
    m_g_per_cell_h: f64,
    flc_mg_per_cell_h: f64,
    fcrn: bool,
}

impl Serum {
    /// A healthy patient of `weight_kg` with a clone of `isotype` secreting
    /// `m_pg_per_cell_day` and `flc_pg_per_cell_day`.
    pub fn new(
        isotype: Isotype,
        weight_kg: f64,
        m_pg_per_cell_day: f64,
        flc_pg_per_cell_day: f64,
        fcrn: bool,
    ) -> Self {
        let plasma_l = PLASMA_L_PER_KG * weight_kg;
        let (m, flc) = match isotype {
            // Light-chain myeloma secretes only light chains (Bence Jones): all of its
            // immunoglobulin synthesis goes to FLC.
            Isotype::LightChain => (0.0, m_pg_per_cell_day * 0.5 + flc_pg_per_cell_day),
            _ => (m_pg_per_cell_day, flc_pg_per_cell_day),
        };
        Self {
            isotype,
            m_g_l: 0.0,
            flc_excess_mg_l: 0.0,
            igg_poly_g_l: IGG_NORMAL_G_L,
            volume_l: plasma_l / IGG_INTRAVASCULAR,
            plasma_l,
            m_g_per_cell_h: m * 1e-12 / 24.0,
            flc_mg_per_cell_h: flc * 1e-9 / 24.0,
            fcrn,
        }
    }

    /// Serum M-protein [g/dL].
    pub fn m_g_dl(&self) -> f64 {
        self.m_g_l / 10.0
    }

    /// Involved free light chain [mg/L] (background + clone).
    pub fn flc_mg_l(&self) -> f64 {
        FLC_NORMAL_MG_L + self.flc_excess_mg_l
    }

    /// Catabolic rate of the M-protein [1/h] at the current total IgG.
    pub fn m_decay_per_h(&self) -> f64 {
        match self.isotype {
            Isotype::IgA => std::f64::consts::LN_2 / IGA_HALF_LIFE_H,
            _ => self.igg_decay_per_h(),
        }
    }

    fn igg_decay_per_h(&self) -> f64 {
        let mut t = IGG_HALF_LIFE_H;
        if self.fcrn {
            let total = self.igg_poly_g_l
                + if self.isotype == Isotype::IgG {
                    self.m_g_l
                } else {
                    0.0
                };
            let f = ((total - 12.0) / 48.0).clamp(0.0, 1.0);
            t = IGG_HALF_LIFE_H + f * (IGG_SATURATED_HALF_LIFE_H - IGG_HALF_LIFE_H);
        }
        std::f64::consts::LN_2 / t
    }

    /// Advances `dt_h` hours with `mm_cells` whole-patient myeloma cells, normal marrow output
    /// `output` (1 = healthy), myeloma marrow fraction `mm_fraction` and renal function
    /// `renal` (1 = normal).
    pub fn advance(&mut self, dt_h: f64, mm_cells: f64, output: f64, mm_fraction: f64, renal: f64) {
        let k = self.m_decay_per_h();
        let p = self.m_g_per_cell_h * mm_cells / self.volume_l;
        self.m_g_l = exact(self.m_g_l, p, k, dt_h);
        let kf = std::f64::consts::LN_2 / FLC_HALF_LIFE_H * renal.max(0.05);
        let pf = self.flc_mg_per_cell_h * mm_cells / self.plasma_l;
        self.flc_excess_mg_l = exact(self.flc_excess_mg_l, pf, kf, dt_h);
        let kg = self.igg_decay_per_h();
        let normal = output.max(0.0) / (1.0 + mm_fraction / POLY_SUPPRESSION_HALF);
        let pg = std::f64::consts::LN_2 / IGG_HALF_LIFE_H * IGG_NORMAL_G_L * normal;
        self.igg_poly_g_l = exact(self.igg_poly_g_l, pg, kg, dt_h);
    }
}

/// Exact step of dx/dt = p − k·x over `dt` with constant p, k.
pub fn exact(x: f64, p: f64, k: f64, dt: f64) -> f64 {
    if k <= 0.0 {
        return x + p * dt;
    }
    let e = (-k * dt).exp();
    x * e + p / k * (1.0 - e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_steady_state() {
        // MODEL.md §2d: 5e11 cells × 20 pg/day, t½ 21 d, V = 6.2 L → ≈ 4.9 g/dL.
        let mut s = Serum::new(Isotype::IgG, 70.0, 20.0, 5.0, false);
        for _ in 0..(400 * 24) {
            s.advance(1.0, 5e11, 1.0, 0.0, 1.0);
        }
        assert!((s.m_g_dl() - 4.86).abs() < 0.1, "{}", s.m_g_dl());
    }

    #[test]
    fn decline_is_bounded_by_catabolism() {
        let mut s = Serum::new(Isotype::IgG, 70.0, 20.0, 5.0, true);
        for _ in 0..(200 * 24) {
            s.advance(1.0, 5e11, 1.0, 0.5, 1.0);
        }
        let m0 = s.m_g_l;
        let k = s.m_decay_per_h();
        s.advance(1.0, 0.0, 1.0, 0.0, 1.0);
        assert!(s.m_g_l >= m0 * (-k).exp() * (1.0 - 1e-12));
        // Halving takes ~21 d without FcRn saturation.
        let mut s = Serum::new(Isotype::IgG, 70.0, 20.0, 5.0, false);
        s.m_g_l = 40.0;
        for _ in 0..(21 * 24) {
            s.advance(1.0, 0.0, 1.0, 0.0, 1.0);
        }
        assert!((s.m_g_l - 20.0).abs() < 0.05);
    }
}
