//! Golden hashes of scrubbed output: the fixture dump, as CSV, JSON lines
//! and COPY text, under every transformer but `redact`, with a fixed key.
//! A change to the scrubber's insides must leave these bytes alone; a hash
//! that moves is a behaviour change and needs a reason in its commit.
//! (`redact` is left out on purpose: better detection changes its output.)

use std::path::Path;

use loadline::scrub;
use sha2::{Digest, Sha256};

use crate::support::*;

const KEY: &str = "golden-key-0123456789abcdef";

const RULES: &str = "\
key: ${file:key.txt}
tables:
  users:
    columns:
      id: {pseudonymize: {as: integer}}
      tenant_id: keep
      email: {pseudonymize: {as: email}}
      name: {fake: name}
      phone: {mask: {keep_last: 2}}
      birth_date: {shift_date: {max: 30d}}
      notes: drop
      ssn: {mask: {keep_first: 1, keep_last: 2, with: '*'}}
  orders:
    columns:
      id: {pseudonymize: {as: text}}
      user_id: {pseudonymize: {same_as: users.id}}
      total_cents: {noise: {relative: 5%}}
      shipping_address: {fake: street_address, locale: fr_fr}
      card_last4: {mask: {all: true}}
  extra:
    identity: [ref]
    columns:
      ref: {pseudonymize: {as: uuid}}
      big: {pseudonymize: {as: integer}}
      padded: {pseudonymize: {as: integer}}
      amount: {noise: {relative: 10%}}
      city: {fake: city, locale: de_de}
      first: {fake: first_name, locale: ja_jp}
      code: {mask: {keep_first: 2}}
      gone: 'null'
      seen: {shift_date: {max: 400d}}
";

/// A table with the columns the fixture lacks: UUIDs, wide and
/// zero-padded integers, decimals, timestamps.
fn extra_rows() -> Vec<[String; 9]> {
    (0..400u64)
        .map(|i| {
            let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            [
                format!(
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    x >> 32,
                    x & 0xffff,
                    i & 0xfff,
                    (x >> 20) & 0xfff,
                    x & 0xffff_ffff_ffff
                ),
                format!("{}", 10_000_000_000 + (x % 89_999_999_999)),
                format!("0{:05}", x % 100_000),
                format!("{}.{:02}", x % 100_000, i % 100),
                format!("Stadt {i}"),
                format!("名前{i}"),
                format!("AB-{:04}-{}", x % 10_000, i % 7),
                format!("secret {i}"),
                format!("2024-{:02}-{:02}T10:{:02}:00Z", 1 + i % 12, 1 + i % 28, i % 60),
            ]
        })
        .collect()
}

fn write_inputs(dir: &Path) {
    let csv_dir = dir.join("csv");
    std::fs::create_dir_all(&csv_dir).expect("mkdir");
    for f in ["users.csv", "orders.csv"] {
        std::fs::copy(root().join("fixtures/dump").join(f), csv_dir.join(f)).expect("copy");
    }
    let header = [
        "ref", "big", "padded", "amount", "city", "first", "code", "gone", "seen",
    ];
    let mut w = csv::Writer::from_path(csv_dir.join("extra.csv")).expect("w");
    w.write_record(header).expect("h");
    for r in extra_rows() {
        w.write_record(&r).expect("row");
    }
    w.flush().expect("flush");

    // The same three tables as JSON lines and as COPY text.
    let (jsonl, copy) = (dir.join("jsonl"), dir.join("copy"));
    std::fs::create_dir_all(&jsonl).expect("mkdir");
    std::fs::create_dir_all(&copy).expect("mkdir");
    for table in ["users", "orders", "extra"] {
        let mut r = csv::Reader::from_path(csv_dir.join(format!("{table}.csv"))).expect("csv");
        let h: Vec<String> = r.headers().expect("h").iter().map(str::to_string).collect();
        let (mut j, mut c) = (String::new(), h.join("\t") + "\n");
        for rec in r.records() {
            let rec = rec.expect("rec");
            let mut m = serde_json::Map::new();
            let mut fields = Vec::new();
            for (k, v) in h.iter().zip(rec.iter()) {
                let json = match (k.as_str(), v) {
                    (_, "") => serde_json::Value::Null,
                    ("id" | "user_id" | "total_cents" | "big", v) => serde_json::json!(v.parse::<u64>().expect("int")),
                    (_, v) => serde_json::json!(v),
                };
                m.insert(k.clone(), json);
                fields.push(if v.is_empty() {
                    "\\N".to_string()
                } else {
                    v.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
                });
            }
            j.push_str(&serde_json::Value::Object(m).to_string());
            j.push('\n');
            c.push_str(&fields.join("\t"));
            c.push('\n');
        }
        std::fs::write(jsonl.join(format!("{table}.jsonl")), j).expect("w");
        std::fs::write(copy.join(format!("{table}.copy")), c).expect("w");
    }
}

/// Same key, same rules, same input: the same bytes as when these hashes
/// were taken (commit e90c7c7, before the scrub module was split up).
#[test]
fn scrubbed_bytes_are_unchanged() {
    let scratch = Scratch::new();
    scratch.write("key.txt", KEY);
    let rules_path = scratch.write("rules.yaml", RULES);
    let rules = scrub::rules::load(&rules_path).unwrap_or_else(|e| panic!("rules: {e}"));
    write_inputs(scratch.dir.path());
    let mut got = Vec::new();
    for format in ["csv", "jsonl", "copy"] {
        let out = scratch.path(&format!("{format}-out"));
        let report = scrub::scrub(
            &rules,
            &scrub::Options {
                input: scratch.path(format),
                output: out.clone(),
                rejects: None,
                max_rejects: 0,
                threads: 3,
                stop: Default::default(),
            },
        )
        .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(report.rejected(), 0, "{format}");
        for table in ["users", "orders", "extra"] {
            let name = format!("{table}.{format}");
            let bytes = std::fs::read(out.join(&name)).expect("read");
            let hash = Sha256::digest(&bytes);
            got.push(format!("{name} {hash:x}"));
        }
    }
    insta::assert_snapshot!("scrub_golden_hashes", got.join("\n"));
}
