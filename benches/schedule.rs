//! Micro-benchmarks of the open model's schedule (`load::schedule`): the
//! intended send instant of each request, computed on the fly by every
//! worker. A constant rate with Poisson and with evenly spaced arrivals,
//! and a shaped rate (a compressed day's curve with a 3x spike), where each
//! arrival integrates the rate curve.
//!
//! ```text
//! cargo bench --bench schedule
//! cargo bench --bench schedule -- --sample-count 10
//! ```

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use loadline::load::schedule::Schedule;
use loadline::profile::shape::{Diurnal, Spike};
use loadline::profile::{Arrivals, RateShape};

fn main() {
    divan::main();
}

/// Arrivals computed per benchmark iteration.
const ARRIVALS: usize = 10_000;
/// Requests per second: 10,000 arrivals are 10 s of schedule.
const RATE: f64 = 1000.0;

/// A day compressed into 60 s (quiet nights, a busy afternoon) with a 3x spike at 5–8 s.
fn shaped() -> RateShape {
    let mut hourly = [0.0; 24];
    for (h, f) in hourly.iter_mut().enumerate() {
        *f = match h {
            0..=5 => 0.2,
            6..=8 => 0.6,
            9..=17 => 1.2,
            _ => 0.8,
        };
    }
    RateShape {
        diurnal: Some(Diurnal::hourly(60.0, hourly, 12.0 * 3600.0)),
        spikes: vec![Spike {
            start: 5.0,
            end: 8.0,
            factor: 3.0,
        }],
        ..RateShape::constant(RATE)
    }
}

fn run(bencher: Bencher, shape: RateShape, arrivals: Arrivals) {
    bencher.counter(ItemsCount::new(ARRIVALS)).bench_local(|| {
        let schedule = Schedule::new(black_box(shape.clone()), arrivals, 7, 3600.0);
        schedule.take(ARRIVALS).map(|a| a.at_ns).fold(0u64, u64::wrapping_add)
    });
}

#[divan::bench]
fn constant_poisson(bencher: Bencher) {
    run(bencher, RateShape::constant(RATE), Arrivals::Poisson);
}

#[divan::bench]
fn constant_uniform(bencher: Bencher) {
    run(bencher, RateShape::constant(RATE), Arrivals::Uniform);
}

#[divan::bench]
fn diurnal_with_spike(bencher: Bencher) {
    run(bencher, shaped(), Arrivals::Poisson);
}
