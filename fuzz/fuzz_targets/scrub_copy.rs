//! Any bytes as a scrub input file in PostgreSQL COPY text format, through
//! the record cutter, the parser and the scrub of one table
//! (`loadline::scrub::fuzzing::Dumps::scrub` states what is checked).

#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use loadline::scrub::format::Format;
use loadline::scrub::fuzzing::Dumps;

fn dumps() -> &'static Mutex<Dumps> {
    static DUMPS: OnceLock<Mutex<Dumps>> = OnceLock::new();
    DUMPS.get_or_init(|| {
        let dumps = Dumps::new(env!("CARGO_MANIFEST_DIR").as_ref());
        Mutex::new(dumps.unwrap_or_else(|e| panic!("the fuzzing rules: {e}")))
    })
}

fuzz_target!(|data: &[u8]| {
    let mut dumps = dumps().lock().unwrap_or_else(|e| e.into_inner());
    if let Err(v) = dumps.scrub(Format::Copy, data) {
        panic!("{v}");
    }
});
