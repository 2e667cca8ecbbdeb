//! The rate curve of an open-model run: `rate(t)` in requests per second,
//! from a base rate or ramp stages, multiplied by a diurnal curve and by
//! spikes. A pure function of time, so the schedule built on it is
//! reproducible and testable without a clock.

use std::sync::Arc;
use std::time::Duration;

/// One ramp or hold of `shape.stages`, resolved to absolute times.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Start, in seconds from the start of the run.
    pub start: f64,
    /// End (exclusive), in seconds from the start of the run.
    pub end: f64,
    /// Rate at `start`, requests per second.
    pub from: f64,
    /// Rate at `end`, reached linearly from `from`.
    pub to: f64,
}

/// The most factors `shape.diurnal.factors` takes: one per second of 11.5
/// days, or one per minute of almost two years.
pub const MAX_DIURNAL_FACTORS: usize = 1_000_000;

/// The day's curve: `n` factors spread evenly over a period that one day is
/// compressed into, and the time of day at which the run starts. `hourly`
/// in a profile is the case `n = 24`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diurnal {
    /// Seconds of run time one day takes (86 400 replays real time).
    pub period: f64,
    /// Rate factors, the first for the start of the day; factor `i` of `n`
    /// holds at the middle of slot `i` (`[i/n, (i+1)/n)` of the period).
    /// Shared, not copied, by every worker's schedule (a learned curve can
    /// hold a million of them).
    pub factors: Arc<[f64]>,
    /// Time of day at which the run starts, in seconds after midnight.
    pub start: f64,
}

impl Diurnal {
    /// A curve of 24 hourly factors, 00:00 first.
    pub fn hourly(period: f64, hourly: [f64; 24], start: f64) -> Self {
        Diurnal {
            period,
            factors: Arc::from(hourly),
            start,
        }
    }

    /// The factor at run time `t` (seconds). Each factor is taken to hold
    /// at the middle of its slot and the curve is linear in between
    /// (wrapping from the last slot to the first), so it has no steps.
    /// Index arithmetic only: the cost does not grow with the number of
    /// factors.
    pub fn factor(&self, t: f64) -> f64 {
        let n = self.factors.len();
        if n == 0 {
            return 1.0;
        }
        let nf = n as f64;
        let day_frac = ((t / self.period) + self.start / 86_400.0).rem_euclid(1.0);
        let x = (day_frac * nf - 0.5).rem_euclid(nf);
        // `rem_euclid` can round up to `nf` itself: the modulo keeps `i` in range.
        let i = x.floor() as usize % n;
        let j = (i + 1) % n;
        let w = x - x.floor();
        self.factors[i] * (1.0 - w) + self.factors[j] * w
    }
}

/// A spike: the rate is multiplied by `factor` during `[start, end)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// Start, in seconds from the start of the run.
    pub start: f64,
    /// End (exclusive), in seconds from the start of the run.
    pub end: f64,
    /// Multiplier of the rate during the spike (3 triples it).
    pub factor: f64,
}

/// `rate(t)` for an open-model run.
#[derive(Debug, Clone, PartialEq)]
pub struct RateShape {
    /// The rate before any stage, and throughout when there are no stages.
    pub base: f64,
    /// Ramps and holds, in time order; after the last, its end rate holds.
    pub stages: Vec<Stage>,
    /// The day's curve multiplying the rate, if any.
    pub diurnal: Option<Diurnal>,
    /// Spikes multiplying the rate; overlapping spikes multiply.
    pub spikes: Vec<Spike>,
    /// `--rate-scale`: multiplies everything.
    pub scale: f64,
}

impl RateShape {
    /// A constant rate.
    pub fn constant(per_sec: f64) -> Self {
        RateShape {
            base: per_sec,
            stages: Vec::new(),
            diurnal: None,
            spikes: Vec::new(),
            scale: 1.0,
        }
    }

    /// The rate (requests per second) at run time `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        let mut r = self.stage_rate(t);
        if let Some(d) = &self.diurnal {
            r *= d.factor(t);
        }
        for s in &self.spikes {
            if t >= s.start && t < s.end {
                r *= s.factor;
            }
        }
        (r * self.scale).max(0.0)
    }

    fn stage_rate(&self, t: f64) -> f64 {
        let mut rate = self.base;
        for s in &self.stages {
            if t < s.start {
                break;
            }
            if t < s.end {
                let span = s.end - s.start;
                let w = if span > 0.0 { (t - s.start) / span } else { 1.0 };
                return s.from + (s.to - s.from) * w;
            }
            rate = s.to;
        }
        rate
    }

    /// Total length of the stages (the run's natural duration when the
    /// profile gives none).
    pub fn stages_length(&self) -> Option<Duration> {
        self.stages.last().map(|s| Duration::from_secs_f64(s.end))
    }

    /// Instants where the curve changes slope or jumps; the schedule steps
    /// exactly onto them so no integration step straddles a jump.
    pub fn breakpoints(&self) -> Vec<f64> {
        let mut v: Vec<f64> = Vec::new();
        for s in &self.stages {
            v.push(s.start);
            v.push(s.end);
        }
        for s in &self.spikes {
            v.push(s.start);
            v.push(s.end);
        }
        v.retain(|x| x.is_finite() && *x > 0.0);
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    }

    /// The expected number of arrivals in `[t0, t1)`: the integral of the
    /// rate (Simpson's rule on 1 ms steps; exact for the piecewise-linear
    /// parts).
    pub fn expected_count(&self, t0: f64, t1: f64) -> f64 {
        if t1 <= t0 {
            return 0.0;
        }
        let mut edges = vec![t0];
        edges.extend(self.breakpoints().into_iter().filter(|b| *b > t0 && *b < t1));
        edges.push(t1);
        let mut total = 0.0;
        for w in edges.windows(2) {
            let (a, b) = (w[0], w[1]);
            let n = (((b - a) / 0.001).ceil() as usize).max(1);
            let h = (b - a) / n as f64;
            for k in 0..n {
                let x0 = a + h * k as f64;
                let x1 = x0 + h;
                // Evaluate just inside each step so a jump at an edge is not
                // attributed to the wrong side.
                let e = h * 1e-9;
                let f0 = self.rate_at(x0 + e);
                let fm = self.rate_at((x0 + x1) / 2.0);
                let f1 = self.rate_at(x1 - e);
                total += h / 6.0 * (f0 + 4.0 * fm + f1);
            }
        }
        total
    }

    /// The highest rate reached during `[0, duration]` (sampled every 10 ms).
    pub fn peak(&self, duration: Duration) -> f64 {
        let end = duration.as_secs_f64();
        let mut peak: f64 = 0.0;
        let mut t = 0.0;
        while t <= end {
            peak = peak.max(self.rate_at(t));
            t += 0.01;
        }
        for b in self.breakpoints() {
            if b <= end {
                peak = peak.max(self.rate_at(b));
            }
        }
        peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_day(v: f64) -> [f64; 24] {
        [v; 24]
    }

    #[test]
    fn diurnal_holds_hourly_values_at_mid_hour() {
        let mut hourly = flat_day(1.0);
        hourly[9] = 2.0;
        let d = Diurnal::hourly(24.0, hourly, 0.0);
        // One hour per second: hour 9 is t in [9, 10), its middle is 9.5.
        assert!((d.factor(9.5) - 2.0).abs() < 1e-9);
        assert!((d.factor(9.0) - 1.5).abs() < 1e-9);
        assert!((d.factor(3.5) - 1.0).abs() < 1e-9);
        // The run can start later in the day.
        let later = Diurnal {
            start: 9.0 * 3600.0,
            ..d.clone()
        };
        assert!((later.factor(0.5) - 2.0).abs() < 1e-9);
    }

    /// Two factors over a 10 s period: 1 holds at 2.5 s, 3 at 7.5 s, linear
    /// in between and wrapping across the period's end.
    #[test]
    fn two_factors_interpolate_and_wrap() {
        let d = Diurnal {
            period: 10.0,
            factors: Arc::from(vec![1.0, 3.0]),
            start: 0.0,
        };
        for (t, want) in [
            (2.5, 1.0),
            (7.5, 3.0),
            (5.0, 2.0),
            (3.75, 1.5),
            (0.0, 2.0),
            (10.0, 2.0),
            (1.25, 1.5),
        ] {
            assert!((d.factor(t) - want).abs() < 1e-9, "t={t}: {}", d.factor(t));
        }
        // `start: 6h` is a quarter of the day, so a quarter of the period.
        let later = Diurnal {
            start: 6.0 * 3600.0,
            ..d.clone()
        };
        assert!((later.factor(0.0) - 1.0).abs() < 1e-9);
        let one = Diurnal {
            factors: Arc::from(vec![4.0]),
            ..d
        };
        assert!((one.factor(3.3) - 4.0).abs() < 1e-12);
    }

    /// `hourly` is the 24-factor case: a 1440-factor curve that repeats each
    /// hour's value holds it at mid-hour, and a flat 1440-factor curve equals
    /// a flat hourly one everywhere.
    #[test]
    fn many_factors_agree_with_hourly() {
        let hourly: [f64; 24] = std::array::from_fn(|h| 1.0 + (h as f64 * 0.7).sin());
        let per_minute: Vec<f64> = (0..1440).map(|m| hourly[m / 60]).collect();
        let a = Diurnal::hourly(86_400.0, hourly, 0.0);
        let b = Diurnal {
            factors: Arc::from(per_minute),
            ..a.clone()
        };
        for h in 0..24 {
            let t = h as f64 * 3600.0 + 1800.0;
            assert!((a.factor(t) - b.factor(t)).abs() < 1e-9, "hour {h}");
        }
        let flat = Diurnal::hourly(60.0, [0.5; 24], 3600.0);
        let flat_n = Diurnal {
            factors: Arc::from(vec![0.5; 1440]),
            ..flat.clone()
        };
        for t in [0.0, 0.1, 7.3, 29.99, 59.9, 123.4] {
            assert!((flat.factor(t) - flat_n.factor(t)).abs() < 1e-12);
        }
    }

    #[test]
    fn factors_multiply() {
        let shape = RateShape {
            base: 100.0,
            stages: vec![],
            diurnal: Some(Diurnal::hourly(24.0, flat_day(0.5), 0.0)),
            spikes: vec![Spike {
                start: 10.0,
                end: 12.0,
                factor: 3.0,
            }],
            scale: 2.0,
        };
        assert!((shape.rate_at(5.0) - 100.0).abs() < 1e-9);
        assert!((shape.rate_at(11.0) - 300.0).abs() < 1e-9);
        assert!((shape.rate_at(12.0) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn stages_ramp_then_hold() {
        let shape = RateShape {
            base: 0.0,
            stages: vec![
                Stage {
                    start: 0.0,
                    end: 10.0,
                    from: 0.0,
                    to: 1000.0,
                },
                Stage {
                    start: 10.0,
                    end: 20.0,
                    from: 1000.0,
                    to: 1000.0,
                },
            ],
            diurnal: None,
            spikes: vec![],
            scale: 1.0,
        };
        assert!((shape.rate_at(5.0) - 500.0).abs() < 1e-9);
        assert!((shape.rate_at(15.0) - 1000.0).abs() < 1e-9);
        assert!((shape.rate_at(25.0) - 1000.0).abs() < 1e-9);
        // Area under the ramp: 0.5 * 10 s * 1000/s.
        assert!((shape.expected_count(0.0, 10.0) - 5000.0).abs() < 1e-6);
        assert_eq!(shape.stages_length(), Some(Duration::from_secs(20)));
    }

    #[test]
    fn expected_count_respects_spike_edges() {
        let shape = RateShape {
            spikes: vec![Spike {
                start: 1.0,
                end: 2.0,
                factor: 3.0,
            }],
            ..RateShape::constant(100.0)
        };
        assert!((shape.expected_count(0.0, 3.0) - 500.0).abs() < 1e-6);
        assert!((shape.expected_count(1.0, 2.0) - 300.0).abs() < 1e-6);
        assert!((shape.peak(Duration::from_secs(3)) - 300.0).abs() < 1e-9);
    }
}
