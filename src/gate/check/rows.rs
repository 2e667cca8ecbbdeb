//! What every check's rows are made of: the slice of the run a row is
//! about (the whole run or an endpoint), an empty row to fill, and the
//! limits a value is held to.

use super::super::verdict::{Limit, Op, Outcome, Row, Scope, Unit};

/// A slice of the run: the scope a row is about, and the endpoints it merges.
pub struct Slice {
    /// What the rows measured over this slice are about.
    pub scope: Scope,
    /// The run's endpoint indices whose requests the slice merges.
    pub endpoints: Vec<usize>,
}

/// An empty row of `metric` for `scope`: no data until a check fills it.
pub fn row(scope: Scope, metric: impl Into<String>, unit: Unit) -> Row {
    Row {
        scope,
        metric: metric.into(),
        unit,
        observed: None,
        limit: None,
        comparison: None,
        samples: 0,
        outcome: Some(Outcome::NoData),
        action: None,
        note: None,
    }
}

/// A limit the value must not exceed.
pub fn at_most(v: f64) -> Option<Limit> {
    Some(Limit {
        op: Op::AtMost,
        value: v,
    })
}

/// A limit the value must reach.
pub fn at_least(v: f64) -> Option<Limit> {
    Some(Limit {
        op: Op::AtLeast,
        value: v,
    })
}

/// The rows' building blocks, and a run built in memory (no files) that
/// every check's tests fill with the requests they need.
#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::results::hist::{new_hist, record};
    use crate::results::run::{Blocks, Run, Seconds};
    use crate::results::summary::{
        Files, HistogramLayout, LagStats, Model, ProfileInfo, RateInfo, ReadWrite, RunInfo, ScheduleInfo, Summary,
        TargetInfo, Totals,
    };
    use crate::results::{LatencyStats, Outcome as Status};

    /// A finished open-model run of `endpoints` that recorded nothing: 60 s
    /// measured, the target rate achieved, the generator keeping up.
    #[allow(clippy::too_many_lines)] // one Summary literal with every field spelled out
    pub(in crate::gate::check) fn empty_run(endpoints: &[&str]) -> Run {
        let summary = Summary {
            schema_version: 1,
            loadline_version: "test".into(),
            profile: ProfileInfo {
                name: "test".into(),
                description: None,
                source: "test.yaml".into(),
                hash: String::new(),
                seed: 1,
                model: Model::Open,
                arrivals: Some("poisson".into()),
                users: None,
                environment: None,
            },
            target: TargetInfo {
                base_url: "http://127.0.0.1:1".into(),
                http: "auto".into(),
                connections: 1,
                streams: 1,
                timeout_ms: 1000,
            },
            run: RunInfo {
                started_at: "2026-01-01T00:00:00Z".into(),
                ended_at: "2026-01-01T00:01:00Z".into(),
                planned_duration_s: 60.0,
                warmup_s: 0.0,
                elapsed_s: 60.0,
                measured_s: 60.0,
                interrupted: false,
                workers: 1,
                shard: None,
                run_id: "test".into(),
                t0_unix_ms: 1_767_225_600_000,
                interval_s: 1.0,
                late_start_ms: 0,
                merged: None,
            },
            rate: RateInfo {
                target_per_s: Some(100.0),
                peak_target_per_s: Some(100.0),
                target_requests: Some(6000),
                sent_requests: 6000,
                achieved_per_s: 100.0,
                achieved_ratio: Some(1.0),
            },
            schedule: ScheduleInfo {
                lag_us: LagStats { p50: 0, p99: 0, max: 0 },
                late_requests: 0,
                late_threshold_ms: 10,
                dropped_requests: 0,
                loop_lag_p99_us: 0,
                generator_saturated: false,
                saturation_reason: None,
                lag_histogram: None,
                loop_lag_histogram: None,
                send_lag_us: LagStats::default(),
                send_lag_histogram: None,
            },
            totals: Totals {
                requests: 6000,
                warmup_requests: 0,
                errors: 0,
                error_rate: 0.0,
                unexpected_status: 0,
                latency_us: LatencyStats::default(),
            },
            outcomes: BTreeMap::new(),
            errors_by_class: BTreeMap::new(),
            errors_by_kind: BTreeMap::new(),
            retried_stale: 0,
            generator: None,
            read_write: ReadWrite {
                read: 0,
                write: 0,
                read_share: 0.0,
            },
            endpoints: Vec::new(),
            tenants: None,
            clients: Vec::new(),
            files: Files {
                summary: "summary.json".into(),
                latency_log: "latency.hlog".into(),
                timeseries: "timeseries.csv".into(),
                clients_log: None,
            },
            histogram: HistogramLayout::default(),
        };
        Run {
            dir: PathBuf::from("test-run"),
            summary,
            endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
            latency: endpoints.iter().map(|_| new_hist()).collect(),
            overall: new_hist(),
            counts: vec![[0; Status::COUNT]; endpoints.len()],
            seconds: Seconds::new(endpoints.len(), 0),
            bounds_us: Vec::new(),
            block_len: 1,
            blocks: Blocks::default(),
            series: Vec::new(),
        }
    }

    /// `n` requests of endpoint `ep` with `status`, each taking `us`: in the
    /// run's merged histograms and counts (what the latency and error-rate
    /// checks read), not in its seconds.
    pub(in crate::gate::check) fn add(run: &mut Run, ep: usize, status: Status, us: u64, n: u64) {
        for _ in 0..n {
            record(&mut run.latency[ep], us);
            record(&mut run.overall, us);
        }
        run.counts[ep][status.index()] += n;
    }

    /// Seconds 0, 1, ... of a run for the budget check: per second and endpoint,
    /// `(requests, good)` where good means not an error and within `run.bounds_us[0]`.
    pub(in crate::gate::check) fn seconds_of(seconds: &[&[(u64, u64)]]) -> Seconds {
        let mut out = Seconds::new(seconds.first().map_or(0, |s| s.len()), 1);
        for (i, per_endpoint) in (0..).zip(seconds) {
            out.push(i);
            for (ep, &(n, good)) in per_endpoint.iter().enumerate() {
                out.add_to_last(ep, n, [good]);
            }
        }
        out
    }

    /// The whole run, merging `endpoints`.
    pub(in crate::gate::check) fn overall(endpoints: &[usize]) -> Slice {
        Slice {
            scope: Scope::Overall,
            endpoints: endpoints.to_vec(),
        }
    }

    /// One endpoint, `name`, at index `endpoint`.
    pub(in crate::gate::check) fn endpoint(name: &str, endpoint: usize) -> Slice {
        Slice {
            scope: Scope::Endpoint(name.into()),
            endpoints: vec![endpoint],
        }
    }

    /// A row starts with no data: a check that never fills it cannot pass by omission.
    #[test]
    fn an_empty_row_has_no_data_and_no_limit() {
        let r = row(Scope::Endpoint("checkout".into()), "p99", Unit::Us);
        assert_eq!(r.scope.as_str(), "checkout");
        assert_eq!(r.metric, "p99");
        assert_eq!(r.outcome, Some(Outcome::NoData));
        assert_eq!((r.observed, r.limit, r.samples), (None, None, 0));
        assert_eq!((r.comparison, r.action, r.note), (None, None, None));
    }

    #[test]
    fn limits_say_which_side_passes() {
        assert_eq!(
            at_most(0.5),
            Some(Limit {
                op: Op::AtMost,
                value: 0.5
            })
        );
        assert_eq!(
            at_least(0.5),
            Some(Limit {
                op: Op::AtLeast,
                value: 0.5
            })
        );
    }

    /// The in-memory run keeps the invariant the checks rely on: the overall histogram is
    /// the merge of the endpoints', and counts follow the requests added.
    #[test]
    fn the_test_run_merges_endpoints_like_a_loaded_run() {
        let mut run = empty_run(&["a", "b"]);
        add(&mut run, 0, Status::S2xx, 100, 3);
        add(&mut run, 1, Status::S5xx, 900, 2);
        assert_eq!(run.latency_of(&[0, 1]).len(), 5);
        assert_eq!(run.latency_of(&[1]).len(), 2);
        assert_eq!(run.counts_of(&[0, 1])[Status::S5xx.index()], 2);
        assert_eq!(run.counts_of(&[0])[Status::S2xx.index()], 3);
    }
}
