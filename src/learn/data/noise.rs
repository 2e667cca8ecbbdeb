//! `--epsilon`: Laplace noise on the counts a schema is computed from, and
//! the budget it spends.
//!
//! Each noised query is a count or a histogram in which one row adds 1 to
//! one bin (sensitivity 1), so Laplace noise of scale 1/ε_i makes it
//! ε_i-differentially private; the budget ε is split evenly over the
//! queries and adds up by basic composition. The queries: every table's
//! row count; per column its NULL count, its category counts (one
//! histogram), its histogram of numbers, and for times the histogram of
//! days and the hour and weekday histograms (one query each). Distinct
//! counts, lengths, character shapes and foreign-key fan-outs are not
//! covered: the header says so.

use rand::{RngExt, SeedableRng};

use super::column::Type;
use super::TableStats;

/// How the budget was spent.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// The total ε asked for.
    pub epsilon: f64,
    /// The noised queries.
    pub queries: u64,
    /// ε of each query (`epsilon / queries`).
    pub per_query: f64,
}

/// A draw from Laplace(0, b), by inverting its CDF.
pub fn laplace(rng: &mut impl rand::Rng, b: f64) -> f64 {
    let u: f64 = rng.random::<f64>() - 0.5;
    -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
}

/// The queries a table's counts make.
fn queries(t: &TableStats) -> u64 {
    let mut q = 1;
    for c in &t.columns {
        q += 1;
        if c.categories().is_some() {
            q += 1;
        }
        match c.kind() {
            Type::Integer | Type::Float => q += 1,
            Type::Timestamp | Type::Date => q += 3,
            _ => {}
        }
    }
    q
}

/// Noise every count the schema is computed from; the budget spent.
pub fn apply(tables: &mut [TableStats], epsilon: f64, seed: u64) -> Budget {
    let n: u64 = tables.iter().map(queries).sum();
    let per_query = epsilon / n.max(1) as f64;
    let b = 1.0 / per_query;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x6e6f_6973_6500_0001);
    for t in tables.iter_mut() {
        t.rows = (t.rows + laplace(&mut rng, b)).max(1.0);
        for c in &mut t.columns {
            c.null_count = (c.null_count + laplace(&mut rng, b)).clamp(0.0, c.rows as f64);
            if let Some(cats) = c.categories_mut() {
                for v in cats.values_mut() {
                    *v = (*v + laplace(&mut rng, b)).max(0.0);
                }
            }
            match c.kind() {
                Type::Integer | Type::Float => c.numbers.noise(|| laplace(&mut rng, b)),
                Type::Timestamp | Type::Date => {
                    let mut days = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(rng.random());
                    c.times.noise(|| laplace(&mut days, b), || laplace(&mut rng, b));
                }
                _ => {}
            }
        }
    }
    Budget {
        epsilon,
        queries: n,
        per_query,
    }
}
