//! Command-line wiring: clap definitions, one file per subcommand.
//!
//! Nothing here decides anything: each subcommand resolves its settings
//! (flags over profile) and calls the library. Exit codes are mapped in one
//! place, [`main`]: 0 success, 1 the job ran but failed (or a verdict
//! blocked), 2 bad input or usage (nothing was judged), 3 the gate warned
//! and `--fail-on-warn` asked to tell.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::printer::Printer;

mod demo;
mod deploy;
mod gate;
mod learn;
mod merge;
mod report;
mod run;
mod scrub;
mod signals;
mod synth;
mod target;

/// loadline: production-shaped load, data and promotion gates for staging.
#[derive(Debug, Parser)]
#[command(name = "loadline", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Print nothing but warnings and errors (results are still written to disk).
    #[arg(long, short, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a traffic profile against an HTTP service and record latency.
    Run(run::RunArgs),
    /// Start the built-in sample service (a multi-tenant shop API with fault injection).
    Target(target::TargetArgs),
    /// Seed a small shop, serve it, replay profiles/demo.yaml, judge and report (self-contained).
    Demo(demo::DemoArgs),
    /// Generate a production-shaped dataset from a schema into files or a database.
    Synth(synth::SynthArgs),
    /// Judge a run (against a baseline) with a policy: promote, warn or block for an environment.
    Gate(gate::GateArgs),
    /// Merge the shards of one run (`run --shard`) into one run directory, exactly.
    Merge(merge::MergeArgs),
    /// Learn a profile from access logs: production's shape, none of its values.
    Learn(learn::LearnArgs),
    /// Write a run (and a baseline) as one self-contained HTML report with SVG plots.
    Report(report::ReportArgs),
    /// Scrub a dump so no personal data survives (keyed, joins kept); `scrub verify` proves it, `scrub scan` finds PII.
    Scrub(scrub::ScrubArgs),
    /// Print the manifests of a sharded run for a cluster (`deploy k8s --shards N PROFILE`).
    Deploy(deploy::DeployArgs),
}

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exit code 0.
    Success,
    /// Exit code 1: the job ran, and its result is a failure.
    Failure,
    /// Exit code 3: the gate warned and `--fail-on-warn` asked to tell.
    Warned,
    /// A second Ctrl-C or SIGTERM aborted the job: exit code 128 + the
    /// signal's number (130 for Ctrl-C, 143 for SIGTERM).
    Aborted(crate::load::stop::Signal),
}

/// An error that knows its exit code: 2 for bad input (the user must change
/// something), 1 for everything else.
#[derive(Debug)]
pub struct CliError {
    /// The process's exit code: 2 for bad input, 1 otherwise.
    pub code: u8,
    /// What went wrong, with its causes; printed as a chain.
    pub error: anyhow::Error,
}

impl CliError {
    /// Bad input: a profile, a flag, a file the user named.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: 2,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError {
            code: 1,
            error: e.into(),
        }
    }
}

/// What a subcommand returns: how it ended, or the error that stopped it.
pub type CliResult = Result<Exit, CliError>;

/// Parse arguments, run the subcommand, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with code 0, usage errors with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing(cli.quiet);
    let printer = Printer::new(cli.quiet);
    match execute(cli, printer) {
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Failure) => ExitCode::from(1),
        Ok(Exit::Warned) => ExitCode::from(3),
        Ok(Exit::Aborted(signal)) => ExitCode::from(signal.exit_code()),
        Err(e) => {
            printer.error(format_chain(&e.error));
            ExitCode::from(e.code)
        }
    }
}

/// Run a parsed command line.
pub fn execute(cli: Cli, printer: Printer) -> CliResult {
    match cli.command {
        Command::Run(args) => run::execute(args, printer),
        Command::Target(args) => target::execute(args, printer),
        Command::Demo(args) => demo::execute(args, printer),
        Command::Synth(args) => synth::execute(args, printer),
        Command::Scrub(args) => scrub::execute(args, printer),
        Command::Gate(args) => gate::execute(args, printer),
        Command::Report(args) => report::execute(args, printer),
        Command::Merge(args) => merge::execute(args, printer),
        Command::Learn(args) => learn::execute(args, printer),
        Command::Deploy(args) => deploy::execute(args, printer),
    }
}

/// Why a `--shard` value was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum ShardError {
    #[error("write INDEX/COUNT, e.g. 0/4")]
    Form,
    #[error("`{0}` is not a shard index")]
    Index(String),
    #[error("`{0}` is not a shard count")]
    Count(String),
    #[error("shard {0}/{1}: the index must be below the count, and the count at most 1000000")]
    Range(u32, u32),
}

/// `INDEX/COUNT` for `--shard`, 0-based.
pub(crate) fn parse_shard(s: &str) -> Result<(u32, u32), ShardError> {
    let (i, n) = s.split_once('/').ok_or(ShardError::Form)?;
    let i: u32 = i.trim().parse().map_err(|_| ShardError::Index(i.into()))?;
    let n: u32 = n.trim().parse().map_err(|_| ShardError::Count(n.into()))?;
    if n == 0 || i >= n || n > crate::results::MAX_SHARDS {
        return Err(ShardError::Range(i, n));
    }
    Ok((i, n))
}

/// The whole cause chain, one cause per line, so no context is lost.
pub fn format_chain(e: &anyhow::Error) -> String {
    let mut s = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str("\n  caused by: ");
            s.push_str(&c);
        }
    }
    s
}

fn init_tracing(quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet { "error" } else { "warn" };
    let filter = EnvFilter::try_from_env("LOADLINE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each refusal names what was wrong, in the words `--help` uses.
    #[test]
    fn shards_parse_or_say_why_not() {
        assert_eq!(parse_shard("1/4"), Ok((1, 4)));
        assert_eq!(parse_shard(" 0 / 2 "), Ok((0, 2)));
        let why = |s| parse_shard(s).unwrap_err().to_string();
        assert_eq!(why("3"), "write INDEX/COUNT, e.g. 0/4");
        assert_eq!(why("x/4"), "`x` is not a shard index");
        assert_eq!(why("1/y"), "`y` is not a shard count");
        assert_eq!(
            why("4/4"),
            "shard 4/4: the index must be below the count, and the count at most 1000000"
        );
        assert_eq!(
            why("0/0"),
            "shard 0/0: the index must be below the count, and the count at most 1000000"
        );
        assert!(why("0/1000001").starts_with("shard 0/1000001"));
    }
}
