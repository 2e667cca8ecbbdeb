//! `scrub verify`: the gate scrubbed data must pass before it goes to
//! staging. It reads the original and the scrubbed dump side by side and
//! fails when
//!
//! - `leak`, by direct comparison of original and output, with no
//!   detector involved: an original value of a scrubbed column is still in
//!   the row it came from (in any column, also inside free text); or a value
//!   of a column the rules transform or drop, or an identifying token of a
//!   redacted cell (a run of 7 or more digits, an address), appears in any
//!   output cell of any table (matched as [`super::known`] describes), unless
//!   it is also a value of a `keep` column;
//! - a cell still looks like personal data where the rules did not say
//!   `keep` (a format-keeping transformer may output what its input was:
//!   a masked phone is still a phone; emails at reserved domains are never
//!   personal data);
//! - row counts differ (rows the scrubber rejected are left out, from its
//!   reject files), a `same_as` join breaks, or a unique column gains
//!   duplicates.
//!
//! Findings name the table, column and line, never the value: the report
//! is meant for CI logs.
//!
//! The work is in three steps, one file each: [`learn`] reads the originals once for the
//! values that must not survive and the keys that joins point at; [`compare`] walks each
//! original file beside its scrubbed twin, row by row; [`row`] holds the checks of one row
//! pair. [`report`] holds what they found.

mod compare;
mod learn;
mod report;
mod row;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::rows::Rows;
use super::rules::{Rules, TableRules, Transform, Unlisted};
use super::{discover, table_rules, DumpFile, Error};

pub use report::{CheckCounts, Finding, FindingEntry, Report, ReportFile, TableEntry, TableSummary};

/// What to verify.
#[derive(Debug, Clone)]
pub struct Options {
    /// The original dump (a folder, or one file).
    pub original: PathBuf,
    /// The scrubbed dump, as `scrub` wrote it.
    pub scrubbed: PathBuf,
    /// The scrub's reject files (default `<original>.rejects`).
    pub rejects: Option<PathBuf>,
}

/// What a check found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Check {
    /// An original value survived.
    Leak,
    /// A cell still looks like personal data.
    Pii,
    /// Rows are missing or extra.
    RowCount,
    /// A `same_as` column no longer joins.
    ForeignKey,
    /// A column unique in the original has duplicates.
    Unique,
    /// A file or column is missing, or a dropped column is present.
    Shape,
}

impl Check {
    /// Every check, in the order the summary lists them.
    pub const ALL: [Check; 6] = [
        Check::Leak,
        Check::Pii,
        Check::RowCount,
        Check::ForeignKey,
        Check::Unique,
        Check::Shape,
    ];

    /// The check's name in the summary and the report file (`row_count`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// What verify expects of a column.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Role {
    /// The rules say `keep`: not scanned, but searched for others' values.
    Keep,
    /// Not in the rules, kept (`unlisted_columns: keep`): scanned.
    UnlistedKeep,
    Dropped,
    Scrubbed(Transform),
}

/// One original file the rules keep, its scrubbed twin and what the rules do to its columns.
struct Table {
    /// The rules' name for the table (`users` for `public.users.csv`).
    name: String,
    file: DumpFile,
    scrubbed: Option<DumpFile>,
    /// What the rules do to each column they list, in their order, then the unlisted
    /// columns that `unlisted_columns: drop` leaves out, in the file's order.
    roles: IndexMap<String, Role>,
    rejected_lines: HashSet<u64>,
}

impl Table {
    /// What the rules do to column `name` (columns they do not list are kept).
    fn role(&self, name: &str) -> Role {
        self.roles.get(name).cloned().unwrap_or(Role::UnlistedKeep)
    }

    /// A finding in this table.
    fn finding(
        &self,
        check: Check,
        warning: bool,
        column: Option<&str>,
        line: Option<u64>,
        original_line: Option<u64>,
        message: String,
    ) -> Finding {
        Finding {
            check,
            warning,
            table: self.name.clone(),
            column: column.map(str::to_string),
            line,
            original_line,
            message,
        }
    }
}

/// Compare `opts.original` with `opts.scrubbed` under `rules`.
pub fn verify(rules: &Rules, opts: &Options) -> Result<Report, Error> {
    let detectors = super::detect::Detectors::new();
    let mut report = Report::default();
    let tables = tables(rules, opts, &mut report)?;
    // Pass 1: identifying values of the originals, and the keys that `same_as` columns join
    // to, on both sides.
    let learnt = learn::learn(rules, &tables)?;
    // Pass 2: each table, original and scrubbed rows side by side.
    for t in &tables {
        compare::compare(t, &learnt, &detectors, &mut report)?;
    }
    Ok(report)
}

/// The original files verify looks at (those the rules do not drop), each paired with its
/// scrubbed twin; a missing twin is a `shape` finding.
fn tables(rules: &Rules, opts: &Options, report: &mut Report) -> Result<Vec<Table>, Error> {
    let (originals, _) = discover(&opts.original)?;
    let (scrubbed, _) = discover(&opts.scrubbed)?;
    let rejects_dir = opts.rejects.clone().unwrap_or_else(|| {
        let mut s = opts.original.components().collect::<PathBuf>().into_os_string();
        s.push(".rejects");
        PathBuf::from(s)
    });
    let mut tables = Vec::new();
    for f in originals {
        let rules_table = table_rules(rules, &f.table);
        if rules_table.is_none() && rules.unlisted == Unlisted::Drop {
            continue;
        }
        let mut roles = listed_roles(rules_table);
        let unlisted = rules_table.map_or(rules.unlisted, |t| t.unlisted);
        let rejected_lines = read_rejected_lines(&rejects_dir.join(format!("{}.rejects.jsonl", f.name)))?;
        let twin = scrubbed.iter().find(|s| s.name == f.name).cloned();
        if twin.is_none() {
            report.add(Finding {
                check: Check::Shape,
                warning: false,
                table: f.table.clone(),
                column: None,
                line: None,
                original_line: None,
                message: format!("{} has no scrubbed counterpart in {}", f.name, opts.scrubbed.display()),
            });
        }
        if unlisted == Unlisted::Drop {
            // Unlisted columns are absent from the output, like dropped ones.
            let mut probe = Rows::open(&f.path, f.format)?;
            let _ = probe.next_row(&f.path)?;
            for c in &probe.columns {
                roles.entry(c.clone()).or_insert(Role::Dropped);
            }
        }
        tables.push(Table {
            name: rules_table.map_or_else(|| f.table.clone(), |r| r.name.clone()),
            file: f,
            scrubbed: twin,
            roles,
            rejected_lines,
        });
    }
    Ok(tables)
}

/// The roles of the columns a table's rules list.
fn listed_roles(rules_table: Option<&TableRules>) -> IndexMap<String, Role> {
    let Some(t) = rules_table else {
        return IndexMap::new();
    };
    t.columns
        .iter()
        .map(|(c, r)| {
            let role = match &r.transform {
                Transform::Keep => Role::Keep,
                Transform::Drop => Role::Dropped,
                other => Role::Scrubbed(other.clone()),
            };
            (c.clone(), role)
        })
        .collect()
}

fn read_rejected_lines(path: &Path) -> Result<HashSet<u64>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(Error::io(path)(e)),
    };
    let mut lines = HashSet::new();
    for (n, l) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l).map_err(|source| Error::NotARejectRecord {
            path: path.to_path_buf(),
            line: n + 1,
            source,
        })?;
        if let Some(line) = v.get("line").and_then(serde_json::Value::as_u64) {
            lines.insert(line);
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests;
