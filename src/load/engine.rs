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

use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::sync::Notify;

use super::client::slow::SlowConnector;
use super::client::{Connector, Proto, SetupError, Wire};
use super::progress::Progress;
use super::recorder::{WorkerInterval, WorkerTotals};
use super::schedule::{Schedule, Slice};
use super::stop::{self, Signal};
use super::summary::{summarize, SummaryContext};
use super::worker::{self, Pacing, WorkerMsg, WorkerSpec};
use crate::profile::{Environment, HttpMode, Load, Profile, RequestPlan};
use crate::results::hist::new_hist;
use crate::results::summary::*;
use crate::results::writer::LogHeader;
use crate::results::{IntervalData, ResultWriter};

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
    /// Stop cleanly on Ctrl-C or SIGTERM, and abort on a second one (the
    /// CLI); library callers use `stop`.
    pub handle_signals: bool,
    /// Set to stop the run early; everything recorded so far is written.
    pub stop: Arc<AtomicBool>,
    /// A request sent later than this after its intended instant is late.
    pub late_threshold: Duration,
    /// T0, the start of the run's time grid (`--start-at`): the run waits for
    /// it; `None` starts as soon as the connections are up.
    pub start_at: Option<SystemTime>,
    /// A `start_at` already past by more than this is refused; less late,
    /// the run starts at once on T0's grid (its first requests are late).
    pub start_tolerance: Duration,
    /// The run's id (`--run-id`); `None` derives one from the profile's name,
    /// its hash and T0, so shards given the same T0 agree.
    pub run_id: Option<String>,
    /// Which attempt at this shard (`--attempt`), recorded in the results.
    pub attempt: u32,
}

impl RunOptions {
    /// Options for a run writing to `out_dir`: every core, the whole load,
    /// no progress bar, prod refused, late past 10 ms.
    pub fn new(out_dir: impl Into<PathBuf>) -> RunOptions {
        RunOptions {
            out_dir: out_dir.into(),
            workers: None,
            shard: None,
            allow_prod: false,
            progress: false,
            handle_signals: false,
            stop: Arc::new(AtomicBool::new(false)),
            late_threshold: Duration::from_millis(10),
            start_at: None,
            start_tolerance: Duration::from_secs(2),
            run_id: None,
            attempt: 0,
        }
    }
}

/// A run that could not be made (a run that was made, whatever its
/// errors, is a [`RunReport`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target is labelled `prod` and `allow_prod` is not set.
    #[error("{profile}: target {url} is labelled `environment: prod`; refusing to send load to production (pass --allow-prod if you really mean it)")]
    ProdRefused {
        /// The profile's file.
        profile: PathBuf,
        /// The target's base URL.
        url: String,
    },
    /// The target cannot be resolved, or TLS cannot be set up.
    #[error("target: {0}")]
    Setup(#[from] SetupError),
    /// The run's files cannot be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The results directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The run's files could not be written while it ran (a full disk,
    /// typically): the run was stopped there, as by a first Ctrl-C.
    #[error("{}: {source}; the run was stopped when its results could no longer be written, after {seconds} s: its files stay named *.partial and there is no summary.json", path.display())]
    StoppedOnWrite {
        /// The results directory.
        path: PathBuf,
        /// Whole seconds recorded before the failure.
        seconds: u64,
        /// The operating system's reason, naming the file.
        source: std::io::Error,
    },
    /// `shard` is not `INDEX/COUNT` with `INDEX < COUNT`.
    #[error("--shard {index}/{count}: the index must be below the count, and the count at least 1")]
    BadShard {
        /// The shard's 0-based index, as given.
        index: u32,
        /// The number of shards, as given.
        count: u32,
    },
    /// A shard of the closed model would get no user.
    #[error("the closed model has {users} users, too few for shard {index} of {count}")]
    EmptyShard {
        /// The profile's users.
        users: u32,
        /// The shard's 0-based index.
        index: u32,
        /// The number of shards.
        count: u32,
    },
    /// The runtime cannot start (the system is out of resources).
    #[error("internal error: {0}")]
    Runtime(#[source] std::io::Error),
    /// A worker thread cannot start (the system is out of resources).
    #[error("internal error: cannot start a worker thread: {0}")]
    WorkerThread(#[source] std::io::Error),
    /// `start_at` is already past by more than the tolerance: the shard
    /// would not be on its run's time grid.
    #[error("--start-at {at} is {late_ms} ms in the past (more than the {tolerance_ms} ms tolerance): this shard would start late on its run's time grid; give a start in the future")]
    StartPassed {
        /// T0 as given, RFC 3339.
        at: String,
        /// How far past it is, ms.
        late_ms: u128,
        /// The tolerance, ms.
        tolerance_ms: u128,
    },
    /// `run_id` is not a word of letters, digits, `.`, `_` and `-`.
    #[error(
        "--run-id `{0}`: use 1 to 128 letters, digits, `.`, `_` or `-` (it names directories), not starting with `.`"
    )]
    BadRunId(String),
    /// Stopped by Ctrl-C or SIGTERM while waiting for `start_at`: nothing ran
    /// and nothing was written.
    #[error("stopped by {signal} while waiting for the start at {at}: nothing was run")]
    StoppedBeforeStart {
        /// The signal.
        signal: Signal,
        /// T0, RFC 3339.
        at: String,
    },
    /// A second Ctrl-C or SIGTERM: the run stopped without waiting for
    /// requests in flight, and its files stay `.partial`. The CLI exits with
    /// the signal's code (130 or 143).
    #[error("aborted by a second {signal}: the results in {} are incomplete", dir.display())]
    Aborted {
        /// The results directory.
        dir: PathBuf,
        /// The signal that aborted it.
        signal: Signal,
    },
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// What `summary.json` holds.
    pub summary: Summary,
    /// The directory the run's files were written to.
    pub dir: PathBuf,
}

/// Replay `profile` and write its results to `opts.out_dir`.
pub fn run(profile: Profile, opts: &RunOptions) -> Result<RunReport, Error> {
    let (shard, shards) = check_run(&profile, opts)?;
    let (rt, connector, proto) = prepare(&profile, opts)?;
    let slow = slow_connector(&profile, &connector)?;
    let (workers, users_here) = split_load(&profile, opts.workers, shard, shards)?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| io_error_in(opts, source))?;

    let profile = Arc::new(profile);
    let (tx, mut rx) = unbounded_channel();
    let notify = Arc::new(Notify::new());
    let gates = Gates::new(workers);
    let launch = Launch {
        plan: Arc::new(RequestPlan::new(profile.clone())),
        wire: Arc::new(Wire::new(&profile)),
        profile: &profile,
        connector: &connector,
        proto,
        workers,
        shard: (shard, shards),
        users_here: &users_here,
        opts,
        notify: &notify,
        slow: &slow,
    };
    let mut threads = Vec::new();
    for w in 0..workers {
        threads.push(spawn_worker(w, launch.spec(w, tx.clone()), gates.clone())?);
    }
    drop(tx);
    let clock = start_clock(&gates, &profile, opts);
    let mut writer = match clock.writer {
        Ok(w) => w,
        Err(source) => {
            for t in threads {
                let _ = t.join();
            }
            return Err(io_error_in(opts, source));
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
        handle_signals: opts.handle_signals,
        progress: &progress,
    };
    // Aborted by a second signal: the workers may be waiting on requests in
    // flight, and the user asked not to wait for them.
    let Collected { finals, io_error } = rt.block_on(collect(&mut rx, collector)).map_err(|signal| {
        progress.finish();
        let dir = opts.out_dir.clone();
        Error::Aborted { dir, signal }
    })?;
    for t in threads {
        let _ = t.join();
    }
    progress.finish();
    if let Some(failed) = io_error {
        return Err(stopped_on_write(opts, failed));
    }
    let ctx = SummaryContext {
        workers: workers as u32,
        late_threshold: opts.late_threshold,
        shard: opts.shard,
        attempt: opts.attempt,
        run_id: clock.run_id,
        late_start: clock.late,
        start_wall: clock.t0,
        elapsed: clock.start.elapsed(),
        cpu: super::summary::process_cpu().saturating_sub(clock.cpu_at_start),
        ended_wall: SystemTime::now(),
        interrupted: opts.stop.load(Ordering::Relaxed),
    };
    finish_run(&profile, &finals, ctx, writer).map_err(|source| io_error_in(opts, source))
}

/// The client classes' connector, when the profile has classes.
fn slow_connector(profile: &Profile, connector: &Connector) -> Result<Option<SlowConnector>, Error> {
    if profile.clients.is_empty() {
        return Ok(None);
    }
    Ok(Some(SlowConnector::new(&profile.target, connector)?))
}

/// The run's last files: `clients.hlog` when the profile has client
/// classes (each class's histograms over the measured window), then the
/// summary, and every file made final.
fn finish_run(
    profile: &Profile,
    finals: &[WorkerTotals],
    ctx: SummaryContext,
    mut writer: ResultWriter,
) -> std::io::Result<RunReport> {
    if !profile.clients.is_empty() {
        let measured = ctx.elapsed.min(profile.duration).saturating_sub(profile.warmup);
        let series = super::summary::client_series(profile, finals);
        writer.clients(&series, profile.warmup, measured)?;
    }
    let summary = summarize(profile, writer.totals(), finals, ctx);
    let dir = writer.finish(&summary)?;
    Ok(RunReport { summary, dir })
}

/// The engine's runtime, and once T0 is near (when there is one), the target resolved
/// and its protocol probed.
fn prepare(profile: &Profile, opts: &RunOptions) -> Result<(tokio::runtime::Runtime, Connector, Proto), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    if let Some(t0) = opts.start_at {
        rt.block_on(wait_for_start(t0, opts.handle_signals))?;
    }
    let connector = rt.block_on(Connector::new(&profile.target))?;
    let proto = rt.block_on(probe(&connector, profile));
    Ok((rt, connector, proto))
}

/// The run stopped because its files could not be written after `seconds`.
fn stopped_on_write(opts: &RunOptions, (seconds, source): (u64, std::io::Error)) -> Error {
    Error::StoppedOnWrite {
        path: opts.out_dir.clone(),
        seconds,
        source,
    }
}

/// An error writing the run's files.
fn io_error_in(opts: &RunOptions, source: std::io::Error) -> Error {
    Error::Io {
        path: opts.out_dir.clone(),
        source,
    }
}

/// Until `lead` before T0, the run only waits: connections are opened
/// just before T0, so a server's idle timeout does not close them first.
const START_LEAD: Duration = Duration::from_secs(2);

/// Wait until [`START_LEAD`] before `t0` by the wall clock (re-read every
/// 30 s, so a clock adjusted while waiting is followed). A Ctrl-C or SIGTERM
/// meanwhile ends the wait with nothing run (when `handle_signals`).
async fn wait_for_start(t0: SystemTime, handle_signals: bool) -> Result<(), Error> {
    let signal = async move {
        if handle_signals {
            stop::next().await
        } else {
            std::future::pending().await
        }
    };
    tokio::pin!(signal);
    loop {
        let Ok(left) = t0.duration_since(SystemTime::now() + START_LEAD) else {
            return Ok(());
        };
        if left.is_zero() {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(left.min(Duration::from_secs(30))) => {}
            s = &mut signal => {
                return Err(Error::StoppedBeforeStart {
                    signal: s,
                    at: crate::dates::rfc3339(t0, 3),
                })
            }
        }
    }
}

/// The run's clock once the workers are connected: the monotonic start
/// instant anchored on T0, T0 itself, how late the release was, the run's
/// id, and its result files.
struct Clock {
    start: std::time::Instant,
    t0: SystemTime,
    late: Duration,
    run_id: String,
    writer: std::io::Result<ResultWriter>,
    /// The process's CPU time when the clock started.
    cpu_at_start: Duration,
}

/// `t` truncated to a whole millisecond (T0 is recorded in ms).
fn whole_ms(t: SystemTime) -> SystemTime {
    let ms = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// A run id from the profile's name, its hash and T0: the same for every
/// shard given the same profile and `--start-at`.
pub fn derive_run_id(profile: &Profile, t0: SystemTime) -> String {
    let name: String = profile
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let stamp = crate::dates::rfc3339(t0, 3).replace([':', '-'], "").replace('.', "");
    let hash = profile.hash.trim_start_matches("sha256:");
    format!(
        "{}-{}-{}",
        name.trim_matches('-'),
        stamp.to_ascii_lowercase(),
        &hash[..hash.len().min(8)]
    )
}

/// Once every worker has connected: anchor the start instant on T0, open the result
/// files, and let the workers go (straight into a stop if the files cannot be opened).
fn start_clock(gates: &Gates, profile: &Profile, opts: &RunOptions) -> Clock {
    gates.connected.wait();
    // Without a T0, a short lead so every worker is past the barrier when the clock starts.
    let t0 = whole_ms(
        opts.start_at
            .unwrap_or_else(|| SystemTime::now() + Duration::from_millis(6)),
    );
    let (now_wall, now) = (SystemTime::now(), std::time::Instant::now());
    let (start, late) = match t0.duration_since(now_wall) {
        Ok(ahead) => (now + ahead, Duration::ZERO),
        Err(past) => {
            let late = past.duration();
            (now.checked_sub(late).unwrap_or(now), late)
        }
    };
    let _ = gates.start.set(start);
    let run_id = opts.run_id.clone().unwrap_or_else(|| derive_run_id(profile, t0));
    let header = LogHeader {
        title: profile.name.clone(),
        run_id: run_id.clone(),
        shard: opts.shard,
        attempt: opts.attempt,
        seed: profile.seed,
        profile_hash: profile.hash.clone(),
        t0,
        interval: Duration::from_secs(1),
    };
    let writer = ResultWriter::create(&opts.out_dir, &header, profile.endpoint_names());
    if writer.is_err() {
        // Nothing can be recorded: release the workers straight into a stop.
        opts.stop.store(true, Ordering::Relaxed);
    }
    gates.go.wait();
    Clock {
        start,
        t0,
        late,
        run_id,
        writer,
        cpu_at_start: super::summary::process_cpu(),
    }
}

/// A run id names directories: letters, digits, `.`, `_` and `-`.
fn valid_run_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A run may go ahead: not against prod unless allowed, and a valid shard (returned as
/// index and count, `0/1` for the whole run).
fn check_run(profile: &Profile, opts: &RunOptions) -> Result<(u32, u32), Error> {
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
    if let Some(id) = opts.run_id.as_deref().filter(|id| !valid_run_id(id)) {
        return Err(Error::BadRunId(id.to_string()));
    }
    if let Some(t0) = opts.start_at {
        if let Err(past) = t0.duration_since(SystemTime::now()) {
            if past.duration() > opts.start_tolerance {
                return Err(Error::StartPassed {
                    at: crate::dates::rfc3339(t0, 3),
                    late_ms: past.duration().as_millis(),
                    tolerance_ms: opts.start_tolerance.as_millis(),
                });
            }
        }
    }
    Ok((shard, shards))
}

/// One probe connection tells which protocol the target speaks (ALPN on https, `auto`);
/// an unreachable target is not an error here: the run goes on and counts every failed
/// connection.
async fn probe(connector: &Connector, profile: &Profile) -> Proto {
    match connector.connect().await {
        Ok((_, p)) => p,
        Err(_) if profile.target.http == HttpMode::Http2 => Proto::H2,
        Err(_) => Proto::H1,
    }
}

/// How many workers this shard runs (one per core unless `workers` says otherwise, no
/// more than there are connections or users to share), and which users of a closed model
/// are this shard's.
fn split_load(profile: &Profile, workers: Option<usize>, shard: u32, shards: u32) -> Result<(usize, Vec<u32>), Error> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut workers = workers.unwrap_or(cores).max(1);
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
    Ok((workers, users_here))
}

/// Where the workers and the engine meet: every worker has connected, then all go at the
/// start instant the engine sets.
#[derive(Clone)]
struct Gates {
    connected: Arc<Barrier>,
    go: Arc<Barrier>,
    start: Arc<OnceLock<std::time::Instant>>,
}

impl Gates {
    fn new(workers: usize) -> Self {
        Gates {
            connected: Arc::new(Barrier::new(workers + 1)),
            go: Arc::new(Barrier::new(workers + 1)),
            start: Arc::new(OnceLock::new()),
        }
    }
}

/// What every worker of the run shares, to make each one's spec.
struct Launch<'a> {
    plan: Arc<RequestPlan>,
    wire: Arc<Wire>,
    profile: &'a Arc<Profile>,
    connector: &'a Connector,
    proto: Proto,
    workers: usize,
    /// (index, count)
    shard: (u32, u32),
    users_here: &'a [u32],
    opts: &'a RunOptions,
    notify: &'a Arc<Notify>,
    slow: &'a Option<SlowConnector>,
}

impl Launch<'_> {
    /// Worker `w`'s part of the load: its slice of the open schedule or its closed-model
    /// users, and its share of the connections.
    fn spec(&self, w: usize, tx: UnboundedSender<WorkerMsg>) -> WorkerSpec {
        let (profile, workers) = (self.profile, self.workers);
        let pacing = match &profile.load {
            Load::Open { shape, arrivals } => Pacing::Open {
                schedule: Schedule::new(shape.clone(), *arrivals, profile.seed, profile.duration.as_secs_f64()),
                slice: Slice {
                    shard: self.shard.0,
                    shards: self.shard.1,
                    worker: w as u32,
                    workers: workers as u32,
                },
            },
            Load::Closed { think_time, .. } => Pacing::Closed {
                users: self.users_here.iter().copied().skip(w).step_by(workers).collect(),
                think: *think_time,
            },
        };
        let conns = profile.target.connections as usize;
        WorkerSpec {
            plan: self.plan.clone(),
            wire: self.wire.clone(),
            connector: self.connector.clone(),
            proto: self.proto,
            pacing,
            connections: (conns / workers + usize::from(w < conns % workers)) as u32,
            streams: profile.target.streams,
            timeout: profile.target.timeout,
            duration: profile.duration,
            warmup: profile.warmup,
            late_threshold: self.opts.late_threshold,
            stop: self.opts.stop.clone(),
            stop_notify: self.notify.clone(),
            tx,
            slow: self.slow.clone(),
            // Each class's cap, shared out among the workers (at least 1 each).
            slow_cap: profile
                .clients
                .iter()
                .map(|c| c.max_in_flight.div_ceil(workers as u32))
                .collect(),
        }
    }
}

/// Start worker `w` on its own thread and runtime: connect, wait at the gates, run.
fn spawn_worker(w: usize, spec: WorkerSpec, gates: Gates) -> Result<std::thread::JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name(format!("loadline-worker-{w}"))
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("worker {w}: cannot start a runtime: {e}");
                    gates.connected.wait();
                    gates.go.wait();
                    return;
                }
            };
            let local = tokio::task::LocalSet::new();
            let conns = local.block_on(&rt, worker::preconnect(&spec));
            gates.connected.wait();
            gates.go.wait();
            let start = gates.start.get().copied().unwrap_or_else(std::time::Instant::now);
            local.block_on(&rt, worker::run(spec, conns, tokio::time::Instant::from_std(start)));
        })
        .map_err(Error::WorkerThread)
}

struct Pending {
    reported: usize,
    data: IntervalData,
}

/// The collector: it gathers the workers' intervals in order and writes
/// each one once every worker has reported it, and handles Ctrl-C and SIGTERM.
struct Collector<'a> {
    writer: &'a mut ResultWriter,
    profile: &'a Profile,
    workers: usize,
    shards: u32,
    stop: &'a Arc<AtomicBool>,
    notify: &'a Arc<Notify>,
    handle_signals: bool,
    progress: &'a Progress,
}

/// What the collector hands back when the workers are done: their totals,
/// and the first error writing the results, if any, with the number of
/// intervals written before it.
struct Collected {
    finals: Vec<WorkerTotals>,
    io_error: Option<(u64, std::io::Error)>,
}

/// Runs the collector until every worker is done, or a second Ctrl-C or
/// SIGTERM aborts the run (the signal is the error).
async fn collect(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<WorkerMsg>,
    c: Collector<'_>,
) -> Result<Collected, Signal> {
    let Collector {
        writer,
        profile,
        workers,
        shards,
        stop,
        notify,
        handle_signals,
        progress,
    } = c;
    let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
    let mut finals = Vec::new();
    let mut io_error = None;
    let mut errors_so_far = 0u64;
    let mut stopping = false;
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    // The first Ctrl-C or SIGTERM stops the run and writes everything; a
    // second one aborts it without waiting for requests in flight.
    let signal = || async move {
        if handle_signals {
            stop::next().await
        } else {
            std::future::pending().await
        }
    };
    let second = signal();
    let first = signal();
    tokio::pin!(first, second);
    while finals.len() < workers {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(WorkerMsg::Interval(iv)) => {
                    let index = iv.index;
                    if add_report(&mut pending, iv, profile, shards) == workers {
                        let ready = index;
                        while let Some(entry) = pending.first_entry() {
                            if *entry.key() > ready {
                                break;
                            }
                            let p = entry.remove();
                            write_interval(&p.data, writer, progress, &mut io_error, &mut errors_so_far);
                        }
                        // Load that cannot be recorded is load for nothing:
                        // stop as a first Ctrl-C does (requests in flight end).
                        if io_error.is_some() && !stopping {
                            stopping = true;
                            progress.note("stopping: the results can no longer be written (see the error below)");
                            stop.store(true, Ordering::Relaxed);
                            notify.notify_waiters();
                        }
                    }
                }
                Some(WorkerMsg::Done(t)) => finals.push(*t),
                None => break,
            },
            s = &mut first, if !stopping => {
                stopping = true;
                progress.note(match s {
                    Signal::Interrupt => {
                        "stopping: finishing requests in flight and writing results (Ctrl-C again to abort)"
                    }
                    Signal::Terminate => {
                        "stopping on SIGTERM: finishing requests in flight and writing results (a second signal aborts)"
                    }
                });
                stop.store(true, Ordering::Relaxed);
                notify.notify_waiters();
            }
            s = &mut second, if stopping => return Err(s),
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
    Ok(Collected { finals, io_error })
}

/// One worker's interval added to the pending one; returns how many workers have reported it.
fn add_report(pending: &mut BTreeMap<u64, Pending>, iv: WorkerInterval, profile: &Profile, shards: u32) -> usize {
    let p = pending.entry(iv.index).or_insert_with(|| Pending {
        reported: 0,
        data: new_interval(profile, shards, iv.index),
    });
    p.reported += 1;
    p.data.intended += iv.intended;
    p.data.sent += iv.sent;
    p.data.never_sent += iv.never_sent;
    for (key, h) in iv.series {
        let _ = p.data.series.entry(key).or_insert_with(new_hist).add(&h);
    }
    p.reported
}

/// One complete interval to the progress line and the result files; after
/// the first write error, only to the progress line (the error is kept,
/// with the interval it failed on).
fn write_interval(
    data: &IntervalData,
    writer: &mut ResultWriter,
    progress: &Progress,
    io_error: &mut Option<(u64, std::io::Error)>,
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
            *io_error = Some((data.index, e));
        }
    }
}

fn new_interval(profile: &Profile, shards: u32, index: u64) -> IntervalData {
    let t0 = index as f64;
    let end = profile.duration.as_secs_f64();
    let target = match &profile.load {
        Load::Open { shape, .. } => {
            Some(shape.expected_count(t0, (t0 + 1.0).min(end)) / f64::from(shards) * profile.normal_share())
        }
        Load::Closed { .. } => None,
    };
    IntervalData {
        index,
        start: Duration::from_secs(index),
        length: Duration::from_secs(1),
        series: BTreeMap::new(),
        target,
        intended: 0,
        sent: 0,
        never_sent: 0,
        warmup: Duration::from_secs(index) < profile.warmup,
    }
}
