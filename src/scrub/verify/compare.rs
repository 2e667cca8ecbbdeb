//! Pass 2 of `scrub verify`: one original file beside its scrubbed twin. The files'
//! columns are compared once ([`shape`]), then the rows in pairs: the original's rows
//! that the scrub rejected are skipped, a file that ends early is a `row_count` finding,
//! and each pair goes through the row checks ([`super::row`]), the join check and the
//! uniqueness bookkeeping, which is judged once the whole column is read.

use std::collections::{HashMap, HashSet};

use super::learn::Learnt;
use super::report::{plural, Report, TableSummary};
use super::row::{RowChecker, RowPair};
use super::{Check, Role, Table};
use crate::scrub::detect::Detectors;
use crate::scrub::format::Format;
use crate::scrub::rows::{Row, Rows};
use crate::scrub::rules::Transform;
use crate::scrub::transform::fingerprint;
use crate::scrub::{DumpFile, Error};

/// Compare table `t`'s original with its output and add what is wrong to `report`.
pub(super) fn compare(t: &Table, learnt: &Learnt, detectors: &Detectors, report: &mut Report) -> Result<(), Error> {
    let mut summary = TableSummary {
        table: t.name.clone(),
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
    let scrub = Rows::open(&s.path, s.format)?;
    if s.format != Format::Jsonl {
        shape(t, &orig.columns, &scrub.columns, report);
    }
    let children: Vec<(&str, &str)> = learnt
        .children
        .iter()
        .filter(|(tb, _, _)| *tb == t.name)
        .map(|(_, c, d)| (c.as_str(), d.as_str()))
        .collect();
    let mut pairs = Pairs {
        t,
        scrubbed: s,
        orig,
        scrub,
        summary,
    };
    let mut unique = Uniques::default();
    let mut checker = RowChecker::new(t, learnt, detectors);
    while let Some((o, sc)) = pairs.next(report)? {
        let pair = RowPair {
            original: &o,
            original_columns: &pairs.orig.columns,
            scrubbed: &sc,
            scrubbed_columns: &pairs.scrub.columns,
        };
        checker.check(&pair, &mut pairs.summary, &mut |check, warning, column, message| {
            report.add(t.finding(check, warning, column, Some(sc.line), Some(o.line), message))
        });
        joins(t, &pair, &children, &learnt.parents, report);
        unique.observe(t, &pair);
    }
    unique.report(t, &pairs.orig.columns, report);
    let Pairs { orig, mut summary, .. } = pairs;
    summary.malformed_original = orig.malformed;
    report.tables.push(summary);
    Ok(())
}

/// Columns present where they should not be, or missing.
fn shape(t: &Table, original: &[String], scrubbed: &[String], report: &mut Report) {
    let mut finding = |c: &str, message: &str| {
        report.add(t.finding(Check::Shape, false, Some(c), None, None, message.into()));
    };
    for c in scrubbed.iter().filter(|c| t.role(c) == Role::Dropped) {
        finding(c, "a dropped column is in the output");
    }
    for c in original {
        if t.role(c) != Role::Dropped && !scrubbed.contains(c) {
            finding(c, "missing from the output");
        }
    }
}

/// An original file and its output read side by side.
struct Pairs<'a> {
    t: &'a Table,
    scrubbed: &'a DumpFile,
    orig: Rows,
    scrub: Rows,
    summary: TableSummary,
}

impl Pairs<'_> {
    /// The next original row the scrub kept and the output row it became; `None` at the end
    /// of either file, after a `row_count` finding if the other one goes on.
    fn next(&mut self, report: &mut Report) -> Result<Option<(Row, Row)>, Error> {
        let o = self.next_kept_original()?;
        let sc = self.scrub.next_row(&self.scrubbed.path)?;
        match (o, sc) {
            (None, None) => Ok(None),
            (Some(o), Some(sc)) => {
                self.summary.original_rows += 1;
                self.summary.scrubbed_rows += 1;
                Ok(Some((o, sc)))
            }
            (Some(o), None) => {
                self.output_ends_early(&o, report)?;
                Ok(None)
            }
            (None, Some(sc)) => {
                self.output_goes_on(&sc, report)?;
                Ok(None)
            }
        }
    }

    /// The next original row, counting those the scrub rejected on the way.
    fn next_kept_original(&mut self) -> Result<Option<Row>, Error> {
        loop {
            match self.orig.next_row(&self.t.file.path)? {
                Some(r) if self.t.rejected_lines.contains(&r.line) => {
                    self.summary.rejected_by_scrub += 1;
                    self.summary.original_rows += 1;
                }
                other => return Ok(other),
            }
        }
    }

    /// The output ended at original row `o`: count the original's remaining rows.
    fn output_ends_early(&mut self, o: &Row, report: &mut Report) -> Result<(), Error> {
        self.summary.original_rows += 1;
        let mut extra = 1;
        while let Some(r) = self.orig.next_row(&self.t.file.path)? {
            self.summary.original_rows += 1;
            if self.t.rejected_lines.contains(&r.line) {
                self.summary.rejected_by_scrub += 1;
            } else {
                extra += 1;
            }
        }
        report.add(self.t.finding(
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
        Ok(())
    }

    /// The original ended before output row `sc`: count the output's remaining rows.
    fn output_goes_on(&mut self, sc: &Row, report: &mut Report) -> Result<(), Error> {
        self.summary.scrubbed_rows += 1;
        let mut extra = 1;
        while self.scrub.next_row(&self.scrubbed.path)?.is_some() {
            self.summary.scrubbed_rows += 1;
            extra += 1;
        }
        report.add(self.t.finding(
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
        Ok(())
    }
}

/// Joins: a child that joined in the original joins in the output.
fn joins(
    t: &Table,
    pair: &RowPair,
    children: &[(&str, &str)],
    parents: &HashMap<String, (HashSet<u64>, HashSet<u64>)>,
    report: &mut Report,
) {
    for (c, domain) in children {
        let (Some(oi), Some(si)) = (
            pair.original_columns.iter().position(|x| x == c),
            pair.scrubbed_columns.iter().position(|x| x == c),
        ) else {
            continue;
        };
        let (Some(ov), Some(sv)) = (&pair.original.cells[oi], pair.scrubbed.cells.get(si).cloned().flatten()) else {
            continue;
        };
        if let Some((op, sp)) = parents.get(*domain) {
            if op.contains(&fingerprint(ov)) && !sp.contains(&fingerprint(&sv)) {
                report.add(t.finding(
                    Check::ForeignKey,
                    false,
                    Some(c),
                    Some(pair.scrubbed.line),
                    Some(pair.original.line),
                    format!("joined `{domain}` in the original, joins nothing in the output"),
                ));
            }
        }
    }
}

/// A column's values while it is unique in the original.
#[derive(Default)]
struct Unique {
    original: HashSet<u64>,
    scrubbed: HashSet<u64>,
    /// (line, original line) of the first repeated output value.
    first_repeat: Option<(u64, u64)>,
}

/// Per column: values seen in the original and the output, while the original column is
/// still unique (`None` once it is not).
#[derive(Default)]
struct Uniques(HashMap<String, Option<Unique>>);

impl Uniques {
    /// Record one row pair's key values.
    fn observe(&mut self, t: &Table, pair: &RowPair) {
        for (oi, name) in pair.original_columns.iter().enumerate() {
            let role = t.role(name);
            if matches!(role, Role::Scrubbed(Transform::Redact(_) | Transform::Null)) {
                continue; // free text and NULLs are not keys
            }
            let Some(si) = pair.scrubbed_columns.iter().position(|x| x == name) else {
                continue;
            };
            let (Some(ov), Some(sv)) = (
                pair.original.cells.get(oi).cloned().flatten(),
                pair.scrubbed.cells.get(si).cloned().flatten(),
            ) else {
                continue;
            };
            let entry = self.0.entry(name.clone()).or_insert_with(|| Some(Unique::default()));
            let Some(u) = entry else { continue };
            if !u.original.insert(fingerprint(&ov)) {
                *entry = None; // not unique in the original
                continue;
            }
            if !u.scrubbed.insert(fingerprint(&sv)) && u.first_repeat.is_none() {
                u.first_repeat = Some((pair.scrubbed.line, pair.original.line));
            }
        }
    }

    /// A finding per column unique in the original and not in the output: a failure where
    /// the transform promises uniqueness, else a warning. The findings come in the order of
    /// the original's `columns` (for JSON lines, the order keys first appear), like the rest
    /// of the report, never in the map's.
    fn report(mut self, t: &Table, columns: &[String], report: &mut Report) {
        for name in columns {
            let Some(Some(Unique {
                first_repeat: Some((line, original_line)),
                original,
                scrubbed,
            })) = self.0.remove(name)
            else {
                continue;
            };
            let role = t.role(name);
            let promised = matches!(
                role,
                Role::Keep | Role::UnlistedKeep | Role::Scrubbed(Transform::Pseudonymize { .. })
            );
            let lost = original.len() - scrubbed.len();
            report.add(t.finding(
                Check::Unique,
                !promised,
                Some(name),
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
    }
}
