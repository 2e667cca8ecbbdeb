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
    let text = text.trim();
    if text.len() > MAX_ENCODED_BYTES.div_ceil(3) * 4 {
        return Err(format!(
            "{} bytes of base64, more than a histogram of loadline's layout takes",
            text.len()
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("not base64: {e}"))?;
    decode_bytes(&bytes)
}

/// HdrHistogram's V2 cookie (`0x1c849303 | 0x10`).
const V2_COOKIE: u32 = 0x1c84_9313;
/// HdrHistogram's V2 cookie for a deflated histogram.
const V2_DEFLATE_COOKIE: u32 = 0x1c84_9314;
/// A V2 header: cookie, payload length, normalizing offset, significant
/// digits, lowest and highest value, integer-to-double ratio.
const V2_HEADER: usize = 40;
/// Slots (counts) of a histogram of loadline's layout.
pub const SLOTS: usize = 23_552;
/// The longest V2 payload a histogram of loadline's layout can have: a
/// varint of at most 9 bytes per slot.
pub const MAX_PAYLOAD: usize = SLOTS * 9;
/// The most bytes a serialized histogram (plain or deflated) may take:
/// a plain one's header and longest payload. Deflate adds a few bytes on
/// incompressible data: allowed for.
pub const MAX_ENCODED_BYTES: usize = V2_HEADER + MAX_PAYLOAD + 1024;

fn be_u32(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| format!("ends inside its header ({} bytes)", b.len()))
}

fn be_u64(b: &[u8], at: usize) -> Result<u64, String> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| format!("ends inside its header ({} bytes)", b.len()))
}

/// A serialized histogram (HdrHistogram V2, plain or deflated) of
/// loadline's layout.
///
/// Limits, checked before anything is allocated from the header (which
/// may ask for up to 4 GiB and any number of slots): the bounds and
/// precision must be loadline's ([`LOWEST_US`], [`HIGHEST_US`],
/// [`SIGFIG`]; any other layout would not add bucket for bucket anyway);
/// the payload length must fit the bytes that follow and at most
/// [`MAX_PAYLOAD`]; a deflated histogram is inflated to at most
/// [`MAX_ENCODED_BYTES`]. The counts are decoded by [`slots::decode`], not
/// by HdrHistogram's deserializer, which panics (with overflow checks on)
/// on a crafted run of 2^63 empty slots.
pub fn decode_bytes(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let mut slots = Vec::new();
    super::slots::decode(bytes, &mut Inflater::default(), &mut slots)?;
    Ok(super::slots::to_hist(&slots))
}

/// The plain V2 histogram in `bytes` (inflated by `z` when deflated),
/// its header checked as [`decode_bytes`] says: loadline's layout, and a
/// payload length within the bytes that follow and [`MAX_PAYLOAD`].
pub fn v2_plain<'a>(bytes: &'a [u8], z: &'a mut Inflater) -> Result<&'a [u8], String> {
    let plain: &[u8] = match be_u32(bytes, 0)? {
        V2_COOKIE => bytes,
        V2_DEFLATE_COOKIE => z.inflate(bytes)?,
        other => return Err(format!("not an HdrHistogram V2 histogram (cookie {other:#010x})")),
    };
    if be_u32(plain, 0)? != V2_COOKIE {
        return Err("a deflated histogram that does not inflate to a V2 histogram".into());
    }
    let payload = usize::try_from(be_u32(plain, 4)?).unwrap_or(usize::MAX);
    let digits = be_u32(plain, 12)?;
    let (low, high) = (be_u64(plain, 16)?, be_u64(plain, 24)?);
    if (low, high, digits) != (LOWEST_US, HIGHEST_US, u32::from(SIGFIG)) {
        return Err(format!(
            "a histogram of {low}..{high} at {digits} significant digits, not loadline's \
             {LOWEST_US}..{HIGHEST_US} at {SIGFIG}"
        ));
    }
    let rest = plain.len().saturating_sub(V2_HEADER);
    if payload > rest.min(MAX_PAYLOAD) {
        return Err(format!(
            "a payload length of {payload} bytes, more than the {rest} that follow or the {MAX_PAYLOAD} \
             the layout can take"
        ));
    }
    Ok(plain)
}

/// The counts payload of a plain V2 histogram [`v2_plain`] returned,
/// refusing what HdrHistogram's deserializer refuses in the rest of the
/// header: a normalizing offset and an integer-to-double ratio other than 1.
pub fn v2_payload(plain: &[u8]) -> Result<&[u8], String> {
    if be_u32(plain, 8)? != 0 {
        return Err("a normalizing index offset, which HdrHistogram does not read".into());
    }
    if be_u64(plain, 32)? != 1f64.to_bits() {
        return Err("an integer-to-double ratio other than 1, which HdrHistogram does not read".into());
    }
    let len = be_u32(plain, 4)? as usize;
    plain
        .get(V2_HEADER..V2_HEADER + len)
        .ok_or_else(|| format!("a payload length of {len} bytes, more than follow"))
}

/// What inflating deflated histograms reuses from one to the next: the
/// output buffer and the inflater's state (about 40 KB, which a new
/// decoder per histogram would allocate and zero: a day-long soak's log
/// has hundreds of thousands).
#[derive(Default)]
pub struct Inflater {
    out: Vec<u8>,
    z: Option<flate2::Decompress>,
}

impl Inflater {
    /// The V2 histogram inside a deflated one, inflated to at most
    /// [`MAX_ENCODED_BYTES`]. A stream cut short gives what it inflates
    /// to (the V2 checks that follow refuse it).
    fn inflate(&mut self, bytes: &[u8]) -> Result<&[u8], String> {
        let len = usize::try_from(be_u32(bytes, 4)?).unwrap_or(usize::MAX);
        let body = &bytes[8..];
        if len > body.len() {
            return Err(format!(
                "a deflated length of {len} bytes, more than the {} that follow",
                body.len()
            ));
        }
        let input = &body[..len];
        let z = self.z.get_or_insert_with(|| flate2::Decompress::new(true));
        z.reset(true);
        self.out.clear();
        loop {
            if self.out.len() == self.out.capacity() {
                let more = self
                    .out
                    .capacity()
                    .max(1024)
                    .min(MAX_ENCODED_BYTES + 1 - self.out.len());
                self.out.reserve_exact(more);
            }
            let (read, wrote) = (z.total_in(), self.out.len());
            let at = usize::try_from(read).unwrap_or(usize::MAX).min(input.len());
            let status = z
                .decompress_vec(&input[at..], &mut self.out, flate2::FlushDecompress::Finish)
                .map_err(|e| format!("does not inflate: {e}"))?;
            if self.out.len() > MAX_ENCODED_BYTES {
                return Err(format!("inflates to more than {MAX_ENCODED_BYTES} bytes"));
            }
            let stuck = z.total_in() == read && self.out.len() == wrote && self.out.len() < self.out.capacity();
            if status == flate2::Status::StreamEnd || stuck {
                return Ok(&self.out);
            }
        }
    }
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

    /// [`SLOTS`] is what HdrHistogram allocates for loadline's layout.
    #[test]
    fn slots_match_the_layout() {
        assert_eq!(new_hist().distinct_values(), SLOTS);
    }

    fn plain(h: &Histogram<u64>) -> Vec<u8> {
        use hdrhistogram::serialization::{Serializer, V2Serializer};
        let mut out = Vec::new();
        V2Serializer::new().serialize(h, &mut out).unwrap();
        out
    }

    /// What `encode` writes decodes, plain or deflated, full or empty.
    #[test]
    fn round_trips() {
        let mut h = new_hist();
        for v in (1..HIGHEST_US).step_by(997) {
            record(&mut h, v);
        }
        assert_eq!(decode(&encode(&h)).unwrap(), h);
        assert_eq!(decode_bytes(&plain(&h)).unwrap(), h);
        assert_eq!(decode(&encode(&new_hist())).unwrap(), new_hist());
    }

    /// A crafted header is refused before anything is allocated from it:
    /// another layout, a payload length past the bytes or the layout, a
    /// deflated length past the bytes, a cookie of another format.
    #[test]
    fn crafted_headers_are_refused() {
        let mut h = new_hist();
        record(&mut h, 1234);
        let good = plain(&h);
        let with = |at: usize, v: &[u8]| {
            let mut b = good.clone();
            b[at..at + v.len()].copy_from_slice(v);
            decode_bytes(&b).unwrap_err()
        };
        let e = with(4, &u32::MAX.to_be_bytes());
        assert!(e.contains("payload length of 4294967295"), "{e}");
        let e = with(24, &u64::MAX.to_be_bytes());
        assert!(e.contains("not loadline's"), "{e}");
        let e = with(12, &5u32.to_be_bytes());
        assert!(e.contains("5 significant digits"), "{e}");
        let e = with(0, &[0, 0, 0, 1]);
        assert!(e.contains("cookie"), "{e}");
        let e = decode_bytes(&good[..20]).unwrap_err();
        assert!(e.contains("inside its header"), "{e}");
        let mut deflated = V2_DEFLATE_COOKIE.to_be_bytes().to_vec();
        deflated.extend_from_slice(&u32::MAX.to_be_bytes());
        deflated.extend_from_slice(&[0x78, 0x9c]);
        let e = decode_bytes(&deflated).unwrap_err();
        assert!(e.contains("deflated length"), "{e}");
        // A deflate bomb: a megabyte of zeros is cut at the bound.
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&good[..V2_HEADER]).unwrap();
        z.write_all(&vec![0; 1 << 20]).unwrap();
        let z = z.finish().unwrap();
        let mut bomb = V2_DEFLATE_COOKIE.to_be_bytes().to_vec();
        bomb.extend_from_slice(&(z.len() as u32).to_be_bytes());
        bomb.extend_from_slice(&z);
        let e = decode_bytes(&bomb).unwrap_err();
        assert!(e.contains("inflates to more than"), "{e}");
    }
}
