//! The promotion gate: a run's result files plus one policy decide
//! whether a change moves on to the environment it is entering.
//!
//! - [`policy`]: the policy format: one file for every environment, where
//!   the checks are the same everywhere and what differs is the action
//!   (observe, warn, block) and the strictness (minimum soak, what an
//!   inconclusive comparison or a check without data does);
//! - [`eval`]: a policy on a run: the checks it holds, each check's outcome
//!   and what the environment does about it ([`options`]: what it needs
//!   besides the policy and the runs);
//! - [`check`]: one file per check type: latency, error rate, error budget
//!   and burn rate, achieved rate, soak;
//! - [`compare`]: the comparison with a baseline run;
//! - [`stats`]: quantiles, the block bootstrap and the rank test on
//!   histogram buckets;
//! - [`calibrate`]: the noise floor of A/A runs, a tolerance source;
//! - [`format`]: numbers for people (values in their units, deltas);
//! - [`judge`]: the policy, calibration and runs read from files and judged;
//! - [`error`]: why the gate could not judge;
//! - [`verdict`] and [`render`]: the decision and its outputs (table,
//!   JSON, Markdown, JUnit).

pub mod calibrate;
pub(crate) mod check;
pub(crate) mod compare;
mod error;
pub mod eval;
pub(crate) mod format;
mod judge;
mod options;
pub mod policy;
pub mod render;
pub(crate) mod stats;
pub mod verdict;

pub use error::Error;
pub use eval::{evaluate, load_runs, load_shards};
pub use judge::{judge, Files, Judged};
pub use options::{Options, DEFAULT_SEED};
pub use verdict::{Decision, Outcome, Verdict};
