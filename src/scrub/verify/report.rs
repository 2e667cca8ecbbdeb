//! What `scrub verify` found: the findings (table, column, line, never a value), the
//! per-table row counts, the human summary and the report file
//! (`schemas/verify-report.schema.json`).

use std::collections::HashMap;

use super::Check;

/// Findings kept per table, column and check (all are counted).
const KEEP_PER_KIND: usize = 50;

/// One thing verify found wrong, where it is, and why (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which check found it.
    pub check: Check,
    /// Warnings are reported but do not fail the gate.
    pub warning: bool,
    /// The table (its name in the rules).
    pub table: String,
    /// The column; `None` for a finding about the whole file or row.
    pub column: Option<String>,
    /// Line in the scrubbed file.
    pub line: Option<u64>,
    /// Line of the same row in the original file.
    pub original_line: Option<u64>,
    /// What is wrong, in words.
    pub message: String,
}

/// One table's row counts.
#[derive(Debug, Clone, Default)]
pub struct TableSummary {
    /// The table (its name in the rules).
    pub table: String,
    /// The original file.
    pub original_file: String,
    /// Its scrubbed twin; `None` when it is missing (a `shape` finding).
    pub scrubbed_file: Option<String>,
    /// Well-formed rows of the original, with those the scrub rejected.
    pub original_rows: u64,
    /// Rows of the original the scrub set aside (from its reject file).
    pub rejected_by_scrub: u64,
    /// Rows of the original that do not parse (the scrub rejects them too).
    pub malformed_original: u64,
    /// Rows of the scrubbed file.
    pub scrubbed_rows: u64,
    /// Detector hits in the scrubbed output that the rules expect (a masked
    /// phone), per column.
    pub expected_hits: u64,
}

/// What `scrub verify` found: each table's counts and the findings.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Each table, in the originals' name order.
    pub tables: Vec<TableSummary>,
    /// The findings kept (the first 50 per table, column and check), in the order found.
    pub findings: Vec<Finding>,
    /// Findings per (check, warning), including those not kept.
    pub counts: HashMap<(Check, bool), u64>,
    kept: HashMap<(Check, String, Option<String>), usize>,
}

impl Report {
    /// Whether no check failed (warnings do not fail).
    pub fn passed(&self) -> bool {
        !self.counts.iter().any(|((_, warning), n)| !warning && *n > 0)
    }

    pub(super) fn add(&mut self, f: Finding) {
        *self.counts.entry((f.check, f.warning)).or_default() += 1;
        let k = self
            .kept
            .entry((f.check, f.table.clone(), f.column.clone()))
            .or_default();
        if *k < KEEP_PER_KIND {
            *k += 1;
            self.findings.push(f);
        }
    }

    fn count(&self, check: Check, warning: bool) -> u64 {
        self.counts.get(&(check, warning)).copied().unwrap_or(0)
    }

    /// The human summary: tables, then each check, then the first findings.
    pub fn summary(&self, show: usize) -> Vec<String> {
        let mut out = vec![format!(
            "{:<12} {:>10} {:>9} {:>10} {:>10}",
            "table", "original", "rejected", "expected", "scrubbed"
        )];
        for t in &self.tables {
            let rejected = t.rejected_by_scrub + t.malformed_original;
            let total = t.original_rows + t.malformed_original;
            out.push(format!(
                "{:<12} {:>10} {:>9} {:>10} {:>10}",
                t.table,
                total,
                rejected,
                total - rejected,
                t.scrubbed_rows
            ));
        }
        out.push(String::new());
        for check in Check::ALL {
            let fails = self.count(check, false);
            let warns = self.count(check, true);
            let verdict = match (fails, warns) {
                (0, 0) => "pass".to_string(),
                (0, w) => format!("pass ({w} warning{})", plural(w)),
                (f, _) => format!("FAIL ({f} finding{})", plural(f)),
            };
            out.push(format!("{:<12} {verdict}", check.name()));
        }
        let listed = self
            .findings
            .iter()
            .filter(|f| !f.warning)
            .chain(self.findings.iter().filter(|f| f.warning))
            .take(show);
        for (shown, f) in listed.enumerate() {
            if shown == 0 {
                out.push(String::new());
            }
            let at = match (f.line, f.original_line) {
                (Some(l), Some(o)) => format!(" line {l} (original line {o})"),
                (Some(l), None) => format!(" line {l}"),
                (None, Some(o)) => format!(" original line {o}"),
                (None, None) => String::new(),
            };
            let col = f.column.as_deref().map(|c| format!(".{c}")).unwrap_or_default();
            out.push(format!(
                "{} {}{col}{at}: {}",
                if f.warning { "warning" } else { f.check.name() },
                f.table,
                f.message
            ));
        }
        let total: u64 = self.counts.iter().filter(|((_, w), _)| !w).map(|(_, n)| n).sum();
        out.push(String::new());
        out.push(if self.passed() {
            "verify: PASS".to_string()
        } else {
            format!("verify: FAIL ({total} finding{})", plural(total))
        });
        out
    }

    /// The report file (`scrub verify --report FILE`): counts, tables and the kept findings,
    /// never a value. Schema: `schemas/verify-report.schema.json`.
    pub fn document(&self) -> ReportFile<'_> {
        let checks = Check::ALL
            .iter()
            .map(|&check| {
                let counts = CheckCounts {
                    failures: self.count(check, false),
                    warnings: self.count(check, true),
                };
                (check.name(), counts)
            })
            .collect();
        ReportFile {
            checks,
            findings: self.findings.iter().map(FindingEntry::of).collect(),
            findings_kept_per_column_and_check: KEEP_PER_KIND,
            passed: self.passed(),
            tables: self.tables.iter().map(TableEntry::of).collect(),
            version: 1,
        }
    }
}

// The report file's structs list their fields in alphabetical order: that is the order the
// file has always had (it was built as a JSON map, which sorts its keys), and a reader's
// diff of two reports stays clean.

/// The verify report file.
#[derive(Debug, serde::Serialize)]
pub struct ReportFile<'a> {
    /// Per check (`leak`, `pii`, ...), how many failures and warnings.
    pub checks: std::collections::BTreeMap<&'static str, CheckCounts>,
    /// The first [`KEEP_PER_KIND`] findings per column and check.
    pub findings: Vec<FindingEntry<'a>>,
    /// The cap on findings kept per table, column and check.
    pub findings_kept_per_column_and_check: usize,
    /// Whether no check failed.
    pub passed: bool,
    /// Each table's row counts.
    pub tables: Vec<TableEntry<'a>>,
    /// The report format's version (1).
    pub version: u32,
}

/// How often one check failed and warned.
#[derive(Debug, serde::Serialize)]
pub struct CheckCounts {
    /// Findings that fail the gate.
    pub failures: u64,
    /// Findings that do not.
    pub warnings: u64,
}

/// One finding of the report file ([`Finding`]).
#[derive(Debug, serde::Serialize)]
pub struct FindingEntry<'a> {
    /// The check's name (`leak`, `row_count`, ...).
    pub check: &'static str,
    /// The column, if the finding has one.
    pub column: Option<&'a str>,
    /// Line in the scrubbed file.
    pub line: Option<u64>,
    /// What is wrong, in words.
    pub message: &'a str,
    /// Line of the same row in the original file.
    pub original_line: Option<u64>,
    /// `failure` or `warning`.
    pub severity: &'static str,
    /// The table.
    pub table: &'a str,
}

impl<'a> FindingEntry<'a> {
    fn of(f: &'a Finding) -> Self {
        FindingEntry {
            check: f.check.name(),
            column: f.column.as_deref(),
            line: f.line,
            message: &f.message,
            original_line: f.original_line,
            severity: if f.warning { "warning" } else { "failure" },
            table: &f.table,
        }
    }
}

/// One table of the report file ([`TableSummary`]).
#[derive(Debug, serde::Serialize)]
pub struct TableEntry<'a> {
    /// Detector hits the rules expect (a masked phone is still a phone).
    pub expected_detector_hits: u64,
    /// Rows of the original that do not parse.
    pub malformed_original: u64,
    /// The original file.
    pub original_file: &'a str,
    /// Well-formed rows of the original, rejected ones included.
    pub original_rows: u64,
    /// Rows of the original the scrub set aside.
    pub rejected_by_scrub: u64,
    /// The scrubbed file, if there is one.
    pub scrubbed_file: Option<&'a str>,
    /// Rows of the scrubbed file.
    pub scrubbed_rows: u64,
    /// The table.
    pub table: &'a str,
}

impl<'a> TableEntry<'a> {
    fn of(t: &'a TableSummary) -> Self {
        TableEntry {
            expected_detector_hits: t.expected_hits,
            malformed_original: t.malformed_original,
            original_file: &t.original_file,
            original_rows: t.original_rows,
            rejected_by_scrub: t.rejected_by_scrub,
            scrubbed_file: t.scrubbed_file.as_deref(),
            scrubbed_rows: t.scrubbed_rows,
            table: &t.table,
        }
    }
}

pub(super) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
