//! File sinks: one CSV or JSON-lines file per table in a folder, or one SQL
//! script. Each file is written as `<name>.partial`; the files are renamed
//! together once every table is whole, so a failed or interrupted run
//! never leaves a file (or a set of files) that looks finished.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{ddl, Chunks, Error, RunPlan, Sink};
use crate::synth::encode::{csv_header, Dialect, Encoding};

/// The file format of a folder target; its name is the `--to` prefix
/// (`csv`, `jsonl`) and the files' extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Format {
    /// `DIR/<table>.csv`, with a header line.
    Csv,
    /// `DIR/<table>.jsonl`, one JSON object per row.
    Jsonl,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub struct FileSink {
    dir: PathBuf,
    format: Format,
    /// Whole tables waiting for the end of the run: (partial, final).
    pending: Vec<(PathBuf, PathBuf)>,
}

impl FileSink {
    pub fn new(dir: PathBuf, format: Format) -> Self {
        FileSink {
            dir,
            format,
            pending: Vec::new(),
        }
    }

    /// Remove the partial files of the tables written so far.
    fn remove_pending(&mut self) -> usize {
        let n = self.pending.len();
        for (tmp, _) in self.pending.drain(..) {
            let _ = std::fs::remove_file(tmp);
        }
        n
    }

    /// `csv:-` / `jsonl:-`: one table to standard output.
    fn to_stdout(&self) -> bool {
        self.dir.as_os_str() == "-"
    }
}

impl Sink for FileSink {
    fn encoding(&self) -> Encoding {
        match self.format {
            Format::Csv => Encoding::Csv,
            Format::Jsonl => Encoding::Jsonl,
        }
    }

    fn prepare(&mut self, plan: &RunPlan) -> Result<(), Error> {
        if self.to_stdout() {
            let n = plan.tables().count();
            if n != 1 {
                return Err(Error::BadTarget(format!(
                    "{}: standard output takes one table, this run has {n} (pass --tables NAME)",
                    self.describe()
                )));
            }
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))
    }

    fn write_table(&mut self, plan: &RunPlan, table: usize, chunks: Chunks) -> Result<u64, Error> {
        let t = &plan.schema.tables[table];
        if self.to_stdout() {
            let stdout = Path::new("<stdout>");
            let mut w = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            if self.format == Format::Csv {
                w.write_all(csv_header(t).as_bytes()).map_err(io(stdout))?;
            }
            let mut rows = 0u64;
            for c in chunks {
                w.write_all(&c.bytes).map_err(io(stdout))?;
                rows += c.batch.rows as u64;
            }
            w.flush().map_err(io(stdout))?;
            return Ok(rows);
        }
        let ext: &str = self.format.into();
        let path = self.dir.join(format!("{}.{ext}", t.name));
        let tmp = crate::atomic::partial_path(&path);
        let result = (|| {
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io(&tmp))?);
            if self.format == Format::Csv {
                w.write_all(csv_header(t).as_bytes()).map_err(io(&tmp))?;
            }
            let mut rows = 0u64;
            for c in chunks {
                w.write_all(&c.bytes).map_err(io(&tmp))?;
                rows += c.batch.rows as u64;
            }
            // Flushed, not fsynced: the rename is what marks the file
            // complete for a reader; surviving power loss is not the goal.
            w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
            Ok(rows)
        })();
        match result {
            // A short table (generation stopped) is not kept either.
            Ok(rows) if rows == plan.rows(table) => {
                self.pending.push((tmp, path));
                Ok(rows)
            }
            Ok(rows) => {
                let _ = std::fs::remove_file(&tmp);
                Ok(rows)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn finish(&mut self, _plan: &RunPlan) -> Result<(), Error> {
        for (tmp, path) in std::mem::take(&mut self.pending) {
            std::fs::rename(&tmp, &path).map_err(io(&path))?;
        }
        Ok(())
    }

    fn abort(&mut self, _plan: &RunPlan) -> String {
        if self.to_stdout() {
            return "the rows already written to standard output stay there".into();
        }
        let n = self.remove_pending();
        format!(
            "nothing written; removed the partial files of {} (the {n} table{} finished before the stop too)",
            self.dir.display(),
            if n == 1 { "" } else { "s" }
        )
    }

    fn describe(&self) -> String {
        let f: &str = self.format.into();
        format!("{f}:{}", self.dir.display())
    }
}

/// One SQL script: `CREATE TABLE`s, `INSERT`s in batches, constraints, all
/// in one transaction.
pub struct SqlFileSink {
    path: PathBuf,
    dialect: Dialect,
    out: Option<BufWriter<File>>,
}

impl SqlFileSink {
    pub fn new(path: PathBuf, dialect: Dialect) -> Self {
        SqlFileSink {
            path,
            dialect,
            out: None,
        }
    }

    fn w(&mut self) -> Result<&mut BufWriter<File>, Error> {
        let tmp = crate::atomic::partial_path(&self.path);
        self.out
            .as_mut()
            .ok_or_else(|| io(&tmp)(std::io::Error::other("not prepared")))
    }
}

impl Sink for SqlFileSink {
    fn encoding(&self) -> Encoding {
        Encoding::Insert(self.dialect)
    }

    fn prepare(&mut self, plan: &RunPlan) -> Result<(), Error> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let tmp = crate::atomic::partial_path(&self.path);
        let f = File::create(&tmp).map_err(io(&tmp))?;
        self.out = Some(BufWriter::with_capacity(1 << 20, f));
        let d = self.dialect;
        let mut head = format!(
            "-- Generated by loadline synth from {} (seed {}).\n",
            plan.schema.path.display(),
            plan.schema.seed
        );
        head.push_str(match d {
            Dialect::Mysql => "SET FOREIGN_KEY_CHECKS = 0;\nSTART TRANSACTION;\n",
            // Rows arrive parents first, but shard scripts hold slices of
            // every table; foreign keys are checked by construction instead
            // (a no-op inside a transaction, so before BEGIN).
            Dialect::Sqlite => "PRAGMA foreign_keys = OFF;\nBEGIN;\n",
            Dialect::Postgres => "BEGIN;\n",
        });
        if plan.reset && plan.first_shard() {
            let names: Vec<&str> = plan.tables().map(|(_, t)| t.name.as_str()).collect();
            for n in names.iter().rev() {
                head.push_str(&ddl::drop_table(d, n));
                head.push_str(";\n");
            }
        }
        self.w()?.write_all(head.as_bytes()).map_err(io(&tmp))
    }

    fn write_table(&mut self, plan: &RunPlan, table: usize, chunks: Chunks) -> Result<u64, Error> {
        let tmp = crate::atomic::partial_path(&self.path);
        // Shard scripts run one after another: the first creates the
        // tables, the last adds the constraints.
        let create = if plan.first_shard() {
            format!(
                "\n{};\n",
                ddl::create_table(self.dialect, plan.schema, table, &plan.selected)
            )
        } else {
            String::new()
        };
        let w = self.w()?;
        w.write_all(create.as_bytes()).map_err(io(&tmp))?;
        let mut rows = 0;
        for c in chunks {
            w.write_all(&c.bytes).map_err(io(&tmp))?;
            rows += c.batch.rows as u64;
        }
        Ok(rows)
    }

    fn finish(&mut self, plan: &RunPlan) -> Result<(), Error> {
        let tmp = crate::atomic::partial_path(&self.path);
        let mut tail = String::from("\n");
        // ... and the last adds the constraints, once every row is in.
        for (ti, _) in plan.tables().filter(|_| plan.last_shard()) {
            for c in ddl::constraints(self.dialect, plan.schema, ti, &plan.selected) {
                tail.push_str(&c);
                tail.push_str(";\n");
            }
        }
        tail.push_str("COMMIT;\n");
        if self.dialect == Dialect::Mysql {
            tail.push_str("SET FOREIGN_KEY_CHECKS = 1;\n");
        }
        let w = self.w()?;
        w.write_all(tail.as_bytes()).map_err(io(&tmp))?;
        let out = self
            .out
            .take()
            .ok_or_else(|| io(&tmp)(std::io::Error::other("not prepared")))?;
        out.into_inner()
            .map_err(|e| io(&tmp)(e.into_error()))?
            .sync_all()
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))
    }

    fn abort(&mut self, _plan: &RunPlan) -> String {
        let tmp = crate::atomic::partial_path(&self.path);
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&tmp);
        }
        format!("nothing written; removed {}", tmp.display())
    }

    fn describe(&self) -> String {
        format!("sql:{}", self.path.display())
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // Not finished: no partial file stays behind.
        self.remove_pending();
    }
}

impl Drop for SqlFileSink {
    fn drop(&mut self) {
        // Not finished: remove the partial script rather than leave it.
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(crate::atomic::partial_path(&self.path));
        }
    }
}
