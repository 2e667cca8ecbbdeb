//! `loadline scrub`: scrub a dump (`--rules --in --out`), check the result
//! (`scrub verify`), or look for personal data in a raw file (`scrub scan`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, Exit};
use crate::printer::Printer;
use crate::scrub::{self, rules, scan, verify};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ScrubArgs {
    #[command(subcommand)]
    pub command: Option<ScrubCommand>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum ScrubCommand {
    /// Check a scrubbed dump against its original: no original value of a
    /// scrubbed column left anywhere, no cell that still looks like
    /// personal data, same row counts, joins and unique columns intact.
    Verify(VerifyArgs),
    /// Run the personal-data detectors on a raw file and suggest a rule per column.
    Scan(ScanArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scrub rules (YAML), e.g. fixtures/shop.scrub.yaml. The key is
    /// read from where the rules say (`key: ${env:LOADLINE_SCRUB_KEY}`).
    #[arg(long, value_name = "FILE", required = true)]
    pub rules: Option<PathBuf>,

    /// The dump: a folder of .csv, .copy (PostgreSQL COPY text with a
    /// header line) and .jsonl files, one per table, or one such file.
    #[arg(long = "in", value_name = "PATH", required = true)]
    pub input: Option<PathBuf>,

    /// Where the scrubbed files go (same names and formats as the input).
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,

    /// Where rejected rows go, one FILE.rejects.jsonl per input file. They
    /// are not scrubbed, so this must not be inside --out
    /// [default: <in>.rejects]
    #[arg(long, value_name = "DIR")]
    pub rejects: Option<PathBuf>,

    /// Rejected rows allowed; past this the run fails and no output is kept.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_rejects: u64,

    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,

    /// Also write the run's report as JSON here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The rules the dump was scrubbed with.
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,

    /// The original dump (folder or file).
    #[arg(long, value_name = "PATH")]
    pub original: PathBuf,

    /// The scrubbed dump (folder or file).
    #[arg(long, value_name = "PATH")]
    pub scrubbed: PathBuf,

    /// The reject files of the scrub, to leave their rows out of the
    /// comparison [default: <original>.rejects]
    #[arg(long, value_name = "DIR")]
    pub rejects: Option<PathBuf>,

    /// The JSON report [default: <scrubbed>.verify.json]
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Findings listed on the terminal (the JSON report has them all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub show: usize,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A .csv, .copy or .jsonl file (or a folder of them).
    pub file: PathBuf,

    /// Rows to read per file (0: all).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub rows: u64,

    /// Write the findings and suggestions as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

pub fn execute(args: ScrubArgs, printer: Printer) -> CliResult {
    match args.command {
        Some(ScrubCommand::Verify(v)) => run_verify(v, printer),
        Some(ScrubCommand::Scan(s)) => run_scan(s, printer),
        None => run_scrub(args.run, printer),
    }
}

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

fn input_or_not<E: Into<anyhow::Error>>(is_input: bool, e: E) -> CliError {
    if is_input {
        CliError::input(e)
    } else {
        CliError::from(e)
    }
}

fn run_scrub(args: RunArgs, printer: Printer) -> CliResult {
    let (Some(rules_path), Some(input), Some(out)) = (args.rules, args.input, args.out) else {
        return Err(CliError::input(anyhow::anyhow!("--rules, --in and --out are required")));
    };
    let rules = rules::load(&rules_path).map_err(CliError::input)?;
    // From here on Ctrl-C and SIGTERM stop the run cleanly.
    let signals = super::signals::watch(printer).map_err(CliError::from)?;
    let opts = scrub::Options {
        input,
        output: out.clone(),
        rejects: args.rejects,
        max_rejects: args.max_rejects,
        threads: threads(args.threads),
        stop: signals.flag(),
    };
    let report = match scrub::scrub(&rules, &opts) {
        Err(e @ scrub::Error::Interrupted { .. }) => {
            let signal = signals.signal();
            printer.error(format!("interrupted by {signal}: {e}"));
            return Ok(Exit::Aborted(signal));
        }
        other => other.map_err(|e| input_or_not(e.is_input(), e))?,
    };
    print_table(&report, &printer);
    print_notes(&report, &printer);
    if let Some(path) = &args.report {
        write_json(path, &report.document(&rules.path))?;
    }
    if report.committed {
        printer.info(format!(
            "wrote {} ({} file{})",
            out.display(),
            report.files.len(),
            if report.files.len() == 1 { "" } else { "s" }
        ));
        Ok(Exit::Success)
    } else {
        printer.error(format!(
            "{} rows rejected, more than --max-rejects {}: no output written (the rejects are in {})",
            report.rejected(),
            report.max_rejects,
            report.rejects_dir.display()
        ));
        Ok(Exit::Failure)
    }
}

/// The scrub's table: rows and megabytes per file, and the total.
fn print_table(report: &scrub::Report, printer: &Printer) {
    printer.out(format!(
        "{:<12} {:<7} {:>10} {:>10} {:>9} {:>9} {:>8}",
        "table", "format", "rows in", "rows out", "rejected", "MB", "MB/s"
    ));
    for f in &report.files {
        let mb = f.bytes_in as f64 / 1e6;
        printer.out(format!(
            "{:<12} {:<7} {:>10} {:>10} {:>9} {:>9.1} {:>8.1}",
            f.table,
            f.format.name(),
            f.rows_in,
            f.rows_out,
            f.rejected,
            mb,
            mb / f.seconds.max(1e-9)
        ));
    }
    let total_mb = report.bytes_in() as f64 / 1e6;
    printer.out(format!(
        "{:<12} {:<7} {:>10} {:>10} {:>9} {:>9.1} {:>8.1}",
        "total",
        "",
        report.files.iter().map(|f| f.rows_in).sum::<u64>(),
        report.files.iter().map(|f| f.rows_out).sum::<u64>(),
        report.rejected(),
        total_mb,
        total_mb / report.seconds.max(1e-9)
    ));
}

/// The first rejected rows, where the rest are, and what was skipped or left out.
fn print_notes(report: &scrub::Report, printer: &Printer) {
    for f in &report.files {
        for (line, column, reason) in &f.first_rejects {
            let col = column.as_deref().map(|c| format!(" column `{c}`:")).unwrap_or_default();
            printer.warn(format!("rejected {}:{line}:{col} {reason}", f.file));
        }
        if f.rejected > f.first_rejects.len() as u64 {
            printer.warn(format!(
                "… {} more rejected rows of {}",
                f.rejected - f.first_rejects.len() as u64,
                f.file
            ));
        }
        if let Some(r) = &f.rejects_file {
            printer.info(format!("rejected rows of {}: {}", f.file, r.display()));
        }
    }
    for s in &report.skipped {
        printer.info(format!("skipped {} (not .csv, .copy, .jsonl or .ndjson)", s.display()));
    }
    for t in &report.dropped_tables {
        printer.info(format!(
            "left out table `{t}` (not in the rules; unlisted_columns: drop)"
        ));
    }
}

/// Write JSON through a temporary file, renamed when complete.
fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(CliError::from)?;
    crate::atomic::write(path, (text + "\n").as_bytes()).map_err(CliError::from)
}

fn run_verify(args: VerifyArgs, printer: Printer) -> CliResult {
    let rules = rules::load(&args.rules).map_err(CliError::input)?;
    let opts = verify::Options {
        original: args.original.clone(),
        scrubbed: args.scrubbed.clone(),
        rejects: args.rejects,
    };
    let report = verify::verify(&rules, &opts).map_err(|e| input_or_not(e.is_input(), e))?;
    let path = args.report.unwrap_or_else(|| {
        let mut s = args.scrubbed.components().collect::<PathBuf>().into_os_string();
        s.push(".verify.json");
        PathBuf::from(s)
    });
    write_json(&path, &report.document())?;
    for line in report.summary(args.show) {
        printer.out(line);
    }
    printer.info(format!("report: {}", path.display()));
    Ok(if report.passed() { Exit::Success } else { Exit::Failure })
}

fn run_scan(args: ScanArgs, printer: Printer) -> CliResult {
    let report = scan::scan(&args.file, args.rows).map_err(|e| input_or_not(e.is_input(), e))?;
    for line in report.summary() {
        printer.out(line);
    }
    if let Some(path) = &args.json {
        write_json(path, &report.document())?;
    }
    Ok(Exit::Success)
}
