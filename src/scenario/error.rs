//! Scenario errors: a missing file, or a list of located [`Problem`]s found while parsing and
//! validating a scenario (all of them, not just the first).
//!
//! Reads: nothing. Writes: nothing (error values and their messages).

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a scenario, located in the file (1-based line and column) or in a
/// `--set` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the scenario file, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) in the scenario file, when known.
    pub column: Option<usize>,
    /// Dotted key path, e.g. `fields.dkk1.half_life_min` (empty for whole-file problems).
    pub key: String,
    /// What is wrong and what is expected (allowed range with unit).
    pub message: String,
    /// The offending value as written, shown as `key = value` (optional).
    pub value: Option<String>,
    /// The `--set` override (as given) that caused the problem; replaces line:column.
    pub set: Option<String>,
}

impl Problem {
    /// A problem at `key` (not yet located).
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            line: None,
            column: None,
            key: key.into(),
            message: message.into(),
            value: None,
            set: None,
        }
    }

    /// The same problem, showing the offending value.
    pub fn with_value(mut self, value: impl fmt::Display) -> Self {
        self.value = Some(value.to_string());
        self
    }

    /// The same problem at a 1-based line and column.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// The location part of the message: `line:column`, `--set key=value`, or empty.
    pub fn location(&self) -> String {
        if let Some(s) = &self.set {
            format!("--set {s}")
        } else {
            match (self.line, self.column) {
                (Some(l), Some(c)) => format!("{l}:{c}"),
                (Some(l), None) => format!("{l}"),
                _ => String::new(),
            }
        }
    }
}

impl fmt::Display for Problem {
    /// `line:column: key = value: message` (without the origin).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = self.location();
        if !loc.is_empty() {
            write!(f, "{loc}: ")?;
        }
        if !self.key.is_empty() {
            write!(f, "{}", self.key)?;
            if let Some(v) = &self.value {
                write!(f, " = {v}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario file is missing or unreadable.
    #[error("cannot read scenario file `{}`: {source}", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The scenario was read but is malformed or invalid; every problem found is listed.
    #[error("{}", format_problems(origin, problems))]
    Invalid {
        /// File path or `<built-in default>`.
        origin: String,
        /// Every problem found, in file order where known.
        problems: Vec<Problem>,
    },
}

impl ScenarioError {
    /// The problems of an `Invalid` error (empty for `Io`).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ScenarioError::Invalid { problems, .. } => problems,
            ScenarioError::Io { .. } => &[],
        }
    }
}

/// One line per problem: `origin:line:column: key = value: message`.
fn format_problems(origin: &str, problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if p.set.is_some() || p.line.is_none() {
            out.push_str(&format!("{origin}: {p}"));
        } else {
            out.push_str(&format!("{origin}:{p}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_formats_location_key_value_and_message() {
        let p = Problem::new("space.nx", "expected an integer in 4..=8192 sites")
            .with_value(0)
            .at(12, 20);
        let e = ScenarioError::Invalid {
            origin: "scenarios/x.toml".into(),
            problems: vec![p.clone(), {
                let mut q = p;
                q.set = Some("space.nx=0".into());
                q
            }],
        };
        assert_eq!(
            e.to_string(),
            "scenarios/x.toml:12:20: space.nx = 0: expected an integer in 4..=8192 sites\n\
             scenarios/x.toml: --set space.nx=0: space.nx = 0: expected an integer in 4..=8192 sites"
        );
    }
}
