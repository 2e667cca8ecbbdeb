//! PostgreSQL: `COPY ... FROM STDIN` (binary format, frozen) per table, each
//! table created and loaded in one transaction, so a failure rolls the whole
//! table back. Once a table is committed, its primary key, unique
//! constraints and foreign keys (to the tables before it) are added in one
//! transaction and it is analysed, on a second connection ([`KeyBuilder`]),
//! while this one loads the next table: the server builds one table's
//! indexes on one core while it stores the next table's rows on the other.
//! `finish` waits for the last table's keys; `synth finish`, whose sink
//! loaded nothing, adds every table's keys in one transaction. The rows are
//! encoded on the generator threads; this thread only moves bytes, so
//! generation overlaps with the server's work.

use std::io::Write;
use std::path::PathBuf;

use postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{ddl, dropped, redact_url, Chunks, Error, Marker, RunPlan, SeedState, Shared, Sink};
use crate::synth::encode::{Dialect, Encoding, PG_BINARY_HEADER, PG_BINARY_TRAILER};
use crate::tls::{client_config, Verify};

pub struct PostgresSink {
    url: String,
    client: Client,
    /// Tables this run created and committed, in order.
    created: Vec<String>,
    /// The second connection that adds the keys of committed tables, started with the first.
    keys: Option<KeyBuilder>,
    /// Tables whose keys went to `keys`, by index in the schema.
    keyed: Vec<usize>,
}

/// A thread with its own connection that adds each committed table's keys and analyses it,
/// in the order the tables were committed (parents first, so a foreign key finds its parent's
/// key), while the sink's own connection loads the next table. The first error stops it;
/// [`KeyBuilder::wait`] reports it.
struct KeyBuilder {
    jobs: Option<std::sync::mpsc::Sender<KeyJob>>,
    handle: Option<std::thread::JoinHandle<Result<(), String>>>,
}

/// One table's keys (one transaction) and its `ANALYZE`.
struct KeyJob {
    constraints: String,
    analyze: String,
}

impl KeyBuilder {
    fn start(url: &str) -> Result<KeyBuilder, String> {
        let (tx, rx) = std::sync::mpsc::channel::<KeyJob>();
        let url = url.to_string();
        let handle = std::thread::Builder::new()
            .name("pg-keys".into())
            .spawn(move || -> Result<(), String> {
                let mut client = connect_client(&url)?;
                client
                    .batch_execute("SET client_min_messages = warning")
                    .map_err(|e| pg_message(&e))?;
                for job in rx {
                    if !job.constraints.is_empty() {
                        client.batch_execute(&job.constraints).map_err(|e| pg_message(&e))?;
                    }
                    client.batch_execute(&job.analyze).map_err(|e| pg_message(&e))?;
                }
                Ok(())
            })
            .map_err(|e| format!("cannot start the thread that adds keys: {e}"))?;
        Ok(KeyBuilder {
            jobs: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queue a table's keys. A builder that has stopped on an error drops them: `wait` reports
    /// the error.
    fn add(&self, job: KeyJob) {
        if let Some(tx) = &self.jobs {
            let _ = tx.send(job);
        }
    }

    /// Every queued table's keys are in (or the first error).
    fn wait(mut self) -> Result<(), String> {
        drop(self.jobs.take());
        match self.handle.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the thread that adds keys panicked".into()),
            None => Ok(()),
        }
    }
}

/// The server's message with its detail and context (`COPY users, line
/// 1234`), which is where the row number comes from.
pub(crate) fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = db.message().to_string();
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            if let Some(w) = db.where_() {
                m.push_str(&format!(" [{w}]"));
            }
            m
        }
        None => {
            let mut m = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                m.push_str(&format!(": {s}"));
                src = s.source();
            }
            m
        }
    }
}

/// libpq's `sslmode`, which tokio-postgres only knows in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Take `sslmode` and `sslrootcert` out of a URL's query (the rest goes to
/// tokio-postgres as it is).
fn ssl_params(url: &str) -> Result<(String, SslMode, Option<PathBuf>), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), SslMode::Prefer, None));
    };
    let (mut mode, mut root, mut rest) = (SslMode::Prefer, None, Vec::new());
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        match kv.split_once('=') {
            Some(("sslmode", v)) => {
                mode = match v {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode `{other}` (expected disable, prefer, require, verify-ca or verify-full)"
                        ))
                    }
                }
            }
            Some(("sslrootcert", v)) => root = Some(PathBuf::from(v)),
            _ => rest.push(kv),
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, mode, root))
}

/// Connect as libpq would: `sslmode=prefer` (the default) encrypts when
/// the server offers TLS, without checking its certificate, as `psql`
/// does; `require` insists on TLS (and checks the chain when `sslrootcert`
/// is given); `verify-ca` checks the chain, `verify-full` the chain and the
/// host name, against the system's roots and `sslrootcert`. Shared with
/// `synth learn`'s PostgreSQL source; the message never holds the URL.
pub(crate) fn connect_client(url: &str) -> Result<Client, String> {
    let (clean, mode, root) = ssl_params(url)?;
    let mut config: postgres::Config = clean.parse().map_err(|e| format!("bad URL: {e}"))?;
    let verify = match (mode, &root) {
        (SslMode::Disable, _) => None,
        (SslMode::Prefer, _) | (SslMode::Require, None) => Some(Verify::Nothing),
        (SslMode::Require | SslMode::VerifyCa, _) => Some(Verify::Chain),
        (SslMode::VerifyFull, _) => Some(Verify::Full),
    };
    config.ssl_mode(match mode {
        SslMode::Disable => postgres::config::SslMode::Disable,
        SslMode::Prefer => postgres::config::SslMode::Prefer,
        _ => postgres::config::SslMode::Require,
    });
    let connected = match verify {
        None => config.connect(NoTls),
        Some(v) => {
            let tls = client_config(v, root.as_deref()).map_err(|e| format!("TLS: {e}"))?;
            config.connect(MakeRustlsConnect::new(tls))
        }
    };
    connected.map_err(|e| format!("cannot connect: {}", pg_message(&e)))
}

impl PostgresSink {
    /// Connect as libpq would (see [`connect_client`]).
    pub fn connect(url: &str) -> Result<Self, Error> {
        let client = connect_client(url).map_err(|message| Error::Database {
            target: redact_url(url),
            message,
        })?;
        let mut s = PostgresSink {
            url: url.to_string(),
            client,
            created: Vec::new(),
            keys: None,
            keyed: Vec::new(),
        };
        s.client
            .batch_execute("SET client_min_messages = warning")
            .map_err(|e| s.err(&e))?;
        Ok(s)
    }

    fn err(&self, e: &postgres::Error) -> Error {
        Error::Database {
            target: redact_url(&self.url),
            message: pg_message(e),
        }
    }
}

impl PostgresSink {
    /// Hand table `table`'s keys and `ANALYZE` to the key builder (started on the first
    /// table), which adds them while this connection loads the next table.
    fn queue_keys(&mut self, plan: &RunPlan, table: usize) -> Result<(), Error> {
        let mut constraints = String::new();
        for c in ddl::constraints(Dialect::Postgres, plan.schema, table, &plan.selected) {
            constraints.push_str(&c);
            constraints.push_str(";\n");
        }
        if !constraints.is_empty() {
            constraints = format!("BEGIN;\n{constraints}COMMIT;");
        }
        let analyze = format!(
            "ANALYZE {}",
            Dialect::Postgres.quote_ident(&plan.schema.tables[table].name)
        );
        if self.keys.is_none() {
            let k = KeyBuilder::start(&self.url).map_err(|message| Error::Database {
                target: redact_url(&self.url),
                message,
            })?;
            self.keys = Some(k);
        }
        if let Some(k) = &self.keys {
            k.add(KeyJob { constraints, analyze });
            self.keyed.push(table);
        }
        Ok(())
    }
}

impl Sink for PostgresSink {
    fn encoding(&self) -> Encoding {
        Encoding::PgBinary
    }

    fn prepare(&mut self, plan: &RunPlan) -> Result<(), Error> {
        let names: Vec<String> = plan.tables().map(|(_, t)| t.name.clone()).collect();
        if plan.reset {
            let mut sql = String::from("BEGIN;");
            for n in names.iter().rev() {
                sql.push_str(&ddl::drop_table(Dialect::Postgres, n));
                sql.push(';');
            }
            sql.push_str("COMMIT;");
            self.client.batch_execute(&sql).map_err(|e| self.err(&e))?;
            return Ok(());
        }
        let rows = self
            .client
            .query(
                "SELECT c.relname::text FROM pg_class c \
                 WHERE c.relname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
                 AND c.relnamespace = current_schema()::regnamespace",
                &[&names],
            )
            .map_err(|e| self.err(&e))?;
        if let Some(r) = rows.first() {
            return Err(Error::Exists {
                target: self.describe(),
                table: r.get(0),
            });
        }
        Ok(())
    }

    fn write_table(&mut self, plan: &RunPlan, table: usize, chunks: Chunks) -> Result<u64, Error> {
        let t = &plan.schema.tables[table];
        let target = self.describe();
        let terr = |message: String| Error::Table {
            target: target.clone(),
            table: t.name.clone(),
            message,
        };
        let q = |s: &str| Dialect::Postgres.quote_ident(s);
        let create = ddl::create_table(Dialect::Postgres, plan.schema, table, &plan.selected);
        // A table created in this transaction is loaded frozen: its rows are written
        // already visible to everyone, so the scans that build its keys and `ANALYZE`
        // do not first rewrite every page to set hint bits. A shard's tables were made
        // by `synth prepare`, so it cannot.
        let copy = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary{})",
            q(&t.name),
            Dialect::Postgres.column_list(t),
            if plan.shared { "" } else { ", FREEZE" }
        );
        let mut tx = self.client.transaction().map_err(|e| terr(pg_message(&e)))?;
        if !plan.shared {
            tx.batch_execute(&create).map_err(|e| terr(pg_message(&e)))?;
        }
        let mut w = tx.copy_in(&copy).map_err(|e| terr(pg_message(&e)))?;
        if let Err(e) = w.write_all(PG_BINARY_HEADER) {
            drop(w);
            return Err(terr(format!("COPY failed before the first row: {e}")));
        }
        let mut sent = 0u64;
        for c in chunks {
            if let Err(e) = w.write_all(&c.bytes) {
                // The server's reason is reported by `finish`, not the write.
                drop(w);
                return Err(terr(format!("COPY failed near row {}: {e}", sent + 1)));
            }
            sent += c.batch.rows as u64;
        }
        let expected = plan.rows(table);
        if sent != expected {
            // Dropping the writer unfinished aborts the COPY.
            drop(w);
            tx.rollback().map_err(|e| terr(pg_message(&e)))?;
            return Err(terr(format!("generation stopped after {sent} of {expected} rows")));
        }
        if let Err(e) = w.write_all(PG_BINARY_TRAILER) {
            drop(w);
            return Err(terr(format!("COPY failed after the last row: {e}")));
        }
        let rows = w.finish().map_err(|e| terr(pg_message(&e)))?;
        if plan.shared {
            // Committed with the rows: the record says exactly what is in.
            // A shard loading a table twice fails here, on the key.
            let shard = plan.shard.map_or(0, |(i, _)| i);
            tx.execute(
                "INSERT INTO loadline_seed_shards (table_name, shard, rows) VALUES ($1, $2, $3)",
                &[&t.name, &(shard as i32), &(rows as i64)],
            )
            .map_err(|e| terr(pg_message(&e)))?;
        }
        tx.commit().map_err(|e| terr(pg_message(&e)))?;
        if !plan.shared {
            self.created.push(t.name.clone());
            self.queue_keys(plan, table)?;
        }
        Ok(rows)
    }

    fn finish(&mut self, plan: &RunPlan) -> Result<(), Error> {
        if plan.shared {
            // A shard of a sharded seed: `synth finish` builds the keys.
            return Ok(());
        }
        if let Some(k) = self.keys.take() {
            k.wait().map_err(|message| Error::Database {
                target: redact_url(&self.url),
                message,
            })?;
        }
        // Tables this sink did not load (`synth finish` after a sharded seed): all their
        // keys in one transaction, so that a failure leaves none, then `ANALYZE`.
        let rest: Vec<usize> = plan
            .tables()
            .map(|(ti, _)| ti)
            .filter(|ti| !self.keyed.contains(ti))
            .collect();
        if rest.is_empty() {
            return Ok(());
        }
        let mut sql = String::from("BEGIN;");
        for &ti in &rest {
            for c in ddl::constraints(Dialect::Postgres, plan.schema, ti, &plan.selected) {
                sql.push_str(&c);
                sql.push_str(";\n");
            }
        }
        sql.push_str("COMMIT;");
        self.client.batch_execute(&sql).map_err(|e| self.err(&e))?;
        let names: Vec<String> = rest
            .iter()
            .map(|&ti| Dialect::Postgres.quote_ident(&plan.schema.tables[ti].name))
            .collect();
        self.client
            .batch_execute(&format!("ANALYZE {}", names.join(", ")))
            .map_err(|e| self.err(&e))
    }

    fn abort(&mut self, plan: &RunPlan) -> String {
        // The key builder holds locks on tables about to be dropped: let it finish first.
        if let Some(k) = self.keys.take() {
            let _ = k.wait();
        }
        // A shard's earlier tables stay (see `RunPlan::shared`): something was written.
        let mut undone = String::from(if plan.shared {
            "rolled back the open transaction"
        } else {
            "nothing written; rolled back the open transaction"
        });
        if self.created.is_empty() {
            return undone;
        }
        let mut sql = String::from("BEGIN;");
        for n in self.created.iter().rev() {
            sql.push_str(&ddl::drop_table(Dialect::Postgres, n));
            sql.push(';');
        }
        sql.push_str("COMMIT;");
        match self.client.batch_execute(&sql) {
            Ok(()) => undone.push_str(&dropped(&self.created)),
            Err(e) => undone.push_str(&format!(
                "; could not drop {}: {}",
                self.created.join(", "),
                pg_message(&e)
            )),
        }
        undone
    }

    fn describe(&self) -> String {
        redact_url(&self.url)
    }

    fn shared(&mut self) -> Option<&mut dyn Shared> {
        Some(self)
    }
}

impl Shared for PostgresSink {
    fn create_for_shards(&mut self, plan: &RunPlan, marker: &Marker) -> Result<(), Error> {
        self.prepare(plan)?;
        let names: Vec<String> = plan.tables().map(|(_, t)| t.name.clone()).collect();
        let mut tx = self.client.transaction().map_err(|e| Error::Database {
            target: redact_url(&self.url),
            message: pg_message(&e),
        })?;
        // One transaction: the tables and their record appear together.
        let mut sql = ddl::seed_marker_tables(Dialect::Postgres).join(";\n");
        sql.push_str(";\n");
        for (ti, _) in plan.tables() {
            sql.push_str(&ddl::create_table(Dialect::Postgres, plan.schema, ti, &plan.selected));
            sql.push_str(";\n");
        }
        let result = tx.batch_execute(&sql).and_then(|()| {
            tx.execute("DELETE FROM loadline_seed_shards WHERE table_name = ANY($1)", &[&names])?;
            tx.execute("DELETE FROM loadline_seed_runs WHERE table_name = ANY($1)", &[&names])?;
            for (ti, t) in plan.tables() {
                tx.execute(
                    "INSERT INTO loadline_seed_runs (table_name, schema_sha256, seed, scale, shards, rows) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &t.name,
                        &marker.schema_sha256,
                        &marker.seed.to_string(),
                        &marker.scale,
                        &(marker.shards as i32),
                        &(plan.rows(ti) as i64),
                    ],
                )?;
            }
            Ok(())
        });
        let result = result.and_then(|()| tx.commit());
        result.map_err(|e| self.err(&e))
    }

    fn seed_state(&mut self, plan: &RunPlan) -> Result<Vec<Option<SeedState>>, Error> {
        let names: Vec<String> = plan.tables().map(|(_, t)| t.name.clone()).collect();
        let present: bool = self
            .client
            .query_one(
                "SELECT to_regclass('loadline_seed_runs') IS NOT NULL AND to_regclass('loadline_seed_shards') IS NOT NULL",
                &[],
            )
            .map_err(|e| self.err(&e))?
            .get(0);
        if !present {
            return Ok(vec![None; names.len()]);
        }
        let runs = self
            .client
            .query(
                "SELECT table_name, schema_sha256, seed, scale, shards, rows, finished_at IS NOT NULL \
                 FROM loadline_seed_runs WHERE table_name = ANY($1)",
                &[&names],
            )
            .map_err(|e| self.err(&e))?;
        let shards = self
            .client
            .query(
                "SELECT table_name, shard, rows FROM loadline_seed_shards WHERE table_name = ANY($1)",
                &[&names],
            )
            .map_err(|e| self.err(&e))?;
        let mut out = Vec::new();
        for n in &names {
            let state = runs.iter().find(|r| r.get::<_, String>(0) == *n).map(|r| SeedState {
                marker: Marker {
                    schema_sha256: r.get(1),
                    seed: r.get::<_, String>(2).parse().unwrap_or_default(),
                    scale: r.get(3),
                    shards: r.get::<_, i32>(4) as u32,
                },
                rows: r.get::<_, i64>(5) as u64,
                finished: r.get(6),
                loaded: shards
                    .iter()
                    .filter(|s| s.get::<_, String>(0) == *n)
                    .map(|s| (s.get::<_, i32>(1) as u32, s.get::<_, i64>(2) as u64))
                    .collect(),
            });
            out.push(state);
        }
        Ok(out)
    }

    fn mark_finished(&mut self, plan: &RunPlan) -> Result<(), Error> {
        let names: Vec<String> = plan.tables().map(|(_, t)| t.name.clone()).collect();
        self.client
            .execute(
                "UPDATE loadline_seed_runs SET finished_at = now() WHERE table_name = ANY($1)",
                &[&names],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_parameters_are_taken_out_of_the_url() {
        let (u, m, r) =
            ssl_params("postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x").unwrap();
        assert_eq!(
            (u.as_str(), m, r),
            (
                "postgres://u@h/db?application_name=x",
                SslMode::VerifyFull,
                Some(PathBuf::from("/ca.pem"))
            )
        );
        assert_eq!(ssl_params("postgres://u@h/db").unwrap().1, SslMode::Prefer);
        assert_eq!(
            ssl_params("postgres://u@h/db?sslmode=disable").unwrap().0,
            "postgres://u@h/db"
        );
        assert!(ssl_params("postgres://u@h/db?sslmode=sometimes").is_err());
    }
}
