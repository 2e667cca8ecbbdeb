//! `shift_date`: ISO dates moved by a keyed number of days, never zero.
//! The offset is keyed by the row's identity, one per row for every date
//! column with the same `max`, so intervals within a row are kept. The
//! calendar arithmetic (proleptic Gregorian, years 0000-9999) is here too.

use super::{Lanes, Op};
use crate::dates;
use crate::scrub::keyed::{first_u64, Prf, Secret};

/// The op of a `shift_date` rule for a column of table `table`.
pub(super) fn compile(secret: &Secret, table: &str, max_days: u32) -> Op {
    // One offset per row for every date column with the same
    // `max`, so intervals within a row are kept.
    Op::Shift {
        prf: secret.prf("shift", &format!("{table}/{max_days}")),
        max_days,
    }
}

/// The PRF of the identity of each row of a group that has a date;
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

/// Write the date `value` moved by its row's offset; `ahead` holds the PRF
/// bits of the row's `identity` if prepared.
pub(super) fn write(
    prf: &Prf,
    max_days: u32,
    identity: &[u8],
    value: &str,
    ahead: Option<[u8; 16]>,
    out: &mut String,
) -> Result<(), String> {
    let bits = ahead.unwrap_or_else(|| prf.bytes(&[identity]));
    let offset = day_offset(first_u64(&bits), max_days);
    shift_date(value, offset, out)
}

/// A non-zero offset in [-max, max] days.
fn day_offset(bits: u64, max_days: u32) -> i64 {
    let span = 2 * u64::from(max_days);
    let k = (bits % span) as i64; // 0..2max
    let max = i64::from(max_days);
    if k < max {
        k - max // -max..-1
    } else {
        k - max + 1 // 1..max
    }
}

/// `YYYY-MM-DD`, optionally followed by a time (`T10:30:00Z`,
/// ` 10:30:00+02`): the date moves, the rest is kept as written.
fn shift_date(value: &str, days: i64, out: &mut String) -> Result<(), String> {
    let bad = || "`shift_date` needs ISO dates (YYYY-MM-DD…); this is not one".to_string();
    let b = value.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || !(b.len() == 10 || b[10] == b'T' || b[10] == b' ') {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return Err(bad());
    };
    let (m, d) = (m as u32, d as u32);
    if !(1..=12).contains(&m) || d < 1 || d > dates::days_in_month(y, m) {
        return Err(bad());
    }
    let (y2, m2, d2) = dates::civil_from_days(dates::days_from_civil(y, m, d) + days);
    let (m2, d2) = (i64::from(m2), i64::from(d2));
    if !(0..=9999).contains(&y2) {
        return Err(format!("moving it by {days} days leaves the years 0000-9999"));
    }
    // YYYY-MM-DD: four, two and two digits (the year is in 0..=9999).
    let mut date = *b"0000-00-00";
    for (at, width, mut n) in [(0, 4, y2), (5, 2, m2), (8, 2, d2)] {
        for i in (at..at + width).rev() {
            date[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    out.push_str(std::str::from_utf8(&date).unwrap_or_default());
    out.push_str(&value[10..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_move_by_a_non_zero_offset_within_max() {
        for bits in [0u64, 1, 29, 30, 59, u64::MAX] {
            let d = day_offset(bits, 30);
            assert!(d != 0 && (-30..=30).contains(&d), "{d}");
        }
        let mut s = String::new();
        shift_date("2024-02-28T10:00:00Z", 2, &mut s).unwrap();
        assert_eq!(s, "2024-03-01T10:00:00Z");
        // Against jiff over a span of dates and offsets.
        for start in ["1900-02-28", "1999-12-31", "2000-02-29", "2024-12-31"] {
            let date: jiff::civil::Date = start.parse().unwrap();
            for days in [-400i64, -31, -1, 1, 30, 366, 1000] {
                let mut got = String::new();
                shift_date(start, days, &mut got).unwrap();
                let want = date.checked_add(jiff::Span::new().days(days)).unwrap().to_string();
                assert_eq!(got, want, "{start} {days}");
            }
        }
        assert!(shift_date("2023-02-29", 1, &mut String::new()).is_err());
        assert!(shift_date("28/02/2024", 2, &mut String::new()).is_err());
    }
}
