//! Credentials. Each rule matches a known shape:
//! - `aws_access_key`: `AKIA`/`ASIA`/… + 16 base-32 characters.
//! - `github_token`: `gh[pousr]_` + 36 or more characters, or `github_pat_` + 50 or more.
//! - `slack_token`: `xox[abprs]-` + 10 or more characters.
//! - `stripe_key`: `sk|pk|rk` + `_live_`/`_test_` + 16 or more characters.
//! - `google_api_key`: `AIza` + 35 characters.
//! - `jwt`: three base64url segments, the first two starting with `eyJ`.
//! - `private_key`: a PEM `PRIVATE KEY` block.
//! - `secret_assignment`: a key ending in api key/secret/token/password/passwd/auth/
//!   authorization, then `:` or `=`, then a value of 8 or more non-space characters. The
//!   hit covers only the value, so `password=` stays readable.
//!
//! The `regex` engine is used only for the vendor shapes, whose literal prefixes give it a
//! fast SIMD prefilter.

use memchr::{memchr2_iter, memchr3_iter, memchr_iter, memmem};
use regex::Regex;

use super::text::{at, is_word, Text, F_COLON, F_EQ, F_TOKEN};
use super::{Finder, Hit, Kind};

/// Shapes of the vendor tokens. Each alternative starts with a literal, so the regex engine
/// rejects text without any of them in a single SIMD pass.
const TOKEN_PATTERN: &str = concat!(
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{16}",
    r"|gh[pousr]_[A-Za-z0-9]{36,}",
    r"|github_pat_[A-Za-z0-9_]{50,}",
    r"|xox[abprs]-[A-Za-z0-9-]{10,}",
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
    r"|AIza[0-9A-Za-z_-]{35}",
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"|-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----",
);

/// The literal prefixes of `TOKEN_PATTERN` that start with `A`.
const AWS_AND_GOOGLE: [&[u8]; 9] = [
    b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"ANPA", b"ANVA", b"AIPA", b"AIza",
];

pub(super) struct Tokens {
    vendor: Regex,
}

impl Tokens {
    pub fn new() -> Self {
        // The pattern is a constant that the tests compile, so a failure here is a bug.
        #[allow(clippy::expect_used)]
        Tokens {
            vendor: Regex::new(TOKEN_PATTERN).expect("valid regex"),
        }
    }
}

impl Finder for Tokens {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        if t.has(F_TOKEN) && may_contain_token(t.b) {
            self.scan_vendor(t.b, t.s, out);
        }
        if t.has(F_COLON | F_EQ) {
            scan_secrets(t.b, out);
        }
    }
}

impl Tokens {
    fn scan_vendor(&self, b: &[u8], text: &str, out: &mut Vec<Hit>) {
        for m in self.vendor.find_iter(text) {
            let (s, mut e) = (m.start(), m.end());
            if s > 0 && is_word(b[s - 1]) {
                continue;
            }
            let t = &b[s..e];
            let rule = if t.starts_with(b"AIza") {
                "google_api_key"
            } else if t.starts_with(b"gh") {
                "github_token"
            } else if t.starts_with(b"xox") {
                "slack_token"
            } else if t.starts_with(b"eyJ") {
                "jwt"
            } else if t.starts_with(b"-----") {
                e = pem_end(b, e);
                "private_key"
            } else if t[2] == b'_' {
                "stripe_key"
            } else {
                "aws_access_key"
            };
            // The fixed-length shapes must not be a prefix of a longer identifier.
            let next = at(b, e);
            if (rule == "aws_access_key" && next.is_ascii_alphanumeric())
                || (rule == "google_api_key" && (is_word(next) || next == b'-'))
            {
                continue;
            }
            out.push(Hit::new(Kind::Token, s, e, rule));
        }
    }
}

/// A necessary condition for `TOKEN_PATTERN`: one of its literal prefixes is here, read
/// whole around the byte the search stops at (the `_` of `ghp_`, `github_`, `sk_`; the `A` of
/// `AKIA` or `AIza`), so that `IBAN`, `BARC` or `jane_doe@` do not start the regex engine. Two
/// memchr passes cost far less than entering it, and ordinary prose almost never passes them.
fn may_contain_token(b: &[u8]) -> bool {
    let has = |i: usize, lit: &[u8]| b.get(i..i + lit.len()) == Some(lit);
    let anchor = |i: usize| match b[i] {
        b'_' => {
            (i >= 2 && b[i - 1] == b'k' && matches!(b[i - 2], b's' | b'p' | b'r'))
                || (i >= 3 && &b[i - 3..i - 1] == b"gh" && matches!(b[i - 1], b'p' | b'o' | b'u' | b's' | b'r'))
                || (i >= 6 && &b[i - 6..i] == b"github")
        }
        b'J' => i >= 2 && &b[i - 2..i] == b"ey",
        b'x' => has(i, b"xox"),
        b'-' => has(i, b"-----"),
        b'A' => b.get(i..i + 4).is_some_and(|w| AWS_AND_GOOGLE.contains(&w)),
        _ => false,
    };
    if b.len() <= 64 {
        (0..b.len()).any(anchor)
    } else {
        memchr3_iter(b'_', b'J', b'x', b).any(anchor) || memchr2_iter(b'A', b'-', b).any(anchor)
    }
}

/// The PEM header only marks a key, so the hit extends over the whole block. A block with no
/// footer (truncated in the cell) extends over its base64 body instead.
fn pem_end(b: &[u8], header_end: usize) -> usize {
    let rest = &b[header_end..];
    if let Some(f) = memmem::find(rest, b"-----END ") {
        if let Some(t) = memmem::find(&rest[f..], b"PRIVATE KEY-----") {
            return header_end + f + t + "PRIVATE KEY-----".len();
        }
    }
    let body = rest
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || b"+/=\r\n\t ".contains(&c))
        .count();
    header_end + rest[..body].trim_ascii_end().len()
}

/// Key names whose value is a secret, compared as case-insensitive suffixes of the key, so
/// `db_password`, `client_secret` and `spring.datasource.password` all count.
const SECRET_KEYS: [&[u8]; 14] = [
    b"password",
    b"passwd",
    b"secret",
    b"token",
    b"apikey",
    b"api_key",
    b"api-key",
    b"auth",
    b"authorization",
    b"secret_key",
    b"secret-key",
    b"secretkey",
    b"private_key",
    b"access_key",
];

fn scan_secrets(b: &[u8], out: &mut Vec<Hit>) {
    for p in memchr2_iter(b':', b'=', b) {
        if let Some((s, e)) = secret_at(b, p) {
            out.push(Hit::new(Kind::Token, s, e, "secret_assignment"));
        }
    }
}

#[allow(clippy::too_many_lines)] // hot path: runs at every candidate byte of every free-text cell; one pass, no calls between its checks (BENCHMARKS.md, scrub)
fn secret_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    let (prev, next) = (if p > 0 { b[p - 1] } else { 0 }, at(b, p + 1));
    let mut v = p + 1;
    if b[p] == b'=' {
        // Comparisons are not assignments; ":=" is handled at its ':'.
        if matches!(prev, b'=' | b'!' | b'<' | b'>' | b':') || next == b'=' {
            return None;
        }
        v += usize::from(next == b'>'); // "token => '...'"
    } else {
        if prev == b':' || next == b':' {
            return None; // paths like a::b
        }
        v += usize::from(next == b'=');
    }
    let mut k = p;
    while k > 0 && p - k < 4 && matches!(b[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    if k > 0 && matches!(b[k - 1], b'"' | b'\'') {
        k -= 1; // JSON / YAML: "password": "..."
    }
    let ke = k;
    while k > 0 && ke - k < 64 && (is_word(b[k - 1]) || matches!(b[k - 1], b'-' | b'.')) {
        k -= 1;
    }
    let key = &b[k..ke];
    if !SECRET_KEYS
        .iter()
        .any(|kw| key.len() >= kw.len() && key[key.len() - kw.len()..].eq_ignore_ascii_case(kw))
    {
        return None;
    }
    while matches!(at(b, v), b' ' | b'\t') {
        v += 1;
    }
    let quote = at(b, v);
    let quoted = matches!(quote, b'"' | b'\'' | b'`');
    v += usize::from(quoted);
    for scheme in [&b"bearer "[..], b"basic ", b"token "] {
        if b.get(v..v + scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        {
            v += scheme.len();
            break;
        }
    }
    let unquoted_end = |mut e: usize| {
        while e < b.len() && !b[e].is_ascii_whitespace() && !b"\"'`,;".contains(&b[e]) {
            // `&` starts the next query parameter only when a `name=` follows it; closing
            // brackets end the value only when the text goes on after them. Generated
            // passwords hold both ("cbz&VFWp^0Y41", "Vxo0Cs*9)9").
            let next_param = b[e] == b'&' && {
                let n = b[e + 1..]
                    .iter()
                    .take_while(|&&c| is_word(c) || c == b'.' || c == b'-')
                    .count();
                n > 0 && at(b, e + 1 + n) == b'='
            };
            let closes = b"<>)]}".contains(&b[e]) && {
                let c = at(b, e + 1);
                c == 0 || c.is_ascii_whitespace() || b",;.:\"')]}&".contains(&c)
            };
            if next_param || closes {
                break;
            }
            e += 1;
        }
        e
    };
    let mut e = v;
    if quoted {
        // A quoted value may contain spaces ("correct horse battery staple").
        while e < b.len() && !matches!(b[e], b'\n' | b'\r') && b[e] != quote {
            e += 1;
        }
        if at(b, e) != quote {
            e = unquoted_end(v);
        }
    } else {
        e = unquoted_end(v);
    }
    // A value never runs into a placeholder ("password=[NATIONAL_ID]" after redaction), so
    // redacting twice is the same as redacting once.
    if let Some(p) = memchr_iter(b'[', &b[v..e])
        .map(|p| v + p)
        .find(|&p| super::placeholder_at(b, p))
    {
        e = p;
    }
    let value = &b[v..e];
    // "auth: date=2024-01-15": the value is another field, not a secret (a log line's
    // component name is not a key).
    let field = value
        .iter()
        .take_while(|&&c| is_word(c) || c == b'.' || c == b'-')
        .count();
    if field > 0 && value.get(field) == Some(&b'=') && !quoted {
        return None;
    }
    let chars = value
        .iter()
        .filter(|&&c| (c & 0xC0) != 0x80 && !c.is_ascii_whitespace())
        .count();
    if chars < 8 {
        return None;
    }
    Some((v, e))
}
