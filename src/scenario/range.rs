//! Range checks shared by every validator — the scenario ([`super::validate`]), the drug and
//! regimen libraries and the treatment phases — so that an out-of-range or missing number reads
//! the same wherever it is written:
//!
//! - `key = value: expected a number in lo..=hi unit` (closed range),
//! - `key = value: expected a number > lo and ≤ hi unit` (open at the bottom),
//! - `key = value: expected an integer in lo..=hi unit`,
//! - `key: missing required key: expected …, e.g. `leaf = example``.
//!
//! Problems are keyed by their dotted path only; `scenario::load_str` then adds the file, line
//! and column (or the `--set` that caused it), so a check here never needs to know where the
//! value was written.
//!
//! Reads: nothing. Writes: problems into the caller's list.

use std::fmt;

use super::error::Problem;

/// What a range can bound: a float or an integer, named in messages by its noun.
pub trait Number: Copy + PartialOrd + fmt::Display {
    /// `a number` or `an integer`.
    const NOUN: &'static str;
    /// One, the example a missing-key hint prefers when it is allowed.
    const ONE: Self;
}

impl Number for f64 {
    const NOUN: &'static str = "a number";
    const ONE: Self = 1.0;
}

impl Number for i64 {
    const NOUN: &'static str = "an integer";
    const ONE: Self = 1;
}

/// Allowed range of a number (`f64`, the default) or an integer (`i64`, [`IntRange`]), with
/// its unit, for messages like `0.01..=24 h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range<T = f64> {
    lo: T,
    /// True when `lo` itself is excluded (`> 0`).
    lo_open: bool,
    hi: T,
    unit: &'static str,
}

/// Allowed range of an integer, e.g. `4..=8192 sites`.
pub type IntRange = Range<i64>;

impl Range<f64> {
    /// `lo..=hi` in `unit` (`""` for dimensionless numbers).
    pub const fn closed(lo: f64, hi: f64, unit: &'static str) -> Self {
        Self {
            lo,
            lo_open: false,
            hi,
            unit,
        }
    }

    /// `> 0` and `≤ hi` in `unit`.
    pub const fn positive(hi: f64, unit: &'static str) -> Self {
        Self::above(0.0, hi, unit)
    }

    /// `> lo` and `≤ hi` in `unit`.
    pub const fn above(lo: f64, hi: f64, unit: &'static str) -> Self {
        Self {
            lo,
            lo_open: true,
            hi,
            unit,
        }
    }
}

impl Range<i64> {
    /// `lo..=hi` in `unit` (`""` for plain counts).
    pub const fn new(lo: i64, hi: i64, unit: &'static str) -> Self {
        Self {
            lo,
            lo_open: false,
            hi,
            unit,
        }
    }
}

impl<T: Number> Range<T> {
    /// Whether `v` is allowed (never for NaN).
    pub fn contains(&self, v: T) -> bool {
        (if self.lo_open {
            v > self.lo
        } else {
            v >= self.lo
        }) && v <= self.hi
    }

    /// `a number in lo..=hi unit`, `a number > lo and ≤ hi unit` or `an integer in lo..=hi
    /// unit`.
    pub fn describe(&self) -> String {
        let unit = with_space(self.unit);
        if self.lo_open {
            format!("{} > {} and ≤ {}{unit}", T::NOUN, self.lo, self.hi)
        } else {
            format!("{} in {}..={}{unit}", T::NOUN, self.lo, self.hi)
        }
    }

    /// A value to show in a "missing required key" hint: 1 when allowed, else the nearest
    /// allowed bound.
    fn example(&self) -> T {
        let one = if T::ONE < self.hi { T::ONE } else { self.hi };
        if self.lo_open || one >= self.lo {
            one
        } else {
            self.lo
        }
    }

    /// Checks a value that is present: `Some(v)` when allowed, else `None` after recording
    /// `key = v: expected <range>`.
    pub fn check(&self, problems: &mut Vec<Problem>, key: impl Into<String>, v: T) -> Option<T> {
        if self.contains(v) {
            Some(v)
        } else {
            problems.push(Problem::new(key, format!("expected {}", self.describe())).with_value(v));
            None
        }
    }

    /// Checks `v`, falling back on `default`; with neither, records a missing required key.
    /// `None` (after recording a problem) when missing or out of range.
    pub fn required(
        &self,
        problems: &mut Vec<Problem>,
        key: impl Into<String>,
        v: Option<T>,
        default: Option<T>,
    ) -> Option<T> {
        let key = key.into();
        match v.or(default) {
            Some(v) => self.check(problems, key, v),
            None => {
                problems.push(missing(key, &self.describe(), self.example()));
                None
            }
        }
    }

    /// Checks an optional value: `Some(None)` when absent, `Some(Some(v))` when allowed, `None`
    /// (after recording a problem) when out of range.
    pub fn optional(
        &self,
        problems: &mut Vec<Problem>,
        key: impl Into<String>,
        v: Option<T>,
    ) -> Option<Option<T>> {
        match v {
            None => Some(None),
            Some(v) => self.check(problems, key, v).map(Some),
        }
    }
}

/// `" unit"`, or nothing for a dimensionless number.
fn with_space(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

/// `key: missing required key: expected <what>, e.g. `leaf = example``.
fn missing(key: String, expected: &str, example: impl fmt::Display) -> Problem {
    let leaf = key.rsplit('.').next().unwrap_or(&key).to_string();
    Problem::new(
        key,
        format!("missing required key: expected {expected}, e.g. `{leaf} = {example}`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn closed_and_open_ranges_include_and_exclude_their_ends() {
        let c = Range::closed(0.01, 24.0, "h");
        assert!(c.contains(0.01) && c.contains(24.0));
        assert!(!c.contains(0.0099) && !c.contains(24.01) && !c.contains(f64::NAN));
        let p = Range::positive(1.0, "");
        assert!(!p.contains(0.0) && p.contains(1e-12) && p.contains(1.0) && !p.contains(1.5));
        let i = IntRange::new(4, 8192, "sites");
        assert!(i.contains(4) && i.contains(8192) && !i.contains(3) && !i.contains(8193));
    }

    #[test]
    fn messages_name_key_value_range_and_unit() {
        let mut ps = Vec::new();
        assert_eq!(
            Range::closed(0.01, 24.0, "h").check(&mut ps, "run.dt_h", 100.0),
            None
        );
        assert_eq!(Range::positive(0.999, "").check(&mut ps, "a.f", 0.0), None);
        assert_eq!(
            IntRange::new(4, 8192, "sites").check(&mut ps, "space.nx", 0),
            None
        );
        assert_eq!(
            Range::above(2.0, 3.0, "µm").check(&mut ps, "x", 2.5),
            Some(2.5)
        );
        assert_eq!(
            messages(&ps),
            [
                "run.dt_h = 100: expected a number in 0.01..=24 h",
                "a.f = 0: expected a number > 0 and ≤ 0.999",
                "space.nx = 0: expected an integer in 4..=8192 sites",
            ]
        );
    }

    #[test]
    fn required_uses_the_default_and_reports_a_missing_key_with_an_example() {
        let mut ps = Vec::new();
        let r = Range::positive(36_500.0, "days");
        assert_eq!(
            r.required(&mut ps, "run.duration_d", None, Some(3.0)),
            Some(3.0)
        );
        assert_eq!(
            r.required(&mut ps, "run.duration_d", Some(5.0), Some(3.0)),
            Some(5.0)
        );
        assert_eq!(r.required(&mut ps, "run.duration_d", None, None), None);
        assert_eq!(
            IntRange::new(1, 365, "days").required(&mut ps, "r.cycle_length_d", None, None),
            None
        );
        assert_eq!(
            messages(&ps),
            [
                "run.duration_d: missing required key: expected a number > 0 and ≤ 36500 days, \
                 e.g. `duration_d = 1`",
                "r.cycle_length_d: missing required key: expected an integer in 1..=365 days, \
                 e.g. `cycle_length_d = 1`",
            ]
        );
    }

    #[test]
    fn optional_accepts_absence_and_rejects_out_of_range() {
        let mut ps = Vec::new();
        let r = Range::closed(0.0, 20.0, "10⁹/L");
        assert_eq!(r.optional(&mut ps, "t.anc", None), Some(None));
        assert_eq!(r.optional(&mut ps, "t.anc", Some(1.0)), Some(Some(1.0)));
        assert_eq!(r.optional(&mut ps, "t.anc", Some(-1.0)), None);
        let i = IntRange::new(1, 1000, "cycles");
        assert_eq!(i.optional(&mut ps, "p.cycles", None), Some(None));
        assert_eq!(i.optional(&mut ps, "p.cycles", Some(0)), None);
        assert_eq!(ps.len(), 2);
        assert_eq!(
            ps[0].to_string(),
            "t.anc = -1: expected a number in 0..=20 10⁹/L"
        );
    }
}
