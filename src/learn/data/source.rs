//! Where `loadline synth learn` reads a sample from: a database or a
//! directory of files, seen through one interface.
//!
//! A [`Source`] lists its tables with what the source itself declares
//! (column types, primary key, unique and foreign-key constraints) and then
//! streams each table's rows as text, one row at a time, into a callback.
//! Nothing is collected: memory does not depend on the row count. Values
//! are text in the source's own canonical rendering (PostgreSQL's text
//! format, MySQL's text protocol, SQLite's value rendered as text, the CSV
//! field, a JSON scalar or compact JSON for an object or array); the
//! profiler parses them by the declared type, or infers the type when none
//! is declared (CSV, JSON lines).
//!
//! The source's own errors name the source (with any password removed), the
//! table and, for files, the path and line.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::synth::sink::redact_url;

mod csv;
mod jsonl;
mod mysql;
mod postgres;
mod sqlite;

/// The type a source declares for a column, mapped onto the schema's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// Any integer type (`integer`, `bigint`, `smallint`, `serial`, MySQL's
    /// `int`, SQLite's INTEGER affinity).
    Integer,
    /// `real`, `double precision`, `numeric`, `decimal`, `float`.
    Float,
    /// `boolean` (MySQL's `tinyint(1)` too).
    Boolean,
    /// `text`, `varchar`, `char`, ... and SQLite's TEXT affinity.
    Text,
    /// `timestamp`, `timestamptz`, `datetime`.
    Timestamp,
    /// `date`.
    Date,
    /// `uuid`.
    Uuid,
    /// `json`, `jsonb`.
    Json,
    /// A type the schema has no counterpart for (bytea, arrays, ...): the
    /// column is learned as text of the same shape.
    Other,
    /// Nothing declared (CSV, JSON lines, SQLite columns without a type):
    /// the profiler infers it from the values.
    Unknown,
}

/// One column as the source declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// The column's name.
    pub name: String,
    /// Its declared type.
    pub declared: Declared,
    /// The source's own type name, for messages and comments (`varchar(80)`).
    pub type_name: String,
    /// Declared `NOT NULL`.
    pub not_null: bool,
}

/// A declared foreign key (one or more columns).
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// The referencing columns of this table, in key order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub parent: String,
    /// The referenced columns, in key order.
    pub parent_columns: Vec<String>,
}

/// One table as the source declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    /// The table's name (a file's stem for `csv:` and `jsonl:`).
    pub name: String,
    /// The columns, in the source's order.
    pub columns: Vec<ColumnInfo>,
    /// The primary key's columns, empty when none is declared.
    pub primary_key: Vec<String>,
    /// Declared unique constraints and unique indexes (other than the
    /// primary key), each a list of columns.
    pub unique: Vec<Vec<String>>,
    /// Declared foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
}

/// Why a source cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The SOURCE argument is not one of the forms `synth learn` reads.
    #[error("{0}")]
    BadSource(String),
    /// The database could not be reached or refused a query.
    #[error("{source_name}: {message}")]
    Database {
        /// The source, with any password removed.
        source_name: String,
        /// What went wrong (never holding a password).
        message: String,
    },
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file's content is not what its format says.
    #[error("{}:{line}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when not known).
        line: u64,
        /// What is wrong, never quoting a value.
        message: String,
    },
    /// The source holds no table to learn (or none of those asked for).
    #[error("{0}: no tables to learn")]
    Empty(String),
    /// The callback asked to stop (its own error is kept by the caller).
    #[error("stopped")]
    Stopped,
}

/// A database or a directory of files to learn a schema from.
pub trait Source {
    /// The source for messages, with any password removed
    /// (`postgres://me:***@127.0.0.1/test`, `csv:dump/`).
    fn describe(&self) -> String;

    /// The tables (user tables only: no system catalogues), in a stable
    /// order (by name).
    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError>;

    /// Stream the rows of `table` (as returned by [`Source::tables`]): one
    /// call of `row` per row with one entry per column in the order of
    /// `table.columns`, `None` for NULL (an empty CSV field is `Some("")`;
    /// a JSON `null` or a missing key is `None`). At most `limit` rows when
    /// given. `row` returning `false` stops the scan early without error.
    /// Returns the number of rows passed to `row`.
    fn scan(
        &mut self,
        table: &TableInfo,
        limit: Option<u64>,
        row: &mut dyn FnMut(&[Option<&str>]) -> bool,
    ) -> Result<u64, SourceError>;

    /// The table's exact row count (`SELECT count(*)`), used when the scan
    /// was limited to a sample. Files return the count of data rows.
    fn count(&mut self, table: &TableInfo) -> Result<u64, SourceError>;
}

/// Open a SOURCE argument: `postgres://...`, `postgresql://...`,
/// `mysql://...`, `mariadb://...`, `sqlite:FILE`, `sqlite://FILE`,
/// `csv:DIR` or `jsonl:DIR` (one file per table: `DIR/NAME.csv`,
/// `DIR/NAME.jsonl`, gzip-compressed `.csv.gz` / `.jsonl.gz` too).
///
/// Connects (or lists the directory) now, so an unreachable database or a
/// missing directory is an error here, not later.
pub fn open(source: &str) -> Result<Box<dyn Source>, SourceError> {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return Ok(Box::new(postgres::PgSource::connect(source)?));
    }
    if lower.starts_with("mysql://") {
        return Ok(Box::new(mysql::MysqlSource::connect(source)?));
    }
    if lower.starts_with("mariadb://") {
        // The driver only knows `mysql://`; messages keep the user's scheme.
        let url = format!("mysql://{}", &source["mariadb://".len()..]);
        return Ok(Box::new(mysql::MysqlSource::connect_as(&url, source)?));
    }
    let path = |prefix: &str| -> Result<PathBuf, SourceError> {
        let rest = &source[prefix.len()..];
        if rest.is_empty() {
            return Err(SourceError::BadSource(format!(
                "`{source}`: the path after `{prefix}` is missing"
            )));
        }
        Ok(PathBuf::from(rest))
    };
    if lower.starts_with("sqlite://") {
        return Ok(Box::new(sqlite::SqliteSource::open(&path("sqlite://")?)?));
    }
    if lower.starts_with("sqlite:") {
        return Ok(Box::new(sqlite::SqliteSource::open(&path("sqlite:")?)?));
    }
    if lower.starts_with("csv:") {
        return Ok(Box::new(csv::CsvSource::open(&path("csv:")?)?));
    }
    if lower.starts_with("jsonl:") {
        return Ok(Box::new(jsonl::JsonlSource::open(&path("jsonl:")?)?));
    }
    Err(SourceError::BadSource(format!(
        "`{}`: expected postgres://..., postgresql://..., mysql://..., mariadb://..., sqlite:FILE, csv:DIR or jsonl:DIR",
        redact_url(source)
    )))
}

/// A database error: the URL without its password, and the driver's
/// message with the password scrubbed should a driver ever quote it.
fn db_error(url: &str, message: &str) -> SourceError {
    let mut message = message.to_string();
    if let Some(pw) = url_password(url) {
        if !pw.is_empty() {
            message = message.replace(&pw, "***");
        }
    }
    SourceError::Database {
        source_name: redact_url(url),
        message,
    }
}

/// The password of a `scheme://user:password@host/...` URL, as written.
fn url_password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let auth = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let userinfo = &auth[..auth.rfind('@')?];
    Some(userinfo.split_once(':')?.1.to_string())
}

/// A table or column name quoted with `q` (`"` or `` ` ``), quotes inside
/// doubled.
fn quote(name: &str, q: char) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    s.push(q);
    for c in name.chars() {
        if c == q {
            s.push(q);
        }
        s.push(c);
    }
    s.push(q);
    s
}

/// The same vector, emptied, for slices of another lifetime: one row's
/// field slices reuse the previous row's allocation.
fn recycle<'b>(mut v: Vec<Option<&str>>) -> Vec<Option<&'b str>> {
    v.clear();
    v.into_iter().map(|_| None).collect()
}

/// Hand one row, held as byte ranges of `text` (`None` for NULL), to `row`
/// in `fields`' allocation; returns the allocation for the next row and
/// whether `row` asked to go on.
fn emit<'a>(
    fields: Vec<Option<&'a str>>,
    ranges: &[Option<(usize, usize)>],
    text: &str,
    row: &mut dyn FnMut(&[Option<&str>]) -> bool,
) -> (Vec<Option<&'a str>>, bool) {
    let mut v = recycle(fields);
    v.extend(ranges.iter().map(|r| r.map(|(s, e)| &text[s..e])));
    let go_on = row(&v);
    (recycle(v), go_on)
}

/// The files of `dir` (not recursive) whose name ends with one of
/// `suffixes`, as (table name, path), sorted by name. Two files for one
/// table (`a.csv` and `a.csv.gz`) are an error.
fn table_files(dir: &Path, suffixes: &[&str], form: &str) -> Result<Vec<(String, PathBuf)>, SourceError> {
    let io = |source| SourceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Some(stem) = suffixes.iter().find_map(|s| name.strip_suffix(s)) else {
            continue;
        };
        if stem.is_empty() || !entry.path().is_file() {
            continue;
        }
        out.push((stem.to_string(), entry.path()));
    }
    out.sort();
    for w in out.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(SourceError::BadSource(format!(
                "{form}{}: two files for table `{}` ({} and {}); keep one",
                dir.display(),
                w[0].0,
                w[0].1.display(),
                w[1].1.display()
            )));
        }
    }
    if out.is_empty() {
        return Err(SourceError::Empty(format!("{form}{}", dir.display())));
    }
    Ok(out)
}

/// A file for reading, gunzipped when its name ends with `.gz`.
fn open_file(path: &Path) -> Result<Box<dyn BufRead>, SourceError> {
    let f = std::fs::File::open(path).map_err(|source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let r: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, f)))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 16, r)))
}

/// Bytes as lowercase hex.
fn push_hex(b: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(b.len() * 2);
    for &x in b {
        out.push(char::from(HEX[usize::from(x >> 4)]));
        out.push(char::from(HEX[usize::from(x & 15)]));
    }
}

/// A directory argument must exist and be a directory.
fn check_dir(dir: &Path) -> Result<(), SourceError> {
    let meta = std::fs::metadata(dir).map_err(|source| SourceError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(SourceError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::other("not a directory"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_forms_list_the_forms_without_the_password() {
        let Err(e) = open("ftp://me:hunter2@host/x") else {
            panic!("ftp accepted")
        };
        let m = e.to_string();
        assert!(
            m.contains("sqlite:FILE") && m.contains("csv:DIR") && m.contains("postgres://"),
            "{m}"
        );
        assert!(!m.contains("hunter2"), "{m}");
        assert!(matches!(open("csv:"), Err(SourceError::BadSource(_))));
    }

    #[test]
    fn passwords_are_scrubbed_from_messages() {
        assert_eq!(url_password("postgres://u:p%40ss@h/db").as_deref(), Some("p%40ss"));
        assert_eq!(url_password("postgres://u@h/db"), None);
        let e = db_error("mysql://u:s3cret@h/db", "login s3cret failed");
        let m = e.to_string();
        assert!(!m.contains("s3cret"), "{m}");
        assert!(m.starts_with("mysql://u:***@h/db: login *** failed"), "{m}");
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote("a \"b\" C", '"'), "\"a \"\"b\"\" C\"");
        assert_eq!(quote("x`y", '`'), "`x``y`");
    }

    #[test]
    fn missing_and_empty_directories() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("nope");
        for form in ["csv:", "jsonl:"] {
            match open(&format!("{form}{}", missing.display())) {
                Err(SourceError::Io { path, .. }) => assert_eq!(path, missing),
                other => panic!("{form}: {:?}", other.err()),
            }
            std::fs::write(d.path().join("notes.txt"), "x").unwrap();
            match open(&format!("{form}{}", d.path().display())) {
                Err(SourceError::Empty(m)) => assert!(m.starts_with(form), "{m}"),
                other => panic!("{form}: {:?}", other.err()),
            }
        }
        match open(&format!("sqlite:{}", missing.display())) {
            Err(SourceError::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("sqlite: {:?}", other.err()),
        }
    }
}
