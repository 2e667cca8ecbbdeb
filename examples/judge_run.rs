//! Judge a run with a promotion-gate policy from Rust: read a run directory
//! and `profiles/gate.yaml`, evaluate every check for one environment and
//! print the verdict table and the decision (promote, warn or block).
//!
//! ```text
//! cargo run --example judge_run                       # makes a 2 s run first
//! cargo run --example judge_run -- RUN_DIR [ENV]      # ENV: dev (default), staging, prod
//! ```
//!
//! Without a run directory it first replays a small profile for 2 s against
//! the built-in sample service on 127.0.0.1 (into a temporary directory). So
//! short a run has too few requests for the tail quantiles and misses the
//! soak staging and prod ask for: the verdict says so (no data, fail) and
//! `dev`, which only observes, still promotes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use loadline::gate::{self, render, Files};
use loadline::load::{self, RunOptions};
use loadline::printer::Printer;
use loadline::profile::{self, Overrides};
use loadline::sample::{RunningTarget, TargetConfig};

/// Two endpoints of the sample service at 300 requests per second.
const PROFILE: &str = "name: judge-example
target: {base_url: \"http://127.0.0.1:1\", connections: 8, timeout: 2s}
seed: 1
duration: 2s
load: {model: open, rate: 300/s}
endpoints:
  - {name: get_product, weight: 3, path: /t/t-1/products/1}
  - {name: create_order, weight: 1, method: POST, path: /t/t-1/orders, body: '{\"product\": 1}', expect: [201]}
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = args.get(1).map_or("dev", String::as_str);
    let printer = Printer::new(false);
    let scratch = tempfile::tempdir()?;
    let run_dir = match args.first() {
        Some(dir) => PathBuf::from(dir),
        None => short_run(scratch.path(), &printer)?,
    };

    let policy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles/gate.yaml");
    let judged = gate::judge(
        Files {
            policy: &policy,
            runs: std::slice::from_ref(&run_dir),
            allow_partial: false,
            baseline: None,
            calibration: None,
        },
        env,
        gate::DEFAULT_SEED,
    )?;
    printer.out(render::table(&judged.verdict, false));
    printer.info(format!(
        "{} in {env}: {}",
        run_dir.display(),
        judged.verdict.decision.name()
    ));
    Ok(())
}

/// Replay [`PROFILE`] for 2 s against the sample service; returns the run directory.
fn short_run(scratch: &Path, printer: &Printer) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let target = RunningTarget::start(TargetConfig {
        threads: 1,
        ..TargetConfig::default()
    })?;
    let overrides = Overrides {
        set: vec![format!("target.base_url={}", target.base_url())],
        duration: Some(Duration::from_secs(2)),
        ..Overrides::default()
    };
    let profile = profile::from_str(PROFILE, &scratch.join("judge-example.yaml"), &overrides)?;
    printer.info(format!(
        "no run directory given: a 2 s run against {}",
        target.base_url()
    ));
    let out = scratch.join("run");
    load::run(profile, &RunOptions::new(&out))?;
    target.shutdown();
    Ok(out)
}
