//! Micro-benchmarks of the PII detectors that `loadline scrub` runs over
//! every free-text cell (`scrub::detect`): building them, finding hits,
//! the first hit only, and redacting, on four typical cells: prose without
//! digits (the common case, which must stay cheap), a note full of numbers
//! that are not personal data, a short name cell, and a line of PII.
//!
//! ```text
//! cargo bench --bench detectors                       # all of them
//! cargo bench --bench detectors -- --sample-count 10  # a quick look
//! cargo bench --bench detectors -- find               # only `find`
//! ```

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use loadline::scrub::detect::Detectors;

fn main() {
    divan::main();
}

/// The cells, by the name a benchmark argument shows.
const TEXTS: [(&str, &str); 4] = [
    (
        "prose",
        "The customer said the parcel arrived late and the box was damaged; please follow up with \
         the courier and apologise on our behalf.",
    ),
    (
        "numbers",
        "Customer called about order 48213 placed on 2024-03-12; refund of 23.50 EUR approved, \
         ticket closed at 14:05 by agent Maria (v2.3.1).",
    ),
    ("short", "Jonathan Smith"),
    (
        "pii",
        "Call +1 415-555-0123 or mail bob@example.com; card 4111 1111 1111 1111, IBAN GB82 WEST \
         1234 5698 7654 32, from 10.1.2.3",
    ),
];

const NAMES: [&str; 4] = [TEXTS[0].0, TEXTS[1].0, TEXTS[2].0, TEXTS[3].0];

fn text(name: &str) -> &'static str {
    TEXTS.iter().find(|(n, _)| *n == name).map_or("", |(_, t)| t)
}

/// Compiling the detectors: once per scrub (and per verify), shared by every thread.
#[divan::bench]
fn new() -> Detectors {
    Detectors::new()
}

/// Every hit in the cell, sorted and non-overlapping (what `scan` and `verify` use).
#[divan::bench(args = NAMES)]
fn find(bencher: Bencher, name: &str) {
    let detectors = Detectors::new();
    let t = text(name);
    let mut hits = Vec::new();
    bencher.counter(BytesCount::new(t.len())).bench_local(|| {
        hits.clear();
        detectors.find(black_box(t), &mut hits);
        hits.len()
    });
}

/// Only whether the cell holds anything (what `pii` checks on kept columns use).
#[divan::bench(args = NAMES)]
fn first(bencher: Bencher, name: &str) {
    let detectors = Detectors::new();
    let t = text(name);
    bencher
        .counter(BytesCount::new(t.len()))
        .bench_local(|| detectors.first(black_box(t)));
}

/// The cell with every hit replaced by its placeholder (what a `redact` column costs).
#[divan::bench(args = NAMES)]
fn redact(bencher: Bencher, name: &str) {
    let detectors = Detectors::new();
    let t = text(name);
    let mut out = String::with_capacity(t.len());
    bencher.counter(BytesCount::new(t.len())).bench_local(|| {
        out.clear();
        detectors.redact_into(black_box(t), &mut out)
    });
}
