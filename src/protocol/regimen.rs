//! Regimens as dose calendars: cycle length, default number of cycles, and per drug the dose,
//! route, days of the cycle and the cycles it applies to (so per-cycle variations such as
//! "daratumumab weekly in cycles 1–2, every 2 weeks in 3–6, every 4 weeks from 7" are several
//! entries of one regimen). Shipped in `scenarios/library/regimens.toml` (embedded), extended
//! or replaced (whole regimens) by a scenario's `[treatment.regimens.<name>]`.
//!
//! Reads: raw regimen tables and the drug library. Writes: nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::pharma::library::load_with_overrides;
use crate::pharma::{DoseBasis, DoseSpec, DrugLibrary, Route};
use crate::scenario::Problem;
use crate::scenario::range::{IntRange, Range};

/// The shipped regimen library text.
pub const REGIMENS_TOML: &str = include_str!("../../scenarios/library/regimens.toml");

/// Where the shipped regimen library lives (for messages).
pub const REGIMENS_ORIGIN: &str = "scenarios/library/regimens.toml";

/// Longest allowed cycle [days].
pub const MAX_CYCLE_D: i64 = 365;

/// Largest dose number a regimen entry may give (in its own unit: mg/m², mg/kg, mg or IU); a
/// plausibility bound against typos, far above any real dose.
pub const MAX_DOSE: f64 = 1e7;

/// A regimen as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegimen {
    /// `description`: one line.
    pub description: Option<String>,
    /// `source`: trial or label.
    pub source: Option<String>,
    /// `cycle_length_d`: cycle length [days], 1..=365. Required.
    pub cycle_length_d: Option<i64>,
    /// `cycles`: number of cycles when a phase does not say, 1..=1000. Default: until another
    /// transition (continuous).
    pub cycles: Option<i64>,
    /// `[[<regimen>.doses]]`: the drug entries. Required (at least one).
    pub doses: Option<Vec<RawRegimenDose>>,
}

/// Days of a cycle: a list `[1, 4, 8, 11]` or a string `"1-21"` / `"1-4, 9-12"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RawDays {
    /// `[1, 4, 8, 11]`.
    List(Vec<i64>),
    /// `"1-21"`, `"1,2,4-5"`.
    Spec(String),
}

/// Cycles an entry applies to: an integer `1`, or a string `"2-9"`, `"7-"` (open-ended).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RawCycles {
    /// One cycle.
    One(i64),
    /// A range.
    Spec(String),
}

/// `[[<regimen>.doses]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegimenDose {
    /// `drug`: a drug library name. Required.
    pub drug: Option<String>,
    /// `dose_mg_m2`: [mg/m² BSA]. Exactly one of the four dose keys is required.
    pub dose_mg_m2: Option<f64>,
    /// `dose_mg_kg`: [mg/kg body weight].
    pub dose_mg_kg: Option<f64>,
    /// `dose_mg`: flat [mg].
    pub dose_mg: Option<f64>,
    /// `dose_IU`: international units (drug needs `iu_per_mg`).
    #[serde(rename = "dose_IU")]
    pub dose_iu: Option<f64>,
    /// `route`: `iv_bolus`, `iv_infusion`, `sc`, `oral`. Default: the drug's `default_route`.
    pub route: Option<String>,
    /// `infusion_h`: infusion duration [h], > 0 and ≤ 48. Default: the drug's `infusion_h`.
    pub infusion_h: Option<f64>,
    /// `days`: days of the cycle (1-based, ≤ cycle length). Required.
    pub days: Option<RawDays>,
    /// `cycles`: which cycles (1-based). Default `"1-"` (all).
    pub cycles: Option<RawCycles>,
    /// `cycle_every`: within `cycles`, only every k-th cycle (1..=100). Default 1.
    pub cycle_every: Option<i64>,
}

/// Which cycles a regimen entry applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CycleSet {
    /// First cycle (1-based).
    pub first: u32,
    /// Last cycle; `None` = open-ended.
    pub last: Option<u32>,
    /// Every k-th cycle from `first`.
    pub every: u32,
}

impl CycleSet {
    /// Whether cycle `c` (1-based) is included.
    pub fn contains(&self, c: u32) -> bool {
        c >= self.first && self.last.is_none_or(|l| c <= l) && (c - self.first) % self.every == 0
    }

    /// `C1`, `C2–9`, `C7+`, with `every k` when k > 1.
    pub fn describe(&self) -> String {
        let base = match self.last {
            Some(l) if l == self.first => format!("C{l}"),
            Some(l) => format!("C{}–{l}", self.first),
            None => format!("C{}+", self.first),
        };
        if self.every > 1 {
            format!("{base} every {} cycles", self.every)
        } else {
            base
        }
    }
}

/// One drug entry of a regimen.
#[derive(Clone, Debug, PartialEq)]
pub struct RegimenDose {
    /// Drug id (library index).
    pub drug: usize,
    /// Drug name.
    pub drug_name: String,
    /// Prescribed dose.
    pub dose: DoseSpec,
    /// Route.
    pub route: Route,
    /// Days of the cycle (1-based, ascending, unique).
    pub days: Vec<u32>,
    /// Cycles it applies to.
    pub cycles: CycleSet,
}

/// A validated regimen.
#[derive(Clone, Debug, PartialEq)]
pub struct Regimen {
    /// Library name (`VRd`, …).
    pub name: String,
    /// One line.
    pub description: String,
    /// Trial or label.
    pub source: String,
    /// Cycle length [days].
    pub cycle_length_d: u32,
    /// Default number of cycles (`None` = continuous).
    pub cycles: Option<u32>,
    /// Drug entries in file order.
    pub doses: Vec<RegimenDose>,
}

/// Validated regimens, sorted by name.
#[derive(Clone, Debug, PartialEq)]
pub struct RegimenLibrary {
    regimens: Vec<Regimen>,
}

impl RegimenLibrary {
    /// Shipped regimens plus (replacing or adding) `overrides`, checked against `drugs`.
    /// Problems in overrides are keyed `<prefix>.<name>.<key>`.
    pub fn with_overrides(
        overrides: &BTreeMap<String, RawRegimen>,
        prefix: &str,
        drugs: &DrugLibrary,
    ) -> Result<Self, Vec<Problem>> {
        let regimens = load_with_overrides(
            REGIMENS_TOML,
            REGIMENS_ORIGIN,
            overrides,
            prefix,
            // A scenario's regimen replaces the shipped one as a whole.
            |_, o: &RawRegimen| o.clone(),
            |name, raw, key, problems| check_regimen(name, raw, key, drugs, problems),
        )?;
        Ok(Self { regimens })
    }

    /// All regimens, sorted by name.
    pub fn regimens(&self) -> &[Regimen] {
        &self.regimens
    }

    /// Index of the regimen called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.regimens
            .binary_search_by(|r| r.name.as_str().cmp(name))
            .ok()
    }

    /// The regimen called `name`.
    pub fn get(&self, name: &str) -> Option<&Regimen> {
        self.index(name).map(|i| &self.regimens[i])
    }

    /// Regimen names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.regimens.iter().map(|r| r.name.as_str()).collect()
    }
}

/// Parses `"1-21"`, `"1,2,4-5"`, `"7-"` (open end → `None`) into (first, last) pairs.
fn parse_ranges(spec: &str) -> Option<Vec<(i64, Option<i64>)>> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return None;
        }
        match part.split_once('-') {
            None => {
                let v = part.parse().ok()?;
                out.push((v, Some(v)));
            }
            Some((a, b)) => {
                let a: i64 = a.trim().parse().ok()?;
                let b = b.trim();
                if b.is_empty() {
                    out.push((a, None));
                } else {
                    let b: i64 = b.parse().ok()?;
                    if b < a {
                        return None;
                    }
                    out.push((a, Some(b)));
                }
            }
        }
    }
    Some(out)
}

fn check_regimen(
    name: &str,
    r: &RawRegimen,
    key: &str,
    drugs: &DrugLibrary,
    problems: &mut Vec<Problem>,
) -> Option<Regimen> {
    let before = problems.len();
    let cycle_len = IntRange::new(1, MAX_CYCLE_D, "days")
        .required(
            problems,
            format!("{key}.cycle_length_d"),
            r.cycle_length_d,
            None,
        )
        .map(|v| v as u32);
    let cycles = IntRange::new(1, 1000, "cycles")
        .optional(problems, format!("{key}.cycles"), r.cycles)
        .map(|c| c.map(|v| v as u32));
    let mut doses = Vec::new();
    match &r.doses {
        None => problems.push(Problem::new(
            format!("{key}.doses"),
            "missing required key: expected at least one [[<regimen>.doses]] entry",
        )),
        Some(list) if list.is_empty() => problems.push(Problem::new(
            format!("{key}.doses"),
            "expected at least one [[<regimen>.doses]] entry",
        )),
        Some(list) => {
            for (i, d) in list.iter().enumerate() {
                let k = format!("{key}.doses[{i}]");
                if let Some(rd) = check_entry(d, &k, cycle_len, drugs, problems) {
                    doses.push(rd);
                }
            }
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Regimen {
        name: name.to_string(),
        description: r.description.clone().unwrap_or_default(),
        source: r.source.clone().unwrap_or_default(),
        cycle_length_d: cycle_len?,
        cycles: cycles?,
        doses,
    })
}

fn check_entry(
    d: &RawRegimenDose,
    k: &str,
    cycle_len: Option<u32>,
    drugs: &DrugLibrary,
    problems: &mut Vec<Problem>,
) -> Option<RegimenDose> {
    let before = problems.len();
    let drug = match &d.drug {
        None => {
            problems.push(Problem::new(
                format!("{k}.drug"),
                "missing required key: expected a drug name",
            ));
            None
        }
        Some(n) => match drugs.index(n) {
            Some(i) => Some(i),
            None => {
                problems.push(
                    Problem::new(
                        format!("{k}.drug"),
                        format!("unknown drug; known: {}", drugs.names().join(", ")),
                    )
                    .with_value(format!("\"{n}\"")),
                );
                None
            }
        },
    };
    // (basis, value, key, unit) of each way to write a dose.
    let given: Vec<(DoseBasis, f64, &str, &'static str)> = [
        (DoseBasis::PerM2, d.dose_mg_m2, "dose_mg_m2", "mg/m²"),
        (DoseBasis::PerKg, d.dose_mg_kg, "dose_mg_kg", "mg/kg"),
        (DoseBasis::Flat, d.dose_mg, "dose_mg", "mg"),
        (DoseBasis::Iu, d.dose_iu, "dose_IU", "IU"),
    ]
    .into_iter()
    .filter_map(|(b, v, key, unit)| v.map(|v| (b, v, key, unit)))
    .collect();
    let dose = match given.as_slice() {
        [(b, v, key, unit)] => {
            if Range::positive(MAX_DOSE, unit)
                .check(problems, format!("{k}.{key}"), *v)
                .is_none()
            {
                None
            } else {
                if *b == DoseBasis::Iu
                    && let Some(i) = drug
                    && drugs.drugs()[i].iu_per_mg.is_none()
                {
                    problems.push(Problem::new(
                        format!("{k}.dose_IU"),
                        "this drug has no `iu_per_mg`; dose it in mg (dose_mg, dose_mg_m2 or dose_mg_kg)",
                    ));
                }
                Some(DoseSpec {
                    amount: *v,
                    basis: *b,
                })
            }
        }
        _ => {
            problems.push(Problem::new(
                k,
                format!(
                    "expected exactly one of dose_mg_m2, dose_mg_kg, dose_mg, dose_IU (found {})",
                    given.len()
                ),
            ));
            None
        }
    };
    let infusion =
        Range::positive(48.0, "h").optional(problems, format!("{k}.infusion_h"), d.infusion_h);
    let route = match (drug, infusion) {
        (Some(i), Some(inf)) => {
            let drug = &drugs.drugs()[i];
            let inf_h = inf.unwrap_or(drug.infusion_h);
            match &d.route {
                None => Some(match drug.pk.default_route {
                    crate::pharma::Route::IvInfusion { .. } => {
                        crate::pharma::Route::IvInfusion { hours: inf_h }
                    }
                    r => r,
                }),
                Some(s) => match Route::from_name(s, inf_h) {
                    Some(r) => {
                        if drug.pk.bioavailability(r) == 0.0 {
                            problems.push(
                                Problem::new(
                                    format!("{k}.route"),
                                    format!(
                                        "drug `{}` has zero bioavailability by this route (set f_oral/f_sc in its pk table)",
                                        drug.name
                                    ),
                                )
                                .with_value(format!("\"{s}\"")),
                            );
                        }
                        Some(r)
                    }
                    None => {
                        problems.push(
                            Problem::new(
                                format!("{k}.route"),
                                format!("unknown route; allowed: {}", Route::NAMES.join(", ")),
                            )
                            .with_value(format!("\"{s}\"")),
                        );
                        None
                    }
                },
            }
        }
        _ => None,
    };
    let days = match &d.days {
        None => {
            problems.push(Problem::new(
                format!("{k}.days"),
                "missing required key: expected days of the cycle, e.g. `days = [1, 8, 15]` or `days = \"1-21\"`",
            ));
            None
        }
        Some(raw) => {
            let list: Option<Vec<i64>> = match raw {
                RawDays::List(v) => Some(v.clone()),
                RawDays::Spec(s) => parse_ranges(s).and_then(|rs| {
                    let mut v = Vec::new();
                    for (a, b) in rs {
                        v.extend(a..=b?);
                    }
                    Some(v)
                }),
            };
            let max = cycle_len.unwrap_or(MAX_CYCLE_D as u32) as i64;
            match list {
                Some(mut v) if !v.is_empty() && v.iter().all(|&x| (1..=max).contains(&x)) => {
                    v.sort_unstable();
                    v.dedup();
                    Some(v.into_iter().map(|x| x as u32).collect::<Vec<u32>>())
                }
                _ => {
                    problems.push(Problem::new(
                        format!("{k}.days"),
                        format!(
                            "expected days in 1..={max} (the cycle length) as a list `[1, 8]` or ranges `\"1-4, 9-12\"`"
                        ),
                    ));
                    None
                }
            }
        }
    };
    let every = IntRange::new(1, 100, "")
        .required(problems, format!("{k}.cycle_every"), d.cycle_every, Some(1))
        .map(|v| v as u32);
    let cycles = match &d.cycles {
        None => Some((1, None)),
        Some(RawCycles::One(c)) if (1..=10_000).contains(c) => Some((*c as u32, Some(*c as u32))),
        Some(RawCycles::Spec(s)) => match parse_ranges(s).as_deref() {
            Some([(a, b)]) if *a >= 1 && b.is_none_or(|b| b <= 10_000) => {
                Some((*a as u32, b.map(|b| b as u32)))
            }
            _ => {
                problems.push(
                    Problem::new(
                        format!("{k}.cycles"),
                        "expected one cycle range such as \"1\", \"2-9\" or \"7-\" (open-ended)",
                    )
                    .with_value(format!("\"{s}\"")),
                );
                None
            }
        },
        Some(RawCycles::One(c)) => {
            problems.push(
                Problem::new(format!("{k}.cycles"), "expected a cycle number ≥ 1").with_value(c),
            );
            None
        }
    };
    if problems.len() > before {
        return None;
    }
    let (first, last) = cycles?;
    let drug = drug?;
    Some(RegimenDose {
        drug,
        drug_name: drugs.drugs()[drug].name.clone(),
        dose: dose?,
        route: route?,
        days: days?,
        cycles: CycleSet {
            first,
            last,
            every: every?,
        },
    })
}
