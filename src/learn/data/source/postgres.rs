//! PostgreSQL (`postgres://`, `postgresql://`): the tables of the
//! connection's current schemas (`current_schemas(false)`, so `public`
//! unless the URL's `options=-csearch_path=...` says otherwise), described
//! from the catalogue (`pg_attribute`, `pg_constraint`, `pg_index`), and
//! rows streamed with `COPY (SELECT ...) TO STDOUT` in text format, parsed
//! here with one line buffer and escapes decoded in place, so a field
//! without escapes costs no allocation.
//!
//! The session runs with `TimeZone = UTC` (a `timestamptz` comes out in
//! UTC), `DateStyle = ISO` and `extra_float_digits = 1` (floats in their
//! shortest round-trip form), read-only. Connection and TLS (`sslmode`,
//! `sslrootcert`) are those of `synth --to postgres://`.

use std::collections::HashMap;
use std::io::BufRead;

use postgres::Client;

use super::{db_error, quote, recycle, ColumnInfo, Declared, ForeignKey, Source, SourceError, TableInfo};
use crate::synth::sink::postgres::{connect_client, pg_message};

/// A connection to one PostgreSQL database.
pub(super) struct PgSource {
    url: String,
    client: Client,
    /// Table name -> its schema, from [`Source::tables`] (the first schema
    /// of the search path holding it).
    schemas: HashMap<String, String>,
}

/// The catalogue's type name (a domain's base type) as a schema type.
fn declared(typname: &str) -> Declared {
    match typname {
        "int2" | "int4" | "int8" => Declared::Integer,
        "float4" | "float8" | "numeric" => Declared::Float,
        "bool" => Declared::Boolean,
        "text" | "varchar" | "bpchar" | "char" | "citext" | "name" => Declared::Text,
        "timestamp" | "timestamptz" => Declared::Timestamp,
        "date" => Declared::Date,
        "uuid" => Declared::Uuid,
        "json" | "jsonb" => Declared::Json,
        _ => Declared::Other,
    }
}

const TABLES: &str = "SELECT DISTINCT ON (c.relname) c.oid, c.relname::text, n.nspname::text \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
       AND n.nspname = ANY (current_schemas(false)) \
     ORDER BY c.relname, array_position(current_schemas(false), n.nspname)";

const COLUMNS: &str = "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
       COALESCE(bt.typname, t.typname)::text, a.attnotnull \
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype \
     WHERE a.attrelid = ANY ($1) AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY a.attrelid, a.attnum";

/// Primary keys, unique constraints and foreign keys, columns in key order.
const CONSTRAINTS: &str = "SELECT c.conrelid, c.contype::text, \
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), \
       p.relname::text, \
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) \
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) \
     FROM pg_constraint c LEFT JOIN pg_class p ON p.oid = c.confrelid \
     WHERE c.conrelid = ANY ($1) AND c.contype IN ('p', 'u', 'f') \
     ORDER BY c.conrelid, c.conname";

/// Unique indexes that no constraint stands behind: not partial, on plain
/// columns only (the key columns, not `INCLUDE`d ones).
const UNIQUE_INDEXES: &str = "SELECT i.indrelid, \
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n \
             WHERE k.o <= i.indnkeyatts ORDER BY k.o) \
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
     WHERE i.indrelid = ANY ($1) AND i.indisunique AND NOT i.indisprimary \
       AND i.indpred IS NULL AND i.indexprs IS NULL \
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u')) \
     ORDER BY i.indrelid, ic.relname";

impl PgSource {
    pub(super) fn connect(url: &str) -> Result<Self, SourceError> {
        let mut client = connect_client(url).map_err(|m| db_error(url, &m))?;
        client
            .batch_execute(
                "SET client_min_messages = warning; SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; \
                 SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; \
                 SET default_transaction_read_only = on",
            )
            .map_err(|e| db_error(url, &pg_message(&e)))?;
        Ok(PgSource {
            url: url.to_string(),
            client,
            schemas: HashMap::new(),
        })
    }

    fn err(&self, e: &postgres::Error) -> SourceError {
        db_error(&self.url, &pg_message(e))
    }

    /// `"schema"."table"` for a table [`Source::tables`] listed (the bare
    /// quoted name otherwise, found by the search path).
    fn qualified(&self, table: &str) -> String {
        match self.schemas.get(table) {
            Some(s) => format!("{}.{}", quote(s, '"'), quote(table, '"')),
            None => quote(table, '"'),
        }
    }

    /// Keys and unique indexes onto the tables, by oid.
    fn add_constraints(&mut self, oids: &[u32], tables: &mut [TableInfo]) -> Result<(), SourceError> {
        let at = |oid: u32| oids.iter().position(|&o| o == oid);
        let rows = self.client.query(CONSTRAINTS, &[&oids]).map_err(|e| self.err(&e))?;
        for r in rows {
            let Some(i) = at(r.get(0)) else { continue };
            let kind: String = r.get(1);
            let columns: Vec<String> = r.get(2);
            let t = &mut tables[i];
            match kind.as_str() {
                "p" => t.primary_key = columns,
                "u" => t.unique.push(columns),
                _ => t.foreign_keys.push(ForeignKey {
                    columns,
                    parent: r.get::<_, Option<String>>(3).unwrap_or_default(),
                    parent_columns: r.get(4),
                }),
            }
        }
        let rows = self.client.query(UNIQUE_INDEXES, &[&oids]).map_err(|e| self.err(&e))?;
        for r in rows {
            let Some(i) = at(r.get(0)) else { continue };
            let columns: Vec<String> = r.get(1);
            let t = &mut tables[i];
            if !columns.is_empty() && columns != t.primary_key && !t.unique.contains(&columns) {
                t.unique.push(columns);
            }
        }
        Ok(())
    }
}

impl Source for PgSource {
    fn describe(&self) -> String {
        crate::synth::sink::redact_url(&self.url)
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let rows = self.client.query(TABLES, &[]).map_err(|e| self.err(&e))?;
        let mut oids: Vec<u32> = Vec::with_capacity(rows.len());
        let mut tables = Vec::with_capacity(rows.len());
        self.schemas.clear();
        for r in rows {
            oids.push(r.get(0));
            let name: String = r.get(1);
            self.schemas.insert(name.clone(), r.get(2));
            tables.push(TableInfo {
                name,
                columns: Vec::new(),
                primary_key: Vec::new(),
                unique: Vec::new(),
                foreign_keys: Vec::new(),
            });
        }
        let rows = self.client.query(COLUMNS, &[&oids]).map_err(|e| self.err(&e))?;
        for r in rows {
            let Some(i) = oids.iter().position(|&o| o == r.get::<_, u32>(0)) else {
                continue;
            };
            let base: String = r.get(3);
            tables[i].columns.push(ColumnInfo {
                name: r.get(1),
                declared: declared(&base),
                type_name: r.get(2),
                not_null: r.get(4),
            });
        }
        self.add_constraints(&oids, &mut tables)?;
        // By name in byte order, whatever the database's collation.
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tables)
    }

    fn scan(
        &mut self,
        table: &TableInfo,
        limit: Option<u64>,
        row: &mut dyn FnMut(&[Option<&str>]) -> bool,
    ) -> Result<u64, SourceError> {
        let cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name, '"')).collect();
        let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let sql = format!(
            "COPY (SELECT {} FROM {}{limit}) TO STDOUT",
            cols.join(", "),
            self.qualified(&table.name)
        );
        let url = self.url.clone();
        let terr = |m: String| db_error(&url, &format!("table `{}`: {m}", table.name));
        let mut reader = self
            .client
            .copy_out(sql.as_str())
            .map_err(|e| db_error(&url, &pg_message(&e)))?;
        let mut line: Vec<u8> = Vec::with_capacity(1024);
        let mut ranges: Vec<Option<(usize, usize)>> = Vec::with_capacity(table.columns.len());
        let mut fields: Vec<Option<&str>> = Vec::with_capacity(table.columns.len());
        let mut n = 0u64;
        loop {
            line.clear();
            let got = reader.read_until(b'\n', &mut line);
            match got {
                Ok(0) => return Ok(n),
                Ok(_) => {}
                Err(e) => return Err(terr(format!("COPY: {e}"))),
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if table.columns.is_empty() {
                // A table without columns: each row is an empty line.
                ranges.clear();
            } else {
                split_copy_line(&mut line, &mut ranges).map_err(|m| terr(format!("row {}: {m}", n + 1)))?;
            }
            if ranges.len() != table.columns.len() {
                let m = format!(
                    "row {}: {} fields for {} columns",
                    n + 1,
                    ranges.len(),
                    table.columns.len()
                );
                return Err(terr(m));
            }
            let mut v = recycle(fields);
            for (r, c) in ranges.iter().zip(&table.columns) {
                v.push(match *r {
                    None => None,
                    Some((s, e)) => Some(
                        std::str::from_utf8(&line[s..e])
                            .map_err(|_| terr(format!("row {}: column `{}` is not UTF-8", n + 1, c.name)))?,
                    ),
                });
            }
            n += 1;
            let go_on = row(&v);
            fields = recycle(v);
            if !go_on {
                return Ok(n);
            }
        }
    }

    fn count(&mut self, table: &TableInfo) -> Result<u64, SourceError> {
        let sql = format!("SELECT count(*) FROM {}", self.qualified(&table.name));
        let r = self.client.query_one(sql.as_str(), &[]).map_err(|e| self.err(&e))?;
        Ok(u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
    }
}

/// Split one line of `COPY ... TO STDOUT` text format (without its
/// newline) into fields: `None` for `\N`, else the field's byte range in
/// `line` after its escapes are decoded in place (a decoded field is never
/// longer than its escaped form, so it fits where it was).
fn split_copy_line(line: &mut [u8], ranges: &mut Vec<Option<(usize, usize)>>) -> Result<(), String> {
    ranges.clear();
    let mut start = 0;
    loop {
        let end = memchr::memchr(b'\t', &line[start..]).map_or(line.len(), |i| start + i);
        let field = &line[start..end];
        if field == b"\\N" {
            ranges.push(None);
        } else if memchr::memchr(b'\\', field).is_none() {
            ranges.push(Some((start, end)));
        } else {
            let len = unescape_in_place(&mut line[start..end])?;
            ranges.push(Some((start, start + len)));
        }
        if end == line.len() {
            return Ok(());
        }
        start = end + 1;
    }
}

/// Decode the text format's backslash escapes (`\t \n \r \\ \b \f \v`,
/// octal `\NNN`, hex `\xHH`; any other escaped byte stands for itself) at
/// the front of `field`; returns the decoded length.
fn unescape_in_place(field: &mut [u8]) -> Result<usize, String> {
    let (mut r, mut w) = (0, 0);
    while r < field.len() {
        let b = field[r];
        r += 1;
        if b != b'\\' {
            field[w] = b;
            w += 1;
            continue;
        }
        let Some(&e) = field.get(r) else {
            return Err("a field ends in a lone backslash".to_string());
        };
        r += 1;
        field[w] = match e {
            b't' => b'\t',
            b'n' => b'\n',
            b'r' => b'\r',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'v' => 0x0b,
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match field.get(r) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            r += 1;
                        }
                        _ => break,
                    }
                }
                (v & 0xff) as u8
            }
            b'x' if field.get(r).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match field.get(r).and_then(|d| char::from(*d).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            r += 1;
                        }
                        None => break,
                    }
                }
                v as u8
            }
            other => other,
        };
        w += 1;
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &[u8]) -> Vec<Option<Vec<u8>>> {
        let mut l = line.to_vec();
        let mut ranges = Vec::new();
        split_copy_line(&mut l, &mut ranges).unwrap();
        ranges.iter().map(|r| r.map(|(s, e)| l[s..e].to_vec())).collect()
    }

    #[test]
    fn copy_text_fields_nulls_and_escapes() {
        assert_eq!(
            split(b"1\t\\N\tplain\t"),
            vec![Some(b"1".to_vec()), None, Some(b"plain".to_vec()), Some(Vec::new())]
        );
        assert_eq!(
            split(b"a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh"),
            vec![Some(b"a\tb\nc\rd\\e\x08f\x0cg\x0bh".to_vec())]
        );
        // Octal and hex escapes, an escaped N that is not NULL, an
        // unknown escape standing for itself.
        assert_eq!(
            split(b"\\101\\x42\\7\\xz\t\\\\N\t\\q"),
            vec![Some(b"AB\x07xz".to_vec()), Some(b"\\N".to_vec()), Some(b"q".to_vec())]
        );
        // UTF-8 through octal escapes.
        assert_eq!(split(b"\\303\\251t\\303\\251"), vec![Some("été".as_bytes().to_vec())]);
        assert_eq!(split(b""), vec![Some(Vec::new())]);
        let mut l = b"bad\\".to_vec();
        assert!(split_copy_line(&mut l, &mut Vec::new()).is_err());
    }

    #[test]
    fn catalogue_types_map_onto_schema_types() {
        assert_eq!(declared("int8"), Declared::Integer);
        assert_eq!(declared("numeric"), Declared::Float);
        assert_eq!(declared("bpchar"), Declared::Text);
        assert_eq!(declared("timestamptz"), Declared::Timestamp);
        assert_eq!(declared("jsonb"), Declared::Json);
        assert_eq!(declared("bytea"), Declared::Other);
        assert_eq!(declared("_int4"), Declared::Other);
    }
}
