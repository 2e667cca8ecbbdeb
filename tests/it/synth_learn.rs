//! `loadline synth learn`: a schema learned from a database, end to end.
//!
//! The round trip seeds `fixtures/shop.schema.yaml` into SQLite with
//! `loadline synth`, learns it back with `loadline synth learn`, and checks
//! the learned schema against the fixture: every foreign key found, NULL
//! rates and row counts close, and it runs again with `loadline synth`.
//! The bad inputs (an unreachable database, a missing directory, a table
//! with no rows) are clear errors with exit code 2.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

fn loadline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("LOADLINE_LEARN_KEY", "a test key")
        .env_remove("LOADLINE_PROD_DATABASES")
        .args(args)
        .output()
        .expect("run loadline")
}

fn text_of(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The learned schema against the fixture it was seeded from: row counts
/// within 1%, NULL rates and category shares within 2 points, every
/// foreign key found with its Zipf exponent within 0.1, and the personal
/// columns faked. Then it runs as any schema does.
fn check_round_trip(dir: &Path, learned_path: &str, scale: f64) {
    use loadline::synth::schema::{self, Gen, Skew};
    let text = std::fs::read_to_string(dir.join(learned_path)).expect("learned schema");
    let learned = schema::from_str(&text, Path::new(learned_path), &schema::Options::default()).expect("it loads");
    let fx = std::fs::read_to_string(root().join("fixtures/shop.schema.yaml")).expect("fixture");
    let opts = schema::Options {
        scale: Some(scale),
        seed: None,
    };
    let want = schema::from_str(&fx, Path::new("shop"), &opts).expect("fixture loads");
    let fx_path = root().join("fixtures/shop.schema.yaml");
    let scale_arg = scale.to_string();
    let o = loadline(
        dir,
        &[
            "synth",
            fx_path.to_str().expect("path"),
            "--scale",
            &scale_arg,
            "--to",
            "csv:orig/",
        ],
    );
    assert!(o.status.success(), "{}", text_of(&o));
    let o = loadline(dir, &["synth", learned_path, "--to", "csv:again/"]);
    assert!(o.status.success(), "{}", text_of(&o));
    for t in &want.tables {
        let (_, l) = learned
            .table(&t.name)
            .unwrap_or_else(|| panic!("no table {}:\n{text}", t.name));
        let err = (l.rows as f64 / t.rows as f64 - 1.0).abs();
        assert!(err <= 0.01, "{}: {} rows, want {}", t.name, l.rows, t.rows);
        for c in &t.columns {
            let (_, lc) = l
                .column(&c.name)
                .unwrap_or_else(|| panic!("no column {}.{}", t.name, c.name));
            assert!(
                (lc.nulls - c.nulls).abs() <= 0.02,
                "{}.{}: nulls {}",
                t.name,
                c.name,
                lc.nulls
            );
            if let (
                Gen::Ref { table, skew, .. },
                Gen::Ref {
                    table: lt, skew: ls, ..
                },
            ) = (&c.gen, &lc.gen)
            {
                assert_eq!(
                    want.tables[*table].name, learned.tables[*lt].name,
                    "{}.{}",
                    t.name, c.name
                );
                let (Skew::Zipf(s), Skew::Zipf(ls)) = (skew, ls) else {
                    panic!("{}.{}: {ls:?}\n{text}", t.name, c.name)
                };
                assert!((s - ls).abs() <= 0.1, "{}.{}: zipf {ls} want {s}", t.name, c.name);
            } else if matches!(c.gen, Gen::Ref { .. }) {
                panic!("{}.{} is no foreign key:\n{text}", t.name, c.name);
            }
            if let Gen::OneOf { .. } = &c.gen {
                // Shares of the seeded data (the fixture at this scale, as
                // `synth --to csv:` writes the same rows) against the learned
                // weights and against the data generated from them.
                let data = shares(&dir.join("orig"), &t.name, &c.name);
                let Gen::OneOf { choices, weights } = &lc.gen else {
                    panic!("{}.{} is no category:\n{text}", t.name, c.name)
                };
                let sum = weights.iter().sum::<f64>();
                let again = shares(&dir.join("again"), &t.name, &c.name);
                for (v, share) in &data {
                    let w = choices.iter().position(|x| x == v).map_or(0.0, |i| weights[i] / sum);
                    assert!(
                        (share - w).abs() <= 0.02,
                        "{}.{} = {v}: {share} vs {w}\n{text}",
                        t.name,
                        c.name
                    );
                    if l.rows >= 10_000 {
                        let got = again.get(v).copied().unwrap_or(0.0);
                        assert!(
                            (share - got).abs() <= 0.02,
                            "{}.{} = {v}: {share} vs {got}",
                            t.name,
                            c.name
                        );
                    }
                }
            }
        }
    }
    let phone = shares(&dir.join("again"), "users", "phone")
        .get("")
        .copied()
        .unwrap_or(0.0);
    let want = shares(&dir.join("orig"), "users", "phone")
        .get("")
        .copied()
        .unwrap_or(0.0);
    assert!((phone - want).abs() <= 0.02, "users.phone NULL {phone}, seeded {want}");
    assert!(text.contains("email: {fake: safe_email, unique: true}"), "{text}");
}

/// Each value's share of a column of `dir/table.csv` (NULL, an empty field, as "").
fn shares(dir: &Path, table: &str, column: &str) -> std::collections::BTreeMap<String, f64> {
    let mut r = csv::Reader::from_path(dir.join(format!("{table}.csv"))).expect("csv");
    let i = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == column)
        .expect("column");
    let mut counts = std::collections::BTreeMap::<String, f64>::new();
    let mut n = 0.0;
    for rec in r.records() {
        *counts.entry(rec.expect("row")[i].to_string()).or_default() += 1.0;
        n += 1.0;
    }
    counts.values_mut().for_each(|c| *c /= n);
    counts
}

#[test]
fn learns_the_shop_back_from_sqlite() {
    let s = Scratch::new();
    let fx = root().join("fixtures/shop.schema.yaml");
    let fx = fx.to_str().expect("path");
    let o = loadline(
        s.dir.path(),
        &["synth", fx, "--to", "sqlite:shop.db", "--scale", "0.05"],
    );
    assert!(o.status.success(), "{}", text_of(&o));
    let o = loadline(
        s.dir.path(),
        &["synth", "learn", "sqlite:shop.db", "--out", "learned.yaml"],
    );
    assert!(o.status.success(), "{}", text_of(&o));
    let learned = std::fs::read_to_string(s.path("learned.yaml")).expect("learned schema");
    assert!(learned.contains("# No differential privacy noise"), "{learned}");
    check_round_trip(s.dir.path(), "learned.yaml", 0.05);
}

/// The same from PostgreSQL, where the keys are declared constraints, in a
/// schema of its own.
#[test]
fn learns_the_shop_back_from_postgres() {
    let Some(url) = std::env::var("LOADLINE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("SKIPPED learns_the_shop_back_from_postgres: LOADLINE_TEST_POSTGRES_URL is not set");
        return;
    };
    let ns = format!("synth_learn_{}", std::process::id());
    let psql = |sql: &str| {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        c.batch_execute(sql).expect("sql");
    };
    psql(&format!("DROP SCHEMA IF EXISTS {ns} CASCADE; CREATE SCHEMA {ns}"));
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{ns}");
    let s = Scratch::new();
    let fx = root().join("fixtures/shop.schema.yaml");
    let o = loadline(
        s.dir.path(),
        &["synth", fx.to_str().expect("path"), "--to", &scoped, "--scale", "0.05"],
    );
    let ok = o.status.success();
    let learn = ok.then(|| loadline(s.dir.path(), &["synth", "learn", &scoped, "--out", "learned.yaml"]));
    psql(&format!("DROP SCHEMA IF EXISTS {ns} CASCADE"));
    assert!(ok, "{}", text_of(&o));
    let o = learn.expect("learned");
    assert!(o.status.success(), "{}", text_of(&o));
    check_round_trip(s.dir.path(), "learned.yaml", 0.05);
}

#[test]
fn bad_sources_are_clear_errors() {
    let s = Scratch::new();
    let o = loadline(
        s.dir.path(),
        &[
            "synth",
            "learn",
            "postgres://nobody:secret@127.0.0.1:1/none",
            "--out",
            "x.yaml",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text_of(&o));
    assert!(!text_of(&o).contains("secret"), "{}", text_of(&o));
    let o = loadline(s.dir.path(), &["synth", "learn", "csv:no-such-dir/", "--out", "x.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text_of(&o));
    assert!(text_of(&o).contains("no-such-dir"), "{}", text_of(&o));
    std::fs::create_dir(s.path("empty")).expect("dir");
    std::fs::write(s.path("empty/t.csv"), "a,b\n").expect("csv");
    let o = loadline(s.dir.path(), &["synth", "learn", "csv:empty/", "--out", "x.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text_of(&o));
    assert!(text_of(&o).contains("table `t` has no rows"), "{}", text_of(&o));
    assert!(!s.path("x.yaml").exists());
}

#[test]
fn an_unknown_source_is_an_input_error() {
    let s = Scratch::new();
    let o = loadline(s.dir.path(), &["synth", "learn", "ftp://example/", "--out", "x.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text_of(&o));
    assert!(!s.path("x.yaml").exists());
}

#[test]
fn bad_options_are_refused_before_connecting() {
    let s = Scratch::new();
    for (args, why) in [
        (&["-k", "0"][..], "--min-count must be at least 1"),
        (&["--epsilon=-1"][..], "--epsilon -1: give a positive number"),
        (&["--epsilon", "0"][..], "--epsilon 0: give a positive number"),
    ] {
        let mut all = vec![
            "synth",
            "learn",
            "postgres://me:secret@127.0.0.1:1/none",
            "--out",
            "x.yaml",
        ];
        all.extend_from_slice(args);
        let o = loadline(s.dir.path(), &all);
        assert_eq!(o.status.code(), Some(2), "{}", text_of(&o));
        assert!(text_of(&o).contains(why), "{}", text_of(&o));
        assert!(!text_of(&o).contains("secret"), "{}", text_of(&o));
    }
    let o = loadline(
        s.dir.path(),
        &["synth", "learn", "sqlite:x.db", "--out", "no/such/dir/x.yaml"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text_of(&o));
    assert!(
        text_of(&o).contains("folder no/such/dir does not exist"),
        "{}",
        text_of(&o)
    );
}

/// Dumps written by Python's Faker in other locales (fixtures/faker/, not
/// made by loadline): every one learns into a schema that runs, and none of
/// the personal values of its `users` table reaches the schema. These
/// dumps' `users.id` and `tickets.id` hold each other's values, which made
/// a cycle of inferred references before cycles were set aside.
#[test]
fn learns_faker_dumps_in_other_locales_without_their_values() {
    let s = Scratch::new();
    for locale in ["ja_JP", "de_DE", "fr_FR", "en_US"] {
        let dir = root().join("fixtures/faker").join(locale);
        let source = format!("csv:{}", dir.display());
        let out = format!("{locale}.yaml");
        let o = loadline(s.dir.path(), &["synth", "learn", &source, "--out", &out]);
        assert!(o.status.success(), "{locale}: {}", text_of(&o));
        let learned = std::fs::read_to_string(s.path(&out)).expect("learned");
        let mut users = csv::Reader::from_path(dir.join("users.csv")).expect("users.csv");
        let headers = users.headers().expect("header").clone();
        for rec in users.records() {
            let rec = rec.expect("row");
            for (h, v) in headers.iter().zip(rec.iter()) {
                if ["email", "name", "phone", "ssn", "iban", "last_ip", "address"].contains(&h)
                    && v.chars().count() >= 6
                {
                    assert!(!learned.contains(v), "{locale}: users.{h} value {v:?} in\n{learned}");
                }
            }
        }
        let o = loadline(
            s.dir.path(),
            &["synth", &out, "--to", &format!("csv:again-{locale}/"), "--scale", "0.1"],
        );
        assert!(o.status.success(), "{locale}: {}", text_of(&o));
    }
}
