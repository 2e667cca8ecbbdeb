//! Where generated rows go (`--to`): files (CSV, JSON lines, a SQL script)
//! or a database (SQLite, PostgreSQL, MariaDB/MySQL).
//!
//! Every sink follows the same contract, so a failure or an interrupted
//! run never leaves output that looks complete: files are written as
//! `.partial` and renamed together when the last table is whole; each
//! database table is loaded in its own transaction (or dropped on failure
//! where the engine cannot roll DDL back), constraints are added once all
//! tables are in, and [`Sink::abort`] drops the tables a failed run had
//! already loaded.

use std::ops::Range;
use std::path::PathBuf;

use super::encode::{Dialect, Encoding};
use super::pipeline::Chunk;
use super::schema::{Schema, Table};

pub(crate) mod ddl;
mod files;
mod mysql;
pub(crate) mod postgres;
mod sqlite;

/// Why rows could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--to` value is not a target, or the target cannot take this
    /// run (what is wrong, quoting the value without its password).
    #[error("--to {0}")]
    BadTarget(String),

    /// A file or folder of a file target could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The target is labelled prod and `--allow-prod` was not given.
    #[error("refusing to write to {target}: it is labelled prod ({why}); pass --allow-prod if you really mean it")]
    Prod {
        /// The target, without its password.
        target: String,
        /// Which label made it prod.
        why: String,
    },

    /// A table of the run is already in the database and `--reset` was not
    /// given.
    #[error("table `{table}` already exists in {target}; pass --reset to drop and recreate the schema's tables")]
    Exists {
        /// The database, without its password.
        target: String,
        /// The table found.
        table: String,
    },

    /// The database refused a connection or a statement outside a table's
    /// load.
    #[error("{target}: {message}")]
    Database {
        /// The database, without its password.
        target: String,
        /// The driver's or the server's message.
        message: String,
    },

    /// One table could not be created or loaded (nothing of it is left).
    #[error("{target}: table `{table}`: {message}")]
    Table {
        /// The target, without its password.
        target: String,
        /// The table being written.
        table: String,
        /// What went wrong.
        message: String,
    },
}

/// The tables of one run and what to do with existing ones.
#[derive(Debug)]
pub struct RunPlan<'a> {
    /// The schema the rows come from.
    pub schema: &'a Schema,
    /// Per table of the schema: part of this run?
    pub selected: Vec<bool>,
    /// Drop and recreate the run's tables.
    pub reset: bool,
    /// Row range per table (all rows, or this shard's).
    pub ranges: Vec<Range<u64>>,
    /// This run is shard `index` of `count`.
    pub shard: Option<(u32, u32)>,
    /// The rows go into tables `synth prepare` created for a sharded seed
    /// ([`crate::synth::seed`]): no table is created, each table's rows
    /// are recorded in `loadline_seed_shards` in the transaction that loads
    /// them, keys wait for `synth finish`, and a failure drops nothing
    /// (other shards load the same tables).
    pub shared: bool,
}

impl RunPlan<'_> {
    /// How many rows of table `table` this run writes.
    pub fn rows(&self, table: usize) -> u64 {
        let r = &self.ranges[table];
        r.end - r.start
    }

    /// The first shard (or the only run): creates the tables.
    pub fn first_shard(&self) -> bool {
        self.shard.is_none_or(|(i, _)| i == 0)
    }

    /// The last shard (or the only run): adds the constraints.
    pub fn last_shard(&self) -> bool {
        self.shard.is_none_or(|(i, n)| i + 1 == n)
    }

    /// The run's tables with their index in the schema, parents first.
    pub fn tables(&self) -> impl Iterator<Item = (usize, &Table)> {
        self.schema.tables.iter().enumerate().filter(|(i, _)| self.selected[*i])
    }
}

/// The chunks of one table, in order.
pub type Chunks = Box<dyn Iterator<Item = Chunk> + Send>;

/// Somewhere a run's rows go: files or a database. [`crate::synth::run`]
/// calls `prepare`, then `write_table` per table, parents first, then
/// `finish`.
pub trait Sink {
    /// What the generator threads should encode rows into.
    fn encoding(&self) -> Encoding;
    /// Check the destination and make room, before any row is generated.
    fn prepare(&mut self, plan: &RunPlan) -> Result<(), Error>;
    /// Write one table's rows; returns how many were written.
    fn write_table(&mut self, plan: &RunPlan, table: usize, chunks: Chunks) -> Result<u64, Error>;
    /// After the last table: constraints, renames, commit.
    fn finish(&mut self, plan: &RunPlan) -> Result<(), Error>;
    /// The run failed or was interrupted after `prepare`: undo it so that
    /// nothing of it looks complete (partial files removed, the open
    /// transaction rolled back, the tables this run created dropped).
    /// Best effort; returns what was undone, for the message, starting
    /// with "nothing written" unless something of the run stays (a shard's
    /// earlier tables, rows already on standard output).
    fn abort(&mut self, plan: &RunPlan) -> String;
    /// Where the rows went, for messages (no password).
    fn describe(&self) -> String;
    /// The database as a target of a sharded seed, when it can be one
    /// (PostgreSQL, MariaDB/MySQL: several processes load it side by side).
    fn shared(&mut self) -> Option<&mut dyn Shared> {
        None
    }
}

/// How a sharded seed is recorded in the database itself, so that every
/// step (`synth prepare`, each `synth --shard`, `synth finish`), run from
/// any machine, checks the same facts: one row per table in
/// `loadline_seed_runs` (the run's settings, finished or not) and one row
/// per table and shard in `loadline_seed_shards`, committed with the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// SHA-256 of the schema file's bytes, hex.
    pub schema_sha256: String,
    /// The seed every value derives from.
    pub seed: u64,
    /// `--scale` as given (`1` without it).
    pub scale: String,
    /// How many shards load the tables.
    pub shards: u32,
}

/// What the marker tables say about one table of a sharded seed.
#[derive(Debug, Clone)]
pub struct SeedState {
    /// The run that prepared the table.
    pub marker: Marker,
    /// The table's rows in the whole seed.
    pub rows: u64,
    /// Whether `synth finish` completed.
    pub finished: bool,
    /// Shards that loaded the table, with the rows each loaded.
    pub loaded: std::collections::BTreeMap<u32, u64>,
}

/// A database several shard processes seed side by side.
pub trait Shared {
    /// `synth prepare`: make room as [`Sink::prepare`] does (`--reset`, or
    /// refuse existing tables), create the plan's tables without the keys
    /// `finish` adds, and record the run in the marker tables.
    fn create_for_shards(&mut self, plan: &RunPlan, marker: &Marker) -> Result<(), Error>;
    /// The marker rows of the plan's tables, in plan order (`None`: no
    /// record, `synth prepare` was not run for that table).
    fn seed_state(&mut self, plan: &RunPlan) -> Result<Vec<Option<SeedState>>, Error>;
    /// `synth finish`, after the keys are built: record the run as finished.
    fn mark_finished(&mut self, plan: &RunPlan) -> Result<(), Error>;
}

impl Error {
    /// Whether the user must change their input (exit code 2) rather than
    /// something having gone wrong on the way (exit code 1).
    pub fn is_input(&self) -> bool {
        matches!(self, Error::BadTarget(_) | Error::Prod { .. } | Error::Exists { .. })
    }
}

/// A `--to` value, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `csv:DIR`: one CSV file per table in `DIR` (`-`: standard output).
    Csv(PathBuf),
    /// `jsonl:DIR`: one JSON-lines file per table in `DIR` (`-`: standard
    /// output).
    Jsonl(PathBuf),
    /// `sql:FILE`: one SQL script.
    Sql(PathBuf),
    /// `sqlite:FILE` or `sqlite://FILE`: a SQLite database file.
    Sqlite(PathBuf),
    /// `postgres://` or `postgresql://` URL, as given.
    Postgres(String),
    /// `mysql://` or `mariadb://` URL, with the scheme made `mysql://`.
    Mysql(String),
}

impl Target {
    /// Read a `--to` value; [`Error::BadTarget`] says which forms exist.
    pub fn parse(s: &str) -> Result<Target, Error> {
        let lower = s.to_ascii_lowercase();
        let rest = |p: &str| s[p.len()..].to_string();
        let path = |p: &str| -> Result<PathBuf, Error> {
            let r = rest(p);
            if r.is_empty() {
                return Err(Error::BadTarget(format!("`{s}`: give a path after `{p}`")));
            }
            Ok(PathBuf::from(r))
        };
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Target::Postgres(s.to_string()));
        }
        if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            return Ok(Target::Mysql(format!(
                "mysql://{}",
                &s[s.find("://").unwrap_or(0) + 3..]
            )));
        }
        for (p, make) in [
            ("csv:", Target::Csv as fn(PathBuf) -> Target),
            ("jsonl:", Target::Jsonl),
            ("sql:", Target::Sql),
            ("sqlite://", Target::Sqlite),
            ("sqlite:", Target::Sqlite),
        ] {
            if lower.starts_with(p) {
                return Ok(make(path(p)?));
            }
        }
        Err(Error::BadTarget(format!(
            "`{}`: expected csv:DIR, jsonl:DIR, sql:FILE, sqlite:FILE, postgres://... or mysql://...",
            redact_url(s)
        )))
    }

    /// `csv:-` or `jsonl:-`: rows go to standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Target::Csv(p) | Target::Jsonl(p) if p.as_os_str() == "-")
    }

    /// SQLite, PostgreSQL or MySQL, as opposed to files.
    pub fn is_database(&self) -> bool {
        matches!(self, Target::Sqlite(_) | Target::Postgres(_) | Target::Mysql(_))
    }

    /// For messages: the target with any password removed.
    pub fn describe(&self) -> String {
        match self {
            Target::Csv(p) => format!("csv:{}", p.display()),
            Target::Jsonl(p) => format!("jsonl:{}", p.display()),
            Target::Sql(p) => format!("sql:{}", p.display()),
            Target::Sqlite(p) => format!("sqlite:{}", p.display()),
            Target::Postgres(u) | Target::Mysql(u) => redact_url(u),
        }
    }
}

/// `scheme://user:secret@host/db` -> `scheme://user:***@host/db`; also drops
/// `password=` query parameters.
pub(crate) fn redact_url(u: &str) -> String {
    let mut out = u.to_string();
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = out[auth_start..].find(['/', '?']).map_or(out.len(), |i| auth_start + i);
        if let Some(at) = out[auth_start..auth_end].rfind('@') {
            let userinfo = &out[auth_start..auth_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(auth_start + colon + 1..auth_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let parts: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{head}{}", parts.join("&"));
    }
    out
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`, lower-cased.
fn split_host_port(hp: &str) -> (String, Option<u16>) {
    let (host, port) = match hp.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (rest, None),
        },
        None => match hp.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()),
            None => (hp, None),
        },
    };
    (host.to_ascii_lowercase(), port)
}

/// Host, port and database of a database URL, for matching prod lists.
fn url_parts(u: &str) -> Option<(String, Option<u16>, String)> {
    let rest = &u[u.find("://")? + 3..];
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, ""));
    let db = db.split('?').next().unwrap_or("").to_string();
    let (host, port) = split_host_port(hostport.split('?').next().unwrap_or(""));
    Some((host, port, db))
}

/// Whether `target` is listed in `list` (the `LOADLINE_PROD_DATABASES`
/// variable: comma-separated `host`, `host:port`, `host/db`,
/// `host:port/db` or full URLs).
pub fn listed_as_prod(target: &Target, list: &str) -> Option<String> {
    let url = match target {
        Target::Postgres(u) | Target::Mysql(u) => u,
        Target::Sqlite(p) => {
            let p = p.to_string_lossy();
            return list
                .split(',')
                .map(str::trim)
                .find(|e| !e.is_empty() && *e == p)
                .map(|e| format!("`{e}` is listed in LOADLINE_PROD_DATABASES"));
        }
        _ => return None,
    };
    let (host, port, db) = url_parts(url)?;
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let e = entry.split_once("://").map_or(entry, |(_, r)| r);
        let e = e.rsplit_once('@').map_or(e, |(_, r)| r);
        let (ehp, edb) = match e.split_once('/') {
            Some((a, b)) => (a, Some(b.split('?').next().unwrap_or(""))),
            None => (e, None),
        };
        let (eh, ep) = split_host_port(ehp);
        let host_ok = eh == host;
        let port_ok = ep.is_none() || ep == port;
        let db_ok = edb.is_none_or(|d| d.is_empty() || d == db);
        if host_ok && port_ok && db_ok {
            return Some(format!("`{entry}` is listed in LOADLINE_PROD_DATABASES"));
        }
    }
    None
}

/// "; dropped tables a, b (loaded by this run)", or nothing when no table
/// was loaded: the end of [`Sink::abort`]'s message for a database.
fn dropped(tables: &[String]) -> String {
    match tables {
        [] => String::new(),
        [t] => format!("; dropped table {t} (loaded by this run)"),
        ts => format!("; dropped tables {} (loaded by this run)", ts.join(", ")),
    }
}

/// Options for opening a sink.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// Dialect of `sql:` files.
    pub dialect: Dialect,
    /// MariaDB/MySQL: load with `LOAD DATA LOCAL INFILE` when the server
    /// allows it (else, or when false, batched `INSERT`s).
    pub local_infile: bool,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            dialect: Dialect::Postgres,
            local_infile: true,
        }
    }
}

/// Open the sink for a target.
pub fn open(target: &Target, opts: &SinkOptions) -> Result<Box<dyn Sink>, Error> {
    Ok(match target {
        Target::Csv(dir) => Box::new(files::FileSink::new(dir.clone(), files::Format::Csv)),
        Target::Jsonl(dir) => Box::new(files::FileSink::new(dir.clone(), files::Format::Jsonl)),
        Target::Sql(file) => Box::new(files::SqlFileSink::new(file.clone(), opts.dialect)),
        Target::Sqlite(file) => Box::new(sqlite::SqliteSink::open(file.clone())?),
        Target::Postgres(url) => Box::new(postgres::PostgresSink::connect(url)?),
        Target::Mysql(url) => Box::new(mysql::MysqlSink::connect(url, opts.local_infile)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("csv:out/").unwrap(), Target::Csv("out/".into()));
        assert_eq!(Target::parse("sqlite:dev.db").unwrap(), Target::Sqlite("dev.db".into()));
        assert!(matches!(
            Target::parse("postgresql://x@h/db").unwrap(),
            Target::Postgres(_)
        ));
        assert_eq!(
            Target::parse("mariadb://root@h/test").unwrap(),
            Target::Mysql("mysql://root@h/test".into())
        );
        assert!(Target::parse("parquet:x").is_err());
        assert!(Target::parse("csv:").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:hunter2@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("mysql://root@h/test?password=x&ssl=1"),
            "mysql://root@h/test?password=***&ssl=1"
        );
        let e = Target::parse("pg://u:hunter2@h/db").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn prod_lists_match_host_port_and_database() {
        let t = Target::parse("postgres://u:pw@db.prod.internal:5432/shop").unwrap();
        assert!(listed_as_prod(&t, "db.prod.internal").is_some());
        assert!(listed_as_prod(&t, "other, db.prod.internal:5432/shop").is_some());
        assert!(listed_as_prod(&t, "postgres://db.prod.internal/shop").is_some());
        assert!(listed_as_prod(&t, "db.prod.internal:5433").is_none());
        assert!(listed_as_prod(&t, "db.prod.internal/other").is_none());
        assert!(listed_as_prod(&t, "").is_none());
        let v6 = Target::parse("postgres://u@[::1]:5433/shop").unwrap();
        assert!(listed_as_prod(&v6, "[::1]").is_some());
        assert!(listed_as_prod(&v6, "[::1]:5433/shop").is_some());
        assert!(listed_as_prod(&v6, "[::1]:5432").is_none());
        let v6_default = Target::parse("postgres://u@[::1]/shop").unwrap();
        assert!(listed_as_prod(&v6_default, "[::1]/shop").is_some());
    }
}
