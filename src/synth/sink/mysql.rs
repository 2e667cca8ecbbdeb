//! MariaDB / MySQL: `LOAD DATA LOCAL INFILE` fed straight from the
//! generator threads (no file on disk), or large batched `INSERT`s in one
//! transaction when the server has `local_infile` switched off (or the user
//! asks for them: some proxies refuse `LOCAL INFILE`).
//!
//! MySQL commits DDL implicitly, so a table cannot be created and loaded
//! in one transaction: a table whose load fails is dropped instead, and
//! the error names it. InnoDB keeps rows in primary-key order, so the
//! primary key is declared up front; unique and foreign keys come after
//! the last table.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mysql::prelude::Queryable;
use mysql::{Conn, LocalInfileHandler, Opts};

use super::{ddl, dropped, redact_url, Chunks, Error, Marker, RunPlan, SeedState, Shared, Sink};
use crate::synth::encode::{Dialect, Encoding};
use crate::synth::schema::Table;

/// Why one table's rows did not all go in; the sink reports it as
/// [`Error::Table`] with the target and the table.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error(transparent)]
    Server(#[from] mysql::Error),

    #[error("generation stopped after {sent} of {expected} rows")]
    Stopped { sent: u64, expected: u64 },

    /// `LOAD DATA` skipped or changed rows (it warns instead of failing).
    #[error("the server loaded {loaded} of {expected} rows with {warnings} warnings{}", first.as_ref().map(|(code, m)| format!(" (first: {code} {m})")).unwrap_or_default())]
    Warnings {
        loaded: u64,
        expected: u64,
        warnings: u16,
        /// Code and message of the first warning, if the server says.
        first: Option<(u32, String)>,
    },

    #[error(transparent)]
    NotUtf8(#[from] std::str::Utf8Error),

    /// An `INSERT` of rows `first..=last` (1-based, in this table) failed.
    #[error("in rows {first}..{last}: {source}")]
    Rows {
        first: u64,
        last: u64,
        source: mysql::Error,
    },
}

/// A MariaDB or MySQL database (`mysql://` or `mariadb://`), loaded over
/// one connection.
pub struct MysqlSink {
    url: String,
    conn: Conn,
    local_infile: bool,
    /// Tables this run created and loaded, in order.
    created: Vec<String>,
}

impl MysqlSink {
    pub fn connect(url: &str, allow_local_infile: bool) -> Result<Self, Error> {
        let target = redact_url(url);
        let opts = Opts::from_url(url).map_err(|e| Error::Database {
            target: target.clone(),
            message: format!("bad URL: {e}"),
        })?;
        let mut conn = Conn::new(opts).map_err(|e| Error::Database {
            target: target.clone(),
            message: format!("cannot connect: {e}"),
        })?;
        let local: Option<i64> = conn
            .query_first("SELECT @@GLOBAL.local_infile")
            .map_err(|e| Error::Database {
                target: target.clone(),
                message: e.to_string(),
            })?;
        conn.query_drop("SET NAMES utf8mb4, SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO', SESSION time_zone = '+00:00'")
            .map_err(|e| Error::Database {
                target: target.clone(),
                message: e.to_string(),
            })?;
        Ok(MysqlSink {
            url: url.to_string(),
            conn,
            local_infile: allow_local_infile && local == Some(1),
            created: Vec::new(),
        })
    }

    fn err(&self, e: mysql::Error) -> Error {
        Error::Database {
            target: redact_url(&self.url),
            message: e.to_string(),
        }
    }
    /// `LOAD DATA LOCAL INFILE` of the table's chunks, streamed to the server
    /// as it asks for the "file"; every expected row must arrive, without a
    /// warning.
    fn load_data(&mut self, t: &Table, chunks: Chunks, expected: u64, record: Option<u32>) -> Result<u64, LoadError> {
        let q = |s: &str| Dialect::Mysql.quote_ident(s);
        let sent = Arc::new(AtomicU64::new(0));
        let source = Arc::new(Mutex::new(Some(chunks)));
        let (s2, src2) = (sent.clone(), source.clone());
        self.conn
            .set_local_infile_handler(Some(LocalInfileHandler::new(move |_, w| {
                let taken = src2.lock().ok().and_then(|mut g| g.take());
                if let Some(chunks) = taken {
                    for c in chunks {
                        w.write_all(&c.bytes)?;
                        s2.fetch_add(c.batch.rows as u64, Ordering::Relaxed);
                    }
                }
                Ok(())
            })));
        let load = format!(
            "LOAD DATA LOCAL INFILE 'loadline-{}' INTO TABLE {} CHARACTER SET utf8mb4 \
             FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({})",
            t.name,
            q(&t.name),
            Dialect::Mysql.column_list(t)
        );
        // In a transaction of its own, so a short or failed load is rolled
        // back rather than committed by autocommit.
        let r = self.conn.query_drop("START TRANSACTION").map_err(LoadError::from);
        let r = r
            .and_then(|()| self.conn.query_drop(&load).map_err(LoadError::from))
            .and_then(|_| {
                let (loaded, warnings) = (self.conn.affected_rows(), self.conn.warnings());
                let sent = sent.load(Ordering::Relaxed);
                if sent != expected {
                    Err(LoadError::Stopped { sent, expected })
                } else if loaded != expected || warnings > 0 {
                    let first: Option<(String, u32, String)> =
                        self.conn.query_first("SHOW WARNINGS LIMIT 1").ok().flatten();
                    Err(LoadError::Warnings {
                        loaded,
                        expected,
                        warnings,
                        first: first.map(|(_, code, m)| (code, m)),
                    })
                } else {
                    Ok(loaded)
                }
            });
        let r = r.and_then(|loaded| {
            self.record_shard(&t.name, record, loaded)?;
            self.conn.query_drop("COMMIT")?;
            Ok(loaded)
        });
        if r.is_err() {
            let _ = self.conn.query_drop("ROLLBACK");
        }
        self.conn.set_local_infile_handler(None);
        r
    }

    /// The table's chunks as batched `INSERT`s in one transaction, rolled
    /// back unless every expected row went in.
    /// In a sharded seed, record in the load's transaction that shard
    /// `record` loaded `rows` rows of `table` (a second load of the same
    /// shard fails on the key and rolls back).
    fn record_shard(&mut self, table: &str, record: Option<u32>, rows: u64) -> Result<(), mysql::Error> {
        match record {
            Some(shard) => self.conn.exec_drop(
                "INSERT INTO loadline_seed_shards (table_name, shard, `rows`) VALUES (?, ?, ?)",
                (table, shard, rows),
            ),
            None => Ok(()),
        }
    }

    fn insert_batches(
        &mut self,
        t: &Table,
        chunks: Chunks,
        expected: u64,
        record: Option<u32>,
    ) -> Result<u64, LoadError> {
        let mut inserted = 0u64;
        let r = (|| -> Result<u64, LoadError> {
            self.conn.query_drop("START TRANSACTION")?;
            for c in chunks {
                // A chunk is whole `INSERT` statements (never split: a
                // value may hold `;` and newlines); one round trip each.
                let sql = std::str::from_utf8(&c.bytes)?;
                self.conn.query_drop(sql).map_err(|source| LoadError::Rows {
                    first: inserted + 1,
                    last: inserted + c.batch.rows as u64,
                    source,
                })?;
                inserted += c.batch.rows as u64;
            }
            if inserted != expected {
                return Err(LoadError::Stopped {
                    sent: inserted,
                    expected,
                });
            }
            self.record_shard(&t.name, record, inserted)?;
            self.conn.query_drop("COMMIT")?;
            Ok(inserted)
        })();
        if r.is_err() {
            let _ = self.conn.query_drop("ROLLBACK");
        }
        r
    }
}

impl Sink for MysqlSink {
    fn encoding(&self) -> Encoding {
        if self.local_infile {
            Encoding::MysqlText
        } else {
            Encoding::Insert(Dialect::Mysql)
        }
    }

    fn prepare(&mut self, plan: &RunPlan) -> Result<(), Error> {
        let names: Vec<String> = plan.tables().map(|(_, t)| t.name.clone()).collect();
        if plan.reset {
            // Children first; other tables may still point at these.
            self.conn
                .query_drop("SET FOREIGN_KEY_CHECKS = 0")
                .map_err(|e| self.err(e))?;
            for n in names.iter().rev() {
                self.conn
                    .query_drop(ddl::drop_table(Dialect::Mysql, n))
                    .map_err(|e| self.err(e))?;
            }
            return Ok(());
        }
        for n in &names {
            let found: Option<String> = self
                .conn
                .exec_first(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
                    (n,),
                )
                .map_err(|e| self.err(e))?;
            if found.is_some() {
                return Err(Error::Exists {
                    target: self.describe(),
                    table: n.clone(),
                });
            }
        }
        self.conn
            .query_drop("SET FOREIGN_KEY_CHECKS = 0")
            .map_err(|e| self.err(e))
    }

    fn write_table(&mut self, plan: &RunPlan, table: usize, chunks: Chunks) -> Result<u64, Error> {
        let t = &plan.schema.tables[table];
        let target = self.describe();
        let terr = |message: String| Error::Table {
            target: target.clone(),
            table: t.name.clone(),
            message,
        };
        let expected = plan.rows(table);
        if plan.shared {
            // A shard of a sharded seed: the table is there, and other
            // shards load it too; a failure only rolls this load back.
            let record = Some(plan.shard.map_or(0, |(i, _)| i));
            let result = if self.local_infile {
                self.load_data(t, chunks, expected, record)
            } else {
                self.insert_batches(t, chunks, expected, record)
            };
            return result.map_err(|e| terr(e.to_string()));
        }
        let create = ddl::create_table(Dialect::Mysql, plan.schema, table, &plan.selected);
        self.conn.query_drop(&create).map_err(|e| terr(e.to_string()))?;
        let result = if self.local_infile {
            self.load_data(t, chunks, expected, None)
        } else {
            self.insert_batches(t, chunks, expected, None)
        };
        match result {
            Ok(n) => {
                self.created.push(t.name.clone());
                Ok(n)
            }
            Err(e) => {
                // DDL is not transactional here: remove the half-made table.
                let _ = self.conn.query_drop(ddl::drop_table(Dialect::Mysql, &t.name));
                Err(terr(e.to_string()))
            }
        }
    }

    fn finish(&mut self, plan: &RunPlan) -> Result<(), Error> {
        if plan.shared {
            // A shard of a sharded seed: `synth finish` builds the keys.
            return Ok(());
        }
        for (ti, _) in plan.tables() {
            for c in ddl::constraints(Dialect::Mysql, plan.schema, ti, &plan.selected) {
                self.conn.query_drop(&c).map_err(|e| self.err(e))?;
            }
        }
        self.conn
            .query_drop("SET FOREIGN_KEY_CHECKS = 1")
            .map_err(|e| self.err(e))?;
        let names: Vec<String> = plan
            .tables()
            .map(|(_, t)| Dialect::Mysql.quote_ident(&t.name))
            .collect();
        self.conn
            .query_drop(format!("ANALYZE TABLE {}", names.join(", ")))
            .map_err(|e| self.err(e))
    }

    fn abort(&mut self, plan: &RunPlan) -> String {
        // A shard's earlier tables stay (see `RunPlan::shared`): something was written.
        let mut undone = String::from(if plan.shared {
            "rolled back the open transaction"
        } else {
            "nothing written; rolled back the open transaction"
        });
        let mut failed = Vec::new();
        for n in self.created.iter().rev() {
            if let Err(e) = self.conn.query_drop(ddl::drop_table(Dialect::Mysql, n)) {
                failed.push(format!("{n} ({e})"));
            }
        }
        if failed.is_empty() {
            undone.push_str(&dropped(&self.created));
        } else {
            undone.push_str(&format!("; could not drop {}", failed.join(", ")));
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

impl Shared for MysqlSink {
    fn create_for_shards(&mut self, plan: &RunPlan, marker: &Marker) -> Result<(), Error> {
        self.prepare(plan)?;
        // MySQL commits DDL at once: the record goes in last, so tables
        // without it are never mistaken for a prepared seed; a failure
        // drops what was made.
        let mut made = Vec::new();
        let result = (|| -> Result<(), mysql::Error> {
            for sql in ddl::seed_marker_tables(Dialect::Mysql) {
                self.conn.query_drop(sql)?;
            }
            for (ti, t) in plan.tables() {
                self.conn
                    .exec_drop("DELETE FROM loadline_seed_shards WHERE table_name = ?", (&t.name,))?;
                self.conn
                    .exec_drop("DELETE FROM loadline_seed_runs WHERE table_name = ?", (&t.name,))?;
                self.conn
                    .query_drop(ddl::create_table(Dialect::Mysql, plan.schema, ti, &plan.selected))?;
                made.push(t.name.clone());
            }
            self.conn.query_drop("START TRANSACTION")?;
            for (ti, t) in plan.tables() {
                self.conn.exec_drop(
                    "INSERT INTO loadline_seed_runs (table_name, schema_sha256, seed, scale, shards, `rows`) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        &t.name,
                        &marker.schema_sha256,
                        marker.seed.to_string(),
                        &marker.scale,
                        marker.shards,
                        plan.rows(ti),
                    ),
                )?;
            }
            self.conn.query_drop("COMMIT")
        })();
        result.map_err(|e| {
            let _ = self.conn.query_drop("ROLLBACK");
            for n in made.iter().rev() {
                let _ = self.conn.query_drop(ddl::drop_table(Dialect::Mysql, n));
            }
            self.err(e)
        })
    }

    fn seed_state(&mut self, plan: &RunPlan) -> Result<Vec<Option<SeedState>>, Error> {
        let present: Option<i64> = self
            .conn
            .query_first(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() \
                 AND table_name IN ('loadline_seed_runs', 'loadline_seed_shards')",
            )
            .map_err(|e| self.err(e))?;
        let names: Vec<String> = plan.tables().map(|(_, t)| t.name.clone()).collect();
        if present != Some(2) {
            return Ok(vec![None; names.len()]);
        }
        let mut out = Vec::new();
        for n in &names {
            type Run = (String, String, String, u32, u64, i64);
            let run: Option<Run> = self
                .conn
                .exec_first(
                    "SELECT schema_sha256, seed, scale, shards, `rows`, finished_at IS NOT NULL \
                     FROM loadline_seed_runs WHERE table_name = ?",
                    (n,),
                )
                .map_err(|e| self.err(e))?;
            let Some((sha, seed, scale, shards, rows, finished)) = run else {
                out.push(None);
                continue;
            };
            let loaded: Vec<(u32, u64)> = self
                .conn
                .exec(
                    "SELECT shard, `rows` FROM loadline_seed_shards WHERE table_name = ?",
                    (n,),
                )
                .map_err(|e| self.err(e))?;
            out.push(Some(SeedState {
                marker: Marker {
                    schema_sha256: sha,
                    seed: seed.parse().unwrap_or_default(),
                    scale,
                    shards,
                },
                rows,
                finished: finished != 0,
                loaded: loaded.into_iter().collect(),
            }));
        }
        Ok(out)
    }

    fn mark_finished(&mut self, plan: &RunPlan) -> Result<(), Error> {
        for (_, t) in plan.tables() {
            self.conn
                .exec_drop(
                    "UPDATE loadline_seed_runs SET finished_at = CURRENT_TIMESTAMP WHERE table_name = ?",
                    (&t.name,),
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}
