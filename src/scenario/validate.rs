//! Validation: [`RawScenario`] (file units, optional keys) → [`Scenario`] (internal units:
//! hours, µm, nM, 1/h, µm²/h), applying defaults, range and cross-field checks and the
//! explicit-diffusion stability rule. Every problem is collected, keyed by its dotted path;
//! the caller (`scenario::load_str`) locates them in the file or in a `--set`.
//!
//! Reads: the raw scenario and, for `bone.mask_path`, whether the mask file exists.
//! Writes: nothing.

use std::path::{Path, PathBuf};

use super::error::Problem;
use super::range::{IntRange, Range};
use super::raw::{RawField, RawScenario};
use super::types::{
    Biology, BoneCellParams, BoneParams, ClinicalParams, FieldParams, HaemParams, ImmuneParams,
    Isotype, MyelomaEnvParams, MyelomaParams, OutputParams, PatientParams, Placement, Scenario,
    Solver, SpaceParams, Splitting, StromaParams,
};
use crate::cells::lattice::CellKind;
use crate::space::geometry::{Boundary, Neighbourhood};

/// Field names a scenario may define.
pub const FIELD_NAMES: [&str; 5] = ["rankl", "opg", "tgfb", "dkk1", "il6"];

/// Safety factor on the explicit (FTCS) diffusion limit 1/(2·dims) used to choose sub-steps.
pub const EXPLICIT_SAFETY: f64 = 0.9;

/// Largest decay fraction k·Δt_sub per explicit sub-step (keeps decay accurate and positive).
pub const MAX_DECAY_PER_SUBSTEP: f64 = 0.5;

/// Most diffusion sub-steps per model step a scenario may ask for.
pub const MAX_SUBSTEPS: i64 = 100_000;

/// Most lattice sites (2³¹): site indices and per-site arrays stay well inside memory.
pub const MAX_SITES: u64 = (1 << 31) - 1;

/// Everything validation needs besides the raw values.
#[derive(Clone, Debug)]
pub struct Context {
    /// File path or `<built-in default>`.
    pub origin: String,
    /// Name used when `[run] name` is absent (the file stem, or `default`).
    pub default_name: String,
    /// Folder that relative paths (`bone.mask_path`) are resolved against.
    pub base_dir: PathBuf,
    /// Effective TOML text (after overrides), stored in the scenario.
    pub source_text: String,
    /// `--set` overrides as given.
    pub overrides: Vec<String>,
    /// Field names in file order (serde's map is sorted; this restores the order).
    pub field_order: Vec<String>,
}

/// The explicit-scheme stability limit D·Δt/Δx² ≤ 1/(2·dims) for `dims` spatial dimensions.
pub fn explicit_limit(dims: usize) -> f64 {
    1.0 / (2.0 * dims as f64)
}

/// Smallest number of explicit sub-steps with D·Δt_sub/Δx² ≤ [`EXPLICIT_SAFETY`]·limit and
/// k·Δt_sub ≤ [`MAX_DECAY_PER_SUBSTEP`] (at least 1). Units: D [µm²/h], k [1/h], dt [h],
/// site [µm].
pub fn explicit_substeps(
    diffusion_um2_per_h: f64,
    decay_per_h: f64,
    dt_h: f64,
    site_um: f64,
    dims: usize,
) -> u64 {
    let diff = diffusion_um2_per_h * dt_h / (site_um * site_um);
    let by_diffusion = (diff / (EXPLICIT_SAFETY * explicit_limit(dims))).ceil();
    let by_decay = (decay_per_h * dt_h / MAX_DECAY_PER_SUBSTEP).ceil();
    // A tiny relative slack so a count that meets the limit exactly is not bumped by rounding.
    let n = by_diffusion.max(by_decay).max(1.0);
    let n = n as u64;
    if n > 1 {
        let prev = (n - 1) as f64;
        if diff / prev <= EXPLICIT_SAFETY * explicit_limit(dims) * (1.0 + 1e-12)
            && decay_per_h * dt_h / prev <= MAX_DECAY_PER_SUBSTEP * (1.0 + 1e-12)
        {
            return n - 1;
        }
    }
    n
}

/// Collects problems while reading values.
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// A number: `None` (after recording a problem) when missing-and-required or out of range.
    fn num(&mut self, key: &str, v: Option<f64>, default: Option<f64>, r: Range) -> Option<f64> {
        r.required(&mut self.problems, key, v, default)
    }

    /// An integer in `lo..=hi`.
    fn int(
        &mut self,
        key: &str,
        v: Option<i64>,
        default: Option<i64>,
        lo: i64,
        hi: i64,
        unit: &'static str,
    ) -> Option<i64> {
        IntRange::new(lo, hi, unit).required(&mut self.problems, key, v, default)
    }

    /// One of `allowed` (index into it).
    fn choice(
        &mut self,
        key: &str,
        v: Option<&str>,
        default: &str,
        allowed: &[&str],
    ) -> Option<usize> {
        let v = v.unwrap_or(default);
        match allowed.iter().position(|a| *a == v) {
            Some(i) => Some(i),
            None => {
                let list = allowed
                    .iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.push(
                    Problem::new(key, format!("unknown option; allowed: {list}"))
                        .with_value(format!("\"{v}\"")),
                );
                None
            }
        }
    }
}

/// Checks and converts a raw scenario. On failure returns every problem found (unlocated).
pub fn validate(raw: &RawScenario, ctx: &Context) -> Result<Scenario, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };

    // ---- [run]
    let name = match &raw.run.name {
        Some(n) => {
            let bad = n.trim().is_empty()
                || n.contains(['/', '\\', ':'])
                || n == "."
                || n == ".."
                || n.chars().any(char::is_control);
            if bad {
                c.push(
                    Problem::new(
                        "run.name",
                        "expected a non-empty name usable as a folder name (no `/`, `\\`, `:`)",
                    )
                    .with_value(format!("\"{n}\"")),
                );
            }
            n.clone()
        }
        None => ctx.default_name.clone(),
    };
    let duration_d = c.num(
        "run.duration_d",
        raw.run.duration_d,
        None,
        Range::positive(36_500.0, "days"),
    );
    let dt_h = c.num(
        "run.dt_h",
        raw.run.dt_h,
        Some(1.0),
        Range::closed(0.01, 24.0, "h"),
    );
    let seed = c.int("run.seed", raw.run.seed, Some(1), 0, i64::MAX, "");
    let record_every_h = c.num(
        "run.record_every_h",
        raw.run.record_every_h,
        Some(24.0),
        Range::positive(876_000.0, "h"),
    );
    let mut steps = None;
    if let (Some(d), Some(dt)) = (duration_d, dt_h) {
        let n = (d * 24.0 / dt).round();
        if n < 1.0 {
            c.push(
                Problem::new(
                    "run.duration_d",
                    format!(
                        "shorter than one step (dt_h = {dt} h = {} days); expected ≥ {} days",
                        dt / 24.0,
                        dt / 24.0
                    ),
                )
                .with_value(d),
            );
        } else {
            steps = Some(n as u64);
        }
    }
    let mut record_every_steps = None;
    if let (Some(r), Some(dt)) = (record_every_h, dt_h) {
        let ratio = r / dt;
        let whole = ratio.round();
        let given = if raw.run.record_every_h.is_some() {
            ""
        } else {
            " (the default)"
        };
        if whole < 1.0 || (ratio - whole).abs() > 1e-9 * whole.max(1.0) {
            c.push(
                Problem::new(
                    "run.record_every_h",
                    format!(
                        "{r} h{given} is not a whole multiple of dt_h = {dt} h; expected k·dt_h \
                         for a whole k ≥ 1 (e.g. {} h)",
                        (whole.max(1.0)) * dt
                    ),
                )
                .with_value(r),
            );
        } else {
            record_every_steps = Some(whole as u64);
        }
    }

    // ---- [space]
    let nx = c.int("space.nx", raw.space.nx, None, 4, 8192, "sites");
    let ny = c.int("space.ny", raw.space.ny, None, 4, 8192, "sites");
    let nz = c.int("space.nz", raw.space.nz, Some(1), 1, 1024, "sites");
    let site_um = c.num(
        "space.site_um",
        raw.space.site_um,
        Some(10.0),
        Range::closed(1.0, 100.0, "µm"),
    );
    let boundary = c
        .choice(
            "space.boundary",
            raw.space.boundary.as_deref(),
            "closed",
            &["closed", "periodic"],
        )
        .map(|i| [Boundary::Closed, Boundary::Periodic][i]);
    let hood = c
        .choice(
            "space.neighbourhood",
            raw.space.neighbourhood.as_deref(),
            "moore",
            &["moore", "von_neumann"],
        )
        .map(|i| [Neighbourhood::Moore, Neighbourhood::VonNeumann][i]);
    let mut tile_edge = c.int(
        "space.tile_sites",
        raw.space.tile_sites,
        Some(32),
        3,
        1024,
        "sites",
    );
    let mut n_sites = None;
    if let (Some(x), Some(y), Some(z)) = (nx, ny, nz) {
        let n = x as u64 * y as u64 * z as u64;
        if n > MAX_SITES {
            c.push(Problem::new(
                "space",
                format!(
                    "lattice {x}×{y}×{z} has {n} sites; expected at most 2^31 − 1 = {MAX_SITES} sites (the sweep keeps site indices in 31 bits)"
                ),
            ));
        } else {
            n_sites = Some(n);
        }
        let longest = x.max(y).max(z);
        if let (Some(t), Some(_)) = (tile_edge, raw.space.tile_sites)
            && t > longest
        {
            c.push(
                Problem::new(
                    "space.tile_sites",
                    format!(
                        "larger than the longest lattice edge ({longest} sites): the lattice would \
                         be one tile and run serially; expected an integer in 3..={longest} sites"
                    ),
                )
                .with_value(t),
            );
            tile_edge = None;
        }
    }
    let dims = nz.map(|z| if z > 1 { 3 } else { 2 });

    // ---- [bone]
    let geometry = c.choice(
        "bone.geometry",
        raw.bone.geometry.as_deref(),
        "procedural",
        &["none", "procedural", "mask"],
    );
    let bv_tv = c.num(
        "bone.target_bv_tv_pct",
        raw.bone.target_bv_tv_pct,
        Some(20.0),
        Range::closed(0.0, 60.0, "%"),
    );
    let thickness = c.num(
        "bone.trabecular_thickness_um",
        raw.bone.trabecular_thickness_um,
        Some(120.0),
        Range::closed(30.0, 500.0, "µm"),
    );
    let bone = match geometry {
        Some(0) => Some(BoneParams::None),
        Some(1) => {
            if let (Some(t), Some(s)) = (thickness, site_um)
                && t < s
            {
                c.push(
                    Problem::new(
                        "bone.trabecular_thickness_um",
                        format!(
                            "thinner than one site (site_um = {s} µm); expected ≥ {s} µm and ≤ 500 µm"
                        ),
                    )
                    .with_value(t),
                );
            }
            match (bv_tv, thickness) {
                (Some(b), Some(t)) => Some(BoneParams::Procedural {
                    bv_tv: b / 100.0,
                    thickness_um: t,
                }),
                _ => None,
            }
        }
        Some(_) => match &raw.bone.mask_path {
            None => {
                c.push(Problem::new(
                    "bone.mask_path",
                    "missing required key: geometry = \"mask\" needs a mask file (.png or .csv), \
                     e.g. `mask_path = \"bone.png\"`",
                ));
                None
            }
            Some(p) => check_mask(&mut c, p, &ctx.base_dir),
        },
        None => None,
    };
    if geometry.is_some_and(|g| g != 2) && raw.bone.mask_path.is_some() {
        c.push(Problem::new(
            "bone.mask_path",
            "only used with geometry = \"mask\"; remove it or set geometry = \"mask\"",
        ));
    }

    // ---- [myeloma]
    let initial_cells = c.int(
        "myeloma.initial_cells",
        raw.myeloma.initial_cells,
        None,
        0,
        i64::MAX,
        "cells",
    );
    if let (Some(k), Some(n)) = (initial_cells, n_sites)
        && k as u64 > n
    {
        c.push(
            Problem::new(
                "myeloma.initial_cells",
                format!("more cells than lattice sites; expected an integer in 0..={n} cells"),
            )
            .with_value(k),
        );
    }
    let placement = c
        .choice(
            "myeloma.placement",
            raw.myeloma.placement.as_deref(),
            "centre",
            &["centre", "random"],
        )
        .map(|i| [Placement::Centre, Placement::Random][i]);
    let division = c.num(
        "myeloma.division_rate_per_h",
        raw.myeloma.division_rate_per_h,
        Some(1.0 / 24.0),
        Range::closed(0.0, 1.0, "per h"),
    );
    let death = c.num(
        "myeloma.death_rate_per_h",
        raw.myeloma.death_rate_per_h,
        Some(1.0 / 120.0),
        Range::closed(0.0, 1.0, "per h"),
    );

    let biology = check_biology(&mut c, raw);

    // ---- [fields.*] in file order
    let mut names: Vec<&String> = ctx
        .field_order
        .iter()
        .filter(|n| raw.fields.contains_key(*n))
        .collect();
    for n in raw.fields.keys() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut fields = Vec::new();
    for name in names {
        let f = &raw.fields[name];
        if let Some(fp) = check_field(&mut c, name, f, dt_h, site_um, dims) {
            fields.push(fp);
        }
    }

    // ---- [output]
    let snapshot_every_steps = check_output(&mut c, raw, duration_d, dt_h);
    // ---- [treatment] (issue 4)
    let treatment = check_treatment(&mut c, raw.treatment.as_ref());
    // ---- [clones] (issue 5)
    let clones = check_clones(&mut c, raw.clones.as_ref());

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    // No problems: every value above is present (each `None` recorded a problem).
    let missing = || {
        vec![Problem::new(
            "",
            "internal error: a value passed validation but is missing",
        )]
    };
    let (Some(dt_h), Some(steps), Some(record_every_steps), Some(seed)) =
        (dt_h, steps, record_every_steps, seed)
    else {
        return Err(missing());
    };
    let (Some(nx), Some(ny), Some(nz), Some(site_um), Some(boundary), Some(hood), Some(tile)) =
        (nx, ny, nz, site_um, boundary, hood, tile_edge)
    else {
        return Err(missing());
    };
    let (
        Some(bone),
        Some(initial_cells),
        Some(placement),
        Some(division),
        Some(death),
        Some(snapshot_every_steps),
    ) = (
        bone,
        initial_cells,
        placement,
        division,
        death,
        snapshot_every_steps,
    )
    else {
        return Err(missing());
    };
    Ok(Scenario {
        name,
        origin: ctx.origin.clone(),
        source_text: ctx.source_text.clone(),
        overrides: ctx.overrides.clone(),
        seed: seed as u64,
        dt_h,
        steps,
        record_every_steps,
        space: SpaceParams {
            dims: [nx as usize, ny as usize, nz as usize],
            site_um,
            boundary,
            hood,
            tile_edge: tile as usize,
        },
        bone,
        myeloma: MyelomaParams {
            initial_cells: initial_cells as usize,
            placement,
            division_per_h: division,
            death_per_h: death,
        },
        fields,
        output: OutputParams {
            snapshot_every_steps,
        },
        biology,
        treatment,
        clones,
    })
}

/// Default snapshot cadence [d] for a run of `duration_d` days: `duration_d / 50` rounded up
/// to whole days, at least 1 d (see `raw::RawOutput::snapshot_every_d`). No upper cap: a
/// 7-d cap gave the 1365-d default 196 snapshots × 7 maps (111 MB).
pub fn default_snapshot_every_d(duration_d: f64) -> f64 {
    (duration_d / 50.0).ceil().max(1.0)
}

/// Checks `[output]`; returns the snapshot cadence in steps (0 = none), `None` after a problem.
fn check_output(
    c: &mut Checker,
    raw: &RawScenario,
    duration_d: Option<f64>,
    dt_h: Option<f64>,
) -> Option<u64> {
    let given = raw.output.snapshot_every_d;
    let default = duration_d.map(default_snapshot_every_d);
    let every = c.num(
        "output.snapshot_every_d",
        given,
        default.or(Some(7.0)),
        Range::closed(0.0, 36_500.0, "days"),
    )?;
    if every == 0.0 {
        return Some(0);
    }
    let dt = dt_h?;
    let ratio = every * 24.0 / dt;
    let whole = ratio.round();
    if whole < 1.0 || (ratio - whole).abs() > 1e-9 * whole.max(1.0) {
        let note = if given.is_some() {
            ""
        } else {
            " (the default)"
        };
        c.push(
            Problem::new(
                "output.snapshot_every_d",
                format!(
                    "{every} d{note} is not a whole multiple of dt_h = {dt} h; expected k·dt_h/24 \
                     days for a whole k ≥ 1 (e.g. {} d), or 0 for no snapshots",
                    whole.max(1.0) * dt / 24.0
                ),
            )
            .with_value(every),
        );
        return None;
    }
    Some(whole as u64)
}

/// Checks the disease-mechanism sections (issue 3). Defaults come from the `Default` impls
/// of the parameter types (one definition, with units and sources, in `types.rs`); rates in
/// days or percent are converted to hours and fractions here.
fn check_biology(c: &mut Checker, raw: &RawScenario) -> Biology {
    let per_h = Range::closed(0.0, 1.0, "per h");
    let nm = Range::positive(1e3, "nM");
    let frac = Range::closed(0.0, 1.0, "");
    // Reads one key with its default; on a problem (recorded) keeps the default so that the
    // remaining checks can run; `validate` fails anyway.
    let mut get =
        |key: &str, v: Option<f64>, d: f64, r: Range| c.num(key, v, Some(d), r).unwrap_or(d);

    let me = &raw.myeloma;
    let dm = MyelomaEnvParams::default();
    let myeloma_env = MyelomaEnvParams {
        basal_division_fraction: get(
            "myeloma.basal_division_fraction",
            me.basal_division_fraction,
            dm.basal_division_fraction,
            frac,
        ),
        growth_half_nm: get(
            "myeloma.growth_half_nM",
            me.growth_half_nm,
            dm.growth_half_nm,
            nm,
        ),
        protection_factor: get(
            "myeloma.protection_factor",
            me.protection_factor,
            dm.protection_factor,
            frac,
        ),
        protect_tgfb_nm: get(
            "myeloma.protect_tgfb_nM",
            me.protect_tgfb_nm,
            dm.protect_tgfb_nm,
            Range::closed(0.0, 1e3, "nM"),
        ),
        lining_activation_per_h: get(
            "myeloma.lining_activation_rate_per_h",
            me.lining_activation_rate_per_h,
            dm.lining_activation_per_h,
            per_h,
        ),
        lining_activation_half_cells: get(
            "myeloma.lining_activation_half_cells",
            me.lining_activation_half_cells,
            dm.lining_activation_half_cells,
            Range::positive(26.0, "cells"),
        ),
    };

    let bone_cells = raw.bone_cells.as_ref().map(|b| {
        let d = BoneCellParams::default();
        let days = Range::positive(100.0, "days");
        BoneCellParams {
            activation_per_h: get(
                "bone_cells.activation_rate_per_h",
                b.activation_rate_per_h,
                d.activation_per_h,
                Range::closed(0.0, 0.01, "per h"),
            ),
            activation_h: 24.0
                * get(
                    "bone_cells.activation_d",
                    b.activation_d,
                    d.activation_h / 24.0,
                    days,
                ),
            activated_rankl_nm_per_h: get(
                "bone_cells.activated_rankl_nM_per_h",
                b.activated_rankl_nm_per_h,
                d.activated_rankl_nm_per_h,
                Range::closed(0.0, 1e3, "nM/h"),
            ),
            oc_formation_per_h: get(
                "bone_cells.oc_formation_rate_per_h",
                b.oc_formation_rate_per_h,
                d.oc_formation_per_h,
                per_h,
            ),
            oc_rankl_half_nm: get(
                "bone_cells.oc_rankl_half_nM",
                b.oc_rankl_half_nm,
                d.oc_rankl_half_nm,
                nm,
            ),
            oc_opg_half_nm: get(
                "bone_cells.oc_opg_half_nM",
                b.oc_opg_half_nm,
                d.oc_opg_half_nm,
                nm,
            ),
            oc_lifespan_mean_h: 24.0
                * get(
                    "bone_cells.oc_lifespan_mean_d",
                    b.oc_lifespan_mean_d,
                    d.oc_lifespan_mean_h / 24.0,
                    days,
                ),
            oc_lifespan_sd_h: 24.0
                * get(
                    "bone_cells.oc_lifespan_sd_d",
                    b.oc_lifespan_sd_d,
                    d.oc_lifespan_sd_h / 24.0,
                    Range::closed(0.0, 50.0, "days"),
                ),
            oc_resorption_per_h: get(
                "bone_cells.oc_resorption_sites_per_d",
                b.oc_resorption_sites_per_d,
                d.oc_resorption_per_h * 24.0,
                Range::closed(0.0, 24.0, "sites/day"),
            ) / 24.0,
            reversal_tgfb_nm_per_h: get(
                "bone_cells.reversal_tgfb_nM_per_h",
                b.reversal_tgfb_nm_per_h,
                d.reversal_tgfb_nm_per_h,
                Range::closed(0.0, 1e3, "nM/h"),
            ),
            reversal_release_h: 24.0
                * get(
                    "bone_cells.reversal_release_d",
                    b.reversal_release_d,
                    d.reversal_release_h / 24.0,
                    Range::closed(0.0, 100.0, "days"),
                ),
            ob_recruit_per_h: get(
                "bone_cells.ob_recruit_rate_per_h",
                b.ob_recruit_rate_per_h,
                d.ob_recruit_per_h,
                per_h,
            ),
            ob_tgfb_half_nm: get(
                "bone_cells.ob_tgfb_half_nM",
                b.ob_tgfb_half_nm,
                d.ob_tgfb_half_nm,
                nm,
            ),
            ob_basal_fraction: get(
                "bone_cells.ob_basal_fraction",
                b.ob_basal_fraction,
                d.ob_basal_fraction,
                frac,
            ),
            ob_dkk1_half_nm: get(
                "bone_cells.ob_dkk1_half_nM",
                b.ob_dkk1_half_nm,
                d.ob_dkk1_half_nm,
                nm,
            ),
            ob_formation_per_h: get(
                "bone_cells.ob_formation_sites_per_d",
                b.ob_formation_sites_per_d,
                d.ob_formation_per_h * 24.0,
                Range::closed(0.0, 24.0, "sites/day"),
            ) / 24.0,
            ob_lifespan_max_h: 24.0
                * get(
                    "bone_cells.ob_lifespan_max_d",
                    b.ob_lifespan_max_d,
                    d.ob_lifespan_max_h / 24.0,
                    Range::positive(1000.0, "days"),
                ),
            ob_apoptosis_fraction: get(
                "bone_cells.ob_apoptosis_fraction",
                b.ob_apoptosis_fraction,
                d.ob_apoptosis_fraction,
                frac,
            ),
            ob_refill_factor: get(
                "bone_cells.ob_refill_factor",
                b.ob_refill_factor,
                d.ob_refill_factor,
                Range::closed(0.5, 3.0, ""),
            ),
        }
    });

    let stroma = raw.stroma.as_ref().map(|r| {
        let d = StromaParams::default();
        StromaParams {
            density: get(
                "stroma.density_pct",
                r.density_pct,
                d.density * 100.0,
                Range::closed(0.0, 50.0, "%"),
            ) / 100.0,
            engaged_factor: get(
                "stroma.engaged_factor",
                r.engaged_factor,
                d.engaged_factor,
                Range::closed(1.0, 100.0, ""),
            ),
            engaged_opg_factor: get(
                "stroma.engaged_opg_factor",
                r.engaged_opg_factor,
                d.engaged_opg_factor,
                Range::closed(0.0, 1.0, ""),
            ),
        }
    });

    let immune = raw.immune.as_ref().map(|r| {
        let d = ImmuneParams::default();
        ImmuneParams {
            density: get(
                "immune.density_pct",
                r.density_pct,
                d.density * 100.0,
                Range::closed(0.0, 50.0, "%"),
            ) / 100.0,
            kill_per_h: get(
                "immune.kill_rate_per_h",
                r.kill_rate_per_h,
                d.kill_per_h,
                Range::closed(0.0, 10.0, "per h"),
            ),
            move_per_h: get(
                "immune.move_rate_per_h",
                r.move_rate_per_h,
                d.move_per_h,
                per_h,
            ),
            tgfb_half_nm: get("immune.tgfb_half_nM", r.tgfb_half_nm, d.tgfb_half_nm, nm),
            burden_half: get(
                "immune.burden_half_pct",
                r.burden_half_pct,
                d.burden_half * 100.0,
                Range::positive(100.0, "%"),
            ) / 100.0,
        }
    });

    let mut haem_parts = None;
    if let Some(r) = raw.haematopoiesis.as_ref() {
        let d = HaemParams::default();
        haem_parts = Some((
            HaemParams {
                cellularity: get(
                    "haematopoiesis.cellularity_pct",
                    r.cellularity_pct,
                    d.cellularity * 100.0,
                    Range::closed(0.0, 95.0, "%"),
                ) / 100.0,
                stem_fraction: get(
                    "haematopoiesis.stem_pct",
                    r.stem_pct,
                    d.stem_fraction * 100.0,
                    Range::closed(0.0, 100.0, "%"),
                ) / 100.0,
                stem_division_per_h: get(
                    "haematopoiesis.stem_division_rate_per_h",
                    r.stem_division_rate_per_h,
                    d.stem_division_per_h,
                    per_h,
                ),
                progenitor_division_per_h: get(
                    "haematopoiesis.progenitor_division_rate_per_h",
                    r.progenitor_division_rate_per_h,
                    d.progenitor_division_per_h,
                    per_h,
                ),
                progenitor_exit_per_h: get(
                    "haematopoiesis.progenitor_exit_rate_per_h",
                    r.progenitor_exit_rate_per_h,
                    d.progenitor_exit_per_h,
                    per_h,
                ),
                max_generations: d.max_generations,
                mm_suppression: get(
                    "haematopoiesis.mm_suppression",
                    r.mm_suppression,
                    d.mm_suppression,
                    Range::closed(0.0, 100.0, ""),
                ),
            },
            r.max_generations,
        ));
    }
    let haematopoiesis = haem_parts.map(|(mut h, g)| {
        h.max_generations = c
            .int(
                "haematopoiesis.max_generations",
                g,
                Some(h.max_generations as i64),
                0,
                1000,
                "",
            )
            .unwrap_or(h.max_generations as i64) as u16;
        h
    });

    let p = &raw.patient;
    let dp = PatientParams::default();
    let weight_kg = c
        .num(
            "patient.weight_kg",
            p.weight_kg,
            Some(dp.weight_kg),
            Range::closed(20.0, 250.0, "kg"),
        )
        .unwrap_or(dp.weight_kg);
    let height_cm = c
        .num(
            "patient.height_cm",
            p.height_cm,
            Some(dp.height_cm),
            Range::closed(100.0, 230.0, "cm"),
        )
        .unwrap_or(dp.height_cm);
    let isotype = c
        .choice(
            "patient.isotype",
            p.isotype.as_deref(),
            "IgG",
            &["IgG", "IgA", "light_chain"],
        )
        .map_or(dp.isotype, |i| {
            [Isotype::IgG, Isotype::IgA, Isotype::LightChain][i]
        });
    let cohort = c
        .choice(
            "patient.variability",
            p.variability.as_deref(),
            "typical",
            &["typical", "cohort"],
        )
        .is_some_and(|i| i == 1);

    let k = &raw.clinical;
    let dc = ClinicalParams::default();
    let mut num =
        |key: &str, v: Option<f64>, d: f64, r: Range| c.num(key, v, Some(d), r).unwrap_or(d);
    let assess_every_h = 24.0
        * num(
            "clinical.assess_every_d",
            k.assess_every_d,
            dc.assess_every_h / 24.0,
            Range::positive(365.0, "days"),
        );
    let red_marrow_g_per_kg = num(
        "clinical.red_marrow_g_per_kg",
        k.red_marrow_g_per_kg,
        dc.red_marrow_g_per_kg,
        Range::positive(50.0, "g/kg"),
    );
    let cells_per_site = num(
        "clinical.cells_per_site",
        k.cells_per_site,
        dc.cells_per_site,
        Range::closed(0.0, 1e15, "cells"),
    );
    let mprotein = num(
        "clinical.mprotein_pg_per_cell_day",
        k.mprotein_pg_per_cell_day,
        dc.mprotein_pg_per_cell_day,
        Range::closed(0.0, 1000.0, "pg/cell/day"),
    );
    let flc = num(
        "clinical.flc_pg_per_cell_day",
        k.flc_pg_per_cell_day,
        dc.flc_pg_per_cell_day,
        Range::closed(0.0, 1000.0, "pg/cell/day"),
    );
    let lesion_min_sites = c
        .int(
            "clinical.lesion_min_sites",
            k.lesion_min_sites,
            Some(dc.lesion_min_sites as i64),
            1,
            1_000_000_000,
            "sites",
        )
        .unwrap_or(dc.lesion_min_sites as i64) as usize;
    Biology {
        myeloma_env,
        bone_cells,
        stroma,
        haematopoiesis,
        immune,
        patient: PatientParams {
            weight_kg,
            height_cm,
            isotype,
            cohort,
        },
        clinical: ClinicalParams {
            assess_every_h,
            red_marrow_g_per_kg,
            cells_per_site,
            mprotein_pg_per_cell_day: mprotein,
            flc_pg_per_cell_day: flc,
            fcrn_saturation: k.fcrn_saturation.unwrap_or(dc.fcrn_saturation),
            lesion_min_sites,
        },
    }
}

// ---- treatment (issue 4) ----
/// Validates the optional `[treatment]` section (drug and regimen libraries with overrides,
/// phases, toxicity and supportive care); problems keep their `treatment.…` key paths.
fn check_treatment(
    c: &mut Checker,
    raw: Option<&crate::protocol::RawTreatment>,
) -> Option<crate::protocol::TreatmentPlan> {
    match crate::protocol::TreatmentPlan::from_raw(raw?) {
        Ok(plan) => Some(plan),
        Err(ps) => {
            for p in ps {
                c.push(p);
            }
            None
        }
    }
}

// ---- clones (issue 5) ----
/// Validates the optional `[clones]` section; problems keep their `clones.…` key paths.
fn check_clones(
    c: &mut Checker,
    raw: Option<&crate::clones::RawClones>,
) -> Option<crate::clones::ClonePlan> {
    match crate::clones::ClonePlan::from_raw(raw?) {
        Ok(plan) => Some(plan),
        Err(ps) => {
            for (key, msg) in ps {
                c.push(Problem::new(key, msg));
            }
            None
        }
    }
}

/// Resolves and checks `bone.mask_path`.
fn check_mask(c: &mut Checker, p: &str, base_dir: &Path) -> Option<BoneParams> {
    let path = base_dir.join(p);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("png") | Some("csv")) {
        c.push(
            Problem::new(
                "bone.mask_path",
                "unsupported mask format; expected a .png or .csv file",
            )
            .with_value(format!("\"{p}\"")),
        );
        return None;
    }
    if !path.is_file() {
        c.push(
            Problem::new(
                "bone.mask_path",
                format!(
                    "mask file not found: `{}` (relative paths are resolved against the scenario \
                     file's folder)",
                    path.display()
                ),
            )
            .with_value(format!("\"{p}\"")),
        );
        return None;
    }
    Some(BoneParams::Mask { path })
}

/// Checks one `[fields.<name>]` table; `None` after recording problems.
fn check_field(
    c: &mut Checker,
    name: &str,
    f: &RawField,
    dt_h: Option<f64>,
    site_um: Option<f64>,
    dims: Option<usize>,
) -> Option<FieldParams> {
    let key = |k: &str| format!("fields.{name}.{k}");
    let before = c.problems.len();
    if !FIELD_NAMES.contains(&name) {
        c.push(Problem::new(
            format!("fields.{name}"),
            format!(
                "unknown field `{name}`; allowed: {}",
                FIELD_NAMES.join(", ")
            ),
        ));
    }
    let d_per_s = c.num(
        &key("diffusion_um2_per_s"),
        f.diffusion_um2_per_s,
        None,
        Range::closed(0.0, 1000.0, "µm²/s"),
    );
    let half_life = c.num(
        &key("half_life_min"),
        f.half_life_min,
        None,
        Range::positive(1e6, "min"),
    );
    let solver = c
        .choice(
            &key("solver"),
            f.solver.as_deref(),
            "implicit",
            &["explicit", "implicit"],
        )
        .map(|i| [Solver::Explicit, Solver::Implicit][i]);
    let given_substeps = c.int(&key("substeps"), f.substeps, Some(1), 1, MAX_SUBSTEPS, "");
    let splitting = c
        .choice(
            &key("splitting"),
            f.splitting.as_deref(),
            "distributed",
            &["distributed", "classic"],
        )
        .map(|i| [Splitting::Distributed, Splitting::Classic][i]);
    if f.splitting.is_some() && solver == Some(Solver::Explicit) {
        c.push(Problem::new(
            key("splitting"),
            "`splitting` applies to the implicit solver only; remove it or set solver = \"implicit\"",
        ));
    }
    let bone_factor = c.num(
        &key("bone_diffusion_factor"),
        f.bone_diffusion_factor,
        Some(0.1),
        Range::closed(0.0, 1.0, ""),
    );
    let initial = c.num(
        &key("initial_nM"),
        f.initial_nm,
        Some(0.0),
        Range::closed(0.0, 1e6, "nM"),
    );
    let mut secretion = Vec::new();
    let allowed: Vec<&str> = CellKind::ALL
        .iter()
        .filter(|k| !matches!(k, CellKind::Empty | CellKind::Bone))
        .map(|k| k.name())
        .collect();
    for (kind_name, &rate) in &f.secretion_nm_per_h {
        let k = format!("fields.{name}.secretion_nM_per_h.{kind_name}");
        match CellKind::ALL
            .iter()
            .find(|kind| kind.name() == kind_name && allowed.contains(&kind.name()))
        {
            None => c.push(Problem::new(
                k,
                format!(
                    "unknown cell kind `{kind_name}`; allowed: {}",
                    allowed.join(", ")
                ),
            )),
            Some(&kind) => {
                if let Some(r) = c.num(&k, Some(rate), None, Range::closed(0.0, 1e6, "nM/h")) {
                    secretion.push((kind, r));
                }
            }
        }
    }
    secretion.sort_by_key(|&(k, _)| k as u8);

    let d_per_h = d_per_s.map(|d| d * 3600.0);
    let decay = half_life.map(|h| std::f64::consts::LN_2 / (h / 60.0));
    let mut substeps = given_substeps;
    if let (Some(Solver::Explicit), Some(d), Some(k), Some(dt), Some(s), Some(dims)) =
        (solver, d_per_h, decay, dt_h, site_um, dims)
    {
        let need = explicit_substeps(d, k, dt, s, dims);
        let limit = EXPLICIT_SAFETY * explicit_limit(dims);
        match f.substeps {
            None if need as i64 > MAX_SUBSTEPS => {
                c.push(Problem::new(
                    key("solver"),
                    format!(
                        "the explicit solver would need {need} sub-steps per step (more than \
                         {MAX_SUBSTEPS}); use solver = \"implicit\""
                    ),
                ));
                substeps = None;
            }
            None => substeps = Some(need as i64),
            Some(n) if (n as u64) < need && given_substeps.is_some() => {
                let dn = d * dt / n as f64 / (s * s);
                let kn = k * dt / n as f64;
                c.push(
                    Problem::new(
                        key("substeps"),
                        format!(
                            "unstable explicit diffusion: D·Δt_sub/Δx² = {dn:.4} (limit {limit:.4} \
                             = {EXPLICIT_SAFETY}/(2·{dims})), k·Δt_sub = {kn:.4} (limit \
                             {MAX_DECAY_PER_SUBSTEP}); expected at least {need} sub-steps, or \
                             solver = \"implicit\""
                        ),
                    )
                    .with_value(n),
                );
                substeps = None;
            }
            Some(_) => {}
        }
    }
    if c.problems.len() > before {
        return None;
    }
    Some(FieldParams {
        name: name.to_string(),
        diffusion_um2_per_h: d_per_h?,
        decay_per_h: decay?,
        solver: solver?,
        substeps: substeps? as u32,
        splitting: splitting?,
        bone_diffusion_factor: bone_factor?,
        initial_nm: initial?,
        secretion_nm_per_h: secretion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_substeps_meets_both_limits_minimally() {
        // D = 10 µm²/s = 36000 µm²/h, dt = 1 h, dx = 10 µm: D·dt/dx² = 360; 2D limit 0.25·0.9.
        let n = explicit_substeps(36_000.0, 0.0, 1.0, 10.0, 2);
        assert_eq!(n, 1600);
        assert!(360.0 / n as f64 <= 0.225 + 1e-12);
        assert!(360.0 / (n - 1) as f64 > 0.225);
        // Decay-limited: k = 3/h, no diffusion → k·dt/n ≤ 0.5 → n = 6.
        assert_eq!(explicit_substeps(0.0, 3.0, 1.0, 10.0, 2), 6);
        assert_eq!(explicit_substeps(0.0, 0.0, 1.0, 10.0, 3), 1);
    }
}
