//! Any UTF-8 text through every unit parser (durations, rates, percentages,
//! counts, read/write splits, quantiles, `--shard`): no panic, and what
//! parses displays as text that parses back to the same value
//! (`loadline::fuzzing::units::units`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(v) = fuzzing::units::units(text) {
        panic!("{v}");
    }
});
