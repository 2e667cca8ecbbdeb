//! The shard directories of a long sharded run, without running one: for
//! each of `SHARDS` shards, a run directory (summary.json, latency.hlog,
//! timeseries.csv) written through loadline's own `ResultWriter`, of
//! `SECONDS` one-second intervals, about `RATE` requests per second per
//! shard over the template's endpoints with a log-normal latency. Every
//! shard has the template's run id, profile hash, seed, T0 and interval,
//! and is shard `i/SHARDS`, so `loadline merge` takes them as one run.
//! The template is a real shard's run directory (`loadline run --shard`).
//!
//!   cargo run --release -p loadline-baselines --bin shard_logs -- TEMPLATE_RUN OUT_DIR SHARDS SECONDS RATE
//!
//! Writes `OUT_DIR/shard-I` for I in 0..SHARDS. Used by benches/merge.sh.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use loadline::results::hist::{new_hist, record};
use loadline::results::summary::ShardInfo;
use loadline::results::writer::LogHeader;
use loadline::results::{read_summary, IntervalData, Outcome, ResultWriter};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, template, out, shards, seconds, rate] = args.as_slice() else {
        return Err("usage: shard_logs TEMPLATE_RUN OUT_DIR SHARDS SECONDS RATE".into());
    };
    let shards: u32 = shards.parse()?;
    let seconds: u64 = seconds.parse()?;
    let rate: u64 = rate.parse()?;
    let template = read_summary(Path::new(template))?;
    let endpoints: Vec<String> = template.endpoints.iter().map(|e| e.name.clone()).collect();
    if endpoints.is_empty() {
        return Err("the template run has no endpoints".into());
    }
    // Median about 8 ms, p99.9 about 60 ms.
    let latency = LogNormal::new((8_000f64).ln(), 0.65)?;
    let per_endpoint = rate / endpoints.len() as u64;
    for i in 0..shards {
        let dir = Path::new(out).join(format!("shard-{i}"));
        let header = LogHeader {
            title: template.profile.name.clone(),
            run_id: template.run.run_id.clone(),
            shard: Some((i, shards)),
            attempt: 0,
            seed: template.profile.seed,
            profile_hash: template.profile.hash.clone(),
            t0: UNIX_EPOCH + Duration::from_millis(template.run.t0_unix_ms),
            interval: Duration::from_secs(1),
        };
        let mut writer = ResultWriter::create(&dir, &header, endpoints.clone())?;
        let mut rng = loadline::values::seed::Rng64::seed_from_u64(u64::from(i) + 1);
        let mut errors = 0;
        for s in 0..seconds {
            let mut series = BTreeMap::new();
            for ep in 0..endpoints.len() {
                let mut ok = new_hist();
                let mut err = new_hist();
                for _ in 0..per_endpoint {
                    let v = latency.sample(&mut rng) as u64;
                    if rng.random::<f64>() < 0.0005 {
                        record(&mut err, v);
                        errors += 1;
                    } else {
                        record(&mut ok, v);
                    }
                }
                series.insert((ep, Outcome::S2xx), ok);
                series.insert((ep, Outcome::S5xx), err);
            }
            let sent = per_endpoint * endpoints.len() as u64;
            writer.interval(&IntervalData {
                index: s,
                start: Duration::from_secs(s),
                length: Duration::from_secs(1),
                series,
                target: Some(sent as f64),
                intended: sent,
                sent,
                never_sent: 0,
                warmup: false,
            })?;
        }
        let requests = per_endpoint * endpoints.len() as u64 * seconds;
        let mut summary = template.clone();
        summary.run.shard = Some(ShardInfo {
            index: i,
            count: shards,
            attempt: 0,
        });
        summary.run.warmup_s = 0.0;
        summary.run.measured_s = seconds as f64;
        summary.run.elapsed_s = seconds as f64;
        summary.run.planned_duration_s = seconds as f64;
        summary.run.interrupted = false;
        summary.rate.target_requests = Some(requests);
        summary.rate.sent_requests = requests;
        summary.rate.target_per_s = Some(rate as f64);
        summary.rate.peak_target_per_s = Some(rate as f64);
        summary.rate.achieved_per_s = rate as f64;
        summary.rate.achieved_ratio = Some(1.0);
        summary.schedule.generator_saturated = false;
        summary.schedule.saturation_reason = None;
        summary.totals.requests = requests;
        summary.totals.warmup_requests = 0;
        summary.totals.errors = errors;
        summary.totals.error_rate = errors as f64 / requests.max(1) as f64;
        for e in &mut summary.endpoints {
            e.requests = per_endpoint * seconds;
        }
        writer.finish(&summary)?;
    }
    Ok(())
}
