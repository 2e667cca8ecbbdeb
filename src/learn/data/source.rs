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

use std::path::PathBuf;

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
    // Interface only: the sources land with the branch that builds them.
    Err(SourceError::BadSource(format!("`{source}`: no source is built yet")))
}
