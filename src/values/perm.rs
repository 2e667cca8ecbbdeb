//! A keyed permutation of `0..n`: a Feistel network over the smallest
//! power of two that covers `n`, with cycle walking to stay inside the
//! domain. It is how `unique: true` columns are built (row `i` gets value
//! number `perm(i)`, so values never repeat, never need a "seen" set, and do
//! not look sequential) and how a profile's `token` variable gives its `n`
//! ids distinct, opaque spellings.

use crate::values::seed::mix64;

/// A keyed bijection of `0..n`.
#[derive(Debug, Clone, Copy)]
pub struct Perm {
    n: u64,
    /// Bits of the high and low halves; together the smallest power of
    /// two that covers `n`, so cycle walking takes fewer than 2 steps on
    /// average.
    hi_bits: u32,
    lo_bits: u32,
    keys: [u64; 4],
}

impl Perm {
    /// A permutation of `0..n` (n >= 1) keyed by `key`.
    pub fn new(n: u64, key: u64) -> Perm {
        let bits = (64 - n.saturating_sub(1).leading_zeros()).max(2);
        let hi_bits = bits / 2;
        Perm {
            n: n.max(1),
            hi_bits,
            lo_bits: bits - hi_bits,
            keys: [mix64(key), mix64(key ^ 1), mix64(key ^ 2), mix64(key ^ 3)],
        }
    }

    /// One multiply-xorshift: cheap, and mixes well enough to shuffle.
    #[inline]
    fn f(v: u64, k: u64) -> u64 {
        let h = (v ^ k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 32)
    }

    /// Four rounds of an alternating (unbalanced) Feistel network: each
    /// round changes one half by a function of the other, which is a
    /// bijection whatever the two widths are.
    #[inline]
    fn round(&self, x: u64) -> u64 {
        let lo_mask = (1u64 << self.lo_bits) - 1;
        let hi_mask = (1u64 << self.hi_bits) - 1;
        let (mut hi, mut lo) = (x >> self.lo_bits, x & lo_mask);
        lo ^= Self::f(hi, self.keys[0]) & lo_mask;
        hi ^= Self::f(lo, self.keys[1]) & hi_mask;
        lo ^= Self::f(hi, self.keys[2]) & lo_mask;
        hi ^= Self::f(lo, self.keys[3]) & hi_mask;
        (hi << self.lo_bits) | lo
    }

    /// The image of `i` (`i < n`).
    #[inline]
    pub fn apply(&self, i: u64) -> u64 {
        debug_assert!(i < self.n);
        let mut x = self.round(i);
        while x >= self.n {
            x = self.round(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invariant: `apply` is a bijection of 0..n for every n and key.
    #[test]
    fn is_a_bijection() {
        for n in [1u64, 2, 3, 7, 64, 1000, 4097, 20_000] {
            for key in [0u64, 1, 0xdead_beef] {
                let p = Perm::new(n, key);
                let mut seen = vec![false; n as usize];
                for i in 0..n {
                    let v = p.apply(i);
                    assert!(v < n);
                    assert!(!seen[v as usize], "n={n} key={key} i={i}");
                    seen[v as usize] = true;
                }
            }
        }
    }

    #[test]
    fn keys_give_different_orders() {
        let a: Vec<u64> = (0..50).map(|i| Perm::new(1000, 1).apply(i)).collect();
        let b: Vec<u64> = (0..50).map(|i| Perm::new(1000, 2).apply(i)).collect();
        assert_ne!(a, b);
    }
}
