//! Sharded seeding of a real PostgreSQL and MariaDB: `synth prepare`, two
//! shard processes, `synth finish`. The invariant: same seed ⇒ the same
//! table contents as one unsharded run, compared by an aggregate hash of
//! every table computed by the server. On the way: `finish` refuses while a
//! shard is missing and builds no key, a shard with other settings is
//! refused, and a shard run again skips what it loaded.

use std::path::Path;
use std::process::{Command, Output};

use mysql::prelude::Queryable;

use crate::interrupt::{env_url, shop_schema};
use crate::support::*;

const TABLES: [&str; 4] = ["tenants", "users", "products", "orders"];

fn loadline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LOADLINE_PROD_DATABASES")
        .args(args)
        .output()
        .expect("run loadline")
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{}\n{err}", String::from_utf8_lossy(&o.stdout));
    err
}

/// Run the two shards side by side, as two machines would.
fn both_shards(s: &Scratch, schema: &str, url: &str) {
    let spawn = |shard: &str| {
        Command::new(env!("CARGO_BIN_EXE_loadline"))
            .current_dir(s.dir.path())
            .env("NO_COLOR", "1")
            .args(["synth", schema, "--to", url, "--scale", "0.02", "--shard", shard])
            .output()
    };
    std::thread::scope(|scope| {
        let a = scope.spawn(|| spawn("0/2").expect("shard 0"));
        let b = scope.spawn(|| spawn("1/2").expect("shard 1"));
        ok(&a.join().expect("join"));
        ok(&b.join().expect("join"));
    });
}

/// The whole story against one database; `hashes` returns an aggregate hash
/// and the row count per table, `keys` how many constraints the run's
/// tables have.
fn sharded_equals_unsharded(
    url: &str,
    prefix: &str,
    mut hashes: impl FnMut() -> Vec<(String, i64)>,
    mut keys: impl FnMut() -> i64,
) {
    let s = Scratch::new();
    let schema = shop_schema(&s, prefix);
    let schema = schema.to_str().expect("path");
    let step = |args: &[&str]| loadline(s.dir.path(), args);

    // One unsharded run: the reference.
    ok(&step(&["synth", schema, "--to", url, "--scale", "0.02", "--reset"]));
    let whole = hashes();
    let whole_keys = keys();
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[3].1, 20_000, "{whole:?}");

    // Prepared for 2 shards, only shard 0 loaded: finish refuses, naming
    // the missing shard, and builds nothing.
    ok(&step(&[
        "synth", "prepare", schema, "--to", url, "--scale", "0.02", "--shards", "2", "--reset",
    ]));
    ok(&step(&[
        "synth", schema, "--to", url, "--scale", "0.02", "--shard", "0/2",
    ]));
    let o = step(&["synth", "finish", schema, "--to", url, "--scale", "0.02"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("`{prefix}orders`: shard 1/2 not loaded")),
        "{err}"
    );
    assert_eq!(keys(), 0, "no key before finish");

    // Other settings are refused, saying which.
    let o = step(&["synth", schema, "--to", url, "--scale", "0.03", "--shard", "1/2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--scale 0.02 (this step: 0.03)"), "{err}");
    let o = step(&["synth", schema, "--to", url, "--scale", "0.02", "--shard", "1/3"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--shards 2 (this step: 3)"));

    // Shard 0 again loads nothing twice.
    let err = ok(&step(&[
        "synth", schema, "--to", url, "--scale", "0.02", "--shard", "0/2",
    ]));
    assert!(err.contains("loaded") && err.contains("already (skipped)"), "{err}");

    ok(&step(&[
        "synth", schema, "--to", url, "--scale", "0.02", "--shard", "1/2",
    ]));
    ok(&step(&["synth", "finish", schema, "--to", url, "--scale", "0.02"]));
    assert_eq!(hashes(), whole, "1 shard of 2 at a time + finish = one run");
    assert_eq!(keys(), whole_keys);

    // Two shards at once, in parallel processes, give the same tables too.
    ok(&step(&[
        "synth", "prepare", schema, "--to", url, "--scale", "0.02", "--shards", "2", "--reset",
    ]));
    both_shards(&s, schema, url);
    ok(&step(&["synth", "finish", schema, "--to", url, "--scale", "0.02"]));
    assert_eq!(hashes(), whole, "2 parallel shards + finish = one run");
    assert_eq!(keys(), whole_keys);
    let o = step(&["synth", "finish", schema, "--to", url, "--scale", "0.02"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("finished already"));
}

#[test]
fn two_postgres_shards_give_the_tables_of_one_run() {
    let Some(url) = env_url("LOADLINE_TEST_POSTGRES_URL") else {
        return;
    };
    let prefix = "shpg_";
    let client = std::cell::RefCell::new(postgres::Client::connect(&url, postgres::NoTls).expect("connect"));
    let hashes = || {
        TABLES
            .iter()
            .map(|t| {
                let row = client
                    .borrow_mut()
                    .query_one(
                        &format!("SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)), count(*) FROM {prefix}{t} t"),
                        &[],
                    )
                    .expect("hash");
                (row.get::<_, String>(0), row.get::<_, i64>(1))
            })
            .collect()
    };
    let keys = || -> i64 {
        client
            .borrow_mut()
            .query_one(
                "SELECT count(*) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid WHERE r.relname LIKE 'shpg\\_%'",
                &[],
            )
            .expect("keys")
            .get(0)
    };
    sharded_equals_unsharded(&url, prefix, hashes, keys);
}

#[test]
fn two_mariadb_shards_give_the_tables_of_one_run() {
    let Some(url) = env_url("LOADLINE_TEST_MYSQL_URL") else {
        return;
    };
    let prefix = "shmy_";
    let conn = std::cell::RefCell::new(mysql::Conn::new(mysql::Opts::from_url(&url).expect("url")).expect("connect"));
    let hashes = || {
        TABLES
            .iter()
            .map(|t| {
                let mut c = conn.borrow_mut();
                let cols: Vec<String> = c
                    .exec(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() \
                         AND table_name = ? ORDER BY ordinal_position",
                        (format!("{prefix}{t}"),),
                    )
                    .expect("columns");
                let row = cols
                    .iter()
                    .map(|c| format!("COALESCE(CAST(`{c}` AS CHAR), '<null>')"))
                    .collect::<Vec<_>>()
                    .join(", ");
                // Order-free: XOR of each row's hash, with the count.
                let (hash, count): (u64, i64) = c
                    .query_first(format!(
                        "SELECT BIT_XOR(CAST(CONV(SUBSTRING(MD5(CONCAT_WS('|', {row})), 1, 16), 16, 10) AS UNSIGNED)), COUNT(*) FROM `{prefix}{t}`"
                    ))
                    .expect("hash")
                    .expect("a row");
                (format!("{hash:016x}"), count)
            })
            .collect()
    };
    let keys = || -> i64 {
        conn.borrow_mut()
            .query_first(
                "SELECT COUNT(*) FROM information_schema.table_constraints WHERE table_schema = DATABASE() \
                 AND table_name LIKE 'shmy\\_%' AND constraint_type IN ('UNIQUE', 'FOREIGN KEY')",
            )
            .expect("keys")
            .unwrap_or(0)
    };
    sharded_equals_unsharded(&url, prefix, hashes, keys);
}
