//! Rows to bytes, in every format a sink takes: CSV, JSON lines,
//! PostgreSQL `COPY` text, MySQL `LOAD DATA` text and SQL `INSERT`s.
//! Encoding runs on the generator threads, in parallel; sinks only move
//! bytes.
//!
//! CSV is written here rather than with the csv crate's writer for one
//! reason: NULL and the empty string must differ (an unquoted empty field
//! is NULL, `""` is an empty string, as `psql \copy ... CSV` reads them),
//! which the csv writer cannot express.

use std::fmt::Write as _;

use super::batch::{Cell, RowBatch};
use super::schema::Table;

/// SQL flavour, for DDL and `INSERT` literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: `"quoted"` names, `TRUE`/`FALSE`.
    Postgres,
    /// MariaDB and MySQL: `` `quoted` `` names, backslashes escaped in strings.
    Mysql,
    /// SQLite: `"quoted"` names, booleans as `1`/`0`.
    Sqlite,
}

impl Dialect {
    /// The table's columns, quoted and comma-separated, for `INSERT`,
    /// `COPY` and `LOAD DATA`.
    pub fn column_list(self, table: &Table) -> String {
        let cols: Vec<String> = table.columns.iter().map(|c| self.quote_ident(&c.name)).collect();
        cols.join(", ")
    }

    /// A table or column name quoted for this dialect, quotes inside doubled.
    pub fn quote_ident(self, name: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }
}

/// What the generator threads turn rows into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Nothing: the sink reads the cells.
    None,
    /// CSV lines (RFC 4180), NULL as an unquoted empty field.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// PostgreSQL `COPY ... FROM STDIN` text format.
    PgText,
    /// MySQL `LOAD DATA` text (tabs, `\N`, booleans as `1`/`0`).
    MysqlText,
    /// `INSERT` statements of up to 1000 rows, batches aligned to row
    /// numbers so every run splits them the same way.
    Insert(Dialect),
}

/// Rows per `INSERT` statement.
const INSERT_BATCH: u64 = 1000;

/// Encode every row of `batch` (rows of `table`) onto `out`.
pub(crate) fn encode(enc: Encoding, table: &Table, batch: &RowBatch, out: &mut Vec<u8>) {
    let mut s = String::with_capacity(batch.rows * 96);
    match enc {
        Encoding::None => {}
        Encoding::Csv => {
            for r in 0..batch.rows {
                for (i, c) in batch.row(r).iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    csv_cell(c, batch, &mut s);
                }
                s.push('\n');
            }
        }
        Encoding::Jsonl => {
            for r in 0..batch.rows {
                s.push('{');
                for (i, (c, col)) in batch.row(r).iter().zip(&table.columns).enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    json_string(&col.name, &mut s);
                    s.push(':');
                    json_value(c, batch.str(c), &mut s);
                }
                s.push_str("}\n");
            }
        }
        Encoding::PgText | Encoding::MysqlText => {
            let mysql = enc == Encoding::MysqlText;
            for r in 0..batch.rows {
                for (i, c) in batch.row(r).iter().enumerate() {
                    if i > 0 {
                        s.push('\t');
                    }
                    copy_cell(c, batch, mysql, &mut s);
                }
                s.push('\n');
            }
        }
        Encoding::Insert(d) => {
            let head = insert_head(d, table);
            for r in 0..batch.rows {
                let row = batch.first_row + r as u64;
                if r == 0 || row % INSERT_BATCH == 0 {
                    s.push_str(&head);
                } else {
                    s.push_str(",\n");
                }
                s.push('(');
                for (i, c) in batch.row(r).iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    sql_literal(d, c, batch.str(c), &mut s);
                }
                s.push(')');
                if r + 1 == batch.rows || (row + 1) % INSERT_BATCH == 0 {
                    s.push_str(";\n");
                }
            }
        }
    }
    if out.is_empty() {
        *out = s.into_bytes();
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// The CSV header line.
pub(crate) fn csv_header(table: &Table) -> String {
    let mut s = String::new();
    for (i, c) in table.columns.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        csv_text(&c.name, &mut s);
    }
    s.push('\n');
    s
}

fn insert_head(d: Dialect, table: &Table) -> String {
    format!(
        "INSERT INTO {} ({}) VALUES\n",
        d.quote_ident(&table.name),
        d.column_list(table)
    )
}

fn csv_text(v: &str, s: &mut String) {
    crate::values::text::csv_field(v, s);
}

fn csv_cell(c: &Cell, batch: &RowBatch, s: &mut String) {
    match c {
        Cell::Null => {}
        Cell::Text { .. } | Cell::Json { .. } => csv_text(batch.str(c), s),
        other => scalar(other, false, s),
    }
}

/// Non-text values as text: numbers, `true`/`false` (or 1/0), times
/// (`2024-05-01 13:45:00`), dates, UUIDs.
pub(crate) fn scalar(c: &Cell, bool_as_int: bool, s: &mut String) {
    match *c {
        Cell::Int(i) => s.push_str(itoa::Buffer::new().format(i)),
        Cell::Float(f) => float(f, s),
        Cell::Bool(b) => s.push_str(match (b, bool_as_int) {
            (true, false) => "true",
            (false, false) => "false",
            (true, true) => "1",
            (false, true) => "0",
        }),
        Cell::Time(t) => datetime(t, ' ', s),
        Cell::Date(t) => date(t, s),
        Cell::Uuid(u) => uuid(u, s),
        Cell::Null | Cell::Text { .. } | Cell::Json { .. } => {}
    }
}

fn float(f: f64, s: &mut String) {
    if f.is_finite() {
        let mut b = ryu::Buffer::new();
        let t = b.format_finite(f);
        s.push_str(t.strip_suffix(".0").unwrap_or(t));
    } else {
        s.push_str("NaN");
    }
}

/// Text for PostgreSQL `COPY ... FROM STDIN` (text format) or MySQL `LOAD
/// DATA` defaults: tab-separated, `\N` for NULL, backslash escapes.
fn copy_cell(c: &Cell, batch: &RowBatch, mysql: bool, s: &mut String) {
    match c {
        Cell::Null => s.push_str("\\N"),
        Cell::Text { .. } | Cell::Json { .. } => crate::values::text::copy_field(batch.str(c), s),
        other => scalar(other, mysql, s),
    }
}

fn sql_literal(d: Dialect, c: &Cell, text: &str, s: &mut String) {
    match c {
        Cell::Null => s.push_str("NULL"),
        Cell::Int(_) | Cell::Float(_) => scalar(c, false, s),
        Cell::Bool(b) => s.push_str(match (d, b) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }),
        Cell::Text { .. } | Cell::Json { .. } => sql_string(d, text, s),
        other => {
            let mut t = String::new();
            scalar(other, false, &mut t);
            sql_string(d, &t, s);
        }
    }
}

fn sql_string(d: Dialect, v: &str, s: &mut String) {
    s.push('\'');
    for ch in v.chars() {
        match ch {
            '\'' => s.push_str("''"),
            // MySQL reads backslashes in strings as escapes by default.
            '\\' if d == Dialect::Mysql => s.push_str("\\\\"),
            c => s.push(c),
        }
    }
    s.push('\'');
}

/// A JSON string literal.
// Not serde_json: through an `io::Write` onto this `String` it cost 18% more
// instructions in `synth --to jsonl` (cachegrind, shop at 0.1: 733.7M vs 619.7M).
pub(crate) fn json_string(v: &str, s: &mut String) {
    s.push('"');
    for ch in v.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

/// A cell as a JSON value: numbers and booleans bare, times in RFC 3339,
/// JSON documents embedded as they are.
pub(crate) fn json_value(c: &Cell, text: &str, s: &mut String) {
    match *c {
        Cell::Null => s.push_str("null"),
        Cell::Int(_) | Cell::Bool(_) => scalar(c, false, s),
        Cell::Float(f) if f.is_finite() => float(f, s),
        Cell::Float(_) => s.push_str("null"),
        Cell::Time(t) => {
            s.push('"');
            datetime(t, 'T', s);
            s.push_str("Z\"");
        }
        Cell::Date(_) | Cell::Uuid(_) => {
            s.push('"');
            scalar(c, false, s);
            s.push('"');
        }
        Cell::Text { .. } => json_string(text, s),
        Cell::Json { .. } => s.push_str(text),
    }
}

fn push2(n: u32, s: &mut String) {
    s.push((b'0' + (n / 10) as u8) as char);
    s.push((b'0' + (n % 10) as u8) as char);
}

fn date(t: i64, s: &mut String) {
    let (y, m, d) = crate::dates::civil_from_days(t.div_euclid(86_400));
    if (0..10_000).contains(&y) {
        let y = y as u32;
        push2(y / 100, s);
        push2(y % 100, s);
    } else {
        let _ = write!(s, "{y}");
    }
    s.push('-');
    push2(m, s);
    s.push('-');
    push2(d, s);
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`), UTC.
fn datetime(t: i64, sep: char, s: &mut String) {
    date(t, s);
    let secs = t.rem_euclid(86_400) as u32;
    s.push(sep);
    push2(secs / 3600, s);
    s.push(':');
    push2(secs / 60 % 60, s);
    s.push(':');
    push2(secs % 60, s);
}

fn uuid(u: u128, s: &mut String) {
    let h = format!("{u:032x}");
    s.push_str(&h[0..8]);
    s.push('-');
    s.push_str(&h[8..12]);
    s.push('-');
    s.push_str(&h[12..16]);
    s.push('-');
    s.push_str(&h[16..20]);
    s.push('-');
    s.push_str(&h[20..32]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_jiff() {
        for t in [
            0i64,
            86_399,
            951_782_400,
            1_609_459_200,
            1_777_777_777,
            -86_400,
            4_102_444_800,
        ] {
            let mut s = String::new();
            datetime(t, 'T', &mut s);
            let j = jiff::Timestamp::from_second(t)
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%S")
                .to_string();
            assert_eq!(s, j, "{t}");
        }
    }

    #[test]
    fn json_strings_escape_controls() {
        let mut s = String::new();
        json_string("a\"b\\c\nd\u{1}", &mut s);
        assert_eq!(s, r#""a\"b\\c\nd\u0001""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}");
    }

    #[test]
    fn uuids_are_hyphenated() {
        let mut s = String::new();
        uuid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef, &mut s);
        assert_eq!(s, "01234567-89ab-cdef-0123-456789abcdef");
    }
}
