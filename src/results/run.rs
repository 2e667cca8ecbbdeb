//! A finished run read back from its directory, for the gate and the
//! report: the summary, the merged latency histograms per endpoint, the
//! outcome counts per endpoint and per second, and the latency of each
//! block of consecutive seconds (what a block bootstrap resamples).
//!
//! Everything comes from the run's own files. The interval log is read
//! once, each interval decoded straight into its non-empty slots
//! ([`slots`]). Memory does not grow with the number of requests: the
//! blocks are capped at [`MAX_BLOCKS`] and kept packed (a few bytes per
//! non-empty slot), and what is kept per second is its index, and per
//! endpoint a request count and a count per SLO bound (56 bytes a second
//! for three endpoints and one bound; a day is 4.8 MB).

use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::hist::new_hist;
use super::hlog::{self, IntervalHead};
use super::slots::{self, Slots};
use super::{Outcome, Summary};

/// At most this many blocks per run: longer runs get longer blocks.
pub const MAX_BLOCKS: usize = 256;

/// At most this many (second, endpoint) cells are kept per run: a run reads
/// one per endpoint for every second its log has intervals in (8 bytes,
/// and 8 per SLO bound), so a crafted log of many short lines, or a
/// summary of many endpoints, is refused here rather than filling memory.
/// A day-long soak of 185 endpoints fits.
pub const MAX_SECOND_CELLS: u64 = 16_000_000;

/// Why a run directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The directory lacks a file every finished run has.
    #[error("{dir}: not a loadline run directory (no {file}; a run writes it last, so the run did not finish)")]
    NotARun {
        /// The directory.
        dir: String,
        /// The missing file.
        file: &'static str,
    },
    /// `summary.json` could not be read.
    #[error(transparent)]
    Summary(#[from] super::SummaryError),
    /// `latency.hlog` could not be read.
    #[error(transparent)]
    Log(#[from] hlog::ReadError),
    /// The shards given do not merge into one run.
    #[error(transparent)]
    Merge(#[from] Box<super::merge::MergeError>),
    /// A file reads but disagrees with the run (an unknown endpoint, a bad row).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A histogram as (value, count) pairs in ascending value order; the value
/// is the highest value equivalent to the bucket (what HdrHistogram reports
/// for a quantile), so a sum of these gives the same quantiles as a merge.
pub type Sparse = Vec<(u64, u64)>;

/// Per second of a run that recorded requests, in time order: per endpoint
/// the requests completed (every outcome), and how many good requests (not
/// an error; a 4xx is the client's, so it counts as good) finished at or
/// under each latency bound asked for when loading. Flat arrays, one entry
/// per (second, endpoint): a day-long log is 86,400 seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seconds {
    endpoints: usize,
    bounds: usize,
    index: Vec<u64>,
    /// `[second * endpoints + endpoint]`.
    requests: Vec<u64>,
    /// `[(second * endpoints + endpoint) * bounds + bound]`.
    within: Vec<u64>,
}

/// One second of [`Seconds`].
#[derive(Debug, Clone, Copy)]
pub struct Second<'a> {
    /// Seconds from the start of the run.
    pub index: u64,
    bounds: usize,
    requests: &'a [u64],
    within: &'a [u64],
}

impl Second<'_> {
    /// Requests of endpoint `ep` completed in the second.
    pub fn requests(&self, ep: usize) -> u64 {
        self.requests[ep]
    }

    /// Good requests of endpoint `ep` at or under bound `b`.
    pub fn within(&self, ep: usize, b: usize) -> u64 {
        self.within[ep * self.bounds + b]
    }
}

impl Seconds {
    /// No seconds yet, for `endpoints` endpoints and `bounds` bounds.
    pub fn new(endpoints: usize, bounds: usize) -> Seconds {
        Seconds {
            endpoints,
            bounds,
            ..Seconds::default()
        }
    }

    /// No seconds yet, with room for `seconds` of them made at once (a
    /// run's length is known from its summary: no doubling as they come).
    pub fn with_capacity(endpoints: usize, bounds: usize, seconds: usize) -> Seconds {
        Seconds {
            endpoints,
            bounds,
            index: Vec::with_capacity(seconds),
            requests: Vec::with_capacity(seconds * endpoints),
            within: Vec::with_capacity(seconds * endpoints * bounds),
        }
    }

    /// Seconds kept.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no second recorded requests.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The first and the last second's index.
    pub fn span(&self) -> Option<(u64, u64)> {
        Some((*self.index.first()?, *self.index.last()?))
    }

    /// Each second, in time order.
    pub fn iter(&self) -> impl Iterator<Item = Second<'_>> + '_ {
        let (e, b) = (self.endpoints, self.bounds);
        self.index.iter().enumerate().map(move |(i, &index)| Second {
            index,
            bounds: b,
            requests: &self.requests[i * e..(i + 1) * e],
            within: &self.within[i * e * b..(i + 1) * e * b],
        })
    }

    /// A new last second, every count zero.
    pub fn push(&mut self, index: u64) {
        self.index.push(index);
        self.requests.resize(self.requests.len() + self.endpoints, 0);
        self.within.resize(self.within.len() + self.endpoints * self.bounds, 0);
    }

    /// Add to the last second's counts of `ep`: `n` requests, and per
    /// bound the good ones (saturating: a crafted log's counts may add
    /// past u64).
    pub fn add_to_last(&mut self, ep: usize, n: u64, good: impl IntoIterator<Item = u64>) {
        let Some(i) = self.index.len().checked_sub(1) else {
            return;
        };
        let r = &mut self.requests[i * self.endpoints + ep];
        *r = r.saturating_add(n);
        let at = (i * self.endpoints + ep) * self.bounds;
        for (w, g) in self.within[at..at + self.bounds].iter_mut().zip(good) {
            *w = w.saturating_add(g);
        }
    }
}

/// One block: where each endpoint's bytes end, and the bytes.
type PackedBlock = (Box<[u32]>, Box<[u8]>);

/// Each block's latency per endpoint, packed ([`slots::pack`]): at most
/// [`MAX_BLOCKS`] × endpoints × the slots a block fills, two or three
/// bytes a slot.
#[derive(Debug, Clone, Default)]
pub struct Blocks {
    blocks: Vec<PackedBlock>,
}

impl Blocks {
    /// Blocks kept.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The non-empty slots of endpoint `ep` in block `b`, ascending.
    pub fn slots(&self, b: usize, ep: usize) -> slots::Unpack<'_> {
        let Some((ends, bytes)) = self.blocks.get(b) else {
            return slots::unpack(&[]);
        };
        let start = if ep == 0 { 0 } else { ends[ep - 1] as usize };
        slots::unpack(&bytes[start..ends[ep] as usize])
    }

    /// Blocks of one endpoint, each a histogram's sparse (value, count)
    /// pairs: blocks for tests.
    #[cfg(test)]
    pub(crate) fn from_sparse(blocks: &[Sparse]) -> Blocks {
        let mut out = Blocks::default();
        for b in blocks {
            let mut bytes = Vec::new();
            slots::pack(b.iter().map(|&(v, c)| (slots::slot_of(v), c)), &mut bytes);
            out.blocks.push((vec![bytes.len() as u32].into(), bytes.into()));
        }
        out
    }
}

/// One row of `timeseries.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    /// Seconds since the run started.
    pub second: u64,
    /// Requests per second the schedule intended (open model).
    pub target_rate: Option<f64>,
    /// Requests per second sent.
    pub achieved_rate: f64,
    /// Measured requests completed in the second.
    pub completed: u64,
    /// Median latency of the second's measured requests, in ms.
    pub p50_ms: Option<f64>,
    /// 99th percentile of the same, in ms.
    pub p99_ms: Option<f64>,
    /// Errors in the second.
    pub errors: u64,
    /// True during the warm-up.
    pub warmup: bool,
    /// Requests intended in the interval (absent in files of older versions).
    pub intended: Option<u64>,
    /// Of those, sent.
    pub sent: Option<u64>,
    /// Of those, never sent.
    pub never_sent: Option<u64>,
}

/// The block of seconds being filled while the latency log is read.
struct OpenBlock {
    /// Per endpoint, counts per slot: allocated when the endpoint is first
    /// seen (a summary may name a thousand endpoints).
    dense: Vec<Vec<u64>>,
    /// Per endpoint, the slots counted in this block, in the order met.
    touched: Vec<Vec<u32>>,
    /// Which block (0 for the first `block_len` seconds); None before the
    /// first interval.
    id: Option<u64>,
    /// The second of the first interval, where block 0 starts.
    first: Option<u64>,
}

impl OpenBlock {
    fn new(endpoints: usize) -> OpenBlock {
        OpenBlock {
            dense: vec![Vec::new(); endpoints],
            touched: vec![Vec::new(); endpoints],
            id: None,
            first: None,
        }
    }

    /// Count an interval's slots into endpoint `ep`.
    fn add(&mut self, ep: usize, slots: &[(u32, u64)]) {
        let dense = &mut self.dense[ep];
        if dense.is_empty() && !slots.is_empty() {
            dense.resize(super::hist::SLOTS, 0);
        }
        for &(s, c) in slots {
            let d = &mut dense[s as usize];
            if *d == 0 {
                self.touched[ep].push(s);
            }
            *d = d.saturating_add(c);
        }
    }
}

/// A run, read back.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run's directory.
    pub dir: PathBuf,
    /// Its `summary.json`.
    pub summary: Summary,
    /// Endpoint names in the profile's order.
    pub endpoints: Vec<String>,
    /// Merged latency of measured requests, every outcome, per endpoint.
    pub latency: Vec<Histogram<u64>>,
    /// The same over every endpoint.
    pub overall: Histogram<u64>,
    /// `[endpoint][outcome]` over the measured window.
    pub counts: Vec<[u64; Outcome::COUNT]>,
    /// Each second that recorded requests, in time order.
    pub seconds: Seconds,
    /// The latency bounds `Second::within` counts against, in µs.
    pub bounds_us: Vec<u64>,
    /// Seconds per block.
    pub block_len: u64,
    /// Latency of each block of `block_len` seconds, per endpoint.
    pub blocks: Blocks,
    /// `timeseries.csv`, warm-up included (empty when loaded without it:
    /// the gate does not read it).
    pub series: Vec<SeriesRow>,
}

/// Seconds per block for a run of `n` measured seconds: one second for short
/// runs, about n^(1/3) for longer ones (the usual rate for a block bootstrap),
/// and long enough that there are at most [`MAX_BLOCKS`].
pub fn block_len(n: u64) -> u64 {
    let cube = if n < 27 { 1 } else { (n as f64).cbrt().floor() as u64 };
    cube.max(n.div_ceil(MAX_BLOCKS as u64)).max(1)
}

/// Whether [`Run::load`] reads `timeseries.csv` (the report plots it; the
/// gate does not need it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Read it into [`Run::series`].
    Read,
    /// Leave [`Run::series`] empty.
    Skip,
}

/// A histogram as sparse (value, count) pairs.
pub fn sparse(h: &Histogram<u64>) -> Sparse {
    h.iter_recorded()
        .map(|v| (h.highest_equivalent(v.value_iterated_to()), v.count_at_value()))
        .collect()
}

impl Run {
    /// Read a run directory. `bounds` are the latency bounds to count good
    /// requests against per second (the SLO checks' `latency_le`).
    pub fn load(dir: &Path, bounds: &[Duration], series: Series) -> Result<Run, RunError> {
        if !dir.join(super::SUMMARY_FILE).is_file() {
            return Err(RunError::NotARun {
                dir: dir.display().to_string(),
                file: super::SUMMARY_FILE,
            });
        }
        let summary = super::read_summary(dir)?;
        let log_path = dir.join(&summary.files.latency_log);
        let log = hlog::Reader::open(&log_path)?;
        let mut run = Run::from_log(dir, summary, log, bounds)?;
        if series == Series::Read {
            run.series = read_series(&dir.join(&run.summary.files.timeseries))?;
        }
        Ok(run)
    }

    /// A run of `summary` with the intervals of `log` read, and no time
    /// series (what [`Run::load`] does but for `timeseries.csv`).
    pub fn from_log(dir: &Path, summary: Summary, mut log: hlog::Reader, bounds: &[Duration]) -> Result<Run, RunError> {
        let mut run = Run::empty(dir, summary, bounds);
        let mut block = OpenBlock::new(run.endpoints.len());
        let lp = log.path().to_string();
        let mut slots = Slots::new();
        while let Some(head) = log.next_slots(&mut slots)? {
            run.add_interval(&head, &slots, &mut block, &lp)?;
        }
        if block.id.is_some() {
            run.flush_block(&mut block);
        }
        Ok(run)
    }

    /// A run with its summary and nothing read from its logs yet.
    fn empty(dir: &Path, summary: Summary, bounds: &[Duration]) -> Run {
        let endpoints: Vec<String> = summary.endpoints.iter().map(|e| e.name.clone()).collect();
        let bounds_us: Vec<u64> = bounds
            .iter()
            .map(|b| u64::try_from(b.as_micros()).unwrap_or(u64::MAX))
            .collect();
        // Saturating: a crafted summary's `measured_s` may be 1e300.
        let measured = (summary.run.measured_s.ceil() as u64).saturating_add(1);
        let n_ep = endpoints.len();
        Run {
            dir: dir.to_path_buf(),
            latency: (0..n_ep).map(|_| new_hist()).collect(),
            overall: new_hist(),
            counts: vec![[0; Outcome::COUNT]; n_ep],
            // Room for the seconds the summary says the run measured, up to
            // 12 days and the cells a run may have (a crafted `measured_s`
            // reserves no more).
            seconds: Seconds::with_capacity(
                n_ep,
                bounds_us.len(),
                measured.min(1 << 20).min(MAX_SECOND_CELLS / n_ep.max(1) as u64) as usize,
            ),
            bounds_us,
            block_len: block_len(measured),
            blocks: Blocks::default(),
            series: Vec::new(),
            endpoints,
            summary,
        }
    }

    /// One interval of the latency log (`lp`), as its non-empty slots,
    /// counted into its second and added to the open block, which is
    /// flushed first when the interval starts a new one.
    fn add_interval(
        &mut self,
        iv: &IntervalHead,
        slots: &[(u32, u64)],
        block: &mut OpenBlock,
        lp: &str,
    ) -> Result<(), RunError> {
        let (ep, outcome) = self.tag(iv, lp)?;
        let index = iv.start.as_secs();
        let first_index = *block.first.get_or_insert(index);
        let id = index.saturating_sub(first_index) / self.block_len;
        if block.id != Some(id) {
            if block.id.is_some() {
                self.flush_block(block);
            }
            block.id = Some(id);
        }
        if self.seconds.span().map(|s| s.1) != Some(index) {
            if self.seconds.span().is_some_and(|s| s.1 > index) {
                return Err(RunError::Invalid {
                    path: lp.to_string(),
                    message: format!("interval at {index}s comes after a later one: the log is out of order"),
                });
            }
            let n_ep = self.endpoints.len();
            let cells = (self.seconds.len() as u64 + 1).saturating_mul(n_ep as u64);
            if cells > MAX_SECOND_CELLS {
                return Err(RunError::Invalid {
                    path: lp.to_string(),
                    message: format!(
                        "intervals in more than {} seconds for {n_ep} endpoints: more than the {MAX_SECOND_CELLS} \
                         (second, endpoint) cells a run is read into",
                        self.seconds.len()
                    ),
                });
            }
            self.seconds.push(index);
        }
        // Saturating: a crafted log's counts may add past u64.
        let n = slots.iter().fold(0u64, |n, p| n.saturating_add(p.1));
        let o = outcome.index();
        self.counts[ep][o] = self.counts[ep][o].saturating_add(n);
        let good = (!outcome.is_error()).then_some(&self.bounds_us);
        let good = good.into_iter().flatten().map(|&b| slots::count_at_or_below(slots, b));
        self.seconds.add_to_last(ep, n, good);
        // Into the block only: the block is added to the totals when it
        // is flushed, one pass per block instead of one per interval.
        block.add(ep, slots);
        Ok(())
    }

    /// The endpoint and outcome an interval's `ENDPOINT/OUTCOME` tag names.
    fn tag(&self, iv: &IntervalHead, lp: &str) -> Result<(usize, Outcome), RunError> {
        let tag = iv.tag.as_deref().unwrap_or("");
        let Some((name, outcome)) = tag.rsplit_once('/') else {
            return Err(RunError::Invalid {
                path: lp.to_string(),
                message: format!("interval tag `{tag}` is not ENDPOINT/OUTCOME"),
            });
        };
        let (Some(ep), Some(outcome)) = (self.endpoints.iter().position(|e| e == name), Outcome::parse(outcome)) else {
            return Err(RunError::Invalid {
                path: lp.to_string(),
                message: format!("interval tag `{tag}` names an endpoint or outcome the summary does not have"),
            });
        };
        Ok((ep, outcome))
    }

    /// Packs the filled block into the list of blocks, adds it to the
    /// totals, and empties it for the next.
    fn flush_block(&mut self, block: &mut OpenBlock) {
        let mut ends = Vec::with_capacity(self.endpoints.len());
        let mut bytes = Vec::new();
        for (ep, (dense, touched)) in block.dense.iter_mut().zip(&mut block.touched).enumerate() {
            touched.sort_unstable();
            let pairs = touched.iter().map(|&s| (s, std::mem::take(&mut dense[s as usize])));
            let pairs: Slots = pairs.collect();
            touched.clear();
            slots::pack(pairs.iter().copied(), &mut bytes);
            ends.push(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            slots::add_to(&mut self.latency[ep], pairs.iter().copied());
            slots::add_to(&mut self.overall, pairs);
        }
        self.blocks.blocks.push((ends.into(), bytes.into()));
    }

    /// The index of an endpoint by name.
    pub fn endpoint(&self, name: &str) -> Option<usize> {
        self.endpoints.iter().position(|e| e == name)
    }

    /// Latency of a set of endpoints merged (all of them: the overall histogram).
    pub fn latency_of(&self, eps: &[usize]) -> Histogram<u64> {
        if eps.len() == self.endpoints.len() {
            return self.overall.clone();
        }
        let mut h = new_hist();
        for &e in eps {
            let _ = h.add(&self.latency[e]);
        }
        h
    }

    /// Outcome counts summed over a set of endpoints.
    pub fn counts_of(&self, eps: &[usize]) -> [u64; Outcome::COUNT] {
        let mut c = [0u64; Outcome::COUNT];
        for &e in eps {
            for (a, b) in c.iter_mut().zip(&self.counts[e]) {
                *a = a.saturating_add(*b);
            }
        }
        c
    }

    /// The measured window in seconds (warm-up excluded).
    pub fn measured(&self) -> Duration {
        // `try_`: a crafted summary's `measured_s` may be past a Duration.
        Duration::try_from_secs_f64(self.summary.run.measured_s.max(0.0)).unwrap_or(Duration::MAX)
    }
}

/// Requests in `h` at or under `bound` µs, at the histogram's precision
/// (values within 0.1% of the bound count as equal to it): the whole-
/// histogram reference the tests hold [`slots::count_at_or_below`] to.
#[cfg(test)]
pub(crate) fn count_at_or_below(h: &Histogram<u64>, bound: u64) -> u64 {
    if h.is_empty() || bound < h.min() {
        return 0;
    }
    if bound >= h.max() {
        return h.len();
    }
    h.count_between(0, bound)
}

/// `timeseries.csv`, each field parsed; a bad one names its line and column.
pub fn read_series(path: &Path) -> Result<Vec<SeriesRow>, RunError> {
    let mut reader = SeriesReader::open(path)?;
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row()? {
        rows.push(row);
    }
    Ok(rows)
}

/// Reads `timeseries.csv` one row at a time (the merge keeps one per shard
/// open, so its memory does not grow with the run's length).
pub struct SeriesReader {
    path: String,
    reader: csv::Reader<std::fs::File>,
    record: csv::StringRecord,
    line: u64,
}

impl SeriesReader {
    /// Open the time series at `path` and read its header.
    pub fn open(path: &Path) -> Result<SeriesReader, RunError> {
        let p = path.display().to_string();
        let reader = csv::Reader::from_path(path).map_err(|e| RunError::Invalid {
            path: p.clone(),
            message: e.to_string(),
        })?;
        Ok(SeriesReader {
            path: p,
            reader,
            record: csv::StringRecord::new(),
            line: 1,
        })
    }

    /// The next row, or `None` at the end of the file; a bad field names
    /// its line and column.
    pub fn next_row(&mut self) -> Result<Option<SeriesRow>, RunError> {
        self.line += 1;
        let (p, line) = (&self.path, self.line);
        let invalid = |message: String| RunError::Invalid {
            path: format!("{p}:{line}"),
            message,
        };
        if !self
            .reader
            .read_record(&mut self.record)
            .map_err(|e| invalid(e.to_string()))?
        {
            return Ok(None);
        }
        let rec = &self.record;
        let field = |k: usize| rec.get(k).unwrap_or("");
        let num = |k: usize, name: &str| -> Result<Option<f64>, RunError> {
            let s = field(k);
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<f64>()
                .map(Some)
                .map_err(|_| invalid(format!("column {name}: `{s}` is not a number")))
        };
        let opt_int = |k: usize, name: &str| -> Result<Option<u64>, RunError> {
            match field(k) {
                "" => Ok(None),
                s => s
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| invalid(format!("column {name}: `{s}` is not a count"))),
            }
        };
        let int = |k: usize, name: &str| -> Result<u64, RunError> {
            field(k)
                .parse::<u64>()
                .map_err(|_| invalid(format!("column {name}: `{}` is not a count", field(k))))
        };
        Ok(Some(SeriesRow {
            second: int(0, "second")?,
            target_rate: num(1, "target_rate")?,
            achieved_rate: num(2, "achieved_rate")?.unwrap_or(0.0),
            completed: int(3, "completed")?,
            p50_ms: num(4, "p50_ms")?,
            p99_ms: num(5, "p99_ms")?,
            errors: int(6, "errors")?,
            warmup: field(7) == "1",
            intended: opt_int(8, "intended")?,
            sent: opt_int(9, "sent")?,
            never_sent: opt_int(10, "never_sent")?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::hist::record;

    #[test]
    fn block_lengths() {
        assert_eq!(block_len(1), 1);
        assert_eq!(block_len(26), 1);
        assert_eq!(block_len(27), 3);
        assert_eq!(block_len(1800), 12);
        assert_eq!(block_len(86_400), 338);
        assert!(86_400u64.div_ceil(block_len(86_400)) <= MAX_BLOCKS as u64);
    }

    #[test]
    fn series_reader_streams_rows_and_names_a_bad_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("timeseries.csv");
        let header =
            "second,target_rate,achieved_rate,completed,p50_ms,p99_ms,errors,warmup,intended,sent,never_sent\n";
        std::fs::write(
            &path,
            format!("{header}0,100.0,99.0,99,1.5,4.0,0,1,100,99,1\n1,,100.0,100,,,2,0,,,\nx,,1.0,1,,,0,0,,,\n"),
        )
        .expect("write");
        let mut r = SeriesReader::open(&path).expect("open");
        let first = r.next_row().expect("row 1").expect("some");
        assert_eq!(
            (first.second, first.target_rate, first.never_sent),
            (0, Some(100.0), Some(1))
        );
        assert!(first.warmup);
        let second = r.next_row().expect("row 2").expect("some");
        assert_eq!(
            (second.second, second.target_rate, second.errors, second.sent),
            (1, None, 2, None)
        );
        let err = r.next_row().expect_err("row 3 is bad").to_string();
        assert!(
            err.contains("timeseries.csv:4:") && err.contains("column second"),
            "{err}"
        );
        let err = read_series(&path).expect_err("read_series too").to_string();
        assert!(err.contains("timeseries.csv:4:"), "{err}");
    }

    /// A run read from its log into slots and packed blocks holds what
    /// adding whole histograms gives: per endpoint the merged latency and
    /// the counts per outcome, per second the requests and the good ones
    /// under each bound, per block and endpoint the merged buckets.
    #[test]
    fn a_log_reads_as_whole_histograms_add() {
        use crate::results::hist::encode;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/run/summary.json");
        let text = std::fs::read_to_string(&path).expect("seed summary");
        let mut summary = super::super::summary_from_str(&text, &path).expect("summary");
        summary.run.measured_s = 300.0;
        let names: Vec<String> = summary.endpoints.iter().map(|e| e.name.clone()).collect();
        let outcomes = [Outcome::S2xx, Outcome::S4xx, Outcome::S5xx, Outcome::Timeout];
        let bounds_us = [800u64, 5_000, 250_000];
        let block = block_len(301);
        let (mut x, mut log) = (7u64, String::from("#[StartTime: 0.000]\n"));
        let mut latency: Vec<Histogram<u64>> = names.iter().map(|_| new_hist()).collect();
        let mut blocks: Vec<Vec<Histogram<u64>>> = Vec::new();
        // [second][endpoint]: requests, and good ones per bound.
        let mut per_second: Vec<Vec<(u64, Vec<u64>)>> = Vec::new();
        let mut counts = vec![[0u64; Outcome::COUNT]; names.len()];
        for sec in 3..300u64 {
            if sec % 17 == 0 {
                continue; // a second without intervals
            }
            let k = ((sec - 3) / block) as usize;
            if blocks.len() <= k {
                blocks.push(names.iter().map(|_| new_hist()).collect());
            }
            let mut row = vec![(0u64, vec![0u64; bounds_us.len()]); names.len()];
            for (ep, name) in names.iter().enumerate() {
                for &o in &outcomes[..1 + (sec as usize + ep) % outcomes.len()] {
                    let mut h = new_hist();
                    for _ in 0..(sec * 7 + ep as u64) % 40 {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        record(&mut h, 100 + (x >> 33) % (1 << (8 + (x >> 60))) * 37);
                    }
                    log.push_str(&format!("Tag={name}/{},{sec}.000,1.000,1.0,{}\n", o.name(), encode(&h)));
                    latency[ep].add(&h).expect("add");
                    blocks[k][ep].add(&h).expect("add");
                    counts[ep][o.index()] += h.len();
                    row[ep].0 += h.len();
                    if !o.is_error() {
                        for (g, &b) in row[ep].1.iter_mut().zip(&bounds_us) {
                            *g += count_at_or_below(&h, b);
                        }
                    }
                }
            }
            per_second.push(row);
        }
        let reader = hlog::Reader::new("t.hlog".into(), Box::new(std::io::Cursor::new(log.into_bytes())));
        let bounds: Vec<Duration> = bounds_us.iter().map(|&b| Duration::from_micros(b)).collect();
        let run = Run::from_log(Path::new("t"), summary, reader, &bounds).expect("run");
        assert_eq!(run.latency, latency);
        let mut overall = new_hist();
        latency.iter().for_each(|h| overall.add(h).expect("add"));
        assert_eq!(run.overall, overall);
        assert_eq!(run.counts, counts);
        assert_eq!(run.seconds.len(), per_second.len());
        for (sec, want) in run.seconds.iter().zip(&per_second) {
            for (ep, (n, good)) in want.iter().enumerate() {
                assert_eq!(sec.requests(ep), *n, "second {}", sec.index);
                for (b, g) in good.iter().enumerate() {
                    assert_eq!(sec.within(ep, b), *g, "second {} bound {b}", sec.index);
                }
            }
        }
        assert_eq!(run.blocks.len(), blocks.len());
        for (k, per_ep) in blocks.iter().enumerate() {
            for (ep, h) in per_ep.iter().enumerate() {
                assert_eq!(run.blocks.slots(k, ep).collect::<Slots>(), slots::of(h), "block {k}");
            }
        }
    }

    #[test]
    fn sparse_keeps_quantiles_and_counts_bounds() {
        let mut h = new_hist();
        for v in [100, 200, 200, 5_000, 1_000_000] {
            record(&mut h, v);
        }
        let s = sparse(&h);
        assert_eq!(s.iter().map(|p| p.1).sum::<u64>(), 5);
        assert_eq!(s.last().map(|p| p.0), Some(h.value_at_quantile(1.0)));
        assert_eq!(count_at_or_below(&h, 50), 0);
        assert_eq!(count_at_or_below(&h, 200), 3);
        assert_eq!(count_at_or_below(&h, 4_999), 3);
        assert_eq!(count_at_or_below(&h, 2_000_000), 5);
    }
}
