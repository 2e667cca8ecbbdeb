//! Latency histograms: one shape for every histogram in loadline, so any
//! two can be added (workers, intervals, shards) without loss.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Lowest trackable latency: 1 microsecond (values are recorded in µs).
pub const LOWEST_US: u64 = 1;
/// Highest trackable latency: one hour. Larger values are clamped to it
/// (a request that took longer than an hour to complete is a stall, and
/// reported as one hour).
pub const HIGHEST_US: u64 = 3_600_000_000;
/// Significant digits: 3, so every value is within 0.1%.
pub const SIGFIG: u8 = 3;

/// A new empty latency histogram.
pub fn new_hist() -> Histogram<u64> {
    // The bounds are constants that are valid for HdrHistogram.
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG)
        .unwrap_or_else(|_| unreachable!("constant bounds are valid"))
}

/// Record a latency in microseconds, clamped into the trackable range.
#[inline]
pub fn record(h: &mut Histogram<u64>, us: u64) {
    h.saturating_record(us.clamp(LOWEST_US, HIGHEST_US));
}

/// `h` as text: HdrHistogram's V2 compressed form in base64 (what its
/// interval logs hold), for a summary field that must merge exactly.
pub fn encode(h: &Histogram<u64>) -> String {
    use base64::Engine;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    let mut bytes = Vec::new();
    // Serializing into memory fails only for histograms no loadline code makes.
    if V2DeflateSerializer::new().serialize(h, &mut bytes).is_err() {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A histogram [`encode`] wrote; the error says what did not decode.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("not an HdrHistogram: {e:?}"))
}

/// The numbers a summary reports for one histogram, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    /// Requests recorded.
    pub count: u64,
    /// Fastest.
    pub min: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile (`p99.9` in JSON).
    #[serde(rename = "p99.9")]
    pub p99_9: u64,
    /// 99.99th percentile (`p99.99` in JSON).
    #[serde(rename = "p99.99")]
    pub p99_99: u64,
    /// Slowest.
    pub max: u64,
}

impl LatencyStats {
    /// The numbers of `h`; all zero when it is empty.
    pub fn of(h: &Histogram<u64>) -> LatencyStats {
        if h.is_empty() {
            return LatencyStats::default();
        }
        LatencyStats {
            count: h.len(),
            min: h.min(),
            mean: (h.mean() * 10.0).round() / 10.0,
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            p99_99: h.value_at_quantile(0.9999),
            max: h.max(),
        }
    }
}

/// Format microseconds for people: `850us`, `12.3ms`, `1.52s`.
pub fn fmt_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_summarises() {
        let mut h = new_hist();
        for v in 1..=1000 {
            record(&mut h, v);
        }
        record(&mut h, 0);
        record(&mut h, u64::MAX);
        let s = LatencyStats::of(&h);
        assert_eq!(s.count, 1002);
        assert_eq!(s.min, 1);
        assert!(s.max >= HIGHEST_US && s.max <= HIGHEST_US + HIGHEST_US / 1000);
        assert!((499..=501).contains(&s.p50));
        // Histograms of different sizes add up.
        let mut small = new_hist();
        record(&mut small, 5);
        small.add(&h).unwrap();
        assert_eq!(small.len(), 1003);
        assert_eq!(fmt_us(850), "850us");
        assert_eq!(fmt_us(12_345), "12.35ms");
        assert_eq!(fmt_us(1_520_000), "1.52s");
    }
}
