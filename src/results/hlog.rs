//! Reading interval logs back: every interval histogram with its tag and
//! time, for the gate, the report, `merge` and the tests.
//!
//! The log may come from anywhere (a shard's pod, a CI artifact), so the
//! reader bounds what a crafted one can make it do:
//!
//! - a line is at most [`MAX_LINE`] bytes: a longer one is an error, read
//!   no further than that bound (a file without line breaks is not read
//!   into memory whole);
//! - each histogram goes through [`slots::decode`] ([`hist::decode_bytes`](super::hist::decode_bytes)'s
//!   checks), which refuses any
//!   layout but loadline's and a payload length longer than the bytes that
//!   follow or than the layout can take, before HdrHistogram allocates
//!   anything from the header, and inflates at most
//!   [`hist::MAX_ENCODED_BYTES`](super::hist::MAX_ENCODED_BYTES);
//! - memory is one line and one histogram, whatever the number of lines:
//!   what a caller keeps per interval is the caller's limit (the gate's
//!   [`MAX_SECOND_CELLS`](super::run::MAX_SECOND_CELLS)).
//!
//! Every error names the file and the line.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::Histogram;

use super::slots::{self, Slots};

/// The longest line read: an interval line of loadline's layout is at
/// most a few hundred kilobytes of base64 ([`hist::MAX_ENCODED_BYTES`](super::hist::MAX_ENCODED_BYTES)
/// bytes, encoded), plus its tag and times.
pub const MAX_LINE: usize = 1 << 20;

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

/// An interval's tag and times, without its histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalHead {
    /// The series' tag (`endpoint/outcome`), if the interval has one.
    pub tag: Option<String>,
    /// Start of the interval, from the log's start time.
    pub start: Duration,
    /// The interval's length.
    pub length: Duration,
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
    input: Box<dyn std::io::BufRead + Send>,
    line: Vec<u8>,
    line_no: u64,
    raw: Vec<u8>,
    inflated: super::hist::Inflater,
    slots: Slots,
}

impl Reader {
    /// Open the log at `path`.
    pub fn open(path: &Path) -> Result<Reader, ReadError> {
        let p = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
            path: p.clone(),
            source,
        })?;
        Ok(Reader::new(p, Box::new(std::io::BufReader::new(file))))
    }

    /// The path (or name) errors give.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Read a log from `input`; `path` names it in errors.
    pub fn new(path: String, input: Box<dyn std::io::BufRead + Send>) -> Reader {
        Reader {
            path,
            input,
            line: Vec::new(),
            line_no: 0,
            raw: Vec::new(),
            inflated: super::hist::Inflater::default(),
            slots: Slots::new(),
        }
    }

    /// The next interval, or `None` at the end of the log. Comments, the
    /// header's time lines and the column legend are skipped.
    pub fn next_interval(&mut self) -> Result<Option<LoggedInterval>, ReadError> {
        let Some(head) = self.next_head()? else {
            return Ok(None);
        };
        slots::decode(&self.raw, &mut self.inflated, &mut self.slots).map_err(|m| self.format(m))?;
        let hist = slots::to_hist(&self.slots);
        Ok(Some(LoggedInterval {
            tag: head.tag,
            start: head.start,
            length: head.length,
            hist,
        }))
    }

    /// The next interval with its histogram decoded into `slots` as its
    /// non-empty slots ([`slots::decode`]: no histogram allocated or
    /// walked), or `None` at the end of the log.
    pub fn next_slots(&mut self, slots: &mut Slots) -> Result<Option<IntervalHead>, ReadError> {
        let Some(head) = self.next_head()? else {
            return Ok(None);
        };
        slots::decode(&self.raw, &mut self.inflated, slots).map_err(|m| self.format(m))?;
        Ok(Some(head))
    }

    /// The serialized histogram of the interval line last read (after a
    /// decoding error too): what the `hlog` fuzz target hands to
    /// HdrHistogram's own deserializer to compare.
    pub fn last_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// An error at the current line.
    fn format(&self, message: String) -> ReadError {
        ReadError::Format {
            path: format!("{}:{}", self.path, self.line_no),
            message,
        }
    }

    /// The next interval line's tag and times, its histogram's bytes
    /// decoded from base64 into `raw`.
    fn next_head(&mut self) -> Result<Option<IntervalHead>, ReadError> {
        use std::io::{BufRead, Read};
        loop {
            self.line.clear();
            let n = (&mut self.input)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut self.line)
                .map_err(|source| ReadError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if self.line.len() > MAX_LINE {
                return Err(self.format(format!("a line longer than {MAX_LINE} bytes")));
            }
            if !self.line.ends_with(b"\n") {
                self.line.push(b'\n');
            }
            if self.line.trim_ascii().is_empty() || matches!(self.line.first(), Some(b'#' | b'"')) {
                continue;
            }
            return self.parse_line().map(Some);
        }
    }

    /// The current line, an interval: tag, start, length, and the
    /// histogram's bytes into `raw`.
    fn parse_line(&mut self) -> Result<IntervalHead, ReadError> {
        let entry = IntervalLogIterator::new(&self.line)
            .next()
            .ok_or_else(|| self.format("an empty line".into()))?
            .map_err(|e| self.format(format!("{e:?}")))?;
        let LogEntry::Interval(i) = entry else {
            return Err(self.format("expected an interval line".into()));
        };
        self.raw.clear();
        base64::engine::general_purpose::STANDARD
            .decode_vec(i.encoded_histogram(), &mut self.raw)
            .map_err(|e| self.format(e.to_string()))?;
        Ok(IntervalHead {
            tag: i.tag().map(|t| t.as_str().to_string()),
            start: i.start_timestamp(),
            length: i.duration(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::hist;

    fn read_bytes(bytes: &[u8]) -> Result<Vec<LoggedInterval>, ReadError> {
        let mut r = Reader::new("x.hlog".into(), Box::new(std::io::Cursor::new(bytes.to_vec())));
        let mut out = Vec::new();
        while let Some(iv) = r.next_interval()? {
            out.push(iv);
        }
        Ok(out)
    }

    fn line(h: &Histogram<u64>) -> String {
        format!("Tag=a/ok,0.000,1.000,1.0,{}\n", hist::encode(h))
    }

    #[test]
    fn reads_intervals_and_skips_the_header() {
        let mut h = hist::new_hist();
        hist::record(&mut h, 250);
        let log = format!("#[StartTime: 0.000]\n\"StartTimestamp\",\"x\"\n\n{}", line(&h));
        let ivs = read_bytes(log.as_bytes()).unwrap();
        assert_eq!(ivs.len(), 1);
        assert_eq!(ivs[0].tag.as_deref(), Some("a/ok"));
        assert_eq!(ivs[0].hist, h);
    }

    /// A line past the bound is refused without reading it whole, with the
    /// file and line; so is a histogram of another layout.
    #[test]
    fn limits_are_errors_with_file_and_line() {
        let mut long = line(&hist::new_hist()).into_bytes();
        long.extend(std::iter::repeat_n(b'A', MAX_LINE + 10));
        let e = read_bytes(&long).unwrap_err().to_string();
        assert!(e.starts_with("x.hlog:2: ") && e.contains("longer than"), "{e}");
        let other = Histogram::<u64>::new_with_bounds(1, 1000, 2).unwrap();
        let mut bytes = Vec::new();
        use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
        V2DeflateSerializer::new().serialize(&other, &mut bytes).unwrap();
        use base64::Engine;
        let text = format!(
            "Tag=a/ok,0.000,1.000,1.0,{}\n",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
        let e = read_bytes(text.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with("x.hlog:1: ") && e.contains("not loadline's"), "{e}");
    }
}
