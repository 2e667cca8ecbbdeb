//! `summary.json`: one document per run with the numbers people and gates
//! read first. Field names are stable; the schema is committed at
//! `schemas/summary.schema.json` and a test checks every run against it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hist::LatencyStats;

/// Bumped on any incompatible change to the summary's fields.
pub const SCHEMA_VERSION: u32 = 1;

/// A run's `summary.json`: what ran, against what, and every headline number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SCHEMA_VERSION`] of the loadline that wrote it.
    pub schema_version: u32,
    /// The loadline that ran.
    pub loadline_version: String,
    /// The profile that was replayed.
    pub profile: ProfileInfo,
    /// The service it was replayed against.
    pub target: TargetInfo,
    /// When, how long, and how the run ended.
    pub run: RunInfo,
    /// The rate asked for and the rate delivered.
    pub rate: RateInfo,
    /// How well the generator kept the schedule.
    pub schedule: ScheduleInfo,
    /// Every measured request together.
    pub totals: Totals,
    /// Measured requests per outcome class (`2xx`, `timeout`, ...).
    pub outcomes: BTreeMap<String, u64>,
    /// Errors per class: `5xx`, `timeout`, `connect`, `reset`, `other`.
    pub errors_by_class: BTreeMap<String, u64>,
    /// Failed requests per kind (`refused`, `reset_in_body`, `h2_goaway`, ...;
    /// [`ErrorKind`](super::ErrorKind)): which fault was seen. Only kinds seen are listed.
    #[serde(default)]
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Requests sent a second time on a fresh connection because their
    /// keep-alive connection had been closed by the server while idle, or
    /// (HTTP/2) the server said it never processed them (not errors).
    #[serde(default)]
    pub retried_stale: u64,
    /// What generating the load cost (absent in files of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<GeneratorInfo>,
    /// Measured requests to read and to write endpoints.
    pub read_write: ReadWrite,
    /// Per endpoint, in the profile's order.
    pub endpoints: Vec<EndpointSummary>,
    /// How requests fell on tenants, when the profile has tenants.
    pub tenants: Option<TenantSummary>,
    /// Per client class of the profile's `clients:` (slow and abandoning
    /// clients), in name order; absent when the profile has none. Their
    /// requests are in none of the numbers above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientSummary>,
    /// The run directory's other files.
    pub files: Files,
    /// The shape of every histogram in the run's files (what lets two runs'
    /// histograms add bucket for bucket).
    #[serde(default)]
    pub histogram: HistogramLayout,
}

/// The layout of a run's latency histograms: HdrHistogram's bounds and precision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramLayout {
    /// The unit of recorded values: `us`.
    pub unit: String,
    /// Lowest trackable value.
    pub lowest: u64,
    /// Highest trackable value (larger ones are clamped to it).
    pub highest: u64,
    /// Significant decimal digits kept.
    pub significant_digits: u8,
}

impl Default for HistogramLayout {
    /// loadline's one layout ([`super::hist`]).
    fn default() -> Self {
        HistogramLayout {
            unit: "us".into(),
            lowest: super::hist::LOWEST_US,
            highest: super::hist::HIGHEST_US,
            significant_digits: super::hist::SIGFIG,
        }
    }
}

/// The load model a run used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Model {
    /// Arrivals on a schedule, whatever the responses do.
    Open,
    /// A fixed number of users, each sending after the last response.
    Closed,
}

/// The profile a run replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInfo {
    /// The profile's `name`.
    pub name: String,
    /// The profile's `description`, if any.
    pub description: Option<String>,
    /// The profile file's path as given.
    pub source: String,
    /// `sha256:` digest of what was run (the profile's text after `--set`,
    /// and `--duration`/`--rate-scale`): shards of one run share it.
    #[serde(default)]
    pub hash: String,
    /// The seed requests were drawn with (the same seed replays the same requests).
    pub seed: u64,
    /// Open or closed.
    pub model: Model,
    /// `poisson` or `uniform` (open model).
    pub arrivals: Option<String>,
    /// Users (closed model).
    pub users: Option<u32>,
    /// `dev`, `staging`, `prod`, or null when the profile does not say.
    pub environment: Option<String>,
}

/// The service a run was replayed against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The base URL requests were sent to.
    pub base_url: String,
    /// `auto`, `http1` or `http2` as asked.
    pub http: String,
    /// Connections opened.
    pub connections: u32,
    /// Concurrent HTTP/2 streams per connection.
    pub streams: u32,
    /// A request without a complete response after this is a `timeout`.
    pub timeout_ms: u64,
}

/// Which part of a sharded run this is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// 0-based index of this shard.
    pub index: u32,
    /// Shards the run was split into.
    pub count: u32,
    /// Which attempt at this shard (0 for the first), as given by `--attempt`.
    #[serde(default)]
    pub attempt: u32,
}

/// How a merged run was put together from its shards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedInfo {
    /// Shards the run was split into.
    pub count: u32,
    /// The indices merged, ascending.
    pub merged: Vec<u32>,
    /// The indices that were missing (merged with `--allow-partial`).
    pub missing: Vec<u32>,
    /// True when shards are missing: the result covers part of the load, so
    /// the gate reports it as inconclusive.
    pub partial: bool,
}

/// When a run ran and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC.
    pub ended_at: String,
    /// The profile's duration, warm-up included, in seconds.
    pub planned_duration_s: f64,
    /// The warm-up, in seconds; its requests are not measured.
    pub warmup_s: f64,
    /// Wall time from start to the last response.
    pub elapsed_s: f64,
    /// The measured window: from the end of the warm-up to the end of the schedule.
    pub measured_s: f64,
    /// True when the run was stopped early (Ctrl-C): every number covers what was recorded.
    pub interrupted: bool,
    /// Worker threads that sent requests.
    pub workers: u32,
    /// The shard, when the run was one (`--shard I/N`).
    pub shard: Option<ShardInfo>,
    /// The run's id: every shard of one run has the same (`--run-id`, or
    /// derived from the profile's name, its hash and T0).
    #[serde(default)]
    pub run_id: String,
    /// T0, the start of interval 0, in Unix milliseconds (`started_at` is the
    /// same instant in RFC 3339). Every shard of a run shares it.
    #[serde(default)]
    pub t0_unix_ms: u64,
    /// Length of one interval of the time grid, in seconds.
    #[serde(default = "one_second")]
    pub interval_s: f64,
    /// How late after T0 the workers were released (a late `--start-at`), in ms.
    #[serde(default)]
    pub late_start_ms: u64,
    /// Set on a run `loadline merge` wrote: which shards it holds.
    #[serde(default)]
    pub merged: Option<MergedInfo>,
}

fn one_second() -> f64 {
    1.0
}

/// The rate a run asked for and the rate it delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateInfo {
    /// The profile's mean rate over the measured window (open model).
    pub target_per_s: Option<f64>,
    /// Highest rate the profile asks for (open model).
    pub peak_target_per_s: Option<f64>,
    /// Requests the schedule intended in the measured window (open model).
    pub target_requests: Option<u64>,
    /// Measured requests (intended in the measured window and completed, any outcome).
    pub sent_requests: u64,
    /// Measured requests per second of the measured window.
    pub achieved_per_s: f64,
    /// sent / target (open model); below 0.99 the run did not deliver its load.
    pub achieved_ratio: Option<f64>,
}

/// What generating the load cost the machine it ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorInfo {
    /// CPU-seconds (user and system, every thread) the loadline process
    /// used from the start of the load to its end. With `loadline demo`,
    /// whose built-in target runs in the same process, the target's too.
    pub cpu_s: f64,
    /// `cpu_s` over the load's wall time times the worker threads: the
    /// share of the CPU the workers could have used (1.0: every worker busy
    /// all the time). An open-model run at or above
    /// [`CPU_SATURATED`] counts as saturated.
    pub cpu_share: f64,
    /// Requests completed per CPU-second: the warm-up's, the measured ones
    /// and the client classes' together.
    pub requests_per_cpu_s: f64,
}

impl GeneratorInfo {
    /// `cpu_s` CPU-seconds spent against `capacity` worker-seconds (wall
    /// time times worker threads) to complete `requests`; `None` when no
    /// CPU time was measured.
    pub fn new(cpu_s: f64, capacity: f64, requests: u64) -> Option<GeneratorInfo> {
        (cpu_s > 0.0).then(|| GeneratorInfo {
            cpu_s: round(cpu_s, 3),
            cpu_share: if capacity > 0.0 {
                round(cpu_s / capacity, 3)
            } else {
                0.0
            },
            requests_per_cpu_s: round(requests as f64 / cpu_s, 1),
        })
    }
}

impl Summary {
    /// Requests completed in all: the warm-up's, the measured ones and the
    /// client classes'.
    pub fn requests_completed(&self) -> u64 {
        self.totals.requests + self.totals.warmup_requests + self.clients.iter().map(|c| c.requests).sum::<u64>()
    }
}

/// The share of its workers' CPU ([`GeneratorInfo::cpu_share`]) at which an
/// open-model run's generator counts as saturated: with less than a tenth
/// of its CPU to spare, it cannot be trusted to keep the schedule.
pub const CPU_SATURATED: f64 = 0.9;

/// Schedule lag (p99, µs) of requests whose connection was free and waiting
/// for their instant ([`ScheduleInfo::send_lag_us`]) above which an open-model
/// run's generator counts as saturated: its timer or event loop ran late.
/// Twice the millisecond of tokio's timer, which paces the schedule where the
/// precise `timerfd` one is missing; ten times what the precise one keeps at
/// 100,000 requests/s on one core (BENCHMARKS.md).
pub const SEND_LAG_LIMIT_US: u64 = 2_000;

/// Fewest requests sent from a waiting connection for [`SEND_LAG_LIMIT_US`]
/// to be judged: a p99 of fewer is a handful of requests (as the gate asks
/// of a p99 too), and one descheduled moment of a busy machine would decide it.
pub const SEND_LAG_MIN_REQUESTS: u64 = 1_000;

/// Quantiles of schedule lag, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LagStats {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl LagStats {
    /// The quantiles of a lag histogram (µs); zeros when it is empty.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> LagStats {
        if h.is_empty() {
            return LagStats::default();
        }
        LagStats {
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        }
    }
}

/// How well the generator kept the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleInfo {
    /// Actual send minus intended send, in µs, over every request.
    pub lag_us: LagStats,
    /// The same over the requests whose connection was free and waiting for
    /// their instant: the generator's own lateness (its timer and event
    /// loop), without any wait for a free connection. Zero in the closed model.
    #[serde(default)]
    pub send_lag_us: LagStats,
    /// Requests sent later than `late_threshold_ms` after their intended instant
    /// (no free connection, or a busy generator).
    pub late_requests: u64,
    /// A request sent more than this after its intended instant is late.
    pub late_threshold_ms: u64,
    /// Requests the schedule intended that were never sent (the run ended first).
    pub dropped_requests: u64,
    /// How late the generator's own event loop ran (99th percentile, µs).
    pub loop_lag_p99_us: u64,
    /// True when the generator itself could not keep up: results understate the load.
    pub generator_saturated: bool,
    /// Why the generator counts as saturated, for people.
    pub saturation_reason: Option<String>,
    /// Every request's schedule lag (µs) as a histogram ([`super::hist::encode`]),
    /// so shards merge into exact quantiles.
    #[serde(default)]
    pub lag_histogram: Option<String>,
    /// The event loop's lag (µs) the same way.
    #[serde(default)]
    pub loop_lag_histogram: Option<String>,
    /// The send lag (µs) the same way.
    #[serde(default)]
    pub send_lag_histogram: Option<String>,
}

/// Every measured request together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Measured requests (after the warm-up), every outcome.
    pub requests: u64,
    /// Requests sent during the warm-up (not in any histogram).
    pub warmup_requests: u64,
    /// Errors: 5xx and transport failures (timeouts, connect, reset, other); not 4xx.
    pub errors: u64,
    /// Errors over measured requests.
    pub error_rate: f64,
    /// Responses whose status is not in the endpoint's `expect` list.
    pub unexpected_status: u64,
    /// Latency of every measured request, in µs.
    pub latency_us: LatencyStats,
}

/// Measured requests to read and to write endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadWrite {
    /// To endpoints of kind `read`.
    pub read: u64,
    /// To endpoints of kind `write`.
    pub write: u64,
    /// Reads over reads and writes, rounded to four places.
    pub read_share: f64,
}

/// One outcome class of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeSummary {
    /// Measured requests of this class.
    pub count: u64,
    /// Per second of the measured window.
    pub rate_per_s: f64,
    /// Their latency, in µs.
    pub latency_us: LatencyStats,
}

/// One endpoint's measured requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSummary {
    /// The endpoint's name in the profile.
    pub name: String,
    /// `read` or `write`.
    pub kind: String,
    /// Its HTTP method.
    pub method: String,
    /// The share of requests the profile asks for.
    pub planned_share: f64,
    /// Measured requests.
    pub requests: u64,
    /// Its share of measured requests, rounded to four places.
    pub share: f64,
    /// Per second of the measured window.
    pub rate_per_s: f64,
    /// Errors (5xx and transport failures).
    pub errors: u64,
    /// Errors over its measured requests.
    pub error_rate: f64,
    /// Responses whose status is not in its `expect` list.
    pub unexpected_status: u64,
    /// Latency of its measured requests, in µs.
    pub latency_us: LatencyStats,
    /// Per outcome class that occurred.
    pub outcomes: BTreeMap<String, OutcomeSummary>,
}

/// One tenant's measured requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantShare {
    /// The tenant's id, as sent.
    pub id: String,
    /// Measured requests for it.
    pub requests: u64,
    /// Its share of measured requests.
    pub share: f64,
}

/// How measured requests fell on tenants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSummary {
    /// Tenants the profile defines.
    pub count: u32,
    /// Tenants that received at least one measured request.
    pub seen: u32,
    /// The busiest tenants, most requests first.
    pub top: Vec<TenantShare>,
}

/// The run directory's files, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Files {
    /// This summary: `summary.json`.
    pub summary: String,
    /// The HdrHistogram interval log: `latency.hlog`.
    pub latency_log: String,
    /// Per-second numbers: `timeseries.csv`.
    pub timeseries: String,
    /// The client classes' latency histograms, one per class and outcome
    /// over the measured window (tag `CLASS/OUTCOME`): `clients.hlog`,
    /// present when the profile has client classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients_log: Option<String>,
}

/// One client class (slow senders, slow readers, abandoners): its requests,
/// kept out of the endpoints, the totals and the gate's histograms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSummary {
    /// The class's name under `clients:`.
    pub name: String,
    /// What its clients do: `read 20 B every 100ms (200 B/s), abandon after 150ms, ...`.
    pub behaviour: String,
    /// The share of arrivals the profile gives it.
    pub planned_share: f64,
    /// Measured requests sent: with a response, failed, or abandoned.
    pub requests: u64,
    /// Its share of the measured arrivals sent (normal requests included).
    pub share: f64,
    /// Errors (5xx and transport failures; abandons are not errors).
    pub errors: u64,
    /// Closed by the client at `abandon_after`, as the class says.
    pub abandoned: u64,
    /// Arrivals not sent: the class's `max_in_flight` was reached.
    pub overflow: u64,
    /// Requests still running when the run ended (cut, not in `requests`).
    pub unfinished: u64,
    /// Arrivals never sent (the run ended while every slot was busy).
    pub never_sent: u64,
    /// Requests of the warm-up (not measured).
    pub warmup_requests: u64,
    /// Request bytes written.
    pub bytes_sent: u64,
    /// Response bytes read.
    pub bytes_received: u64,
    /// Requests per outcome class (`2xx`, `timeout`, ...), abandoned ones not included.
    pub outcomes: BTreeMap<String, u64>,
    /// Failed requests per kind (as the run's `errors_by_kind`), kinds seen only.
    #[serde(default)]
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Latency (µs, from the intended instant) of requests that got a
    /// response or failed; abandoned ones are not in it.
    pub latency_us: LatencyStats,
}

/// A client class's counts besides its latency histograms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCounts {
    /// See [`ClientSummary::abandoned`].
    pub abandoned: u64,
    /// See [`ClientSummary::overflow`].
    pub overflow: u64,
    /// See [`ClientSummary::unfinished`].
    pub unfinished: u64,
    /// See [`ClientSummary::never_sent`].
    pub never_sent: u64,
    /// See [`ClientSummary::warmup_requests`].
    pub warmup_requests: u64,
    /// See [`ClientSummary::bytes_sent`].
    pub bytes_sent: u64,
    /// See [`ClientSummary::bytes_received`].
    pub bytes_received: u64,
    /// See [`ClientSummary::errors_by_kind`].
    pub errors_by_kind: BTreeMap<String, u64>,
}

impl ClientCounts {
    /// Add `o`'s counts.
    pub fn add(&mut self, o: &ClientCounts) {
        self.abandoned += o.abandoned;
        self.overflow += o.overflow;
        self.unfinished += o.unfinished;
        self.never_sent += o.never_sent;
        self.warmup_requests += o.warmup_requests;
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
        for (k, n) in &o.errors_by_kind {
            *self.errors_by_kind.entry(k.clone()).or_default() += n;
        }
    }

    /// The counts a summary holds.
    pub fn of(c: &ClientSummary) -> ClientCounts {
        ClientCounts {
            abandoned: c.abandoned,
            overflow: c.overflow,
            unfinished: c.unfinished,
            never_sent: c.never_sent,
            warmup_requests: c.warmup_requests,
            bytes_sent: c.bytes_sent,
            bytes_received: c.bytes_received,
            errors_by_kind: c.errors_by_kind.clone(),
        }
    }
}

impl ClientSummary {
    /// Every class's summary from its name, behaviour and planned share,
    /// histograms by outcome and counts; `normal` is the normal requests
    /// measured, so each class's `share` is of every request sent.
    pub fn all<N: AsRef<str>, B: AsRef<str>>(
        classes: impl IntoIterator<Item = (N, B, f64)>,
        parts: &[(BTreeMap<super::Outcome, hdrhistogram::Histogram<u64>>, ClientCounts)],
        normal: u64,
    ) -> Vec<ClientSummary> {
        let sent = normal
            + parts
                .iter()
                .map(|(h, c)| h.values().map(hdrhistogram::Histogram::len).sum::<u64>() + c.abandoned)
                .sum::<u64>();
        classes
            .into_iter()
            .zip(parts)
            .map(|((name, behaviour, share), (hists, counts))| {
                ClientSummary::of((name.as_ref(), behaviour.as_ref(), share), hists, counts, sent)
            })
            .collect()
    }

    /// A class's summary from its histograms per outcome and its counts;
    /// `sent` is every measured request sent, normal ones included.
    pub fn of(
        (name, behaviour, planned_share): (&str, &str, f64),
        hists: &BTreeMap<super::Outcome, hdrhistogram::Histogram<u64>>,
        counts: &ClientCounts,
        sent: u64,
    ) -> ClientSummary {
        let mut all = super::new_hist();
        let mut outcomes = BTreeMap::new();
        let mut errors = 0;
        for (o, h) in hists {
            let _ = all.add(h);
            if o.is_error() {
                errors += h.len();
            }
            outcomes.insert(o.name().to_string(), h.len());
        }
        let requests = all.len() + counts.abandoned;
        ClientSummary {
            name: name.to_string(),
            behaviour: behaviour.to_string(),
            planned_share: round(planned_share, 6),
            requests,
            share: share(requests, sent, 4),
            errors,
            abandoned: counts.abandoned,
            overflow: counts.overflow,
            unfinished: counts.unfinished,
            never_sent: counts.never_sent,
            warmup_requests: counts.warmup_requests,
            bytes_sent: counts.bytes_sent,
            bytes_received: counts.bytes_received,
            outcomes,
            errors_by_kind: counts.errors_by_kind.clone(),
            latency_us: LatencyStats::of(&all),
        }
    }
}

/// `v` rounded to `digits` decimals (every share and rate in a summary).
pub fn round(v: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

/// `n / d` rounded to `digits` decimals, 0 when `d` is 0.
pub fn share(n: u64, d: u64, digits: i32) -> f64 {
    if d > 0 {
        round(n as f64 / d as f64, digits)
    } else {
        0.0
    }
}

/// Errors per class from requests per outcome name, every error class listed
/// (0 where none was seen).
pub fn errors_by_class(outcomes: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    super::Outcome::ALL
        .iter()
        .filter(|o| o.is_error())
        .map(|o| (o.name().to_string(), outcomes.get(o.name()).copied().unwrap_or(0)))
        .collect()
}

/// Failures per kind name from per-kind counts (by [`super::ErrorKind::index`]), kinds seen only.
pub fn errors_by_kind(kinds: &[u64]) -> BTreeMap<String, u64> {
    super::ErrorKind::ALL
        .iter()
        .zip(kinds)
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (k.name().to_string(), *n))
        .collect()
}

/// One endpoint's part of a run's latency totals (per endpoint and outcome).
pub struct EndpointTotals {
    /// Every outcome's latency together.
    pub all: hdrhistogram::Histogram<u64>,
    /// Per outcome class that occurred.
    pub outcomes: BTreeMap<String, OutcomeSummary>,
    /// Requests that are errors (5xx and transport failures).
    pub errors: u64,
}

impl EndpointTotals {
    /// Endpoint `endpoint`'s series of `totals`; `per_s` turns a count into a
    /// rate over the measured window.
    pub fn of(
        totals: &BTreeMap<super::SeriesKey, hdrhistogram::Histogram<u64>>,
        endpoint: usize,
        per_s: &dyn Fn(u64) -> f64,
    ) -> EndpointTotals {
        let mut t = EndpointTotals {
            all: super::new_hist(),
            outcomes: BTreeMap::new(),
            errors: 0,
        };
        for ((_, o), h) in totals.iter().filter(|((e, _), _)| *e == endpoint) {
            let _ = t.all.add(h);
            if o.is_error() {
                t.errors += h.len();
            }
            t.outcomes.insert(
                o.name().to_string(),
                OutcomeSummary {
                    count: h.len(),
                    rate_per_s: per_s(h.len()),
                    latency_us: LatencyStats::of(h),
                },
            );
        }
        t
    }
}
