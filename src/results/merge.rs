//! Merging the shards of one run into one ordinary run directory.
//!
//! Every shard of a run records on the same time grid (run id, T0,
//! interval length) with the same histogram layout, and every request is in
//! the interval of its intended send time, so interval `k` of every shard
//! covers the same span: merging adds histogram buckets interval by
//! interval and tag by tag, never quantiles, and adds counts. The shards'
//! logs and time series are read a line at a time, so memory does not grow
//! with their length, and grows with their number only by one open reader
//! and one decoded interval each.
//!
//! Shards that do not belong together (run id, profile hash, seed, shard
//! count, layout, T0, interval, endpoints) are refused, and so are a
//! duplicate index and, unless partial results are allowed, a missing one.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::hist::{decode, encode, new_hist};
use super::hlog::{self, LoggedInterval};
use super::run::{RunError, SeriesReader, SeriesRow};
use super::summary::*;
use super::writer::LogHeader;
use super::{ClientKey, IntervalData, LatencyStats, Outcome, ResultWriter, SeriesKey, SUMMARY_FILE};

/// Why shards could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A directory is neither a run nor holds runs.
    #[error("{}: not a loadline run directory, and none of its subdirectories is one (no summary.json)", dir.display())]
    NoRun {
        /// The directory as given.
        dir: PathBuf,
    },
    /// A shard directory whose run did not finish (its files are still `.partial`).
    #[error("{}: this shard did not finish (no summary.json; its files are still .partial)", dir.display())]
    Unfinished {
        /// The shard's directory.
        dir: PathBuf,
    },
    /// No directory was given.
    #[error("no run directories to merge")]
    Empty,
    /// A shard's summary or files could not be read.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A shard's interval log could not be read.
    #[error(transparent)]
    Log(#[from] hlog::ReadError),
    /// Two shards disagree on what must be the same for one run.
    #[error("{}: {field} is {found}, but {} has {expected}: these are not shards of one run", dir.display(), first.display())]
    Mismatch {
        /// The shard that disagrees.
        dir: PathBuf,
        /// What differs.
        field: &'static str,
        /// Its value there.
        found: String,
        /// The first shard.
        first: PathBuf,
        /// The first shard's value.
        expected: String,
    },
    /// Two directories are the same shard.
    #[error("shard {index}/{count} appears twice: {} and {}", a.display(), b.display())]
    Duplicate {
        /// The index.
        index: u32,
        /// Shards in the run.
        count: u32,
        /// One directory.
        a: PathBuf,
        /// The other.
        b: PathBuf,
    },
    /// Shards are missing and partial results were not allowed.
    #[error("run {run_id}: shard {} of {count} missing ({} of {count} present); merge what is there with --allow-partial, and the gate will call the result inconclusive", list(missing), count - missing.len() as u32)]
    Missing {
        /// The run.
        run_id: String,
        /// The missing indices.
        missing: Vec<u32>,
        /// Shards in the run.
        count: u32,
    },
    /// The output directory is one of the inputs.
    #[error("{}: the output is one of the shards being merged; write the merged run elsewhere", dir.display())]
    OutIsInput {
        /// The directory.
        dir: PathBuf,
    },
    /// A tag of a shard's log names no endpoint or outcome of the run.
    #[error("{path}: interval tag `{tag}` is not an ENDPOINT/OUTCOME of this run")]
    Tag {
        /// The log.
        path: String,
        /// The tag.
        tag: String,
    },
    /// A summary's histogram field does not decode.
    #[error("{}: schedule.{field}: {message}", dir.display())]
    Histogram {
        /// The shard.
        dir: PathBuf,
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The merged run's files could not be written.
    #[error("{}: {source}", dir.display())]
    Write {
        /// The output directory.
        dir: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// `3, 5` for a list of indices.
fn list(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// One shard: its directory and summary.
#[derive(Debug, Clone)]
pub struct Shard {
    /// The shard's run directory.
    pub dir: PathBuf,
    /// Its `summary.json`.
    pub summary: Summary,
}

impl Shard {
    /// `(index, count)`; a run without `--shard` is shard 0 of 1.
    pub fn position(&self) -> (u32, u32) {
        self.summary.run.shard.as_ref().map_or((0, 1), |s| (s.index, s.count))
    }
}

/// The shards named by `dirs`: each a run directory, or a directory whose
/// subdirectories are (a run's parent, as Kubernetes writes `RUN/shard-I`).
/// Merged runs among the subdirectories (an earlier `merge --out RUN/merged`)
/// are skipped. A subdirectory with only `.partial` files is an unfinished shard: an
/// error, since it is neither absent nor complete, unless `skip_unfinished`
/// (partial results allowed: it counts as missing).
pub fn find_shards(dirs: &[PathBuf], skip_unfinished: bool) -> Result<Vec<Shard>, MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::Empty);
    }
    let mut out = Vec::new();
    for dir in dirs {
        if dir.join(SUMMARY_FILE).is_file() {
            out.push(read_shard(dir)?);
            continue;
        }
        let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|_| MergeError::NoRun { dir: dir.clone() })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        subdirs.sort();
        let before = out.len();
        for sub in subdirs {
            if sub.join(SUMMARY_FILE).is_file() {
                let shard = read_shard(&sub)?;
                // An earlier merge of these shards (RUN/merged) is not one of them.
                if shard.summary.run.merged.is_none() {
                    out.push(shard);
                }
            } else if is_unfinished(&sub) && !skip_unfinished {
                return Err(MergeError::Unfinished { dir: sub });
            }
        }
        if out.len() == before {
            return Err(MergeError::NoRun { dir: dir.clone() });
        }
    }
    Ok(out)
}

/// A directory a run started writing and never finished.
fn is_unfinished(dir: &Path) -> bool {
    dir.join(crate::atomic::partial_path(Path::new(super::LATENCY_LOG_FILE)))
        .is_file()
}

fn read_shard(dir: &Path) -> Result<Shard, MergeError> {
    let summary = super::read_summary(dir).map_err(RunError::from)?;
    Ok(Shard {
        dir: dir.to_path_buf(),
        summary,
    })
}

/// Check that `shards` are shards of one run, each once; returns how the
/// merge covers the run. Missing shards are an error unless `allow_partial`.
pub fn check(shards: &[Shard], allow_partial: bool) -> Result<MergedInfo, MergeError> {
    let first = shards.first().ok_or(MergeError::Empty)?;
    let key = |s: &Shard| -> [(&'static str, String); 8] {
        let m = &s.summary;
        [
            ("run_id", m.run.run_id.clone()),
            ("profile hash", m.profile.hash.clone()),
            ("seed", m.profile.seed.to_string()),
            ("shard count", s.position().1.to_string()),
            ("histogram layout", format!("{:?}", m.histogram)),
            ("T0 (t0_unix_ms)", m.run.t0_unix_ms.to_string()),
            ("interval_s", m.run.interval_s.to_string()),
            (
                "endpoints",
                m.endpoints
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ]
    };
    let expected = key(first);
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    let count = first.position().1;
    for s in shards {
        for ((field, found), (_, want)) in key(s).into_iter().zip(&expected) {
            if &found != want {
                return Err(MergeError::Mismatch {
                    dir: s.dir.clone(),
                    field,
                    found,
                    first: first.dir.clone(),
                    expected: want.clone(),
                });
            }
        }
        let index = s.position().0;
        if let Some(other) = seen.insert(index, &s.dir) {
            return Err(MergeError::Duplicate {
                index,
                count,
                a: other.to_path_buf(),
                b: s.dir.clone(),
            });
        }
    }
    let missing: Vec<u32> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    if !missing.is_empty() && !allow_partial {
        return Err(MergeError::Missing {
            run_id: first.summary.run.run_id.clone(),
            missing,
            count,
        });
    }
    Ok(MergedInfo {
        count,
        merged: seen.keys().copied().collect(),
        partial: !missing.is_empty(),
        missing,
    })
}

/// Merge the shards in `dirs` (see [`find_shards`]) into `out`, an
/// ordinary run directory; returns its summary.
pub fn merge(dirs: &[PathBuf], out: &Path, allow_partial: bool) -> Result<Summary, MergeError> {
    let shards = find_shards(dirs, allow_partial)?;
    let info = check(&shards, allow_partial)?;
    if let Ok(o) = out.canonicalize() {
        if let Some(s) = shards.iter().find(|s| s.dir.canonicalize().is_ok_and(|d| d == o)) {
            return Err(MergeError::OutIsInput { dir: s.dir.clone() });
        }
    }
    merge_shards(&shards, info, out)
}

/// One shard being read: its log and its time series, each a line at a
/// time and one interval ahead.
struct Cursor {
    log: hlog::Reader,
    log_path: String,
    next: Option<LoggedInterval>,
    rows: SeriesReader,
    row: Option<SeriesRow>,
}

impl Cursor {
    fn open(s: &Shard) -> Result<Cursor, MergeError> {
        let log_path = s.dir.join(&s.summary.files.latency_log);
        let mut log = hlog::Reader::open(&log_path)?;
        let next = log.next_interval()?;
        let mut rows = SeriesReader::open(&s.dir.join(&s.summary.files.timeseries))?;
        let row = rows.next_row()?;
        Ok(Cursor {
            log,
            log_path: log_path.display().to_string(),
            next,
            rows,
            row,
        })
    }

    /// The first interval index this shard has not given yet.
    fn ahead(&self) -> Option<u64> {
        let log = self.next.as_ref().map(|iv| iv.start.as_secs());
        let row = self.row.as_ref().map(|r| r.second);
        match (log, row) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Merge checked shards into `out`.
fn merge_shards(shards: &[Shard], info: MergedInfo, out: &Path) -> Result<Summary, MergeError> {
    let first = &shards[0].summary;
    let endpoints: Vec<String> = first.endpoints.iter().map(|e| e.name.clone()).collect();
    let t0 = std::time::UNIX_EPOCH + Duration::from_millis(first.run.t0_unix_ms);
    let interval = Duration::from_secs_f64(first.run.interval_s.max(1e-3));
    let header = LogHeader {
        title: format!(
            "{} (merged: shards {} of {})",
            first.profile.name,
            list(&info.merged),
            info.count
        ),
        run_id: first.run.run_id.clone(),
        shard: None,
        attempt: 0,
        seed: first.profile.seed,
        profile_hash: first.profile.hash.clone(),
        t0,
        interval,
    };
    let write_err = |source| MergeError::Write {
        dir: out.to_path_buf(),
        source,
    };
    let mut writer = ResultWriter::create(out, &header, endpoints.clone()).map_err(write_err)?;
    let mut cursors = shards.iter().map(Cursor::open).collect::<Result<Vec<_>, _>>()?;
    while let Some(k) = cursors.iter().filter_map(Cursor::ahead).min() {
        let data = merge_interval(&mut cursors, k, interval, &endpoints)?;
        writer.interval(&data).map_err(write_err)?;
    }
    let mut summary = merged_summary(shards, &info, writer.totals())?;
    if !first.clients.is_empty() {
        let series = client_series(shards)?;
        let start = Duration::from_secs_f64(first.run.warmup_s.max(0.0));
        let length = Duration::from_secs_f64(summary.run.measured_s.max(0.0));
        writer.clients(&series, start, length).map_err(write_err)?;
        summary.clients = merged_clients(shards, &series, summary.totals.requests);
        summary.files.clients_log = Some(super::CLIENTS_LOG_FILE.into());
    }
    writer.finish(&summary).map_err(write_err)?;
    Ok(summary)
}

/// Interval `k` of every shard, added.
fn merge_interval(
    cursors: &mut [Cursor],
    k: u64,
    interval: Duration,
    endpoints: &[String],
) -> Result<IntervalData, MergeError> {
    let mut data = IntervalData {
        index: k,
        start: interval * u32::try_from(k).unwrap_or(u32::MAX),
        length: interval,
        series: BTreeMap::new(),
        target: None,
        intended: 0,
        sent: 0,
        never_sent: 0,
        warmup: false,
    };
    for c in cursors.iter_mut() {
        while let Some(iv) = c.next.take_if(|iv| iv.start.as_secs() == k) {
            let key = series_key(iv.tag.as_deref().unwrap_or(""), endpoints).ok_or_else(|| MergeError::Tag {
                path: c.log_path.clone(),
                tag: iv.tag.clone().unwrap_or_default(),
            })?;
            // The first shard's histogram of a series becomes the sum: a new
            // empty one to add it into was a 184 KB zeroing and a copy.
            match data.series.entry(key) {
                Entry::Vacant(e) => {
                    e.insert(iv.hist);
                }
                Entry::Occupied(mut e) => {
                    let _ = e.get_mut().add(&iv.hist);
                }
            }
            c.next = c.log.next_interval()?;
        }
        if let Some(row) = c.row.take_if(|r| r.second == k) {
            let secs = interval.as_secs_f64();
            if let Some(t) = row.target_rate {
                *data.target.get_or_insert(0.0) += t * secs;
            }
            let sent = row.sent.unwrap_or((row.achieved_rate * secs).round() as u64);
            data.sent += sent;
            data.intended += row.intended.unwrap_or(sent);
            data.never_sent += row.never_sent.unwrap_or(0);
            data.warmup |= row.warmup;
            c.row = c.rows.next_row()?;
        }
    }
    Ok(data)
}

/// The client classes' histograms of every shard (`clients.hlog`), added
/// per class and outcome.
fn client_series(shards: &[Shard]) -> Result<BTreeMap<ClientKey, Histogram<u64>>, MergeError> {
    let mut out: BTreeMap<ClientKey, Histogram<u64>> = BTreeMap::new();
    for s in shards {
        let Some(name) = &s.summary.files.clients_log else {
            continue;
        };
        let path = s.dir.join(name);
        for iv in hlog::read(&path)? {
            let tag = iv.tag.clone().unwrap_or_default();
            let key = tag
                .rsplit_once('/')
                .and_then(|(class, o)| Some((class.to_string(), Outcome::parse(o)?)))
                .filter(|(class, _)| s.summary.clients.iter().any(|c| c.name == *class))
                .ok_or_else(|| MergeError::Tag {
                    path: path.display().to_string(),
                    tag,
                })?;
            match out.entry(key) {
                Entry::Vacant(e) => {
                    e.insert(iv.hist);
                }
                Entry::Occupied(mut e) => {
                    let _ = e.get_mut().add(&iv.hist);
                }
            }
        }
    }
    Ok(out)
}

/// Each client class from the added histograms, with the shards' counts added.
fn merged_clients(shards: &[Shard], series: &BTreeMap<ClientKey, Histogram<u64>>, normal: u64) -> Vec<ClientSummary> {
    let first = &shards[0].summary;
    let parts: Vec<(BTreeMap<Outcome, Histogram<u64>>, ClientCounts)> = first
        .clients
        .iter()
        .map(|c| {
            let hists = series
                .iter()
                .filter(|((name, _), _)| *name == c.name)
                .map(|((_, o), h)| (*o, h.clone()))
                .collect();
            let mut counts = ClientCounts::default();
            for s in shards {
                if let Some(sc) = s.summary.clients.iter().find(|sc| sc.name == c.name) {
                    counts.add(&ClientCounts::of(sc));
                }
            }
            (hists, counts)
        })
        .collect();
    ClientSummary::all(
        first.clients.iter().map(|c| (&c.name, &c.behaviour, c.planned_share)),
        &parts,
        normal,
    )
}

/// The endpoint and outcome of an `ENDPOINT/OUTCOME` tag.
fn series_key(tag: &str, endpoints: &[String]) -> Option<SeriesKey> {
    let (name, outcome) = tag.rsplit_once('/')?;
    Some((endpoints.iter().position(|e| e == name)?, Outcome::parse(outcome)?))
}

/// The merged run's summary: counts added, latency from the added
/// histograms, the schedule's lag from the shards' lag histograms.
fn merged_summary(
    shards: &[Shard],
    info: &MergedInfo,
    totals: &BTreeMap<SeriesKey, Histogram<u64>>,
) -> Result<Summary, MergeError> {
    let first = &shards[0].summary;
    let sum = |f: &dyn Fn(&Summary) -> u64| shards.iter().map(|s| f(&s.summary)).sum::<u64>();
    let max_f = |f: &dyn Fn(&Summary) -> f64| shards.iter().map(|s| f(&s.summary)).fold(0.0, f64::max);
    let mut all = new_hist();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, o), h) in totals {
        let _ = all.add(h);
        *outcomes.entry(o.name().to_string()).or_default() += h.len();
    }
    let requests = all.len();
    let measured_s = max_f(&|s| s.run.measured_s);
    let per_s = |n: u64| {
        if measured_s > 0.0 {
            round(n as f64 / measured_s, 2)
        } else {
            0.0
        }
    };
    let errors: u64 = totals
        .iter()
        .filter(|((_, o), _)| o.is_error())
        .map(|(_, h)| h.len())
        .sum();
    let interrupted = shards.iter().any(|s| s.summary.run.interrupted);
    let read = sum(&|s| s.read_write.read);
    let write = sum(&|s| s.read_write.write);
    let ended = shards
        .iter()
        .map(|s| s.summary.run.ended_at.clone())
        .max()
        .unwrap_or_default();
    Ok(Summary {
        schema_version: SCHEMA_VERSION,
        loadline_version: env!("CARGO_PKG_VERSION").to_string(),
        profile: first.profile.clone(),
        target: TargetInfo {
            connections: shards.iter().map(|s| s.summary.target.connections).sum(),
            ..first.target.clone()
        },
        run: RunInfo {
            ended_at: ended,
            elapsed_s: max_f(&|s| s.run.elapsed_s),
            measured_s,
            interrupted,
            workers: shards.iter().map(|s| s.summary.run.workers).sum(),
            shard: None,
            late_start_ms: shards.iter().map(|s| s.summary.run.late_start_ms).max().unwrap_or(0),
            merged: Some(info.clone()),
            ..first.run.clone()
        },
        rate: merged_rate(shards, requests, per_s(requests)),
        schedule: merged_schedule(shards)?,
        totals: Totals {
            requests,
            warmup_requests: sum(&|s| s.totals.warmup_requests),
            errors,
            error_rate: share(errors, requests, 6),
            unexpected_status: sum(&|s| s.totals.unexpected_status),
            latency_us: LatencyStats::of(&all),
        },
        errors_by_class: errors_by_class(&outcomes),
        errors_by_kind: merged_kinds(shards),
        retried_stale: sum(&|s| s.retried_stale),
        outcomes,
        generator: merged_generator(shards),
        read_write: ReadWrite {
            read,
            write,
            read_share: share(read, read + write, 4),
        },
        endpoints: merged_endpoints(shards, totals, requests, &per_s),
        tenants: merged_tenants(shards),
        clients: Vec::new(),
        files: Files {
            clients_log: None,
            ..first.files.clone()
        },
        histogram: first.histogram.clone(),
    })
}

/// What the shards' generators cost together: CPU-seconds added, the share
/// of every shard's workers over its own wall time, requests per CPU-second
/// over all of them. `None` unless every shard measured its CPU.
fn merged_generator(shards: &[Shard]) -> Option<GeneratorInfo> {
    let (mut cpu, mut capacity, mut requests) = (0.0, 0.0, 0u64);
    for s in shards.iter().map(|s| &s.summary) {
        cpu += s.generator.as_ref()?.cpu_s;
        capacity += s.run.elapsed_s * f64::from(s.run.workers.max(1));
        requests += s.requests_completed();
    }
    GeneratorInfo::new(cpu, capacity, requests)
}

/// Failures per kind: the shards' counts added, exactly.
fn merged_kinds(shards: &[Shard]) -> BTreeMap<String, u64> {
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for s in shards {
        for (k, n) in &s.summary.errors_by_kind {
            *kinds.entry(k.clone()).or_default() += n;
        }
    }
    kinds
}

/// The rate part: the shards' targets added (each shard's is its share of the profile's).
fn merged_rate(shards: &[Shard], requests: u64, achieved_per_s: f64) -> RateInfo {
    let sum_f = |f: &dyn Fn(&Summary) -> Option<f64>| -> Option<f64> {
        shards.iter().map(|s| f(&s.summary)).sum::<Option<f64>>()
    };
    let target_requests = sum_f(&|s| s.rate.target_requests.map(|t| t as f64)).map(|t| t as u64);
    RateInfo {
        target_per_s: sum_f(&|s| s.rate.target_per_s).map(|v| round(v, 2)),
        peak_target_per_s: sum_f(&|s| s.rate.peak_target_per_s).map(|v| round(v, 2)),
        target_requests,
        sent_requests: requests,
        achieved_per_s,
        achieved_ratio: target_requests
            .filter(|t| *t > 0)
            .map(|t| round(requests as f64 / t as f64, 4)),
    }
}

/// Add a shard's encoded histogram `field` into `into`; false when the shard
/// has none (written before the field existed).
fn add_histogram(
    shard: &Shard,
    field: &'static str,
    text: Option<&str>,
    into: &mut Histogram<u64>,
) -> Result<bool, MergeError> {
    let Some(t) = text else { return Ok(false) };
    let h = decode(t).map_err(|message| MergeError::Histogram {
        dir: shard.dir.clone(),
        field,
        message,
    })?;
    let _ = into.add(&h);
    Ok(true)
}

/// The schedule part: lag quantiles from the added lag histograms, counts
/// added, saturated when any shard was (its reason named with its index).
fn merged_schedule(shards: &[Shard]) -> Result<ScheduleInfo, MergeError> {
    let mut lag = new_hist();
    let mut loop_lag = new_hist();
    let mut send_lag = new_hist();
    let mut exact = true;
    let mut send_exact = true;
    for s in shards {
        let sch = &s.summary.schedule;
        exact &= add_histogram(s, "lag_histogram", sch.lag_histogram.as_deref(), &mut lag)?;
        exact &= add_histogram(
            s,
            "loop_lag_histogram",
            sch.loop_lag_histogram.as_deref(),
            &mut loop_lag,
        )?;
        send_exact &= add_histogram(
            s,
            "send_lag_histogram",
            sch.send_lag_histogram.as_deref(),
            &mut send_lag,
        )?;
    }
    let worst = |f: &dyn Fn(&ScheduleInfo) -> u64| shards.iter().map(|s| f(&s.summary.schedule)).max().unwrap_or(0);
    let reasons: Vec<String> = shards
        .iter()
        .filter_map(|s| {
            let r = s.summary.schedule.saturation_reason.as_ref()?;
            Some(format!("shard {}: {r}", s.position().0))
        })
        .collect();
    let first = &shards[0].summary.schedule;
    // Shards written before a lag histogram existed: the worst shard's numbers.
    let worst_stats = |f: &dyn Fn(&ScheduleInfo) -> &LagStats| LagStats {
        p50: worst(&|s| f(s).p50),
        p99: worst(&|s| f(s).p99),
        max: worst(&|s| f(s).max),
    };
    Ok(ScheduleInfo {
        lag_us: if exact {
            LagStats::of(&lag)
        } else {
            worst_stats(&|s| &s.lag_us)
        },
        send_lag_us: if send_exact {
            LagStats::of(&send_lag)
        } else {
            worst_stats(&|s| &s.send_lag_us)
        },
        late_requests: shards.iter().map(|s| s.summary.schedule.late_requests).sum(),
        late_threshold_ms: first.late_threshold_ms,
        dropped_requests: shards.iter().map(|s| s.summary.schedule.dropped_requests).sum(),
        loop_lag_p99_us: if exact {
            LagStats::of(&loop_lag).p99
        } else {
            worst(&|s| s.loop_lag_p99_us)
        },
        generator_saturated: shards.iter().any(|s| s.summary.schedule.generator_saturated),
        saturation_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        lag_histogram: exact.then(|| encode(&lag)),
        loop_lag_histogram: exact.then(|| encode(&loop_lag)),
        send_lag_histogram: send_exact.then(|| encode(&send_lag)),
    })
}

/// Each endpoint from the added histograms, with the shards' unexpected statuses added.
fn merged_endpoints(
    shards: &[Shard],
    totals: &BTreeMap<SeriesKey, Histogram<u64>>,
    requests: u64,
    per_s: &dyn Fn(u64) -> f64,
) -> Vec<EndpointSummary> {
    let first = &shards[0].summary;
    first
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let t = EndpointTotals::of(totals, i, per_s);
            let n = t.all.len();
            EndpointSummary {
                requests: n,
                share: share(n, requests, 4),
                rate_per_s: per_s(n),
                errors: t.errors,
                error_rate: share(t.errors, n, 6),
                unexpected_status: shards
                    .iter()
                    .map(|s| s.summary.endpoints.get(i).map_or(0, |e| e.unexpected_status))
                    .sum(),
                latency_us: LatencyStats::of(&t.all),
                outcomes: t.outcomes,
                ..e.clone()
            }
        })
        .collect()
}

/// Tenants: the shards' busiest-tenant lists added. A tenant's count is
/// exact when it is in every shard's list (shards split requests evenly, so
/// the busiest tenants are); `seen` is the most any shard saw, a lower bound.
fn merged_tenants(shards: &[Shard]) -> Option<TenantSummary> {
    let first = shards[0].summary.tenants.as_ref()?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for t in shards.iter().filter_map(|s| s.summary.tenants.as_ref()) {
        for top in &t.top {
            *counts.entry(top.id.clone()).or_default() += top.requests;
        }
    }
    let total: u64 = shards
        .iter()
        .map(|s| s.summary.read_write.read + s.summary.read_write.write)
        .sum();
    let mut top: Vec<(String, u64)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Some(TenantSummary {
        count: first.count,
        seen: shards
            .iter()
            .filter_map(|s| s.summary.tenants.as_ref().map(|t| t.seen))
            .max()
            .unwrap_or(0),
        top: top
            .into_iter()
            .take(10)
            .map(|(id, requests)| TenantShare {
                share: share(requests, total, 4),
                id,
                requests,
            })
            .collect(),
    })
}

/// Read a run: one run directory as it is, or the shards of one run
/// (several directories, or a run's parent directory) merged with
/// [`merge`]'s checks into a temporary directory and read back. The run's
/// `dir` then names what was given.
pub fn load_run(
    dirs: &[PathBuf],
    bounds: &[Duration],
    series: super::run::Series,
    allow_partial: bool,
) -> Result<super::run::Run, RunError> {
    if let [one] = dirs {
        if one.join(SUMMARY_FILE).is_file() {
            return super::run::Run::load(one, bounds, series);
        }
    }
    let (tmp, _) = TempRun::merge(dirs, allow_partial).map_err(Box::new)?;
    let mut run = super::run::Run::load(&tmp.dir, bounds, series)?;
    run.dir = PathBuf::from(
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(" + "),
    );
    Ok(run)
}

/// A fresh directory under the system's temporary directory for an
/// in-memory-sized merge (the gate and the report merge shards there and
/// read the result back); removed when dropped.
pub struct TempRun {
    /// The merged run's directory.
    pub dir: PathBuf,
}

impl TempRun {
    /// Merge `dirs` into a new temporary directory.
    pub fn merge(dirs: &[PathBuf], allow_partial: bool) -> Result<(TempRun, Summary), MergeError> {
        let nanos = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("loadline-merge-{}-{nanos}", std::process::id()));
        let run = TempRun { dir };
        let summary = merge(dirs, &run.dir, allow_partial)?;
        Ok((run, summary))
    }
}

impl Drop for TempRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
