//! Data synthesis: production-shaped datasets from a schema, written to
//! files or seeded into databases.
//!
//! ```text
//! schema.yaml ─► schema::Schema ─► gen::Generator ─► pipeline (threads, chunks) ─► sink
//! ```
//!
//! [`schema`] is the file format, [`gen`] makes any row of any table as a
//! pure function of the seed, [`pipeline`] runs the generator on every
//! core in fixed chunks (the same bytes whatever the thread count), and
//! [`sink`] writes CSV, JSON lines, SQL, SQLite, PostgreSQL or MySQL.
//! Rows pass between them as [`batch::RowBatch`]es, which [`encode`] turns
//! into the bytes of each format.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub mod batch;
pub mod encode;
pub mod gen;
pub mod pipeline;
pub mod schema;
pub mod seed;
pub mod sink;

pub use gen::Generator;
pub use schema::Schema;

use crate::values::fake::did_you_mean;

/// Why a synthesis run failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The schema, or a flag applied to it (`--tables`), is not usable.
    #[error(transparent)]
    Schema(#[from] schema::Error),
    /// The rows could not be written where `--to` points.
    #[error(transparent)]
    Sink(#[from] sink::Error),
    /// A step of a sharded seed does not fit what the database records:
    /// not prepared, prepared with other settings, or already finished.
    #[error("{target}: {message}")]
    Seed {
        /// The database, without its password.
        target: String,
        /// What does not fit, and what to run instead.
        message: String,
    },
    /// `synth finish` found shards missing or short; nothing was built.
    #[error("{target}: the seed is not complete, nothing built: {missing}")]
    Incomplete {
        /// The database, without its password.
        target: String,
        /// Per table, the shards missing or short.
        missing: String,
    },
    /// The run's stop flag was raised (Ctrl-C, SIGTERM): it stopped
    /// generating and undid what it had written.
    #[error("{undone}")]
    Interrupted {
        /// What the sink undid (files removed, transaction rolled back,
        /// tables dropped).
        undone: String,
    },
}

impl Error {
    /// Whether the user must change their input (exit code 2).
    pub fn is_input(&self) -> bool {
        match self {
            Error::Schema(_) => true,
            Error::Sink(e) => e.is_input(),
            Error::Seed { .. } => true,
            Error::Interrupted { .. } | Error::Incomplete { .. } => false,
        }
    }
}

/// What to generate in this run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only these tables (by name); all when `None`.
    pub tables: Option<Vec<String>>,
    /// This run is shard `index` of `count`: each table's rows are split
    /// into `count` contiguous ranges.
    pub shard: Option<(u32, u32)>,
    /// Generator threads (at least 1).
    pub threads: usize,
    /// Drop and recreate the run's tables in a database.
    pub reset: bool,
    /// Draw a progress bar per table on stderr.
    pub progress: bool,
    /// Raised to stop the run (Ctrl-C, SIGTERM): checked between chunks;
    /// the sink then undoes the run and [`run`] returns
    /// [`Error::Interrupted`].
    pub stop: crate::interrupt::Flag,
    /// Load into tables `synth prepare` made for a sharded seed (see
    /// [`seed`]); set by [`seed::load_shard`].
    pub shared: bool,
}

/// How one table of a run went.
#[derive(Debug, Clone)]
pub struct TableReport {
    /// The table's name in the schema.
    pub name: String,
    /// Rows written (this shard's, with `--shard`).
    pub rows: u64,
    /// Wall-clock seconds to generate and write the table.
    pub seconds: f64,
}

/// What a run wrote, and how long it took.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where the rows went, without any password.
    pub target: String,
    /// The run's tables, in the order they were written (parents first).
    pub tables: Vec<TableReport>,
    /// After the last table: keys, constraints, statistics, renames.
    pub finish_seconds: f64,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
}

/// The rows of a table that shard `i` of `n` owns.
fn shard_range(rows: u64, shard: Option<(u32, u32)>) -> Range<u64> {
    match shard {
        None => 0..rows,
        Some((i, n)) => {
            let at = |k: u32| (u128::from(rows) * u128::from(k) / u128::from(n)) as u64;
            at(i)..at(i + 1)
        }
    }
}

/// Which tables of the schema a run includes.
fn select_tables(schema: &Schema, names: Option<&[String]>) -> Result<Vec<bool>, schema::Error> {
    let Some(names) = names else {
        return Ok(vec![true; schema.tables.len()]);
    };
    let mut selected = vec![false; schema.tables.len()];
    for n in names.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match schema.table(n) {
            Some((i, _)) => selected[i] = true,
            None => {
                return Err(schema::Error::Flag {
                    flag: "--tables",
                    message: format!(
                        "no table `{n}` in {}{} (tables: {})",
                        schema.path.display(),
                        did_you_mean(n, schema.tables.iter().map(|t| t.name.as_str())),
                        schema.table_names().join(", ")
                    ),
                })
            }
        }
    }
    if !selected.iter().any(|s| *s) {
        return Err(schema::Error::Flag {
            flag: "--tables",
            message: "no table named".into(),
        });
    }
    Ok(selected)
}

/// What a run with `opts` writes: its tables and each table's rows.
fn plan<'a>(schema: &'a Schema, opts: &RunOptions) -> Result<sink::RunPlan<'a>, Error> {
    let selected = select_tables(schema, opts.tables.as_deref())?;
    Ok(sink::RunPlan {
        schema,
        selected,
        reset: opts.reset,
        ranges: schema.tables.iter().map(|t| shard_range(t.rows, opts.shard)).collect(),
        shard: opts.shard,
        shared: opts.shared,
    })
}

/// Generate the run's tables, parents first, into `sink`.
pub fn run(gen: Arc<Generator>, sink: &mut dyn sink::Sink, opts: &RunOptions) -> Result<Report, Error> {
    let plan = plan(gen.schema(), opts)?;
    let started = Instant::now();
    opts.stop.check().map_err(|_| Error::Interrupted {
        undone: "nothing written; stopped before the first table".into(),
    })?;
    if !plan.shared {
        sink.prepare(&plan)?;
    }
    let written = write_tables(&gen, sink, &plan, opts).and_then(|tables| {
        // A signal during the last table's commit is honoured here; once
        // `finish` starts, the run completes.
        if opts.stop.is_raised() {
            return Err(Error::Interrupted { undone: String::new() });
        }
        let t0 = Instant::now();
        sink.finish(&plan)?;
        Ok((tables, t0.elapsed().as_secs_f64()))
    });
    match written {
        Ok((tables, finish_seconds)) => Ok(Report {
            target: sink.describe(),
            tables,
            finish_seconds,
            seconds: started.elapsed().as_secs_f64(),
        }),
        Err(e) => {
            // Nothing of a failed or interrupted run may look complete.
            let undone = sink.abort(&plan);
            let undone = if plan.shared {
                format!(
                    "{undone}; the tables this shard loaded before stay, recorded: run it again to load the rest (`synth finish` refuses until every shard is in)"
                )
            } else {
                undone
            };
            if opts.stop.is_raised() {
                Err(Error::Interrupted { undone })
            } else {
                tracing::warn!("{}: {undone}", sink.describe());
                Err(e)
            }
        }
    }
}

/// Generate and write each table of the plan, parents first, stopping at
/// the first table that fails or when the stop flag is raised.
fn write_tables(
    gen: &Arc<Generator>,
    sink: &mut dyn sink::Sink,
    plan: &sink::RunPlan,
    opts: &RunOptions,
) -> Result<Vec<TableReport>, Error> {
    let enc = sink.encoding();
    let mut tables = Vec::new();
    for (ti, t) in plan.tables() {
        let t0 = Instant::now();
        let expected = plan.rows(ti);
        let bar = progress_bar(opts.progress, &t.name, expected);
        let stream = pipeline::ChunkStream::start(gen.clone(), ti, plan.ranges[ti].clone(), opts.threads, enc);
        // The stream ends early once the flag is raised; the sink sees a
        // short table and rolls it back.
        let stop = opts.stop.clone();
        let stream = stream.take_while(move |_| !stop.is_raised());
        let chunks: sink::Chunks = match &bar {
            Some(b) => {
                let b = b.clone();
                Box::new(stream.inspect(move |c| b.inc(c.batch.rows as u64)))
            }
            None => Box::new(stream),
        };
        let result = sink.write_table(plan, ti, chunks);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        if opts.stop.is_raised() {
            return Err(Error::Interrupted { undone: String::new() });
        }
        let rows = result?;
        if rows != expected {
            return Err(sink::Error::Table {
                target: sink.describe(),
                table: t.name.clone(),
                message: format!("wrote {rows} of {expected} rows"),
            }
            .into());
        }
        tables.push(TableReport {
            name: t.name.clone(),
            rows,
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    Ok(tables)
}

fn progress_bar(enabled: bool, name: &str, rows: u64) -> Option<ProgressBar> {
    if !enabled {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(rows), ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {human_pos}/{human_len} rows  {per_sec}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(name.to_string());
    Some(bar)
}
