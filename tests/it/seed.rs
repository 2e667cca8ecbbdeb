//! Seeding real databases: SQLite (embedded, always), PostgreSQL and
//! MariaDB/MySQL on this machine (URLs from LOADLINE_TEST_POSTGRES_URL and
//! LOADLINE_TEST_MYSQL_URL, which `.ci/run` sets; without them the test
//! says it skipped). Each seeds the fixture, then queries it back: row
//! counts, foreign-key integrity, uniqueness, and values equal to the CSV
//! output of the same seed.

use std::path::Path;
use std::process::{Command, Output};

use mysql::prelude::Queryable;

use crate::support::*;

const TABLES: [(&str, i64); 4] = [("tenants", 50), ("users", 2000), ("products", 200), ("orders", 10_000)];

fn loadline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LOADLINE_PROD_DATABASES")
        .args(args)
        .output()
        .expect("run loadline")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Seed the fixture at 1% into `to` with --reset, and write the same rows
/// as CSV for comparison; returns the first user row of the CSV.
fn seed_fixture(s: &Scratch, to: &str) -> csv::StringRecord {
    let fx = root().join("fixtures/shop.schema.yaml");
    let fx = fx.to_str().expect("path");
    ok(&loadline(
        s.dir.path(),
        &["synth", fx, "--to", to, "--scale", "0.01", "--reset"],
    ));
    ok(&loadline(
        s.dir.path(),
        &["synth", fx, "--to", "csv:csv/", "--scale", "0.01"],
    ));
    let mut r = csv::Reader::from_path(s.path("csv/users.csv")).expect("users.csv");
    r.records().next().expect("a user").expect("record")
}

/// Without --reset, an existing table is refused (exit 2) before anything
/// is written.
fn refuses_existing(s: &Scratch, to: &str) {
    let fx = root().join("fixtures/shop.schema.yaml");
    let o = loadline(
        s.dir.path(),
        &["synth", fx.to_str().expect("path"), "--to", to, "--scale", "0.01"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("already exists") && err.contains("--reset"), "{err}");
}

const ORPHANS: [&str; 3] = [
    "SELECT COUNT(*) FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE t.id IS NULL",
    "SELECT COUNT(*) FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL",
    "SELECT COUNT(*) FROM orders o LEFT JOIN products p ON p.id = o.product_id WHERE p.id IS NULL",
];

#[test]
fn seeds_sqlite() {
    let s = Scratch::new();
    let first = seed_fixture(&s, "sqlite:dev.db");
    let db = rusqlite::Connection::open(s.path("dev.db")).expect("open dev.db");
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).expect(sql) };
    for (t, n) in TABLES {
        assert_eq!(count(&format!("SELECT COUNT(*) FROM {t}")), n, "{t}");
    }
    for q in ORPHANS {
        assert_eq!(count(q), 0, "{q}");
    }
    assert_eq!(count("SELECT COUNT(DISTINCT email) FROM users"), 2000);
    assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    let (email, name): (String, String) = db
        .query_row("SELECT email, name FROM users WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("user 1");
    assert_eq!((email.as_str(), name.as_str()), (&first[2], &first[3]));
    drop(db);
    refuses_existing(&s, "sqlite:dev.db");
}

fn env_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("SKIPPED: {var} is not set; this test needs a real server (.ci/run sets it)");
            None
        }
    }
}

#[test]
fn seeds_postgres() {
    let Some(url) = env_url("LOADLINE_TEST_POSTGRES_URL") else {
        return;
    };
    let s = Scratch::new();
    let first = seed_fixture(&s, &url);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let mut count = |sql: &str| -> i64 { c.query_one(sql, &[]).expect(sql).get(0) };
    for (t, n) in TABLES {
        assert_eq!(count(&format!("SELECT COUNT(*) FROM {t}")), n, "{t}");
    }
    for q in ORPHANS {
        assert_eq!(count(q), 0, "{q}");
    }
    assert_eq!(count("SELECT COUNT(DISTINCT email) FROM users"), 2000);
    assert_eq!(
        count("SELECT COUNT(*) FROM pg_constraint WHERE conrelid IN ('users'::regclass, 'orders'::regclass) AND contype = 'f'"),
        3
    );
    let row = c
        .query_one("SELECT email, name, signup_at::text FROM users WHERE id = 1", &[])
        .expect("user 1");
    let (email, name, signup): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (email.as_str(), name.as_str(), signup.as_str()),
        (&first[2], &first[3], &first[5])
    );
    refuses_existing(&s, &url);
}

#[test]
fn seeds_mysql() {
    let Some(url) = env_url("LOADLINE_TEST_MYSQL_URL") else {
        return;
    };
    let s = Scratch::new();
    let first = seed_fixture(&s, &url);
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&url).expect("url")).expect("connect");
    let mut count = |sql: &str| -> i64 { c.query_first(sql).expect(sql).expect("a row") };
    for (t, n) in TABLES {
        assert_eq!(count(&format!("SELECT COUNT(*) FROM {t}")), n, "{t}");
    }
    for q in ORPHANS {
        assert_eq!(count(q), 0, "{q}");
    }
    assert_eq!(count("SELECT COUNT(DISTINCT email) FROM users"), 2000);
    assert_eq!(
        count("SELECT COUNT(*) FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE() AND table_name IN ('users', 'orders')"),
        3
    );
    let (email, name, signup): (String, String, String) = c
        .query_first("SELECT email, name, DATE_FORMAT(signup_at, '%Y-%m-%d %H:%i:%s') FROM users WHERE id = 1")
        .expect("query")
        .expect("user 1");
    assert_eq!(
        (email.as_str(), name.as_str(), signup.as_str()),
        (&first[2], &first[3], &first[5])
    );
    refuses_existing(&s, &url);
}

/// A table whose load fails is not left behind looking complete: the
/// error names the table (and, from the server, the row), the table is
/// gone, and the tables loaded before it are whole.
fn failed_table_is_not_left(s: &Scratch, to: &str, bad_column: &str) -> String {
    let schema = format!(
        "seed: 3
tables:
  ll_parent:
    rows: 300
    columns:
      id: {{serial: 1}}
  ll_broken:
    rows: 20000
    columns:
      id: {{serial: 1}}
      parent_id: {{ref: ll_parent.id}}
      {bad_column}
"
    );
    let p = s.write("broken.schema.yaml", &schema);
    let o = loadline(
        s.dir.path(),
        &["synth", p.to_str().expect("path"), "--to", to, "--reset"],
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("table `ll_broken`"), "{err}");
    err
}

#[test]
fn failed_postgres_load_rolls_the_table_back() {
    let Some(url) = env_url("LOADLINE_TEST_POSTGRES_URL") else {
        return;
    };
    let s = Scratch::new();
    // PostgreSQL refuses NUL in text; one row in 5,000 has one.
    let err = failed_table_is_not_left(&s, &url, "bad: {one_of: {ok: 4999, \"bad\\0\": 1}}");
    assert!(
        err.contains("COPY ll_broken, line"),
        "the server's row number is reported: {err}"
    );
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let broken: i64 = c
        .query_one("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'll_broken'", &[])
        .expect("q")
        .get(0);
    assert_eq!(broken, 0);
    let parent: i64 = c.query_one("SELECT COUNT(*) FROM ll_parent", &[]).expect("q").get(0);
    assert_eq!(parent, 300);
    c.batch_execute("DROP TABLE ll_parent").expect("clean up");
}

#[test]
fn failed_mysql_load_drops_the_table() {
    let Some(url) = env_url("LOADLINE_TEST_MYSQL_URL") else {
        return;
    };
    let s = Scratch::new();
    // A unique text column is a VARCHAR(255): 300 characters do not fit.
    failed_table_is_not_left(&s, &url, "code: {pattern: \"[a-z]{300}\", unique: true}");
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&url).expect("url")).expect("connect");
    let broken: i64 = c
        .query_first("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'll_broken'")
        .expect("q")
        .expect("row");
    assert_eq!(broken, 0);
    let parent: i64 = c
        .query_first("SELECT COUNT(*) FROM ll_parent")
        .expect("q")
        .expect("row");
    assert_eq!(parent, 300);
    c.query_drop("DROP TABLE ll_parent").expect("clean up");
}
