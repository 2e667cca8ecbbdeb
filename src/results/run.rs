//! A finished run read back from its directory, for the gate and the
//! report: the summary, the merged latency histograms per endpoint, the
//! outcome counts per endpoint and per second, and the latency of each
//! block of consecutive seconds (what a block bootstrap resamples).
//!
//! Everything comes from the run's own files. The interval log is read
//! once; memory grows with the number of endpoints and blocks, not with
//! the number of requests, and the number of blocks is capped so a day-long
//! soak reads in bounded memory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::hist::new_hist;
use super::hlog::{self, LoggedInterval};
use super::{Outcome, Summary};

/// At most this many blocks per run: longer runs get longer blocks.
pub const MAX_BLOCKS: usize = 256;

/// At most this many (second, endpoint) cells are kept per run: a run reads
/// one per endpoint for every second its log has intervals in (about 100
/// bytes each), so a crafted log of many short lines, or a summary of many
/// endpoints, is refused here rather than filling memory. A day-long soak
/// of 190 endpoints fits.
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

/// One second of a run: requests completed per endpoint and outcome, and
/// per endpoint how many non-error requests finished within each of the
/// latency bounds asked for when loading.
#[derive(Debug, Clone, PartialEq)]
pub struct Second {
    /// Seconds from the start of the run.
    pub index: u64,
    /// `[endpoint][outcome]`.
    pub counts: Vec<[u64; Outcome::COUNT]>,
    /// `[endpoint][bound]`: good requests (not an error; a 4xx is the
    /// client's, so it counts as good) at or under the bound.
    pub within: Vec<Vec<u64>>,
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
    /// Per endpoint.
    hists: Vec<Histogram<u64>>,
    /// Which block (0 for the first `block_len` seconds); None before the
    /// first interval.
    id: Option<u64>,
    /// The second of the first interval, where block 0 starts.
    first: Option<u64>,
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
    pub seconds: Vec<Second>,
    /// The latency bounds `Second::within` counts against, in µs.
    pub bounds_us: Vec<u64>,
    /// Seconds per block.
    pub block_len: u64,
    /// `[block][endpoint]`: latency of each block of `block_len` seconds.
    pub blocks: Vec<Vec<Sparse>>,
    /// `timeseries.csv`, warm-up included.
    pub series: Vec<SeriesRow>,
}

/// Seconds per block for a run of `n` measured seconds: one second for short
/// runs, about n^(1/3) for longer ones (the usual rate for a block bootstrap),
/// and long enough that there are at most [`MAX_BLOCKS`].
pub fn block_len(n: u64) -> u64 {
    let cube = if n < 27 { 1 } else { (n as f64).cbrt().floor() as u64 };
    cube.max(n.div_ceil(MAX_BLOCKS as u64)).max(1)
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
    pub fn load(dir: &Path, bounds: &[Duration]) -> Result<Run, RunError> {
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
        run.series = read_series(&dir.join(&run.summary.files.timeseries))?;
        Ok(run)
    }

    /// A run of `summary` with the intervals of `log` read, and no time
    /// series (what [`Run::load`] does but for `timeseries.csv`).
    pub fn from_log(dir: &Path, summary: Summary, mut log: hlog::Reader, bounds: &[Duration]) -> Result<Run, RunError> {
        let mut run = Run::empty(dir, summary, bounds);
        let mut block = OpenBlock {
            hists: (0..run.endpoints.len()).map(|_| new_hist()).collect(),
            id: None,
            first: None,
        };
        let lp = log.path().to_string();
        while let Some(iv) = log.next_interval()? {
            run.add_interval(&iv, &mut block, &lp)?;
        }
        if block.id.is_some() {
            run.flush_block(&mut block.hists);
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
            seconds: Vec::new(),
            bounds_us,
            block_len: block_len(measured),
            blocks: Vec::new(),
            series: Vec::new(),
            endpoints,
            summary,
        }
    }

    /// One interval of the latency log (`lp`) counted into its second and
    /// added to the open block, which is flushed first when the interval
    /// starts a new one.
    fn add_interval(&mut self, iv: &LoggedInterval, block: &mut OpenBlock, lp: &str) -> Result<(), RunError> {
        let (ep, outcome) = self.tag(iv, lp)?;
        let index = iv.start.as_secs();
        let first_index = *block.first.get_or_insert(index);
        let id = index.saturating_sub(first_index) / self.block_len;
        if block.id != Some(id) {
            if block.id.is_some() {
                self.flush_block(&mut block.hists);
            }
            block.id = Some(id);
        }
        if self.seconds.last().map(|s| s.index) != Some(index) {
            if self.seconds.last().is_some_and(|s| s.index > index) {
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
            self.seconds.push(Second {
                index,
                counts: vec![[0; Outcome::COUNT]; n_ep],
                within: vec![vec![0; self.bounds_us.len()]; n_ep],
            });
        }
        let h = &iv.hist;
        let n = h.len();
        let sec = self.seconds.last_mut().unwrap_or_else(|| unreachable!("pushed above"));
        // Saturating: a crafted log's counts may add past u64.
        let o = outcome.index();
        sec.counts[ep][o] = sec.counts[ep][o].saturating_add(n);
        self.counts[ep][o] = self.counts[ep][o].saturating_add(n);
        if !outcome.is_error() {
            for (slot, &b) in sec.within[ep].iter_mut().zip(&self.bounds_us) {
                *slot = slot.saturating_add(count_at_or_below(h, b));
            }
        }
        // Into the block only: the block is added to the totals when it
        // is flushed, one merge per block instead of three per interval.
        let _ = block.hists[ep].add(h);
        Ok(())
    }

    /// The endpoint and outcome an interval's `ENDPOINT/OUTCOME` tag names.
    fn tag(&self, iv: &LoggedInterval, lp: &str) -> Result<(usize, Outcome), RunError> {
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

    /// Adds the filled block to the list of blocks and to the totals, and
    /// empties it for the next.
    fn flush_block(&mut self, block: &mut [Histogram<u64>]) {
        self.blocks.push(block.iter().map(sparse).collect());
        for (ep, h) in block.iter_mut().enumerate() {
            let _ = self.latency[ep].add(&*h);
            let _ = self.overall.add(&*h);
            h.reset();
        }
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

    /// Per block, the sparse latency of a set of endpoints merged.
    pub fn blocks_of(&self, eps: &[usize]) -> Vec<Sparse> {
        self.blocks
            .iter()
            .map(|b| {
                let mut all: Sparse = eps.iter().flat_map(|&e| b[e].iter().copied()).collect();
                all.sort_unstable_by_key(|p| p.0);
                all.dedup_by(|next, kept| {
                    if next.0 == kept.0 {
                        kept.1 = kept.1.saturating_add(next.1);
                        true
                    } else {
                        false
                    }
                });
                all
            })
            .collect()
    }

    /// The measured window in seconds (warm-up excluded).
    pub fn measured(&self) -> Duration {
        // `try_`: a crafted summary's `measured_s` may be past a Duration.
        Duration::try_from_secs_f64(self.summary.run.measured_s.max(0.0)).unwrap_or(Duration::MAX)
    }
}

/// Requests in `h` at or under `bound` µs, at the histogram's precision
/// (values within 0.1% of the bound count as equal to it).
pub fn count_at_or_below(h: &Histogram<u64>, bound: u64) -> u64 {
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
