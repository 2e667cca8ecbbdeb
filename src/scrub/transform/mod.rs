//! Rules applied to one table's rows: a [`TablePlan`] is built once from
//! the rules and the file's columns (every mismatch is an error before any
//! output exists), then turns each row's cells into scrubbed cells.
//!
//! Every output is a pure function of (key, rule, input value), or of the
//! row's identity for `shift_date` and `noise`, so the same dump scrubbed
//! twice, in any number of files or threads, gives the same bytes.
//!
//! This file holds the plan, its batching and the dispatch to the
//! transformers. Each transformer has its own file with its three steps:
//! compiling its rule to an op, the keyed work for a batch of rows, and
//! writing a value (with the value functions and their tests).

use std::collections::HashMap;

use super::detect::{Detectors, Hit, Kind};
use super::keyed::{Permutation, Prf, Secret, LANES};
use super::rules::{Mask, TableRules, Transform, Unlisted};
use crate::values::fake::{FakeKind, Locale};

mod fake;
mod mask;
mod noise;
mod pseudonymize;
mod redact;

pub use fake::kinds_of as fake_kinds;
mod shift_date;

/// Why a row cannot be scrubbed: it goes to the reject file. The message
/// never holds the value (it is printed); the reject file has the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The column whose value could not be scrubbed.
    pub column: String,
    /// Why, in words (never the value).
    pub message: String,
}

/// The table's columns do not fit its rules; nothing has been written.
/// `file` names the file as messages show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The header names `column` twice.
    #[error("{file}: column `{column}` appears twice in the header")]
    DuplicateColumn {
        /// The file, as messages show it.
        file: String,
        /// The repeated column.
        column: String,
    },

    /// The rules list columns (name, line in the rules file) that the file does not have;
    /// `columns` is the file's header.
    #[error(
        "{file}: the rules for table `{table}` list {} that the data does not have (its columns: {})",
        missing_list(.missing),
        .columns.join(", ")
    )]
    MissingColumns {
        /// The file, as messages show it.
        file: String,
        /// The table's name in the rules.
        table: String,
        /// Each missing column with the line of its rule.
        missing: Vec<(String, usize)>,
        /// The file's columns, in its order.
        columns: Vec<String>,
    },

    /// With `unlisted_columns: fail`, the file has `columns` that the rules do not list.
    #[error(
        "{file}: column{} {} of table `{table}` {} not in the rules and `unlisted_columns` is `fail`: \
         give each a rule (`loadline scrub scan {file}` suggests some) or set `unlisted_columns: keep|drop`",
        if .columns.len() == 1 { "" } else { "s" },
        .columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
        if .columns.len() == 1 { "is" } else { "are" },
    )]
    UnlistedColumns {
        /// The file, as messages show it.
        file: String,
        /// The table's name in the rules.
        table: String,
        /// The file's columns without a rule, in its order.
        columns: Vec<String>,
    },

    /// A column of the table's `identity:` is not in the file.
    #[error("{file}: identity column `{column}` of table `{table}` is not in the data")]
    MissingIdentity {
        /// The file, as messages show it.
        file: String,
        /// The table's name in the rules.
        table: String,
        /// The identity column the file lacks.
        column: String,
    },
}

/// `` `fax` (line 17), `fax2` (line 18) ``: columns with their lines in the rules file.
fn missing_list(missing: &[(String, usize)]) -> String {
    missing
        .iter()
        .map(|(c, line)| format!("`{c}` (line {line})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One column's compiled transformer.
#[derive(Debug)]
enum Op {
    Keep,
    Drop,
    Null,
    Redact { kinds: Vec<Kind>, row_values: bool },
    Integer(Permutation),
    Uuid(Permutation),
    Email(Prf),
    Text(Prf),
    Fake { prf: Prf, kind: FakeKind, locale: Locale },
    Mask { prf: Prf, mask: Mask },
    Shift { prf: Prf, max_days: u32 },
    Noise { prf: Prf, relative: f64 },
}

/// How often a mask or fake is drawn again when it looks like another kind of personal
/// data. A mask of 10 digits reads as a phone about 4 times in 10, so 32 draws leave a chance
/// of about 10⁻¹³ of keeping one.
const REDRAWS: u8 = 32;

/// What a one-to-one pseudonym produced, for the run's collision check:
/// the pseudonym's tag and keyed bits that tell the value behind it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minted {
    /// The column (index in the plan's columns) that made it.
    pub column: u32,
    /// The pseudonym's 64-bit tag: two values with one tag would share a pseudonym.
    pub tag: u64,
    /// Keyed bits of the value behind it: equal tags with different inputs are a collision.
    pub input: u64,
}

/// A table's rules compiled against its file's columns.
#[derive(Debug)]
pub struct TablePlan {
    /// The table's name in the rules.
    pub table: String,
    /// The file's columns, in its order (for JSON lines, the listed ones and those seen).
    pub columns: Vec<String>,
    /// Whether each input column is written (not dropped).
    pub written: Vec<bool>,
    ops: Vec<Op>,
    /// Transformer name per column, for reports.
    pub transforms: Vec<&'static str>,
    /// Columns whose original values identify the row; empty: the whole row.
    identity: Vec<usize>,
    needs_identity: bool,
    /// Columns whose row values `redact` also replaces, with placeholders.
    row_value_columns: Vec<(usize, String)>,
    /// Values of transformed columns anywhere in the dump, which `redact` also replaces.
    known: Option<std::sync::Arc<crate::scrub::known::KnownValues>>,
    /// The keyed hashing of atoms, the same as `known`'s.
    keyed: crate::scrub::known::Keyed,
    /// The placeholder of each known-value column, by its index in `known`.
    known_placeholders: Vec<String>,
    detectors: Detectors,
    /// Per column, what a fake's outputs are anyway ([`fake::kinds_of`]; empty for the rest).
    inherent: Vec<&'static [Kind]>,
    index: HashMap<String, usize>,
    /// The pseudonym domain of each pseudonymized column (`users.id`).
    domains: Vec<Option<String>>,
    /// What happens to keys of a JSON line that the plan has no column for.
    pub unlisted: Unlisted,
}

/// The header has no column twice, every column the rules list, and (with
/// `unlisted_columns: fail`) no column they do not.
fn check_header(rules: &TableRules, columns: &[String], file: &str) -> Result<(), PlanError> {
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(PlanError::DuplicateColumn {
                file: file.to_string(),
                column: c.clone(),
            });
        }
    }
    let missing: Vec<(String, usize)> = rules
        .columns
        .iter()
        .filter(|(c, _)| !columns.contains(c))
        .map(|(c, r)| (c.clone(), r.line))
        .collect();
    if !missing.is_empty() {
        return Err(PlanError::MissingColumns {
            file: file.to_string(),
            table: rules.name.clone(),
            missing,
            columns: columns.to_vec(),
        });
    }
    if rules.unlisted == Unlisted::Fail {
        let unlisted: Vec<String> = columns
            .iter()
            .filter(|c| !rules.columns.contains_key(*c))
            .cloned()
            .collect();
        if !unlisted.is_empty() {
            return Err(PlanError::UnlistedColumns {
                file: file.to_string(),
                table: rules.name.clone(),
                columns: unlisted,
            });
        }
    }
    Ok(())
}

/// Column `c` of table `table`'s transform, compiled with the run's secret.
fn compile(secret: &Secret, table: &str, c: &str, transform: Transform) -> Op {
    let domain = format!("{table}.{c}");
    match transform {
        Transform::Keep => Op::Keep,
        Transform::Drop => Op::Drop,
        Transform::Null => Op::Null,
        Transform::Redact(r) => redact::compile(r),
        Transform::Pseudonymize { kind, domain } => pseudonymize::compile(secret, kind, &domain),
        Transform::Fake { kind, locale } => fake::compile(secret, kind, locale),
        Transform::Mask(mask) => mask::compile(secret, &domain, mask),
        Transform::ShiftDate { max_days } => shift_date::compile(secret, table, max_days),
        Transform::Noise { relative } => noise::compile(secret, &domain, relative),
    }
}

/// The columns that identify a row (`identity:` in the rules, else `id` if there is one):
/// date shifts and noise are keyed by them.
fn identity_columns(rules: &TableRules, columns: &[String], file: &str) -> Result<Vec<usize>, PlanError> {
    let Some(ids) = &rules.identity else {
        return Ok(columns.iter().position(|c| c == "id").into_iter().collect());
    };
    let mut out = Vec::new();
    for id in ids {
        let i = columns
            .iter()
            .position(|c| c == id)
            .ok_or_else(|| PlanError::MissingIdentity {
                file: file.to_string(),
                table: rules.name.clone(),
                column: id.clone(),
            })?;
        out.push(i);
    }
    Ok(out)
}

impl TablePlan {
    /// Compile `rules` for a file whose header is `columns`. `file` names
    /// the file in messages.
    pub fn new(rules: &TableRules, secret: &Secret, columns: &[String], file: &str) -> Result<Self, PlanError> {
        check_header(rules, columns, file)?;
        let mut ops = Vec::with_capacity(columns.len());
        let mut domains = Vec::with_capacity(columns.len());
        let mut transforms = Vec::with_capacity(columns.len());
        for c in columns {
            let transform = match rules.columns.get(c) {
                Some(r) => r.transform.clone(),
                None => match rules.unlisted {
                    Unlisted::Drop => Transform::Drop,
                    _ => Transform::Keep,
                },
            };
            transforms.push(transform.name());
            domains.push(match &transform {
                Transform::Pseudonymize { domain, .. } => Some(domain.clone()),
                _ => None,
            });
            ops.push(compile(secret, &rules.name, c, transform));
        }
        let identity = identity_columns(rules, columns, file)?;
        let needs_identity = ops.iter().any(|o| matches!(o, Op::Shift { .. } | Op::Noise { .. }));
        let row_value_columns = redact::row_value_columns(&ops, columns);
        let inherent = ops
            .iter()
            .map(|o| match o {
                Op::Fake { kind, .. } => fake::kinds_of(*kind),
                _ => &[],
            })
            .collect();
        Ok(TablePlan {
            table: rules.name.clone(),
            columns: columns.to_vec(),
            written: ops.iter().map(|o| !matches!(o, Op::Drop)).collect(),
            ops,
            transforms,
            identity,
            needs_identity,
            row_value_columns,
            known: None,
            keyed: crate::scrub::known::Keyed::new(secret),
            known_placeholders: Vec::new(),
            detectors: Detectors::new(),
            inherent,
            domains,
            index: columns.iter().enumerate().map(|(i, c)| (c.clone(), i)).collect(),
            unlisted: rules.unlisted,
        })
    }

    /// Draws a format-keeping output (`draw(attempt, out)`) again, up to [`REDRAWS`] times,
    /// while it looks like personal data of a kind that neither the input nor the generator
    /// (`inherent`: a fake phone is a phone) explains: a masked phone that reads as a card
    /// number, a masked card that reads as a phone. `verify`'s `pii` check applies the same
    /// rule, so what this writes passes it.
    fn redraw(
        &self,
        value: &str,
        inherent: &[Kind],
        out: &mut String,
        hits: &mut Vec<Hit>,
        mut draw: impl FnMut(u8, &mut String),
    ) {
        // Sets of kinds as bits, so that the checks allocate nothing.
        let kinds = |hits: &[Hit]| hits.iter().fold(0u16, |m, h| m | 1 << h.kind as u8);
        let inherent = inherent.iter().fold(0u16, |m, &k| m | 1 << k as u8);
        let mut allowed: Option<u16> = None;
        for attempt in 0..=REDRAWS {
            draw(attempt, out);
            hits.clear();
            self.detectors.find(out, hits);
            let found = kinds(hits);
            // What the generator makes anyway needs no look at the input (a masked phone
            // that reads as a phone): most outputs stop here, with one scan instead of two.
            if found & !inherent == 0 {
                return;
            }
            // The input's hits go after the output's in the same buffer, and no further.
            let allowed = *allowed.get_or_insert_with(|| {
                let base = hits.len();
                self.detectors.find(value, hits);
                let input = kinds(&hits[base..]);
                hits.truncate(base);
                input | inherent
            });
            if found & !allowed == 0 {
                return;
            }
        }
    }

    /// Whether a column of this table is redacted free text.
    pub fn has_redact(&self) -> bool {
        self.ops.iter().any(|o| matches!(o, Op::Redact { .. }))
    }

    /// The columns whose values are known values for `redact` (see [`crate::scrub::known`]):
    /// every column the rules transform, except free text itself, dates and amounts (shifted
    /// dates and noisy numbers are not identifiers, and they match ordinary dates and amounts
    /// by chance).
    pub fn known_value_columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.ops.iter().enumerate().filter_map(|(i, o)| {
            let identifying = !matches!(o, Op::Keep | Op::Redact { .. } | Op::Shift { .. } | Op::Noise { .. });
            identifying.then_some(i)
        })
    }

    /// Let `redact` replace the dump's known values.
    pub fn set_known(&mut self, known: std::sync::Arc<crate::scrub::known::KnownValues>) {
        self.known_placeholders = (0..known.columns())
            .map(|c| format!("[{}]", known.column_name(c as u16).to_ascii_uppercase()))
            .collect();
        self.keyed = known.keyed().clone();
        self.known = Some(known);
    }

    /// The pseudonym domain column `column` shares (`users.id`), if any.
    pub fn domain(&self, column: usize) -> Option<&str> {
        self.domains[column].as_deref()
    }

    /// The column called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Whether column `column` (an index in `columns`) is redacted free text.
    pub fn is_redact(&self, column: usize) -> bool {
        matches!(self.ops[column], Op::Redact { .. })
    }

    /// Column `column`'s redaction applied to `text` (a string inside a
    /// JSON value, say).
    pub fn redact_text<C: Cells + ?Sized>(
        &self,
        column: usize,
        text: &str,
        cells: &C,
        scratch: &mut Scratch,
    ) -> String {
        if let Op::Redact { kinds, row_values } = &self.ops[column] {
            scratch.out.clear();
            self.redact(text, kinds, *row_values, cells, scratch);
            scratch.out.clone()
        } else {
            text.to_string()
        }
    }

    /// The output header: the input's columns less the dropped ones.
    pub fn output_columns(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .zip(&self.written)
            .filter(|(_, w)| **w)
            .map(|(c, _)| c.as_str())
    }

    /// Scrub one row. `cells[i]` is column i's value (`None` is NULL).
    /// Calls `emit(i, value)` for each written column in order, where
    /// `value` is `None` for NULL; pseudonym tags go to `minted`.
    pub fn row<C: Cells + ?Sized>(
        &self,
        cells: &C,
        scratch: &mut Scratch,
        minted: &mut Vec<Minted>,
        emit: impl FnMut(usize, Cell<'_>),
    ) -> Result<(), Reject> {
        self.prepare(&[Some(cells)], scratch);
        self.batch_row(0, cells, scratch, minted, emit)
    }

    /// The keyed work of a batch of rows, done column by column so that
    /// AES encrypts [`LANES`] rows' blocks side by side (a pseudonym needs
    /// 2 to 10 blocks in a chain, and one chain at a time leaves AES-NI
    /// waiting on each block). [`TablePlan::batch_row`] then writes row
    /// `k` from it. `None` is a row that did not parse.
    pub fn prepare<C: Cells + ?Sized>(&self, rows: &[Option<&C>], scratch: &mut Scratch) {
        let n = self.ops.len();
        scratch.ahead.clear();
        scratch.ahead.resize(rows.len() * n, None);
        if scratch.identities.len() < rows.len() {
            scratch.identities.resize_with(rows.len(), Vec::new);
            scratch.lowered.resize_with(rows.len(), String::new);
        }
        if self.needs_identity {
            for (row, identity) in rows.iter().zip(&mut scratch.identities) {
                if let Some(cells) = row {
                    self.identity_into(*cells, identity);
                }
            }
        }
        for (g, group) in rows.chunks(LANES).enumerate() {
            self.prepare_lanes(g * LANES, group, scratch);
        }
    }

    /// [`TablePlan::prepare`] of up to [`LANES`] rows, the first of which
    /// is row `base` of the batch.
    fn prepare_lanes<C: Cells + ?Sized>(&self, base: usize, rows: &[Option<&C>], scratch: &mut Scratch) {
        let n = self.ops.len();
        for (i, op) in self.ops.iter().enumerate() {
            let value = |k: usize| rows[k].and_then(|c| c.cell(i)).filter(|v| !v.is_empty());
            let r = rows.len();
            let mut lanes = Lanes::default();
            match op {
                Op::Keep | Op::Drop | Op::Null | Op::Redact { .. } | Op::Uuid(_) => {}
                Op::Integer(p) => pseudonymize::prepare_integer(p, r, value, &mut lanes),
                Op::Email(prf) => pseudonymize::prepare_email(prf, r, value, &mut scratch.lowered[base..], &mut lanes),
                Op::Text(prf) => pseudonymize::prepare_text(prf, r, value, &mut lanes),
                Op::Fake { prf, .. } => fake::prepare(prf, r, value, &mut lanes),
                Op::Mask { prf, .. } => mask::prepare(prf, r, value, &mut lanes),
                Op::Shift { prf, .. } => shift_date::prepare(prf, r, value, &scratch.identities[base..], &mut lanes),
                Op::Noise { prf, .. } => noise::prepare(prf, r, value, &scratch.identities[base..], &mut lanes),
            }
            for (&k, b) in lanes.at[..lanes.m].iter().zip(&lanes.bits) {
                scratch.ahead[(base + k) * n + i] = Some(*b);
            }
        }
    }

    /// The identifying bytes of a row: its identity columns' values, each
    /// after its length.
    fn identity_into<C: Cells + ?Sized>(&self, cells: &C, out: &mut Vec<u8>) {
        out.clear();
        let mut add = |i: usize| {
            let v = cells.cell(i).unwrap_or("\u{0}NULL");
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
        };
        if self.identity.is_empty() {
            (0..self.columns.len()).for_each(&mut add);
        } else {
            self.identity.iter().copied().for_each(&mut add);
        }
    }

    /// Row `k` of the batch made by [`TablePlan::prepare`], scrubbed as
    /// [`TablePlan::row`] describes.
    #[allow(clippy::too_many_lines)] // hot path: every cell of every row goes through this match (BENCHMARKS.md, scrub)
    pub fn batch_row<C: Cells + ?Sized>(
        &self,
        k: usize,
        cells: &C,
        scratch: &mut Scratch,
        minted: &mut Vec<Minted>,
        mut emit: impl FnMut(usize, Cell<'_>),
    ) -> Result<(), Reject> {
        let n = self.ops.len();
        for (i, op) in self.ops.iter().enumerate() {
            let Some(value) = cells.cell(i) else {
                if !matches!(op, Op::Drop) {
                    emit(i, Cell::Null);
                }
                continue;
            };
            // The keyed bits `prepare` made; a value it could not take
            // (not an integer) has none and is rejected below.
            let ahead = scratch.ahead.get(k * n + i).copied().flatten();
            scratch.out.clear();
            let cell = match op {
                Op::Drop => continue,
                Op::Keep => Cell::Same(value),
                Op::Null => Cell::Null,
                _ if value.is_empty() => Cell::Same(value),
                Op::Redact { kinds, row_values } => {
                    self.redact(value, kinds, *row_values, cells, scratch);
                    Cell::Text(&scratch.out)
                }
                Op::Integer(p) => {
                    pseudonymize::write_integer(p, value, ahead, &mut scratch.out).map_err(|m| self.reject(i, m))?;
                    Cell::Number(&scratch.out)
                }
                Op::Uuid(p) => {
                    pseudonymize::pseudo_uuid(p, value, &mut scratch.out).map_err(|m| self.reject(i, m))?;
                    Cell::Text(&scratch.out)
                }
                Op::Email(prf) => {
                    let (tag, input) =
                        pseudonymize::write_email(prf, value, ahead, &mut scratch.lower, &mut scratch.out);
                    minted.push(Minted {
                        column: i as u32,
                        tag,
                        input,
                    });
                    Cell::Text(&scratch.out)
                }
                Op::Text(prf) => {
                    let (tag, input) = pseudonymize::write_text(prf, value, ahead, &mut scratch.out);
                    minted.push(Minted {
                        column: i as u32,
                        tag,
                        input,
                    });
                    Cell::Text(&scratch.out)
                }
                Op::Fake { prf, kind, locale } => {
                    self.redraw(
                        value,
                        self.inherent[i],
                        &mut scratch.out,
                        &mut scratch.hits,
                        |attempt, out| {
                            let bits = fake::redraw_bits(prf, value, ahead, attempt);
                            fake::write(prf, *kind, *locale, value, Some(bits), out);
                        },
                    );
                    Cell::Text(&scratch.out)
                }
                Op::Mask { prf, mask } => {
                    self.redraw(value, &[], &mut scratch.out, &mut scratch.hits, |attempt, out| {
                        out.clear();
                        let bits = fake::redraw_bits(prf, value, ahead, attempt);
                        mask::write(prf, mask, value, Some(bits), out);
                    });
                    Cell::Text(&scratch.out)
                }
                Op::Shift { prf, max_days } => {
                    let identity = identity_of(&scratch.identities, k);
                    shift_date::write(prf, *max_days, identity, value, ahead, &mut scratch.out)
                        .map_err(|m| self.reject(i, m))?;
                    Cell::Text(&scratch.out)
                }
                Op::Noise { prf, relative } => {
                    let identity = identity_of(&scratch.identities, k);
                    noise::write(prf, *relative, identity, value, ahead, &mut scratch.out)
                        .map_err(|m| self.reject(i, m))?;
                    Cell::Number(&scratch.out)
                }
            };
            emit(i, cell);
        }
        Ok(())
    }

    // Reasons stay strings: a typed reason cost 0.35% more instructions on the scrub benchmark.
    fn reject(&self, column: usize, message: String) -> Reject {
        Reject {
            column: self.columns[column].clone(),
            message,
        }
    }
}

/// One column's keyed bits for a group of up to [`LANES`] rows, made by
/// its transformer's prepare step: lane `t` (of the first `m`) holds the
/// bits of row `at[t]` of the group.
#[derive(Default)]
struct Lanes {
    at: [usize; LANES],
    bits: [[u8; 16]; LANES],
    m: usize,
}

impl Lanes {
    /// The PRF of `input(k, value)` for each row `k` of the `rows` whose
    /// value is not NULL or empty, [`LANES`] inputs through AES side by side.
    fn keyed<'v, 'i>(
        &mut self,
        prf: &Prf,
        rows: usize,
        value: impl Fn(usize) -> Option<&'v str>,
        input: impl Fn(usize, &'v str) -> &'i [u8],
    ) {
        let mut inputs: [&[u8]; LANES] = [&[]; LANES];
        for k in 0..rows {
            let Some(v) = value(k) else { continue };
            inputs[self.m] = input(k, v);
            self.at[self.m] = k;
            self.m += 1;
        }
        prf.bytes_many(&inputs[..self.m], &mut self.bits[..self.m]);
    }
}

/// Row `k`'s identity bytes from the last [`TablePlan::prepare`].
fn identity_of(identities: &[Vec<u8>], k: usize) -> &[u8] {
    identities.get(k).map_or(&[][..], Vec::as_slice)
}

/// A row's cells by column index; `None` is NULL (or a missing JSON key).
pub trait Cells {
    /// Cell `i` of the row; `None` for NULL or a missing key.
    fn cell(&self, i: usize) -> Option<&str>;
}

impl Cells for [Option<&str>] {
    fn cell(&self, i: usize) -> Option<&str> {
        self.get(i).copied().flatten()
    }
}

impl Cells for super::format::Record {
    fn cell(&self, i: usize) -> Option<&str> {
        self.field(i)
    }
}

/// Reusable buffers, one per worker.
#[derive(Debug, Default)]
pub struct Scratch {
    out: String,
    /// Redaction's working copies of the text, a lowercased email, and the atoms and
    /// row values redaction looks for.
    text: String,
    next: String,
    lower: String,
    hits: Vec<Hit>,
    atoms: Vec<crate::scrub::known::Atom>,
    needles: crate::scrub::known::Needles,
    /// Per row of a batch: the identity bytes and a lowercased email.
    identities: Vec<Vec<u8>>,
    lowered: Vec<String>,
    /// Per row and column of a batch: the keyed bits (see `prepare`).
    ahead: Vec<Option<[u8; 16]>>,
}

/// A scrubbed cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// NULL (`null` in JSON).
    Null,
    /// Unchanged input.
    Same(&'a str),
    /// New text.
    Text(&'a str),
    /// New text that is a number when the input was one (JSON keeps the type).
    Number(&'a str),
}

impl<'a> Cell<'a> {
    /// The cell's text; `None` for NULL.
    pub fn text(&self) -> Option<&'a str> {
        match *self {
            Cell::Null => None,
            Cell::Same(s) | Cell::Text(s) | Cell::Number(s) => Some(s),
        }
    }
}

/// 64 bits that identify a value (not keyed: never written anywhere).
pub fn fingerprint(value: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts people and scripts see: each variant reads as before it had fields.
    #[test]
    fn plan_error_texts_are_stable() {
        let file = || "d/users.csv".to_string();
        let strings = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let cases = [
            (
                PlanError::DuplicateColumn {
                    file: file(),
                    column: "id".into(),
                },
                "d/users.csv: column `id` appears twice in the header",
            ),
            (
                PlanError::MissingColumns {
                    file: file(),
                    table: "users".into(),
                    missing: vec![("fax".into(), 17), ("pager".into(), 18)],
                    columns: strings(&["id", "email"]),
                },
                "d/users.csv: the rules for table `users` list `fax` (line 17), `pager` (line 18) that the data \
                 does not have (its columns: id, email)",
            ),
            (
                PlanError::UnlistedColumns {
                    file: file(),
                    table: "users".into(),
                    columns: strings(&["ssn"]),
                },
                "d/users.csv: column `ssn` of table `users` is not in the rules and `unlisted_columns` is `fail`: \
                 give each a rule (`loadline scrub scan d/users.csv` suggests some) or set `unlisted_columns: keep|drop`",
            ),
            (
                PlanError::UnlistedColumns {
                    file: file(),
                    table: "users".into(),
                    columns: strings(&["ssn", "fax"]),
                },
                "d/users.csv: columns `ssn`, `fax` of table `users` are not in the rules and `unlisted_columns` is \
                 `fail`: give each a rule (`loadline scrub scan d/users.csv` suggests some) or set \
                 `unlisted_columns: keep|drop`",
            ),
            (
                PlanError::MissingIdentity {
                    file: file(),
                    table: "users".into(),
                    column: "uid".into(),
                },
                "d/users.csv: identity column `uid` of table `users` is not in the data",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
    }

    /// A batch of any size (here 20 rows: two full lane groups and a
    /// part, with a NULL, an empty value and a row that did not parse)
    /// gives exactly what the rows give one at a time.
    #[test]
    fn batches_scrub_rows_as_one_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "0123456789abcdef0123").unwrap();
        let text = format!(
            "key: ${{file:{}}}\ntables:\n  t:\n    columns:\n      id: {{pseudonymize: {{as: integer}}}}\n      \
             mail: {{pseudonymize: {{as: email}}}}\n      who: {{fake: name}}\n      tel: {{mask: {{keep_last: 2}}}}\n      \
             born: {{shift_date: {{max: 30d}}}}\n      amount: {{noise: {{relative: 5%}}}}\n      ref: {{pseudonymize: {{as: text}}}}\n",
            key.display()
        );
        let rules = super::super::rules::from_str(&text, &dir.path().join("r.yaml")).unwrap();
        let columns: Vec<String> = ["id", "mail", "who", "tel", "born", "amount", "ref"]
            .map(String::from)
            .to_vec();
        let plan = TablePlan::new(&rules.tables["t"], &rules.key, &columns, "t.csv").unwrap();
        let owned: Vec<Vec<Option<String>>> = (0..20)
            .map(|r| {
                let mut row: Vec<Option<String>> = vec![
                    Some(format!("{}", 1000 + r * 37)),
                    Some(format!("User{r}@Mail.example.net")),
                    Some(format!("Name {r}")),
                    Some(format!("+1 415-555-{:04}", r * 11)),
                    Some(format!("1990-04-{:02}", 1 + r % 28)),
                    Some(format!("{}.50", 100 + r)),
                    Some(format!("ref-{r}")),
                ];
                match r {
                    3 => row[1] = None,
                    7 => row[3] = Some(String::new()),
                    11 => row[0] = Some("not a number".into()),
                    _ => {}
                }
                row
            })
            .collect();
        let cells: Vec<Vec<Option<&str>>> = owned.iter().map(|r| r.iter().map(|c| c.as_deref()).collect()).collect();
        let write = |result: Result<(), Reject>, out: Vec<String>| match result {
            Ok(()) => out.join(","),
            Err(r) => format!("rejected {}", r.column),
        };
        let mut scratch = Scratch::default();
        let mut minted = Vec::new();
        let one_at_a_time: Vec<String> = cells
            .iter()
            .map(|c| {
                let mut out = Vec::new();
                let r = plan.row(&c[..], &mut scratch, &mut minted, |_, cell| {
                    out.push(format!("{cell:?}"))
                });
                write(r, out)
            })
            .collect();
        let rows: Vec<Option<&[Option<&str>]>> = cells.iter().map(|c| Some(&c[..])).collect();
        plan.prepare(&rows, &mut scratch);
        let batched: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let mut out = Vec::new();
                let r = plan.batch_row(k, &c[..], &mut scratch, &mut minted, |_, cell| {
                    out.push(format!("{cell:?}"))
                });
                write(r, out)
            })
            .collect();
        assert_eq!(batched, one_at_a_time);
        assert_eq!(one_at_a_time[11], "rejected id");
    }
}
