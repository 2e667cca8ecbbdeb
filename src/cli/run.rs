//! `loadline run PROFILE`: replay a traffic profile and write its results.

use std::path::PathBuf;
use std::time::Duration;

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

    /// Run one shard of the load: INDEX/COUNT, 0-based (e.g. 0/4), or
    /// auto/COUNT to take the index from JOB_COMPLETION_INDEX (a Kubernetes
    /// Indexed Job's pods have it).
    #[arg(long, value_name = "INDEX/COUNT", value_parser = parse_run_shard)]
    pub shard: Option<(u32, u32)>,

    /// Start at this instant, the run's T0 (RFC 3339, e.g.
    /// 2026-12-05T10:00:00Z, or Unix milliseconds): every shard given the same
    /// T0 runs on one time grid. The run waits for it.
    #[arg(long, value_name = "TIME", value_parser = parse_start_at)]
    pub start_at: Option<std::time::SystemTime>,

    /// How far past --start-at a shard may still start (on T0's grid, its
    /// first requests late); later is an error (exit 2).
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub start_tolerance: Dur,

    /// The run's id, the same for every shard of one run (letters, digits,
    /// `.`, `_`, `-`). Default: the profile's name, T0 and the profile's hash.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// Which attempt at this shard this is (recorded in the results).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub attempt: u32,

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
        let clients = &plan.profile().clients;
        if !clients.is_empty() {
            let mut lines = vec![format!(
                "# client classes: normal {:.4}%",
                plan.profile().normal_share() * 100.0
            )];
            for c in clients {
                lines.push(format!("#   {} {:.4}%: {}", c.name, c.share * 100.0, c.describe()));
            }
            printer.out(lines.join("\n"));
        }
        for i in 0..n {
            plan.render(i, &mut buf);
            let endpoint = &plan.profile().endpoints[buf.endpoint].name;
            let class = plan
                .client_class(i)
                .and_then(|c| clients.get(c))
                .map_or(String::new(), |c| format!(" (client class {})", c.name));
            printer.out(format!("# request {i}: {endpoint}{class}\n{}", wire.describe(&buf)));
        }
        return Ok(Exit::Success);
    }
    let out = args.out.unwrap_or_else(|| default_out(&profile.name));
    let mut opts = RunOptions::new(out);
    opts.workers = args.workers;
    opts.shard = args.shard;
    opts.start_at = args.start_at;
    opts.start_tolerance = args.start_tolerance.0;
    opts.run_id = args.run_id;
    opts.attempt = args.attempt;
    if let Some(t0) = opts.start_at {
        if let Ok(wait) = t0.duration_since(std::time::SystemTime::now()) {
            printer.info(format!(
                "waiting for T0 {} (in {})",
                crate::dates::rfc3339(t0, 3),
                Dur(Duration::from_millis(wait.as_millis() as u64))
            ));
        }
    }
    opts.allow_prod = args.allow_prod;
    opts.progress = printer.progress_enabled();
    opts.handle_signals = true;
    run_and_print(profile, &opts, printer)
}

/// Run a validated profile, print the result table, map errors to exit codes.
pub fn run_and_print(profile: profile::Profile, opts: &RunOptions, printer: Printer) -> CliResult {
    run_print_and_keep(profile, opts, printer).map(|(exit, _)| exit)
}

/// [`run_and_print`], also giving the results directory of a run that
/// finished (`None` when it was aborted).
pub fn run_print_and_keep(
    profile: profile::Profile,
    opts: &RunOptions,
    printer: Printer,
) -> Result<(Exit, Option<PathBuf>), CliError> {
    printer.info(format!(
        "running {} against {} for {} ({} warm-up)",
        profile.name,
        profile.target.base,
        Dur(profile.duration),
        Dur(profile.warmup)
    ));
    let report = match load::run(profile, opts) {
        Ok(report) => report,
        Err(load::Error::Aborted { signal, .. }) => return Ok((Exit::Aborted(signal), None)),
        Err(e @ load::Error::StoppedBeforeStart { signal, .. }) => {
            printer.warn(e.to_string());
            return Ok((Exit::Aborted(signal), None));
        }
        Err(
            e @ (load::Error::ProdRefused { .. }
            | load::Error::BadShard { .. }
            | load::Error::EmptyShard { .. }
            | load::Error::StartPassed { .. }
            | load::Error::BadRunId(_)),
        ) => return Err(CliError::input(e)),
        Err(other) => return Err(CliError::from(other)),
    };
    printer.out(crate::results::table::render(&report.summary, &report.dir));
    if report.summary.schedule.generator_saturated {
        printer.warn("the generator could not keep the schedule: see `schedule` in summary.json");
    }
    Ok((Exit::Success, Some(report.dir)))
}

/// Where `--shard auto/N` takes its index (Kubernetes sets it on the pods of an Indexed Job).
pub const INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// `--shard`: `INDEX/COUNT`, or `auto/COUNT` with the index from [`INDEX_VAR`].
fn parse_run_shard(s: &str) -> Result<(u32, u32), String> {
    match s.split_once('/') {
        Some((auto, count)) if auto.trim() == "auto" => {
            let index = std::env::var(INDEX_VAR).map_err(|_| {
                format!("auto takes the shard index from {INDEX_VAR}, which is not set (Kubernetes sets it on an Indexed Job's pods)")
            })?;
            super::parse_shard(&format!("{index}/{count}")).map_err(|e| format!("{INDEX_VAR}={index}: {e}"))
        }
        _ => super::parse_shard(s).map_err(|e| e.to_string()),
    }
}

/// `--start-at`: RFC 3339 (`2026-12-05T10:00:00Z`, any offset) or Unix milliseconds.
fn parse_start_at(s: &str) -> Result<std::time::SystemTime, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = s
            .parse()
            .map_err(|_| format!("`{s}` is too large for Unix milliseconds"))?;
        return Ok(std::time::UNIX_EPOCH + Duration::from_millis(ms));
    }
    let ts: jiff::Timestamp = s
        .parse()
        .map_err(|e| format!("`{s}` is neither RFC 3339 (2026-12-05T10:00:00Z) nor Unix milliseconds: {e}"))?;
    std::time::SystemTime::try_from(ts).map_err(|e| format!("`{s}`: {e}"))
}

fn default_out(name: &str) -> PathBuf {
    let stamp = crate::dates::rfc3339(std::time::SystemTime::now(), 0)
        .replace([':', '-'], "")
        .trim_end_matches('Z')
        .to_string();
    PathBuf::from("results").join(format!("{name}-{stamp}"))
}
