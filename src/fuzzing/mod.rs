//! Entry points for the fuzz targets in `fuzz/` other than scrub's (those
//! are in `scrub::fuzzing`), and for their regression tests
//! (`tests/it/fuzz_regressions.rs`): not an API, hidden from the docs, and
//! free to change with the targets.
//!
//! Each function takes what its target's input becomes and runs it through
//! the real loader or reader, checking what must hold whatever the input
//! is; a property that fails comes back as a [`Violation`], which the
//! target turns into a crash (the library never panics for it):
//!
//! - [`yaml::profile`], [`yaml::schema`], [`yaml::policy`]: a rejection is
//!   an error naming the file and a line; what loads is used (requests
//!   rendered, rows generated, the policy evaluated);
//! - [`units::units`]: every unit parser; what parses displays as text that
//!   parses back to the same value;
//! - [`template::template`]: the request template engine and token ids;
//! - [`results::hlog`], [`results::summary`]: the readers `gate`, `report`
//!   and `merge` use, under their limits;
//! - [`access_log::access_log`]: `learn`'s line reader and log parsers.

use std::fmt;

pub mod access_log;
pub mod results;
pub mod template;
pub mod units;
pub mod yaml;

/// A property that does not hold for an input: a bug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

/// Fail with a [`Violation`] unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::fuzzing::Violation(format!($($arg)+)));
        }
    };
}
pub(crate) use ensure;

/// A small reader over the bytes of `data` from `at`, for targets that
/// take a few numbers before their text: each read takes the next bytes,
/// or zeros past the end.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    /// Read `data` from its start.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, at: 0 }
    }

    /// The next byte, 0 past the end.
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// The next 8 bytes, little-endian.
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, i| v | u64::from(self.u8()) << (8 * i))
    }

    /// The next `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.at.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.at = start.saturating_add(n);
        &self.data[start..end]
    }

    /// What is left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(usize::MAX)
    }
}

/// Whether `text` (an error message) starts with `path`, a colon and a
/// line number of 1 or more: the location every file error gives.
pub fn names_file_and_line(text: &str, path: &str) -> bool {
    let Some(rest) = text.strip_prefix(path).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<u64>().is_ok_and(|n| n >= 1)
}
