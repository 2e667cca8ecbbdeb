//! The engine: starts the workers, collects their intervals into the run's
//! files, shows progress, handles Ctrl-C, and writes the summary.
//!
//! Workers never wait for the collector: they send one message per second
//! on an unbounded channel and carry on. The collector merges interval `k`
//! once every worker has reported it, so the interval log is in time order.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use tokio::sync::mpsc::unbounded_channel;
use tokio::sync::Notify;

use super::client::{Connector, Proto, SetupError};
use super::progress::Progress;
use super::recorder::WorkerTotals;
use super::schedule::{Schedule, Slice};
use super::worker::{self, Pacing, WorkerMsg, WorkerSpec};
use crate::profile::{Environment, HttpMode, Load, Profile, RequestPlan};
use crate::results::hist::new_hist;
use crate::results::summary::*;
use crate::results::{
    IntervalData, LatencyStats, Outcome, ResultWriter, LATENCY_LOG_FILE, SUMMARY_FILE, TIMESERIES_FILE,
};

/// How to run a profile.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the run's files go.
    pub out_dir: PathBuf,
    /// Worker threads; `None` uses every core.
    pub workers: Option<usize>,
    /// `(index, count)`: run only this shard's slice of the load.
    pub shard: Option<(u32, u32)>,
    /// Send load to a target labelled `prod`.
    pub allow_prod: bool,
    /// Draw live progress on stderr (only when it is a terminal).
    pub progress: bool,
    /// Stop cleanly on Ctrl-C (the CLI); library callers use `stop`.
    pub handle_ctrl_c: bool,
    /// Set to stop the run early; everything recorded so far is written.
    pub stop: Arc<AtomicBool>,
    /// A request sent later than this after its intended instant is late.
    pub late_threshold: Duration,
}

impl RunOptions {
    pub fn new(out_dir: impl Into<PathBuf>) -> RunOptions {
        RunOptions {
            out_dir: out_dir.into(),
            workers: None,
            shard: None,
            allow_prod: false,
            progress: false,
            handle_ctrl_c: false,
            stop: Arc::new(AtomicBool::new(false)),
            late_threshold: Duration::from_millis(10),
        }
    }
}

/// A run that could not be made (a run that was made, whatever its
/// errors, is a [`RunReport`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{profile}: target {url} is labelled `environment: prod`; refusing to send load to production (pass --allow-prod if you really mean it)")]
    ProdRefused { profile: PathBuf, url: String },
    #[error("target: {0}")]
    Setup(#[from] SetupError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("--shard {index}/{count}: the index must be below the count, and the count at least 1")]
    BadShard { index: u32, count: u32 },
    #[error("the closed model has {users} users, too few for shard {index} of {count}")]
    EmptyShard { users: u32, index: u32, count: u32 },
    #[error("internal error: {0}")]
    Internal(String),
    /// A second Ctrl-C: the run stopped without waiting for requests in
    /// flight, and its files stay `.partial`. The CLI exits with 130.
    #[error("aborted by a second Ctrl-C: the results in {} are incomplete", dir.display())]
    Aborted { dir: PathBuf },
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub summary: Summary,
    pub dir: PathBuf,
}

/// Replay `profile` and write its results to `opts.out_dir`.
pub fn run(profile: Profile, opts: &RunOptions) -> Result<RunReport, Error> {
    if profile.target.environment == Some(Environment::Prod) && !opts.allow_prod {
        return Err(Error::ProdRefused {
            profile: profile.source.clone(),
            url: profile.target.base.to_string(),
        });
    }
    let (shard, shards) = opts.shard.unwrap_or((0, 1));
    if shards == 0 || shard >= shards {
        return Err(Error::BadShard {
            index: shard,
            count: shards,
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let connector = rt.block_on(Connector::new(&profile.target))?;
    // One probe connection tells which protocol the target speaks (ALPN on
    // https, `auto`); an unreachable target is not an error here: the run
    // goes on and counts every failed connection.
    let proto = rt.block_on(async {
        match connector.connect().await {
            Ok((_, p)) => p,
            Err(_) if profile.target.http == HttpMode::Http2 => Proto::H2,
            Err(_) => Proto::H1,
        }
    });
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut workers = opts.workers.unwrap_or(cores).max(1);
    let users_here: Vec<u32> = (0..profile.load_users()).filter(|u| u % shards == shard).collect();
    match &profile.load {
        Load::Open { .. } => workers = workers.min(profile.target.connections as usize),
        Load::Closed { users, .. } => {
            if users_here.is_empty() {
                return Err(Error::EmptyShard {
                    users: *users,
                    index: shard,
                    count: shards,
                });
            }
            workers = workers.min(users_here.len());
        }
    }
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| Error::Io {
        path: opts.out_dir.clone(),
        source,
    })?;

    let profile = Arc::new(profile);
    let plan = Arc::new(RequestPlan::new(profile.clone()));
    let (tx, mut rx) = unbounded_channel();
    let notify = Arc::new(Notify::new());
    let connected = Arc::new(Barrier::new(workers + 1));
    let go = Arc::new(Barrier::new(workers + 1));
    let start_cell: Arc<OnceLock<std::time::Instant>> = Arc::new(OnceLock::new());
    let mut threads = Vec::new();
    for w in 0..workers {
        let pacing = match &profile.load {
            Load::Open { shape, arrivals } => Pacing::Open {
                schedule: Schedule::new(shape.clone(), *arrivals, profile.seed, profile.duration.as_secs_f64()),
                slice: Slice {
                    shard,
                    shards,
                    worker: w as u32,
                    workers: workers as u32,
                },
            },
            Load::Closed { think_time, .. } => Pacing::Closed {
                users: users_here.iter().copied().skip(w).step_by(workers).collect(),
                think: *think_time,
            },
        };
        let conns = profile.target.connections as usize;
        let spec = WorkerSpec {
            plan: plan.clone(),
            connector: connector.clone(),
            proto,
            pacing,
            connections: (conns / workers + usize::from(w < conns % workers)) as u32,
            streams: profile.target.streams,
            timeout: profile.target.timeout,
            duration: profile.duration,
            warmup: profile.warmup,
            late_threshold: opts.late_threshold,
            stop: opts.stop.clone(),
            stop_notify: notify.clone(),
            tx: tx.clone(),
        };
        let (connected, go, start_cell) = (connected.clone(), go.clone(), start_cell.clone());
        let handle = std::thread::Builder::new()
            .name(format!("loadline-worker-{w}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("worker {w}: cannot start a runtime: {e}");
                        connected.wait();
                        go.wait();
                        return;
                    }
                };
                let local = tokio::task::LocalSet::new();
                let conns = local.block_on(&rt, worker::preconnect(&spec));
                connected.wait();
                go.wait();
                let start = start_cell.get().copied().unwrap_or_else(std::time::Instant::now);
                local.block_on(&rt, worker::run(spec, conns, tokio::time::Instant::from_std(start)));
            })
            .map_err(|e| Error::Internal(format!("cannot start a worker thread: {e}")))?;
        threads.push(handle);
    }
    drop(tx);
    connected.wait();
    // A short lead so every worker is past the barrier when the clock starts.
    let start = std::time::Instant::now() + Duration::from_millis(5);
    let _ = start_cell.set(start);
    let start_wall = SystemTime::now() + Duration::from_millis(5);
    let writer = ResultWriter::create(&opts.out_dir, start_wall, profile.endpoint_names(), &profile.name);
    if writer.is_err() {
        // Nothing can be recorded: release the workers straight into a stop.
        opts.stop.store(true, Ordering::Relaxed);
    }
    go.wait();
    let mut writer = match writer {
        Ok(w) => w,
        Err(source) => {
            for t in threads {
                let _ = t.join();
            }
            return Err(Error::Io {
                path: opts.out_dir.clone(),
                source,
            });
        }
    };
    let progress = Progress::new(opts.progress, profile.duration);
    let collector = Collector {
        writer: &mut writer,
        profile: &profile,
        workers,
        shards,
        stop: &opts.stop,
        notify: &notify,
        handle_ctrl_c: opts.handle_ctrl_c,
        progress: &progress,
    };
    let Some(Collected { finals, io_error }) = rt.block_on(collect(&mut rx, collector)) else {
        // Aborted: the workers may be waiting on requests in flight, and the
        // user asked not to wait for them.
        progress.finish();
        return Err(Error::Aborted {
            dir: opts.out_dir.clone(),
        });
    };
    for t in threads {
        let _ = t.join();
    }
    progress.finish();
    if let Some(source) = io_error {
        return Err(Error::Io {
            path: opts.out_dir.clone(),
            source,
        });
    }
    let elapsed = start.elapsed();
    let ended_wall = SystemTime::now();
    let summary = summarize(
        &profile,
        &writer,
        &finals,
        SummaryContext {
            workers: workers as u32,
            late_threshold: opts.late_threshold,
            shard: opts.shard,
            start_wall,
            ended_wall,
            elapsed,
            interrupted: opts.stop.load(Ordering::Relaxed),
        },
    );
    let dir = writer.finish(&summary).map_err(|source| Error::Io {
        path: opts.out_dir.clone(),
        source,
    })?;
    Ok(RunReport { summary, dir })
}

/// Event-loop lag (p99) above which the generator is short of CPU. The
/// timer's own granularity is 1 ms, so anything near it is normal.
const LOOP_LAG_LIMIT_US: u64 = 10_000;

struct Pending {
    reported: usize,
    data: IntervalData,
}

/// The collector: it gathers the workers' intervals in order and writes
/// each one once every worker has reported it, and handles Ctrl-C.
struct Collector<'a> {
    writer: &'a mut ResultWriter,
    profile: &'a Profile,
    workers: usize,
    shards: u32,
    stop: &'a Arc<AtomicBool>,
    notify: &'a Arc<Notify>,
    handle_ctrl_c: bool,
    progress: &'a Progress,
}

/// What the collector hands back when the workers are done: their totals,
/// and the first error writing the results, if any.
struct Collected {
    finals: Vec<WorkerTotals>,
    io_error: Option<std::io::Error>,
}

/// Runs the collector until every worker is done (`Some`), or a second
/// Ctrl-C aborts the run (`None`).
async fn collect(rx: &mut tokio::sync::mpsc::UnboundedReceiver<WorkerMsg>, c: Collector<'_>) -> Option<Collected> {
    let Collector {
        writer,
        profile,
        workers,
        shards,
        stop,
        notify,
        handle_ctrl_c,
        progress,
    } = c;
    let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
    let mut finals = Vec::new();
    let mut io_error = None;
    let mut errors_so_far = 0u64;
    let mut ctrl_c_seen = false;
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    // The first Ctrl-C stops the run and writes everything; a second one
    // aborts it (`None`) without waiting for requests in flight.
    let ctrl_c = || async move {
        if handle_ctrl_c {
            let _ = tokio::signal::ctrl_c().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let ctrl_c_again = ctrl_c();
    let ctrl_c = ctrl_c();
    tokio::pin!(ctrl_c, ctrl_c_again);
    while finals.len() < workers {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(WorkerMsg::Interval(iv)) => {
                    let p = pending.entry(iv.index).or_insert_with(|| Pending {
                        reported: 0,
                        data: new_interval(profile, shards, iv.index),
                    });
                    p.reported += 1;
                    p.data.sent += iv.sent;
                    for (key, h) in iv.series {
                        let _ = p.data.series.entry(key).or_insert_with(new_hist).add(&h);
                    }
                    if p.reported == workers {
                        let ready = iv.index;
                        while let Some(entry) = pending.first_entry() {
                            if *entry.key() > ready {
                                break;
                            }
                            let p = entry.remove();
                            write_interval(&p.data, writer, progress, &mut io_error, &mut errors_so_far);
                        }
                    }
                }
                Some(WorkerMsg::Done(t)) => finals.push(*t),
                None => break,
            },
            _ = &mut ctrl_c, if !ctrl_c_seen => {
                ctrl_c_seen = true;
                progress.note("stopping: finishing requests in flight and writing results (Ctrl-C again to abort)");
                stop.store(true, Ordering::Relaxed);
                notify.notify_waiters();
            }
            _ = &mut ctrl_c_again, if ctrl_c_seen => return None,
            _ = poll.tick() => {
                if stop.load(Ordering::Relaxed) {
                    notify.notify_waiters();
                }
            }
        }
    }
    while let Some((_, p)) = pending.pop_first() {
        write_interval(&p.data, writer, progress, &mut io_error, &mut errors_so_far);
    }
    Some(Collected { finals, io_error })
}

/// One complete interval to the progress line and the result files; after
/// the first write error, only to the progress line (the error is kept).
fn write_interval(
    data: &IntervalData,
    writer: &mut ResultWriter,
    progress: &Progress,
    io_error: &mut Option<std::io::Error>,
    errors: &mut u64,
) {
    *errors += data
        .series
        .iter()
        .filter(|((_, o), _)| o.is_error())
        .map(|(_, h)| h.len())
        .sum::<u64>();
    progress.interval(data, *errors);
    if io_error.is_none() {
        if let Err(e) = writer.interval(data) {
            *io_error = Some(e);
        }
    }
}

fn new_interval(profile: &Profile, shards: u32, index: u64) -> IntervalData {
    let t0 = index as f64;
    let end = profile.duration.as_secs_f64();
    let target = match &profile.load {
        Load::Open { shape, .. } => Some(shape.expected_count(t0, (t0 + 1.0).min(end)) / f64::from(shards)),
        Load::Closed { .. } => None,
    };
    IntervalData {
        index,
        start: Duration::from_secs(index),
        length: Duration::from_secs(1),
        series: BTreeMap::new(),
        target,
        sent: 0,
        warmup: Duration::from_secs(index) < profile.warmup,
    }
}

struct SummaryContext {
    workers: u32,
    late_threshold: Duration,
    shard: Option<(u32, u32)>,
    start_wall: SystemTime,
    ended_wall: SystemTime,
    elapsed: Duration,
    interrupted: bool,
}

fn round(v: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

fn summarize(profile: &Profile, writer: &ResultWriter, finals: &[WorkerTotals], ctx: SummaryContext) -> Summary {
    let shards = ctx.shard.map(|s| s.1).unwrap_or(1);
    let totals = writer.totals();
    let mut all = new_hist();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, o), h) in totals {
        let _ = all.add(h);
        *outcomes.entry(o.name().to_string()).or_default() += h.len();
    }
    let requests = all.len();
    let warmup = profile.warmup.as_secs_f64();
    let planned = profile.duration.as_secs_f64();
    let measured_s = if ctx.interrupted {
        (ctx.elapsed.as_secs_f64().min(planned) - warmup).max(0.0)
    } else {
        planned - warmup
    };
    let per_s = |n: u64| {
        if measured_s > 0.0 {
            round(n as f64 / measured_s, 2)
        } else {
            0.0
        }
    };
    let sum = |f: fn(&WorkerTotals) -> u64| finals.iter().map(f).sum::<u64>();
    let mut lag = new_hist();
    let mut loop_lag = new_hist();
    for f in finals {
        let _ = lag.add(&f.lag);
        let _ = loop_lag.add(&f.loop_lag);
    }
    let intended = sum(|f| f.intended);
    let dropped = sum(|f| f.dropped);
    let late = sum(|f| f.late);
    let (target_per_s, peak, target_requests, ratio) = match &profile.load {
        Load::Open { shape, .. } => {
            let expected = shape.expected_count(warmup, planned) / f64::from(shards);
            let ratio = if intended > 0 {
                Some(round(requests as f64 / intended as f64, 4))
            } else {
                None
            };
            (
                Some(round(expected / (planned - warmup).max(1e-9), 2)),
                Some(round(shape.peak(profile.duration) / f64::from(shards), 2)),
                Some(intended),
                ratio,
            )
        }
        Load::Closed { .. } => (None, None, None, None),
    };
    let loop_p99 = if loop_lag.is_empty() {
        0
    } else {
        loop_lag.value_at_quantile(0.99)
    };
    // Why the schedule was not kept, if it was not: the generator's own CPU,
    // or too few connections for what the target's latency allows.
    let mut reasons = Vec::new();
    if loop_p99 > LOOP_LAG_LIMIT_US {
        reasons.push(format!(
            "the generator's event loop ran {} late (p99): it was short of CPU, so requests went out later than intended (see schedule.lag_us) and latencies include that delay",
            crate::results::fmt_us(loop_p99)
        ));
    }
    if let Some(r) = ratio.filter(|r| !ctx.interrupted && *r < 0.99) {
        reasons.push(format!(
            "only {:.1}% of the intended requests were sent ({dropped} never sent, {late} late): every connection was busy; raise target.connections if the target can take more",
            r * 100.0
        ));
    }
    let saturated = !reasons.is_empty();
    let reason = saturated.then(|| reasons.join("; "));
    let errors: u64 = totals
        .iter()
        .filter(|((_, o), _)| o.is_error())
        .map(|(_, h)| h.len())
        .sum();
    let mut errors_by_class = BTreeMap::new();
    for o in Outcome::ALL.iter().filter(|o| o.is_error()) {
        errors_by_class.insert(o.name().to_string(), outcomes.get(o.name()).copied().unwrap_or(0));
    }
    let unexpected: Vec<u64> = (0..profile.endpoints.len())
        .map(|i| finals.iter().map(|f| f.unexpected.get(i).copied().unwrap_or(0)).sum())
        .collect();
    let endpoints = profile
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut ep_all = new_hist();
            let mut outs = BTreeMap::new();
            let mut ep_errors = 0;
            for ((ei, o), h) in totals {
                if *ei != i {
                    continue;
                }
                let _ = ep_all.add(h);
                if o.is_error() {
                    ep_errors += h.len();
                }
                outs.insert(
                    o.name().to_string(),
                    OutcomeSummary {
                        count: h.len(),
                        rate_per_s: per_s(h.len()),
                        latency_us: LatencyStats::of(h),
                    },
                );
            }
            let n = ep_all.len();
            EndpointSummary {
                name: e.name.clone(),
                kind: match e.kind {
                    crate::profile::Kind::Read => "read".into(),
                    crate::profile::Kind::Write => "write".into(),
                },
                method: e.method.to_string(),
                planned_share: round(e.share, 4),
                requests: n,
                share: if requests > 0 {
                    round(n as f64 / requests as f64, 4)
                } else {
                    0.0
                },
                rate_per_s: per_s(n),
                errors: ep_errors,
                error_rate: if n > 0 {
                    round(ep_errors as f64 / n as f64, 6)
                } else {
                    0.0
                },
                unexpected_status: unexpected[i],
                latency_us: LatencyStats::of(&ep_all),
                outcomes: outs,
            }
        })
        .collect();
    let read = sum(|f| f.read);
    let write = sum(|f| f.write);
    let tenants = profile.tenants.as_ref().map(|t| {
        let mut counts = vec![0u64; t.count as usize];
        for f in finals {
            for (c, v) in counts.iter_mut().zip(&f.tenants) {
                *c += v;
            }
        }
        let total: u64 = counts.iter().sum();
        let mut order: Vec<usize> = (0..counts.len()).filter(|i| counts[*i] > 0).collect();
        let seen = order.len() as u32;
        order.sort_by(|a, b| counts[*b].cmp(&counts[*a]).then(a.cmp(b)));
        TenantSummary {
            count: t.count,
            seen,
            top: order
                .into_iter()
                .take(10)
                .map(|i| TenantShare {
                    id: t.id(i as u32 + 1),
                    requests: counts[i],
                    share: if total > 0 {
                        round(counts[i] as f64 / total as f64, 4)
                    } else {
                        0.0
                    },
                })
                .collect(),
        }
    });
    let (model, arrivals, users) = match &profile.load {
        Load::Open { arrivals, .. } => (Model::Open, Some(arrivals.name().to_string()), None),
        Load::Closed { users, .. } => (Model::Closed, None, Some(*users)),
    };
    let lag_q = |h: &Histogram<u64>, q: f64| if h.is_empty() { 0 } else { h.value_at_quantile(q) };
    Summary {
        schema_version: SCHEMA_VERSION,
        loadline_version: env!("CARGO_PKG_VERSION").to_string(),
        profile: ProfileInfo {
            name: profile.name.clone(),
            description: profile.description.clone(),
            source: profile.source.display().to_string(),
            seed: profile.seed,
            model,
            arrivals,
            users,
            environment: profile.target.environment.map(|e| e.to_string()),
        },
        target: TargetInfo {
            base_url: profile.target.base.to_string(),
            http: match profile.target.http {
                HttpMode::Auto => "auto",
                HttpMode::Http1 => "http1",
                HttpMode::Http2 => "http2",
            }
            .into(),
            connections: profile.target.connections,
            streams: profile.target.streams,
            timeout_ms: profile.target.timeout.as_millis() as u64,
        },
        run: RunInfo {
            started_at: humantime::format_rfc3339_millis(ctx.start_wall).to_string(),
            ended_at: humantime::format_rfc3339_millis(ctx.ended_wall).to_string(),
            planned_duration_s: round(planned, 3),
            warmup_s: round(warmup, 3),
            elapsed_s: round(ctx.elapsed.as_secs_f64(), 3),
            measured_s: round(measured_s, 3),
            interrupted: ctx.interrupted,
            workers: ctx.workers,
            shard: ctx.shard.map(|(index, count)| ShardInfo { index, count }),
        },
        rate: RateInfo {
            target_per_s,
            peak_target_per_s: peak,
            target_requests,
            sent_requests: requests,
            achieved_per_s: per_s(requests),
            achieved_ratio: ratio,
        },
        schedule: ScheduleInfo {
            lag_us: LagStats {
                p50: lag_q(&lag, 0.5),
                p99: lag_q(&lag, 0.99),
                max: if lag.is_empty() { 0 } else { lag.max() },
            },
            late_requests: late,
            late_threshold_ms: ctx.late_threshold.as_millis() as u64,
            dropped_requests: dropped,
            loop_lag_p99_us: loop_p99,
            generator_saturated: saturated,
            saturation_reason: reason,
        },
        totals: Totals {
            requests,
            warmup_requests: sum(|f| f.warmup_requests),
            errors,
            error_rate: if requests > 0 {
                round(errors as f64 / requests as f64, 6)
            } else {
                0.0
            },
            unexpected_status: unexpected.iter().sum(),
            latency_us: LatencyStats::of(&all),
        },
        outcomes,
        errors_by_class,
        read_write: ReadWrite {
            read,
            write,
            read_share: if read + write > 0 {
                round(read as f64 / (read + write) as f64, 4)
            } else {
                0.0
            },
        },
        endpoints,
        tenants,
        files: Files {
            summary: SUMMARY_FILE.into(),
            latency_log: LATENCY_LOG_FILE.into(),
            timeseries: TIMESERIES_FILE.into(),
        },
    }
}
