//! `noise`: numbers multiplied by a keyed factor in [1 - r, 1 + r] and
//! written with as many decimals as they had. The factor is keyed by the
//! row's identity, so the same row gets the same noise in every run.

use std::fmt::Write as _;

use super::{Lanes, Op};
use crate::scrub::keyed::{first_u64, Prf, Secret};

/// The op adding noise to the values of column `domain` (`orders.total`).
pub(super) fn compile(secret: &Secret, domain: &str, relative: f64) -> Op {
    Op::Noise {
        prf: secret.prf("noise", domain),
        relative,
    }
}

/// The PRF of the identity of each row of a group that has a number;
/// `identities[k]` is row `k`'s.
pub(super) fn prepare<'v>(
    prf: &Prf,
    rows: usize,
    value: impl Fn(usize) -> Option<&'v str>,
    identities: &[Vec<u8>],
    lanes: &mut Lanes,
) {
    lanes.keyed(prf, rows, value, |k, _| identities[k].as_slice());
}

/// Write the number `value` with its row's noise; `ahead` holds the PRF
/// bits of the row's `identity` if prepared.
pub(super) fn write(
    prf: &Prf,
    relative: f64,
    identity: &[u8],
    value: &str,
    ahead: Option<[u8; 16]>,
    out: &mut String,
) -> Result<(), String> {
    let bits = ahead.unwrap_or_else(|| prf.bytes(&[identity]));
    let u = unit_interval(first_u64(&bits));
    add_noise(value, relative, u, out)
}

/// A value in [-1, 1) from 64 bits.
fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// `value * (1 + relative * u)`, written with as many decimals as the input.
fn add_noise(value: &str, relative: f64, u: f64, out: &mut String) -> Result<(), String> {
    let v = value.trim();
    let bad = || "`noise` needs numbers; this is not one".to_string();
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let x: f64 = v.parse().map_err(|_| bad())?;
    let y = x * (1.0 + relative * u);
    if frac.is_empty() && !v.contains('.') {
        let r = y.round();
        if r.abs() >= 9.0e15 {
            return Err("too large to add noise exactly".to_string());
        }
        out.push_str(itoa::Buffer::new().format(r as i64));
    } else {
        let _ = write!(out, "{y:.prec$}", prec = frac.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_keeps_the_number_format() {
        let mut s = String::new();
        add_noise("1000", 0.05, 1.0, &mut s).unwrap();
        assert_eq!(s, "1050");
        s.clear();
        add_noise("12.50", 0.1, -1.0, &mut s).unwrap();
        assert_eq!(s, "11.25");
        assert!(add_noise("12,50", 0.1, 0.5, &mut String::new()).is_err());
        assert!(add_noise("-", 0.1, 0.5, &mut String::new()).is_err());
    }
}
