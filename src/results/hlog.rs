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
    pub tag: Option<String>,
    pub start: Duration,
    pub length: Duration,
    pub hist: Histogram<u64>,
}

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not an HdrHistogram interval log ({message})")]
    Format { path: String, message: String },
}

/// Read every interval of an interval log.
pub fn read(path: &Path) -> Result<Vec<LoggedInterval>, ReadError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: p.clone(),
        source,
    })?;
    let mut out = Vec::new();
    let mut de = Deserializer::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| ReadError::Format {
            path: p.clone(),
            message: format!("{e:?}"),
        })?;
        if let LogEntry::Interval(i) = entry {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(i.encoded_histogram())
                .map_err(|e| ReadError::Format {
                    path: p.clone(),
                    message: e.to_string(),
                })?;
            let hist: Histogram<u64> = de.deserialize(&mut &raw[..]).map_err(|e| ReadError::Format {
                path: p.clone(),
                message: format!("{e:?}"),
            })?;
            out.push(LoggedInterval {
                tag: i.tag().map(|t| t.as_str().to_string()),
                start: i.start_timestamp(),
                length: i.duration(),
                hist,
            });
        }
    }
    Ok(out)
}
