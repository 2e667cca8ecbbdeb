//! The promotion gate against real runs of the built-in target: each check
//! passes on a healthy run and fails on one made unhealthy on purpose
//! (added latency, errors, stalls, too few connections), the same run gets
//! observe / warn / block in dev / staging / prod, and the baseline
//! comparison never fails A/A runs but catches a 20% slowdown and a change
//! in the tail alone. The binary's exit codes and output files too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use loadline::gate::calibrate;
use loadline::gate::eval;
use loadline::gate::policy::{self, Action, Policy, Quantile};
use loadline::gate::verdict::{CheckKind, CheckResult, Decision, Op, Outcome, Scope, Verdict};
use loadline::gate::Options;
use loadline::results::run::{Run, Series};
use loadline::sample::TargetConfig;

use crate::support::*;

const POLICY: &str = "environments:
  dev:     {enforce: observe}
  staging: {enforce: warn,  min_soak: 2s}
  prod:    {enforce: block, min_soak: 2s, on_inconclusive: block, on_no_data: block}
  long:    {enforce: block, min_soak: 10m}
checks:
  - name: latency
    endpoints: \"*\"
    latency: {p99: 60ms}
  - name: orders
    endpoints: [create_order]
    latency: {p90: 60ms}
    critical: true
  - name: errors
    error_rate: {max: 1%}
  - name: budget
    slo: {latency_le: 150ms, target: 99%}
    burn_rate: {windows: [[1h, 5m, 14.4], [6h, 30m, 6]]}
  - name: kept up
    achieved_rate: {min: 95%}
";

/// Two endpoints, half the traffic each, 600/s for 4 s after a 1 s warm-up.
const TWO_ENDPOINTS: &str = "name: gate-test
target: {base_url: \"{BASE}\", connections: CONNS, timeout: 2s}
seed: 11
duration: 6s
warmup: 1s
load: {model: open, rate: 600/s, arrivals: poisson}
endpoints:
  - {name: list, weight: 1, path: /}
  - {name: create_order, weight: 1, method: POST, path: /t/t-1/orders, headers: {Content-Type: application/json}, body: '{\"product\": 1, \"qty\": 1}', expect: [201]}
";

fn policy_of(scratch: &Scratch, text: &str) -> Policy {
    let path = scratch.write("gate.yaml", text);
    policy::load(&path).unwrap_or_else(|e| panic!("policy: {e}"))
}

/// Run the two-endpoint profile against a target with `config`; results in `scratch/name`.
fn run_with(scratch: &Scratch, name: &str, config: TargetConfig, connections: u32) -> PathBuf {
    let t = target(config);
    let text = TWO_ENDPOINTS.replace("CONNS", &connections.to_string());
    let p = profile(scratch, &text, &t.base_url());
    let mut opts = loadline::load::RunOptions::new(scratch.path(name));
    opts.workers = Some(1);
    let report = loadline::load::run(p, &opts).unwrap_or_else(|e| panic!("run: {e}"));
    report.dir
}

/// [`run_with`] for a run whose checks must be judged on the service alone: a run whose
/// generator was saturated (a machine busy with other work, a debug build) makes every
/// passing check inconclusive, as it should, so it is made again, up to three times in all.
fn run_kept_up(scratch: &Scratch, policy: &Policy, name: &str, config: TargetConfig, connections: u32) -> PathBuf {
    let mut reasons = Vec::new();
    for attempt in 1..=3 {
        let name = if attempt == 1 {
            name.to_string()
        } else {
            format!("{name}-{attempt}")
        };
        let dir = run_with(scratch, &name, config.clone(), connections);
        let (run, _) = eval::load_runs(policy, &dir, None).expect("run loads");
        let s = &run.summary.schedule;
        if !s.generator_saturated {
            return dir;
        }
        reasons.push(s.saturation_reason.clone().unwrap_or_default());
    }
    panic!("{name}: the generator was saturated in all three runs: {reasons:?}");
}

fn judge(policy: &Policy, dir: &Path, env: &str) -> Verdict {
    let (run, _) = eval::load_runs(policy, dir, None).expect("run loads");
    eval::evaluate(policy, &run, None, &Options::new(env)).expect("judged")
}

fn check<'a>(v: &'a Verdict, name: &str) -> &'a CheckResult {
    v.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"))
}

fn outcomes(v: &Verdict) -> String {
    v.checks
        .iter()
        .map(|c| format!("{}={:?} ({})", c.name, c.outcome, c.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Each check type passes on a healthy run and fails on a run made
/// unhealthy with the target's faults; the same findings are observed in
/// dev, warned about in staging and block in prod.
#[test]
fn each_check_fails_on_its_fault_and_environments_decide_the_action() {
    let scratch = Scratch::new();
    let policy = policy_of(&scratch, POLICY);

    let healthy_dir = run_kept_up(&scratch, &policy, "healthy", TargetConfig::default(), 32);
    let healthy = judge(&policy, &healthy_dir, "prod");
    assert_eq!(healthy.decision, Decision::Promote, "{}", outcomes(&healthy));
    assert!(
        healthy.checks.iter().all(|c| c.outcome == Outcome::Pass),
        "{}",
        outcomes(&healthy)
    );
    assert_eq!(healthy.checks.len(), 6, "soak plus five checks");

    // Added latency: 80 ms on every response, under the SLO's 150 ms.
    let slow_dir = run_kept_up(
        &scratch,
        &policy,
        "slow",
        TargetConfig {
            latency: ms(80),
            ..TargetConfig::default()
        },
        128,
    );
    let slow = judge(&policy, &slow_dir, "staging");
    assert_eq!(check(&slow, "latency").outcome, Outcome::Fail, "{}", outcomes(&slow));
    assert_eq!(check(&slow, "orders").outcome, Outcome::Fail);
    assert_eq!(check(&slow, "errors").outcome, Outcome::Pass);
    assert_eq!(check(&slow, "budget").outcome, Outcome::Pass, "{}", outcomes(&slow));
    // A critical check blocks wherever the environment enforces anything.
    assert_eq!(check(&slow, "latency").action, Some(Action::Warn));
    assert_eq!(check(&slow, "orders").action, Some(Action::Block));
    assert_eq!(slow.decision, Decision::Block);
    assert_eq!(judge(&policy, &slow_dir, "dev").decision, Decision::Promote);

    // Errors: 5% answered 500.
    let errors_dir = run_kept_up(
        &scratch,
        &policy,
        "errors",
        TargetConfig {
            error_rate: 0.05,
            seed: 3,
            ..TargetConfig::default()
        },
        32,
    );
    let by_env: Vec<(Decision, Option<Action>)> = ["dev", "staging", "prod"]
        .iter()
        .map(|env| {
            let v = judge(&policy, &errors_dir, env);
            assert_eq!(check(&v, "errors").outcome, Outcome::Fail, "{}", outcomes(&v));
            assert_eq!(check(&v, "latency").outcome, Outcome::Pass, "{}", outcomes(&v));
            // 5% bad against a 1% budget: the SLO fails over the soak, though no
            // window burns faster than 14.4x.
            let budget = check(&v, "budget");
            assert_eq!(budget.outcome, Outcome::Fail);
            assert_eq!(budget.rows[0].outcome, Some(Outcome::Fail));
            assert!(budget.rows[1..].iter().all(|r| r.outcome == Some(Outcome::Pass)));
            (v.decision, check(&v, "errors").action)
        })
        .collect();
    assert_eq!(
        by_env,
        [
            (Decision::Promote, Some(Action::Observe)),
            (Decision::Warn, Some(Action::Warn)),
            (Decision::Block, Some(Action::Block)),
        ]
    );

    // Stalls: every response held for 800 ms every 2 s. The burn-rate
    // windows (scaled to the 4 s soak) fire.
    let stalled = judge(
        &policy,
        &run_with(
            &scratch,
            "stalled",
            TargetConfig {
                stall_every: Some(ms(2000)),
                stall_for: ms(800),
                ..TargetConfig::default()
            },
            256,
        ),
        "prod",
    );
    let budget = check(&stalled, "budget");
    assert_eq!(budget.outcome, Outcome::Fail, "{}", outcomes(&stalled));
    let burns: Vec<_> = budget.rows.iter().filter(|r| r.metric.starts_with("burn")).collect();
    assert_eq!(burns.len(), 2);
    for b in burns {
        assert_eq!(b.outcome, Some(Outcome::Fail), "{b:?}");
        assert!(b.note.as_deref().unwrap_or("").contains("scaled to the"), "{b:?}");
    }

    // Too few connections for the rate: the generator cannot deliver the
    // load, so the run is inconclusive rather than a pass.
    let starved = judge(
        &policy,
        &run_with(
            &scratch,
            "starved",
            TargetConfig {
                latency: ms(20),
                ..TargetConfig::default()
            },
            2,
        ),
        "prod",
    );
    assert_eq!(
        check(&starved, "kept up").outcome,
        Outcome::Inconclusive,
        "{}",
        outcomes(&starved)
    );
    assert!(
        starved
            .checks
            .iter()
            .all(|c| c.outcome != Outcome::Pass || c.kind == CheckKind::Soak),
        "no pass survives a run that did not deliver its load:\n{}",
        outcomes(&starved)
    );
    assert_eq!(starved.decision, Decision::Block);
    // Nor is a baseline that did not get its load a yardstick.
    let medians = policy::load(&scratch.write(
        "medians.yaml",
        &format!("{POLICY}regression: {{quantiles: [p50], tolerance: 5%, confidence: 95%}}\n"),
    ))
    .expect("policy");
    let (run, baseline) = eval::load_runs(&medians, &healthy_dir, Some(&slow_dir)).expect("runs load");
    let mut baseline = baseline.expect("baseline");
    let v = eval::evaluate(&medians, &run, Some(&baseline), &Options::new("prod")).expect("judged");
    assert_eq!(
        check(&v, "regression").outcome,
        Outcome::Pass,
        "faster than the 80 ms baseline"
    );
    // The same baseline, had it sent half of what its schedule intended.
    baseline.summary.rate.achieved_ratio = Some(0.5);
    let baseline = Some(baseline);
    let v = eval::evaluate(&medians, &run, baseline.as_ref(), &Options::new("prod")).expect("judged");
    let reg = check(&v, "regression");
    assert_eq!(reg.outcome, Outcome::Inconclusive, "{reg:#?}");
    assert!(
        reg.reason.contains("the baseline run did not deliver its load"),
        "{}",
        reg.reason
    );
    assert!(
        reg.rows.iter().all(|r| !r.metric.starts_with("spread")),
        "no tail quantile, no spread"
    );

    // The minimum soak, warm-up excluded.
    let long = judge(&policy, &healthy_dir, "long");
    let soak = check(&long, "soak");
    assert_eq!(soak.outcome, Outcome::Fail);
    assert_eq!(soak.rows[0].observed, Some(5.0));
    assert_eq!(long.decision, Decision::Block);

    cli_exit_codes_and_outputs(&scratch, &errors_dir);
}

fn loadline() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loadline"));
    c.env("NO_COLOR", "1");
    c
}

/// The binary on a real run: exit codes 0/1/2/3, the output files, and
/// the JSON against its schema.
fn cli_exit_codes_and_outputs(scratch: &Scratch, errors_dir: &Path) {
    let policy = scratch.path("gate.yaml");
    let gate = |env: &str, extra: &[&str]| {
        let o = loadline()
            .arg("gate")
            .arg(errors_dir)
            .arg("--policy")
            .arg(&policy)
            .args(["--env", env])
            .args(extra)
            .output()
            .expect("run loadline");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, _) = gate("dev", &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("decision: PROMOTE"), "{out}");
    let (code, out, err) = gate("staging", &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("decision: WARN") && err.contains("warns"), "{out}\n{err}");
    assert_eq!(gate("staging", &["--fail-on-warn"]).0, Some(3));
    let json = scratch.path("verdict.json");
    let junit = scratch.path("gate.xml");
    let md = scratch.path("verdict.md");
    let (code, out, _) = gate(
        "prod",
        &[
            "--json",
            json.to_str().expect("utf8"),
            "--junit",
            junit.to_str().expect("utf8"),
            "--markdown",
            md.to_str().expect("utf8"),
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("decision: BLOCK (exit 1)"), "{out}");

    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("JSON");
    assert_eq!(schema_errors("verdict.schema.json", &value), Vec::<String>::new());
    assert_eq!(value["decision"], "block");

    let xml = std::fs::read_to_string(&junit).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), value["checks"].as_array().map_or(0, Vec::len));
    assert!(cases
        .iter()
        .any(|c| c.attribute("name") == Some("errors") && c.children().any(|x| x.has_tag_name("failure"))));
    assert!(std::fs::read_to_string(&md)
        .expect("md")
        .contains("### loadline gate: **BLOCK** for `prod`"));

    // Could not judge: exit 2 with the reason.
    let (code, _, err) = gate("qa", &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no environment `qa`") && err.contains("dev, staging, prod, long"),
        "{err}"
    );
    let typo = scratch.write("typo.yaml", &POLICY.replace("[create_order]", "[create_ordr]"));
    let o = loadline()
        .arg("gate")
        .arg(errors_dir)
        .arg("--policy")
        .arg(&typo)
        .args(["--env", "dev"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("typo.yaml:11: key `endpoints` of check `orders`: `create_ordr` is not an endpoint of the run")
            && err.contains("its endpoints: list, create_order"),
        "{err}"
    );
    let o = loadline().args(["gate", "init"]).output().expect("run");
    assert_eq!(o.status.code(), Some(0));
    let init = scratch.write("init.yaml", &String::from_utf8_lossy(&o.stdout));
    let p = policy::load(&init).expect("gate init prints a valid policy");
    assert_eq!(p.environments.len(), 3);
}

/// One endpoint at 1500/s for 8 s: enough requests for p99.9.
const ONE_ENDPOINT: &str = "name: compare
target: {base_url: \"{BASE}\", connections: 256, timeout: 2s}
seed: 5
duration: 9s
warmup: 1s
load: {model: open, rate: 1500/s, arrivals: poisson}
endpoints:
  - {name: list, weight: 1, path: /}
";

const REGRESSION: &str = "environments:
  prod: {enforce: block}
checks:
  - name: errors
    error_rate: {max: 1%}
regression:
  quantiles: [p50, p99, p99.9]
  tolerance: TOLERANCE
  confidence: 95%
";

/// A run against a target that answers in `base` plus up to `base` more
/// (uniform), with the `tail` faults on top.
fn compare_run(scratch: &Scratch, name: &str, base: Duration, tail: TargetConfig) -> PathBuf {
    let t = target(TargetConfig {
        latency: base,
        latency_jitter: base,
        seed: 9,
        ..tail
    });
    let p = profile(scratch, ONE_ENDPOINT, &t.base_url());
    let mut opts = loadline::load::RunOptions::new(scratch.path(name));
    opts.workers = Some(1);
    loadline::load::run(p, &opts).unwrap_or_else(|e| panic!("run: {e}")).dir
}

fn regression(policy: &Policy, cand: &Path, base: &Path, opts: &Options) -> CheckResult {
    let (run, baseline) = eval::load_runs(policy, cand, Some(base)).expect("runs load");
    let v = eval::evaluate(policy, &run, baseline.as_ref(), opts).expect("judged");
    check(&v, "regression").clone()
}

fn row<'a>(c: &'a CheckResult, scope: &str, metric: &str) -> &'a loadline::gate::verdict::Row {
    c.rows
        .iter()
        .find(|r| r.scope.as_str() == scope && r.metric.starts_with(metric))
        .unwrap_or_else(|| panic!("no row {scope} {metric}: {:#?}", c.rows))
}

/// A/A runs are never judged a failure; 20% more latency is; a change in
/// the tail alone (p99.9 grows, the median stays) is caught by the
/// quantile and spread intervals while the rank test calls it negligible.
#[test]
fn baseline_comparison_tells_noise_from_regressions() {
    let scratch = Scratch::new();
    let policy = policy_of(&scratch, &REGRESSION.replace("TOLERANCE", "5%"));
    let opts = Options::new("prod");
    let base = compare_run(&scratch, "base", ms(40), TargetConfig::default());
    let again = compare_run(&scratch, "again", ms(40), TargetConfig::default());
    // 20% more: 48-96 ms instead of 40-80 ms.
    let slower = compare_run(&scratch, "slower", ms(48), TargetConfig::default());
    let tail = compare_run(
        &scratch,
        "tail",
        ms(40),
        TargetConfig {
            tail_rate: 0.005,
            tail_latency: ms(300),
            ..TargetConfig::default()
        },
    );

    let aa = regression(&policy, &again, &base, &opts);
    assert_ne!(aa.outcome, Outcome::Fail, "{:#?}", aa.rows);
    assert!(
        aa.rows.iter().all(|r| r.outcome != Some(Outcome::Fail)),
        "{:#?}",
        aa.rows
    );
    let p99_9 = row(&aa, "overall", "p99.9");
    assert!(
        p99_9.comparison.and_then(|c| c.interval).is_some(),
        "p99.9 is estimable: {p99_9:?}"
    );

    let slow = regression(&policy, &slower, &base, &opts);
    assert_eq!(slow.outcome, Outcome::Fail);
    for q in ["p50", "p99"] {
        let r = row(&slow, "overall", q);
        assert_eq!(r.outcome, Some(Outcome::Fail), "{r:?}");
        let c = r.comparison.expect("compared");
        assert!(c.delta > 0.12 && c.delta < 0.3, "{c:?}");
    }

    let t = regression(&policy, &tail, &base, &opts);
    assert_eq!(t.outcome, Outcome::Fail, "{:#?}", t.rows);
    assert_eq!(row(&t, "overall", "p99.9").outcome, Some(Outcome::Fail));
    assert_eq!(row(&t, "overall", "spread").outcome, Some(Outcome::Fail));
    assert_ne!(row(&t, "overall", "p50").outcome, Some(Outcome::Fail));
    let rank = row(&t, "overall", "rank").observed.expect("rank measured");
    assert!(rank.abs() < 0.147, "a tail change is a negligible rank shift: {rank}");

    // Deterministic: the same seed gives the same intervals.
    assert_eq!(regression(&policy, &tail, &base, &opts), t);

    // A noise floor from the A/A pair as the tolerance: still fails the slowdown.
    let runs: Vec<Run> = [&base, &again]
        .iter()
        .map(|d| Run::load(d, &[], Series::Read).expect("run"))
        .collect();
    let qs: Vec<Quantile> = ["p50", "p99", "p99.9"]
        .iter()
        .filter_map(|q| Quantile::parse(q))
        .collect();
    let cal = calibrate::calibrate(&runs, &qs).expect("calibrated");
    for q in ["p50", "p99", "p99.9", "shape"] {
        let t = cal.tolerance(q).unwrap_or_else(|| panic!("{q} calibrated: {cal:?}"));
        // How far two A/A runs drift depends on what else the machine does
        // (the rest of the suite runs alongside); the floor and finiteness hold.
        assert!((calibrate::MIN_TOLERANCE..1.0).contains(&t), "{q}: {t}");
    }
    let from_cal = policy_of(&scratch, &REGRESSION.replace("TOLERANCE", "from calibration"));
    let mut with_cal = Options::new("prod");
    assert!(matches!(
        eval::load_runs(&from_cal, &slower, Some(&base)).and_then(|(r, b)| eval::evaluate(
            &from_cal,
            &r,
            b.as_ref(),
            &with_cal
        )),
        Err(loadline::gate::Error::NeedsCalibration { .. })
    ));
    with_cal.calibration = Some(&cal);
    assert_eq!(regression(&from_cal, &slower, &base, &with_cal).outcome, Outcome::Fail);

    // The same through the binary: calibrate, then gate with the file.
    let cal_file = scratch.path("calibration.json");
    let o = loadline()
        .args(["gate", "calibrate"])
        .arg(&base)
        .arg(&again)
        .arg("--out")
        .arg(&cal_file)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("noise floor over 2 A/A runs (1 pairs)") && out.contains("p99.9"),
        "{out}"
    );
    let o = loadline()
        .arg("gate")
        .arg(&slower)
        .arg("--baseline")
        .arg(&base)
        .arg("--policy")
        .arg(scratch.path("gate.yaml"))
        .args(["--env", "prod", "--calibration"])
        .arg(&cal_file)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("regression: fail -> block"), "{out}");
}

/// A verdict with every kind of row, outcome and action, built by hand so
/// the snapshots below do not depend on timing.
fn sample_verdict() -> Verdict {
    use loadline::gate::verdict::{Comparison, EnvRef, Limit, Row, RunRef, Tally, Unit};
    let env = policy::from_str(
        "environments:\n  staging: {enforce: warn, min_soak: 15m, on_no_data: observe}\nchecks:\n  - {name: e, error_rate: {max: 1%}}\n",
        Path::new("gate.yaml"),
    )
    .expect("policy")
    .environments["staging"]
    .clone();
    let r = |scope: &str, metric: &str, unit: Unit, observed: f64, outcome: Option<Outcome>| Row {
        scope: match scope {
            "overall" => Scope::Overall,
            name => Scope::Endpoint(name.into()),
        },
        metric: metric.into(),
        unit,
        observed: Some(observed),
        limit: None,
        comparison: None,
        samples: 120_000,
        outcome,
        action: outcome.and_then(|o| loadline::gate::verdict::action(&env, o, false)),
        note: None,
    };
    let at_most = |v| {
        Some(Limit {
            op: Op::AtMost,
            value: v,
        })
    };
    let cmp = |baseline, delta, lo, hi, tol: Option<f64>| {
        Some(Comparison {
            baseline,
            delta,
            interval: Some([lo, hi]),
            tolerance: tol,
            p_value: None,
        })
    };
    let check = |name: &str, kind, line, critical, rows: Vec<Row>| {
        let outcome = loadline::gate::verdict::worst(&rows);
        CheckResult {
            name: name.into(),
            kind,
            line,
            critical,
            outcome,
            action: loadline::gate::verdict::action(&env, outcome, critical),
            reason: format!("{name}: {}", outcome.name()),
            rows,
        }
    };
    let checks = vec![
        check(
            "soak",
            CheckKind::Soak,
            None,
            false,
            vec![Row {
                limit: Some(Limit {
                    op: Op::AtLeast,
                    value: 900.0,
                }),
                ..r("overall", "measured soak", Unit::Seconds, 1800.0, Some(Outcome::Pass))
            }],
        ),
        check(
            "checkout latency",
            CheckKind::Latency,
            Some(14),
            true,
            vec![
                Row {
                    limit: at_most(400_000.0),
                    ..r("create_order", "p99", Unit::Us, 512_300.0, Some(Outcome::Fail))
                },
                Row {
                    limit: at_most(1_000_000.0),
                    note: Some("not enough samples: 4000 requests, p99.9 needs at least 10000".into()),
                    ..r("create_order", "p99.9", Unit::Us, 700_000.0, Some(Outcome::NoData))
                },
            ],
        ),
        check(
            "errors",
            CheckKind::ErrorRate,
            Some(21),
            false,
            vec![Row {
                limit: at_most(0.001),
                note: Some("7 of 120000: 5xx 5, timeout 2".into()),
                ..r(
                    "overall",
                    "error rate",
                    Unit::Fraction,
                    7.0 / 120_000.0,
                    Some(Outcome::Pass),
                )
            }],
        ),
        check(
            "error budget",
            CheckKind::ErrorBudget,
            Some(25),
            false,
            vec![
                Row {
                    limit: Some(Limit {
                        op: Op::AtLeast,
                        value: 0.999,
                    }),
                    ..r(
                        "overall",
                        "good (<= 300ms, no error)",
                        Unit::Fraction,
                        0.9996,
                        Some(Outcome::Pass),
                    )
                },
                Row {
                    limit: at_most(14.4),
                    note: Some("fired in 3 windows, ending 610s to 612s into the soak".into()),
                    ..r("overall", "burn 1h/5m > 14.4", Unit::Burn, 22.5, Some(Outcome::Fail))
                },
            ],
        ),
        check(
            "regression",
            CheckKind::Regression,
            None,
            false,
            vec![
                Row {
                    comparison: cmp(16_180.0, 0.181, 0.169, 0.192, Some(0.05)),
                    ..r("overall", "p50", Unit::Us, 19_100.0, Some(Outcome::Fail))
                },
                Row {
                    comparison: cmp(23_760.0, 0.021, -0.01, 0.07, Some(0.05)),
                    ..r("overall", "p99.9", Unit::Us, 24_260.0, Some(Outcome::Inconclusive))
                },
                Row {
                    comparison: Some(Comparison {
                        p_value: Some(1.2e-40),
                        ..cmp(0.0, 0.461, 0.445, 0.477, None).expect("some")
                    }),
                    note: Some("large shift".into()),
                    ..r("overall", "rank (Cliff's delta)", Unit::Effect, 0.461, None)
                },
            ],
        ),
    ];
    let (decision, tally) = Verdict::decide(&checks);
    assert_eq!(
        tally,
        Tally {
            pass: 2,
            fail: 3,
            inconclusive: 0,
            no_data: 0
        }
    );
    let run = |dir: &str| RunRef {
        dir: dir.into(),
        profile: "shop".into(),
        started_at: "2026-11-24T07:00:00Z".into(),
        measured_s: 1800.0,
        requests: 120_000,
    };
    Verdict {
        schema_version: loadline::gate::verdict::SCHEMA_VERSION,
        loadline_version: "test".into(),
        policy: "profiles/gate.yaml".into(),
        environment: EnvRef::new("staging", &env),
        run: run("results/cand"),
        baseline: Some(run("results/base")),
        decision,
        tally,
        checks,
        seed: 7,
        bootstrap: Some(loadline::gate::verdict::BootstrapInfo {
            replicates: 1000,
            confidence: 0.95,
            candidate_block_s: 12,
            baseline_block_s: 12,
            tolerance_from: "policy".into(),
        }),
    }
}

/// What people and CI read: the table, the Markdown and the JUnit, as snapshots;
/// the JSON of the same verdict against its schema.
#[test]
fn verdict_outputs_snapshots() {
    use loadline::gate::render;
    let v = sample_verdict();
    assert_eq!(v.decision, Decision::Block, "the critical check blocks in staging");
    insta::assert_snapshot!("gate_table", render::table(&v, false));
    insta::assert_snapshot!("gate_markdown", render::markdown(&v, true));
    let junit = render::junit(&v);
    roxmltree::Document::parse(&junit).expect("well-formed");
    insta::assert_snapshot!("gate_junit", junit);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/verdict.schema.json")).expect("schema"))
            .expect("JSON");
    let json = serde_json::to_value(&v).expect("serialises");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let problems: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}");
    // The schema is strict: a misspelled field is refused.
    let mut bad = json.clone();
    bad["checks"][0]["outcom"] = serde_json::json!("pass");
    assert!(!validator.is_valid(&bad));
}
