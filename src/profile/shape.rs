//! The rate curve of an open-model run: `rate(t)` in requests per second,
//! from a base rate or ramp stages, multiplied by a diurnal curve and by
//! spikes. A pure function of time, so the schedule built on it is
//! reproducible and testable without a clock.

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

/// The day's curve: 24 hourly factors, a period that one day is compressed
/// into, and the hour of the day at which the run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Diurnal {
    /// Seconds of run time one 24-hour day takes (86 400 replays real time).
    pub period: f64,
    /// Rate factor of each hour of the day, 00:00 first.
    pub hourly: [f64; 24],
    /// Time of day at which the run starts, in seconds after midnight.
    pub start: f64,
}

impl Diurnal {
    /// The factor at run time `t` (seconds). Hourly values are taken to hold
    /// at the middle of their hour and are interpolated linearly in between
    /// (wrapping from 23:30 to 00:30), so the curve has no steps.
    pub fn factor(&self, t: f64) -> f64 {
        let day_frac = ((t / self.period) + self.start / 86_400.0).rem_euclid(1.0);
        let h = day_frac * 24.0 - 0.5;
        let h = h.rem_euclid(24.0);
        let i = h.floor() as usize % 24;
        let j = (i + 1) % 24;
        let w = h - h.floor();
        self.hourly[i] * (1.0 - w) + self.hourly[j] * w
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
        let d = Diurnal {
            period: 24.0,
            hourly,
            start: 0.0,
        };
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

    #[test]
    fn factors_multiply() {
        let shape = RateShape {
            base: 100.0,
            stages: vec![],
            diurnal: Some(Diurnal {
                period: 24.0,
                hourly: flat_day(0.5),
                start: 0.0,
            }),
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
