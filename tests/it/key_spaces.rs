//! Shared key spaces: a profile's `from_schema` values are the keys
//! `loadline synth` writes for the same schema, seed and scale, and a
//! replay against `loadline target --db` seeded that way names no missing
//! row, while plain ranges do.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use loadline::profile::keys::Schemas;
use loadline::profile::{self, Overrides, RequestBuf, RequestPlan};

use crate::support::*;

fn loadline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
}

fn shop() -> PathBuf {
    root().join("fixtures/shop.schema.yaml")
}

/// `loadline synth SCHEMA --scale S --seed N --to TARGET`, which must succeed.
fn synth(schema: &Path, scale: &str, seed: Option<&str>, to: &str) {
    let mut c = loadline();
    c.arg("synth").arg(schema).args(["--scale", scale, "--to", to]);
    if let Some(s) = seed {
        c.args(["--seed", s]);
    }
    let o = c.output().expect("synth");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// One column of a CSV file `synth --to csv:` wrote.
fn csv_column(dir: &Path, table: &str, column: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(dir.join(format!("{table}.csv"))).expect("csv");
    let idx = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == column)
        .expect("column");
    r.records().map(|rec| rec.expect("record")[idx].to_string()).collect()
}

/// A profile with one endpoint whose raw body is `{{a}}|{{b}}|...`, each
/// variable given by `vars` (YAML flow maps).
fn body_profile(scratch: &Scratch, vars: &[(&str, String)], tenants: Option<&str>) -> profile::Profile {
    let body: Vec<String> = vars.iter().map(|(n, _)| format!("{{{{{n}}}}}")).collect();
    let defs: Vec<String> = vars.iter().map(|(n, v)| format!("      {n}: {v}")).collect();
    let tenants = tenants.map_or(String::new(), |t| format!("tenants:\n{t}\n"));
    let text = format!(
        "name: keys
target: {{base_url: \"http://127.0.0.1:9\"}}
seed: 5
duration: 1s
load: {{model: open, rate: 10/s}}
{tenants}endpoints:
  - name: e
    weight: 1
    method: POST
    path: /x
    body: '{}'
    vars:
{}
",
        body.join("|"),
        defs.join("\n")
    );
    let path = scratch.write("keys.yaml", &text);
    profile::load(&path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The bodies of requests `0..n`.
fn bodies(p: profile::Profile, n: u64) -> Vec<String> {
    let plan = RequestPlan::new(Arc::new(p));
    let mut buf = RequestBuf::default();
    (0..n)
        .map(|i| {
            plan.render(i, &mut buf);
            String::from_utf8(buf.body.clone()).expect("utf-8")
        })
        .collect()
}

/// Integer ids, unique patterned SKUs, unique fake emails, a foreign key
/// and a timestamp: each `from_schema` value, picked in order, is the CSV's
/// value of that row, at a scale and seed not the schema's own.
#[test]
fn from_schema_values_are_the_keys_synth_writes() {
    let scratch = Scratch::new();
    let csv_dir = scratch.path("csv");
    synth(&shop(), "0.02", Some("11"), &format!("csv:{}", csv_dir.display()));
    let schema = shop().display().to_string();
    let var = |table: &str, column: &str| {
        format!("{{from_schema: {{schema: \"{schema}\", table: {table}, column: {column}, pick: sequential, seed: 11, scale: 0.02}}}}")
    };
    let vars = [
        ("id", var("products", "id")),
        ("sku", var("products", "sku")),
        ("email", var("users", "email")),
        ("tenant_id", var("users", "tenant_id")),
        ("signup", var("users", "signup_at")),
    ];
    let p = body_profile(&scratch, &vars, None);
    let (ids, skus) = (
        csv_column(&csv_dir, "products", "id"),
        csv_column(&csv_dir, "products", "sku"),
    );
    let (emails, tenant_ids, signups) = (
        csv_column(&csv_dir, "users", "email"),
        csv_column(&csv_dir, "users", "tenant_id"),
        csv_column(&csv_dir, "users", "signup_at"),
    );
    assert_eq!((ids.len(), emails.len()), (400, 4000));
    // Past the end of products (400 rows), sequential picks wrap around.
    for (i, body) in bodies(p, 900).iter().enumerate() {
        let got: Vec<&str> = body.split('|').collect();
        let (p, u) = (i % ids.len(), i % emails.len());
        assert_eq!(
            got,
            [
                ids[p].as_str(),
                skus[p].as_str(),
                emails[u].as_str(),
                tenant_ids[u].as_str(),
                signups[u].as_str()
            ],
            "request {i}"
        );
    }
    assert!(
        skus[0].starts_with("SKU-") && emails[0].contains('@'),
        "{} {}",
        skus[0],
        emails[0]
    );
}

/// Tenants from a schema: tenant k (1-based) is row k-1's key, with the
/// schema's own seed and scale when the profile gives none.
#[test]
fn tenants_from_schema_are_the_table_rows_in_order() {
    let scratch = Scratch::new();
    let csv_dir = scratch.path("csv");
    // The fixture's own seed (7) at scale 0.001: 5 tenants.
    synth(&shop(), "0.001", None, &format!("csv:{}", csv_dir.display()));
    let tenants = format!(
        "  from_schema: {{schema: \"{}\", table: tenants, column: id, scale: 0.001}}\n  skew: {{zipf: 1.1}}",
        shop().display()
    );
    let p = body_profile(&scratch, &[("q", "{uniform: [1, 2]}".into())], Some(&tenants));
    let t = p.tenants.as_ref().expect("tenants");
    let want = csv_column(&csv_dir, "tenants", "id");
    assert_eq!(t.count as usize, want.len());
    let got: Vec<String> = (1..=t.count).map(|i| t.id(i)).collect();
    assert_eq!(got, want);
    // Zipf rank 1 (the hottest) is the first row.
    let plan = RequestPlan::new(Arc::new(p));
    let mut counts = vec![0u32; want.len()];
    let mut buf = RequestBuf::default();
    for i in 0..2000 {
        plan.render(i, &mut buf);
        counts[buf.tenant.expect("tenant") as usize] += 1;
    }
    assert!(counts[0] > counts[1] && counts[1] > counts[4], "{counts:?}");
}

/// A schema of our own: odd table and column names needing quoting, a
/// Unicode `one_of`, a UUID column; the values match synth's CSV.
#[test]
fn odd_names_and_types_match_synth() {
    let scratch = Scratch::new();
    let schema = scratch.write(
        "odd.schema.yaml",
        "seed: 3
tables:
  \"Käufer list\":
    rows: 37
    columns:
      \"user id\": {uuid: true}
      größe: {one_of: [ä, \"ö ü\", \"日本\"]}
      code: {pattern: \"[a-f]{2}-[0-9]{3}\", unique: true}
",
    );
    let csv_dir = scratch.path("csv");
    synth(&schema, "1", None, &format!("csv:{}", csv_dir.display()));
    let var = |column: &str| {
        format!(
            "{{from_schema: {{schema: odd.schema.yaml, table: \"Käufer list\", column: \"{column}\", pick: sequential}}}}"
        )
    };
    let p = body_profile(
        &scratch,
        &[("a", var("user id")), ("b", var("größe")), ("c", var("code"))],
        None,
    );
    let cols = ["user id", "größe", "code"].map(|c| csv_column(&csv_dir, "Käufer list", c));
    for (i, body) in bodies(p, 37).iter().enumerate() {
        let want = [cols[0][i].as_str(), cols[1][i].as_str(), cols[2][i].as_str()];
        assert_eq!(body.split('|').collect::<Vec<_>>(), want, "row {i}");
    }
}

/// Every variable naming one schema file, seed and scale shares one
/// generator; another seed or scale gets its own.
#[test]
fn one_generator_per_schema_seed_and_scale() {
    let schemas = Schemas::default();
    let a = schemas.generator(&shop(), None, Some(0.01)).expect("schema");
    let b = schemas.generator(&shop(), None, Some(0.01)).expect("schema");
    let c = schemas.generator(&shop(), Some(8), Some(0.01)).expect("schema");
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &c));
}

/// Mistakes name the profile's file, line and key, and what is wrong with
/// the schema or the column.
#[test]
fn from_schema_mistakes_are_explained() {
    let scratch = Scratch::new();
    let schema = shop().display().to_string();
    let load_var = |v: String| {
        let text = format!(
            "name: k\ntarget: {{base_url: \"http://127.0.0.1:9\"}}\nduration: 1s\nload: {{model: open, rate: 1/s}}\n\
             endpoints:\n  - name: e\n    weight: 1\n    path: /p/{{{{v}}}}\n    vars:\n      v: {v}\n"
        );
        let path = scratch.write("bad.yaml", &text);
        profile::load(&path, &Overrides::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let try_var = |v: String| load_var(v).expect_err("must be refused");
    let fs = |rest: &str| format!("{{from_schema: {{schema: \"{schema}\", {rest}}}}}");
    let e = try_var(fs("table: product, column: id"));
    assert!(e.contains("bad.yaml:10") && e.contains("from_schema.table"), "{e}");
    assert!(
        e.contains("no table `product`") && e.contains("tenants, users, products, orders"),
        "{e}"
    );
    let e = try_var(fs("table: products, column: name"));
    assert!(
        e.contains("no column `name`") && e.contains("columns: id, sku, price_cents"),
        "{e}"
    );
    let e = try_var(fs("table: users, column: phone"));
    assert!(e.contains("`users.phone` is NULL in 20%"), "{e}");
    let e = try_var(fs("table: products, column: id, pick: \"zipf:-1\""));
    assert!(e.contains("from_schema.pick"), "{e}");
    let e = try_var(fs("table: products, column: id, scale: 0"));
    assert!(e.contains("from_schema.scale"), "{e}");
    let e = try_var("{from_schema: {schema: nowhere.schema.yaml, table: t, column: c}}".into());
    assert!(
        e.contains("from_schema.schema") && e.contains("nowhere.schema.yaml not found"),
        "{e}"
    );
    // A schema without a seed gives keys no seeder wrote unless told one.
    scratch.write(
        "noseed.schema.yaml",
        "tables:\n  t:\n    rows: 3\n    columns:\n      id: {serial: 1}\n",
    );
    let e = try_var("{from_schema: {schema: noseed.schema.yaml, table: t, column: id}}".into());
    assert!(e.contains("has no seed"), "{e}");
    load_var("{from_schema: {schema: noseed.schema.yaml, table: t, column: id, seed: 4}}".into())
        .expect("a seed given");
    // The schema's own error, located in the schema.
    scratch.write(
        "broken.schema.yaml",
        "seed: 1\ntables:\n  t:\n    rows: 3\n    columns:\n      id: {serail: 1}\n",
    );
    let e = try_var("{from_schema: {schema: broken.schema.yaml, table: t, column: id}}".into());
    assert!(e.contains("bad.yaml:10") && e.contains("broken.schema.yaml:6"), "{e}");
}

/// A running `loadline target --port 0 --db sqlite:FILE`, and its base URL.
struct DbTarget {
    child: Child,
    base: String,
}

impl DbTarget {
    fn start(db: &Path) -> DbTarget {
        let mut child = loadline()
            .args(["target", "--port", "0", "--threads", "1", "--db"])
            .arg(format!("sqlite:{}", db.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn target");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        DbTarget { child, base }
    }

    /// `GET path`: status and body.
    fn get(&self, path: &str) -> (u16, String) {
        let addr = self.base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read");
        let status = text[9..12].parse().expect("status");
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
        (status, body)
    }
}

impl DbTarget {
    /// Stop it as Ctrl-C would (SIGTERM to its process id): it writes the
    /// orders still queued, then prints its counts.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(ok.success());
        let mut rest = String::new();
        if let Some(out) = self.child.stdout.as_mut() {
            out.read_to_string(&mut rest).expect("stdout");
        }
        assert!(self.child.wait().expect("wait").success());
        rest
    }
}

impl Drop for DbTarget {
    fn drop(&mut self) {
        // Only when a test failed before `stop`.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The replay profile: tenants from the schema, `product` as given.
fn replay_profile(base: &str, product: &str) -> String {
    let schema = shop().display().to_string();
    format!(
        "name: replay
target: {{base_url: \"{base}\", connections: 8, timeout: 2s}}
seed: 3
duration: 2500ms
load: {{model: open, rate: 300/s}}
tenants:
  from_schema: {{schema: \"{schema}\", table: tenants, column: id, scale: 0.02}}
  skew: {{zipf: 1.1}}
endpoints:
  - name: get_product
    weight: 3
    path: /t/{{{{tenant}}}}/products/{{{{product}}}}
    vars:
      product: {product}
    expect: [200]
  - name: create_order
    weight: 1
    method: POST
    path: /t/{{{{tenant}}}}/orders
    headers: {{Content-Type: application/json}}
    body: '{{\"product\": \"{{{{sku}}}}\", \"qty\": 2}}'
    vars:
      sku: {{from_schema: {{schema: \"{schema}\", table: products, column: sku, scale: 0.02}}}}
    expect: [201]
"
    )
}

fn outcome(s: &loadline::results::summary::Summary, endpoint: &str, class: &str) -> u64 {
    let e = s.endpoints.iter().find(|e| e.name == endpoint).expect("endpoint");
    e.outcomes.get(class).map_or(0, |o| o.count)
}

/// Seed SQLite with synth, serve it with `target --db`, replay: with
/// `from_schema` products no request is a 404; with a plain range over the
/// full-size catalogue most product requests are. Orders land in the file.
#[test]
fn replay_with_from_schema_finds_every_row() {
    let scratch = Scratch::new();
    let db = scratch.path("shop.db");
    synth(&shop(), "0.02", None, &format!("sqlite:{}", db.display()));
    let target = DbTarget::start(&db);
    let (status, body) = target.get("/t/t-00001/products/400");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"sku\":\"SKU-"), "{body}");
    assert_eq!(target.get("/t/t-00001/products/401").0, 404);
    assert_eq!(target.get("/t/t-00101/products/1").0, 404);

    let keyed = "{from_schema: {schema: \"SCHEMA\", table: products, column: id, pick: \"zipf:0.9\", scale: 0.02}}"
        .replace("SCHEMA", &shop().display().to_string());
    let p = profile(&scratch, &replay_profile(&target.base, &keyed), "");
    let r = run(&scratch, p, 1);
    let s = &r.summary;
    assert_eq!(s.totals.errors, 0);
    assert!(s.totals.requests > 400, "{}", s.totals.requests);
    assert_eq!(s.totals.unexpected_status, 0, "no 404 nor 422 with from_schema");
    assert_eq!(outcome(s, "get_product", "4xx"), 0);
    let orders = outcome(s, "create_order", "2xx");
    assert!(orders > 50, "{orders}");
    let (_, stats) = target.get("/_stats");
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("stats json");
    assert_eq!(stats["not_found"], 2, "only the two asked for above: {stats}");

    let scratch2 = Scratch::new();
    let p = profile(&scratch2, &replay_profile(&target.base, "{uniform: [1, 20000]}"), "");
    let s = run(&scratch2, p, 1).summary;
    let (ok, missing) = (outcome(&s, "get_product", "2xx"), outcome(&s, "get_product", "4xx"));
    assert!(
        missing > 0 && missing as f64 > 0.9 * (ok + missing) as f64,
        "{ok} found, {missing} not"
    );
    let (_, stats) = target.get("/_stats");
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("stats json");
    assert_eq!(stats["not_found"].as_u64(), Some(missing + 2), "{stats}");
    let more_orders = outcome(&s, "create_order", "2xx");
    let sent_orders: u64 = [&r.summary, &s]
        .iter()
        .map(|s| {
            s.endpoints
                .iter()
                .find(|e| e.name == "create_order")
                .expect("endpoint")
                .requests
        })
        .sum();
    let said = target.stop();
    assert!(said.contains(&format!("{} not found", missing + 2)), "{said}");

    // Every order answered 201 is in the file once the target has stopped
    // (and none it refused).
    let conn = rusqlite::Connection::open(&db).expect("open");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))
        .expect("count");
    let n = n as u64;
    assert!(
        (20_000 + orders + more_orders..=20_000 + sent_orders).contains(&n),
        "{n} rows; {orders} + {more_orders} orders answered 201 of {sent_orders}"
    );
    let status: String = conn
        .query_row("SELECT status FROM orders ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .expect("last order");
    assert_eq!(status, "pending");
}
