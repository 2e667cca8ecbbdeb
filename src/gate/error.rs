//! Why the gate could not judge: a policy, run, baseline or calibration it
//! cannot use. Every variant is bad input (exit code 2); a failing check is
//! a verdict, never an error.

use super::policy;
use crate::results::run::RunError;

/// Why the gate could not judge (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy file is unreadable or invalid.
    #[error(transparent)]
    Policy(#[from] policy::Error),
    /// A run directory could not be read.
    #[error("{which} run: {source}")]
    Run {
        /// `candidate` or `baseline`.
        which: &'static str,
        /// What was wrong with it.
        source: RunError,
    },
    /// `--env` names an environment the policy does not define.
    #[error("{policy}: no environment `{env}` (the policy defines: {known})")]
    UnknownEnvironment {
        /// The policy's path.
        policy: String,
        /// The environment asked for.
        env: String,
        /// The policy's environments, comma-separated.
        known: String,
    },
    /// A check names an endpoint the run did not have.
    #[error("{at}: key `endpoints` of check `{check}`: `{endpoint}` is not an endpoint of the run {run}")]
    UnknownEndpoint {
        /// `policy.yaml:14`.
        at: String,
        /// The check's name.
        check: String,
        /// The endpoint as the policy names it.
        endpoint: String,
        /// The run's directory and its endpoints.
        run: String,
    },
    /// The policy's tolerance comes from a calibration, and none was given.
    #[error("{policy}: regression tolerance is `from calibration`, but no calibration was given (--calibration FILE, made by `loadline gate calibrate`)")]
    NeedsCalibration {
        /// The policy's path.
        policy: String,
    },
    /// The calibration did not measure a metric the policy compares.
    #[error("{file}: no noise floor for `{metric}` (the calibration runs measured: {known}); calibrate with longer runs or change the policy's quantiles")]
    NotCalibrated {
        /// The calibration file.
        file: String,
        /// The quantile (or `shape`) without a floor.
        metric: String,
        /// What the calibration did measure, comma-separated.
        known: String,
    },
    /// The calibration file could not be read.
    #[error("cannot read calibration {path}: {cause}")]
    ReadCalibration {
        /// The calibration file.
        path: String,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The calibration file is not a calibration's JSON.
    #[error("{path}: not a calibration file: {cause}")]
    NotACalibration {
        /// The calibration file.
        path: String,
        /// Where and why the JSON did not read.
        cause: serde_json::Error,
    },
    /// The calibration was written by an incompatible loadline.
    #[error("{path}: calibration schema version {found} (this loadline reads {expected})")]
    CalibrationVersion {
        /// The calibration file.
        path: String,
        /// The file's `schema_version`.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// `gate calibrate` was given fewer than two runs.
    #[error("calibration needs at least two A/A runs (three or more give a better floor)")]
    TooFewRuns,
    /// `gate calibrate` was given runs of different profiles.
    #[error("A/A runs must run the same profile; these ran: {profiles}")]
    MixedProfiles {
        /// The profiles the runs ran, comma-separated.
        profiles: String,
    },
}
