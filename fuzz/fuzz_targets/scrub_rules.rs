//! Any UTF-8 text as a scrub rules file: no panic, every error names the
//! file and the line, and accepted rules compile and scrub a few rows
//! (`loadline::scrub::fuzzing::rules`). The file is read as if it were
//! `fuzz/rules.yaml`, so `${file:fuzzing-key.txt}` finds a key.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use loadline::scrub::fuzzing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules.yaml");
    if let Err(v) = fuzzing::rules(text, &origin) {
        panic!("{v}");
    }
});
