//! How long the gate takes on a long soak, without running one: write a
//! run directory of `SECONDS` one-second intervals (three endpoints, about
//! `RATE` requests per second with a log-normal latency) using a real
//! run's summary as the template, then load it and judge it against itself
//! as the baseline with `profiles/gate.yaml`, timing each step.
//!
//!   cargo run --release -p loadline-baselines --bin gate_long_soak -- TEMPLATE_RUN OUT_DIR SECONDS RATE
//!
//! Used by BENCHMARKS.md ("Gate on long soaks").

// A benchmark tool: its result line goes to stderr, beside the output it measures.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use loadline::gate::{eval, policy};
use loadline::results::hist::{new_hist, record};
use loadline::results::run::{Run, Series};
use loadline::results::writer::LogHeader;
use loadline::results::{read_summary, IntervalData, Outcome, ResultWriter};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, template, out, seconds, rate] = args.as_slice() else {
        return Err("usage: gate_long_soak TEMPLATE_RUN OUT_DIR SECONDS RATE".into());
    };
    let seconds: u64 = seconds.parse()?;
    let rate: u64 = rate.parse()?;
    let out = Path::new(out);
    let mut summary = read_summary(Path::new(template))?;
    let endpoints: Vec<String> = summary.endpoints.iter().map(|e| e.name.clone()).collect();

    let started = Instant::now();
    let header = LogHeader {
        title: "synthetic long soak".into(),
        run_id: summary.run.run_id.clone(),
        shard: None,
        attempt: 0,
        seed: summary.profile.seed,
        profile_hash: summary.profile.hash.clone(),
        t0: SystemTime::now(),
        interval: Duration::from_secs(1),
    };
    let mut writer = ResultWriter::create(out, &header, endpoints.clone())?;
    let mut rng = loadline::values::seed::Rng64::seed_from_u64(1);
    // Median about 8 ms, p99.9 about 60 ms.
    let latency = LogNormal::new((8_000f64).ln(), 0.65)?;
    let per_endpoint = rate / endpoints.len() as u64;
    for s in 0..seconds {
        let mut series = BTreeMap::new();
        for ep in 0..endpoints.len() {
            let mut ok = new_hist();
            let mut err = new_hist();
            for _ in 0..per_endpoint {
                let v = latency.sample(&mut rng) as u64;
                if rng.random::<f64>() < 0.0005 {
                    record(&mut err, v);
                } else {
                    record(&mut ok, v);
                }
            }
            series.insert((ep, Outcome::S2xx), ok);
            series.insert((ep, Outcome::S5xx), err);
        }
        writer.interval(&IntervalData {
            index: s,
            start: Duration::from_secs(s),
            length: Duration::from_secs(1),
            series,
            target: Some(rate as f64),
            intended: rate,
            sent: rate,
            never_sent: 0,
            warmup: false,
        })?;
    }
    summary.run.warmup_s = 0.0;
    summary.run.measured_s = seconds as f64;
    summary.rate.achieved_ratio = Some(1.0);
    summary.schedule.generator_saturated = false;
    writer.finish(&summary)?;
    let written = started.elapsed();
    let log_bytes = std::fs::metadata(out.join(&summary.files.latency_log))?.len();

    let policy = policy::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../profiles/gate.yaml"
    )))?;
    let t = Instant::now();
    let bounds = eval::slo_bounds(&policy);
    let run = Run::load(out, &bounds, Series::Skip)?;
    let loaded = t.elapsed();
    let base = Run::load(out, &bounds, Series::Skip)?;
    let t = Instant::now();
    let verdict = eval::evaluate(&policy, &run, Some(&base), &loadline::gate::Options::new("prod"))?;
    let judged = t.elapsed();
    eprintln!(
        "{seconds} s x {} endpoints at {rate}/s: log {:.1} MB written in {:.1} s; \
         load {:.2} s, {} blocks of {} s; evaluate with baseline {:.2} s; decision {}",
        endpoints.len(),
        log_bytes as f64 / 1e6,
        written.as_secs_f64(),
        loaded.as_secs_f64(),
        run.blocks.len(),
        run.block_len,
        judged.as_secs_f64(),
        verdict.decision.name()
    );
    Ok(())
}
