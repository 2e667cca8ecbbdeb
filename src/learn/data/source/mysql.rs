//! MariaDB and MySQL (`mysql://`, `mariadb://`): the base tables of the
//! URL's database, described from `information_schema` (`COLUMNS`,
//! `STATISTICS` for the primary key and unique indexes, which is where
//! unique constraints live too, `KEY_COLUMN_USAGE` for foreign keys), and
//! rows read with the text protocol, streamed row by row.
//!
//! The session runs with `time_zone = '+00:00'`, so a `TIMESTAMP` comes out
//! in UTC. `tinyint(1)` (what `BOOLEAN` becomes) is a boolean; MariaDB's
//! `JSON` is `longtext` with a `json_valid` check, found in
//! `CHECK_CONSTRAINTS` (MariaDB 10.2+; servers without it only get the
//! `json` type). Values of binary columns (`blob`, `binary`, `varbinary`)
//! come out as lowercase hex; invalid UTF-8 in any other column is an
//! error.
//!
//! Stopping a scan early still reads the rest of the result off the wire
//! (the protocol has no way to cancel a result set); `limit` goes into the
//! query, so a sample never reads more than it asks for.

use std::collections::HashSet;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, Value};

use super::{db_error, emit, quote, ColumnInfo, Declared, ForeignKey, Source, SourceError, TableInfo};

/// A connection to one database of a MariaDB or MySQL server.
pub(super) struct MysqlSource {
    /// The URL as the user wrote it (for messages).
    url: String,
    conn: Conn,
}

/// `DATA_TYPE` and `COLUMN_TYPE` as a schema type.
fn declared(data_type: &str, column_type: &str) -> Declared {
    match data_type {
        "tinyint" if column_type.starts_with("tinyint(1)") => Declared::Boolean,
        "bool" | "boolean" => Declared::Boolean,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => Declared::Integer,
        "decimal" | "numeric" | "float" | "double" | "real" => Declared::Float,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => Declared::Text,
        "datetime" | "timestamp" => Declared::Timestamp,
        "date" => Declared::Date,
        "uuid" => Declared::Uuid,
        "json" => Declared::Json,
        _ => Declared::Other,
    }
}

/// `json_valid(`col`)` (any case, as MariaDB writes the check of a JSON
/// column): the column's name.
fn json_check_column(clause: &str) -> Option<String> {
    let c = clause.trim();
    let inner = c.get(..11).filter(|h| h.eq_ignore_ascii_case("json_valid("))?;
    let arg = c[inner.len()..].strip_suffix(')')?.trim();
    let name = arg.strip_prefix('`')?.strip_suffix('`')?;
    Some(name.replace("``", "`"))
}

impl MysqlSource {
    pub(super) fn connect(url: &str) -> Result<Self, SourceError> {
        Self::connect_as(url, url)
    }

    /// Connect to `url` (a `mysql://` URL), naming the source `shown`.
    pub(super) fn connect_as(url: &str, shown: &str) -> Result<Self, SourceError> {
        let opts = Opts::from_url(url).map_err(|e| db_error(shown, &format!("bad URL: {e}")))?;
        if opts.get_db_name().is_none_or(str::is_empty) {
            return Err(SourceError::BadSource(format!(
                "{}: the URL names no database (mysql://USER@HOST/DATABASE)",
                crate::synth::sink::redact_url(shown)
            )));
        }
        let mut conn = Conn::new(opts).map_err(|e| db_error(shown, &format!("cannot connect: {e}")))?;
        conn.query_drop("SET NAMES utf8mb4, SESSION time_zone = '+00:00'")
            .map_err(|e| db_error(shown, &e.to_string()))?;
        Ok(MysqlSource {
            url: shown.to_string(),
            conn,
        })
    }

    fn err(&self, e: &mysql::Error) -> SourceError {
        db_error(&self.url, &e.to_string())
    }

    /// (table, column) of the `json_valid` checks of this database; none
    /// when the server has no `CHECK_CONSTRAINTS` with table names.
    fn json_checks(&mut self) -> HashSet<(String, String)> {
        let rows: Result<Vec<(String, String)>, _> = self.conn.query(
            "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE()",
        );
        rows.unwrap_or_default()
            .into_iter()
            .filter_map(|(t, clause)| Some((t, json_check_column(&clause)?)))
            .collect()
    }

    fn add_columns(&mut self, tables: &mut [TableInfo]) -> Result<(), SourceError> {
        let json = self.json_checks();
        let rows: Vec<(String, String, String, String, String)> = self
            .conn
            .query(
                "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY TABLE_NAME, ORDINAL_POSITION",
            )
            .map_err(|e| self.err(&e))?;
        for (table, name, data_type, column_type, nullable) in rows {
            let Some(t) = tables.iter_mut().find(|t| t.name == table) else {
                continue;
            };
            let data_type = data_type.to_ascii_lowercase();
            let mut d = declared(&data_type, &column_type.to_ascii_lowercase());
            if data_type == "longtext" && json.contains(&(table.clone(), name.clone())) {
                d = Declared::Json;
            }
            t.columns.push(ColumnInfo {
                name,
                declared: d,
                type_name: column_type,
                not_null: nullable.eq_ignore_ascii_case("NO"),
            });
        }
        Ok(())
    }

    /// The primary key and unique indexes (whole columns only: a prefix
    /// index does not make the column unique), then foreign keys.
    fn add_keys(&mut self, tables: &mut [TableInfo]) -> Result<(), SourceError> {
        let rows: Vec<(String, String, Option<String>, Option<u64>)> = self
            .conn
            .query(
                "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 \
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            )
            .map_err(|e| self.err(&e))?;
        let mut indexes: Vec<(String, String, Option<Vec<String>>)> = Vec::new();
        for (table, index, column, sub_part) in rows {
            if indexes.last().is_none_or(|(t, i, _)| *t != table || *i != index) {
                indexes.push((table, index, Some(Vec::new())));
            }
            if let Some((_, _, cols)) = indexes.last_mut() {
                match (column.filter(|_| sub_part.is_none()), cols) {
                    (Some(c), Some(v)) => v.push(c),
                    (None, cols) => *cols = None,
                    (Some(_), None) => {}
                }
            }
        }
        for (table, index, cols) in indexes {
            let (Some(t), Some(cols)) = (tables.iter_mut().find(|t| t.name == table), cols) else {
                continue;
            };
            if index == "PRIMARY" {
                t.primary_key = cols;
            } else if !t.unique.contains(&cols) {
                t.unique.push(cols);
            }
        }
        let rows: Vec<(String, String, String, String, String)> = self
            .conn
            .query(
                "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
                 FROM information_schema.KEY_COLUMN_USAGE \
                 WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL \
                 ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
            )
            .map_err(|e| self.err(&e))?;
        let mut last: Option<(String, String)> = None;
        for (table, constraint, column, parent, parent_column) in rows {
            let Some(t) = tables.iter_mut().find(|t| t.name == table) else {
                continue;
            };
            let key = Some((table, constraint));
            if last != key {
                t.foreign_keys.push(ForeignKey {
                    columns: Vec::new(),
                    parent,
                    parent_columns: Vec::new(),
                });
                last = key;
            }
            if let Some(fk) = t.foreign_keys.last_mut() {
                fk.columns.push(column);
                fk.parent_columns.push(parent_column);
            }
        }
        Ok(())
    }
}

impl Source for MysqlSource {
    fn describe(&self) -> String {
        crate::synth::sink::redact_url(&self.url)
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let names: Vec<String> = self
            .conn
            .query(
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            )
            .map_err(|e| self.err(&e))?;
        let mut tables: Vec<TableInfo> = names
            .into_iter()
            .map(|name| TableInfo {
                name,
                columns: Vec::new(),
                primary_key: Vec::new(),
                unique: Vec::new(),
                foreign_keys: Vec::new(),
            })
            .collect();
        self.add_columns(&mut tables)?;
        self.add_keys(&mut tables)?;
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
        let cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name, '`')).collect();
        let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let sql = format!("SELECT {} FROM {}{limit}", cols.join(", "), quote(&table.name, '`'));
        let url = self.url.clone();
        let terr = |m: String| db_error(&url, &format!("table `{}`: {m}", table.name));
        let result = self.conn.query_iter(sql).map_err(|e| terr(e.to_string()))?;
        let binary: Vec<bool> = table
            .columns
            .iter()
            .map(|c| is_binary(c.declared, &c.type_name))
            .collect();
        let mut text = String::new();
        let mut ranges: Vec<Option<(usize, usize)>> = Vec::with_capacity(table.columns.len());
        let mut fields: Vec<Option<&str>> = Vec::with_capacity(table.columns.len());
        let mut n = 0u64;
        for r in result {
            let r = r.map_err(|e| terr(e.to_string()))?;
            text.clear();
            ranges.clear();
            for (i, c) in table.columns.iter().enumerate() {
                let start = text.len();
                let ok = match r.as_ref(i) {
                    None | Some(Value::NULL) => {
                        ranges.push(None);
                        continue;
                    }
                    Some(Value::Bytes(b)) => push_bytes(b, binary[i], &mut text),
                    Some(other) => {
                        text.push_str(other.as_sql(true).trim_matches('\''));
                        true
                    }
                };
                if !ok {
                    return Err(terr(format!("row {}: column `{}` is not UTF-8", n + 1, c.name)));
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
        let sql = format!("SELECT COUNT(*) FROM {}", quote(&table.name, '`'));
        let n: Option<u64> = self.conn.query_first(sql).map_err(|e| self.err(&e))?;
        Ok(n.unwrap_or(0))
    }
}

/// A binary column (`blob`, `binary(n)`, `varbinary(n)`, ...): its bytes
/// come out as hex, whether or not they happen to be UTF-8.
fn is_binary(declared: Declared, type_name: &str) -> bool {
    let t = type_name.to_ascii_lowercase();
    declared == Declared::Other && (t.contains("blob") || t.contains("binary"))
}

/// A text-protocol value onto `out`: a binary column's bytes as lowercase
/// hex, anything else as UTF-8 text; false when that is not UTF-8.
fn push_bytes(b: &[u8], binary: bool, out: &mut String) -> bool {
    if binary {
        super::push_hex(b, out);
        return true;
    }
    match std::str::from_utf8(b) {
        Ok(s) => out.push_str(s),
        Err(_) => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn information_schema_types_map_onto_schema_types() {
        assert_eq!(declared("tinyint", "tinyint(1)"), Declared::Boolean);
        assert_eq!(declared("tinyint", "tinyint(4)"), Declared::Integer);
        assert_eq!(declared("bigint", "bigint(20) unsigned"), Declared::Integer);
        assert_eq!(declared("varchar", "varchar(255)"), Declared::Text);
        assert_eq!(declared("datetime", "datetime"), Declared::Timestamp);
        assert_eq!(declared("decimal", "decimal(10,2)"), Declared::Float);
        assert_eq!(declared("blob", "blob"), Declared::Other);
        assert_eq!(declared("json", "json"), Declared::Json);
    }

    #[test]
    fn json_checks_name_their_column() {
        assert_eq!(json_check_column("json_valid(`doc`)").as_deref(), Some("doc"));
        assert_eq!(json_check_column("JSON_VALID(`a``b`)").as_deref(), Some("a`b"));
        assert_eq!(json_check_column("`x` > 0"), None);
        assert_eq!(json_check_column("json_valid(`a`) and `b` > 1"), None);
    }

    #[test]
    fn binary_columns_are_hex_text_must_be_utf8() {
        assert!(is_binary(Declared::Other, "varbinary(16)") && is_binary(Declared::Other, "longblob"));
        assert!(!is_binary(Declared::Text, "varchar(16)") && !is_binary(Declared::Other, "geometry"));
        let mut s = String::new();
        // Valid UTF-8 (U+07AD), still hex in a binary column.
        assert!(push_bytes(&[0xde, 0xad], true, &mut s));
        assert_eq!(s, "dead");
        assert!(!push_bytes(&[0xff], false, &mut s));
    }
}
