//! The fuzz targets' findings as plain tests: every file under
//! `fuzz/regressions/<target>/` (an input a target crashed on, named after
//! its bug) and hand-written edge cases go through the entry points the
//! targets call (`loadline::scrub::fuzzing` for scrub's targets,
//! `loadline::fuzzing` for the others), so a fixed bug stays fixed
//! without nightly or cargo-fuzz. The fuzz corpora are not run here: they
//! are large, and finding nothing in them is the fuzzer's job.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use loadline::scrub::detect::Detectors;
use loadline::scrub::format::Format;
use loadline::scrub::fuzzing::{self, Dumps, Outcome};

use crate::support::root;

/// The folder the targets read their rules and key from.
fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// Scrub `data` as the dump targets do, panicking on a property that fails.
fn dump(name: &str, format: Format, data: &[u8]) -> Outcome {
    static DUMPS: OnceLock<Mutex<Dumps>> = OnceLock::new();
    let dumps =
        DUMPS.get_or_init(|| Mutex::new(Dumps::new(&fuzz_dir()).unwrap_or_else(|e| panic!("the fuzzing rules: {e}"))));
    let mut dumps = dumps.lock().unwrap_or_else(|e| e.into_inner());
    dumps.scrub(format, data).unwrap_or_else(|v| panic!("{name}: {v}"))
}

fn detectors() -> &'static Detectors {
    static DETECTORS: OnceLock<Detectors> = OnceLock::new();
    DETECTORS.get_or_init(Detectors::new)
}

fn rules_text(name: &str, text: &str) {
    if let Err(v) = fuzzing::rules(text, &fuzz_dir().join("rules.yaml")) {
        panic!("{name}: {v}");
    }
}

/// The files of `fuzz/regressions/<target>`, sorted; none if it is absent.
fn crashers(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.expect("dir entry").path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| (display(&p), std::fs::read(&p).expect("read crasher")))
        .collect()
}

fn display(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// Every committed crasher of every target.
#[test]
fn committed_crashers_stay_fixed() {
    for (target, format) in [
        ("scrub_csv", Format::Csv),
        ("scrub_copy", Format::Copy),
        ("scrub_jsonl", Format::Jsonl),
    ] {
        for (name, data) in crashers(target) {
            dump(&name, format, &data);
        }
    }
    for (name, data) in crashers("detect") {
        let text = String::from_utf8_lossy(&data);
        if let Err(v) = fuzzing::detect(detectors(), &text) {
            panic!("{name}: {v}");
        }
    }
    for (name, data) in crashers("scrub_rules") {
        // The target skips input that is not UTF-8.
        if let Ok(text) = std::str::from_utf8(&data) {
            rules_text(&name, text);
        }
    }
}

const USERS: &str = "id,tenant_id,email,name,phone,birth_date,notes,ssn\n";

fn scrubbed(name: &str, o: &Outcome) -> (u64, u64, u64) {
    match o {
        Outcome::Scrubbed {
            rows_in,
            rows_out,
            rejected,
        } => (*rows_in, *rows_out, *rejected),
        Outcome::Refused(e) => panic!("{name}: refused: {e}"),
    }
}

fn refused(name: &str, o: &Outcome) -> String {
    match o {
        Outcome::Refused(e) => {
            assert!(e.is_input(), "{name}: not an input error: {e}");
            e.to_string()
        }
        Outcome::Scrubbed { .. } => panic!("{name}: scrubbed, expected a refusal"),
    }
}

/// Quotes, CRLF, a BOM, invalid UTF-8, a quote left open, ragged rows.
#[test]
fn csv_edge_cases() {
    let good = format!(
        "{USERS}1,t-1,a@b.example,\"Doe, Jane\",+1 415-555-0123,1990-04-12,\"say \"\"hi\"\"\nsecond line\",123-45-6789\n"
    );
    assert_eq!(
        scrubbed("quotes", &dump("quotes", Format::Csv, good.as_bytes())),
        (1, 1, 0)
    );
    let crlf = format!(
        "{}1,t,a@b.c,n,p,2024-02-29,x,s\r\n2,t,,,,,,\r\n",
        USERS.replace('\n', "\r\n")
    );
    assert_eq!(scrubbed("crlf", &dump("crlf", Format::Csv, crlf.as_bytes())), (2, 2, 0));
    let open = format!("{USERS}1,t,a@b.c,n,p,1990-01-01,\"never closed\n2,t,a@b.c,n,p,1990-01-01,ok,s\n");
    assert_eq!(
        scrubbed("open quote", &dump("open quote", Format::Csv, open.as_bytes())),
        (2, 1, 1)
    );
    let stray = format!("{USERS}1,t,a@b.c,n,p,1990-01-01,stray\"quote,s\n1,t,a@b.c,n,p,1990-01-01,\"x\"y,s\n");
    assert_eq!(
        scrubbed("stray", &dump("stray", Format::Csv, stray.as_bytes())),
        (2, 0, 2)
    );
    let ragged = format!("{USERS}1,t,a@b.c\n1,t,a@b.c,n,p,1990-01-01,x,s,extra\n");
    assert_eq!(
        scrubbed("ragged", &dump("ragged", Format::Csv, ragged.as_bytes())),
        (2, 0, 2)
    );
    let mut bad_utf8 = USERS.as_bytes().to_vec();
    bad_utf8.extend_from_slice(b"1,t,\xff\xfe@b.c,n,p,1990-01-01,x\xc3,s\n");
    assert_eq!(scrubbed("utf-8", &dump("utf-8", Format::Csv, &bad_utf8)), (1, 0, 1));
    // A BOM is part of the first column's name, so `id` is missing.
    let bom = format!("\u{feff}{USERS}1,t,a@b.c,n,p,1990-01-01,x,s");
    let why = refused("bom", &dump("bom", Format::Csv, bom.as_bytes()));
    assert!(why.contains("`id`"), "{why}");
    for (name, input) in [
        ("empty", ""),
        ("blank lines", "\n\n\n"),
        ("twice", "id,id\n1,2\n"),
        ("empty name", "id,,email\n"),
    ] {
        refused(name, &dump(name, Format::Csv, input.as_bytes()));
    }
}

/// COPY text's escapes (`\N`, `\\`, `\t`, octal, hex), a backslash at the
/// end of a field, escapes that make invalid UTF-8, `\.`.
#[test]
fn copy_edge_cases() {
    let users = USERS.replace(',', "\t");
    let cases: [(&str, String, (u64, u64, u64)); 6] = [
        (
            "escapes",
            format!("{users}1\tt\ta@b.c\tn\tp\t1990-01-01\ta\\tb\\\\c\\nd\\r\\b\\f\\v\t\\N\n"),
            (1, 1, 0),
        ),
        (
            "octal and hex",
            format!("{users}1\tt\ta@b.c\tn\tp\t1990-01-01\t\\101\\x42\\0\\x\\xg\\q\ts\n"),
            (1, 1, 0),
        ),
        (
            // 0o777 is cut to 0xff: not UTF-8.
            "octal past a byte",
            format!("{users}1\tt\ta@b.c\tn\tp\t1990-01-01\t\\777\ts\n"),
            (1, 0, 1),
        ),
        (
            "trailing backslash",
            format!("{users}1\tt\ta@b.c\tn\tp\t1990-01-01\ttrailing\\\ts\n"),
            (1, 0, 1),
        ),
        (
            "nulls, empties and the end marker",
            format!("{users}\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n\t\t\t\t\t\t\t\n\\.\n"),
            (3, 2, 1),
        ),
        (
            "invalid UTF-8 by escape",
            format!("{users}1\tt\t\\xff\\xfe\tn\tp\t1990-01-01\tx\ts\n"),
            (1, 0, 1),
        ),
    ];
    for (name, input, expected) in cases {
        assert_eq!(
            scrubbed(name, &dump(name, Format::Copy, input.as_bytes())),
            expected,
            "{name}"
        );
    }
    for (name, input) in [
        ("null column name", "id\t\\N\n"),
        ("backslash header", "\\\n"),
        ("empty", ""),
    ] {
        refused(name, &dump(name, Format::Copy, input.as_bytes()));
    }
}

/// JSON of every type in scrubbed columns, blank lines, lines that are not
/// objects, deep nesting (serde_json's recursion limit), a BOM, bad UTF-8.
#[test]
fn jsonl_edge_cases() {
    let deep = |n: usize| format!("{{\"id\": 1, \"notes\": {}{}}}\n", "[".repeat(n), "]".repeat(n));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "nested redact",
            br#"{"id": 1, "email": "a@b.example", "notes": {"t": ["call +1 415-555-0123", {"x": "a@b.example"}]}, "extra": true}
"#
            .to_vec(),
        ),
        (
            "types",
            br#"{"id": "1", "email": 5, "name": false, "phone": [1,2], "birth_date": 1.5e3, "notes": "\u00e9\ud83d\ude00"}
"#
            .to_vec(),
        ),
        (
            "not objects",
            b"{\"id\": 1}\n\n   \n{\"id\": 2, \"id\": 3}\n[1,2]\n\"text\"\nnull\n{\"id\": 1,}\n{\"id\": \"\\ud800\"}\n".to_vec(),
        ),
        ("bom", "\u{feff}{\"id\": 1}\r\n".as_bytes().to_vec()),
        ("utf-8", b"{\"id\": 1, \"notes\": \"\xff\xfe\"}\n".to_vec()),
        ("deep", deep(126).into_bytes()),
        ("too deep", deep(200).into_bytes()),
        ("open", b"{\"notes\": [[[[[[\n".to_vec()),
        ("empty", Vec::new()),
    ];
    for (name, input) in cases {
        if let Outcome::Scrubbed {
            rows_in,
            rows_out,
            rejected,
        } = dump(name, Format::Jsonl, &input)
        {
            assert_eq!(rows_in, rows_out + rejected, "{name}");
        }
    }
}

/// A `\u` escape that is half a surrogate pair is valid JSON grammar but
/// not Unicode: the row is rejected wherever it stands (a scrubbed column,
/// a kept unlisted key, inside a redacted structure), so no output line
/// carries one; a whole pair, or an escaped backslash before `u`, is fine.
#[test]
fn jsonl_lone_surrogates_are_rejected() {
    let input = br#"{"id": 1, "": "\ud800"}
{"id": 2, "extra": ["x", {"y": "\uDFFF"}]}
{"id": 3, "notes": {"t": ["\udbff"]}}
{"id": 4, "name": "\ud800 x"}
{"id": 5, "extra": "\ud83d\ude00 \\ud800"}
"#;
    assert_eq!(
        scrubbed("surrogates", &dump("surrogates", Format::Jsonl, input)),
        (5, 1, 4)
    );
}

/// Every transformer with odd arguments, `same_as` cycles, aliases, tags,
/// several documents, deep flow nesting, a recursive alias.
#[test]
fn rules_edge_cases() {
    let key = "key: ${file:fuzzing-key.txt}\n";
    let cases = [
        format!("{key}tables:\n  t:\n    columns:\n      a: keep\n      b: drop\n      c: null\n      d: ~\n      e: redact\n"),
        format!(
            "{key}locale: de_de\nunlisted_columns: drop\ntables:\n  t:\n    identity: [a, z]\n    unlisted_columns: keep\n    columns:\n      a: {{pseudonymize: {{as: uuid}}}}\n      b: {{pseudonymize: {{same_as: t.a, as: uuid}}}}\n      c: {{fake: first_name, locale: fr_fr}}\n      d: {{mask: {{keep_first: 4294967295, keep_last: 1, with: 'é'}}}}\n      e: {{shift_date: {{max: 365000d}}}}\n      f: {{noise: {{relative: 99.999%}}}}\n"
        ),
        format!("{key}tables:\n  t:\n    columns:\n      a: {{pseudonymize: {{same_as: t.b}}}}\n      b: {{pseudonymize: {{same_as: t.a}}}}\n"),
        format!("{key}tables: &t {{t: {{columns: {{a: keep}}}}}}\nunlisted_columns: *t\n"),
        "key: ${env:LOADLINE_FUZZ_NO_SUCH_VARIABLE}\ntables: {t: {columns: {a: keep}}}\n".to_string(),
        "---\nkey: a\n---\nkey: b\n".to_string(),
        "key: !!binary aGVsbG8=\ntables: [1, 2]\n".to_string(),
        "\t- x\n  : y\n".to_string(),
        format!("{}{}", "{".repeat(100), "}".repeat(100)),
        "a: &a [*a]\n".to_string(),
        String::new(),
    ];
    for (i, text) in cases.iter().enumerate() {
        rules_text(&format!("case {i}"), text);
    }
}

/// The detector target's oracle is not empty: it finds cards and IBANs in
/// the shapes it states, and nothing that fails their checks or stands
/// inside a longer token.
#[test]
fn reference_finder_finds_what_it_states() {
    let finds = |t: &str| -> Vec<(&'static str, String)> {
        fuzzing::reference_finds(t)
            .into_iter()
            .map(|(what, s, e)| (what, t[s..e].to_string()))
            .collect()
    };
    let text = "card 4111111111111111, (4111-1111-1111-1111) 3782 822463 10005 \
                iban=DE89370400440532013000; GB82 WEST 1234 5698 7654 32.";
    assert_eq!(
        finds(text),
        [
            ("card number", "4111111111111111".into()),
            ("grouped card number", "4111-1111-1111-1111".into()),
            ("grouped card number", "3782 822463 10005".into()),
            ("IBAN", "DE89370400440532013000".into()),
            ("grouped IBAN", "GB82 WEST 1234 5698 7654 32".into()),
        ]
    );
    for none in [
        "4111111111111112",              // Luhn
        "x4111111111111111",             // inside a word
        "4111111111111111.5",            // a decimal
        "4111 1111 1111 1111 1111 1111", // 24 digits
        "4111 1111-1111 1111",           // two separators
        "DE89370400440532013001",        // mod-97
        "DE8937040044053201300",         // length
        "de89370400440532013000",        // lower case
        "GB82 WEST 1234 5698 7654 32X",
    ] {
        assert_eq!(finds(none), [], "{none}");
    }
}

/// The detector target's checks on every cell of the other generators'
/// dumps (`fixtures/faker`, nine locales): what the fuzzer starts from
/// holds before it mutates anything.
#[test]
fn detector_oracle_holds_on_every_locale() {
    let dir = root().join("fixtures/faker");
    let mut cells = 0;
    for locale in std::fs::read_dir(&dir).expect("fixtures/faker") {
        let locale = locale.expect("dir entry").path();
        if !locale.is_dir() {
            continue;
        }
        for table in ["users.csv", "orders.csv", "tickets.csv"] {
            let path = locale.join(table);
            let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for (line, row) in reader.records().enumerate() {
                let row = row.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                for cell in &row {
                    if let Err(v) = fuzzing::detect(detectors(), cell) {
                        panic!("{} row {}: {v}", display(&path), line + 1);
                    }
                    cells += 1;
                }
            }
        }
    }
    assert!(cells > 50_000, "only {cells} cells read");
}

/// The run `policy_yaml` and `hlog` read against: `fuzz/seeds/run`.
fn seed_run() -> &'static loadline::results::run::Run {
    static RUN: OnceLock<loadline::results::run::Run> = OnceLock::new();
    RUN.get_or_init(|| {
        loadline::fuzzing::results::seed_run(&fuzz_dir().join("seeds/run")).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Run every committed crasher of `target` through `f`; UTF-8 only when
/// the target skips other input.
fn replay(target: &str, utf8: bool, f: impl Fn(&[u8]) -> Result<(), loadline::fuzzing::Violation>) -> usize {
    let files = crashers(target);
    for (name, data) in &files {
        if utf8 && std::str::from_utf8(data).is_err() {
            continue;
        }
        if let Err(v) = f(data) {
            panic!("{name}: {v}");
        }
    }
    files.len()
}

fn text(data: &[u8]) -> &str {
    std::str::from_utf8(data).expect("checked by replay")
}

/// Every committed crasher of the targets outside scrub.
#[test]
fn committed_crashers_of_the_other_targets_stay_fixed() {
    use loadline::fuzzing::{access_log, results, template, units, yaml};
    replay("profile_yaml", true, |d| yaml::profile(text(d)));
    replay("schema_yaml", true, |d| yaml::schema(text(d)));
    replay("policy_yaml", true, |d| yaml::policy(text(d), seed_run()));
    replay("units", true, |d| units::units(text(d)));
    replay("template", false, template::template);
    replay("hlog", false, |d| results::hlog(d, &seed_run().summary));
    replay("summary", false, results::summary);
    replay("access_log", false, access_log::access_log);
}

/// The seed run's own files hold the targets' properties: what the fuzzer
/// starts from is not already a failure, and the targets read something.
#[test]
fn the_seed_run_reads_through_the_targets() {
    use loadline::fuzzing::results;
    let dir = fuzz_dir().join("seeds/run");
    let log = std::fs::read(dir.join("latency.hlog")).expect("seed log");
    let summary = std::fs::read(dir.join("summary.json")).expect("seed summary");
    results::hlog(&log, &seed_run().summary).unwrap_or_else(|v| panic!("{v}"));
    results::summary(&summary).unwrap_or_else(|v| panic!("{v}"));
    assert!(!seed_run().endpoints.is_empty());
    assert!(
        seed_run().counts_of(&[0]).iter().sum::<u64>() > 0,
        "the seed run has requests"
    );
}
