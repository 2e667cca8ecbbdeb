//! Integration tests: the library and the binary against real servers on
//! 127.0.0.1 (ports chosen by the OS).

// Test helpers outside `#[test]` functions may fail loudly, and a test that
// skips says so on stderr.
#![allow(clippy::expect_used, clippy::print_stderr)]
// A scenario test reads top to bottom as one story (start a server, run, judge, check the
// files); six of them are longer than the library's limit.
#![allow(clippy::too_many_lines)]

mod access_log;
mod cli;
mod deploy;
mod engine;
mod faults;
mod fuzz_regressions;
mod gate;
mod interrupt;
mod key_spaces;
mod learn;
mod learn_sources;
mod local_shards;
mod merge;
mod profiles;
mod report;
mod resources;
mod results;
mod scrub;
mod scrub_faker;
mod scrub_golden;
mod secrets;
mod seed;
mod seed_shards;
mod slow_clients;
mod support;
mod synth;
mod synth_learn;
mod target;
