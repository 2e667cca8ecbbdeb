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
