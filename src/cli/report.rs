//! `loadline report`: a run (and a baseline, and a policy's verdict) as one
//! self-contained HTML file with SVG plots. Nothing is fetched when it is
//! opened: styles and plots are inline.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::atomic;
use crate::gate;
use crate::printer::Printer;
use crate::results::run::Run;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run directory to report on.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,

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
                run: &args.run,
                baseline: args.baseline.as_deref(),
                calibration: args.calibration.as_deref(),
            };
            let judged = gate::judge(files, env, args.seed).map_err(CliError::input)?;
            (judged.run, judged.baseline, Some(judged.verdict))
        }
        _ => {
            let run = Run::load(&args.run, &[]).map_err(CliError::input)?;
            let baseline = args
                .baseline
                .as_deref()
                .map(|b| Run::load(b, &[]))
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
