//! `loadline demo`: the whole loop on one machine, with nothing to install:
//! start the built-in sample service on a free loopback port, replay
//! `profiles/demo.yaml` against it (a compressed day with a spike, about
//! 20 s), print the result table and say where the files are.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{CliError, CliResult};
use crate::load::RunOptions;
use crate::printer::Printer;
use crate::profile::{self, Overrides};
use crate::sample::{RunningTarget, TargetConfig};
use crate::units::Dur;

/// The demo profile, built into the binary so the demo runs from any
/// directory; `--profile` replays another one instead.
const DEMO_PROFILE: &str = include_str!("../../profiles/demo.yaml");

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the results.
    #[arg(long, short, default_value = "results/demo")]
    pub out: PathBuf,

    /// Replay this profile instead of the built-in profiles/demo.yaml (its
    /// base_url is pointed at the demo's own service).
    #[arg(long)]
    pub profile: Option<PathBuf>,

    /// Run for this long instead of the profile's 20 s.
    #[arg(long)]
    pub duration: Option<Dur>,
}

pub fn execute(args: DemoArgs, printer: Printer) -> CliResult {
    let config = TargetConfig {
        latency: Duration::from_micros(500),
        latency_jitter: Duration::from_millis(1),
        error_rate: 0.001,
        stall_every: Some(Duration::from_secs(12)),
        stall_for: Duration::from_millis(300),
        threads: 1,
        seed: 7,
        ..TargetConfig::default()
    };
    let target = RunningTarget::start(config)?;
    printer.info(format!(
        "sample service on {} (answers in 1-3 ms, 0.1% errors, one 300 ms stall at t=12s)",
        target.base_url()
    ));
    let overrides = Overrides {
        set: vec![format!("target.base_url={}", target.base_url())],
        duration: args.duration.map(|d| d.0),
        ..Overrides::default()
    };
    let profile = match &args.profile {
        Some(p) => profile::load(p, &overrides),
        None => profile::from_str(DEMO_PROFILE, std::path::Path::new("profiles/demo.yaml"), &overrides),
    }
    .map_err(CliError::input)?;
    let mut opts = RunOptions::new(&args.out);
    opts.progress = printer.progress_enabled();
    opts.handle_signals = true;
    let result = super::run::run_and_print(profile, &opts, printer);
    let stats = target.stats();
    target.shutdown();
    printer.info(format!("the sample service answered {} requests", stats.total));
    result
}
