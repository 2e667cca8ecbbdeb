//! Writes a run's files as the run goes: the interval log and the time
//! series grow one interval at a time (memory stays flat however long the
//! run), into `*.partial` files that are renamed only when the run ends,
//! so a crashed run never leaves files that look complete.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use super::hist::new_hist;
use super::summary::Summary;
use super::Outcome;

/// A run's summary, written last: its presence says the run finished.
pub const SUMMARY_FILE: &str = "summary.json";
/// A run's latency histograms, per second, endpoint and outcome.
pub const LATENCY_LOG_FILE: &str = "latency.hlog";
/// A run's per-second numbers.
pub const TIMESERIES_FILE: &str = "timeseries.csv";

/// The client classes' latency histograms (profiles with `clients:`).
pub const CLIENTS_LOG_FILE: &str = "clients.hlog";

/// A key of the client classes' series: class name and outcome.
pub type ClientKey = (String, Outcome);

/// A key of the latency series: endpoint index and outcome.
pub type SeriesKey = (usize, Outcome);

/// One second (or one interval) of a run, merged over workers.
#[derive(Debug, Clone)]
pub struct IntervalData {
    /// The interval's number, from 0 at the start of the run.
    pub index: u64,
    /// Start of the interval, from the start of the run.
    pub start: Duration,
    /// The interval's length.
    pub length: Duration,
    /// Latency of measured requests intended in the interval.
    pub series: BTreeMap<SeriesKey, Histogram<u64>>,
    /// Requests the schedule intended in this interval (open model).
    pub target: Option<f64>,
    /// Requests intended in this interval (its arrivals), warm-up included.
    pub intended: u64,
    /// Of those, the ones sent.
    pub sent: u64,
    /// Of those, the ones never sent (the run ended first).
    pub never_sent: u64,
    /// True while the warm-up lasts.
    pub warmup: bool,
}

/// Who a run (or one shard of it) is: written at the top of its interval
/// log, so the log alone says which run and time grid it belongs to.
#[derive(Debug, Clone)]
pub struct LogHeader {
    /// The profile's name.
    pub title: String,
    /// The run's id, shared by its shards.
    pub run_id: String,
    /// `(index, count)` when the run is a shard.
    pub shard: Option<(u32, u32)>,
    /// Which attempt at the shard.
    pub attempt: u32,
    /// The seed requests were drawn with.
    pub seed: u64,
    /// The profile's hash (`sha256:...`).
    pub profile_hash: String,
    /// T0: the start of interval 0, a whole millisecond.
    pub t0: SystemTime,
    /// Length of one interval.
    pub interval: Duration,
}

/// Width of each count in the log's counts line: room for any u64, so the
/// line is written first and filled in place at the end.
const COUNT_WIDTH: usize = 20;

/// The log's counts line: requests intended in the measured window, sent,
/// and never sent.
fn counts_line(intended: u64, sent: u64, never_sent: u64) -> String {
    format!(
        "#[loadline counts: intended={intended:0w$} sent={sent:0w$} never_sent={never_sent:0w$}]",
        w = COUNT_WIDTH
    )
}

/// Writes a run directory.
pub struct ResultWriter {
    dir: PathBuf,
    /// Byte offset of the counts line in the interval log.
    counts_at: u64,
    endpoints: Vec<String>,
    hlog: BufWriter<File>,
    timeseries: csv::Writer<BufWriter<File>>,
    serializer: V2DeflateSerializer,
    totals: BTreeMap<SeriesKey, Histogram<u64>>,
    tag_buf: String,
    /// The log header, for the client classes' log.
    header: LogHeader,
    /// Whether the client classes' log was written.
    clients_log: bool,
}

/// The log's identity line: run id, shard, attempt, seed, profile hash,
/// histogram layout, T0, interval length and loadline version.
fn identity_line(h: &LogHeader) -> String {
    let shard = h.shard.map_or_else(|| "none".to_string(), |(i, n)| format!("{i}/{n}"));
    let t0_ms = h.t0.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!(
        "[loadline run: run_id={} shard={shard} attempt={} seed={} profile_hash={} histogram=us:{}:{}:{} t0={} t0_unix_ms={t0_ms} interval_s={} version={}]",
        h.run_id,
        h.attempt,
        h.seed,
        h.profile_hash,
        super::hist::LOWEST_US,
        super::hist::HIGHEST_US,
        super::hist::SIGFIG,
        crate::dates::rfc3339(h.t0, 3),
        h.interval.as_secs_f64(),
        env!("CARGO_PKG_VERSION"),
    )
}

fn partial(dir: &Path, name: &str) -> PathBuf {
    crate::atomic::partial_path(&dir.join(name))
}

fn io_err(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// An interval log error: the I/O error (its kind kept) naming the file.
fn hlog_err<E: std::fmt::Debug>(
    path: &Path,
    e: hdrhistogram::serialization::interval_log::IntervalLogWriterError<E>,
) -> std::io::Error {
    use hdrhistogram::serialization::interval_log::IntervalLogWriterError as W;
    match e {
        W::IoError(e) => io_err(path, e),
        W::SerializeError(e) => io_err(path, std::io::Error::other(format!("{e:?}"))),
    }
}

/// A CSV error as the I/O error it usually is (its kind kept, so a full
/// disk still reads "No space left on device"), naming the file.
fn csv_err(path: &Path, e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io_err(path, e),
        other => io_err(path, std::io::Error::other(format!("{other:?}"))),
    }
}

impl ResultWriter {
    /// Start a run directory. `endpoints` names the series' endpoint indices.
    pub fn create(dir: &Path, header: &LogHeader, endpoints: Vec<String>) -> std::io::Result<ResultWriter> {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let hlog_path = partial(dir, LATENCY_LOG_FILE);
        let mut hlog = BufWriter::new(File::create(&hlog_path).map_err(|e| io_err(&hlog_path, e))?);
        let mut serializer = V2DeflateSerializer::new();
        let version = env!("CARGO_PKG_VERSION");
        let start = header.t0;
        let counts_at =
            Self::head(&mut hlog, &mut serializer, header, version, start).map_err(|e| io_err(&hlog_path, e))?;
        let ts_path = partial(dir, TIMESERIES_FILE);
        let mut timeseries =
            csv::Writer::from_writer(BufWriter::new(File::create(&ts_path).map_err(|e| io_err(&ts_path, e))?));
        timeseries
            .write_record([
                "second",
                "target_rate",
                "achieved_rate",
                "completed",
                "p50_ms",
                "p99_ms",
                "errors",
                "warmup",
                "intended",
                "sent",
                "never_sent",
            ])
            .map_err(|e| csv_err(&ts_path, e))?;
        Ok(ResultWriter {
            dir: dir.to_path_buf(),
            counts_at,
            endpoints,
            hlog,
            timeseries,
            serializer,
            totals: BTreeMap::new(),
            tag_buf: String::new(),
            header: header.clone(),
            clients_log: false,
        })
    }

    /// The interval log's head: comments, identity, the counts line (filled
    /// in at the end) and the column names. Returns the counts line's offset.
    fn head(
        hlog: &mut BufWriter<File>,
        serializer: &mut V2DeflateSerializer,
        header: &LogHeader,
        version: &str,
        start: SystemTime,
    ) -> std::io::Result<u64> {
        let identity = identity_line(header);
        IntervalLogWriterBuilder::new()
            .add_comment(&format!("loadline {version} interval log: {}", header.title))
            .add_comment(
                "Values in microseconds, measured from each request's intended send time; each request is in the interval of its intended send time. Tag = endpoint/outcome.",
            )
            .add_comment(&identity)
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut *hlog, serializer)?;
        // Filled in when the run ends (the counts are known only then).
        let counts_at = hlog.stream_position()?;
        writeln!(hlog, "{}", counts_line(0, 0, 0))?;
        writeln!(
            hlog,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )?;
        Ok(counts_at)
    }

    /// Append one interval to the log and the time series, and add it to the totals.
    pub fn interval(&mut self, d: &IntervalData) -> std::io::Result<()> {
        let mut all = new_hist();
        let mut errors = 0;
        for ((ep, outcome), h) in &d.series {
            if h.is_empty() {
                continue;
            }
            self.tag_buf.clear();
            self.tag_buf
                .push_str(self.endpoints.get(*ep).map(String::as_str).unwrap_or("unknown"));
            self.tag_buf.push('/');
            self.tag_buf.push_str(outcome.name());
            let tag = Tag::new(&self.tag_buf);
            IntervalLogWriterBuilder::new()
                .with_max_value_divisor(1000.0)
                .begin_log_with(&mut self.hlog, &mut self.serializer)
                .map_err(|e| io_err(&partial(&self.dir, LATENCY_LOG_FILE), e))?
                .write_histogram(h, d.start, d.length, tag)
                .map_err(|e| hlog_err(&partial(&self.dir, LATENCY_LOG_FILE), e))?;
            let _ = all.add(h);
            if outcome.is_error() {
                errors += h.len();
            }
            let _ = self.totals.entry((*ep, *outcome)).or_insert_with(new_hist).add(h);
        }
        let secs = d.length.as_secs_f64().max(1e-9);
        let q = |p: f64| {
            if all.is_empty() {
                String::new()
            } else {
                format!("{:.3}", all.value_at_quantile(p) as f64 / 1e3)
            }
        };
        self.timeseries
            .write_record([
                d.index.to_string(),
                d.target.map(|t| format!("{:.1}", t / secs)).unwrap_or_default(),
                format!("{:.1}", d.sent as f64 / secs),
                all.len().to_string(),
                q(0.5),
                q(0.99),
                errors.to_string(),
                u8::from(d.warmup).to_string(),
                d.intended.to_string(),
                d.sent.to_string(),
                d.never_sent.to_string(),
            ])
            .map_err(|e| csv_err(&partial(&self.dir, TIMESERIES_FILE), e))?;
        Ok(())
    }

    /// Latency totals so far, per endpoint and outcome.
    pub fn totals(&self) -> &BTreeMap<SeriesKey, Histogram<u64>> {
        &self.totals
    }

    /// Write the client classes' log (`clients.hlog.partial`, made final
    /// by [`Self::finish`]): one histogram per class and outcome, each
    /// spanning `start..start + length` of the run (the measured window).
    pub fn clients(
        &mut self,
        series: &BTreeMap<ClientKey, Histogram<u64>>,
        start: Duration,
        length: Duration,
    ) -> std::io::Result<()> {
        let path = partial(&self.dir, CLIENTS_LOG_FILE);
        let mut out = BufWriter::new(File::create(&path).map_err(|e| io_err(&path, e))?);
        let mut serializer = V2DeflateSerializer::new();
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment(&format!(
                "loadline {} client classes: {}",
                env!("CARGO_PKG_VERSION"),
                self.header.title
            ))
            .add_comment(
                "Values in microseconds, measured from each request's intended send time. One histogram per client class and outcome over the measured window. Tag = class/outcome.",
            )
            .add_comment(&identity_line(&self.header))
            .with_start_time(self.header.t0)
            .with_base_time(self.header.t0)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut out, &mut serializer)?;
        for ((class, outcome), h) in series {
            let tag = format!("{class}/{}", outcome.name());
            log.write_histogram(h, start, length, Tag::new(&tag))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        out.flush()?;
        self.clients_log = true;
        Ok(())
    }

    /// Write the summary and make every file final (rename from `.partial`).
    pub fn finish(mut self, summary: &Summary) -> std::io::Result<PathBuf> {
        let sent = summary.rate.sent_requests;
        let line = counts_line(
            summary.rate.target_requests.unwrap_or(sent),
            sent,
            summary.schedule.dropped_requests,
        );
        let hlog_path = partial(&self.dir, LATENCY_LOG_FILE);
        let ts_path = partial(&self.dir, TIMESERIES_FILE);
        (|| {
            self.hlog.seek(SeekFrom::Start(self.counts_at))?;
            self.hlog.write_all(line.as_bytes())?;
            self.hlog.seek(SeekFrom::End(0))?;
            self.hlog.flush()
        })()
        .map_err(|e| io_err(&hlog_path, e))?;
        self.timeseries.flush().map_err(|e| io_err(&ts_path, e))?;
        let s_path = partial(&self.dir, SUMMARY_FILE);
        let json = serde_json::to_vec_pretty(summary).map_err(std::io::Error::other)?;
        std::fs::write(&s_path, json).map_err(|e| io_err(&s_path, e))?;
        drop(self.hlog);
        drop(self.timeseries);
        // The summary last: its presence says the run directory is complete.
        if self.clients_log {
            let from = partial(&self.dir, CLIENTS_LOG_FILE);
            let to = self.dir.join(CLIENTS_LOG_FILE);
            std::fs::rename(&from, &to).map_err(|e| io_err(&from, e))?;
        }
        for name in [LATENCY_LOG_FILE, TIMESERIES_FILE, SUMMARY_FILE] {
            let from = partial(&self.dir, name);
            let to = self.dir.join(name);
            std::fs::rename(&from, &to).map_err(|e| io_err(&from, e))?;
        }
        Ok(self.dir)
    }
}
