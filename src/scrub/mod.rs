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
pub mod known;
mod pipeline;
mod report;
mod rows;
pub mod rules;
mod run;
pub mod scan;
pub mod transform;
pub mod verify;

use format::Format;
pub use report::{FileReport, Report, ReportFile};
pub use rules::Rules;
pub use run::scrub;

/// Why a scrub could not run or finish. None of them holds the key or a
/// value from the data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    /// The dump or the options do not fit the rules; nothing was written.
    #[error("{0}")]
    Input(String),

    /// Two different values got the same pseudonym: the output would break
    /// a one-to-one mapping, so none is written.
    #[error(
        "{domain}: two different values got the same pseudonym (tag {tag:016x}); \
         this happens about once in 10^18 pairs of values: scrub with another key"
    )]
    Collision { domain: String, tag: u64 },
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
        matches!(self, Error::Input(_))
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
    pub threads: usize,
}

/// One input file, resolved to its table.
#[derive(Debug, Clone)]
pub struct DumpFile {
    pub path: PathBuf,
    pub name: String,
    pub table: String,
    pub format: Format,
}

/// The files of a dump: every `.csv`, `.copy` and `.jsonl` in a folder (or
/// the one file given), with the files it skipped.
pub fn discover(input: &Path) -> Result<(Vec<DumpFile>, Vec<PathBuf>), Error> {
    let meta = std::fs::metadata(input).map_err(|e| Error::Input(format!("{}: {e}", input.display())))?;
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
        return Err(Error::Input(format!(
            "{}: no .csv, .copy, .jsonl or .ndjson files",
            input.display()
        )));
    }
    for (i, f) in files.iter().enumerate() {
        if let Some(g) = files[..i].iter().find(|g| g.table == f.table) {
            return Err(Error::Input(format!(
                "{} and {} are both table `{}`: keep one",
                g.path.display(),
                f.path.display(),
                f.table
            )));
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
