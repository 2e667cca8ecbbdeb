//! The rate over time: requests counted per second of arrival, then the
//! day's curve, the spikes above it and how bursty arrivals are.

use std::collections::HashMap;

/// Seconds per block of the per-second counts.
const BLOCK: i64 = 3600;
/// The longest log span the per-second curve is built for (31 days).
pub const MAX_SPAN_S: i64 = 31 * 86_400;
/// Spikes reported at most.
const MAX_SPIKES: usize = 20;

/// Requests per second of arrival, in hour-long blocks (14 KB each): a day
/// of logs takes 340 KB whatever its size.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    blocks: HashMap<i64, Box<[u32]>>,
    total: u64,
}

impl Counts {
    /// Count one arrival at Unix time `t` (seconds).
    pub fn add(&mut self, t: f64) {
        let s = t.floor() as i64;
        let block = self
            .blocks
            .entry(s.div_euclid(BLOCK))
            .or_insert_with(|| vec![0u32; BLOCK as usize].into_boxed_slice());
        let i = s.rem_euclid(BLOCK) as usize;
        block[i] = block[i].saturating_add(1);
        self.total += 1;
    }

    /// Add another count into this one.
    pub fn merge(&mut self, o: &Counts) {
        for (k, b) in &o.blocks {
            let mine = self
                .blocks
                .entry(*k)
                .or_insert_with(|| vec![0u32; BLOCK as usize].into_boxed_slice());
            for (a, x) in mine.iter_mut().zip(b.iter()) {
                *a = a.saturating_add(*x);
            }
        }
        self.total += o.total;
    }

    /// Arrivals counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The first and last second with an arrival.
    pub fn bounds(&self) -> Option<(i64, i64)> {
        let lo_block = *self.blocks.keys().min()?;
        let hi_block = *self.blocks.keys().max()?;
        let lo = self.blocks[&lo_block].iter().position(|c| *c > 0)? as i64 + lo_block * BLOCK;
        let hi = self.blocks[&hi_block].iter().rposition(|c| *c > 0)? as i64 + hi_block * BLOCK;
        Some((lo, hi))
    }

    fn per_second(&self, from: i64, to: i64) -> Vec<f64> {
        (from..=to)
            .map(|s| {
                self.blocks
                    .get(&s.div_euclid(BLOCK))
                    .map_or(0.0, |b| f64::from(b[s.rem_euclid(BLOCK) as usize]))
            })
            .collect()
    }
}

/// How fine the learned curve is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// One factor per hour of the day (UTC), over all days of the log.
    Hour,
    /// One factor per minute of the log's span.
    Minute,
    /// One factor per second of the log's span.
    Second,
}

impl std::str::FromStr for Resolution {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "1h" | "hour" => Ok(Resolution::Hour),
            "1m" | "minute" => Ok(Resolution::Minute),
            "1s" | "second" => Ok(Resolution::Second),
            _ => Err(format!("`{s}` is not a resolution: use 1h, 1m or 1s")),
        }
    }
}

/// A sustained excursion above the curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// Seconds from the log's first second.
    pub at: f64,
    /// How long it lasted, seconds.
    pub len: f64,
    /// Requests during it over the curve's requests in the same time.
    pub factor: f64,
}

/// The learned rate over time.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The log's first second (Unix).
    pub first: i64,
    /// Seconds from the first to the last arrival, inclusive.
    pub span: i64,
    /// Arrivals counted.
    pub total: u64,
    /// Requests per second over the span.
    pub mean_rate: f64,
    /// The curve's highest rate (requests per second): the profile's `rate`.
    pub peak_rate: f64,
    /// The curve, highest factor 1.
    pub factors: Vec<f64>,
    /// The length of the curve's period in seconds (a day for hourly factors).
    pub period: i64,
    /// Time of day (UTC, seconds) at which the log starts, for hourly factors.
    pub start_of_day: Option<i64>,
    /// Hours of the day with no arrival in the log (hourly factors), whose
    /// factors are interpolated from their neighbours.
    pub unobserved_hours: Vec<usize>,
    /// Spikes above the curve.
    pub spikes: Vec<Spike>,
    /// Width of the bins spikes and burstiness were measured on, seconds.
    pub bin: i64,
    /// Index of dispersion of counts per bin around the curve: 1 for
    /// Poisson arrivals, near 0 for evenly spaced ones, above 1 for bursts.
    pub burstiness: f64,
}

/// Why no curve could be learned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurveError {
    /// Nothing was counted.
    #[error("no request with a usable time")]
    Empty,
    /// The log spans more than [`MAX_SPAN_S`].
    #[error("the log spans {0} days; at most 31 are learned at once (split the logs)")]
    TooLong(i64),
    /// One factor per second would be more factors than a profile holds.
    #[error(
        "the log spans {0} s: one factor per second would be more than a profile holds ({max}); use --resolution 1m or 1h",
        max = crate::profile::shape::MAX_DIURNAL_FACTORS
    )]
    TooFine(i64),
}

/// Learn the rate curve at `resolution` from per-second counts.
pub fn shape(counts: &Counts, resolution: Resolution) -> Result<Shape, CurveError> {
    let (first, last) = counts.bounds().ok_or(CurveError::Empty)?;
    let span = last - first + 1;
    if span > MAX_SPAN_S {
        return Err(CurveError::TooLong((span + 86_399) / 86_400));
    }
    if resolution == Resolution::Second && span as usize > crate::profile::shape::MAX_DIURNAL_FACTORS {
        return Err(CurveError::TooFine(span));
    }
    let secs = counts.per_second(first, last);
    let bin = bin_width(span);
    let bins: Vec<f64> = secs.chunks(bin as usize).map(|c| c.iter().sum()).collect();
    let base = rolling_median(&bins, (bins.len() / 12).max(7));
    let (spikes, in_spike) = find_spikes(&bins, &base, bin);
    let burstiness = dispersion(&bins, &in_spike);
    // The curve without its spikes: a spike's seconds at the baseline's rate.
    let mut rate = secs;
    for (i, spiking) in in_spike.iter().enumerate() {
        if *spiking {
            let lo = i * bin as usize;
            let hi = (lo + bin as usize).min(rate.len());
            let each = base[i] / bin as f64;
            rate[lo..hi].iter_mut().for_each(|r| *r = each);
        }
    }
    let mut s = Shape {
        first,
        span,
        total: counts.total(),
        mean_rate: counts.total() as f64 / span as f64,
        peak_rate: 0.0,
        factors: Vec::new(),
        period: span,
        start_of_day: None,
        unobserved_hours: Vec::new(),
        spikes,
        bin,
        burstiness,
    };
    match resolution {
        Resolution::Second => s.factors = rate,
        Resolution::Minute => {
            s.factors = rate
                .chunks(60)
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect();
            s.period = s.factors.len() as i64 * 60;
        }
        Resolution::Hour => hourly(&mut s, &rate),
    }
    let peak = s.factors.iter().copied().fold(0.0, f64::max);
    s.peak_rate = peak;
    if peak > 0.0 {
        s.factors.iter_mut().for_each(|f| *f /= peak);
    }
    Ok(s)
}

/// Per hour of day (UTC): arrivals over the seconds of that hour the log covers.
fn hourly(s: &mut Shape, rate: &[f64]) {
    let mut sum = [0.0f64; 24];
    let mut covered = [0u64; 24];
    for (i, r) in rate.iter().enumerate() {
        let h = ((s.first + i as i64).rem_euclid(86_400) / 3600) as usize;
        sum[h] += r;
        covered[h] += 1;
    }
    let mut f: Vec<Option<f64>> = (0..24)
        .map(|h| (covered[h] > 0).then(|| sum[h] / covered[h] as f64))
        .collect();
    s.unobserved_hours = (0..24).filter(|h| f[*h].is_none()).collect();
    // Hours the log does not cover: linear between the covered neighbours, around the clock.
    let known: Vec<usize> = (0..24).filter(|h| f[*h].is_some()).collect();
    for h in s.unobserved_hours.clone() {
        let prev = known
            .iter()
            .rev()
            .find(|k| **k < h)
            .or(known.last())
            .copied()
            .unwrap_or(h);
        let next = known.iter().find(|k| **k > h).or(known.first()).copied().unwrap_or(h);
        let (a, b) = (f[prev].unwrap_or(0.0), f[next].unwrap_or(0.0));
        let gap = (next + 24 - prev) % 24;
        let pos = (h + 24 - prev) % 24;
        f[h] = Some(if gap == 0 {
            a
        } else {
            a + (b - a) * pos as f64 / gap as f64
        });
    }
    s.factors = f.into_iter().map(|x| x.unwrap_or(0.0)).collect();
    s.period = 86_400;
    s.start_of_day = Some(s.first.rem_euclid(86_400));
}

/// Bin width for spikes: the smallest divisor of an hour that keeps about
/// 4,000 bins or fewer.
fn bin_width(span: i64) -> i64 {
    [1, 2, 5, 10, 15, 30, 60]
        .into_iter()
        .find(|w| span / w <= 4_000)
        .unwrap_or(60)
}

fn rolling_median(v: &[f64], half: usize) -> Vec<f64> {
    let mut window = Vec::with_capacity(2 * half + 1);
    (0..v.len())
        .map(|i| {
            window.clear();
            window.extend_from_slice(&v[i.saturating_sub(half)..(i + half + 1).min(v.len())]);
            window.sort_by(f64::total_cmp);
            window[window.len() / 2]
        })
        .collect()
}

/// Runs of at least two bins (one-bin gaps bridged) well above the
/// baseline: above 1.5 times it and above Poisson noise (4 standard
/// deviations). The largest [`MAX_SPIKES`] by excess requests, in time order.
fn find_spikes(bins: &[f64], base: &[f64], bin: i64) -> (Vec<Spike>, Vec<bool>) {
    let high: Vec<bool> = bins
        .iter()
        .zip(base)
        .map(|(c, m)| *c > 1.5 * m.max(1.0) && c - m > 4.0 * m.max(1.0).sqrt())
        .collect();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < high.len() {
        if !high[i] {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        while end < high.len() && (high[end] || (end + 1 < high.len() && high[end + 1])) {
            end += 1;
        }
        if end - start >= 2 {
            runs.push((start, end));
        }
        i = end;
    }
    let excess = |(a, b): &(usize, usize)| (*a..*b).map(|k| bins[k] - base[k]).sum::<f64>();
    runs.sort_by(|x, y| excess(y).total_cmp(&excess(x)));
    runs.truncate(MAX_SPIKES);
    runs.sort();
    let mut in_spike = vec![false; bins.len()];
    let spikes = runs
        .iter()
        .map(|&(a, b)| {
            in_spike[a..b].iter_mut().for_each(|x| *x = true);
            let got: f64 = bins[a..b].iter().sum();
            let curve: f64 = base[a..b].iter().map(|m| m.max(1.0)).sum();
            Spike {
                at: (a as i64 * bin) as f64,
                len: ((b - a) as i64 * bin) as f64,
                factor: got / curve,
            }
        })
        .collect();
    (spikes, in_spike)
}

/// Index of dispersion from successive differences: for Poisson counts
/// `E[(c[i+1] - c[i])^2] = 2 mean`, and a slowly changing rate adds almost
/// nothing, so the curve's own shape does not pass for burstiness.
fn dispersion(bins: &[f64], skip: &[bool]) -> f64 {
    let (mut var, mut mean) = (0.0, 0.0);
    for i in 1..bins.len() {
        if !skip[i] && !skip[i - 1] {
            let d = bins[i] - bins[i - 1];
            var += d * d;
            mean += bins[i] + bins[i - 1];
        }
    }
    if mean > 0.0 {
        var / mean
    } else {
        0.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn poisson_counts(rate: impl Fn(i64) -> f64, from: i64, secs: i64) -> Counts {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut c = Counts::default();
        for s in 0..secs {
            let lambda = rate(s);
            // Poisson by counting exponential gaps within the second.
            let mut t = 0.0;
            loop {
                t += -(1.0 - rng.random::<f64>()).ln() / lambda;
                if t >= 1.0 {
                    break;
                }
                c.add((from + s) as f64 + t);
            }
        }
        c
    }

    #[test]
    fn finds_a_spike_and_keeps_it_out_of_the_curve() {
        let c = poisson_counts(
            |s| if (300..330).contains(&s) { 600.0 } else { 200.0 },
            1_700_000_000,
            900,
        );
        let s = shape(&c, Resolution::Second).unwrap();
        assert_eq!(s.spikes.len(), 1, "{:?}", s.spikes);
        let sp = s.spikes[0];
        assert!((sp.at - 300.0).abs() <= 2.0 && (sp.len - 30.0).abs() <= 3.0, "{sp:?}");
        assert!((sp.factor - 3.0).abs() < 0.3, "{sp:?}");
        assert!((s.burstiness - 1.0).abs() < 0.3, "{}", s.burstiness);
        let mean_factor = s.factors.iter().sum::<f64>() / s.factors.len() as f64;
        assert!(mean_factor > 0.7, "spike flattened the curve: {mean_factor}");
    }

    #[test]
    fn hourly_factors_follow_the_day() {
        // Two days at one arrival per second times a curve peaking at 12:00 UTC.
        let curve = |h: i64| 1.0 + 3.0 * (1.0 - ((h - 12) as f64 / 12.0).abs());
        let mut c = Counts::default();
        let day0 = 1_700_006_400; // a midnight UTC
        for s in 0..2 * 86_400 {
            let per = curve((s % 86_400) / 3600).round() as i64;
            for k in 0..per {
                c.add((day0 + s) as f64 + k as f64 / per as f64);
            }
        }
        let s = shape(&c, Resolution::Hour).unwrap();
        assert_eq!(s.factors.len(), 24);
        assert_eq!(s.start_of_day, Some(0));
        assert!(s.unobserved_hours.is_empty());
        assert!((s.factors[12] - 1.0).abs() < 1e-9);
        assert!((s.factors[0] - 0.25).abs() < 0.01, "{:?}", s.factors);
        assert!((s.peak_rate - 4.0).abs() < 1e-9);
        assert!(s.burstiness < 0.1, "evenly spaced: {}", s.burstiness);
        assert!(s.spikes.is_empty());
    }

    #[test]
    fn unobserved_hours_are_interpolated() {
        // 20:00 to 03:00 the next day: two per second until midnight, then one.
        let mut c = Counts::default();
        for s in 20 * 3600..27 * 3600 {
            c.add(f64::from(s) + 0.5);
            if s < 24 * 3600 {
                c.add(f64::from(s) + 0.7);
            }
        }
        let s = shape(&c, Resolution::Hour).unwrap();
        assert_eq!(s.unobserved_hours, (3..20).collect::<Vec<_>>());
        assert_eq!(s.start_of_day, Some(20 * 3600));
        // Hour 11 is halfway from hour 2 (1/s) to hour 20 (2/s): 1.5/s, 0.75 of the peak.
        assert!((s.factors[11] - 0.75).abs() < 1e-9, "{:?}", s.factors);
    }

    #[test]
    fn errors() {
        assert_eq!(
            shape(&Counts::default(), Resolution::Hour).unwrap_err(),
            CurveError::Empty
        );
        let mut c = Counts::default();
        c.add(0.0);
        c.add(40.0 * 86_400.0);
        assert!(matches!(shape(&c, Resolution::Hour), Err(CurveError::TooLong(41))));
        let mut c = Counts::default();
        c.add(0.0);
        c.add(20.0 * 86_400.0);
        assert!(matches!(shape(&c, Resolution::Second), Err(CurveError::TooFine(_))));
        assert!(shape(&c, Resolution::Minute).is_ok());
    }
}
