//! `mask`: digits become keyed digits and letters keyed letters, while
//! punctuation, length and the kept ends (`keep_first`, `keep_last`) stay
//! as they were, so `+1 (415) 555-0123` is still shaped like a phone.

use rand::{RngExt, SeedableRng};

use super::{Lanes, Op};
use crate::scrub::keyed::{seed_of, Prf, Secret};
use crate::scrub::rules::Mask;
use crate::values::seed::Rng64;

/// The op masking the values of column `domain` (`users.phone`).
pub(super) fn compile(secret: &Secret, domain: &str, mask: Mask) -> Op {
    Op::Mask {
        prf: secret.prf("mask", domain),
        mask,
    }
}

/// The PRF of each value of a group.
pub(super) fn prepare<'v>(prf: &Prf, rows: usize, value: impl Fn(usize) -> Option<&'v str>, lanes: &mut Lanes) {
    lanes.keyed(prf, rows, value, |_, v| v.as_bytes());
}

/// Write `value` masked; `ahead` holds its PRF bits if prepared.
pub(super) fn write(prf: &Prf, mask: &Mask, value: &str, ahead: Option<[u8; 16]>, out: &mut String) {
    let bits = ahead.unwrap_or_else(|| prf.bytes(&[value.as_bytes()]));
    apply_mask(&bits, mask, value, out);
}

/// Digits become keyed digits and letters keyed letters (same case);
/// everything else, and the kept ends, stays.
/// A result equal to the input (four digits can come out the same) is
/// drawn again, so a masked value never keeps the original.
fn apply_mask(bits: &[u8; 16], mask: &Mask, value: &str, out: &mut String) {
    let start = out.len();
    let mut rng = Rng64::from_seed(seed_of(bits));
    for _ in 0..8 {
        out.truncate(start);
        mask_once(&mut rng, mask, value, out);
        if out[start..] != *value {
            break;
        }
    }
}

fn mask_once(rng: &mut Rng64, mask: &Mask, value: &str, out: &mut String) {
    // ASCII (phone numbers, card digits) skips UTF-8 decoding.
    if value.is_ascii() {
        mask_chars(rng, mask, value.bytes().map(char::from), out);
    } else {
        mask_chars(rng, mask, value.chars(), out);
    }
}

fn mask_chars(rng: &mut Rng64, mask: &Mask, chars: impl Iterator<Item = char> + Clone, out: &mut String) {
    let total = chars.clone().filter(|c| c.is_alphanumeric()).count();
    let keep_first = mask.keep_first as usize;
    let keep_last = mask.keep_last as usize;
    let mut seen = 0;
    for c in chars {
        if !c.is_alphanumeric() {
            out.push(c);
            continue;
        }
        let keep = seen < keep_first || seen + keep_last >= total;
        seen += 1;
        if keep {
            out.push(c);
            continue;
        }
        match mask.with {
            Some(w) => out.push(w),
            None if c.is_ascii_digit() => out.push(char::from(b'0' + rng.random_range(0..10u8))),
            None if c.is_uppercase() => out.push(char::from(b'A' + rng.random_range(0..26u8))),
            None => out.push(char::from(b'a' + rng.random_range(0..26u8))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_punctuation_and_the_kept_ends() {
        let prf = Secret::new(b"0123456789abcdef".to_vec()).prf("mask", "t.phone");
        let mut s = String::new();
        let m = Mask {
            keep_first: 0,
            keep_last: 2,
            with: None,
        };
        apply_mask(&prf.bytes(&[b"+1 (415) 555-0123"]), &m, "+1 (415) 555-0123", &mut s);
        assert!(s.starts_with("+") && s.ends_with("23") && s.len() == 17, "{s}");
        assert_eq!(&s[2..4], " (");
        let mut t = String::new();
        apply_mask(
            &prf.bytes(&[b"AB-1234"]),
            &Mask { with: Some('*'), ..m },
            "AB-1234",
            &mut t,
        );
        assert_eq!(t, "**-**34");
    }
}
