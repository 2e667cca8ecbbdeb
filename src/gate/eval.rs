//! Evaluating a policy on a run (and a baseline): every check to rows of
//! measured numbers, each row to an outcome, each check to the action its
//! environment takes. The decision rules are documented in the README
//! ("Promotion gate"); the tests in `tests/it/gate.rs` drive them with
//! real runs against the built-in target's faults.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::calibrate::Calibration;
use super::error::Error;
use super::format::{fmt_delta, fmt_pct, fmt_value};
use super::policy::{BurnWindow, Check, Endpoints, Environment, Metric, Policy, Quantile, Regression, Tolerance};
use super::stats::{self, Grid, Statistic};
use super::verdict::{
    action, worst, BootstrapInfo, CheckKind, CheckResult, Comparison, EnvRef, Limit, Op, Outcome, Row, RunRef, Unit,
    Verdict, SCHEMA_VERSION,
};
use crate::results::run::Run;
use crate::results::Outcome as Status;
use crate::values::seed::derive_seed;

/// The bootstrap's seed unless the user gives one.
pub const DEFAULT_SEED: u64 = 0x6c6f_6164_6c69_6e65;

/// What the gate needs besides the policy and the runs.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub env: &'a str,
    pub calibration: Option<&'a Calibration>,
    pub seed: u64,
    pub replicates: usize,
}

impl<'a> Options<'a> {
    pub fn new(env: &'a str) -> Options<'a> {
        Options {
            env,
            calibration: None,
            seed: DEFAULT_SEED,
            replicates: stats::REPLICATES,
        }
    }
}

/// The latency bounds of the policy's SLO checks: what [`Run::load`]
/// counts good requests against, per second.
pub fn slo_bounds(policy: &Policy) -> Vec<Duration> {
    let mut b: Vec<Duration> = policy
        .checks
        .iter()
        .filter_map(|c| match &c.metric {
            Metric::ErrorBudget { latency_le, .. } => Some(*latency_le),
            _ => None,
        })
        .collect();
    b.sort();
    b.dedup();
    b
}

/// Load a candidate (and a baseline) run for a policy.
pub fn load_runs(policy: &Policy, run: &Path, baseline: Option<&Path>) -> Result<(Run, Option<Run>), Error> {
    let bounds = slo_bounds(policy);
    let cand = Run::load(run, &bounds).map_err(|source| Error::Run {
        which: "candidate",
        source,
    })?;
    let base = baseline
        .map(|b| Run::load(b, &bounds))
        .transpose()
        .map_err(|source| Error::Run {
            which: "baseline",
            source,
        })?;
    Ok((cand, base))
}

fn run_ref(r: &Run) -> RunRef {
    RunRef {
        dir: r.dir.display().to_string(),
        profile: r.summary.profile.name.clone(),
        started_at: r.summary.run.started_at.clone(),
        measured_s: r.summary.run.measured_s,
        requests: r.summary.totals.requests,
    }
}

/// Judge `run` (against `baseline`) with `policy` for the environment in `opts`.
pub fn evaluate(policy: &Policy, run: &Run, baseline: Option<&Run>, opts: &Options) -> Result<Verdict, Error> {
    let p = policy.path.display().to_string();
    let env = policy
        .environments
        .get(opts.env)
        .ok_or_else(|| Error::UnknownEnvironment {
            policy: p.clone(),
            env: opts.env.to_string(),
            known: policy.environments.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
    let mut checks = Vec::new();
    if let Some(min) = env.min_soak {
        checks.push(finish(
            "soak".into(),
            CheckKind::Soak,
            None,
            false,
            vec![soak(run, min)],
            env,
        ));
    }
    let mut starved: Option<String> = None;
    for check in &policy.checks {
        let scopes = scopes(policy, check, run)?;
        let (kind, rows) = match &check.metric {
            Metric::Latency(qs) => (CheckKind::Latency, latency_rows(run, &scopes, qs)),
            Metric::ErrorRate { max, count_4xx } => (CheckKind::ErrorRate, error_rows(run, &scopes, *max, *count_4xx)),
            Metric::ErrorBudget {
                latency_le,
                target,
                burn,
            } => (
                CheckKind::ErrorBudget,
                budget_rows(run, &scopes, *latency_le, *target, burn),
            ),
            Metric::AchievedRate { min } => {
                let rows = achieved_rows(run, *min);
                if worst(&rows) == Outcome::Inconclusive {
                    starved = rows.iter().find_map(|r| r.note.clone());
                }
                (CheckKind::AchievedRate, rows)
            }
        };
        checks.push(finish(
            check.name.clone(),
            kind,
            Some(check.line),
            check.critical,
            rows,
            env,
        ));
    }
    if let Some(r) = regression_check(policy, run, baseline, opts)? {
        let mut c = finish("regression".into(), CheckKind::Regression, None, false, r, env);
        // A baseline that did not get its load is no yardstick either.
        let min = policy.checks.iter().find_map(|c| match c.metric {
            Metric::AchievedRate { min } => Some(min),
            _ => None,
        });
        if let (Some(min), Some(b)) = (min, baseline) {
            let rows = achieved_rows(b, min);
            if c.outcome == Outcome::Pass && worst(&rows) == Outcome::Inconclusive {
                c.outcome = Outcome::Inconclusive;
                c.action = action(env, Outcome::Inconclusive, false);
                c.reason = format!(
                    "passed, but the baseline run did not deliver its load: {}",
                    rows.iter().find_map(|r| r.note.clone()).unwrap_or_default()
                );
            }
        }
        checks.push(c);
    }
    if let Some(why) = starved {
        for c in checks
            .iter_mut()
            .filter(|c| !matches!(c.kind, CheckKind::AchievedRate | CheckKind::Soak))
        {
            if c.outcome == Outcome::Pass {
                c.outcome = Outcome::Inconclusive;
                c.action = action(env, Outcome::Inconclusive, c.critical);
                c.reason = format!("passed, but the run did not deliver its load: {why}");
            }
        }
    }
    let (decision, tally) = Verdict::decide(&checks);
    let bootstrap = baseline.map(|b| {
        let reg = policy.regression.clone().unwrap_or_else(default_regression);
        BootstrapInfo {
            replicates: opts.replicates,
            confidence: reg.confidence,
            candidate_block_s: run.block_len,
            baseline_block_s: b.block_len,
            tolerance_from: match (reg.tolerance, opts.calibration) {
                (Tolerance::FromCalibration, Some(c)) => c.source.clone(),
                _ => "policy".into(),
            },
        }
    });
    Ok(Verdict {
        schema_version: SCHEMA_VERSION,
        loadline_version: env!("CARGO_PKG_VERSION").to_string(),
        policy: p,
        environment: EnvRef::new(opts.env, env),
        run: run_ref(run),
        baseline: baseline.map(run_ref),
        decision,
        tally,
        checks,
        seed: opts.seed,
        bootstrap,
    })
}

fn finish(
    name: String,
    kind: CheckKind,
    line: Option<usize>,
    critical: bool,
    rows: Vec<Row>,
    env: &Environment,
) -> CheckResult {
    let mut rows = rows;
    for r in &mut rows {
        r.action = r.outcome.and_then(|o| action(env, o, critical));
    }
    let outcome = worst(&rows);
    let reason = reason(outcome, &rows);
    CheckResult {
        name,
        kind,
        line,
        critical,
        outcome,
        action: action(env, outcome, critical),
        reason,
        rows,
    }
}

/// One sentence for a check: the first row with the check's outcome.
fn reason(outcome: Outcome, rows: &[Row]) -> String {
    let deciding: Vec<&Row> = rows.iter().filter(|r| r.outcome == Some(outcome)).collect();
    let Some(first) = deciding.first() else {
        return "nothing to measure".into();
    };
    let more = if deciding.len() > 1 {
        format!(" (and {} more)", deciding.len() - 1)
    } else {
        String::new()
    };
    let what = if first.scope == "overall" {
        first.metric.clone()
    } else {
        format!("{} {}", first.scope, first.metric)
    };
    let detail = first
        .note
        .clone()
        .unwrap_or_else(|| match (first.observed, first.limit, first.comparison) {
            (Some(v), _, Some(c)) => format!(
                "{} against {}, {}",
                fmt_value(v, first.unit),
                fmt_value(c.baseline, first.unit),
                fmt_delta(&c)
            ),
            (Some(v), Some(l), None) => format!(
                "{} {} {}",
                fmt_value(v, first.unit),
                l.op.word(outcome == Outcome::Pass),
                fmt_value(l.value, first.unit)
            ),
            (Some(v), None, None) => fmt_value(v, first.unit),
            _ => String::new(),
        });
    format!("{what}: {detail}{more}")
}

/// A scope: what a row is about, and the endpoints it merges.
struct Scope {
    name: String,
    endpoints: Vec<usize>,
}

fn scopes(policy: &Policy, check: &Check, run: &Run) -> Result<Vec<Scope>, Error> {
    Ok(match &check.endpoints {
        Endpoints::Overall => vec![Scope {
            name: "overall".into(),
            endpoints: (0..run.endpoints.len()).collect(),
        }],
        Endpoints::Each => run
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| Scope {
                name: e.clone(),
                endpoints: vec![i],
            })
            .collect(),
        Endpoints::Named(names) => names
            .iter()
            .map(|n| {
                run.endpoint(n)
                    .map(|i| Scope {
                        name: n.clone(),
                        endpoints: vec![i],
                    })
                    .ok_or_else(|| Error::UnknownEndpoint {
                        at: format!("{}:{}", policy.path.display(), check.endpoints_line),
                        check: check.name.clone(),
                        endpoint: n.clone(),
                        run: format!("{} (its endpoints: {})", run.dir.display(), run.endpoints.join(", ")),
                    })
            })
            .collect::<Result<_, _>>()?,
    })
}

fn row(scope: &str, metric: impl Into<String>, unit: Unit) -> Row {
    Row {
        scope: scope.to_string(),
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

fn at_most(v: f64) -> Option<Limit> {
    Some(Limit {
        op: Op::AtMost,
        value: v,
    })
}

fn at_least(v: f64) -> Option<Limit> {
    Some(Limit {
        op: Op::AtLeast,
        value: v,
    })
}

fn soak(run: &Run, min: Duration) -> Row {
    let measured = run.summary.run.measured_s;
    let mut r = row("overall", "measured soak", Unit::Seconds);
    r.observed = Some(measured);
    r.limit = at_least(min.as_secs_f64());
    r.samples = run.summary.totals.requests;
    let short = measured + 1e-9 < min.as_secs_f64();
    r.outcome = Some(if short { Outcome::Fail } else { Outcome::Pass });
    if run.summary.run.interrupted {
        r.note = Some("the run was interrupted (Ctrl-C): only the recorded part counts".into());
    }
    r
}

fn latency_rows(run: &Run, scopes: &[Scope], qs: &[(Quantile, Duration)]) -> Vec<Row> {
    let mut rows = Vec::new();
    for s in scopes {
        let h = run.latency_of(&s.endpoints);
        let n = h.len();
        for (q, limit) in qs {
            let limit_us = limit.as_micros() as f64;
            let mut r = row(&s.name, q.name.clone(), Unit::Us);
            r.limit = at_most(limit_us);
            r.samples = n;
            if n == 0 {
                r.note = Some("no requests".into());
                rows.push(r);
                continue;
            }
            let v = h.value_at_quantile(q.fraction) as f64;
            r.observed = Some(v);
            r.outcome = Some(if v > limit_us {
                Outcome::Fail
            } else if stats::estimable(n, q.fraction) {
                Outcome::Pass
            } else {
                r.note = Some(format!(
                    "not enough samples: {n} requests, {} needs at least {}",
                    q.name,
                    stats::needed(q.fraction)
                ));
                Outcome::NoData
            });
            rows.push(r);
        }
    }
    rows
}

fn error_rows(run: &Run, scopes: &[Scope], max: f64, count_4xx: bool) -> Vec<Row> {
    scopes
        .iter()
        .map(|s| {
            let counts = run.counts_of(&s.endpoints);
            let total: u64 = counts.iter().sum();
            let counted = |o: Status| o.is_error() || (count_4xx && o == Status::S4xx);
            let errors: u64 = Status::ALL
                .iter()
                .filter(|o| counted(**o))
                .map(|o| counts[o.index()])
                .sum();
            let mut r = row(
                &s.name,
                if count_4xx {
                    "error rate (4xx too)"
                } else {
                    "error rate"
                },
                Unit::Fraction,
            );
            r.limit = at_most(max);
            r.samples = total;
            if total == 0 {
                r.note = Some("no requests".into());
                return r;
            }
            let rate = errors as f64 / total as f64;
            r.observed = Some(rate);
            let classes: Vec<String> = Status::ALL
                .iter()
                .filter(|o| counted(**o) && counts[o.index()] > 0)
                .map(|o| format!("{o} {}", counts[o.index()]))
                .collect();
            // A run too short to show the limit: with 1/max requests, one error is over it.
            let needed = if max > 0.0 { (1.0 / max).ceil() as u64 } else { 1 };
            r.outcome = Some(if rate > max {
                Outcome::Fail
            } else if total < needed {
                r.note = Some(format!(
                    "not enough samples: {total} requests cannot show a rate under {}; needs at least {needed}",
                    fmt_pct(max)
                ));
                Outcome::NoData
            } else {
                Outcome::Pass
            });
            if r.note.is_none() && !classes.is_empty() {
                r.note = Some(format!("{errors} of {total}: {}", classes.join(", ")));
            }
            r
        })
        .collect()
}

fn budget_rows(run: &Run, scopes: &[Scope], le: Duration, target: f64, burn: &[BurnWindow]) -> Vec<Row> {
    let le_us = u64::try_from(le.as_micros()).unwrap_or(u64::MAX);
    let b = run.bounds_us.iter().position(|&x| x == le_us);
    let budget = 1.0 - target;
    let mut rows = Vec::new();
    for s in scopes {
        // Per second from the first to the last second with data: requests and bad ones.
        let (first, last) = match (run.seconds.first(), run.seconds.last()) {
            (Some(f), Some(l)) => (f.index, l.index),
            _ => (0, 0),
        };
        let len = (last - first + 1) as usize;
        let (mut total, mut bad) = (vec![0u64; len], vec![0u64; len]);
        for sec in &run.seconds {
            let i = (sec.index - first) as usize;
            for &e in &s.endpoints {
                let n: u64 = sec.counts[e].iter().sum();
                let good = b.map_or(0, |b| sec.within[e][b]);
                total[i] += n;
                bad[i] += n - good.min(n);
            }
        }
        let n: u64 = total.iter().sum();
        let nbad: u64 = bad.iter().sum();
        let mut slo = row(
            &s.name,
            format!("good (<= {}, no error)", fmt_value(le_us as f64, Unit::Us)),
            Unit::Fraction,
        );
        slo.limit = at_least(target);
        slo.samples = n;
        let enough = stats::estimable(n, target);
        if n == 0 {
            slo.note = Some("no requests".into());
        } else {
            let good = 1.0 - nbad as f64 / n as f64;
            slo.observed = Some(good);
            let spent = nbad as f64 / (n as f64 * budget);
            slo.outcome = Some(if good < target {
                Outcome::Fail
            } else if enough {
                Outcome::Pass
            } else {
                Outcome::NoData
            });
            slo.note = Some(if enough || good < target {
                format!("{nbad} bad of {n}: {} of the error budget spent", fmt_pct(spent))
            } else {
                format!(
                    "not enough samples: {n} requests, a {} target needs at least {}",
                    fmt_pct(target),
                    stats::needed(target)
                )
            });
        }
        rows.push(slo);
        for w in burn {
            rows.push(burn_row(&s.name, w, &total, &bad, budget, enough));
        }
    }
    rows
}

/// Seconds in a duration, at least 1 (the interval log's resolution).
fn whole_secs(d: Duration) -> usize {
    (d.as_secs_f64().round() as usize).max(1)
}

/// The multiwindow burn-rate rule over sliding windows of per-second counts:
/// it fires at second `t` when both the long and the short window ending at
/// `t` burn the budget faster than `factor`. Windows longer than the soak
/// are scaled down together (same ratio) so the long one spans the soak.
/// Until a full long window has passed, the long window holds the soak so
/// far (so a soak no longer than the window is still evaluated every second).
fn burn_row(scope: &str, w: &BurnWindow, total: &[u64], bad: &[u64], budget: f64, enough: bool) -> Row {
    let soak = total.len().max(1);
    let (mut long, mut short) = (whole_secs(w.long), whole_secs(w.short));
    let mut scaled = String::new();
    if long > soak {
        let k = soak as f64 / w.long.as_secs_f64();
        long = soak;
        short = ((w.short.as_secs_f64() * k).round() as usize).clamp(1, soak);
        scaled = format!("windows scaled to the {}s soak: {long}s/{short}s; ", soak);
    }
    let name = format!(
        "burn {}/{} > {}",
        crate::units::Dur(w.long),
        crate::units::Dur(w.short),
        w.factor
    );
    let mut r = row(scope, name, Unit::Burn);
    r.limit = at_most(w.factor);
    r.samples = total.iter().sum();
    let prefix = |v: &[u64]| -> Vec<u64> {
        let mut p = vec![0u64; v.len() + 1];
        for (i, x) in v.iter().enumerate() {
            p[i + 1] = p[i] + x;
        }
        p
    };
    let (pt, pb) = (prefix(total), prefix(bad));
    let rate = |end: usize, len: usize| -> f64 {
        let start = end + 1 - len;
        let n = pt[end + 1] - pt[start];
        if n == 0 {
            0.0
        } else {
            (pb[end + 1] - pb[start]) as f64 / n as f64 / budget
        }
    };
    let mut worst_burn = 0f64;
    let mut fired: Vec<usize> = Vec::new();
    for end in short - 1..total.len() {
        let both = rate(end, long.min(end + 1)).min(rate(end, short));
        worst_burn = worst_burn.max(both);
        if both > w.factor {
            fired.push(end);
        }
    }
    r.observed = Some(worst_burn);
    r.outcome = Some(if !fired.is_empty() {
        Outcome::Fail
    } else if enough {
        Outcome::Pass
    } else {
        Outcome::NoData
    });
    let when = match (fired.first(), fired.last()) {
        (Some(a), Some(b)) => format!(
            "fired in {} windows, ending {}s to {}s into the soak",
            fired.len(),
            a + 1,
            b + 1
        ),
        _ => "never fired".into(),
    };
    r.note = Some(format!(
        "{scaled}{when}; the worst second's lesser burn {worst_burn:.2}x"
    ));
    r
}

fn achieved_rows(run: &Run, min: f64) -> Vec<Row> {
    let s = &run.summary;
    let mut r = row("overall", "achieved / target rate", Unit::Fraction);
    r.limit = at_least(min);
    r.samples = s.rate.sent_requests;
    match s.rate.achieved_ratio {
        None => r.note = Some("a closed-model run has no target rate".into()),
        Some(ratio) => {
            r.observed = Some(ratio);
            let reason = if ratio < min {
                Some(format!(
                    "achieved {} of the target rate ({} of {} intended requests), under {}",
                    fmt_pct(ratio),
                    s.rate.sent_requests,
                    s.rate.target_requests.unwrap_or(0),
                    fmt_pct(min)
                ))
            } else if s.schedule.generator_saturated {
                Some(format!(
                    "the generator was saturated: {}",
                    s.schedule
                        .saturation_reason
                        .as_deref()
                        .unwrap_or("it could not keep its schedule")
                ))
            } else {
                None
            };
            r.outcome = Some(if reason.is_some() {
                Outcome::Inconclusive
            } else {
                Outcome::Pass
            });
            r.note = reason;
        }
    }
    vec![r]
}

/// The tolerance for a metric (`p99`, `shape`).
fn tolerance(reg: &Regression, metric: &str, opts: &Options, policy: &Policy) -> Result<f64, Error> {
    match reg.tolerance {
        Tolerance::Relative(t) => Ok(t),
        Tolerance::FromCalibration => {
            let cal = opts.calibration.ok_or_else(|| Error::NeedsCalibration {
                policy: policy.path.display().to_string(),
            })?;
            cal.tolerance(metric).ok_or_else(|| Error::NotCalibrated {
                file: cal.source.clone(),
                metric: metric.to_string(),
                known: cal.noise.keys().cloned().collect::<Vec<_>>().join(", "),
            })
        }
    }
}

/// The regression settings when the policy has none: p50, p99, p99.9 within 5% at 95%.
pub fn default_regression() -> Regression {
    Regression {
        quantiles: ["p50", "p99", "p99.9"]
            .iter()
            .filter_map(|q| Quantile::parse(q))
            .collect(),
        tolerance: Tolerance::Relative(0.05),
        confidence: 0.95,
    }
}

/// What one replicate of the comparison measures: each quantile's relative
/// change, the spread's relative change, and Cliff's delta.
struct Compare {
    /// Ascending, p50 included.
    qs: Vec<f64>,
    median: usize,
    top: Option<usize>,
}

/// Relative change of `b` over `a`, capped at a factor of a million either
/// way so a replicate with a zero spread stays a finite number in JSON.
fn rel(b: f64, a: f64) -> f64 {
    const CAP: f64 = 1e6;
    if a == 0.0 {
        if b == 0.0 {
            0.0
        } else {
            CAP
        }
    } else {
        (b / a - 1.0).clamp(-CAP, CAP)
    }
}

impl Statistic for Compare {
    fn measure(&self, values: &[u64], a: &[u64], b: &[u64]) -> Option<Vec<f64>> {
        let qa = stats::quantiles(a, values, &self.qs)?;
        let qb = stats::quantiles(b, values, &self.qs)?;
        let mut out: Vec<f64> = qa.iter().zip(&qb).map(|(&x, &y)| rel(y as f64, x as f64)).collect();
        if let Some(t) = self.top {
            let sa = qa[t].saturating_sub(qa[self.median]) as f64;
            let sb = qb[t].saturating_sub(qb[self.median]) as f64;
            out.push(rel(sb, sa));
        }
        out.push(stats::rank_test(a, b)?.cliffs_delta);
        Some(out)
    }
}

/// Pass when the whole interval is within the tolerance, fail when it is
/// all beyond, otherwise inconclusive. Getting faster is never a failure.
fn judge(interval: Option<(f64, f64)>, tol: f64) -> Outcome {
    match interval {
        Some((lo, _)) if lo > tol => Outcome::Fail,
        Some((_, hi)) if hi <= tol => Outcome::Pass,
        Some(_) => Outcome::Inconclusive,
        None => Outcome::NoData,
    }
}

fn cliff_words(d: f64) -> &'static str {
    match d.abs() {
        x if x < 0.147 => "negligible",
        x if x < 0.33 => "small",
        x if x < 0.474 => "medium",
        _ => "large",
    }
}

fn regression_check(
    policy: &Policy,
    run: &Run,
    baseline: Option<&Run>,
    opts: &Options,
) -> Result<Option<Vec<Row>>, Error> {
    let reg = match (&policy.regression, baseline) {
        (Some(r), _) => r.clone(),
        (None, Some(_)) => default_regression(),
        (None, None) => return Ok(None),
    };
    let Some(base) = baseline else {
        let mut r = row("overall", "baseline comparison", Unit::Us);
        r.note = Some("no baseline run given (--baseline DIR)".into());
        return Ok(Some(vec![r]));
    };
    let mut tols = BTreeMap::new();
    for q in &reg.quantiles {
        tols.insert(q.name.clone(), tolerance(&reg, &q.name, opts, policy)?);
    }
    let shape_tol = tolerance(&reg, "shape", opts, policy)?;
    let mut scopes = vec![(
        "overall".to_string(),
        (0..run.endpoints.len()).collect::<Vec<_>>(),
        (0..base.endpoints.len()).collect::<Vec<_>>(),
    )];
    let mut rows = Vec::new();
    for (i, e) in run.endpoints.iter().enumerate() {
        match base.endpoint(e) {
            Some(j) => scopes.push((e.clone(), vec![i], vec![j])),
            None => {
                let mut r = row(e, "baseline comparison", Unit::Us);
                r.outcome = None;
                r.note = Some("not in the baseline run: nothing to compare".into());
                rows.push(r);
            }
        }
    }
    // Scopes are independent and seeded each on its own: one thread per
    // core, the same rows in the same order whatever the core count.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, scopes.len());
    let per_thread = scopes.len().div_ceil(threads);
    let compared: Vec<Vec<Row>> = std::thread::scope(|s| {
        let handles: Vec<_> = scopes
            .chunks(per_thread)
            .map(|chunk| {
                let (reg, tols) = (&reg, &tols);
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(name, ce, be)| compare_scope(name, run, ce, base, be, reg, tols, shape_tol, opts))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    rows.extend(compared.into_iter().flatten());
    Ok(Some(rows))
}

#[allow(clippy::too_many_arguments)]
fn compare_scope(
    scope: &str,
    run: &Run,
    cand_eps: &[usize],
    base: &Run,
    base_eps: &[usize],
    reg: &Regression,
    tols: &BTreeMap<String, f64>,
    shape_tol: f64,
    opts: &Options,
) -> Vec<Row> {
    let grid = Grid::new(&base.blocks_of(base_eps), &run.blocks_of(cand_eps));
    let (ta, tb) = (grid.total(&grid.a), grid.total(&grid.b));
    let (na, nb): (u64, u64) = (ta.iter().sum(), tb.iter().sum());
    let mut qs: Vec<f64> = reg.quantiles.iter().map(|q| q.fraction).collect();
    qs.push(0.5);
    qs.sort_by(f64::total_cmp);
    qs.dedup();
    let median = qs.iter().position(|&q| q == 0.5).unwrap_or(0);
    let enough_blocks = grid.a.len() >= stats::MIN_BLOCKS && grid.b.len() >= stats::MIN_BLOCKS;
    let ok = |q: f64| stats::estimable(na, q) && stats::estimable(nb, q) && enough_blocks;
    let top = (0..qs.len()).rev().find(|&i| qs[i] > 0.5 && ok(qs[i]));
    let stat = Compare {
        qs: qs.clone(),
        median,
        top,
    };
    let (pa, pb) = (
        stats::quantiles(&ta, &grid.values, &qs),
        stats::quantiles(&tb, &grid.values, &qs),
    );
    let boot = if na > 0 && nb > 0 && enough_blocks {
        Some(stats::bootstrap(
            &grid,
            &stat,
            opts.replicates,
            derive_seed(opts.seed, scope),
        ))
    } else {
        None
    };
    let ci = |k: usize| {
        boot.as_ref()
            .and_then(|b| b.samples.get(k))
            .and_then(|s| stats::interval(s, reg.confidence))
    };
    let short = |what: &str| -> String {
        if !enough_blocks {
            format!(
                "not enough samples: {} and {} blocks of {}s and {}s, a comparison needs {} in each run",
                grid.a.len(),
                grid.b.len(),
                base.block_len,
                run.block_len,
                stats::MIN_BLOCKS
            )
        } else {
            format!(
                "not enough samples: {na} and {nb} requests, {what} needs at least {} in each",
                what_needed(what, &qs, reg)
            )
        }
    };
    let mut rows = Vec::new();
    for q in &reg.quantiles {
        let k = qs.iter().position(|&x| x == q.fraction).unwrap_or(0);
        let mut r = row(scope, q.name.clone(), Unit::Us);
        r.samples = nb;
        let tol = tols.get(&q.name).copied().unwrap_or(0.05);
        if let (Some(pa), Some(pb)) = (&pa, &pb) {
            let (a, b) = (pa[k] as f64, pb[k] as f64);
            r.observed = Some(b);
            let interval = if ok(q.fraction) { ci(k) } else { None };
            r.comparison = Some(Comparison {
                baseline: a,
                delta: rel(b, a),
                interval: interval.map(|(l, h)| [l, h]),
                tolerance: Some(tol),
                p_value: None,
            });
            r.outcome = Some(judge(interval, tol));
            if interval.is_none() {
                r.note = Some(short(&q.name));
            }
        } else {
            r.note = Some("no requests in one of the runs".into());
        }
        rows.push(r);
    }
    // The shape: how far the tail sits from the median, relative to the baseline's.
    let top_name = top.map(|t| name_of(qs[t], reg));
    let mut r = row(
        scope,
        format!("spread p50..{}", top_name.as_deref().unwrap_or("tail")),
        Unit::Us,
    );
    r.samples = nb;
    match (top, &pa, &pb) {
        (Some(t), Some(pa), Some(pb)) => {
            let (sa, sb) = (
                pa[t].saturating_sub(pa[median]) as f64,
                pb[t].saturating_sub(pb[median]) as f64,
            );
            r.observed = Some(sb);
            if sa == 0.0 {
                r.note = Some("the baseline has no spread above its median: nothing to compare with".into());
            } else {
                let interval = ci(qs.len());
                r.comparison = Some(Comparison {
                    baseline: sa,
                    delta: rel(sb, sa),
                    interval: interval.map(|(l, h)| [l, h]),
                    tolerance: Some(shape_tol),
                    p_value: None,
                });
                r.outcome = Some(judge(interval, shape_tol));
            }
        }
        _ => r.note = Some(short("a tail quantile above p50")),
    }
    // A policy that compares no quantile above the median asks for no spread.
    if qs.iter().any(|&q| q > 0.5) {
        rows.push(r);
    }
    // The rank test: reported, never decisive on its own.
    let mut r = row(scope, "rank (Cliff's delta)", Unit::Effect);
    r.outcome = None;
    r.samples = nb;
    if let Some(t) = stats::rank_test(&ta, &tb) {
        r.observed = Some(t.cliffs_delta);
        let k = qs.len() + usize::from(top.is_some());
        r.comparison = Some(Comparison {
            baseline: 0.0,
            delta: t.cliffs_delta,
            interval: ci(k).map(|(l, h)| [l, h]),
            tolerance: None,
            p_value: Some(t.p_value),
        });
        r.note = Some(format!(
            "{} shift: a candidate request is slower than a baseline one {:.1}% of the time (p = {:.2e})",
            cliff_words(t.cliffs_delta),
            t.auc * 100.0,
            t.p_value
        ));
    } else {
        r.note = Some("no requests in one of the runs".into());
    }
    rows.push(r);
    rows
}

fn name_of(q: f64, reg: &Regression) -> String {
    reg.quantiles
        .iter()
        .find(|x| x.fraction == q)
        .map_or_else(|| "p50".to_string(), |x| x.name.clone())
}

fn what_needed(what: &str, qs: &[f64], reg: &Regression) -> u64 {
    reg.quantiles
        .iter()
        .find(|q| q.name == what)
        .map(|q| stats::needed(q.fraction))
        .unwrap_or_else(|| {
            qs.iter()
                .filter(|&&q| q > 0.5)
                .map(|&q| stats::needed(q))
                .min()
                .unwrap_or(20)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(long: u64, short: u64, factor: f64) -> BurnWindow {
        BurnWindow {
            long: Duration::from_secs(long),
            short: Duration::from_secs(short),
            factor,
        }
    }

    /// The multiwindow rule fires only when both windows burn too fast.
    #[test]
    fn burn_fires_when_both_windows_burn() {
        let total = [100u64; 10];
        let mut bad = [0u64; 10];
        // 20% bad in one second: the 1 s window burns 20x, the 4 s one 5x.
        bad[5] = 20;
        let r = burn_row("overall", &window(4, 1, 10.0), &total, &bad, 0.01, true);
        assert_eq!(r.outcome, Some(Outcome::Pass), "{r:?}");
        assert!((r.observed.expect("measured") - 5.0).abs() < 1e-9);
        // 50% bad: 12.5x over 4 s and 50x over 1 s.
        bad[5] = 50;
        let r = burn_row("overall", &window(4, 1, 10.0), &total, &bad, 0.01, true);
        assert_eq!(r.outcome, Some(Outcome::Fail));
        assert!(r.note.as_deref().unwrap_or("").contains("ending 6s to 6s"), "{r:?}");
        // Too few requests and nothing fired: no data, not a pass.
        bad[5] = 0;
        let r = burn_row("overall", &window(4, 1, 10.0), &total, &bad, 0.01, false);
        assert_eq!(r.outcome, Some(Outcome::NoData));
    }

    /// Windows longer than the soak shrink together to fit it.
    #[test]
    fn burn_windows_scale_to_the_soak() {
        let total = [100u64; 10];
        let mut bad = [0u64; 10];
        bad[0] = 100;
        let r = burn_row("overall", &window(3600, 300, 14.4), &total, &bad, 0.001, true);
        let note = r.note.clone().unwrap_or_default();
        assert!(note.starts_with("windows scaled to the 10s soak: 10s/1s"), "{note}");
        // At the first second the long window holds only that second: both burn 1000x.
        assert_eq!(r.outcome, Some(Outcome::Fail));
        assert!(note.contains("ending 1s to"), "{note}");
    }

    #[test]
    fn judging_an_interval_against_a_tolerance() {
        assert_eq!(judge(Some((0.06, 0.2)), 0.05), Outcome::Fail);
        assert_eq!(judge(Some((-0.3, 0.05)), 0.05), Outcome::Pass);
        assert_eq!(
            judge(Some((-0.3, -0.2)), 0.05),
            Outcome::Pass,
            "faster is never a failure"
        );
        assert_eq!(judge(Some((0.01, 0.08)), 0.05), Outcome::Inconclusive);
        assert_eq!(judge(None, 0.05), Outcome::NoData);
    }

    #[test]
    fn relative_change_of_zero() {
        assert_eq!(rel(5.0, 0.0), 1e6);
        assert_eq!(rel(0.0, 0.0), 0.0);
    }
}
