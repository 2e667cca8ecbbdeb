//! IP addresses.
//!
//! Rule `ipv4`: a dotted quad with octets 0–255 and no leading zeros, not part of a longer
//! dotted sequence. A `:port` or `/cidr` suffix is not part of the hit.
//! Rule `ipv6`: a run of hex digits, `:` and `.` with 2 or more colons and a decimal digit
//! that `std::net::Ipv6Addr` accepts (every compressed and mixed form); a `%zone` suffix is
//! not part of the hit.

use std::net::Ipv6Addr;

use memchr::memchr;

use super::text::{at, digits_end, is_word, num, Text, F_COLON};
use super::{Finder, Hit, Kind};

pub(super) struct Ips;

impl Finder for Ips {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        let b = t.b;
        for r in &t.runs {
            // An IP has its own left rule: "10.0.0.1-10.0.0.9" is two addresses, "1.2.3.4.5"
            // is none.
            let i = r.start;
            if r.len() <= 3 && at(b, r.end) == b'.' && (i == 0 || (b[i - 1] != b'.' && !is_word(b[i - 1]))) {
                if let Some(e) = ipv4_at(b, i) {
                    out.push(Hit::new(Kind::Ip, i, e, "ipv4"));
                }
            }
        }
        if !t.runs.is_empty() && t.has(F_COLON) && memchr(b':', b).is_some() {
            scan_ipv6(t.s, out);
        }
    }
}

fn ipv4_at(b: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    for k in 0..4 {
        if k > 0 {
            if at(b, p) != b'.' {
                return None;
            }
            p += 1;
        }
        let e = digits_end(b, p);
        let n = e - p;
        if n == 0 || n > 3 || (n > 1 && b[p] == b'0') || num(&b[p..e]) > 255 {
            return None;
        }
        p = e;
    }
    let c = at(b, p);
    (!(is_word(c) || (c == b'.' && at(b, p + 1).is_ascii_digit()))).then_some(p)
}

fn scan_ipv6(text: &str, out: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let is_v6 = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut from = 0;
    while let Some(off) = memchr(b':', &b[from..]) {
        let c = from + off;
        let (mut s, mut e) = (c, c + 1);
        while s > 0 && is_v6(b[s - 1]) {
            s -= 1;
        }
        while e < b.len() && is_v6(b[e]) {
            e += 1;
        }
        from = e;
        // Prose punctuation around the address: "at 2001:db8::1." or "addr:2001:db8::1".
        while s < e && b[s] == b'.' {
            s += 1;
        }
        while e > s && b[e - 1] == b'.' {
            e -= 1;
        }
        if e - s >= 2 && b[s] == b':' && b[s + 1] != b':' {
            s += 1;
        }
        if e - s >= 2 && b[e - 1] == b':' && b[e - 2] != b':' {
            e -= 1;
        }
        let tok = &b[s..e];
        // Requiring a decimal digit keeps code like " a::b" out; no real address lacks one.
        if (s > 0 && is_word(b[s - 1]))
            || is_word(at(b, e))
            || tok.iter().filter(|&&c| c == b':').count() < 2
            || !tok.iter().any(u8::is_ascii_digit)
        {
            continue;
        }
        if text.get(s..e).is_some_and(|t| t.parse::<Ipv6Addr>().is_ok()) {
            out.push(Hit::new(Kind::Ip, s, e, "ipv6"));
        }
    }
}
