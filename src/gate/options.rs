//! What the gate needs besides the policy and the runs: the environment, a
//! calibration, the bootstrap's seed and replicates.

use super::calibrate::Calibration;
use super::stats;

/// The bootstrap's seed unless the user gives one.
pub const DEFAULT_SEED: u64 = 0x6c6f_6164_6c69_6e65;

/// What the gate needs besides the policy and the runs.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub env: &'a str,
    pub calibration: Option<&'a Calibration>,
    pub seed: u64,
    pub replicates: usize,
}

impl<'a> Options<'a> {
    pub fn new(env: &'a str) -> Options<'a> {
        Options {
            env,
            calibration: None,
            seed: DEFAULT_SEED,
            replicates: stats::REPLICATES,
        }
    }
}
