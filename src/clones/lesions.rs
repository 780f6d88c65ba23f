//! The lesion → trait library: cytogenetic lesions and acquired resistance lesions with the
//! cell-level traits they confer, as data (`scenarios/library/lesions.toml`, embedded;
//! scenario rows under `[clones.lesions.<name>]` override or add). Each row carries a source
//! and a confidence tag; most effect sizes are [L] (illustrative, to calibrate).
//!
//! Reads: the embedded TOML and scenario overrides. Writes: nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The shipped library (TOML).
pub const LIBRARY_TOML: &str = include_str!("../../scenarios/library/lesions.toml");

/// Drug classes whose myeloma kill a clone's lesions can modulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrugClass {
    /// Proteasome inhibitors (bortezomib, carfilzomib, ixazomib).
    Pi = 0,
    /// Immunomodulatory drugs (thalidomide, lenalidomide, pomalidomide); need cereblon.
    Imid = 1,
    /// Anti-CD38 antibodies (daratumumab, isatuximab).
    AntiCd38 = 2,
    /// Alkylators (melphalan, cyclophosphamide, bendamustine).
    Alkylator = 3,
    /// Glucocorticoids (dexamethasone, prednisone).
    Steroid = 4,
}

/// Number of [`DrugClass`]es.
pub const N_CLASSES: usize = 5;

impl DrugClass {
    /// The class of a library drug by name (`None`: no anti-myeloma class, e.g. bisphosphonates).
    pub fn of(drug: &str) -> Option<DrugClass> {
        Some(match drug {
            "bortezomib" | "carfilzomib" | "ixazomib" => DrugClass::Pi,
            "lenalidomide" | "thalidomide" | "pomalidomide" => DrugClass::Imid,
            "daratumumab" | "isatuximab" => DrugClass::AntiCd38,
            "melphalan" | "cyclophosphamide" | "bendamustine" => DrugClass::Alkylator,
            "dexamethasone" | "prednisone" => DrugClass::Steroid,
            _ => return None,
        })
    }
}

/// Cell-level traits as multipliers on the founder's values (1 = neutral). A clone's traits
/// are the product over its lesions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Traits {
    /// × division rate [-].
    pub division: f64,
    /// × death rate [-].
    pub death: f64,
    /// × drug kill and division block, per [`DrugClass`] [-].
    pub sensitivity: [f64; N_CLASSES],
    /// × RANKL secretion of the clone's cells [-] (stage `secrete`).
    pub rankl: f64,
    /// × DKK1 secretion of the clone's cells [-] (stage `secrete`).
    pub dkk1: f64,
    /// × CD38 density [-] (scales the anti-CD38 kill).
    pub cd38: f64,
    /// × mutation probability per division [-].
    pub mutation: f64,
    /// × probability that a progenitor division self-renews (with `[clones.hierarchy]`; the
    /// product is capped at [`crate::clones::hierarchy::SELF_RENEWAL_MAX`]) [-]. Acts where
    /// selection under therapy happens: in the drug-tolerant progenitor compartment.
    pub self_renewal: f64,
}

impl Traits {
    /// No effect.
    pub const NEUTRAL: Traits = Traits {
        division: 1.0,
        death: 1.0,
        sensitivity: [1.0; N_CLASSES],
        rankl: 1.0,
        dkk1: 1.0,
        cd38: 1.0,
        mutation: 1.0,
        self_renewal: 1.0,
    };

    /// Both trait sets combined (multiplicatively).
    pub fn then(&self, o: &Traits) -> Traits {
        let mut s = self.sensitivity;
        for (a, b) in s.iter_mut().zip(o.sensitivity) {
            *a *= b;
        }
        Traits {
            division: self.division * o.division,
            death: self.death * o.death,
            sensitivity: s,
            rankl: self.rankl * o.rankl,
            dkk1: self.dkk1 * o.dkk1,
            cd38: self.cd38 * o.cd38,
            mutation: self.mutation * o.mutation,
            self_renewal: self.self_renewal * o.self_renewal,
        }
    }

    /// Column names of [`Self::values`] in `clones.csv`.
    pub const COLUMNS: [&'static str; 12] = [
        "division_x",
        "death_x",
        "pi_x",
        "imid_x",
        "anti_cd38_x",
        "alkylator_x",
        "steroid_x",
        "rankl_x",
        "dkk1_x",
        "cd38_x",
        "mutation_x",
        "self_renewal_x",
    ];

    /// The values in [`Self::COLUMNS`] order.
    pub fn values(&self) -> [f64; 12] {
        let s = self.sensitivity;
        [
            self.division,
            self.death,
            s[0],
            s[1],
            s[2],
            s[3],
            s[4],
            self.rankl,
            self.dkk1,
            self.cd38,
            self.mutation,
            self.self_renewal,
        ]
    }
}

/// Whether a lesion is present at diagnosis or can arise by mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LesionKind {
    /// Primary / founder lesion (MODEL.md §4d frequency).
    Primary,
    /// Acquired on division.
    Acquired,
}

/// One library row, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesion {
    /// Library name (`del17p`, `crbn_loss`, …).
    pub name: String,
    /// Primary or acquired.
    pub kind: LesionKind,
    /// Share of newly diagnosed patients [0–1] (primary rows; 0 otherwise).
    pub frequency: f64,
    /// Relative chance among acquired lesions [-] (acquired rows; 0 otherwise).
    pub weight: f64,
    /// Traits conferred.
    pub traits: Traits,
    /// Confidence tag of the effect sizes (`H`, `M`, `L`).
    pub confidence: String,
    /// Where the numbers come from.
    pub source: String,
}

/// A library row as written; every key optional so overrides can change single values.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLesion {
    /// `"primary"` or `"acquired"`.
    pub kind: Option<String>,
    /// Share of patients [0–1].
    pub frequency: Option<f64>,
    /// Relative chance among acquired lesions [-].
    pub weight: Option<f64>,
    /// × division rate.
    pub division: Option<f64>,
    /// × death rate.
    pub death: Option<f64>,
    /// × proteasome-inhibitor kill.
    pub pi: Option<f64>,
    /// × IMiD kill/block.
    pub imid: Option<f64>,
    /// × anti-CD38 kill.
    pub anti_cd38: Option<f64>,
    /// × alkylator kill.
    pub alkylator: Option<f64>,
    /// × steroid kill.
    pub steroid: Option<f64>,
    /// × RANKL secretion.
    pub rankl: Option<f64>,
    /// × DKK1 secretion.
    pub dkk1: Option<f64>,
    /// × CD38 density.
    pub cd38: Option<f64>,
    /// × mutation probability.
    pub mutation: Option<f64>,
    /// × progenitor self-renewal probability.
    pub self_renewal: Option<f64>,
    /// Confidence tag.
    pub confidence: Option<String>,
    /// Source.
    pub source: Option<String>,
}

impl RawLesion {
    /// `o`'s keys written over `self`'s.
    fn merged(&self, o: &RawLesion) -> RawLesion {
        macro_rules! m {
            ($($f:ident),*) => { RawLesion { $($f: o.$f.clone().or_else(|| self.$f.clone()),)* } };
        }
        m!(
            kind,
            frequency,
            weight,
            division,
            death,
            pi,
            imid,
            anti_cd38,
            alkylator,
            steroid,
            rankl,
            dkk1,
            cd38,
            mutation,
            self_renewal,
            confidence,
            source
        )
    }
}

/// The validated lesion library (rows sorted by name, so indices are stable).
#[derive(Clone, Debug, PartialEq)]
pub struct LesionLibrary {
    /// Rows by index.
    pub lesions: Vec<Lesion>,
}

impl LesionLibrary {
    /// The shipped library with `overrides` merged key by key; problems as
    /// `(key path, message)` pairs, all collected.
    pub fn build(
        overrides: &BTreeMap<String, RawLesion>,
    ) -> Result<LesionLibrary, Vec<(String, String)>> {
        let shipped: BTreeMap<String, RawLesion> = toml::from_str(LIBRARY_TOML).map_err(|e| {
            vec![(
                "clones.lesions".to_string(),
                format!("shipped library: {e}"),
            )]
        })?;
        let mut rows = shipped;
        for (k, v) in overrides {
            let merged = rows.get(k).map_or_else(|| v.clone(), |b| b.merged(v));
            rows.insert(k.clone(), merged);
        }
        let mut problems = Vec::new();
        let mut lesions = Vec::new();
        for (name, r) in &rows {
            let key = |f: &str| format!("clones.lesions.{name}.{f}");
            let kind = match r.kind.as_deref() {
                Some("primary") => LesionKind::Primary,
                Some("acquired") => LesionKind::Acquired,
                other => {
                    problems.push((
                        key("kind"),
                        format!("expected \"primary\" or \"acquired\", got {other:?}"),
                    ));
                    continue;
                }
            };
            let mut get = |f: &str, v: Option<f64>, default: f64| -> f64 {
                let x = v.unwrap_or(default);
                if !x.is_finite() || x < 0.0 {
                    problems.push((key(f), format!("must be a finite number ≥ 0, got {x}")));
                    return default;
                }
                x
            };
            let traits = Traits {
                division: get("division", r.division, 1.0),
                death: get("death", r.death, 1.0),
                sensitivity: [
                    get("pi", r.pi, 1.0),
                    get("imid", r.imid, 1.0),
                    get("anti_cd38", r.anti_cd38, 1.0),
                    get("alkylator", r.alkylator, 1.0),
                    get("steroid", r.steroid, 1.0),
                ],
                rankl: get("rankl", r.rankl, 1.0),
                dkk1: get("dkk1", r.dkk1, 1.0),
                cd38: get("cd38", r.cd38, 1.0),
                mutation: get("mutation", r.mutation, 1.0),
                self_renewal: get("self_renewal", r.self_renewal, 1.0),
            };
            let frequency = get("frequency", r.frequency, 0.0);
            let weight = get("weight", r.weight, 0.0);
            if frequency > 1.0 {
                problems.push((key("frequency"), format!("must be ≤ 1, got {frequency}")));
            }
            if r.source.as_deref().unwrap_or("").trim().is_empty() {
                problems.push((key("source"), "every lesion row needs a source".into()));
            }
            lesions.push(Lesion {
                name: name.clone(),
                kind,
                frequency,
                weight,
                traits,
                confidence: r.confidence.clone().unwrap_or_else(|| "L".into()),
                source: r.source.clone().unwrap_or_default(),
            });
        }
        if problems.is_empty() {
            Ok(LesionLibrary { lesions })
        } else {
            Err(problems)
        }
    }

    /// Index of the row named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.lesions.iter().position(|l| l.name == name)
    }

    /// Indices of acquired lesions with positive weight, and their weights.
    pub fn acquired(&self) -> Vec<(usize, f64)> {
        self.lesions
            .iter()
            .enumerate()
            .filter(|(_, l)| l.kind == LesionKind::Acquired && l.weight > 0.0)
            .map(|(i, l)| (i, l.weight))
            .collect()
    }

    /// Combined traits of the lesions `idx`.
    pub fn traits_of(&self, idx: &[usize]) -> Traits {
        idx.iter()
            .fold(Traits::NEUTRAL, |t, &i| t.then(&self.lesions[i].traits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_library_is_valid_and_sourced() {
        let lib = LesionLibrary::build(&BTreeMap::new()).unwrap();
        for n in [
            "hyperdiploidy",
            "t11_14",
            "t4_14",
            "t14_16",
            "del17p",
            "gain1q",
            "del1p",
            "pi_resistance",
            "crbn_loss",
            "cd38_loss",
        ] {
            assert!(lib.index(n).is_some(), "{n}");
        }
        assert!(lib.acquired().len() >= 3);
    }
}
