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

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
#[ignore = "needs the sources branch"]
fn learns_the_shop_back_from_sqlite() {
    let s = Scratch::new();
    let fx = root().join("fixtures/shop.schema.yaml");
    let o = loadline(
        s.dir.path(),
        &[
            "synth",
            fx.to_str().expect("path"),
            "--to",
            "sqlite:shop.db",
            "--scale",
            "0.05",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = loadline(
        s.dir.path(),
        &["synth", "learn", "sqlite:shop.db", "--out", "learned.yaml"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let learned = std::fs::read_to_string(s.path("learned.yaml")).expect("learned schema");
    for (col, target) in [
        ("tenant_id", "tenants.id"),
        ("user_id", "users.id"),
        ("product_id", "products.id"),
    ] {
        assert!(
            learned.contains(&format!("{col}: {{ref: {target}")),
            "{col}:\n{learned}"
        );
    }
    assert!(learned.contains("# No differential privacy noise"), "{learned}");
    assert!(learned.contains("email: {fake: safe_email, unique: true}"), "{learned}");
    // It runs as any schema does.
    let o = loadline(s.dir.path(), &["synth", "learned.yaml", "--to", "csv:again/"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
#[ignore = "needs the sources branch"]
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
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains("secret"), "{}", text(&o));
    let o = loadline(s.dir.path(), &["synth", "learn", "csv:no-such-dir/", "--out", "x.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no-such-dir"), "{}", text(&o));
    std::fs::create_dir(s.path("empty")).expect("dir");
    std::fs::write(s.path("empty/t.csv"), "a,b\n").expect("csv");
    let o = loadline(s.dir.path(), &["synth", "learn", "csv:empty/", "--out", "x.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("table `t` has no rows"), "{}", text(&o));
    assert!(!s.path("x.yaml").exists());
}

#[test]
fn an_unknown_source_is_an_input_error() {
    let s = Scratch::new();
    let o = loadline(s.dir.path(), &["synth", "learn", "ftp://example/", "--out", "x.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
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
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(why), "{}", text(&o));
        assert!(!text(&o).contains("secret"), "{}", text(&o));
    }
    let o = loadline(
        s.dir.path(),
        &["synth", "learn", "sqlite:x.db", "--out", "no/such/dir/x.yaml"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("folder no/such/dir does not exist"), "{}", text(&o));
}
