//! The open model's schedule: the intended send instant of every request.
//!
//! Arrivals follow `rate(t)` by time-rescaling: request `i` is intended at
//! the instant where the integral of the rate reaches `E_0 + .. + E_i`, with
//! `E` drawn from Exp(1) (Poisson arrivals) or fixed at 1 (evenly spaced).
//! The schedule is a pure function of the shape and the seed, so it is
//! tested without a clock, and every worker and shard computes the same
//! global sequence and takes its own slice of it.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use crate::profile::{Arrivals, RateShape};
use crate::values::{derive_seed, Rng64};
use rand::SeedableRng;

/// Integration step: the rate is taken as linear over each step. Short
/// enough that a diurnal curve or a ramp is followed closely, long enough
/// that an idle stretch costs little to step over.
const STEP: f64 = 0.001;

/// A request's place in the schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    /// Global request number (0-based), the same on every worker and shard.
    pub index: u64,
    /// Intended send instant, in nanoseconds from the start of the run.
    pub at_ns: u64,
}

/// Iterates over the arrivals of a run, in order.
#[derive(Debug, Clone)]
pub struct Schedule {
    shape: RateShape,
    arrivals: Arrivals,
    rng: Rng64,
    end: f64,
    breakpoints: Vec<f64>,
    next_break: usize,
    /// Current position and the rate there.
    t: f64,
    rate_t: f64,
    index: u64,
}

impl Schedule {
    /// A schedule for `[0, duration_s)`.
    pub fn new(shape: RateShape, arrivals: Arrivals, seed: u64, duration_s: f64) -> Self {
        let breakpoints = shape.breakpoints();
        let rate_t = shape.rate_at(0.0);
        Schedule {
            shape,
            arrivals,
            rng: Rng64::seed_from_u64(derive_seed(seed, "arrivals")),
            end: duration_s,
            breakpoints,
            next_break: 0,
            t: 0.0,
            rate_t,
            index: 0,
        }
    }

    fn gap(&mut self) -> f64 {
        match self.arrivals {
            Arrivals::Poisson => Exp1.sample(&mut self.rng),
            // A random phase for the first arrival, then exact spacing.
            Arrivals::Uniform if self.index == 0 => self.rng.random::<f64>(),
            Arrivals::Uniform => 1.0,
        }
    }

    /// Advance `t` until the integral of the rate from `t` reaches `need`.
    /// Returns false if the run ends first.
    fn advance(&mut self, mut need: f64) -> bool {
        loop {
            if self.t >= self.end {
                return false;
            }
            // The next step ends at STEP, a breakpoint, or the end, whichever is first.
            while self.next_break < self.breakpoints.len() && self.breakpoints[self.next_break] <= self.t {
                self.next_break += 1;
            }
            let mut t1 = (self.t + STEP).min(self.end);
            if let Some(b) = self.breakpoints.get(self.next_break) {
                if *b < t1 {
                    t1 = *b;
                }
            }
            let h = t1 - self.t;
            // Rate just inside each end of the step, so a jump at a
            // breakpoint belongs to the right side.
            let r0 = self.rate_t;
            let r1 = self.shape.rate_at(t1 - h * 1e-9);
            let area = 0.5 * (r0 + r1) * h;
            if area >= need {
                // Solve r0*x + (r1-r0)/(2h)*x^2 = need for x in [0, h].
                let a = (r1 - r0) / (2.0 * h);
                let x = if a.abs() < 1e-12 {
                    need / r0
                } else {
                    let disc = (r0 * r0 + 4.0 * a * need).max(0.0);
                    (-r0 + disc.sqrt()) / (2.0 * a)
                };
                let x = x.clamp(0.0, h);
                self.t += x;
                self.rate_t = r0 + 2.0 * a * x;
                return true;
            }
            need -= area;
            self.t = t1;
            self.rate_t = self.shape.rate_at(t1);
        }
    }
}

impl Iterator for Schedule {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        let gap = self.gap();
        if !self.advance(gap) {
            return None;
        }
        let a = Arrival {
            index: self.index,
            at_ns: (self.t * 1e9) as u64,
        };
        self.index += 1;
        Some(a)
    }
}

/// Which global requests belong to one worker of one shard: shard `s` of
/// `n` takes every request with `index % n == s`; within it, worker `w` of
/// `k` takes every `k`-th of those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    /// This shard's 0-based index.
    pub shard: u32,
    /// Shards in the run.
    pub shards: u32,
    /// This worker's 0-based index within the shard.
    pub worker: u32,
    /// Workers in the shard.
    pub workers: u32,
}

impl Slice {
    /// Whether global request `index` is this worker's.
    pub fn contains(&self, index: u64) -> bool {
        let n = u64::from(self.shards.max(1));
        let k = u64::from(self.workers.max(1));
        index % n == u64::from(self.shard) && (index / n) % k == u64::from(self.worker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::shape::Spike;

    #[test]
    fn constant_rate_gives_expected_count() {
        let n = Schedule::new(RateShape::constant(1000.0), Arrivals::Poisson, 1, 10.0).count() as f64;
        // Poisson(10000): sd = 100, so 5 sd is 500.
        assert!((n - 10_000.0).abs() < 500.0, "{n}");
        let u = Schedule::new(RateShape::constant(1000.0), Arrivals::Uniform, 1, 10.0).count() as i64;
        assert!((u - 10_000).abs() <= 1, "{u}");
    }

    #[test]
    fn uniform_arrivals_are_evenly_spaced() {
        let v: Vec<Arrival> = Schedule::new(RateShape::constant(100.0), Arrivals::Uniform, 1, 1.0).collect();
        for w in v.windows(2) {
            let gap = w[1].at_ns - w[0].at_ns;
            assert!((gap as i64 - 10_000_000).abs() < 1000, "{gap}");
        }
    }

    /// Invariant: arrivals in any window match the integral of the rate
    /// over it (here: a 3x spike).
    #[test]
    fn arrivals_follow_the_shape() {
        let shape = RateShape {
            spikes: vec![Spike {
                start: 2.0,
                end: 3.0,
                factor: 3.0,
            }],
            ..RateShape::constant(1000.0)
        };
        let mut per_sec = [0u32; 4];
        for a in Schedule::new(shape, Arrivals::Uniform, 3, 4.0) {
            per_sec[(a.at_ns / 1_000_000_000) as usize] += 1;
        }
        assert!((per_sec[0] as i32 - 1000).abs() <= 2, "{per_sec:?}");
        assert!((per_sec[2] as i32 - 3000).abs() <= 2, "{per_sec:?}");
        assert!((per_sec[3] as i32 - 1000).abs() <= 2, "{per_sec:?}");
    }

    #[test]
    fn same_seed_same_schedule() {
        let a: Vec<Arrival> = Schedule::new(RateShape::constant(500.0), Arrivals::Poisson, 9, 2.0).collect();
        let b: Vec<Arrival> = Schedule::new(RateShape::constant(500.0), Arrivals::Poisson, 9, 2.0).collect();
        let c: Vec<Arrival> = Schedule::new(RateShape::constant(500.0), Arrivals::Poisson, 10, 2.0).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn zero_rate_ends_cleanly() {
        assert_eq!(
            Schedule::new(RateShape::constant(0.0), Arrivals::Poisson, 1, 5.0).count(),
            0
        );
    }

    #[test]
    fn slices_partition_the_requests() {
        let slices: Vec<Slice> = (0..2)
            .flat_map(|s| {
                (0..3).map(move |w| Slice {
                    shard: s,
                    shards: 2,
                    worker: w,
                    workers: 3,
                })
            })
            .collect();
        for i in 0..1000u64 {
            assert_eq!(slices.iter().filter(|s| s.contains(i)).count(), 1);
        }
    }
}
