//! Template variable generators: where the `{{product}}` of a request comes
//! from. Each is built once from the profile and then asked for one value
//! per request, written straight into a reused buffer.

use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Zipf};

use super::keys::KeySpace;
use super::token::TokenSpace;
use crate::values::{FakeKind, Locale};

/// How to pick one of `n` values (a CSV column's, a token space's).
#[derive(Debug, Clone)]
pub enum Pick {
    /// Every value equally likely.
    Uniform,
    /// Request `i` gets value `i mod n`: each value in turn.
    Sequential,
    /// The first rows are the hottest (Zipf with exponent `s`).
    Zipf(Zipf<f64>),
}

impl Pick {
    /// The 0-based index, below `n` (at least 1), that request `index` takes.
    #[inline]
    pub fn index<R: Rng + ?Sized>(&self, rng: &mut R, index: u64, n: u64) -> u64 {
        match self {
            Pick::Uniform => rng.random_range(0..n),
            Pick::Sequential => index % n,
            Pick::Zipf(z) => (z.sample(rng) as u64).saturating_sub(1).min(n - 1),
        }
    }
}

/// One variable's generator.
#[derive(Debug, Clone)]
pub enum VarGen {
    /// An integer in `from..from + n`, `from` (rank 1) the most frequent.
    Zipf {
        /// Ranks 1..=n.
        dist: Zipf<f64>,
        /// The value of rank 1.
        from: i64,
    },
    /// An integer drawn uniformly from `lo..=hi`.
    UniformInt(i64, i64),
    /// A number drawn uniformly from `[lo, hi)`, written with 2 decimals.
    UniformFloat(f64, f64),
    /// Fake data by name.
    Fake(FakeKind, Locale),
    /// A value from a column of a CSV file.
    Csv {
        /// The column's values, in file order.
        values: Arc<Vec<String>>,
        /// Which value request `i` takes.
        pick: Pick,
    },
    /// One of a list, with weights.
    OneOf {
        /// The values, as written.
        values: Vec<String>,
        /// Their weights, indexed like `values`.
        weights: Arc<WeightedAliasIndex<f64>>,
    },
    /// `start + i` for request `i`.
    Sequence(i64),
    /// A random (version 4) UUID.
    Uuid,
    /// One of `n` opaque ids, the same in every run.
    Token {
        /// The ids.
        space: TokenSpace,
        /// Which id request `i` takes.
        pick: Pick,
    },
    /// A key of a schema's table (`from_schema`): the value synth writes
    /// in that column of the picked row.
    Schema {
        /// The column's keys.
        keys: KeySpace,
        /// Which row request `i` takes.
        pick: Pick,
    },
}

impl VarGen {
    /// Append one value for request `index` to `out`.
    pub fn write<R: Rng + ?Sized>(&self, rng: &mut R, index: u64, out: &mut Vec<u8>) {
        use std::io::Write;
        match self {
            VarGen::Zipf { dist, from } => {
                let rank = dist.sample(rng) as i64;
                let _ = write!(out, "{}", from.wrapping_add(rank - 1));
            }
            VarGen::UniformInt(lo, hi) => {
                let v = rng.random_range(*lo..=*hi);
                let _ = write!(out, "{v}");
            }
            VarGen::UniformFloat(lo, hi) => {
                let v = if hi > lo { rng.random_range(*lo..*hi) } else { *lo };
                let _ = write!(out, "{v:.2}");
            }
            VarGen::Fake(kind, locale) => out.extend_from_slice(kind.generate(*locale, rng).as_bytes()),
            VarGen::Csv { values, pick } => {
                // Drawn as usize, not through `Pick::index`: rand samples a
                // usize range differently from a u64 one, and a CSV variable's
                // values must stay what they were.
                let n = values.len();
                let i = match pick {
                    Pick::Uniform => rng.random_range(0..n),
                    Pick::Sequential => (index % n as u64) as usize,
                    Pick::Zipf(z) => (z.sample(rng) as usize).saturating_sub(1).min(n - 1),
                };
                out.extend_from_slice(values[i].as_bytes());
            }
            VarGen::OneOf { values, weights } => out.extend_from_slice(values[weights.sample(rng)].as_bytes()),
            VarGen::Sequence(start) => {
                let v = start.wrapping_add(index as i64);
                let _ = write!(out, "{v}");
            }
            VarGen::Uuid => {
                let mut b: [u8; 16] = rng.random();
                b[6] = (b[6] & 0x0f) | 0x40;
                b[8] = (b[8] & 0x3f) | 0x80;
                let h = |x: &[u8]| x.iter().map(|v| format!("{v:02x}")).collect::<String>();
                let _ = write!(
                    out,
                    "{}-{}-{}-{}-{}",
                    h(&b[0..4]),
                    h(&b[4..6]),
                    h(&b[6..8]),
                    h(&b[8..10]),
                    h(&b[10..16])
                );
            }
            VarGen::Token { space, pick } => space.write(pick.index(rng, index, space.n()) + 1, out),
            VarGen::Schema { keys, pick } => keys.write(pick.index(rng, index, keys.rows()), out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::rng_for;

    #[test]
    fn generators_write_values_in_range() {
        let mut rng = rng_for(1, 1);
        let mut out = Vec::new();
        for _ in 0..1000 {
            out.clear();
            VarGen::UniformInt(1, 5).write(&mut rng, 0, &mut out);
            let v: i64 = std::str::from_utf8(&out).unwrap().parse().unwrap();
            assert!((1..=5).contains(&v));
            out.clear();
            VarGen::Zipf {
                dist: Zipf::new(100.0, 1.0).unwrap(),
                from: 1,
            }
            .write(&mut rng, 0, &mut out);
            let v: u64 = std::str::from_utf8(&out).unwrap().parse().unwrap();
            assert!((1..=100).contains(&v));
            out.clear();
            VarGen::Zipf {
                dist: Zipf::new(100.0, 1.0).unwrap(),
                from: 1_200_000,
            }
            .write(&mut rng, 0, &mut out);
            let v: u64 = std::str::from_utf8(&out).unwrap().parse().unwrap();
            assert!((1_200_000..1_200_100).contains(&v));
        }
        out.clear();
        VarGen::Sequence(10).write(&mut rng, 5, &mut out);
        assert_eq!(out, b"15");
        out.clear();
        VarGen::Uuid.write(&mut rng, 0, &mut out);
        let s = String::from_utf8(out.clone()).unwrap();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
    }

    #[test]
    fn sequential_csv_pick_cycles() {
        let g = VarGen::Csv {
            values: Arc::new(vec!["a".into(), "b".into(), "c".into()]),
            pick: Pick::Sequential,
        };
        let mut rng = rng_for(1, 1);
        let got: Vec<String> = (0..5)
            .map(|i| {
                let mut o = Vec::new();
                g.write(&mut rng, i, &mut o);
                String::from_utf8(o).unwrap()
            })
            .collect();
        assert_eq!(got, ["a", "b", "c", "a", "b"]);
    }
}
