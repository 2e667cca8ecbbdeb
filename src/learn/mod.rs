//! `loadline learn`: a traffic profile fitted from production access logs,
//! with the shape of production and none of its values.
//!
//! - [`log`]: the access-log formats (nginx, Apache, AWS ALB, Envoy) and the
//!   reader (files, gzip, standard input), one [`Record`] per line;
//! - the learner folds records into bounded sketches (path templates, the
//!   rate curve, tenant counts, status and size quantiles) and writes a
//!   profile in the format `loadline run` takes.

pub mod log;
mod record;

pub use record::{Record, TimeSource};
