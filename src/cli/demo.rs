//! `loadline demo`: the whole loop on one machine, with nothing to install:
//! seed a small shop (`profiles/demo.schema.yaml`) into SQLite, start the
//! built-in sample service on it (`target --db`) on a free loopback port,
//! replay `profiles/demo.yaml` against it (a compressed day with a spike,
//! about 20 s; its tenants and products drawn from the same schema), judge
//! the run with `profiles/gate.yaml` for `dev`, write the HTML report, and
//! say where everything is.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::{CliError, CliResult};
use crate::load::RunOptions;
use crate::printer::Printer;
use crate::profile::{self, Overrides};
use crate::sample::{RunningTarget, TargetConfig, WireFaults};
use crate::synth::{self, schema, sink, Generator};
use crate::units::Dur;

/// The demo profile, built into the binary so the demo runs from any
/// directory; `--profile` replays another one instead.
const DEMO_PROFILE: &str = include_str!("../../profiles/demo.yaml");
/// The demo's dataset: the profile's `from_schema` names it.
const DEMO_SCHEMA: &str = include_str!("../../profiles/demo.schema.yaml");
/// The policy the demo judges its run with.
const GATE_POLICY: &str = include_str!("../../profiles/gate.yaml");
/// The environment the demo judges for: `observe`, so it never blocks.
const GATE_ENV: &str = "dev";
/// The demo service closes each keep-alive connection after this many
/// responses, without a word.
const DEMO_CLOSE_AFTER: u64 = 250;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the results (the dataset goes in its `data/`).
    #[arg(long, short, default_value = "results/demo")]
    pub out: PathBuf,

    /// Replay this profile instead of the built-in profiles/demo.yaml (its
    /// base_url is pointed at the demo's own service).
    #[arg(long)]
    pub profile: Option<PathBuf>,

    /// Run for this long instead of the profile's 20 s.
    #[arg(long)]
    pub duration: Option<Dur>,
}

/// Where the demo's inputs and dataset are written (`OUT/data/`).
struct DataFiles {
    schema: PathBuf,
    profile: PathBuf,
    policy: PathBuf,
    db: PathBuf,
}

pub fn execute(args: DemoArgs, printer: Printer) -> CliResult {
    let files = write_inputs(&args.out)?;
    let started = Instant::now();
    let rows = seed(&files.schema, &files.db)?;
    printer.info(format!(
        "seeded {} ({rows} rows of {} in {:.2} s)",
        files.db.display(),
        files.schema.display(),
        started.elapsed().as_secs_f64()
    ));
    let config = TargetConfig {
        latency: Duration::from_micros(500),
        latency_jitter: Duration::from_millis(1),
        error_rate: 0.001,
        stall_every: Some(Duration::from_secs(12)),
        stall_for: Duration::from_millis(300),
        threads: 1,
        seed: 7,
        db: Some(files.db.clone()),
        // A keep-alive limit that does not announce itself, as many
        // servers and proxies have: GETs it catches are retried on a fresh
        // connection (counted), POSTs fail as `eof_before_response`.
        wire: WireFaults {
            close_after: Some(DEMO_CLOSE_AFTER),
            ..WireFaults::default()
        },
        ..TargetConfig::default()
    };
    let target = RunningTarget::start(config).map_err(|e| match e {
        crate::sample::Error::Db(_) => CliError::input(e),
        other => CliError::from(other),
    })?;
    printer.info(format!(
        "sample service on {} serving {} (answers in 1-3 ms, 0.1% errors, one 300 ms stall at t=12s, \
         each connection closed unannounced after {DEMO_CLOSE_AFTER} requests)",
        target.base_url(),
        files.db.display()
    ));
    let overrides = Overrides {
        set: vec![format!("target.base_url={}", target.base_url())],
        duration: args.duration.map(|d| d.0),
        ..Overrides::default()
    };
    let profile_path = args.profile.as_deref().unwrap_or(&files.profile);
    let profile = profile::load(profile_path, &overrides).map_err(CliError::input)?;
    let mut opts = RunOptions::new(&args.out);
    opts.progress = printer.progress_enabled();
    opts.handle_signals = true;
    let result = super::run::run_print_and_keep(profile, &opts, printer);
    let stats = target.stats();
    target.shutdown();
    printer.info(format!(
        "the sample service answered {} requests ({} not found)",
        stats.total, stats.not_found
    ));
    let (exit, dir) = result?;
    if let Some(dir) = dir {
        judge_and_report(&files, &dir, profile_path, printer)?;
    }
    Ok(exit)
}

/// The built-in schema, profile and policy written to `OUT/data/`, so the
/// profile's `from_schema` finds its schema beside it and a user can rerun
/// any step by hand.
fn write_inputs(out: &Path) -> Result<DataFiles, CliError> {
    let data = out.join("data");
    std::fs::create_dir_all(&data)
        .map_err(|e| CliError::from(anyhow::anyhow!("cannot create {}: {e}", data.display())))?;
    let files = DataFiles {
        schema: data.join("demo.schema.yaml"),
        profile: data.join("demo.yaml"),
        policy: data.join("gate.yaml"),
        db: data.join("shop.db"),
    };
    crate::atomic::write(&files.schema, DEMO_SCHEMA.as_bytes())?;
    crate::atomic::write(&files.profile, DEMO_PROFILE.as_bytes())?;
    crate::atomic::write(&files.policy, GATE_POLICY.as_bytes())?;
    Ok(files)
}

/// `loadline synth SCHEMA --to sqlite:DB` into a fresh file: the rows written.
fn seed(schema_path: &Path, db: &Path) -> Result<u64, CliError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CliError::from(anyhow::anyhow!("cannot replace {}: {e}", db.display()))),
        }
    }
    let schema = schema::load(schema_path, &schema::Options::default()).map_err(CliError::input)?;
    let gen = Arc::new(Generator::new(schema).map_err(CliError::input)?);
    let mut sink =
        sink::open(&sink::Target::Sqlite(db.to_path_buf()), &sink::SinkOptions::default()).map_err(CliError::from)?;
    let run = synth::RunOptions {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..synth::RunOptions::default()
    };
    let report = synth::run(gen, sink.as_mut(), &run).map_err(CliError::from)?;
    Ok(report.tables.iter().map(|t| t.rows).sum())
}

/// The gate's verdict for `dev` and the HTML report of the run in `dir`,
/// then where everything is.
fn judge_and_report(files: &DataFiles, dir: &Path, profile: &Path, printer: Printer) -> Result<(), CliError> {
    let runs = [dir.to_path_buf()];
    let judged = crate::gate::judge(
        crate::gate::Files {
            policy: &files.policy,
            runs: &runs,
            allow_partial: false,
            baseline: None,
            calibration: None,
        },
        GATE_ENV,
        crate::gate::DEFAULT_SEED,
    )
    .map_err(CliError::from)?;
    let report = dir.join("report.html");
    let html = crate::report::render(&judged.run, None, Some(&judged.verdict));
    crate::atomic::write(&report, html.as_bytes())?;
    let decision = judged.verdict.decision.name();
    let lines = [
        format!("dataset   {} (schema {})", files.db.display(), files.schema.display()),
        format!("profile   {}", profile.display()),
        format!("results   {}", dir.display()),
        format!(
            "verdict   {decision} for {GATE_ENV} ({}; `loadline gate {} --policy {} --env {GATE_ENV}` shows why)",
            files.policy.display(),
            dir.display(),
            files.policy.display()
        ),
        format!("report    {}", report.display()),
    ];
    printer.out(lines.join("\n"));
    Ok(())
}
