//! Any bytes as a run's summary.json, under the reader's limits; what
//! reads has its histograms decoded and is checked as a shard of a merge
//! (`loadline::fuzzing::results::summary`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = fuzzing::results::summary(data) {
        panic!("{v}");
    }
});
