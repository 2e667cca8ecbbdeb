//! Reading logs into a learner: one format per file (detected or given),
//! each plain file split over threads, rejected lines counted by reason,
//! and a file whose share of bad lines is above the limit refused.

use std::path::{Path, PathBuf};

use super::learner::{LearnOptions, Learner};
use super::log::{self, Format, FormatError, ReadError, RejectCounts, Source};
use crate::scrub::keyed::Prf;

/// How the logs are read.
#[derive(Debug, Clone)]
pub struct Input {
    /// The format of every file (`auto`: detected per file).
    pub format: Format,
    /// The request header that carries the tenant, if any.
    pub tenant_header: Option<String>,
    /// Threads per plain file.
    pub threads: usize,
    /// The largest share of non-empty lines that may be rejected (0..=1).
    pub max_bad: f64,
}

/// What was read from one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The path as given (`-` for standard input).
    pub path: PathBuf,
    /// The format used (detected or given).
    pub format: String,
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines parsed into requests.
    pub parsed: u64,
    /// Rejected lines, by reason, with their first line numbers.
    pub rejects: RejectCounts,
}

/// Why the logs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file could not be opened or read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The format does not fit the file or the options.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        source: FormatError,
    },
    /// Too many lines did not parse.
    #[error(
        "{path}: {rejected} of {lines} lines ({share:.1}%) do not parse as {format}, above the {max:.1}% allowed \
         (--max-bad): {rejects}"
    )]
    TooManyBad {
        /// The file.
        path: PathBuf,
        /// The format tried.
        format: String,
        /// Rejected lines.
        rejected: u64,
        /// Non-empty lines.
        lines: u64,
        /// Their share, percent.
        share: f64,
        /// The limit, percent.
        max: f64,
        /// By reason, with line numbers (never the lines).
        rejects: RejectCounts,
    },
}

struct Partial {
    learner: Learner,
    rejects: RejectCounts,
    lines: u64,
    parsed: u64,
}

/// Read every file into one learner.
pub fn read_logs(
    paths: &[PathBuf],
    input: &Input,
    opts: &LearnOptions,
    prf: &Prf,
) -> Result<(Learner, Vec<FileReport>), RunError> {
    let mut learner = Learner::new(opts, prf.clone());
    let mut reports = Vec::new();
    for path in paths {
        let (l, report) = read_one(path, input, opts, prf)?;
        learner.merge(l);
        reports.push(report);
    }
    Ok((learner, reports))
}

fn read_one(path: &Path, input: &Input, opts: &LearnOptions, prf: &Prf) -> Result<(Learner, FileReport), RunError> {
    let mut source = Source::open(path)?;
    let header = input.tenant_header.as_deref();
    let format_err = |source| RunError::Format {
        path: path.to_path_buf(),
        source,
    };
    let (format, parser) = match &input.format {
        Format::Auto => {
            let head = source.head(log::DETECT_LINES)?;
            let lines: Vec<&str> = head.iter().map(String::as_str).collect();
            log::detect(&lines, header).map_err(format_err)?
        }
        f => (f.clone(), f.parser(header).map_err(format_err)?),
    };
    let parser = &*parser;
    let outcomes = source.for_each_chunk(input.threads.max(1), |chunk| {
        let mut p = Partial {
            learner: Learner::new(opts, prf.clone()),
            rejects: RejectCounts::default(),
            lines: 0,
            parsed: 0,
        };
        chunk.for_each_line(|n, line| {
            p.lines += 1;
            match line.and_then(|l| parser.parse(l)) {
                Ok(record) => {
                    p.parsed += 1;
                    p.learner.add(&record);
                }
                Err(reason) => p.rejects.add(reason, n),
            }
        })?;
        Ok(p)
    })?;
    let mut learner = Learner::new(opts, prf.clone());
    let mut report = FileReport {
        path: path.to_path_buf(),
        format: format.to_string(),
        lines: 0,
        parsed: 0,
        rejects: RejectCounts::default(),
    };
    for o in outcomes {
        report.rejects.merge(&o.value.rejects, o.line_offset);
        report.lines += o.value.lines;
        report.parsed += o.value.parsed;
        learner.merge(o.value.learner);
    }
    let rejected = report.rejects.total();
    let share = if report.lines > 0 {
        rejected as f64 / report.lines as f64
    } else {
        0.0
    };
    if rejected > 0 && share > input.max_bad {
        return Err(RunError::TooManyBad {
            path: path.to_path_buf(),
            format: report.format,
            rejected,
            lines: report.lines,
            share: 100.0 * share,
            max: 100.0 * input.max_bad,
            rejects: report.rejects,
        });
    }
    Ok((learner, report))
}
