//! Any bytes as the reply to one HTTP/1.1 request, through the client's own
//! response reading (`loadline::load::client::fuzzing`), handed over in
//! reads of a size taken from the first byte. Property: it never panics,
//! never hangs (the in-memory stream never blocks, so a pending exchange is
//! a hang), and each exchange gives a status or an error kind.

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::load::client::fuzzing;

fuzz_target!(|data: &[u8]| {
    let Some((&first, reply)) = data.split_first() else {
        return;
    };
    // 1..=64 bytes per read, or all at once; HEAD on odd seeds.
    let chunk = match first >> 1 {
        0 => usize::MAX,
        n => usize::from(n & 63) + 1,
    };
    if let Err(e) = fuzzing::h1_responses(reply, chunk, first & 1 == 1) {
        panic!("{e}");
    }
});
