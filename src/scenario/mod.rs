//! Scenario files: TOML text (plus `--set` overrides) → raw serde mirror ([`raw`]) →
//! validation ([`validate`]) → [`Scenario`] in internal units. Every problem is reported with
//! its file, line and column (or the `--set` that caused it), all at once.
//!
//! Reads: the scenario file (and, via validation, checks that a bone mask file exists).
//! Writes: nothing.

pub mod describe;
pub mod error;
pub mod overrides;
pub mod range;
pub mod raw;
pub mod types;
pub mod validate;

pub use error::{Problem, ScenarioError};
pub use types::*;

use std::ops::Range;
use std::path::Path;

use overrides::Override;
use raw::RawScenario;

/// The built-in default scenario text (`scenarios/default.toml`), used by `myelosim run`
/// without a scenario argument.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");

/// Origin string of the built-in default scenario.
pub const DEFAULT_ORIGIN: &str = "<built-in default>";

/// Reads, overrides and validates a scenario file. Relative paths inside it (e.g.
/// `bone.mask_path`) are resolved against the file's folder; the default name is the file stem.
pub fn load_file(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let base_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    load_str(&text, &path.display().to_string(), base_dir, overrides)
}

/// Loads the built-in default scenario ([`DEFAULT_SCENARIO`]) with overrides. Its origin is
/// `<built-in default>`, its default name `default`, and relative paths resolve against the
/// current directory.
pub fn load_default(overrides: &[String]) -> Result<Scenario, ScenarioError> {
    load_str(DEFAULT_SCENARIO, DEFAULT_ORIGIN, Path::new("."), overrides)
}

/// Parses, overrides and validates scenario `text`. `origin` names it in messages (a path, or
/// something in angle brackets such as `<built-in default>`); the default scenario name is the
/// origin's file stem (`default` for an angle-bracket origin). Relative paths resolve against
/// `base_dir`.
pub fn load_str(
    text: &str,
    origin: &str,
    base_dir: &Path,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    let invalid = |problems: Vec<Problem>| ScenarioError::Invalid {
        origin: origin.to_string(),
        problems,
    };
    let mut problems = Vec::new();

    // 1. Syntax, on the original text.
    let original = match toml_edit::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let mut p = Problem::new("", format!("malformed TOML: {}", e.message().trim()));
            if let Some(span) = e.span() {
                let (l, c) = line_col(text, span.start);
                p = p.at(l, c);
            }
            return Err(invalid(vec![p]));
        }
    };

    // 2. Overrides, applied to an editable copy.
    let mut applied = Vec::new();
    let mut doc = original.clone().into_mut();
    for given in overrides {
        match Override::parse(given).and_then(|o| o.apply(&mut doc).map(|()| o)) {
            Ok(o) => applied.push(o),
            Err(p) => problems.push(*p),
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let effective = if applied.is_empty() {
        text.to_string()
    } else {
        doc.to_string()
    };

    // 3. Structure and types (serde stops at the first such error).
    let locate = |mut p: Problem, span: Option<Range<usize>>| -> Problem {
        if let Some(o) = applied.iter().rev().find(|o| o.covers(&p.key)) {
            p.set = Some(o.given.clone());
            return p;
        }
        // Spans from the effective text are only valid when it is the original text.
        let span = span
            .filter(|_| applied.is_empty())
            .or_else(|| key_span(original.as_item(), &p.key));
        if let Some(s) = span {
            let (l, c) = line_col(text, s.start);
            p = p.at(l, c);
        }
        p
    };
    let raw: RawScenario = match toml::Deserializer::parse(&effective)
        .map_err(|e| (String::new(), e))
        .and_then(|de| {
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                (
                    if path == "." { String::new() } else { path },
                    e.into_inner(),
                )
            })
        }) {
        Ok(r) => r,
        Err((path, e)) => {
            let p = serde_problem(&path, e.message());
            let span = e.span();
            return Err(invalid(vec![locate(p, span)]));
        }
    };

    // 4. Semantics: every problem, located afterwards.
    let field_order = doc
        .get("fields")
        .and_then(|f| f.as_table_like())
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    let default_name = if origin.starts_with('<') {
        "default".to_string()
    } else {
        Path::new(origin)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".to_string())
    };
    let ctx = validate::Context {
        origin: origin.to_string(),
        default_name,
        base_dir: base_dir.to_path_buf(),
        source_text: effective.clone(),
        overrides: overrides.to_vec(),
        field_order,
    };
    validate::validate(&raw, &ctx).map_err(|ps| {
        let mut located: Vec<Problem> = ps.into_iter().map(|p| locate(p, None)).collect();
        // File order; `--set` and unlocated problems last, in the order found (stable sort).
        located.sort_by_key(|p| (p.set.is_some() || p.line.is_none(), p.line, p.column));
        invalid(located)
    })
}

/// Turns a serde error at `path` into a problem with a friendlier message: unknown keys name
/// the table, the allowed keys and the closest match; type errors name the expected type.
fn serde_problem(path: &str, message: &str) -> Problem {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, expected)) = rest.split_once('`')
    {
        // serde_path_to_error's path ends with the unknown key itself.
        let table = match path.rsplit_once('.') {
            Some((t, last)) if last == name => t.to_string(),
            Some(_) => path.to_string(),
            None if path == name => String::new(),
            None => path.to_string(),
        };
        let key = if table.is_empty() {
            name.to_string()
        } else {
            format!("{table}.{name}")
        };
        let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let place = if table.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in [{table}]")
        };
        let mut msg = format!("unknown key `{name}` {place}");
        if allowed.is_empty() {
            msg.push_str("; this table takes no keys");
        } else {
            msg.push_str(&format!("; allowed: {}", allowed.join(", ")));
            if let Some(best) = closest(name, &allowed) {
                msg.push_str(&format!(" (did you mean `{best}`?)"));
            }
        }
        return Problem::new(key, msg);
    }
    let msg = message
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number")
        .replace("expected a string", "expected a string (in quotes)");
    let msg = if path.is_empty() {
        format!("malformed TOML: {msg}")
    } else {
        format!("wrong type: {msg}")
    };
    Problem::new(path, msg)
}

/// The allowed name closest to `name` by edit distance, if it is plausibly a typo.
fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|&(d, a)| d <= (a.len() / 3).max(2))
        .min_by_key(|&(d, _)| d)
        .map(|(_, a)| a)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// 1-based (line, column) of byte `offset` in `text`; the column counts characters. Offsets
/// past the end (or inside a character) are clamped.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Byte span of the dotted `key` in a parsed document (`root = document.as_item()`): the value
/// for a key with a value, the header for a table. When the key is absent, the span of its
/// nearest present ancestor table (so a missing required key points at its table); `None`
/// when nothing on the path has a span.
pub fn key_span(root: &toml_edit::Item, key: &str) -> Option<Range<usize>> {
    if key.is_empty() {
        return None;
    }
    let mut table = root.as_table_like()?;
    let mut best = None;
    for seg in key.split('.') {
        // `phases[2]`: element 2 of an array of tables (treatment, issue 4).
        let (name, index) = match seg.strip_suffix(']').and_then(|s| s.split_once('[')) {
            Some((n, i)) => (n, i.parse::<usize>().ok()),
            None => (seg, None),
        };
        let Some((k, next)) = table.get_key_value(name) else {
            return best;
        };
        let span = next.span().or_else(|| k.span());
        if span.is_some() {
            best = span;
        }
        let inner: Option<(&dyn toml_edit::TableLike, Option<Range<usize>>)> = match index {
            Some(i) => {
                if let Some(t) = next.as_array_of_tables().and_then(|a| a.get(i)) {
                    Some((t as &dyn toml_edit::TableLike, t.span()))
                } else {
                    next.as_array().and_then(|a| a.get(i)).and_then(|v| {
                        v.as_inline_table()
                            .map(|t| (t as &dyn toml_edit::TableLike, v.span()))
                    })
                }
            }
            None => next.as_table_like().map(|t| (t, None)),
        };
        match inner {
            Some((t, span)) => {
                if span.is_some() {
                    best = span;
                }
                table = t;
            }
            None => return best,
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let t = "a = 1\nµm = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 4), (1, 5));
        assert_eq!(line_col(t, 6), (2, 1));
        // "µ" is two bytes: the byte after it is column 2.
        assert_eq!(line_col(t, 8), (2, 2));
        assert_eq!(line_col(t, 7), (2, 1)); // inside "µ": clamped back
        assert_eq!(line_col(t, 999), (3, 1));
    }

    #[test]
    fn key_span_finds_values_tables_and_ancestors() {
        let t = "[run]\nduration_d = 60\n\n[fields.dkk1]\nhalf_life_min = 60.0\n";
        let doc = toml_edit::Document::parse(t).unwrap();
        let at = |k: &str| key_span(doc.as_item(), k).map(|s| line_col(t, s.start));
        assert_eq!(at("run.duration_d"), Some((2, 14)));
        assert_eq!(at("fields.dkk1.half_life_min"), Some((5, 17)));
        assert_eq!(at("run"), Some((1, 1)));
        // Missing key: its table.
        assert_eq!(at("run.dt_h"), Some((1, 1)));
        assert_eq!(at("fields.dkk1.solver"), Some((4, 1)));
        assert_eq!(at("space.nx"), None);
        assert_eq!(at(""), None);
    }

    #[test]
    fn closest_suggests_typos_only() {
        let allowed = ["division_rate_per_h", "death_rate_per_h", "placement"];
        assert_eq!(
            closest("divison_rate_per_h", &allowed),
            Some("division_rate_per_h")
        );
        assert_eq!(closest("zzz", &allowed), None);
    }
}
