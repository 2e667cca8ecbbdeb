//! The built-in sample service: a small multi-tenant shop API on loopback,
//! with fault injection, for the demo and for tests of the load engine.
//!
//! It owns its tokio runtime on background threads, so it works the same
//! from plain sync code, from `loadline target`, and from inside an async
//! test; [`RunningTarget::start`] returns once the socket is listening. It
//! must be fast enough not to hide the load generator's own speed, and its
//! faults (latency, 500s, TCP resets, stalls) must be exact, because tests
//! assert on what the load engine measured against them.
//!
//! Routes (JSON bodies, deterministic):
//!
//! - `GET /t/{tenant}/products/{id}`: 200 `{"tenant","id","name","price_cents"}`; a non-integer id is 400;
//!   with a database ([`TargetConfig::db`]) 200 `{"tenant","id","sku","price_cents"}` of the row whose id
//!   (or SKU) it is, and 404 when the tenant or the product is not in the database;
//! - `GET /t/{tenant}/search?q=WORD`: 200 `{"tenant","q","results":[..]}`; no `q` is 400;
//! - `POST /t/{tenant}/orders`: 201 `{"order_id":N}`, N counting up from 1; an empty body is 400; with a
//!   database the body is JSON `{"product": ID or SKU, "qty": N}`, the order is inserted for the tenant's
//!   first user (N counts on from the table's largest id), an unknown tenant is 404 and an unknown
//!   product, a tenant without users or a bad body 422;
//! - `GET /health`: 200 `ok`; `GET /`: 200 `hello\n`;
//! - `GET /_stats`: 200 [`StatsSnapshot`] as JSON (neither counted nor faulted);
//! - a known path with the wrong method is 405, anything else 404.
//!
//! It serves only loopback addresses: it exists to be hammered and broken
//! on purpose, never to be reachable from elsewhere.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod access_log;
mod db;
mod faults;
mod server;
mod service;
mod shop;
mod stats;
mod tls;
mod wire;
pub use tls::TlsSetupError;
pub use wire::{ResetAt, WireFaults, MAX_HUGE_HEADER};

pub use access_log::{AccessLogConfig, AccessLogFormat, NGINX_LOG_FORMAT};
pub use db::DbError;
pub use faults::Faults;
pub use stats::StatsSnapshot;

use faults::{Knobs, StallClock};
use service::Shared;
use stats::Stats;

/// Why the sample service could not start or take a setting; each message
/// says what to change.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address is not a loopback address.
    #[error(
        "refusing to serve on {addr}: the sample target only listens on loopback (127.0.0.1 or ::1), \
         since it exists to be overloaded and broken on purpose"
    )]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address cannot be listened on (in use, or not permitted).
    #[error("cannot listen on {addr}: {source} (pick another port, or 0 for any free one)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A fault setting (latency, error rate, ...) does not parse or is out
    /// of range.
    #[error("invalid {what} `{value}`: {hint}")]
    InvalidFault {
        /// Which setting (`error rate`, `latency`, ...).
        what: &'static str,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        hint: &'static str,
    },
    /// `stall_every` is zero.
    #[error("invalid stall: the stall period must be longer than 0")]
    StallPeriodZero,
    /// A stall is as long as the period between stalls, or longer: the
    /// windows would hold responses forever.
    #[error("invalid stall: each stall ({stall:?}) must be shorter than the period between stalls ({every:?})")]
    StallTooLong {
        /// How long each stall lasts.
        stall: std::time::Duration,
        /// The period between stalls.
        every: std::time::Duration,
    },
    /// Zero worker threads asked for.
    #[error("invalid thread count 0: the sample target needs at least one worker thread")]
    NoThreads,
    /// The server's runtime cannot start.
    #[error("cannot start the sample target's runtime: {0}")]
    Runtime(std::io::Error),
    /// The access log cannot be opened (or its writer thread started).
    #[error("cannot write the access log {}: {source}", .path.display())]
    AccessLog {
        /// The file asked for.
        path: std::path::PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The self-signed certificate cannot be made or loaded.
    #[error("cannot set up TLS for the sample target: {0}")]
    Tls(#[source] TlsSetupError),
    /// The `--db` file is missing, unreadable or not a seeded shop.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// How to serve HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// A certificate made at start for `localhost`, `127.0.0.1` and `::1`;
    /// clients trust it through [`RunningTarget::ca_pem`].
    SelfSigned,
    /// The same, but expired yesterday (valid for a day until then): a
    /// client that checks dates refuses it.
    Expired,
}

/// Everything the sample service can be told at start.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    /// Where to listen; must be a loopback address. Port 0 picks a free port.
    pub bind: SocketAddr,
    /// Fixed extra latency added to every response.
    pub latency: Duration,
    /// Extra latency drawn uniformly from `[0, latency_jitter]`, on top of `latency`.
    pub latency_jitter: Duration,
    /// Fraction of requests answered `500 {"error":"injected"}`.
    pub error_rate: f64,
    /// Fraction of requests answered by resetting the TCP connection (RST).
    pub reset_rate: f64,
    /// Fraction of requests that get `tail_latency` more (a slow tail).
    pub tail_rate: f64,
    /// Extra latency of the `tail_rate` share.
    pub tail_latency: Duration,
    /// Periodic stalls: window `k` is `[k*every, k*every + stall_for)` from
    /// start, for `k >= 1`. During a window no response leaves.
    pub stall_every: Option<Duration>,
    /// How long each periodic stall lasts; shorter than `stall_every`.
    pub stall_for: Duration,
    /// Runtime worker threads.
    pub threads: usize,
    /// Serve HTTPS instead of plain HTTP.
    pub tls: Option<TlsMode>,
    /// Seed of the random faults: the same seed and traffic give the same faults.
    pub seed: u64,
    /// Write an access log, one line per request (`/_stats` excepted).
    pub access_log: Option<AccessLogConfig>,
    /// Serve products from, and write orders into, this SQLite file seeded
    /// by `loadline synth` (see the routes above for what changes).
    pub db: Option<std::path::PathBuf>,
    /// Faults of the response's framing and pacing and of HTTP/2's connection
    /// handling, fixed at start ([`WireFaults`]).
    pub wire: WireFaults,
}

impl Default for TargetConfig {
    fn default() -> Self {
        TargetConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            error_rate: 0.0,
            reset_rate: 0.0,
            tail_rate: 0.0,
            tail_latency: Duration::ZERO,
            stall_every: None,
            stall_for: Duration::ZERO,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            tls: None,
            seed: 0,
            access_log: None,
            db: None,
            wire: WireFaults::default(),
        }
    }
}

impl TargetConfig {
    /// The faults that [`RunningTarget::set_faults`] can change later.
    pub fn faults(&self) -> Faults {
        Faults {
            latency: self.latency,
            latency_jitter: self.latency_jitter,
            error_rate: self.error_rate,
            reset_rate: self.reset_rate,
            tail_rate: self.tail_rate,
            tail_latency: self.tail_latency,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        if !self.bind.ip().is_loopback() {
            return Err(Error::NotLoopback { addr: self.bind });
        }
        self.faults().validate()?;
        self.wire.validate(self.reset_rate)?;
        if self.threads == 0 {
            return Err(Error::NoThreads);
        }
        if let Some(every) = self.stall_every {
            if every.is_zero() {
                return Err(Error::StallPeriodZero);
            }
            if self.stall_for >= every {
                // Windows that touch or overlap would hold responses forever.
                return Err(Error::StallTooLong {
                    stall: self.stall_for,
                    every,
                });
            }
        }
        Ok(())
    }
}

/// A sample service running on background threads. Dropping it shuts it down.
pub struct RunningTarget {
    addr: SocketAddr,
    ca_pem: Option<String>,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    access_log: Option<access_log::Writer>,
}

impl std::fmt::Debug for RunningTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningTarget")
            .field("addr", &self.addr)
            .field("tls", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

/// Connections the kernel queues before `accept`: a load test opening
/// hundreds of connections at once must not see refusals.
const BACKLOG: i32 = 1024;

fn listen(addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
    use socket2::{Domain, Protocol, Socket, Type};
    let bind_err = |source| Error::Bind { addr, source };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(bind_err)?;
    // Restarting on the same port right after a run must not fail on
    // connections still in TIME_WAIT.
    socket.set_reuse_address(true).map_err(bind_err)?;
    socket.bind(&addr.into()).map_err(bind_err)?;
    socket.listen(BACKLOG).map_err(bind_err)?;
    socket.set_nonblocking(true).map_err(bind_err)?;
    Ok(socket.into())
}

impl RunningTarget {
    /// Start serving; returns once the socket is listening.
    pub fn start(config: TargetConfig) -> Result<RunningTarget, Error> {
        config.validate()?;
        let tls = match config.tls {
            Some(TlsMode::SelfSigned) => Some(tls::self_signed(false)?),
            Some(TlsMode::Expired) => Some(tls::self_signed(true)?),
            None => None,
        };
        let db = match &config.db {
            Some(path) => Some(db::Db::open(path)?),
            None => None,
        };
        let listener = listen(config.bind)?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.bind,
            source,
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads)
            .thread_name("loadline-target")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let listener = {
            // Registering with the reactor needs this runtime's context;
            // entering it is fine even from inside another runtime.
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|source| Error::Bind { addr, source })?
        };

        let (writer, access_log) = match &config.access_log {
            Some(c) => {
                let (writer, log) = access_log::Writer::start(c)?;
                (Some(writer), Some(log))
            }
            None => (None, None),
        };
        let shared = Arc::new(Shared::new(
            Knobs::new(config.faults()),
            StallClock::new(Instant::now(), config.stall_every, config.stall_for),
            Stats::new(config.threads),
            config.seed,
            access_log,
            db,
            config.wire.clone(),
        ));
        let acceptor = tls
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(Arc::clone(&t.config)));
        runtime.spawn(server::accept_loop(
            listener,
            Arc::clone(&shared),
            acceptor,
            Arc::new(server::http_builder(&config.wire)),
        ));

        // The runtime lives and dies on its own thread: dropping a runtime
        // inside an async context panics, and `shutdown` may well be called
        // from an async test.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("loadline-target-main".into())
            .spawn(move || {
                // Either a stop message or the sender being dropped ends the wait.
                let _ = runtime.block_on(stopped);
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(Error::Runtime)?;

        Ok(RunningTarget {
            addr,
            ca_pem: tls.map(|t| t.cert_pem),
            shared,
            stop: Some(stop),
            thread: Some(thread),
            access_log: writer,
        })
    }

    /// The address actually listened on (with the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://...` with TLS.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The self-signed certificate (PEM) when serving HTTPS, for clients to trust.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The counters so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.snapshot()
    }

    /// Zero the counters (order ids keep counting up).
    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    /// Stall now for `d`: every response is held until the stall ends,
    /// including those already being prepared.
    pub fn stall_now(&self, d: Duration) {
        self.shared.stall.stall_now(d);
    }

    /// Change latency, errors and resets while serving, e.g. to make one
    /// server unhealthy in the middle of a test. Applies to requests that
    /// arrive from now on.
    pub fn set_faults(&self, faults: Faults) -> Result<(), Error> {
        faults.validate()?;
        self.shared.knobs.set(faults);
        Ok(())
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.knobs.get()
    }

    /// Stop accepting, close every connection, join the threads, and flush
    /// the access log.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("sample target: the runtime thread panicked while shutting down");
            }
        }
        // After the runtime: no order can arrive any more.
        if let Some(db) = &self.shared.db {
            db.finish();
        }
        // After the runtime: no request can be logged any more.
        if let Some(mut writer) = self.access_log.take() {
            writer.finish();
        }
    }
}

impl Drop for RunningTarget {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stalls that could never end are refused, saying which setting is wrong.
    #[test]
    fn stalls_must_end_before_the_next() {
        let with = |every: u64, stall: u64| TargetConfig {
            stall_every: Some(Duration::from_millis(every)),
            stall_for: Duration::from_millis(stall),
            ..TargetConfig::default()
        };
        assert_eq!(
            with(0, 0).validate().unwrap_err().to_string(),
            "invalid stall: the stall period must be longer than 0"
        );
        assert_eq!(
            with(500, 500).validate().unwrap_err().to_string(),
            "invalid stall: each stall (500ms) must be shorter than the period between stalls (500ms)"
        );
        assert!(with(500, 499).validate().is_ok());
    }
}
