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
    let mut reader = Reader::open(path)?;
    while let Some(iv) = reader.next_interval()? {
        f(iv)?;
    }
    Ok(())
}

/// Reads an interval log one line at a time: memory is one line and one
/// histogram, however long the log.
pub struct Reader {
    path: String,
    input: std::io::BufReader<std::fs::File>,
    line: Vec<u8>,
    line_no: u64,
    raw: Vec<u8>,
    de: Deserializer,
}

impl Reader {
    /// Open the log at `path`.
    pub fn open(path: &Path) -> Result<Reader, ReadError> {
        let p = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
            path: p.clone(),
            source,
        })?;
        Ok(Reader {
            path: p,
            input: std::io::BufReader::new(file),
            line: Vec::new(),
            line_no: 0,
            raw: Vec::new(),
            de: Deserializer::new(),
        })
    }

    /// The next interval, or `None` at the end of the log. Comments, the
    /// header's time lines and the column legend are skipped.
    pub fn next_interval(&mut self) -> Result<Option<LoggedInterval>, ReadError> {
        use std::io::BufRead;
        loop {
            self.line.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.line)
                .map_err(|source| ReadError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if !self.line.ends_with(b"\n") {
                self.line.push(b'\n');
            }
            if self.line.trim_ascii().is_empty() || matches!(self.line.first(), Some(b'#' | b'"')) {
                continue;
            }
            return self.parse_line().map(Some);
        }
    }

    /// The current line, an interval: tag, start, length and histogram.
    fn parse_line(&mut self) -> Result<LoggedInterval, ReadError> {
        let (path, line_no) = (&self.path, self.line_no);
        let format = |message: String| ReadError::Format {
            path: format!("{path}:{line_no}"),
            message,
        };
        let entry = IntervalLogIterator::new(&self.line)
            .next()
            .ok_or_else(|| format("an empty line".into()))?
            .map_err(|e| format(format!("{e:?}")))?;
        let LogEntry::Interval(i) = entry else {
            return Err(format("expected an interval line".into()));
        };
        self.raw.clear();
        base64::engine::general_purpose::STANDARD
            .decode_vec(i.encoded_histogram(), &mut self.raw)
            .map_err(|e| format(e.to_string()))?;
        let hist: Histogram<u64> = self
            .de
            .deserialize(&mut &self.raw[..])
            .map_err(|e| format(format!("{e:?}")))?;
        Ok(LoggedInterval {
            tag: i.tag().map(|t| t.as_str().to_string()),
            start: i.start_timestamp(),
            length: i.duration(),
            hist,
        })
    }
}
