//! The text every finder reads: its bytes, which bytes it holds at all, and its runs of ASCII
//! digits, worked out once per cell and shared by the finders. Also the byte helpers the
//! finders share (boundaries, digit groups, Luhn).

use smallvec::SmallVec;

pub(super) const F_AT: u8 = 1;
pub(super) const F_DIGIT: u8 = 2;
pub(super) const F_COLON: u8 = 4;
pub(super) const F_EQ: u8 = 8;
pub(super) const F_TOKEN: u8 = 16;
/// `-` or `.`: separators of MAC addresses (with `:`).
pub(super) const F_DASH_DOT: u8 = 32;

/// Which bytes each finder needs to be present before it can match.
const FEATURES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = F_DIGIT;
        c += 1;
    }
    t[b'@' as usize] = F_AT;
    t[b':' as usize] = F_COLON;
    t[b'=' as usize] = F_EQ;
    t[b'.' as usize] = F_DASH_DOT;
    let mut k = 0;
    while k < 4 {
        t[b"_JxA"[k] as usize] = F_TOKEN;
        k += 1;
    }
    t[b'-' as usize] = F_TOKEN | F_DASH_DOT;
    t
};

/// A maximal run of ASCII digits, `b[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    pub start: usize,
    pub end: usize,
}

impl Run {
    pub fn len(&self) -> usize {
        self.end - self.start
    }
}

/// One cell as the finders see it.
pub(super) struct Text<'a> {
    pub s: &'a str,
    pub b: &'a [u8],
    /// The `F_*` bits of the bytes present. Texts over 64 bytes report every bit and leave the
    /// work to each finder's own search.
    pub features: u8,
    /// Every run of ASCII digits, in order. Most cells have a handful, kept inline.
    pub runs: SmallVec<[Run; 12]>,
}

impl<'a> Text<'a> {
    pub fn new(s: &'a str) -> Self {
        let b = s.as_bytes();
        let features = if b.len() > 64 {
            u8::MAX
        } else {
            b.iter().fold(0, |f, &c| f | FEATURES[usize::from(c)])
        };
        let mut runs = SmallVec::new();
        if features & F_DIGIT != 0 {
            digit_runs(b, &mut runs);
        }
        Text { s, b, features, runs }
    }

    pub fn has(&self, feature: u8) -> bool {
        self.features & feature != 0
    }
}

/// The text is walked 8 bytes at a time until a word holds a digit.
fn digit_runs(b: &[u8], runs: &mut SmallVec<[Run; 12]>) {
    let mut i = 0;
    while i < b.len() {
        if i + 8 <= b.len() && !word_has_digit(&b[i..i + 8]) {
            i += 8;
            continue;
        }
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let end = digits_end(b, i);
        runs.push(Run { start: i, end });
        i = end;
    }
}

/// Whether any of 8 bytes is an ASCII digit, for all 8 at once. XOR with '0' maps exactly the
/// digits to 0..=9, and the classic "has a byte less than n" trick tests for that.
pub(super) fn word_has_digit(chunk: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    let t = u64::from_le_bytes(w) ^ (ONES * u64::from(b'0'));
    (t.wrapping_sub(ONES * 10) & !t & (ONES * 0x80)) != 0
}

/// The byte at `i`, or 0 past the end. NUL is neither a word char nor a digit, so the end of
/// the text acts as a boundary without length checks everywhere.
pub(super) fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// The byte before `i`, or 0 at the start.
pub(super) fn before(b: &[u8], i: usize) -> u8 {
    if i == 0 {
        0
    } else {
        b[i - 1]
    }
}

pub(super) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

pub(super) fn digits_end(b: &[u8], mut i: usize) -> usize {
    while at(b, i).is_ascii_digit() {
        i += 1;
    }
    i
}

/// The decimal value of up to 9 digits.
pub(super) fn num(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |a, &c| {
        a.wrapping_mul(10).wrapping_add(u32::from(c.wrapping_sub(b'0')))
    })
}

/// A numeric candidate must start a token. It must not continue a word, and it must not
/// continue a hyphenated or dotted token such as `e29b-4111`, `v1.2` or `12/2024`.
pub(super) fn left_ok(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = b[i - 1];
    !(is_word(p) || (matches!(p, b'.' | b'-' | b'/') && i >= 2 && is_word(b[i - 2])))
}

/// The mirror image of `left_ok`, so `2024-01-15T10` and `1.2.3.4.5` stay whole.
pub(super) fn right_ok(b: &[u8], e: usize) -> bool {
    let c = at(b, e);
    !(is_word(c) || (matches!(c, b'.' | b'-' | b'/') && at(b, e + 1).is_ascii_digit()))
}

/// The Luhn (mod 10) check over ASCII digits; false for empty input or any non-digit.
pub(super) fn luhn(d: &[u8]) -> bool {
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let v = u32::from(c - b'0');
            match (i % 2 == 1, v * 2) {
                (true, d) if d > 9 => d - 9,
                (true, d) => d,
                (false, _) => v,
            }
        })
        .sum();
    sum % 10 == 0
}

pub(super) const MAX_GROUPS: usize = 8;

/// Digit groups joined by one repeated separator byte, e.g. `4111 1111 1111 1111`.
pub(super) struct Groups {
    pub n: usize,
    pub start: [usize; MAX_GROUPS],
    pub end: [usize; MAX_GROUPS],
    pub sep: u8,
}

impl Groups {
    pub fn at(b: &[u8], i: usize, seps: &[u8]) -> Groups {
        let mut g = Groups {
            n: 0,
            start: [0; MAX_GROUPS],
            end: [0; MAX_GROUPS],
            sep: 0,
        };
        let mut p = i;
        loop {
            let e = digits_end(b, p);
            g.start[g.n] = p;
            g.end[g.n] = e;
            g.n += 1;
            let c = at(b, e);
            if g.n == MAX_GROUPS || !seps.contains(&c) || (g.sep != 0 && c != g.sep) || !at(b, e + 1).is_ascii_digit() {
                return g;
            }
            g.sep = c;
            p = e + 1;
        }
    }
    pub fn len(&self, j: usize) -> usize {
        self.end[j] - self.start[j]
    }
    pub fn total(&self, k: usize) -> usize {
        (0..k).map(|j| self.len(j)).sum()
    }
    /// The digits of the first `k` groups, written into `buf`; `None` if they do not fit.
    pub fn digits<'b>(&self, b: &[u8], k: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let mut w = 0;
        for j in 0..k {
            let g = buf.get_mut(w..w + self.len(j))?;
            g.copy_from_slice(&b[self.start[j]..self.end[j]]);
            w += self.len(j);
        }
        Some(&buf[..w])
    }
}

/// Digit groups of exactly `lens` joined by one separator from `seps`, used the same way
/// throughout; returns the end. The shape must not be a window of a longer chain such as
/// "1 234 567 890 123".
pub(super) fn fixed_groups(b: &[u8], i: usize, lens: &[usize], seps: &[u8]) -> Option<usize> {
    if i >= 2 && seps.contains(&b[i - 1]) && b[i - 2].is_ascii_digit() {
        return None;
    }
    let (mut p, mut sep) = (i, 0);
    for (j, &len) in lens.iter().enumerate() {
        if j > 0 {
            let c = at(b, p);
            if !seps.contains(&c) || (sep != 0 && c != sep) {
                return None;
            }
            sep = c;
            p += 1;
        }
        let e = digits_end(b, p);
        if e - p != len {
            return None;
        }
        p = e;
    }
    (right_ok(b, p) && !(at(b, p) == sep && at(b, p + 1).is_ascii_digit())).then_some(p)
}

/// Letters of scripts written without spaces between words (Han, kana, Hangul) and the
/// punctuation of CJK text. An address, name or number glued to such text ends where it
/// starts: `連絡先はbob@example.comです` holds the address `bob@example.com`.
pub fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF
        | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_has_digit_is_exact() {
        for v in 0..=255u8 {
            for lane in 0..8 {
                let mut w = [b'a'; 8];
                w[lane] = v;
                assert_eq!(word_has_digit(&w), v.is_ascii_digit(), "{v} at {lane}");
            }
            for u in 0..=255u8 {
                let w = [v, u, 0x80, 0xff, 0, b'/', b':', v];
                assert_eq!(word_has_digit(&w), w.iter().any(u8::is_ascii_digit), "{w:?}");
            }
        }
    }

    #[test]
    fn runs_are_every_maximal_digit_run() {
        let t = Text::new("a1 22bb333 xxxxxxxxxxxxxxxx4444 55555");
        let got: Vec<&str> = t.runs.iter().map(|r| &t.s[r.start..r.end]).collect();
        assert_eq!(got, ["1", "22", "333", "4444", "55555"]);
        assert!(Text::new("no digits at all").runs.is_empty());
    }

    #[test]
    fn luhn_reference_values() {
        for (d, ok) in [
            ("4111111111111111", true),
            ("4111111111111112", false),
            ("0", true),
            ("", false),
            ("4a", false),
        ] {
            assert_eq!(luhn(d.as_bytes()), ok, "{d}");
        }
    }
}
