//! Fault injection: the knobs that make the sample service slow or broken,
//! and the stall clock that freezes it.
//!
//! Every request reads these from whichever worker thread serves it, and a
//! test may flip a running server to unhealthy mid-run, so the knobs are
//! relaxed atomics rather than a lock: the healthy hot path pays one load.
//! The decisions themselves ([`Knobs::plan`], [`periodic_stall_end`]) are
//! plain functions of their inputs so they are tested without a server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, RngExt};

use super::Error;

/// The faults that can be changed while the server runs
/// ([`RunningTarget::set_faults`](super::RunningTarget::set_faults)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Fixed extra latency added to every response.
    pub latency: Duration,
    /// Extra latency drawn uniformly from `[0, latency_jitter]`, on top of `latency`.
    pub latency_jitter: Duration,
    /// Fraction of requests answered `500 {"error":"injected"}`.
    pub error_rate: f64,
    /// Fraction of requests answered by resetting the TCP connection.
    pub reset_rate: f64,
    /// Fraction of requests that get `tail_latency` more: a slow tail with
    /// the median untouched (a cold cache, a lock, a GC pause).
    pub tail_rate: f64,
    /// Extra latency of the `tail_rate` share, on top of the rest.
    pub tail_latency: Duration,
}

impl Faults {
    /// Rates must be fractions, and together at most 1: one draw decides
    /// between reset, error and a normal answer, so they cannot overlap.
    pub fn validate(&self) -> Result<(), Error> {
        for (what, rate) in [
            ("error rate", self.error_rate),
            ("reset rate", self.reset_rate),
            ("tail rate", self.tail_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::InvalidFault {
                    what,
                    value: percent(rate),
                    hint: "a rate is a fraction between 0 and 1 (0% to 100%)",
                });
            }
        }
        if self.error_rate + self.reset_rate > 1.0 + 1e-9 {
            return Err(Error::InvalidFault {
                what: "error rate + reset rate",
                value: percent(self.error_rate + self.reset_rate),
                hint: "a request is either reset or answered 500, so the two rates add up to at most 100%",
            });
        }
        Ok(())
    }

    /// Whether any per-request fault is on (a stall is not one of these).
    pub fn any(&self) -> bool {
        !self.latency.is_zero()
            || !self.latency_jitter.is_zero()
            || self.error_rate > 0.0
            || self.reset_rate > 0.0
            || self.has_tail()
    }

    fn has_tail(&self) -> bool {
        self.tail_rate > 0.0 && !self.tail_latency.is_zero()
    }

    fn needs_rng(&self) -> bool {
        !self.latency_jitter.is_zero() || self.error_rate > 0.0 || self.reset_rate > 0.0 || self.has_tail()
    }
}

/// A fraction as people write it, without float noise (`110%`, not `110.00000000000001%`).
fn percent(fraction: f64) -> String {
    format!("{}%", (fraction * 1e6).round() / 1e4)
}

/// What the fault knobs decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Normal,
    Error,
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) delay: Duration,
    pub(crate) outcome: Outcome,
}

impl Plan {
    const HEALTHY: Plan = Plan {
        delay: Duration::ZERO,
        outcome: Outcome::Normal,
    };
}

/// The live fault settings. Updating four atomics is not one atomic step,
/// so a request racing `set_faults` may see a mix of old and new values;
/// for a test fixture that is harmless, and it keeps reads lock-free.
#[derive(Debug, Default)]
pub(crate) struct Knobs {
    /// Fast path: false while every knob is zero.
    active: AtomicBool,
    latency_ns: AtomicU64,
    jitter_ns: AtomicU64,
    error_rate: AtomicU64,
    reset_rate: AtomicU64,
    tail_rate: AtomicU64,
    tail_ns: AtomicU64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Knobs {
    pub(crate) fn new(faults: Faults) -> Self {
        let knobs = Knobs::default();
        knobs.set(faults);
        knobs
    }

    pub(crate) fn set(&self, f: Faults) {
        self.latency_ns.store(nanos(f.latency), Ordering::Relaxed);
        self.jitter_ns.store(nanos(f.latency_jitter), Ordering::Relaxed);
        self.error_rate.store(f.error_rate.to_bits(), Ordering::Relaxed);
        self.reset_rate.store(f.reset_rate.to_bits(), Ordering::Relaxed);
        self.tail_rate.store(f.tail_rate.to_bits(), Ordering::Relaxed);
        self.tail_ns.store(nanos(f.tail_latency), Ordering::Relaxed);
        self.active.store(f.any(), Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Faults {
        Faults {
            latency: Duration::from_nanos(self.latency_ns.load(Ordering::Relaxed)),
            latency_jitter: Duration::from_nanos(self.jitter_ns.load(Ordering::Relaxed)),
            error_rate: f64::from_bits(self.error_rate.load(Ordering::Relaxed)),
            reset_rate: f64::from_bits(self.reset_rate.load(Ordering::Relaxed)),
            tail_rate: f64::from_bits(self.tail_rate.load(Ordering::Relaxed)),
            tail_latency: Duration::from_nanos(self.tail_ns.load(Ordering::Relaxed)),
        }
    }

    /// Decide one request's fate. The RNG is only built when a random
    /// fault is on, so a healthy server never pays for seeding it.
    pub(crate) fn plan<R: Rng>(&self, make_rng: impl FnOnce() -> R) -> Plan {
        if !self.active.load(Ordering::Relaxed) {
            return Plan::HEALTHY;
        }
        let faults = self.get();
        if !faults.needs_rng() {
            return Plan {
                delay: faults.latency,
                outcome: Outcome::Normal,
            };
        }
        plan_with(&faults, &mut make_rng())
    }
}

/// One uniform draw picks the outcome (reset first, then error), so the
/// observed rates match the configured ones exactly in expectation.
pub(crate) fn plan_with(faults: &Faults, rng: &mut impl Rng) -> Plan {
    let u: f64 = rng.random();
    let outcome = if u < faults.reset_rate {
        Outcome::Reset
    } else if u < faults.reset_rate + faults.error_rate {
        Outcome::Error
    } else {
        Outcome::Normal
    };
    let jitter = nanos(faults.latency_jitter);
    let extra = if jitter == 0 { 0 } else { rng.random_range(0..=jitter) };
    // Its own draw, so the tail share is independent of the outcome.
    let tail = if faults.has_tail() && rng.random::<f64>() < faults.tail_rate {
        faults.tail_latency
    } else {
        Duration::ZERO
    };
    Plan {
        delay: faults
            .latency
            .saturating_add(Duration::from_nanos(extra))
            .saturating_add(tail),
        outcome,
    }
}

/// SplitMix64's finaliser: spreads (seed, connection, request) into
/// independent-looking RNG seeds.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The RNG seed of request `request` on connection `connection`: the same
/// seed and the same traffic give the same faults.
pub(crate) fn request_seed(seed: u64, connection: u64, request: u64) -> u64 {
    mix(mix(seed ^ mix(connection)) ^ request)
}

/// When the stall window containing `now` ends, if `now` is inside one.
/// Window `k` is `[k*every, k*every + length)` for `k >= 1`, all measured
/// from server start, so the first stall comes one period after start.
pub(crate) fn periodic_stall_end(now: Duration, every: Duration, length: Duration) -> Option<Duration> {
    if every.is_zero() || length.is_zero() {
        return None;
    }
    let (now, every_ns, length) = (now.as_nanos(), every.as_nanos(), length.as_nanos());
    let k = now / every_ns;
    let start = k * every_ns;
    (k >= 1 && now < start + length).then(|| Duration::from_nanos(u64::try_from(start + length).unwrap_or(u64::MAX)))
}

/// The server-wide stall state: periodic windows fixed at start, plus the
/// end of the latest one-shot stall.
#[derive(Debug)]
pub(crate) struct StallClock {
    start: Instant,
    periodic: Option<(Duration, Duration)>,
    /// Nanoseconds since `start`; 0 means no one-shot stall was ever asked for.
    oneshot_end_ns: AtomicU64,
}

impl StallClock {
    pub(crate) fn new(start: Instant, every: Option<Duration>, length: Duration) -> Self {
        StallClock {
            start,
            periodic: every.filter(|_| !length.is_zero()).map(|every| (every, length)),
            oneshot_end_ns: AtomicU64::new(0),
        }
    }

    /// Start a stall now, lasting `d`. Never shortens a stall already running.
    pub(crate) fn stall_now(&self, d: Duration) {
        let end = nanos(self.start.elapsed().saturating_add(d));
        self.oneshot_end_ns.fetch_max(end, Ordering::Relaxed);
    }

    /// When the stall active at `now` (time since start) ends, if any.
    fn stalled_until(&self, now: Duration) -> Option<Duration> {
        let oneshot = Duration::from_nanos(self.oneshot_end_ns.load(Ordering::Relaxed));
        let oneshot = (now < oneshot).then_some(oneshot);
        let periodic = self
            .periodic
            .and_then(|(every, length)| periodic_stall_end(now, every, length));
        oneshot.max(periodic)
    }

    /// Hold the caller while a stall is active. Loops because a new stall
    /// may have started while it slept (a periodic window right after a
    /// one-shot one, or another `stall_now`).
    pub(crate) async fn hold(&self) {
        if self.periodic.is_none() && self.oneshot_end_ns.load(Ordering::Relaxed) == 0 {
            return;
        }
        while let Some(end) = self.stalled_until(self.start.elapsed()) {
            tokio::time::sleep_until(tokio::time::Instant::from_std(self.start + end)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn periodic_windows_start_one_period_after_start() {
        let (every, length) = (MS(1000), MS(200));
        assert_eq!(periodic_stall_end(MS(0), every, length), None);
        assert_eq!(periodic_stall_end(MS(150), every, length), None);
        assert_eq!(periodic_stall_end(MS(999), every, length), None);
        assert_eq!(periodic_stall_end(MS(1000), every, length), Some(MS(1200)));
        assert_eq!(periodic_stall_end(MS(1199), every, length), Some(MS(1200)));
        assert_eq!(periodic_stall_end(MS(1200), every, length), None);
        assert_eq!(periodic_stall_end(MS(3100), every, length), Some(MS(3200)));
        assert_eq!(periodic_stall_end(MS(3100), every, Duration::ZERO), None);
    }

    #[test]
    fn oneshot_stall_extends_never_shortens() {
        let clock = StallClock::new(Instant::now(), None, Duration::ZERO);
        clock.stall_now(MS(10_000));
        clock.stall_now(MS(1));
        let end = clock.stalled_until(MS(5)).unwrap();
        assert!(end >= MS(10_000));
        assert_eq!(clock.stalled_until(MS(20_000)), None);
    }

    /// Invariant: over many draws the observed reset and error fractions
    /// match the configured rates, and the delay stays in [latency, latency+jitter].
    #[test]
    fn plan_rates_and_delays_match_the_knobs() {
        let faults = Faults {
            latency: MS(2),
            latency_jitter: MS(1),
            error_rate: 0.2,
            reset_rate: 0.1,
            tail_rate: 0.05,
            tail_latency: MS(100),
        };
        let mut rng = SmallRng::seed_from_u64(7);
        let (mut errors, mut resets, mut tail) = (0, 0, 0);
        let n = 100_000;
        for _ in 0..n {
            let mut p = plan_with(&faults, &mut rng);
            if p.delay >= MS(100) {
                tail += 1;
                p.delay -= MS(100);
            }
            assert!(p.delay >= MS(2) && p.delay <= MS(3));
            match p.outcome {
                Outcome::Error => errors += 1,
                Outcome::Reset => resets += 1,
                Outcome::Normal => {}
            }
        }
        assert!((f64::from(errors) / f64::from(n) - 0.2).abs() < 0.01, "{errors}");
        assert!((f64::from(resets) / f64::from(n) - 0.1).abs() < 0.01, "{resets}");
        assert!((f64::from(tail) / f64::from(n) - 0.05).abs() < 0.005, "{tail}");
    }

    #[test]
    fn healthy_knobs_never_build_an_rng() {
        let knobs = Knobs::new(Faults::default());
        let plan = knobs.plan(|| -> SmallRng { panic!("no RNG needed") });
        assert_eq!(plan, Plan::HEALTHY);
        knobs.set(Faults {
            latency: MS(3),
            ..Faults::default()
        });
        let plan = knobs.plan(|| -> SmallRng { panic!("no RNG needed") });
        assert_eq!(plan.delay, MS(3));
    }

    #[test]
    fn rates_are_validated() {
        let bad = |error_rate, reset_rate| {
            Faults {
                error_rate,
                reset_rate,
                ..Faults::default()
            }
            .validate()
            .is_err()
        };
        assert!(bad(-0.1, 0.0));
        assert!(bad(0.0, 1.5));
        assert!(bad(f64::NAN, 0.0));
        assert!(bad(0.6, 0.6));
        assert!(!bad(0.5, 0.5));
        assert!(!bad(0.0, 0.0));
    }
}
