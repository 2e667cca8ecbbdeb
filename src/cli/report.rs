//! `loadline report`: a run (and a baseline, and a policy's verdict) as one
//! self-contained HTML file with SVG plots. Nothing is fetched when it is
//! opened: styles and plots are inline.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::atomic;
use crate::gate;
use crate::printer::Printer;
use crate::results::merge::load_run;
use crate::results::run::Series;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run directory to report on, or the shard directories of one run
    /// (or their parent directory): they are merged first, as `loadline merge` does.
    #[arg(value_name = "RUN", required = true)]
    pub run: Vec<PathBuf>,

    /// Report on a run with shards missing instead of refusing it.
    #[arg(long)]
    pub allow_partial: bool,

    /// A baseline run to plot under the run.
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<PathBuf>,

    /// A gate policy: the report then shows the verdict for --env.
    #[arg(long, value_name = "FILE", requires = "env")]
    pub policy: Option<PathBuf>,

    /// The environment of the verdict (one the policy defines).
    #[arg(long, value_name = "NAME", requires = "policy")]
    pub env: Option<String>,

    /// Noise floors from `loadline gate calibrate`, for `tolerance: from calibration`.
    #[arg(long, value_name = "FILE", requires = "policy")]
    pub calibration: Option<PathBuf>,

    /// Seed of the verdict's bootstrap (as `gate --seed`).
    #[arg(long, value_name = "N", default_value_t = gate::DEFAULT_SEED, requires = "policy")]
    pub seed: u64,

    /// Where the HTML goes.
    #[arg(long, value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,
}

pub fn execute(args: ReportArgs, printer: Printer) -> CliResult {
    let (run, baseline, verdict) = match (&args.policy, &args.env) {
        (Some(path), Some(env)) => {
            let files = gate::Files {
                policy: path,
                runs: &args.run,
                allow_partial: args.allow_partial,
                baseline: args.baseline.as_deref(),
                calibration: args.calibration.as_deref(),
            };
            let judged = gate::judge(files, env, args.seed).map_err(CliError::input)?;
            (judged.run, judged.baseline, Some(judged.verdict))
        }
        _ => {
            let run = load_run(&args.run, &[], Series::Read, args.allow_partial).map_err(CliError::input)?;
            let baseline = args
                .baseline
                .as_deref()
                .map(|b| load_run(&[b.to_path_buf()], &[], Series::Read, false))
                .transpose()
                .map_err(CliError::input)?;
            (run, baseline, None)
        }
    };
    let html = crate::report::render(&run, baseline.as_ref(), verdict.as_ref());
    atomic::write(&args.out, html.as_bytes())?;
    printer.info(format!(
        "wrote {} ({} KB)",
        args.out.display(),
        html.len().div_ceil(1024)
    ));
    Ok(Exit::Success)
}
