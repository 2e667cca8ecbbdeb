//! Sharded seeding: one PostgreSQL or MariaDB/MySQL database loaded by N
//! processes, on as many machines, in three steps.
//!
//! ```text
//! synth prepare SCHEMA --to URL --shards N   tables (no keys) + the run's record
//! synth SCHEMA --to URL --shard I/N          (each of N, in parallel) rows I owns
//! synth finish SCHEMA --to URL               all shards in? keys, indexes, ANALYZE
//! ```
//!
//! The database itself keeps the record (see [`sink::Marker`]): the run's
//! settings per table in `loadline_seed_runs`, and a row per table and
//! shard in `loadline_seed_shards`, committed in the same transaction as
//! that shard's rows. So every step, from any machine, checks the same
//! facts: a shard refuses tables prepared with another schema, seed, scale
//! or shard count; a shard run again skips the tables it already loaded;
//! `finish` refuses, naming them, while any shard is missing or short. A
//! seed that failed or stopped half-way is recognisable: no keys, and
//! `finished_at` empty. Row `i` of a table is the same whichever shard makes
//! it, so N shards give exactly the rows of one unsharded run.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::sink::{self, Marker, SeedState, Sink};
use super::{plan, shard_range, Error, Generator, Report, RunOptions, Schema};

/// The record of a sharded seed of `schema` (as loaded, with `scale`
/// applied) split into `shards`.
pub fn marker(schema: &Schema, scale: Option<f64>, shards: u32) -> Result<Marker, Error> {
    let bytes = std::fs::read(&schema.path).map_err(|source| sink::Error::Io {
        path: schema.path.clone(),
        source,
    })?;
    let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    Ok(Marker {
        schema_sha256: sha,
        seed: schema.seed,
        scale: scale.map_or_else(|| "1".to_string(), |s| s.to_string()),
        shards,
    })
}

fn not_shared(sink: &dyn Sink) -> Error {
    Error::Seed {
        target: sink.describe(),
        message:
            "sharded seeding needs PostgreSQL or MariaDB/MySQL (one SQLite file takes one writer: seed it in one run)"
                .into(),
    }
}

/// `synth prepare`: create the run's tables (keys come with `finish`) and
/// record the run, so that `marker.shards` shards can load them.
pub fn prepare(gen: &Generator, sink: &mut dyn Sink, opts: &RunOptions, marker: &Marker) -> Result<(), Error> {
    let plan = plan(
        gen.schema(),
        &RunOptions {
            shard: None,
            shared: false,
            ..opts.clone()
        },
    )?;
    let describe = sink.describe();
    let Some(shared) = sink.shared() else {
        return Err(not_shared(sink));
    };
    shared.create_for_shards(&plan, marker).map_err(|e| match e {
        sink::Error::Exists { target, table } => Error::Seed {
            target,
            message: format!("table `{table}` already exists; pass --reset to drop and recreate the schema's tables"),
        },
        e => Error::Sink(e),
    })?;
    tracing::debug!("{describe}: prepared for {} shards", marker.shards);
    Ok(())
}

/// How the record of one table differs from this step's settings, if it does.
fn mismatch(table: &str, found: &Marker, ours: &Marker) -> Option<String> {
    let mut why = Vec::new();
    if found.schema_sha256 != ours.schema_sha256 {
        why.push(format!(
            "another schema file (sha256 {}…, this one {}…)",
            &found.schema_sha256[..found.schema_sha256.len().min(12)],
            &ours.schema_sha256[..12]
        ));
    }
    if found.seed != ours.seed {
        why.push(format!("--seed {} (this step: {})", found.seed, ours.seed));
    }
    if found.scale != ours.scale {
        why.push(format!("--scale {} (this step: {})", found.scale, ours.scale));
    }
    if found.shards != ours.shards {
        why.push(format!("--shards {} (this step: {})", found.shards, ours.shards));
    }
    (!why.is_empty()).then(|| {
        format!(
            "table `{table}` was prepared with {}; run every step with the same schema, --seed and --scale, or prepare again with --reset",
            why.join(", ")
        )
    })
}

/// The record of every table of `plan`, checked against `ours`: prepared,
/// with the same settings, not finished.
fn recorded(sink: &mut dyn Sink, plan: &sink::RunPlan, ours: &Marker) -> Result<Vec<(String, SeedState)>, Error> {
    let target = sink.describe();
    let Some(shared) = sink.shared() else {
        return Err(not_shared(sink));
    };
    let states = shared.seed_state(plan)?;
    let seed_err = |message: String| Error::Seed {
        target: target.clone(),
        message,
    };
    let mut out = Vec::new();
    for ((_, t), state) in plan.tables().zip(states) {
        let Some(state) = state else {
            return Err(seed_err(format!(
                "table `{}` was not prepared for a sharded seed: run `loadline synth prepare {} --to URL --shards {}` first",
                t.name,
                plan.schema.path.display(),
                if ours.shards == 0 { "N".to_string() } else { ours.shards.to_string() }
            )));
        };
        if let Some(why) = mismatch(&t.name, &state.marker, ours) {
            return Err(seed_err(why));
        }
        if state.finished {
            return Err(seed_err(format!(
                "the sharded seed of `{}` is finished already; prepare again with --reset to seed it anew",
                t.name
            )));
        }
        out.push((t.name.clone(), state));
    }
    Ok(out)
}

/// `synth --shard I/N` into a prepared database: load the rows shard I owns
/// of every table it has not loaded yet (a shard run again after a failure
/// picks up where it stopped). `opts.shard` must be set.
pub fn load_shard(
    gen: Arc<Generator>,
    sink: &mut dyn Sink,
    opts: &RunOptions,
    marker: &Marker,
) -> Result<(Report, Vec<String>), Error> {
    let (index, _) = opts.shard.unwrap_or((0, 1));
    let all = plan(gen.schema(), opts)?;
    let states = recorded(sink, &all, marker)?;
    let (done, todo): (Vec<_>, Vec<_>) = states.into_iter().partition(|(_, s)| s.loaded.contains_key(&index));
    let skipped: Vec<String> = done.into_iter().map(|(t, _)| t).collect();
    if todo.is_empty() {
        let report = Report {
            target: sink.describe(),
            tables: Vec::new(),
            finish_seconds: 0.0,
            seconds: 0.0,
        };
        return Ok((report, skipped));
    }
    let opts = RunOptions {
        tables: Some(todo.into_iter().map(|(t, _)| t).collect()),
        shared: true,
        reset: false,
        ..opts.clone()
    };
    Ok((super::run(gen, sink, &opts)?, skipped))
}

/// What `synth finish` did.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The tables, with their rows.
    pub tables: Vec<(String, u64)>,
    /// Seconds to build the keys and analyse.
    pub seconds: f64,
}

/// `synth finish`: check that every shard loaded every table in full, then
/// build the keys and indexes, analyse, and record the seed as finished.
/// The shard count comes from the record (`marker.shards` is not read).
pub fn finish(gen: &Generator, sink: &mut dyn Sink, opts: &RunOptions, marker: &Marker) -> Result<Finished, Error> {
    let started = std::time::Instant::now();
    let plan = plan(
        gen.schema(),
        &RunOptions {
            shard: None,
            shared: false,
            ..opts.clone()
        },
    )?;
    let first = match sink.shared() {
        Some(shared) => shared.seed_state(&plan)?.into_iter().flatten().next(),
        None => return Err(not_shared(sink)),
    };
    let marker = Marker {
        shards: first.map_or(marker.shards, |s| s.marker.shards),
        ..marker.clone()
    };
    let marker = &marker;
    let states = recorded(sink, &plan, marker)?;
    let n = marker.shards;
    let mut problems = Vec::new();
    for (name, state) in &states {
        let mut missing = Vec::new();
        for i in 0..n {
            let want = shard_range(state.rows, Some((i, n)));
            let want = want.end - want.start;
            match state.loaded.get(&i) {
                None => missing.push(format!("shard {i}/{n} not loaded")),
                Some(&got) if got != want => missing.push(format!("shard {i}/{n} loaded {got} of {want} rows")),
                Some(_) => {}
            }
        }
        if !missing.is_empty() {
            problems.push(format!("`{name}`: {}", missing.join(", ")));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Incomplete {
            target: sink.describe(),
            missing: problems.join("; "),
        });
    }
    sink.finish(&plan)?;
    let describe = sink.describe();
    let Some(shared) = sink.shared() else {
        return Err(Error::Seed {
            target: describe,
            message: "not a sharded-seed target".into(),
        });
    };
    shared.mark_finished(&plan)?;
    Ok(Finished {
        tables: states.into_iter().map(|(t, s)| (t, s.rows)).collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(seed: u64, scale: &str, shards: u32) -> Marker {
        Marker {
            schema_sha256: "ab".repeat(32),
            seed,
            scale: scale.into(),
            shards,
        }
    }

    /// A step with other settings is told which ones differ.
    #[test]
    fn mismatches_name_every_setting_that_differs() {
        assert_eq!(mismatch("users", &m(7, "1", 2), &m(7, "1", 2)), None);
        let why = mismatch("users", &m(7, "0.5", 2), &m(8, "1", 4)).unwrap();
        assert!(
            why.contains("table `users` was prepared with --seed 7 (this step: 8)"),
            "{why}"
        );
        assert!(why.contains("--scale 0.5 (this step: 1)"), "{why}");
        assert!(why.contains("--shards 2 (this step: 4)"), "{why}");
        let mut other = m(7, "1", 2);
        other.schema_sha256 = "cd".repeat(32);
        assert!(mismatch("users", &other, &m(7, "1", 2))
            .unwrap()
            .contains("another schema file"));
    }
}
