//! Judging a run from files: load the policy, the calibration (if any) and
//! the runs, then evaluate. What `loadline gate` and `loadline report
//! --policy` share, callable from Rust without the CLI.

use std::path::Path;

use super::calibrate::Calibration;
use super::error::Error;
use super::eval::{evaluate, load_shards};
use super::options::Options;
use super::policy;
use super::verdict::Verdict;
use crate::results::run::Run;

/// The files a judgement reads.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    /// The policy (YAML).
    pub policy: &'a Path,
    /// The candidate run's directory, or the shards of one run.
    pub runs: &'a [std::path::PathBuf],
    /// Judge a run with missing shards (as inconclusive) instead of refusing it.
    pub allow_partial: bool,
    /// A baseline run's directory, for the regression comparison.
    pub baseline: Option<&'a Path>,
    /// A calibration from `loadline gate calibrate`.
    pub calibration: Option<&'a Path>,
}

/// A judged run: the runs as read, and the verdict.
#[derive(Debug)]
pub struct Judged {
    /// The candidate run.
    pub run: Run,
    /// The baseline run, when one was given.
    pub baseline: Option<Run>,
    /// What the gate decided, and why.
    pub verdict: Verdict,
}

/// Judge `files.run` (against `files.baseline`) for environment `env`, with
/// the bootstrap seeded by `seed`.
pub fn judge(files: Files<'_>, env: &str, seed: u64) -> Result<Judged, Error> {
    let policy = policy::load(files.policy)?;
    let calibration = files.calibration.map(Calibration::load).transpose()?;
    let (run, baseline) = load_shards(&policy, files.runs, files.baseline, files.allow_partial)?;
    let mut opts = Options::new(env);
    opts.calibration = calibration.as_ref();
    opts.seed = seed;
    let verdict = evaluate(&policy, &run, baseline.as_ref(), &opts)?;
    Ok(Judged { run, baseline, verdict })
}
