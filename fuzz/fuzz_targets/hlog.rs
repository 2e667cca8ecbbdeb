//! Any bytes as an HdrHistogram interval log, read as the gate, the report
//! and `merge` read it, under the reader's limits, then as the log of the
//! committed run `fuzz/seeds/run` (`loadline::fuzzing::results::hlog`).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;
use loadline::results::Summary;

fn summary() -> &'static Summary {
    static SUMMARY: OnceLock<Summary> = OnceLock::new();
    SUMMARY.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/run");
        fuzzing::results::seed_summary(&dir).unwrap_or_else(|e| panic!("the seed summary: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(v) = fuzzing::results::hlog(data, summary()) {
        panic!("{v}");
    }
});
