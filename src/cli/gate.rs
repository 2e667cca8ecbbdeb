//! `loadline gate`: judge a run (against a baseline) with a policy for an
//! environment (`gate RUN --policy --env`), print a commented policy
//! (`gate init`), or measure the noise floor of A/A runs (`gate calibrate`).
//!
//! Exit codes: 0 promote (or warn), 1 blocked, 2 could not judge (bad
//! input), 3 warned with `--fail-on-warn`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, Exit};
use crate::atomic;
use crate::gate::calibrate;
use crate::gate::policy::{self, Quantile};
use crate::gate::{self, render, Decision};
use crate::printer::Printer;
use crate::results::run::{Run, Series};

/// The commented example policy `gate init` prints.
pub const EXAMPLE_POLICY: &str = include_str!("../../profiles/gate.yaml");

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct GateArgs {
    #[command(subcommand)]
    pub command: Option<GateCommand>,

    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Print a commented policy with sensible defaults (`loadline gate init > gate.yaml`).
    Init,
    /// Measure the noise floor of A/A runs (same build, same profile) per
    /// metric: the tolerance a policy gets with `tolerance: from calibration`.
    Calibrate(CalibrateArgs),
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// The run directory to judge (what `loadline run` or `loadline merge`
    /// wrote), or the shard directories of one run (or their parent
    /// directory): they are merged first, with `loadline merge`'s checks.
    #[arg(value_name = "RUN", required = true)]
    pub run: Vec<PathBuf>,

    /// Judge a run with shards missing (its passing checks become
    /// inconclusive) instead of refusing it.
    #[arg(long)]
    pub allow_partial: bool,

    /// The policy (YAML); `loadline gate init` prints a commented one.
    #[arg(long, value_name = "FILE", required = true)]
    pub policy: Option<PathBuf>,

    /// The environment the change is entering (one the policy defines).
    #[arg(long, value_name = "NAME", required = true)]
    pub env: Option<String>,

    /// A baseline run to compare with (same profile, the build in production).
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<PathBuf>,

    /// Noise floors from `loadline gate calibrate`, for `tolerance: from calibration`.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,

    /// Write the verdict as JSON (every number behind every decision).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write JUnit XML, one testcase per check.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write Markdown for a PR comment or a CI step summary.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Exit 3 when the verdict is a warning (default: a warning exits 0).
    #[arg(long)]
    pub fail_on_warn: bool,

    /// Seed of the bootstrap (the same seed gives the same intervals).
    #[arg(long, value_name = "N", default_value_t = gate::DEFAULT_SEED)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Two or more A/A run directories.
    #[arg(value_name = "RUN", num_args = 2.., required = true)]
    pub runs: Vec<PathBuf>,

    /// Calibrate the quantiles of this policy's `regression` section
    /// [default: p50, p90, p99, p99.9].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Where the calibration goes (JSON), for `gate --calibration`.
    #[arg(long, value_name = "FILE", default_value = "calibration.json")]
    pub out: PathBuf,
}

pub fn execute(args: GateArgs, printer: Printer) -> CliResult {
    match args.command {
        Some(GateCommand::Init) => {
            printer.out(EXAMPLE_POLICY.trim_end());
            Ok(Exit::Success)
        }
        Some(GateCommand::Calibrate(c)) => calibrate(c, printer),
        None => judge(args.judge, printer),
    }
}

fn required<T>(v: Option<T>, what: &str) -> Result<T, CliError> {
    v.ok_or_else(|| CliError::input(anyhow::anyhow!("{what} is required")))
}

fn judge(args: JudgeArgs, printer: Printer) -> CliResult {
    if args.run.is_empty() {
        return Err(CliError::input(anyhow::anyhow!("RUN is required")));
    }
    let policy_path = required(args.policy, "--policy")?;
    let env = required(args.env, "--env")?;
    let files = gate::Files {
        policy: &policy_path,
        runs: &args.run,
        allow_partial: args.allow_partial,
        baseline: args.baseline.as_deref(),
        calibration: args.calibration.as_deref(),
    };
    let verdict = gate::judge(files, &env, args.seed).map_err(CliError::input)?.verdict;
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&verdict).map_err(CliError::from)?;
        atomic::write(path, &json)?;
    }
    if let Some(path) = &args.junit {
        atomic::write(path, render::junit(&verdict).as_bytes())?;
    }
    if let Some(path) = &args.markdown {
        atomic::write(path, render::markdown(&verdict, args.fail_on_warn).as_bytes())?;
    }
    printer.out(render::table(&verdict, args.fail_on_warn).trim_end());
    Ok(match verdict.decision {
        Decision::Promote => Exit::Success,
        Decision::Warn if args.fail_on_warn => Exit::Warned,
        Decision::Warn => {
            printer.warn(format!(
                "the gate warns for {env}: the change moves on, but look at the findings above"
            ));
            Exit::Success
        }
        Decision::Block => Exit::Failure,
    })
}

fn calibrate(args: CalibrateArgs, printer: Printer) -> CliResult {
    let quantiles: Vec<Quantile> = match &args.policy {
        Some(p) => {
            let policy = policy::load(p).map_err(CliError::input)?;
            policy
                .regression
                .unwrap_or_else(gate::compare::default_regression)
                .quantiles
        }
        None => calibrate::DEFAULT_QUANTILES
            .iter()
            .filter_map(|q| Quantile::parse(q))
            .collect(),
    };
    let runs = args
        .runs
        .iter()
        .map(|d| Run::load(d, &[], Series::Skip))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::input)?;
    let cal = calibrate::calibrate(&runs, &quantiles).map_err(CliError::input)?;
    let json = serde_json::to_vec_pretty(&cal).map_err(CliError::from)?;
    atomic::write(&args.out, &json)?;
    printer.out(cal.render().trim_end());
    printer.info(format!(
        "wrote {}; use it with `loadline gate ... --calibration {}` and `tolerance: from calibration`",
        args.out.display(),
        args.out.display()
    ));
    Ok(Exit::Success)
}
