//! `pseudonymize`: keyed, deterministic, one-to-one pseudonyms. Integers
//! keep their sign and digit count (a format-preserving permutation),
//! UUIDs stay UUID-shaped, emails become addresses at reserved domains and
//! text a keyed token. The rules resolve `same_as` to the domain of the
//! column whose pseudonyms it shares, so both are keyed alike here.

use std::fmt::Write as _;

use super::{Lanes, Op};
use crate::scrub::keyed::{base32_into, first_u64, Permutation, Prf, Secret, LANES};
use crate::scrub::rules::PseudoKind;

/// The op making pseudonyms of `kind` in `domain` (`users.id`; for a
/// `same_as` column, the domain of the column it shares).
pub(super) fn compile(secret: &Secret, kind: PseudoKind, domain: &str) -> Op {
    match kind {
        PseudoKind::Integer => Op::Integer(Permutation::new(secret, domain)),
        PseudoKind::Uuid => Op::Uuid(Permutation::new(secret, domain)),
        PseudoKind::Email => Op::Email(secret.prf("email", domain)),
        PseudoKind::Text => Op::Text(secret.prf("text", domain)),
    }
}

/// The permutation's image of each integer of a group, [`LANES`] at a
/// time; a value that is not an integer gets no lane (it is rejected when
/// written).
pub(super) fn prepare_integer<'v>(
    p: &Permutation,
    rows: usize,
    value: impl Fn(usize) -> Option<&'v str>,
    lanes: &mut Lanes,
) {
    let mut inputs = [(0u64, 0u64, 0u64); LANES];
    for k in 0..rows {
        if let Some(lane) = value(k).and_then(|v| IntLane::parse(v).ok()) {
            (inputs[lanes.m], lanes.at[lanes.m]) = ((lane.x, lane.size, lane.tweak), k);
            lanes.m += 1;
        }
    }
    let mut ys = [0u64; LANES];
    p.permute_many(&inputs[..lanes.m], &mut ys[..lanes.m]);
    for (b, y) in lanes.bits.iter_mut().zip(&ys[..lanes.m]) {
        b[..8].copy_from_slice(&y.to_le_bytes());
    }
}

/// The PRF of each email's [`mailbox`] in a group; `lowered[k]` is left
/// holding row `k`'s.
pub(super) fn prepare_email<'v>(
    prf: &Prf,
    rows: usize,
    value: impl Fn(usize) -> Option<&'v str>,
    lowered: &mut [String],
    lanes: &mut Lanes,
) {
    for (k, lower) in lowered.iter_mut().enumerate().take(rows) {
        if let Some(v) = value(k) {
            mailbox(v, lower);
        }
    }
    lanes.keyed(prf, rows, value, |k, _| lowered[k].as_bytes());
}

/// The PRF of each text value of a group.
pub(super) fn prepare_text<'v>(prf: &Prf, rows: usize, value: impl Fn(usize) -> Option<&'v str>, lanes: &mut Lanes) {
    lanes.keyed(prf, rows, value, |_, v| v.as_bytes());
}

/// Write the pseudonym of the integer `value`; `ahead` holds its image if
/// [`prepare_integer`] made one.
pub(super) fn write_integer(
    p: &Permutation,
    value: &str,
    ahead: Option<[u8; 16]>,
    out: &mut String,
) -> Result<(), String> {
    pseudo_integer(p, value, ahead.map(|b| first_u64(&b)), out)
}

/// Write the pseudonym of the email `value` (`ahead`: its PRF bits, if
/// prepared; `lower`: a buffer). Returns the tag and input bits for the
/// run's collision check.
pub(super) fn write_email(
    prf: &Prf,
    value: &str,
    ahead: Option<[u8; 16]>,
    lower: &mut String,
    out: &mut String,
) -> (u64, u64) {
    let b = ahead.unwrap_or_else(|| {
        mailbox(value, lower);
        prf.bytes(&[lower.as_bytes()])
    });
    pseudo_email(&b, out)
}

/// Write the pseudonym of the text `value` (`ahead`: its PRF bits, if
/// prepared). Returns the tag and input bits for the run's collision check.
pub(super) fn write_text(prf: &Prf, value: &str, ahead: Option<[u8; 16]>, out: &mut String) -> (u64, u64) {
    pseudo_text(&ahead.unwrap_or_else(|| prf.bytes(&[value.as_bytes()])), out)
}

/// Integers keep their sign and digit count: the permutation runs inside
/// the set of numbers with as many digits (so `42` stays two digits and a
/// bigint stays in range). A leading zero (`007`) is kept and the other
/// digits permuted as a digit string. `y` is the permutation's image of
/// the value, if already computed (see [`super::TablePlan::prepare`]).
fn pseudo_integer(p: &Permutation, value: &str, y: Option<u64>, out: &mut String) -> Result<(), String> {
    let lane = IntLane::parse(value)?;
    lane.write(y.unwrap_or_else(|| p.permute(lane.x, lane.size, lane.tweak)), out);
    Ok(())
}

/// An integer as its permutation sees it: `x` in `[0, size)` under
/// `tweak`, and how to write the image back.
struct IntLane {
    x: u64,
    size: u64,
    tweak: u64,
    /// Added to the image (the smallest number of the digit class).
    lo: u64,
    sign: &'static str,
    /// With a leading zero: the digits after it, written zero-padded.
    padded: Option<usize>,
}

impl IntLane {
    fn parse(value: &str) -> Result<IntLane, String> {
        let (neg, digits) = match value.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, value.strip_prefix('+').unwrap_or(value)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("`as: integer` needs whole numbers; this is not one".to_string());
        }
        let sign = if neg {
            "-"
        } else if value.starts_with('+') {
            "+"
        } else {
            ""
        };
        let n = digits.len();
        if n > 1 && digits.starts_with('0') {
            // 0 followed by n-1 digits: a permutation of the 10^(n-1) strings.
            if n - 1 > 19 {
                return Err("`as: integer`: more than 20 digits; use `as: text`".to_string());
            }
            return Ok(IntLane {
                x: digits[1..].parse().map_err(|_| "not a number".to_string())?,
                size: 10u64.pow((n - 1) as u32),
                tweak: tweak(neg, n as u32, true),
                lo: 0,
                sign,
                padded: Some(n - 1),
            });
        }
        let x: u64 = digits
            .parse()
            .map_err(|_| "`as: integer`: more than 64 bits; use `as: text`".to_string())?;
        let (lo, hi) = class(neg, n as u32, x);
        Ok(IntLane {
            x: x - lo,
            size: hi - lo + 1,
            tweak: tweak(neg, n as u32, false) | (u64::from(n == 19 && lo > 10u64.pow(18)) << 10),
            lo,
            sign,
            padded: None,
        })
    }

    fn write(&self, y: u64, out: &mut String) {
        out.push_str(self.sign);
        let mut buf = itoa::Buffer::new();
        match self.padded {
            Some(width) => {
                let y = buf.format(y);
                out.push('0');
                out.extend(std::iter::repeat_n('0', width - y.len()));
                out.push_str(y);
            }
            None => out.push_str(buf.format(self.lo + y)),
        }
    }
}

/// The numbers an `n`-digit magnitude `x` is permuted among: all `n`-digit
/// numbers, with the 19-digit ones split at the i64 limit (so an i64 stays
/// an i64, and a u64 beyond it stays beyond it).
fn class(neg: bool, n: u32, x: u64) -> (u64, u64) {
    let lo = if n == 1 { 0 } else { 10u64.pow(n - 1) };
    let limit = if neg { 1u64 << 63 } else { i64::MAX as u64 };
    match n {
        19 if x <= limit => (lo, limit),
        19 => (limit + 1, 10u64.pow(19) - 1),
        20 => (10u64.pow(19), u64::MAX),
        _ => (lo, 10u64.pow(n) - 1),
    }
}

fn tweak(neg: bool, digits: u32, leading_zero: bool) -> u64 {
    u64::from(digits) | (u64::from(neg) << 8) | (u64::from(leading_zero) << 9)
}

/// A UUID (any case, with or without hyphens) encrypted as 128 bits and
/// written lowercase with hyphens.
pub(super) fn pseudo_uuid(p: &Permutation, value: &str, out: &mut String) -> Result<(), String> {
    let hex: Vec<u8> = value.bytes().filter(|b| *b != b'-').collect();
    let bad = || "`as: uuid` needs UUIDs; this is not one".to_string();
    if hex.len() != 32 {
        return Err(bad());
    }
    let mut block = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| bad())?;
        block[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
    }
    let y = p.encrypt128(block);
    for (i, b) in y.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
    Ok(())
}

/// `name.tag@example.com`: a first name, 60 keyed bits in base32, and a
/// reserved domain (RFC 2606), so a pseudonym can never be a real address
/// and verify can tell one from a leak. Returns the tag (the 60 bits
/// written and the domain choice) and 64 other keyed bits of the address
/// (trimmed, lowercase).
/// What an email pseudonym is keyed by: `Jane.Doe@x.com` and
/// `jane.doe@x.com` are one mailbox, so they get one pseudonym.
fn mailbox(value: &str, lower: &mut String) {
    let value = crate::scrub::known::trim(value);
    lower.clear();
    if value.is_ascii() {
        lower.push_str(value);
        lower.make_ascii_lowercase();
    } else {
        lower.push_str(&value.to_lowercase());
    }
}

/// An address at a reserved domain from the PRF's bytes of the
/// [`mailbox`]. Returns the tag and keyed input bits, as
/// [`pseudo_text`] does.
fn pseudo_email(b: &[u8; 16], out: &mut String) -> (u64, u64) {
    use fake::locales::{Data, EN};
    let names = <EN as Data>::NAME_FIRST_NAME;
    let pick = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize % names.len().max(1);
    for c in names.get(pick).copied().unwrap_or("user").chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
    }
    out.push('.');
    base32_into(&b[8..16], 12, out);
    out.push_str(match b[4] % 3 {
        0 => "@example.com",
        1 => "@example.net",
        _ => "@example.org",
    });
    // base32_into wrote the top 60 bits of bytes 8..16, big-endian. The
    // other keyed bytes tell two addresses apart (differing in all 128
    // bits but the tag's happens about once in 2^124).
    let tag = u64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]) >> 4;
    let input = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    (tag << 2 | u64::from(b[4] % 3), input)
}

/// A 16-character keyed token (80 bits). Returns its first 64 bits (the
/// tag) and the last keyed 64 bits (which tell two inputs apart).
fn pseudo_text(b: &[u8; 16], out: &mut String) -> (u64, u64) {
    base32_into(&b[..10], 16, out);
    (
        u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm() -> Permutation {
        Permutation::new(&Secret::new(b"0123456789abcdef".to_vec()), "t.id")
    }

    fn int(v: &str) -> String {
        let mut s = String::new();
        pseudo_integer(&perm(), v, None, &mut s)
            .map(|_| s)
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn integers_keep_sign_and_digit_count() {
        for v in [
            "7",
            "42",
            "123456",
            "-981",
            "9223372036854775807",
            "18446744073709551615",
            "007",
            "0",
        ] {
            let out = int(v);
            assert_eq!(out.len(), v.len(), "{v} -> {out}");
            assert_eq!(out.starts_with('-'), v.starts_with('-'));
            if v.len() > 1 {
                assert_eq!(out.starts_with('0'), v.starts_with('0'), "{v} -> {out}");
            }
        }
        assert!(int("9223372036854775807").parse::<i64>().is_ok());
        // Past i64::MAX, 19-digit numbers stay past it (and 19 digits).
        for v in ["9223372036854775808", "9999999999999999999", "12345678901234567890"] {
            let out: u64 = int(v).parse().unwrap();
            assert!(
                out > i64::MAX as u64 && out.to_string().len() == v.len(),
                "{v} -> {out}"
            );
        }
        assert_eq!(int("+42").len(), 3);
        assert!(int("12a").contains("whole numbers"));
        assert_eq!(int("42"), int("42"));
    }

    #[test]
    fn integers_are_one_to_one_within_a_digit_count() {
        let mut seen = std::collections::HashSet::new();
        for x in 100..1000 {
            assert!(seen.insert(int(&x.to_string())));
        }
        assert!(seen.iter().all(|s| s.len() == 3 && !s.starts_with('0')));
    }

    #[test]
    fn emails_are_valid_and_at_reserved_domains() {
        let prf = Secret::new(b"0123456789abcdef".to_vec()).prf("email", "users.email");
        let email = |v: &str| {
            let (mut lower, mut out) = (String::new(), String::new());
            mailbox(v, &mut lower);
            pseudo_email(&prf.bytes(&[lower.as_bytes()]), &mut out);
            out
        };
        let a = email("Maria.Garcia@gmail.com");
        assert_eq!(a, email("maria.garcia@gmail.com"));
        // Non-ASCII addresses are lowercased by Unicode rules.
        assert_eq!(email("ÉLODIE@exemple.fr"), email("élodie@exemple.fr"));
        let (local, domain) = a.split_once('@').unwrap();
        assert!(domain.starts_with("example."), "{a}");
        assert!(local.len() > 13 && local.is_ascii());
    }
}
