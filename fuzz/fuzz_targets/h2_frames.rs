//! Any bytes as the server's frames on an HTTP/2 connection with 1 to 8
//! open streams (the count from the first byte), through the client's own
//! frame handling (`loadline::load::client::fuzzing::h2_frames`): HPACK,
//! flow control, SETTINGS, PING, GOAWAY, RST_STREAM, CONTINUATION and
//! padding. Property: it never panics, and every stream ends once the
//! connection has ended, with a status or an error kind.

#![no_main]

use libfuzzer_sys::fuzz_target;
use loadline::load::client::fuzzing;

fuzz_target!(|data: &[u8]| {
    let Some((&first, frames)) = data.split_first() else {
        return;
    };
    if let Err(e) = fuzzing::h2_frames(frames, usize::from(first % 8) + 1) {
        panic!("{e}");
    }
});
