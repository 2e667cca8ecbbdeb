//! `loadline synth SCHEMA --to TARGET`: generate a dataset and write it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};

use super::{CliError, CliResult, Exit};
use crate::printer::Printer;
use crate::synth::encode::Dialect;
use crate::synth::sink::{self, SinkOptions, Target};
use crate::synth::{self, schema, Generator, RunOptions};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SynthArgs {
    #[command(subcommand)]
    pub step: Option<SeedStep>,

    #[command(flatten)]
    pub data: DataArgs,

    /// Generate one shard: INDEX/COUNT, 0-based. Each table's rows are split
    /// into COUNT ranges; the shards together are exactly the whole dataset.
    /// Into PostgreSQL or MariaDB, after `synth prepare` (see `synth finish`).
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

    /// MariaDB/MySQL: load with batched INSERTs instead of LOAD DATA LOCAL
    /// INFILE (which is used when the server allows it).
    #[arg(long)]
    pub no_local_infile: bool,
}

/// What every step of `synth` reads: the schema, the target and the
/// settings that fix the rows.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The schema (YAML), e.g. fixtures/shop.schema.yaml.
    #[arg(required = true)]
    pub schema: Option<PathBuf>,

    /// Where the rows go: csv:DIR, jsonl:DIR, sql:FILE, sqlite:FILE,
    /// postgres://USER@HOST/DB or mysql://USER@HOST/DB; csv:- or jsonl:-
    /// write one table (--tables NAME) to standard output.
    #[arg(long, value_name = "TARGET", required = true)]
    pub to: Option<String>,

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

    /// The environment the target database belongs to; `prod` is refused
    /// without --allow-prod. Databases listed in LOADLINE_PROD_DATABASES
    /// (comma-separated hosts, host:port/db or URLs) count as prod too.
    #[arg(long, value_enum)]
    pub environment: Option<EnvArg>,

    /// Allow writing to a database labelled prod.
    #[arg(long)]
    pub allow_prod: bool,
}

/// The first and last steps of seeding one database from several machines.
#[derive(Debug, Subcommand)]
pub enum SeedStep {
    /// Sharded seeding, step 1: create the tables (keys come with `finish`)
    /// and record the run in the database, for `--shards` shard processes.
    Prepare(PrepareArgs),
    /// Sharded seeding, step 3: check every shard loaded every table in
    /// full, then build keys and indexes and analyse (refuses, naming the
    /// missing shards, until they are all in).
    Finish(FinishArgs),
    /// Learn a schema from a database or a directory of files: the shape of
    /// the data (counts, quantiles, categories seen at least k times,
    /// foreign keys), none of its values.
    Learn(LearnArgs),
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// What to learn from: postgres://USER@HOST/DB, mysql://USER@HOST/DB,
    /// sqlite:FILE, csv:DIR or jsonl:DIR.
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// The schema to write.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,

    /// Values, categories and quantile ends seen fewer times are never written.
    #[arg(long, short = 'k', default_value_t = 10, value_name = "K")]
    pub min_count: u64,

    /// Differential privacy: add Laplace noise to the counts, spending this
    /// budget in total (recorded in the schema's header).
    #[arg(long, value_name = "EPSILON")]
    pub epsilon: Option<f64>,

    /// Seed of the --epsilon noise (default: a random one, not recorded).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Read at most N rows per table (row counts then come from counting).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample_rows: Option<u64>,

    /// Only these tables, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "TABLE,...")]
    pub tables: Option<Vec<String>>,

    /// Environment variable holding the key values are hashed under (in
    /// memory only); without it, a one-off key.
    #[arg(long, default_value = "LOADLINE_LEARN_KEY", value_name = "NAME")]
    pub key_env: String,
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// How many shards will load the tables (`synth --shard I/N`, I from 0).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: u32,

    /// Drop and recreate the schema's tables (and forget their earlier
    /// sharded seed).
    #[arg(long)]
    pub reset: bool,
}

#[derive(Debug, Args)]
pub struct FinishArgs {
    #[command(flatten)]
    pub data: DataArgs,
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

/// `synth SCHEMA --to TARGET`, or one of the sharded-seeding steps.
pub fn execute(args: SynthArgs, printer: Printer) -> CliResult {
    match args.step {
        Some(SeedStep::Prepare(p)) => prepare(p, printer),
        Some(SeedStep::Finish(f)) => finish(f, printer),
        Some(SeedStep::Learn(l)) => learn(l, printer),
        None => generate(args, printer),
    }
}

/// The target (refused if prod) and the schema's generator: what every
/// step starts from. Prod is refused before anything else is read.
fn load(data: &DataArgs, printer: Printer) -> Result<(Target, Arc<Generator>), CliError> {
    let (Some(schema_path), Some(to)) = (&data.schema, &data.to) else {
        return Err(CliError::input(anyhow::anyhow!("SCHEMA and --to are required")));
    };
    let target = Target::parse(to).map_err(CliError::input)?;
    if !data.allow_prod {
        refuse_prod(data, &target)?;
    }
    let opts = schema::Options {
        scale: data.scale,
        seed: data.seed,
    };
    let schema = schema::load(schema_path, &opts).map_err(CliError::input)?;
    if !schema.seed_given {
        printer.info(format!(
            "no seed in the schema; using seed {} (pass --seed {} to repeat this dataset)",
            schema.seed, schema.seed
        ));
    }
    Ok((target, Arc::new(Generator::new(schema).map_err(CliError::input)?)))
}

/// What a step of a sharded seed works with: the generator, the database
/// and the run's record.
type SeedTarget = (Arc<Generator>, Box<dyn sink::Sink>, sink::Marker);

/// A step of a sharded seed: the database it seeds and the run's record.
fn seed_target(data: &DataArgs, shards: u32, local_infile: bool, printer: Printer) -> Result<SeedTarget, CliError> {
    let (target, gen) = load(data, printer)?;
    if !matches!(target, Target::Postgres(_) | Target::Mysql(_)) {
        return Err(CliError::input(anyhow::anyhow!(
            "{}: sharded seeding (synth prepare, synth --shard, synth finish) needs a postgres:// or mysql:// database; \
             a SQLite file takes one writer (seed it in one run), and file targets take --shard without prepare or finish",
            target.describe()
        )));
    }
    if !gen.schema().seed_given {
        return Err(CliError::input(anyhow::anyhow!(
            "{}: every step of a sharded seed needs the same seed, and the schema has none: pass --seed",
            gen.schema().path.display()
        )));
    }
    let marker = synth::seed::marker(gen.schema(), data.scale, shards).map_err(synth_error)?;
    let opts = SinkOptions {
        local_infile,
        ..SinkOptions::default()
    };
    let sink = sink::open(&target, &opts).map_err(sink_error)?;
    Ok((gen, sink, marker))
}

/// `synth prepare`: tables and the run's record, for N shards.
fn prepare(args: PrepareArgs, printer: Printer) -> CliResult {
    let (gen, mut sink, marker) = seed_target(&args.data, args.shards, true, printer)?;
    let run = RunOptions {
        tables: args.data.tables.clone(),
        reset: args.reset,
        threads: 1,
        ..RunOptions::default()
    };
    synth::seed::prepare(&gen, sink.as_mut(), &run, &marker).map_err(synth_error)?;
    let n = args.shards;
    printer.info(format!(
        "prepared {} for {n} shards (seed {}): now run `loadline synth {} --to URL --shard I/{n}` for I = 0..{}, then `loadline synth finish`",
        sink.describe(),
        marker.seed,
        gen.schema().path.display(),
        n - 1,
    ));
    Ok(Exit::Success)
}

/// `synth finish`: every shard in? keys, indexes, ANALYZE.
fn finish(args: FinishArgs, printer: Printer) -> CliResult {
    let (gen, mut sink, marker) = seed_target(&args.data, 0, true, printer)?;
    let run = RunOptions {
        tables: args.data.tables.clone(),
        threads: 1,
        ..RunOptions::default()
    };
    let done = synth::seed::finish(&gen, sink.as_mut(), &run, &marker).map_err(synth_error)?;
    for (t, rows) in &done.tables {
        printer.out(format!("{t:<16} {rows:>12}"));
    }
    printer.info(format!(
        "finished {}: every shard in, keys built and analysed in {:.2} s",
        sink.describe(),
        done.seconds
    ));
    Ok(Exit::Success)
}

/// Check the target, load the schema, generate every table into the sink,
/// and print how long each took.
fn generate(args: SynthArgs, printer: Printer) -> CliResult {
    let (target, gen) = load(&args.data, printer)?;
    if args.reset && matches!(target, Target::Csv(_) | Target::Jsonl(_)) {
        printer.info("note: --reset applies to databases and sql: scripts; csv/jsonl files are replaced anyway");
    }
    let sharded_seed = args.shard.filter(|_| target.is_database());
    if sharded_seed.is_some() {
        if args.reset {
            return Err(CliError::input(anyhow::anyhow!(
                "--reset with --shard: a shard loads tables `synth prepare` made; pass --reset to `synth prepare`"
            )));
        }
        if matches!(target, Target::Sqlite(_)) {
            return Err(CliError::input(anyhow::anyhow!(
                "--shard into SQLite: one file takes one writer, so seed it in one run (sharded seeding needs PostgreSQL or MariaDB/MySQL)"
            )));
        }
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let dialect = match args.dialect {
        DialectArg::Postgres => Dialect::Postgres,
        DialectArg::Mysql => Dialect::Mysql,
        DialectArg::Sqlite => Dialect::Sqlite,
    };
    let (mut sink, marker) = match sharded_seed {
        Some((_, n)) => {
            let (_, sink, marker) = seed_target(&args.data, n, !args.no_local_infile, printer)?;
            (sink, Some(marker))
        }
        None => {
            let opts = SinkOptions {
                dialect,
                local_infile: !args.no_local_infile,
            };
            (sink::open(&target, &opts).map_err(sink_error)?, None)
        }
    };
    // From here on Ctrl-C and SIGTERM stop the run cleanly.
    let signals = super::signals::watch(printer).map_err(CliError::from)?;
    let run = RunOptions {
        tables: args.data.tables,
        shard: args.shard,
        threads,
        reset: args.reset,
        progress: printer.progress_enabled(),
        stop: signals.flag(),
        shared: false,
    };
    let result = match &marker {
        Some(m) => synth::seed::load_shard(gen.clone(), sink.as_mut(), &run, m).map(|(report, skipped)| {
            if !skipped.is_empty() {
                printer.info(format!(
                    "this shard had loaded {} already (skipped)",
                    skipped.join(", ")
                ));
            }
            report
        }),
        None => synth::run(gen.clone(), sink.as_mut(), &run),
    };
    let report = match result {
        Err(e @ synth::Error::Interrupted { .. }) => {
            let signal = signals.signal();
            printer.error(format!("interrupted by {signal}: {e}"));
            return Ok(Exit::Aborted(signal));
        }
        other => other.map_err(synth_error)?,
    };
    if !report.tables.is_empty() {
        print_report(&report, &target, &printer);
    }
    printer.info(format!("wrote {} (seed {})", report.target, gen.schema().seed));
    if let Some((i, n)) = sharded_seed {
        printer.info(format!(
            "shard {i}/{n} loaded; once every shard has, run `loadline synth finish` to build the keys"
        ));
    }
    Ok(Exit::Success)
}

/// `synth learn SOURCE --out FILE`: profile the source, check the schema
/// loads as `synth` loads it, write it through a temporary file.
fn learn(args: LearnArgs, printer: Printer) -> CliResult {
    use crate::learn::data::{self, render, source};
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(CliError::input(anyhow::anyhow!(
                "--out: folder {} does not exist",
                parent.display()
            )));
        }
    }
    // Options first: a bad one is refused before any connection is made.
    if args.min_count == 0 {
        return Err(CliError::input(anyhow::anyhow!("--min-count must be at least 1")));
    }
    if let Some(e) = args.epsilon.filter(|e| !(e.is_finite() && *e > 0.0)) {
        return Err(CliError::input(anyhow::anyhow!(
            "--epsilon {e}: give a positive number"
        )));
    }
    let seed = args.seed.unwrap_or_else(|| rand::RngExt::random(&mut rand::rng()));
    let opts = data::Options {
        min_count: args.min_count,
        epsilon: args.epsilon,
        seed,
        sample_rows: args.sample_rows,
        tables: args.tables.clone(),
    };
    let prf = learn_secret(&args.key_env, &printer).prf("synth-learn", "values");
    let mut src = source::open(&args.source).map_err(CliError::input)?;
    let profile = data::profile(src.as_mut(), &opts, &prf).map_err(CliError::input)?;
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let text = render::render(&profile, &today);
    schema::from_str(&text, &args.out, &schema::Options::default())
        .map_err(|e| anyhow::anyhow!("the learned schema does not load (a bug in loadline synth learn): {e}"))?;
    crate::atomic::write(&args.out, text.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.out.display()))?;
    let rows: u64 = profile.tables.iter().map(|t| t.scanned).sum();
    printer.info(format!(
        "learned {} tables ({rows} rows read) and {} foreign keys from {}",
        profile.tables.len(),
        profile.fks.len(),
        profile.source
    ));
    printer.info(format!("wrote {}", args.out.display()));
    Ok(Exit::Success)
}

/// The key values are hashed under: from the environment, or a one-off one.
fn learn_secret(env: &str, printer: &Printer) -> crate::scrub::keyed::Secret {
    match std::env::var(env) {
        Ok(v) if !v.is_empty() => crate::scrub::keyed::Secret::new(v.into_bytes()),
        _ => {
            let mut key = vec![0u8; 32];
            rand::RngExt::fill(&mut rand::rng(), &mut key[..]);
            printer.info(format!(
                "values are hashed under a one-off key, in memory only (set {env} to fix it)"
            ));
            crate::scrub::keyed::Secret::new(key)
        }
    }
}

/// Without --allow-prod: refuse a target labelled prod by --environment or
/// listed in LOADLINE_PROD_DATABASES.
fn refuse_prod(args: &DataArgs, target: &Target) -> Result<(), CliError> {
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
