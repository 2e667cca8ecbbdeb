//! `loadline merge DIR... --out DIR`: the shards of one run into one
//! ordinary run directory (histogram buckets added, never quantiles).
//!
//! Exit codes: 0 merged, 2 the shards do not make one run (a mismatch, a
//! duplicate, a missing or unfinished shard without `--allow-partial`), 1 the
//! merged files could not be written.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::printer::Printer;
use crate::results::merge::{self, MergeError};
use crate::units::Dur;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard directories (what `loadline run --shard` wrote), or a run's
    /// directory holding them (RUN/shard-0, RUN/shard-1, ...).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,

    /// Directory for the merged run (summary.json, latency.hlog, timeseries.csv).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Merge even when shards are missing or unfinished: the result is
    /// marked partial, and the gate calls it inconclusive.
    #[arg(long)]
    pub allow_partial: bool,

    /// Wait up to this long (e.g. 30m) for every shard of the run to finish
    /// before merging; the shard count comes from the shards' own summaries.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<Dur>,
}

pub fn execute(args: MergeArgs, printer: Printer) -> CliResult {
    if let Some(wait) = args.wait {
        wait_for_shards(&args.dirs, wait.0, &printer);
    }
    let summary = merge::merge(&args.dirs, &args.out, args.allow_partial).map_err(|e| match e {
        MergeError::Write { .. } => CliError::from(e),
        other => CliError::input(other),
    })?;
    if let Some(m) = &summary.run.merged {
        let merged = m.merged.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        printer.info(format!(
            "merged shards {merged} of {} of run {} into {}",
            m.count,
            summary.run.run_id,
            args.out.display()
        ));
        if m.partial {
            let missing = m.missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
            printer.warn(format!(
                "shard {missing} of {} missing: the merged run is partial, and the gate will call it inconclusive",
                m.count
            ));
        }
    }
    printer.out(crate::results::table::render(&summary, &args.out));
    Ok(Exit::Success)
}

/// Poll until every shard of the run has finished, or `limit` has passed
/// (the merge then says what is missing).
fn wait_for_shards(dirs: &[PathBuf], limit: Duration, printer: &Printer) {
    let deadline = Instant::now() + limit;
    let mut told = false;
    loop {
        let complete = merge::find_shards(dirs, true)
            .and_then(|shards| merge::check(&shards, false))
            .is_ok_and(|info| !info.partial);
        if complete || Instant::now() >= deadline {
            return;
        }
        if !told {
            printer.info(format!("waiting up to {} for every shard to finish", Dur(limit)));
            told = true;
        }
        std::thread::sleep(Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now())));
    }
}
