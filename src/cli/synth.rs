//! `loadline synth SCHEMA --to TARGET`: generate a dataset and write it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use super::{CliError, CliResult, Exit};
use crate::printer::Printer;
use crate::synth::encode::Dialect;
use crate::synth::sink::{self, SinkOptions, Target};
use crate::synth::{self, schema, Generator, RunOptions};

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The schema (YAML), e.g. fixtures/shop.schema.yaml.
    pub schema: PathBuf,

    /// Where the rows go: csv:DIR, jsonl:DIR, sql:FILE, sqlite:FILE,
    /// postgres://USER@HOST/DB or mysql://USER@HOST/DB; csv:- or jsonl:-
    /// write one table (--tables NAME) to standard output.
    #[arg(long, value_name = "TARGET")]
    pub to: String,

    /// Multiply every table's row count (0.01 = 1%).
    #[arg(long, value_name = "FACTOR")]
    pub scale: Option<f64>,

    /// Seed (overrides the schema's). Same schema and seed: same rows.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Only these tables, comma-separated (references to other tables still
    /// point at the rows those tables would have).
    #[arg(long, value_delimiter = ',', value_name = "TABLE,...")]
    pub tables: Option<Vec<String>>,

    /// Generate one shard: INDEX/COUNT, 0-based. Each table's rows are split
    /// into COUNT ranges; the shards together are exactly the whole dataset.
    #[arg(long, value_name = "INDEX/COUNT", value_parser = super::parse_shard)]
    pub shard: Option<(u32, u32)>,

    /// Drop and recreate the schema's tables (databases only; only the
    /// tables of this run are touched).
    #[arg(long)]
    pub reset: bool,

    /// Generator threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,

    /// SQL dialect of a sql:FILE target.
    #[arg(long, value_enum, default_value = "postgres")]
    pub dialect: DialectArg,

    /// The environment the target database belongs to; `prod` is refused
    /// without --allow-prod. Databases listed in LOADLINE_PROD_DATABASES
    /// (comma-separated hosts, host:port/db or URLs) count as prod too.
    #[arg(long, value_enum)]
    pub environment: Option<EnvArg>,

    /// Allow writing to a database labelled prod.
    #[arg(long)]
    pub allow_prod: bool,

    /// MariaDB/MySQL: load with batched INSERTs instead of LOAD DATA LOCAL
    /// INFILE (which is used when the server allows it).
    #[arg(long)]
    pub no_local_infile: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DialectArg {
    Postgres,
    Mysql,
    Sqlite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvArg {
    Dev,
    Staging,
    Prod,
}

/// Check the target, load the schema, generate every table into the sink,
/// and print how long each took.
pub fn execute(args: SynthArgs, printer: Printer) -> CliResult {
    let target = Target::parse(&args.to).map_err(CliError::input)?;
    // Refuse prod before reading anything else or connecting anywhere.
    if !args.allow_prod {
        refuse_prod(&args, &target)?;
    }
    if args.reset && matches!(target, Target::Csv(_) | Target::Jsonl(_)) {
        printer.info("note: --reset applies to databases and sql: scripts; csv/jsonl files are replaced anyway");
    }
    if args.shard.is_some_and(|(_, n)| n > 1) && target.is_database() {
        return Err(CliError::input(anyhow::anyhow!(
            "--shard writes one part of each table; use it with csv:, jsonl: or sql: targets (seed a database in one run)"
        )));
    }
    let opts = schema::Options {
        scale: args.scale,
        seed: args.seed,
    };
    let schema = schema::load(&args.schema, &opts).map_err(CliError::input)?;
    if !schema.seed_given {
        printer.info(format!(
            "no seed in the schema; using seed {} (pass --seed {} to repeat this dataset)",
            schema.seed, schema.seed
        ));
    }
    let gen = Arc::new(Generator::new(schema).map_err(CliError::input)?);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let dialect = match args.dialect {
        DialectArg::Postgres => Dialect::Postgres,
        DialectArg::Mysql => Dialect::Mysql,
        DialectArg::Sqlite => Dialect::Sqlite,
    };
    let opts = SinkOptions {
        dialect,
        local_infile: !args.no_local_infile,
    };
    let mut sink = sink::open(&target, &opts).map_err(sink_error)?;
    let run = RunOptions {
        tables: args.tables,
        shard: args.shard,
        threads,
        reset: args.reset,
        progress: printer.progress_enabled(),
    };
    let report = synth::run(gen.clone(), sink.as_mut(), &run).map_err(synth_error)?;
    print_report(&report, &target, &printer);
    printer.info(format!("wrote {} (seed {})", report.target, gen.schema().seed));
    Ok(Exit::Success)
}

/// Without --allow-prod: refuse a target labelled prod by --environment or
/// listed in LOADLINE_PROD_DATABASES.
fn refuse_prod(args: &SynthArgs, target: &Target) -> Result<(), CliError> {
    let why = if args.environment == Some(EnvArg::Prod) {
        Some("--environment prod".to_string())
    } else {
        std::env::var("LOADLINE_PROD_DATABASES")
            .ok()
            .and_then(|list| sink::listed_as_prod(target, &list))
    };
    match why {
        Some(why) => Err(CliError::input(sink::Error::Prod {
            target: target.describe(),
            why,
        })),
        None => Ok(()),
    }
}

/// A sink that cannot be opened: the user's mistake or the system's.
fn sink_error(e: sink::Error) -> CliError {
    if e.is_input() {
        CliError::input(e)
    } else {
        CliError::from(e)
    }
}

/// A run that failed: the user's mistake or the system's.
fn synth_error(e: synth::Error) -> CliError {
    if e.is_input() {
        CliError::input(e)
    } else {
        CliError::from(e)
    }
}

/// Rows, seconds and rows per second of each table and of the whole run.
fn print_report(report: &synth::Report, target: &Target, printer: &Printer) {
    // With `csv:-` the rows are on stdout; the report goes to stderr.
    let say = |line: String| {
        if target.is_stdout() {
            printer.info(line)
        } else {
            printer.out(line)
        }
    };
    say(format!(
        "{:<16} {:>12} {:>9} {:>12}",
        "table", "rows", "seconds", "rows/s"
    ));
    let mut total = 0;
    for t in &report.tables {
        total += t.rows;
        say(format!(
            "{:<16} {:>12} {:>9.2} {:>12.0}",
            t.name,
            t.rows,
            t.seconds,
            t.rows as f64 / t.seconds.max(1e-9)
        ));
    }
    if report.finish_seconds >= 0.005 {
        say(format!(
            "{:<16} {:>12} {:>9.2}",
            "(keys, analyze)", "", report.finish_seconds
        ));
    }
    say(format!(
        "{:<16} {:>12} {:>9.2} {:>12.0}",
        "total",
        total,
        report.seconds,
        total as f64 / report.seconds.max(1e-9)
    ));
}
