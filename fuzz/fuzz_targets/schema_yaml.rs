//! Any UTF-8 text as a synth schema: no panic, every rejection names the
//! file and a line, and an accepted schema (each table cut to a few rows)
//! generates its rows (`loadline::fuzzing::yaml::schema`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(v) = fuzzing::yaml::schema(text) {
        panic!("{v}");
    }
});
