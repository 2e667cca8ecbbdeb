//! Writing one value as a field of a text format, shared by every part
//! that writes dumps (synth's CSV and COPY files, scrub's output): CSV
//! quoting and PostgreSQL COPY text escaping, into a `String` or bytes.

/// Somewhere text can be appended.
pub trait Out {
    /// Append `s`.
    fn put(&mut self, s: &str);
}

impl Out for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Out for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

/// Bytes that make a CSV field need quotes.
const CSV_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
/// line break, and when it is empty, so that an empty string stays apart
/// from NULL (an unquoted empty field), as psql reads it.
pub fn csv_field(v: &str, out: &mut impl Out) {
    if !v.is_empty() && !needs_quotes(v.as_bytes()) {
        out.put(v);
        return;
    }
    out.put("\"");
    let mut last = 0;
    for quote in memchr::memchr_iter(b'"', v.as_bytes()) {
        // Up to and including the quote, then the quote again.
        out.put(&v[last..=quote]);
        out.put("\"");
        last = quote + 1;
    }
    out.put(&v[last..]);
    out.put("\"");
}

/// Whether a non-empty field needs quotes: eight bytes at a time for short
/// fields (most of a generated or scrubbed row), SIMD searches for long
/// ones (free text).
fn needs_quotes(b: &[u8]) -> bool {
    if b.len() < 32 {
        let mut words = b.chunks_exact(8);
        for w in &mut words {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            if word_has_special(u64::from_le_bytes(x)) {
                return true;
            }
        }
        words.remainder().iter().any(|&c| CSV_SPECIAL[usize::from(c)])
    } else {
        memchr::memchr3(b',', b'"', b'\n', b).is_some() || memchr::memchr(b'\r', b).is_some()
    }
}

/// Whether any of the 8 bytes of `w` is a comma, a quote or a line break:
/// a byte equal to `c` is a zero byte of `w ^ c…c`, and `(v - 0x01…01) &
/// !v & 0x80…80` is non-zero exactly when `v` has a zero byte.
#[inline]
fn word_has_special(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let is = |c: u8| zero(w ^ (LO * u64::from(c)));
    (is(b',') | is(b'"') | is(b'\n') | is(b'\r')) != 0
}

/// One field of PostgreSQL COPY text format (and MySQL `LOAD DATA`'s
/// defaults): backslash, tab and line breaks escaped; nothing else needs it.
pub fn copy_field(v: &str, out: &mut impl Out) {
    if !v.contains(['\\', '\t', '\n', '\r']) {
        out.put(v);
        return;
    }
    let mut last = 0;
    for (i, b) in v.bytes().enumerate() {
        let esc = match b {
            b'\\' => "\\\\",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\r' => "\\r",
            _ => continue,
        };
        out.put(&v[last..i]);
        out.put(esc);
        last = i + 1;
    }
    out.put(&v[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight bytes at a time finds what a byte at a time finds: every byte value at every
    /// place of every short length, among bytes that are near the specials in value.
    #[test]
    fn quoting_check_agrees_with_the_table() {
        for len in 1..40 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a' ^ (b & 0x80); len];
                    v.iter_mut()
                        .enumerate()
                        .for_each(|(i, x)| *x = x.wrapping_add(i as u8 % 3));
                    v[at] = b;
                    let want = v.iter().any(|&c| CSV_SPECIAL[usize::from(c)]);
                    assert_eq!(needs_quotes(&v), want, "{v:?}");
                }
            }
        }
    }

    #[test]
    fn csv_and_copy_fields() {
        let mut s = String::new();
        csv_field("", &mut s);
        s.push(',');
        csv_field("a\"b,c", &mut s);
        s.push(',');
        csv_field("plain", &mut s);
        assert_eq!(s, "\"\",\"a\"\"b,c\",plain");
        let mut b = Vec::new();
        copy_field("a\tb\\c\nd\re", &mut b);
        assert_eq!(b, b"a\\tb\\\\c\\nd\\re");
    }
}
