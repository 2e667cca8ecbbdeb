//! Latency histograms as their non-empty slots: what the gate reads a long
//! log into instead of whole [`Histogram`]s.
//!
//! Every loadline histogram has one layout ([`hist::SLOTS`] slots for
//! 1 µs..1 h at 3 significant digits), so a slot's index names the same
//! bucket in every histogram, and a histogram is fully described by its
//! `(slot, count)` pairs with a count above zero. An interval of a soak's
//! log has a few hundred of them out of 23,552; decoding the V2 payload
//! straight into those pairs ([`decode`]) skips the zero runs the format
//! already encodes as runs, where a [`Histogram`] would be allocated,
//! zeroed and walked slot by slot to be added to anything.
//!
//! [`pack`] stores such pairs as varints (the gap since the previous slot,
//! then the count): two or three bytes a pair instead of sixteen, which is
//! what lets a day-long soak's per-block latency stay in a few megabytes.

use std::sync::OnceLock;

use hdrhistogram::Histogram;

use super::hist::{self, SLOTS};

/// A histogram's non-empty slots, ascending: `(slot, count)`.
pub type Slots = Vec<(u32, u64)>;

/// Per slot, the highest value it holds (what HdrHistogram reports for a
/// quantile that falls in it), ascending.
pub fn values() -> &'static [u64] {
    static VALUES: OnceLock<Vec<u64>> = OnceLock::new();
    VALUES.get_or_init(|| hist::new_hist().iter_all().map(|v| v.value_iterated_to()).collect())
}

/// The highest value slot `slot` holds.
pub fn value(slot: u32) -> u64 {
    values().get(slot as usize).copied().unwrap_or(hist::HIGHEST_US)
}

/// The slot a value of `us` is counted in; values past the layout's range
/// in the last slot (where [`hist::record`] clamps them).
pub fn slot_of(us: u64) -> u32 {
    let v = values();
    v.partition_point(|&x| x < us).min(v.len().saturating_sub(1)) as u32
}

/// `h`'s non-empty slots.
pub fn of(h: &Histogram<u64>) -> Slots {
    h.iter_recorded()
        .map(|v| (slot_of(v.value_iterated_to()), v.count_at_value()))
        .collect()
}

/// A histogram of `slots`.
pub fn to_hist(slots: &[(u32, u64)]) -> Histogram<u64> {
    let mut h = hist::new_hist();
    add_to(&mut h, slots.iter().copied());
    h
}

/// Add `slots` to `h` (saturating: a crafted log's counts may add past u64).
pub fn add_to(h: &mut Histogram<u64>, slots: impl IntoIterator<Item = (u32, u64)>) {
    for (s, c) in slots {
        h.saturating_record_n(value(s), c);
    }
}

/// Requests in `slots` at or under `bound` µs, at the histogram's
/// precision: every slot up to the one `bound` falls in, as HdrHistogram's
/// `count_between(0, bound)` counts.
pub fn count_at_or_below(slots: &[(u32, u64)], bound: u64) -> u64 {
    let last = slot_of(bound);
    slots
        .iter()
        .take_while(|p| p.0 <= last)
        .fold(0u64, |n, p| n.saturating_add(p.1))
}

/// A serialized histogram (HdrHistogram V2, plain or deflated; the checks
/// of [`hist::decode_bytes`]) decoded into `out` as its non-empty slots,
/// with `z` reused for inflating. It accepts what HdrHistogram's own
/// deserializer accepts and gives the same counts (a test and the `hlog`
/// fuzz target compare the two), except that a run of 2^63 empty slots is
/// an error here where the deserializer panics with overflow checks on.
pub fn decode(bytes: &[u8], z: &mut hist::Inflater, out: &mut Slots) -> Result<(), String> {
    out.clear();
    let plain = hist::v2_plain(bytes, z)?;
    let payload = hist::v2_payload(plain)?;
    let mut at = 0usize;
    let mut slot = 0u64;
    while let Some(&first) = payload.get(at) {
        // Most counts and runs of a latency histogram fit one byte.
        let zz = if first < 0x80 {
            at += 1;
            u64::from(first)
        } else {
            let (zz, n) = varint9(&payload[at..]).ok_or("a count that ends past the payload")?;
            at += n;
            zz
        };
        // Zig-zag: even is a count, odd a run of that many empty slots.
        let v = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        if v < 0 {
            if v == i64::MIN {
                return Err("a run of 2^63 empty slots".into());
            }
            slot = slot
                .checked_add(v.unsigned_abs())
                .ok_or("runs of empty slots past 2^64")?;
        } else {
            if v > 0 {
                if slot >= SLOTS as u64 {
                    return Err(format!("a count past the layout's {SLOTS} slots"));
                }
                out.push((slot as u32, v as u64));
            }
            slot = slot.checked_add(1).ok_or("slots past 2^64")?;
        }
    }
    Ok(())
}

/// HdrHistogram's varint: 7 bits a byte, low first, and a ninth byte of
/// 8 bits; `None` when it runs past `b`.
fn varint9(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..8 {
        let x = *b.get(i)?;
        v |= u64::from(x & 0x7f) << (7 * i);
        if x & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    Some((v | u64::from(*b.get(8)?) << 56, 9))
}

/// Append `slots` (ascending) to `out` packed: per pair, the gap since the
/// slot after the previous one, then the count, each a LEB128 varint.
pub fn pack(slots: impl IntoIterator<Item = (u32, u64)>, out: &mut Vec<u8>) {
    let mut next = 0u32;
    for (s, c) in slots {
        leb128(u64::from(s - next), out);
        leb128(c, out);
        next = s + 1;
    }
}

fn leb128(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The pairs [`pack`] wrote.
pub struct Unpack<'a> {
    bytes: &'a [u8],
    next: u32,
}

/// Iterate the pairs packed in `bytes`.
pub fn unpack(bytes: &[u8]) -> Unpack<'_> {
    Unpack { bytes, next: 0 }
}

impl Unpack<'_> {
    fn leb128(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        while let Some((&b, rest)) = self.bytes.split_first() {
            self.bytes = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        v
    }
}

impl Iterator for Unpack<'_> {
    type Item = (u32, u64);

    fn next(&mut self) -> Option<(u32, u64)> {
        if self.bytes.is_empty() {
            return None;
        }
        let s = self.next + self.leb128() as u32;
        let c = self.leb128();
        self.next = s + 1;
        Some((s, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::hist::{new_hist, record};

    fn lcg(n: usize, seed: u64) -> impl Iterator<Item = u64> {
        let mut x = seed;
        (0..n).map(move |_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            x >> 20
        })
    }

    /// The table has a value per slot, ascending, each the highest of its
    /// bucket, and a value recorded lands in the slot `slot_of` names.
    #[test]
    fn slot_values_follow_the_layout() {
        let v = values();
        assert_eq!(v.len(), SLOTS);
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        let h = new_hist();
        for (i, &x) in v.iter().enumerate().step_by(97) {
            assert_eq!(h.highest_equivalent(x), x);
            assert_eq!(slot_of(x) as usize, i);
            assert_eq!(slot_of(h.lowest_equivalent(x)) as usize, i);
        }
        assert_eq!(slot_of(u64::MAX) as usize, SLOTS - 1);
        assert_eq!(slot_of(0), 0);
    }

    fn encoded(h: &Histogram<u64>, deflate: bool) -> Vec<u8> {
        use hdrhistogram::serialization::{Serializer, V2DeflateSerializer, V2Serializer};
        let mut out = Vec::new();
        if deflate {
            V2DeflateSerializer::new().serialize(h, &mut out).unwrap();
        } else {
            V2Serializer::new().serialize(h, &mut out).unwrap();
        }
        out
    }

    /// Decoding into slots gives what HdrHistogram's deserializer gives,
    /// plain and deflated, for sparse, dense, huge-count and empty
    /// histograms; packing round-trips; the bound counts match.
    #[test]
    fn decodes_as_hdrhistogram_does() {
        let mut cases = vec![new_hist()];
        let mut h = new_hist();
        lcg(5_000, 1).for_each(|x| record(&mut h, 100 + x % 200_000));
        cases.push(h);
        let mut h = new_hist();
        lcg(50_000, 2).for_each(|x| record(&mut h, x % hist::HIGHEST_US));
        h.saturating_record_n(7, u64::MAX / 4);
        record(&mut h, u64::MAX);
        cases.push(h);
        let (mut buf, mut out) = (hist::Inflater::default(), Vec::new());
        for h in &cases {
            for deflate in [false, true] {
                decode(&encoded(h, deflate), &mut buf, &mut out).unwrap();
                assert_eq!(out, of(h));
                assert_eq!(out.iter().map(|p| p.1).sum::<u64>(), h.len());
                let mut back = new_hist();
                add_to(&mut back, out.iter().copied());
                assert_eq!(&back, h);
                let mut packed = Vec::new();
                pack(out.iter().copied(), &mut packed);
                assert_eq!(unpack(&packed).collect::<Vec<_>>(), out);
                for b in [0, 1, 150, 1_000, 99_999, 3_600_000_000, u64::MAX] {
                    assert_eq!(
                        count_at_or_below(&out, b),
                        crate::results::run::count_at_or_below(h, b),
                        "bound {b}"
                    );
                }
            }
        }
    }

    /// Crafted payloads: a count past the slots, a varint cut short and a
    /// run of 2^63 are errors, as in HdrHistogram (which panics on the last
    /// in a debug build); the header checks are `decode_bytes`'s.
    #[test]
    fn crafted_payloads_are_errors() {
        let with_payload = |payload: &[u8]| {
            let mut b = encoded(&new_hist(), false);
            b.truncate(40);
            b[4..8].copy_from_slice(&(payload.len() as u32).to_be_bytes());
            b.extend_from_slice(payload);
            decode(&b, &mut hist::Inflater::default(), &mut Vec::new())
        };
        // A run of SLOTS empty slots (zig-zag of -SLOTS), then a count of 1.
        let mut past = Vec::new();
        leb128((SLOTS as u64) * 2 - 1, &mut past);
        past.push(2);
        assert!(with_payload(&past).unwrap_err().contains("past the layout"));
        assert!(with_payload(&[0x80]).unwrap_err().contains("ends past"));
        assert!(with_payload(&[0xff; 9]).unwrap_err().contains("2^63"));
        let mut min_run = encoded(&new_hist(), false);
        min_run.truncate(40);
        min_run[4..8].copy_from_slice(&9u32.to_be_bytes());
        min_run.extend_from_slice(&[0xff; 9]);
        assert!(hist::decode_bytes(&min_run).unwrap_err().contains("2^63"));
        assert_eq!(with_payload(&[2, 0, 4]), Ok(()));
        let mut e = encoded(&new_hist(), false);
        e[12..16].copy_from_slice(&2u32.to_be_bytes());
        assert!(decode(&e, &mut hist::Inflater::default(), &mut Vec::new())
            .unwrap_err()
            .contains("not loadline's"));
    }
}
