//! Replay a traffic profile from Rust: start the built-in sample service on
//! a free loopback port, load a profile pointed at it (shortened to 2 s,
//! without warm-up), run it through the load engine and print the result
//! table. Traffic only ever goes to 127.0.0.1.
//!
//! ```text
//! cargo run --example replay_profile                          # profiles/demo.yaml
//! cargo run --example replay_profile -- PROFILE.yaml [OUT_DIR]
//! ```
//!
//! The run's files (summary.json, latency.hlog, timeseries.csv) go to
//! `OUT_DIR`, by default `results/replay_profile`; `examples/judge_run.rs`
//! judges such a directory.

use std::path::PathBuf;
use std::time::Duration;

use loadline::load::{self, RunOptions};
use loadline::printer::Printer;
use loadline::profile::{self, Overrides};
use loadline::sample::{RunningTarget, TargetConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let profile_path = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles/demo.yaml"),
        PathBuf::from,
    );
    let out = args
        .next()
        .map_or_else(|| PathBuf::from("results/replay_profile"), PathBuf::from);
    let printer = Printer::new(false);

    // The sample service: answers in 0.5-1.5 ms on one thread, so the load
    // generator keeps the other cores.
    let target = RunningTarget::start(TargetConfig {
        latency: Duration::from_micros(500),
        latency_jitter: Duration::from_millis(1),
        threads: 1,
        ..TargetConfig::default()
    })?;
    printer.info(format!("sample service on {}", target.base_url()));

    // The profile as written, with its base URL pointed at the service and
    // its length cut to 2 s: overrides go through the same checks as the file.
    let overrides = Overrides {
        set: vec![format!("target.base_url={}", target.base_url()), "warmup=0s".into()],
        duration: Some(Duration::from_secs(2)),
        ..Overrides::default()
    };
    let profile = profile::load(&profile_path, &overrides)?;
    printer.info(format!("replaying {} for 2 s", profile_path.display()));

    let report = load::run(profile, &RunOptions::new(&out))?;
    printer.out(loadline::results::table::render(&report.summary, &report.dir));

    let stats = target.stats();
    target.shutdown();
    printer.info(format!("the sample service answered {} requests", stats.total));
    Ok(())
}
