//! The `token` variable's id space: `n` distinct opaque ids spelled the way
//! production spells its ids (hex object ids, base62 tokens, ...). Id `k`
//! (1..=n) is a pure function of `k`, the length and the alphabet, and not
//! of the run's seed, so every run and every shard sees the same ids: a
//! database seeded with them, or a cache warmed by an earlier run, keeps
//! matching. Nothing of size `n` is kept; an id is computed when a request
//! needs it, straight into the request's buffer.
//!
//! Distinct ids are guaranteed rather than likely: `k` goes through a keyed
//! permutation ([`Perm`]) of the numbers the alphabet can spell in `len`
//! characters, and the result is written in that alphabet's base. When
//! that space is larger than 2^64, the permutation covers 2^64 − 1 numbers,
//! written in the last characters, and the leading ones are hashed from it.

use crate::values::perm::Perm;
use crate::values::seed::{derive_seed, mix64};

/// The characters an id is spelled with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::Display, strum::VariantNames,
)]
pub enum Alphabet {
    /// `0-9a-f`.
    #[strum(serialize = "hex")]
    Hex,
    /// `0-9A-F`.
    #[strum(serialize = "HEX")]
    HexUpper,
    /// `0-9`.
    #[strum(serialize = "digits")]
    Digits,
    /// `0-9a-zA-Z` (base62).
    #[strum(serialize = "alnum")]
    Alnum,
    /// `a-z`.
    #[strum(serialize = "lower")]
    Lower,
    /// `A-Za-z0-9-_` (RFC 4648's URL-safe base64).
    #[strum(serialize = "base64url")]
    Base64Url,
}

impl Alphabet {
    /// The characters, in the order digits take them.
    pub fn chars(self) -> &'static [u8] {
        match self {
            Alphabet::Hex => b"0123456789abcdef",
            Alphabet::HexUpper => b"0123456789ABCDEF",
            Alphabet::Digits => b"0123456789",
            Alphabet::Alnum => b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            Alphabet::Lower => b"abcdefghijklmnopqrstuvwxyz",
            Alphabet::Base64Url => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        }
    }

    /// Every alphabet's name, for error messages.
    pub fn names() -> String {
        <Alphabet as strum::VariantNames>::VARIANTS.join(", ")
    }
}

/// The longest id a `token` variable writes.
pub const MAX_TOKEN_LEN: usize = 256;

/// Why a token space cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// `len` out of range.
    #[error("the length must be between 1 and {MAX_TOKEN_LEN} (found {0})")]
    Len(u64),
    /// No id at all.
    #[error("needs n >= 1 ids")]
    Empty,
    /// More ids asked for than the alphabet can spell in `len` characters.
    #[error("{alphabet} spells only {space} distinct ids of length {len}, fewer than n = {n} (make `len` longer)")]
    TooSmall {
        /// The alphabet's name.
        alphabet: Alphabet,
        /// The length asked for.
        len: usize,
        /// How many ids that length can spell.
        space: u64,
        /// How many ids were asked for.
        n: u64,
    },
}

/// `n` distinct ids of `len` characters of one alphabet.
#[derive(Debug, Clone)]
pub struct TokenSpace {
    chars: &'static [u8],
    len: usize,
    n: u64,
    /// Characters that spell the permuted number; the other `len - digits`
    /// (leading) ones are hashed from it.
    digits: usize,
    /// `base^(digits - 1)`: below it, the number's lower digits.
    low: u64,
    perm: Perm,
    key: u64,
}

impl TokenSpace {
    /// The space of `n` ids of `len` characters of `alphabet`.
    pub fn new(len: u64, alphabet: Alphabet, n: u64) -> Result<Self, TokenError> {
        let len_ok = usize::try_from(len).ok().filter(|l| (1..=MAX_TOKEN_LEN).contains(l));
        let len = len_ok.ok_or(TokenError::Len(len))?;
        if n == 0 {
            return Err(TokenError::Empty);
        }
        let chars = alphabet.chars();
        let base = chars.len() as u64;
        // `len` is at most 256, so the exponents below fit a u32.
        let space = base.checked_pow(len as u32);
        let domain = space.unwrap_or(u64::MAX);
        if n > domain {
            return Err(TokenError::TooSmall {
                alphabet,
                len,
                space: domain,
                n,
            });
        }
        let digits = match space {
            Some(_) => len,
            // The fewest digits that spell every number below 2^64 - 1.
            None => (1..=len)
                .find(|d| base.checked_pow(*d as u32).is_none_or(|p| p == u64::MAX))
                .unwrap_or(len),
        };
        let key = derive_seed(len as u64, &format!("loadline.token.{alphabet}"));
        Ok(TokenSpace {
            chars,
            len,
            n,
            digits,
            low: base.pow(digits as u32 - 1),
            perm: Perm::new(domain, key),
            key,
        })
    }

    /// How many ids there are.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Append id `k` (1..=n; clamped into that range) to `out`. Allocates
    /// nothing once `out` has room for `len` more bytes.
    pub fn write(&self, k: u64, out: &mut Vec<u8>) {
        let base = self.chars.len() as u64;
        let mut u = self.perm.apply(k.clamp(1, self.n) - 1);
        for i in 0..(self.len - self.digits) {
            let h = mix64(u ^ mix64(self.key.wrapping_add(i as u64)));
            out.push(self.chars[(h % base) as usize]);
        }
        // With hashed leading characters, the top digit of `u` is spread
        // over the whole alphabet by an offset drawn from its lower digits
        // (which can be undone, so ids stay distinct).
        let offset = if self.digits < self.len {
            mix64((u % self.low) ^ self.key) % base
        } else {
            0
        };
        let start = out.len();
        out.resize(start + self.digits, 0);
        for pos in (0..self.digits).rev() {
            let mut d = u % base;
            u /= base;
            if pos == 0 {
                d = (d + offset) % base;
            }
            out[start + pos] = self.chars[d as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn token(space: &TokenSpace, k: u64) -> String {
        let mut out = Vec::new();
        space.write(k, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Invariant: id k is the same every time, has `len` characters of the
    /// alphabet, and distinct k give distinct ids, whether the alphabet's
    /// space fits 64 bits (hex 16, digits 6) or not (alnum 16, base64url 40).
    #[test]
    fn ids_are_stable_distinct_and_in_the_alphabet() {
        for (len, alphabet, n) in [
            (16, Alphabet::Hex, 10_000),
            (16, Alphabet::Alnum, 10_000),
            (40, Alphabet::Base64Url, 10_000),
            (24, Alphabet::HexUpper, 10_000),
            (6, Alphabet::Digits, 10_000),
            (4, Alphabet::Digits, 10_000),
            (3, Alphabet::Lower, 17_576),
            (1, Alphabet::Hex, 16),
        ] {
            let space = TokenSpace::new(len, alphabet, n).unwrap();
            let chars: HashSet<u8> = alphabet.chars().iter().copied().collect();
            let mut seen = HashSet::new();
            for k in 1..=n {
                let t = token(&space, k);
                assert_eq!(t.len() as u64, len, "{alphabet} {t}");
                assert!(t.bytes().all(|c| chars.contains(&c)), "{alphabet} {t}");
                assert!(seen.insert(t), "{alphabet} len {len}: id {k} repeats an earlier one");
            }
            assert_eq!(token(&space, 7), token(&TokenSpace::new(len, alphabet, n).unwrap(), 7));
        }
    }

    /// The ids do not depend on `n` or on anything of the run: a golden value
    /// catches any change to how they are spelled.
    #[test]
    fn ids_are_a_function_of_k_len_and_alphabet_only() {
        let a = TokenSpace::new(24, Alphabet::Hex, 50_000).unwrap();
        let b = TokenSpace::new(24, Alphabet::Hex, 7).unwrap();
        assert_eq!(token(&a, 3), token(&b, 3));
        assert_ne!(token(&a, 3), token(&a, 4));
        let c = TokenSpace::new(24, Alphabet::HexUpper, 50_000).unwrap();
        assert_ne!(token(&a, 3), token(&c, 3).to_lowercase());
        assert_eq!(token(&a, 1), "561f73e759de53cbe774d75a");
    }

    /// The leading characters of long ids are not constant and every
    /// position uses much of the alphabet.
    #[test]
    fn every_position_varies() {
        let space = TokenSpace::new(20, Alphabet::Alnum, 5000).unwrap();
        let ids: Vec<String> = (1..=5000).map(|k| token(&space, k)).collect();
        for pos in 0..20 {
            let distinct: HashSet<u8> = ids.iter().map(|t| t.as_bytes()[pos]).collect();
            assert!(distinct.len() > 50, "position {pos}: {} characters", distinct.len());
        }
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert_eq!(TokenSpace::new(0, Alphabet::Hex, 1).unwrap_err(), TokenError::Len(0));
        assert_eq!(
            TokenSpace::new(257, Alphabet::Hex, 1).unwrap_err(),
            TokenError::Len(257)
        );
        assert_eq!(TokenSpace::new(8, Alphabet::Hex, 0).unwrap_err(), TokenError::Empty);
        let e = TokenSpace::new(2, Alphabet::Hex, 257).unwrap_err();
        assert_eq!(
            e.to_string(),
            "hex spells only 256 distinct ids of length 2, fewer than n = 257 (make `len` longer)"
        );
        assert!(TokenSpace::new(256, Alphabet::Base64Url, u64::MAX - 1).is_ok());
        assert_eq!("HEX".parse::<Alphabet>(), Ok(Alphabet::HexUpper));
        assert!("Hex".parse::<Alphabet>().is_err());
    }
}
