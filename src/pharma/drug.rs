//! Drug definitions in internal units: PK parameters, PD effects on named [`Target`]s, routes
//! and dose bases. Plain data, built by `library.rs` from `scenarios/library/drugs.toml`
//! (plus scenario overrides).
//!
//! Reads: nothing. Writes: nothing (plain data and unit conversions).

use super::Body;

/// A named pharmacodynamic target: what a drug effect acts on in the cell rules.
///
/// Each target has a [`Combination`] rule across drugs and a unit for `emax`:
///
/// | target | unit of effect | combination | consumer (cell rule, issue 3) |
/// |---|---|---|---|
/// | `mm_kill` | extra death rate [1/h] | additive | myeloma: death rate += E |
/// | `mm_antiproliferation` | fraction of divisions blocked [0–1] | Bliss | myeloma: division ×(1 − E) |
/// | `oc_inhibition` | fraction of OC formation/resorption blocked [0–1] | Bliss | osteoclast precursor: differentiation ×(1 − E), resorption ×(1 − E) |
/// | `oc_apoptosis` | extra osteoclast death rate [1/h] | additive | osteoclast: death rate += E |
/// | `ob_stimulation` | relative change of OB differentiation [−1..] | additive | osteoblast precursor: differentiation ×max(0, 1 + E) |
/// | `immune_activation` | relative change of effector kill [−1..] | additive | T/NK cells: kill rate ×max(0, 1 + E) |
/// | `cd38_kill` | CD38-dependent kill rate [1/h] | additive | myeloma: death += E·CD38 density·NK availability |
/// | `nk_depletion` | extra NK death rate [1/h] | additive | NK cells: death rate += E |
/// | `myelosuppression` | extra progenitor death rate [1/h] | additive | haematopoietic progenitors: death rate += E |
/// | `erythropoiesis` | relative increase of erythroid output [0..] | additive | erythroid progenitors: survival/output ×(1 + E) |
/// | `treg_depletion` | extra Treg death rate [1/h] | additive | Tregs: death rate += E |
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Extra myeloma death rate [1/h].
    MmKill,
    /// Fraction of myeloma divisions blocked [0–1].
    MmAntiproliferation,
    /// Fraction of osteoclast formation and resorption blocked [0–1].
    OcInhibition,
    /// Extra osteoclast death rate [1/h].
    OcApoptosis,
    /// Relative change of osteoblast differentiation (negative for glucocorticoids).
    ObStimulation,
    /// Relative change of T/NK effector killing.
    ImmuneActivation,
    /// CD38-dependent immune kill rate of CD38+ myeloma cells [1/h].
    Cd38Kill,
    /// Extra NK-cell death rate [1/h] (daratumumab fratricide).
    NkDepletion,
    /// Extra death rate of proliferating haematopoietic progenitors [1/h].
    Myelosuppression,
    /// Relative increase of erythroid progenitor output.
    Erythropoiesis,
    /// Extra regulatory-T-cell death rate [1/h].
    TregDepletion,
}

/// How one target's effects from several drugs combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combination {
    /// Fractional effects, independent action: E = 1 − Π(1 − Eᵢ) (Bliss 1939).
    Bliss,
    /// Rates and relative changes add: E = Σ Eᵢ.
    Additive,
}

impl Target {
    /// Number of targets.
    pub const COUNT: usize = 11;

    /// Every target, in declaration (and output-column) order.
    pub const ALL: [Target; Target::COUNT] = [
        Target::MmKill,
        Target::MmAntiproliferation,
        Target::OcInhibition,
        Target::OcApoptosis,
        Target::ObStimulation,
        Target::ImmuneActivation,
        Target::Cd38Kill,
        Target::NkDepletion,
        Target::Myelosuppression,
        Target::Erythropoiesis,
        Target::TregDepletion,
    ];

    /// Scenario-file name (`mm_kill`, …).
    pub fn name(self) -> &'static str {
        match self {
            Target::MmKill => "mm_kill",
            Target::MmAntiproliferation => "mm_antiproliferation",
            Target::OcInhibition => "oc_inhibition",
            Target::OcApoptosis => "oc_apoptosis",
            Target::ObStimulation => "ob_stimulation",
            Target::ImmuneActivation => "immune_activation",
            Target::Cd38Kill => "cd38_kill",
            Target::NkDepletion => "nk_depletion",
            Target::Myelosuppression => "myelosuppression",
            Target::Erythropoiesis => "erythropoiesis",
            Target::TregDepletion => "treg_depletion",
        }
    }

    /// The target called `name`, if any.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// How effects of several drugs on this target combine.
    pub fn combination(self) -> Combination {
        match self {
            Target::MmAntiproliferation | Target::OcInhibition => Combination::Bliss,
            _ => Combination::Additive,
        }
    }

    /// Unit of the effect (and of `emax`).
    pub fn unit(self) -> &'static str {
        match self {
            Target::MmKill
            | Target::OcApoptosis
            | Target::Cd38Kill
            | Target::NkDepletion
            | Target::Myelosuppression
            | Target::TregDepletion => "1/h",
            Target::MmAntiproliferation | Target::OcInhibition => "fraction",
            Target::ObStimulation | Target::ImmuneActivation | Target::Erythropoiesis => "relative",
        }
    }

    /// Allowed `emax` range: rates ≥ 0 and ≤ 10/h, fractions 0–1, relative changes −1..=100.
    pub fn emax_range(self) -> (f64, f64) {
        match self.unit() {
            "1/h" => (0.0, 10.0),
            "fraction" => (0.0, 1.0),
            _ => (-1.0, 100.0),
        }
    }
}

/// How a dose enters the body.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Route {
    /// Intravenous bolus: straight into the central compartment.
    IvBolus,
    /// Intravenous zero-order infusion over `hours`.
    IvInfusion {
        /// Infusion duration [h] (> 0).
        hours: f64,
    },
    /// Subcutaneous: first-order absorption (`ka_per_h`) with bioavailability `f_sc`.
    Subcutaneous,
    /// Oral: first-order absorption (`ka_per_h`) with bioavailability `f_oral`.
    Oral,
}

impl Route {
    /// Scenario-file names of the routes.
    pub const NAMES: [&'static str; 4] = ["iv_bolus", "iv_infusion", "sc", "oral"];

    /// Scenario-file name.
    pub fn name(self) -> &'static str {
        match self {
            Route::IvBolus => "iv_bolus",
            Route::IvInfusion { .. } => "iv_infusion",
            Route::Subcutaneous => "sc",
            Route::Oral => "oral",
        }
    }

    /// Parses a route name; `iv_infusion` takes `infusion_h`.
    pub fn from_name(name: &str, infusion_h: f64) -> Option<Route> {
        match name {
            "iv_bolus" => Some(Route::IvBolus),
            "iv_infusion" => Some(Route::IvInfusion { hours: infusion_h }),
            "sc" => Some(Route::Subcutaneous),
            "oral" => Some(Route::Oral),
            _ => None,
        }
    }
}

/// What a dose amount is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DoseBasis {
    /// mg per m² body-surface area (`dose_mg_m2`).
    PerM2,
    /// mg per kg body weight (`dose_mg_kg`).
    PerKg,
    /// Flat mg (`dose_mg`).
    Flat,
    /// International units (`dose_IU`), converted with the drug's `iu_per_mg`.
    Iu,
}

/// A prescribed dose: an amount on a basis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DoseSpec {
    /// The number as prescribed (mg/m², mg/kg, mg or IU).
    pub amount: f64,
    /// What it is relative to.
    pub basis: DoseBasis,
}

impl DoseSpec {
    /// The dose in mg for `body`; IU doses use `iu_per_mg` (0 if the drug has none — validation
    /// forbids that).
    pub fn resolve_mg(&self, body: &Body, iu_per_mg: Option<f64>) -> f64 {
        match self.basis {
            DoseBasis::PerM2 => self.amount * body.bsa_m2,
            DoseBasis::PerKg => self.amount * body.weight_kg,
            DoseBasis::Flat => self.amount,
            DoseBasis::Iu => iu_per_mg.map_or(0.0, |s| self.amount / s),
        }
    }

    /// The prescription as written, e.g. `1.3 mg/m²`, `16 mg/kg`, `25 mg`, `40000 IU`.
    pub fn describe(&self) -> String {
        let unit = match self.basis {
            DoseBasis::PerM2 => "mg/m²",
            DoseBasis::PerKg => "mg/kg",
            DoseBasis::Flat => "mg",
            DoseBasis::Iu => "IU",
        };
        format!("{} {unit}", self.amount)
    }
}

/// Michaelis–Menten target-mediated elimination from the central compartment:
/// rate [mg/h] = `vmax_mg_per_h` · burden · C / (`km_mg_per_l` + C), where `burden` is the
/// target-burden input of [`PkState::advance`](super::pk::PkState::advance) (1 = at diagnosis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetMediated {
    /// Capacity at burden 1 [mg/h].
    pub vmax_mg_per_h: f64,
    /// Concentration of half-maximal target-mediated elimination [mg/L].
    pub km_mg_per_l: f64,
}

/// Pharmacokinetic parameters (one or two compartments, one absorption depot).
#[derive(Clone, Debug, PartialEq)]
pub struct PkParams {
    /// Linear clearance from the central compartment [L/h].
    pub cl_l_per_h: f64,
    /// Central volume [L].
    pub v1_l: f64,
    /// Inter-compartmental clearance [L/h]; 0 = one compartment.
    pub q_l_per_h: f64,
    /// Peripheral volume [L] (unused when `q_l_per_h` = 0).
    pub v2_l: f64,
    /// First-order absorption rate from the SC/oral depot [1/h].
    pub ka_per_h: f64,
    /// Oral bioavailability [0–1].
    pub f_oral: f64,
    /// Subcutaneous bioavailability [0–1].
    pub f_sc: f64,
    /// Effect-compartment rate [1/h]; `None` = PD acts on the plasma concentration.
    pub ke0_per_h: Option<f64>,
    /// Saturable target-mediated elimination (daratumumab).
    pub target_mediated: Option<TargetMediated>,
    /// Route used when a regimen names none.
    pub default_route: Route,
}

impl PkParams {
    /// Micro-constants (k10, k12, k21) [1/h]; k12 = k21 = 0 for one compartment.
    pub fn micro(&self) -> (f64, f64, f64) {
        let k10 = self.cl_l_per_h / self.v1_l;
        if self.q_l_per_h > 0.0 {
            (k10, self.q_l_per_h / self.v1_l, self.q_l_per_h / self.v2_l)
        } else {
            (k10, 0.0, 0.0)
        }
    }

    /// Whether the model is linear (no target-mediated elimination).
    pub fn is_linear(&self) -> bool {
        self.target_mediated.is_none()
    }

    /// Bioavailability of a route (1 for IV).
    pub fn bioavailability(&self, route: Route) -> f64 {
        match route {
            Route::IvBolus | Route::IvInfusion { .. } => 1.0,
            Route::Subcutaneous => self.f_sc,
            Route::Oral => self.f_oral,
        }
    }
}

/// One Emax/Hill effect of a drug: E(C) = emax · Cʰ / (EC50ʰ + Cʰ), C in nM.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effect {
    /// What it acts on.
    pub target: Target,
    /// Concentration of half-maximal effect [nM].
    pub ec50_nm: f64,
    /// Hill coefficient [-].
    pub hill: f64,
    /// Maximal effect, in the target's unit ([`Target::unit`]).
    pub emax: f64,
}

/// A drug: identity, unit conversions, PK and PD.
#[derive(Clone, Debug, PartialEq)]
pub struct Drug {
    /// Library name (`bortezomib`, …).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Sources of the numbers.
    pub source: String,
    /// Molecular weight [g/mol].
    pub mw_g_per_mol: f64,
    /// Specific activity [IU/mg], for drugs dosed in IU.
    pub iu_per_mg: Option<f64>,
    /// Pharmacokinetics.
    pub pk: PkParams,
    /// Pharmacodynamic effects.
    pub effects: Vec<Effect>,
    /// Default IV infusion duration [h].
    pub infusion_h: f64,
}

impl Drug {
    /// mg/L → nM for this drug: C_nM = C_mg_L · 10⁶ / MW.
    pub fn nm_per_mg_l(&self) -> f64 {
        1e6 / self.mw_g_per_mol
    }
}
