//! Cell families: the shared lattice state and one file of rules per family, dispatched by
//! [`marrow::MarrowRule`].
pub mod bone;
pub mod haematopoiesis;
pub mod immune;
pub mod lattice;
pub mod marrow;
pub mod myeloma;
pub mod stroma;
