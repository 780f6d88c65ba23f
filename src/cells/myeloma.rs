//! Myeloma plasma-cell rules.
