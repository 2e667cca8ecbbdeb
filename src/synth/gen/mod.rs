//! Column generators: the value of any column of any row, as a pure
//! function of (seed, table, column, row).
//!
//! Nothing is remembered between rows. A foreign key picks its parent row
//! from its own per-row random stream and *recomputes* the parent's key
//! (or any other parent column, such as `created_at` for `after:`), so
//! memory does not grow with the row count, shards and threads need no
//! coordination, and row `i` is the same whichever thread, shard or run
//! produces it. `unique: true` is built in with keyed permutations
//! ([`crate::values::perm`]) instead of retry loops.

use std::sync::OnceLock;

use rand::RngExt;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Poisson, Zipf};

use super::batch::{Cell, RowBatch};
use super::encode::json_string;
use super::schema::{self, After, Column, Dist, Gen, Kind, Schema, Skew, TimeGen};
use crate::values::fake::{FakeKind, Locale};
use crate::values::perm::Perm;
use crate::values::seed::{derive_seed, mix64};

/// The random stream of one cell. SplitMix64: one word of state, so
/// starting a stream per cell costs one multiply-xorshift, and a cell
/// draws only a handful of numbers (xoshiro's 4-word seeding cost more
/// than the draws).
type CellRng = rand_xoshiro::SplitMix64;

#[inline]
fn cell_rng(seed: u64, row: u64) -> CellRng {
    use rand::SeedableRng;
    CellRng::seed_from_u64(seed ^ mix64(row.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// The parent rows this row's foreign keys picked, so a later
/// `after: fk.column` in the same row does not pick again.
#[derive(Debug, Default)]
struct RowPicks {
    /// Per column: `Some(Some(j))` picked row j, `Some(None)` NULL.
    slots: Vec<Option<Option<u64>>>,
}

impl RowPicks {
    fn get(&self, col: usize) -> Option<Option<u64>> {
        self.slots.get(col).copied().flatten()
    }
    fn set(&mut self, col: usize, v: Option<u64>) {
        if let Some(s) = self.slots.get_mut(col) {
            *s = Some(v);
        }
    }
}

/// Why a schema cannot be generated as asked (after scaling).
pub type Error = schema::Error;

/// Everything needed to produce any row of any table of a schema.
#[derive(Debug)]
pub struct Generator {
    schema: Schema,
    cols: Vec<Vec<ColGen>>,
}

#[derive(Debug)]
struct ColGen {
    seed: u64,
    nulls: f64,
    /// `type: text` over a generator of numbers, times, ...: the value is
    /// written as text.
    as_text: bool,
    imp: Imp,
}

// One per column, built once: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Imp {
    Serial(i64),
    Key(schema::KeyFormat),
    Fake {
        kind: FakeKind,
        locale: Locale,
        /// Unique: a base-36 suffix of this many digits from `perm(row)`.
        unique: Option<(Perm, usize)>,
    },
    Pattern {
        pattern: schema::Pattern,
        unique: Option<Perm>,
    },
    Number {
        sampler: Sampler,
        min: f64,
        max: f64,
        int: bool,
        scale: Option<f64>,
    },
    UniqueInt {
        lo: i64,
        perm: Perm,
    },
    OneOf {
        values: Vec<Cell>,
        text: Vec<String>,
        cumulative: Vec<f64>,
    },
    Time {
        t: TimeGen,
        hours: Option<[f64; 24]>,
        unique: Option<Perm>,
    },
    Bool(f64),
    Uuid {
        unique: Option<Perm>,
    },
    Json(Vec<(String, ColGen)>),
    Const(Cell, String),
    Ref {
        table: usize,
        column: usize,
        pick: Pick,
    },
}

#[derive(Debug)]
enum Sampler {
    UniformInt(i64, i64),
    UniformFloat(f64, f64),
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Exp(Exp<f64>),
    Poisson(Poisson<f64>),
    Zipf(Zipf<f64>),
    Quantiles([f64; 9]),
}

#[derive(Debug)]
enum Pick {
    Uniform(u64),
    /// Zipf over up to [`ALIAS_MAX`] parent rows: an alias table, O(1) per
    /// pick (rand_distr's `Zipf` pays two `powf` per sample, the largest
    /// cost of a row with a foreign key). 12 bytes per parent row.
    Alias(LazyAlias),
    /// Zipf over more parent rows: constant memory, slower picks.
    Zipf(Zipf<f64>, u64),
    OneToOne(Perm),
}

/// Parent tables up to this many rows get an alias table (12 MiB at most).
const ALIAS_MAX: u64 = 1 << 20;

/// The alias table of a Zipf foreign key, built on its first pick: a run
/// that writes some of a schema's tables does not pay for the tables it
/// leaves out (a million-row parent's table takes tens of milliseconds
/// and 12 MiB, before any row is written).
#[derive(Debug)]
struct LazyAlias {
    parents: u64,
    exponent: f64,
    table: OnceLock<Option<WeightedAliasIndex<f64>>>,
}

impl LazyAlias {
    /// The alias table's weights: rank r (1-based) weighs r^-s.
    fn build(parents: u64, exponent: f64) -> Result<WeightedAliasIndex<f64>, rand_distr::weighted::Error> {
        WeightedAliasIndex::new((1..=parents).map(|r| (r as f64).powf(-exponent)).collect())
    }

    fn pick(&self, rng: &mut CellRng) -> u64 {
        // A schema's exponent is positive and finite and its parents at
        // most ALIAS_MAX: every weight is in (0, 1], so the table is always
        // built and the uniform pick is never taken.
        match self.table.get_or_init(|| Self::build(self.parents, self.exponent).ok()) {
            Some(t) => t.sample(rng) as u64,
            None => rng.random_range(0..self.parents),
        }
    }
}

impl Generator {
    /// Prepare generation of `schema` (rows already scaled). Fails when a
    /// `unique` column cannot have that many distinct values.
    pub fn new(schema: Schema) -> Result<Generator, Error> {
        let mut cols = Vec::with_capacity(schema.tables.len());
        for (ti, t) in schema.tables.iter().enumerate() {
            let tseed = derive_seed(schema.seed, &format!("synth/{}", t.name));
            let mut v = Vec::with_capacity(t.columns.len());
            for c in &t.columns {
                v.push(col_gen(&schema, ti, c, derive_seed(tseed, &c.name), t.rows)?);
            }
            cols.push(v);
        }
        Ok(Generator { schema, cols })
    }

    /// The schema it generates (scaled, with its seed).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Append rows `first..first + n` of table `table` to an empty batch.
    pub fn fill(&self, table: usize, first: u64, n: usize, batch: &mut RowBatch) {
        let ncols = self.cols[table].len();
        batch.first_row = first;
        batch.rows = n;
        batch.ncols = ncols;
        batch.cells.clear();
        batch.text.clear();
        batch.cells.reserve(n * ncols);
        batch.text.reserve(n * 16 * ncols);
        let mut picks = RowPicks {
            slots: vec![None; ncols],
        };
        for row in first..first + n as u64 {
            picks.slots.iter_mut().for_each(|s| *s = None);
            for c in 0..ncols {
                let cell = self.cell_in_row(table, c, row, &mut batch.text, &mut picks);
                batch.cells.push(cell);
            }
        }
    }

    /// The value of column `col` of row `row` of table `table`.
    pub fn cell(&self, table: usize, col: usize, row: u64, text: &mut String) -> Cell {
        self.cell_in_row(table, col, row, text, &mut RowPicks::default())
    }

    fn cell_in_row(&self, table: usize, col: usize, row: u64, text: &mut String, picks: &mut RowPicks) -> Cell {
        let g = &self.cols[table][col];
        let v = self.value(g, table, col, row, text, picks);
        match v {
            Cell::Null | Cell::Text { .. } => v,
            _ if g.as_text => text_cell(text, |s| super::encode::scalar(&v, false, s)),
            _ => v,
        }
    }

    /// The value of one cell (NULL by the column's share of NULLs), drawn
    /// from the cell's own random stream.
    #[allow(clippy::too_many_lines)] // hot path: synth's per-cell generation, kept in one match (BENCHMARKS.md "synth")
    fn value(&self, g: &ColGen, table: usize, col: usize, row: u64, text: &mut String, picks: &mut RowPicks) -> Cell {
        let mut rng = cell_rng(g.seed, row);
        if g.nulls > 0.0 && rng.random::<f64>() < g.nulls {
            picks.set(col, None);
            return Cell::Null;
        }
        match &g.imp {
            Imp::Serial(start) => Cell::Int(start.wrapping_add(row as i64)),
            Imp::Key(k) => text_cell(text, |s| k.write(row, s)),
            Imp::Fake { kind, locale, unique } => text_cell(text, |s| {
                let start = s.len();
                kind.generate_into(*locale, &mut rng, s);
                if let Some((perm, width)) = unique {
                    unique_suffix(s, start, perm.apply(row), *width);
                }
            }),
            Imp::Pattern { pattern, unique } => text_cell(text, |s| match unique {
                None => pattern.generate(&mut rng, s),
                Some(perm) => pattern.nth(u128::from(perm.apply(row)), s),
            }),
            Imp::Number {
                sampler,
                min,
                max,
                int,
                scale,
            } => {
                let x = match sampler {
                    Sampler::UniformInt(lo, hi) => rng.random_range(*lo..=*hi) as f64,
                    Sampler::UniformFloat(lo, hi) => {
                        if lo < hi {
                            rng.random_range(*lo..*hi)
                        } else {
                            *lo
                        }
                    }
                    Sampler::Normal(d) => d.sample(&mut rng),
                    Sampler::LogNormal(d) => d.sample(&mut rng),
                    Sampler::Exp(d) => d.sample(&mut rng),
                    Sampler::Poisson(d) => d.sample(&mut rng),
                    Sampler::Zipf(d) => d.sample(&mut rng),
                    Sampler::Quantiles(p) => Dist::quantile_at(p, rng.random::<f64>()),
                };
                let x = x.clamp(*min, *max);
                if *int {
                    Cell::Int(x.round() as i64)
                } else {
                    Cell::Float(match scale {
                        Some(s) => (x * s).round() / s,
                        None => x,
                    })
                }
            }
            Imp::UniqueInt { lo, perm } => Cell::Int(lo.wrapping_add(perm.apply(row) as i64)),
            Imp::OneOf {
                values,
                text: words,
                cumulative,
            } => {
                let u = rng.random::<f64>() * cumulative.last().copied().unwrap_or(1.0);
                let i = cumulative.partition_point(|&c| c <= u).min(values.len() - 1);
                match values[i] {
                    Cell::Text { .. } => text_cell(text, |s| s.push_str(&words[i])),
                    v => v,
                }
            }
            Imp::Time { t, hours, unique } => self.time(table, row, t, hours, unique, &mut rng, text, picks),
            Imp::Bool(p) => Cell::Bool(rng.random::<f64>() < *p),
            Imp::Uuid { unique } => {
                let hi: u64 = rng.random();
                let lo: u64 = match unique {
                    Some(perm) => perm.apply(row),
                    None => rng.random::<u64>() & ((1 << 62) - 1),
                };
                // Version 4 and the RFC 4122 variant; the low 62 bits carry
                // the (permuted) row when unique.
                let hi = (hi & !0xf000) | 0x4000;
                let lo = lo | (1 << 63);
                Cell::Uuid((u128::from(hi) << 64) | u128::from(lo))
            }
            Imp::Json(fields) => {
                let mut doc = String::with_capacity(64);
                let mut scratch = String::new();
                doc.push('{');
                for (i, (name, f)) in fields.iter().enumerate() {
                    if i > 0 {
                        doc.push(',');
                    }
                    json_string(name, &mut doc);
                    doc.push(':');
                    scratch.clear();
                    let v = self.value(f, table, usize::MAX, row, &mut scratch, picks);
                    super::encode::json_value(&v, &scratch, &mut doc);
                }
                doc.push('}');
                let start = text.len() as u32;
                text.push_str(&doc);
                Cell::Json {
                    start,
                    len: doc.len() as u32,
                }
            }
            Imp::Const(c, s) => match c {
                Cell::Text { .. } => text_cell(text, |t| t.push_str(s)),
                v => *v,
            },
            Imp::Ref {
                table: pt,
                column: pc,
                pick,
            } => {
                let j = pick_parent(pick, &mut rng, row);
                picks.set(col, Some(j));
                self.cell(*pt, *pc, j, text)
            }
        }
    }

    /// The parent row a foreign key of row `row` points at (None if NULL).
    fn parent_row(&self, table: usize, col: usize, row: u64) -> Option<u64> {
        let g = &self.cols[table][col];
        let mut rng = cell_rng(g.seed, row);
        if g.nulls > 0.0 && rng.random::<f64>() < g.nulls {
            return None;
        }
        match &g.imp {
            Imp::Ref { pick, .. } => Some(pick_parent(pick, &mut rng, row)),
            _ => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn time(
        &self,
        table: usize,
        row: u64,
        t: &TimeGen,
        hours: &Option<[f64; 24]>,
        unique: &Option<Perm>,
        rng: &mut CellRng,
        scratch: &mut String,
        picks: &RowPicks,
    ) -> Cell {
        let secs = if let Some(after) = t.after {
            let base = match after {
                After::Column(c) => self.cell(table, c, row, scratch),
                After::Parent { via, table: pt, column } => {
                    match picks.get(via).unwrap_or_else(|| self.parent_row(table, via, row)) {
                        Some(j) => self.cell(pt, column, j, scratch),
                        None => Cell::Null,
                    }
                }
            };
            let base = match base {
                Cell::Time(s) | Cell::Date(s) => s,
                _ => return Cell::Null,
            };
            let mut upper = t.to;
            if let Some(w) = t.within {
                upper = upper.min(base.saturating_add(w));
            }
            // Strictly later: at least one second (one day for dates).
            let step = if t.date { 86_400 } else { 1 };
            let room = upper - base - step;
            base + step + if room > 0 { rng.random_range(0..room) } else { 0 }
        } else if let Some(perm) = unique {
            t.from + perm.apply(row) as i64
        } else if hours.is_some() || t.weekly.is_some() {
            weighted_time(t.from, t.to, hours.as_ref(), t.weekly.as_ref(), rng)
        } else {
            rng.random_range(t.from..t.to)
        };
        if t.date {
            Cell::Date(secs - secs.rem_euclid(86_400))
        } else {
            Cell::Time(secs)
        }
    }
}

/// A day (uniformly, or by its weekday's weight), an hour (uniformly, or by
/// the day curve's running sums), a second uniformly: staying inside
/// `from..to` (a draw outside it, on a partial first or last day or week,
/// is retried a few times, then drawn uniformly, so it never loops).
fn weighted_time(from: i64, to: i64, hours: Option<&[f64; 24]>, week: Option<&[f64; 7]>, rng: &mut CellRng) -> i64 {
    let first_day = from.div_euclid(86_400);
    let days = (to - 1).div_euclid(86_400) - first_day + 1;
    // 1970-01-01 was a Thursday: day d is weekday (d + 3) mod 7, Monday 0.
    let first_monday = first_day - (first_day + 3).rem_euclid(7);
    let weeks = (first_day + days - first_monday + 6) / 7;
    for _ in 0..8 {
        let day = match week {
            None => first_day + rng.random_range(0..days),
            Some(w) => {
                let total: f64 = w.iter().sum();
                let mut u = rng.random::<f64>() * total;
                let mut wd = 6;
                for (i, x) in w.iter().enumerate() {
                    if u < *x {
                        wd = i;
                        break;
                    }
                    u -= x;
                }
                first_monday + 7 * rng.random_range(0..weeks) + wd as i64
            }
        };
        let hour = match hours {
            Some(cum) => {
                let u = rng.random::<f64>() * cum[23];
                cum.partition_point(|&c| c <= u).min(23) as i64
            }
            None => rng.random_range(0..24),
        };
        let t = day * 86_400 + hour * 3600 + rng.random_range(0..3600);
        if (from..to).contains(&t) {
            return t;
        }
    }
    rng.random_range(from..to)
}

#[inline]
fn pick_parent(p: &Pick, rng: &mut CellRng, row: u64) -> u64 {
    match p {
        Pick::Uniform(n) => rng.random_range(0..*n),
        Pick::Alias(a) => a.pick(rng),
        Pick::Zipf(z, n) => (z.sample(rng) as u64).clamp(1, *n) - 1,
        Pick::OneToOne(perm) => perm.apply(row),
    }
}

#[inline]
fn text_cell(text: &mut String, f: impl FnOnce(&mut String)) -> Cell {
    let start = text.len();
    f(text);
    Cell::Text {
        start: start as u32,
        len: (text.len() - start) as u32,
    }
}

/// The value in `out[start..]` made unique by a fixed-width base-36
/// suffix: before the `@` of an email (`ann.lee.0k3f@example.com`), after a
/// `-` otherwise. The suffix holds no `.`/`-`, so the value's last
/// separator finds it again: distinct suffixes give distinct values,
/// whatever the value was.
fn unique_suffix(out: &mut String, start: usize, n: u64, width: usize) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let width = width.min(13);
    let mut buf = [b'.'; 14];
    let mut x = n;
    for i in (1..=width).rev() {
        buf[i] = DIGITS[(x % 36) as usize];
        x /= 36;
    }
    let suffix = std::str::from_utf8(&buf[..=width]).unwrap_or(".0");
    match memchr::memrchr(b'@', &out.as_bytes()[start..]) {
        Some(at) => out.insert_str(start + at, suffix),
        None => {
            out.push('-');
            out.push_str(&suffix[1..]);
        }
    }
}

/// Base-36 digits needed to write every number below `n`.
fn base36_width(n: u64) -> usize {
    let mut w = 1;
    let mut x = n.saturating_sub(1) / 36;
    while x > 0 {
        w += 1;
        x /= 36;
    }
    w
}

/// The generator of one column (of `rows` rows, with its own seed), or why
/// it cannot have the distinct values `unique` asks for.
fn col_gen(schema: &Schema, table: usize, c: &Column, seed: u64, rows: u64) -> Result<ColGen, Error> {
    let at = ColAt {
        schema,
        table,
        c,
        seed,
        rows,
    };
    let imp = match &c.gen {
        Gen::Serial { start } => Imp::Serial(*start),
        Gen::Key(k) => Imp::Key(k.clone()),
        Gen::Fake { kind, locale } => Imp::Fake {
            kind: *kind,
            locale: *locale,
            unique: c.unique.then(|| (at.perm(), base36_width(rows))),
        },
        Gen::Pattern(p) => at.pattern(p)?,
        Gen::Number {
            dist,
            min,
            max,
            round,
            int,
        } => {
            if c.unique {
                at.unique_int(dist, *min, *max)?
            } else {
                at.sampled(dist, *min, *max, *round, *int)?
            }
        }
        Gen::OneOf { choices, weights } => one_of(c.kind, choices, weights),
        Gen::Time(tg) => at.time(tg)?,
        Gen::Bool(p) => Imp::Bool(*p),
        Gen::Uuid => Imp::Uuid {
            unique: c.unique.then(|| Perm::new(1 << 62, seed)),
        },
        Gen::Json(fields) => {
            let mut v = Vec::with_capacity(fields.len());
            for f in fields {
                v.push((
                    f.name.clone(),
                    col_gen(schema, table, f, derive_seed(seed, &f.name), rows)?,
                ));
            }
            Imp::Json(v)
        }
        Gen::Const(s) => {
            if c.unique && rows > 1 {
                return Err(at.err(format!("a constant cannot be unique over {rows} rows")));
            }
            Imp::Const(typed(c.kind, s), s.clone())
        }
        Gen::Ref {
            table: pt,
            skew,
            column,
        } => at.reference(*pt, *column, skew)?,
    };
    Ok(ColGen {
        seed,
        nulls: c.nulls,
        as_text: c.kind == Kind::Text,
        imp,
    })
}

/// One column whose generator is being built: where it is (for errors),
/// its seed, and how many rows it must cover.
struct ColAt<'a> {
    schema: &'a Schema,
    table: usize,
    c: &'a Column,
    seed: u64,
    rows: u64,
}

impl ColAt<'_> {
    /// Why this column cannot be generated, at its line and key.
    fn err(&self, message: String) -> Error {
        crate::yaml::FileError::Invalid {
            path: self.schema.path.clone(),
            line: self.c.line,
            key: format!("tables.{}.columns.{}", self.schema.tables[self.table].name, self.c.name),
            message,
        }
        .into()
    }

    /// A permutation of the rows, for values unique by row.
    fn perm(&self) -> Perm {
        Perm::new(self.rows.max(1), self.seed ^ 0x5eed_f00d)
    }

    /// A pattern; unique, it needs fixed counts and at least one distinct
    /// value per row.
    fn pattern(&self, p: &schema::Pattern) -> Result<Imp, Error> {
        let rows = self.rows;
        let unique = if self.c.unique {
            let Some(n) = p.count() else {
                return Err(self.err(format!(
                    "pattern `{}` has a variable-length part; a unique pattern needs fixed counts like `{{5}}`",
                    p.source()
                )));
            };
            if n < u128::from(rows) {
                return Err(self.err(format!(
                    "pattern `{}` has only {n} distinct values, fewer than the {rows} rows",
                    p.source()
                )));
            }
            Some(Perm::new(n.min(u128::from(u64::MAX)) as u64, self.seed))
        } else {
            None
        };
        Ok(Imp::Pattern {
            pattern: p.clone(),
            unique,
        })
    }

    /// A unique number: a permutation of the integers of a `uniform` range
    /// (narrowed by `min`/`max`), which must hold a value per row.
    fn unique_int(&self, dist: &Dist, min: Option<f64>, max: Option<f64>) -> Result<Imp, Error> {
        let rows = self.rows;
        let Dist::Uniform { lo, hi } = dist else {
            return Err(self.err("only integer `uniform` ranges can be unique".into()));
        };
        // `min`/`max` narrow the range rather than pile values up at its ends.
        let (lo, hi) = (
            &lo.max(min.unwrap_or(f64::MIN)).ceil(),
            &hi.min(max.unwrap_or(f64::MAX)).floor(),
        );
        if hi < lo {
            return Err(self.err("`min`/`max` leave no values in the `uniform` range".into()));
        }
        let span = (*hi - *lo) as u64 + 1;
        if span < rows {
            return Err(self.err(format!(
                "uniform [{lo}, {hi}] has {span} distinct values, fewer than the {rows} rows"
            )));
        }
        Ok(Imp::UniqueInt {
            lo: *lo as i64,
            perm: Perm::new(span, self.seed),
        })
    }

    /// A number drawn from its distribution, clamped to `min`/`max`.
    fn sampled(
        &self,
        dist: &Dist,
        min: Option<f64>,
        max: Option<f64>,
        round: Option<u32>,
        int: bool,
    ) -> Result<Imp, Error> {
        let bad = |e: String| self.err(format!("bad distribution parameters: {e}"));
        let sampler = match *dist {
            Dist::Uniform { lo, hi } if int => Sampler::UniformInt(lo as i64, hi as i64),
            Dist::Uniform { lo, hi } => Sampler::UniformFloat(lo, hi),
            Dist::Normal { mean, sd } => Sampler::Normal(Normal::new(mean, sd).map_err(|e| bad(e.to_string()))?),
            Dist::LogNormal { median, sigma } => {
                Sampler::LogNormal(LogNormal::new(median.ln(), sigma).map_err(|e| bad(e.to_string()))?)
            }
            Dist::Exponential { mean } => Sampler::Exp(Exp::new(1.0 / mean).map_err(|e| bad(e.to_string()))?),
            Dist::Poisson { mean } => Sampler::Poisson(Poisson::new(mean).map_err(|e| bad(e.to_string()))?),
            Dist::Zipf { n, s } => Sampler::Zipf(Zipf::new(n as f64, s).map_err(|e| bad(e.to_string()))?),
            Dist::Quantiles(p) => Sampler::Quantiles(p),
        };
        Ok(Imp::Number {
            sampler,
            min: min.unwrap_or(f64::NEG_INFINITY),
            max: max.unwrap_or(f64::INFINITY),
            int,
            scale: round.map(|d| 10f64.powi(d as i32)),
        })
    }

    /// A time; unique, a permutation of the seconds of a plain range, which
    /// must hold a second per row. A day curve is kept as running sums.
    fn time(&self, tg: &TimeGen) -> Result<Imp, Error> {
        let rows = self.rows;
        let unique = if self.c.unique {
            let span = (tg.to - tg.from) as u64;
            let span = if tg.date { span / 86_400 } else { span };
            if span < rows || tg.date {
                return Err(self.err(format!(
                    "the range has {span} distinct values, fewer than the {rows} rows (or it is a date)"
                )));
            }
            Some(Perm::new(span, self.seed))
        } else {
            None
        };
        let hours = tg.diurnal.map(|w| {
            let mut cum = [0.0; 24];
            let mut acc = 0.0;
            for (i, x) in w.iter().enumerate() {
                acc += x;
                cum[i] = acc;
            }
            cum
        });
        Ok(Imp::Time {
            t: tg.clone(),
            hours,
            unique,
        })
    }

    /// A foreign key to `column` of table `pt`: one parent row per row when
    /// unique, else picked uniformly or by Zipf rank (an alias table for
    /// parents small enough).
    fn reference(&self, pt: usize, column: usize, skew: &Skew) -> Result<Imp, Error> {
        let rows = self.rows;
        let n = self.schema.tables[pt].rows;
        let pick = if self.c.unique {
            if n < rows {
                return Err(self.err(format!(
                    "a unique reference needs a parent row per row: {} has {n} rows, this table {rows}",
                    self.schema.tables[pt].name
                )));
            }
            Pick::OneToOne(Perm::new(n, self.seed))
        } else {
            match skew {
                Skew::Uniform => Pick::Uniform(n),
                Skew::Zipf(s) if n <= ALIAS_MAX => {
                    // Checked here on a table of at most two ranks, so that a
                    // skew the alias table refuses is an error of the schema;
                    // the real table waits for the first pick.
                    LazyAlias::build(n.min(2), *s).map_err(|e| self.err(format!("bad zipf skew: {e}")))?;
                    Pick::Alias(LazyAlias {
                        parents: n,
                        exponent: *s,
                        table: OnceLock::new(),
                    })
                }
                Skew::Zipf(s) => Pick::Zipf(
                    Zipf::new(n as f64, *s).map_err(|e| self.err(format!("bad zipf skew: {e}")))?,
                    n,
                ),
            }
        };
        Ok(Imp::Ref {
            table: pt,
            column,
            pick,
        })
    }
}

/// `one_of`: the choices as cells of the column's type, and the running
/// sums of their weights.
fn one_of(kind: Kind, choices: &[String], weights: &[f64]) -> Imp {
    let mut acc = 0.0;
    let cumulative = weights
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect();
    Imp::OneOf {
        values: choices.iter().map(|s| typed(kind, s)).collect(),
        text: choices.to_vec(),
        cumulative,
    }
}

/// A fixed value as a cell of `kind` (text stays in the generator).
fn typed(kind: Kind, s: &str) -> Cell {
    match kind {
        Kind::Int => s.parse().map(Cell::Int).unwrap_or(Cell::Null),
        Kind::Float => s.parse().map(Cell::Float).unwrap_or(Cell::Null),
        Kind::Bool => Cell::Bool(s == "true"),
        _ => Cell::Text { start: 0, len: 0 },
    }
}

#[cfg(test)]
mod tests;
