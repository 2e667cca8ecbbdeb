//! `loadline target`: run the built-in sample service in the foreground,
//! until Ctrl-C or SIGTERM, or for a fixed duration.
//!
//! Only wiring: flags become a [`TargetConfig`], the service runs from
//! [`crate::sample`], and one line says where it listens and which faults
//! are on, so a script (or a person) can point a profile at it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::printer::Printer;
use crate::sample::{
    self, AccessLogConfig, AccessLogFormat, ResetAt, RunningTarget, StatsSnapshot, TargetConfig, TlsMode, WireFaults,
};
use crate::units::{Dur, Percent};

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Port to listen on (0 picks any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Address to listen on; loopback only (127.0.0.1 or ::1).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,

    /// Fixed extra latency added to every response, e.g. `2ms`.
    #[arg(long, default_value = "0", value_name = "DURATION")]
    pub latency: Dur,

    /// Extra random latency, uniform in [0, this], on top of --latency.
    #[arg(long, default_value = "0", value_name = "DURATION")]
    pub latency_jitter: Dur,

    /// Share of requests answered 500, e.g. `1%`.
    #[arg(long, default_value = "0%", value_name = "PERCENT")]
    pub error_rate: Percent,

    /// Share of requests answered by resetting the TCP connection, e.g. `0.5%`.
    #[arg(long, default_value = "0%", value_name = "PERCENT")]
    pub reset_rate: Percent,

    /// Share of requests that get --tail-latency more: a slow tail with the median untouched.
    #[arg(long, default_value = "0%", value_name = "PERCENT", requires = "tail_latency")]
    pub tail_rate: Percent,

    /// Extra latency of the --tail-rate share, e.g. `200ms`.
    #[arg(long, value_name = "DURATION", requires = "tail_rate")]
    pub tail_latency: Option<Dur>,

    /// Stall periodically: the first stall starts this long after start, then again every period.
    #[arg(long, value_name = "DURATION")]
    pub stall_every: Option<Dur>,

    /// How long each periodic stall holds every response.
    #[arg(long, default_value = "500ms", value_name = "DURATION", requires = "stall_every")]
    pub stall_for: Dur,

    /// Worker threads [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,

    /// Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with a self-signed certificate.
    #[arg(long)]
    pub tls: bool,

    /// Write the self-signed certificate (PEM) here, for a profile's `tls.ca_file`.
    #[arg(long, value_name = "PATH", requires = "tls")]
    pub write_ca: Option<PathBuf>,

    /// Stop after this long [default: run until Ctrl-C or SIGTERM].
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<Dur>,

    /// Seed of the random faults [default: a random seed, printed].
    #[arg(long)]
    pub seed: Option<u64>,

    /// Append an access log here, one line per request (flushed on exit).
    #[arg(long, value_name = "PATH")]
    pub access_log: Option<PathBuf>,

    /// The access log's format: combined (nginx's), nginx (combined plus
    /// `$request_time $msec "$http_x_tenant_id"`) or envoy-json.
    #[arg(long, value_name = "FORMAT", default_value = "combined", requires = "access_log")]
    pub access_log_format: AccessLogFormat,

    /// Serve products from, and write orders into, a SQLite file seeded by
    /// `loadline synth fixtures/shop.schema.yaml --to sqlite:FILE`: a missing
    /// tenant or product is 404.
    #[arg(long, value_name = "sqlite:FILE", value_parser = parse_db)]
    pub db: Option<PathBuf>,

    /// Serve HTTPS with a certificate that expired in 2000 (implies --tls).
    #[arg(long)]
    pub tls_expired: bool,

    #[command(flatten)]
    pub wire: WireArgs,
}

/// Faults on the wire. Any of the HTTP/1.1 ones serves every request
/// `200 hello\n` by a raw writer instead of the shop.
#[derive(Debug, Args)]
#[command(next_help_heading = "Wire faults (HTTP/1.1; every path answers `hello`)")]
pub struct WireArgs {
    /// Write each response head one byte per --slow-pace.
    #[arg(long)]
    pub slow_head: bool,

    /// Write each response body one byte per --slow-pace.
    #[arg(long)]
    pub slow_body: bool,

    /// The pace of --slow-head and --slow-body.
    #[arg(long, default_value = "100ms", value_name = "DURATION")]
    pub slow_pace: Dur,

    /// Close each keep-alive connection, unannounced, after N responses.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub close_after: Option<u64>,

    /// Send `Connection: close` with every response.
    #[arg(long)]
    pub close_every_response: bool,

    /// Share of requests read and never answered.
    #[arg(long, default_value = "0%", value_name = "PERCENT")]
    pub hang_rate: Percent,

    /// Share of requests answered with bytes that are not HTTP.
    #[arg(long, default_value = "0%", value_name = "PERCENT")]
    pub garbage_rate: Percent,

    /// Where --reset-rate's resets strike: before the response, halfway
    /// through its head or body, or after it (the next request meets it).
    #[arg(long, default_value = "before", value_name = "WHERE", value_parser = parse_reset_at)]
    pub reset_at: ResetAt,

    /// Frame bodies chunked, with a chunk extension and a trailer.
    #[arg(long)]
    pub chunked: bool,

    /// Share of requests whose chunked body has a malformed chunk size.
    #[arg(long, default_value = "0%", value_name = "PERCENT")]
    pub bad_chunk_rate: Percent,

    /// Share of requests answered without Content-Length, ended by closing.
    #[arg(long, default_value = "0%", value_name = "PERCENT")]
    pub no_length_rate: Percent,

    /// Send `100 Continue` and `103 Early Hints` before every response.
    #[arg(long)]
    pub interim_1xx: bool,

    /// Add a header of this many bytes to every response.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..=16 << 20))]
    pub huge_header: Option<u64>,

    /// HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS [default: 1024].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "HTTP/2 faults")]
    pub h2_max_streams: Option<u32>,

    /// HTTP/2: GOAWAY after N requests on a connection.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "HTTP/2 faults")]
    pub h2_goaway_after: Option<u64>,

    /// HTTP/2: share of requests answered by RST_STREAM.
    #[arg(long, default_value = "0%", value_name = "PERCENT", help_heading = "HTTP/2 faults")]
    pub h2_rst_rate: Percent,
}

impl WireArgs {
    fn faults(&self) -> WireFaults {
        WireFaults {
            slow_head: self.slow_head,
            slow_body: self.slow_body,
            pace: self.slow_pace.0,
            close_after: self.close_after,
            close_every_response: self.close_every_response,
            hang_rate: self.hang_rate.fraction(),
            garbage_rate: self.garbage_rate.fraction(),
            reset_at: self.reset_at,
            chunked: self.chunked,
            bad_chunk_rate: self.bad_chunk_rate.fraction(),
            no_length_rate: self.no_length_rate.fraction(),
            interim_1xx: self.interim_1xx,
            huge_header: self.huge_header.unwrap_or(0) as usize,
            h2_max_streams: self.h2_max_streams,
            h2_goaway_after: self.h2_goaway_after,
            h2_rst_rate: self.h2_rst_rate.fraction(),
        }
    }
}

/// `--reset-at before|head|body|after`.
fn parse_reset_at(s: &str) -> Result<ResetAt, String> {
    s.parse()
        .map_err(|_| format!("`{s}`: expected before, head, body or after"))
}

/// `--db sqlite:FILE`.
fn parse_db(s: &str) -> Result<PathBuf, String> {
    match s.strip_prefix("sqlite:") {
        Some(f) if !f.is_empty() => Ok(PathBuf::from(f)),
        _ => Err(format!(
            "`{s}`: expected sqlite:FILE (a file `loadline synth --to sqlite:FILE` seeded)"
        )),
    }
}

pub fn execute(args: TargetArgs, printer: Printer) -> CliResult {
    let defaults = TargetConfig::default();
    let config = TargetConfig {
        bind: SocketAddr::new(args.bind, args.port),
        latency: args.latency.0,
        latency_jitter: args.latency_jitter.0,
        error_rate: args.error_rate.fraction(),
        reset_rate: args.reset_rate.fraction(),
        tail_rate: args.tail_rate.fraction(),
        tail_latency: args.tail_latency.map_or(Duration::ZERO, |d| d.0),
        stall_every: args.stall_every.map(|d| d.0),
        stall_for: args.stall_for.0,
        threads: args.threads.map_or(defaults.threads, |n| n as usize),
        tls: if args.tls_expired {
            Some(TlsMode::Expired)
        } else {
            args.tls.then_some(TlsMode::SelfSigned)
        },
        seed: args.seed.unwrap_or_else(rand::random),
        access_log: args.access_log.map(|path| AccessLogConfig {
            path,
            format: args.access_log_format,
        }),
        db: args.db.clone(),
        wire: args.wire.faults(),
    };
    let mut summary = faults_summary(&config);
    if let Some(db) = &config.db {
        summary.push_str(&format!(", serving sqlite:{}", db.display()));
    }
    let server = RunningTarget::start(config).map_err(|e| match e {
        sample::Error::Bind { .. } | sample::Error::Runtime(_) | sample::Error::Tls(_) => CliError::from(e),
        bad_setting => CliError::input(bad_setting),
    })?;

    if let (Some(path), Some(pem)) = (&args.write_ca, server.ca_pem()) {
        crate::atomic::write(path, pem.as_bytes()).map_err(CliError::input)?;
        printer.info(format!("wrote the certificate to trust to {}", path.display()));
    }
    printer.out(format!("listening on {} ({summary})", server.base_url()));

    wait(args.duration.map(|d| d.0))?;
    printer.out(stats_summary(&server.stats()));
    server.shutdown();
    Ok(Exit::Success)
}

/// Block until Ctrl-C or SIGTERM, or until `duration` has passed if given.
fn wait(duration: Option<Duration>) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime to wait for Ctrl-C or SIGTERM")?;
    runtime.block_on(async {
        let sleep = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = crate::load::stop::next() => {},
            () = sleep => {},
        }
    });
    Ok(())
}

/// The faults part of the "listening on" line, e.g. `faults: latency 2ms, stall 500ms every 10s`.
fn faults_summary(c: &TargetConfig) -> String {
    let mut parts = Vec::new();
    match (c.latency.is_zero(), c.latency_jitter.is_zero()) {
        (true, true) => {}
        (false, true) => parts.push(format!("latency {}", Dur(c.latency))),
        (_, false) => parts.push(format!("latency {} + up to {}", Dur(c.latency), Dur(c.latency_jitter))),
    }
    if c.error_rate > 0.0 {
        parts.push(format!("errors {}", Percent::from_fraction(c.error_rate)));
    }
    if c.reset_rate > 0.0 {
        parts.push(format!("resets {}", Percent::from_fraction(c.reset_rate)));
    }
    if c.tail_rate > 0.0 && !c.tail_latency.is_zero() {
        parts.push(format!(
            "tail {} on {}",
            Dur(c.tail_latency),
            Percent::from_fraction(c.tail_rate)
        ));
    }
    if let Some(every) = c.stall_every {
        parts.push(format!("stall {} every {}", Dur(c.stall_for), Dur(every)));
    }
    wire_summary(&c.wire, c.reset_rate, &mut parts);
    if c.tls == Some(TlsMode::Expired) {
        parts.push("expired certificate".into());
    }
    if parts.is_empty() {
        return "no faults".into();
    }
    // The seed only matters when something is drawn at random.
    let w = &c.wire;
    let wire_random = w.hang_rate + w.garbage_rate + w.bad_chunk_rate + w.no_length_rate + w.h2_rst_rate > 0.0;
    if c.error_rate > 0.0 || c.reset_rate > 0.0 || c.tail_rate > 0.0 || !c.latency_jitter.is_zero() || wire_random {
        parts.push(format!("seed {}", c.seed));
    }
    format!("faults: {}", parts.join(", "))
}

/// The wire faults' part of the "listening on" line.
fn wire_summary(w: &WireFaults, reset_rate: f64, parts: &mut Vec<String>) {
    let pct = |f: f64| Percent::from_fraction(f);
    let mut slow = Vec::new();
    if w.slow_head {
        slow.push("head");
    }
    if w.slow_body {
        slow.push("body");
    }
    if !slow.is_empty() {
        parts.push(format!("slow {} (1 byte per {})", slow.join(" and "), Dur(w.pace)));
    }
    if let Some(n) = w.close_after {
        parts.push(format!("close after {n} responses"));
    }
    if w.close_every_response {
        parts.push("Connection: close".into());
    }
    for (what, rate) in [
        ("hang", w.hang_rate),
        ("garbage", w.garbage_rate),
        ("bad chunk size", w.bad_chunk_rate),
        ("no Content-Length", w.no_length_rate),
        ("HTTP/2 RST_STREAM", w.h2_rst_rate),
    ] {
        if rate > 0.0 {
            parts.push(format!("{what} {}", pct(rate)));
        }
    }
    if reset_rate > 0.0 && w.reset_at != ResetAt::Before {
        parts.push(format!("resets at {}", w.reset_at));
    }
    if w.chunked {
        parts.push("chunked".into());
    }
    if w.interim_1xx {
        parts.push("100 and 103 first".into());
    }
    if w.huge_header > 0 {
        parts.push(format!("a {}-byte header", w.huge_header));
    }
    if let Some(n) = w.h2_max_streams {
        parts.push(format!("HTTP/2 max {n} streams"));
    }
    if let Some(n) = w.h2_goaway_after {
        parts.push(format!("HTTP/2 GOAWAY after {n} requests"));
    }
}

/// One line, e.g. `served 1200 requests (2xx 1180, 5xx 20), 3 resets, 64 connections, 12 tenants`.
fn stats_summary(s: &StatsSnapshot) -> String {
    let classes: Vec<String> = s
        .statuses
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(class, n)| format!("{class} {n}"))
        .collect();
    let classes = if classes.is_empty() {
        String::new()
    } else {
        format!(" ({})", classes.join(", "))
    };
    let not_found = if s.not_found > 0 {
        format!(", {} not found", s.not_found)
    } else {
        String::new()
    };
    let mut write_errors = if s.order_write_errors > 0 {
        format!(", {} orders not written", s.order_write_errors)
    } else {
        String::new()
    };
    if s.accept_errors > 0 {
        write_errors.push_str(&format!(
            ", {} failed accepts (out of file descriptors?)",
            s.accept_errors
        ));
    }
    format!(
        "served {}{classes}{not_found}{write_errors}, {}, {}, {}",
        count(s.total, "request"),
        count(s.resets, "reset"),
        count(s.connections, "connection"),
        count(s.tenants.len() as u64, "tenant"),
    )
}

fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
