//! `summary.json`: one document per run with the numbers people and gates
//! read first. Field names are stable; the schema is committed at
//! `schemas/summary.schema.json` and a test checks every run against it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hist::LatencyStats;

/// Bumped on any incompatible change to the summary's fields.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub loadline_version: String,
    pub profile: ProfileInfo,
    pub target: TargetInfo,
    pub run: RunInfo,
    pub rate: RateInfo,
    pub schedule: ScheduleInfo,
    pub totals: Totals,
    /// Measured requests per outcome class (`2xx`, `timeout`, ...).
    pub outcomes: BTreeMap<String, u64>,
    /// Errors per class: `5xx`, `timeout`, `connect`, `reset`, `other`.
    pub errors_by_class: BTreeMap<String, u64>,
    pub read_write: ReadWrite,
    pub endpoints: Vec<EndpointSummary>,
    pub tenants: Option<TenantSummary>,
    pub files: Files,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInfo {
    pub name: String,
    pub description: Option<String>,
    pub source: String,
    pub seed: u64,
    pub model: Model,
    /// `poisson` or `uniform` (open model).
    pub arrivals: Option<String>,
    /// Users (closed model).
    pub users: Option<u32>,
    /// `dev`, `staging`, `prod`, or null when the profile does not say.
    pub environment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub base_url: String,
    /// `auto`, `http1` or `http2` as asked.
    pub http: String,
    pub connections: u32,
    pub streams: u32,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: String,
    pub planned_duration_s: f64,
    pub warmup_s: f64,
    /// Wall time from start to the last response.
    pub elapsed_s: f64,
    /// The measured window: from the end of the warm-up to the end of the schedule.
    pub measured_s: f64,
    /// True when the run was stopped early (Ctrl-C): every number covers what was recorded.
    pub interrupted: bool,
    pub workers: u32,
    pub shard: Option<ShardInfo>,
}

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
    pub achieved_per_s: f64,
    /// sent / target (open model); below 0.99 the run did not deliver its load.
    pub achieved_ratio: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LagStats {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleInfo {
    /// Actual send minus intended send, in µs, over every request.
    pub lag_us: LagStats,
    /// Requests sent later than `late_threshold_ms` after their intended instant
    /// (no free connection, or a busy generator).
    pub late_requests: u64,
    pub late_threshold_ms: u64,
    /// Requests the schedule intended that were never sent (the run ended first).
    pub dropped_requests: u64,
    /// How late the generator's own event loop ran (99th percentile, µs).
    pub loop_lag_p99_us: u64,
    /// True when the generator itself could not keep up: results understate the load.
    pub generator_saturated: bool,
    pub saturation_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Measured requests (after the warm-up), every outcome.
    pub requests: u64,
    /// Requests sent during the warm-up (not in any histogram).
    pub warmup_requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    /// Responses whose status is not in the endpoint's `expect` list.
    pub unexpected_status: u64,
    /// Latency of every measured request, in µs.
    pub latency_us: LatencyStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadWrite {
    pub read: u64,
    pub write: u64,
    pub read_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeSummary {
    pub count: u64,
    pub rate_per_s: f64,
    pub latency_us: LatencyStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSummary {
    pub name: String,
    /// `read` or `write`.
    pub kind: String,
    pub method: String,
    /// The share of requests the profile asks for.
    pub planned_share: f64,
    pub requests: u64,
    pub share: f64,
    pub rate_per_s: f64,
    pub errors: u64,
    pub error_rate: f64,
    pub unexpected_status: u64,
    pub latency_us: LatencyStats,
    pub outcomes: BTreeMap<String, OutcomeSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantShare {
    pub id: String,
    pub requests: u64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub count: u32,
    /// Tenants that received at least one measured request.
    pub seen: u32,
    /// The busiest tenants, most requests first.
    pub top: Vec<TenantShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Files {
    pub summary: String,
    pub latency_log: String,
    pub timeseries: String,
}
