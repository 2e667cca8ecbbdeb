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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::detect::{identifying_tokens, Detectors, Hit};
use super::known::KnownValues;
use super::rows::{Row, Rows};
use super::rules::{PseudoKind, Rules, Transform, Unlisted};
use super::transform::fingerprint;
use super::{discover, table_rules, DumpFile, Error};

/// Findings kept per table, column and check (all are counted).
const KEEP_PER_KIND: usize = 50;
/// Values shorter than this are not looked for: they match by chance.
const MIN_LEAK_CHARS: usize = 4;

#[derive(Debug, Clone)]
pub struct Options {
    pub original: PathBuf,
    pub scrubbed: PathBuf,
    /// The scrub's reject files (default `<original>.rejects`).
    pub rejects: Option<PathBuf>,
}

/// What a check found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    pub const ALL: [Check; 6] = [
        Check::Leak,
        Check::Pii,
        Check::RowCount,
        Check::ForeignKey,
        Check::Unique,
        Check::Shape,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::Leak => "leak",
            Check::Pii => "pii",
            Check::RowCount => "row_count",
            Check::ForeignKey => "foreign_key",
            Check::Unique => "unique",
            Check::Shape => "shape",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: Check,
    /// Warnings are reported but do not fail the gate.
    pub warning: bool,
    pub table: String,
    pub column: Option<String>,
    /// Line in the scrubbed file.
    pub line: Option<u64>,
    /// Line of the same row in the original file.
    pub original_line: Option<u64>,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct TableSummary {
    pub table: String,
    pub original_file: String,
    pub scrubbed_file: Option<String>,
    /// Well-formed rows of the original, with those the scrub rejected.
    pub original_rows: u64,
    pub rejected_by_scrub: u64,
    pub malformed_original: u64,
    pub scrubbed_rows: u64,
    /// Detector hits in the scrubbed output that the rules expect (a masked
    /// phone), per column.
    pub expected_hits: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub tables: Vec<TableSummary>,
    pub findings: Vec<Finding>,
    /// Findings per (check, warning), including those not kept.
    pub counts: HashMap<(Check, bool), u64>,
    kept: HashMap<(Check, String, Option<String>), usize>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.counts.iter().any(|((_, warning), n)| !warning && *n > 0)
    }

    fn add(&mut self, f: Finding) {
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
    pub findings_kept_per_column_and_check: usize,
    pub passed: bool,
    pub tables: Vec<TableEntry<'a>>,
    pub version: u32,
}

#[derive(Debug, serde::Serialize)]
pub struct CheckCounts {
    pub failures: u64,
    pub warnings: u64,
}

#[derive(Debug, serde::Serialize)]
pub struct FindingEntry<'a> {
    pub check: &'static str,
    pub column: Option<&'a str>,
    pub line: Option<u64>,
    pub message: &'a str,
    pub original_line: Option<u64>,
    /// `failure` or `warning`.
    pub severity: &'static str,
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

#[derive(Debug, serde::Serialize)]
pub struct TableEntry<'a> {
    pub expected_detector_hits: u64,
    pub malformed_original: u64,
    pub original_file: &'a str,
    pub original_rows: u64,
    pub rejected_by_scrub: u64,
    pub scrubbed_file: Option<&'a str>,
    pub scrubbed_rows: u64,
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

/// What verify expects of a column.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    /// The rules say `keep`: not scanned, but searched for others' values.
    Keep,
    /// Not in the rules, kept (`unlisted_columns: keep`): scanned.
    UnlistedKeep,
    Dropped,
    Scrubbed(Transform),
}

struct Table {
    /// The rules' name for the table (`users` for `public.users.csv`).
    name: String,
    file: DumpFile,
    scrubbed: Option<DumpFile>,
    roles: HashMap<String, Role>,
    rejected_lines: HashSet<u64>,
}

/// Compare `opts.original` with `opts.scrubbed` under `rules`.
pub fn verify(rules: &Rules, opts: &Options) -> Result<Report, Error> {
    let (originals, _) = discover(&opts.original)?;
    let (scrubbed, _) = discover(&opts.scrubbed)?;
    let rejects_dir = opts.rejects.clone().unwrap_or_else(|| {
        let mut s = opts.original.components().collect::<PathBuf>().into_os_string();
        s.push(".rejects");
        PathBuf::from(s)
    });
    let detectors = Detectors::new();
    let mut report = Report::default();

    let mut tables = Vec::new();
    for f in originals {
        let rules_table = table_rules(rules, &f.table);
        if rules_table.is_none() && rules.unlisted == Unlisted::Drop {
            continue;
        }
        let mut roles = HashMap::new();
        if let Some(t) = rules_table {
            for (c, r) in &t.columns {
                let role = match &r.transform {
                    Transform::Keep => Role::Keep,
                    Transform::Drop => Role::Dropped,
                    other => Role::Scrubbed(other.clone()),
                };
                roles.insert(c.clone(), role);
            }
        }
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

    // Pass 1: identifying values of the originals, and the keys that
    // `same_as` columns join to, on both sides.
    let mut known = KnownValues::new(&rules.key);
    let mut kept: HashSet<u64> = HashSet::new();
    let mut parents: HashMap<String, (HashSet<u64>, HashSet<u64>)> = HashMap::new();
    let mut children: Vec<(String, String, String)> = Vec::new(); // (table, column, parent domain)
    for t in &tables {
        for (c, role) in &t.roles {
            if let Role::Scrubbed(Transform::Pseudonymize { domain, .. }) = role {
                if *domain != format!("{}.{c}", t.name) {
                    children.push((t.name.clone(), c.clone(), domain.clone()));
                    parents.entry(domain.clone()).or_default();
                }
            }
        }
    }
    for t in &tables {
        let mut rows = Rows::open(&t.file.path, t.file.format)?;
        while let Some(row) = rows.next_row(&t.file.path)? {
            if t.rejected_lines.contains(&row.line) {
                continue;
            }
            for (i, cell) in row.cells.iter().enumerate() {
                let (Some(v), Some(name)) = (cell, rows.columns.get(i)) else {
                    continue;
                };
                if let Some(p) = parents.get_mut(&format!("{}.{name}", t.name)) {
                    p.0.insert(fingerprint(v));
                }
                let column = format!("{}.{name}", t.name);
                match t.roles.get(name) {
                    Some(Role::Keep) | Some(Role::UnlistedKeep) | None => {
                        kept.insert(fingerprint(v.trim()));
                    }
                    Some(Role::Scrubbed(Transform::Redact(_))) => {
                        let c = known.column(&column);
                        identifying_tokens(v, |s, e| {
                            known.add(c, &v[s..e]);
                        });
                    }
                    // Dates and amounts are not identifiers (the scrub does not look for them
                    // either), and integer pseudonyms map numbers onto numbers by design.
                    Some(Role::Scrubbed(
                        Transform::ShiftDate { .. }
                        | Transform::Noise { .. }
                        | Transform::Pseudonymize {
                            kind: PseudoKind::Integer,
                            ..
                        },
                    )) => {}
                    Some(Role::Dropped) | Some(Role::Scrubbed(_)) => {
                        let c = known.column(&column);
                        known.add(c, v);
                    }
                }
            }
        }
    }
    for t in &tables {
        let Some(s) = &t.scrubbed else { continue };
        let wanted: Vec<String> = parents
            .keys()
            .filter_map(|d| d.strip_prefix(&format!("{}.", t.name)).map(str::to_string))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let mut rows = Rows::open(&s.path, s.format)?;
        while let Some(row) = rows.next_row(&s.path)? {
            for (i, cell) in row.cells.iter().enumerate() {
                let (Some(v), Some(name)) = (cell, rows.columns.get(i)) else {
                    continue;
                };
                if wanted.contains(name) {
                    if let Some(p) = parents.get_mut(&format!("{}.{name}", t.name)) {
                        p.1.insert(fingerprint(v));
                    }
                }
            }
        }
    }

    // Pass 2: each table, original and scrubbed rows side by side.
    let redacted: HashSet<String> = tables
        .iter()
        .flat_map(|t| {
            t.roles
                .iter()
                .filter(|(_, r)| matches!(r, Role::Scrubbed(Transform::Redact(_))))
                .map(|(c, _)| format!("{}.{c}", t.name))
        })
        .collect();
    let originals = Originals {
        known: &known,
        kept: &kept,
        redacted: &redacted,
    };
    for t in &tables {
        compare(t, &originals, &parents, &children, &detectors, &mut report)?;
    }
    Ok(report)
}

fn read_rejected_lines(path: &Path) -> Result<HashSet<u64>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(Error::io(path)(e)),
    };
    let mut lines = HashSet::new();
    for (n, l) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l)
            .map_err(|e| Error::Input(format!("{}:{}: not a reject record: {e}", path.display(), n + 1)))?;
        if let Some(line) = v.get("line").and_then(serde_json::Value::as_u64) {
            lines.insert(line);
        }
    }
    Ok(lines)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether an email is at a domain reserved for examples (RFC 2606/6761).
fn reserved_email(s: &str) -> bool {
    let domain = s.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
    ["example.com", "example.net", "example.org"].contains(&domain.as_str())
        || [
            ".example",
            ".test",
            ".invalid",
            ".localhost",
            ".example.com",
            ".example.net",
            ".example.org",
        ]
        .iter()
        .any(|sfx| domain.ends_with(sfx))
}

/// Whether `needle` occurs in `hay` (ASCII case-insensitively) as a whole
/// token: not glued to letters or digits on either side, so that `0423`
/// is not found in `104235`.
fn contains_token(hay: &str, needle: &str) -> bool {
    if needle.len() > hay.len() {
        return false;
    }
    let h = hay.to_ascii_lowercase();
    let n = needle.to_ascii_lowercase();
    h.match_indices(&n).any(|(at, _)| {
        let before = h[..at].chars().next_back();
        let after = h[at + n.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// What pass 1 learnt of the originals: the values and free-text tokens that must not be in
/// the output (see [`crate::scrub::known`]), and the kept values that may.
struct Originals<'a> {
    known: &'a KnownValues,
    /// Fingerprints of the values of `keep` columns: a value the rules keep in one place may
    /// be anywhere.
    kept: &'a HashSet<u64>,
    /// The redacted columns, `table.column`.
    redacted: &'a HashSet<String>,
}

fn compare(
    t: &Table,
    originals: &Originals,
    parents: &HashMap<String, (HashSet<u64>, HashSet<u64>)>,
    children: &[(String, String, String)],
    detectors: &Detectors,
    report: &mut Report,
) -> Result<(), Error> {
    let table = t.name.clone();
    let mut summary = TableSummary {
        table: table.clone(),
        original_file: t.file.path.display().to_string(),
        scrubbed_file: t.scrubbed.as_ref().map(|s| s.path.display().to_string()),
        ..Default::default()
    };
    let mut orig = Rows::open(&t.file.path, t.file.format)?;
    let Some(s) = &t.scrubbed else {
        while orig.next_row(&t.file.path)?.is_some() {
            summary.original_rows += 1;
        }
        summary.malformed_original = orig.malformed;
        report.tables.push(summary);
        return Ok(());
    };
    let mut scrub = Rows::open(&s.path, s.format)?;
    let finding = |check, warning, column: Option<&str>, line, original_line, message: String| Finding {
        check,
        warning,
        table: table.clone(),
        column: column.map(str::to_string),
        line,
        original_line,
        message,
    };
    let role_of = |name: &str| -> Role { t.roles.get(name).cloned().unwrap_or(Role::UnlistedKeep) };
    // Columns present where they should not be, or missing.
    if s.format != super::format::Format::Jsonl {
        for c in &scrub.columns {
            if role_of(c) == Role::Dropped {
                report.add(finding(
                    Check::Shape,
                    false,
                    Some(c),
                    None,
                    None,
                    "a dropped column is in the output".into(),
                ));
            }
        }
        for c in &orig.columns {
            if role_of(c) != Role::Dropped && !scrub.columns.contains(c) {
                report.add(finding(
                    Check::Shape,
                    false,
                    Some(c),
                    None,
                    None,
                    "missing from the output".into(),
                ));
            }
        }
    }
    let my_children: Vec<(&str, &str)> = children
        .iter()
        .filter(|(tb, _, _)| *tb == table)
        .map(|(_, c, d)| (c.as_str(), d.as_str()))
        .collect();
    // Per column: values seen in the original and the output, while the
    // original column is still unique.
    let mut unique: HashMap<String, Option<Unique>> = HashMap::new();
    let mut hits: Vec<Hit> = Vec::new();
    let mut orig_hits: Vec<Hit> = Vec::new();
    loop {
        let o = loop {
            match orig.next_row(&t.file.path)? {
                Some(r) if t.rejected_lines.contains(&r.line) => {
                    summary.rejected_by_scrub += 1;
                    summary.original_rows += 1;
                }
                other => break other,
            }
        };
        let sc = scrub.next_row(&s.path)?;
        let (o, sc) = match (o, sc) {
            (None, None) => break,
            (Some(o), Some(sc)) => (o, sc),
            (Some(o), None) => {
                summary.original_rows += 1;
                let mut extra = 1;
                while let Some(r) = orig.next_row(&t.file.path)? {
                    summary.original_rows += 1;
                    if t.rejected_lines.contains(&r.line) {
                        summary.rejected_by_scrub += 1;
                    } else {
                        extra += 1;
                    }
                }
                report.add(finding(
                    Check::RowCount,
                    false,
                    None,
                    None,
                    Some(o.line),
                    format!(
                        "the output ends {extra} row{} early (from this original row on)",
                        plural(extra)
                    ),
                ));
                break;
            }
            (None, Some(sc)) => {
                summary.scrubbed_rows += 1;
                let mut extra = 1;
                while scrub.next_row(&s.path)?.is_some() {
                    summary.scrubbed_rows += 1;
                    extra += 1;
                }
                report.add(finding(
                    Check::RowCount,
                    false,
                    None,
                    Some(sc.line),
                    None,
                    format!(
                        "the output has {extra} row{} more than the original (from this line on)",
                        plural(extra)
                    ),
                ));
                break;
            }
        };
        summary.original_rows += 1;
        summary.scrubbed_rows += 1;
        row_checks(
            &o,
            &orig.columns,
            &sc,
            &scrub.columns,
            &role_of,
            originals,
            detectors,
            &mut hits,
            &mut orig_hits,
            &mut summary,
            &mut |check, warning, column, message| {
                report.add(finding(check, warning, column, Some(sc.line), Some(o.line), message))
            },
        );
        // Joins: a child that joined in the original joins in the output.
        for (c, domain) in &my_children {
            let (Some(oi), Some(si)) = (
                orig.columns.iter().position(|x| x == c),
                scrub.columns.iter().position(|x| x == c),
            ) else {
                continue;
            };
            let (Some(ov), Some(sv)) = (&o.cells[oi], sc.cells.get(si).cloned().flatten()) else {
                continue;
            };
            if let Some((op, sp)) = parents.get(*domain) {
                if op.contains(&fingerprint(ov)) && !sp.contains(&fingerprint(&sv)) {
                    report.add(finding(
                        Check::ForeignKey,
                        false,
                        Some(c),
                        Some(sc.line),
                        Some(o.line),
                        format!("joined `{domain}` in the original, joins nothing in the output"),
                    ));
                }
            }
        }
        // Uniqueness: values on both sides while the original column has
        // no duplicate; judged once the whole column is read.
        for (oi, name) in orig.columns.iter().enumerate() {
            let role = role_of(name);
            if matches!(role, Role::Scrubbed(Transform::Redact(_) | Transform::Null)) {
                continue; // free text and NULLs are not keys
            }
            let Some(si) = scrub.columns.iter().position(|x| x == name) else {
                continue;
            };
            let (Some(ov), Some(sv)) = (o.cells.get(oi).cloned().flatten(), sc.cells.get(si).cloned().flatten()) else {
                continue;
            };
            let entry = unique.entry(name.clone()).or_insert_with(|| Some(Unique::default()));
            let Some(u) = entry else { continue };
            if !u.original.insert(fingerprint(&ov)) {
                *entry = None; // not unique in the original
                continue;
            }
            if !u.scrubbed.insert(fingerprint(&sv)) && u.first_repeat.is_none() {
                u.first_repeat = Some((sc.line, o.line));
            }
        }
    }
    for (name, u) in unique {
        let Some(Unique {
            first_repeat: Some((line, original_line)),
            original,
            scrubbed,
        }) = u
        else {
            continue;
        };
        let role = role_of(&name);
        let promised = matches!(
            role,
            Role::Keep | Role::UnlistedKeep | Role::Scrubbed(Transform::Pseudonymize { .. })
        );
        let lost = original.len() - scrubbed.len();
        report.add(finding(
            Check::Unique,
            !promised,
            Some(&name),
            Some(line),
            Some(original_line),
            if promised {
                format!("unique in the original ({} values), {lost} duplicates in the output; the first is here", original.len())
            } else {
                format!(
                    "unique in the original ({} values), {lost} duplicates in the output: `{}` is not one-to-one (pseudonymize keeps unique columns unique)",
                    original.len(),
                    match role {
                        Role::Scrubbed(tr) => tr.name(),
                        _ => "keep",
                    }
                )
            },
        ));
    }
    summary.malformed_original = orig.malformed;
    report.tables.push(summary);
    Ok(())
}

/// Records a finding of the current row: check, warning, column, message.
type RowFindings<'a> = dyn FnMut(Check, bool, Option<&str>, String) + 'a;

/// A column's values while it is unique in the original.
#[derive(Default)]
struct Unique {
    original: HashSet<u64>,
    scrubbed: HashSet<u64>,
    /// (line, original line) of the first repeated output value.
    first_repeat: Option<(u64, u64)>,
}

#[allow(clippy::too_many_arguments)]
fn row_checks(
    o: &Row,
    ocols: &[String],
    sc: &Row,
    scols: &[String],
    role_of: &dyn Fn(&str) -> Role,
    originals: &Originals,
    detectors: &Detectors,
    hits: &mut Vec<Hit>,
    orig_hits: &mut Vec<Hit>,
    summary: &mut TableSummary,
    report: &mut RowFindings,
) {
    // Same row: each scrubbed column's original value must be gone from
    // every cell of the output row.
    for (oi, name) in ocols.iter().enumerate() {
        let Some(v) = o.cells.get(oi).and_then(|c| c.as_deref()) else {
            continue;
        };
        let role = role_of(name);
        let targets: Vec<&str> = match &role {
            Role::Keep | Role::UnlistedKeep => continue,
            // Permutations and noise may map a value to itself by design;
            // their protection is the key.
            Role::Scrubbed(Transform::Pseudonymize {
                kind: PseudoKind::Integer,
                ..
            })
            | Role::Scrubbed(Transform::Noise { .. })
            | Role::Scrubbed(Transform::Null) => continue,
            Role::Scrubbed(Transform::Redact(_)) => {
                let mut tokens = Vec::new();
                identifying_tokens(v, |s, e| tokens.push(&v[s..e]));
                tokens
            }
            _ => vec![v],
        };
        for target in targets {
            if target.chars().count() < MIN_LEAK_CHARS {
                continue;
            }
            // A short number (the last four digits of a card) turns up in
            // other numbers and addresses by chance: only its own column
            // is checked for it.
            let short_number = target.len() < 7 && target.bytes().all(|b| b.is_ascii_digit());
            for (si, sname) in scols.iter().enumerate() {
                if short_number && sname != name {
                    continue;
                }
                let Some(out) = sc.cells.get(si).and_then(|c| c.as_deref()) else {
                    continue;
                };
                if contains_token(out, target) {
                    report(
                        Check::Leak,
                        false,
                        Some(sname),
                        format!("holds this row's original `{name}` value"),
                    );
                }
            }
        }
    }
    // Anywhere: values of transformed columns and tokens of redacted text, of any row, found
    // by direct comparison (no detector is involved). Cells that a keyed generator wrote
    // whole (fakes, masks, integer pseudonyms, shifted dates, noise) can equal another row's
    // original by chance; their own row is checked above.
    let mut atoms = Vec::new();
    for (si, sname) in scols.iter().enumerate() {
        let Some(out) = sc.cells.get(si).and_then(|c| c.as_deref()) else {
            continue;
        };
        let generated = matches!(
            role_of(sname),
            Role::Scrubbed(
                Transform::Fake { .. }
                    | Transform::Mask(_)
                    | Transform::ShiftDate { .. }
                    | Transform::Noise { .. }
                    | Transform::Pseudonymize {
                        kind: PseudoKind::Integer,
                        ..
                    }
            )
        );
        if generated {
            continue;
        }
        let mut sources = Vec::new();
        originals.known.find(out, &mut atoms, |s, e, c| {
            if !originals.kept.contains(&fingerprint(out[s..e].trim())) && !sources.contains(&c) {
                sources.push(c);
            }
        });
        for c in sources {
            let source = originals.known.column_name(c);
            let what = if originals.redacted.contains(source) {
                format!("a number or address from the original free text of `{source}`")
            } else {
                format!("an original value of `{source}`")
            };
            report(Check::Leak, false, Some(sname), format!("holds {what}"));
        }
    }
    // Detectors: personal data the rules did not expect.
    for (si, sname) in scols.iter().enumerate() {
        let Some(out) = sc.cells.get(si).and_then(|c| c.as_deref()) else {
            continue;
        };
        let role = role_of(sname);
        if role == Role::Keep {
            continue;
        }
        hits.clear();
        detectors.find(out, hits);
        if hits.is_empty() {
            continue;
        }
        let keeps_format = matches!(&role, Role::Scrubbed(tr) if tr.keeps_format());
        orig_hits.clear();
        if keeps_format {
            if let Some(v) = ocols
                .iter()
                .position(|c| c == sname)
                .and_then(|oi| o.cells.get(oi))
                .and_then(|c| c.as_deref())
            {
                detectors.find(v, orig_hits);
            }
        }
        for h in hits.iter() {
            let text = &out[h.start..h.end];
            if h.kind == super::detect::Kind::Email && reserved_email(text) {
                continue;
            }
            let inherent = match &role {
                Role::Scrubbed(Transform::Fake { kind, .. }) => super::transform::fake_kinds(*kind),
                _ => &[],
            };
            if keeps_format && (orig_hits.iter().any(|x| x.kind == h.kind) || inherent.contains(&h.kind)) {
                summary.expected_hits += 1;
                continue;
            }
            report(
                Check::Pii,
                false,
                Some(sname),
                format!(
                    "looks like {} ({}) at bytes {}–{}{}",
                    h.kind,
                    h.rule,
                    h.start,
                    h.end,
                    if role == Role::UnlistedKeep {
                        " in a column the rules do not list"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests;
