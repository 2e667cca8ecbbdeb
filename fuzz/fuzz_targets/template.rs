//! A request template with its values and token parameters: compiled,
//! rendered, each value encoded for its context; token ids of the right
//! length and alphabet, distinct (`loadline::fuzzing::template::template`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = fuzzing::template::template(data) {
        panic!("{v}");
    }
});
