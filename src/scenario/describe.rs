//! `myelosim check` output: a validated scenario's resolved settings in internal units (with
//! units), the tiling, and the derived dimensionless numbers (D·Δt/Δx², k·Δt, diffusion
//! lengths, per-step event probabilities), with a warning line for anything risky.
//!
//! Reads: a [`Scenario`]. Writes: nothing (returns text).

use std::fmt::Write as _;

use super::types::{BoneParams, Placement, Scenario, Solver, Splitting};
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
    describe_biology(s, &mut o);

    let _ = writeln!(o, "\nFields (dx = {} µm)", s.space.site_um);
    if s.fields.is_empty() {
        let _ = writeln!(o, "  (none)");
    }
    let limit = explicit_limit(dims);
    for f in &s.fields {
        let d_num = f.diffusion_number(s.dt_h, s.space.site_um);
        let k_num = f.decay_number(s.dt_h);
        let len = f.diffusion_length_um();
        let solver = match (f.solver, f.splitting) {
            (Solver::Explicit, _) => "explicit",
            (Solver::Implicit, Splitting::Distributed) => "implicit (distributed splitting)",
            (Solver::Implicit, Splitting::Classic) => "implicit (classic splitting)",
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

    describe_treatment(s, &mut o);

    let _ = writeln!(o, "\nPer-step event probabilities 1 − exp(−r·dt)");
    let mut rates = vec![
        ("myeloma division", m.division_per_h),
        ("myeloma death", m.death_per_h),
    ];
    rates.extend(biology_rates(s));
    let mut largest = ("", 0.0f64);
    for (what, r) in rates {
        let p = step_probability(r, s.dt_h);
        let _ = writeln!(
            o,
            "  {what:<28} r·dt = {:<10} p = {}",
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
    if let Some(p) = &s.biology.immune {
        let rdt = p.move_per_h * s.dt_h;
        let _ = writeln!(
            o,
            "  immune move (walk: p = min(r·dt, 1)) r·dt = {} p = {}",
            fmt_num(rdt),
            fmt_num(rdt.min(1.0))
        );
        if rdt > 1.0 {
            warnings.push(format!(
                "immune move: r·dt = {} > 1; the walk is capped at one step per time step (slower than {} /h); reduce dt_h or move_rate_per_h",
                fmt_num(rdt),
                p.move_per_h
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

/// Hours → days, for printing.
fn d(h: f64) -> String {
    fmt_num(h / 24.0)
}

/// The issue-3 sections (`[bone_cells]`, `[stroma]`, `[haematopoiesis]`, `[immune]`,
/// `[patient]`, `[clinical]`, the `[myeloma]` microenvironment keys), resolved, with units.
/// Absent families print as "absent (rules off)".
fn describe_biology(s: &Scenario, o: &mut String) {
    let b = &s.biology;
    let e = &b.myeloma_env;
    let _ = writeln!(
        o,
        "  environment:    division × ({} + (1 − {})·H₂(IL-6 + TGF-β; {} nM)); death × {} next to \
         stroma or TGF-β > {} nM; activates adjacent lining at ≤ {} /h (half at {} adjacent \
         myeloma cells, Hill 4)",
        e.basal_division_fraction,
        e.basal_division_fraction,
        e.growth_half_nm,
        e.protection_factor,
        e.protect_tgfb_nm,
        e.lining_activation_per_h,
        e.lining_activation_half_cells
    );
    let _ = writeln!(o, "\nBone cells");
    match &b.bone_cells {
        None => {
            let _ = writeln!(o, "  absent (no remodeling)");
        }
        Some(p) => {
            let _ = writeln!(
                o,
                "  lining activation:  {} /h spontaneous; RANKL {} nM/h for {} d",
                p.activation_per_h,
                fmt_num(p.activated_rankl_nm_per_h),
                d(p.activation_h)
            );
            let _ = writeln!(
                o,
                "  osteoclasts:        form ≤ {} /h × H₂(RANKL/(1 + OPG/{} nM); {} nM); life {} ± {} d; resorb {} sites/d",
                fmt_num(p.oc_formation_per_h),
                p.oc_opg_half_nm,
                p.oc_rankl_half_nm,
                d(p.oc_lifespan_mean_h),
                d(p.oc_lifespan_sd_h),
                fmt_num(p.oc_resorption_per_h * 24.0)
            );
            let _ = writeln!(
                o,
                "  reversal:           TGF-β {} nM/h for {} d",
                fmt_num(p.reversal_tgfb_nm_per_h),
                d(p.reversal_release_h)
            );
            let _ = writeln!(
                o,
                "  osteoblasts:        recruit ≤ {} /h × ({} + (1 − {})·H₂(TGF-β; {} nM)) / (1 + DKK1/{} nM); \
                 deposit {} sites/d (one per {} d); active ≤ {} d; apoptosis {}; refill quota × {}",
                fmt_num(p.ob_recruit_per_h),
                p.ob_basal_fraction,
                p.ob_basal_fraction,
                p.ob_tgfb_half_nm,
                p.ob_dkk1_half_nm,
                fmt_num(p.ob_formation_per_h * 24.0),
                fmt_num(1.0 / (p.ob_formation_per_h * 24.0)),
                d(p.ob_lifespan_max_h),
                p.ob_apoptosis_fraction,
                p.ob_refill_factor
            );
        }
    }
    let _ = writeln!(o, "\nStroma");
    match &b.stroma {
        None => {
            let _ = writeln!(o, "  absent");
        }
        Some(p) => {
            let _ = writeln!(
                o,
                "  density {} % of marrow sites; IL-6/RANKL × {}, OPG × {} while a myeloma cell \
                 adheres",
                fmt_num(p.density * 100.0),
                p.engaged_factor,
                p.engaged_opg_factor
            );
        }
    }
    let _ = writeln!(o, "\nHaematopoiesis");
    match &b.haematopoiesis {
        None => {
            let _ = writeln!(o, "  absent (blood output = 1 − myeloma fraction)");
        }
        Some(p) => {
            let _ = writeln!(
                o,
                "  cellularity {} % of marrow sites, stem cells {} % of them (divide {} /h = every {} d)",
                fmt_num(p.cellularity * 100.0),
                fmt_num(p.stem_fraction * 100.0),
                fmt_num(p.stem_division_per_h),
                d(1.0 / p.stem_division_per_h)
            );
            let _ = writeln!(
                o,
                "  progenitors: divide {} /h, exit {} /h (mean marrow transit {} d), ≤ {} generations; \
                 division ÷ (1 + {}·adjacent myeloma)",
                fmt_num(p.progenitor_division_per_h),
                fmt_num(p.progenitor_exit_per_h),
                d(1.0 / p.progenitor_exit_per_h),
                p.max_generations,
                p.mm_suppression
            );
        }
    }
    let _ = writeln!(o, "\nImmune effectors");
    match &b.immune {
        None => {
            let _ = writeln!(o, "  absent");
        }
        Some(p) => {
            let _ = writeln!(
                o,
                "  density {} % of marrow sites; kill {} /h (with ≥ 1 myeloma neighbour) ÷ (1 + TGF-β/{} nM) \
                 ÷ (1 + burden/{} %); move {} /h",
                fmt_num(p.density * 100.0),
                p.kill_per_h,
                p.tgfb_half_nm,
                fmt_num(p.burden_half * 100.0),
                p.move_per_h
            );
        }
    }
    let pt = &b.patient;
    let c = &b.clinical;
    let _ = writeln!(o, "\nPatient and clinical readouts");
    let _ = writeln!(
        o,
        "  patient:        {} kg, {} cm, isotype {}{}",
        pt.weight_kg,
        pt.height_cm,
        pt.isotype.name(),
        if pt.cohort {
            " — variability cohort: kidneys, secretion and isotype drawn per seed \
             (clinical::patient)"
        } else {
            ""
        }
    );
    let marrow_ml =
        c.red_marrow_g_per_kg * pt.weight_kg / crate::clinical::scale::RED_MARROW_DENSITY_G_PER_ML;
    let _ = writeln!(
        o,
        "  scale:          red marrow {} g/kg → {} mL; {} (cells per site; derived at start from the \
         region's marrow sites)",
        c.red_marrow_g_per_kg,
        fmt_num(marrow_ml),
        if c.cells_per_site > 0.0 {
            format!("fixed {}", fmt_num(c.cells_per_site))
        } else {
            "derived".to_string()
        }
    );
    let _ = writeln!(
        o,
        "  secretion:      M-protein {} pg/cell/day, involved FLC {} pg/cell/day; FcRn saturation {}",
        c.mprotein_pg_per_cell_day, c.flc_pg_per_cell_day, c.fcrn_saturation
    );
    let _ = writeln!(
        o,
        "  assessments:    every {} d; lytic lesion ≥ {} connected resorbed sites",
        d(c.assess_every_h),
        c.lesion_min_sites
    );
}

/// Rates [1/h] of the issue-3 rules that become per-step probabilities.
fn biology_rates(s: &Scenario) -> Vec<(&'static str, f64)> {
    let b = &s.biology;
    let mut v = vec![(
        "lining activation by myeloma",
        b.myeloma_env.lining_activation_per_h,
    )];
    if let Some(p) = &b.bone_cells {
        v.extend([
            ("lining activation", p.activation_per_h),
            ("osteoclast formation (max)", p.oc_formation_per_h),
            ("osteoclast resorption", p.oc_resorption_per_h),
            ("osteoblast recruitment (max)", p.ob_recruit_per_h),
            ("osteoblast deposition", p.ob_formation_per_h),
        ]);
    }
    if let Some(p) = &b.haematopoiesis {
        v.extend([
            ("stem division", p.stem_division_per_h),
            ("progenitor division", p.progenitor_division_per_h),
            ("progenitor exit", p.progenitor_exit_per_h),
        ]);
    }
    if let Some(p) = &b.immune {
        v.push(("immune kill (per contact)", p.kill_per_h));
    }
    v
}

// ---- treatment (issue 4) ----
/// `1-4, 9-12, 15` from ascending days.
fn day_ranges(days: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j + 1] == days[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}–{}", days[i], days[j])
        } else {
            days[i].to_string()
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Most cycles of one phase scanned for schedule changes when printing the calendar.
pub const CALENDAR_CYCLES: u32 = 12;

/// The resolved treatment calendar: per phase, runs of identical cycles with every dose
/// (day, drug, mg, basis, route), procedures, toxicity and supportive-care rules. Doses are
/// sized for the `[patient]`'s body, as the run doses them. Transitions that depend on the
/// simulation are printed as planned.
pub fn describe_treatment(s: &Scenario, o: &mut String) {
    use crate::protocol::calendar::cycle_doses;
    use crate::protocol::{PhaseKind, ToxicityAction};
    let Some(t) = &s.treatment else {
        return;
    };
    let p = &s.biology.patient;
    let body = crate::pharma::Body::from_weight_height(p.weight_kg, p.height_cm);
    let _ = writeln!(
        o,
        "\nTreatment (planned calendar; patient {} kg, BSA {} m²)",
        body.weight_kg,
        fmt_num(body.bsa_m2)
    );
    if t.phases.is_empty() {
        let _ = writeln!(o, "  (no phases: nothing is given)");
    }
    for (i, p) in t.phases.iter().enumerate() {
        let mut ends = Vec::new();
        if let Some(c) = p.cycles {
            ends.push(format!("after {c} cycles"));
        }
        if let Some(d) = p.duration_d {
            ends.push(format!("after {} days", fmt_num(d)));
        }
        let mut depends = Vec::new();
        if let Some(r) = p.until_response {
            depends.push(format!("at a cycle end with response ≥ {}", r.label()));
        }
        if p.until_progression {
            depends.push("on confirmed progression".to_string());
        }
        if let Some(j) = p.on_progression {
            depends.push(format!("→ `{}` on confirmed progression", t.phases[j].name));
        }
        ends.extend(depends.iter().cloned());
        let ends = if ends.is_empty() {
            "runs to the end of the simulation".to_string()
        } else {
            format!("ends {}", ends.join(" or "))
        };
        let what = match &p.kind {
            PhaseKind::Regimen(r) => {
                let reg = &t.regimens.regimens()[*r];
                format!("regimen {} ({}-day cycles)", reg.name, reg.cycle_length_d)
            }
            PhaseKind::StemCellCollection => "stem-cell mobilisation and collection".into(),
            PhaseKind::Asct { melphalan_mg_m2 } => format!(
                "ASCT: melphalan {melphalan_mg_m2} mg/m² = {} mg IV on day −2, stem-cell infusion on day 0",
                fmt_num(melphalan_mg_m2 * body.bsa_m2)
            ),
        };
        let _ = writeln!(o, "  phase {} `{}`: {what}; {ends}", i + 1, p.name);
        if !depends.is_empty() {
            let _ = writeln!(
                o,
                "    (planned calendar: the actual transition depends on the simulated response/progression)"
            );
        }
        let PhaseKind::Regimen(r) = p.kind else {
            continue;
        };
        let reg = &t.regimens.regimens()[r];
        let last = p.cycles.unwrap_or(CALENDAR_CYCLES).min(CALENDAR_CYCLES);
        let pattern = |c: u32| -> Vec<(u32, String)> {
            cycle_doses(reg, c, &t.drugs, &body)
                .iter()
                .map(|d| (d.day, d.describe()))
                .collect()
        };
        let mut c = 1;
        while c <= last {
            let pat = pattern(c);
            let mut end = c;
            while end < last && pattern(end + 1) == pat {
                end += 1;
            }
            let open = end == last && p.cycles.is_none_or(|n| n > last);
            let label = match (end == c, open) {
                (true, false) => format!("C{c}"),
                (true, true) => format!("C{c}+"),
                (false, false) => format!("C{c}–{end}"),
                (false, true) => format!("C{c}–{end}+"),
            };
            // One line per distinct dose: `C1–3: bortezomib 2.36 mg (1.3 mg/m²) sc — days 1, 4, 8, 11`.
            let mut lines: Vec<(&str, Vec<u32>)> = Vec::new();
            for (d, text) in &pat {
                match lines.iter_mut().find(|(t, _)| t == text) {
                    Some((_, days)) => days.push(*d),
                    None => lines.push((text.as_str(), vec![*d])),
                }
            }
            for (text, days) in lines {
                let _ = writeln!(o, "    {label}: {text} — days {}", day_ranges(&days));
            }
            c = end + 1;
        }
    }
    for r in &t.toxicity {
        let drugs = if r.drugs.is_empty() {
            "all drugs".to_string()
        } else {
            r.drugs
                .iter()
                .map(|&d| t.drugs.drugs()[d].name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut when = Vec::new();
        if let Some(a) = r.anc_below {
            when.push(format!("ANC < {a} ×10⁹/L"));
        }
        if let Some(p) = r.platelets_below {
            when.push(format!("platelets < {p} ×10⁹/L"));
        }
        let action = match r.action {
            ToxicityAction::Hold => "hold".to_string(),
            ToxicityAction::Reduce { factor, min_level } => {
                format!("reduce ×{factor} per cycle (not below {min_level})")
            }
        };
        let _ = writeln!(
            o,
            "  toxicity: {drugs}: {action} when {}",
            when.join(" or ")
        );
    }
    for r in &t.supportive {
        let reg = r
            .regimen
            .map(|i| t.regimens.regimens()[i].name.as_str())
            .unwrap_or("no drug");
        let mut when = match r.when_hb_below_g_dl {
            Some(lo) => format!(
                "when Hb < {lo} g/dL until Hb ≥ {} g/dL",
                r.stop_when_hb_above_g_dl
            ),
            None => "always".to_string(),
        };
        if !r.during_phases.is_empty() {
            let names: Vec<&str> = r
                .during_phases
                .iter()
                .map(|&p| t.phases[p].name.as_str())
                .collect();
            when.push_str(&format!(" during {}", names.join(", ")));
        }
        let _ = writeln!(
            o,
            "  supportive `{}`: {reg}, {when}; infection hazard ×{}",
            r.name, r.infection_hazard_factor
        );
    }
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
    fn describe_prints_the_biology_sections() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/untreated_myeloma.toml");
        let s = crate::scenario::load_file(&p, &[]).unwrap();
        let d = describe(&s);
        for want in [
            "Bone cells",
            "life 14 ± 2.3 d; resorb 1 sites/d",
            "Haematopoiesis",
            "cellularity 50 % of marrow sites",
            "Immune effectors",
            "Stroma",
            "isotype IgG",
            "M-protein 30 pg/cell/day",
            "osteoclast resorption",
            "progenitor exit",
            "immune kill (per contact)",
            "immune move (walk",
        ] {
            assert!(d.contains(want), "missing {want:?} in\n{d}");
        }
        let bare = describe(
            &crate::scenario::load_file(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/00_minimal.toml"),
                &[],
            )
            .unwrap(),
        );
        assert!(bare.contains("absent (no remodeling)"), "{bare}");
    }

    #[test]
    fn describe_shows_numbers_and_warns_on_large_probabilities() {
        let s = crate::scenario::load_default(&[]).unwrap();
        let d = describe(&s);
        assert!(d.contains("D·Δt_sub/Δx² = 1440"), "{d}"); // opg/dkk1 at dt 4 h
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
