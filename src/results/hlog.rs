//! Reading interval logs back: every interval histogram with its tag and
//! time, for the gate, the report and the tests.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

/// One interval of one series.
#[derive(Debug, Clone)]
pub struct LoggedInterval {
    /// The series' tag (`endpoint/outcome`), if the interval has one.
    pub tag: Option<String>,
    /// Start of the interval, from the log's start time.
    pub start: Duration,
    /// The interval's length.
    pub length: Duration,
    /// Latencies recorded in it, in µs.
    pub hist: Histogram<u64>,
}

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The log's path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not an interval log this reader understands.
    #[error("{path}: not an HdrHistogram interval log ({message})")]
    Format {
        /// The log's path.
        path: String,
        /// What did not parse.
        message: String,
    },
}

/// Read every interval of an interval log into memory (small logs and tests;
/// [`visit`] reads a long soak's log in constant memory).
pub fn read(path: &Path) -> Result<Vec<LoggedInterval>, ReadError> {
    let mut out = Vec::new();
    visit(path, |iv| {
        out.push(iv);
        Ok::<(), ReadError>(())
    })?;
    Ok(out)
}

/// Call `f` with each interval of an interval log in order, one histogram
/// in memory at a time: a day-long soak's log has hundreds of thousands.
pub fn visit<E: From<ReadError>>(path: &Path, mut f: impl FnMut(LoggedInterval) -> Result<(), E>) -> Result<(), E> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: p.clone(),
        source,
    })?;
    let mut de = Deserializer::new();
    let mut raw = Vec::new();
    let format = |message: String| ReadError::Format {
        path: p.clone(),
        message,
    };
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| format(format!("{e:?}")))?;
        if let LogEntry::Interval(i) = entry {
            raw.clear();
            base64::engine::general_purpose::STANDARD
                .decode_vec(i.encoded_histogram(), &mut raw)
                .map_err(|e| format(e.to_string()))?;
            let hist: Histogram<u64> = de.deserialize(&mut &raw[..]).map_err(|e| format(format!("{e:?}")))?;
            f(LoggedInterval {
                tag: i.tag().map(|t| t.as_str().to_string()),
                start: i.start_timestamp(),
                length: i.duration(),
                hist,
            })?;
        }
    }
    Ok(())
}
