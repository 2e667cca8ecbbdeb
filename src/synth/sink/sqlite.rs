//! SQLite: prepared `INSERT`s, one transaction per table (a failed table
//! leaves nothing behind), unique indexes after the load. A run that fails
//! or is interrupted drops the tables it had loaded, and removes the file
//! if the run created it.

use std::path::PathBuf;

use rusqlite::{types::Value, Connection};

use super::{ddl, dropped, Chunks, Error, RunPlan, Sink};
use crate::synth::batch::Cell;
use crate::synth::encode::{scalar, Dialect, Encoding};

pub struct SqliteSink {
    path: PathBuf,
    conn: Connection,
    /// The file did not exist before this run.
    new_file: bool,
    /// Tables this run created and committed, in order.
    created: Vec<String>,
}

impl SqliteSink {
    pub fn open(path: PathBuf) -> Result<Self, Error> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let new_file = !path.exists();
        let conn = Connection::open(&path).map_err(|e| Error::Database {
            target: format!("sqlite:{}", path.display()),
            message: e.to_string(),
        })?;
        Ok(SqliteSink {
            path,
            conn,
            new_file,
            created: Vec::new(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::Database {
            target: self.describe(),
            message: e.to_string(),
        }
    }
}

impl Sink for SqliteSink {
    fn encoding(&self) -> Encoding {
        Encoding::None
    }

    fn prepare(&mut self, plan: &RunPlan) -> Result<(), Error> {
        // A disposable database: durability of each commit is not needed,
        // the per-table transaction is what keeps failures clean.
        self.conn
            .execute_batch("PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;")
            .map_err(|e| self.err(e))?;
        let names: Vec<String> = plan.tables().map(|(_, t)| t.name.clone()).collect();
        if plan.reset {
            let mut sql = String::from("BEGIN;");
            for n in names.iter().rev() {
                sql.push_str(&ddl::drop_table(Dialect::Sqlite, n));
                sql.push(';');
            }
            sql.push_str("COMMIT;");
            self.conn.execute_batch(&sql).map_err(|e| self.err(e))?;
        } else {
            for n in &names {
                let exists: bool = self
                    .conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                        [n],
                        |r| r.get(0),
                    )
                    .map_err(|e| self.err(e))?;
                if exists {
                    return Err(Error::Exists {
                        target: self.describe(),
                        table: n.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn write_table(&mut self, plan: &RunPlan, table: usize, chunks: Chunks) -> Result<u64, Error> {
        let t = &plan.schema.tables[table];
        let q = |s: &str| Dialect::Sqlite.quote_ident(s);
        let create = ddl::create_table(Dialect::Sqlite, plan.schema, table, &plan.selected);
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            q(&t.name),
            Dialect::Sqlite.column_list(t),
            (1..=t.columns.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let describe = self.describe();
        let tx = self.conn.transaction().map_err(|e| Error::Database {
            target: describe.clone(),
            message: e.to_string(),
        })?;
        let terr = |msg: String| Error::Table {
            target: describe.clone(),
            table: t.name.clone(),
            message: msg,
        };
        tx.execute_batch(&create).map_err(|e| terr(e.to_string()))?;
        let mut rows = 0u64;
        {
            let mut stmt = tx.prepare(&insert).map_err(|e| terr(e.to_string()))?;
            let mut text = String::new();
            for chunk in chunks {
                let b = &chunk.batch;
                for r in 0..b.rows {
                    for (i, c) in b.row(r).iter().enumerate() {
                        let res = match *c {
                            Cell::Null => stmt.raw_bind_parameter(i + 1, Value::Null),
                            Cell::Int(v) => stmt.raw_bind_parameter(i + 1, v),
                            Cell::Float(v) => stmt.raw_bind_parameter(i + 1, v),
                            Cell::Bool(v) => stmt.raw_bind_parameter(i + 1, i64::from(v)),
                            Cell::Text { .. } | Cell::Json { .. } => stmt.raw_bind_parameter(i + 1, b.str(c)),
                            other => {
                                text.clear();
                                scalar(&other, false, &mut text);
                                stmt.raw_bind_parameter(i + 1, text.as_str())
                            }
                        };
                        res.map_err(|e| terr(format!("row {}: {e}", b.first_row + r as u64 + 1)))?;
                    }
                    stmt.raw_execute()
                        .map_err(|e| terr(format!("row {}: {e}", b.first_row + r as u64 + 1)))?;
                    rows += 1;
                }
            }
        }
        let expected = plan.rows(table);
        if rows != expected {
            tx.rollback().map_err(|e| terr(e.to_string()))?;
            return Err(terr(format!("generation stopped after {rows} of {expected} rows")));
        }
        tx.commit().map_err(|e| terr(e.to_string()))?;
        self.created.push(t.name.clone());
        Ok(rows)
    }

    fn finish(&mut self, plan: &RunPlan) -> Result<(), Error> {
        let mut sql = String::from("BEGIN;");
        for (ti, _) in plan.tables() {
            for c in ddl::constraints(Dialect::Sqlite, plan.schema, ti, &plan.selected) {
                sql.push_str(&c);
                sql.push(';');
            }
        }
        sql.push_str("COMMIT; ANALYZE;");
        self.conn.execute_batch(&sql).map_err(|e| self.err(e))
    }

    fn abort(&mut self, _plan: &RunPlan) -> String {
        let mut undone = String::from("nothing written; rolled back the open transaction");
        if self.new_file {
            // Nothing else was in it: the file goes, connection and all.
            let _ = self.conn.execute_batch("ROLLBACK");
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
            undone.push_str(&format!("; removed {} (this run created it)", self.path.display()));
            return undone;
        }
        let mut sql = String::from("BEGIN;");
        for n in self.created.iter().rev() {
            sql.push_str(&ddl::drop_table(Dialect::Sqlite, n));
            sql.push(';');
        }
        sql.push_str("COMMIT;");
        match self.conn.execute_batch(&sql) {
            Ok(()) => undone.push_str(&dropped(&self.created)),
            Err(e) => undone.push_str(&format!("; could not drop {}: {e}", self.created.join(", "))),
        }
        undone
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}
