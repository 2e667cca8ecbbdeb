//! Micro-benchmarks of making requests, the per-request work of every
//! worker before the socket: render request `i` of profiles/shop.yaml
//! (endpoint mix, Zipf tenants, variables, a JSON body on writes) and write
//! it as HTTP/1.1 bytes into a reused buffer, or build it as an HTTP/2
//! `http::Request`.
//!
//! ```text
//! cargo bench --bench request
//! cargo bench --bench request -- --sample-count 10
//! ```

use std::path::Path;

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use loadline::load::client::Wire;
use loadline::profile::{self, Overrides, RequestBuf, RequestPlan};

fn main() {
    divan::main();
}

/// Requests made per benchmark iteration.
const REQUESTS: u64 = 10_000;

/// profiles/shop.yaml, with a literal token instead of the one it reads
/// from the environment.
fn shop() -> (RequestPlan, Wire) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/shop.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace("${env:STAGING_TOKEN}", "bench-token-0123456789");
    let profile = profile::from_str(&text, &path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let wire = Wire::new(&profile);
    (RequestPlan::new(std::sync::Arc::new(profile)), wire)
}

/// Render and write requests `0..REQUESTS` as HTTP/1.1, one buffer cleared
/// per request like a connection's write buffer.
#[divan::bench]
fn render_write_h1(bencher: Bencher) {
    let (plan, wire) = shop();
    bench_write_h1(bencher, &plan, &wire);
}

/// Render and write requests `0..REQUESTS` of `plan` as HTTP/1.1, one
/// buffer cleared per request like a connection's write buffer.
fn bench_write_h1(bencher: Bencher, plan: &RequestPlan, wire: &Wire) {
    let mut buf = RequestBuf::default();
    let mut out = Vec::with_capacity(1024);
    bencher.counter(ItemsCount::new(REQUESTS)).bench_local(|| {
        let mut bytes = 0;
        for i in 0..REQUESTS {
            plan.render(black_box(i), &mut buf);
            out.clear();
            wire.write_h1(&buf, &mut out);
            bytes += black_box(&out).len();
        }
        bytes
    });
}

/// Render requests `0..REQUESTS` and build each as an HTTP/2 request.
#[divan::bench]
fn render_http_request(bencher: Bencher) {
    let (plan, wire) = shop();
    let mut buf = RequestBuf::default();
    bencher.counter(ItemsCount::new(REQUESTS)).bench_local(|| {
        let mut headers = 0;
        for i in 0..REQUESTS {
            plan.render(black_box(i), &mut buf);
            if let Ok(req) = wire.to_http_request(&buf) {
                headers += black_box(req).headers().len();
            }
        }
        headers
    });
}

/// One endpoint whose product variable is drawn three ways (`plain`: a
/// uniform integer; `id` and `sku`: `from_schema` over fixtures/shop.schema.yaml
/// products.id and products.sku, Zipf 0.9): the per-request cost of a key
/// space against a plain range (BENCHMARKS.md "Key spaces").
fn product_plan(var: &str) -> (RequestPlan, Wire) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        "name: keys\ntarget: {{base_url: \"http://127.0.0.1:1\"}}\nseed: 42\nduration: 1s\n\
         load: {{model: closed, users: 1}}\n\
         tenants: {{count: 5000, skew: {{zipf: 1.1}}, id: \"t-{{index:05}}\", send_as: {{header: X-Tenant-ID}}}}\n\
         endpoints:\n  - {{name: get_product, weight: 1, path: \"/t/{{{{tenant}}}}/products/{{{{product}}}}\", vars: {{product: {var}}}}}\n"
    );
    let profile = profile::from_str(&text, &dir.join("profiles/keys.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let wire = Wire::new(&profile);
    (RequestPlan::new(std::sync::Arc::new(profile)), wire)
}

/// Render and write requests with the product drawn `plain`, by `id` or by `sku`.
#[divan::bench(args = ["plain", "id", "sku"])]
fn product_key(bencher: Bencher, how: &str) {
    let var = match how {
        "plain" => "{uniform: [1, 20000]}".to_string(),
        col => format!("{{from_schema: {{schema: ../fixtures/shop.schema.yaml, table: products, column: {col}, pick: \"zipf:0.9\"}}}}"),
    };
    let (plan, wire) = product_plan(&var);
    bench_write_h1(bencher, &plan, &wire);
}
