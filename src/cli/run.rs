//! `loadline run PROFILE`: replay a traffic profile and write its results.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::load::{self, RunOptions};
use crate::printer::Printer;
use crate::profile::{self, Overrides};
use crate::units::Dur;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The traffic profile (YAML), e.g. profiles/shop.yaml.
    pub profile: PathBuf,

    /// Directory for the results (summary.json, latency.hlog, timeseries.csv).
    /// Default: results/<profile name>-<UTC time>.
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// Run for this long instead of the profile's duration (e.g. 30s, 10m).
    #[arg(long)]
    pub duration: Option<Dur>,

    /// Multiply the open model's rate by this factor (0.5 = half the load).
    #[arg(long, value_name = "FACTOR")]
    pub rate_scale: Option<f64>,

    /// Override one profile value: KEY=VALUE with a dotted key path
    /// (`load.rate=500/s`, `endpoints.search.weight=0`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Seed for every random choice (overrides the profile's).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Worker threads (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,

    /// Run one shard of the load: INDEX/COUNT, 0-based (e.g. 0/4).
    #[arg(long, value_name = "INDEX/COUNT", value_parser = super::parse_shard)]
    pub shard: Option<(u32, u32)>,

    /// Allow a target labelled `environment: prod`.
    #[arg(long)]
    pub allow_prod: bool,

    /// Print the first N requests the profile makes (secrets redacted) and
    /// exit without sending anything.
    #[arg(long, value_name = "N")]
    pub dry_run: Option<u64>,
}

pub fn execute(args: RunArgs, printer: Printer) -> CliResult {
    if let Some(f) = args.rate_scale {
        if !(f.is_finite() && f >= 0.0) {
            return Err(CliError::input(anyhow::anyhow!(
                "--rate-scale must be a non-negative number"
            )));
        }
    }
    let overrides = Overrides {
        set: args.set,
        duration: args.duration.map(|d| d.0),
        rate_scale: args.rate_scale,
        seed: args.seed,
    };
    let profile = profile::load(&args.profile, &overrides).map_err(CliError::input)?;
    if profile.seed_chosen {
        printer.info(format!(
            "no seed in the profile; using seed {} (pass --seed {} to repeat this run)",
            profile.seed, profile.seed
        ));
    }
    if let Some(n) = args.dry_run {
        let wire = crate::load::client::Wire::new(&profile);
        let plan = crate::profile::RequestPlan::new(std::sync::Arc::new(profile));
        let mut buf = crate::profile::RequestBuf::default();
        for i in 0..n {
            plan.render(i, &mut buf);
            let endpoint = &plan.profile().endpoints[buf.endpoint].name;
            printer.out(format!("# request {i}: {endpoint}\n{}", wire.describe(&buf)));
        }
        return Ok(Exit::Success);
    }
    let out = args.out.unwrap_or_else(|| default_out(&profile.name));
    let mut opts = RunOptions::new(out);
    opts.workers = args.workers;
    opts.shard = args.shard;
    opts.allow_prod = args.allow_prod;
    opts.progress = printer.progress_enabled();
    opts.handle_signals = true;
    run_and_print(profile, &opts, printer)
}

/// Run a validated profile, print the result table, map errors to exit codes.
pub fn run_and_print(profile: profile::Profile, opts: &RunOptions, printer: Printer) -> CliResult {
    printer.info(format!(
        "running {} against {} for {} ({} warm-up)",
        profile.name,
        profile.target.base,
        Dur(profile.duration),
        Dur(profile.warmup)
    ));
    let report = match load::run(profile, opts) {
        Ok(report) => report,
        Err(load::Error::Aborted { signal, .. }) => return Ok(Exit::Aborted(signal)),
        Err(e @ (load::Error::ProdRefused { .. } | load::Error::BadShard { .. } | load::Error::EmptyShard { .. })) => {
            return Err(CliError::input(e))
        }
        Err(other) => return Err(CliError::from(other)),
    };
    printer.out(crate::results::table::render(&report.summary, &report.dir));
    if report.summary.schedule.generator_saturated {
        printer.warn("the generator could not keep the schedule: see `schedule` in summary.json");
    }
    Ok(Exit::Success)
}

fn default_out(name: &str) -> PathBuf {
    let stamp = crate::dates::rfc3339(std::time::SystemTime::now(), 0)
        .replace([':', '-'], "")
        .trim_end_matches('Z')
        .to_string();
    PathBuf::from("results").join(format!("{name}-{stamp}"))
}
