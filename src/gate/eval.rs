//! Evaluating a policy on a run (and a baseline): every check to rows of
//! measured numbers, each row to an outcome, each check to the action its
//! environment takes. The checks themselves are in `check/`, the baseline
//! comparison in `compare.rs`. The decision rules are documented in
//! docs/policy.md ("The decision rules"); the tests in `tests/it/gate.rs`
//! drive them with real runs against the built-in target's faults.

use std::path::Path;
use std::time::Duration;

use super::check::{achieved_rows, budget_rows, error_rows, latency_rows, soak, Slice};
use super::compare::{default_regression, regression_check};
use super::error::Error;
use super::format::{fmt_delta, fmt_value};
use super::policy::{Check, Endpoints, Environment, Metric, Policy, Tolerance};
use super::verdict::{
    action, worst, BootstrapInfo, CheckKind, CheckResult, EnvRef, Outcome, Row, RunRef, Scope, Verdict, SCHEMA_VERSION,
};
use crate::results::merge::load_run;
use crate::results::run::{Run, Series};

use super::options::Options;

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
    load_shards(policy, &[run.to_path_buf()], baseline, false)
}

/// Read the candidate from one run directory or the shards of one run
/// (merged with `loadline merge`'s checks; missing shards refused unless
/// `allow_partial`), and the baseline (one run, or the shards of one).
pub fn load_shards(
    policy: &Policy,
    runs: &[std::path::PathBuf],
    baseline: Option<&Path>,
    allow_partial: bool,
) -> Result<(Run, Option<Run>), Error> {
    let bounds = slo_bounds(policy);
    let cand = load_run(runs, &bounds, Series::Skip, allow_partial).map_err(|source| Error::Run {
        which: "candidate",
        source,
    })?;
    let base = baseline
        .map(|b| load_run(&[b.to_path_buf()], &bounds, Series::Skip, false))
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
        let (kind, rows) = check_rows(policy, check, run)?;
        if kind == CheckKind::AchievedRate && worst(&rows) == Outcome::Inconclusive {
            starved = rows.iter().find_map(|r| r.note.clone());
        }
        checks.push(finish(
            check.name.clone(),
            kind,
            Some(check.line),
            check.critical,
            rows,
            env,
        ));
    }
    if let Some(c) = regression(policy, run, baseline, opts, env)? {
        checks.push(c);
    }
    if let Some(why) = starved {
        starve(&mut checks, &why, env);
    }
    if let Some(m) = run.summary.run.merged.as_ref().filter(|m| m.partial) {
        partial(&mut checks, m, env);
    }
    let (decision, tally) = Verdict::decide(&checks);
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
        bootstrap: baseline.map(|b| bootstrap_info(policy, run, b, opts)),
    })
}

/// The rows of one of the policy's checks, per slice of the run.
fn check_rows(policy: &Policy, check: &Check, run: &Run) -> Result<(CheckKind, Vec<Row>), Error> {
    let slices = slices(policy, check, run)?;
    Ok(match &check.metric {
        Metric::Latency(qs) => (CheckKind::Latency, latency_rows(run, &slices, qs)),
        Metric::ErrorRate { max, count_4xx } => (CheckKind::ErrorRate, error_rows(run, &slices, *max, *count_4xx)),
        Metric::ErrorBudget {
            latency_le,
            target,
            burn,
        } => (
            CheckKind::ErrorBudget,
            budget_rows(run, &slices, *latency_le, *target, burn),
        ),
        Metric::AchievedRate { min } => (CheckKind::AchievedRate, achieved_rows(run, *min)),
    })
}

/// The baseline comparison, if the policy or a baseline asks for one. It passes only if the
/// baseline run delivered its load too: a baseline that did not is no yardstick.
fn regression(
    policy: &Policy,
    run: &Run,
    baseline: Option<&Run>,
    opts: &Options,
    env: &Environment,
) -> Result<Option<CheckResult>, Error> {
    let Some(r) = regression_check(policy, run, baseline, opts)? else {
        return Ok(None);
    };
    let mut c = finish("regression".into(), CheckKind::Regression, None, false, r, env);
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
    Ok(Some(c))
}

/// The run did not deliver its load (`why`): what passed is inconclusive, except the
/// achieved-rate and soak checks, which measure the delivery itself.
fn starve(checks: &mut [CheckResult], why: &str, env: &Environment) {
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

/// The run is a merge with shards missing: it carries only part of the load, so what
/// passed is inconclusive (the soak's length still stands).
fn partial(checks: &mut [CheckResult], m: &crate::results::summary::MergedInfo, env: &Environment) {
    let missing = m.missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    for c in checks.iter_mut().filter(|c| c.kind != CheckKind::Soak) {
        if c.outcome == Outcome::Pass {
            c.outcome = Outcome::Inconclusive;
            c.action = action(env, Outcome::Inconclusive, c.critical);
            c.reason = format!(
                "passed, but the run is partial: shard {missing} of {} missing, so it carried only part of the load",
                m.count
            );
        }
    }
}

/// How the baseline comparison was made, for the verdict.
fn bootstrap_info(policy: &Policy, run: &Run, baseline: &Run, opts: &Options) -> BootstrapInfo {
    let reg = policy.regression.clone().unwrap_or_else(default_regression);
    BootstrapInfo {
        replicates: opts.replicates,
        confidence: reg.confidence,
        candidate_block_s: run.block_len,
        baseline_block_s: baseline.block_len,
        tolerance_from: match (reg.tolerance, opts.calibration) {
            (Tolerance::FromCalibration, Some(c)) => c.source.clone(),
            _ => "policy".into(),
        },
    }
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
    let what = match &first.scope {
        Scope::Overall => first.metric.clone(),
        Scope::Endpoint(name) => format!("{name} {}", first.metric),
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

fn slices(policy: &Policy, check: &Check, run: &Run) -> Result<Vec<Slice>, Error> {
    Ok(match &check.endpoints {
        Endpoints::Overall => vec![Slice {
            scope: Scope::Overall,
            endpoints: (0..run.endpoints.len()).collect(),
        }],
        Endpoints::Each => run
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| Slice {
                scope: Scope::Endpoint(e.clone()),
                endpoints: vec![i],
            })
            .collect(),
        Endpoints::Named(names) => names
            .iter()
            .map(|n| {
                run.endpoint(n)
                    .map(|i| Slice {
                        scope: Scope::Endpoint(n.clone()),
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
