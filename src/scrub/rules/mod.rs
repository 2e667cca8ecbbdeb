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

/// What happens to a column the rules do not list (`unlisted_columns:`; the names are
/// the words the rules use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
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
    /// The rules file, for messages.
    pub path: PathBuf,
    /// The pseudonymization key, resolved from `${env:…}` or `${file:…}` (never printed).
    pub key: Secret,
    /// `unlisted_columns:` at the top: for tables the rules do not list.
    pub unlisted: Unlisted,
    /// Each table's rules, in the file's order, by table name.
    pub tables: IndexMap<String, TableRules>,
}

/// One table's rules: what happens to each column.
#[derive(Debug, Clone)]
pub struct TableRules {
    /// The table's name as the rules write it (`users` also matches `public.users.csv`).
    pub name: String,
    /// Line of the table's key in the rules file.
    pub line: usize,
    /// What happens to the table's columns the rules do not list (the table's own
    /// `unlisted_columns:`, else the top one).
    pub unlisted: Unlisted,
    /// Columns that identify a row; `None`: `id` if the data has it, else
    /// the whole row.
    pub identity: Option<Vec<String>>,
    /// Each listed column's rule, in the file's order, by column name.
    pub columns: IndexMap<String, ColumnRule>,
}

/// One column's rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRule {
    /// Line of the column's key in the rules file.
    pub line: usize,
    /// What happens to its values.
    pub transform: Transform,
}

/// One column's transformer. Its name ([`Transform::name`]) is the word the rules use.
#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
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
    Pseudonymize {
        /// What the column holds, so the pseudonym keeps its shape.
        kind: PseudoKind,
        /// Columns with the same domain (`users.id`; `same_as` shares one) get the same
        /// pseudonym for the same value, so joins survive.
        domain: String,
    },
    /// A keyed fake value: the same input always gives the same fake.
    Fake {
        /// What to fake (a name, a street address, …).
        kind: FakeKind,
        /// Whose names and formats.
        locale: Locale,
    },
    /// Digits and letters replaced (keyed), punctuation and length kept.
    Mask(Mask),
    /// Dates moved by a keyed number of days per row, never zero.
    ShiftDate {
        /// The largest move, in days, either way.
        max_days: u32,
    },
    /// Numbers multiplied by a keyed factor in [1 - r, 1 + r].
    Noise {
        /// `r`: the largest relative change (0.05 for ±5%).
        relative: f64,
    },
}

impl Transform {
    /// The transformer's name as written in rules.
    pub fn name(&self) -> &'static str {
        self.into()
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

/// What `redact` replaces in free text.
#[derive(Debug, Clone, PartialEq)]
pub struct Redact {
    /// Detectors to apply (all by default).
    pub kinds: Vec<Kind>,
    /// Also replace the row's original values of its other scrubbed columns.
    pub row_values: bool,
}

/// What a pseudonymized column holds (`as:` in the rules, which writes the names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
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
    /// The kind's name as written after `as:` in rules.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// How `mask` replaces a value's letters and digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask {
    /// Letters and digits left as they are at the start.
    pub keep_first: u32,
    /// Letters and digits left as they are at the end.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The error for one bad column rule, after the file and line.
    fn error(rule: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.txt"), "a rules test key, 32 bytes long!").unwrap();
        let text = format!("key: ${{file:key.txt}}\ntables:\n  t:\n    columns:\n      c: {rule}\n");
        let e = from_str(&text, &dir.path().join("r.yaml")).unwrap_err().to_string();
        e.split_once("key `")
            .map_or(e.clone(), |(_, rest)| format!("key `{rest}"))
    }

    /// The names in messages come from the enums' derives: the same words as before.
    #[test]
    fn messages_list_the_names_rules_use() {
        assert_eq!(
            error("redcat"),
            "key `c`: unknown transformer `redcat` (did you mean `redact`?) (known: keep, drop, null, redact, \
             pseudonymize, fake, mask, shift_date, noise)"
        );
        assert!(error("{pseudonymize: {as: intger}}")
            .ends_with("`intger` is not one of integer, email, uuid, text (did you mean `integer`?)"));
        assert!(error("{redact: {kinds: [emial]}}").ends_with(
            "unknown detector `emial` (did you mean `email`?) (known: email, phone, card, iban, ip, mac, \
             national_id, token)"
        ));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.txt"), "a rules test key, 32 bytes long!").unwrap();
        let text = "key: ${file:key.txt}\nunlisted_columns: fial\ntables: {}\n";
        let e = from_str(text, &dir.path().join("r.yaml")).unwrap_err().to_string();
        assert!(e.ends_with("`fial` is not one of fail, keep, drop"), "{e}");
        assert_eq!(PseudoKind::Uuid.name(), "uuid");
        assert_eq!(Transform::ShiftDate { max_days: 1 }.name(), "shift_date");
        assert_eq!(Kind::NationalId.to_string(), "national_id");
    }
}
