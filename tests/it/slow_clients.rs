//! Slow and abandoning clients as a share of a profile (`clients:`): the
//! shares hold, each class is counted on its own and kept out of the
//! endpoints' histograms, abandons are not server errors, the run ends on
//! time, and shards merge the classes exactly.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use loadline::load::{self, RunOptions};
use loadline::results::{self, hlog, Outcome, Summary};
use loadline::sample::TargetConfig;

use crate::support::*;

/// 200/s for 3 s, uniform: 600 arrivals, 20% slow readers and 10% that hang
/// up after 20 ms on a server that takes 60 ms.
const PROFILE: &str = "name: slow-clients
target: {base_url: \"{BASE}\", connections: 16, timeout: 2s}
seed: 5
duration: 3s
load: {model: open, rate: 200/s, arrivals: uniform}
endpoints:
  - {name: root, weight: 1, path: /}
clients:
  slow_read: {share: 20%, read: {chunk: 8, every: 40ms}}
  gone: {share: 0.1, abandon_after: 20ms}
";

fn class<'a>(s: &'a Summary, name: &str) -> &'a results::summary::ClientSummary {
    s.clients
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("class {name} in {:?}", s.clients))
}

/// Requests in an interval log, every tag.
fn logged(path: &std::path::Path) -> u64 {
    hlog::read(path).expect("log").iter().map(|iv| iv.hist.len()).sum()
}

#[test]
fn slow_and_abandoning_clients_are_a_share_counted_apart() {
    let scratch = Scratch::new();
    let t = target(TargetConfig {
        latency: Duration::from_millis(60),
        ..TargetConfig::default()
    });
    let p = profile(&scratch, PROFILE, &t.base_url());
    let began = Instant::now();
    let report = run(&scratch, p, 2);
    let elapsed = began.elapsed();
    let s = &report.summary;
    // On time: 3 s and at most the 2 s grace for requests in flight, plus set-up.
    assert!(elapsed < Duration::from_millis(6500), "took {elapsed:?}");

    let slow = class(s, "slow_read");
    let gone = class(s, "gone");
    let arrivals = 600.0;
    for (c, want) in [(slow, 0.2), (gone, 0.1)] {
        let got = (c.requests + c.overflow + c.unfinished + c.never_sent) as f64 / arrivals;
        assert!(
            (got - want).abs() < 0.06,
            "{}: {got} of the arrivals, want {want}: {c:?}",
            c.name
        );
    }
    let normal = s.totals.requests as f64 / arrivals;
    assert!((normal - 0.7).abs() < 0.07, "normal share {normal}");

    // Slow readers read every response, slowly: 2xx, and slower than any normal request.
    assert_eq!(slow.outcomes.get("2xx").copied(), Some(slow.requests - slow.abandoned));
    assert_eq!(slow.abandoned, 0);
    assert!(slow.bytes_received > 0 && slow.bytes_sent > 0, "{slow:?}");
    assert!(
        slow.latency_us.min > s.totals.latency_us.max,
        "slow readers' fastest {} µs, normal slowest {} µs",
        slow.latency_us.min,
        s.totals.latency_us.max
    );
    // Abandoners hang up before the 60 ms response: abandoned, not errors.
    assert!(gone.requests > 0);
    assert_eq!(gone.abandoned, gone.requests, "{gone:?}");
    assert_eq!(gone.errors, 0);
    assert_eq!(
        s.totals.errors, 0,
        "abandons are not the server's errors: {:?}",
        s.outcomes
    );

    // The endpoints' log holds the normal requests only; the classes have their own.
    assert_eq!(logged(&report.dir.join(results::LATENCY_LOG_FILE)), s.totals.requests);
    let clients_log = report
        .dir
        .join(s.files.clients_log.as_deref().expect("clients log named"));
    assert_eq!(logged(&clients_log), slow.requests + gone.requests - gone.abandoned);
    // The rate is the normal clients': 70% of 200/s, all of it sent.
    assert!((s.rate.target_per_s.expect("open") - 140.0).abs() < 1.0, "{:?}", s.rate);
    assert!(!s.schedule.generator_saturated, "{:?}", s.schedule);

    // The summary still matches its schema, and the table has a line per class.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.dir.join("summary.json")).expect("summary"))
            .expect("JSON");
    assert_eq!(schema_errors("summary.schema.json", &json), Vec::<String>::new());
    let table = results::table::render(s, &report.dir);
    assert!(table.contains("slow_read") && table.contains("gone"), "{table}");
}

/// Adding classes changes no normal arrival's request: the same endpoints
/// and values come out for the arrivals that stay normal.
#[test]
fn classes_do_not_change_the_normal_requests() {
    use loadline::profile::{RequestBuf, RequestPlan};
    let scratch = Scratch::new();
    let mix = "endpoints:
  - {name: a, weight: 1, path: \"/a/{{n}}\", vars: {n: {uniform: [1, 1000000]}}}
  - {name: b, weight: 1, path: \"/b/{{n}}\", vars: {n: {uniform: [1, 1000000]}}}
";
    let head = simple("10/s", "1s", "uniform");
    let head = &head[..head.find("endpoints:").expect("endpoints")];
    let plain = profile(&scratch, &format!("{head}{mix}"), "http://127.0.0.1:1");
    let with = profile(
        &scratch,
        &format!("{head}{mix}clients:\n  slow: {{share: 30%, send: {{bytes_per_s: 100}}}}\n"),
        "http://127.0.0.1:1",
    );
    let (a, b) = (
        RequestPlan::new(std::sync::Arc::new(plain)),
        RequestPlan::new(std::sync::Arc::new(with)),
    );
    let (mut x, mut y) = (RequestBuf::default(), RequestBuf::default());
    let mut slow = 0;
    for i in 0..2000 {
        a.render(i, &mut x);
        b.render(i, &mut y);
        assert_eq!((x.endpoint, &x.path), (y.endpoint, &y.path), "request {i}");
        assert_eq!(a.client_class(i), None);
        slow += usize::from(b.client_class(i).is_some());
    }
    assert!((500..700).contains(&slow), "{slow} of 2000 slow");
}

/// A slow sender in the closed model: a share of each user's requests,
/// the user waiting for it like any other.
#[test]
fn closed_model_users_send_a_share_slowly() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text = "name: closed-slow
target: {base_url: \"{BASE}\", timeout: 2s}
seed: 3
duration: 2s
load: {model: closed, users: 4, think_time: 20ms}
endpoints:
  - {name: root, weight: 1, path: /}
clients:
  trickle: {share: 25%, send: {chunk: 10, every: 10ms}}
";
    let began = Instant::now();
    let s = run(&scratch, profile(&scratch, text, &t.base_url()), 1).summary;
    assert!(began.elapsed() < Duration::from_secs(5));
    let c = class(&s, "trickle");
    assert!(c.requests > 0 && s.totals.requests > 0, "{c:?}");
    let share = c.requests as f64 / (c.requests + s.totals.requests) as f64;
    assert!((0.1..0.45).contains(&share), "{share}");
    assert_eq!(c.outcomes.get(Outcome::S2xx.name()).copied(), Some(c.requests));
    assert_eq!(
        t.stats().total,
        s.totals.requests + c.requests,
        "the server saw every request"
    );
}

/// Two shards on one grid merge into the classes' exact sums.
#[test]
fn shards_merge_the_classes_exactly() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text = PROFILE
        .replace("duration: 3s", "duration: 2s")
        .replace("every: 40ms", "every: 5ms");
    let t0 = SystemTime::now() + Duration::from_millis(1500);
    let dirs: Vec<PathBuf> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2u32)
            .map(|i| {
                let p = profile(&scratch, &text, &t.base_url());
                let mut opts = RunOptions::new(scratch.path(&format!("shard-{i}")));
                opts.workers = Some(1);
                opts.shard = Some((i, 2));
                opts.start_at = Some(t0);
                opts.run_id = Some("slow-merge".into());
                scope.spawn(move || load::run(p, &opts).unwrap_or_else(|e| panic!("shard {i}: {e}")).dir)
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("shard thread")).collect()
    });
    let shards: Vec<Summary> = dirs
        .iter()
        .map(|d| results::read_summary(d).expect("summary"))
        .collect();
    let merged = results::merge::merge(&dirs, &scratch.path("merged"), false).expect("merge");
    for name in ["slow_read", "gone"] {
        let m = class(&merged, name);
        let sum =
            |f: fn(&results::summary::ClientSummary) -> u64| shards.iter().map(|s| f(class(s, name))).sum::<u64>();
        assert_eq!(m.requests, sum(|c| c.requests), "{name}");
        assert_eq!(m.abandoned, sum(|c| c.abandoned), "{name}");
        assert_eq!(m.bytes_received, sum(|c| c.bytes_received), "{name}");
        assert_eq!(m.latency_us.count, sum(|c| c.latency_us.count), "{name}");
        assert!(m.requests > 0, "{name}: {m:?}");
    }
    let log = scratch.path("merged").join(results::CLIENTS_LOG_FILE);
    assert_eq!(
        logged(&log),
        shards
            .iter()
            .map(|s| s.clients.iter().map(|c| c.latency_us.count).sum::<u64>())
            .sum::<u64>()
    );
}

/// A class's failures are counted by kind, as the normal requests' are: a
/// class whose timeout is shorter than the server's answer times out
/// waiting for the head, and a server that answers with bytes that are not
/// HTTP is named so.
#[test]
fn a_class_counts_its_errors_by_kind() {
    for (config, want) in [
        (
            TargetConfig {
                latency: Duration::from_millis(60),
                ..TargetConfig::default()
            },
            "timeout_head",
        ),
        (
            TargetConfig {
                wire: loadline::sample::WireFaults {
                    garbage_rate: 1.0,
                    ..Default::default()
                },
                ..TargetConfig::default()
            },
            "non_http_reply",
        ),
    ] {
        let scratch = Scratch::new();
        let t = target(config);
        let text = "name: kinds
target: {base_url: \"{BASE}\", connections: 4, timeout: 2s}
seed: 5
duration: 1s
load: {model: open, rate: 100/s, arrivals: uniform}
endpoints:
  - {name: root, weight: 1, path: /}
clients:
  hasty: {share: 30%, read: {chunk: 4096, every: 1ms}, timeout: 20ms}
";
        let report = run(&scratch, profile(&scratch, text, &t.base_url()), 1);
        let c = class(&report.summary, "hasty");
        assert!(c.requests > 10, "{c:?}");
        assert_eq!(c.errors, c.requests, "{c:?}");
        assert_eq!(c.errors_by_kind.len(), 1, "{want}: {c:?}");
        assert_eq!(c.errors_by_kind.get(want).copied(), Some(c.errors), "{want}: {c:?}");
    }
}
