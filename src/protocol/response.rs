//! What the protocol needs on top of the clinical model's IMWG response
//! [`Category`]: the order a phase's `until_response` compares in, and reading a category
//! from a scenario file. The category type itself (and its labels) is the clinical model's;
//! the protocol has none of its own.
//!
//! Reads: nothing. Writes: nothing.

use crate::clinical::Category;

/// The categories a phase may wait for, worst to best (IMWG; Kumar et al. 2016). `NA` (no
/// measurable baseline yet) is not among them: it never satisfies `until_response`.
pub const ORDER: [Category; 7] = [
    Category::PD,
    Category::SD,
    Category::MR,
    Category::PR,
    Category::VGPR,
    Category::CR,
    Category::SCR,
];

/// Position in [`ORDER`] (higher is better); `None` for `NA`.
pub fn rank(c: Category) -> Option<usize> {
    ORDER.iter().position(|&o| o == c)
}

/// Whether `got` is at least as good as `want` (false while `got` is `NA`).
pub fn at_least(got: Category, want: Category) -> bool {
    matches!((rank(got), rank(want)), (Some(g), Some(w)) if g >= w)
}

/// Reads a category as written in a scenario (`PD`, `SD`, `MR`, `PR`, `VGPR`, `CR`, `sCR`,
/// case-insensitive; the labels outputs use). `NA` is not accepted.
pub fn parse(s: &str) -> Option<Category> {
    ORDER
        .iter()
        .copied()
        .find(|c| c.label().eq_ignore_ascii_case(s.trim()))
}

/// The accepted names, worst to best, for messages.
pub fn names() -> Vec<&'static str> {
    ORDER.iter().map(|c| c.label()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_every_label_case_insensitively_but_not_na() {
        for c in ORDER {
            assert_eq!(parse(c.label()), Some(c));
            assert_eq!(parse(&c.label().to_lowercase()), Some(c));
        }
        assert_eq!(parse(" vgpr "), Some(Category::VGPR));
        assert_eq!(parse("NA"), None);
        assert_eq!(parse("great"), None);
        assert_eq!(names().join(", "), "PD, SD, MR, PR, VGPR, CR, sCR");
    }

    #[test]
    fn at_least_orders_worst_to_best_and_never_for_na() {
        assert!(at_least(Category::CR, Category::VGPR));
        assert!(at_least(Category::VGPR, Category::VGPR));
        assert!(!at_least(Category::PR, Category::VGPR));
        assert!(at_least(Category::SCR, Category::PD));
        assert!(!at_least(Category::NA, Category::PD));
    }
}
