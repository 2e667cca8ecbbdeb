//! Units written the way people write them: `250ms`, `2000/s`, `0.1%`, `10k`.
//!
//! One `FromStr` per unit, used by both clap (command-line flags) and serde
//! (profile files), so a value means the same thing wherever it is written.
//! Each type also implements `Display` in a form that parses back to the
//! same value.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Why a unit did not parse. The message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`: {hint}")]
pub struct UnitError {
    /// The kind of value expected: `duration`, `rate`, ...
    pub what: &'static str,
    /// The text as written.
    pub input: String,
    /// An example of what would have been read.
    pub hint: &'static str,
}

fn unit_err(what: &'static str, input: &str, hint: &'static str) -> UnitError {
    UnitError {
        what,
        input: input.to_string(),
        hint,
    }
}

/// Parse a plain number with an optional `k`/`m` suffix (thousands, millions).
fn parse_scaled(s: &str) -> Option<f64> {
    let s = s.trim().replace('_', "");
    let (num, mul) = match s.strip_suffix(['k', 'K']) {
        Some(n) => (n.to_string(), 1e3),
        None => match s.strip_suffix('M') {
            Some(n) => (n.to_string(), 1e6),
            None => (s.clone(), 1.0),
        },
    };
    let v: f64 = num.trim().parse().ok()?;
    v.is_finite().then_some(v * mul)
}

/// A span of time: `250ms`, `2s`, `1m30s`, `24h`, `1.5s`, `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub Duration);

impl Dur {
    /// The span in seconds.
    pub fn as_secs_f64(&self) -> f64 {
        self.0.as_secs_f64()
    }
}

/// The longest duration read: 36525 days (100 years). Longer ones are
/// refused: nothing loadline times runs that long, and past it the
/// display (`876600h`, nanoseconds) would no longer read back.
pub const MAX_DURATION: Duration = Duration::from_secs(36_525 * 86_400);

impl FromStr for Dur {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = parse_duration(s)?;
        if d.0 > MAX_DURATION {
            return Err(unit_err("duration", s, "a duration is at most 36525d (100 years)"));
        }
        Ok(d)
    }
}

fn parse_duration(s: &str) -> Result<Dur, UnitError> {
    const HINT: &str = "expected a duration such as `250ms`, `2s`, `1m30s` or `24h`";
    let t = s.trim();
    if t == "0" {
        return Ok(Dur(Duration::ZERO));
    }
    // jiff's friendly format reads `1m30s`, `250ms`, `2h`, `1.5s` and `30d`
    // (days of 24 hours). It takes a comma as the decimal separator, so
    // `1,000s` would be one second: refused instead. Fractional days and
    // the like are read below.
    if !t.contains(',') {
        let exact = jiff::fmt::friendly::SpanParser::new()
            .parse_span(t)
            .and_then(|span| span.to_duration(jiff::SpanRelativeTo::days_are_24_hours()));
        if let Some(d) = exact.ok().and_then(|d| Duration::try_from(d).ok()) {
            return Ok(Dur(d));
        }
    }
    for (suffix, secs) in [
        ("ms", 1e-3),
        ("us", 1e-6),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
        ("d", 86400.0),
    ] {
        if let Some(n) = t.strip_suffix(suffix) {
            if let Ok(v) = n.trim().parse::<f64>() {
                // `try_`: `1e30s` is past what a Duration holds.
                if let Ok(d) = Duration::try_from_secs_f64(v * secs) {
                    return Ok(Dur(d));
                }
            }
        }
    }
    Err(unit_err("duration", s, HINT))
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_zero() {
            return f.write_str("0s");
        }
        let ns = d.as_nanos();
        if ns % 1_000_000_000 == 0 {
            let s = d.as_secs();
            if s % 3600 == 0 {
                write!(f, "{}h", s / 3600)
            } else if s % 60 == 0 {
                write!(f, "{}m", s / 60)
            } else {
                write!(f, "{s}s")
            }
        } else if ns % 1_000_000 == 0 {
            write!(f, "{}ms", ns / 1_000_000)
        } else if ns % 1_000 == 0 {
            write!(f, "{}us", ns / 1_000)
        } else {
            write!(f, "{ns}ns")
        }
    }
}

/// A rate of events per second: `2000/s`, `120/m`, `10k/s`, `5/h`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Rate(f64);

impl Rate {
    /// `v` events per second.
    pub fn per_sec(v: f64) -> Self {
        Rate(v)
    }

    /// The rate in events per second.
    pub fn as_per_sec(&self) -> f64 {
        self.0
    }
}

impl FromStr for Rate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const HINT: &str = "expected a rate such as `2000/s`, `120/m` or `10k/s`";
        let t = s.trim();
        let (num, per) = t.split_once('/').ok_or_else(|| unit_err("rate", s, HINT))?;
        let per_secs = match per.trim() {
            "s" | "sec" | "1s" => 1.0,
            "m" | "min" | "1m" => 60.0,
            "h" | "1h" => 3600.0,
            other => other
                .parse::<Dur>()
                .map(|d| d.as_secs_f64())
                .ok()
                .filter(|v| *v > 0.0)
                .ok_or_else(|| unit_err("rate", s, HINT))?,
        };
        let v = parse_scaled(num).ok_or_else(|| unit_err("rate", s, HINT))?;
        if v < 0.0 {
            return Err(unit_err("rate", s, "a rate cannot be negative"));
        }
        let rate = v / per_secs;
        if !rate.is_finite() {
            return Err(unit_err("rate", s, "a rate must be a finite number per second"));
        }
        Ok(Rate(rate))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

/// A fraction written as a percentage: `0.1%`, `99.9%`, `5%`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Percent(f64);

impl Percent {
    /// From a fraction (0.05 is 5%).
    pub fn from_fraction(v: f64) -> Self {
        Percent(v)
    }
    /// The value as a fraction (5% is 0.05).
    pub fn fraction(&self) -> f64 {
        self.0
    }
}

impl FromStr for Percent {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const HINT: &str = "expected a percentage such as `0.1%` or `5%`";
        let t = s.trim();
        let n = t.strip_suffix('%').ok_or_else(|| unit_err("percentage", s, HINT))?;
        let v: f64 = n.trim().parse().map_err(|_| unit_err("percentage", s, HINT))?;
        if !(0.0..=100.0).contains(&v) {
            return Err(unit_err("percentage", s, "a percentage lies between 0% and 100%"));
        }
        Ok(Percent(v / 100.0))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `x * 100 / 100` may miss `x` by a unit in the last place: then a
        // neighbour of `x * 100` is written, the one that reads back as `x`.
        let pct = self.0 * 100.0;
        let neighbours = [0i64, 1, -1, 2, -2].map(|d| f64::from_bits(pct.to_bits().wrapping_add_signed(d)));
        let shown = neighbours
            .into_iter()
            .find(|p| p.is_finite() && *p / 100.0 == self.0)
            .unwrap_or(pct);
        write!(f, "{shown}%")
    }
}

/// A count: `64`, `10k`, `1.5M`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Count(pub u64);

impl FromStr for Count {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const HINT: &str = "expected a whole number such as `64` or `10k`";
        let v = parse_scaled(s).ok_or_else(|| unit_err("count", s, HINT))?;
        if v < 0.0 || v.fract() != 0.0 || v > u64::MAX as f64 {
            return Err(unit_err("count", s, HINT));
        }
        Ok(Count(v as u64))
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A read/write split such as `85/15` (any two non-negative numbers; they
/// are normalised, so `17/3` is the same split).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Split {
    /// The reads' share, from 0 to 1.
    pub read: f64,
    /// The writes' share, from 0 to 1; the two add up to 1.
    pub write: f64,
}

impl FromStr for Split {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const HINT: &str = "expected a read/write split such as `85/15`";
        let (r, w) = s.split_once('/').ok_or_else(|| unit_err("read/write split", s, HINT))?;
        let read: f64 = r
            .trim()
            .trim_end_matches('%')
            .parse()
            .map_err(|_| unit_err("read/write split", s, HINT))?;
        let write: f64 = w
            .trim()
            .trim_end_matches('%')
            .parse()
            .map_err(|_| unit_err("read/write split", s, HINT))?;
        if !(read >= 0.0 && write >= 0.0 && read + write > 0.0 && (read + write).is_finite()) {
            return Err(unit_err(
                "read/write split",
                s,
                "both parts must be non-negative and not both zero",
            ));
        }
        let total = read + write;
        Ok(Split {
            read: read / total,
            write: write / total,
        })
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.read * 100.0, self.write * 100.0)
    }
}

/// serde support for every unit: accept a string in the unit's syntax; for
/// counts also a bare integer, for durations a bare `0`.
macro_rules! serde_via_str {
    ($t:ty, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                        v.to_string().parse().map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                        v.to_string().parse().map_err(E::custom)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$t, E> {
                        v.to_string().parse().map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

serde_via_str!(Dur, "a duration such as `250ms` or `2s`");
serde_via_str!(Rate, "a rate such as `2000/s`");
serde_via_str!(Percent, "a percentage such as `0.1%`");
serde_via_str!(Count, "a whole number such as `64` or `10k`");
serde_via_str!(Split, "a read/write split such as `85/15`");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_written() {
        assert_eq!("250ms".parse::<Dur>().unwrap().0, Duration::from_millis(250));
        assert_eq!("2s".parse::<Dur>().unwrap().0, Duration::from_secs(2));
        assert_eq!("1m30s".parse::<Dur>().unwrap().0, Duration::from_secs(90));
        assert_eq!("1.5s".parse::<Dur>().unwrap().0, Duration::from_millis(1500));
        assert_eq!("24h".parse::<Dur>().unwrap().0, Duration::from_secs(86400));
        assert_eq!("0".parse::<Dur>().unwrap().0, Duration::ZERO);
        assert!("fast".parse::<Dur>().is_err());
        assert!("-1s".parse::<Dur>().is_err());
        assert!("1s ago".parse::<Dur>().is_err());
        assert!("1,000s".parse::<Dur>().is_err(), "a comma is not a thousands separator");
        for (text, secs) in [
            ("1h 30m", 5400.0),
            ("5min", 300.0),
            ("2 hours", 7200.0),
            ("1 hour 2 minutes", 3720.0),
            ("30d", 30.0 * 86400.0),
            ("1d12h", 129_600.0),
            ("1.5d", 129_600.0),
            ("0.5m", 30.0),
            ("100us", 1e-4),
            ("1m 30s 250ms", 90.25),
        ] {
            assert_eq!(text.parse::<Dur>().unwrap().0, Duration::from_secs_f64(secs), "{text}");
        }
    }

    #[test]
    fn rates_parse_as_written() {
        assert_eq!("2000/s".parse::<Rate>().unwrap().as_per_sec(), 2000.0);
        assert_eq!("120/m".parse::<Rate>().unwrap().as_per_sec(), 2.0);
        assert_eq!("10k/s".parse::<Rate>().unwrap().as_per_sec(), 10_000.0);
        assert_eq!("30/10s".parse::<Rate>().unwrap().as_per_sec(), 3.0);
        assert!("2000".parse::<Rate>().is_err());
        assert!("fast/s".parse::<Rate>().is_err());
    }

    #[test]
    fn percents_and_counts_and_splits() {
        assert!(("0.1%".parse::<Percent>().unwrap().fraction() - 0.001).abs() < 1e-12);
        assert!("120%".parse::<Percent>().is_err());
        assert!("5".parse::<Percent>().is_err());
        assert_eq!("10k".parse::<Count>().unwrap().0, 10_000);
        assert!("1.5".parse::<Count>().is_err());
        let s: Split = "85/15".parse().unwrap();
        assert!((s.read - 0.85).abs() < 1e-12 && (s.write - 0.15).abs() < 1e-12);
        assert!("0/0".parse::<Split>().is_err());
    }

    /// Invariant: every unit's `Display` parses back to the same value.
    #[test]
    fn display_round_trips() {
        for s in ["250ms", "2s", "90s", "24h", "1500us", "0s", "7ns"] {
            let d: Dur = s.parse().unwrap();
            assert_eq!(d.to_string().parse::<Dur>().unwrap(), d, "{s}");
        }
        for s in ["2000/s", "120/m", "0.5/s"] {
            let r: Rate = s.parse().unwrap();
            assert_eq!(r.to_string().parse::<Rate>().unwrap(), r, "{s}");
        }
        for s in ["0.1%", "99.9%", "5%"] {
            let p: Percent = s.parse().unwrap();
            let back: Percent = p.to_string().parse().unwrap();
            assert!((back.fraction() - p.fraction()).abs() < 1e-12, "{s}");
        }
        let c: Count = "10k".parse().unwrap();
        assert_eq!(c.to_string().parse::<Count>().unwrap(), c);
    }

    /// What a fuzzer found: a duration past what a Duration holds panicked;
    /// one past 100 years displayed as text that did not read back; a rate
    /// per nanosecond could be infinite; a percentage displayed as its
    /// value times 100 read back a unit in the last place off.
    #[test]
    fn extremes_are_refused_and_values_read_back() {
        for text in ["1e30s", "1e300h", "36526d", "3155760001s"] {
            assert!(text.parse::<Dur>().is_err(), "{text}");
        }
        assert_eq!("36525d".parse::<Dur>().unwrap().0, MAX_DURATION);
        assert!("1e308/1ns".parse::<Rate>().is_err());
        for i in 0..=100_000 {
            let text = format!("{}%", f64::from(i) / 1000.0);
            let p: Percent = text.parse().unwrap();
            assert_eq!(p.to_string().parse::<Percent>().unwrap(), p, "{text}");
        }
        let d: Dur = "3000000000.3s".parse().unwrap();
        assert_eq!(d.to_string().parse::<Dur>().unwrap(), d);
    }
}
