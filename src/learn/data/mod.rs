//! `loadline synth learn`: a schema fitted from a database or a directory
//! of files, with the shape of the data and none of its values.
//!
//! - [`source`]: where rows come from (databases, CSV and JSON lines), one
//!   interface;
//! - [`column`]: what one column looked like, in bounded sketches;
//! - [`fk`]: foreign keys, declared or found by inclusion of keyed hashes,
//!   and the fan-out's Zipf fit;
//! - [`noise`]: the optional Laplace noise (`--epsilon`) and its budget;
//! - [`choose`]: the generator each column gets, and what may be written;
//! - [`render`]: the schema file, its statistics in comments.
//!
//! [`profile`] reads every table once, row by row, and keeps nothing that
//! grows with the row count.

pub mod choose;
pub mod column;
pub mod fk;
pub mod noise;
pub mod render;
pub mod source;

#[cfg(test)]
mod tests;

use crate::scrub::detect::Detectors;
use crate::scrub::keyed::Prf;

use column::ColumnStats;
use fk::{Fk, TupleStats};
use source::{Source, SourceError, TableInfo};

/// Why a schema could not be learned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A table holds no rows: nothing to learn its shape from.
    #[error(
        "{source_name}: table `{table}` has no rows, so nothing can be learned from it (leave it out with --tables)"
    )]
    NoRows {
        /// The source, redacted.
        source_name: String,
        /// The table.
        table: String,
    },
    /// `--tables` names a table the source does not have.
    #[error("{source_name}: --tables: no table `{table}` (the source has: {known})")]
    UnknownTable {
        /// The source, redacted.
        source_name: String,
        /// The name asked for.
        table: String,
        /// The tables there are.
        known: String,
    },
    /// An option is out of range.
    #[error("{0}")]
    Option(String),
}

/// How to learn.
#[derive(Debug, Clone)]
pub struct Options {
    /// Values, categories and bins seen fewer times are never written (k).
    pub min_count: u64,
    /// Differential privacy: the total budget ε spread over the counts.
    pub epsilon: Option<f64>,
    /// Seed of the noise (and of the learned schema).
    pub seed: u64,
    /// Read at most this many rows per table (row counts then come from
    /// the source's count).
    pub sample_rows: Option<u64>,
    /// Only these tables.
    pub tables: Option<Vec<String>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_count: 10,
            epsilon: None,
            seed: 1,
            sample_rows: None,
            tables: None,
        }
    }
}

/// One table, learned.
#[derive(Debug, Clone)]
pub struct TableStats {
    /// What the source declares.
    pub info: TableInfo,
    /// Rows read.
    pub scanned: u64,
    /// The table's row count (all rows, not just those read), plus noise
    /// under `--epsilon`.
    pub rows: f64,
    /// Whether only a sample was read.
    pub sampled: bool,
    /// Per column, in the source's order.
    pub columns: Vec<ColumnStats>,
    /// Composite keys and the column tuples that may point at them.
    pub tuples: Vec<TupleStats>,
}

/// A composite key a tuple of a child table may point at.
#[derive(Debug, Clone)]
struct CompositeLink {
    child: usize,
    child_tuple: usize,
    parent: usize,
    parent_tuple: usize,
    declared: bool,
}

/// Everything learned from a source.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The source, redacted.
    pub source: String,
    /// Tables in the source's order.
    pub tables: Vec<TableStats>,
    /// Foreign keys, declared and found.
    pub fks: Vec<Fk>,
    /// Foreign keys left out (child table, columns, parent table, why): to
    /// tables that were not learned, or closing a cycle.
    pub dangling: Vec<(String, String, String, &'static str)>,
    /// The noise's budget, when `--epsilon` was given.
    pub budget: Option<noise::Budget>,
    /// The options it was learned with.
    pub options: Options,
}

/// Read every table (or those asked for) and learn its shape.
pub fn profile(src: &mut dyn Source, opts: &Options, prf: &Prf) -> Result<Profile, Error> {
    if opts.min_count == 0 {
        return Err(Error::Option("--min-count must be at least 1".into()));
    }
    if let Some(e) = opts.epsilon {
        if !(e.is_finite() && e > 0.0) {
            return Err(Error::Option(format!("--epsilon {e}: give a positive number")));
        }
    }
    let name = src.describe();
    let infos = select(src.tables()?, opts, &name)?;
    let detectors = Detectors::new();
    let mut tables: Vec<TableStats> = infos.into_iter().map(table_stats).collect();
    let links = composite_links(&mut tables);
    for t in &mut tables {
        scan(src, t, opts, prf, &detectors)?;
        if t.scanned == 0 {
            return Err(Error::NoRows {
                source_name: name.clone(),
                table: t.info.name.clone(),
            });
        }
    }
    let budget = opts.epsilon.map(|e| noise::apply(&mut tables, e, opts.seed));
    let (fks, dangling) = foreign_keys(&tables, &links, opts.min_count);
    Ok(Profile {
        source: name,
        tables,
        fks,
        dangling,
        budget,
        options: opts.clone(),
    })
}

/// The tables `loadline synth` keeps in a database it seeded to know what
/// it wrote there: loadline's, not the application's, so not learned
/// unless `--tables` names them.
pub const BOOKKEEPING_TABLES: [&str; 2] = ["loadline_seed_runs", "loadline_seed_shards"];

fn select(all: Vec<TableInfo>, opts: &Options, name: &str) -> Result<Vec<TableInfo>, Error> {
    let Some(want) = &opts.tables else {
        let all: Vec<TableInfo> = all
            .into_iter()
            .filter(|t| !BOOKKEEPING_TABLES.contains(&t.name.as_str()))
            .collect();
        if all.is_empty() {
            return Err(SourceError::Empty(name.to_string()).into());
        }
        return Ok(all);
    };
    for w in want {
        if !all.iter().any(|t| &t.name == w) {
            return Err(Error::UnknownTable {
                source_name: name.to_string(),
                table: w.clone(),
                known: all.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
    }
    Ok(all.into_iter().filter(|t| want.contains(&t.name)).collect())
}

fn table_stats(info: TableInfo) -> TableStats {
    let columns = info
        .columns
        .iter()
        .map(|c| ColumnStats::new(&c.name, c.declared, &c.type_name, c.not_null))
        .collect();
    TableStats {
        info,
        scanned: 0,
        rows: 0.0,
        sampled: false,
        columns,
        tuples: Vec::new(),
    }
}

fn index_of(t: &TableStats, name: &str) -> Option<usize> {
    t.info.columns.iter().position(|c| c.name == name)
}

/// The composite keys of every table (declared primary keys and unique
/// constraints of two or more columns), the declared composite foreign
/// keys, and the tuples of other tables whose column names match a
/// composite key's: each gets a tuple sketch.
fn composite_links(tables: &mut [TableStats]) -> Vec<CompositeLink> {
    let mut links = Vec::new();
    let keys: Vec<(usize, Vec<String>)> = tables
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            std::iter::once(t.info.primary_key.clone())
                .chain(t.info.unique.iter().cloned())
                .filter(|k| k.len() >= 2)
                .map(move |k| (i, k))
        })
        .collect();
    for (pi, key) in keys {
        let Some(pcols) = key.iter().map(|c| index_of(&tables[pi], c)).collect::<Option<Vec<_>>>() else {
            continue;
        };
        let parent_tuple = tables[pi].tuples.len();
        tables[pi].tuples.push(TupleStats::new(pcols));
        let pname = tables[pi].info.name.clone();
        #[allow(clippy::needless_range_loop)] // pushes into `tables[ci]` while reading `tables`
        for ci in 0..tables.len() {
            if ci == pi {
                continue;
            }
            let t = &tables[ci];
            let declared = t
                .info
                .foreign_keys
                .iter()
                .find(|f| f.parent == pname && f.parent_columns == key);
            let is_declared = declared.is_some();
            let cols: Option<Vec<usize>> = match declared {
                Some(f) => f.columns.iter().map(|c| index_of(t, c)).collect(),
                None => key
                    .iter()
                    .map(|k| {
                        t.info
                            .columns
                            .iter()
                            .position(|c| c.name == *k || fk::name_matches(&c.name, &pname, k))
                    })
                    .collect(),
            };
            if let Some(cols) = cols {
                let child_tuple = tables[ci].tuples.len();
                tables[ci].tuples.push(TupleStats::new(cols));
                links.push(CompositeLink {
                    child: ci,
                    child_tuple,
                    parent: pi,
                    parent_tuple,
                    declared: is_declared,
                });
            }
        }
    }
    links
}

/// One pass over a table's rows (or its first `--sample-rows`).
fn scan(
    src: &mut dyn Source,
    t: &mut TableStats,
    opts: &Options,
    prf: &Prf,
    detectors: &Detectors,
) -> Result<(), Error> {
    let info = t.info.clone();
    let ncols = info.columns.len();
    let (columns, tuples) = (&mut t.columns, &mut t.tuples);
    let scanned = src.scan(&info, opts.sample_rows, &mut |row: &[Option<&str>]| {
        for (c, v) in columns.iter_mut().zip(row.iter().take(ncols)) {
            c.add(*v, prf, detectors);
        }
        for tu in tuples.iter_mut() {
            let mut parts: Vec<&[u8]> = Vec::with_capacity(tu.columns.len());
            let mut null = false;
            for &i in &tu.columns {
                match row.get(i).copied().flatten() {
                    Some(v) if !v.is_empty() => parts.push(v.as_bytes()),
                    _ => null = true,
                }
            }
            if !null {
                tu.add(prf.u64(&parts));
            }
        }
        true
    })?;
    t.scanned = scanned;
    t.sampled = opts.sample_rows.is_some_and(|n| scanned >= n);
    t.rows = if t.sampled {
        src.count(&info)? as f64
    } else {
        scanned as f64
    };
    Ok(())
}

/// Declared foreign keys, then single-column and composite ones found by
/// inclusion, each with its fan-out; those whose parent was not learned,
/// and those that would close a cycle, are set aside.
type LeftOut = Vec<(String, String, String, &'static str)>;

fn foreign_keys(tables: &[TableStats], links: &[CompositeLink], k: u64) -> (Vec<Fk>, LeftOut) {
    let mut fks = Vec::new();
    let mut dangling = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        for f in &t.info.foreign_keys {
            let parent = tables.iter().position(|p| p.info.name == f.parent);
            let cols: Option<Vec<usize>> = f.columns.iter().map(|c| index_of(t, c)).collect();
            let pcols: Option<Vec<usize>> =
                parent.and_then(|p| f.parent_columns.iter().map(|c| index_of(&tables[p], c)).collect());
            match (parent, cols, pcols) {
                (Some(p), Some(cols), Some(pcols)) => fks.push(Fk {
                    table: ti,
                    columns: cols,
                    parent: p,
                    parent_columns: pcols,
                    declared: true,
                    fit: None,
                    fanout: None,
                    why: "declared".into(),
                }),
                _ => dangling.push((
                    t.info.name.clone(),
                    f.columns.join(", "),
                    f.parent.clone(),
                    "a table that was not learned",
                )),
            }
        }
    }
    fks.extend(fk::infer(tables, k));
    for l in links.iter().filter(|l| !l.declared) {
        let (c, p) = (
            &tables[l.child].tuples[l.child_tuple],
            &tables[l.parent].tuples[l.parent_tuple],
        );
        let checked = fk::included(&c.bottom, &p.bottom);
        if p.unique() && c.distinct.distinct() >= k && checked as u64 >= k.min(c.distinct.distinct()) {
            let already = fks.iter().any(|f| f.table == l.child && f.columns == c.columns);
            if !already {
                fks.push(Fk {
                    table: l.child,
                    columns: c.columns.clone(),
                    parent: l.parent,
                    parent_columns: p.columns.clone(),
                    declared: false,
                    fit: None,
                    fanout: None,
                    why: format!(
                        "every tuple is among the composite key of {} ({checked} hashes checked)",
                        tables[l.parent].info.name
                    ),
                });
            }
        }
    }
    let mut fks = without_cycles(tables, fks, &mut dangling);
    for f in &mut fks {
        let parents = tables[f.parent].rows.max(0.0).round() as u64;
        let child = if f.columns.len() == 1 {
            Some(&tables[f.table].columns[f.columns[0]].distinct)
        } else {
            tables[f.table]
                .tuples
                .iter()
                .find(|t| t.columns == f.columns)
                .map(|t| &t.distinct)
        };
        if let Some(d) = child {
            // A sample of the child still spreads over every parent row:
            // thinning the children does not change the exponent.
            (f.fit, f.fanout) = fk::fanout(d, parents.max(d.distinct()));
        }
    }
    (fks, dangling)
}

/// The foreign keys `synth` can generate: a `ref` needs its parent table
/// generated first, so a self-reference or a key closing a cycle of tables
/// (declared ones, as an employee's manager, or inclusions found both ways
/// between two serial ids) is set aside with its reason. Declared keys
/// come first, then found ones whose name points at their parent, so a
/// cycle drops the weakest. Composite keys are written as comments only
/// and never constrain the order.
fn without_cycles(tables: &[TableStats], fks: Vec<Fk>, left_out: &mut LeftOut) -> Vec<Fk> {
    let named = |f: &Fk| {
        let (t, p) = (&tables[f.table], &tables[f.parent]);
        fk::name_matches(
            &t.columns[f.columns[0]].name,
            &p.info.name,
            &p.columns[f.parent_columns[0]].name,
        )
    };
    let mut order: Vec<usize> = (0..fks.len()).collect();
    order.sort_by_key(|&i| (!fks[i].declared, !named(&fks[i])));
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut keep = vec![true; fks.len()];
    for i in order {
        let f = &fks[i];
        if f.columns.len() > 1 {
            continue;
        }
        if f.table == f.parent || reaches(&edges, f.parent, f.table) {
            keep[i] = false;
            let t = &tables[f.table];
            left_out.push((
                t.info.name.clone(),
                t.columns[f.columns[0]].name.clone(),
                tables[f.parent].info.name.clone(),
                "it would close a cycle of references (synth generates parents first)",
            ));
        } else {
            edges.push((f.table, f.parent));
        }
    }
    fks.into_iter().zip(keep).filter_map(|(f, k)| k.then_some(f)).collect()
}

/// Whether `to` is reachable from `from` along child -> parent edges.
fn reaches(edges: &[(usize, usize)], from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        for &(c, p) in edges {
            if c == n && !seen.contains(&p) {
                seen.push(p);
                stack.push(p);
            }
        }
    }
    false
}
