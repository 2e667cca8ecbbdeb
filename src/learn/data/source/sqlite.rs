//! SQLite (`sqlite:FILE`, `sqlite://FILE`): an existing file, opened
//! read-only (never created). Tables from `sqlite_master` (without SQLite's
//! own `sqlite_*`), columns from `pragma_table_info`, unique indexes from
//! `pragma_index_list` / `pragma_index_info`, foreign keys from
//! `pragma_foreign_key_list` (a key naming no parent column refers to the
//! parent's primary key).
//!
//! Types follow SQLite's affinity rules on the declared type name (`INT`
//! anywhere: integer; `CHAR`, `CLOB`, `TEXT`: text; then the names SQLite
//! leaves to the application: `BOOL`, `TIMESTAMP`/`DATETIME`, `DATE`,
//! `UUID`, `JSON`; `REAL`, `FLOA`, `DOUB`, `NUMERIC`, `DECIMAL`: float; no
//! type: unknown). Values are rendered as text: integers in decimal, reals
//! as `synth` writes them (shortest round-trip, no trailing `.0`,
//! `Infinity`), text as it is, blobs as lowercase hex.

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{emit, push_hex, quote, ColumnInfo, Declared, ForeignKey, Source, SourceError, TableInfo};

/// A SQLite database file, open read-only.
pub(super) struct SqliteSource {
    path: PathBuf,
    conn: Connection,
}

/// SQLite's type affinity, refined into the schema's types.
fn declared(type_name: &str) -> Declared {
    let t = type_name.to_ascii_uppercase();
    let has = |s: &str| t.contains(s);
    if t.trim().is_empty() {
        Declared::Unknown
    } else if has("INT") {
        Declared::Integer
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        Declared::Text
    } else if has("BOOL") {
        Declared::Boolean
    } else if has("TIMESTAMP") || has("DATETIME") {
        Declared::Timestamp
    } else if has("DATE") {
        Declared::Date
    } else if has("UUID") {
        Declared::Uuid
    } else if has("JSON") {
        Declared::Json
    } else if has("REAL") || has("FLOA") || has("DOUB") || has("NUMERIC") || has("DECIMAL") {
        Declared::Float
    } else {
        Declared::Other
    }
}

/// A real as text, the way `synth` writes one (`encode::float`): the
/// shortest round-trip form without a trailing `.0`.
fn push_real(f: f64, out: &mut String) {
    if f.is_finite() {
        let mut b = ryu::Buffer::new();
        let t = b.format_finite(f);
        out.push_str(t.strip_suffix(".0").unwrap_or(t));
    } else if f.is_nan() {
        out.push_str("NaN");
    } else if f > 0.0 {
        out.push_str("Infinity");
    } else {
        out.push_str("-Infinity");
    }
}

impl SqliteSource {
    pub(super) fn open(path: &Path) -> Result<Self, SourceError> {
        std::fs::metadata(path).map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| SourceError::Database {
            source_name: format!("sqlite:{}", path.display()),
            message: e.to_string(),
        })?;
        let s = SqliteSource {
            path: path.to_path_buf(),
            conn,
        };
        // A file that is not a database fails here, not at the first scan.
        s.conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
            .map_err(|e| s.err(&e))?;
        Ok(s)
    }

    fn err(&self, e: &rusqlite::Error) -> SourceError {
        SourceError::Database {
            source_name: self.describe(),
            message: e.to_string(),
        }
    }

    fn columns(&self, table: &str) -> Result<(Vec<ColumnInfo>, Vec<String>), SourceError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([table], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| self.err(&e))?;
        let mut pk: Vec<(i64, String)> = rows.iter().filter(|r| r.3 > 0).map(|r| (r.3, r.0.clone())).collect();
        pk.sort();
        let columns = rows
            .into_iter()
            .map(|(name, type_name, not_null, in_pk)| ColumnInfo {
                // An INTEGER PRIMARY KEY is the rowid: never NULL.
                not_null: not_null || (in_pk > 0 && pk.len() == 1 && type_name.eq_ignore_ascii_case("INTEGER")),
                declared: declared(&type_name),
                name,
                type_name,
            })
            .collect();
        Ok((columns, pk.into_iter().map(|(_, n)| n).collect()))
    }

    /// Unique indexes other than the primary key's, not partial, on
    /// columns (not expressions).
    fn unique(&self, table: &str) -> Result<Vec<Vec<String>>, SourceError> {
        let mut list = self
            .conn
            .prepare("SELECT name FROM pragma_index_list(?1) WHERE \"unique\" AND origin <> 'pk' AND NOT partial ORDER BY name")
            .map_err(|e| self.err(&e))?;
        let names = list
            .query_map([table], |r| r.get::<_, String>(0))
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| self.err(&e))?;
        let mut info = self
            .conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
            .map_err(|e| self.err(&e))?;
        let mut out: Vec<Vec<String>> = Vec::new();
        for index in names {
            let cols = info
                .query_map([&index], |r| r.get::<_, Option<String>>(0))
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| self.err(&e))?;
            if let Some(cols) = cols.into_iter().collect::<Option<Vec<String>>>() {
                if !cols.is_empty() && !out.contains(&cols) {
                    out.push(cols);
                }
            }
        }
        Ok(out)
    }

    fn foreign_keys(&self, table: &str) -> Result<Vec<ForeignKey>, SourceError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([table], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| self.err(&e))?;
        let mut out: Vec<(i64, ForeignKey, bool)> = Vec::new();
        for (id, parent, from, to) in rows {
            if out.last().is_none_or(|(i, _, _)| *i != id) {
                let fk = ForeignKey {
                    columns: Vec::new(),
                    parent,
                    parent_columns: Vec::new(),
                };
                out.push((id, fk, false));
            }
            if let Some((_, fk, to_pk)) = out.last_mut() {
                fk.columns.push(from);
                match to {
                    Some(c) => fk.parent_columns.push(c),
                    None => *to_pk = true,
                }
            }
        }
        let mut fks = Vec::with_capacity(out.len());
        for (_, mut fk, to_pk) in out {
            if to_pk {
                fk.parent_columns = self.columns(&fk.parent)?.1;
            }
            fks.push(fk);
        }
        Ok(fks)
    }
}

impl Source for SqliteSource {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_' ORDER BY name",
            )
            .map_err(|e| self.err(&e))?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| self.err(&e))?;
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            let (columns, primary_key) = self.columns(&name)?;
            tables.push(TableInfo {
                unique: self.unique(&name)?,
                foreign_keys: self.foreign_keys(&name)?,
                name,
                columns,
                primary_key,
            });
        }
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
        let sql = format!("SELECT {} FROM {}{limit}", cols.join(", "), quote(&table.name, '"'));
        let terr = |m: String| SourceError::Database {
            source_name: format!("sqlite:{}", self.path.display()),
            message: format!("table `{}`: {m}", table.name),
        };
        let mut stmt = self.conn.prepare(&sql).map_err(|e| terr(e.to_string()))?;
        let mut rows = stmt.query([]).map_err(|e| terr(e.to_string()))?;
        let mut text = String::new();
        let mut ranges: Vec<Option<(usize, usize)>> = Vec::with_capacity(table.columns.len());
        let mut fields: Vec<Option<&str>> = Vec::with_capacity(table.columns.len());
        let mut n = 0u64;
        while let Some(r) = rows.next().map_err(|e| terr(e.to_string()))? {
            text.clear();
            ranges.clear();
            for (i, c) in table.columns.iter().enumerate() {
                let start = text.len();
                match r.get_ref(i).map_err(|e| terr(e.to_string()))? {
                    ValueRef::Null => {
                        ranges.push(None);
                        continue;
                    }
                    ValueRef::Integer(v) => text.push_str(itoa::Buffer::new().format(v)),
                    ValueRef::Real(v) => push_real(v, &mut text),
                    ValueRef::Text(b) => text.push_str(
                        std::str::from_utf8(b)
                            .map_err(|_| terr(format!("row {}: column `{}` is not UTF-8", n + 1, c.name)))?,
                    ),
                    ValueRef::Blob(b) => push_hex(b, &mut text),
                }
                ranges.push(Some((start, text.len())));
            }
            let go_on;
            (fields, go_on) = emit(fields, &ranges, &text, row);
            n += 1;
            if !go_on {
                break;
            }
        }
        Ok(n)
    }

    fn count(&mut self, table: &TableInfo) -> Result<u64, SourceError> {
        let sql = format!("SELECT count(*) FROM {}", quote(&table.name, '"'));
        let n: i64 = self.conn.query_row(&sql, [], |r| r.get(0)).map_err(|e| self.err(&e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_rules() {
        for (t, d) in [
            ("INTEGER", Declared::Integer),
            ("bigint", Declared::Integer),
            ("VARCHAR(80)", Declared::Text),
            ("CLOB", Declared::Text),
            ("REAL", Declared::Float),
            ("DOUBLE PRECISION", Declared::Float),
            ("FLOAT", Declared::Float),
            ("NUMERIC(10,2)", Declared::Float),
            ("BOOLEAN", Declared::Boolean),
            ("DATETIME", Declared::Timestamp),
            ("timestamp", Declared::Timestamp),
            ("DATE", Declared::Date),
            ("UUID", Declared::Uuid),
            ("JSON", Declared::Json),
            ("BLOB", Declared::Other),
            ("", Declared::Unknown),
        ] {
            assert_eq!(declared(t), d, "{t}");
        }
    }

    #[test]
    fn reals_render_as_synth_writes_them() {
        let mut s = String::new();
        for f in [12.0, 0.1, -2.5e-7, 1e300, f64::INFINITY] {
            push_real(f, &mut s);
            s.push(' ');
        }
        assert_eq!(s, "12 0.1 -2.5e-7 1e300 Infinity ");
    }

    fn db(sql: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.db");
        Connection::open(&p).unwrap().execute_batch(sql).unwrap();
        (d, p)
    }

    #[test]
    fn keys_composite_foreign_keys_and_quoted_names() {
        let (_d, p) = db(r#"
            CREATE TABLE "Parent Table" (a INTEGER NOT NULL, "B col" TEXT NOT NULL, PRIMARY KEY (a, "B col"));
            CREATE TABLE child (id INTEGER PRIMARY KEY, pa INTEGER, pb TEXT, code TEXT, x,
              FOREIGN KEY (pa, pb) REFERENCES "Parent Table");
            CREATE UNIQUE INDEX child_code ON child (code);
            CREATE UNIQUE INDEX child_part ON child (x) WHERE x IS NOT NULL;
            INSERT INTO "Parent Table" VALUES (1, 'one');
            INSERT INTO child VALUES (1, 1, 'one', 'c1', x'00ff'), (2, NULL, NULL, NULL, 2.5);
        "#);
        let mut s = SqliteSource::open(&p).unwrap();
        let t = s.tables().unwrap();
        assert_eq!(
            t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["Parent Table", "child"]
        );
        assert_eq!(t[0].primary_key, ["a", "B col"]);
        let c = &t[1];
        assert_eq!(c.primary_key, ["id"]);
        assert!(c.columns[0].not_null, "the rowid is never NULL");
        assert_eq!(c.columns[4].declared, Declared::Unknown);
        assert_eq!(c.unique, vec![vec!["code".to_string()]]);
        assert_eq!(
            c.foreign_keys,
            vec![ForeignKey {
                columns: vec!["pa".into(), "pb".into()],
                parent: "Parent Table".into(),
                parent_columns: vec!["a".into(), "B col".into()],
            }]
        );
        let mut rows = Vec::new();
        let n = s
            .scan(c, None, &mut |r| {
                rows.push(r.iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>());
                true
            })
            .unwrap();
        assert_eq!(n, 2);
        let o = |v: &str| Some(v.to_string());
        assert_eq!(rows[0], vec![o("1"), o("1"), o("one"), o("c1"), o("00ff")]);
        assert_eq!(rows[1], vec![o("2"), None, None, None, o("2.5")]);
        assert_eq!(s.count(&t[0]).unwrap(), 1);
        assert_eq!(s.scan(c, Some(1), &mut |_| true).unwrap(), 1);
        assert_eq!(s.scan(c, None, &mut |_| false).unwrap(), 1);
    }

    #[test]
    fn opens_read_only_and_never_creates() {
        let (_d, p) = db("CREATE TABLE t (a)");
        let mut s = SqliteSource::open(&p).unwrap();
        let t = s.tables().unwrap();
        assert_eq!(s.scan(&t[0], None, &mut |_| true).unwrap(), 0, "an empty table");
        assert_eq!(s.count(&t[0]).unwrap(), 0);
        assert!(s.conn.execute_batch("INSERT INTO t VALUES (1)").is_err());
        let missing = p.with_file_name("missing.db");
        assert!(matches!(SqliteSource::open(&missing), Err(SourceError::Io { .. })));
        assert!(!missing.exists());
        let junk = p.with_file_name("junk.db");
        std::fs::write(&junk, "not a database, just text that is long enough to have a header").unwrap();
        assert!(matches!(SqliteSource::open(&junk), Err(SourceError::Database { .. })));
    }
}
