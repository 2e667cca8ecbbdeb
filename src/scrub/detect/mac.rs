//! MAC addresses (EUI-48): six pairs of hex digits joined by one repeated `:` or `-`
//! (`00:1A:2B:3C:4D:5E`, `00-1a-2b-3c-4d-5e`), or three groups of four joined by `.` (Cisco's
//! `001a.2b3c.4d5e`). Not part of a longer run of hex groups, so IPv6 addresses and hashes
//! written in pairs stay whole; an address of all zeros or all ones is still a hit (it is rare
//! and harmless to redact).

use memchr::memchr3_iter;

use super::text::{at, before, Text, F_COLON, F_DASH_DOT};
use super::{Finder, Hit, Kind};

pub(super) struct Macs;

impl Finder for Macs {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        if !t.has(F_COLON | F_DASH_DOT) || t.b.len() < 14 {
            return;
        }
        let b = t.b;
        let mut next = 0;
        for p in memchr3_iter(b':', b'-', b'.', b) {
            // A candidate starts 2 (pairs) or 4 (Cisco) bytes before its first separator.
            for s in [p.wrapping_sub(2), p.wrapping_sub(4)] {
                if s >= next && s < p {
                    if let Some(e) = mac_at(b, s) {
                        out.push(Hit::new(Kind::Mac, s, e, "mac"));
                        next = e;
                    }
                }
            }
        }
    }
}

fn hex(b: &[u8], i: usize, n: usize) -> bool {
    b.get(i..i + n).is_some_and(|g| g.iter().all(u8::is_ascii_hexdigit))
}

/// Bytes that may not touch an address: a longer hex run or another group.
fn joins(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn mac_at(b: &[u8], s: usize) -> Option<usize> {
    let sep = at(b, s + 2);
    let (groups, width, sep) = if matches!(sep, b':' | b'-') {
        (6, 2, sep)
    } else if at(b, s + 4) == b'.' {
        (3, 4, b'.')
    } else {
        return None;
    };
    let end = s + groups * (width + 1) - 1;
    let shape = (0..groups).all(|g| {
        let p = s + g * (width + 1);
        hex(b, p, width) && (g + 1 == groups || at(b, p + width) == sep)
    });
    if !shape {
        return None;
    }
    let prev = before(b, s);
    let touches_before = joins(prev) || (prev == sep && s >= 2 && b[s - 2].is_ascii_hexdigit());
    let touches_after = joins(at(b, end)) || (at(b, end) == sep && at(b, end + 1).is_ascii_hexdigit());
    let bounded = !(touches_before || touches_after);
    // Mixed case within one address ("aB:cD:…") is rare in addresses and common in hashes.
    let g = &b[s..end];
    let mixed = g.iter().any(u8::is_ascii_uppercase) && g.iter().any(u8::is_ascii_lowercase);
    (bounded && !mixed).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<&str> {
        let t = Text::new(s);
        let mut out = Vec::new();
        Macs.scan(&t, &mut out);
        out.iter().map(|h| &s[h.start..h.end]).collect()
    }

    #[test]
    fn shapes() {
        for (text, want) in [
            ("device 00:1A:2B:3C:4D:5E online", vec!["00:1A:2B:3C:4D:5E"]),
            ("mac=ac-de-48-00-11-22.", vec!["ac-de-48-00-11-22"]),
            ("(001a.2b3c.4d5e)", vec!["001a.2b3c.4d5e"]),
            (
                "a:b 02:42:ac:11:00:02 and 02:42:ac:11:00:03",
                vec!["02:42:ac:11:00:02", "02:42:ac:11:00:03"],
            ),
            ("ff:ff:ff:ff:ff:ff", vec!["ff:ff:ff:ff:ff:ff"]),
        ] {
            assert_eq!(found(text), want, "{text}");
        }
        for text in [
            "00:1A:2B:3C:4D:5E:6F",
            "fe80:0000:0000:0000:0202:b3ff:fe1e:8329",
            "12:30:45",
            "2024-01-15 10:30:00",
            "aB:cD:eF:01:23:45",
            "x00:1A:2B:3C:4D:5E",
            "00:1A:2B-3C:4D:5E",
            "v1.2.3.4",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
