//! `scrub verify` on small hand-written dumps: an original and a "scrubbed"
//! copy written by the test (not by the scrubber), so each test states
//! exactly which promise the output breaks and what verify must say.

use std::path::{Path, PathBuf};

use super::{verify, Check, Finding, Options, Report};
use crate::scrub::rules::{self, Rules};

/// A user table: a kept id, a pseudonymized email, a redacted note and a dropped ssn.
const RULES: &str = "key: ${file:key.txt}
tables:
  users:
    columns:
      id: keep
      email: {pseudonymize: {as: email}}
      note: redact
      ssn: drop
";

const ORIGINAL: &str = "id,email,note,ssn
1,ann.lee@corp.de,call me on 01512345678,123-45-6789
2,bob.kay@mail.de,no digits here,987-65-4321
3,cid.roe@web.de,parcel arrived late,555-12-3456
";

/// What a correct scrub of [`ORIGINAL`] may look like.
const CLEAN: &str = "id,email,note
1,u1@example.com,call me on [PHONE]
2,u2@example.com,no digits here
3,u3@example.com,parcel arrived late
";

/// An original dump, rules and a key in a temporary directory.
struct Dump {
    dir: tempfile::TempDir,
    rules: Rules,
}

impl Dump {
    fn new(original: &str) -> Dump {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("key.txt"), "a verify test key, 32 bytes long").expect("key");
        let rules = rules::from_str(RULES, &dir.path().join("rules.yaml")).expect("rules");
        std::fs::create_dir(dir.path().join("in")).expect("mkdir in");
        std::fs::write(dir.path().join("in/users.csv"), original).expect("original");
        Dump { dir, rules }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Verify `scrubbed` (written as `out/users.csv`) against the original.
    fn verify(&self, scrubbed: &str) -> Report {
        let out = self.path("out");
        std::fs::create_dir_all(&out).expect("mkdir out");
        std::fs::write(out.join("users.csv"), scrubbed).expect("scrubbed");
        self.verify_dir(&out)
    }

    fn verify_dir(&self, out: &Path) -> Report {
        verify(
            &self.rules,
            &Options {
                original: self.path("in"),
                scrubbed: out.to_path_buf(),
                rejects: None,
            },
        )
        .expect("verify")
    }
}

fn failures(r: &Report, check: Check) -> u64 {
    r.counts.get(&(check, false)).copied().unwrap_or(0)
}

fn findings(r: &Report, check: Check) -> Vec<&Finding> {
    r.findings.iter().filter(|f| f.check == check && !f.warning).collect()
}

/// Every line a person or a CI log sees: the summary, the report file, each finding.
fn everything_shown(r: &Report) -> String {
    let mut all = r.summary(usize::MAX).join("\n");
    all.push_str(&serde_json::to_string(&r.document()).expect("report JSON"));
    for f in &r.findings {
        all.push_str(&format!("{f:?}"));
    }
    all
}

#[test]
fn a_clean_output_passes() {
    let r = Dump::new(ORIGINAL).verify(CLEAN);
    assert!(r.passed(), "{:#?}", r.findings);
    assert!(r.findings.iter().all(|f| f.warning), "{:#?}", r.findings);
    assert_eq!(r.tables.len(), 1);
    let t = &r.tables[0];
    assert_eq!((t.table.as_str(), t.original_rows, t.scrubbed_rows), ("users", 3, 3));
    assert_eq!((t.rejected_by_scrub, t.malformed_original), (0, 0));
    assert_eq!(r.summary(10).last().map(String::as_str), Some("verify: PASS"));
    assert!(r.document().passed);
}

/// An original value left in its own row fails `leak`, naming the table, column and line
/// (scrubbed and original) but never the value itself.
#[test]
fn a_surviving_value_fails_leak_without_showing_it() {
    let leaky = CLEAN.replace("u2@example.com", "bob.kay@mail.de");
    let r = Dump::new(ORIGINAL).verify(&leaky);
    assert!(!r.passed());
    let leaks = findings(&r, Check::Leak);
    assert!(!leaks.is_empty());
    for leak in leaks {
        assert_eq!(leak.table, "users");
        assert_eq!(leak.column.as_deref(), Some("email"));
        assert_eq!((leak.line, leak.original_line), (Some(3), Some(3)));
    }
    let shown = everything_shown(&r);
    assert!(!shown.contains("bob.kay"), "the value is shown:\n{shown}");
    assert!(r.summary(10).last().is_some_and(|l| l.starts_with("verify: FAIL")));
}

/// A scrubbed value moved to another row and column is still a leak: the comparison is
/// against every original value of the column, in every output cell.
#[test]
fn a_value_moved_to_another_row_and_column_is_a_leak() {
    let leaky = CLEAN.replace("parcel arrived late", "write to ann.lee@corp.de");
    let r = Dump::new(ORIGINAL).verify(&leaky);
    let leaks = findings(&r, Check::Leak);
    assert!(
        leaks
            .iter()
            .any(|f| f.column.as_deref() == Some("note") && f.line == Some(4) && f.message.contains("`users.email`")),
        "{leaks:#?}"
    );
    assert!(!everything_shown(&r).contains("ann.lee"));
}

/// A redacted note that kept its phone number leaks the number (a run of 7 or more digits
/// is an identifying token of free text).
#[test]
fn an_identifying_number_left_in_free_text_is_a_leak() {
    let leaky = CLEAN.replace("call me on [PHONE]", "call me on 01512345678");
    let r = Dump::new(ORIGINAL).verify(&leaky);
    assert!(!r.passed());
    let leaks = findings(&r, Check::Leak);
    assert!(
        leaks
            .iter()
            .all(|f| f.column.as_deref() == Some("note") && f.line == Some(2)),
        "{leaks:#?}"
    );
    assert!(!leaks.is_empty());
    assert!(!everything_shown(&r).contains("2345678"));
}

/// Rows missing from or added to the output are a `row_count` failure at the first row
/// that has no counterpart.
#[test]
fn a_row_count_mismatch_is_reported() {
    let dump = Dump::new(ORIGINAL);
    let short: String = CLEAN.lines().take(3).map(|l| format!("{l}\n")).collect();
    let r = dump.verify(&short);
    assert_eq!(failures(&r, Check::RowCount), 1);
    let f = findings(&r, Check::RowCount)[0];
    assert_eq!((f.line, f.original_line), (None, Some(4)));
    assert!(f.message.contains("ends 1 row early"), "{}", f.message);
    assert_eq!((r.tables[0].original_rows, r.tables[0].scrubbed_rows), (3, 2));

    let long = format!("{CLEAN}4,u4@example.com,extra\n5,u5@example.com,extra too\n");
    let r = dump.verify(&long);
    let f = findings(&r, Check::RowCount)[0];
    assert_eq!((f.line, f.original_line), (Some(5), None));
    assert!(f.message.contains("2 rows more"), "{}", f.message);
}

/// Rows the scrubber rejected (listed in its reject file) are expected to be missing: they
/// are counted as rejected, not as a row-count failure, and the rows after them still pair up.
#[test]
fn rejected_rows_are_accounted_for() {
    let dump = Dump::new(ORIGINAL);
    let rejects = dump.path("in.rejects");
    std::fs::create_dir(&rejects).expect("mkdir rejects");
    std::fs::write(
        rejects.join("users.csv.rejects.jsonl"),
        "{\"line\": 3, \"reason\": \"test\"}\n",
    )
    .expect("rejects");
    let without_row_2: String = CLEAN
        .lines()
        .filter(|l| !l.starts_with("2,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let r = dump.verify(&without_row_2);
    assert!(r.passed(), "{:#?}", r.findings);
    let t = &r.tables[0];
    assert_eq!((t.original_rows, t.rejected_by_scrub, t.scrubbed_rows), (3, 1, 2));
    // The summary line: 3 rows, 1 rejected, 2 expected, 2 written.
    assert!(
        r.summary(0)
            .iter()
            .any(|l| l.split_whitespace().eq(["users", "3", "1", "2", "2"])),
        "{:#?}",
        r.summary(0)
    );
}

/// A dropped column still present, a kept column gone, and a missing file are `shape` failures.
#[test]
fn shape_failures_name_the_column_or_file() {
    let dump = Dump::new(ORIGINAL);
    let with_ssn = "id,email,note,ssn\n1,u1@example.com,x,000-00-0000\n2,u2@example.com,x,000-00-0000\n3,u3@example.com,x,000-00-0000\n";
    let r = dump.verify(with_ssn);
    let shape = findings(&r, Check::Shape);
    assert!(
        shape
            .iter()
            .any(|f| f.column.as_deref() == Some("ssn") && f.message == "a dropped column is in the output"),
        "{shape:#?}"
    );

    let without_note = "id,email\n1,u1@example.com\n2,u2@example.com\n3,u3@example.com\n";
    let r = dump.verify(without_note);
    let shape = findings(&r, Check::Shape);
    assert!(
        shape
            .iter()
            .any(|f| f.column.as_deref() == Some("note") && f.message == "missing from the output"),
        "{shape:#?}"
    );

    let empty = dump.path("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    std::fs::write(empty.join("other.csv"), "a\n1\n").expect("other");
    let r = dump.verify_dir(&empty);
    let shape = findings(&r, Check::Shape);
    assert!(
        shape
            .iter()
            .any(|f| f.table == "users" && f.message.contains("has no scrubbed counterpart")),
        "{shape:#?}"
    );
    assert!(!r.passed());
}

/// A column unique in the original must stay unique when the rules promise it
/// (pseudonymize is one-to-one).
#[test]
fn a_unique_column_that_gains_duplicates_fails() {
    let collapsed = CLEAN.replace("u2@example.com", "u1@example.com");
    let r = Dump::new(ORIGINAL).verify(&collapsed);
    assert_eq!(failures(&r, Check::Unique), 1, "{:#?}", r.findings);
    let f = findings(&r, Check::Unique)[0];
    assert_eq!((f.column.as_deref(), f.line), (Some("email"), Some(3)));
}

/// Findings are capped per table, column and check so a report stays readable, but every
/// one is counted: the verdict never depends on the cap.
#[test]
fn findings_are_capped_but_all_counted() {
    let n = 60;
    let mut original = String::from("id,email,note,ssn\n");
    let mut leaky = String::from("id,email,note\n");
    for i in 0..n {
        original.push_str(&format!("{i},person.{i}@corp.de,fine,000-00-{i:04}\n"));
        leaky.push_str(&format!("{i},person.{i}@corp.de,fine\n"));
    }
    let r = Dump::new(&original).verify(&leaky);
    assert!(
        failures(&r, Check::Leak) >= n,
        "{} leaks counted",
        failures(&r, Check::Leak)
    );
    assert_eq!(findings(&r, Check::Leak).len(), 50);
    assert_eq!(r.document().findings_kept_per_column_and_check, 50);
    assert!(!r.passed());
}

/// Verify `scrubbed` against `original` (file name, text pairs) under `rules`.
fn verify_files(rules: &str, original: &[(&str, String)], scrubbed: &[(&str, String)]) -> Report {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("key.txt"), "a verify test key, 32 bytes long").expect("key");
    let rules = rules::from_str(rules, &dir.path().join("rules.yaml")).expect("rules");
    for (sub, files) in [("in", original), ("out", scrubbed)] {
        std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(sub).join(name), text).expect("write");
        }
    }
    verify(
        &rules,
        &Options {
            original: dir.path().join("in"),
            scrubbed: dir.path().join("out"),
            rejects: None,
        },
    )
    .expect("verify")
}

/// Regression: unique-key findings came in hash-map order, so two runs over the same dumps
/// listed them differently. They come in the original's column order.
#[test]
fn unique_findings_come_in_column_order() {
    let columns: Vec<String> = (0..32).map(|i| format!("c{i:02}")).collect();
    let mut rules = String::from("key: ${file:key.txt}\ntables:\n  t:\n    columns:\n");
    for c in &columns {
        rules.push_str(&format!("      {c}: keep\n"));
    }
    let header = columns.join(",") + "\n";
    let (mut original, mut scrubbed) = (header.clone(), header);
    for row in 0..3 {
        original.push_str(&vec![format!("v{row}"); columns.len()].join(","));
        original.push('\n');
        scrubbed.push_str(&vec!["same"; columns.len()].join(","));
        scrubbed.push('\n');
    }
    let r = verify_files(&rules, &[("t.csv", original)], &[("t.csv", scrubbed)]);
    let order: Vec<_> = findings(&r, Check::Unique).iter().map(|f| f.column.clone()).collect();
    assert_eq!(order, columns.into_iter().map(Some).collect::<Vec<_>>());
}

/// Regression: the join findings of a row came in the hash-map order of the `same_as`
/// columns. They come in the order the rules list the columns.
#[test]
fn join_findings_come_in_rules_order() {
    let columns: Vec<String> = (0..32).map(|i| format!("c{i:02}")).collect();
    let mut rules = String::from(
        "key: ${file:key.txt}\ntables:\n  users:\n    columns:\n      id: {pseudonymize: {as: integer}}\n  \
         orders:\n    columns:\n",
    );
    for c in &columns {
        rules.push_str(&format!("      {c}: {{pseudonymize: {{same_as: users.id}}}}\n"));
    }
    let header = columns.join(",") + "\n";
    let row = |v: &str| vec![v; columns.len()].join(",") + "\n";
    let r = verify_files(
        &rules,
        &[
            ("users.csv", "id\n1\n2\n3\n".into()),
            ("orders.csv", header.clone() + &row("1")),
        ],
        &[
            ("users.csv", "id\n7\n8\n9\n".into()),
            ("orders.csv", header + &row("5")),
        ],
    );
    let order: Vec<_> = findings(&r, Check::ForeignKey)
        .iter()
        .map(|f| f.column.clone())
        .collect();
    assert_eq!(order, columns.into_iter().map(Some).collect::<Vec<_>>());
}
