//! Rules applied to one table's rows: a [`TablePlan`] is built once from
//! the rules and the file's columns (every mismatch is an error before any
//! output exists), then turns each row's cells into scrubbed cells.
//!
//! Every output is a pure function of (key, rule, input value), or of the
//! row's identity for `shift_date` and `noise`, so the same dump scrubbed
//! twice, in any number of files or threads, gives the same bytes.
//!
//! The value functions of every transformer live here with the plan (and
//! their tests), which makes the file long; each is short and private.

use std::collections::HashMap;
use std::fmt::Write as _;

use rand::{RngExt, SeedableRng};

use super::detect::{Detectors, Hit, Kind};
use super::keyed::{base32_into, first_u64, seed_of, Permutation, Prf, Secret, LANES};
use super::rules::{Mask, PseudoKind, TableRules, Transform, Unlisted};
use crate::values::fake::{FakeKind, Locale};
use crate::values::seed::Rng64;

/// Why a row cannot be scrubbed: it goes to the reject file. The message
/// never holds the value (it is printed); the reject file has the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub column: String,
    pub message: String,
}

/// The table's columns do not fit its rules; nothing has been written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

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

/// What a one-to-one pseudonym produced, for the run's collision check:
/// the pseudonym's tag and keyed bits that tell the value behind it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minted {
    pub column: u32,
    pub tag: u64,
    pub input: u64,
}

/// A table's rules compiled against its file's columns.
#[derive(Debug)]
pub struct TablePlan {
    pub table: String,
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
    detectors: Detectors,
    index: HashMap<String, usize>,
    /// The pseudonym domain of each pseudonymized column (`users.id`).
    domains: Vec<Option<String>>,
    /// What happens to keys of a JSON line that the plan has no column for.
    pub unlisted: Unlisted,
}

impl TablePlan {
    /// Compile `rules` for a file whose header is `columns`. `file` names
    /// the file in messages.
    pub fn new(rules: &TableRules, secret: &Secret, columns: &[String], file: &str) -> Result<Self, PlanError> {
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(PlanError(format!("{file}: column `{c}` appears twice in the header")));
            }
        }
        let missing: Vec<String> = rules
            .columns
            .iter()
            .filter(|(c, _)| !columns.contains(c))
            .map(|(c, r)| format!("`{c}` (line {})", r.line))
            .collect();
        if !missing.is_empty() {
            return Err(PlanError(format!(
                "{file}: the rules for table `{}` list {} that the data does not have (its columns: {})",
                rules.name,
                missing.join(", "),
                columns.join(", ")
            )));
        }
        if rules.unlisted == Unlisted::Fail {
            let unlisted: Vec<&str> = columns
                .iter()
                .filter(|c| !rules.columns.contains_key(*c))
                .map(String::as_str)
                .collect();
            if !unlisted.is_empty() {
                return Err(PlanError(format!(
                    "{file}: column{} {} of table `{}` {} not in the rules and `unlisted_columns` is `fail`: \
                     give each a rule (`loadline scrub scan {file}` suggests some) or set `unlisted_columns: keep|drop`",
                    if unlisted.len() == 1 { "" } else { "s" },
                    unlisted.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                    rules.name,
                    if unlisted.len() == 1 { "is" } else { "are" },
                )));
            }
        }
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
            let domain = format!("{}.{c}", rules.name);
            ops.push(match transform {
                Transform::Keep => Op::Keep,
                Transform::Drop => Op::Drop,
                Transform::Null => Op::Null,
                Transform::Redact(r) => Op::Redact {
                    kinds: r.kinds,
                    row_values: r.row_values,
                },
                Transform::Pseudonymize { kind, domain } => match kind {
                    PseudoKind::Integer => Op::Integer(Permutation::new(secret, &domain)),
                    PseudoKind::Uuid => Op::Uuid(Permutation::new(secret, &domain)),
                    PseudoKind::Email => Op::Email(secret.prf("email", &domain)),
                    PseudoKind::Text => Op::Text(secret.prf("text", &domain)),
                },
                // Keyed by the kind, not the column: the same name maps to
                // the same fake name wherever it appears.
                Transform::Fake { kind, locale } => Op::Fake {
                    prf: secret.prf("fake", &format!("{}/{locale}", kind.name())),
                    kind,
                    locale,
                },
                Transform::Mask(mask) => Op::Mask {
                    prf: secret.prf("mask", &domain),
                    mask,
                },
                // One offset per row for every date column with the same
                // `max`, so intervals within a row are kept.
                Transform::ShiftDate { max_days } => Op::Shift {
                    prf: secret.prf("shift", &format!("{}/{max_days}", rules.name)),
                    max_days,
                },
                Transform::Noise { relative } => Op::Noise {
                    prf: secret.prf("noise", &domain),
                    relative,
                },
            });
        }
        let identity = match &rules.identity {
            Some(ids) => {
                let mut out = Vec::new();
                for id in ids {
                    let i = columns.iter().position(|c| c == id).ok_or_else(|| {
                        PlanError(format!(
                            "{file}: identity column `{id}` of table `{}` is not in the data",
                            rules.name
                        ))
                    })?;
                    out.push(i);
                }
                out
            }
            None => columns.iter().position(|c| c == "id").into_iter().collect(),
        };
        let needs_identity = ops.iter().any(|o| matches!(o, Op::Shift { .. } | Op::Noise { .. }));
        let wants_row_values = ops.iter().any(|o| matches!(o, Op::Redact { row_values: true, .. }));
        let row_value_columns = if wants_row_values {
            ops.iter()
                .enumerate()
                .filter(|(_, o)| {
                    matches!(
                        o,
                        Op::Drop | Op::Email(_) | Op::Text(_) | Op::Uuid(_) | Op::Fake { .. } | Op::Mask { .. }
                    )
                })
                .map(|(i, _)| (i, format!("[{}]", columns[i].to_ascii_uppercase())))
                .collect()
        } else {
            Vec::new()
        };
        Ok(TablePlan {
            table: rules.name.clone(),
            columns: columns.to_vec(),
            written: ops.iter().map(|o| !matches!(o, Op::Drop)).collect(),
            ops,
            transforms,
            identity,
            needs_identity,
            row_value_columns,
            detectors: Detectors::new(),
            domains,
            index: columns.iter().enumerate().map(|(i, c)| (c.clone(), i)).collect(),
            unlisted: rules.unlisted,
        })
    }

    /// The pseudonym domain column `column` shares (`users.id`), if any.
    pub fn domain(&self, column: usize) -> Option<&str> {
        self.domains[column].as_deref()
    }

    /// The column called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

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
            // Lane t is row base + at[t].
            let mut at = [0usize; LANES];
            let mut m = 0;
            let mut bits = [[0u8; 16]; LANES];
            match op {
                Op::Integer(p) => {
                    let mut lanes = [(0u64, 0u64, 0u64); LANES];
                    for k in 0..rows.len() {
                        if let Some(lane) = value(k).and_then(|v| IntLane::parse(v).ok()) {
                            (lanes[m], at[m]) = ((lane.x, lane.size, lane.tweak), k);
                            m += 1;
                        }
                    }
                    let mut ys = [0u64; LANES];
                    p.permute_many(&lanes[..m], &mut ys[..m]);
                    for (b, y) in bits.iter_mut().zip(&ys[..m]) {
                        b[..8].copy_from_slice(&y.to_le_bytes());
                    }
                }
                Op::Email(prf)
                | Op::Text(prf)
                | Op::Fake { prf, .. }
                | Op::Mask { prf, .. }
                | Op::Shift { prf, .. }
                | Op::Noise { prf, .. } => {
                    if matches!(op, Op::Email(_)) {
                        for (k, lower) in scratch.lowered[base..].iter_mut().enumerate().take(rows.len()) {
                            if let Some(v) = value(k) {
                                mailbox(v, lower);
                            }
                        }
                    }
                    let mut inputs: [&[u8]; LANES] = [&[]; LANES];
                    for k in 0..rows.len() {
                        let Some(v) = value(k) else { continue };
                        inputs[m] = match op {
                            Op::Email(_) => scratch.lowered[base + k].as_bytes(),
                            Op::Shift { .. } | Op::Noise { .. } => &scratch.identities[base + k],
                            _ => v.as_bytes(),
                        };
                        at[m] = k;
                        m += 1;
                    }
                    prf.bytes_many(&inputs[..m], &mut bits[..m]);
                }
                Op::Keep | Op::Drop | Op::Null | Op::Redact { .. } | Op::Uuid(_) => {}
            }
            for (&k, b) in at[..m].iter().zip(&bits) {
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
                    let y = ahead.map(|b| first_u64(&b));
                    pseudo_integer(p, value, y, &mut scratch.out).map_err(|m| self.reject(i, m))?;
                    Cell::Number(&scratch.out)
                }
                Op::Uuid(p) => {
                    pseudo_uuid(p, value, &mut scratch.out).map_err(|m| self.reject(i, m))?;
                    Cell::Text(&scratch.out)
                }
                Op::Email(prf) | Op::Text(prf) => {
                    let (tag, input) = if matches!(op, Op::Email(_)) {
                        let b = ahead.unwrap_or_else(|| {
                            mailbox(value, &mut scratch.lower);
                            prf.bytes(&[scratch.lower.as_bytes()])
                        });
                        pseudo_email(&b, &mut scratch.out)
                    } else {
                        pseudo_text(
                            &ahead.unwrap_or_else(|| prf.bytes(&[value.as_bytes()])),
                            &mut scratch.out,
                        )
                    };
                    minted.push(Minted {
                        column: i as u32,
                        tag,
                        input,
                    });
                    Cell::Text(&scratch.out)
                }
                Op::Fake { prf, kind, locale } => {
                    let bits = ahead.unwrap_or_else(|| prf.bytes(&[value.as_bytes()]));
                    let mut rng = Rng64::from_seed(seed_of(&bits));
                    // A fake that happens to equal the real value (a
                    // common name) would keep it: draw again.
                    for _ in 0..8 {
                        scratch.out.clear();
                        kind.generate_into(*locale, &mut rng, &mut scratch.out);
                        if scratch.out != value {
                            break;
                        }
                    }
                    Cell::Text(&scratch.out)
                }
                Op::Mask { prf, mask } => {
                    let bits = ahead.unwrap_or_else(|| prf.bytes(&[value.as_bytes()]));
                    apply_mask(&bits, mask, value, &mut scratch.out);
                    Cell::Text(&scratch.out)
                }
                Op::Shift { prf, max_days } => {
                    let bits = ahead.unwrap_or_else(|| prf.bytes(&[identity_of(scratch, k)]));
                    let offset = day_offset(first_u64(&bits), *max_days);
                    shift_date(value, offset, &mut scratch.out).map_err(|m| self.reject(i, m))?;
                    Cell::Text(&scratch.out)
                }
                Op::Noise { prf, relative } => {
                    let bits = ahead.unwrap_or_else(|| prf.bytes(&[identity_of(scratch, k)]));
                    let u = unit_interval(first_u64(&bits));
                    add_noise(value, *relative, u, &mut scratch.out).map_err(|m| self.reject(i, m))?;
                    Cell::Number(&scratch.out)
                }
            };
            emit(i, cell);
        }
        Ok(())
    }

    fn reject(&self, column: usize, message: String) -> Reject {
        Reject {
            column: self.columns[column].clone(),
            message,
        }
    }

    /// Free text: first the row's own scrubbed values (a note that names
    /// the customer), then every detector hit, replaced by placeholders.
    fn redact<C: Cells + ?Sized>(
        &self,
        value: &str,
        kinds: &[Kind],
        row_values: bool,
        cells: &C,
        scratch: &mut Scratch,
    ) {
        let mut current = std::mem::take(&mut scratch.text);
        let mut next = std::mem::take(&mut scratch.next);
        current.clear();
        current.push_str(value);
        if row_values && !self.row_value_columns.is_empty() {
            for (c, placeholder) in &self.row_value_columns {
                if let Some(v) = cells.cell(*c) {
                    replace_value_in(&mut current, v, &mut scratch.lower, &mut scratch.needle, placeholder);
                }
            }
        }
        // Replacing one find can reveal another (an IP glued to a phone
        // number), so scan the result again until nothing is left.
        for _ in 0..8 {
            scratch.hits.clear();
            self.detectors.find(&current, &mut scratch.hits);
            scratch.hits.retain(|h| kinds.contains(&h.kind));
            if scratch.hits.is_empty() {
                break;
            }
            next.clear();
            let mut last = 0;
            let mut glued = false;
            for h in &scratch.hits {
                next.push_str(&current[last..h.start]);
                next.push_str(h.kind.placeholder());
                last = h.end;
                // A find that touches other text on either side may have
                // hidden another one there.
                let touches = |c: Option<char>| {
                    c.is_some_and(|c| !c.is_whitespace() && !matches!(c, ',' | ';' | '.' | ')' | '"' | '\''))
                };
                glued |= touches(current[..h.start].chars().next_back()) || touches(current[h.end..].chars().next());
            }
            next.push_str(&current[last..]);
            std::mem::swap(&mut current, &mut next);
            if !glued {
                break;
            }
        }
        scratch.out.push_str(&current);
        scratch.text = current;
        scratch.next = next;
    }
}

/// Row `k`'s identity bytes from the last [`TablePlan::prepare`].
fn identity_of(scratch: &Scratch, k: usize) -> &[u8] {
    scratch.identities.get(k).map_or(&[][..], Vec::as_slice)
}

/// A row's cells by column index; `None` is NULL (or a missing JSON key).
pub trait Cells {
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
    /// Redaction's working copies of the text, its lowercase, and a needle.
    text: String,
    next: String,
    lower: String,
    needle: String,
    hits: Vec<Hit>,
    /// Per row of a batch: the identity bytes and a lowercased email.
    identities: Vec<Vec<u8>>,
    lowered: Vec<String>,
    /// Per row and column of a batch: the keyed bits (see `prepare`).
    ahead: Vec<Option<[u8; 16]>>,
}

/// A scrubbed cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    Null,
    /// Unchanged input.
    Same(&'a str),
    /// New text.
    Text(&'a str),
    /// New text that is a number when the input was one (JSON keeps the type).
    Number(&'a str),
}

impl<'a> Cell<'a> {
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

/// Replace `needle` (ASCII case-insensitively) in `text`, and for a value
/// of several words, each capitalised word of 4+ letters where it appears
/// capitalised (a first name on its own).
#[cfg(test)]
fn replace_value(text: &mut String, needle: &str, placeholder: &str) {
    let (mut lower, mut buf) = (String::new(), String::new());
    replace_value_in(text, needle, &mut lower, &mut buf, placeholder);
}

/// [`replace_value`] with buffers for the lowercase copies. This runs for
/// every value of every row, and most notes do not mention the row's
/// values, so the first test is a memchr and it works on bytes where it
/// can.
fn replace_value_in(text: &mut String, needle: &str, lower: &mut String, buf: &mut String, placeholder: &str) {
    let needle = needle.trim();
    if needle.len() < 3 {
        return;
    }
    if occurs_ignoring_case(text.as_bytes(), needle.as_bytes()) {
        buf.clear();
        buf.push_str(needle);
        buf.make_ascii_lowercase();
        lower.clear();
        lower.push_str(text);
        lower.make_ascii_lowercase();
        let (l, n) = (lower.as_bytes(), buf.as_bytes());
        let mut out = String::new();
        let mut last = 0;
        for at in memchr::memchr_iter(n[0], l) {
            // Whole tokens only: `Lee` is not replaced inside `Leeds`.
            if at < last || !l[at..].starts_with(n) {
                continue;
            }
            let before = lower[..at].chars().next_back();
            let after = lower[at + n.len()..].chars().next();
            if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
                continue;
            }
            out.push_str(&text[last..at]);
            out.push_str(placeholder);
            last = at + n.len();
        }
        if last > 0 {
            out.push_str(&text[last..]);
            *text = out;
        }
    }
    // Each word between spaces and hyphens, if the value has spaces.
    if memchr::memchr(b' ', needle.as_bytes()).is_none() {
        return;
    }
    let mut rest = needle;
    while !rest.is_empty() {
        let end = rest.bytes().position(|c| c == b' ' || c == b'-').unwrap_or(rest.len());
        let word = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        // Cheapest test first: most words (digit groups, initials) do
        // not start with a capital. Non-ASCII goes the long way.
        match word.bytes().find(|c| c.is_ascii_alphanumeric() || !c.is_ascii()) {
            Some(c) if c.is_ascii_uppercase() || !c.is_ascii() => {}
            _ => continue,
        }
        let w = word.trim_matches(|c: char| !c.is_alphanumeric());
        if w.chars().next().is_some_and(char::is_uppercase)
            && w.chars().count() >= 4
            && occurs(text.as_bytes(), w.as_bytes())
        {
            replace_word(text, w, placeholder);
        }
    }
}

/// Whether `needle` occurs in `hay`: a memchr for its first byte and a
/// compare, cheaper on a short text than building a substring searcher.
fn occurs(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    memchr::memchr_iter(first, hay).any(|i| hay[i + 1..].starts_with(rest))
}

/// [`occurs`], ASCII case-insensitively: a memchr for either case of the
/// needle's least common byte (`@` in an email, `k` in `Bakker`), then a
/// compare. Most of the row's values are not in its note, and this says
/// so in a few instructions per 32 bytes of note.
fn occurs_ignoring_case(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (mut j, mut rank) = (0, u8::MAX);
    for (i, &b) in needle.iter().enumerate().take(16) {
        let r = commonness(b);
        if r < rank {
            (j, rank) = (i, r);
            if r == 1 {
                break;
            }
        }
    }
    let rare = needle[j];
    memchr::memchr2_iter(rare.to_ascii_lowercase(), rare.to_ascii_uppercase(), hay).any(|i| {
        i >= j
            && hay
                .get(i - j..i - j + needle.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(needle))
    })
}

/// How often a byte appears in English notes, roughly, as a rank: letters
/// by their frequency (`e` highest, either case), then space, digits and
/// punctuation; everything else is rare.
fn commonness(b: u8) -> u8 {
    const TABLE: [u8; 256] = {
        let mut t = [1u8; 256];
        let by_frequency = b"etaoinshrdlcumwfgypbvkjxqz";
        let mut i = 0;
        while i < 26 {
            t[by_frequency[i] as usize] = 30 - i as u8;
            t[by_frequency[i].to_ascii_uppercase() as usize] = 30 - i as u8;
            i += 1;
        }
        let mut d = b'0';
        while d <= b'9' {
            t[d as usize] = 12;
            d += 1;
        }
        t[b' ' as usize] = 31;
        t[b'.' as usize] = 10;
        t[b',' as usize] = 10;
        t[b'-' as usize] = 5;
        t
    };
    TABLE[usize::from(b)]
}

/// Whole-word, case-sensitive replacement.
fn replace_word(text: &mut String, word: &str, placeholder: &str) {
    if !text.contains(word) {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(word) {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if at < last || before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(placeholder);
        last = at + word.len();
    }
    out.push_str(&text[last..]);
    *text = out;
}

/// Integers keep their sign and digit count: the permutation runs inside
/// the set of numbers with as many digits (so `42` stays two digits and a
/// bigint stays in range). A leading zero (`007`) is kept and the other
/// digits permuted as a digit string. `y` is the permutation's image of
/// the value, if already computed (see [`TablePlan::prepare`]).
fn pseudo_integer(p: &Permutation, value: &str, y: Option<u64>, out: &mut String) -> Result<(), String> {
    let lane = IntLane::parse(value)?;
    lane.write(y.unwrap_or_else(|| p.permute(lane.x, lane.size, lane.tweak)), out);
    Ok(())
}

/// An integer as its permutation sees it: `x` in `[0, size)` under
/// `tweak`, and how to write the image back.
struct IntLane {
    x: u64,
    size: u64,
    tweak: u64,
    /// Added to the image (the smallest number of the digit class).
    lo: u64,
    sign: &'static str,
    /// With a leading zero: the digits after it, written zero-padded.
    padded: Option<usize>,
}

impl IntLane {
    fn parse(value: &str) -> Result<IntLane, String> {
        let (neg, digits) = match value.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, value.strip_prefix('+').unwrap_or(value)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("`as: integer` needs whole numbers; this is not one".to_string());
        }
        let sign = if neg {
            "-"
        } else if value.starts_with('+') {
            "+"
        } else {
            ""
        };
        let n = digits.len();
        if n > 1 && digits.starts_with('0') {
            // 0 followed by n-1 digits: a permutation of the 10^(n-1) strings.
            if n - 1 > 19 {
                return Err("`as: integer`: more than 20 digits; use `as: text`".to_string());
            }
            return Ok(IntLane {
                x: digits[1..].parse().map_err(|_| "not a number".to_string())?,
                size: 10u64.pow((n - 1) as u32),
                tweak: tweak(neg, n as u32, true),
                lo: 0,
                sign,
                padded: Some(n - 1),
            });
        }
        let x: u64 = digits
            .parse()
            .map_err(|_| "`as: integer`: more than 64 bits; use `as: text`".to_string())?;
        let (lo, hi) = class(neg, n as u32, x);
        Ok(IntLane {
            x: x - lo,
            size: hi - lo + 1,
            tweak: tweak(neg, n as u32, false) | (u64::from(n == 19 && lo > 10u64.pow(18)) << 10),
            lo,
            sign,
            padded: None,
        })
    }

    fn write(&self, y: u64, out: &mut String) {
        out.push_str(self.sign);
        let mut buf = itoa::Buffer::new();
        match self.padded {
            Some(width) => {
                let y = buf.format(y);
                out.push('0');
                out.extend(std::iter::repeat_n('0', width - y.len()));
                out.push_str(y);
            }
            None => out.push_str(buf.format(self.lo + y)),
        }
    }
}

/// The numbers an `n`-digit magnitude `x` is permuted among: all `n`-digit
/// numbers, with the 19-digit ones split at the i64 limit (so an i64 stays
/// an i64, and a u64 beyond it stays beyond it).
fn class(neg: bool, n: u32, x: u64) -> (u64, u64) {
    let lo = if n == 1 { 0 } else { 10u64.pow(n - 1) };
    let limit = if neg { 1u64 << 63 } else { i64::MAX as u64 };
    match n {
        19 if x <= limit => (lo, limit),
        19 => (limit + 1, 10u64.pow(19) - 1),
        20 => (10u64.pow(19), u64::MAX),
        _ => (lo, 10u64.pow(n) - 1),
    }
}

fn tweak(neg: bool, digits: u32, leading_zero: bool) -> u64 {
    u64::from(digits) | (u64::from(neg) << 8) | (u64::from(leading_zero) << 9)
}

/// A UUID (any case, with or without hyphens) encrypted as 128 bits and
/// written lowercase with hyphens.
fn pseudo_uuid(p: &Permutation, value: &str, out: &mut String) -> Result<(), String> {
    let hex: Vec<u8> = value.bytes().filter(|b| *b != b'-').collect();
    let bad = || "`as: uuid` needs UUIDs; this is not one".to_string();
    if hex.len() != 32 {
        return Err(bad());
    }
    let mut block = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| bad())?;
        block[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
    }
    let y = p.encrypt128(block);
    for (i, b) in y.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
    Ok(())
}

/// `name.tag@example.com`: a first name, 60 keyed bits in base32, and a
/// reserved domain (RFC 2606), so a pseudonym can never be a real address
/// and verify can tell one from a leak. Returns the tag (the 60 bits
/// written and the domain choice) and 64 other keyed bits of the address
/// (trimmed, lowercase).
/// What an email pseudonym is keyed by: `Jane.Doe@x.com` and
/// `jane.doe@x.com` are one mailbox, so they get one pseudonym.
fn mailbox(value: &str, lower: &mut String) {
    let value = value.trim();
    lower.clear();
    if value.is_ascii() {
        lower.push_str(value);
        lower.make_ascii_lowercase();
    } else {
        lower.push_str(&value.to_lowercase());
    }
}

/// An address at a reserved domain from the PRF's bytes of the
/// [`mailbox`]. Returns the tag and keyed input bits, as
/// [`pseudo_text`] does.
fn pseudo_email(b: &[u8; 16], out: &mut String) -> (u64, u64) {
    use fake::locales::{Data, EN};
    let names = <EN as Data>::NAME_FIRST_NAME;
    let pick = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize % names.len().max(1);
    for c in names.get(pick).copied().unwrap_or("user").chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
    }
    out.push('.');
    base32_into(&b[8..16], 12, out);
    out.push_str(match b[4] % 3 {
        0 => "@example.com",
        1 => "@example.net",
        _ => "@example.org",
    });
    // base32_into wrote the top 60 bits of bytes 8..16, big-endian. The
    // other keyed bytes tell two addresses apart (differing in all 128
    // bits but the tag's happens about once in 2^124).
    let tag = u64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]) >> 4;
    let input = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    (tag << 2 | u64::from(b[4] % 3), input)
}

/// A 16-character keyed token (80 bits). Returns its first 64 bits (the
/// tag) and the last keyed 64 bits (which tell two inputs apart).
fn pseudo_text(b: &[u8; 16], out: &mut String) -> (u64, u64) {
    base32_into(&b[..10], 16, out);
    (
        u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]),
    )
}

/// Digits become keyed digits and letters keyed letters (same case);
/// everything else, and the kept ends, stays.
/// A result equal to the input (four digits can come out the same) is
/// drawn again, so a masked value never keeps the original.
fn apply_mask(bits: &[u8; 16], mask: &Mask, value: &str, out: &mut String) {
    let start = out.len();
    let mut rng = Rng64::from_seed(seed_of(bits));
    for _ in 0..8 {
        out.truncate(start);
        mask_once(&mut rng, mask, value, out);
        if out[start..] != *value {
            break;
        }
    }
}

fn mask_once(rng: &mut Rng64, mask: &Mask, value: &str, out: &mut String) {
    // ASCII (phone numbers, card digits) skips UTF-8 decoding.
    if value.is_ascii() {
        mask_chars(rng, mask, value.bytes().map(char::from), out);
    } else {
        mask_chars(rng, mask, value.chars(), out);
    }
}

fn mask_chars(rng: &mut Rng64, mask: &Mask, chars: impl Iterator<Item = char> + Clone, out: &mut String) {
    let total = chars.clone().filter(|c| c.is_alphanumeric()).count();
    let keep_first = mask.keep_first as usize;
    let keep_last = mask.keep_last as usize;
    let mut seen = 0;
    for c in chars {
        if !c.is_alphanumeric() {
            out.push(c);
            continue;
        }
        let keep = seen < keep_first || seen + keep_last >= total;
        seen += 1;
        if keep {
            out.push(c);
            continue;
        }
        match mask.with {
            Some(w) => out.push(w),
            None if c.is_ascii_digit() => out.push(char::from(b'0' + rng.random_range(0..10u8))),
            None if c.is_uppercase() => out.push(char::from(b'A' + rng.random_range(0..26u8))),
            None => out.push(char::from(b'a' + rng.random_range(0..26u8))),
        }
    }
}

/// A non-zero offset in [-max, max] days.
fn day_offset(bits: u64, max_days: u32) -> i64 {
    let span = 2 * u64::from(max_days);
    let k = (bits % span) as i64; // 0..2max
    let max = i64::from(max_days);
    if k < max {
        k - max // -max..-1
    } else {
        k - max + 1 // 1..max
    }
}

/// A value in [-1, 1) from 64 bits.
fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// `YYYY-MM-DD`, optionally followed by a time (`T10:30:00Z`,
/// ` 10:30:00+02`): the date moves, the rest is kept as written.
fn shift_date(value: &str, days: i64, out: &mut String) -> Result<(), String> {
    let bad = || "`shift_date` needs ISO dates (YYYY-MM-DD…); this is not one".to_string();
    let b = value.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || !(b.len() == 10 || b[10] == b'T' || b[10] == b' ') {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(bad());
    }
    let (y2, m2, d2) = civil_from_days(days_from_civil(y, m, d) + days);
    if !(0..=9999).contains(&y2) {
        return Err(format!("moving it by {days} days leaves the years 0000-9999"));
    }
    // YYYY-MM-DD: four, two and two digits (the year is in 0..=9999).
    let mut date = *b"0000-00-00";
    for (at, width, mut n) in [(0, 4, y2), (5, 2, m2), (8, 2, d2)] {
        for i in (at..at + width).rev() {
            date[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    out.push_str(std::str::from_utf8(&date).unwrap_or_default());
    out.push_str(&value[10..]);
    Ok(())
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm, proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `value * (1 + relative * u)`, written with as many decimals as the input.
fn add_noise(value: &str, relative: f64, u: f64, out: &mut String) -> Result<(), String> {
    let v = value.trim();
    let bad = || "`noise` needs numbers; this is not one".to_string();
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let x: f64 = v.parse().map_err(|_| bad())?;
    let y = x * (1.0 + relative * u);
    if frac.is_empty() && !v.contains('.') {
        let r = y.round();
        if r.abs() >= 9.0e15 {
            return Err("too large to add noise exactly".to_string());
        }
        out.push_str(itoa::Buffer::new().format(r as i64));
    } else {
        let _ = write!(out, "{y:.prec$}", prec = frac.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm() -> Permutation {
        Permutation::new(&Secret::new(b"0123456789abcdef".to_vec()), "t.id")
    }

    fn int(v: &str) -> String {
        let mut s = String::new();
        pseudo_integer(&perm(), v, None, &mut s)
            .map(|_| s)
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn integers_keep_sign_and_digit_count() {
        for v in [
            "7",
            "42",
            "123456",
            "-981",
            "9223372036854775807",
            "18446744073709551615",
            "007",
            "0",
        ] {
            let out = int(v);
            assert_eq!(out.len(), v.len(), "{v} -> {out}");
            assert_eq!(out.starts_with('-'), v.starts_with('-'));
            if v.len() > 1 {
                assert_eq!(out.starts_with('0'), v.starts_with('0'), "{v} -> {out}");
            }
        }
        assert!(int("9223372036854775807").parse::<i64>().is_ok());
        // Past i64::MAX, 19-digit numbers stay past it (and 19 digits).
        for v in ["9223372036854775808", "9999999999999999999", "12345678901234567890"] {
            let out: u64 = int(v).parse().unwrap();
            assert!(
                out > i64::MAX as u64 && out.to_string().len() == v.len(),
                "{v} -> {out}"
            );
        }
        assert_eq!(int("+42").len(), 3);
        assert!(int("12a").contains("whole numbers"));
        assert_eq!(int("42"), int("42"));
    }

    #[test]
    fn integers_are_one_to_one_within_a_digit_count() {
        let mut seen = std::collections::HashSet::new();
        for x in 100..1000 {
            assert!(seen.insert(int(&x.to_string())));
        }
        assert!(seen.iter().all(|s| s.len() == 3 && !s.starts_with('0')));
    }

    #[test]
    fn dates_move_by_a_non_zero_offset_within_max() {
        for bits in [0u64, 1, 29, 30, 59, u64::MAX] {
            let d = day_offset(bits, 30);
            assert!(d != 0 && (-30..=30).contains(&d), "{d}");
        }
        let mut s = String::new();
        shift_date("2024-02-28T10:00:00Z", 2, &mut s).unwrap();
        assert_eq!(s, "2024-03-01T10:00:00Z");
        // Against jiff over a span of dates and offsets.
        for start in ["1900-02-28", "1999-12-31", "2000-02-29", "2024-12-31"] {
            let date: jiff::civil::Date = start.parse().unwrap();
            for days in [-400i64, -31, -1, 1, 30, 366, 1000] {
                let mut got = String::new();
                shift_date(start, days, &mut got).unwrap();
                let want = date.checked_add(jiff::Span::new().days(days)).unwrap().to_string();
                assert_eq!(got, want, "{start} {days}");
            }
        }
        assert!(shift_date("2023-02-29", 1, &mut String::new()).is_err());
        assert!(shift_date("28/02/2024", 2, &mut String::new()).is_err());
    }

    #[test]
    fn noise_keeps_the_number_format() {
        let mut s = String::new();
        add_noise("1000", 0.05, 1.0, &mut s).unwrap();
        assert_eq!(s, "1050");
        s.clear();
        add_noise("12.50", 0.1, -1.0, &mut s).unwrap();
        assert_eq!(s, "11.25");
        assert!(add_noise("12,50", 0.1, 0.5, &mut String::new()).is_err());
        assert!(add_noise("-", 0.1, 0.5, &mut String::new()).is_err());
    }

    #[test]
    fn mask_keeps_punctuation_and_the_kept_ends() {
        let prf = Secret::new(b"0123456789abcdef".to_vec()).prf("mask", "t.phone");
        let mut s = String::new();
        let m = Mask {
            keep_first: 0,
            keep_last: 2,
            with: None,
        };
        apply_mask(&prf.bytes(&[b"+1 (415) 555-0123"]), &m, "+1 (415) 555-0123", &mut s);
        assert!(s.starts_with("+") && s.ends_with("23") && s.len() == 17, "{s}");
        assert_eq!(&s[2..4], " (");
        let mut t = String::new();
        apply_mask(
            &prf.bytes(&[b"AB-1234"]),
            &Mask { with: Some('*'), ..m },
            "AB-1234",
            &mut t,
        );
        assert_eq!(t, "**-**34");
    }

    #[test]
    fn emails_are_valid_and_at_reserved_domains() {
        let prf = Secret::new(b"0123456789abcdef".to_vec()).prf("email", "users.email");
        let email = |v: &str| {
            let (mut lower, mut out) = (String::new(), String::new());
            mailbox(v, &mut lower);
            pseudo_email(&prf.bytes(&[lower.as_bytes()]), &mut out);
            out
        };
        let a = email("Maria.Garcia@gmail.com");
        assert_eq!(a, email("maria.garcia@gmail.com"));
        // Non-ASCII addresses are lowercased by Unicode rules.
        assert_eq!(email("ÉLODIE@exemple.fr"), email("élodie@exemple.fr"));
        let (local, domain) = a.split_once('@').unwrap();
        assert!(domain.starts_with("example."), "{a}");
        assert!(local.len() > 13 && local.is_ascii());
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

    #[test]
    fn case_insensitive_search_anchors_on_any_byte() {
        for (hay, needle, found) in [
            ("Spoke to LENA BAKKER today", "Lena Bakker", true),
            ("lena bakker", "Lena Bakker", true),
            ("mail rohan96@Yahoo.com now", "rohan96@yahoo.com", true),
            ("mail rohan96@yahoo.co", "rohan96@yahoo.com", false),
            ("@yahoo.com", "rohan96@yahoo.com", false),
            ("Bakke", "Bakker", false),
            ("", "eee", false),
            ("anything", "", true),
        ] {
            assert_eq!(
                occurs_ignoring_case(hay.as_bytes(), needle.as_bytes()),
                found,
                "{needle} in {hay}"
            );
        }
    }

    #[test]
    fn row_values_are_replaced_in_text() {
        let mut t = "Spoke to Maria Garcia; maria garcia said Maria would call".to_string();
        replace_value(&mut t, "Maria Garcia", "[NAME]");
        assert_eq!(t, "Spoke to [NAME]; [NAME] said [NAME] would call");
        let mut u = "Mariana called".to_string();
        replace_value(&mut u, "Maria Garcia", "[NAME]");
        assert_eq!(u, "Mariana called");
        let mut v = "Lee lives in Leeds".to_string();
        replace_value(&mut v, "Lee", "[NAME]");
        assert_eq!(v, "[NAME] lives in Leeds");
    }
}
