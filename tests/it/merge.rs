//! Scale-out: shards run as separate processes on one time grid, merged
//! exactly (`loadline merge`), and judged as one run (`gate` and `report`
//! given the shards). The exactness test compares one unsharded run with
//! three shards of the same profile and seed, interval by interval.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use loadline::results::{self, hlog, run::read_series, Summary};

use crate::support::*;

fn loadline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
}

const PROFILE: &str = "name: grid
target: {base_url: \"{BASE}\", connections: 4, timeout: 5s}
seed: 11
duration: 4s
warmup: 1s
load: {model: open, rate: 400/s, read_write: 80/20}
tenants: {count: 200, skew: {zipf: 1.1}, send_as: {header: X-Tenant-ID}}
endpoints:
  - {name: get_product, weight: 60, path: \"/t/{{tenant}}/products/{{p}}\", vars: {p: {uniform: [1, 100]}}}
  - {name: search, weight: 20, path: \"/t/{{tenant}}/search?q=x\"}
  - {name: create_order, weight: 20, method: POST, path: \"/t/{{tenant}}/orders\", body: '{}', expect: [201]}
";

/// A T0 `lead` from now, in Unix milliseconds.
fn t0_in(lead: Duration) -> String {
    let t = SystemTime::now() + lead;
    t.duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        .to_string()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run every shard of `count` as its own process, all on the grid of one T0.
fn run_shards(profile: &Path, dir: &Path, run_id: &str, count: u32) -> Vec<PathBuf> {
    let t0 = t0_in(Duration::from_millis(2500));
    let children: Vec<_> = (0..count)
        .map(|i| {
            let out = dir.join(format!("shard-{i}"));
            let child = loadline()
                .arg("run")
                .arg(profile)
                .args(["--workers", "1", "--start-at", &t0, "--run-id", run_id])
                .arg("--shard")
                .arg(format!("{i}/{count}"))
                .arg("--out")
                .arg(&out)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("loadline starts");
            (out, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(out, child)| {
            let child = child.wait_with_output().expect("loadline runs");
            assert!(child.status.success(), "{}", text(&child));
            out
        })
        .collect()
}

/// Per interval and tag, the interval log's histograms.
fn by_interval(path: &Path) -> BTreeMap<(u64, String), Histogram<u64>> {
    let mut out: BTreeMap<(u64, String), Histogram<u64>> = BTreeMap::new();
    for iv in hlog::read(path).expect("log reads") {
        let key = (iv.start.as_secs(), iv.tag.clone().unwrap_or_default());
        out.entry(key)
            .or_insert_with(results::new_hist)
            .add(&iv.hist)
            .expect("same layout");
    }
    out
}

/// One interval's second, intended, sent and never-sent counts.
type Counts = (u64, Option<u64>, Option<u64>, Option<u64>);

/// Per interval: (intended, sent, never sent) from the time series.
fn counts(dir: &Path) -> Vec<Counts> {
    read_series(&dir.join(results::TIMESERIES_FILE))
        .expect("series")
        .into_iter()
        .map(|r| (r.second, r.intended, r.sent, r.never_sent))
        .collect()
}

fn summary(dir: &Path) -> Summary {
    results::read_summary(dir).expect("summary")
}

/// The exactness test: one profile and seed as one shard and as three in separate
/// processes give, merged, the same intended and sent counts per interval and per
/// endpoint; the merged histograms equal the shards' samples recorded into one histogram,
/// bucket for bucket; and HdrHistogram's own reader finds the merged total in the log.
#[test]
fn three_shards_merge_into_exactly_the_unsharded_run() {
    let scratch = Scratch::new();
    let t = plain_target();
    let profile = scratch.write("grid.yaml", &PROFILE.replace("{BASE}", &t.base_url()));
    let one = run_shards(&profile, &scratch.path("one"), "grid-one", 1).remove(0);
    let shards = run_shards(&profile, &scratch.path("three"), "grid-three", 3);
    let merged = scratch.path("merged");
    let out = loadline()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .expect("merge runs");
    assert!(out.status.success(), "{}", text(&out));

    // Every shard says who it is, in its summary and its log's header.
    for (i, dir) in shards.iter().enumerate() {
        let s = summary(dir);
        let shard = s.run.shard.clone().expect("a shard");
        assert_eq!((shard.index, shard.count, shard.attempt), (i as u32, 3, 0));
        assert_eq!(s.run.run_id, "grid-three");
        assert!(s.profile.hash.starts_with("sha256:"), "{}", s.profile.hash);
        let log = std::fs::read_to_string(dir.join(results::LATENCY_LOG_FILE)).expect("log");
        let header = log
            .lines()
            .find(|l| l.starts_with("#[loadline run: "))
            .expect("identity line");
        for part in [
            "run_id=grid-three".to_string(),
            format!("shard={i}/3"),
            "attempt=0".into(),
            "seed=11".into(),
            format!("profile_hash={}", s.profile.hash),
            "histogram=us:1:3600000000:3".into(),
            format!("t0_unix_ms={}", s.run.t0_unix_ms),
            "interval_s=1".into(),
        ] {
            assert!(header.contains(&part), "{part} not in {header}");
        }
        let counts_line = log
            .lines()
            .find(|l| l.starts_with("#[loadline counts: "))
            .expect("counts line");
        assert!(
            counts_line.contains(&format!("sent={:020}", s.rate.sent_requests)),
            "{counts_line}"
        );
    }

    let (m, u) = (summary(&merged), summary(&one));
    let info = m.run.merged.clone().expect("merged info");
    assert_eq!((info.count, info.merged, info.partial), (3, vec![0, 1, 2], false));
    assert_eq!(
        m.schedule.dropped_requests, 0,
        "the target keeps up: every arrival is sent"
    );
    // Counts per interval and per endpoint are the unsharded run's.
    assert_eq!(counts(&merged), counts(&one));
    assert!(counts(&one).iter().all(|c| c.1.is_some() && c.1 == c.2));
    assert_eq!(m.rate.target_requests, u.rate.target_requests);
    assert_eq!(m.totals.requests, u.totals.requests);
    assert_eq!(m.read_write, u.read_write);
    // The shards' CPU-seconds add up; requests per CPU-second are over all of them.
    let cpu: f64 = shards
        .iter()
        .map(|d| summary(d).generator.expect("a shard's CPU").cpu_s)
        .sum();
    let g = m.generator.clone().expect("the merged CPU");
    assert!((g.cpu_s - cpu).abs() < 0.01, "{g:?} {cpu}");
    let done = (m.totals.requests + m.totals.warmup_requests) as f64;
    assert!(
        (g.requests_per_cpu_s - done / g.cpu_s).abs() <= 0.01 * done / g.cpu_s + 1.0,
        "{g:?}"
    );
    let per_endpoint = |s: &Summary| -> Vec<(String, u64, BTreeMap<String, u64>)> {
        s.endpoints
            .iter()
            .map(|e| {
                let outcomes = e.outcomes.iter().map(|(k, o)| (k.clone(), o.count)).collect();
                (e.name.clone(), e.requests, outcomes)
            })
            .collect()
    };
    assert_eq!(per_endpoint(&m), per_endpoint(&u));
    let per_interval = |log: &BTreeMap<(u64, String), Histogram<u64>>| -> Vec<((u64, String), u64)> {
        log.iter().map(|(k, h)| (k.clone(), h.len())).collect()
    };
    let merged_log = by_interval(&merged.join(results::LATENCY_LOG_FILE));
    assert_eq!(
        per_interval(&merged_log),
        per_interval(&by_interval(&one.join(results::LATENCY_LOG_FILE)))
    );

    // Bucket for bucket: the merged histograms are the shards' samples recorded into one.
    let mut recorded: BTreeMap<(u64, String), Histogram<u64>> = BTreeMap::new();
    for dir in &shards {
        for (key, h) in by_interval(&dir.join(results::LATENCY_LOG_FILE)) {
            let into = recorded.entry(key).or_insert_with(results::new_hist);
            for v in h.iter_recorded() {
                into.record_n(v.value_iterated_to(), v.count_at_value())
                    .expect("in range");
            }
        }
    }
    assert_eq!(recorded.len(), merged_log.len());
    for (key, h) in &recorded {
        let got = &merged_log[key];
        let buckets = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        };
        assert_eq!(buckets(got), buckets(h), "interval {key:?}");
    }

    // HdrHistogram's own log reader, not ours.
    let bytes = std::fs::read(merged.join(results::LATENCY_LOG_FILE)).expect("log");
    let mut de = hdrhistogram::serialization::Deserializer::new();
    let mut total = 0;
    for entry in hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&bytes) {
        if let hdrhistogram::serialization::interval_log::LogEntry::Interval(i) = entry.expect("entry") {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(i.encoded_histogram())
                .expect("base64");
            let h: Histogram<u64> = de.deserialize(&mut &raw[..]).expect("histogram");
            total += h.len();
        }
    }
    assert_eq!(total, m.totals.requests);
    assert!(total > 800, "{total}");

    // The gate given the shards judges the same run as the gate given the merged one.
    let verdict = |runs: &[PathBuf], name: &str| -> serde_json::Value {
        let json = scratch.path(name);
        let out = loadline()
            .arg("gate")
            .args(runs)
            .arg("--policy")
            .arg(root().join("profiles/gate.yaml"))
            .args(["--env", "dev", "--json"])
            .arg(&json)
            .output()
            .expect("gate runs");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(json).expect("verdict")).expect("JSON");
        v["run"]["dir"] = serde_json::Value::Null;
        v
    };
    assert_eq!(
        verdict(&shards, "shards.json"),
        verdict(std::slice::from_ref(&merged), "merged.json")
    );
    // Their parent directory works as well (how Kubernetes lays them out).
    assert_eq!(
        verdict(&[scratch.path("three")], "parent.json"),
        verdict(std::slice::from_ref(&merged), "merged.json")
    );
}

/// Shards that do not make one run are refused with exit 2, naming what is wrong;
/// `--allow-partial` merges what is there, marked partial, and the gate then calls
/// the passing checks inconclusive.
#[test]
fn merge_refuses_what_is_not_one_run() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text_p = PROFILE
        .replace("duration: 4s", "duration: 2s")
        .replace("400/s", "100/s");
    let profile = scratch.write("grid.yaml", &text_p.replace("{BASE}", &t.base_url()));
    let shards = run_shards(&profile, &scratch.path("three"), "grid-x", 3);
    let merge = |dirs: &[PathBuf], extra: &[&str]| {
        loadline()
            .arg("merge")
            .args(dirs)
            .args(["--out"])
            .arg(scratch.path("merged"))
            .args(extra)
            .output()
            .expect("merge runs")
    };
    let dup = merge(&[shards[0].clone(), shards[0].clone(), shards[1].clone()], &[]);
    assert_eq!(dup.status.code(), Some(2), "{}", text(&dup));
    assert!(text(&dup).contains("shard 0/3 appears twice"), "{}", text(&dup));

    let missing = merge(&shards[..2], &[]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("shard 2 of 3 missing"), "{}", text(&missing));
    assert!(!scratch.path("merged").join(results::SUMMARY_FILE).exists());

    // An unfinished shard (its files still .partial) is not a finished one.
    std::fs::remove_file(shards[2].join(results::SUMMARY_FILE)).expect("rm");
    std::fs::write(shards[2].join("latency.hlog.partial"), "").expect("partial");
    let unfinished = merge(&[scratch.path("three")], &[]);
    assert_eq!(unfinished.status.code(), Some(2), "{}", text(&unfinished));
    assert!(text(&unfinished).contains("did not finish"), "{}", text(&unfinished));

    let partial = merge(&[scratch.path("three")], &["--allow-partial"]);
    assert!(partial.status.success(), "{}", text(&partial));
    assert!(text(&partial).contains("partial"), "{}", text(&partial));
    let s = summary(&scratch.path("merged"));
    let info = s.run.merged.expect("merged");
    assert_eq!((info.merged, info.missing, info.partial), (vec![0, 1], vec![2], true));
    let gate = loadline()
        .arg("gate")
        .arg(scratch.path("merged"))
        .arg("--policy")
        .arg(root().join("profiles/gate.yaml"))
        .args(["--env", "dev"])
        .output()
        .expect("gate runs");
    assert!(text(&gate).contains("the run is partial"), "{}", text(&gate));
    assert!(text(&gate).contains("inconclusive"), "{}", text(&gate));
    let refused = loadline()
        .arg("gate")
        .arg(scratch.path("three"))
        .arg("--policy")
        .arg(root().join("profiles/gate.yaml"))
        .args(["--env", "dev"])
        .output()
        .expect("gate runs");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));

    // A shard of another run (another run id) does not belong.
    let other = run_shards(&profile, &scratch.path("other"), "grid-y", 3);
    let mixed = merge(&[shards[0].clone(), shards[1].clone(), other[2].clone()], &[]);
    assert_eq!(mixed.status.code(), Some(2), "{}", text(&mixed));
    assert!(text(&mixed).contains("run_id is grid-y"), "{}", text(&mixed));
}

/// `--start-at` in the past beyond the tolerance, a bad run id and `--shard auto/N`
/// without JOB_COMPLETION_INDEX are input errors; with it, the index is taken from it.
#[test]
fn start_and_shard_flags() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text_p = PROFILE.replace("duration: 4s", "duration: 2s").replace("400/s", "50/s");
    let profile = scratch.write("grid.yaml", &text_p.replace("{BASE}", &t.base_url()));
    let run = |args: &[&str], env: Option<&str>| {
        let mut c = loadline();
        c.arg("run")
            .arg(&profile)
            .arg("--out")
            .arg(scratch.path("out"))
            .args(args);
        c.env_remove("JOB_COMPLETION_INDEX");
        if let Some(i) = env {
            c.env("JOB_COMPLETION_INDEX", i);
        }
        c.output().expect("runs")
    };
    let past = run(&["--start-at", "2020-01-01T00:00:00Z"], None);
    assert_eq!(past.status.code(), Some(2), "{}", text(&past));
    assert!(text(&past).contains("in the past"), "{}", text(&past));
    let bad = run(&["--start-at", "tomorrow"], None);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let id = run(&["--run-id", "a/b"], None);
    assert_eq!(id.status.code(), Some(2), "{}", text(&id));
    let no_env = run(&["--shard", "auto/3"], None);
    assert_eq!(no_env.status.code(), Some(2), "{}", text(&no_env));
    assert!(text(&no_env).contains("JOB_COMPLETION_INDEX"), "{}", text(&no_env));
    let bad_env = run(&["--shard", "auto/3"], Some("3"));
    assert_eq!(bad_env.status.code(), Some(2), "{}", text(&bad_env));

    let t0 = t0_in(Duration::from_millis(1500));
    let ok = run(&["--shard", "auto/3", "--start-at", &t0], Some("1"));
    assert!(ok.status.success(), "{}", text(&ok));
    let s = summary(&scratch.path("out"));
    let shard = s.run.shard.expect("shard");
    assert_eq!((shard.index, shard.count), (1, 3));
    assert_eq!(s.run.t0_unix_ms.to_string(), t0);
    assert!(s.run.late_start_ms < 100, "{}", s.run.late_start_ms);
    assert!(
        s.run.run_id.starts_with("grid-") && s.run.run_id.len() > 20,
        "derived from the name, T0 and the hash: {}",
        s.run.run_id
    );
}
