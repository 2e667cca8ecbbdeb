//! PostgreSQL: `COPY ... FROM STDIN` (text format) per table, each table
//! created and loaded in one transaction, so a failure rolls the whole
//! table back. Primary keys, unique constraints and foreign keys are added
//! in one more transaction after the last table, then the tables are
//! analysed. The rows are encoded on the generator threads; this thread
//! only moves bytes, so generation overlaps with the server's work.

use std::io::Write;

use postgres::{Client, NoTls};

use super::{ddl, redact_url, Chunks, Error, RunPlan, Sink};
use crate::synth::encode::{Dialect, Encoding};

pub struct PostgresSink {
    url: String,
    client: Client,
}

/// The server's message with its detail and context (`COPY users, line
/// 1234`), which is where the row number comes from.
fn pg_message(e: &postgres::Error) -> String {
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

impl PostgresSink {
    pub fn connect(url: &str) -> Result<Self, Error> {
        let client = Client::connect(url, NoTls).map_err(|e| Error::Database {
            target: redact_url(url),
            message: format!("cannot connect: {}", pg_message(&e)),
        })?;
        let mut s = PostgresSink {
            url: url.to_string(),
            client,
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

impl Sink for PostgresSink {
    fn encoding(&self) -> Encoding {
        Encoding::PgText
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
        let copy = format!(
            "COPY {} ({}) FROM STDIN",
            q(&t.name),
            t.columns.iter().map(|c| q(&c.name)).collect::<Vec<_>>().join(", ")
        );
        let mut tx = self.client.transaction().map_err(|e| terr(pg_message(&e)))?;
        tx.batch_execute(&create).map_err(|e| terr(pg_message(&e)))?;
        let mut w = tx.copy_in(&copy).map_err(|e| terr(pg_message(&e)))?;
        let mut sent = 0u64;
        for c in chunks {
            if let Err(e) = w.write_all(&c.bytes) {
                // The server's reason is reported by `finish`, not the write.
                drop(w);
                return Err(terr(format!("COPY failed near row {}: {e}", sent + 1)));
            }
            sent += c.batch.rows as u64;
        }
        let expected = plan.ranges[table].end - plan.ranges[table].start;
        if sent != expected {
            return Err(terr(format!("generation stopped after {sent} of {expected} rows")));
        }
        let rows = w.finish().map_err(|e| terr(pg_message(&e)))?;
        tx.commit().map_err(|e| terr(pg_message(&e)))?;
        Ok(rows)
    }

    fn finish(&mut self, plan: &RunPlan) -> Result<(), Error> {
        let mut sql = String::from("BEGIN;");
        for (ti, _) in plan.tables() {
            for c in ddl::constraints(Dialect::Postgres, plan.schema, ti, &plan.selected) {
                sql.push_str(&c);
                sql.push_str(";\n");
            }
        }
        sql.push_str("COMMIT;");
        self.client.batch_execute(&sql).map_err(|e| self.err(&e))?;
        let names: Vec<String> = plan
            .tables()
            .map(|(_, t)| Dialect::Postgres.quote_ident(&t.name))
            .collect();
        self.client
            .batch_execute(&format!("ANALYZE {}", names.join(", ")))
            .map_err(|e| self.err(&e))
    }

    fn describe(&self) -> String {
        redact_url(&self.url)
    }
}
