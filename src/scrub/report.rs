//! What a scrub run reports: per file, rows in and out, rejects and each
//! column's transformer; and the report file `scrub --report FILE` writes
//! from it (schema: `schemas/scrub-report.schema.json`), which holds counts
//! and transformer names, never a value from the data.

use std::path::PathBuf;

use super::format::Format;

/// One file's outcome.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The input file, as given or found in the folder.
    pub file: String,
    /// Its table in the rules (or its own name when the rules keep unlisted tables).
    pub table: String,
    /// Its format.
    pub format: Format,
    /// Rows read (blank JSON lines are not rows).
    pub rows_in: u64,
    /// Rows written: `rows_in` less `rejected`.
    pub rows_out: u64,
    /// Rows set aside in the reject file.
    pub rejected: u64,
    /// The first rejects (line, column, reason); the reject file has all.
    pub first_rejects: Vec<(u64, Option<String>, String)>,
    /// Size of the input file.
    pub bytes_in: u64,
    /// Wall time spent on the file.
    pub seconds: f64,
    /// Each input column with its transformer.
    pub columns: Vec<(String, &'static str)>,
    /// The reject file, when there were rejects.
    pub rejects_file: Option<PathBuf>,
}

/// A run's outcome.
#[derive(Debug, Clone)]
pub struct Report {
    /// Each scrubbed file, in name order.
    pub files: Vec<FileReport>,
    /// Files in the input folder that are not dumps.
    pub skipped: Vec<PathBuf>,
    /// Tables without rules left out (`unlisted_columns: drop`).
    pub dropped_tables: Vec<String>,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Whether the output was renamed into place (false: too many rejects).
    pub committed: bool,
    /// The rejects allowed (`--max-rejects`).
    pub max_rejects: u64,
    /// Where reject files go (they hold unscrubbed rows).
    pub rejects_dir: PathBuf,
}

impl Report {
    /// Rows rejected in all files.
    pub fn rejected(&self) -> u64 {
        self.files.iter().map(|f| f.rejected).sum()
    }

    /// Bytes read from all files.
    pub fn bytes_in(&self) -> u64 {
        self.files.iter().map(|f| f.bytes_in).sum()
    }
}

impl Report {
    /// The report file, for the rules file at `rules`.
    pub fn document(&self, rules: &std::path::Path) -> ReportFile<'_> {
        ReportFile {
            committed: self.committed,
            files: self.files.iter().map(FileEntry::of).collect(),
            max_rejects: self.max_rejects,
            rules: rules.display().to_string(),
            seconds: self.seconds,
            skipped: self.skipped.iter().map(|p| p.display().to_string()).collect(),
            version: 1,
        }
    }
}

// The report file's structs list their fields in alphabetical order: that is the order the
// file has always had (it was built as a JSON map, which sorts its keys).

/// The scrub report file.
#[derive(Debug, serde::Serialize)]
pub struct ReportFile<'a> {
    /// Whether the output was renamed into place (false: more rejects than `max_rejects`).
    pub committed: bool,
    /// Each scrubbed file.
    pub files: Vec<FileEntry<'a>>,
    /// The rejects allowed (`--max-rejects`).
    pub max_rejects: u64,
    /// The rules file.
    pub rules: String,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Files in the input folder that are not dumps.
    pub skipped: Vec<String>,
    /// The report format's version (1).
    pub version: u32,
}

/// One file of the scrub report file.
#[derive(Debug, serde::Serialize)]
pub struct FileEntry<'a> {
    pub bytes_in: u64,
    pub columns: Vec<ColumnEntry<'a>>,
    pub file: &'a str,
    /// `csv`, `copy` or `jsonl`.
    pub format: &'static str,
    pub rejected: u64,
    pub rejects_file: Option<String>,
    pub rows_in: u64,
    pub rows_out: u64,
    pub seconds: f64,
    pub table: &'a str,
}

/// A column and its transformer.
#[derive(Debug, serde::Serialize)]
pub struct ColumnEntry<'a> {
    pub name: &'a str,
    pub transform: &'static str,
}

impl<'a> FileEntry<'a> {
    fn of(f: &'a FileReport) -> Self {
        FileEntry {
            bytes_in: f.bytes_in,
            columns: f
                .columns
                .iter()
                .map(|(name, transform)| ColumnEntry { name, transform })
                .collect(),
            file: &f.file,
            format: f.format.name(),
            rejected: f.rejected,
            rejects_file: f.rejects_file.as_ref().map(|p| p.display().to_string()),
            rows_in: f.rows_in,
            rows_out: f.rows_out,
            seconds: f.seconds,
            table: &f.table,
        }
    }
}
