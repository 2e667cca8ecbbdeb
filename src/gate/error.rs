//! Why the gate could not judge: a policy, run, baseline or calibration it
//! cannot use. Every variant is bad input (exit code 2); a failing check is
//! a verdict, never an error.

use super::policy;
use crate::results::run::RunError;

/// Why the gate could not judge (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Policy(#[from] policy::Error),
    #[error("{which} run: {source}")]
    Run { which: &'static str, source: RunError },
    #[error("{policy}: no environment `{env}` (the policy defines: {known})")]
    UnknownEnvironment { policy: String, env: String, known: String },
    #[error("{at}: key `endpoints` of check `{check}`: `{endpoint}` is not an endpoint of the run {run}")]
    UnknownEndpoint {
        /// `policy.yaml:14`.
        at: String,
        check: String,
        endpoint: String,
        /// The run's directory and its endpoints.
        run: String,
    },
    #[error("{policy}: regression tolerance is `from calibration`, but no calibration was given (--calibration FILE, made by `loadline gate calibrate`)")]
    NeedsCalibration { policy: String },
    #[error("{file}: no noise floor for `{metric}` (the calibration runs measured: {known}); calibrate with longer runs or change the policy's quantiles")]
    NotCalibrated {
        file: String,
        metric: String,
        known: String,
    },
    #[error("cannot read calibration {path}: {cause}")]
    ReadCalibration { path: String, cause: std::io::Error },
    #[error("{path}: not a calibration file: {cause}")]
    NotACalibration { path: String, cause: serde_json::Error },
    #[error("{path}: calibration schema version {found} (this loadline reads {expected})")]
    CalibrationVersion { path: String, found: u32, expected: u32 },
    #[error("calibration needs at least two A/A runs (three or more give a better floor)")]
    TooFewRuns,
    #[error("A/A runs must run the same profile; these ran: {profiles}")]
    MixedProfiles { profiles: String },
}
