//! Scrubbing production-shaped dumps: every file of a dump goes through
//! the rules' transformers into a mirror folder, with malformed rows set
//! aside in reject files, and `verify` checks the result against the
//! original.
//!
//! This file holds what the parts share: the error, the options, a dump's
//! files and the rules of each. A run is in `run.rs`, its report in
//! `report.rs`, the transformers in `transform/`.

use std::path::{Path, PathBuf};

pub mod detect;
pub mod format;
/// For the fuzz targets in `fuzz/` and their regression tests only.
#[doc(hidden)]
pub mod fuzzing;
pub mod keyed;
pub(crate) mod known;
mod pipeline;
mod report;
mod rows;
pub mod rules;
mod run;
pub mod scan;
pub(crate) mod transform;
pub mod verify;

use format::Format;
pub use report::{FileReport, Report, ReportFile};
pub use rules::Rules;
pub use run::scrub;
pub use transform::PlanError;

/// Why a scrub could not run or finish. None of them holds the key or a
/// value from the data. Every variant but `Io` and `Collision` is a
/// mistake in the dump or the options ([`Error::is_input`]): nothing was
/// written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing `path` failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },

    /// The input (`--in`) cannot be read: it does not exist, or is not ours to read.
    #[error("{path}: {source}")]
    InputUnreadable {
        /// `--in` as given.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },

    /// The input folder holds no file of a format the scrubber reads.
    #[error("{path}: no .csv, .copy, .jsonl or .ndjson files")]
    NoDumpFiles {
        /// `--in` as given.
        path: PathBuf,
    },

    /// Two files of the dump have the same table name (`users.csv` and `users.jsonl`).
    #[error("{first} and {second} are both table `{table}`: keep one")]
    SameTable {
        /// The file found first (in name order).
        first: PathBuf,
        /// The other file of the same table.
        second: PathBuf,
        /// The table both files are (the file name without extension).
        table: String,
    },

    /// Two files of the dump are the same table of the rules (`users.csv` and
    /// `public.users.csv`).
    #[error("{first} and {second} are both table `{table}` of the rules: keep one")]
    SameRulesTable {
        /// The file found first (in name order).
        first: PathBuf,
        /// The other file of the same rules table.
        second: PathBuf,
        /// The table's name in the rules.
        table: String,
    },

    /// `--out` is the folder the originals are in. `out` is as the user wrote it.
    #[error("--out {out} is the input folder: scrubbed files would replace the originals")]
    OutIsInput {
        /// `--out` as given.
        out: PathBuf,
    },

    /// `--rejects` is inside `--out`, where rejected (unscrubbed) rows would be published.
    #[error("--rejects {rejects} is inside --out: rejected rows are not scrubbed and must stay out of the output")]
    RejectsInsideOut {
        /// `--rejects` as given.
        rejects: PathBuf,
    },

    /// The rules list a table (at `rules:line`) that no file of the dump at `input` holds.
    #[error(
        "{rules}:{line}: the rules list table `{table}` but {input} has no {table}.csv, {table}.copy, \
         {table}.jsonl or {table}.ndjson"
    )]
    TableWithoutFile {
        /// The rules file.
        rules: PathBuf,
        /// Line of the table's key in the rules file.
        line: usize,
        /// The table's name in the rules.
        table: String,
        /// `--in` as given.
        input: PathBuf,
    },

    /// A file's table is not in the rules, and `unlisted_columns` is `fail`.
    #[error(
        "{path}: table `{table}` is not in the rules and `unlisted_columns` is `fail`: add it \
         (`loadline scrub scan {path}` suggests rules)"
    )]
    UnlistedTable {
        /// The dump file.
        path: PathBuf,
        /// Its table (the file name without extension).
        table: String,
    },

    /// A CSV or COPY file without even a header line.
    #[error("{path}: empty file (a header line is needed)")]
    EmptyFile {
        /// The dump file.
        path: PathBuf,
    },

    /// A CSV or COPY file's header (its line 1) does not parse; `reason` says why.
    #[error("{path}:1: header: {reason}")]
    BadHeader {
        /// The dump file.
        path: PathBuf,
        /// What is wrong with the header line.
        reason: format::BadRecord,
    },

    /// A file's columns do not fit its table's rules.
    #[error(transparent)]
    Plan(#[from] transform::PlanError),

    /// Line `line` of a reject file is not one of the JSON records a scrub writes there.
    #[error("{path}:{line}: not a reject record: {source}")]
    NotARejectRecord {
        /// The reject file (`<file name>.rejects.jsonl`).
        path: PathBuf,
        /// The line, counted from 1.
        line: usize,
        /// Why the line is not JSON.
        source: serde_json::Error,
    },

    /// Two different values got the same pseudonym: the output would break
    /// a one-to-one mapping, so none is written.
    #[error(
        "{domain}: two different values got the same pseudonym (tag {tag:016x}); \
         this happens about once in 10^18 pairs of values: scrub with another key"
    )]
    Collision {
        /// The pseudonym domain (`users.id`).
        domain: String,
        /// The shared pseudonym's 64-bit tag (never a value).
        tag: u64,
    },

    /// The run's stop flag was raised (Ctrl-C, SIGTERM): it stopped reading
    /// and removed every partial file it had written.
    #[error("nothing written to {output}; removed the run's {removed} partial file(s)")]
    Interrupted {
        /// The output folder.
        output: PathBuf,
        /// Partial files removed (scrubbed files and reject files).
        removed: usize,
    },
}

impl Error {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the user must change something (exit code 2).
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            Error::Io { .. } | Error::Collision { .. } | Error::Interrupted { .. }
        )
    }
}

/// What to scrub, and where the results go.
#[derive(Debug, Clone)]
pub struct Options {
    /// A dump folder, or one file.
    pub input: PathBuf,
    /// The scrubbed mirror of `input`.
    pub output: PathBuf,
    /// Where rejected rows go (they hold unscrubbed data, so never inside
    /// `output`); default `<input>.rejects`.
    pub rejects: Option<PathBuf>,
    /// Rejected rows allowed before the run fails.
    pub max_rejects: u64,
    /// Worker threads that scrub chunks side by side (the reader and writer are extra).
    pub threads: usize,
    /// Raised to stop the run (Ctrl-C, SIGTERM): checked before each chunk
    /// is read; the run then removes its partial files and returns
    /// [`Error::Interrupted`].
    pub stop: crate::interrupt::Flag,
}

/// One input file, resolved to its table.
#[derive(Debug, Clone)]
pub struct DumpFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Its file name (`users.csv`), also the name of its scrubbed twin.
    pub name: String,
    /// Its table: the file name without extension (`users`, `public.users`).
    pub table: String,
    /// Its format, from the extension.
    pub format: Format,
}

/// The files of a dump: every `.csv`, `.copy` and `.jsonl` in a folder (or
/// the one file given), with the files it skipped.
pub fn discover(input: &Path) -> Result<(Vec<DumpFile>, Vec<PathBuf>), Error> {
    let meta = std::fs::metadata(input).map_err(|source| Error::InputUnreadable {
        path: input.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    if meta.is_dir() {
        for entry in std::fs::read_dir(input).map_err(Error::io(input))? {
            let entry = entry.map_err(Error::io(input))?;
            if entry.file_type().map_err(Error::io(input))?.is_file() {
                paths.push(entry.path());
            }
        }
    } else {
        paths.push(input.to_path_buf());
    }
    paths.sort();
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match Format::of(&path) {
            Some(format) => {
                let table = Path::new(&name)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push(DumpFile {
                    path,
                    name,
                    table,
                    format,
                });
            }
            _ => skipped.push(path),
        }
    }
    if files.is_empty() {
        return Err(Error::NoDumpFiles {
            path: input.to_path_buf(),
        });
    }
    for (i, f) in files.iter().enumerate() {
        if let Some(g) = files[..i].iter().find(|g| g.table == f.table) {
            return Err(Error::SameTable {
                first: g.path.clone(),
                second: f.path.clone(),
                table: f.table.clone(),
            });
        }
    }
    Ok((files, skipped))
}

/// The rules of a file's table: `users` also matches `public.users`.
pub fn table_rules<'r>(rules: &'r Rules, table: &str) -> Option<&'r rules::TableRules> {
    rules
        .tables
        .get(table)
        .or_else(|| table.rsplit_once('.').and_then(|(_, bare)| rules.tables.get(bare)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts people and scripts see: each variant reads as before it had fields.
    #[test]
    fn error_texts_are_stable() {
        let p = PathBuf::from;
        let cases = [
            (
                Error::InputUnreadable {
                    path: p("dump"),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
                },
                "dump: gone",
            ),
            (
                Error::NoDumpFiles { path: p("dump") },
                "dump: no .csv, .copy, .jsonl or .ndjson files",
            ),
            (
                Error::SameTable {
                    first: p("d/users.csv"),
                    second: p("d/users.jsonl"),
                    table: "users".into(),
                },
                "d/users.csv and d/users.jsonl are both table `users`: keep one",
            ),
            (
                Error::SameRulesTable {
                    first: p("d/public.users.csv"),
                    second: p("d/users.csv"),
                    table: "users".into(),
                },
                "d/public.users.csv and d/users.csv are both table `users` of the rules: keep one",
            ),
            (
                Error::OutIsInput { out: p("dump/") },
                "--out dump/ is the input folder: scrubbed files would replace the originals",
            ),
            (
                Error::RejectsInsideOut { rejects: p("out/r") },
                "--rejects out/r is inside --out: rejected rows are not scrubbed and must stay out of the output",
            ),
            (
                Error::TableWithoutFile {
                    rules: p("s.yaml"),
                    line: 25,
                    table: "refunds".into(),
                    input: p("dump"),
                },
                "s.yaml:25: the rules list table `refunds` but dump has no refunds.csv, refunds.copy, \
                 refunds.jsonl or refunds.ndjson",
            ),
            (
                Error::UnlistedTable {
                    path: p("d/x.csv"),
                    table: "x".into(),
                },
                "d/x.csv: table `x` is not in the rules and `unlisted_columns` is `fail`: add it \
                 (`loadline scrub scan d/x.csv` suggests rules)",
            ),
            (
                Error::EmptyFile { path: p("d/x.csv") },
                "d/x.csv: empty file (a header line is needed)",
            ),
            (
                Error::BadHeader {
                    path: p("d/x.csv"),
                    reason: "the header has an empty column name".into(),
                },
                "d/x.csv:1: header: the header has an empty column name",
            ),
            (
                Error::NotARejectRecord {
                    path: p("r/x.csv.rejects.jsonl"),
                    line: 3,
                    source: serde_json::from_str::<serde_json::Value>("{").unwrap_err(),
                },
                "r/x.csv.rejects.jsonl:3: not a reject record: EOF while parsing an object at line 1 column 1",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
            assert!(e.is_input(), "{e}");
        }
    }
}
