//! The model's treatment stages (issue 4): `apply_protocol` (diagnosis-triggered start,
//! doses, events, procedures such as stem-cell re-infusion onto the lattice) and
//! `advance_pharmacokinetics`, plus the drug action on the blood compartments. The protocol
//! and drug logic live in [`crate::protocol::runtime`]; this file only connects it to the
//! model's state.
//!
//! Reads: the model's clinical state and lattice. Writes: drug state, the lattice (infused
//! stem cells), events.

use super::{Model, ModelError};
use crate::cells::lattice::CellKind;
use crate::cells::myeloma::{CellState, flags};
use crate::clinical::{Assessment, Blood, Category, ResponseTracker};
use crate::observe::Event;
use crate::pharma::Body;
use crate::pharma::wiring::CellDrugStep;
use crate::protocol::runtime::TreatmentState;
use crate::protocol::{ClinicalSnapshot, Procedure};
use crate::rng::{self, Purpose};
use crate::scenario::{Isotype, Scenario};
use rand::Rng;

/// Proliferating stages hit by myelosuppression in each blood lineage's chain: the
/// precursor pool and the first transit compartment (blasts → myelocytes divide;
/// metamyelocytes and later are post-mitotic), so after Mel200 the ANC falls below
/// 0.5 × 10⁹/L once the ~3 d post-mitotic pool has drained (clinically day +3 to +5) [M].
pub const PROLIFERATING_STAGES: usize = 2;

/// Stages of the megakaryocyte chain hit by myelosuppression: megakaryocytes replicate their
/// DNA (endomitosis, up to 64N) through most of their ~5-d maturation, so an alkylator damages
/// the precursor pool and the first two transit stages; only the last, platelet-shedding stage
/// is spared. With the ageing platelet pool this gives the post-Mel200 platelet nadir
/// < 20 × 10⁹/L around day +7 to +10 (MODEL.md §3a) [M].
pub const MEGAKARYOCYTE_STAGES: usize = 3;

/// Time from re-infusion until a graft stem cell starts to cycle [h]: 3 d. Infused CD34+
/// cells home to the marrow within hours to days and lodge in niches before the first
/// divisions (Lapidot, Dar & Kollet 2005, Blood 106:1901); neutrophil engraftment therefore
/// has a floor of ~day +9 even with very large grafts (Weaver et al. 1995, Blood 86:3961)
/// [L, calibrated: ANC ≥ 0.5 on 3 consecutive days at day +11 to +14 and platelets
/// < 20 × 10⁹/L, MODEL.md §3a; see docs/MODEL.md].
pub const GRAFT_HOMING_LAG_H: f64 = 48.0;

/// Marrow plasma cells [%] that define myeloma without CRAB (IMWG 2014 SLiM: ≥ 60 %) [H].
pub const DIAGNOSTIC_MARROW_PC_PCT: f64 = 60.0;

/// Builds the treatment state for a scenario (None when untreated).
pub(super) fn new_state(s: &Scenario) -> Option<TreatmentState> {
    let p = &s.biology.patient;
    s.treatment.as_ref().map(|plan| {
        TreatmentState::new(
            plan,
            Body::from_weight_height(p.weight_kg, p.height_cm),
            s.dt_h,
        )
    })
}

/// Drug action on the blood compartments this step: myelosuppression above the stem-sparing
/// hazard (high-dose conditioning) kills the proliferating precursors of every lineage
/// directly (below it, it acts through progenitor death on the lattice only); an erythropoiesis stimulus adds red-cell production in
/// proportion to the marrow output `p`.
pub(super) fn treat_blood(t: Option<&TreatmentState>, blood: &mut Blood, dt_h: f64, p: f64) {
    let Some(t) = t else { return };
    let fx = t.effects();
    let excess = fx.myelosuppression_per_h - crate::pharma::wiring::STEM_SPARING_PER_H;
    if excess > 0.0 {
        let keep = (-excess * dt_h).exp();
        blood.hb.kill_precursors(keep, PROLIFERATING_STAGES);
        blood.anc.kill_precursors(keep, PROLIFERATING_STAGES);
        blood.platelets.kill_precursors(keep, MEGAKARYOCYTE_STAGES);
    }
    if fx.erythropoiesis > 0.0 {
        blood.hb.stimulate(dt_h, fx.erythropoiesis * p);
    }
}

impl Model {
    /// The running treatment, if the scenario has one.
    pub fn treatment(&self) -> Option<&TreatmentState> {
        self.treatment.as_ref()
    }

    /// The current protocol phase name (`""` when untreated or between phases).
    pub fn phase_name(&self) -> &str {
        self.treatment.as_ref().map_or("", |t| t.phase_name())
    }

    /// What the cell rules apply this step (neutral when untreated).
    pub(super) fn drug_step(&self) -> CellDrugStep {
        self.treatment
            .as_ref()
            .map_or(CellDrugStep::NEUTRAL, |t| t.cell_step())
    }

    /// Stage `apply_protocol`: starts the protocol when due (re-baselining the response
    /// assessment on the pre-treatment marker), steps it, gives its doses and performs its
    /// procedures. Events go to `events`.
    pub(super) fn apply_protocol(&mut self, events: &mut Vec<Event>) -> Result<(), ModelError> {
        let step = self.step;
        let mm = self.count(CellKind::Myeloma) as f64;
        let Some(t) = self.treatment.as_mut() else {
            return Ok(());
        };
        if t.due_to_start(step) {
            t.start(step, mm);
            // This patient's isotype (drawn per seed with `variability = "cohort"`), as the
            // serum model and the tracker built in `Model::new` use it.
            let light = self.clinical.traits.isotype == Isotype::LightChain;
            let c = &mut self.clinical;
            c.response = ResponseTracker::new(light);
            let frac = self.marrow_summary().mm_fraction();
            let c = &mut self.clinical;
            let a = Assessment {
                m_g_dl: c.serum.m_g_dl(),
                flc_excess_mg_l: c.serum.flc_excess_mg_l,
                marrow_pc_pct: 100.0 * frac,
                mm_fraction: frac,
            };
            c.response.assess(&a);
            let detail = format!(
                "{}: M-protein {:.2} g/dL, iFLC {:.0} mg/L, marrow PC {:.1} %, Hb {:.1} g/dL \
                 (response baseline)",
                crate::observe::TREATMENT_STARTS,
                a.m_g_dl,
                c.serum.flc_mg_l(),
                a.marrow_pc_pct,
                c.blood.hb.level()
            );
            events.push(self.event("phase", detail));
        }
        let c = &self.clinical;
        let response = c.response.current;
        let snap = ClinicalSnapshot {
            time_h: self.time_h(),
            response,
            progressed: response == Category::PD,
            hb_g_dl: c.blood.hb.level(),
            anc_1e9_l: c.blood.anc.level(),
            platelets_1e9_l: c.blood.platelets.level(),
            mm_burden_fraction: 1.0,
        };
        let (seed, time_h) = (self.scenario.seed, self.time_h());
        let igg = self.clinical.serum.igg_poly_g_l;
        let Some(t) = self.treatment.as_mut() else {
            return Ok(());
        };
        let snap = ClinicalSnapshot {
            mm_burden_fraction: t.burden_fraction(mm),
            ..snap
        };
        let (log, procedures) = t.apply(step, &snap);
        let infection = t.infection_step(seed, step, time_h, snap.anc_1e9_l, igg);
        for (kind, detail) in log {
            events.push(self.event(kind, detail));
        }
        if let Some(detail) = infection {
            events.push(self.event("infection", detail));
        }
        for p in procedures {
            if let Procedure::StemCellInfusion { cd34_per_kg } = p {
                let n = self.infuse_stem_cells(cd34_per_kg);
                events.push(self.event(
                    "procedure",
                    format!("graft homes to the marrow: {n} haematopoietic stem cells seeded"),
                ));
            }
        }
        Ok(())
    }

    /// Stage `advance_pharmacokinetics`.
    pub(super) fn advance_pharmacokinetics(&mut self) -> Result<(), ModelError> {
        let mm = self.count(CellKind::Myeloma) as f64;
        if let Some(t) = self.treatment.as_mut() {
            let f = t.burden_fraction(mm);
            t.advance(f);
        }
        Ok(())
    }

    /// Seeds an autologous graft of `cd34_per_kg` CD34+ cells/kg as haematopoietic stem
    /// cells on free marrow sites (uniformly, seeding stream 4); how many: see
    /// [`TreatmentState::graft_stem_cells`] (the healthy stem pool is the scenario's stem
    /// fraction of the healthy haematopoietic reference). Returns the number placed (0
    /// without a haematopoiesis model).
    fn infuse_stem_cells(&mut self, cd34_per_kg: f64) -> u64 {
        let Some(h) = &self.scenario.biology.haematopoiesis else {
            return 0;
        };
        let reference = h.stem_fraction * self.clinical.haem_reference;
        let want = TreatmentState::graft_stem_cells(cd34_per_kg, reference);
        let empty = CellKind::Empty as u8;
        let mut free: Vec<usize> = (0..self.geom.len())
            .filter(|&i| self.lattice.kind[i] == empty)
            .collect();
        let n = want.min(free.len());
        let mut r = rng::stream(self.scenario.seed, Purpose::Seeding, self.step, 4);
        // Quiescent until homed and lodged (`until_h`; see GRAFT_HOMING_LAG_H).
        let cycling_from_h = (self.time_h() + GRAFT_HOMING_LAG_H) as f32;
        for i in 0..n {
            let j = i + rng::below(r.next_u64(), (free.len() - i) as u32) as usize;
            free.swap(i, j);
            let st = CellState {
                flags: flags::STEM,
                until_h: cycling_from_h,
                ..CellState::default()
            };
            self.lattice.place(free[i], CellKind::Haematopoietic, st);
        }
        self.population[CellKind::Empty as usize] -= n as u64;
        self.population[CellKind::Haematopoietic as usize] += n as u64;
        n as u64
    }

    /// Daily during the `assess` stage, while a plan waits for diagnosis: diagnoses the
    /// myeloma at the first check with a CRAB criterion or ≥ 60 % marrow plasma cells.
    pub(super) fn check_diagnosis(&mut self, events: &mut Vec<Event>) {
        let daily = ((24.0 / self.scenario.dt_h).round() as u64).max(1);
        let waiting = self
            .treatment
            .as_ref()
            .is_some_and(|t| t.awaits_diagnosis());
        if !waiting || self.step % daily != 0 {
            return;
        }
        let lesions = self.lytic_lesions();
        let crab = self.crab(lesions);
        let pc = 100.0 * self.marrow_summary().mm_fraction();
        if crab.iter().any(|&b| b) || pc >= DIAGNOSTIC_MARROW_PC_PCT {
            let names: Vec<&str> = ["C", "R", "A", "B"]
                .iter()
                .zip(crab)
                .filter(|(_, b)| *b)
                .map(|(n, _)| *n)
                .collect();
            let detail = format!(
                "myeloma diagnosed: CRAB [{}], marrow PC {pc:.1} %, M-protein {:.2} g/dL, \
                 Hb {:.1} g/dL, {lesions} lytic lesion(s)",
                names.join(","),
                self.clinical.serum.m_g_dl(),
                self.clinical.blood.hb.level()
            );
            if let Some(t) = self.treatment.as_mut() {
                t.set_diagnosed();
            }
            events.push(self.event("diagnosis", detail));
        }
    }
}
