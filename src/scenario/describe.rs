//! `myelosim check` output: a validated scenario's resolved settings in internal units (with
//! units), the tiling, and the derived dimensionless numbers (D·Δt/Δx², k·Δt, diffusion
//! lengths, per-step event probabilities), with a warning line for anything risky.
//!
//! Reads: a [`Scenario`]. Writes: nothing (returns text).

use std::fmt::Write as _;

use super::types::{BoneParams, Placement, Scenario, Solver};
use super::validate::explicit_limit;
use crate::space::geometry::{Boundary, Geometry, Neighbourhood};
use crate::space::tiles::Tiling;

/// Per-step event probability above which a warning is printed (events would be coarse).
pub const PROBABILITY_WARNING: f64 = 0.5;

/// Probability that an event with rate `r` [1/h] happens within `dt_h` hours: 1 − e^(−r·dt).
pub fn step_probability(rate_per_h: f64, dt_h: f64) -> f64 {
    -(-rate_per_h * dt_h).exp_m1()
}

/// Human-readable resolved settings + derived dimensionless numbers, printed by `myelosim check`.
pub fn describe(s: &Scenario) -> String {
    let mut o = String::new();
    let mut warnings = Vec::new();
    let [nx, ny, nz] = s.space.dims;
    let geom = Geometry::new(
        s.space.dims,
        s.space.site_um,
        s.space.boundary,
        s.space.hood,
    );
    let dims = geom.spatial_dims();
    let tiling = Tiling::new(&geom, s.space.tile_edge);
    let hours = s.steps as f64 * s.dt_h;

    // `write!` into a String cannot fail.
    let _ = writeln!(o, "Scenario `{}` ({})", s.name, s.origin);
    for ov in &s.overrides {
        let _ = writeln!(o, "  override: --set {ov}");
    }
    let _ = writeln!(o, "\nRun");
    let _ = writeln!(
        o,
        "  steps:          {} × dt {} h = {} h = {} days",
        s.steps,
        s.dt_h,
        fmt_num(hours),
        fmt_num(hours / 24.0)
    );
    let _ = writeln!(o, "  seed:           {}", s.seed);
    let _ = writeln!(
        o,
        "  record every:   {} steps ({} h) → {} rows incl. t = 0",
        s.record_every_steps,
        fmt_num(s.record_every_steps as f64 * s.dt_h),
        s.steps / s.record_every_steps + 1
    );
    let every = s.output.snapshot_every_steps;
    if every == 0 {
        let _ = writeln!(o, "  snapshots:      none (output.snapshot_every_d = 0)");
    } else {
        let _ = writeln!(
            o,
            "  snapshots:      every {} steps ({} d) → {} frames incl. t = 0 and the end",
            every,
            fmt_num(every as f64 * s.dt_h / 24.0),
            s.steps / every + 1 + u64::from(s.steps % every != 0)
        );
    }

    let _ = writeln!(o, "\nSpace");
    let _ = writeln!(
        o,
        "  lattice:        {nx} × {ny} × {nz} sites ({dims}D, {} sites) of {} µm = {} × {} × {} µm",
        geom.len(),
        s.space.site_um,
        fmt_num(nx as f64 * s.space.site_um),
        fmt_num(ny as f64 * s.space.site_um),
        fmt_num(nz as f64 * s.space.site_um)
    );
    let _ = writeln!(
        o,
        "  boundary:       {}",
        match s.space.boundary {
            Boundary::Closed => "closed (no flux, cells stay in)",
            Boundary::Periodic => "periodic (torus)",
        }
    );
    let _ = writeln!(
        o,
        "  neighbourhood:  {} ({} neighbours)",
        match s.space.hood {
            Neighbourhood::Moore => "moore",
            Neighbourhood::VonNeumann => "von_neumann",
        },
        geom.hood_size()
    );
    let _ = writeln!(
        o,
        "  tiles:          {} × {} × {} = {} tiles (target edge {} sites)",
        tiling.counts[0],
        tiling.counts[1],
        tiling.counts[2],
        tiling.tiles.len(),
        s.space.tile_edge
    );
    if tiling.tiles.len() < 4 {
        warnings.push(format!(
            "only {} tile(s): the cell update cannot run in parallel; use a smaller tile_sites",
            tiling.tiles.len()
        ));
    }

    let _ = writeln!(o, "\nBone");
    match &s.bone {
        BoneParams::None => {
            let _ = writeln!(o, "  geometry:       none (marrow only)");
        }
        BoneParams::Procedural {
            bv_tv,
            thickness_um,
        } => {
            let _ = writeln!(
                o,
                "  geometry:       procedural, BV/TV {} %, trabecular thickness {} µm ({} sites)",
                fmt_num(bv_tv * 100.0),
                thickness_um,
                fmt_num(thickness_um / s.space.site_um)
            );
        }
        BoneParams::Mask { path } => {
            let _ = writeln!(o, "  geometry:       mask {}", path.display());
        }
    }

    let m = &s.myeloma;
    let _ = writeln!(o, "\nMyeloma");
    let _ = writeln!(
        o,
        "  initial cells:  {} ({})",
        m.initial_cells,
        match m.placement {
            Placement::Centre => "centre",
            Placement::Random => "random",
        }
    );
    let _ = writeln!(
        o,
        "  division:       {} /h (fastest doubling time ln 2/r = {} h)",
        m.division_per_h,
        fmt_num(if m.division_per_h > 0.0 {
            std::f64::consts::LN_2 / m.division_per_h
        } else {
            f64::INFINITY
        })
    );
    let _ = writeln!(o, "  death:          {} /h", m.death_per_h);

    let _ = writeln!(o, "\nFields (dx = {} µm)", s.space.site_um);
    if s.fields.is_empty() {
        let _ = writeln!(o, "  (none)");
    }
    let limit = explicit_limit(dims);
    for f in &s.fields {
        let d_num = f.diffusion_number(s.dt_h, s.space.site_um);
        let k_num = f.decay_number(s.dt_h);
        let len = f.diffusion_length_um();
        let solver = match f.solver {
            Solver::Explicit => "explicit",
            Solver::Implicit => "implicit",
        };
        let _ = writeln!(o, "  {}:", f.name);
        let _ = writeln!(
            o,
            "    D = {} µm²/h ({} µm²/s), decay k = {} /h (half-life {} min)",
            fmt_num(f.diffusion_um2_per_h),
            fmt_num(f.diffusion_um2_per_h / 3600.0),
            fmt_num(f.decay_per_h),
            fmt_num(std::f64::consts::LN_2 / f.decay_per_h * 60.0)
        );
        let _ = writeln!(
            o,
            "    solver {solver}, {} sub-step(s) of {} h",
            f.substeps,
            fmt_num(s.dt_h / f.substeps as f64)
        );
        let _ = writeln!(
            o,
            "    D·Δt_sub/Δx² = {} (explicit limit 1/(2·{dims}) = {}{})",
            fmt_num(d_num),
            fmt_num(limit),
            if f.solver == Solver::Implicit {
                "; implicit is unconditionally stable"
            } else {
                ""
            }
        );
        let _ = writeln!(o, "    k·Δt_sub = {}", fmt_num(k_num));
        let _ = writeln!(
            o,
            "    diffusion length √(D/k) = {} µm ({} sites)",
            fmt_num(len),
            fmt_num(len / s.space.site_um)
        );
        let secretion = if f.secretion_nm_per_h.is_empty() {
            "none".to_string()
        } else {
            f.secretion_nm_per_h
                .iter()
                .map(|(k, r)| format!("{} {} nM/h", k.name(), r))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            o,
            "    in bone: D×{}; initial {} nM; secretion: {secretion}",
            f.bone_diffusion_factor, f.initial_nm
        );
        if f.solver == Solver::Explicit && d_num > limit {
            warnings.push(format!(
                "field {}: explicit D·Δt_sub/Δx² = {} exceeds the stability limit {}",
                f.name,
                fmt_num(d_num),
                fmt_num(limit)
            ));
        }
        if f.solver == Solver::Explicit && k_num > 1.0 {
            warnings.push(format!(
                "field {}: explicit k·Δt_sub = {} > 1 makes concentrations negative",
                f.name,
                fmt_num(k_num)
            ));
        }
        if len < s.space.site_um {
            warnings.push(format!(
                "field {}: diffusion length {} µm is shorter than one site; the field is not resolved",
                f.name,
                fmt_num(len)
            ));
        }
    }

    let _ = writeln!(o, "\nPer-step event probabilities 1 − exp(−r·dt)");
    let rates = [
        ("myeloma division", m.division_per_h),
        ("myeloma death", m.death_per_h),
    ];
    let mut largest = ("", 0.0f64);
    for (what, r) in rates {
        let p = step_probability(r, s.dt_h);
        let _ = writeln!(
            o,
            "  {what:<17} r·dt = {:<10} p = {}",
            fmt_num(r * s.dt_h),
            fmt_num(p)
        );
        if p > largest.1 {
            largest = (what, p);
        }
        if p > PROBABILITY_WARNING {
            warnings.push(format!(
                "{what}: probability {} per step > {PROBABILITY_WARNING}; reduce dt_h",
                fmt_num(p)
            ));
        }
    }
    let _ = writeln!(
        o,
        "  largest: {} ({})",
        fmt_num(largest.1),
        if largest.0.is_empty() {
            "none"
        } else {
            largest.0
        }
    );

    let _ = writeln!(o);
    if warnings.is_empty() {
        let _ = writeln!(o, "No warnings.");
    } else {
        for w in warnings {
            let _ = writeln!(o, "WARNING: {w}");
        }
    }
    o
}

/// A number with about four significant digits, without trailing zeros.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return if v > 0.0 {
            "∞".into()
        } else {
            format!("{v}")
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-4..1e7).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt_num_keeps_four_significant_digits() {
        assert_eq!(fmt_num(0.123456), "0.1235");
        assert_eq!(fmt_num(36000.0), "36000");
        assert_eq!(fmt_num(228.0), "228");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(f64::INFINITY), "∞");
    }

    #[test]
    fn step_probability_matches_closed_form() {
        assert!((step_probability(1.0 / 24.0, 1.0) - (1.0 - (-1.0f64 / 24.0).exp())).abs() < 1e-15);
        assert_eq!(step_probability(0.0, 1.0), 0.0);
    }

    #[test]
    fn describe_shows_numbers_and_warns_on_large_probabilities() {
        let s = crate::scenario::load_default(&[]).unwrap();
        let d = describe(&s);
        assert!(d.contains("D·Δt_sub/Δx² = 360"), "{d}");
        assert!(d.contains("No warnings."), "{d}");
        assert!(d.contains("tiles:"), "{d}");
        let s = crate::scenario::load_default(&[
            "run.dt_h=24".into(),
            "myeloma.division_rate_per_h=0.1".into(),
        ])
        .unwrap();
        let d = describe(&s);
        assert!(
            d.contains("WARNING: myeloma division: probability 0.9093"),
            "{d}"
        );
    }
}
