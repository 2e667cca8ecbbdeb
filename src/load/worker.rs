//! One worker: a thread with its own single-threaded runtime, its own
//! connections and its own histograms. Workers share nothing while the run
//! goes; each hands the collector one message per second.
//!
//! Every slot (a connection, or a stream of an HTTP/2 connection) runs the
//! same request loop; the load model only decides *when* the next request
//! is due: at its arrival in the open model, after the think time in the
//! closed one.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::client::h1::{H1Conn, Phase};
use super::client::h2::{self, H2Conn};
use super::client::slow::{self, SlowConnector, SlowEnd};
use super::client::{Connector, Proto, Wire};
use super::recorder::{IntervalSink, Recorder, WorkerInterval, WorkerTotals};
use super::schedule::{Schedule, Slice};
use super::timer::Timer;
use crate::profile::{Kind, RequestBuf, RequestPlan};
use crate::results::hist::record;
use crate::results::{ErrorKind, Outcome};
use crate::values::{derive_seed, rng_for, Rng64};

/// Messages from workers to the collector.
#[derive(Debug)]
pub enum WorkerMsg {
    Interval(WorkerInterval),
    Done(Box<WorkerTotals>),
}

/// How this worker's requests are paced.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per run (or worker), never on a hot path
pub enum Pacing {
    /// The open model: this worker's slice of the global schedule.
    Open { schedule: Schedule, slice: Slice },
    /// The closed model: these users (global numbers), each thinking between requests.
    Closed { users: Vec<u32>, think: Duration },
}

/// Everything a worker needs; built by the engine.
pub struct WorkerSpec {
    pub plan: Arc<RequestPlan>,
    pub wire: Arc<Wire>,
    pub connector: Connector,
    pub proto: Proto,
    pub pacing: Pacing,
    /// Connections this worker opens (open model).
    pub connections: u32,
    pub streams: u32,
    pub timeout: Duration,
    pub duration: Duration,
    pub warmup: Duration,
    pub late_threshold: Duration,
    pub stop: Arc<AtomicBool>,
    pub stop_notify: Arc<Notify>,
    pub tx: UnboundedSender<WorkerMsg>,
    /// Opens the client classes' own connections; `None` without `clients:`.
    pub slow: Option<SlowConnector>,
    /// Per client class: its requests this worker runs at once (open model).
    pub slow_cap: Vec<u32>,
}

struct Sink(UnboundedSender<WorkerMsg>);

impl IntervalSink for Sink {
    fn interval(&mut self, iv: WorkerInterval) {
        let _ = self.0.send(WorkerMsg::Interval(iv));
    }
}

/// State shared by the slots of one worker (one thread, so `RefCell`).
struct Shared {
    spec: WorkerSpec,
    start: Instant,
    recorder: Recorder,
    sink: Sink,
    /// Open model: the intended instant (ns from the start) of the last
    /// arrival claimed; every arrival before it is claimed, since they are
    /// claimed in order. `u64::MAX` once the schedule is exhausted.
    claimed_through_ns: u64,
    /// Per client class: its requests running now (their own tasks).
    slow_in_flight: Vec<u32>,
    /// Set to cut the client classes' requests still running (run over or stopped).
    slow_cut: tokio::sync::watch::Sender<bool>,
    /// Signalled whenever a client class's request ends.
    slow_idle: Rc<Notify>,
    /// Open model: the precise timer the slots wait on for their instants;
    /// `None` where there is no `timerfd` (tokio's millisecond timer then).
    timer: Option<Rc<Timer>>,
}

impl Shared {
    fn interval_of(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.start).as_secs()
    }

    /// Intervals before this one can take no new request: their time has
    /// passed and (open model) all their arrivals are claimed.
    fn watermark(&self, now: Instant) -> u64 {
        let by_time = self.interval_of(now);
        match self.spec.pacing {
            Pacing::Open { .. } => by_time.min(interval_of_ns(self.claimed_through_ns)),
            Pacing::Closed { .. } => by_time,
        }
    }

    /// The next arrival of this worker's slice of the open schedule, if the
    /// run is still on.
    fn claim(&mut self) -> Option<super::schedule::Arrival> {
        let warmup_ns = self.spec.warmup.as_nanos() as u64;
        let Pacing::Open { schedule, slice } = &mut self.spec.pacing else {
            return None;
        };
        for a in schedule.by_ref() {
            if slice.contains(a.index) {
                if a.at_ns >= warmup_ns {
                    self.recorder.totals.intended += 1;
                }
                self.claimed_through_ns = a.at_ns;
                self.recorder.claimed(interval_of_ns(a.at_ns));
                return Some(a);
            }
        }
        self.claimed_through_ns = u64::MAX;
        None
    }

    /// A claimed request of interval `idx` goes back unsent: the run was stopped.
    fn abandon(&mut self, idx: u64, measured: bool) {
        self.recorder.abandoned(idx);
        if measured && matches!(self.spec.pacing, Pacing::Open { .. }) {
            self.recorder.totals.intended = self.recorder.totals.intended.saturating_sub(1);
        }
    }
}

/// The interval (whole seconds) of an instant `ns` nanoseconds after the start.
fn interval_of_ns(ns: u64) -> u64 {
    ns / 1_000_000_000
}

/// What paces one slot, the request loop's one input besides its connection:
/// when the next request is due, and which request it is.
enum SlotPacing {
    /// The open model: the next arrival of the worker's slice of the
    /// schedule, due at its intended instant. The schedule is the worker's
    /// ([`Pacing::Open`], claimed through `Shared`), since its slots share it.
    Arrivals,
    /// The closed model: one user, who sends as soon as the last response
    /// came back and the think time has passed.
    User(User),
}

/// A closed-model user: its own random stream (the same whatever the
/// workers or shards), numbering its requests apart from every other user's.
struct User {
    /// Global user number, 0-based.
    number: u32,
    /// Users in the whole run (every shard): the user's request `k` is
    /// request number `k * users + number`.
    users: u32,
    /// Requests this user has made.
    sent: u64,
    rng: Rng64,
    /// Pause between a response and the user's next request.
    think: Duration,
}

impl User {
    fn new(number: u32, plan: &RequestPlan, think: Duration) -> User {
        User {
            number,
            users: plan.profile().load_users().max(1),
            sent: 0,
            rng: rng_for(derive_seed(plan.profile().seed, "users"), u64::from(number)),
            think,
        }
    }

    /// Render this user's next request into `buf`.
    fn next(&mut self, plan: &RequestPlan, buf: &mut RequestBuf) {
        let index = self.sent * u64::from(self.users) + u64::from(self.number);
        self.sent += 1;
        plan.render_with(index, &mut self.rng, buf);
    }
}

/// A slot's connection.
pub enum Conn {
    H1(H1Conn),
    H2(Rc<RefCell<Option<H2Conn>>>),
}

/// The request loop, the same for every model and protocol.
#[allow(clippy::too_many_lines)] // hot path: one iteration per request; its locals stay in one async state machine (BENCHMARKS.md, HTTP/1.1)
async fn slot_loop(shared: Rc<RefCell<Shared>>, mut conn: Conn, mut pace: SlotPacing) {
    let (plan, wire, stop, notify, duration, timeout, start) = {
        let s = shared.borrow();
        (
            s.spec.plan.clone(),
            s.spec.wire.clone(),
            s.spec.stop.clone(),
            s.spec.stop_notify.clone(),
            s.spec.duration,
            s.spec.timeout,
            s.start,
        )
    };
    let end = start + duration;
    // Past this, stop claiming arrivals that could not be sent in time:
    // they are counted as dropped, not sent into the next run's window.
    let cutoff = end + timeout;
    let mut buf = RequestBuf::default();
    let warmup = shared.borrow().spec.warmup;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // When is this request due, and what is it?
        let now = Instant::now();
        // Every request belongs to the interval of its intended instant.
        let (intended, claimed_early, idx) = match &mut pace {
            SlotPacing::Arrivals => {
                if now >= cutoff {
                    break;
                }
                let Some(a) = shared.borrow_mut().claim() else { break };
                let at = start + Duration::from_nanos(a.at_ns);
                plan.render(a.index, &mut buf);
                (at, at > now, interval_of_ns(a.at_ns))
            }
            SlotPacing::User(user) => {
                if now >= end {
                    break;
                }
                user.next(&plan, &mut buf);
                let mut s = shared.borrow_mut();
                let idx = s.interval_of(now);
                s.recorder.claimed(idx);
                (now, true, idx)
            }
        };
        let measured = intended.saturating_duration_since(start) >= warmup;
        // A slow or abandoning client: on its own connection and, in the open
        // model, its own task, so it holds up no normal arrival. Its requests
        // are kept out of the endpoints' series and counted per class.
        if let Some(class) = plan.client_class(buf.index) {
            shared.borrow_mut().abandon(idx, measured);
            let head = plan.profile().endpoints[buf.endpoint].method == http::Method::HEAD;
            let mut raw = Vec::new();
            wire.write_h1(&buf, &mut raw);
            let request = slow::with_close(&raw);
            match &pace {
                SlotPacing::Arrivals => spawn_slow(&shared, class, intended, measured, request, head),
                SlotPacing::User(user) => {
                    slow_request(&shared, class, intended, measured, &request, head).await;
                    if !think(user.think, end, &notify).await {
                        break;
                    }
                }
            }
            continue;
        }
        if intended > Instant::now() {
            let timer = shared.borrow().timer.clone();
            let stopped = match timer {
                Some(timer) => tokio::select! {
                    () = timer.sleep_until(intended) => false,
                    () = notify.notified() => true,
                },
                None => tokio::select! {
                    () = tokio::time::sleep_until(intended) => false,
                    () = notify.notified() => true,
                },
            };
            if stopped {
                shared.borrow_mut().abandon(idx, measured);
                break;
            }
        }
        let sent_at = Instant::now();
        // A slot that was free and waiting charges its timer's slack to the
        // generator (reported as schedule lag), not to the server; a request
        // that waited for a free connection is measured from its intended
        // instant, which is what its user would have seen.
        let measure_from = if claimed_early { sent_at } else { intended };
        let lag = sent_at.saturating_duration_since(intended);
        {
            let mut s = shared.borrow_mut();
            let recorder = &mut s.recorder;
            recorder.sent(idx);
            record(&mut recorder.totals.lag, lag.as_micros() as u64);
            if claimed_early && matches!(pace, SlotPacing::Arrivals) {
                record(&mut recorder.totals.send_lag, lag.as_micros() as u64);
            }
            if lag > s.spec.late_threshold {
                s.recorder.totals.late += 1;
            }
        }
        let mut retried = false;
        let mut h2_progress = h2::Progress::default();
        let result = tokio::time::timeout(
            timeout,
            exchange(&mut conn, &shared, &plan, &wire, &buf, &mut retried, &mut h2_progress),
        )
        .await;
        let done = Instant::now();
        let (outcome, status, kind) = match result {
            Ok(Ok(status)) => {
                let o = Outcome::from_status(status);
                (o, Some(status), (o == Outcome::Other).then_some(ErrorKind::BadStatus))
            }
            Ok(Err(k)) => (k.outcome(), None, Some(k)),
            Err(_) => {
                let k = match &mut conn {
                    Conn::H1(c) => {
                        c.close();
                        c.phase.timeout_kind()
                    }
                    Conn::H2(_) => h2_progress.timeout_kind(),
                };
                (Outcome::Timeout, None, Some(k))
            }
        };
        {
            let mut s = shared.borrow_mut();
            let recorder = &mut s.recorder;
            recorder.finished(idx);
            if measured {
                let us = done.saturating_duration_since(measure_from).as_micros() as u64;
                recorder.latency(idx, buf.endpoint, outcome, us);
                if let Some(k) = kind {
                    recorder.totals.kinds[k.index()] += 1;
                }
                recorder.totals.retried_stale += u64::from(retried);
                let ep = &plan.profile().endpoints[buf.endpoint];
                match ep.kind {
                    Kind::Read => recorder.totals.read += 1,
                    Kind::Write => recorder.totals.write += 1,
                }
                if let (Some(expect), Some(st)) = (&ep.expect, status) {
                    if !expect.contains(&st) {
                        recorder.totals.unexpected[buf.endpoint] += 1;
                    }
                }
                if let Some(t) = buf.tenant {
                    if let Some(c) = recorder.totals.tenants.get_mut(t as usize) {
                        *c += 1;
                    }
                }
            } else {
                recorder.totals.warmup_requests += 1;
            }
        }
        let think = match &pace {
            SlotPacing::User(user) => user.think,
            SlotPacing::Arrivals => Duration::ZERO,
        };
        if !think.is_zero() {
            let wake = Instant::now() + think;
            if wake >= end {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = notify.notified() => break,
            }
        }
    }
}

/// A closed-model user's pause after a response; false when the run ends first.
async fn think(pause: Duration, end: Instant, notify: &Notify) -> bool {
    if pause.is_zero() {
        return true;
    }
    let wake = Instant::now() + pause;
    if wake >= end {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep_until(wake) => true,
        _ = notify.notified() => false,
    }
}

/// Run a client class's request on its own task, unless the class already
/// has its cap of requests running here (then it is counted as overflow).
fn spawn_slow(
    shared: &Rc<RefCell<Shared>>,
    class: usize,
    intended: Instant,
    measured: bool,
    request: Vec<u8>,
    head: bool,
) {
    {
        let mut s = shared.borrow_mut();
        let cap = s.spec.slow_cap.get(class).copied().unwrap_or(0);
        if s.slow_in_flight[class] >= cap {
            if measured {
                s.recorder.totals.clients[class].overflow += 1;
            }
            return;
        }
        s.slow_in_flight[class] += 1;
    }
    let shared = shared.clone();
    tokio::task::spawn_local(async move {
        slow_request(&shared, class, intended, measured, &request, head).await;
        let mut s = shared.borrow_mut();
        s.slow_in_flight[class] -= 1;
        s.slow_idle.notify_one();
    });
}

/// One request of client class `class`, due at `intended`: on its own
/// connection, as the class behaves, recorded in the class's totals. Cut
/// (counted as unfinished) when the run is stopped or its grace is over.
async fn slow_request(
    shared: &Rc<RefCell<Shared>>,
    class: usize,
    intended: Instant,
    measured: bool,
    request: &[u8],
    head: bool,
) {
    let (conn, plan, notify, mut cut) = {
        let s = shared.borrow();
        (
            s.spec.slow.clone(),
            s.spec.plan.clone(),
            s.spec.stop_notify.clone(),
            s.slow_cut.subscribe(),
        )
    };
    let Some(conn) = conn else { return };
    let Some(spec) = plan.profile().clients.get(class) else {
        return;
    };
    let stopped = async {
        tokio::select! {
            _ = cut.wait_for(|c| *c) => {}
            _ = notify.notified() => {}
        }
    };
    tokio::pin!(stopped);
    tokio::select! {
        _ = tokio::time::sleep_until(intended) => {}
        _ = &mut stopped => return,
    }
    let result = tokio::select! {
        r = slow::exchange(&conn, spec, request, head) => Some(r),
        _ = &mut stopped => None,
    };
    let us = Instant::now().saturating_duration_since(intended).as_micros() as u64;
    let mut s = shared.borrow_mut();
    let Some(t) = s.recorder.totals.clients.get_mut(class) else {
        return;
    };
    match result {
        _ if !measured => t.warmup_requests += 1,
        None => t.unfinished += 1,
        Some(r) => {
            t.bytes_sent += r.sent;
            t.bytes_received += r.received;
            match r.end {
                SlowEnd::Abandoned => t.abandoned += 1,
                SlowEnd::Done(Ok(status)) => t.record(Outcome::from_status(status), us),
                SlowEnd::Done(Err(kind)) => {
                    t.record(kind.outcome(), us);
                    t.kinds[kind.index()] += 1;
                }
            }
        }
    }
}

/// Wait for the client classes' requests still running: until the run's
/// grace (the end plus the target's timeout) is over, or at once when the
/// run was stopped; those still running then are cut.
async fn finish_slow(shared: &Rc<RefCell<Shared>>) {
    let (deadline, idle, stop) = {
        let s = shared.borrow();
        (
            s.start + s.spec.duration + s.spec.timeout,
            s.slow_idle.clone(),
            s.spec.stop.clone(),
        )
    };
    let mut cut = false;
    loop {
        let running: u32 = shared.borrow().slow_in_flight.iter().sum();
        if running == 0 {
            break;
        }
        if !cut && stop.load(Ordering::Relaxed) {
            cut = true;
            let _ = shared.borrow().slow_cut.send_replace(true);
        }
        if cut {
            idle.notified().await;
            continue;
        }
        tokio::select! {
            _ = idle.notified() => {}
            _ = tokio::time::sleep_until(deadline) => {
                cut = true;
                let _ = shared.borrow().slow_cut.send_replace(true);
            }
        }
    }
}

/// Send one request on the slot's connection, connecting first if needed.
/// An idempotent request that finds its reused HTTP/1.1 connection closed
/// by the server (EOF or reset before any byte of the response: an idle
/// keep-alive timeout on the server's side) is sent once more on a fresh
/// connection, as browsers and hyper's pool do; so is any HTTP/2 request
/// the server says it never processed (above a graceful GOAWAY's last
/// stream id, or REFUSED_STREAM). `retried` says so; `h2` says how far an
/// HTTP/2 exchange got, for the kind of a timeout.
async fn exchange(
    conn: &mut Conn,
    shared: &Rc<RefCell<Shared>>,
    plan: &RequestPlan,
    wire: &Wire,
    buf: &RequestBuf,
    retried: &mut bool,
    h2: &mut h2::Progress,
) -> Result<u16, ErrorKind> {
    let connector = || shared.borrow().spec.connector.clone();
    let method = &plan.profile().endpoints[buf.endpoint].method;
    let head = *method == http::Method::HEAD;
    match conn {
        Conn::H1(c) => {
            if !c.is_connected() {
                c.phase = Phase::Connect;
                let (stream, _) = connector().connect().await?;
                c.attach(stream);
            }
            c.wbuf.clear();
            wire.write_h1(buf, &mut c.wbuf);
            let reused = c.is_reused();
            match c.exchange(head).await {
                Err(ErrorKind::EofBeforeResponse | ErrorKind::ResetBeforeResponse)
                    if reused && is_idempotent(method) =>
                {
                    *retried = true;
                    c.phase = Phase::Connect;
                    let (stream, _) = connector().connect().await?;
                    c.attach(stream);
                    c.exchange(head).await
                }
                r => r,
            }
        }
        Conn::H2(cell) => {
            let r = h2_exchange(cell, shared, wire, buf, h2).await;
            if r.is_err() && h2.unprocessed {
                // Never processed, by the server's word: any method goes
                // again, once, on another connection (as browsers do).
                *retried = true;
                *cell.borrow_mut() = None;
                return h2_exchange(cell, shared, wire, buf, h2).await;
            }
            r
        }
    }
}

/// One HTTP/2 exchange on the slot's shared connection, opened first when
/// there is none (or it is closing); a connection that failed is dropped.
async fn h2_exchange(
    cell: &Rc<RefCell<Option<H2Conn>>>,
    shared: &Rc<RefCell<Shared>>,
    wire: &Wire,
    buf: &RequestBuf,
    progress: &mut h2::Progress,
) -> Result<u16, ErrorKind> {
    let existing = cell.borrow().as_ref().filter(|c| c.is_usable()).cloned();
    let conn = match existing {
        Some(c) => c,
        None => {
            let connector = shared.borrow().spec.connector.clone();
            let (stream, _) = connector.connect().await?;
            let c = H2Conn::handshake(stream).await?;
            *cell.borrow_mut() = Some(c.clone());
            c
        }
    };
    let r = conn.exchange(wire, buf, progress).await;
    if matches!(r, Err(k) if matches!(k.outcome(), Outcome::Reset | Outcome::Other)) {
        *cell.borrow_mut() = None;
    }
    r
}

/// Methods a client may send twice without changing the result (RFC 9110, 9.2.2).
fn is_idempotent(m: &http::Method) -> bool {
    matches!(
        *m,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::PUT
            | http::Method::DELETE
            | http::Method::OPTIONS
            | http::Method::TRACE
    )
}

/// Connect this worker's connections (before the start, so connection
/// set-up is not in the first requests' latency). Failures are left for
/// the request loop, where they are counted.
pub async fn preconnect(spec: &WorkerSpec) -> Vec<Conn> {
    let n = match &spec.pacing {
        Pacing::Open { .. } => spec.connections as usize,
        Pacing::Closed { users, .. } => users.len().div_ceil(users_per_conn(spec)),
    };
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let attempt = spec.connector.connect().await;
        let conn = match (spec.proto, attempt) {
            (Proto::H1, Ok((stream, _))) => {
                let mut c = H1Conn::new();
                c.attach(stream);
                Conn::H1(c)
            }
            (Proto::H1, Err(_)) => Conn::H1(H1Conn::new()),
            (Proto::H2, Ok((stream, _))) => Conn::H2(Rc::new(RefCell::new(H2Conn::handshake(stream).await.ok()))),
            (Proto::H2, Err(_)) => Conn::H2(Rc::new(RefCell::new(None))),
        };
        conns.push(conn);
    }
    conns
}

/// Run a worker to the end. Call on the worker's own thread, inside a
/// `LocalSet` of a current-thread runtime.
pub async fn run(spec: WorkerSpec, conns: Vec<Conn>, start: Instant) {
    let n_endpoints = spec.plan.profile().endpoints.len();
    let n_tenants = spec
        .plan
        .profile()
        .tenants
        .as_ref()
        .map(|t| t.count as usize)
        .unwrap_or(0);
    let tx = spec.tx.clone();
    let classes = spec.plan.profile().clients.len();
    let timer = match spec.pacing {
        // `LOADLINE_TIMER=tokio` paces with tokio's timer instead, to measure
        // what the precise one costs and gives (BENCHMARKS.md).
        Pacing::Open { .. } if std::env::var_os("LOADLINE_TIMER").is_some_and(|v| v == "tokio") => None,
        Pacing::Open { .. } => Timer::new()
            .inspect_err(|e| tracing::debug!("no precise timer ({e}): tokio's millisecond timer paces the schedule"))
            .ok(),
        Pacing::Closed { .. } => None,
    };
    let driver = timer.clone().map(|t| tokio::task::spawn_local(t.drive()));
    let mut recorder = Recorder::new(n_endpoints, n_tenants);
    recorder.totals.clients = (0..classes).map(|_| Default::default()).collect();
    let shared = Rc::new(RefCell::new(Shared {
        recorder,
        sink: Sink(tx.clone()),
        start,
        spec,
        claimed_through_ns: 0,
        slow_in_flight: vec![0; classes],
        slow_cut: tokio::sync::watch::channel(false).0,
        slow_idle: Rc::new(Notify::new()),
        timer,
    }));
    let tasks = spawn_slots(&shared, conns);
    let ticker = spawn_ticker(shared.clone(), start);
    for t in tasks {
        let _ = t.await;
    }
    finish_slow(&shared).await;
    ticker.abort();
    if let Some(d) = driver {
        d.abort();
    }
    let mut s = shared.borrow_mut();
    let dropped = never_sent(&mut s);
    s.recorder.totals.intended += dropped;
    s.recorder.totals.dropped = dropped;
    // Every interval up to the end of the schedule, so every worker reports
    // the same intervals (and the collector can write them in order).
    // The intervals of the schedule (when stopped: up to now), so every worker
    // and every shard reports the same ones; any later one with requests in
    // it is closed by `close_all`.
    let last = if s.spec.stop.load(Ordering::Relaxed) {
        s.interval_of(Instant::now())
    } else {
        s.spec.duration.as_secs_f64().ceil().max(1.0) as u64 - 1
    };
    let Shared { recorder, sink, .. } = &mut *s;
    recorder.close_before(last + 1, sink);
    recorder.close_all(sink);
    let totals = std::mem::replace(&mut s.recorder.totals, Recorder::new(0, 0).totals);
    let _ = tx.send(WorkerMsg::Done(Box::new(totals)));
}

/// Closed model: the users that share one connection, `streams` of them
/// on an HTTP/2 connection (each its own stream), one on HTTP/1.1.
fn users_per_conn(spec: &WorkerSpec) -> usize {
    match spec.proto {
        Proto::H2 => spec.streams.max(1) as usize,
        Proto::H1 => 1,
    }
}

/// One request loop per HTTP/1.1 connection and `streams` per HTTP/2
/// connection; in the closed model each loop is one user, users
/// `i * streams ..` on connection `i`.
fn spawn_slots(shared: &Rc<RefCell<Shared>>, conns: Vec<Conn>) -> Vec<tokio::task::JoinHandle<()>> {
    let s = shared.borrow();
    let pace_of = |i: usize| match &s.spec.pacing {
        Pacing::Open { .. } => Some(SlotPacing::Arrivals),
        Pacing::Closed { users, think } => users
            .get(i)
            .map(|&u| SlotPacing::User(User::new(u, &s.spec.plan, *think))),
    };
    let streams = s.spec.streams.max(1) as usize;
    let mut tasks = Vec::new();
    let mut slot = 0;
    for conn in conns {
        match conn {
            Conn::H1(c) => {
                if let Some(pace) = pace_of(slot) {
                    tasks.push(tokio::task::spawn_local(slot_loop(shared.clone(), Conn::H1(c), pace)));
                }
                slot += 1;
            }
            Conn::H2(cell) => {
                for _ in 0..streams {
                    if let Some(pace) = pace_of(slot) {
                        tasks.push(tokio::task::spawn_local(slot_loop(
                            shared.clone(),
                            Conn::H2(cell.clone()),
                            pace,
                        )));
                    }
                    slot += 1;
                }
            }
        }
    }
    tasks
}

/// Close intervals on time even when nothing completes, and measure how late this
/// thread's event loop runs (a busy generator shows here first).
fn spawn_ticker(shared: Rc<RefCell<Shared>>, start: Instant) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_local(async move {
        let mut next = start + Duration::from_millis(10);
        loop {
            tokio::time::sleep_until(next).await;
            let now = Instant::now();
            let mut s = shared.borrow_mut();
            record(
                &mut s.recorder.totals.loop_lag,
                now.saturating_duration_since(next).as_micros() as u64,
            );
            let idx = s.watermark(now);
            if idx > s.recorder.oldest_open() {
                let Shared { recorder, sink, .. } = &mut *s;
                recorder.close_before(idx, sink);
            }
            next += Duration::from_millis(10);
            if next < now {
                next = now + Duration::from_millis(10);
            }
        }
    })
}

/// Arrivals of this worker's slice never sent (the run ended while every connection was
/// busy), after the warm-up; none when the run was stopped.
fn never_sent(s: &mut Shared) -> u64 {
    let warmup_ns = s.spec.warmup.as_nanos() as u64;
    if s.spec.stop.load(Ordering::Relaxed) {
        return 0;
    }
    let mut dropped = 0;
    if let Pacing::Open { schedule, slice } = &mut s.spec.pacing {
        for a in schedule.by_ref() {
            if !slice.contains(a.index) {
                continue;
            }
            if let Some(c) = s.spec.plan.client_class(a.index) {
                if a.at_ns >= warmup_ns {
                    if let Some(t) = s.recorder.totals.clients.get_mut(c) {
                        t.never_sent += 1;
                    }
                }
                continue;
            }
            {
                s.recorder.never_sent(interval_of_ns(a.at_ns));
                if a.at_ns >= warmup_ns {
                    dropped += 1;
                }
            }
        }
    }
    dropped
}
