//! The profiler on in-memory sources: canaries never reach the schema, the
//! k rules, categories against shapes, foreign keys (composite ones, and a
//! column of small numbers that is not one), the noise's budget, and a
//! round trip through `fixtures/shop.schema.yaml`.

use std::collections::BTreeMap;
use std::path::Path;

use super::source::{ColumnInfo, Declared, ForeignKey, Source, SourceError, TableInfo};
use super::{profile, render, Options, Profile};
use crate::scrub::keyed::Secret;
use crate::synth::batch::{Cell, RowBatch};
use crate::synth::schema::{self, Dist, Gen, Skew};
use crate::synth::Generator;

/// Tables held in memory, rows as text (`None` is NULL).
pub(crate) struct Memory {
    pub tables: Vec<(TableInfo, Vec<Vec<Option<String>>>)>,
}

impl Source for Memory {
    fn describe(&self) -> String {
        "memory:test".into()
    }
    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        Ok(self.tables.iter().map(|(t, _)| t.clone()).collect())
    }
    fn scan(
        &mut self,
        table: &TableInfo,
        limit: Option<u64>,
        row: &mut dyn FnMut(&[Option<&str>]) -> bool,
    ) -> Result<u64, SourceError> {
        let (_, rows) = self
            .tables
            .iter()
            .find(|(t, _)| t.name == table.name)
            .ok_or_else(|| SourceError::BadSource(table.name.clone()))?;
        let mut n = 0;
        for r in rows.iter().take(limit.map_or(usize::MAX, |l| l as usize)) {
            let cells: Vec<Option<&str>> = r.iter().map(|c| c.as_deref()).collect();
            n += 1;
            if !row(&cells) {
                break;
            }
        }
        Ok(n)
    }
    fn count(&mut self, table: &TableInfo) -> Result<u64, SourceError> {
        Ok(self
            .tables
            .iter()
            .find(|(t, _)| t.name == table.name)
            .map_or(0, |(_, r)| r.len() as u64))
    }
}

/// A table of `Declared::Unknown` columns (as from CSV) with no constraints.
pub(crate) fn info(name: &str, cols: &[&str]) -> TableInfo {
    TableInfo {
        name: name.into(),
        columns: cols
            .iter()
            .map(|c| ColumnInfo {
                name: (*c).into(),
                declared: Declared::Unknown,
                type_name: String::new(),
                not_null: false,
            })
            .collect(),
        primary_key: vec![],
        unique: vec![],
        foreign_keys: vec![],
    }
}

fn prf() -> crate::scrub::keyed::Prf {
    Secret::new(b"test key".to_vec()).prf("synth-learn", "values")
}

fn learn(src: &mut Memory, opts: &Options) -> (Profile, String) {
    let p = profile(src, opts, &prf()).unwrap();
    let text = render::render(&p, "2026-01-01");
    // The schema must load as `loadline synth` loads it.
    if let Err(e) = schema::from_str(&text, Path::new("learned.yaml"), &schema::Options::default()) {
        panic!("{e}\n{text}");
    }
    (p, text)
}

fn load(text: &str) -> schema::Schema {
    schema::from_str(text, Path::new("learned.yaml"), &schema::Options::default()).unwrap()
}

fn cell_text(batch: &RowBatch, c: &Cell) -> Option<String> {
    match c {
        Cell::Null => None,
        Cell::Text { .. } | Cell::Json { .. } => Some(batch.str(c).to_string()),
        other => {
            let mut s = String::new();
            crate::synth::encode::scalar(other, false, &mut s);
            Some(s)
        }
    }
}

/// Every row of every table of a schema, as CSV gives them (NULL as "").
fn dataset(text: &str, scale: f64) -> Memory {
    let opts = schema::Options {
        scale: Some(scale),
        seed: None,
    };
    let s = schema::from_str(text, Path::new("s.yaml"), &opts).unwrap();
    let gen = Generator::new(s).unwrap();
    let mut tables = Vec::new();
    let mut names: Vec<(usize, String)> = gen
        .schema()
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (i, t.name.clone()))
        .collect();
    names.sort_by(|a, b| a.1.cmp(&b.1));
    for (ti, name) in names {
        let t = &gen.schema().tables[ti];
        let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let mut rows = Vec::with_capacity(t.rows as usize);
        let mut batch = RowBatch::default();
        let mut first = 0;
        while first < t.rows {
            let n = (t.rows - first).min(4096) as usize;
            gen.fill(ti, first, n, &mut batch);
            for r in 0..batch.rows {
                rows.push(
                    batch
                        .row(r)
                        .iter()
                        .map(|c| Some(cell_text(&batch, c).unwrap_or_default()))
                        .collect(),
                );
            }
            first += n as u64;
        }
        tables.push((info(&name, &cols), rows));
    }
    Memory { tables }
}

fn col(rows: usize, f: impl Fn(usize) -> Option<String>) -> Vec<Option<String>> {
    (0..rows).map(f).collect()
}

/// Columns side by side into rows.
fn rows_of(cols: Vec<Vec<Option<String>>>) -> Vec<Vec<Option<String>>> {
    let n = cols[0].len();
    (0..n).map(|r| cols.iter().map(|c| c[r].clone()).collect()).collect()
}

#[test]
fn canaries_never_reach_the_schema() {
    let n = 2_000;
    let email = col(n, |i| {
        Some(if i == 777 {
            "zelda.canary@unique-example.org".into()
        } else {
            format!("user{i}@example.com")
        })
    });
    let tier = col(n, |i| {
        Some(if i % 700 == 5 {
            "platinum-canary".into()
        } else if i % 3 == 0 {
            "gold".into()
        } else {
            "basic".into()
        })
    });
    let amount = col(n, |i| {
        Some(if i == 1234 {
            "999999999".into()
        } else {
            ((i * 37) % 500 + 10).to_string()
        })
    });
    let mut src = Memory {
        tables: vec![(
            info("accounts", &["contact", "tier", "amount"]),
            rows_of(vec![email, tier, amount]),
        )],
    };
    let (_, text) = learn(&mut src, &Options::default());
    for canary in ["zelda", "canary", "unique-example", "platinum", "999999999", "99999"] {
        assert!(!text.contains(canary), "{canary} leaked:\n{text}");
    }
    assert!(text.contains("contact: {fake: safe_email, unique: true}"), "{text}");
    assert!(text.contains("1 rare categories"), "{text}");
    assert!(
        text.contains("tier: {one_of: {\"basic\": 66.6%, \"gold\": 33.4%}}"),
        "{text}"
    );
}

#[test]
fn numbers_are_guarded_quantiles() {
    let n = 1_000;
    let v = col(n, |i| Some((i + 1).to_string()));
    let f = col(n, |i| Some(format!("{}.25", i % 97)));
    let mut src = Memory {
        tables: vec![(info("t", &["n", "f"]), rows_of(vec![v, f]))],
    };
    let (_, text) = learn(&mut src, &Options::default());
    let s = load(&text);
    let c = &s.tables[0].columns[0];
    // Unique and dense: a serial, from a rounded start.
    assert!(matches!(c.gen, Gen::Serial { start: 1 }), "{text}");
    let Gen::Number {
        dist: Dist::Quantiles(p),
        int,
        ..
    } = &s.tables[0].columns[1].gen
    else {
        panic!("{text}")
    };
    assert!(!int);
    // k = 10 of 1000 values: the ends sit at the 1% and 99% levels, never at 0.25 or 96.25.
    assert!(p[0] > 0.25 && p[8] < 96.25, "{p:?}");
    assert!((p[4] - 48.0).abs() < 3.0, "{p:?}");
}

#[test]
fn k_decides_categories_and_shapes() {
    let n = 600;
    // 12 categories of 50 each: categories under k = 10, a shape under k = 60.
    let cat = col(n, |i| Some(format!("c{:02}", i % 12)));
    let mut src = Memory {
        tables: vec![(info("t", &["cat"]), rows_of(vec![cat]))],
    };
    let (_, text) = learn(&mut src, &Options::default());
    assert!(text.contains("cat: {one_of: {"), "{text}");
    let opts = Options {
        min_count: 60,
        ..Options::default()
    };
    let (_, text) = learn(&mut src, &opts);
    assert!(
        text.contains("cat: {pattern: \"[a-z0-9]{3}\"}") || text.contains("cat: {pattern: \"c[0-9]{2}\"}"),
        "{text}"
    );
    assert!(!text.contains("c05"), "{text}");
}

#[test]
fn categories_that_look_personal_become_shapes() {
    let n = 400;
    let phones = ["+44 20 7946 0958", "+1 212 555 0199", "+33 1 42 68 53 00"];
    let c = col(n, |i| Some(phones[i % 3].to_string()));
    let mut src = Memory {
        tables: vec![(info("t", &["contact_line"]), rows_of(vec![c]))],
    };
    let (_, text) = learn(&mut src, &Options::default());
    for p in phones {
        assert!(!text.contains(p), "{text}");
    }
    assert!(text.contains("contact_line: {fake: phone_number}"), "{text}");
}

fn fk_source() -> Memory {
    let parents = 300;
    let id = col(parents, |i| Some((i + 1).to_string()));
    let code = col(parents, |i| Some(format!("P{:04}", i + 1)));
    let region = col(parents, |i| Some(["eu", "us", "ap"][i % 3].to_string()));
    let no = col(parents, |i| Some((i / 3 + 1).to_string()));
    let kids = 3_000;
    let parent_id = col(kids, |i| Some(((i * 7919) % parents + 1).to_string()));
    let qty = col(kids, |i| Some((i % 5 + 1).to_string()));
    // A composite reference: (region, no) of a parent row.
    let cregion = col(kids, |i| Some(["eu", "us", "ap"][(i * 31) % parents % 3].to_string()));
    let cno = col(kids, |i| Some(((i * 31) % parents / 3 + 1).to_string()));
    let pcode = col(kids, |i| Some(format!("P{:04}", (i * 13) % parents + 1)));
    let mut pinfo = info("shops", &["id", "code", "region", "no"]);
    pinfo.unique = vec![vec!["region".into(), "no".into()]];
    let oinfo = info("orders", &["shop_id", "qty", "region", "no", "shop_code"]);
    Memory {
        tables: vec![
            (oinfo, rows_of(vec![parent_id, qty, cregion, cno, pcode])),
            (pinfo, rows_of(vec![id, code, region, no])),
        ],
    }
}

#[test]
fn foreign_keys_are_found_by_inclusion() {
    let mut src = fk_source();
    let (p, text) = learn(&mut src, &Options::default());
    let s = load(&text);
    let (_, orders) = s.table("orders").unwrap();
    let (shops_i, _) = s.table("shops").unwrap();
    let is_ref = |c: &str| matches!(orders.column(c).unwrap().1.gen, Gen::Ref { table, .. } if table == shops_i);
    assert!(is_ref("shop_id"), "{text}");
    assert!(is_ref("shop_code"), "{text}");
    // Five small numbers are among the ids too, but are no foreign key.
    assert!(!is_ref("qty"), "{text}");
    assert!(
        orders
            .column("qty")
            .is_some_and(|(_, c)| matches!(c.gen, Gen::OneOf { .. })),
        "{text}"
    );
    // The composite key (region, no) is found, and said.
    let composite = p
        .fks
        .iter()
        .find(|f| f.columns.len() == 2)
        .expect("composite foreign key");
    assert_eq!(p.tables[composite.table].info.name, "orders");
    assert!(
        text.contains("part of a composite foreign key (region, no) -> shops(region, no)"),
        "{text}"
    );
}

#[test]
fn declared_keys_are_taken_as_declared() {
    let mut src = fk_source();
    src.tables[0].0.foreign_keys = vec![ForeignKey {
        columns: vec!["qty".into()],
        parent: "shops".into(),
        parent_columns: vec!["id".into()],
    }];
    let (p, text) = learn(&mut src, &Options::default());
    assert!(p.fks.iter().any(|f| f.declared), "{text}");
    assert!(text.contains("qty: {ref: shops.id"), "{text}");
}

#[test]
fn epsilon_noises_counts_and_records_the_budget() {
    let mut src = fk_source();
    let (_, plain) = learn(&mut src, &Options::default());
    assert!(plain.contains("# No differential privacy noise"), "{plain}");
    let opts = Options {
        epsilon: Some(0.5),
        seed: 3,
        ..Options::default()
    };
    let (p, noisy) = learn(&mut src, &opts);
    let b = p.budget.clone().unwrap();
    assert!((b.per_query * b.queries as f64 - 0.5).abs() < 1e-9);
    assert!(noisy.contains("epsilon 0.5 spent as"), "{noisy}");
    assert_ne!(plain, noisy);
    // Same seed, same noise.
    let (_, again) = learn(&mut src, &opts);
    assert_eq!(noisy, again);
}

#[test]
fn no_rows_and_unknown_tables_are_errors() {
    let mut src = Memory {
        tables: vec![(info("empty", &["a"]), vec![])],
    };
    let e = profile(&mut src, &Options::default(), &prf()).unwrap_err().to_string();
    assert!(e.contains("table `empty` has no rows"), "{e}");
    let opts = Options {
        tables: Some(vec!["nope".into()]),
        ..Options::default()
    };
    let e = profile(&mut src, &opts, &prf()).unwrap_err().to_string();
    assert!(e.contains("no table `nope`"), "{e}");
}

/// The share of each value of a column, by generating it.
fn shares(mem: &Memory, table: &str, column: &str) -> BTreeMap<String, f64> {
    let (t, rows) = mem.tables.iter().find(|(t, _)| t.name == table).unwrap();
    let ci = t.columns.iter().position(|c| c.name == column).unwrap();
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r[ci].clone().unwrap_or_default()).or_insert(0.0) += 1.0 / rows.len() as f64;
    }
    m
}

/// Seconds of a plain pass over every row, touching every byte (for scale),
/// and the sum of the bytes.
fn plain_pass(src: &mut Memory) -> (f64, usize) {
    let started = std::time::Instant::now();
    let mut bytes = 0usize;
    for t in &src.tables().unwrap() {
        src.scan(t, None, &mut |row: &[Option<&str>]| {
            bytes += row
                .iter()
                .flatten()
                .map(|v| v.bytes().map(usize::from).sum::<usize>())
                .sum::<usize>();
            true
        })
        .unwrap();
    }
    (started.elapsed().as_secs_f64(), bytes)
}

#[test]
#[allow(clippy::print_stderr)] // the measured fits, for the record
fn shop_round_trip() {
    let shop = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/shop.schema.yaml")).unwrap();
    let scale = 0.1;
    let mut original = dataset(&shop, scale);
    let started = std::time::Instant::now();
    let (_, text) = learn(&mut original, &Options::default());
    let secs = started.elapsed().as_secs_f64();
    let cells: usize = original.tables.iter().map(|(t, r)| t.columns.len() * r.len()).sum();
    let rows: usize = original.tables.iter().map(|(_, r)| r.len()).sum();
    let (plain, bytes) = plain_pass(&mut original);
    eprintln!("{text}\nlearned {rows} rows ({cells} cells) in {secs:.2} s; a plain pass {plain:.3} s ({bytes})");
    let learned = load(&text);
    let want = schema::from_str(
        &shop,
        Path::new("shop"),
        &schema::Options {
            scale: Some(scale),
            seed: None,
        },
    )
    .unwrap();
    for t in &want.tables {
        let (_, l) = learned.table(&t.name).unwrap();
        let err = (l.rows as f64 / t.rows as f64 - 1.0).abs();
        assert!(err <= 0.01, "{}: {} rows, want {}", t.name, l.rows, t.rows);
        for c in &t.columns {
            let (_, lc) = l.column(&c.name).unwrap();
            assert!(
                (lc.nulls - c.nulls).abs() <= 0.02,
                "{}.{}: nulls {} want {}",
                t.name,
                c.name,
                lc.nulls,
                c.nulls
            );
            if let Gen::Ref { table, skew, .. } = c.gen {
                let Gen::Ref {
                    table: lt, skew: ls, ..
                } = lc.gen
                else {
                    panic!("{}.{} is no foreign key:\n{text}", t.name, c.name)
                };
                assert_eq!(want.tables[table].name, learned.tables[lt].name);
                let (Skew::Zipf(s), Skew::Zipf(ls)) = (skew, ls) else {
                    panic!("{}.{}: {ls:?}", t.name, c.name)
                };
                eprintln!("{}.{}: zipf {s} learned {ls:.3}", t.name, c.name);
                assert!((s - ls).abs() <= 0.1, "{}.{}: zipf {ls} want {s}", t.name, c.name);
            }
        }
    }
    // Categorical shares: the learned weights against the data, and (where
    // the table is large enough for its own sampling noise to be small)
    // the shares of the data generated from the learned schema.
    let again = dataset(&text, 1.0);
    for (t, c) in [("tenants", "plan"), ("orders", "status"), ("orders", "qty")] {
        let a = shares(&original, t, c);
        let (_, lt) = learned.table(t).unwrap();
        let Gen::OneOf { choices, weights } = &lt.column(c).unwrap().1.gen else {
            panic!("{t}.{c}:\n{text}")
        };
        let sum: f64 = weights.iter().sum();
        for (v, share) in &a {
            let w = choices.iter().position(|x| x == v).map_or(0.0, |i| weights[i] / sum);
            eprintln!("{t}.{c} = {v}: data {share:.4}, learned {w:.4}");
            assert!((share - w).abs() <= 0.02, "{t}.{c} = {v}: {share} vs {w}");
            if lt.rows >= 10_000 {
                let got = shares(&again, t, c).get(v).copied().unwrap_or(0.0);
                eprintln!("{t}.{c} = {v}: data {share:.4}, generated again {got:.4}");
                assert!((share - got).abs() <= 0.02, "{t}.{c} = {v}: {share} vs {got}");
            }
        }
    }
    // Null rates of the data generated again.
    let phone = shares(&again, "users", "phone").get("").copied().unwrap_or(0.0);
    assert!((phone - 0.2).abs() <= 0.02, "users.phone NULL {phone}");
    // Same input, same output.
    let (_, second) = learn(&mut original, &Options::default());
    assert_eq!(text, second);
}

#[test]
fn odd_names_types_and_unicode_still_load() {
    let n = 500;
    let cols = vec![
        col(n, |i| Some(format!("{:08x}-1234-4abc-8def-{:012x}", i * 7919, i))),
        col(n, |i| Some(if i % 4 == 0 { "true" } else { "false" }.into())),
        col(n, |i| Some(format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1))),
        col(n, |i| Some(format!("{{\"plan\":\"p{}\",\"seats\":{}}}", i % 3, i % 40))),
        col(n, |_| None),
        col(n, |i| {
            Some(format!(
                "Grüße, {} Straße {}",
                ["Zoë", "Łukasz", "Ærøskøbing"][i % 3],
                i
            ))
        }),
        col(n, |i| Some(format!("{}.{:02}", i % 90, i % 100))),
        col(n, |i| Some(format!("the quick brown fox number {i} jumps over it"))),
    ];
    let names = [
        "id: \"quoted\"",
        "active",
        "day",
        "doc",
        "nothing",
        "Ünïcode col",
        "true",
        "note",
    ];
    let mut src = Memory {
        tables: vec![(info("order items", &names), rows_of(cols))],
    };
    let (_, text) = learn(&mut src, &Options::default());
    let s = load(&text);
    let t = &s.tables[0];
    assert_eq!(t.name, "order items");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id: \"quoted\"",
            "active",
            "day",
            "doc",
            "nothing",
            "Ünïcode col",
            "true",
            "note"
        ]
    );
    use crate::synth::schema::Kind;
    let kinds: Vec<Kind> = t.columns.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Uuid,
            Kind::Bool,
            Kind::Date,
            Kind::Json,
            Kind::Text,
            Kind::Text,
            Kind::Float,
            Kind::Text
        ],
        "{text}"
    );
    assert!((t.columns[4].nulls - 1.0).abs() < 1e-9, "{text}");
    assert!(
        matches!(t.columns[1].gen, Gen::Bool(p) if (p - 0.25).abs() < 1e-9),
        "{text}"
    );
    assert!(matches!(t.columns[7].gen, Gen::Fake { .. }), "{text}");
    for leaked in ["Zoë", "Łukasz", "Ærøskøbing", "Grüße", "fox"] {
        assert!(!text.contains(leaked), "{leaked}:\n{text}");
    }
    // It generates.
    let gen = Generator::new(s).unwrap();
    let mut batch = RowBatch::default();
    gen.fill(0, 0, 100, &mut batch);
    assert_eq!(batch.rows, 100);
}

#[test]
fn a_sample_takes_its_row_counts_from_the_source() {
    let mut src = fk_source();
    let opts = Options {
        sample_rows: Some(1_000),
        ..Options::default()
    };
    let (p, text) = learn(&mut src, &opts);
    let orders = p.tables.iter().find(|t| t.info.name == "orders").unwrap();
    assert!(orders.sampled && orders.scanned == 1_000);
    assert!(text.contains("orders (sample of 1000)"), "{text}");
    assert_eq!(load(&text).table("orders").unwrap().1.rows, 3_000);
}

#[test]
fn the_key_does_not_show_in_the_output() {
    // Below the distinct cap every count is exact: another key, the same schema.
    let mut src = fk_source();
    let opts = Options::default();
    let a = render::render(&profile(&mut src, &opts, &prf()).unwrap(), "2026-01-01");
    let other = Secret::new(b"another key".to_vec()).prf("synth-learn", "values");
    let b = render::render(&profile(&mut src, &opts, &other).unwrap(), "2026-01-01");
    assert_eq!(a, b);
}

/// Past the exact distinct count (65,536 hashes), uniqueness is not seen
/// in the sample any more; a declared unique constraint still says it.
#[test]
fn a_declared_unique_column_stays_unique_past_the_sketch() {
    let rows: Vec<Vec<Option<String>>> = (0..70_000u32)
        .map(|i| vec![Some(format!("user{i:06}@example.com")), Some(format!("w{}", i % 7))])
        .collect();
    let mut t = info("people", &["contact", "word"]);
    t.unique = vec![vec!["contact".into()]];
    let mut src = Memory {
        tables: vec![(t.clone(), rows.clone())],
    };
    let (_, text) = learn(&mut src, &Options::default());
    let line = text.lines().find(|l| l.trim_start().starts_with("contact:")).unwrap();
    assert!(line.contains("unique: true"), "{text}");
    // Without the constraint the sample cannot tell: no claim of uniqueness.
    t.unique.clear();
    let mut src = Memory {
        tables: vec![(t, rows)],
    };
    let (_, text) = learn(&mut src, &Options::default());
    let line = text.lines().find(|l| l.trim_start().starts_with("contact:")).unwrap();
    assert!(!line.contains("unique: true"), "{text}");
}

/// A declared self-reference (an employee's manager) cannot be generated
/// parents first: it is left out with its reason, and the schema loads.
/// Two tables' ids holding each other's values are no references at all
/// (a unique whole-number column is its own key unless named otherwise).
#[test]
fn references_that_close_a_cycle_are_left_out() {
    let mut emp = info("employees", &["id", "manager_id"]);
    emp.primary_key = vec!["id".into()];
    emp.foreign_keys = vec![ForeignKey {
        columns: vec!["manager_id".into()],
        parent: "employees".into(),
        parent_columns: vec!["id".into()],
    }];
    let rows = |n: u32, f: &dyn Fn(u32) -> String| -> Vec<Vec<Option<String>>> {
        (1..=n).map(|i| vec![Some(i.to_string()), Some(f(i))]).collect()
    };
    let mut src = Memory {
        tables: vec![
            (emp, rows(200, &|i| (i / 10 + 1).to_string())),
            (info("a", &["id", "b_id"]), rows(300, &|i| (i % 250 + 1).to_string())),
            (info("b", &["id", "note"]), rows(250, &|i| format!("w{}", i % 3))),
        ],
    };
    let (p, text) = learn(&mut src, &Options::default());
    assert!(
        text.contains("# Left out: employees(manager_id) -> employees: it would close a cycle"),
        "{text}"
    );
    assert!(text.contains("b_id: {ref: b.id"), "{text}");
    assert!(!p.fks.iter().any(|f| f.table == f.parent), "{text}");
}

/// A database loadline seeded holds its bookkeeping tables (empty ones
/// too, as after a reset): they are left out unless `--tables` names them.
#[test]
fn loadline_bookkeeping_tables_are_not_learned() {
    let users = (
        info("users", &["id"]),
        (1..=50).map(|i| vec![Some(i.to_string())]).collect(),
    );
    let runs = (info("loadline_seed_runs", &["table_name"]), Vec::new());
    let shards = (
        info("loadline_seed_shards", &["table_name"]),
        vec![vec![Some("users".into())]],
    );
    let mut src = Memory {
        tables: vec![users, runs, shards],
    };
    let (p, text) = learn(&mut src, &Options::default());
    assert_eq!(
        p.tables.iter().map(|t| t.info.name.as_str()).collect::<Vec<_>>(),
        ["users"]
    );
    assert!(!text.contains("loadline_seed"), "{text}");
    let named = Options {
        tables: Some(vec!["loadline_seed_runs".into()]),
        ..Options::default()
    };
    let e = profile(&mut src, &named, &prf()).unwrap_err().to_string();
    assert!(e.contains("`loadline_seed_runs` has no rows"), "{e}");
}
