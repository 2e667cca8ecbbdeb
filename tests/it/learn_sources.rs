//! The sources of `synth learn` (`learn::data::source`): the shop fixture
//! written by `synth --to` into SQLite, CSV, JSON lines, PostgreSQL and
//! MariaDB, read back through each source and compared with the CSV of
//! the same seed (same seed, same rows: every source must agree); then
//! inputs written by hand that each source must survive (names needing
//! quotes, escapes, composite keys, time zones, empty tables). Database
//! tests read LOADLINE_TEST_POSTGRES_URL / LOADLINE_TEST_MYSQL_URL and say
//! they skipped without them.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use loadline::learn::data::source::{self, Declared, ForeignKey, Source, SourceError, TableInfo};
use mysql::prelude::Queryable;

use crate::support::*;

/// Rows per table at `--scale 0.01`.
const ROWS: [(&str, u64); 4] = [("orders", 10_000), ("products", 200), ("tenants", 50), ("users", 2000)];

fn loadline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LOADLINE_PROD_DATABASES")
        .args(args)
        .output()
        .expect("run loadline")
}

/// `synth fixtures/shop.schema.yaml --scale 0.01 --to TO` (plus `extra`).
fn synth(s: &Scratch, to: &str, extra: &[&str]) {
    let fx = root().join("fixtures/shop.schema.yaml");
    let mut args = vec!["synth", fx.to_str().expect("path"), "--scale", "0.01", "--to", to];
    args.extend_from_slice(extra);
    let o = loadline(s.dir.path(), &args);
    assert!(
        o.status.success(),
        "synth --to {to}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
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

/// A name no other test (or run) uses.
fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

type Rows = Vec<Vec<Option<String>>>;

fn scan_all(src: &mut dyn Source, t: &TableInfo) -> Rows {
    let mut out = Vec::new();
    let n = src
        .scan(t, None, &mut |r| {
            assert_eq!(r.len(), t.columns.len(), "{}", t.name);
            out.push(r.iter().map(|v| v.map(str::to_string)).collect());
            true
        })
        .unwrap_or_else(|e| panic!("scan {}: {e}", t.name));
    assert_eq!(n as usize, out.len());
    out
}

/// What `synth --to csv:` wrote for `table`: the header and the rows, an
/// unquoted empty field as NULL (read here with the csv crate, not the
/// source under test).
fn csv_written(dir: &Path, table: &str) -> (Vec<String>, Rows) {
    let bytes = std::fs::read(dir.join(format!("{table}.csv"))).expect("csv");
    let mut r = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let header: Vec<String> = r.headers().expect("header").iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.expect("record");
        let pos = rec.position().expect("position").byte() as usize;
        let line = bytes[pos..].split(|b| *b == b'\n').next().expect("line");
        let raw: Vec<&[u8]> = line.split(|b| *b == b',').collect();
        rows.push(
            rec.iter()
                .enumerate()
                .map(|(i, v)| (!(v.is_empty() && raw.get(i).is_some_and(|f| f.is_empty()))).then(|| v.to_string()))
                .collect(),
        );
    }
    (header, rows)
}

/// One rendering for every source: JSON's `2024-05-01T13:45:00Z` as the
/// others write it, NULL and the CSV's empty field alike (`csv:` cannot
/// tell them apart), floats by value.
fn norm(v: &Option<String>) -> String {
    let Some(s) = v else { return String::new() };
    if s.len() == 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') {
        return format!("{} {}", &s[..10], &s[11..19]);
    }
    if s.contains('.') || s.contains('e') {
        if let Ok(f) = s.parse::<f64>() {
            return format!("{f:e}");
        }
    }
    s.clone()
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Files,
    Sqlite,
    Postgres,
    Mysql,
}

/// What each source declares for the shop's columns.
fn expected_types(form: Form, jsonl: bool) -> HashMap<String, Declared> {
    use Declared::*;
    let (int, text, time) = match form {
        Form::Files if jsonl => (Integer, Unknown, Unknown),
        Form::Files => (Unknown, Unknown, Unknown),
        Form::Sqlite => (Integer, Text, Text),
        Form::Postgres | Form::Mysql => (Integer, Text, Timestamp),
    };
    let cols: [(&str, &str, Declared); 19] = [
        ("tenants", "id", text),
        ("tenants", "name", text),
        ("tenants", "plan", text),
        ("tenants", "created_at", time),
        ("users", "id", int),
        ("users", "tenant_id", text),
        ("users", "email", text),
        ("users", "name", text),
        ("users", "phone", text),
        ("users", "signup_at", time),
        ("products", "id", int),
        ("products", "sku", text),
        ("products", "price_cents", int),
        ("orders", "id", int),
        ("orders", "user_id", int),
        ("orders", "product_id", int),
        ("orders", "qty", int),
        ("orders", "status", text),
        ("orders", "placed_at", time),
    ];
    cols.into_iter().map(|(t, c, d)| (format!("{t}.{c}"), d)).collect()
}

fn fk(col: &str, parent: &str, parent_col: &str) -> ForeignKey {
    ForeignKey {
        columns: vec![col.to_string()],
        parent: parent.to_string(),
        parent_columns: vec![parent_col.to_string()],
    }
}

/// Everything the shop's sources must agree on: tables, columns, types,
/// keys (databases), counts, NULLs and every value against the CSV.
fn check_shop(src: &mut dyn Source, form: Form, jsonl: bool, csv_dir: &Path) {
    let tables = src.tables().unwrap_or_else(|e| panic!("tables: {e}"));
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orders", "products", "tenants", "users"], "{}", src.describe());
    let types = expected_types(form, jsonl);
    for t in &tables {
        let (header, written) = csv_written(csv_dir, &t.name);
        let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, header, "{}", t.name);
        for c in &t.columns {
            let key = format!("{}.{}", t.name, c.name);
            assert_eq!(Some(&c.declared), types.get(&key), "{key}");
        }
        let db = form != Form::Files;
        assert_eq!(
            t.primary_key,
            if db { vec!["id".to_string()] } else { vec![] },
            "{}",
            t.name
        );
        if db {
            assert!(t.columns[0].not_null, "{}.id", t.name);
        }
        let rows = scan_all(src, t);
        let want = ROWS.iter().find(|(n, _)| *n == t.name).expect("table").1;
        assert_eq!(rows.len() as u64, want, "{}", t.name);
        assert_eq!(src.count(t).expect("count"), want, "{}", t.name);
        assert_eq!(src.scan(t, Some(7), &mut |_| true).expect("limited"), 7);
        let mut seen = 0;
        assert_eq!(
            src.scan(t, None, &mut |_| {
                seen += 1;
                seen < 3
            })
            .expect("stopped"),
            3
        );
        // Same seed, same rows: by id, every value as synth wrote it.
        let by_id: HashMap<String, &Vec<Option<String>>> =
            rows.iter().map(|r| (r[0].clone().expect("id"), r)).collect();
        assert_eq!(by_id.len(), rows.len(), "{}: ids are unique", t.name);
        for w in &written {
            let got = by_id[w[0].as_ref().expect("id")];
            let (g, w): (Vec<String>, Vec<String>) = (got.iter().map(norm).collect(), w.iter().map(norm).collect());
            assert_eq!(g, w, "{} row {:?}", t.name, w[0]);
        }
        if t.name == "users" {
            let nulls = rows.iter().filter(|r| r[4].is_none()).count();
            let empty = rows.iter().filter(|r| r[4].as_deref() == Some("")).count();
            let missing = if form == Form::Files && !jsonl { empty } else { nulls };
            assert!((300..=500).contains(&missing), "users.phone: {missing} NULL of 2000");
        }
    }
    if form == Form::Files {
        assert!(tables.iter().all(|t| t.unique.is_empty() && t.foreign_keys.is_empty()));
        return;
    }
    let t = |n: &str| tables.iter().find(|t| t.name == n).expect("table");
    assert_eq!(t("users").unique, vec![vec!["email".to_string()]]);
    assert_eq!(t("products").unique, vec![vec!["sku".to_string()]]);
    assert_eq!(t("users").foreign_keys, vec![fk("tenant_id", "tenants", "id")]);
    let mut order_fks = t("orders").foreign_keys.clone();
    order_fks.sort_by(|a, b| a.columns.cmp(&b.columns));
    assert_eq!(
        order_fks,
        vec![fk("product_id", "products", "id"), fk("user_id", "users", "id")]
    );
    let email = t("users").columns.iter().find(|c| c.name == "email").expect("email");
    assert!(
        email.not_null,
        "users.email has no NULLs, so synth declared it NOT NULL"
    );
    let phone = t("users").columns.iter().find(|c| c.name == "phone").expect("phone");
    assert!(!phone.not_null);
}

#[test]
fn reads_back_the_shop_from_csv_jsonl_and_sqlite() {
    let s = Scratch::new();
    synth(&s, "csv:csv/", &[]);
    synth(&s, "jsonl:jsonl/", &[]);
    synth(&s, "sqlite:shop.db", &[]);
    let csv_dir = s.path("csv");
    let mut src = source::open(&format!("csv:{}", csv_dir.display())).expect("csv");
    check_shop(src.as_mut(), Form::Files, false, &csv_dir);
    let mut src = source::open(&format!("jsonl:{}", s.path("jsonl").display())).expect("jsonl");
    check_shop(src.as_mut(), Form::Files, true, &csv_dir);
    let mut src = source::open(&format!("sqlite://{}", s.path("shop.db").display())).expect("sqlite");
    assert_eq!(src.describe(), format!("sqlite:{}", s.path("shop.db").display()));
    check_shop(src.as_mut(), Form::Sqlite, false, &csv_dir);
}

#[test]
fn hand_written_files_in_fixtures() {
    let dir = root().join("fixtures/learn/csv");
    let mut src = source::open(&format!("csv:{}", dir.display())).expect("csv");
    let tables = src.tables().expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["people", "readings"]);
    let people = &tables[0];
    let cols: Vec<&str> = people.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["id", "Full Name", "city", "note"], "the BOM is skipped");
    let rows = scan_all(src.as_mut(), people);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[1][1].as_deref(), Some("Zoë \"Z\" Ångström"));
    assert_eq!(rows[2][3].as_deref(), Some("two\nlines, and a comma"));
    assert_eq!(rows[3][2].as_deref(), Some(""));
    assert_eq!(src.count(&tables[1]).expect("count"), 3, "gzip");

    let dir = root().join("fixtures/learn/jsonl");
    let mut src = source::open(&format!("jsonl:{}", dir.display())).expect("jsonl");
    let tables = src.tables().expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["events", "metrics"]);
    let ev = &tables[0];
    let cols: Vec<(&str, Declared)> = ev.columns.iter().map(|c| (c.name.as_str(), c.declared)).collect();
    assert_eq!(
        cols,
        [
            ("id", Declared::Integer),
            ("kind", Declared::Unknown),
            ("at", Declared::Unknown),
            ("ok", Declared::Boolean),
            ("payload", Declared::Unknown),
            ("score", Declared::Float),
        ]
    );
    let rows = scan_all(src.as_mut(), ev);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][4].as_deref(), Some(r#"{"tags":["a","b c"],"n":1}"#));
    assert_eq!(rows[1][1], None, "null");
    assert_eq!(rows[2][4], None, "missing");
    assert_eq!(rows[2][5].as_deref(), Some("1e3"), "numbers as written");
    let metrics = scan_all(src.as_mut(), &tables[1]);
    assert_eq!(metrics.len(), 2, "gzip");
}

#[test]
fn bad_sources_say_what_is_wrong() {
    let Err(e) = source::open("postgres://root:canary-secret@127.0.0.1:1/test") else {
        panic!("port 1 answered")
    };
    let m = e.to_string();
    assert!(matches!(e, SourceError::Database { .. }), "{m}");
    assert!(
        !m.contains("canary-secret") && m.contains("root:***@127.0.0.1:1"),
        "{m}"
    );
    let Err(e) = source::open("mariadb://root:canary-secret@127.0.0.1:1/test") else {
        panic!("port 1 answered")
    };
    let m = e.to_string();
    assert!(matches!(e, SourceError::Database { .. }), "{m}");
    assert!(
        !m.contains("canary-secret") && m.starts_with("mariadb://root:***@127.0.0.1:1/test: "),
        "{m}"
    );
    let Err(e) = source::open("oracle://x") else {
        panic!("oracle")
    };
    assert!(matches!(e, SourceError::BadSource(_)), "{e}");
    let s = Scratch::new();
    std::fs::create_dir(s.path("bad")).expect("dir");
    std::fs::write(s.path("bad/t.jsonl"), "{\"a\": 1}\n[1]\n").expect("write");
    let mut src = source::open(&format!("jsonl:{}", s.path("bad").display())).expect("open");
    let e = src.tables().expect_err("an array line").to_string();
    assert!(
        e.ends_with("t.jsonl:2: the line is an array; each line must be one JSON object"),
        "{e}"
    );
}

/// A fresh schema for one test; dropped with the guard.
struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    fn new(base: &str) -> PgSchema {
        let name = unique_name("ll_src");
        let mut c = postgres::Client::connect(base, postgres::NoTls).expect("connect");
        c.batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        PgSchema {
            url: format!("{base}{sep}options=-csearch_path%3D{name}"),
            name,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

#[test]
fn reads_back_the_shop_from_postgres() {
    let Some(base) = env_url("LOADLINE_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = PgSchema::new(&base);
    let s = Scratch::new();
    synth(&s, &schema.url, &[]);
    synth(&s, "csv:csv/", &[]);
    let mut src = source::open(&schema.url).expect("open");
    check_shop(src.as_mut(), Form::Postgres, false, &s.path("csv"));
}

#[test]
fn postgres_odd_names_escapes_zones_and_composite_keys() {
    let Some(base) = env_url("LOADLINE_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = PgSchema::new(&base);
    let mut c = postgres::Client::connect(&schema.url, postgres::NoTls).expect("connect");
    c.batch_execute(
        r#"
        CREATE TABLE "Parent Table" ("A" int, "b ""q""" text, PRIMARY KEY ("A", "b ""q""")) ;
        CREATE TABLE "Odd Table" (
          "Id" serial PRIMARY KEY,
          "say ""hi""" varchar(80) NOT NULL,
          tz timestamptz, n numeric(10,2), raw bytea, doc jsonb, flag boolean, u uuid, d date,
          arr int[], pb text, pa int, code text, other text,
          FOREIGN KEY (pb, pa) REFERENCES "Parent Table" ("b ""q""", "A"));
        CREATE UNIQUE INDEX odd_code ON "Odd Table" (code);
        CREATE UNIQUE INDEX odd_lower ON "Odd Table" (lower(other));
        CREATE UNIQUE INDEX odd_partial ON "Odd Table" (other) WHERE other <> '';
        ALTER TABLE "Odd Table" ADD CONSTRAINT odd_pair UNIQUE (pa, code);
        CREATE TABLE empty (x int);
        CREATE TABLE nocols ();
        INSERT INTO nocols DEFAULT VALUES;
        INSERT INTO "Parent Table" VALUES (1, 'p');
        SET TimeZone = 'Asia/Tokyo';
        INSERT INTO "Odd Table" ("say ""hi""", tz, n, raw, doc, flag, u, d, arr, pb, pa, code)
          VALUES (E'tab\there\nnew line\\back\r\u00e9', '2024-05-01 12:00:00+02', 12.50, '\x00ff',
                  '{"b": [1, 2], "a": "x"}', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29',
                  '{1,2}', 'p', 1, 'c1'),
                 ('', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '\N');
        "#,
    )
    .expect("odd tables");
    let mut src = source::open(&schema.url).expect("open");
    let tables = src.tables().expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Odd Table", "Parent Table", "empty", "nocols"]);
    assert_eq!(scan_all(src.as_mut(), &tables[3]), vec![Vec::<Option<String>>::new()]);
    let odd = &tables[0];
    let types: Vec<(&str, Declared, &str)> = odd
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.declared, c.type_name.as_str()))
        .collect();
    use Declared::*;
    assert_eq!(
        types,
        [
            ("Id", Integer, "integer"),
            ("say \"hi\"", Text, "character varying(80)"),
            ("tz", Timestamp, "timestamp with time zone"),
            ("n", Float, "numeric(10,2)"),
            ("raw", Other, "bytea"),
            ("doc", Json, "jsonb"),
            ("flag", Boolean, "boolean"),
            ("u", Uuid, "uuid"),
            ("d", Date, "date"),
            ("arr", Other, "integer[]"),
            ("pb", Text, "text"),
            ("pa", Integer, "integer"),
            ("code", Text, "text"),
            ("other", Text, "text"),
        ]
    );
    assert!(odd.columns[1].not_null && !odd.columns[2].not_null);
    assert_eq!(odd.primary_key, ["Id"]);
    assert_eq!(
        odd.unique,
        vec![vec!["pa".to_string(), "code".to_string()], vec!["code".to_string()]]
    );
    assert_eq!(
        odd.foreign_keys,
        vec![ForeignKey {
            columns: vec!["pb".into(), "pa".into()],
            parent: "Parent Table".into(),
            parent_columns: vec!["b \"q\"".into(), "A".into()],
        }]
    );
    assert_eq!(tables[1].primary_key, ["A", "b \"q\""]);
    let rows = scan_all(src.as_mut(), odd);
    let o = |s: &str| Some(s.to_string());
    assert_eq!(
        rows[0],
        vec![
            o("1"),
            o("tab\there\nnew line\\back\ré"),
            o("2024-05-01 10:00:00+00"),
            o("12.50"),
            o("\\x00ff"),
            o(r#"{"a": "x", "b": [1, 2]}"#),
            o("t"),
            o("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            o("2024-02-29"),
            o("{1,2}"),
            o("p"),
            o("1"),
            o("c1"),
            None,
        ]
    );
    assert_eq!(rows[1][1], o(""), "an empty string is not NULL");
    assert_eq!(rows[1][2], None);
    assert_eq!(rows[1][12], o("\\N"), "the text \\N is not NULL");
    assert_eq!(scan_all(src.as_mut(), &tables[2]), Rows::new());
    assert_eq!(src.count(&tables[2]).expect("count"), 0);
    assert_eq!(src.count(odd).expect("count"), 2);
}

/// A fresh database for one test; dropped with the guard.
struct MyDb {
    url: String,
    base: String,
    name: String,
}

impl MyDb {
    fn new(base: &str) -> MyDb {
        let name = unique_name("ll_src");
        let mut c = mysql::Conn::new(mysql::Opts::from_url(base).expect("url")).expect("connect");
        c.query_drop(format!("CREATE DATABASE {name}"))
            .expect("create database");
        let (head, query) = base.split_once('?').map_or((base, ""), |(h, q)| (h, q));
        let slash = head.find("://").map_or(0, |i| i + 3);
        let host_end = head[slash..].find('/').map_or(head.len(), |i| slash + i);
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        MyDb {
            url: format!("{}/{name}{q}", &head[..host_end]),
            base: base.to_string(),
            name,
        }
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        if let Ok(mut c) = mysql::Conn::new(mysql::Opts::from_url(&self.base).expect("url")) {
            let _ = c.query_drop(format!("DROP DATABASE {}", self.name));
        }
    }
}

#[test]
fn reads_back_the_shop_from_mariadb() {
    let Some(base) = env_url("LOADLINE_TEST_MYSQL_URL") else {
        return;
    };
    let db = MyDb::new(&base);
    let s = Scratch::new();
    synth(&s, &db.url, &[]);
    synth(&s, "csv:csv/", &[]);
    let mut src = source::open(&db.url).expect("open");
    check_shop(src.as_mut(), Form::Mysql, false, &s.path("csv"));
}

#[test]
fn mariadb_odd_names_escapes_zones_and_composite_keys() {
    let Some(base) = env_url("LOADLINE_TEST_MYSQL_URL") else {
        return;
    };
    let db = MyDb::new(&base);
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&db.url).expect("url")).expect("connect");
    let script = r#"
        CREATE TABLE `Parent Table` (`A` INT, `b ``q``` VARCHAR(20), PRIMARY KEY (`A`, `b ``q```),
          UNIQUE KEY parent_bq (`b ``q```, `A`)) ENGINE=InnoDB;
        CREATE TABLE `Odd Table` (
          `Id` BIGINT AUTO_INCREMENT PRIMARY KEY,
          `say ``hi``` VARCHAR(80) NOT NULL,
          ts TIMESTAMP NULL, dt DATETIME, n DECIMAL(10,2), raw BLOB, doc JSON, flag BOOLEAN,
          d DATE, pb VARCHAR(20), pa INT, code VARCHAR(20), other TEXT,
          UNIQUE KEY odd_code (code), UNIQUE KEY odd_prefix (other(10)),
          FOREIGN KEY (pb, pa) REFERENCES `Parent Table` (`b ``q```, `A`)) ENGINE=InnoDB;
        CREATE TABLE empty (x INT);
        INSERT INTO `Parent Table` VALUES (1, 'p');
        SET time_zone = '+02:00';
        INSERT INTO `Odd Table` (`say ``hi```, ts, dt, n, raw, doc, flag, d, pb, pa, code)
          VALUES ('tab\there\nnew line\\back', '2024-05-01 12:00:00', '2024-05-01 12:00:00', 12.5,
                  X'00ff', '{\"a\": [1, 2]}', TRUE, '2024-02-29', 'p', 1, 'c1'),
                 ('', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
        "#;
    // One statement at a time: a multi-statement query can hide a failure.
    for stmt in script.split(";\n") {
        c.query_drop(stmt).unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    let mut src = source::open(&db.url.replacen("mysql://", "mariadb://", 1)).expect("open");
    let tables = src.tables().expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Odd Table", "Parent Table", "empty"]);
    let odd = &tables[0];
    use Declared::*;
    let types: Vec<(&str, Declared)> = odd.columns.iter().map(|c| (c.name.as_str(), c.declared)).collect();
    assert_eq!(
        types,
        [
            ("Id", Integer),
            ("say `hi`", Text),
            ("ts", Timestamp),
            ("dt", Timestamp),
            ("n", Float),
            ("raw", Other),
            ("doc", Json),
            ("flag", Boolean),
            ("d", Date),
            ("pb", Text),
            ("pa", Integer),
            ("code", Text),
            ("other", Text),
        ]
    );
    assert_eq!(odd.primary_key, ["Id"]);
    assert_eq!(
        odd.unique,
        vec![vec!["code".to_string()]],
        "a prefix index does not make a column unique"
    );
    assert_eq!(
        odd.foreign_keys,
        vec![ForeignKey {
            columns: vec!["pb".into(), "pa".into()],
            parent: "Parent Table".into(),
            parent_columns: vec!["b `q`".into(), "A".into()],
        }]
    );
    assert_eq!(tables[1].primary_key, ["A", "b `q`"]);
    assert_eq!(tables[1].unique, vec![vec!["b `q`".to_string(), "A".to_string()]]);
    let rows = scan_all(src.as_mut(), odd);
    let o = |s: &str| Some(s.to_string());
    assert_eq!(rows[0][1], o("tab\there\nnew line\\back"));
    assert_eq!(rows[0][2], o("2024-05-01 10:00:00"), "TIMESTAMP comes out in UTC");
    assert_eq!(rows[0][3], o("2024-05-01 12:00:00"), "DATETIME as stored");
    assert_eq!(rows[0][4], o("12.50"));
    assert_eq!(rows[0][5], o("00ff"));
    assert_eq!(rows[0][7], o("1"));
    assert_eq!(rows[1][1], o(""));
    assert!(rows[1][2..].iter().all(Option::is_none), "{:?}", rows[1]);
    assert_eq!(scan_all(src.as_mut(), &tables[2]), Rows::new());
    assert_eq!(src.count(odd).expect("count"), 2);
}
