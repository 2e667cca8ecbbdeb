//! Value generators shared by traffic profiles (template variables) and, in
//! time, dataset schemas (columns): fake data by name, numeric
//! distributions, picks from a list.
//!
//! This module is a leaf: it knows nothing of HTTP or databases. Every
//! generator takes its randomness from the caller (`&mut impl Rng`), so the
//! same seed always gives the same values.

pub mod fake;
pub mod perm;
pub mod seed;
pub(crate) mod text;

pub use self::fake::{FakeKind, Locale};
pub use self::seed::{derive_seed, rng_for, Rng64};
