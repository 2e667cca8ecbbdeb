//! `scrub scan`: the detectors run over a raw file, column by column, with
//! a suggested rule for each column and the reason for it, so that a new
//! table's rules start from evidence rather than from a guess. Column
//! names count as evidence too (`ssn`, `birth_date`), since personal data
//! such as names has no pattern a detector can check.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::detect::{Detectors, Kind};
use super::rows::Rows;
use super::transform::fingerprint;
use super::{discover, Error};

/// One column's evidence and suggestion.
#[derive(Debug, Clone)]
pub struct ColumnScan {
    /// The column's name in the header (or the JSON key).
    pub name: String,
    /// Cells that are not NULL.
    pub non_null: u64,
    /// Distinct values among the first rows (up to a cap).
    pub distinct: u64,
    /// Cells with at least one hit, per kind.
    pub hits: BTreeMap<Kind, u64>,
    /// Cells that are entirely one detected value, per kind.
    pub whole: BTreeMap<Kind, u64>,
    /// Whether every non-null value is a whole number.
    pub all_integers: bool,
    /// Whether every non-null value is an ISO date (`YYYY-MM-DD…`).
    pub all_dates: bool,
    /// Whether every non-null value is a UUID.
    pub all_uuids: bool,
    /// Average length of the non-null values, in characters.
    pub avg_len: f64,
    /// The suggested rule, as YAML (`{pseudonymize: {as: email}}`).
    pub rule: String,
    /// Why that rule, in words, from the evidence above (never a value).
    pub why: String,
}

/// One scanned file.
#[derive(Debug, Clone)]
pub struct FileScan {
    /// The file, as given or found in the folder.
    pub file: String,
    /// Its table (the file name without extension).
    pub table: String,
    /// Well-formed rows read (up to the row limit).
    pub rows: u64,
    /// Rows that do not parse (the scrubber would reject them).
    pub malformed: u64,
    /// Each column, in the file's order.
    pub columns: Vec<ColumnScan>,
}

/// What `scrub scan` found: per file and column, the evidence and a suggested rule.
#[derive(Debug, Clone)]
pub struct Report {
    /// Each scanned file, in name order.
    pub files: Vec<FileScan>,
}

/// Distinct values are counted up to this many per column.
const DISTINCT_CAP: usize = 200_000;

/// Scan a file (or every dump file in a folder), reading up to `max_rows`
/// rows of each (0: all).
pub fn scan(path: &Path, max_rows: u64) -> Result<Report, Error> {
    let (files, _) = discover(path)?;
    let detectors = Detectors::new();
    let mut out = Vec::new();
    for f in files {
        let mut rows = Rows::open(&f.path, f.format)?;
        let mut cols: Vec<Acc> = Vec::new();
        let mut n = 0u64;
        let mut hits = Vec::new();
        while let Some(row) = rows.next_row(&f.path)? {
            n += 1;
            while cols.len() < rows.columns.len() {
                cols.push(Acc::default());
            }
            for (i, cell) in row.cells.iter().enumerate() {
                let Some(v) = cell else { continue };
                let a = &mut cols[i];
                a.non_null += 1;
                a.len_sum += v.chars().count() as u64;
                if a.distinct.len() < DISTINCT_CAP {
                    a.distinct.insert(fingerprint(v));
                }
                let t = v.trim();
                a.not_int |= t.is_empty() || !t.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
                a.not_date |= t.get(..10).is_none_or(|d| d.parse::<jiff::civil::Date>().is_err());
                a.not_uuid |= !is_uuid(t);
                hits.clear();
                detectors.find(v, &mut hits);
                let mut kinds = HashSet::new();
                for h in &hits {
                    kinds.insert(h.kind);
                    if h.start == 0 && h.end == v.len() {
                        *a.whole.entry(h.kind).or_default() += 1;
                    }
                }
                a.any += u64::from(!kinds.is_empty());
                for k in kinds {
                    *a.hits.entry(k).or_default() += 1;
                }
            }
            if max_rows > 0 && n >= max_rows {
                break;
            }
        }
        let table = f.table.clone();
        let columns = rows
            .columns
            .iter()
            .zip(cols)
            .map(|(name, a)| a.finish(name, &table))
            .collect();
        out.push(FileScan {
            file: f.path.display().to_string(),
            table,
            rows: n,
            malformed: rows.malformed,
            columns,
        });
    }
    Ok(Report { files: out })
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[derive(Default)]
struct Acc {
    non_null: u64,
    len_sum: u64,
    distinct: HashSet<u64>,
    hits: BTreeMap<Kind, u64>,
    whole: BTreeMap<Kind, u64>,
    /// Cells with at least one hit of any kind.
    any: u64,
    not_int: bool,
    not_date: bool,
    not_uuid: bool,
}

impl Acc {
    /// The column's figures and the rule suggested for it.
    fn finish(self, name: &str, table: &str) -> ColumnScan {
        let n = self.non_null.max(1) as f64;
        let distinct = self.distinct.len() as u64;
        let facts = Facts {
            lname: name.to_ascii_lowercase(),
            unique: self.non_null > 0 && distinct == self.non_null.min(DISTINCT_CAP as u64),
            avg_len: self.len_sum as f64 / n,
            integers: self.non_null > 0 && !self.not_int,
            dates: self.non_null > 0 && !self.not_date,
            uuids: self.non_null > 0 && !self.not_uuid,
            any_hits: self.any,
            hits: &self.hits,
            main: self
                .whole
                .iter()
                .max_by_key(|(_, c)| **c)
                .map(|(k, c)| (*k, *c as f64 / n)),
        };
        let (rule, why) = if self.non_null == 0 {
            ("keep".into(), "no values".into())
        } else {
            facts
                .key_rule(table)
                .or_else(|| facts.detected_rule())
                .or_else(|| facts.named_rule())
                .unwrap_or_else(|| facts.text_rule())
        };
        let (integers, dates, uuids, avg_len) = (facts.integers, facts.dates, facts.uuids, facts.avg_len);
        ColumnScan {
            name: name.to_string(),
            non_null: self.non_null,
            distinct,
            hits: self.hits,
            whole: self.whole,
            all_integers: integers,
            all_dates: dates,
            all_uuids: uuids,
            avg_len,
            rule,
            why,
        }
    }
}

/// A suggested rule and why.
type Suggestion = (String, String);

/// What a column's values and name say, for suggesting its rule. The suggestions are tried
/// in order: keys, then what most whole values are, then the column's name, then free text.
struct Facts<'a> {
    lname: String,
    /// Every value distinct (as far as the distinct set counts).
    unique: bool,
    avg_len: f64,
    integers: bool,
    dates: bool,
    uuids: bool,
    /// Cells with a detector hit of any kind.
    any_hits: u64,
    hits: &'a BTreeMap<Kind, u64>,
    /// The kind most whole values are, and their share.
    main: Option<(Kind, f64)>,
}

impl Facts<'_> {
    /// Whether the column's name is or contains one of `words`.
    fn has(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.lname == *w || self.lname.contains(w))
    }

    /// `id` and `*_id` columns of integers or UUIDs: keyed pseudonyms that keep joins.
    fn key_rule(&self, table: &str) -> Option<Suggestion> {
        let lname = &self.lname;
        if !((lname == "id" || lname.ends_with("_id")) && (self.integers || self.uuids)) {
            return None;
        }
        let as_ = if self.uuids { "uuid" } else { "integer" };
        Some(if lname == "id" {
            (
                format!("{{pseudonymize: {{as: {as_}}}}}"),
                format!("the key of `{table}`; other tables point at it with same_as"),
            )
        } else {
            let parent = lname.trim_end_matches("_id");
            (
                format!("{{pseudonymize: {{same_as: {parent}s.id}}}}"),
                format!(
                    "looks like a key of another table (`{parent}s`?): share that table's id pseudonyms, or keep it if that id is kept"
                ),
            )
        })
    }

    /// Half or more of the values are wholly one kind of personal data.
    fn detected_rule(&self) -> Option<Suggestion> {
        let (kind, s) = self.main.filter(|(_, s)| *s >= 0.5)?;
        let pct = s * 100.0;
        Some(match kind {
            Kind::Email if self.unique => (
                "{pseudonymize: {as: email}}".into(),
                format!("{pct:.0}% of values are emails, all distinct"),
            ),
            Kind::Email => ("{fake: safe_email}".into(), format!("{pct:.0}% of values are emails")),
            Kind::Phone => (
                "{mask: {keep_last: 2}}".into(),
                format!("{pct:.0}% of values are phone numbers"),
            ),
            Kind::Card => (
                "{mask: {keep_last: 4}}".into(),
                format!("{pct:.0}% of values are card numbers (Luhn-valid)"),
            ),
            Kind::Ip => ("{fake: ipv4}".into(), format!("{pct:.0}% of values are IP addresses")),
            k @ (Kind::NationalId | Kind::Token | Kind::Iban) => (
                "drop".into(),
                format!("{pct:.0}% of values are {k}s; nothing downstream should need them"),
            ),
            _ => return None,
        })
    }

    /// The column's name says what it holds.
    fn named_rule(&self) -> Option<Suggestion> {
        let (rule, why) = if self.has(&["card", "iban", "account_number", "acct"]) {
            (
                "{mask: {all: true}}",
                "the name says a card or account number (or part of one)",
            )
        } else if self.has(&[
            "ssn",
            "social_security",
            "national_id",
            "passport",
            "tax_id",
            "password",
            "secret",
            "token",
        ]) {
            ("drop", "the name says it is an identifier or a secret")
        } else if self.dates && self.has(&["birth", "dob"]) {
            ("{shift_date: {max: 30d}}", "a date of birth")
        } else if self.has(&["first_name", "firstname", "given_name"]) {
            ("{fake: first_name}", "the name says first name")
        } else if self.has(&["last_name", "lastname", "surname", "family_name"]) {
            ("{fake: last_name}", "the name says last name")
        } else if self.lname == "name" || self.has(&["full_name", "fullname", "customer_name", "contact_name"]) {
            ("{fake: name}", "the name says a person's name")
        } else if self.has(&["address", "street"]) {
            ("{fake: street_address}", "the name says an address")
        } else {
            return None;
        };
        Some((rule.into(), why.into()))
    }

    /// Free text gets `redact`; a column with no personal data found is kept.
    fn text_rule(&self) -> Suggestion {
        let kinds = || {
            self.hits
                .iter()
                .map(|(k, c)| format!("{k}: {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.avg_len >= 20.0 && self.any_hits > 0 {
            (
                "redact".into(),
                format!("free text with personal data in {} cells ({})", self.any_hits, kinds()),
            )
        } else if self.avg_len >= 20.0 || self.has(&["note", "comment", "description", "message", "remark"]) {
            (
                "redact".into(),
                "free text: no personal data found in this sample, but people type it there".into(),
            )
        } else if self.any_hits > 0 {
            (
                "redact".into(),
                format!("personal data in {} cells ({})", self.any_hits, kinds()),
            )
        } else {
            ("keep".into(), "no personal data found".into())
        }
    }
}

impl Report {
    /// A table per file, then the suggested rules as YAML to paste.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.files {
            out.push(format!(
                "{} ({} rows read{})",
                f.file,
                f.rows,
                if f.malformed > 0 {
                    format!(", {} malformed", f.malformed)
                } else {
                    String::new()
                }
            ));
            out.push(format!(
                "  {:<18} {:>8} {:>8}  {:<28} {:<32} why",
                "column", "values", "distinct", "found", "suggested rule"
            ));
            for c in &f.columns {
                let found = if c.hits.is_empty() {
                    "-".to_string()
                } else {
                    c.hits
                        .iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                out.push(format!(
                    "  {:<18} {:>8} {:>8}  {:<28} {:<32} {}",
                    c.name, c.non_null, c.distinct, found, c.rule, c.why
                ));
            }
            out.push(String::new());
        }
        out.push("# suggested rules (review before use)".into());
        out.push("key: ${env:LOADLINE_SCRUB_KEY}".into());
        out.push("unlisted_columns: fail".into());
        out.push("tables:".into());
        for f in &self.files {
            out.push(format!("  {}:", f.table));
            out.push("    columns:".into());
            for c in &f.columns {
                out.push(format!("      {}: {}", c.name, c.rule));
            }
        }
        out
    }

    /// The report file (`scrub scan --json FILE`): per column, counts and a
    /// suggested rule, never a value.
    pub fn document(&self) -> ScanFile<'_> {
        ScanFile {
            files: self.files.iter().map(ScanFileEntry::of).collect(),
            version: 1,
        }
    }
}

// The report file's structs list their fields in alphabetical order: that is the order the
// file has always had (it was built as a JSON map, which sorts its keys).

/// The scan report file.
#[derive(Debug, serde::Serialize)]
pub struct ScanFile<'a> {
    /// Each scanned file.
    pub files: Vec<ScanFileEntry<'a>>,
    /// The report format's version (1).
    pub version: u32,
}

/// One file of the scan report file ([`FileScan`]).
#[derive(Debug, serde::Serialize)]
pub struct ScanFileEntry<'a> {
    /// Each column, in the file's order.
    pub columns: Vec<ScanColumnEntry<'a>>,
    /// The file.
    pub file: &'a str,
    /// Rows that do not parse.
    pub malformed: u64,
    /// Well-formed rows read.
    pub rows: u64,
    /// Its table.
    pub table: &'a str,
}

/// One column of the scan report file ([`ColumnScan`]).
#[derive(Debug, serde::Serialize)]
pub struct ScanColumnEntry<'a> {
    /// Whether every non-null value is an ISO date.
    pub all_dates: bool,
    /// Whether every non-null value is a whole number.
    pub all_integers: bool,
    /// Whether every non-null value is a UUID.
    pub all_uuids: bool,
    /// Average length of the non-null values, in characters.
    pub average_length: f64,
    /// Cells with at least one hit, per kind name.
    pub cells_with_hits: BTreeMap<&'static str, u64>,
    /// Distinct values among the first rows (up to a cap).
    pub distinct: u64,
    /// The column's name.
    pub name: &'a str,
    /// The suggested rule, as YAML.
    pub suggested_rule: &'a str,
    /// Non-null values.
    pub values: u64,
    /// Cells that are entirely one detected value, per kind name.
    pub whole_value_hits: BTreeMap<&'static str, u64>,
    /// Why that rule, in words.
    pub why: &'a str,
}

impl<'a> ScanFileEntry<'a> {
    fn of(f: &'a FileScan) -> Self {
        let by_name = |m: &BTreeMap<Kind, u64>| m.iter().map(|(k, n)| (k.name(), *n)).collect();
        ScanFileEntry {
            columns: f
                .columns
                .iter()
                .map(|c| ScanColumnEntry {
                    all_dates: c.all_dates,
                    all_integers: c.all_integers,
                    all_uuids: c.all_uuids,
                    average_length: c.avg_len,
                    cells_with_hits: by_name(&c.hits),
                    distinct: c.distinct,
                    name: &c.name,
                    suggested_rule: &c.rule,
                    values: c.non_null,
                    whole_value_hits: by_name(&c.whole),
                    why: &c.why,
                })
                .collect(),
            file: &f.file,
            malformed: f.malformed,
            rows: f.rows,
            table: &f.table,
        }
    }
}
