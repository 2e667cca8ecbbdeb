//! Scrubbing: the fixture dump end to end through the binary, the
//! properties the rules promise (same key, same bytes; one-to-one on unique
//! columns; joins kept; rows in = rows out + rejected) on generated tables,
//! verify catching leaky rules, reject files for broken CSV, and the
//! errors a person gets before anything is written.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use loadline::scrub::{self, rules, verify};
use proptest::prelude::*;

use crate::support::*;

const KEY: &str = "it-scrub-key-7f3a9c2e51d84b06";

fn loadline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
        .args(args)
        .env("LOADLINE_SCRUB_KEY", KEY)
        .env("NO_COLOR", "1")
        .output()
        .expect("run loadline")
}

/// `scrub verify` of `scrubbed` against `original`, the JSON report to `report`.
fn verify_cmd(rules: &Path, original: &Path, scrubbed: &Path, report: &Path) -> Output {
    loadline(&[
        "scrub",
        "verify",
        "--rules",
        s(rules),
        "--original",
        s(original),
        "--scrubbed",
        s(scrubbed),
        "--report",
        s(report),
    ])
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every file under `dir`, as text.
fn all_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(all_files(&p));
            } else {
                out.push((
                    p.clone(),
                    String::from_utf8_lossy(&std::fs::read(&p).expect("read")).into_owned(),
                ));
            }
        }
    }
    out
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header = r.headers().expect("header").iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = header.iter().position(|h| h == name).expect("column");
    rows.iter().map(|r| r[i].clone()).collect()
}

/// The fixture through the binary: scrub, verify, and the promises of the
/// issue's rules on the result. The key appears nowhere.
#[test]
fn fixture_scrubs_verifies_and_never_shows_the_key() {
    let scratch = Scratch::new();
    let dump = root().join("fixtures/dump");
    let rules_path = root().join("fixtures/shop.scrub.yaml");
    let clean = scratch.path("clean");
    let out = loadline(&["scrub", "--rules", s(&rules_path), "--in", s(&dump), "--out", s(&clean)]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = text(&out);
    assert!(
        summary.contains("users        csv           1000       1000         0"),
        "{summary}"
    );

    let report = scratch.path("verify.json");
    let v = verify_cmd(&rules_path, &dump, &clean, &report);
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).contains("verify: PASS"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(json["passed"], true);
    assert_eq!(schema_errors("verify-report.schema.json", &json), Vec::<String>::new());

    let (uh, users) = read_csv(&clean.join("users.csv"));
    let (oh, orders) = read_csv(&dump.join("orders.csv"));
    let (_, orig_users) = read_csv(&dump.join("users.csv"));
    let (coh, clean_orders) = read_csv(&clean.join("orders.csv"));
    assert_eq!(
        uh,
        ["id", "tenant_id", "email", "name", "phone", "birth_date", "notes"],
        "ssn dropped"
    );
    assert_eq!(users.len(), orig_users.len());
    assert_eq!(clean_orders.len(), orders.len());
    // Pseudonymized ids are one-to-one and orders still join.
    let ids: HashSet<String> = column(&uh, &users, "id").into_iter().collect();
    assert_eq!(ids.len(), users.len());
    let orphans = column(&coh, &clean_orders, "user_id")
        .iter()
        .filter(|u| !ids.contains(*u))
        .count();
    assert_eq!(orphans, 0);
    let orig_ids: HashSet<String> = column(&oh, &orders, "user_id").into_iter().collect();
    assert!(orig_ids.len() > 500);
    // Emails: valid, unique, reserved domain, none of the originals.
    let emails = column(&uh, &users, "email");
    let distinct: HashSet<&String> = emails.iter().collect();
    assert_eq!(distinct.len(), emails.len());
    assert!(emails.iter().all(|e| e.contains(".example.")
        || e.ends_with("@example.com")
        || e.ends_with("@example.net")
        || e.ends_with("@example.org")));

    // The key is never printed or written.
    for o in [&out, &v] {
        assert!(!text(o).contains(KEY));
    }
    for (path, content) in all_files(&clean)
        .into_iter()
        .chain([(report.clone(), std::fs::read_to_string(&report).expect("r"))])
    {
        assert!(!content.contains(KEY), "{} holds the key", path.display());
    }
    for args in [
        vec!["--help"],
        vec!["scrub", "--help"],
        vec!["scrub", "verify", "--help"],
        vec!["scrub", "scan", "--help"],
    ] {
        let h = loadline(&args);
        assert!(!text(&h).contains(KEY));
    }
}

/// Rules in a scratch folder whose key lives in a file next to them.
fn rules_in(scratch: &Scratch, body: &str, key: &str) -> rules::Rules {
    scratch.write("key.txt", key);
    let path = scratch.write("rules.yaml", &format!("key: ${{file:key.txt}}\n{body}"));
    rules::load(&path).unwrap_or_else(|e| panic!("rules: {e}"))
}

const TABLE_RULES: &str = "\
tables:
  accounts:
    columns:
      id: {pseudonymize: {as: integer}}
      email: {pseudonymize: {as: email}}
      handle: {pseudonymize: {as: text}}
      name: {fake: name}
      phone: {mask: {keep_last: 2}}
      born: {shift_date: {max: 30d}}
      balance: {noise: {relative: 5%}}
      notes: redact
  payments:
    columns:
      id: keep
      account_id: {pseudonymize: {same_as: accounts.id}}
      amount: keep
";

fn scrub_dir(rules: &rules::Rules, input: &Path, output: &Path, threads: usize, max_rejects: u64) -> scrub::Report {
    scrub::scrub(
        rules,
        &scrub::Options {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            rejects: None,
            max_rejects,
            threads,
            stop: Default::default(),
        },
    )
    .unwrap_or_else(|e| panic!("scrub: {e}"))
}

/// A generated dump: unique ids and emails, payments pointing at accounts,
/// and some malformed rows.
#[derive(Debug, Clone)]
struct Dump {
    accounts: Vec<(u64, String, String, String)>,
    payments: Vec<(u64, usize, u64)>,
    broken: Vec<usize>,
}

fn dump_strategy() -> impl Strategy<Value = Dump> {
    (1usize..120, 0usize..200, prop::collection::vec(0usize..6, 0..4)).prop_flat_map(|(n, m, broken)| {
        (
            prop::collection::btree_set(1u64..5_000_000, n),
            prop::collection::vec("[a-z]{3,8}", n),
            prop::collection::vec("[ -~]{0,30}", n),
            prop::collection::vec((1u64..1_000_000, 0usize..n, 1u64..100_000), m),
            Just(broken),
        )
            .prop_map(|(ids, names, notes, pays, broken)| {
                let accounts = ids
                    .into_iter()
                    .zip(names)
                    .zip(notes)
                    .enumerate()
                    .map(|(i, ((id, name), note))| (id, format!("{name}.{i}@mail.test.org"), name, note))
                    .collect();
                let payments = pays
                    .into_iter()
                    .enumerate()
                    .map(|(i, (_, a, amt))| (i as u64 + 1, a, amt))
                    .collect();
                Dump {
                    accounts,
                    payments,
                    broken,
                }
            })
    })
}

fn write_dump(dir: &Path, d: &Dump) -> usize {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut w = csv::Writer::from_path(dir.join("accounts.csv")).expect("w");
    w.write_record(["id", "email", "handle", "name", "phone", "born", "balance", "notes"])
        .expect("h");
    for (i, (id, email, name, note)) in d.accounts.iter().enumerate() {
        w.write_record([
            id.to_string(),
            email.clone(),
            format!("@{name}{i}"),
            name.clone(),
            format!("+1 415-555-{:04}", i % 10_000),
            format!("19{:02}-0{}-1{}", 50 + i % 40, 1 + i % 9, i % 10),
            format!("{}.{:02}", i * 7, i % 100),
            note.clone(),
        ])
        .expect("row");
    }
    w.flush().expect("flush");
    drop(w);
    // Malformed lines appended by hand: a wrong field count, a stray quote,
    // bad UTF-8, an unterminated quote (the last, so it ends the file).
    let bad: [&[u8]; 6] = [
        b"1,2,3\n",
        b"9,a\"b@x.org,h,n,p,1990-01-01,1,x\n",
        b"9,\xff\xfe@x.org,h,n,p,1990-01-01,1,x\n",
        b"9,\"q\"x,h,n,p,1990-01-01,1,x\n",
        b"9,e@x.org,h,n,p,not-a-date,1,x\n",
        b"9,e@x.org,h,n,p,1990-01-01,1,\"open\n",
    ];
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("accounts.csv"))
        .expect("open");
    let mut order = d.broken.clone();
    order.sort_unstable();
    order.dedup();
    for b in &order {
        std::io::Write::write_all(&mut f, bad[*b]).expect("append");
    }
    let mut w = csv::Writer::from_path(dir.join("payments.csv")).expect("w");
    w.write_record(["id", "account_id", "amount"]).expect("h");
    for (id, a, amt) in &d.payments {
        w.write_record([id.to_string(), d.accounts[*a].0.to_string(), amt.to_string()])
            .expect("row");
    }
    w.flush().expect("flush");
    order.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Same key ⇒ same bytes, whatever the thread count; rows in = rows
    /// out + rejected; unique columns stay unique (one-to-one); every
    /// payment still joins its account.
    #[test]
    fn scrub_properties(d in dump_strategy(), threads in 2usize..5) {
        let scratch = Scratch::new();
        let input = scratch.path("dump");
        let broken = write_dump(&input, &d);
        let rules = rules_in(&scratch, TABLE_RULES, "a key of at least 16 bytes");
        let r1 = scrub_dir(&rules, &input, &scratch.path("one"), 1, 100);
        let r2 = scrub_dir(&rules, &input, &scratch.path("many"), threads, 100);
        for f in ["accounts.csv", "payments.csv"] {
            let a = std::fs::read(scratch.path("one").join(f)).expect("one");
            let b = std::fs::read(scratch.path("many").join(f)).expect("many");
            prop_assert_eq!(a, b, "{} differs between 1 and {} threads", f, threads);
        }
        for f in &r1.files {
            prop_assert_eq!(f.rows_in, f.rows_out + f.rejected, "{}", f.file);
        }
        let accounts = r1.files.iter().find(|f| f.table == "accounts").expect("accounts");
        prop_assert_eq!(accounts.rows_in, (d.accounts.len() + broken) as u64);
        prop_assert_eq!(accounts.rejected, broken as u64);
        prop_assert_eq!(r2.rejected(), r1.rejected());

        let (h, rows) = read_csv(&scratch.path("one").join("accounts.csv"));
        for c in ["id", "email", "handle"] {
            let col = column(&h, &rows, c);
            let set: HashSet<&String> = col.iter().collect();
            prop_assert_eq!(set.len(), col.len(), "{} is not one-to-one", c);
        }
        let ids: HashSet<String> = column(&h, &rows, "id").into_iter().collect();
        let (ph, pays) = read_csv(&scratch.path("one").join("payments.csv"));
        for a in column(&ph, &pays, "account_id") {
            prop_assert!(ids.contains(&a), "payment points at {} which is no account", a);
        }
        // A different key: unrelated pseudonyms.
        let other = Scratch::new();
        let rules2 = rules_in(&other, TABLE_RULES, "another key, also 16+ bytes");
        scrub_dir(&rules2, &input, &other.path("out"), 2, 100);
        let (h2, rows2) = read_csv(&other.path("out").join("accounts.csv"));
        let same = column(&h, &rows, "email").iter().zip(column(&h2, &rows2, "email")).filter(|(a, b)| **a == *b).count();
        prop_assert_eq!(same, 0);
    }
}

/// Broken CSV rows go to the reject file with their line numbers; past
/// --max-rejects nothing is written, within it the rest is.
#[test]
fn broken_csv_goes_to_reject_files() {
    let scratch = Scratch::new();
    let dump = scratch.path("dump");
    std::fs::create_dir_all(&dump).expect("mkdir");
    let mut data = b"id,email,notes\n1,a@x.org,fine\n2,b@x.org,\"multi\nline\"\n3,c@x.org\n4,d\"@x.org,q\n".to_vec();
    data.extend_from_slice(
        b"5,\xffe@x.org,bad utf-8\n6,f@x.org,\"closed\"x\n7,g@x.org,ok\n8,h@x.org,\"never closed\n9,i@x.org,after\n",
    );
    std::fs::write(dump.join("people.csv"), &data).expect("write");
    let rules = scratch.write(
        "rules.yaml",
        "key: ${env:LOADLINE_SCRUB_KEY}\ntables:\n  people:\n    columns:\n      id: keep\n      email: {pseudonymize: {as: email}}\n      notes: redact\n",
    );
    let out = scratch.path("clean");
    let strict = loadline(&["scrub", "--rules", s(&rules), "--in", s(&dump), "--out", s(&out)]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
    assert!(
        text(&strict).contains("5 rows rejected, more than --max-rejects 0: no output written"),
        "{}",
        text(&strict)
    );
    assert!(!out.join("people.csv").exists() && !out.join("people.csv.partial").exists());

    let report = scratch.path("scrub.json");
    let ok = loadline(&[
        "scrub",
        "--rules",
        s(&rules),
        "--in",
        s(&dump),
        "--out",
        s(&out),
        "--max-rejects",
        "5",
        "--report",
        s(&report),
    ]);
    assert!(ok.status.success(), "{}", text(&ok));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("r")).expect("json");
    assert_eq!(schema_errors("scrub-report.schema.json", &json), Vec::<String>::new());
    assert!(json["files"][0]["rejects_file"].is_string(), "{json}");
    let f = &json["files"][0];
    assert_eq!(
        (f["rows_in"].as_u64(), f["rows_out"].as_u64(), f["rejected"].as_u64()),
        (Some(9), Some(4), Some(5))
    );
    let (_, rows) = read_csv(&out.join("people.csv"));
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["1", "2", "7", "9"]);
    // The rejects: next to the input, never in the output, with lines and reasons.
    let rejects = std::fs::read_to_string(scratch.path("dump.rejects/people.csv.rejects.jsonl")).expect("rejects");
    let lines: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let got: Vec<(u64, String)> = lines
        .iter()
        .map(|l| {
            (
                l["line"].as_u64().expect("line"),
                l["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [5, 6, 7, 8, 10]);
    assert!(got[0].1.contains("2 fields, the header has 3"));
    assert!(got[1].1.contains("a quote inside an unquoted field"));
    assert!(got[2].1.contains("not valid UTF-8"));
    assert!(got[3].1.contains("characters after the closing quote"));
    assert!(got[4].1.contains("never closed"));
    assert_eq!(lines[2]["raw_is_utf8"], false);
    // Verify leaves the rejected rows out and passes.
    let v = loadline(&[
        "scrub",
        "verify",
        "--rules",
        s(&rules),
        "--original",
        s(&dump),
        "--scrubbed",
        s(&out),
    ]);
    assert!(v.status.success(), "{}", text(&v));
}

/// Leaky rules: verify fails and names the table, column and line.
#[test]
fn verify_catches_leaky_rule_sets() {
    let dump = root().join("fixtures/dump");
    let base = std::fs::read_to_string(root().join("fixtures/shop.scrub.yaml")).expect("rules");
    let cases = [
        // Free text kept: other columns' values and PII survive in it.
        ("notes: redact", "notes: keep", "leak", "users.notes"),
        // Only emails redacted: cards, IBANs, phones remain.
        (
            "notes: redact",
            "notes: {redact: {kinds: [email]}}",
            "pii",
            "users.notes",
        ),
        // A mask that keeps everything.
        (
            "phone: {mask: {keep_last: 2}}",
            "phone: {mask: {keep_last: 20}}",
            "leak",
            "users.phone",
        ),
        // The ssn column forgotten under unlisted_columns: keep.
        ("      ssn: drop\n", "", "pii", "users.ssn"),
    ];
    for (from, to, check, at) in cases {
        let scratch = Scratch::new();
        let mut rules = base.replace(from, to);
        if to.is_empty() {
            rules = rules.replace("unlisted_columns: fail", "unlisted_columns: keep");
        }
        let rules_path = scratch.write("leaky.yaml", &rules);
        let clean = scratch.path("clean");
        let out = loadline(&["scrub", "--rules", s(&rules_path), "--in", s(&dump), "--out", s(&clean)]);
        assert!(out.status.success(), "{to}: {}", text(&out));
        let report = scratch.path("v.json");
        let v = verify_cmd(&rules_path, &dump, &clean, &report);
        assert_eq!(v.status.code(), Some(1), "{to}: {}", text(&v));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("r")).expect("json");
        assert!(
            json["checks"][check]["failures"].as_u64().expect("count") > 0,
            "{to}: {json}"
        );
        assert_eq!(schema_errors("verify-report.schema.json", &json), Vec::<String>::new());
        let (table, col) = at.split_once('.').expect("at");
        let named =
            json["findings"].as_array().expect("findings").iter().any(|f| {
                f["check"] == check && f["table"] == table && f["column"] == col && f["line"].as_u64().is_some()
            });
        assert!(named, "{to}: no {check} finding on {at} with a line");
        // Findings never carry values.
        let (_, users) = read_csv(&dump.join("users.csv"));
        let report_text = std::fs::read_to_string(&report).expect("r");
        assert!(
            users.iter().take(50).all(|u| !report_text.contains(&u[2])),
            "an email is in the report"
        );
    }
}

/// The same table as CSV, JSONL and COPY text scrubs to the same values.
#[test]
fn csv_jsonl_and_copy_agree() {
    let scratch = Scratch::new();
    let (h, rows) = read_csv(&root().join("fixtures/dump/users.csv"));
    let rows = &rows[..200];
    for (dir, ext) in [("csv", "csv"), ("jsonl", "jsonl"), ("copy", "copy")] {
        std::fs::create_dir_all(scratch.path(dir)).expect("mkdir");
        let mut out = String::new();
        match ext {
            // The same 200 rows in each format: redaction looks for values of every row.
            "csv" => {
                let mut w = csv::Writer::from_path(scratch.path("csv/users.csv")).expect("w");
                w.write_record(&h).expect("h");
                for r in rows {
                    w.write_record(r).expect("row");
                }
                w.flush().expect("flush");
            }
            "jsonl" => {
                for r in rows {
                    let mut m = serde_json::Map::new();
                    for (k, v) in h.iter().zip(r) {
                        let v = if k == "id" {
                            serde_json::json!(v.parse::<u64>().expect("id"))
                        } else if v.is_empty() {
                            serde_json::Value::Null
                        } else {
                            serde_json::json!(v)
                        };
                        m.insert(k.clone(), v);
                    }
                    out.push_str(&serde_json::Value::Object(m).to_string());
                    out.push('\n');
                }
                std::fs::write(scratch.path("jsonl/users.jsonl"), &out).expect("w");
            }
            _ => {
                out.push_str(&h.join("\t"));
                out.push('\n');
                for r in rows {
                    let fields: Vec<String> = r
                        .iter()
                        .map(|v| {
                            if v.is_empty() {
                                "\\N".to_string()
                            } else {
                                v.replace('\\', "\\\\")
                                    .replace('\n', "\\n")
                                    .replace('\t', "\\t")
                                    .replace('\r', "\\r")
                            }
                        })
                        .collect();
                    out.push_str(&fields.join("\t"));
                    out.push('\n');
                }
                std::fs::write(scratch.path("copy/users.copy"), &out).expect("w");
            }
        }
    }
    let base = std::fs::read_to_string(root().join("fixtures/shop.scrub.yaml")).expect("rules");
    let users_only = &base[..base.find("  orders:").expect("orders")];
    let rules = scratch.write("rules.yaml", users_only);
    let mut results: HashMap<&str, Vec<Vec<Option<String>>>> = HashMap::new();
    for dir in ["csv", "jsonl", "copy"] {
        let out_dir = scratch.path(&format!("{dir}-out"));
        let o = loadline(&[
            "scrub",
            "--rules",
            s(&rules),
            "--in",
            s(&scratch.path(dir)),
            "--out",
            s(&out_dir),
        ]);
        assert!(o.status.success(), "{dir}: {}", text(&o));
        let rows: Vec<Vec<Option<String>>> = match dir {
            "csv" => read_csv(&out_dir.join("users.csv"))
                .1
                .into_iter()
                .take(200)
                .map(|r| r.into_iter().map(|v| (!v.is_empty()).then_some(v)).collect())
                .collect(),
            "jsonl" => std::fs::read_to_string(out_dir.join("users.jsonl"))
                .expect("r")
                .lines()
                .map(|l| {
                    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(l).expect("json");
                    assert!(v["id"].is_number(), "ids stay numbers: {l}");
                    ["id", "tenant_id", "email", "name", "phone", "birth_date", "notes"]
                        .iter()
                        .map(|k| match &v[*k] {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(s) => Some(s.clone()),
                            other => Some(other.to_string()),
                        })
                        .collect()
                })
                .collect(),
            _ => std::fs::read_to_string(out_dir.join("users.copy"))
                .expect("r")
                .lines()
                .skip(1)
                .map(|l| {
                    l.split('\t')
                        .map(|f| {
                            (f != "\\N").then(|| f.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\"))
                        })
                        .collect()
                })
                .collect(),
        };
        results.insert(dir, rows);
    }
    assert_eq!(results["csv"], results["jsonl"]);
    assert_eq!(results["csv"], results["copy"]);
}

/// Errors that stop a run before any output exists, as a person reads them.
#[test]
fn errors_before_any_output() {
    let scratch = Scratch::new();
    let dump = root().join("fixtures/dump");
    let base = std::fs::read_to_string(root().join("fixtures/shop.scrub.yaml")).expect("rules");
    let cases: Vec<(&str, String)> = vec![
        ("unknown transformer", base.replace("notes: redact", "notes: redcat")),
        (
            "rules column not in the data",
            base.replace("      ssn: drop\n", "      ssn: drop\n      fax: drop\n"),
        ),
        ("unlisted column", base.replace("      ssn: drop\n", "")),
        (
            "literal key",
            base.replace("${env:LOADLINE_SCRUB_KEY}", "hunter2hunter2hunter2"),
        ),
        (
            "unknown key",
            base.replace("unlisted_columns: fail", "unlisted_colums: fail"),
        ),
        ("bad same_as", base.replace("same_as: users.id", "same_as: users.uid")),
        (
            "table without a file",
            format!("{base}  refunds:\n    columns:\n      id: keep\n"),
        ),
    ];
    let mut snap = String::new();
    for (name, rules) in cases {
        let path = scratch.write("shop.scrub.yaml", &rules);
        let out_dir = scratch.path("never");
        let o = loadline(&["scrub", "--rules", s(&path), "--in", s(&dump), "--out", s(&out_dir)]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        assert!(all_files(&out_dir).is_empty(), "{name}: output written");
        let msg = text(&o)
            .replace(s(scratch.dir.path()), "[tmp]")
            .replace(s(root()), "[root]");
        assert!(!msg.contains("hunter2"), "{name}: the key is echoed");
        snap.push_str(&format!("## {name}\n{msg}\n"));
    }
    // The key missing from the environment.
    let o = Command::new(env!("CARGO_BIN_EXE_loadline"))
        .args([
            "scrub",
            "--rules",
            s(&root().join("fixtures/shop.scrub.yaml")),
            "--in",
            s(&dump),
            "--out",
        ])
        .arg(scratch.path("never"))
        .env_remove("LOADLINE_SCRUB_KEY")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    snap.push_str(&format!("## missing key\n{}\n", text(&o).replace(s(root()), "[root]")));
    insta::assert_snapshot!("scrub_errors", snap);
}

/// scan finds the fixture's personal data and suggests the issue's rules.
#[test]
fn scan_suggests_rules_for_the_fixture() {
    let scratch = Scratch::new();
    let json = scratch.path("scan.json");
    let o = loadline(&[
        "scrub",
        "scan",
        s(&root().join("fixtures/dump/users.csv")),
        "--json",
        s(&json),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("parse");
    assert_eq!(schema_errors("scan-report.schema.json", &v), Vec::<String>::new());
    let cols = v["files"][0]["columns"].as_array().expect("columns");
    let rule = |name: &str| {
        cols.iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["suggested_rule"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(rule("id"), "{pseudonymize: {as: integer}}");
    assert_eq!(rule("email"), "{pseudonymize: {as: email}}");
    assert_eq!(rule("name"), "{fake: name}");
    assert_eq!(rule("phone"), "{mask: {keep_last: 2}}");
    assert_eq!(rule("birth_date"), "{shift_date: {max: 30d}}");
    assert_eq!(rule("notes"), "redact");
    assert_eq!(rule("ssn"), "drop");
    assert_eq!(rule("tenant_id"), "keep");
    let notes = cols.iter().find(|c| c["name"] == "notes").expect("notes");
    for kind in ["email", "phone", "card", "iban", "ip", "national_id", "token"] {
        assert!(
            notes["cells_with_hits"][kind].as_u64().unwrap_or(0) > 0,
            "no {kind} found in notes"
        );
    }
    assert!(text(&o).contains("tables:\n  users:\n    columns:"));
}

/// The library API gives the same verdict as the binary.
#[test]
fn verify_through_the_library() {
    let scratch = Scratch::new();
    let rules = rules_in(
        &scratch,
        "tables:\n  t:\n    columns:\n      id: keep\n      email: {pseudonymize: {as: email}}\n",
        "sixteen bytes or more",
    );
    let input = scratch.path("in");
    std::fs::create_dir_all(&input).expect("mkdir");
    std::fs::write(input.join("t.csv"), "id,email\n1,ann@corp.example.de\n2,bob@mail.de\n").expect("w");
    scrub_dir(&rules, &input, &scratch.path("out"), 1, 0);
    let report = verify::verify(
        &rules,
        &verify::Options {
            original: input.clone(),
            scrubbed: scratch.path("out"),
            rejects: None,
        },
    )
    .expect("verify");
    assert!(report.passed(), "{:?}", report.findings);
    // Put an original address back: verify names the leak.
    let cleaned = std::fs::read_to_string(scratch.path("out/t.csv")).expect("r");
    let leaked: Vec<&str> = cleaned.lines().collect();
    std::fs::write(
        scratch.path("out/t.csv"),
        format!("{}\n{}\n2,bob@mail.de\n", leaked[0], leaked[1]),
    )
    .expect("w");
    let report = verify::verify(
        &rules,
        &verify::Options {
            original: input,
            scrubbed: scratch.path("out"),
            rejects: None,
        },
    )
    .expect("verify");
    assert!(!report.passed());
    assert!(report
        .findings
        .iter()
        .any(|f| f.check == verify::Check::Leak && f.column.as_deref() == Some("email") && f.line == Some(3)));
}
