//! The within-clone cell hierarchy (issue 5; Tang et al. 2016): every clone has a small
//! drug-tolerant **progenitor** compartment (self-renewing, slow-cycling, not secreting
//! M-protein, little killed by proteasome inhibitors, IMiDs and steroids) that feeds
//! drug-sensitive, M-protein-secreting **differentiated** plasma cells with a limited number of
//! further divisions, which then die by apoptosis.
//!
//! State lives in the myeloma cell's 16-byte payload (no extra memory): bit
//! [`PROGENITOR`] of `flags` marks a progenitor; for differentiated cells the low nibble
//! ([`DIVISIONS_MASK`]) holds the divisions still allowed (0–15). Without `[clones.hierarchy]`
//! neither is read and every myeloma cell behaves as before (one compartment, unlimited
//! divisions).
//!
//! A progenitor's division keeps the mother a progenitor; the daughter is a progenitor with
//! probability `self_renewal` × the clone's `self_renewal` lesion trait (capped at
//! [`SELF_RENEWAL_MAX`]; symmetric self-renewal) and otherwise a differentiated cell with
//! `differentiated_divisions` divisions left (asymmetric division). A differentiated division
//! gives both cells one division less. Outcomes (the biphasic response, the MRD plateau, the
//! progenitor share) are emergent and measured in tests/clones.rs and docs/MODEL.md.
//!
//! Reads: `[clones.hierarchy]`. Writes: nothing (the rules and `CloneState` use the values).

use serde::Deserialize;

use super::lesions::N_CLASSES;

/// `flags` bit of a myeloma progenitor (myeloma cells only; other kinds use the low bits).
pub const PROGENITOR: u8 = 0x80;
/// `flags` bits holding a differentiated myeloma cell's divisions left.
pub const DIVISIONS_MASK: u8 = 0x0F;
/// Largest per-clone self-renewal probability (hierarchy value × the clone's `self_renewal`
/// trait) [0–1]. Structural: at 1 a progenitor would never produce differentiated cells.
pub const SELF_RENEWAL_MAX: f64 = 0.95;

/// `[clones.hierarchy]` as written (every key optional; defaults below).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHierarchy {
    /// Share of each clone's initial cells that are progenitors [0–1].
    pub progenitor_fraction: Option<f64>,
    /// Probability that a progenitor division yields a progenitor daughter [0–1].
    pub self_renewal: Option<f64>,
    /// Progenitor division rate relative to the clone's [-].
    pub progenitor_division_x: Option<f64>,
    /// Progenitor death rate relative to the clone's [-].
    pub progenitor_death_x: Option<f64>,
    /// Divisions left to a newly differentiated cell [0–15].
    pub differentiated_divisions: Option<u8>,
    /// Progenitor drug sensitivity relative to differentiated cells, per class [-].
    pub progenitor_pi: Option<f64>,
    /// As above, IMiDs.
    pub progenitor_imid: Option<f64>,
    /// As above, anti-CD38 antibodies.
    pub progenitor_anti_cd38: Option<f64>,
    /// As above, alkylators.
    pub progenitor_alkylator: Option<f64>,
    /// As above, glucocorticoids.
    pub progenitor_steroid: Option<f64>,
}

/// The validated hierarchy parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Hierarchy {
    /// Share of each clone's initial cells that are progenitors [0–1]. Default 1: the shipped
    /// scenarios seed myeloma as isolated cells that each found a colony, i.e. homing
    /// clonogenic cells (circulating clonogenic CD19+/CD138− cells, Matsui 2004); the
    /// progenitor *share of an established tumour* is then emergent and is the calibration
    /// target: clonogenic CD138− cells ~2–5 % (Matsui 2004, 2008), side-population /
    /// CD19−CD138− fractions ~1–5 % (Chaidos 2013) — measured 5.5 % at day 270 of
    /// default.toml (docs/MODEL.md). Set 0.02–0.05 to seed an established tumour instead
    /// (every clone keeps ≥ 1 progenitor) [M for the target].
    pub progenitor_fraction: f64,
    /// Probability that a progenitor division is symmetric (progenitor daughter) [0–1].
    /// Default 0.3 [L]: set, with `differentiated_divisions`, so that untreated growth in
    /// default.toml matches the one-compartment model (M-protein 1.12 vs 1.15 g/dL at day
    /// 270) and the progenitor share ends near the 1–5 % above (docs/MODEL.md); Tang 2016
    /// fit self-renewal and differentiation rates to M-protein kinetics, not cell counts.
    pub self_renewal: f64,
    /// Progenitor division rate relative to the clone's rate [-]. Default 0.75: slow-cycling
    /// (Matsui 2008: clonogenic cells largely quiescent; Chaidos 2013) [L].
    pub progenitor_division_x: f64,
    /// Progenitor death (apoptosis) rate relative to the clone's rate [-]. Default 0.25:
    /// quiescent, niche-resident clonogenic cells are long-lived and sustain serial
    /// engraftment (Matsui 2008; Chaidos 2013), unlike short-lived differentiated plasma
    /// cells [L; set with `self_renewal`, docs/MODEL.md].
    pub progenitor_death_x: f64,
    /// Divisions left to a newly differentiated plasma cell [count]. Default 15 (the 4-bit
    /// maximum): transit amplification ends in terminal arrest (Tang 2016); the count is large
    /// because in the lattice most divisions only replace dead neighbours (turnover), each
    /// spending one division [L; set with `self_renewal`].
    pub differentiated_divisions: u8,
    /// Progenitor drug kill / division block relative to differentiated cells, per
    /// [`super::DrugClass`] [-]. Defaults: PI 0.02, IMiD 0.02, anti-CD38 0.5, alkylator 0.25,
    /// steroid 0.02. Matsui 2008: CD138− clonogenic cells resist dexamethasone, lenalidomide,
    /// bortezomib and 4-hydroxycyclophosphamide in vitro that kill CD138+ cells (clonogenic
    /// growth essentially unaffected, hence 0.02 rather than the first guess 0.1, which let
    /// VRd drive the progenitors extinct and left no M-protein plateau; docs/MODEL.md
    /// §3.3.6); Tang 2016: drug-tolerant progenitors explain the slow second phase; CD38 is
    /// lower on CD138− precursors (Matsui 2004) [L].
    pub progenitor_sensitivity: [f64; N_CLASSES],
}

impl Default for Hierarchy {
    fn default() -> Self {
        Self {
            progenitor_fraction: 1.0,
            self_renewal: 0.3,
            progenitor_division_x: 0.75,
            progenitor_death_x: 0.25,
            differentiated_divisions: 15,
            progenitor_sensitivity: [0.02, 0.02, 0.5, 0.25, 0.02],
        }
    }
}

impl Hierarchy {
    /// Validates `[clones.hierarchy]`; problems as `(key path, message)`.
    pub fn from_raw(r: &RawHierarchy, problems: &mut Vec<(String, String)>) -> Hierarchy {
        let d = Hierarchy::default();
        let mut unit = |k: &str, v: Option<f64>, def: f64, max: f64| -> f64 {
            let x = v.unwrap_or(def);
            if !x.is_finite() || x < 0.0 || x > max {
                problems.push((
                    format!("clones.hierarchy.{k}"),
                    format!("must be in [0, {max}], got {x}"),
                ));
                return def;
            }
            x
        };
        let s = d.progenitor_sensitivity;
        let h = Hierarchy {
            progenitor_fraction: unit(
                "progenitor_fraction",
                r.progenitor_fraction,
                d.progenitor_fraction,
                1.0,
            ),
            self_renewal: unit("self_renewal", r.self_renewal, d.self_renewal, 1.0),
            progenitor_division_x: unit(
                "progenitor_division_x",
                r.progenitor_division_x,
                d.progenitor_division_x,
                100.0,
            ),
            progenitor_death_x: unit(
                "progenitor_death_x",
                r.progenitor_death_x,
                d.progenitor_death_x,
                100.0,
            ),
            differentiated_divisions: r
                .differentiated_divisions
                .unwrap_or(d.differentiated_divisions),
            progenitor_sensitivity: [
                unit("progenitor_pi", r.progenitor_pi, s[0], 100.0),
                unit("progenitor_imid", r.progenitor_imid, s[1], 100.0),
                unit("progenitor_anti_cd38", r.progenitor_anti_cd38, s[2], 100.0),
                unit("progenitor_alkylator", r.progenitor_alkylator, s[3], 100.0),
                unit("progenitor_steroid", r.progenitor_steroid, s[4], 100.0),
            ],
        };
        if h.differentiated_divisions > DIVISIONS_MASK {
            problems.push((
                "clones.hierarchy.differentiated_divisions".into(),
                format!(
                    "must be ≤ {DIVISIONS_MASK} (stored in 4 bits), got {}",
                    h.differentiated_divisions
                ),
            ));
        }
        h
    }
}

/// True for a myeloma payload flagged as progenitor.
#[inline]
pub fn is_progenitor(flags: u8) -> bool {
    flags & PROGENITOR != 0
}
