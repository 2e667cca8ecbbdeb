//! The scrub rules format: the key, what to do with columns the rules do
//! not list, and one transformer per column. A leaf module: parsing and
//! validation only; [`crate::scrub::transform`] applies the rules.
//!
//! ```yaml
//! key: ${env:LOADLINE_SCRUB_KEY}
//! unlisted_columns: fail
//! tables:
//!   users:
//!     columns:
//!       id: {pseudonymize: {as: integer}}
//!       email: {pseudonymize: {as: email}}
//!       notes: redact
//!       ssn: drop
//! ```

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::detect::Kind;
use super::keyed::Secret;
use crate::values::fake::{FakeKind, Locale};

pub(crate) mod raw;
mod validate;

/// Why rules could not be used; every variant names the file, and the
/// line and key where there is one. None of them ever holds the key.
pub type Error = crate::yaml::FileError;

/// What happens to a column the rules do not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlisted {
    /// Refuse to run (the default: a new column must be looked at).
    Fail,
    /// Copy it unchanged (verify still scans it for PII).
    Keep,
    /// Leave it out of the output.
    Drop,
}

/// Validated rules.
#[derive(Debug)]
pub struct Rules {
    pub path: PathBuf,
    pub key: Secret,
    pub unlisted: Unlisted,
    pub tables: IndexMap<String, TableRules>,
}

#[derive(Debug, Clone)]
pub struct TableRules {
    pub name: String,
    /// Line of the table's key in the rules file.
    pub line: usize,
    pub unlisted: Unlisted,
    /// Columns that identify a row; `None`: `id` if the data has it, else
    /// the whole row.
    pub identity: Option<Vec<String>>,
    pub columns: IndexMap<String, ColumnRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRule {
    pub line: usize,
    pub transform: Transform,
}

/// One column's transformer.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// Copied unchanged: the rules say it holds no personal data.
    Keep,
    /// Left out of the output.
    Drop,
    /// Every value becomes NULL (the column stays).
    Null,
    /// Free text: detected PII (and the row's own scrubbed values) replaced.
    Redact(Redact),
    /// Keyed, deterministic, one-to-one.
    Pseudonymize { kind: PseudoKind, domain: String },
    /// A keyed fake value: the same input always gives the same fake.
    Fake { kind: FakeKind, locale: Locale },
    /// Digits and letters replaced (keyed), punctuation and length kept.
    Mask(Mask),
    /// Dates moved by a keyed number of days per row, never zero.
    ShiftDate { max_days: u32 },
    /// Numbers multiplied by a keyed factor in [1 - r, 1 + r].
    Noise { relative: f64 },
}

impl Transform {
    /// The transformer's name as written in rules.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Keep => "keep",
            Transform::Drop => "drop",
            Transform::Null => "null",
            Transform::Redact(_) => "redact",
            Transform::Pseudonymize { .. } => "pseudonymize",
            Transform::Fake { .. } => "fake",
            Transform::Mask(_) => "mask",
            Transform::ShiftDate { .. } => "shift_date",
            Transform::Noise { .. } => "noise",
        }
    }

    /// Whether the output has the same shape as the input (an email stays
    /// an email, a phone a phone): what verify expects from a column.
    pub fn keeps_format(&self) -> bool {
        matches!(
            self,
            Transform::Pseudonymize { .. }
                | Transform::Fake { .. }
                | Transform::Mask(_)
                | Transform::ShiftDate { .. }
                | Transform::Noise { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redact {
    /// Detectors to apply (all by default).
    pub kinds: Vec<Kind>,
    /// Also replace the row's original values of its other scrubbed columns.
    pub row_values: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PseudoKind {
    /// Digits permuted within their count (a keyed format-preserving
    /// permutation): 6-digit ids stay 6-digit ids.
    Integer,
    /// `first.tag@example.com`: valid, at a reserved domain.
    Email,
    /// A UUID encrypted as 128 bits: still UUID-shaped (32 hex digits in
    /// the 8-4-4-4-12 form), though its version bits are not kept.
    Uuid,
    /// A keyed 16-character token.
    Text,
}

impl PseudoKind {
    pub const ALL: [(&'static str, PseudoKind); 4] = [
        ("integer", PseudoKind::Integer),
        ("email", PseudoKind::Email),
        ("uuid", PseudoKind::Uuid),
        ("text", PseudoKind::Text),
    ];
    pub fn name(self) -> &'static str {
        match self {
            PseudoKind::Integer => "integer",
            PseudoKind::Email => "email",
            PseudoKind::Uuid => "uuid",
            PseudoKind::Text => "text",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask {
    pub keep_first: u32,
    pub keep_last: u32,
    /// A fixed replacement character; `None`: keyed random digits/letters.
    pub with: Option<char>,
}

/// Read and validate rules; the key is resolved from the environment (or a
/// file) now, so a missing key stops the run before any output exists.
pub fn load(path: &Path) -> Result<Rules, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: "rules",
        path: path.to_path_buf(),
        source,
    })?;
    from_str(&text, path)
}

/// Parse and validate rules text; `path` is used in messages.
pub fn from_str(text: &str, path: &Path) -> Result<Rules, Error> {
    let raw = serde_saphyr::from_str::<raw::RawRules>(text).map_err(|e| Error::syntax(&e, text, path))?;
    validate::validate(raw, path)
}
