//! Why a line was not read, and the count of rejected lines per reason with
//! the first few line numbers: what `learn` reports instead of the lines
//! themselves, which may hold personal data.

use std::collections::BTreeMap;
use std::fmt;

/// Why a line did not become a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reject {
    /// The time field does not parse.
    BadTime,
    /// The request is not `METHOD TARGET [PROTOCOL]` (TLS bytes sent to a
    /// plain port, `-`, garbage).
    BadRequestLine,
    /// The status is not a 3-digit number.
    BadStatus,
    /// A number (bytes, duration) does not parse.
    BadNumber,
    /// The line ends before a field the format has.
    MissingField,
    /// A literal of the format (a quote, a bracket) is not where it should be.
    LayoutMismatch,
    /// Not a JSON object (`envoy-json`).
    NotJson,
    /// A JSON string the parser needs holds escapes (`\"`, `\u00e9`).
    JsonEscape,
    /// The line is not valid UTF-8.
    NotUtf8,
    /// The line is longer than [`MAX_LINE`](super::MAX_LINE).
    LineTooLong,
}

impl Reject {
    /// A short description, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Reject::BadTime => "bad time",
            Reject::BadRequestLine => "bad request line",
            Reject::BadStatus => "bad status",
            Reject::BadNumber => "bad number",
            Reject::MissingField => "missing field",
            Reject::LayoutMismatch => "does not match the format",
            Reject::NotJson => "not a JSON object",
            Reject::JsonEscape => "escaped JSON string",
            Reject::NotUtf8 => "not UTF-8",
            Reject::LineTooLong => "line too long",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Line numbers kept per reason.
pub const KEEP_LINES: usize = 5;

/// Rejected lines of one input (or one chunk of it) per reason: how many,
/// and the first [`KEEP_LINES`] line numbers (1-based).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectCounts {
    by_reason: BTreeMap<Reject, (u64, Vec<u64>)>,
}

impl RejectCounts {
    /// Count one rejected line.
    pub fn add(&mut self, reason: Reject, line: u64) {
        let (n, lines) = self.by_reason.entry(reason).or_default();
        *n += 1;
        if lines.len() < KEEP_LINES {
            lines.push(line);
        }
    }

    /// Add `other`'s counts, its line numbers shifted by `line_offset` (a
    /// chunk's counts use chunk-relative numbers: pass the lines before it).
    /// Merge chunks in file order so the first line numbers stay the first.
    pub fn merge(&mut self, other: &RejectCounts, line_offset: u64) {
        for (reason, (n, lines)) in &other.by_reason {
            let (total, kept) = self.by_reason.entry(*reason).or_default();
            *total += n;
            for line in lines {
                if kept.len() < KEEP_LINES {
                    kept.push(line + line_offset);
                }
            }
        }
    }

    /// Rejected lines in all.
    pub fn total(&self) -> u64 {
        self.by_reason.values().map(|(n, _)| n).sum()
    }

    /// Whether nothing was rejected.
    pub fn is_empty(&self) -> bool {
        self.by_reason.is_empty()
    }

    /// Per reason (in a fixed order): the count and the first line numbers.
    pub fn iter(&self) -> impl Iterator<Item = (Reject, u64, &[u64])> {
        self.by_reason.iter().map(|(r, (n, lines))| (*r, *n, lines.as_slice()))
    }
}

/// `bad time: 3 (lines 4, 9, 12); not UTF-8: 1 (line 7)`; never the lines' content.
impl fmt::Display for RejectCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, (reason, n, lines)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let numbers: Vec<String> = lines.iter().map(u64::to_string).collect();
            let noun = if lines.len() == 1 { "line" } else { "lines" };
            let more = if n > lines.len() as u64 { ", ..." } else { "" };
            write!(f, "{reason}: {n} ({noun} {}{more})", numbers.join(", "))?;
        }
        Ok(())
    }
}
