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
/// gone, and so are the tables the run loaded before it (a failed run
/// leaves nothing that looks complete).
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
    let parent: i64 = c
        .query_one("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'll_parent'", &[])
        .expect("q")
        .get(0);
    assert_eq!(parent, 0, "the table loaded before the failure is dropped too");
    assert!(err.contains("dropped table ll_parent (loaded by this run)"), "{err}");
}

#[test]
fn failed_mysql_load_drops_the_table() {
    let Some(url) = env_url("LOADLINE_TEST_MYSQL_URL") else {
        return;
    };
    let s = Scratch::new();
    // A unique text column is a VARCHAR(255): 300 characters do not fit.
    let err = failed_table_is_not_left(&s, &url, "code: {pattern: \"[a-z]{300}\", unique: true}");
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&url).expect("url")).expect("connect");
    let broken: i64 = c
        .query_first("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'll_broken'")
        .expect("q")
        .expect("row");
    assert_eq!(broken, 0);
    let parent: i64 = c
        .query_first("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'll_parent'")
        .expect("q")
        .expect("row");
    assert_eq!(parent, 0, "the table loaded before the failure is dropped too");
    assert!(err.contains("dropped table ll_parent (loaded by this run)"), "{err}");
}

const TRICKY: &str = r#"
seed: 5
tables:
  ll_parent:
    rows: 500
    columns:
      id: {serial: 1}
  ll_child:
    rows: 12000
    columns:
      id: {serial: 1}
      parent_id: {ref: ll_parent.id, skew: {zipf: 1.0}}
      note: {one_of: ["plain", "semi;\nnewline", "quote ' and \\ backslash", "tab\there", "", "ünïcödé ✓"]}
      price: {lognormal: {median: 20.0, sigma: 0.5}, round: 2}
      at: {timestamp: {from: 2024-01-01, to: 2025-01-01}}
      flag: {bool: 50%}
      tag: {uuid: true}
      extra: {json: {a: {uniform: [1, 9]}, b: {one_of: [x, "y\"z"]}}, nulls: 10%}
"#;

/// MariaDB both ways, `LOAD DATA LOCAL INFILE` and batched `INSERT`s
/// (`--no-local-infile`), give the same table, with values that need
/// escaping (quotes, backslashes, tabs, `;` and newlines, empty strings,
/// non-ASCII, JSON) intact. In its own database, so it does not race the
/// fixture's tables.
#[test]
fn mysql_load_data_and_inserts_agree() {
    let Some(url) = env_url("LOADLINE_TEST_MYSQL_URL") else {
        return;
    };
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b).to_string();
    let mut admin = mysql::Conn::new(mysql::Opts::from_url(&url).expect("url")).expect("connect");
    admin
        .query_drop("CREATE DATABASE IF NOT EXISTS ll_escapes")
        .expect("create database");
    let db_url = format!("{base}/ll_escapes");
    let s = Scratch::new();
    let schema = s.write("tricky.schema.yaml", TRICKY);
    let schema = schema.to_str().expect("path");
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&db_url).expect("url")).expect("connect");
    let mut snapshot = |extra: &[&str]| -> (i64, i64, Vec<String>) {
        let mut args = vec!["synth", schema, "--to", &db_url, "--reset"];
        args.extend_from_slice(extra);
        ok(&loadline(s.dir.path(), &args));
        let n: i64 = c.query_first("SELECT COUNT(*) FROM ll_child").expect("q").expect("row");
        let orphans: i64 = c
            .query_first(
                "SELECT COUNT(*) FROM ll_child c LEFT JOIN ll_parent p ON p.id = c.parent_id WHERE p.id IS NULL",
            )
            .expect("q")
            .expect("row");
        let rows: Vec<String> = c
            .query(
                "SELECT CONCAT_WS('|', id, parent_id, HEX(note), price, at, flag, tag, COALESCE(JSON_EXTRACT(extra, '$.b'), 'NULL')) \
                 FROM ll_child ORDER BY id",
            )
            .expect("rows");
        (n, orphans, rows)
    };
    let load_data = snapshot(&[]);
    let inserts = snapshot(&["--no-local-infile"]);
    assert_eq!((load_data.0, load_data.1), (12_000, 0));
    assert_eq!(load_data.2, inserts.2, "LOAD DATA and INSERTs disagree");
    let notes: Vec<String> = c
        .query("SELECT DISTINCT note FROM ll_child ORDER BY note")
        .expect("notes");
    for expected in [
        "semi;\nnewline",
        "quote ' and \\ backslash",
        "tab\there",
        "",
        "ünïcödé ✓",
    ] {
        assert!(notes.iter().any(|n| n == expected), "{expected:?} not in {notes:?}");
    }
    let json_b: Vec<String> = c
        .query("SELECT DISTINCT JSON_UNQUOTE(JSON_EXTRACT(extra, '$.b')) FROM ll_child WHERE extra IS NOT NULL")
        .expect("json");
    assert!(json_b.iter().any(|b| b == "y\"z"), "{json_b:?}");
    admin.query_drop("DROP DATABASE ll_escapes").expect("clean up");
}

/// PostgreSQL's COPY text and SQLite's bound parameters keep the same
/// values intact.
#[test]
fn postgres_and_sqlite_keep_values_that_need_escaping() {
    let s = Scratch::new();
    let schema = s.write(
        "tricky.schema.yaml",
        &TRICKY
            .replace("ll_parent", "ll_esc_parent")
            .replace("ll_child", "ll_esc_child"),
    );
    let schema = schema.to_str().expect("path");
    let expected = [
        "plain",
        "semi;\nnewline",
        "quote ' and \\ backslash",
        "tab\there",
        "",
        "ünïcödé ✓",
    ];
    ok(&loadline(s.dir.path(), &["synth", schema, "--to", "sqlite:t.db"]));
    let db = rusqlite::Connection::open(s.path("t.db")).expect("open");
    let mut st = db
        .prepare("SELECT DISTINCT note FROM ll_esc_child ORDER BY note")
        .expect("q");
    let notes: Vec<String> = st
        .query_map([], |r| r.get(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(notes, want);
    let Some(url) = env_url("LOADLINE_TEST_POSTGRES_URL") else {
        return;
    };
    ok(&loadline(s.dir.path(), &["synth", schema, "--to", &url, "--reset"]));
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let notes: Vec<String> = c
        .query("SELECT DISTINCT note COLLATE \"C\" FROM ll_esc_child ORDER BY 1", &[])
        .expect("q")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(notes, want);
    let b: Vec<String> = c
        .query(
            "SELECT DISTINCT extra->>'b' FROM ll_esc_child WHERE extra IS NOT NULL ORDER BY 1",
            &[],
        )
        .expect("q")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(b, ["x", "y\"z"]);
    c.batch_execute("DROP TABLE ll_esc_child, ll_esc_parent")
        .expect("clean up");
}

/// libpq's `sslmode` in the URL: `require` encrypts without checking the
/// certificate, `verify-ca` checks the chain, `verify-full` also the host
/// name (the server's certificate is for `localhost`, so 127.0.0.1 fails).
/// Needs a server with `ssl = on` (Debian's default, with its snakeoil
/// certificate); otherwise it says it skipped.
#[test]
fn postgres_sslmodes() {
    let Some(url) = env_url("LOADLINE_TEST_POSTGRES_URL") else {
        return;
    };
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let ssl: String = c.query_one("SHOW ssl", &[]).expect("q").get(0);
    if ssl != "on" {
        eprintln!("SKIPPED: the PostgreSQL server has ssl = {ssl}");
        return;
    }
    let s = Scratch::new();
    let schema = s.write(
        "tls.schema.yaml",
        "seed: 1\ntables:\n  ll_tls:\n    rows: 100\n    columns:\n      id: {serial: 1}\n",
    );
    let schema = schema.to_str().expect("path");
    let sep = if url.contains('?') { '&' } else { '?' };
    let with = |mode: &str| format!("{url}{sep}sslmode={mode}");
    for mode in ["require", "verify-ca"] {
        ok(&loadline(
            s.dir.path(),
            &["synth", schema, "--to", &with(mode), "--reset"],
        ));
    }
    if url.contains("127.0.0.1") {
        let o = loadline(
            s.dir.path(),
            &["synth", schema, "--to", &with("verify-full"), "--reset"],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("certificate not valid for name"), "{err}");
    }
    let n: i64 = c.query_one("SELECT COUNT(*) FROM ll_tls", &[]).expect("q").get(0);
    assert_eq!(n, 100);
    c.batch_execute("DROP TABLE ll_tls").expect("clean up");
}
