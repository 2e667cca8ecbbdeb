//! PII detectors: the one place that decides whether text contains personal data, and where.
//!
//! `redact` (replaces hits in free text), `verify` (fails if any output cell still has a hit)
//! and `scan` (reports which columns look like PII) all use these rules. Because they share
//! them, `verify` can never pass text that `redact` would have changed, or flag text that
//! `redact` left alone on purpose.
//!
//! The detectors run on every cell of dumps with millions of rows. Most cells hold no PII, so
//! the cheap checks come first: no `@` means no e-mail address, and no ASCII digit rules out
//! phones, cards, IBANs, IPs and national ids, so those scanners are skipped. The scanners are
//! hand-written and start only at word boundaries. The `regex` engine is used only for the
//! secret-token shapes, whose literal prefixes give it a fast SIMD prefilter. Every numeric
//! candidate except phones is then validated (Luhn, mod-97, registry lengths, calendar dates,
//! control letters); phones have no checksum, so their shapes are strict. False positives have a real cost: a scrubber that redacts dates, amounts and
//! order numbers destroys the data it is meant to keep.
//!
//! Offsets are byte offsets into the UTF-8 text. Every rule starts and ends a hit next to an
//! ASCII byte, so hit boundaries are always on char boundaries. Non-ASCII bytes count as
//! boundaries, not word characters, so PII inside CJK text (which has no spaces) is still
//! found.
//!
//! The file is long (25 rules, each with its validator, and their table-driven tests) because
//! the rules only make sense side by side: overlaps between them are resolved in one place.

use std::fmt;
use std::net::Ipv6Addr;

use memchr::{memchr, memchr2_iter, memchr3_iter, memchr_iter, memmem};
use regex::Regex;

/// What kind of personal data a hit is. The declaration order is also the tie-break order when
/// two equally long candidates overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `local@domain.tld`. The local part uses RFC 5322 atom characters and has no leading,
    /// trailing or doubled dot. The delimiters `= / | \` { }` end it, because in practice they
    /// separate an address from surrounding text (`email=bob@x.com`). The domain needs two or
    /// more labels of `[A-Za-z0-9-]` (not starting or ending with `-`) and an alphabetic TLD
    /// (or `xn--`) of at least 2 characters. Trailing sentence punctuation is not part of the
    /// hit.
    Email,
    /// Rule `e164_phone`: `+` then 7–15 digits in groups (the country code is 1–3 digits),
    /// separated by runs of at most 2 of ` -.()` with balanced parentheses.
    /// Rule `national_phone`, with no `+`:
    /// - `(area) rest`: 2–5 area digits, 7–15 digits in total.
    /// - Or 3 groups joined by one repeated separator (` `, `-` or `.`) with 9–15 digits, the
    ///   last group at least as long as the middle one, e.g. `415-555-0123`, `020 7946 0958`.
    /// - Or 2 groups or 4–5 groups, but only with a leading trunk `0` (`0701-234567`,
    ///   `030/23125206`, `06 12 34 56 78`, `01.23.45.67.89`) or in NANP `1-800-555-0123`
    ///   form. A slash joins only two groups.
    ///
    /// Not phones: thousands groupings, dotted quads, the SSN shape `3-2-4`, groups of one
    /// digit, a chain that continues with more groups, and anything a card, IBAN, IP or
    /// national id rule also matches.
    Phone,
    /// 13–19 digits, either contiguous or in groups of 3–6 joined by one repeated ` ` or `-`.
    /// The number must pass Luhn and carry a known issuer prefix of the right length: Visa
    /// (`visa`), Mastercard (`mastercard`), Amex (`amex`), Discover (`discover`), JCB (`jcb`)
    /// or Diners (`diners`).
    Card,
    /// Country code, 2 check digits and a BBAN, either compact or in 4-character groups joined
    /// by single spaces. The length must match the SWIFT registry for the country, and mod-97
    /// of the rearranged number must be 1.
    Iban,
    /// Rule `ipv4`: a dotted quad with octets 0–255 and no leading zeros, not part of a longer
    /// dotted sequence. A `:port` or `/cidr` suffix is not part of the hit.
    /// Rule `ipv6`: a run of hex digits, `:` and `.` with 2 or more colons and a decimal digit
    /// that `std::net::Ipv6Addr` accepts.
    Ip,
    /// One of these rules:
    /// - `us_ssn`: `AAA-GG-SSSS` (or with spaces), area not 000, 666 or 9xx, group not 00,
    ///   serial not 0000.
    /// - `uk_nino`: a valid prefix, 6 digits (optionally spaced in pairs), suffix A–D.
    /// - `es_dni`: 8 digits and the mod-23 control letter.
    /// - `es_nie`: X/Y/Z, 7 digits and the control letter.
    /// - `ca_sin`: `ddd ddd ddd` or `ddd-ddd-ddd`, Luhn-valid, not starting with 8.
    /// - `se_personnummer`: `YYMMDD-NNNN` or `YYYYMMDD-NNNN` (`-` or `+`), a real date
    ///   (coordination numbers, day + 60, allowed) and Luhn over `YYMMDDNNNN`.
    NationalId,
    /// Credentials. Each rule matches a known shape:
    /// - `aws_access_key`: `AKIA`/`ASIA`/… + 16 base-32 characters.
    /// - `github_token`: `gh[pousr]_` + 36 or more characters, or `github_pat_` + 50 or more.
    /// - `slack_token`: `xox[abprs]-` + 10 or more characters.
    /// - `stripe_key`: `sk|pk|rk` + `_live_`/`_test_` + 16 or more characters.
    /// - `google_api_key`: `AIza` + 35 characters.
    /// - `jwt`: three base64url segments, the first two starting with `eyJ`.
    /// - `private_key`: a PEM `PRIVATE KEY` block.
    /// - `secret_assignment`: a key ending in api key/secret/token/password/passwd/auth/
    ///   authorization, then `:` or `=`, then a value of 8 or more non-space characters. The
    ///   hit covers only the value, so `password=` stays readable.
    Token,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Email,
        Kind::Phone,
        Kind::Card,
        Kind::Iban,
        Kind::Ip,
        Kind::NationalId,
        Kind::Token,
    ];

    /// "email", "phone", "card", "iban", "ip", "national_id", "token"
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Card => "card",
            Kind::Iban => "iban",
            Kind::Ip => "ip",
            Kind::NationalId => "national_id",
            Kind::Token => "token",
        }
    }

    /// The placeholder the redact transformer writes. None of the detectors matches it, so
    /// redacting twice is the same as redacting once.
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::Email => "[EMAIL]",
            Kind::Phone => "[PHONE]",
            Kind::Card => "[CARD]",
            Kind::Iban => "[IBAN]",
            Kind::Ip => "[IP]",
            Kind::NationalId => "[NATIONAL_ID]",
            Kind::Token => "[TOKEN]",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding: byte range in the text, and which rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub rule: &'static str,
}

impl Hit {
    fn len(&self) -> usize {
        self.end - self.start
    }
    fn overlaps(&self, o: &Hit) -> bool {
        self.start < o.end && o.start < self.end
    }
}

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

/// Compiled detectors: build once and share between threads. Cloning is cheap because the
/// regex is reference-counted internally.
#[derive(Debug, Clone)]
pub struct Detectors {
    tokens: Regex,
}

impl Default for Detectors {
    fn default() -> Self {
        Self::new()
    }
}

impl Detectors {
    pub fn new() -> Self {
        // The pattern is a constant that the tests compile, so a failure here is a bug.
        let tokens = Regex::new(TOKEN_PATTERN).expect("valid regex");
        Detectors { tokens }
    }

    /// All hits in `text`, sorted by start and non-overlapping, appended to `out`. When
    /// candidates overlap, the longer one wins and ties go to the earlier `Kind`. The one
    /// exception: a phone candidate always yields to a card, IBAN, IP or national id it
    /// overlaps, because the phone rule is the only one with no checksum or fixed structure.
    pub fn find(&self, text: &str, out: &mut Vec<Hit>) {
        let base = out.len();
        let b = text.as_bytes();
        let f = features(b);
        if f & F_AT != 0 {
            scan_emails(b, out);
        }
        if f & F_DIGIT != 0 && scan_numbers(b, out) && f & F_COLON != 0 && memchr(b':', b).is_some() {
            scan_ipv6(text, out);
        }
        if f & F_TOKEN != 0 && may_contain_token(b) {
            self.scan_tokens(b, text, out);
        }
        if f & (F_COLON | F_EQ) != 0 {
            scan_secrets(b, out);
        }
        resolve(out, base);
        debug_assert!(out[base..]
            .iter()
            .all(|h| text.is_char_boundary(h.start) && text.is_char_boundary(h.end)));
    }

    /// The first hit, if any. Short-circuiting would be wrong because a later, longer candidate
    /// can take the place of an earlier one. This stays cheap anyway: it allocates nothing
    /// when there is no hit.
    pub fn first(&self, text: &str) -> Option<Hit> {
        let mut hits = Vec::new();
        self.find(text, &mut hits);
        hits.first().copied()
    }

    /// Append `text` to `out` with every hit replaced by its kind's placeholder; returns the
    /// number of hits replaced.
    ///
    /// Replacing a hit can expose a neighbour that the boundary rules rejected while the hit
    /// was there. In "10.0.0.1+44 20 7946 0958" the phone follows a digit, but in
    /// "[IP]+44 20 7946 0958" it does not. So the result is scanned again until nothing is
    /// found, which guarantees that `verify` accepts whatever `redact` wrote. Each pass only
    /// turns non-placeholder text into placeholders, so this ends; in practice a second pass
    /// finds nothing.
    pub fn redact_into(&self, text: &str, out: &mut String) -> usize {
        let mut hits = Vec::new();
        self.find(text, &mut hits);
        if hits.is_empty() {
            out.push_str(text);
            return 0;
        }
        let (mut count, mut cur) = (hits.len(), replace_hits(text, &hits));
        for _ in 0..8 {
            hits.clear();
            self.find(&cur, &mut hits);
            if hits.is_empty() {
                break;
            }
            count += hits.len();
            cur = replace_hits(&cur, &hits);
        }
        out.push_str(&cur);
        count
    }

    fn scan_tokens(&self, b: &[u8], text: &str, out: &mut Vec<Hit>) {
        for m in self.tokens.find_iter(text) {
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
            push(out, Kind::Token, s, e, rule);
        }
    }
}

fn replace_hits(text: &str, hits: &[Hit]) -> String {
    let mut out = String::with_capacity(text.len() + 8 * hits.len());
    let mut last = 0;
    for h in hits {
        // Hits are sorted, disjoint and on char boundaries (see the module docs).
        out.push_str(&text[last..h.start]);
        out.push_str(h.kind.placeholder());
        last = h.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Luhn check digit validity of an all-digit string (false for non-digits or empty).
pub fn luhn_valid(digits: &str) -> bool {
    luhn(digits.as_bytes())
}

/// IBAN checksum (ISO 13616 mod-97 == 1) and per-country length, on the compact form (no
/// spaces), uppercase.
pub fn iban_valid(compact: &str) -> bool {
    iban_check(compact.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Pre-checks and byte helpers

const F_AT: u8 = 1;
const F_DIGIT: u8 = 2;
const F_COLON: u8 = 4;
const F_EQ: u8 = 8;
const F_TOKEN: u8 = 16;

/// Which bytes each scanner needs to be present before it can match.
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
    let mut k = 0;
    while k < 5 {
        t[b"_Jx-A"[k] as usize] = F_TOKEN;
        k += 1;
    }
    t
};

/// Bytes present in a short text. Most cells are short (names, codes, words), and one
/// table-driven pass over them is cheaper than the setup of five memchr searches. Long texts
/// report every feature and leave the work to each scanner's own memchr.
fn features(b: &[u8]) -> u8 {
    if b.len() > 64 {
        return u8::MAX;
    }
    b.iter().fold(0, |f, &c| f | FEATURES[usize::from(c)])
}

/// The byte at `i`, or 0 past the end. NUL is neither a word char nor a digit, so the end of
/// the text acts as a boundary without length checks everywhere.
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while at(b, i).is_ascii_digit() {
        i += 1;
    }
    i
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |a, &c| {
        a.wrapping_mul(10).wrapping_add(u32::from(c.wrapping_sub(b'0')))
    })
}

fn push(out: &mut Vec<Hit>, kind: Kind, start: usize, end: usize, rule: &'static str) {
    out.push(Hit { kind, start, end, rule });
}

/// A numeric candidate must start a token. It must not continue a word, and it must not
/// continue a hyphenated or dotted token such as `e29b-4111`, `v1.2` or `12/2024`.
fn left_ok(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = b[i - 1];
    !(is_word(p) || (matches!(p, b'.' | b'-' | b'/') && i >= 2 && is_word(b[i - 2])))
}

/// The mirror image of `left_ok`, so `2024-01-15T10` and `1.2.3.4.5` stay whole.
fn right_ok(b: &[u8], e: usize) -> bool {
    let c = at(b, e);
    !(is_word(c) || (matches!(c, b'.' | b'-' | b'/') && at(b, e + 1).is_ascii_digit()))
}

fn luhn(d: &[u8]) -> bool {
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let v = u32::from(c - b'0');
            if i % 2 == 1 {
                if v * 2 > 9 {
                    v * 2 - 9
                } else {
                    v * 2
                }
            } else {
                v
            }
        })
        .sum();
    sum % 10 == 0
}

// ---------------------------------------------------------------------------------------------
// E-mail

fn scan_emails(b: &[u8], out: &mut Vec<Hit>) {
    for a in memchr_iter(b'@', b) {
        if let Some((s, e)) = email_at(b, a) {
            push(out, Kind::Email, s, e, "email");
        }
    }
}

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".!#$%&'*+?^_~-".contains(&c)
}

fn email_at(b: &[u8], a: usize) -> Option<(usize, usize)> {
    let mut s = a;
    while s > 0 && is_local(b[s - 1]) {
        // "see...bob@x.com": an ellipsis ends the local part, since ".." cannot be in one.
        if b[s - 1] == b'.' && s >= 2 && b[s - 2] == b'.' {
            break;
        }
        s -= 1;
        if a - s > 64 {
            return None;
        }
    }
    // Opening quotes and the like: "'bob@x.com'" is the address bob@x.com.
    while s < a && !is_word(b[s]) {
        s += 1;
    }
    if s == a || b[a - 1] == b'.' {
        return None;
    }
    let (mut p, mut labels) = (a + 1, 0);
    let tld = loop {
        let ls = p;
        while at(b, p).is_ascii_alphanumeric() || at(b, p) == b'-' {
            p += 1;
        }
        if p == ls || p - ls > 63 || b[ls] == b'-' || b[p - 1] == b'-' {
            return None;
        }
        labels += 1;
        if at(b, p) == b'.' && at(b, p + 1).is_ascii_alphanumeric() {
            p += 1;
        } else {
            break (ls, p);
        }
    };
    let t = &b[tld.0..tld.1];
    let tld_ok = (t.len() >= 2 && t.iter().all(u8::is_ascii_alphabetic))
        || (t.len() > 4 && t[..4].eq_ignore_ascii_case(b"xn--"));
    if labels < 2 || !tld_ok || at(b, p) == b'_' || p - a - 1 > 253 {
        return None;
    }
    Some((s, p))
}

// ---------------------------------------------------------------------------------------------
// Numeric shapes: phones, cards, IPv4, IBAN and national ids.

/// Every numeric rule has a digit within the first 4 bytes of its hit, so the scan walks the
/// text 8 bytes at a time until a word holds a digit. It then tries the candidates around the
/// start of each digit run: the run itself, a `+` or `(` just before it, or an uppercase
/// prefix of up to 3 bytes (`X1234567L`, `GB82…`, `AB 12 34 56 C`). Returns whether the text
/// has any digit.
fn scan_numbers(b: &[u8], out: &mut Vec<Hit>) -> bool {
    let (mut i, mut seen) = (0, false);
    while i < b.len() {
        if i + 8 <= b.len() && !word_has_digit(&b[i..i + 8]) {
            i += 8;
            continue;
        }
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        seen = true;
        let prev = if i > 0 { b[i - 1] } else { 0 };
        if !is_word(prev) {
            digit_start(b, i, out);
            let p = i.wrapping_sub(1);
            if matches!(prev, b'+' | b'(') && (p == 0 || !is_word(b[p - 1])) {
                let (found, rule) = if prev == b'+' {
                    (phone_plus_at(b, p), "e164_phone")
                } else {
                    (phone_paren_at(b, p), "national_phone")
                };
                if let Some(e) = found {
                    push(out, Kind::Phone, p, e, rule);
                }
            }
        }
        for pos in (i.saturating_sub(3)..i).rev() {
            if b[pos].is_ascii_digit() {
                break;
            }
            if b[pos].is_ascii_uppercase() && (pos == 0 || !is_word(b[pos - 1])) {
                upper_start(b, pos, out);
            }
        }
        i = digits_end(b, i);
    }
    seen
}

/// Whether any of 8 bytes is an ASCII digit, for all 8 at once. XOR with '0' maps exactly the
/// digits to 0..=9, and the classic "has a byte less than n" trick tests for that.
fn word_has_digit(chunk: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    let t = u64::from_le_bytes(w) ^ (ONES * u64::from(b'0'));
    (t.wrapping_sub(ONES * 10) & !t & (ONES * 0x80)) != 0
}

/// Dispatches on the length of the digit run and the byte after it. Most runs in real text
/// (amounts, years, counts) fit no rule's shape and are rejected here without calling any
/// matcher.
fn digit_start(b: &[u8], i: usize, out: &mut Vec<Hit>) {
    let e = digits_end(b, i);
    let (len, next) = (e - i, at(b, e));
    let chained = matches!(next, b' ' | b'-' | b'.' | b'+' | b'/') && at(b, e + 1).is_ascii_digit();
    // An IP has its own left rule: "10.0.0.1-10.0.0.9" is two addresses, "1.2.3.4.5" is none.
    if chained && next == b'.' && len <= 3 && (i == 0 || b[i - 1] != b'.') {
        if let Some(e) = ipv4_at(b, i) {
            push(out, Kind::Ip, i, e, "ipv4");
        }
    }
    if !left_ok(b, i) || !(chained || len == 8 || (13..=19).contains(&len)) {
        return;
    }
    let card_shaped = len >= 13 || (matches!(next, b' ' | b'-') && digits_end(b, e + 1) - (e + 1) >= 3);
    if card_shaped {
        if let Some((e, rule)) = card_at(b, i) {
            push(out, Kind::Card, i, e, rule);
        }
    }
    let ids: &[(Matcher, &'static str)] = match (chained, len) {
        (false, _) => &[(dni_at, "es_dni")],
        (true, 3) => &[(ssn_at, "us_ssn"), (sin_at, "ca_sin")],
        (true, 6) => &[(personnummer_at, "se_personnummer")],
        (true, 8) => &[(personnummer_at, "se_personnummer"), (dni_at, "es_dni")],
        _ => &[],
    };
    for &(f, rule) in ids {
        if let Some(e) = f(b, i) {
            push(out, Kind::NationalId, i, e, rule);
        }
    }
    if chained {
        if let Some(e) = phone_plain_at(b, i) {
            push(out, Kind::Phone, i, e, "national_phone");
        }
    }
}

type Matcher = fn(&[u8], usize) -> Option<usize>;

fn upper_start(b: &[u8], i: usize, out: &mut Vec<Hit>) {
    let c1 = at(b, i + 1);
    if c1.is_ascii_uppercase() {
        if at(b, i + 2).is_ascii_digit() && at(b, i + 3).is_ascii_digit() {
            if let Some((e, valid)) = iban_at(b, i) {
                push(out, Kind::Iban, i, e, if valid { "iban" } else { SHAPE_ONLY });
            }
        }
        if let Some(e) = nino_at(b, i) {
            push(out, Kind::NationalId, i, e, "uk_nino");
        }
    } else if c1.is_ascii_digit() || c1 == b'-' {
        if let Some(e) = nie_at(b, i) {
            push(out, Kind::NationalId, i, e, "es_nie");
        }
    }
}

const MAX_GROUPS: usize = 6;

/// Digit groups joined by one repeated separator byte, e.g. `4111 1111 1111 1111`.
struct Groups {
    n: usize,
    start: [usize; MAX_GROUPS],
    end: [usize; MAX_GROUPS],
    sep: u8,
}

impl Groups {
    fn at(b: &[u8], i: usize, seps: &[u8]) -> Groups {
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
    fn len(&self, j: usize) -> usize {
        self.end[j] - self.start[j]
    }
    fn total(&self, k: usize) -> usize {
        (0..k).map(|j| self.len(j)).sum()
    }
}

/// A card number is either one contiguous run of 13–19 digits, or 2 or more groups of 3–6
/// digits. A grouped run that continues may still hold a card in its leading groups
/// ("4111 1111 1111 1111 12/27"), so shorter prefixes are tried too.
fn card_at(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let g = Groups::at(b, i, b" -");
    if (13..=19).contains(&g.len(0)) {
        let d = &b[i..g.end[0]];
        return card_brand(d)
            .filter(|_| luhn(d) && right_ok(b, g.end[0]))
            .map(|r| (g.end[0], r));
    }
    let usable = (0..g.n).take_while(|&j| (3..=6).contains(&g.len(j))).count();
    let mut buf = [0u8; 19];
    for k in (2..=usable).rev() {
        let n = g.total(k);
        if !(13..=19).contains(&n) || !right_ok(b, g.end[k - 1]) {
            continue;
        }
        let mut w = 0;
        for j in 0..k {
            buf[w..w + g.len(j)].copy_from_slice(&b[g.start[j]..g.end[j]]);
            w += g.len(j);
        }
        let d = &buf[..n];
        if let Some(rule) = card_brand(d).filter(|_| luhn(d)) {
            return Some((g.end[k - 1], rule));
        }
    }
    None
}

fn card_brand(d: &[u8]) -> Option<&'static str> {
    let len = d.len();
    let (p2, p3, p4) = (num(&d[..2]), num(&d[..3]), num(&d[..4]));
    if d[0] == b'4' && matches!(len, 13 | 16 | 19) {
        Some("visa")
    } else if len == 16 && ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) {
        Some("mastercard")
    } else if len == 15 && (p2 == 34 || p2 == 37) {
        Some("amex")
    } else if (16..=19).contains(&len) && (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) {
        Some("discover")
    } else if (16..=19).contains(&len) && (3528..=3589).contains(&p4) {
        Some("jcb")
    } else if (14..=19).contains(&len) && ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) {
        Some("diners")
    } else {
        None
    }
}

/// E.164-style phone starting at `+`.
fn phone_plus_at(b: &[u8], i: usize) -> Option<usize> {
    let mut p = i + 1;
    let first = digits_end(b, p) - p;
    if first == 0 {
        return None;
    }
    // A country code is 1-3 digits. A longer first run must be the whole number, as in
    // "+14155550123".
    if first > 3 {
        let e = p + first;
        return ((7..=15).contains(&first) && right_ok(b, e)).then_some(e);
    }
    let (mut total, mut open, mut close, mut best) = (0, 0, 0, None);
    loop {
        let ge = digits_end(b, p);
        total += ge - p;
        if total > 15 {
            break;
        }
        if total >= 7 && open == close && right_ok(b, ge) {
            best = Some(ge);
        }
        let mut q = ge;
        while q - ge < 2 && matches!(at(b, q), b' ' | b'-' | b'.' | b'(' | b')') {
            open += usize::from(b[q] == b'(');
            close += usize::from(b[q] == b')');
            q += 1;
        }
        if q == ge || !at(b, q).is_ascii_digit() || open > 1 || close > open {
            break;
        }
        p = q;
    }
    best
}

/// `(415) 555-0123`, `(020) 7946 0958`: a parenthesised area code makes a shorter number
/// believable.
fn phone_paren_at(b: &[u8], i: usize) -> Option<usize> {
    let e = digits_end(b, i + 1);
    let mut total = e - (i + 1);
    if !(2..=5).contains(&total) || at(b, e) != b')' {
        return None;
    }
    let mut p = e + 1;
    if matches!(at(b, p), b' ' | b'-') {
        p += 1;
    }
    let mut best = None;
    while at(b, p).is_ascii_digit() {
        let ge = digits_end(b, p);
        total += ge - p;
        if ge - p < 2 || total > 15 {
            break;
        }
        if total >= 7 && right_ok(b, ge) {
            best = Some(ge);
        }
        if !matches!(at(b, ge), b' ' | b'-' | b'.') {
            break;
        }
        p = ge + 1;
    }
    best
}

/// A phone with no `+` or parentheses. Numbers written this way are everywhere (dates,
/// amounts, ZIP+4, ISBNs), so the shape is restricted to what phone numbers actually look
/// like (see [`Kind::Phone`]).
fn phone_plain_at(b: &[u8], i: usize) -> Option<usize> {
    let g = Groups::at(b, i, b" -./");
    if g.n < 2 || (i >= 2 && b[i - 1] == g.sep && b[i - 2].is_ascii_digit()) {
        return None;
    }
    let lead0 = b[i] == b'0';
    // French numbers are written 01.23.45.67.89.
    let french = lead0 && g.n == 5 && (0..5).all(|j| g.len(j) == 2);
    if g.sep == b'.' && g.n >= 4 && (0..4).all(|j| g.len(j) <= 3) && !french {
        return None; // dotted quad: an address or a version, valid or not
    }
    for k in (2..=g.n.min(5)).rev() {
        let lens = |j: usize| g.len(j);
        let nanp1 = k == 4 && b[i] == b'1' && (lens(0), lens(1), lens(2), lens(3)) == (1, 3, 3, 4);
        let total = g.total(k);
        // A slash only in the German `030/1234567` (dates use slashes too).
        let shape_ok = match k {
            2 => lead0 && g.sep != b'.' && total <= 12,
            _ if g.sep == b'/' => false,
            3 => true,
            _ => lead0 || nanp1,
        };
        if !shape_ok
            || !(9..=15).contains(&total)
            || (!nanp1 && (0..k).any(|j| lens(j) < 2))
            || (0..k - 1).any(|j| lens(j) > 5)
            || lens(k - 1) > 8
            // A prefix of a longer chain is something else ("4111 1111 1111 1112" is a bad card).
            || (k < g.n && lens(k) >= 3)
            // Thousands groupings: "1 234 567 890", "123.456.789".
            || ((1..k).all(|j| lens(j) == 3) && (g.sep == b'.' || lens(0) < 3))
            || (k == 3 && g.sep != b'.' && (lens(0), lens(1), lens(2)) == (3, 2, 4))
            // Subscriber numbers end in their longest group; "400-12345-678" is a SKU.
            || (k == 3 && lens(2) < lens(1))
        {
            continue;
        }
        let end = g.end[k - 1];
        if right_ok(b, end) {
            return Some(end);
        }
    }
    None
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
            push(out, Kind::Ip, s, e, "ipv6");
        }
    }
}

/// Returns the end and whether the checksum holds. A well-formed IBAN with a typo in it is
/// still an IBAN, so its digits must not turn up as a phone number (see `SHAPE_ONLY`).
fn iban_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let want = iban_length(&b[i..i + 2])?;
    let is_an = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let run_end = |mut p: usize| {
        while is_an(at(b, p)) {
            p += 1;
        }
        p
    };
    let mut buf = [0u8; 34];
    let e = run_end(i);
    let end = if e - i == want {
        buf[..want].copy_from_slice(&b[i..e]);
        e
    } else if e - i == 4 && at(b, e) == b' ' {
        // Paper format: groups of 4 joined by single spaces, with a shorter last group.
        buf[..4].copy_from_slice(&b[i..e]);
        let (mut n, mut p) = (4, e);
        loop {
            if at(b, p) != b' ' {
                return None;
            }
            let ge = run_end(p + 1);
            let gl = ge - (p + 1);
            if gl == 0 || gl > 4 || n + gl > want {
                return None;
            }
            buf[n..n + gl].copy_from_slice(&b[p + 1..ge]);
            n += gl;
            p = ge;
            if n == want {
                break p;
            }
            if gl < 4 {
                return None;
            }
        }
    } else {
        return None;
    };
    (!is_word(at(b, end))).then(|| (end, iban_check(&buf[..want])))
}

fn iban_check(b: &[u8]) -> bool {
    if b.len() < 5
        || !(b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase())
        || !(b[2].is_ascii_digit() && b[3].is_ascii_digit())
        || iban_length(&b[..2]) != Some(b.len())
    {
        return false;
    }
    let mut r: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        r = match c {
            b'0'..=b'9' => (r * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (r * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    r == 1
}

/// IBAN length per country, from the SWIFT IBAN registry.
fn iban_length(cc: &[u8]) -> Option<usize> {
    Some(match cc {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FK" | b"FO" | b"GL" | b"NL" | b"SD" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"MN" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"LY" | b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"BI" | b"DJ" | b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HN" | b"HU" | b"LB" | b"NI" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    })
}

/// Digit groups of exactly `lens` joined by one separator from `seps`, used the same way
/// throughout; returns the end. The shape must not be a window of a longer chain such as
/// "1 234 567 890 123".
fn fixed_groups(b: &[u8], i: usize, lens: &[usize], seps: &[u8]) -> Option<usize> {
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

fn ssn_at(b: &[u8], i: usize) -> Option<usize> {
    let end = fixed_groups(b, i, &[3, 2, 4], b"- ")?;
    let (area, group, serial) = (num(&b[i..i + 3]), num(&b[i + 4..i + 6]), num(&b[i + 7..i + 11]));
    (area != 0 && area != 666 && area < 900 && group != 0 && serial != 0).then_some(end)
}

/// The check only rules out 8, which is reserved for business numbers. A leading 0 is
/// accepted because the government's own example, 046 454 286, uses one.
fn sin_at(b: &[u8], i: usize) -> Option<usize> {
    let end = fixed_groups(b, i, &[3, 3, 3], b" -")?;
    let mut d = [0u8; 9];
    for (j, g) in [i, i + 4, i + 8].into_iter().enumerate() {
        d[j * 3..j * 3 + 3].copy_from_slice(&b[g..g + 3]);
    }
    (b[i] != b'8' && luhn(&d)).then_some(end)
}

const DAYS_IN_MONTH: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

fn personnummer_at(b: &[u8], i: usize) -> Option<usize> {
    let (end, date) = match fixed_groups(b, i, &[6, 4], b"-+") {
        Some(e) => (e, &b[i..i + 6]),
        None => {
            let e = fixed_groups(b, i, &[8, 4], b"-+")?;
            if !matches!(num(&b[i..i + 2]), 18..=20) {
                return None;
            }
            (e, &b[i + 2..i + 8])
        }
    };
    let (yy, mm, dd) = (num(&date[..2]), num(&date[2..4]), num(&date[4..6]));
    let day = if dd > 60 { dd - 60 } else { dd }; // samordningsnummer: day + 60
    let dim = if mm == 2 && yy % 4 == 0 {
        29
    } else {
        DAYS_IN_MONTH[(mm as usize).clamp(1, 12) - 1]
    };
    if !(1..=12).contains(&mm) || day == 0 || day > dim {
        return None;
    }
    let mut d = [0u8; 10];
    d[..6].copy_from_slice(date);
    d[6..].copy_from_slice(&b[end - 4..end]);
    luhn(&d).then_some(end)
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn dni_at(b: &[u8], i: usize) -> Option<usize> {
    let e = digits_end(b, i);
    if e - i != 8 {
        return None;
    }
    let p = if at(b, e) == b'-' { e + 1 } else { e };
    let letter = at(b, p).to_ascii_uppercase();
    (letter == DNI_LETTERS[(num(&b[i..e]) % 23) as usize] && !is_word(at(b, p + 1))).then_some(p + 1)
}

fn nie_at(b: &[u8], i: usize) -> Option<usize> {
    let prefix = match b[i] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        _ => return None,
    };
    let p = if at(b, i + 1) == b'-' { i + 2 } else { i + 1 };
    let e = digits_end(b, p);
    if e - p != 7 {
        return None;
    }
    let q = if at(b, e) == b'-' { e + 1 } else { e };
    let letter = at(b, q).to_ascii_uppercase();
    let n = prefix * 10_000_000 + num(&b[p..e]);
    (letter == DNI_LETTERS[(n % 23) as usize] && !is_word(at(b, q + 1))).then_some(q + 1)
}

fn nino_at(b: &[u8], i: usize) -> Option<usize> {
    const BAD: &[u8] = b"DFIQUV";
    let (a, c) = (b[i], at(b, i + 1));
    if BAD.contains(&a) || BAD.contains(&c) || c == b'O' {
        return None;
    }
    if matches!(&b[i..i + 2], b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ") {
        return None;
    }
    let mut p = i + 2;
    for _ in 0..3 {
        if at(b, p) == b' ' {
            p += 1;
        }
        if !(at(b, p).is_ascii_digit() && at(b, p + 1).is_ascii_digit()) {
            return None;
        }
        p += 2;
    }
    if at(b, p) == b' ' {
        p += 1;
    }
    (matches!(at(b, p), b'A'..=b'D') && !is_word(at(b, p + 1))).then_some(p + 1)
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// A necessary condition for `TOKEN_PATTERN`: one of its literal prefixes can start here. Two
/// memchr passes cost far less than entering the regex engine, and ordinary prose almost
/// never passes them.
fn may_contain_token(b: &[u8]) -> bool {
    let has = |i: usize, lit: &[u8]| b.get(i..i + lit.len()) == Some(lit);
    let anchor = |i: usize| match b[i] {
        b'_' => true,
        b'J' => i >= 2 && &b[i - 2..i] == b"ey",
        b'x' => has(i, b"xox"),
        b'-' => has(i, b"-----"),
        b'A' => matches!(at(b, i + 1), b'K' | b'S' | b'G' | b'I' | b'R' | b'N'),
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
            push(out, Kind::Token, s, e, "secret_assignment");
        }
    }
}

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
        while e < b.len() && !b[e].is_ascii_whitespace() && !b"\"'`,;&<>)]}".contains(&b[e]) {
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
    let is_placeholder = |p: &usize| {
        Kind::ALL
            .iter()
            .any(|k| b[*p..].starts_with(k.placeholder().as_bytes()))
    };
    if let Some(p) = memchr_iter(b'[', &b[v..e]).map(|p| v + p).find(is_placeholder) {
        e = p;
    }
    let value = &b[v..e];
    let chars = value
        .iter()
        .filter(|&&c| (c & 0xC0) != 0x80 && !c.is_ascii_whitespace())
        .count();
    if chars < 8 {
        return None;
    }
    Some((v, e))
}

// ---------------------------------------------------------------------------------------------
// Overlap resolution

/// Rule of a candidate that has a structured shape but fails validation. It suppresses phone
/// candidates inside it and is then dropped, never reported.
const SHAPE_ONLY: &str = "shape_only";

fn resolve(out: &mut Vec<Hit>, base: usize) {
    // A phone candidate yields to any structured hit it overlaps (see `Detectors::find`), and
    // shape-only candidates go once they have done that job.
    let strong = |h: &Hit| matches!(h.kind, Kind::Card | Kind::Iban | Kind::Ip | Kind::NationalId);
    let mut w = base;
    for r in base..out.len() {
        let h = out[r];
        let yields = h.kind == Kind::Phone
            && out[base..w]
                .iter()
                .chain(&out[r + 1..])
                .any(|o| strong(o) && o.overlaps(&h));
        if !yields {
            out[w] = h;
            w += 1;
        }
    }
    out.truncate(w);
    let mut w = base;
    for r in base..out.len() {
        if out[r].rule != SHAPE_ONLY {
            out[w] = out[r];
            w += 1;
        }
    }
    out.truncate(w);
    // Longest first, then Kind order; keep each candidate that overlaps nothing kept so far.
    out[base..].sort_unstable_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then(a.kind.cmp(&b.kind))
            .then(a.start.cmp(&b.start))
    });
    let mut w = base;
    for r in base..out.len() {
        let h = out[r];
        if !out[base..w].iter().any(|o| o.overlaps(&h)) {
            out[w] = h;
            w += 1;
        }
    }
    out.truncate(w);
    out[base..].sort_unstable_by_key(|h| h.start);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(text: &str) -> Vec<(Kind, String, &'static str)> {
        let mut v = Vec::new();
        Detectors::new().find(text, &mut v);
        v.iter()
            .map(|h| (h.kind, text[h.start..h.end].to_string(), h.rule))
            .collect()
    }

    #[track_caller]
    fn expect_hit(text: &str, kind: Kind, matched: &str, rule: &str) {
        let found = hits(text);
        assert!(
            found.iter().any(|(k, m, r)| *k == kind && m == matched && *r == rule),
            "{text:?}: expected {kind} {matched:?} ({rule}), got {found:?}"
        );
    }

    #[test]
    fn kinds_and_placeholders() {
        let names: Vec<_> = Kind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(names, ["email", "phone", "card", "iban", "ip", "national_id", "token"]);
        assert_eq!(Kind::NationalId.placeholder(), "[NATIONAL_ID]");
        fn assert_traits<T: Send + Sync + Clone>() {}
        assert_traits::<Detectors>();
    }

    #[test]
    fn luhn_and_iban_functions() {
        for (d, ok) in [
            ("4111111111111111", true),
            ("4111111111111112", false),
            ("378282246310005", true),
            ("5555555555554444", true),
            ("6011111111111117", true),
            ("", false),
            ("41111a", false),
        ] {
            assert_eq!(luhn_valid(d), ok, "{d}");
        }
        for (i, ok) in [
            ("GB82WEST12345698765432", true),
            ("DE89370400440532013000", true),
            ("FR1420041010050500013M02606", true),
            ("NL91ABNA0417164300", true),
            ("GB83WEST12345698765432", false),
            ("DE88370400440532013000", false),
            ("FR1520041010050500013M02606", false),
            ("NL92ABNA0417164300", false),
            ("NL91ABNA041716430", false),
            ("XX91ABNA0417164300", false),
            ("gb82west12345698765432", false),
        ] {
            assert_eq!(iban_valid(i), ok, "{i}");
        }
    }

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
    fn true_positives() {
        let ghp = format!("ghp_{}", "aB3".repeat(12));
        let google = format!("key AIza{}", "Sy-9".repeat(8) + "abc");
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
        let bearer = format!("Authorization: Bearer {jwt}");
        #[rustfmt::skip]
        let cases: Vec<(&str, Kind, &str, &str)> = vec![
            ("mail me at bob.smith+x@mail.example.co.uk, thanks", Kind::Email, "bob.smith+x@mail.example.co.uk", "email"),
            ("Contact: alice@example.com.", Kind::Email, "alice@example.com", "email"),
            ("<o'brien@example.ie>", Kind::Email, "o'brien@example.ie", "email"),
            ("email=bob@example.com", Kind::Email, "bob@example.com", "email"),
            ("see...bob@example.com", Kind::Email, "bob@example.com", "email"),
            ("call +44 20 7946 0958 now", Kind::Phone, "+44 20 7946 0958", "e164_phone"),
            ("+14155550123", Kind::Phone, "+14155550123", "e164_phone"),
            ("+1 (415) 555-0123", Kind::Phone, "+1 (415) 555-0123", "e164_phone"),
            ("+44 (0)20 7946 0958", Kind::Phone, "+44 (0)20 7946 0958", "e164_phone"),
            ("tel (415) 555-0123.", Kind::Phone, "(415) 555-0123", "national_phone"),
            ("415-555-0123", Kind::Phone, "415-555-0123", "national_phone"),
            ("415.555.0123", Kind::Phone, "415.555.0123", "national_phone"),
            ("415 555 0123", Kind::Phone, "415 555 0123", "national_phone"),
            ("020 7946 0958 2 times", Kind::Phone, "020 7946 0958", "national_phone"),
            ("1-800-555-0123", Kind::Phone, "1-800-555-0123", "national_phone"),
            ("06 12 34 56 78", Kind::Phone, "06 12 34 56 78", "national_phone"),
            ("01.99.00.54.56", Kind::Phone, "01.99.00.54.56", "national_phone"),
            ("call 030/23125206 today", Kind::Phone, "030/23125206", "national_phone"),
            ("4111111111111111", Kind::Card, "4111111111111111", "visa"),
            ("card 4111 1111 1111 1111, exp", Kind::Card, "4111 1111 1111 1111", "visa"),
            ("4111-1111-1111-1111", Kind::Card, "4111-1111-1111-1111", "visa"),
            ("378282246310005", Kind::Card, "378282246310005", "amex"),
            ("3782 822463 10005", Kind::Card, "3782 822463 10005", "amex"),
            ("5555555555554444", Kind::Card, "5555555555554444", "mastercard"),
            ("2223003122003222", Kind::Card, "2223003122003222", "mastercard"),
            ("6011111111111117", Kind::Card, "6011111111111117", "discover"),
            ("3530111333300000", Kind::Card, "3530111333300000", "jcb"),
            ("30569309025904", Kind::Card, "30569309025904", "diners"),
            ("GB82WEST12345698765432", Kind::Iban, "GB82WEST12345698765432", "iban"),
            ("DE89370400440532013000.", Kind::Iban, "DE89370400440532013000", "iban"),
            ("IBAN GB82 WEST 1234 5698 7654 32, ok", Kind::Iban, "GB82 WEST 1234 5698 7654 32", "iban"),
            ("FR1420041010050500013M02606", Kind::Iban, "FR1420041010050500013M02606", "iban"),
            ("NL91ABNA0417164300", Kind::Iban, "NL91ABNA0417164300", "iban"),
            ("from 192.168.1.20.", Kind::Ip, "192.168.1.20", "ipv4"),
            ("10.0.0.1:8080", Kind::Ip, "10.0.0.1", "ipv4"),
            ("10.0.0.0/8", Kind::Ip, "10.0.0.0", "ipv4"),
            ("0.0.0.0", Kind::Ip, "0.0.0.0", "ipv4"),
            ("host 2001:db8::1 up", Kind::Ip, "2001:db8::1", "ipv6"),
            ("::1", Kind::Ip, "::1", "ipv6"),
            ("::ffff:192.0.2.1", Kind::Ip, "::ffff:192.0.2.1", "ipv6"),
            ("[2001:db8::1]:443", Kind::Ip, "2001:db8::1", "ipv6"),
            ("addr:fe80::1%eth0", Kind::Ip, "fe80::1", "ipv6"),
            ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", Kind::Ip, "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6"),
            ("SSN 123-45-6789", Kind::NationalId, "123-45-6789", "us_ssn"),
            ("123 45 6789", Kind::NationalId, "123 45 6789", "us_ssn"),
            ("AB123456C", Kind::NationalId, "AB123456C", "uk_nino"),
            ("NI: AB 12 34 56 C.", Kind::NationalId, "AB 12 34 56 C", "uk_nino"),
            ("DNI 12345678Z", Kind::NationalId, "12345678Z", "es_dni"),
            ("12345678-Z", Kind::NationalId, "12345678-Z", "es_dni"),
            ("X1234567L", Kind::NationalId, "X1234567L", "es_nie"),
            ("046 454 286", Kind::NationalId, "046 454 286", "ca_sin"),
            ("046-454-286", Kind::NationalId, "046-454-286", "ca_sin"),
            ("811218-9876", Kind::NationalId, "811218-9876", "se_personnummer"),
            ("19811218-9876", Kind::NationalId, "19811218-9876", "se_personnummer"),
            ("811218+9876", Kind::NationalId, "811218+9876", "se_personnummer"),
            ("key AKIAIOSFODNN7EXAMPLE", Kind::Token, "AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
            (&ghp, Kind::Token, &ghp, "github_token"),
            (&google, Kind::Token, &google[4..], "google_api_key"),
            ("xoxb-123456789012-abcdefABCDEF", Kind::Token, "xoxb-123456789012-abcdefABCDEF", "slack_token"),
            ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", Kind::Token, "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "stripe_key"),
            (jwt, Kind::Token, jwt, "jwt"),
            (pem, Kind::Token, pem, "private_key"),
            ("password=hunter2secret", Kind::Token, "hunter2secret", "secret_assignment"),
            (r#"{"api_key": "abcd1234efgh5678"}"#, Kind::Token, "abcd1234efgh5678", "secret_assignment"),
            ("DB_PASSWORD = 'correct horse battery'", Kind::Token, "correct horse battery", "secret_assignment"),
            ("?token=abcdefgh123&x=1", Kind::Token, "abcdefgh123", "secret_assignment"),
            (&bearer, Kind::Token, jwt, "jwt"),
        ];
        for (text, kind, matched, rule) in cases {
            expect_hit(text, kind, matched, rule);
        }
    }

    #[test]
    fn true_negatives() {
        for text in [
            "foo@bar",
            "@handle",
            "a@b.c",
            "bob@example.c",
            "bob.@example.com",
            "bob@-example.com",
            "2024-01-15",
            "15.01.2024",
            "01/15/2024",
            "12:30:45",
            "2024-01-15T10:30:00Z",
            "2024-01-15 10:30:00",
            "1234.56",
            "1,234.56",
            "$1,234,567.89",
            "1 234 567 890",
            "123.456.789",
            "12345.6789",
            "1.2.3",
            "v1.2.3",
            "Version 10.15.7 build 20240115",
            "123456789",
            "order 1234567890123",
            "550e8400-e29b-41d4-a716-446655440000",
            "550E8400-E29B-41D4-A716-446655440000",
            "555-0123",
            "94105-1234",
            "978-3-16-148410-0",
            "4111111111111112",
            "4111 1111 1111 1112",
            "41111111111111110",
            "GB83WEST12345698765432",
            "GB82 WEST 1234 5698 7654 33",
            "DE88370400440532013000",
            "256.1.1.1",
            "1.2.3.4.5",
            "01.2.3.4",
            "192.168.100.200.7",
            "std::fmt::Display and Vec::new",
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-6789",
            "QQ123456C",
            "GB123456A",
            "AB123456E",
            "12345678A",
            "X1234567A",
            "password: x",
            "password: hunter2",
            "if token == expected_token_value",
            "max_tokens=100000000",
            "AKIAIOSFODNN7EXAMPLEX",
        ] {
            assert_eq!(hits(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn invalid_checksums_are_not_national_ids() {
        for text in ["046 454 287", "811218-9875", "816218-9876", "800 000 002"] {
            assert!(
                hits(text).iter().all(|h| h.0 != Kind::NationalId),
                "{text:?}: {:?}",
                hits(text)
            );
        }
    }

    #[test]
    fn redact_mixed_sentence_and_idempotence() {
        let d = Detectors::new();
        let text = "Call +1 415-555-0123 or mail bob@example.com; card 4111 1111 1111 1111, \
                    IBAN GB82 WEST 1234 5698 7654 32, from 10.1.2.3";
        let mut once = String::from(">");
        assert_eq!(d.redact_into(text, &mut once), 5);
        assert_eq!(
            once,
            ">Call [PHONE] or mail [EMAIL]; card [CARD], IBAN [IBAN], from [IP]"
        );
        let mut twice = String::new();
        assert_eq!(d.redact_into(&once, &mut twice), 0);
        assert_eq!(twice, once);

        let mut s = String::new();
        assert_eq!(d.redact_into("password=hunter2secret and ssn 123-45-6789", &mut s), 2);
        assert_eq!(s, "password=[TOKEN] and ssn [NATIONAL_ID]");
        let placeholders: Vec<_> = Kind::ALL.iter().map(|k| k.placeholder()).collect();
        let all = placeholders.join(" ");
        assert_eq!(hits(&all), vec![]);
        for p in placeholders {
            assert_eq!(hits(&format!("token={p}")), vec![], "{p}");
            assert_eq!(hits(&format!("{p}{p}:{p}@{p}.{p}")), vec![], "{p}");
        }
    }

    #[test]
    fn overlaps_resolve_to_longest_then_kind_order() {
        // Same span as the secret value: Card is earlier in Kind order.
        assert_eq!(
            hits("password=4111111111111111"),
            vec![(Kind::Card, "4111111111111111".into(), "visa")]
        );
        // The longer e164 phone wins over the national form inside it.
        assert_eq!(
            hits("+1 415-555-0123"),
            vec![(Kind::Phone, "+1 415-555-0123".into(), "e164_phone")]
        );
        // IPv6 with an embedded IPv4 beats the IPv4 inside it.
        assert_eq!(hits("::ffff:192.0.2.1").len(), 1);
        // Phones yield to structured hits of the same digits.
        assert_eq!(hits("046 454 286")[0].0, Kind::NationalId);
        assert_eq!(hits("3782 822463 10005")[0].0, Kind::Card);
    }

    #[test]
    fn find_is_sorted_disjoint_and_appends() {
        let d = Detectors::new();
        let text = "a@example.com 10.0.0.1 +44 20 7946 0958 AB123456C x@y.org 4111111111111111 \
                    password: 'hunter2secret' 2001:db8::1 GB82WEST12345698765432";
        let mut out = vec![Hit {
            kind: Kind::Ip,
            start: 99,
            end: 100,
            rule: "sentinel",
        }];
        d.find(text, &mut out);
        assert_eq!(out[0].rule, "sentinel");
        let found = &out[1..];
        assert_eq!(found.len(), 9, "{found:?}");
        assert!(found.windows(2).all(|w| w[0].end <= w[1].start));
        assert_eq!(d.first(text), Some(found[0]));
        assert_eq!(d.first("nothing to see here"), None);
    }

    #[test]
    fn non_ascii_text_uses_char_boundaries() {
        let text = "Zoë Müller, Straße 5, 東京 bob@example.com 電話+81 3-1234-5678 ÄB123456C";
        let found = hits(text);
        assert_eq!(
            found.iter().map(|(k, m, _)| (*k, m.as_str())).collect::<Vec<_>>(),
            [(Kind::Email, "bob@example.com"), (Kind::Phone, "+81 3-1234-5678")]
        );
        assert_eq!(hits("Zoë Müller, Straße 5, 東京"), vec![]);
        let mut out = String::new();
        Detectors::new().redact_into(text, &mut out);
        assert_eq!(out, "Zoë Müller, Straße 5, 東京 [EMAIL] 電話[PHONE] ÄB123456C");
    }

    /// `cargo test --release -- --ignored --nocapture bench`
    #[test]
    #[ignore]
    fn bench() {
        use std::hint::black_box;
        use std::time::Instant;
        let d = Detectors::new();
        let texts = [
            (
                "prose, no digits",
                "The customer said the parcel arrived late and the box was damaged; please follow up with \
                 the courier and apologise on our behalf.",
            ),
            (
                "note with numbers",
                "Customer called about order 48213 placed on 2024-03-12; refund of 23.50 EUR approved, \
                 ticket closed at 14:05 by agent Maria (v2.3.1).",
            ),
            ("short cell", "Jonathan Smith"),
            (
                "with PII",
                "Call +1 415-555-0123 or mail bob@example.com; card 4111 1111 1111 1111, IBAN GB82 WEST \
                 1234 5698 7654 32, from 10.1.2.3",
            ),
        ];
        let mut v = Vec::new();
        for (name, t) in texts {
            let n = 200_000;
            let start = Instant::now();
            for _ in 0..n {
                v.clear();
                d.find(black_box(t), &mut v);
            }
            let find = start.elapsed().as_nanos() as f64 / f64::from(n);
            let start = Instant::now();
            for _ in 0..n {
                black_box(d.first(black_box(t)));
            }
            let first = start.elapsed().as_nanos() as f64 / f64::from(n);
            eprintln!("{name:>18} ({:3} B): find {find:7.1} ns, first {first:7.1} ns", t.len());
        }
    }
}
