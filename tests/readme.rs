//! The README's claims that can drift: every repository path it names exists, and its first
//! lines give the two newcomer commands (run the default scenario; run the tests).

use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn first_lines_give_the_two_commands() {
    let text = readme();
    let head: Vec<&str> = text.lines().take(8).collect();
    assert!(
        head.iter()
            .any(|l| l.starts_with("cargo run --release -- run ")),
        "{head:?}"
    );
    assert!(
        head.iter().any(|l| l.starts_with("cargo test --release")),
        "{head:?}"
    );
    // The CI script runs the README's test command.
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test --release"),
        "CI must run `cargo test --release`"
    );
}

#[test]
fn every_path_the_readme_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = readme();
    let mut missing = Vec::new();
    let mut seen = 0;
    for word in text.split(|c: char| c.is_whitespace() || "`()[]|,".contains(c)) {
        let w = word.trim_end_matches(['.', ':', ';']);
        let is_path = ["src/", "scenarios/", "docs/", "benches/", "tests/", ".ci/"]
            .iter()
            .any(|p| w.starts_with(p));
        if !is_path || w.contains('<') || w.contains('*') {
            continue;
        }
        seen += 1;
        if !root.join(w).exists() {
            missing.push(w.to_string());
        }
    }
    assert!(
        seen >= 10,
        "expected the README to name its files; found {seen}"
    );
    assert!(
        missing.is_empty(),
        "README names paths that do not exist: {missing:?}"
    );
}
