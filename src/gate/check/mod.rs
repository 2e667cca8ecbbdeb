//! The checks a policy can hold, one file each: every check turns a run into
//! rows of measured numbers with an outcome. `eval` picks the checks of a
//! policy and decides what the environment does; `compare` is the
//! comparison with a baseline run.

mod achieved;
mod budget;
mod errors;
mod latency;
mod rows;
mod soak;

pub use achieved::achieved_rows;
pub use budget::budget_rows;
pub use errors::error_rows;
pub use latency::latency_rows;
pub use rows::{row, Slice};
pub use soak::soak;
