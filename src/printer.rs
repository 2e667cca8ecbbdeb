//! All user-facing output goes through [`Printer`].
//!
//! Results go to stdout, progress and diagnostics to stderr. `--quiet`
//! silences everything but errors; `NO_COLOR` (and a non-terminal stdout)
//! disables colour. Keeping this in one place is what makes `--quiet` and
//! redirection behave the same in every subcommand.

use std::io::{IsTerminal, Write};

/// Where and how loudly to print.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
    color: bool,
}

impl Printer {
    /// A printer for the process's stdout and stderr.
    pub fn new(quiet: bool) -> Self {
        let color = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        Self { quiet, color }
    }

    /// A printer that prints nothing (library callers and tests).
    pub fn silent() -> Self {
        Self {
            quiet: true,
            color: false,
        }
    }

    /// Whether stderr is an interactive terminal and live progress may be drawn.
    pub fn progress_enabled(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Print a result line (stdout). Silenced by `--quiet`: then the files
    /// on disk and the exit code are the result.
    pub fn out(&self, text: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. piped into `head`) is not an error worth dying for.
        let _ = writeln!(out, "{}", text.as_ref());
    }

    /// Print a status line (stderr), silenced by `--quiet`.
    pub fn info(&self, text: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        let _ = writeln!(std::io::stderr().lock(), "{}", text.as_ref());
    }

    /// Print a warning (stderr), shown even with `--quiet`.
    pub fn warn(&self, text: impl AsRef<str>) {
        let prefix = if self.color {
            "\x1b[33mwarning\x1b[0m"
        } else {
            "warning"
        };
        let _ = writeln!(std::io::stderr().lock(), "{prefix}: {}", text.as_ref());
    }

    /// Print an error (stderr), shown even with `--quiet`.
    pub fn error(&self, text: impl AsRef<str>) {
        let prefix = if self.color { "\x1b[31merror\x1b[0m" } else { "error" };
        let _ = writeln!(std::io::stderr().lock(), "{prefix}: {}", text.as_ref());
    }
}
