//! The run's summary (`summary.json`, `schemas/summary.schema.json`), built once the
//! workers are done from the result writer's totals per endpoint and outcome and the
//! workers' own counts (schedule lag, dropped and late requests, tenants, reads and
//! writes). Every share and rate is rounded here, so the file reads the same however many
//! workers the run had.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::recorder::WorkerTotals;
use crate::profile::{Load, Profile};
use crate::results::hist::new_hist;
use crate::results::summary::*;
use crate::results::{
    ClientKey, LatencyStats, Outcome, SeriesKey, CLIENTS_LOG_FILE, LATENCY_LOG_FILE, SUMMARY_FILE, TIMESERIES_FILE,
};

/// Event-loop lag (p99) above which the generator is short of CPU. The
/// timer's own granularity is 1 ms, so anything near it is normal.
const LOOP_LAG_LIMIT_US: u64 = 10_000;

/// What the engine knows of the run beyond its recorded requests.
pub(super) struct SummaryContext {
    pub workers: u32,
    pub late_threshold: Duration,
    pub shard: Option<(u32, u32)>,
    pub attempt: u32,
    pub run_id: String,
    /// How late after T0 the workers were released.
    pub late_start: Duration,
    /// T0.
    pub start_wall: SystemTime,
    pub ended_wall: SystemTime,
    pub elapsed: Duration,
    /// The process's CPU time over `elapsed`.
    pub cpu: Duration,
    pub interrupted: bool,
}

/// CPU time (user and system, every thread) this process has used.
pub(super) fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// What the run cost: its CPU, the share of its workers' it was, and
/// requests per CPU-second. `None` when no CPU time was measured.
fn generator_info(s: &Summary, ctx: &SummaryContext) -> Option<GeneratorInfo> {
    let capacity = ctx.elapsed.as_secs_f64() * f64::from(ctx.workers.max(1));
    GeneratorInfo::new(ctx.cpu.as_secs_f64(), capacity, s.requests_completed())
}

/// The summary of a finished run.
pub(super) fn summarize(
    profile: &Profile,
    totals: &BTreeMap<SeriesKey, Histogram<u64>>,
    finals: &[WorkerTotals],
    ctx: SummaryContext,
) -> Summary {
    let b = Builder::new(profile, totals, finals, &ctx);
    let (rate, schedule) = b.rate_and_schedule();
    let read = b.sum(|f| f.read);
    let write = b.sum(|f| f.write);
    let clients = clients(profile, finals, b.all.len());
    let mut s = Summary {
        schema_version: SCHEMA_VERSION,
        loadline_version: env!("CARGO_PKG_VERSION").to_string(),
        profile: profile_info(profile),
        target: target_info(profile),
        run: b.run_info(),
        rate,
        schedule,
        totals: b.totals(),
        errors_by_class: errors_by_class(&b.outcomes),
        errors_by_kind: errors_by_kind(&b.kinds()),
        retried_stale: b.sum(|f| f.retried_stale),
        read_write: ReadWrite {
            read,
            write,
            read_share: share(read, read + write, 4),
        },
        endpoints: b.endpoints(),
        tenants: b.tenants(),
        outcomes: b.outcomes,
        files: Files {
            summary: SUMMARY_FILE.into(),
            latency_log: LATENCY_LOG_FILE.into(),
            timeseries: TIMESERIES_FILE.into(),
            clients_log: (!clients.is_empty()).then(|| CLIENTS_LOG_FILE.into()),
        },
        clients,
        histogram: HistogramLayout::default(),
        generator: None,
    };
    s.generator = generator_info(&s, &ctx);
    if let Some(g) = s
        .generator
        .as_ref()
        .filter(|g| s.rate.achieved_ratio.is_some() && g.cpu_share >= CPU_SATURATED)
    {
        let cpu = format!(
            "the generator used {:.0}% of the CPU its {} worker thread(s) could use ({:.2} CPU-s in {:.1} s): with so little to spare it cannot be trusted to keep the schedule",
            g.cpu_share * 100.0,
            ctx.workers,
            g.cpu_s,
            ctx.elapsed.as_secs_f64()
        );
        let sched = &mut s.schedule;
        sched.generator_saturated = true;
        sched.saturation_reason = Some(match sched.saturation_reason.take() {
            Some(r) => format!("{r}; {cpu}"),
            None => cpu,
        });
    }
    s
}

/// The client classes' latency over the run, per class and outcome, the
/// workers' histograms added (what `clients.hlog` holds).
pub(super) fn client_series(profile: &Profile, finals: &[WorkerTotals]) -> BTreeMap<ClientKey, Histogram<u64>> {
    let mut out: BTreeMap<ClientKey, Histogram<u64>> = BTreeMap::new();
    for f in finals {
        for (class, t) in profile.clients.iter().zip(&f.clients) {
            for (i, h) in t.latency.iter().enumerate() {
                if let (Some(h), Some(o)) = (h, Outcome::from_index(i)) {
                    let _ = out.entry((class.name.clone(), o)).or_insert_with(new_hist).add(h);
                }
            }
        }
    }
    out
}

/// The client classes' part: each class's histograms and counts, the
/// workers' added; `normal` is the normal requests measured.
fn clients(profile: &Profile, finals: &[WorkerTotals], normal: u64) -> Vec<ClientSummary> {
    let series = client_series(profile, finals);
    let parts: Vec<(BTreeMap<Outcome, Histogram<u64>>, ClientCounts)> = profile
        .clients
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let hists = series
                .iter()
                .filter(|((name, _), _)| *name == class.name)
                .map(|((_, o), h)| (*o, h.clone()))
                .collect();
            let mut counts = ClientCounts::default();
            for t in finals.iter().filter_map(|f| f.clients.get(c)) {
                counts.add(&ClientCounts {
                    abandoned: t.abandoned,
                    overflow: t.overflow,
                    unfinished: t.unfinished,
                    never_sent: t.never_sent,
                    warmup_requests: t.warmup_requests,
                    bytes_sent: t.bytes_sent,
                    bytes_received: t.bytes_received,
                    errors_by_kind: crate::results::summary::errors_by_kind(&t.kinds),
                });
            }
            (hists, counts)
        })
        .collect();
    ClientSummary::all(
        profile.clients.iter().map(|c| (&c.name, c.describe(), c.share)),
        &parts,
        normal,
    )
}

/// The profile part: name, seed, model.
fn profile_info(profile: &Profile) -> ProfileInfo {
    let (model, arrivals, users) = match &profile.load {
        Load::Open { arrivals, .. } => (Model::Open, Some(arrivals.name().to_string()), None),
        Load::Closed { users, .. } => (Model::Closed, None, Some(*users)),
    };
    ProfileInfo {
        name: profile.name.clone(),
        description: profile.description.clone(),
        source: profile.source.display().to_string(),
        hash: profile.hash.clone(),
        seed: profile.seed,
        model,
        arrivals,
        users,
        environment: profile.target.environment.map(|e| e.to_string()),
    }
}

/// The target part: where the load went and how.
fn target_info(profile: &Profile) -> TargetInfo {
    TargetInfo {
        base_url: profile.target.base.to_string(),
        http: profile.target.http.to_string(),
        connections: profile.target.connections,
        streams: profile.target.streams,
        timeout_ms: profile.target.timeout.as_millis() as u64,
    }
}

/// The run's recorded totals, with what every part of the summary derives from them.
struct Builder<'a> {
    profile: &'a Profile,
    totals: &'a BTreeMap<SeriesKey, Histogram<u64>>,
    finals: &'a [WorkerTotals],
    ctx: &'a SummaryContext,
    /// Every measured request, all endpoints and outcomes.
    all: Histogram<u64>,
    /// Requests per outcome name.
    outcomes: BTreeMap<String, u64>,
    /// The measured window: the planned duration (or the elapsed one, if interrupted)
    /// without the warm-up, seconds.
    measured_s: f64,
}

impl<'a> Builder<'a> {
    fn new(
        profile: &'a Profile,
        totals: &'a BTreeMap<SeriesKey, Histogram<u64>>,
        finals: &'a [WorkerTotals],
        ctx: &'a SummaryContext,
    ) -> Self {
        let mut all = new_hist();
        let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
        for ((_, o), h) in totals {
            let _ = all.add(h);
            *outcomes.entry(o.name().to_string()).or_default() += h.len();
        }
        let warmup = profile.warmup.as_secs_f64();
        let planned = profile.duration.as_secs_f64();
        let measured_s = if ctx.interrupted {
            (ctx.elapsed.as_secs_f64().min(planned) - warmup).max(0.0)
        } else {
            planned - warmup
        };
        Builder {
            profile,
            totals,
            finals,
            ctx,
            all,
            outcomes,
            measured_s,
        }
    }

    /// A count over the measured window, per second.
    fn per_s(&self, n: u64) -> f64 {
        if self.measured_s > 0.0 {
            round(n as f64 / self.measured_s, 2)
        } else {
            0.0
        }
    }

    /// One of the workers' counts, summed.
    fn sum(&self, f: fn(&WorkerTotals) -> u64) -> u64 {
        self.finals.iter().map(f).sum()
    }

    /// Failures per kind (by index), every worker's added.
    fn kinds(&self) -> [u64; crate::results::ErrorKind::COUNT] {
        let mut kinds = [0; crate::results::ErrorKind::COUNT];
        for f in self.finals {
            for (k, n) in kinds.iter_mut().zip(f.kinds) {
                *k += n;
            }
        }
        kinds
    }

    /// The run part: when, how long, on how many workers.
    fn run_info(&self) -> RunInfo {
        RunInfo {
            started_at: crate::dates::rfc3339(self.ctx.start_wall, 3),
            ended_at: crate::dates::rfc3339(self.ctx.ended_wall, 3),
            planned_duration_s: round(self.profile.duration.as_secs_f64(), 3),
            warmup_s: round(self.profile.warmup.as_secs_f64(), 3),
            elapsed_s: round(self.ctx.elapsed.as_secs_f64(), 3),
            measured_s: round(self.measured_s, 3),
            interrupted: self.ctx.interrupted,
            workers: self.ctx.workers,
            shard: self.ctx.shard.map(|(index, count)| ShardInfo {
                index,
                count,
                attempt: self.ctx.attempt,
            }),
            run_id: self.ctx.run_id.clone(),
            t0_unix_ms: self
                .ctx
                .start_wall
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            interval_s: 1.0,
            late_start_ms: self.ctx.late_start.as_millis() as u64,
            merged: None,
        }
    }

    /// The rate part (what was intended and what was sent) and the schedule part (how late
    /// requests went out, and why the schedule was not kept if it was not).
    fn rate_and_schedule(&self) -> (RateInfo, ScheduleInfo) {
        let shards = self.ctx.shard.map(|s| s.1).unwrap_or(1);
        let requests = self.all.len();
        let warmup = self.profile.warmup.as_secs_f64();
        let planned = self.profile.duration.as_secs_f64();
        let mut lag = new_hist();
        let mut loop_lag = new_hist();
        let mut send_lag = new_hist();
        for f in self.finals {
            let _ = lag.add(&f.lag);
            let _ = loop_lag.add(&f.loop_lag);
            let _ = send_lag.add(&f.send_lag);
        }
        let intended = self.sum(|f| f.intended);
        let dropped = self.sum(|f| f.dropped);
        let late = self.sum(|f| f.late);
        let (target_per_s, peak, target_requests, ratio) = match &self.profile.load {
            Load::Open { shape, .. } => {
                // The normal clients' part: the client classes are counted on their own.
                let normal = self.profile.normal_share();
                let expected = shape.expected_count(warmup, planned) / f64::from(shards) * normal;
                let ratio = (intended > 0).then(|| round(requests as f64 / intended as f64, 4));
                (
                    Some(round(expected / (planned - warmup).max(1e-9), 2)),
                    Some(round(shape.peak(self.profile.duration) / f64::from(shards) * normal, 2)),
                    Some(intended),
                    ratio,
                )
            }
            Load::Closed { .. } => (None, None, None, None),
        };
        let loop_p99 = LagStats::of(&loop_lag).p99;
        let send_lag_us = LagStats::of(&send_lag);
        let send_p99 = (send_lag.len() >= SEND_LAG_MIN_REQUESTS).then_some(send_lag_us.p99);
        let reason = self.saturation_reason(loop_p99, send_p99, ratio, dropped, late);
        let rate = RateInfo {
            target_per_s,
            peak_target_per_s: peak,
            target_requests,
            sent_requests: requests,
            achieved_per_s: self.per_s(requests),
            achieved_ratio: ratio,
        };
        let schedule = ScheduleInfo {
            lag_us: LagStats::of(&lag),
            send_lag_us,
            late_requests: late,
            late_threshold_ms: self.ctx.late_threshold.as_millis() as u64,
            dropped_requests: dropped,
            loop_lag_p99_us: loop_p99,
            generator_saturated: reason.is_some(),
            saturation_reason: reason,
            lag_histogram: Some(crate::results::hist::encode(&lag)),
            loop_lag_histogram: Some(crate::results::hist::encode(&loop_lag)),
            send_lag_histogram: Some(crate::results::hist::encode(&send_lag)),
        };
        (rate, schedule)
    }

    /// Why the schedule was not kept, if it was not: the generator's own CPU or timer, or
    /// too few connections for what the target's latency allows.
    fn saturation_reason(
        &self,
        loop_p99: u64,
        send_p99: Option<u64>,
        ratio: Option<f64>,
        dropped: u64,
        late: u64,
    ) -> Option<String> {
        let mut reasons = Vec::new();
        if loop_p99 > LOOP_LAG_LIMIT_US {
            reasons.push(format!(
                "the generator's event loop ran {} late (p99): it was short of CPU, so requests went out later than intended (see schedule.lag_us) and latencies include that delay",
                crate::results::fmt_us(loop_p99)
            ));
        }
        if let Some(send_p99) = send_p99.filter(|p| *p > SEND_LAG_LIMIT_US) {
            reasons.push(format!(
                "requests went out {} after their instants (p99) although a connection was free and waiting for each (schedule.send_lag_us; the limit is {}): the generator's timer or event loop could not keep the schedule",
                crate::results::fmt_us(send_p99),
                crate::results::fmt_us(SEND_LAG_LIMIT_US)
            ));
        }
        if let Some(r) = ratio.filter(|r| !self.ctx.interrupted && *r < 0.99) {
            reasons.push(format!(
                "only {:.1}% of the intended requests were sent ({dropped} never sent, {late} late): every connection was busy; raise target.connections if the target can take more",
                r * 100.0
            ));
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Unexpected statuses per endpoint, summed over the workers.
    fn unexpected(&self) -> Vec<u64> {
        (0..self.profile.endpoints.len())
            .map(|i| {
                self.finals
                    .iter()
                    .map(|f| f.unexpected.get(i).copied().unwrap_or(0))
                    .sum()
            })
            .collect()
    }

    /// The totals part: all measured requests.
    fn totals(&self) -> Totals {
        let requests = self.all.len();
        let errors: u64 = self
            .totals
            .iter()
            .filter(|((_, o), _)| o.is_error())
            .map(|(_, h)| h.len())
            .sum();
        Totals {
            requests,
            warmup_requests: self.sum(|f| f.warmup_requests),
            errors,
            error_rate: share(errors, requests, 6),
            unexpected_status: self.unexpected().iter().sum(),
            latency_us: LatencyStats::of(&self.all),
        }
    }

    /// The endpoints part: each endpoint's requests, errors and latency, per outcome.
    fn endpoints(&self) -> Vec<EndpointSummary> {
        let requests = self.all.len();
        let unexpected = self.unexpected();
        let mut out = Vec::new();
        for (i, e) in self.profile.endpoints.iter().enumerate() {
            let t = EndpointTotals::of(self.totals, i, &|n| self.per_s(n));
            let n = t.all.len();
            out.push(EndpointSummary {
                name: e.name.clone(),
                kind: e.kind.to_string(),
                method: e.method.to_string(),
                planned_share: round(e.share, 4),
                requests: n,
                share: share(n, requests, 4),
                rate_per_s: self.per_s(n),
                errors: t.errors,
                error_rate: share(t.errors, n, 6),
                unexpected_status: unexpected[i],
                latency_us: LatencyStats::of(&t.all),
                outcomes: t.outcomes,
            });
        }
        out
    }

    /// The tenants part: how many were seen, and the ten busiest.
    fn tenants(&self) -> Option<TenantSummary> {
        let t = self.profile.tenants.as_ref()?;
        let mut counts = vec![0u64; t.count as usize];
        for f in self.finals {
            for (c, v) in counts.iter_mut().zip(&f.tenants) {
                *c += v;
            }
        }
        let total: u64 = counts.iter().sum();
        let mut order: Vec<usize> = (0..counts.len()).filter(|i| counts[*i] > 0).collect();
        let seen = order.len() as u32;
        order.sort_by(|a, b| counts[*b].cmp(&counts[*a]).then(a.cmp(b)));
        Some(TenantSummary {
            count: t.count,
            seen,
            top: order
                .into_iter()
                .take(10)
                .map(|i| TenantShare {
                    id: t.id(i as u32 + 1),
                    requests: counts[i],
                    share: share(counts[i], total, 4),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::recorder::Recorder;
    use crate::profile::Overrides;
    use crate::results::hist::record;

    fn context() -> SummaryContext {
        SummaryContext {
            workers: 1,
            late_threshold: Duration::from_millis(10),
            shard: None,
            attempt: 1,
            run_id: "r".into(),
            late_start: Duration::ZERO,
            start_wall: SystemTime::UNIX_EPOCH,
            ended_wall: SystemTime::UNIX_EPOCH,
            elapsed: Duration::from_secs(2),
            cpu: Duration::from_millis(100),
            interrupted: false,
        }
    }

    /// An open run's generator counts as saturated when requests whose
    /// connection was free went out later than the stated limit (p99, over
    /// enough requests), and not for lag that waits for a free connection caused.
    #[test]
    fn send_lag_above_its_limit_marks_the_generator_saturated() {
        let text = "name: t\ntarget: {base_url: \"http://127.0.0.1:9\"}\nduration: 2s\nload: {model: open, rate: 100/s}\nendpoints: [{name: a, weight: 1, path: /}]\n";
        let profile = crate::profile::from_str(text, Path::new("t.yaml"), &Overrides::default()).unwrap();
        let summary_with = |n: u64, send_us: u64, wait_us: u64| {
            let mut totals = Recorder::new(1, 0).totals;
            totals.intended = 200;
            for _ in 0..n {
                record(&mut totals.lag, send_us);
                record(&mut totals.send_lag, send_us);
                record(&mut totals.lag, wait_us);
            }
            summarize(&profile, &BTreeMap::new(), &[totals], context()).schedule
        };
        let kept = summary_with(SEND_LAG_MIN_REQUESTS, 150, 400_000);
        assert_eq!(kept.send_lag_us.p99, 150, "{kept:?}");
        assert!(kept.lag_us.p99 >= 399_000, "{kept:?}");
        let reason = kept.saturation_reason.unwrap_or_default();
        assert!(!reason.contains("send_lag"), "{reason}");

        let late = summary_with(SEND_LAG_MIN_REQUESTS, SEND_LAG_LIMIT_US + 1_000, 0);
        assert!(late.generator_saturated, "{late:?}");
        let reason = late.saturation_reason.unwrap_or_default();
        assert!(
            reason.contains("schedule.send_lag_us") && reason.contains("3.00ms"),
            "{reason}"
        );

        // Too few requests for a p99: not judged, still reported.
        let few = summary_with(SEND_LAG_MIN_REQUESTS / 2 - 1, SEND_LAG_LIMIT_US + 1_000, 0);
        assert_eq!(few.send_lag_us.p99, late.send_lag_us.p99);
        let reason = few.saturation_reason.unwrap_or_default();
        assert!(!reason.contains("send_lag"), "{reason}");
    }
}
