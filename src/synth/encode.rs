//! Rows to bytes, in every format a sink takes: CSV, JSON lines,
//! PostgreSQL `COPY` text and binary, MySQL `LOAD DATA` text and SQL `INSERT`s.
//! Encoding runs on the generator threads, in parallel; sinks only move
//! bytes.
//!
//! CSV is written here rather than with the csv crate's writer for one
//! reason: NULL and the empty string must differ (an unquoted empty field
//! is NULL, `""` is an empty string, as `psql \copy ... CSV` reads them),
//! which the csv writer cannot express.

use std::fmt::Write as _;

use super::batch::{Cell, RowBatch};
use super::schema::{Kind, Table};

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
    /// PostgreSQL `COPY ... FROM STDIN (FORMAT binary)` rows, without the
    /// stream's header and trailer ([`PG_BINARY_HEADER`], [`PG_BINARY_TRAILER`]).
    /// Each value is in the binary form of its column's type (see
    /// [`pg_binary_cell`]); the server then only copies bytes, where the
    /// text format has it parse every number and time.
    PgBinary,
    /// MySQL `LOAD DATA` text (tabs, `\N`, booleans as `1`/`0`).
    MysqlText,
    /// `INSERT` statements of up to 1000 rows, batches aligned to row
    /// numbers so every run splits them the same way.
    Insert(Dialect),
}

/// Rows per `INSERT` statement.
const INSERT_BATCH: u64 = 1000;

/// Whether an encoding's rows are written each on its own, so that a chunk
/// encoded a few rows at a time gives the same bytes as the whole chunk at
/// once (`INSERT` statements span rows).
pub(crate) fn row_by_row(enc: Encoding) -> bool {
    !matches!(enc, Encoding::Insert(_))
}

/// The binary `COPY` rows of `batch` onto `out`.
pub(crate) fn pg_binary_rows(table: &Table, batch: &RowBatch, out: &mut Vec<u8>) {
    out.reserve(batch.rows * 64);
    for r in 0..batch.rows {
        let row = batch.row(r);
        out.extend_from_slice(&(row.len() as i16).to_be_bytes());
        for (c, col) in row.iter().zip(&table.columns) {
            pg_binary_cell(c, col.kind, batch, out);
        }
    }
}

/// Every row of `batch` in a text encoding (any but [`Encoding::PgBinary`])
/// onto `s`.
pub(crate) fn encode_text(enc: Encoding, table: &Table, batch: &RowBatch, s: &mut String) {
    s.reserve(batch.rows * 96);
    match enc {
        Encoding::None | Encoding::PgBinary => {}
        Encoding::Csv => {
            for r in 0..batch.rows {
                for (i, c) in batch.row(r).iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    csv_cell(c, batch, s);
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
                    json_string(&col.name, s);
                    s.push(':');
                    json_value(c, batch.str(c), s);
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
                    copy_cell(c, batch, mysql, s);
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
                    sql_literal(d, c, batch.str(c), s);
                }
                s.push(')');
                if r + 1 == batch.rows || (row + 1) % INSERT_BATCH == 0 {
                    s.push_str(";\n");
                }
            }
        }
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
/// What a binary `COPY` stream starts with: the signature, no flags, no header extension.
pub(crate) const PG_BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// What a binary `COPY` stream ends with: a field count of -1.
pub(crate) const PG_BINARY_TRAILER: &[u8] = &[0xff, 0xff];

/// Seconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH: i64 = 946_684_800;

/// One field of a binary `COPY` row: its length, then the value in the binary form of the
/// column's PostgreSQL type (`bigint`, `double precision`, `boolean`, `text`, `timestamp`,
/// `date`, `uuid`, `jsonb`: see `sink::ddl`). The value stored is the one the text format
/// gives for the same cell: a cell of another kind than its column (a `one_of` of numbers
/// written as text, an integer in a `float` column, a date in a `timestamp` column) is
/// converted as the server would read its text. A cell that the server could not read as
/// the column's type gets a field of the wrong length, which the server refuses, as it
/// refuses the text.
pub(crate) fn pg_binary_cell(c: &Cell, kind: Kind, batch: &RowBatch, out: &mut Vec<u8>) {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    if matches!(c, Cell::Null) {
        out.extend_from_slice(&(-1i32).to_be_bytes());
        return;
    }
    let text = batch.str(c);
    match kind {
        Kind::Text | Kind::Json => {
            let version: &[u8] = if kind == Kind::Json { &[1] } else { &[] };
            let mut s = String::new();
            let v = match c {
                Cell::Text { .. } | Cell::Json { .. } => text,
                other => {
                    scalar(other, false, &mut s);
                    &s
                }
            };
            out.extend_from_slice(&((v.len() + version.len()) as i32).to_be_bytes());
            out.extend_from_slice(version);
            out.extend_from_slice(v.as_bytes());
        }
        Kind::Int => match *c {
            Cell::Int(i) => field(out, &i.to_be_bytes()),
            Cell::Text { .. } => match text.trim().parse::<i64>() {
                Ok(i) => field(out, &i.to_be_bytes()),
                Err(_) => field(out, &[]),
            },
            _ => field(out, &[]),
        },
        Kind::Float => {
            let f = match *c {
                // The text format writes every non-finite value as `NaN`.
                Cell::Float(f) if !f.is_finite() => Some(f64::NAN),
                Cell::Float(f) => Some(f),
                Cell::Int(i) => Some(i as f64),
                Cell::Text { .. } => text.trim().parse::<f64>().ok(),
                _ => None,
            };
            match f {
                Some(f) => field(out, &f.to_bits().to_be_bytes()),
                None => field(out, &[]),
            }
        }
        Kind::Bool => {
            let b = match *c {
                Cell::Bool(b) => Some(b),
                Cell::Text { .. } if text == "true" => Some(true),
                Cell::Text { .. } if text == "false" => Some(false),
                _ => None,
            };
            match b {
                Some(b) => field(out, &[u8::from(b)]),
                None => field(out, &[]),
            }
        }
        Kind::Timestamp => match *c {
            Cell::Time(t) | Cell::Date(t) => field(out, &((t - PG_EPOCH) * 1_000_000).to_be_bytes()),
            _ => field(out, &[]),
        },
        Kind::Date => match *c {
            Cell::Date(t) | Cell::Time(t) => field(out, &((t - PG_EPOCH).div_euclid(86_400) as i32).to_be_bytes()),
            _ => field(out, &[]),
        },
        Kind::Uuid => match *c {
            Cell::Uuid(u) => field(out, &u.to_be_bytes()),
            _ => field(out, &[]),
        },
    }
}

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

/// Two decimal digits of `n` (below 100) at `b[0..2]`.
fn put2(n: u32, b: &mut [u8]) {
    b[0] = b'0' + (n / 10) as u8;
    b[1] = b'0' + (n % 10) as u8;
}

/// `YYYY-MM-DD`, UTC (a year outside 0..=9999 written in full).
fn date(t: i64, s: &mut String) {
    let (y, m, d) = crate::dates::civil_from_days(t.div_euclid(86_400));
    let mut b = *b"0000-00-00";
    put2(m, &mut b[5..]);
    put2(d, &mut b[8..]);
    if (0..10_000).contains(&y) {
        let y = y as u32;
        put2(y / 100, &mut b[0..]);
        put2(y % 100, &mut b[2..]);
        s.push_str(ascii(&b));
    } else {
        let _ = write!(s, "{y}");
        s.push_str(ascii(&b[4..]));
    }
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`), UTC.
fn datetime(t: i64, sep: char, s: &mut String) {
    date(t, s);
    let secs = t.rem_euclid(86_400) as u32;
    let mut b = *b" 00:00:00";
    put2(secs / 3600, &mut b[1..]);
    put2(secs / 60 % 60, &mut b[4..]);
    put2(secs % 60, &mut b[7..]);
    s.push(sep);
    s.push_str(ascii(&b[1..]));
}

/// Bytes written above, all ASCII, as text (one append instead of one
/// `push` per character).
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
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

    /// Each kind's binary field: the length, then the value as PostgreSQL's `*recv`
    /// functions read it; cells of another kind than the column are read as their text.
    #[test]
    fn binary_copy_fields() {
        let mut batch = RowBatch {
            text: "hello42true{\"a\":1}".into(),
            ..RowBatch::default()
        };
        let text = |start, len| Cell::Text { start, len };
        let field = |c: Cell, kind: Kind, batch: &RowBatch| {
            let mut out = Vec::new();
            pg_binary_cell(&c, kind, batch, &mut out);
            out
        };
        let with_len = |bytes: &[u8]| [&(bytes.len() as i32).to_be_bytes()[..], bytes].concat();
        assert_eq!(field(Cell::Null, Kind::Int, &batch), (-1i32).to_be_bytes());
        assert_eq!(
            field(Cell::Int(-2), Kind::Int, &batch),
            with_len(&(-2i64).to_be_bytes())
        );
        assert_eq!(field(text(5, 2), Kind::Int, &batch), with_len(&42i64.to_be_bytes()));
        assert_eq!(
            field(Cell::Int(3), Kind::Float, &batch),
            with_len(&3f64.to_bits().to_be_bytes())
        );
        let inf = field(Cell::Float(f64::INFINITY), Kind::Float, &batch);
        assert!(f64::from_bits(u64::from_be_bytes(inf[4..].try_into().unwrap())).is_nan());
        assert_eq!(field(text(7, 4), Kind::Bool, &batch), with_len(&[1]));
        assert_eq!(field(text(0, 5), Kind::Text, &batch), with_len(b"hello"));
        assert_eq!(field(Cell::Int(7), Kind::Text, &batch), with_len(b"7"));
        assert_eq!(
            field(Cell::Json { start: 11, len: 7 }, Kind::Json, &batch),
            with_len(b"\x01{\"a\":1}")
        );
        // 2000-01-01 00:00:01 UTC: one second after PostgreSQL's epoch, in microseconds.
        assert_eq!(
            field(Cell::Time(946_684_801), Kind::Timestamp, &batch),
            with_len(&1_000_000i64.to_be_bytes())
        );
        assert_eq!(
            field(Cell::Date(946_684_800 - 86_400), Kind::Date, &batch),
            with_len(&(-1i32).to_be_bytes())
        );
        assert_eq!(
            field(Cell::Time(946_684_800 + 90_000), Kind::Date, &batch),
            with_len(&1i32.to_be_bytes())
        );
        assert_eq!(field(Cell::Uuid(1), Kind::Uuid, &batch), with_len(&1u128.to_be_bytes()));
        // What the server could not read as the column's type: a field it refuses.
        assert_eq!(field(text(0, 5), Kind::Int, &batch), with_len(&[]));
        batch.text.clear();
    }

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
