//! Any bytes, read as UTF-8 text (invalid sequences replaced), through the
//! PII detectors and redaction, with a plain reference finder for card
//! numbers and IBANs as a differential oracle
//! (`loadline::scrub::fuzzing::detect` states what is checked).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use loadline::scrub::detect::Detectors;
use loadline::scrub::fuzzing;

fuzz_target!(|data: &[u8]| {
    static DETECTORS: OnceLock<Detectors> = OnceLock::new();
    let detectors = DETECTORS.get_or_init(Detectors::new);
    let text = String::from_utf8_lossy(data);
    if let Err(v) = fuzzing::detect(detectors, &text) {
        panic!("{v}");
    }
});
