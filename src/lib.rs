//! loadline: make staging predictive of production.
//!
//! The library behind the `loadline` binary. Each part is usable from Rust
//! as well as from the command line:
//!
//! - [`profile`]: the traffic profile format (YAML), validated into a plan;
//! - [`load`]: the engine that replays a profile against an HTTP service and
//!   records latency from each request's *intended* send time;
//! - [`results`]: the run result on disk (summary JSON, HdrHistogram interval
//!   log, per-second time series);
//! - [`synth`]: production-shaped datasets from a schema (YAML), written to
//!   files or seeded into SQLite, PostgreSQL and MariaDB/MySQL;
//! - [`sample`]: the built-in sample service (`loadline target`) with fault
//!   injection, for the demo and the tests;
//! - [`gate`]: the promotion gate: one policy for every environment, a run
//!   (and a baseline) in, a verdict out (table, JSON, JUnit, Markdown);
//! - [`report`]: a run (and a baseline) as one self-contained HTML file;
//! - [`deploy`]: Kubernetes manifests for a run sharded over many pods;
//! - [`learn`]: a profile fitted from production access logs;
//! - [`cli`]: the command-line wiring (nothing else depends on it).

pub mod atomic;
pub mod cli;
pub mod dates;
pub mod deploy;
/// For the fuzz targets in `fuzz/` and their regression tests only.
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
pub mod interrupt;
pub mod learn;
pub mod load;
pub mod printer;
pub mod profile;
pub mod report;
pub mod results;
pub mod sample;
pub mod scrub;
pub mod synth;
pub mod tls;
pub mod units;
pub mod values;
pub mod yaml;
