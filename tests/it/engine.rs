//! The load engine against the sample service: rates, mix, skew, shapes,
//! stalls, errors by class, determinism.

use std::collections::BTreeMap;
use std::time::Duration;

use loadline::load::{self, RunOptions};
use loadline::results::{self, Outcome};
use loadline::sample::{Faults, TargetConfig};

use crate::support::*;

fn outcome(s: &results::Summary, o: Outcome) -> u64 {
    s.outcomes.get(o.name()).copied().unwrap_or(0)
}

/// Open model at 1000/s for 3 s: the achieved rate is within 2% of the
/// target, and the server saw every request.
#[test]
fn open_model_keeps_its_rate() {
    let scratch = Scratch::new();
    let t = plain_target();
    for arrivals in ["uniform", "poisson"] {
        t.reset_stats();
        let p = profile(&scratch, &simple("1000/s", "3s", arrivals), &t.base_url());
        let s = run(&scratch, p, 2).summary;
        // Uniform arrivals: exactly 1000/s. Poisson: the count is random, so
        // compare with what the schedule intended.
        if arrivals == "uniform" {
            assert!(
                (s.rate.achieved_per_s - 1000.0).abs() <= 20.0,
                "{arrivals}: {:?}",
                s.rate
            );
        }
        let ratio = s.rate.achieved_ratio.expect("open model has a ratio");
        assert!(ratio >= 0.98, "{arrivals}: {:?}", s.rate);
        assert!((s.rate.target_per_s.expect("target") - 1000.0).abs() < 1.0);
        assert_eq!(outcome(&s, Outcome::S2xx), s.totals.requests);
        assert_eq!(
            t.stats().total,
            s.totals.requests,
            "{arrivals}: the server saw every request"
        );
        // On a busy machine the generator may be short of CPU; it must then say why.
        assert_eq!(s.schedule.generator_saturated, s.schedule.saturation_reason.is_some());
        // What the load cost: CPU-seconds, their share, requests per CPU-second.
        let g = s.generator.as_ref().expect("the generator's CPU is measured");
        assert!(g.cpu_s > 0.0 && g.cpu_share > 0.0, "{g:?}");
        let done = (s.totals.requests + s.totals.warmup_requests) as f64;
        let per_cpu = done / g.cpu_s;
        assert!((g.requests_per_cpu_s - per_cpu).abs() <= 0.01 * per_cpu + 1.0, "{g:?}");
        let share = g.cpu_s / (s.run.elapsed_s * f64::from(s.run.workers));
        assert!((g.cpu_share - share).abs() < 0.01, "{g:?} {share}");
        if g.cpu_share >= loadline::results::summary::CPU_SATURATED {
            assert!(s.schedule.generator_saturated, "{:?}", s.schedule);
        }
    }
}

/// When the load cannot be delivered (here: one connection to a server
/// that takes 5 ms, so at most 200/s of the 600/s asked), nothing is dropped
/// silently: the run is marked saturated, says why, and counts what was
/// late and what was never sent.
#[test]
fn an_undeliverable_rate_is_reported_not_hidden() {
    let scratch = Scratch::new();
    let t = target(TargetConfig {
        latency: Duration::from_millis(5),
        ..TargetConfig::default()
    });
    let text = simple("600/s", "2s", "uniform").replace("connections: 16", "connections: 1");
    let s = run(&scratch, profile(&scratch, &text, &t.base_url()), 1).summary;
    let ratio = s.rate.achieved_ratio.expect("ratio");
    assert!(ratio < 0.6, "{:?}", s.rate);
    assert!(s.schedule.generator_saturated, "{:?}", s.schedule);
    let reason = s.schedule.saturation_reason.as_deref().expect("a reason");
    assert!(reason.contains("connections"), "{reason}");
    assert!(s.schedule.dropped_requests > 300, "{:?}", s.schedule);
    assert!(s.schedule.late_requests > 100, "{:?}", s.schedule);
    assert_eq!(
        s.rate.target_requests.expect("intended"),
        s.rate.sent_requests + s.schedule.dropped_requests,
        "intended = sent + never sent"
    );
    // Requests that waited for the connection are charged the wait.
    assert!(s.totals.latency_us.p50 > 100_000, "{:?}", s.totals.latency_us);
}

const MIX: &str = "name: mix
target: {base_url: \"{BASE}\", connections: 16}
seed: 5
duration: 3s
load: {model: open, rate: 2000/s, read_write: 80/20}
tenants: {count: 5000, skew: {zipf: 1.1}, id: \"t-{index:05}\", send_as: {header: X-Tenant-ID}}
endpoints:
  - {name: get_product, weight: 50, path: \"/t/{{tenant}}/products/{{p}}\", vars: {p: {uniform: [1, 100]}}}
  - {name: search, weight: 50, path: \"/t/{{tenant}}/search?q={{w}}\", vars: {w: {fake: word}}}
  - name: create_order
    weight: 50
    method: POST
    path: /t/{{tenant}}/orders
    headers: {Content-Type: application/json}
    body: '{\"email\": \"{{e}}\"}'
    vars: {e: {fake: safe_email}}
    expect: [201]
";

/// The endpoint mix and the read/write split match the profile (chi-square
/// on what the server counted), and tenants follow Zipf(1.1).
#[test]
fn mix_read_write_and_tenant_skew_match_the_profile() {
    let scratch = Scratch::new();
    let t = plain_target();
    let s = run(&scratch, profile(&scratch, MIX, &t.base_url()), 2).summary;
    let stats = t.stats();
    let n = stats.total as f64;
    assert!(n > 5000.0, "{n}");
    // 80/20 split over weights 50/50/50: reads 40% + 40%, writes 20%.
    let observed: Vec<f64> = ["products", "search", "orders"]
        .iter()
        .map(|r| *stats.routes.get(*r).unwrap_or(&0) as f64)
        .collect();
    let expected = [0.4 * n, 0.4 * n, 0.2 * n];
    let p = chi_square_p(&observed, &expected);
    assert!(p > 0.001, "mix {observed:?} vs {expected:?}: p = {p}");
    assert!((s.read_write.read_share - 0.8).abs() < 0.02, "{:?}", s.read_write);
    assert_eq!(s.totals.unexpected_status, 0, "orders answer 201 as expected");

    // Tenant skew: counts by rank, binned so every bin expects >= 5,
    // against Zipf(1.1) over 5000 tenants.
    let zipf: Vec<f64> = (1..=5000).map(|k| (k as f64).powf(-1.1)).collect();
    let norm: f64 = zipf.iter().sum();
    let count = |k: usize| *stats.tenants.get(&format!("t-{k:05}")).unwrap_or(&0) as f64;
    let mut obs = Vec::new();
    let mut exp = Vec::new();
    let (mut o, mut e) = (0.0, 0.0);
    for k in 1..=5000 {
        o += count(k);
        e += n * zipf[k - 1] / norm;
        if e >= 20.0 || k == 5000 {
            obs.push(o);
            exp.push(e);
            o = 0.0;
            e = 0.0;
        }
    }
    let p = chi_square_p(&obs, &exp);
    assert!(
        p > 0.001,
        "tenant counts do not fit Zipf(1.1): p = {p} over {} bins",
        obs.len()
    );
    // And the fit is specific: a flatter Zipf(0.8) is rejected.
    let flat: Vec<f64> = (1..=5000).map(|k| (k as f64).powf(-0.8)).collect();
    let fnorm: f64 = flat.iter().sum();
    let mut exp_flat = Vec::new();
    let mut acc = 0.0;
    let mut idx = 0;
    let mut e = 0.0;
    for k in 1..=5000 {
        acc += n * flat[k - 1] / fnorm;
        e += n * zipf[k - 1] / norm;
        if e >= 20.0 || k == 5000 {
            exp_flat.push(acc);
            acc = 0.0;
            e = 0.0;
            idx += 1;
        }
    }
    assert_eq!(idx, obs.len());
    assert!(chi_square_p(&obs, &exp_flat) < 1e-6, "Zipf(0.8) should not fit");
    let top = &s.tenants.as_ref().expect("tenants").top[0];
    assert_eq!(top.id, "t-00001");
}

/// The factor of a documented diurnal curve at run time `t` (seconds), an
/// independent restatement of the rule: each hourly value holds at the
/// middle of its hour, linear in between, wrapping around midnight.
fn diurnal(hourly: &[f64; 24], period: f64, t: f64) -> f64 {
    let h = (t / period * 24.0 - 0.5).rem_euclid(24.0);
    let i = h.floor() as usize;
    let w = h - h.floor();
    hourly[i] * (1.0 - w) + hourly[(i + 1) % 24] * w
}

/// A day compressed into 12 s: the per-second achieved rate follows the curve.
#[test]
fn diurnal_curve_is_followed_second_by_second() {
    let hourly = [
        0.2, 0.2, 0.2, 0.25, 0.3, 0.4, 0.55, 0.7, 0.85, 1.0, 1.0, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5, 0.4,
        0.3, 0.25, 0.2,
    ];
    let text = format!(
        "name: day
target: {{base_url: \"{{BASE}}\", connections: 16}}
seed: 3
duration: 12s
load:
  model: open
  rate: 1000/s
  arrivals: uniform
  shape: {{diurnal: {{period: 12s, hourly: {hourly:?}}}}}
endpoints: [{{name: root, weight: 1, path: /}}]
"
    );
    let scratch = Scratch::new();
    let t = plain_target();
    let report = run(&scratch, profile(&scratch, &text, &t.base_url()), 2);
    let mut rdr = csv::Reader::from_path(report.dir.join(results::TIMESERIES_FILE)).expect("timeseries");
    let mut seen = 0;
    for rec in rdr.records() {
        let rec = rec.expect("row");
        let sec: f64 = rec[0].parse().expect("second");
        if sec >= 12.0 {
            continue;
        }
        let achieved: f64 = rec[2].parse().expect("achieved");
        // Expected: the integral of 1000 * factor over the second.
        let expected: f64 = (0..100)
            .map(|i| 10.0 * diurnal(&hourly, 12.0, sec + (i as f64 + 0.5) / 100.0))
            .sum();
        assert!(
            (achieved - expected).abs() <= 0.05 * expected + 10.0,
            "second {sec}: achieved {achieved}, curve says {expected:.1}"
        );
        let target: f64 = rec[1].parse().expect("target");
        assert!(
            (target - expected).abs() <= 0.01 * expected + 1.0,
            "second {sec}: target column {target}"
        );
        seen += 1;
    }
    assert_eq!(seen, 12);
}

/// Ramp stages: 0 -> 1500/s over 2 s, then hold for 1 s.
#[test]
fn ramp_stages_shape_the_rate() {
    let text = "name: ramp
target: {base_url: \"{BASE}\", connections: 16}
seed: 3
load:
  model: open
  arrivals: uniform
  shape: {stages: [{to: 1500/s, over: 2s}, {hold: 1s}]}
endpoints: [{name: root, weight: 1, path: /}]
";
    let scratch = Scratch::new();
    let t = plain_target();
    let report = run(&scratch, profile(&scratch, text, &t.base_url()), 2);
    assert_eq!(
        report.summary.run.planned_duration_s, 3.0,
        "the stages give the duration"
    );
    let mut rdr = csv::Reader::from_path(report.dir.join(results::TIMESERIES_FILE)).expect("timeseries");
    let achieved: Vec<f64> = rdr
        .records()
        .map(|r| r.expect("row")[2].parse().expect("num"))
        .collect();
    for (sec, want) in [(0, 375.0), (1, 1125.0), (2, 1500.0)] {
        assert!(
            (achieved[sec] - want).abs() <= 0.03 * want + 5.0,
            "second {sec}: {} vs {want}",
            achieved[sec]
        );
    }
}

/// A 500 ms stall in the middle of an open-model run shows in p99, measured
/// from the intended send time; without the stall p99 stays small.
#[test]
fn a_stall_shows_in_p99_and_is_absent_without_it() {
    let scratch = Scratch::new();
    let t = plain_target();
    let p = profile(&scratch, &simple("1000/s", "4s", "uniform"), &t.base_url());
    let calm = run(&scratch, p.clone(), 2).summary;
    let stall = {
        let t2 = &t;
        std::thread::scope(|sc| {
            sc.spawn(|| {
                std::thread::sleep(Duration::from_millis(1800));
                t2.stall_now(Duration::from_millis(500));
            });
            let scratch2 = Scratch::new();
            run(&scratch2, p, 2).summary
        })
    };
    let (calm99, stall99) = (calm.totals.latency_us.p99, stall.totals.latency_us.p99);
    // About 12% of requests are delayed by up to 500 ms: p99 lands near 460 ms.
    assert!(stall99 >= 350_000, "p99 with the stall: {stall99} us");
    assert!(
        stall.totals.latency_us.max >= 450_000,
        "max {}",
        stall.totals.latency_us.max
    );
    assert!(calm99 < 50_000, "p99 without the stall: {calm99} us");
    assert_eq!(
        outcome(&stall, Outcome::S2xx),
        stall.totals.requests,
        "a stall delays, it does not fail"
    );
    assert!(
        stall.schedule.late_requests > 100,
        "the stalled requests were late: {:?}",
        stall.schedule
    );
}

/// Refused connections, timeouts and resets are counted by class, and the
/// run completes with its files.
#[test]
fn errors_are_counted_by_class() {
    let scratch = Scratch::new();
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let refused = run(
        &scratch,
        profile(
            &scratch,
            &simple("200/s", "1s", "uniform"),
            &format!("http://127.0.0.1:{port}"),
        ),
        1,
    );
    let s = &refused.summary;
    assert!(s.totals.requests > 150);
    assert_eq!(outcome(s, Outcome::Connect), s.totals.requests, "{:?}", s.outcomes);
    assert_eq!(s.errors_by_class["connect"], s.totals.requests);
    assert!(refused.dir.join(results::SUMMARY_FILE).is_file());

    let slow = target(TargetConfig {
        latency: Duration::from_millis(400),
        ..TargetConfig::default()
    });
    let text = simple("100/s", "1s", "uniform").replace("timeout: 2s", "timeout: 100ms");
    let s = run(&scratch, profile(&scratch, &text, &slow.base_url()), 1).summary;
    assert_eq!(outcome(&s, Outcome::Timeout), s.totals.requests, "{:?}", s.outcomes);
    assert!(s.totals.error_rate > 0.99);

    let resetting = plain_target();
    resetting
        .set_faults(Faults {
            reset_rate: 0.5,
            ..resetting.faults()
        })
        .expect("faults");
    let s = run(
        &scratch,
        profile(&scratch, &simple("300/s", "1s", "uniform"), &resetting.base_url()),
        1,
    )
    .summary;
    let resets = outcome(&s, Outcome::Reset);
    let ok = outcome(&s, Outcome::S2xx);
    assert!(resets > 50 && ok > 50, "{:?}", s.outcomes);
    assert_eq!(resets + ok, s.totals.requests, "{:?}", s.outcomes);
    assert_eq!(s.errors_by_class["reset"], resets);
}

/// Same seed: the same requests (endpoints, tenants, variables), whatever
/// the number of workers; another seed: other requests.
#[test]
fn same_seed_same_requests() {
    let plan_of = |seed: u64| {
        let scratch = Scratch::new();
        let p = profile(
            &scratch,
            &MIX.replace("seed: 5", &format!("seed: {seed}")),
            "http://127.0.0.1:9",
        );
        loadline::profile::RequestPlan::new(std::sync::Arc::new(p))
    };
    let render = |plan: &loadline::profile::RequestPlan| {
        let mut out = Vec::new();
        let mut buf = loadline::profile::RequestBuf::default();
        let wire = loadline::load::client::Wire::new(plan.profile());
        for i in 0..2000 {
            plan.render(i, &mut buf);
            wire.write_h1(&buf, &mut out);
        }
        out
    };
    assert_eq!(render(&plan_of(5)), render(&plan_of(5)));
    assert_ne!(render(&plan_of(5)), render(&plan_of(6)));

    // End to end: what the server receives does not depend on the workers.
    let scratch = Scratch::new();
    let t = plain_target();
    let mut seen: Vec<(BTreeMap<String, u64>, BTreeMap<String, u64>)> = Vec::new();
    for workers in [1, 2] {
        t.reset_stats();
        let text = MIX.replace("duration: 3s", "duration: 1s").replace("2000/s", "1000/s");
        run(&scratch, profile(&scratch, &text, &t.base_url()), workers);
        let st = t.stats();
        seen.push((st.tenants, st.routes));
    }
    assert_eq!(seen[0], seen[1]);
}

/// The closed model: users send, wait, think; the rate follows from the latency.
#[test]
fn closed_model_runs_users_with_think_time() {
    let text = "name: closed
target: {base_url: \"{BASE}\"}
seed: 2
duration: 2s
load: {model: closed, users: 4, think_time: 20ms}
endpoints: [{name: root, weight: 1, path: /}]
";
    let scratch = Scratch::new();
    let t = plain_target();
    let s = run(&scratch, profile(&scratch, text, &t.base_url()), 2).summary;
    // Each user: one request per ~20 ms (+ latency): at most 100 in 2 s.
    assert!(
        s.totals.requests > 150 && s.totals.requests <= 400,
        "{}",
        s.totals.requests
    );
    assert_eq!(s.profile.model, loadline::results::summary::Model::Closed);
    assert_eq!(s.rate.target_per_s, None);
    assert_eq!(
        t.stats().connections,
        4 + 1,
        "one connection per user, plus the protocol probe"
    );
}

/// HTTP/2 (h2c prior knowledge) and TLS with a custom CA (ALPN picks h2).
#[test]
fn http2_and_tls() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text = simple("300/s", "1s", "uniform").replace("timeout: 2s", "timeout: 2s, http: http2, streams: 4");
    let s = run(&scratch, profile(&scratch, &text, &t.base_url()), 1).summary;
    assert_eq!(outcome(&s, Outcome::S2xx), s.totals.requests, "{:?}", s.outcomes);
    assert!(s.totals.requests > 250);

    let tls = target(TargetConfig {
        tls: Some(loadline::sample::TlsMode::SelfSigned),
        ..TargetConfig::default()
    });
    let ca = scratch.write("ca.pem", &tls.ca_pem().expect("ca"));
    let with_ca = simple("200/s", "1s", "uniform").replace(
        "timeout: 2s",
        &format!("timeout: 2s, tls: {{ca_file: \"{}\"}}", ca.display()),
    );
    let s = run(&scratch, profile(&scratch, &with_ca, &tls.base_url()), 1).summary;
    assert_eq!(outcome(&s, Outcome::S2xx), s.totals.requests, "{:?}", s.outcomes);
    let insecure = simple("200/s", "1s", "uniform").replace("timeout: 2s", "timeout: 2s, tls: {verify: false}");
    let s = run(&scratch, profile(&scratch, &insecure, &tls.base_url()), 1).summary;
    assert_eq!(outcome(&s, Outcome::S2xx), s.totals.requests, "{:?}", s.outcomes);
    // Without the CA the certificate is not trusted: every request fails to connect.
    let s = run(
        &scratch,
        profile(&scratch, &simple("100/s", "1s", "uniform"), &tls.base_url()),
        1,
    )
    .summary;
    assert_eq!(outcome(&s, Outcome::Connect), s.totals.requests, "{:?}", s.outcomes);
}

/// Stopping early (what Ctrl-C does) still writes every file, marked interrupted.
#[test]
fn stopping_early_writes_everything_recorded() {
    let scratch = Scratch::new();
    let t = plain_target();
    let p = profile(&scratch, &simple("500/s", "30s", "uniform"), &t.base_url());
    let mut opts = RunOptions::new(scratch.path("out"));
    let stop = opts.stop.clone();
    opts.workers = Some(2);
    let started = std::time::Instant::now();
    let report = std::thread::scope(|sc| {
        sc.spawn(|| {
            std::thread::sleep(Duration::from_millis(1500));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        load::run(p, &opts).expect("run")
    });
    assert!(started.elapsed() < Duration::from_secs(6), "stopped promptly");
    let s = &report.summary;
    assert!(s.run.interrupted);
    assert!(s.totals.requests > 500, "{}", s.totals.requests);
    for f in [
        results::SUMMARY_FILE,
        results::LATENCY_LOG_FILE,
        results::TIMESERIES_FILE,
    ] {
        assert!(report.dir.join(f).is_file(), "{f}");
        assert!(!report.dir.join(format!("{f}.partial")).exists());
    }
}

/// `environment: prod` is refused unless allowed.
#[test]
fn prod_is_refused_without_allow_prod() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text = simple("50/s", "1s", "uniform").replace("timeout: 2s", "timeout: 2s, environment: prod");
    let p = profile(&scratch, &text, &t.base_url());
    let opts = RunOptions::new(scratch.path("out"));
    let err = load::run(p.clone(), &opts).expect_err("prod must be refused");
    assert!(err.to_string().contains("--allow-prod"), "{err}");
    assert_eq!(t.stats().total, 0, "not one request was sent");
    let mut allowed = RunOptions::new(scratch.path("out2"));
    allowed.allow_prod = true;
    assert!(load::run(p, &allowed).expect("allowed").summary.totals.requests > 0);
}

/// Invariant: the shards of a run together send exactly the requests of
/// the whole run (same endpoints, tenants and variables), each at its share
/// of the rate.
#[test]
fn shards_together_send_the_whole_run() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text = MIX.replace("duration: 3s", "duration: 1s").replace("2000/s", "600/s");
    let mut counts = Vec::new();
    for shard in [None, Some((0, 2)), Some((1, 2))] {
        t.reset_stats();
        let mut opts = RunOptions::new(scratch.path("out"));
        opts.shard = shard;
        opts.workers = Some(1);
        let s = load::run(profile(&scratch, &text, &t.base_url()), &opts)
            .expect("run")
            .summary;
        if shard.is_some() {
            let target = s.rate.target_per_s.expect("target");
            assert!((target - 300.0).abs() < 1.0, "each shard takes half the rate: {target}");
        }
        let st = t.stats();
        counts.push((st.tenants, st.routes));
    }
    let mut merged = counts[1].clone();
    for (k, v) in &counts[2].0 {
        *merged.0.entry(k.clone()).or_default() += v;
    }
    for (k, v) in &counts[2].1 {
        *merged.1.entry(k.clone()).or_default() += v;
    }
    assert_eq!(merged, counts[0]);
}
