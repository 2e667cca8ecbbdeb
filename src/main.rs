//! The `loadline` binary: parse the command line, run, map the outcome to an
//! exit code. All logic lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    loadline::cli::main()
}
