//! The statistics behind a baseline comparison, on histogram buckets rather
//! than raw samples (a run keeps millions of latencies as a few thousand
//! bucket counts):
//!
//! - quantiles exactly as HdrHistogram computes them, so a point estimate
//!   here equals the merged histogram's;
//! - a block bootstrap: each replicate draws blocks of consecutive seconds
//!   with replacement from each run, so the intervals it gives keep the
//!   run's time structure (a slow minute stays one slow minute);
//! - the Mann-Whitney U statistic from bucket counts, with the tie
//!   correction (latencies in one bucket are ties), and Cliff's delta as
//!   its effect size.
//!
//! Seeded: the same runs and the same seed give the same intervals.

use rand::{RngExt, SeedableRng};

use crate::results::hist::SLOTS;
use crate::results::run::Blocks;
#[cfg(test)]
use crate::results::run::Sparse;
use crate::results::slots;
use crate::values::seed::Rng64;

/// Bootstrap replicates per comparison.
pub const REPLICATES: usize = 1000;

/// A quantile is estimable from `n` requests when at least this many lie
/// beyond it: p99 needs 1,000 requests, p99.9 needs 10,000.
pub const MIN_BEYOND: f64 = 10.0;

/// A comparison needs at least this many blocks in each run.
pub const MIN_BLOCKS: usize = 5;

/// Whether quantile `q` can be estimated from `n` requests.
pub fn estimable(n: u64, q: f64) -> bool {
    n >= needed(q)
}

/// Requests needed to estimate quantile `q`.
pub fn needed(q: f64) -> u64 {
    if q >= 1.0 {
        1
    } else {
        // Rounded first: 10 / (1 - 0.999) is 10000.000000000002 in floats.
        ((MIN_BEYOND / (1.0 - q) * 1e6).round() / 1e6).ceil() as u64
    }
}

/// Bucket values shared by two runs, and each run's blocks as counts on it.
pub struct Grid {
    pub values: Vec<u64>,
    pub a: Vec<GridBlock>,
    pub b: Vec<GridBlock>,
}

/// One block's counts on a [`Grid`]: the grid indices of its non-empty
/// buckets, ascending (a grid has at most [`SLOTS`] < 2^16), and their
/// counts, in 32 bits unless one needs more.
pub struct GridBlock {
    index: Box<[u16]>,
    counts: Counts,
}

enum Counts {
    Narrow(Box<[u32]>),
    Wide(Box<[u64]>),
}

impl GridBlock {
    fn new(index: Vec<u16>, counts: &[u64]) -> GridBlock {
        let counts = if counts.iter().all(|&c| c <= u64::from(u32::MAX)) {
            Counts::Narrow(counts.iter().map(|&c| c as u32).collect())
        } else {
            Counts::Wide(counts.into())
        };
        GridBlock {
            index: index.into(),
            counts,
        }
    }

    /// Add this block `times` times to `dense` (saturating: a crafted log's
    /// counts may add past u64).
    fn add_times(&self, dense: &mut [u64], times: u64) {
        match &self.counts {
            Counts::Narrow(c) => {
                for (&i, &c) in self.index.iter().zip(c.iter()) {
                    let d = &mut dense[usize::from(i)];
                    *d = d.saturating_add(u64::from(c).saturating_mul(times));
                }
            }
            Counts::Wide(c) => {
                for (&i, &c) in self.index.iter().zip(c.iter()) {
                    let d = &mut dense[usize::from(i)];
                    *d = d.saturating_add(c.saturating_mul(times));
                }
            }
        }
    }
}

impl Grid {
    /// The blocks of endpoints `a_eps` of `a` (merged per block) and of
    /// `b_eps` of `b`, on the buckets either has.
    pub fn of(a: &Blocks, a_eps: &[usize], b: &Blocks, b_eps: &[usize]) -> Grid {
        let mut used = vec![false; SLOTS];
        for (blocks, eps) in [(a, a_eps), (b, b_eps)] {
            for k in 0..blocks.len() {
                for &e in eps {
                    for (s, _) in blocks.slots(k, e) {
                        used[s as usize] = true;
                    }
                }
            }
        }
        let table = slots::values();
        let mut at = vec![0u16; SLOTS];
        let mut values = Vec::new();
        for (s, _) in used.iter().enumerate().filter(|p| *p.1) {
            at[s] = values.len() as u16;
            values.push(table[s]);
        }
        let side = |blocks: &Blocks, eps: &[usize]| -> Vec<GridBlock> {
            let mut dense = vec![0u64; values.len()];
            let mut touched: Vec<u16> = Vec::new();
            (0..blocks.len())
                .map(|k| {
                    for &e in eps {
                        for (s, c) in blocks.slots(k, e) {
                            let i = at[s as usize];
                            let d = &mut dense[usize::from(i)];
                            if *d == 0 {
                                touched.push(i);
                            }
                            *d = d.saturating_add(c);
                        }
                    }
                    touched.sort_unstable();
                    let counts: Vec<u64> = touched
                        .iter()
                        .map(|&i| std::mem::take(&mut dense[usize::from(i)]))
                        .collect();
                    GridBlock::new(std::mem::take(&mut touched), &counts)
                })
                .collect()
        };
        let (a, b) = (side(a, a_eps), side(b, b_eps));
        Grid { values, a, b }
    }

    /// Blocks of (value, count) pairs on one grid (tests).
    #[cfg(test)]
    pub fn new(a: &[Sparse], b: &[Sparse]) -> Grid {
        Grid::of(&Blocks::from_sparse(a), &[0], &Blocks::from_sparse(b), &[0])
    }

    /// Every block of one side summed into dense counts.
    pub fn total(&self, blocks: &[GridBlock]) -> Vec<u64> {
        let mut dense = vec![0; self.values.len()];
        for b in blocks {
            b.add_times(&mut dense, 1);
        }
        dense
    }
}

/// Quantiles of dense counts, HdrHistogram's rule: the lowest value whose
/// cumulative count reaches `ceil(q * n)` (at least 1). `qs` ascending.
/// `None` when the counts are empty.
pub fn quantiles(dense: &[u64], values: &[u64], qs: &[f64]) -> Option<Vec<u64>> {
    let n: u64 = dense.iter().sum();
    if n == 0 {
        return None;
    }
    let mut out = Vec::with_capacity(qs.len());
    let mut cum = 0u64;
    let mut i = 0usize;
    for &q in qs {
        let target = ((q.min(1.0) * n as f64).ceil() as u64).max(1);
        while cum + dense[i] < target {
            cum += dense[i];
            i += 1;
        }
        out.push(values[i]);
    }
    Some(out)
}

/// The Mann-Whitney comparison of `b` against `a` (dense counts on one grid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankTest {
    /// P(a request of b is slower than one of a), ties counting half.
    pub auc: f64,
    /// Cliff's delta: 2 * auc - 1, from -1 (b always faster) to 1 (b always slower).
    pub cliffs_delta: f64,
    /// Normal approximation with the tie correction.
    pub z: f64,
    /// Two-sided.
    pub p_value: f64,
}

pub fn rank_test(a: &[u64], b: &[u64]) -> Option<RankTest> {
    let na: f64 = a.iter().sum::<u64>() as f64;
    let nb: f64 = b.iter().sum::<u64>() as f64;
    if na == 0.0 || nb == 0.0 {
        return None;
    }
    let (mut below_a, mut u, mut ties) = (0f64, 0f64, 0f64);
    for (&ca, &cb) in a.iter().zip(b) {
        let (ca, cb) = (ca as f64, cb as f64);
        u += cb * (below_a + 0.5 * ca);
        below_a += ca;
        let t = ca + cb;
        ties += t * t * t - t;
    }
    let n = na + nb;
    let auc = u / (na * nb);
    let var = na * nb / 12.0 * ((n + 1.0) - if n > 1.0 { ties / (n * (n - 1.0)) } else { 0.0 });
    let z = if var > 0.0 {
        (u - na * nb / 2.0) / var.sqrt()
    } else {
        0.0
    };
    Some(RankTest {
        auc,
        cliffs_delta: 2.0 * auc - 1.0,
        z,
        p_value: libm::erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0),
    })
}

/// What one bootstrap replicate measures from a pair of dense count vectors.
pub trait Statistic {
    /// `None` when the replicate cannot measure it (e.g. an empty side).
    fn measure(&self, values: &[u64], a: &[u64], b: &[u64]) -> Option<Vec<f64>>;
}

/// The bootstrap distribution of a statistic: for each replicate, resample
/// each side's blocks with replacement and measure.
pub struct Bootstrap {
    /// `[statistic component][replicate]`, each sorted ascending.
    pub samples: Vec<Vec<f64>>,
}

pub fn bootstrap(grid: &Grid, stat: &impl Statistic, replicates: usize, seed: u64) -> Bootstrap {
    let mut rng = Rng64::seed_from_u64(seed);
    let d = grid.values.len();
    let (mut da, mut db) = (vec![0u64; d], vec![0u64; d]);
    let mut times: Vec<u64> = Vec::new();
    let mut samples: Vec<Vec<f64>> = Vec::new();
    for _ in 0..replicates {
        for (dense, blocks) in [(&mut da, &grid.a), (&mut db, &grid.b)] {
            dense.iter_mut().for_each(|c| *c = 0);
            times.clear();
            times.resize(blocks.len(), 0);
            for _ in 0..blocks.len() {
                times[rng.random_range(0..blocks.len())] += 1;
            }
            for (block, &t) in blocks.iter().zip(&times) {
                if t > 0 {
                    block.add_times(dense, t);
                }
            }
        }
        // A replicate the statistic cannot measure (a side resampled empty)
        // is left out: the interval is over the others.
        if let Some(v) = stat.measure(&grid.values, &da, &db) {
            if samples.is_empty() {
                samples = vec![Vec::with_capacity(replicates); v.len()];
            }
            for (s, x) in samples.iter_mut().zip(v) {
                s.push(x);
            }
        }
    }
    for s in &mut samples {
        s.sort_unstable_by(f64::total_cmp);
    }
    Bootstrap { samples }
}

/// The central `confidence` interval of sorted samples (percentile method).
pub fn interval(sorted: &[f64], confidence: f64) -> Option<(f64, f64)> {
    if sorted.is_empty() {
        return None;
    }
    let tail = (1.0 - confidence) / 2.0;
    let at = |p: f64| {
        let i = (p * (sorted.len() - 1) as f64).round() as usize;
        sorted[i.min(sorted.len() - 1)]
    };
    Some((at(tail), at(1.0 - tail)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::hist::{new_hist, record};
    use crate::results::run::sparse;

    fn hist(values: impl IntoIterator<Item = u64>) -> Sparse {
        let mut h = new_hist();
        for v in values {
            record(&mut h, v);
        }
        sparse(&h)
    }

    #[test]
    fn quantiles_match_hdrhistogram() {
        let mut h = new_hist();
        let mut x = 12345u64;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            record(&mut h, 100 + (x >> 33) % 90_000);
        }
        let s = sparse(&h);
        let grid = Grid::new(std::slice::from_ref(&s), &[]);
        let dense = grid.total(&grid.a);
        let qs = [0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0];
        let got = quantiles(&dense, &grid.values, &qs).expect("not empty");
        for (q, v) in qs.iter().zip(got) {
            if *q > 0.0 {
                assert_eq!(v, h.value_at_quantile(*q), "q={q}");
            }
        }
        assert_eq!(quantiles(&[0, 0], &[1, 2], &[0.5]), None);
    }

    #[test]
    fn rank_test_agrees_with_direct_counting() {
        let a = [10u64, 20, 20, 30, 40];
        let b = [20u64, 30, 50, 50];
        // Direct: pairs where b > a count 1, ties 0.5.
        let mut u = 0.0;
        for &x in &b {
            for &y in &a {
                u += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
            }
        }
        let grid = Grid::new(&[hist(a)], &[hist(b)]);
        let r = rank_test(&grid.total(&grid.a), &grid.total(&grid.b)).expect("both sides have data");
        assert!((r.auc - u / 20.0).abs() < 1e-12, "{r:?}");
        assert!((r.cliffs_delta - (2.0 * u / 20.0 - 1.0)).abs() < 1e-12);
        // Identical samples: no effect, p = 1.
        let same = rank_test(&[5, 5, 5], &[5, 5, 5]).expect("data");
        assert!(same.cliffs_delta.abs() < 1e-12 && (same.p_value - 1.0).abs() < 1e-9);
        // A clear shift: tiny p.
        let shifted = rank_test(&[100, 100, 0, 0], &[0, 0, 100, 100]).expect("data");
        assert!(shifted.cliffs_delta > 0.99 && shifted.p_value < 1e-10, "{shifted:?}");
    }

    struct Median;
    impl Statistic for Median {
        fn measure(&self, values: &[u64], a: &[u64], b: &[u64]) -> Option<Vec<f64>> {
            let qa = quantiles(a, values, &[0.5])?[0] as f64;
            let qb = quantiles(b, values, &[0.5])?[0] as f64;
            Some(vec![qb / qa - 1.0])
        }
    }

    #[test]
    fn bootstrap_is_seeded_and_covers_the_truth() {
        let blocks = |shift: u64| -> Vec<Sparse> {
            (0..20u64)
                .map(|k| hist((0..200u64).map(|i| 1_000 + shift + (i * 37 + k * 11) % 400)))
                .collect()
        };
        let grid = Grid::new(&blocks(0), &blocks(240));
        let one = bootstrap(&grid, &Median, 300, 7);
        let two = bootstrap(&grid, &Median, 300, 7);
        assert_eq!(one.samples, two.samples);
        let (lo, hi) = interval(&one.samples[0], 0.95).expect("samples");
        // Medians near 1200 and 1440: +20%.
        assert!(lo <= 0.2 && hi >= 0.19 && lo > 0.15 && hi < 0.25, "{lo} {hi}");
        let aa = Grid::new(&blocks(0), &blocks(0));
        let (lo, hi) = interval(&bootstrap(&aa, &Median, 300, 7).samples[0], 0.95).expect("samples");
        assert!(lo <= 0.0 && hi >= 0.0, "{lo} {hi}");
    }
}
