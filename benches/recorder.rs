//! Micro-benchmarks of the load engine's per-worker recorder
//! (`load::recorder`): recording one request's latency into the
//! HdrHistogram of its endpoint and outcome, and closing a one-second
//! interval (handing its histograms to the collector and resetting them).
//! Recording is on every request's path, so it must cost nanoseconds
//! whatever the number of endpoints.
//!
//! ```text
//! cargo bench --bench recorder
//! cargo bench --bench recorder -- --sample-count 10
//! ```

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use loadline::load::recorder::{IntervalSink, Recorder, WorkerInterval};
use loadline::results::Outcome;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal};

fn main() {
    divan::main();
}

/// Latencies recorded per benchmark iteration.
const BATCH: usize = 1000;

/// Where closed intervals go: dropped, as cheaply as possible.
struct Discard(u64);

impl IntervalSink for Discard {
    fn interval(&mut self, iv: WorkerInterval) {
        self.0 += iv.series.len() as u64;
    }
}

/// Log-normal latencies around 2 ms with a long tail, in µs, the same on every run.
fn latencies() -> Vec<u64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let d = LogNormal::new(2000f64.ln(), 0.8).unwrap_or_else(|e| unreachable!("constant parameters: {e}"));
    (0..BATCH).map(|_| d.sample(&mut rng) as u64).collect()
}

/// Record [`BATCH`] latencies, spread over `endpoints`, within one interval.
#[divan::bench(args = [1, 8, 64])]
fn latency(bencher: Bencher, endpoints: usize) {
    let us = latencies();
    let mut recorder = Recorder::new(endpoints, 0);
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        for (i, &v) in us.iter().enumerate() {
            let outcome = if i % 100 == 0 { Outcome::S5xx } else { Outcome::S2xx };
            recorder.latency(0, i % endpoints, outcome, black_box(v));
        }
    });
}

/// Record [`BATCH`] latencies into a fresh interval, then close it: the per-second cost of
/// handing every endpoint's histograms to the collector.
#[divan::bench(args = [1, 8, 64])]
fn interval(bencher: Bencher, endpoints: usize) {
    let us = latencies();
    let mut recorder = Recorder::new(endpoints, 0);
    let mut sink = Discard(0);
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        let index = recorder.oldest_open();
        for (i, &v) in us.iter().enumerate() {
            recorder.claimed(index);
            recorder.sent(index);
            recorder.latency(index, i % endpoints, Outcome::S2xx, black_box(v));
            recorder.finished(index);
        }
        recorder.close_before(index + 1, &mut sink);
    });
    black_box(sink.0);
}
