//! Any UTF-8 text as a traffic profile: no panic, every rejection names the
//! file and a line, and an accepted profile renders a few requests whose
//! framing holds (`loadline::fuzzing::yaml::profile`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(v) = fuzzing::yaml::profile(text) {
        panic!("{v}");
    }
});
