//! From the file as written ([`super::raw`]) to a [`Schema`]: every rule of
//! the format, each failure pointing at the file, line and key. Tables are
//! put in generation order here (parents first), so a reference cycle is
//! found before anything is generated.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::raw::*;
use super::*;
use crate::values::fake::did_you_mean;

mod column;

use column::column;
pub use column::{parse_instant, InstantError, DEFAULT_DAY};

pub(super) type Ctx<'a> = crate::yaml::Ctx<'a, Error>;

/// A reference by name, resolved once every table is known.
pub(super) struct PendingRef {
    table: String,
    column: String,
    skew: Skew,
    line: u64,
    key: String,
}

/// `after:` by name.
pub(super) struct PendingAfter {
    first: String,
    second: Option<String>,
    line: u64,
    key: String,
}

struct ParsedTable {
    name: String,
    rows: u64,
    line: u64,
    columns: Vec<Column>,
    refs: HashMap<usize, PendingRef>,
    afters: HashMap<usize, PendingAfter>,
    primary_key: Option<usize>,
}

/// Every table and column checked, tables put parents first, and the
/// references and `after:` columns resolved by name.
pub(super) fn validate(raw: RawSchema, path: &Path) -> Result<Schema, Error> {
    let ctx = Ctx::new(path);
    let default_locale = match &raw.locale {
        Some(l) => l.value.parse().map_err(|e| ctx.at(l, "locale", format!("{e}")))?,
        None => Locale::En,
    };
    if raw.tables.value.is_empty() {
        return Err(ctx.at(&raw.tables, "tables", "the schema has no tables"));
    }
    let mut parsed = Vec::new();
    for (name, t) in &raw.tables.value {
        parsed.push(table(&ctx, name, t, default_locale)?);
    }
    let order = generation_order(&ctx, &parsed)?;
    let mut tables: Vec<ParsedTable> = Vec::with_capacity(parsed.len());
    let mut by_index: Vec<Option<ParsedTable>> = parsed.into_iter().map(Some).collect();
    for i in order {
        if let Some(t) = by_index[i].take() {
            tables.push(t);
        }
    }
    let index: HashMap<String, usize> = tables.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
    resolve_refs(&ctx, &mut tables, &index)?;
    resolve_afters(&ctx, &mut tables, &index)?;
    Ok(Schema {
        path: path.to_path_buf(),
        seed: raw.seed.unwrap_or_else(|| rand::random::<u64>() >> 11),
        seed_given: raw.seed.is_some(),
        tables: tables
            .into_iter()
            .map(|t| Table {
                name: t.name,
                rows: t.rows,
                columns: t.columns,
                primary_key: t.primary_key,
                line: t.line as usize,
            })
            .collect(),
    })
}

/// Each `ref:` pointed at its parent column, which must be a key that is
/// never NULL, in a table with rows; the column takes the parent's type.
/// Parents are earlier in `tables`.
fn resolve_refs(ctx: &Ctx, tables: &mut [ParsedTable], index: &HashMap<String, usize>) -> Result<(), Error> {
    for ti in 0..tables.len() {
        let refs: Vec<(usize, PendingRef)> = tables[ti].refs.drain().collect();
        for (ci, r) in refs {
            let (pt, pc) = resolve_column(ctx, tables, index, &r.table, &r.column, r.line, &r.key)?;
            let parent = &tables[pt].columns[pc];
            let unique = matches!(parent.gen, Gen::Serial { .. } | Gen::Key(_)) || parent.unique;
            if !unique {
                return Err(ctx.err(
                    r.line,
                    &r.key,
                    format!(
                        "`ref: {}.{}` points at a column that is not a key (make it `serial`, `key` or `unique: true`)",
                        r.table, r.column
                    ),
                ));
            }
            if parent.nulls > 0.0 {
                return Err(ctx.err(
                    r.line,
                    &r.key,
                    format!("`ref: {}.{}` points at a column that can be NULL", r.table, r.column),
                ));
            }
            if tables[pt].rows == 0 {
                return Err(ctx.err(
                    r.line,
                    &r.key,
                    format!("`ref: {}` points at a table with 0 rows", r.table),
                ));
            }
            let kind = parent.kind;
            let col = &mut tables[ti].columns[ci];
            col.kind = kind;
            col.gen = Gen::Ref {
                table: pt,
                column: pc,
                skew: r.skew,
            };
        }
    }
    Ok(())
}

/// Resolve `after`, then the upper bound of each `after` timestamp (its own
/// `to`, else the bound of what it follows).
fn resolve_afters(ctx: &Ctx, tables: &mut [ParsedTable], index: &HashMap<String, usize>) -> Result<(), Error> {
    for ti in 0..tables.len() {
        let afters: Vec<(usize, PendingAfter)> = tables[ti].afters.drain().collect();
        for (ci, a) in afters {
            let after = resolve_after(ctx, tables, index, ti, &a)?;
            if let Gen::Time(tg) = &mut tables[ti].columns[ci].gen {
                tg.after = Some(after);
            }
        }
    }
    for ti in 0..tables.len() {
        for ci in 0..tables[ti].columns.len() {
            let bound = upper_bound(ctx, tables, ti, ci, 0)?;
            if let Gen::Time(tg) = &mut tables[ti].columns[ci].gen {
                if tg.after.is_some() && tg.to == i64::MIN {
                    tg.to = bound;
                }
            }
        }
    }
    Ok(())
}

/// A column named by table and column, as (table, column) indexes; an
/// unknown name suggests the nearest and lists the known ones.
fn resolve_column(
    ctx: &Ctx,
    tables: &[ParsedTable],
    index: &HashMap<String, usize>,
    table: &str,
    column: &str,
    line: u64,
    key: &str,
) -> Result<(usize, usize), Error> {
    let Some(&pt) = index.get(table) else {
        return Err(ctx.err(
            line,
            key,
            format!(
                "no table `{table}` in the schema{} (tables: {})",
                did_you_mean(table, tables.iter().map(|t| t.name.as_str())),
                tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let cols = &tables[pt].columns;
    let Some(pc) = cols.iter().position(|c| c.name == column) else {
        return Err(ctx.err(
            line,
            key,
            format!(
                "table `{table}` has no column `{column}`{} (columns: {})",
                did_you_mean(column, cols.iter().map(|c| c.name.as_str())),
                cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    Ok((pt, pc))
}

/// `after: column` (a timestamp of this table) or `after: fk.column` (a
/// timestamp of the table that `fk` references).
fn resolve_after(
    ctx: &Ctx,
    tables: &[ParsedTable],
    index: &HashMap<String, usize>,
    ti: usize,
    a: &PendingAfter,
) -> Result<After, Error> {
    let t = &tables[ti];
    let (_, fc) = resolve_column(ctx, tables, index, &t.name, &a.first, a.line, &a.key)?;
    let is_time = |c: &Column| matches!(c.gen, Gen::Time(_));
    match &a.second {
        None => {
            if !is_time(&t.columns[fc]) {
                return Err(ctx.err(
                    a.line,
                    &a.key,
                    format!("`after: {}` is not a timestamp column", a.first),
                ));
            }
            Ok(After::Column(fc))
        }
        Some(second) => {
            let Gen::Ref { table: pt, .. } = t.columns[fc].gen else {
                return Err(ctx.err(
                    a.line,
                    &a.key,
                    format!(
                        "`after: {}.{second}`: `{}` is not a `ref` column of this table",
                        a.first, a.first
                    ),
                ));
            };
            let pname = tables[pt].name.clone();
            let (_, pc) = resolve_column(ctx, tables, index, &pname, second, a.line, &a.key)?;
            if !is_time(&tables[pt].columns[pc]) {
                return Err(ctx.err(
                    a.line,
                    &a.key,
                    format!(
                        "`after: {}.{second}`: `{pname}.{second}` is not a timestamp column",
                        a.first
                    ),
                ));
            }
            Ok(After::Parent {
                via: fc,
                table: pt,
                column: pc,
            })
        }
    }
}

/// The exclusive upper bound of a timestamp column's values.
fn upper_bound(ctx: &Ctx, tables: &[ParsedTable], ti: usize, ci: usize, depth: usize) -> Result<i64, Error> {
    let Gen::Time(tg) = &tables[ti].columns[ci].gen else {
        return Ok(0);
    };
    if tg.to != i64::MIN {
        return Ok(tg.to);
    }
    if depth > 64 {
        return Err(ctx.err(
            tables[ti].line,
            format!("{}.{}", tables[ti].name, tables[ti].columns[ci].name),
            "`after` columns follow each other in a cycle",
        ));
    }
    match tg.after {
        Some(After::Column(c)) => upper_bound(ctx, tables, ti, c, depth + 1),
        Some(After::Parent { table, column, .. }) => upper_bound(ctx, tables, table, column, depth + 1),
        None => Ok(0),
    }
}

/// Parents before children, file order otherwise; a cycle is an error that
/// names it.
fn generation_order(ctx: &Ctx, tables: &[ParsedTable]) -> Result<Vec<usize>, Error> {
    let index: HashMap<&str, usize> = tables.iter().enumerate().map(|(i, t)| (t.name.as_str(), i)).collect();
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); tables.len()];
    for (i, t) in tables.iter().enumerate() {
        for r in t.refs.values() {
            match index.get(r.table.as_str()) {
                Some(&p) if p != i => {
                    deps[i].insert(p);
                }
                Some(_) => {
                    return Err(ctx.err(
                        r.line,
                        &r.key,
                        format!(
                            "`ref: {}.{}` points at its own table; self-references are not supported",
                            r.table, r.column
                        ),
                    ))
                }
                None => {} // reported with its line when references are resolved
            }
        }
    }
    let mut done = vec![false; tables.len()];
    let mut order = Vec::new();
    while order.len() < tables.len() {
        let next = (0..tables.len()).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]));
        match next {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None => {
                // Walk the dependencies from a remaining table until one repeats.
                let start = (0..tables.len()).find(|&i| !done[i]).unwrap_or(0);
                let mut path = vec![start];
                let mut cur = start;
                while let Some(&n) = deps[cur].iter().find(|&&d| !done[d]) {
                    if let Some(pos) = path.iter().position(|&p| p == n) {
                        let cycle: Vec<&str> = path[pos..]
                            .iter()
                            .chain(std::iter::once(&n))
                            .map(|&i| tables[i].name.as_str())
                            .collect();
                        return Err(ctx.err(
                            tables[n].line,
                            format!("tables.{}", tables[n].name),
                            format!(
                                "the tables reference each other in a cycle: {} (a parent must be generated first)",
                                cycle.join(" -> ")
                            ),
                        ));
                    }
                    path.push(n);
                    cur = n;
                }
                return Err(ctx.err(
                    tables[start].line,
                    "tables",
                    "the tables reference each other in a cycle",
                ));
            }
        }
    }
    Ok(order)
}

/// One table: its row count, its columns, and its primary key (the one
/// marked, else a key-like `id`).
fn table(ctx: &Ctx, name: &str, t: &S<RawTable>, locale: Locale) -> Result<ParsedTable, Error> {
    let key = format!("tables.{name}");
    let rows = match t.value.rows.value {
        Num::Int(n) if n >= 0 => n as u64,
        _ => {
            return Err(ctx.at(
                &t.value.rows,
                format!("{key}.rows"),
                "rows must be a whole number, 0 or more",
            ))
        }
    };
    if t.value.columns.value.is_empty() {
        return Err(ctx.at(&t.value.columns, format!("{key}.columns"), "the table has no columns"));
    }
    let mut out = ParsedTable {
        name: name.to_string(),
        rows,
        line: t.referenced.line(),
        columns: Vec::new(),
        refs: HashMap::new(),
        afters: HashMap::new(),
        primary_key: None,
    };
    let mut explicit_pk = None;
    for (i, (cname, c)) in t.value.columns.value.iter().enumerate() {
        let ckey = format!("{key}.columns.{cname}");
        let (col, pending_ref, pending_after) = column(ctx, &ckey, cname, c, locale, false)?;
        if let Some(r) = pending_ref {
            out.refs.insert(i, r);
        }
        if let Some(a) = pending_after {
            out.afters.insert(i, a);
        }
        if let Some(pk) = &c.value.primary_key {
            if pk.value {
                if explicit_pk.is_some() {
                    return Err(ctx.at(pk, &ckey, "a table has at most one `primary_key: true` column"));
                }
                if col.nulls > 0.0 {
                    return Err(ctx.at(pk, &ckey, "a primary key cannot have `nulls`"));
                }
                explicit_pk = Some(i);
            }
        }
        out.columns.push(col);
    }
    out.primary_key = explicit_pk.or_else(|| {
        out.columns
            .iter()
            .position(|c| c.name == "id" && matches!(c.gen, Gen::Serial { .. } | Gen::Key(_)))
    });
    if let Some(pk) = explicit_pk {
        let c = &out.columns[pk];
        if !(c.unique || matches!(c.gen, Gen::Serial { .. } | Gen::Key(_))) {
            return Err(ctx.err(
                t.value.columns.value[pk].referenced.line(),
                format!("{key}.columns.{}", c.name),
                "a primary key must be `serial`, `key` or `unique: true`",
            ));
        }
    }
    Ok(out)
}
