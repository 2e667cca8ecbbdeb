//! `loadline learn`: a traffic profile fitted from production access logs,
//! with the shape of production and none of its values.
//!
//! - [`log`]: the access-log formats (nginx, Apache, AWS ALB, Envoy) and the
//!   reader (files, gzip, standard input), one [`Record`] per line;
//! - [`learner`]: folds records into bounded sketches: path templates
//!   ([`paths`]), the per-second rate curve ([`curve`]), tenant counts under
//!   a key ([`tenants`]), status and size quantiles;
//! - [`render`]: the profile, in the format `loadline run` takes.

pub mod curve;
pub mod data;
pub mod learner;
pub mod log;
pub mod paths;
mod record;
pub mod render;
pub mod run;
pub mod segment;
pub mod sketch;
pub mod tenants;
pub mod vars;

pub use learner::{LearnError, LearnOptions, Learned, Learner};
pub use record::{Record, TimeSource};
