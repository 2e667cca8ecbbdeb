//! Any bytes as an access log in the format the first byte picks (nginx,
//! Apache, ALB, Envoy, Envoy JSON, detection, a custom nginx `log_format`),
//! read line by line as `learn` reads it, and a `combined` line built from
//! the bytes read back (`loadline::fuzzing::access_log::access_log`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = fuzzing::access_log::access_log(data) {
        panic!("{v}");
    }
});
