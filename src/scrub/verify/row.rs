//! The checks of one original row and the output row it became: its own values gone from
//! every cell of the output row, no known value of any row in a cell that was not written
//! whole by a keyed generator, and no detector hit the rules did not expect.

use super::learn::Learnt;
use super::report::TableSummary;
use super::{Check, Role, Table};
use crate::scrub::detect::{identifying_tokens, Detectors, Hit, Kind};
use crate::scrub::rows::Row;
use crate::scrub::rules::{PseudoKind, Transform};
use crate::scrub::transform::{fake_kinds, fingerprint};

/// Values shorter than this are not looked for: they match by chance.
const MIN_LEAK_CHARS: usize = 4;

/// Records a finding of the current row: check, warning, column, message.
pub(super) type RowFindings<'a> = dyn FnMut(Check, bool, Option<&str>, String) + 'a;

/// An original row and its output row, with their files' columns.
pub(super) struct RowPair<'a> {
    pub original: &'a Row,
    pub original_columns: &'a [String],
    pub scrubbed: &'a Row,
    pub scrubbed_columns: &'a [String],
}

impl<'a> RowPair<'a> {
    /// The output row's non-null cells with their column names.
    fn output_cells(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.scrubbed_columns.iter().enumerate().filter_map(|(si, sname)| {
            let out = self.scrubbed.cells.get(si).and_then(|c| c.as_deref())?;
            Some((sname.as_str(), out))
        })
    }
}

/// The row checks of one table, with the buffers they reuse from row to row.
pub(super) struct RowChecker<'a> {
    table: &'a Table,
    learnt: &'a Learnt,
    detectors: &'a Detectors,
    hits: Vec<Hit>,
    orig_hits: Vec<Hit>,
}

impl<'a> RowChecker<'a> {
    pub fn new(table: &'a Table, learnt: &'a Learnt, detectors: &'a Detectors) -> Self {
        RowChecker {
            table,
            learnt,
            detectors,
            hits: Vec::new(),
            orig_hits: Vec::new(),
        }
    }

    /// All checks of one row pair.
    pub fn check(&mut self, pair: &RowPair, summary: &mut TableSummary, report: &mut RowFindings) {
        self.own_values(pair, report);
        self.known_values(pair, report);
        self.detector_hits(pair, summary, report);
    }

    /// Same row: each scrubbed column's original value must be gone from every cell of the
    /// output row.
    fn own_values(&self, pair: &RowPair, report: &mut RowFindings) {
        for (oi, name) in pair.original_columns.iter().enumerate() {
            let Some(v) = pair.original.cells.get(oi).and_then(|c| c.as_deref()) else {
                continue;
            };
            let targets: Vec<&str> = match &self.table.role(name) {
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
                if target.chars().count() >= MIN_LEAK_CHARS {
                    leaks_of(name, target, pair, report);
                }
            }
        }
    }

    /// Anywhere: values of transformed columns and tokens of redacted text, of any row, found
    /// by direct comparison (no detector is involved). Cells that a keyed generator wrote
    /// whole (fakes, masks, integer pseudonyms, shifted dates, noise) can equal another row's
    /// original by chance; their own row is checked by [`Self::own_values`].
    fn known_values(&self, pair: &RowPair, report: &mut RowFindings) {
        let (known, kept) = (&self.learnt.known, &self.learnt.kept);
        let mut atoms = Vec::new();
        for (sname, out) in pair.output_cells() {
            let generated = matches!(
                self.table.role(sname),
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
            known.find(out, &mut atoms, |s, e, c| {
                if !kept.contains(&fingerprint(out[s..e].trim())) && !sources.contains(&c) {
                    sources.push(c);
                }
            });
            for c in sources {
                let source = known.column_name(c);
                let what = if self.learnt.redacted.contains(source) {
                    format!("a number or address from the original free text of `{source}`")
                } else {
                    format!("an original value of `{source}`")
                };
                report(Check::Leak, false, Some(sname), format!("holds {what}"));
            }
        }
    }

    /// Detectors: personal data the rules did not expect. A format-keeping transform may
    /// output the kind of data its input was (a masked phone is still a phone), and a fake
    /// outputs the kinds it fakes; emails at reserved domains are never personal data.
    fn detector_hits(&mut self, pair: &RowPair, summary: &mut TableSummary, report: &mut RowFindings) {
        for (sname, out) in pair.output_cells() {
            let role = self.table.role(sname);
            if role == Role::Keep {
                continue;
            }
            self.hits.clear();
            self.detectors.find(out, &mut self.hits);
            if self.hits.is_empty() {
                continue;
            }
            let keeps_format = matches!(&role, Role::Scrubbed(tr) if tr.keeps_format());
            self.orig_hits.clear();
            if keeps_format {
                if let Some(v) = pair
                    .original_columns
                    .iter()
                    .position(|c| c == sname)
                    .and_then(|oi| pair.original.cells.get(oi))
                    .and_then(|c| c.as_deref())
                {
                    self.detectors.find(v, &mut self.orig_hits);
                }
            }
            let inherent = match &role {
                Role::Scrubbed(Transform::Fake { kind, .. }) => fake_kinds(*kind),
                _ => &[],
            };
            for h in &self.hits {
                let text = &out[h.start..h.end];
                if h.kind == Kind::Email && reserved_email(text) {
                    continue;
                }
                if keeps_format && (self.orig_hits.iter().any(|x| x.kind == h.kind) || inherent.contains(&h.kind)) {
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
}

/// A `leak` finding for each output cell of `pair` that holds `target`, an original value of
/// column `name`.
fn leaks_of(name: &str, target: &str, pair: &RowPair, report: &mut RowFindings) {
    // A short number (the last four digits of a card) turns up in other numbers and
    // addresses by chance: only its own column is checked for it.
    let short_number = target.len() < 7 && target.bytes().all(|b| b.is_ascii_digit());
    for (sname, out) in pair.output_cells() {
        if short_number && sname != name {
            continue;
        }
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
