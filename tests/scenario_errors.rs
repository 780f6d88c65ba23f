//! Scenario loading: every kind of bad input gives a located, explicit message; every shipped
//! scenario validates; `--set` overrides work.

use std::path::{Path, PathBuf};

use myelosim::scenario::{self, BoneParams, Scenario, ScenarioError};

fn minimal_text() -> String {
    std::fs::read_to_string(scenarios_dir().join("00_minimal.toml")).unwrap()
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn load(text: &str, overrides: &[&str]) -> Result<Scenario, ScenarioError> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load_str(text, "test.toml", &scenarios_dir(), &o)
}

/// The error message, asserting it is an `Invalid` error.
fn err(text: &str, overrides: &[&str]) -> (String, ScenarioError) {
    match load(text, overrides) {
        Ok(_) => panic!("expected an error"),
        Err(e) => (e.to_string(), e),
    }
}

/// 1-based (line, column) of the first occurrence of `needle` in `text`.
fn pos(text: &str, needle: &str) -> (usize, usize) {
    let i = text.find(needle).expect("needle in text");
    let line = text[..i].matches('\n').count() + 1;
    let col = text[..i].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

#[test]
fn unknown_key_names_location_key_and_allowed_keys() {
    let text = minimal_text().replace("division_rate_per_h", "divison_rate_per_h");
    let (msg, _) = err(&text, &[]);
    let (l, c) = pos(&text, "divison_rate_per_h");
    assert!(
        msg.starts_with(&format!("test.toml:{l}:{c}: myeloma.divison_rate_per_h: ")),
        "{msg}"
    );
    assert!(
        msg.contains("unknown key `divison_rate_per_h` in [myeloma]"),
        "{msg}"
    );
    assert!(
        msg.contains("allowed: initial_cells, placement, division_rate_per_h"),
        "{msg}"
    );
    assert!(msg.contains("did you mean `division_rate_per_h`"), "{msg}");
}

#[test]
fn wrong_type_names_location_key_and_expected_type() {
    let text = minimal_text().replace("nx = 100", "nx = \"wide\"");
    let (msg, _) = err(&text, &[]);
    let (l, c) = pos(&text, "\"wide\"");
    assert!(
        msg.starts_with(&format!("test.toml:{l}:{c}: space.nx: ")),
        "{msg}"
    );
    assert!(msg.contains("expected an integer"), "{msg}");
}

#[test]
fn out_of_range_names_location_key_value_and_range_with_unit() {
    let text = minimal_text().replace("nx = 100", "nx = 0");
    let (msg, e) = err(&text, &[]);
    let (l, c) = pos(&text, "nx = 0");
    assert_eq!(
        msg,
        format!(
            "test.toml:{l}:{}: space.nx = 0: expected an integer in 4..=8192 sites",
            c + 5
        )
    );
    assert_eq!(e.problems().len(), 1);
    assert_eq!(e.problems()[0].key, "space.nx");
}

#[test]
fn several_range_problems_are_all_reported_at_once() {
    let text = minimal_text()
        .replace("dt_h = 1.0", "dt_h = 100.0")
        .replace("nx = 100", "nx = 0")
        .replace("death_rate_per_h = 0.00833", "death_rate_per_h = 2.0")
        .replace("half_life_min = 60.0", "half_life_min = -1.0")
        .replace("placement = \"centre\"", "placement = \"middle\"");
    let (msg, e) = err(&text, &[]);
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "run.dt_h",
            "space.nx",
            "myeloma.placement",
            "myeloma.death_rate_per_h",
            "fields.dkk1.half_life_min"
        ],
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 5, "{msg}");
    assert!(
        msg.contains("run.dt_h = 100: expected a number in 0.01..=24 h"),
        "{msg}"
    );
    assert!(msg.contains("allowed: \"centre\", \"random\""), "{msg}");
    assert!(
        msg.contains("expected a number > 0 and ≤ 1000000 min"),
        "{msg}"
    );
    for p in e.problems() {
        assert!(p.line.is_some() && p.column.is_some(), "{p}");
    }
}

/// `test.toml:line:column: message` for the value of the one line `key = value` of `text`.
fn at_value(text: &str, line: &str, message: &str) -> String {
    let needle = format!("\n{line}\n");
    assert_eq!(
        text.matches(&needle).count(),
        1,
        "`{line}` once in the text"
    );
    // `pos` finds the newline before the line, so the line itself is one further.
    let (l, _) = pos(text, &needle);
    let value_col = line.find(" = ").expect("a `key = value` line") + 4;
    format!("test.toml:{}:{value_col}: {message}", l + 1)
}

/// Loads `minimal_text()` + `extra` and checks that exactly the `(line, message)` problems are
/// reported, each at its value's line and column.
fn assert_problems_at_values(extra: &str, want: &[(&str, &str)]) {
    let text = format!("{}{extra}", minimal_text());
    let (msg, e) = err(&text, &[]);
    assert_eq!(e.problems().len(), want.len(), "{msg}");
    for (line, message) in want {
        let want = at_value(&text, line, message);
        assert!(msg.lines().any(|m| m == want), "missing `{want}` in\n{msg}");
    }
}

/// Numbers in the treatment section (regimens, phases, toxicity and supportive rules) go
/// through the same range check as the rest of the scenario: located, with key, value, the
/// allowed range and its unit.
#[test]
fn treatment_range_problems_read_like_scenario_range_problems() {
    // Library problems stop validation before the phases, so regimens are checked on their own.
    assert_problems_at_values(
        "\n[treatment.regimens.mine]\ncycle_length_d = 0\n\
         [[treatment.regimens.mine.doses]]\ndrug = \"bortezomib\"\ndose_mg_m2 = -1\n\
         days = [1]\ninfusion_h = 100\ncycle_every = 0\n",
        &[
            (
                "cycle_length_d = 0",
                "treatment.regimens.mine.cycle_length_d = 0: expected an integer in 1..=365 days",
            ),
            (
                "dose_mg_m2 = -1",
                "treatment.regimens.mine.doses[0].dose_mg_m2 = -1: \
             expected a number > 0 and ≤ 10000000 mg/m²",
            ),
            (
                "infusion_h = 100",
                "treatment.regimens.mine.doses[0].infusion_h = 100: expected a number > 0 and ≤ 48 h",
            ),
            (
                "cycle_every = 0",
                "treatment.regimens.mine.doses[0].cycle_every = 0: expected an integer in 1..=100",
            ),
        ],
    );

    assert_problems_at_values(
        "\n[treatment]\nstart_d = -3\n\
         [[treatment.phases]]\nname = \"a\"\nregimen = \"VRd\"\ncycles = 0\nduration_d = 0\n\
         [[treatment.toxicity]]\nanc_below_1e9_per_l = 50\nreduce_factor = 1\n\
         [[treatment.supportive]]\nname = \"ESA\"\nwhen_hb_below_g_dl = 10\n\
         infection_hazard_factor = 2\n",
        &[
            (
                "start_d = -3",
                "treatment.start_d = -3: expected a number in 0..=36500 days",
            ),
            (
                "cycles = 0",
                "treatment.phases[0].cycles = 0: expected an integer in 1..=1000 cycles",
            ),
            (
                "duration_d = 0",
                "treatment.phases[0].duration_d = 0: expected a number > 0 and ≤ 36500 days",
            ),
            (
                "anc_below_1e9_per_l = 50",
                "treatment.toxicity[0].anc_below_1e9_per_l = 50: expected a number in 0..=20 10⁹/L",
            ),
            (
                "reduce_factor = 1",
                "treatment.toxicity[0].reduce_factor = 1: expected a number > 0 and ≤ 0.999",
            ),
            (
                "infection_hazard_factor = 2",
                "treatment.supportive[0].infection_hazard_factor = 2: expected a number in 0..=1",
            ),
        ],
    );
}

#[test]
fn missing_scenario_file_names_the_path() {
    let path = Path::new("scenarios/does_not_exist.toml");
    let e = scenario::load_file(path, &[]).unwrap_err();
    assert!(matches!(e, ScenarioError::Io { .. }));
    assert!(
        e.to_string().contains("scenarios/does_not_exist.toml"),
        "{e}"
    );
}

#[test]
fn missing_mask_file_names_the_key_and_location() {
    let text = minimal_text().replace(
        "geometry = \"procedural\"",
        "geometry = \"mask\"\nmask_path = \"no_such_mask.png\"",
    );
    let (msg, _) = err(&text, &[]);
    let (l, c) = pos(&text, "\"no_such_mask.png\"");
    assert!(
        msg.starts_with(&format!(
            "test.toml:{l}:{c}: bone.mask_path = \"no_such_mask.png\": mask file not found"
        )),
        "{msg}"
    );
    assert!(msg.contains("no_such_mask.png"), "{msg}");
}

#[test]
fn mask_geometry_without_mask_path_is_reported() {
    let text = minimal_text().replace("geometry = \"procedural\"", "geometry = \"mask\"");
    let (msg, _) = err(&text, &[]);
    assert!(
        msg.contains("bone.mask_path: missing required key"),
        "{msg}"
    );
}

#[test]
fn malformed_toml_gives_parser_line_and_column() {
    let text = minimal_text().replace("nx = 100", "nx = = 100");
    let (msg, e) = err(&text, &[]);
    let (l, _) = pos(&text, "nx = = 100");
    assert_eq!(e.problems().len(), 1);
    let p = &e.problems()[0];
    assert_eq!(p.line, Some(l), "{msg}");
    assert!(p.column.is_some(), "{msg}");
    assert!(msg.starts_with(&format!("test.toml:{l}:")), "{msg}");
    assert!(msg.contains("malformed TOML"), "{msg}");
}

#[test]
fn set_with_unknown_path_is_attributed_to_the_set() {
    let (msg, _) = err(&minimal_text(), &["space.wdith=3"]);
    assert!(
        msg.starts_with(
            "test.toml: --set space.wdith=3: space.wdith: unknown key `wdith` in [space]"
        ),
        "{msg}"
    );
}

#[test]
fn set_with_out_of_range_value_is_attributed_to_the_set() {
    let (msg, e) = err(&minimal_text(), &["space.nx=0"]);
    assert_eq!(
        msg,
        "test.toml: --set space.nx=0: space.nx = 0: expected an integer in 4..=8192 sites"
    );
    assert_eq!(e.problems()[0].line, None);
}

#[test]
fn set_without_equals_is_a_problem() {
    let (msg, _) = err(&minimal_text(), &["space.nx"]);
    assert!(msg.contains("--set space.nx: malformed override"), "{msg}");
}

#[test]
fn set_changes_values_and_is_recorded() {
    let s = load(
        &minimal_text(),
        &[
            "space.nx=64",
            "fields.dkk1.solver=explicit",
            "run.name=\"sweep\"",
        ],
    )
    .unwrap();
    assert_eq!(s.space.dims, [64, 100, 1]);
    assert_eq!(s.name, "sweep");
    assert_eq!(s.fields[0].solver, scenario::Solver::Explicit);
    // Explicit default sub-steps: D·dt/dx² = 360 against 0.9·0.25.
    assert_eq!(s.fields[0].substeps, 1600);
    assert_eq!(s.overrides.len(), 3);
    assert!(s.source_text.contains("nx = 64"), "{}", s.source_text);
}

#[test]
fn set_can_create_new_tables() {
    let s = load(
        &minimal_text(),
        &[
            "fields.il6.diffusion_um2_per_s=15",
            "fields.il6.half_life_min=30",
        ],
    )
    .unwrap();
    let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["dkk1", "il6"]);
}

#[test]
fn explicit_substeps_that_are_unstable_are_reported_with_the_needed_count() {
    let text = minimal_text().replace(
        "solver = \"implicit\"",
        "solver = \"explicit\"\nsubsteps = 10",
    );
    let (msg, _) = err(&text, &[]);
    let (l, c) = pos(&text, "10\n");
    assert!(
        msg.starts_with(&format!("test.toml:{l}:{c}: fields.dkk1.substeps = 10")),
        "{msg}"
    );
    assert!(msg.contains("at least 1600 sub-steps"), "{msg}");
}

/// `splitting` defaults to the distributed form, accepts "classic", refuses other values with
/// the allowed list, and is refused with the explicit solver (where it means nothing).
#[test]
fn field_splitting_is_validated() {
    let s = load(&minimal_text(), &[]).unwrap();
    assert_eq!(s.fields[0].splitting, scenario::Splitting::Distributed);
    let s = load(&minimal_text(), &["fields.dkk1.splitting=\"classic\""]).unwrap();
    assert_eq!(s.fields[0].splitting, scenario::Splitting::Classic);
    let text = minimal_text().replace(
        "solver = \"implicit\"",
        "solver = \"implicit\"\nsplitting = \"strang\"",
    );
    let (msg, _) = err(&text, &[]);
    let (l, c) = pos(&text, "\"strang\"");
    assert!(
        msg.starts_with(&format!(
            "test.toml:{l}:{c}: fields.dkk1.splitting = \"strang\": unknown option; allowed: \"distributed\", \"classic\""
        )),
        "{msg}"
    );
    let text = minimal_text().replace(
        "solver = \"implicit\"",
        "solver = \"explicit\"\nsplitting = \"classic\"",
    );
    let (msg, _) = err(&text, &[]);
    assert!(msg.contains("fields.dkk1.splitting"), "{msg}");
    assert!(msg.contains("implicit solver only"), "{msg}");
}

#[test]
fn unknown_field_name_lists_allowed_names() {
    let text = minimal_text()
        .replace("[fields.dkk1]", "[fields.dkk2]")
        .replace(
            "[fields.dkk1.secretion_nM_per_h]",
            "[fields.dkk2.secretion_nM_per_h]",
        );
    let (msg, _) = err(&text, &[]);
    let (l, c) = pos(&text, "[fields.dkk2]");
    assert!(
        msg.contains(&format!("test.toml:{l}:{c}: fields.dkk2: unknown field `dkk2`; allowed: rankl, opg, tgfb, dkk1, il6")),
        "{msg}"
    );
}

#[test]
fn integers_are_accepted_for_floats() {
    let text = minimal_text()
        .replace("duration_d = 60.0", "duration_d = 60")
        .replace("site_um = 10.0", "site_um = 10")
        .replace("half_life_min = 60.0", "half_life_min = 60");
    let s = load(&text, &["run.dt_h=2"]).unwrap();
    assert_eq!(s.dt_h, 2.0);
    assert_eq!(s.steps, 720);
    assert_eq!(s.space.site_um, 10.0);
}

#[test]
fn record_cadence_must_be_a_whole_number_of_steps() {
    let (msg, _) = err(&minimal_text(), &["run.record_every_h=2.5"]);
    assert!(msg.contains("--set run.record_every_h=2.5"), "{msg}");
    assert!(msg.contains("not a whole multiple of dt_h = 1 h"), "{msg}");
}

#[test]
fn every_shipped_scenario_validates() {
    let mut n = 0;
    for entry in std::fs::read_dir(scenarios_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = scenario::load_file(&path, &[])
                .unwrap_or_else(|e| panic!("{} does not validate:\n{e}", path.display()));
            assert!(s.steps >= 1);
            n += 1;
        }
    }
    assert!(n >= 2, "expected at least 00_minimal.toml and default.toml");
}

#[test]
fn built_in_default_matches_its_description() {
    let s = scenario::load_default(&[]).unwrap();
    assert_eq!(s.origin, "<built-in default>");
    assert_eq!(s.space.dims, [200, 200, 1]);
    assert_eq!(s.steps, 1365 * 6); // 1365 d (3 years from the start of treatment) at dt 4 h
    assert_eq!(s.myeloma.initial_cells, 200);
    assert!(matches!(s.bone, BoneParams::Procedural { .. }));
    let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["rankl", "opg", "tgfb", "dkk1", "il6"]);
    // The disease mechanism (issue 3) is on in the default.
    assert!(s.biology.bone_cells.is_some() && s.biology.haematopoiesis.is_some());
    assert!(s.biology.stroma.is_some() && s.biology.immune.is_some());
    // …and so is the transplant pathway (issue 4).
    assert!(s.treatment.is_some());
}

#[test]
fn minimal_scenario_resolves_internal_units() {
    let s = scenario::load_file(&scenarios_dir().join("00_minimal.toml"), &[]).unwrap();
    assert_eq!(s.name, "minimal");
    assert_eq!(s.steps, 60 * 24);
    assert_eq!(s.record_every_steps, 24);
    let f = &s.fields[0];
    assert_eq!(f.diffusion_um2_per_h, 36_000.0);
    assert!((f.decay_per_h - std::f64::consts::LN_2).abs() < 1e-12);
    assert_eq!(
        f.secretion_nm_per_h,
        vec![(myelosim::cells::lattice::CellKind::Myeloma, 0.5)]
    );
}
