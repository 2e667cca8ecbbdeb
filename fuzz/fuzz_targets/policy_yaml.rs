//! Any UTF-8 text as a gate policy: no panic, every rejection names the
//! file and a line, and an accepted policy is evaluated on the committed run
//! `fuzz/seeds/run`, alone and against itself as the baseline
//! (`loadline::fuzzing::yaml::policy`).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;
use loadline::results::run::Run;

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/run");
        fuzzing::results::seed_run(&dir).unwrap_or_else(|e| panic!("the seed run: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(v) = fuzzing::yaml::policy(text, run()) {
        panic!("{v}");
    }
});
