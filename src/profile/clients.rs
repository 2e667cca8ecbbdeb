//! Client classes: a share of arrivals that behave like slow or abandoning
//! clients (send the request slowly, read the response slowly, close before
//! the response ends), declared in a profile's `clients:` section.
//!
//! Which class an arrival belongs to is a pure function of the seed and the
//! request's number, drawn from its own stream (not the request's RNG), so
//! adding a `clients:` section changes neither which endpoints nor which
//! tenants the normal arrivals hit; the same seed picks the same arrivals.

use std::time::Duration;

use crate::values::seed::mix64;

/// A pace: `chunk` bytes, then a pause of `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Bytes written (or read) at a time, at least 1.
    pub chunk: u32,
    /// Pause between two chunks, longer than 0.
    pub every: Duration,
}

impl Pace {
    /// The pace of `bytes_per_s`: a tenth of it every 100 ms (a byte at a
    /// time, further apart, below 10 bytes/s).
    pub fn per_second(bytes_per_s: f64) -> Pace {
        if bytes_per_s >= 10.0 {
            Pace {
                chunk: (bytes_per_s / 10.0).round().clamp(1.0, f64::from(u32::MAX)) as u32,
                every: Duration::from_millis(100),
            }
        } else {
            Pace {
                chunk: 1,
                every: Duration::from_secs_f64(1.0 / bytes_per_s),
            }
        }
    }

    /// Bytes per second this pace moves.
    pub fn bytes_per_s(&self) -> f64 {
        f64::from(self.chunk) / self.every.as_secs_f64().max(1e-9)
    }
}

/// One class of clients: its share of arrivals and how it behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientClass {
    /// The class's name (the key under `clients:`), used in results.
    pub name: String,
    /// Share of all arrivals, from 0 to 1 (the classes' shares sum to 1 at most).
    pub share: f64,
    /// Write the request at this pace instead of all at once.
    pub send: Option<Pace>,
    /// Read the response at this pace, with a small receive buffer.
    pub read: Option<Pace>,
    /// Close the connection this long after the request's intended
    /// instant, if the response has not fully arrived by then.
    pub abandon_after: Option<Duration>,
    /// A request of this class without a complete response after this is a
    /// timeout (default: the target's timeout).
    pub timeout: Duration,
    /// Requests of this class in flight at once in one shard (open model);
    /// arrivals past it are counted as `overflow` and not sent.
    pub max_in_flight: u32,
}

impl ClientClass {
    /// What the class does, for `--dry-run` and docs: `send 50 B/s, abandon after 150ms`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.send {
            parts.push(format!(
                "send {} B every {} ({:.0} B/s)",
                p.chunk,
                crate::units::Dur(p.every),
                p.bytes_per_s()
            ));
        }
        if let Some(p) = &self.read {
            parts.push(format!(
                "read {} B every {} ({:.0} B/s)",
                p.chunk,
                crate::units::Dur(p.every),
                p.bytes_per_s()
            ));
        }
        if let Some(a) = self.abandon_after {
            parts.push(format!("abandon after {}", crate::units::Dur(a)));
        }
        parts.push(format!(
            "timeout {}, at most {} in flight",
            crate::units::Dur(self.timeout),
            self.max_in_flight
        ));
        parts.join(", ")
    }
}

/// The drawing of classes: cumulative shares in 64-bit fixed point.
#[derive(Debug, Clone, Default)]
pub struct ClassPicker {
    seed: u64,
    /// `cuts[c]`: arrivals whose draw is below it (and not below `cuts[c-1]`) are class `c`.
    cuts: Vec<u64>,
}

impl ClassPicker {
    /// A picker for `classes` (in their order), drawing with `seed`.
    pub fn new(seed: u64, classes: &[ClientClass]) -> ClassPicker {
        let mut acc = 0.0f64;
        let cuts = classes
            .iter()
            .map(|c| {
                acc = (acc + c.share).min(1.0);
                // 2^64 * acc, saturating at the top.
                (acc * 18_446_744_073_709_551_616.0).min(u64::MAX as f64) as u64
            })
            .collect();
        ClassPicker { seed, cuts }
    }

    /// The class of request `index`, `None` for the normal class.
    #[inline]
    pub fn pick(&self, index: u64) -> Option<usize> {
        if self.cuts.is_empty() {
            return None;
        }
        let draw = mix64(self.seed.wrapping_add(mix64(index.wrapping_add(0x9e37_79b9_7f4a_7c15))));
        self.cuts.iter().position(|cut| draw < *cut)
    }

    /// True when the profile declares client classes.
    pub fn is_empty(&self) -> bool {
        self.cuts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, share: f64) -> ClientClass {
        ClientClass {
            name: name.into(),
            share,
            send: None,
            read: None,
            abandon_after: None,
            timeout: Duration::from_secs(1),
            max_in_flight: 1,
        }
    }

    /// Shares are kept within sampling error, and the same seed picks the same arrivals.
    #[test]
    fn picks_follow_the_shares_and_the_seed() {
        let classes = [class("slow", 0.2), class("gone", 0.1)];
        let p = ClassPicker::new(7, &classes);
        let n = 100_000u64;
        let mut counts = [0u64; 3];
        for i in 0..n {
            counts[p.pick(i).map_or(2, |c| c)] += 1;
        }
        for (got, want) in counts.iter().zip([0.2, 0.1, 0.7]) {
            let share = *got as f64 / n as f64;
            assert!((share - want).abs() < 0.01, "{counts:?}");
        }
        let again = ClassPicker::new(7, &classes);
        assert!((0..1000).all(|i| p.pick(i) == again.pick(i)));
        let other = ClassPicker::new(8, &classes);
        assert!((0..1000).any(|i| p.pick(i) != other.pick(i)));
        assert_eq!(ClassPicker::new(7, &[]).pick(3), None);
        assert!((0..1000).all(|i| ClassPicker::new(1, &[class("all", 1.0)]).pick(i) == Some(0)));
    }

    #[test]
    fn paces_from_a_rate() {
        assert_eq!(
            Pace::per_second(200.0),
            Pace {
                chunk: 20,
                every: Duration::from_millis(100)
            }
        );
        assert_eq!(Pace::per_second(4.0).every, Duration::from_millis(250));
        assert!((Pace::per_second(50.0).bytes_per_s() - 50.0).abs() < 1e-9);
    }
}
