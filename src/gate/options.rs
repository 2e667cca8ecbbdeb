//! What the gate needs besides the policy and the runs: the environment, a
//! calibration, the bootstrap's seed and replicates.

use super::calibrate::Calibration;
use super::stats;

/// The bootstrap's seed unless the user gives one.
pub const DEFAULT_SEED: u64 = 0x6c6f_6164_6c69_6e65;

/// What the gate needs besides the policy and the runs.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The environment the change is entering (a key of the policy's `environments`).
    pub env: &'a str,
    /// Noise floors for `tolerance: from calibration`.
    pub calibration: Option<&'a Calibration>,
    /// Seed of the bootstrap: the same seed gives the same intervals.
    pub seed: u64,
    /// Bootstrap replicates per interval.
    pub replicates: usize,
}

impl<'a> Options<'a> {
    /// For `env`, with no calibration, the default seed and replicates.
    pub fn new(env: &'a str) -> Options<'a> {
        Options {
            env,
            calibration: None,
            seed: DEFAULT_SEED,
            replicates: stats::REPLICATES,
        }
    }
}
