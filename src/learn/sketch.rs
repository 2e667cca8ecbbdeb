//! Bounded, mergeable summaries of what a log holds: distinct values with
//! their counts (an adaptive hash sample), a Zipf fit over them, and
//! quantiles of sizes and numbers.
//!
//! None of them keeps a value: the distinct sample holds 64-bit hashes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The map of kept hashes: their keys are hashes already, so they are
/// only spread by one multiply (the top bits too, which the table's probe
/// tags use, and which a deep sample has all zero) instead of being hashed
/// again with SipHash (a sixth of `synth learn`'s time before).
type HashCounts = HashMap<u64, u64, BuildHasherDefault<Spread>>;

/// A [`Hasher`] for keys that are uniform 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
struct Spread(u64);

impl Hasher for Spread {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(self.0 ^ u64::from(*b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    }
}

/// Distinct values and how often each was seen, in bounded memory.
///
/// Every value is hashed; a value is kept when the top `level` bits of its
/// hash are zero, with its exact count. When more than `cap` values are kept,
/// `level` goes up by one and about half of them go: the sample stays a
/// uniform sample of the *distinct* values (each kept with probability
/// `2^-level`), with exact counts (Gibbons' distinct sampling). Two samples of
/// the same kind merge into the sample of the union.
#[derive(Debug, Clone)]
pub struct Distinct {
    level: u32,
    cap: usize,
    kept: HashCounts,
    total: u64,
}

impl Distinct {
    /// An empty sample holding at most `cap` hashes.
    pub fn new(cap: usize) -> Self {
        Distinct {
            level: 0,
            cap: cap.max(16),
            kept: HashCounts::default(),
            total: 0,
        }
    }

    fn keeps(level: u32, hash: u64) -> bool {
        level == 0 || hash.leading_zeros() >= level
    }

    /// Count one occurrence of the value with this hash.
    pub fn add(&mut self, hash: u64) {
        self.add_n(hash, 1);
    }

    /// Count `n` occurrences of the value with this hash.
    pub fn add_n(&mut self, hash: u64, n: u64) {
        self.total += n;
        if Self::keeps(self.level, hash) {
            *self.kept.entry(hash).or_insert(0) += n;
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        while self.kept.len() > self.cap && self.level < 63 {
            self.level += 1;
            let level = self.level;
            self.kept.retain(|h, _| Self::keeps(level, *h));
        }
    }

    /// Add another sample's values into this one.
    pub fn merge(&mut self, other: &Distinct) {
        self.total += other.total;
        self.level = self.level.max(other.level);
        let level = self.level;
        self.kept.retain(|h, _| Self::keeps(level, *h));
        for (h, c) in &other.kept {
            if Self::keeps(level, *h) {
                *self.kept.entry(*h).or_insert(0) += c;
            }
        }
        self.shrink();
    }

    /// Occurrences counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether every distinct value is held (no sampling happened).
    pub fn exact(&self) -> bool {
        self.level == 0
    }

    /// Estimated number of distinct values.
    pub fn distinct(&self) -> u64 {
        (self.kept.len() as u64) << self.level
    }

    /// The kept values' counts, most frequent first, each with its estimated
    /// rank among all distinct values (1-based).
    pub fn ranked(&self) -> Vec<(f64, u64)> {
        let mut counts: Vec<(u64, u64)> = self.kept.iter().map(|(h, c)| (*c, *h)).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let step = (1u64 << self.level) as f64;
        counts
            .iter()
            .enumerate()
            .map(|(i, (c, _))| {
                let rank = if self.level == 0 {
                    (i + 1) as f64
                } else {
                    (i as f64 + 0.5) * step + 0.5
                };
                (rank, *c)
            })
            .collect()
    }

    /// The kept hashes with their counts, most frequent first (ties by hash).
    pub fn top(&self) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = self.kept.iter().map(|(h, c)| (*h, *c)).collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// How many values are represented by each kept one.
    pub fn weight(&self) -> u64 {
        1u64 << self.level
    }

    /// The Zipf exponent that best explains the counts, if there is enough
    /// to fit (at least 3 distinct values and 30 occurrences).
    pub fn zipf(&self) -> Option<ZipfFit> {
        let ranked = self.ranked();
        if ranked.len() < 3 || self.total < 30 {
            return None;
        }
        if self.level == 0 {
            return Some(fit_zipf(&ranked, 1.0, self.distinct()));
        }
        // A sample: the head's ranks are too coarse for the likelihood,
        // which the head dominates. Fit log(count) against log(rank) over
        // the kept values seen at least 5 times instead.
        let points: Vec<(f64, f64)> = ranked
            .iter()
            .skip(2)
            .filter(|(_, c)| *c >= 5)
            .map(|(r, c)| (r.ln(), (*c as f64).ln()))
            .collect();
        if points.len() < 5 {
            return Some(fit_zipf(&ranked, self.weight() as f64, self.distinct()));
        }
        let n = points.len() as f64;
        let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
        let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
            (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
        });
        let s = if sxx > 0.0 { (-sxy / sxx).clamp(0.0, 5.0) } else { 0.0 };
        // The sample's own counts are the reference: the kept values' share
        // of all occurrences is not known.
        let kept: f64 = ranked.iter().map(|(_, c)| *c as f64).sum();
        Some(ZipfFit {
            s,
            n: self.distinct(),
            ks: ks_distance(&ranked, 1.0, kept, self.distinct(), s),
        })
    }
}

/// A fitted Zipf law: value of rank `k` seen with probability ∝ `k^-s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZipfFit {
    /// The exponent.
    pub s: f64,
    /// The number of distinct values it spreads over.
    pub n: u64,
    /// Kolmogorov–Smirnov distance between the observed rank distribution
    /// and the fitted one (0 is a perfect fit).
    pub ks: f64,
}

/// `sum_{k=1}^{n} k^-s`: exact for the first 2,000 terms, the midpoint-rule
/// integral for the rest (relative error far below the fit's own).
pub fn harmonic(n: u64, s: f64) -> f64 {
    const EXACT: u64 = 2_000;
    let m = n.min(EXACT);
    let mut sum = 0.0;
    for k in 1..=m {
        sum += (k as f64).powf(-s);
    }
    if n > m {
        let (a, b) = (m as f64 + 0.5, n as f64 + 0.5);
        sum += if (s - 1.0).abs() < 1e-9 {
            (b / a).ln()
        } else {
            (b.powf(1.0 - s) - a.powf(1.0 - s)) / (1.0 - s)
        };
    }
    sum
}

/// Maximum-likelihood Zipf exponent for counts at (estimated) ranks, each
/// kept count standing for `weight` values, over `n` distinct values.
pub fn fit_zipf(ranked: &[(f64, u64)], weight: f64, n: u64) -> ZipfFit {
    let n = n.max(ranked.len() as u64).max(1);
    let total: f64 = ranked.iter().map(|(_, c)| *c as f64).sum::<f64>() * weight;
    let log_sum: f64 = ranked.iter().map(|(r, c)| *c as f64 * r.ln()).sum::<f64>() * weight;
    let loglik = |s: f64| -s * log_sum - total * harmonic(n, s).ln();
    // Golden-section search for the maximum over s in [0, 5].
    let (mut a, mut b) = (0.0f64, 5.0f64);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (loglik(c), loglik(d));
    for _ in 0..80 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = loglik(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = loglik(d);
        }
    }
    let s = (a + b) / 2.0;
    ZipfFit {
        s,
        n,
        ks: ks_distance(ranked, weight, total, n, s),
    }
}

/// Largest gap between the observed and the fitted share of occurrences at
/// or below each kept rank.
fn ks_distance(ranked: &[(f64, u64)], weight: f64, total: f64, n: u64, s: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    let h = harmonic(n, s);
    let mut seen = 0.0;
    let mut worst: f64 = 0.0;
    // The ranks only grow: the partial sum is carried from one to the next
    // (a fresh `harmonic` per rank cost O(ranks × 2000) powers).
    let (mut upto, mut partial) = (0u64, 0.0);
    for (rank, count) in ranked {
        seen += *count as f64 * weight;
        let r = rank.round().max(1.0) as u64;
        if r < upto || r - upto > 4_096 {
            (upto, partial) = (r, harmonic(r, s));
        }
        while upto < r {
            upto += 1;
            partial += (upto as f64).powf(-s);
        }
        worst = worst.max((seen / total - partial / h).abs());
    }
    worst
}

/// Quantiles of non-negative integers (sizes, numeric ids, lengths) in a
/// log-linear histogram: exact below 16, then 16 buckets per power of two
/// (within 6.25%). It grows only to the largest value seen: about 1.3 KB for
/// sizes up to a megabyte.
#[derive(Debug, Clone, Default)]
pub struct Quantiles {
    buckets: Vec<u32>,
    len: u64,
}

const SUB: u32 = 16;

fn bucket_of(v: u64) -> usize {
    if v < u64::from(SUB) {
        return v as usize;
    }
    let octave = 63 - v.leading_zeros(); // >= 4
    let shift = octave - 4;
    let sub = (v >> shift) as u32 & (SUB - 1);
    (SUB + shift * SUB + sub) as usize
}

fn bucket_value(i: usize) -> u64 {
    let i = i as u32;
    if i < SUB {
        return u64::from(i);
    }
    let shift = (i - SUB) / SUB;
    let sub = (i - SUB) % SUB;
    let low = u64::from(SUB + sub) << shift;
    // The middle of the bucket.
    low + ((1u64 << shift) >> 1)
}

impl Quantiles {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record one value.
    pub fn add(&mut self, v: u64) {
        self.add_n(v, 1);
    }

    /// Record a value `n` times.
    pub fn add_n(&mut self, v: u64, n: u32) {
        let i = bucket_of(v);
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, 0);
        }
        self.buckets[i] = self.buckets[i].saturating_add(n);
        self.len += u64::from(n);
    }

    /// Add another summary into this one.
    pub fn merge(&mut self, other: &Quantiles) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a = a.saturating_add(*b);
        }
        self.len += other.len;
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value at quantile `q` (0..=1), within 6.25%; 0 when empty.
    pub fn at(&self, q: f64) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let want = ((q.clamp(0.0, 1.0) * self.len as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.buckets.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= want {
                return bucket_value(i);
            }
        }
        bucket_value(self.buckets.len().saturating_sub(1))
    }
}

/// `v` rounded down to two significant digits (`1_234_567` → `1_200_000`).
pub fn round_down_2(v: u64) -> u64 {
    let p = pow10_below(v);
    v / p * p
}

/// `v` rounded up to two significant digits (`1_234_567` → `1_300_000`).
pub fn round_up_2(v: u64) -> u64 {
    let p = pow10_below(v);
    v.div_ceil(p).saturating_mul(p)
}

/// `v` rounded to two significant digits.
pub fn round_2(v: u64) -> u64 {
    let p = pow10_below(v);
    (v + p / 2) / p * p
}

fn pow10_below(v: u64) -> u64 {
    let mut p = 1u64;
    while v / p >= 100 {
        p *= 10;
    }
    p
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Zipf};

    fn hash(v: u64) -> u64 {
        // splitmix64: a fixed, well-spread hash for the tests.
        let mut z = v.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn sample(s: f64, n: u64, draws: usize, cap: usize) -> Distinct {
        let z = Zipf::new(n as f64, s).unwrap();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut d = Distinct::new(cap);
        for _ in 0..draws {
            d.add(hash(z.sample(&mut rng) as u64));
        }
        d
    }

    #[test]
    fn fits_the_exponent_it_was_drawn_from() {
        for s in [0.6, 0.9, 1.1, 1.4] {
            let fit = sample(s, 5_000, 200_000, 100_000).zipf().unwrap();
            assert!((fit.s - s).abs() < 0.05, "s {s}: fitted {fit:?}");
            assert!(fit.ks < 0.03, "s {s}: {fit:?}");
        }
    }

    #[test]
    fn a_sampled_sketch_still_fits_and_counts() {
        let d = sample(1.0, 200_000, 400_000, 2_000);
        assert!(!d.exact());
        let fit = d.zipf().unwrap();
        assert!((fit.s - 1.0).abs() < 0.1, "{fit:?}");
        let exact = sample(1.0, 200_000, 400_000, 1_000_000).distinct();
        let est = d.distinct() as f64;
        assert!((est / exact as f64 - 1.0).abs() < 0.2, "{est} vs {exact}");
    }

    #[test]
    fn merging_equals_one_sample_of_everything() {
        let mut a = Distinct::new(64);
        let mut b = Distinct::new(64);
        let mut all = Distinct::new(64);
        for v in 0..5_000u64 {
            let h = hash(v % 700);
            if v % 2 == 0 {
                a.add(h)
            } else {
                b.add(h)
            }
            all.add(h);
        }
        a.merge(&b);
        assert_eq!(a.total(), all.total());
        assert_eq!(a.top(), all.top());
    }

    #[test]
    fn uniform_counts_fit_a_small_exponent() {
        let mut d = Distinct::new(10_000);
        for v in 0..100_000u64 {
            d.add(hash(v % 1_000));
        }
        assert!(d.zipf().unwrap().s < 0.05);
    }

    #[test]
    fn quantiles_are_within_their_bucket() {
        let mut q = Quantiles::new();
        for v in 1..=10_000u64 {
            q.add(v);
        }
        for (p, want) in [(0.5, 5_000.0), (0.99, 9_900.0), (0.01, 100.0)] {
            let got = q.at(p) as f64;
            assert!((got / want - 1.0).abs() < 0.07, "{p}: {got}");
        }
        let mut small = Quantiles::new();
        small.add(3);
        assert_eq!(small.at(0.5), 3);
        assert_eq!(Quantiles::new().at(0.5), 0);
    }

    #[test]
    fn rounding_keeps_two_digits() {
        assert_eq!(round_down_2(1_234_567), 1_200_000);
        assert_eq!(round_up_2(1_234_567), 1_300_000);
        assert_eq!(round_up_2(1_200_000), 1_200_000);
        assert_eq!(round_2(1_250), 1_300);
        assert_eq!(round_2(7), 7);
        assert_eq!(round_down_2(0), 0);
    }
}
