//! Data synthesis: the properties the schema promises, checked on the
//! fixture's real output, and the errors a person gets for a bad schema.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use loadline::synth::schema::{self, Options};
use loadline::synth::sink::{self, SinkOptions, Target};
use loadline::synth::{self, encode::Dialect, Generator, RunOptions};

use crate::support::*;

fn fixture() -> PathBuf {
    root().join("fixtures/shop.schema.yaml")
}

fn generator(scale: f64, seed: Option<u64>) -> Arc<Generator> {
    let s = schema::load(
        &fixture(),
        &Options {
            scale: Some(scale),
            seed,
        },
    )
    .expect("fixture schema");
    Arc::new(Generator::new(s).expect("generator"))
}

/// Generate into `target` through the library, as the CLI does.
fn synth_to(gen: &Arc<Generator>, target: Target, dialect: Dialect, opts: RunOptions) {
    let opts_sink = SinkOptions {
        dialect,
        ..SinkOptions::default()
    };
    let mut sink = sink::open(&target, &opts_sink).expect("sink");
    synth::run(gen.clone(), sink.as_mut(), &opts).expect("synth run");
}

/// Write the fixture's tables as CSV into `dir` through the library.
fn write_csv(gen: &Arc<Generator>, dir: &Path, threads: usize, shard: Option<(u32, u32)>, tables: Option<&[&str]>) {
    let opts = RunOptions {
        tables: tables.map(|t| t.iter().map(|s| s.to_string()).collect()),
        shard,
        threads,
        ..RunOptions::default()
    };
    synth_to(gen, Target::Csv(dir.to_path_buf()), Dialect::Postgres, opts);
}

fn read(dir: &Path, table: &str) -> Vec<u8> {
    std::fs::read(dir.join(format!("{table}.csv"))).expect("csv file")
}

/// Records as string maps keyed by header; empty unquoted fields are NULL.
fn records(dir: &Path, table: &str) -> Vec<HashMap<String, Option<String>>> {
    let bytes = read(dir, table);
    let mut r = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let headers: Vec<String> = r.headers().expect("header").iter().map(str::to_string).collect();
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec).expect("valid CSV") {
        let pos = rec.position().expect("position").byte() as usize;
        let line_end = bytes[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let raw_fields: Vec<&[u8]> = bytes[pos..line_end].split(|b| *b == b',').collect();
        let mut m = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let v = rec.get(i).expect("field").to_string();
            // Only an unquoted empty field is NULL (the fixture's texts have no commas where this matters).
            let null = v.is_empty() && raw_fields.get(i).is_some_and(|f| f.is_empty());
            m.insert(h.clone(), (!null).then_some(v));
        }
        out.push(m);
    }
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Invariant, over six cases drawn from a fixed stream (seed, scale, thread
/// counts, shard count): same schema and seed ⇒ byte-identical output, whatever the
/// thread count and whatever `--shard i/N` split (the shards' rows,
/// concatenated, are the single run's rows).
#[test]
fn same_seed_same_bytes_whatever_threads_and_shards() {
    let s = Scratch::new();
    // Cases drawn from a fixed stream: seed, scale, thread counts, shard count.
    let mut pick = loadline::values::seed::rng_for(2026, 0);
    for case in 0..6 {
        use rand::RngExt;
        let seed: u64 = pick.random_range(0..1_000_000);
        let scale = [0.003, 0.007, 0.012][case % 3];
        let (ta, tb) = (pick.random_range(1..=2), pick.random_range(3..=5));
        let n: u32 = pick.random_range(2..=7);
        let gen = generator(scale, Some(seed));
        let dir = |name: &str| s.path(&format!("c{case}-{name}"));
        write_csv(&gen, &dir("a"), ta, None, None);
        write_csv(&gen, &dir("b"), tb, None, None);
        for i in 0..n {
            write_csv(&gen, &dir(&format!("s{i}")), 2, Some((i, n)), None);
        }
        for table in ["tenants", "users", "products", "orders"] {
            let one = read(&dir("a"), table);
            let what = format!("seed {seed}, scale {scale}, {table}");
            assert_eq!(one, read(&dir("b"), table), "{what}: {ta} vs {tb} threads");
            let header_end = one.iter().position(|b| *b == b'\n').expect("header") + 1;
            let mut joined = one[..header_end].to_vec();
            for i in 0..n {
                let part = read(&dir(&format!("s{i}")), table);
                assert_eq!(&part[..header_end], &one[..header_end]);
                joined.extend_from_slice(&part[header_end..]);
            }
            assert_eq!(one, joined, "{what}: shards 0..{n} together differ from one run");
        }
        // A different seed gives different data.
        let other = generator(scale, Some(seed + 1));
        write_csv(&other, &dir("other"), 2, None, Some(&["users"]));
        assert_ne!(read(&dir("a"), "users"), read(&dir("other"), "users"));
    }
}

/// A golden hash of the fixture's output at 1% scale: any change to what
/// a schema generates (a generator, the seeding, the encoding) shows here
/// and must be deliberate.
#[test]
fn golden_hash_of_the_fixture() {
    let s = Scratch::new();
    write_csv(&generator(0.01, None), &s.path("g"), 2, None, None);
    let hashes: Vec<String> = ["tenants", "users", "products", "orders"]
        .iter()
        .map(|t| {
            let b = read(&s.path("g"), t);
            format!("{t}: {} bytes, fnv1a {:016x}", b.len(), fnv(&b))
        })
        .collect();
    insta::assert_snapshot!("fixture_golden_hash", hashes.join("\n"));
}

/// Invariants of the fixture at 10% scale: every foreign key points at an
/// existing row, unique columns have no duplicates, `after` timestamps are
/// later, null rates and categorical shares match the schema, and the
/// fan-out of `orders.user_id` fits Zipf(0.8).
#[test]
fn fixture_rows_keep_their_promises() {
    let s = Scratch::new();
    write_csv(&generator(0.1, None), &s.path("d"), 2, None, None);
    let dir = s.path("d");
    let tenants = records(&dir, "tenants");
    let users = records(&dir, "users");
    let products = records(&dir, "products");
    let orders = records(&dir, "orders");
    assert_eq!(
        (tenants.len(), users.len(), products.len(), orders.len()),
        (500, 20_000, 2_000, 100_000)
    );
    let get = |r: &HashMap<String, Option<String>>, k: &str| r[k].clone().unwrap_or_else(|| panic!("{k} is NULL"));

    // Keys: the ids profiles/shop.yaml sends.
    assert_eq!(get(&tenants[0], "id"), "t-00001");
    assert_eq!(get(&tenants[499], "id"), "t-00500");
    let tenant_created: HashMap<String, String> =
        tenants.iter().map(|t| (get(t, "id"), get(t, "created_at"))).collect();

    // users: FK, unique emails, ~20% NULL phones, signup after the tenant's creation.
    let mut emails = HashSet::new();
    let mut null_phones = 0;
    for u in &users {
        let tid = get(u, "tenant_id");
        let created = tenant_created
            .get(&tid)
            .unwrap_or_else(|| panic!("users.tenant_id {tid} has no tenant"));
        assert!(
            get(u, "signup_at") > *created,
            "signup {} not after {created}",
            get(u, "signup_at")
        );
        let e = get(u, "email");
        assert!(e.contains('@'), "{e}");
        assert!(emails.insert(e.clone()), "duplicate email {e}");
        null_phones += usize::from(u["phone"].is_none());
    }
    let n = users.len() as f64;
    let sd = (n * 0.2 * 0.8).sqrt();
    assert!(
        (null_phones as f64 - 0.2 * n).abs() < 4.0 * sd,
        "{null_phones} NULL phones of {n}"
    );

    // products: unique SKUs matching the pattern, prices clamped at 99 with a median near 2500.
    let mut skus = HashSet::new();
    let mut prices: Vec<i64> = Vec::new();
    for p in &products {
        let sku = get(p, "sku");
        let b = sku.as_bytes();
        assert!(sku.len() == 13 && sku.starts_with("SKU-") && b[7] == b'-', "{sku}");
        assert!(
            b[4..7].iter().all(u8::is_ascii_uppercase) && b[8..].iter().all(u8::is_ascii_digit),
            "{sku}"
        );
        assert!(skus.insert(sku));
        prices.push(get(p, "price_cents").parse().expect("integer price"));
    }
    assert!(prices.iter().all(|p| *p >= 99));
    prices.sort_unstable();
    let median = prices[prices.len() / 2];
    assert!((2200..2800).contains(&median), "median price {median}");

    // orders: FKs, uniform qty, status shares, diurnal hours, Zipf fan-out.
    let mut per_user = vec![0f64; users.len()];
    let mut qty = [0f64; 5];
    let mut status: HashMap<String, f64> = HashMap::new();
    let mut hours = [0f64; 24];
    for o in &orders {
        let u: usize = get(o, "user_id").parse().expect("user id");
        assert!((1..=users.len()).contains(&u), "orders.user_id {u} has no user");
        let p: usize = get(o, "product_id").parse().expect("product id");
        assert!(
            (1..=products.len()).contains(&p),
            "orders.product_id {p} has no product"
        );
        per_user[u - 1] += 1.0;
        qty[get(o, "qty").parse::<usize>().expect("qty") - 1] += 1.0;
        *status.entry(get(o, "status")).or_default() += 1.0;
        let placed = get(o, "placed_at");
        assert!(("2025-01-01".."2026-11-01").contains(&placed.as_str()), "{placed}");
        hours[placed[11..13].parse::<usize>().expect("hour")] += 1.0;
    }
    let total = orders.len() as f64;
    assert!(chi_square_p(&qty, &[total / 5.0; 5]) > 1e-3, "qty {qty:?}");
    let obs: Vec<f64> = ["paid", "pending", "refunded"].iter().map(|k| status[*k]).collect();
    assert!(
        chi_square_p(&obs, &[0.80 * total, 0.15 * total, 0.05 * total]) > 1e-3,
        "status {obs:?}"
    );
    let day = loadline::synth::schema::DEFAULT_DAY;
    let wsum: f64 = day.iter().sum();
    let expected: Vec<f64> = day.iter().map(|w| w / wsum * total).collect();
    assert!(chi_square_p(&hours, &expected) > 1e-3, "hours {hours:?}");

    // Zipf(0.8) over the users: user r (1-based) has weight r^-0.8. The
    // first 40 ranks one by one, the rest in one bucket.
    let weights: Vec<f64> = (1..=users.len()).map(|r| (r as f64).powf(-0.8)).collect();
    let wt: f64 = weights.iter().sum();
    let mut o: Vec<f64> = per_user[..40].to_vec();
    let mut e: Vec<f64> = weights[..40].iter().map(|w| w / wt * total).collect();
    o.push(per_user[40..].iter().sum());
    e.push(weights[40..].iter().sum::<f64>() / wt * total);
    let p = chi_square_p(&o, &e);
    assert!(p > 1e-3, "orders.user_id fan-out does not fit Zipf(0.8): p = {p}");
    // And it is really skewed: a uniform pick would give every user ~5 orders.
    assert!(
        per_user[0] > 20.0 * total / users.len() as f64,
        "top user has {} orders",
        per_user[0]
    );
}

/// Invariant: `unique: true` holds at full scale even where the fake
/// crate's dictionaries are small: 200,000 distinct `safe_email`s, with
/// no retry loop.
#[test]
fn unique_fake_values_at_full_scale() {
    let gen = generator(1.0, None);
    let (ti, t) = gen.schema().table("users").expect("users");
    assert_eq!(t.rows, 200_000);
    let (ci, _) = t.column("email").expect("email");
    let mut seen = HashSet::with_capacity(200_000);
    let mut text = String::new();
    for row in 0..t.rows {
        text.clear();
        let _ = gen.cell(ti, ci, row, &mut text);
        assert!(seen.insert(text.clone()), "duplicate {text} at row {row}");
    }
}

fn schema_error(text: &str) -> String {
    let s = Scratch::new();
    let p = s.write("bad.schema.yaml", text);
    let e = schema::load(&p, &Options::default())
        .and_then(Generator::new)
        .expect_err("the schema should be refused");
    e.to_string().replace(&p.display().to_string(), "bad.schema.yaml")
}

const ONE_TABLE: &str = "seed: 1\ntables:\n  t:\n    rows: 10\n    columns:\n      id: {serial: 1}\n";
const CHILD: &str = "  c:\n    rows: 10\n    columns:\n";

/// Bad schemas get the file, line and key, and what to do.
#[test]
fn schema_errors_name_file_line_and_key() {
    let cases = [
        ("unknown_fake", format!("{ONE_TABLE}      e: {{fake: safe_emial}}\n")),
        ("shares_not_100", format!("{ONE_TABLE}      s: {{one_of: {{a: 70%, b: 20%}}}}\n")),
        ("nulls_not_percent", format!("{ONE_TABLE}      p: {{fake: name, nulls: 20}}\n")),
        ("bad_percentage", format!("{ONE_TABLE}      p: {{fake: name, nulls: 120%}}\n")),
        ("ref_missing_table", format!("{ONE_TABLE}      u: {{ref: userz.id}}\n")),
        ("ref_missing_column", format!("{ONE_TABLE}{CHILD}      u: {{ref: t.idd}}\n")),
        ("ref_not_a_key", format!("{ONE_TABLE}      n: {{fake: name}}\n{CHILD}      u: {{ref: t.n}}\n")),
        ("ref_self", format!("{ONE_TABLE}      u: {{ref: t.id}}\n")),
        ("two_generators", format!("{ONE_TABLE}      x: {{serial: 1, uuid: true}}\n")),
        ("no_generator", format!("{ONE_TABLE}      x: {{nulls: 5%}}\n")),
        ("unknown_key", format!("{ONE_TABLE}      x: {{serial: 1, uniq: true}}\n")),
        ("unique_one_of", format!("{ONE_TABLE}      x: {{one_of: [a, b], unique: true}}\n")),
        (
            "unique_pattern_too_small",
            format!("{ONE_TABLE}      x: {{pattern: \"[ab][0-1]\", unique: true}}\n"),
        ),
        (
            "cycle",
            "tables:\n  a:\n    rows: 1\n    columns:\n      id: {serial: 1}\n      b_id: {ref: b.id}\n  b:\n    rows: 1\n    columns:\n      id: {serial: 1}\n      c_id: {ref: c.id}\n  c:\n    rows: 1\n    columns:\n      id: {serial: 1}\n      a_id: {ref: a.id}\n".to_string(),
        ),
        ("after_not_a_ref", format!("{ONE_TABLE}      at: {{timestamp: {{after: id.created_at}}}}\n")),
        ("bad_date", format!("{ONE_TABLE}      at: {{timestamp: {{from: 2021-13-01, to: 2022-01-01}}}}\n")),
        ("bad_pattern", format!("{ONE_TABLE}      x: {{pattern: \"[a-\"}}\n")),
    ];
    for (name, text) in cases {
        insta::assert_snapshot!(format!("schema_error_{name}"), schema_error(&text));
    }
}

fn loadline() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loadline"));
    c.env("NO_COLOR", "1").env_remove("LOADLINE_PROD_DATABASES");
    c
}

#[test]
fn synth_help() {
    let o = loadline().args(["synth", "--help"]).output().expect("run");
    insta::assert_snapshot!("synth_help", String::from_utf8_lossy(&o.stdout));
}

/// The fixture as the issue writes it: every file target from the command
/// line, with the table printed and the files complete (no `.partial`).
#[test]
fn synth_writes_csv_jsonl_and_sql_files() {
    let s = Scratch::new();
    let fx = fixture();
    for to in ["csv:out/", "jsonl:out/", "sql:out/seed.sql"] {
        let o = loadline()
            .current_dir(s.dir.path())
            .args([
                "synth",
                fx.to_str().expect("path"),
                "--to",
                to,
                "--scale",
                "0.01",
                "--seed",
                "9",
            ])
            .output()
            .expect("run");
        assert!(o.status.success(), "{to}: {}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("orders") && out.contains("10000"), "{out}");
    }
    let names: Vec<String> = std::fs::read_dir(s.path("out"))
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".partial")), "{names:?}");
    for n in ["tenants.csv", "users.jsonl", "orders.jsonl", "seed.sql"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    // JSON lines parse, with NULLs as null and integers as numbers.
    let users = std::fs::read_to_string(s.path("out/users.jsonl")).expect("users.jsonl");
    let mut nulls = 0;
    for line in users.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        assert!(v["id"].is_i64());
        nulls += usize::from(v["phone"].is_null());
    }
    assert!(nulls > 0 && users.lines().count() == 2000);
    let sql = std::fs::read_to_string(s.path("out/seed.sql")).expect("seed.sql");
    assert!(sql.starts_with("-- Generated by loadline synth") && sql.trim_end().ends_with("COMMIT;"));
    assert_eq!(sql.matches("CREATE TABLE").count(), 4);
    assert_eq!(
        sql.matches("INSERT INTO \"orders\"").count(),
        10,
        "orders in batches of 1000"
    );
    assert!(sql.contains("FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\")"));
}

/// `--tables` picks tables; an unknown one is an input error (exit 2).
#[test]
fn synth_tables_and_bad_flags() {
    let s = Scratch::new();
    let fx = fixture();
    let fx = fx.to_str().expect("path");
    let o = loadline()
        .current_dir(s.dir.path())
        .args([
            "synth",
            fx,
            "--to",
            "csv:o/",
            "--scale",
            "0.01",
            "--tables",
            "users,orders",
        ])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(s.path("o/users.csv").exists() && !s.path("o/tenants.csv").exists());
    // One table to standard output; the report goes to stderr.
    let o = loadline()
        .args(["synth", fx, "--to", "csv:-", "--tables", "products", "--scale", "0.01"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("id,sku,price_cents\n") && out.lines().count() == 201,
        "{out}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("products"));
    for (args, needle) in [
        (vec!["--to", "csv:o/", "--tables", "userz"], "no table `userz`"),
        (vec!["--to", "parquet:x"], "expected csv:DIR"),
        (vec!["--to", "csv:o/", "--scale=0"], "--scale"),
        (vec!["--to", "sqlite:x.db", "--shard", "0/2"], "--shard"),
        (vec!["--to", "jsonl:-"], "standard output takes one table"),
    ] {
        let o = loadline()
            .current_dir(s.dir.path())
            .arg("synth")
            .arg(fx)
            .args(&args)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// A database labelled prod is refused before anything is touched, by
/// flag or by the user's list, unless --allow-prod; the password in the
/// URL is never printed.
#[test]
fn prod_databases_are_refused() {
    let s = Scratch::new();
    let fx = fixture();
    let fx = fx.to_str().expect("path");
    let o = loadline()
        .args([
            "synth",
            fx,
            "--to",
            "postgres://app:hunter2@db.internal/shop",
            "--environment",
            "prod",
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("labelled prod") && err.contains("--allow-prod"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    let db = s.path("prod.db");
    let db = db.to_str().expect("path");
    let o = loadline()
        .env("LOADLINE_PROD_DATABASES", format!("db.other:5432, {db}"))
        .args(["synth", fx, "--to", &format!("sqlite:{db}"), "--scale", "0.001"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!Path::new(db).exists(), "nothing is written to a refused database");
    let o = loadline()
        .env("LOADLINE_PROD_DATABASES", db)
        .args([
            "synth",
            fx,
            "--to",
            &format!("sqlite:{db}"),
            "--scale",
            "0.001",
            "--allow-prod",
        ])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Peak resident memory of one `loadline synth` process, read from
/// /proc while it runs (VmHWM only grows, so the last reading is the peak).
fn peak_rss_kb(args: &[&str]) -> u64 {
    let mut child = loadline()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    peak
}

/// Invariant: memory is bounded by the chunks in flight, not by the row
/// count: the 1,000,000-row `orders` table needs about what 100,000 rows do.
#[test]
fn memory_does_not_grow_with_rows() {
    let s = Scratch::new();
    let fx = fixture();
    let fx = fx.to_str().expect("path");
    let small = s.path("small");
    let big = s.path("big");
    let run = |scale: &str, dir: &Path| {
        let to = format!("csv:{}", dir.display());
        peak_rss_kb(&["synth", fx, "--to", &to, "--tables", "orders", "--scale", scale])
    };
    let p_small = run("0.1", &small);
    let p_big = run("1", &big);
    assert_eq!(
        std::fs::read(big.join("orders.csv"))
            .expect("orders")
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        1_000_001
    );
    assert!(
        p_big < p_small + 16 * 1024,
        "peak RSS {p_small} kB for 100k orders, {p_big} kB for 1M"
    );
}

const EVERY_GENERATOR: &str = r#"
seed: 11
locale: de_de
tables:
  accounts:
    rows: 400
    columns:
      id: {key: "acc_{index}"}
      opened: {date: {from: 2020-01-01, to: 2024-01-01}}
  people:
    rows: 300
    columns:
      uid: {uuid: true, unique: true, primary_key: true}
      account: {ref: accounts.id, unique: true}
      badge: {uniform: [100, 100000], unique: true, min: 1000, max: 1299}
      name: {fake: name, locale: en}
      city: {fake: city_name}
      code: {pattern: "\\d{3}-\\w{2}"}
      height: {normal: {mean: 170.0, sd: 10}, round: 1}
      visits: {poisson: {mean: 4}}
      wait_s: {exponential: {mean: 30}}
      rank: {zipf: {n: 10, s: 1.2}}
      score: {uniform: [1, 100], type: text}
      vip: {bool: 10%}
      active: {value: true}
      tier: {one_of: [bronze, silver, gold]}
      joined: {timestamp: {from: 2024-01-01, to: 2024-02-01}, unique: true}
      last_seen: {timestamp: {after: joined, within: 2d}}
      first_order: {timestamp: {after: account.opened}, type: date}
      prefs: {json: {theme: {one_of: [dark, light]}, size: {uniform: [1, 3]}, nick: {fake: username, nulls: 50%}}}
"#;

/// Every generator in one schema, checked on its JSON lines: types,
/// ranges, uniqueness, `after` on a column of the same table and of the
/// parent row, `type:` overrides.
#[test]
fn every_generator_does_what_it_says() {
    let s = Scratch::new();
    let p = s.write("every.schema.yaml", EVERY_GENERATOR);
    let schema = schema::load(&p, &Options::default()).expect("schema");
    let gen = Arc::new(Generator::new(schema).expect("generator"));
    let opts = RunOptions {
        threads: 2,
        ..RunOptions::default()
    };
    synth_to(&gen, Target::Jsonl(s.path("j")), Dialect::Postgres, opts);
    let lines = |t: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(s.path(&format!("j/{t}.jsonl")))
            .expect("jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect()
    };
    let accounts = lines("accounts");
    let opened: HashMap<String, String> = accounts
        .iter()
        .map(|a| {
            (
                a["id"].as_str().expect("id").to_string(),
                a["opened"].as_str().expect("date").to_string(),
            )
        })
        .collect();
    assert!(opened
        .values()
        .all(|d| d.len() == 10 && d.as_str() >= "2020-01-01" && d.as_str() < "2024-01-01"));
    let people = lines("people");
    assert_eq!(people.len(), 300);
    let mut seen: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut vip = 0;
    for p in &people {
        for k in ["uid", "account", "badge", "joined"] {
            assert!(
                seen.entry(k).or_default().insert(p[k].to_string()),
                "{k} repeats: {}",
                p[k]
            );
        }
        let uid = p["uid"].as_str().expect("uuid");
        assert_eq!((uid.len(), &uid[14..15]), (36, "4"), "{uid}");
        let badge = p["badge"].as_i64().expect("badge");
        assert!((1000..=1299).contains(&badge), "{badge}");
        let code = p["code"].as_str().expect("code");
        assert!(
            code.len() == 6 && code[..3].bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        assert!(p["height"].as_f64().expect("height") * 10.0 % 1.0 == 0.0);
        assert!(
            p["visits"].is_i64() && p["wait_s"].is_i64() && p["score"].is_string(),
            "{p}"
        );
        assert!((1..=10).contains(&p["rank"].as_i64().expect("rank")));
        vip += usize::from(p["vip"].as_bool().expect("bool"));
        assert_eq!(p["active"], serde_json::Value::Bool(true));
        assert!(["bronze", "silver", "gold"].contains(&p["tier"].as_str().expect("tier")));
        let joined = p["joined"].as_str().expect("joined");
        let last = p["last_seen"].as_str().expect("last_seen");
        assert!(last > joined, "{last} <= {joined}");
        assert!(schema::parse_instant(last).expect("t") - schema::parse_instant(joined).expect("t") <= 2 * 86_400);
        let acc = p["account"].as_str().expect("account");
        let first = p["first_order"].as_str().expect("first_order");
        assert!(
            first.len() == 10 && first > opened[acc].as_str(),
            "{first} vs {}",
            opened[acc]
        );
        let prefs = &p["prefs"];
        assert!(prefs["theme"].is_string() && prefs["size"].is_i64() && prefs.get("nick").is_some());
    }
    assert!((10..60).contains(&vip), "{vip} VIPs of 300 at 10%");
}

/// Shard scripts of a `sql:` target run one after another: the first
/// creates the tables, the last adds the constraints, and together they
/// load exactly the rows of one unsharded script.
#[test]
fn sql_shard_scripts_load_in_sequence() {
    let s = Scratch::new();
    let gen = generator(0.01, None);
    let script = |shard: Option<(u32, u32)>, name: &str| {
        let opts = RunOptions {
            shard,
            threads: 2,
            ..RunOptions::default()
        };
        synth_to(&gen, Target::Sql(s.path(name)), Dialect::Sqlite, opts);
        std::fs::read_to_string(s.path(name)).expect("script")
    };
    let dump = |scripts: &[String]| -> Vec<(i64, String)> {
        let db = rusqlite::Connection::open_in_memory().expect("sqlite");
        for sc in scripts {
            db.execute_batch(sc).expect("script runs");
        }
        let mut st = db.prepare("SELECT id, email FROM users ORDER BY id").expect("query");
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows");
        let v: Vec<(i64, String)> = rows.map(|r| r.expect("row")).collect();
        let orders: i64 = db
            .query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))
            .expect("count");
        assert_eq!(orders, 10_000);
        v
    };
    let whole = dump(&[script(None, "all.sql")]);
    let parts: Vec<String> = (0..3).map(|i| script(Some((i, 3)), &format!("part{i}.sql"))).collect();
    assert_eq!(parts.iter().filter(|p| p.contains("CREATE TABLE")).count(), 1);
    assert_eq!(dump(&parts), whole);
    assert_eq!(whole.len(), 2000);
}

/// A key template's width is bounded: `{index:088888883}` (found by the
/// `schema_yaml` fuzz target) made every key 88 million digits long.
#[test]
fn a_key_width_past_the_limit_is_refused() {
    let e = schema_error(&format!("{ONE_TABLE}      k: {{key: \"t-{{index:088888883}}\"}}\n"));
    assert!(e.starts_with("bad.schema.yaml:7"), "{e}");
    assert!(
        e.contains("tables.t.columns.k.key") && e.contains("at most 32 digits"),
        "{e}"
    );
    let ok = format!("{ONE_TABLE}      k: {{key: \"t-{{index:032}}\"}}\n");
    let s = Scratch::new();
    let p = s.write("ok.schema.yaml", &ok);
    schema::load(&p, &Options::default()).expect("a width of 32 is fine");
}
