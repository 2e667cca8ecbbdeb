//! The generators' promises, each on a small inline schema: a value is a
//! pure function of (seed, table, column, row); unique columns are unique;
//! NULLs and skews follow what the schema asks; foreign keys and `after:`
//! point at real parent rows.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::Generator;
use crate::synth::batch::{Cell, RowBatch};
use crate::synth::schema::{self, Options};

/// Tenants and their users, with one column of each generator kind the tests look at.
const SCHEMA: &str = "seed: 7
tables:
  tenants:
    rows: 50
    columns:
      id: {key: \"t-{index:03}\"}
      created_at: {timestamp: {from: 2024-01-01, to: 2025-01-01}}
  users:
    rows: 2000
    columns:
      id: {serial: 1}
      tenant_id: {ref: tenants.id, skew: {zipf: 1.1}}
      any_tenant: {ref: tenants.id}
      email: {fake: safe_email, unique: true}
      name: {fake: name}
      phone: {fake: phone_number, nulls: 20%}
      sku: {pattern: \"SKU-[A-Z]{2}-[0-9]{3}\", unique: true}
      badge: {uniform: [1, 100000], unique: true}
      token: {uuid: true, unique: true}
      score: {normal: {mean: 50, sd: 10}}
      signup_at: {timestamp: {after: tenant_id.created_at}}
";

fn generator(text: &str, seed: Option<u64>) -> Generator {
    let opts = Options { scale: None, seed };
    let schema = schema::from_str(text, Path::new("test.schema.yaml"), &opts).expect("schema");
    Generator::new(schema).expect("generator")
}

/// A cell as text, for comparing values (text cells by their text, others by their value).
fn show(batch: &RowBatch, c: &Cell) -> String {
    match c {
        Cell::Text { .. } | Cell::Json { .. } => batch.str(c).to_string(),
        other => format!("{other:?}"),
    }
}

/// Every row of `table` (by name), each as its cells shown as text.
fn rows(gen: &Generator, table: &str) -> Vec<Vec<String>> {
    let (t, info) = gen.schema().table(table).expect("table");
    let mut batch = RowBatch::default();
    gen.fill(t, 0, info.rows as usize, &mut batch);
    (0..batch.rows)
        .map(|r| batch.row(r).iter().map(|c| show(&batch, c)).collect())
        .collect()
}

/// The values of one column of `table`.
fn column(gen: &Generator, table: &str, name: &str) -> Vec<String> {
    let (_, info) = gen.schema().table(table).expect("table");
    let (c, _) = info.column(name).expect("column");
    rows(gen, table).into_iter().map(|mut r| r.swap_remove(c)).collect()
}

#[test]
fn the_same_seed_gives_the_same_values() {
    let a = generator(SCHEMA, None);
    let b = generator(SCHEMA, None);
    assert_eq!(rows(&a, "users"), rows(&b, "users"));
    assert_eq!(rows(&a, "tenants"), rows(&b, "tenants"));
}

/// Another seed changes every random column (serial ids and keys stay what they are).
#[test]
fn another_seed_gives_other_values() {
    let a = generator(SCHEMA, None);
    let b = generator(SCHEMA, Some(8));
    for name in ["email", "name", "sku", "badge", "token", "score", "tenant_id"] {
        let (x, y) = (column(&a, "users", name), column(&b, "users", name));
        let same = x.iter().zip(&y).filter(|(p, q)| p == q).count();
        assert!(same < x.len() / 2, "{name}: {same} of {} values unchanged", x.len());
    }
    assert_eq!(column(&a, "users", "id"), column(&b, "users", "id"));
}

/// Row `i` is the same whichever batch, thread or shard makes it: a slice of rows equals
/// the same rows of a whole-table fill, and each cell computed alone.
#[test]
fn a_row_does_not_depend_on_its_batch() {
    let gen = generator(SCHEMA, None);
    let whole = rows(&gen, "users");
    let (t, _) = gen.schema().table("users").expect("users");
    let mut batch = RowBatch::default();
    gen.fill(t, 1500, 20, &mut batch);
    for r in 0..20 {
        let shown: Vec<String> = batch.row(r).iter().map(|c| show(&batch, c)).collect();
        assert_eq!(shown, whole[1500 + r], "row {}", 1500 + r);
    }
    let email = gen.schema().tables[t].column("email").expect("email").0;
    let mut text = String::new();
    let c = gen.cell(t, email, 1234, &mut text);
    let alone = match c {
        Cell::Text { start, len } => text[start as usize..(start + len) as usize].to_string(),
        other => panic!("an email is text, got {other:?}"),
    };
    assert_eq!(alone, whole[1234][email]);
}

/// `unique: true` holds for every kind of generator that offers it.
#[test]
fn unique_columns_are_unique() {
    let gen = generator(SCHEMA, None);
    for name in ["email", "sku", "badge", "token", "id"] {
        let values = column(&gen, "users", name);
        let distinct: HashSet<&String> = values.iter().collect();
        assert_eq!(distinct.len(), values.len(), "{name} has duplicates");
    }
    // The unique range is not left: 2,000 distinct values out of 1..=100000.
    for b in column(&gen, "users", "badge") {
        let v: i64 = b
            .trim_start_matches("Int(")
            .trim_end_matches(')')
            .parse()
            .expect("an int");
        assert!((1..=100_000).contains(&v), "{v}");
    }
}

/// `nulls: 20%` over 10,000 rows: within 5 standard deviations (±200) of 2,000.
#[test]
fn the_null_rate_is_what_the_schema_asks() {
    let gen = generator(&SCHEMA.replace("rows: 2000", "rows: 10000"), None);
    let nulls = column(&gen, "users", "phone").iter().filter(|v| *v == "Null").count();
    assert!((1800..=2200).contains(&nulls), "{nulls} NULLs in 10000 rows");
    let other_nulls = column(&gen, "users", "name").iter().filter(|v| *v == "Null").count();
    assert_eq!(other_nulls, 0);
}

/// A foreign key is always the key of an existing parent row, skewed or not.
#[test]
fn foreign_keys_point_at_existing_rows() {
    let gen = generator(SCHEMA, None);
    let parents: HashSet<String> = column(&gen, "tenants", "id").into_iter().collect();
    assert_eq!(parents.len(), 50);
    for name in ["tenant_id", "any_tenant"] {
        let children = column(&gen, "users", name);
        assert!(children.iter().all(|k| parents.contains(k)), "{name}");
        // 2,000 picks over 50 parents reach most of them.
        let used: HashSet<&String> = children.iter().collect();
        assert!(used.len() > 25, "{name}: only {} parents used", used.len());
    }
}

/// Zipf skew: the first parent row is picked most, then the second, and so on; a uniform
/// reference has no such order.
#[test]
fn zipf_skew_favours_the_first_parents_in_order() {
    let gen = generator(&SCHEMA.replace("rows: 2000", "rows: 20000"), None);
    let mut count: HashMap<String, usize> = HashMap::new();
    for k in column(&gen, "users", "tenant_id") {
        *count.entry(k).or_default() += 1;
    }
    let at = |rank: usize| count.get(&format!("t-{rank:03}")).copied().unwrap_or(0);
    // With s = 1.1 the expected counts are about 4,950, 2,310, 1,480, ..., 400 at rank 10:
    // far more than sampling noise apart.
    assert!(
        at(1) > at(2) && at(2) > at(3) && at(3) > at(10),
        "{:?}",
        (at(1), at(2), at(3), at(10))
    );
    assert!(at(1) > 20000 / 50 * 5, "the first parent has {} picks", at(1));

    let mut uniform: HashMap<String, usize> = HashMap::new();
    for k in column(&gen, "users", "any_tenant") {
        *uniform.entry(k).or_default() += 1;
    }
    let max = uniform.values().copied().max().unwrap_or(0);
    assert!(
        max < 20000 / 50 * 2,
        "a uniform pick is skewed: {max} picks of one parent"
    );
}

/// `after: tenant_id.created_at` is strictly later than the creation of the very tenant
/// the row points at.
#[test]
fn after_is_later_than_the_parent_row_it_points_at() {
    let gen = generator(SCHEMA, None);
    let created: HashMap<String, String> = column(&gen, "tenants", "id")
        .into_iter()
        .zip(column(&gen, "tenants", "created_at"))
        .collect();
    let secs = |s: &str| -> i64 {
        s.trim_start_matches("Time(")
            .trim_end_matches(')')
            .parse()
            .unwrap_or_else(|_| panic!("not a time: {s}"))
    };
    let users = rows(&gen, "users");
    let (_, info) = gen.schema().table("users").expect("users");
    let tenant = info.column("tenant_id").expect("tenant_id").0;
    let signup = info.column("signup_at").expect("signup_at").0;
    for row in &users {
        let parent = &created[&row[tenant]];
        assert!(
            secs(&row[signup]) > secs(parent),
            "{} is not after {parent}",
            row[signup]
        );
    }
}

/// A unique column that cannot have enough distinct values is refused up front, naming
/// the column, instead of looping or repeating values.
#[test]
fn a_unique_column_with_too_few_values_is_refused() {
    let text = SCHEMA.replace("SKU-[A-Z]{2}-[0-9]{3}", "SKU-[0-9]{3}");
    let opts = Options::default();
    let schema = schema::from_str(&text, Path::new("test.schema.yaml"), &opts).expect("schema");
    let err = Generator::new(schema)
        .expect_err("1,000 values for 2,000 rows")
        .to_string();
    assert!(err.contains("tables.users.columns.sku"), "{err}");
    assert!(err.contains("only 1000 distinct values"), "{err}");
}

/// Every value of one column of a one-table schema, as cells.
fn cells(text: &str, rows: usize) -> Vec<Cell> {
    let gen = generator(text, None);
    let mut batch = RowBatch::default();
    gen.fill(0, 0, rows, &mut batch);
    (0..batch.rows).map(|r| batch.row(r)[0]).collect()
}

#[test]
fn quantiles_follow_their_points() {
    let text = "seed: 1\ntables:\n  t:\n    rows: 20000\n    columns:\n      v: {quantiles: [10, 20, 30, 40, 100, 200, 400, 600, 1000]}\n";
    let v: Vec<i64> = cells(text, 20_000)
        .iter()
        .map(|c| match c {
            Cell::Int(i) => *i,
            other => panic!("not an integer: {other:?}"),
        })
        .collect();
    let share = |x: i64| v.iter().filter(|&&y| y <= x).count() as f64 / v.len() as f64;
    // The levels hold: a quarter at or below 40, half at or below 100, 90% at or below 400.
    for (x, want) in [(40, 0.25), (100, 0.50), (400, 0.90), (1000, 0.99)] {
        assert!((share(x) - want).abs() < 0.01, "{x}: {} want {want}", share(x));
    }
    // Linear between the points: as many values in 100..150 as in 150..200.
    let between = |a: i64, b: i64| v.iter().filter(|&&y| y > a && y <= b).count() as f64;
    assert!((between(100, 150) / between(150, 200) - 1.0).abs() < 0.1);
    // Floats when a point is written as one.
    let text = text.replace("[10,", "[10.5,");
    assert!(cells(&text, 10).iter().all(|c| matches!(c, Cell::Float(_))));
}

#[test]
fn quantiles_are_checked() {
    for (bad, why) in [
        ("[1, 2, 3]", "give the 9 values"),
        ("[1, 2, 3, 4, 5, 6, 7, 9, 8]", "never decreasing"),
        ("[1, 2, 3, 4, 5, 6, 7, 8, 9%]", "give the 9 values"),
    ] {
        let text = format!("seed: 1\ntables:\n  t:\n    rows: 1\n    columns:\n      v: {{quantiles: {bad}}}\n");
        let e = schema::from_str(&text, Path::new("q.yaml"), &Options::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(why) && e.contains("tables.t.columns.v.quantiles"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn weekly_weights_pick_the_day_of_week() {
    // Only Tuesdays and Saturdays, Saturdays three times as often; hours by the day curve.
    let text = "seed: 1\ntables:\n  t:\n    rows: 20000\n    columns:\n      at: {timestamp: {from: 2025-01-01, to: 2025-07-01, weekly: [0, 1, 0, 0, 0, 3, 0], diurnal: true}}\n";
    let mut days = [0usize; 7];
    let (from, to) = (1_735_689_600, 1_751_328_000);
    for c in cells(text, 20_000) {
        let Cell::Time(t) = c else { panic!("{c:?}") };
        assert!((from..to).contains(&t), "{t}");
        days[(t.div_euclid(86_400) + 3).rem_euclid(7) as usize] += 1;
    }
    assert_eq!(days[0] + days[2] + days[3] + days[4] + days[6], 0, "{days:?}");
    let ratio = days[5] as f64 / days[1] as f64;
    assert!((ratio - 3.0).abs() < 0.2, "{days:?}");
    for bad in ["[1, 2]", "[0, 0, 0, 0, 0, 0, 0]", "[1, 1, 1, 1, 1, 1, -1]"] {
        let text = format!("seed: 1\ntables:\n  t:\n    rows: 1\n    columns:\n      at: {{date: {{from: 2025-01-01, to: 2025-02-01, weekly: {bad}}}}}\n");
        let e = schema::from_str(&text, Path::new("w.yaml"), &Options::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("tables.t.columns.at.date.weekly"), "{bad}: {e}");
    }
}
