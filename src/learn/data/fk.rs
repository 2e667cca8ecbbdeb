//! Foreign keys: the declared ones, and where none is declared, the columns
//! (or column tuples) whose values are all among a unique column's (or a
//! composite unique key's), tested on keyed hashes in bounded memory; and
//! how many children each parent value has (a Zipf fit over every parent
//! row, parents without children included).
//!
//! Inclusion is tested on bottom-k sketches: the parent keeps its
//! [`BOTTOM_K`](super::column::BOTTOM_K) smallest hashes, so every child
//! hash below the parent's largest kept one must be among the parent's.
//! Hashes are keyed ([`crate::scrub::keyed::Prf`]) and never leave the
//! process.

use crate::learn::sketch::{fit_zipf, Distinct, ZipfFit};

use super::column::{BottomK, ColumnStats, Type, DISTINCT_CAP};
use super::TableStats;

/// A foreign key, declared or found.
#[derive(Debug, Clone, PartialEq)]
pub struct Fk {
    /// The child table (index into the profile's tables).
    pub table: usize,
    /// The child's columns (indexes), in key order.
    pub columns: Vec<usize>,
    /// The parent table.
    pub parent: usize,
    /// The parent's columns, in key order.
    pub parent_columns: Vec<usize>,
    /// Declared by the source (else inferred from the values).
    pub declared: bool,
    /// The fan-out's Zipf fit over every parent row, when there is one.
    pub fit: Option<ZipfFit>,
    /// Children per parent value at the 50th, 90th and 99th percentiles
    /// (parents without children count as 0).
    pub fanout: Option<[u64; 3]>,
    /// Why it was taken (for the comment).
    pub why: String,
}

/// Hashes of a tuple of columns (a composite key), as a column's are kept.
#[derive(Debug, Clone)]
pub struct TupleStats {
    /// The columns, in key order.
    pub columns: Vec<usize>,
    /// Distinct tuples (rows with a NULL in the tuple are skipped).
    pub distinct: Distinct,
    /// The smallest tuple hashes.
    pub bottom: BottomK,
    /// Tuples seen without a NULL.
    pub values: u64,
}

impl TupleStats {
    /// An empty summary of a tuple of columns.
    pub fn new(columns: Vec<usize>) -> Self {
        TupleStats {
            columns,
            distinct: Distinct::new(DISTINCT_CAP),
            bottom: BottomK::default(),
            values: 0,
        }
    }

    /// Note one tuple's hash.
    pub fn add(&mut self, h: u64) {
        self.values += 1;
        self.distinct.add(h);
        self.bottom.add(h);
    }

    /// Every tuple differs.
    pub fn unique(&self) -> bool {
        self.distinct.exact() && self.distinct.distinct() == self.values && self.values > 0
    }
}

/// Whether every child hash the parent's sketch can speak for is in it;
/// the number of hashes checked (0 when the verdict is no).
pub fn included(child: &BottomK, parent: &BottomK) -> usize {
    let t = parent.threshold();
    let mut checked = 0;
    for h in child.kept().range(..=t) {
        if !parent.kept().contains(h) {
            return 0;
        }
        checked += 1;
    }
    checked
}

/// The fan-out of a child's values over `parents` parent rows: the Zipf fit
/// and the 50th/90th/99th percentiles of children per parent.
pub fn fanout(child: &Distinct, parents: u64) -> (Option<ZipfFit>, Option<[u64; 3]>) {
    if child.total() < 30 || parents < 3 {
        return (None, None);
    }
    let fit = if child.exact() {
        let ranked = child.ranked();
        (ranked.len() >= 3).then(|| fit_zipf(&ranked, 1.0, parents.max(child.distinct())))
    } else {
        child.zipf()
    };
    let counts: Vec<u64> = child.top().iter().map(|(_, c)| *c).collect();
    // The kept counts stand for `weight` parents each; the rest have none.
    let weight = child.weight();
    let with = counts.len() as u64 * weight;
    let at = |q: f64| -> u64 {
        // Rank from the top: parents above quantile q.
        let above = ((1.0 - q) * parents as f64).floor() as u64;
        if above >= with {
            return 0;
        }
        counts.get((above / weight) as usize).copied().unwrap_or(0)
    };
    (fit, Some([at(0.5), at(0.9), at(0.99)]))
}

/// Names a child column may have to point at `parent_table`.`parent_col`:
/// `users_id`, `user_id`, and the parent column's own name when it is not
/// `id`.
pub fn name_matches(child: &str, parent_table: &str, parent_col: &str) -> bool {
    let c = child.to_ascii_lowercase();
    let t = parent_table.to_ascii_lowercase();
    let p = parent_col.to_ascii_lowercase();
    let singular = t
        .strip_suffix("ies")
        .map(|s| format!("{s}y"))
        .or_else(|| t.strip_suffix('s').map(str::to_string))
        .unwrap_or_else(|| t.clone());
    [
        format!("{t}_{p}"),
        format!("{singular}_{p}"),
        format!("{t}{p}"),
        format!("{singular}{p}"),
    ]
    .contains(&c)
        || (p != "id" && c == p)
}

fn types_match(a: Type, b: Type) -> bool {
    a == b || matches!((a, b), (Type::Integer, Type::Float) | (Type::Float, Type::Integer))
}

/// Whether a column can be a parent: unique (declared or seen) and never NULL.
pub fn parent_ok(t: &TableStats, c: usize) -> bool {
    let col = &t.columns[c];
    let declared = t.info.primary_key == [col.name.clone()] || t.info.unique.iter().any(|u| *u == [col.name.clone()]);
    col.nulls == 0 && col.values() > 0 && (declared || col.observed_unique())
}

/// Undeclared single-column foreign keys: for every column without a
/// declared one, the unique columns of other tables holding all its
/// values. Needs `k` distinct values in the child; whole numbers also need
/// a name that points at the parent or to cover half its values (a column
/// of small numbers is "in" every serial id). Among several parents, the
/// one the name points at wins, then the smallest.
pub fn infer(tables: &[TableStats], k: u64) -> Vec<Fk> {
    let mut out = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        for (ci, c) in t.columns.iter().enumerate() {
            let declared = t.info.foreign_keys.iter().any(|f| f.columns.contains(&c.name));
            let own_key = t.info.primary_key == [c.name.clone()];
            if declared || own_key || c.distinct.distinct() < k || c.values() == 0 {
                continue;
            }
            if let Some(fk) = best_parent(tables, ti, ci, c, k) {
                out.push(fk);
            }
        }
    }
    out
}

fn best_parent(tables: &[TableStats], ti: usize, ci: usize, c: &ColumnStats, k: u64) -> Option<Fk> {
    let mut best: Option<(bool, u64, Fk)> = None;
    for (pi, p) in tables.iter().enumerate() {
        if pi == ti {
            continue;
        }
        for (pc, pcol) in p.columns.iter().enumerate() {
            if !parent_ok(p, pc) || !types_match(c.kind(), pcol.kind()) || matches!(c.kind(), Type::Boolean) {
                continue;
            }
            let checked = included(&c.bottom, &pcol.bottom);
            if checked == 0 || (checked as u64) < k.min(c.distinct.distinct()) {
                continue;
            }
            let named = name_matches(&c.name, &p.info.name, &pcol.name);
            let covers = c.distinct.distinct() * 2 >= pcol.distinct.distinct();
            let numeric = matches!(c.kind(), Type::Integer | Type::Float);
            // A unique column of whole numbers is its own table's key (an
            // `id` beside another table's `id`) unless its name points away.
            if numeric && !named && (!covers || c.observed_unique()) {
                continue;
            }
            let why = format!(
                "all of its values are among {}.{} ({} hashes checked{})",
                p.info.name,
                pcol.name,
                checked,
                if named { ", and the name points there" } else { "" }
            );
            let fk = Fk {
                table: ti,
                columns: vec![ci],
                parent: pi,
                parent_columns: vec![pc],
                declared: false,
                fit: None,
                fanout: None,
                why,
            };
            let size = pcol.distinct.distinct();
            let better = match &best {
                None => true,
                Some((bn, bs, _)) => (named && !bn) || (named == *bn && size < *bs),
            };
            if better {
                best = Some((named, size, fk));
            }
        }
    }
    best.map(|(_, _, fk)| fk)
}
