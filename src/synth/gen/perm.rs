//! A keyed permutation of `0..n`: a balanced Feistel network over the
//! smallest even number of bits that covers `n`, with cycle walking to stay
//! inside the domain. It is how `unique: true` columns are built: row `i`
//! gets value number `perm(i)`, so values never repeat, never need a "seen"
//! set, and do not look sequential.

use crate::values::seed::mix64;

#[derive(Debug, Clone, Copy)]
pub struct Perm {
    n: u64,
    half_bits: u32,
    mask: u64,
    key: u64,
}

impl Perm {
    /// A permutation of `0..n` (n >= 1) keyed by `key`.
    pub fn new(n: u64, key: u64) -> Perm {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        Perm {
            n: n.max(1),
            half_bits,
            mask: (1u64 << half_bits) - 1,
            key,
        }
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    #[inline]
    fn round(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half_bits, x & self.mask);
        for k in 0..4u64 {
            let f = mix64(r ^ self.key.wrapping_add(k.wrapping_mul(0x9e37_79b9_7f4a_7c15))) & self.mask;
            (l, r) = (r, l ^ f);
        }
        (l << self.half_bits) | r
    }

    /// The image of `i` (`i < n`). The Feistel domain is less than 4n, so
    /// the walk takes fewer than 4 rounds on average.
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
