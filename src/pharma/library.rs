//! The drug library: `scenarios/library/drugs.toml` (embedded with `include_str!`), merged
//! with a scenario's `[treatment.drugs.<name>]` overrides, validated into [`Drug`]s with every
//! problem collected and keyed by its dotted path.
//!
//! Merge rule: scenario keys replace shipped keys one by one (`pk.cl_L_per_h`, …); an
//! `effects` list in the scenario replaces the shipped list as a whole; a name not in the
//! shipped library defines a new drug (then `mw_g_per_mol`, `pk.cl_L_per_h`, `pk.v1_L` and
//! `pk.default_route` are required).
//!
//! Reads: the embedded library text and raw overrides. Writes: nothing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::drug::{Drug, Effect, PkParams, Route, Target, TargetMediated};
use crate::scenario::Problem;
use crate::scenario::range::Range;

/// The shipped drug library text.
pub const DRUGS_TOML: &str = include_str!("../../scenarios/library/drugs.toml");

/// Where the shipped library lives (for messages).
pub const DRUGS_ORIGIN: &str = "scenarios/library/drugs.toml";

/// One drug as written (library file or scenario override); every key optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrug {
    /// `description`: one line.
    pub description: Option<String>,
    /// `source`: where the numbers come from.
    pub source: Option<String>,
    /// `mw_g_per_mol`: molecular weight [g/mol], 50..=10⁶. Required.
    pub mw_g_per_mol: Option<f64>,
    /// `iu_per_mg`: specific activity [IU/mg] (> 0), required to dose the drug in IU.
    pub iu_per_mg: Option<f64>,
    /// `[<drug>.pk]`.
    #[serde(default)]
    pub pk: RawPk,
    /// `[[<drug>.effects]]`: replaces the shipped list when given in a scenario.
    pub effects: Option<Vec<RawEffect>>,
}

/// `[<drug>.pk]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPk {
    /// `cl_L_per_h`: linear clearance [L/h], > 0 and ≤ 10⁴. Required.
    #[serde(rename = "cl_L_per_h")]
    pub cl_l_per_h: Option<f64>,
    /// `v1_L`: central volume [L], > 0 and ≤ 10⁵. Required.
    #[serde(rename = "v1_L")]
    pub v1_l: Option<f64>,
    /// `q_L_per_h`: inter-compartmental clearance [L/h], 0..=10⁴. Default 0 (one compartment).
    #[serde(rename = "q_L_per_h")]
    pub q_l_per_h: Option<f64>,
    /// `v2_L`: peripheral volume [L], > 0 and ≤ 10⁵; required when `q_L_per_h` > 0.
    #[serde(rename = "v2_L")]
    pub v2_l: Option<f64>,
    /// `ka_per_h`: absorption rate [1/h], 0..=100. Default 0 (then SC/oral doses never absorb:
    /// validation requires ka > 0 whenever f_sc or f_oral > 0).
    pub ka_per_h: Option<f64>,
    /// `f_oral`: oral bioavailability 0..=1. Default 0.
    pub f_oral: Option<f64>,
    /// `f_sc`: subcutaneous bioavailability 0..=1. Default 0.
    pub f_sc: Option<f64>,
    /// `ke0_per_h`: effect-compartment rate [1/h], > 0 and ≤ 100. Default: none.
    pub ke0_per_h: Option<f64>,
    /// `default_route`: `iv_bolus`, `iv_infusion`, `sc` or `oral`. Required.
    pub default_route: Option<String>,
    /// `infusion_h`: default infusion duration [h], > 0 and ≤ 48. Default 0.5 h.
    pub infusion_h: Option<f64>,
    /// `[<drug>.pk.target_mediated]`.
    pub target_mediated: Option<RawTargetMediated>,
}

/// `[<drug>.pk.target_mediated]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetMediated {
    /// `vmax_mg_per_h`: capacity at target burden 1 [mg/h], 0..=10⁴. Required.
    pub vmax_mg_per_h: Option<f64>,
    /// `km_mg_per_L`: half-saturation concentration [mg/L], > 0 and ≤ 10⁴. Required.
    #[serde(rename = "km_mg_per_L")]
    pub km_mg_per_l: Option<f64>,
}

/// `[[<drug>.effects]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEffect {
    /// `target`: a [`Target`] name. Required.
    pub target: Option<String>,
    /// `ec50_nM`: [nM], > 0 and ≤ 10⁷. Required.
    #[serde(rename = "ec50_nM")]
    pub ec50_nm: Option<f64>,
    /// `hill`: Hill coefficient, > 0 and ≤ 10. Default 1.
    pub hill: Option<f64>,
    /// `emax`: maximal effect in the target's unit (range by target). Required.
    pub emax: Option<f64>,
    /// `source`: where the numbers come from.
    pub source: Option<String>,
}

fn or<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
    over.clone().or_else(|| base.clone())
}

impl RawDrug {
    /// `over`'s keys on top of `self`'s (see the module docs for the rule).
    pub fn merged(&self, over: &RawDrug) -> RawDrug {
        let (b, o) = (&self.pk, &over.pk);
        let tm = match (&b.target_mediated, &o.target_mediated) {
            (Some(b), Some(o)) => Some(RawTargetMediated {
                vmax_mg_per_h: or(&o.vmax_mg_per_h, &b.vmax_mg_per_h),
                km_mg_per_l: or(&o.km_mg_per_l, &b.km_mg_per_l),
            }),
            (b, o) => or(o, b),
        };
        RawDrug {
            description: or(&over.description, &self.description),
            source: or(&over.source, &self.source),
            mw_g_per_mol: or(&over.mw_g_per_mol, &self.mw_g_per_mol),
            iu_per_mg: or(&over.iu_per_mg, &self.iu_per_mg),
            pk: RawPk {
                cl_l_per_h: or(&o.cl_l_per_h, &b.cl_l_per_h),
                v1_l: or(&o.v1_l, &b.v1_l),
                q_l_per_h: or(&o.q_l_per_h, &b.q_l_per_h),
                v2_l: or(&o.v2_l, &b.v2_l),
                ka_per_h: or(&o.ka_per_h, &b.ka_per_h),
                f_oral: or(&o.f_oral, &b.f_oral),
                f_sc: or(&o.f_sc, &b.f_sc),
                ke0_per_h: or(&o.ke0_per_h, &b.ke0_per_h),
                default_route: or(&o.default_route, &b.default_route),
                infusion_h: or(&o.infusion_h, &b.infusion_h),
                target_mediated: tm,
            },
            effects: or(&over.effects, &self.effects),
        }
    }
}

/// Validated drugs, sorted by name; a drug's index is its id everywhere (PK states, doses).
#[derive(Clone, Debug, PartialEq)]
pub struct DrugLibrary {
    drugs: Vec<Drug>,
}

/// Parses the shipped library text into raw drugs (sorted by name).
pub fn shipped_raw() -> Result<BTreeMap<String, RawDrug>, Vec<Problem>> {
    parse_shipped(DRUGS_TOML, DRUGS_ORIGIN)
}

/// A shipped library's text (`origin` names it in the problem) as raw entries by name.
fn parse_shipped<R: DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<BTreeMap<String, R>, Vec<Problem>> {
    toml::from_str(text).map_err(|e| {
        vec![Problem::new(
            "",
            format!("{origin}: {}", e.message().trim()),
        )]
    })
}

/// A shipped library (`text`, from `origin`) with a scenario's `overrides`, validated entry by
/// entry in name order: an entry in both is `merge(shipped, override)`. Problems in an entry
/// the scenario touches are keyed `<prefix>.<name>.<key>`, in a shipped one
/// `<origin>:<name>.<key>`; `check` validates one entry under its key. Shared by the drug and
/// the regimen library.
pub(crate) fn load_with_overrides<R: DeserializeOwned + Clone, T>(
    text: &str,
    origin: &str,
    overrides: &BTreeMap<String, R>,
    prefix: &str,
    merge: impl Fn(&R, &R) -> R,
    mut check: impl FnMut(&str, &R, &str, &mut Vec<Problem>) -> Option<T>,
) -> Result<Vec<T>, Vec<Problem>> {
    let shipped: BTreeMap<String, R> = parse_shipped(text, origin)?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut names: Vec<&String> = shipped.keys().chain(overrides.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (raw, key) = match (shipped.get(name), overrides.get(name)) {
            (Some(b), Some(o)) => (merge(b, o), format!("{prefix}.{name}")),
            (Some(b), None) => (b.clone(), format!("{origin}:{name}")),
            (None, Some(o)) => (o.clone(), format!("{prefix}.{name}")),
            (None, None) => continue,
        };
        if let Some(t) = check(name, &raw, &key, &mut problems) {
            out.push(t);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

impl DrugLibrary {
    /// The shipped library alone.
    pub fn shipped() -> Result<Self, Vec<Problem>> {
        Self::with_overrides(&BTreeMap::new(), "treatment.drugs")
    }

    /// The shipped library with scenario overrides; problems in overrides are keyed
    /// `<prefix>.<drug>.<key>`, problems in the shipped file `drugs.toml:<drug>.<key>`.
    pub fn with_overrides(
        overrides: &BTreeMap<String, RawDrug>,
        prefix: &str,
    ) -> Result<Self, Vec<Problem>> {
        let drugs = load_with_overrides(
            DRUGS_TOML,
            DRUGS_ORIGIN,
            overrides,
            prefix,
            RawDrug::merged,
            check_drug,
        )?;
        Ok(Self { drugs })
    }

    /// All drugs, sorted by name.
    pub fn drugs(&self) -> &[Drug] {
        &self.drugs
    }

    /// Id (index) of the drug called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.drugs
            .binary_search_by(|d| d.name.as_str().cmp(name))
            .ok()
    }

    /// The drug called `name`.
    pub fn get(&self, name: &str) -> Option<&Drug> {
        self.index(name).map(|i| &self.drugs[i])
    }

    /// Drug names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.drugs.iter().map(|d| d.name.as_str()).collect()
    }
}

/// Validates one raw drug; `key` is the dotted prefix used in problems.
fn check_drug(name: &str, r: &RawDrug, key: &str, problems: &mut Vec<Problem>) -> Option<Drug> {
    let before = problems.len();
    let k = |s: &str| format!("{key}.{s}");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        problems.push(Problem::new(
            key,
            "drug names use lower-case letters, digits and `_` only",
        ));
    }
    let mw = Range::closed(50.0, 1e6, "g/mol").required(
        problems,
        k("mw_g_per_mol"),
        r.mw_g_per_mol,
        None,
    );
    let iu = Range::positive(1e9, "IU/mg")
        .optional(problems, k("iu_per_mg"), r.iu_per_mg)
        .flatten();
    let p = &r.pk;
    let cl = Range::positive(1e4, "L/h").required(problems, k("pk.cl_L_per_h"), p.cl_l_per_h, None);
    let v1 = Range::positive(1e5, "L").required(problems, k("pk.v1_L"), p.v1_l, None);
    let q = Range::closed(0.0, 1e4, "L/h").required(
        problems,
        k("pk.q_L_per_h"),
        p.q_l_per_h,
        Some(0.0),
    );
    let v2 = match q {
        Some(q) if q > 0.0 => {
            Range::positive(1e5, "L").required(problems, k("pk.v2_L"), p.v2_l, None)
        }
        _ => Some(p.v2_l.unwrap_or(1.0)),
    };
    let ka = Range::closed(0.0, 100.0, "1/h").required(
        problems,
        k("pk.ka_per_h"),
        p.ka_per_h,
        Some(0.0),
    );
    let f_oral =
        Range::closed(0.0, 1.0, "").required(problems, k("pk.f_oral"), p.f_oral, Some(0.0));
    let f_sc = Range::closed(0.0, 1.0, "").required(problems, k("pk.f_sc"), p.f_sc, Some(0.0));
    if let (Some(ka), Some(fo), Some(fs)) = (ka, f_oral, f_sc)
        && ka == 0.0
        && (fo > 0.0 || fs > 0.0)
    {
        problems.push(Problem::new(
            k("pk.ka_per_h"),
            format!(
                "f_oral or f_sc > 0 needs an absorption rate; expected {}",
                Range::positive(100.0, "1/h").describe()
            ),
        ));
    }
    let ke0 = Range::positive(100.0, "1/h").optional(problems, k("pk.ke0_per_h"), p.ke0_per_h);
    let infusion_h =
        Range::positive(48.0, "h").required(problems, k("pk.infusion_h"), p.infusion_h, Some(0.5));
    let route = match &p.default_route {
        None => {
            problems.push(Problem::new(
                k("pk.default_route"),
                format!(
                    "missing required key: expected one of {}",
                    Route::NAMES.join(", ")
                ),
            ));
            None
        }
        Some(s) => match Route::from_name(s, infusion_h.unwrap_or(0.5)) {
            Some(rt) => Some(rt),
            None => {
                problems.push(
                    Problem::new(
                        k("pk.default_route"),
                        format!("unknown route; allowed: {}", Route::NAMES.join(", ")),
                    )
                    .with_value(format!("\"{s}\"")),
                );
                None
            }
        },
    };
    let tm = match &p.target_mediated {
        None => Some(None),
        Some(t) => {
            let vmax = Range::closed(0.0, 1e4, "mg/h").required(
                problems,
                k("pk.target_mediated.vmax_mg_per_h"),
                t.vmax_mg_per_h,
                None,
            );
            let km = Range::positive(1e4, "mg/L").required(
                problems,
                k("pk.target_mediated.km_mg_per_L"),
                t.km_mg_per_l,
                None,
            );
            match (vmax, km) {
                (Some(vmax_mg_per_h), Some(km_mg_per_l)) => Some(Some(TargetMediated {
                    vmax_mg_per_h,
                    km_mg_per_l,
                })),
                _ => None,
            }
        }
    };
    let mut effects = Vec::new();
    for (i, e) in r.effects.iter().flatten().enumerate() {
        let ek = |s: &str| format!("{key}.effects[{i}].{s}");
        let target = match &e.target {
            None => {
                problems.push(Problem::new(
                    ek("target"),
                    "missing required key: expected a target name",
                ));
                None
            }
            Some(t) => match Target::from_name(t) {
                Some(t) => Some(t),
                None => {
                    let all: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                    problems.push(
                        Problem::new(
                            ek("target"),
                            format!("unknown target; allowed: {}", all.join(", ")),
                        )
                        .with_value(format!("\"{t}\"")),
                    );
                    None
                }
            },
        };
        let ec50 = Range::positive(1e7, "nM").required(problems, ek("ec50_nM"), e.ec50_nm, None);
        let hill = Range::positive(10.0, "").required(problems, ek("hill"), e.hill, Some(1.0));
        let emax = match target {
            Some(t) => {
                let (lo, hi) = t.emax_range();
                Range::closed(lo, hi, t.unit()).required(problems, ek("emax"), e.emax, None)
            }
            None => None,
        };
        if let (Some(target), Some(ec50_nm), Some(hill), Some(emax)) = (target, ec50, hill, emax) {
            effects.push(Effect {
                target,
                ec50_nm,
                hill,
                emax,
            });
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Drug {
        name: name.to_string(),
        description: r.description.clone().unwrap_or_default(),
        source: r.source.clone().unwrap_or_default(),
        mw_g_per_mol: mw?,
        iu_per_mg: iu,
        pk: PkParams {
            cl_l_per_h: cl?,
            v1_l: v1?,
            q_l_per_h: q?,
            v2_l: v2?,
            ka_per_h: ka?,
            f_oral: f_oral?,
            f_sc: f_sc?,
            ke0_per_h: ke0?,
            target_mediated: tm?,
            default_route: route?,
        },
        effects,
        infusion_h: infusion_h?,
    })
}
