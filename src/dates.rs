//! Calendar arithmetic on the proleptic Gregorian calendar, as days since
//! 1970-01-01: the one place for it. Parsing and validating dates people
//! write is jiff's job (schemas, `scan`); these two conversions run once per
//! value on hot paths (every timestamp `synth` writes, every date `scrub`
//! shifts), where a calendar crate's types cost several times more per
//! value, so they are Howard Hinnant's `days_from_civil` / `civil_from_days`,
//! tested against jiff.

/// Days since 1970-01-01 of year `y`, month `m` (1–12), day `d` (1–31).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let (m, d) = (i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month (1–12) and day (1–31) of `z` days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days in month `m` (1–12) of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `t` in RFC 3339, UTC, with `decimals` digits of the second (0 to 9):
/// `2026-12-04T22:24:21.950Z` for 3. Run summaries and result folder names
/// are stamped with it.
pub fn rfc3339(t: std::time::SystemTime, decimals: usize) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => format!("{ts:.decimals$}"),
        // Outside jiff's range (years -9999 to 9999): not a clock reading.
        Err(_) => format!("{:.decimals$}", jiff::Timestamp::UNIX_EPOCH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds for summaries, whole seconds for folder names.
    #[test]
    fn rfc3339_stamps() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_796_422_661_950);
        assert_eq!(rfc3339(t, 3), "2026-12-04T22:17:41.950Z");
        assert_eq!(rfc3339(t, 0), "2026-12-04T22:17:41Z");
        assert_eq!(rfc3339(std::time::UNIX_EPOCH, 3), "1970-01-01T00:00:00.000Z");
    }

    /// Invariant: both conversions agree with jiff on every day from
    /// 0001-01-01 to 9999-12-31, and days_in_month with jiff's month lengths.
    #[test]
    fn the_conversions_agree_with_jiff_on_every_day() {
        let first: jiff::civil::Date = "0001-01-01".parse().unwrap();
        let epoch: jiff::civil::Date = "1970-01-01".parse().unwrap();
        let z0 = (first - epoch).get_days() as i64;
        let mut date = first;
        let mut last = z0;
        for z in z0.. {
            last = z;
            let (y, m, d) = (i64::from(date.year()), date.month() as u32, date.day() as u32);
            assert_eq!(civil_from_days(z), (y, m, d), "{date}");
            assert_eq!(days_from_civil(y, m, d), z, "{date}");
            assert_eq!(days_in_month(y, m), date.days_in_month() as u32, "{date}");
            match date.tomorrow() {
                Ok(next) if next.year() <= 9999 => date = next,
                _ => break,
            }
        }
        assert_eq!((z0, last), (-719_162, 2_932_896), "0001-01-01 to 9999-12-31");
    }
}
