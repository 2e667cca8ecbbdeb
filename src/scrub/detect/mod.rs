//! PII detectors: the one place that decides whether text contains personal data, and where.
//!
//! `redact` (replaces hits in free text), `verify` (its `pii` check fails if any output cell
//! still has a hit) and `scan` (reports which columns look like PII) all use these rules.
//!
//! Each kind has its own finder, in its own file, behind one interface ([`Finder`]); they all
//! read one [`Text`], which holds the cell's bytes and its digit runs, worked out once. The
//! finders report overlapping candidates freely, and [`resolve`] alone decides between them.
//!
//! The detectors run on every cell of dumps with millions of rows. Most cells hold no PII, so
//! the cheap checks come first: no `@` means no e-mail address, and no ASCII digit rules out
//! phones, cards, IBANs, IPs and national ids, whose finders then have no digit runs to look
//! at. Every numeric candidate except phones is validated (Luhn, mod-97, registry lengths,
//! calendar dates, check letters and digits); phones have no checksum, so their shapes are
//! strict. False positives have a real cost: a scrubber that redacts dates, amounts and order
//! numbers destroys the data it is meant to keep.
//!
//! Offsets are byte offsets into the UTF-8 text. Every rule starts and ends a hit next to an
//! ASCII byte or a whole character, so hit boundaries are always on char boundaries.
//! Non-ASCII bytes are not word characters, so PII inside CJK text (which has no spaces) is
//! still found.

use std::fmt;

mod card;
mod email;
mod iban;
mod ip;
mod mac;
mod national_id;
mod phone;
mod text;
mod token;

pub use text::is_cjk;
use text::Text;

/// What kind of personal data a hit is. The declaration order is also the tie-break order when
/// two equally long candidates overlap. Each kind's rules are documented in its finder's file.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    /// E-mail addresses (`email.rs`).
    Email,
    /// Phone numbers, international and national forms with extensions (`phone.rs`).
    Phone,
    /// Payment card numbers: Luhn-valid, labelled by issuer (`card.rs`).
    Card,
    /// IBANs of every registry country, mod-97 checked (`iban.rs`).
    Iban,
    /// IPv4 and IPv6 addresses (`ip.rs`).
    Ip,
    /// MAC addresses (`mac.rs`).
    Mac,
    /// National identity numbers of several countries, each with its check (`national_id.rs`).
    NationalId,
    /// Credentials: vendor tokens, private keys, secret assignments (`token.rs`).
    Token,
}

impl Kind {
    /// Every kind, in declaration order (the default of `redact: {kinds: ...}`).
    pub const ALL: [Kind; 8] = [
        Kind::Email,
        Kind::Phone,
        Kind::Card,
        Kind::Iban,
        Kind::Ip,
        Kind::Mac,
        Kind::NationalId,
        Kind::Token,
    ];

    /// "email", "phone", "card", "iban", "ip", "mac", "national_id", "token": the name
    /// rules (`redact: {kinds: [...]}`) and reports use.
    pub fn name(self) -> &'static str {
        self.into()
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
            Kind::Mac => "[MAC]",
            Kind::NationalId => "[NATIONAL_ID]",
            Kind::Token => "[TOKEN]",
        }
    }
}

/// One finding: byte range in the text, and which rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// What kind of personal data it is.
    pub kind: Kind,
    /// Byte offset of its first byte in the text.
    pub start: usize,
    /// Byte offset just past its last byte.
    pub end: usize,
    /// The finder's rule that matched (`email`, `ipv4`), for tests and `scan`.
    pub rule: &'static str,
}

impl Hit {
    fn new(kind: Kind, start: usize, end: usize, rule: &'static str) -> Hit {
        Hit { kind, start, end, rule }
    }
    fn len(&self) -> usize {
        self.end - self.start
    }
    fn overlaps(&self, o: &Hit) -> bool {
        self.start < o.end && o.start < self.end
    }
}

/// One kind's finder: appends every candidate it sees in the text. Candidates may overlap
/// each other and other kinds'; [`resolve`] decides.
trait Finder: Send + Sync {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>);
}

/// Most scans one redaction makes. Each scan after the first runs only because the one
/// before replaced something glued to other text, so real text needs two at most; the
/// bound keeps a crafted chain of glued numbers from costing more than this many passes
/// over the text (and past it, the last findings of such a chain stay).
pub const REDACT_ROUNDS: usize = 64;

/// The placeholder redaction writes for a run of 7 or more digits that no rule explains.
pub const NUMBER_PLACEHOLDER: &str = "[NUMBER]";

/// Whether a placeholder (`[` + upper-case letters, digits, `_` or `.` + `]`) starts at `p`.
/// Secret values stop at one, so redacting twice is the same as redacting once.
fn placeholder_at(b: &[u8], p: usize) -> bool {
    let Some(rest) = b.get(p + 1..) else { return false };
    let n = rest
        .iter()
        .take_while(|&&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_' || c == b'.')
        .count();
    b[p] == b'[' && n > 0 && rest.get(n) == Some(&b']')
}

/// Compiled detectors: build once and share between threads. Cloning is cheap because the
/// regex is reference-counted internally.
#[derive(Clone)]
pub struct Detectors {
    tokens: std::sync::Arc<token::Tokens>,
}

impl fmt::Debug for Detectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Detectors")
    }
}

impl Default for Detectors {
    fn default() -> Self {
        Self::new()
    }
}

impl Detectors {
    /// Every detector, with its tables built once (share the value across threads).
    pub fn new() -> Self {
        Detectors {
            tokens: std::sync::Arc::new(token::Tokens::new()),
        }
    }

    fn finders(&self) -> [&dyn Finder; 8] {
        [
            &email::Emails,
            &phone::Phones,
            &card::Cards,
            &iban::Ibans,
            &ip::Ips,
            &mac::Macs,
            &national_id::NationalIds,
            &*self.tokens,
        ]
    }

    /// All hits in `text`, sorted by start and non-overlapping, appended to `out`. When
    /// candidates overlap, the longer one wins and ties go to the earlier `Kind`; a winner
    /// grows to cover what it overlaps, so no part of any candidate is left out of a hit. The one
    /// exception: a phone candidate always yields to a card, IBAN, IP, MAC or national id it
    /// overlaps, because the phone rule is the only one with no checksum or fixed structure.
    pub fn find(&self, text: &str, out: &mut Vec<Hit>) {
        let base = out.len();
        let t = Text::new(text);
        for f in self.finders() {
            f.scan(&t, out);
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

    /// Append `text` to `out` with every hit replaced by its kind's placeholder, then every
    /// remaining run of 7 or more digits by `[NUMBER]` and every remaining `x@y.z` token by
    /// `[EMAIL]`; returns the number of replacements.
    ///
    /// The last two are the backstop behind the detectors: a long number or an address in a
    /// shape no rule knows (a new card range, a 13-digit MSISDN, `bob@intranet.corp`) does not
    /// survive redaction, and `verify` checks exactly these tokens against the output.
    ///
    /// Replacing a hit can expose a neighbour that the boundary rules rejected while the hit
    /// was there. In "10.0.0.1+44 20 7946 0958" the phone follows a digit, but in
    /// "[IP]+44 20 7946 0958" it does not; a backstop token gone can do the same. So the
    /// result is scanned again until nothing is found. Each pass only turns non-placeholder
    /// text into placeholders, so this ends; in practice a second pass finds nothing.
    pub fn redact_into(&self, text: &str, out: &mut String) -> usize {
        let mut hits = Vec::new();
        let mut cur = std::borrow::Cow::Borrowed(text);
        let mut count = 0;
        for _ in 0..REDACT_ROUNDS {
            hits.clear();
            self.find(&cur, &mut hits);
            if !hits.is_empty() {
                count += hits.len();
                cur = std::borrow::Cow::Owned(replace_hits(&cur, &hits));
                continue;
            }
            let before = out.len();
            let n = backstop_into(&cur, out);
            if n == 0 {
                return count;
            }
            // A number gone can reveal a neighbour too ("+37 16 3243-9874044-05-12"): again.
            count += n;
            cur = std::borrow::Cow::Owned(out[before..].to_string());
            out.truncate(before);
        }
        count + backstop_into(&cur, out)
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

/// Whether `b[s..e]` is an e-mail-shaped token for the backstop: something, `@`, something
/// with a dot followed by a letter or digit.
fn loose_email(t: &[u8]) -> bool {
    let Some(a) = memchr::memchr(b'@', t) else { return false };
    let domain = &t[a + 1..];
    a > 0
        && domain
            .windows(2)
            .any(|w| w[0] == b'.' && (w[1].is_ascii_alphanumeric() || w[1] >= 0x80))
}

/// The tokens the backstop and `verify` treat as identifying, in order and disjoint: every
/// whitespace-delimited token that holds an `@` with a dotted domain (trailing sentence
/// punctuation and enclosing quotes or brackets trimmed), and every maximal run of 7 or more
/// ASCII digits outside such a token.
pub fn identifying_tokens(text: &str, mut f: impl FnMut(usize, usize)) {
    let b = text.as_bytes();
    let is_space =
        |c: u8| c.is_ascii_whitespace() || matches!(c, b'"' | b'<' | b'>' | b'(' | b')' | b'[' | b']' | b',' | b';');
    if memchr::memchr(b'@', b).is_none() {
        // No address: only the digit runs, which never hold a space.
        long_digit_runs(b, 0, b.len(), &mut f);
        return;
    }
    let mut i = 0;
    while i < b.len() {
        if is_space(b[i]) {
            i += 1;
            continue;
        }
        let token_end = i + b[i..].iter().position(|&c| is_space(c)).unwrap_or(b.len() - i);
        match email_token(text, i, token_end) {
            Some((s, e)) => f(s, e),
            None => long_digit_runs(b, i, token_end, &mut f),
        }
        i = token_end;
    }
}

/// Calls `f` with each maximal run of 7 or more ASCII digits in `b[from..to]`.
fn long_digit_runs(b: &[u8], from: usize, to: usize, f: &mut impl FnMut(usize, usize)) {
    let mut p = from;
    while let Some(k) = b[p..to].iter().position(u8::is_ascii_digit) {
        let s = p + k;
        let e = s + b[s..to].iter().take_while(|c| c.is_ascii_digit()).count();
        if e - s >= 7 {
            f(s, e);
        }
        p = e;
    }
}

/// The e-mail-shaped part of the token `text[s..e]`, if it holds one: the token without
/// trailing sentence punctuation and leading quotes, on whole chars.
fn email_token(text: &str, mut s: usize, mut e: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let at = s + memchr::memchr(b'@', &b[s..e])?;
    while e > at + 1 && matches!(b[e - 1], b'.' | b'!' | b'?' | b':' | b'\'') {
        e -= 1;
    }
    while s < at && b[s] == b'\'' {
        s += 1;
    }
    // Non-ASCII punctuation around the token is not part of it: keep whole chars.
    while !text.is_char_boundary(s) {
        s += 1;
    }
    while !text.is_char_boundary(e) {
        e -= 1;
    }
    (s < at && loose_email(&b[s..e]) && !placeholder_at(b, s)).then_some((s, e))
}

/// Appends `text` with its identifying tokens replaced (`[NUMBER]`, `[EMAIL]`); returns how
/// many. The last step of every redaction.
pub fn backstop_into(text: &str, out: &mut String) -> usize {
    let (mut last, mut n) = (0, 0);
    identifying_tokens(text, |s, e| {
        out.push_str(&text[last..s]);
        let email = memchr::memchr(b'@', &text.as_bytes()[s..e]).is_some();
        out.push_str(if email {
            Kind::Email.placeholder()
        } else {
            NUMBER_PLACEHOLDER
        });
        last = e;
        n += 1;
    });
    out.push_str(&text[last..]);
    n
}

/// Luhn check digit validity of an all-digit string (false for non-digits or empty).
pub fn luhn_valid(digits: &str) -> bool {
    text::luhn(digits.as_bytes())
}

/// IBAN checksum (ISO 13616 mod-97 == 1) and per-country length, on the compact form (no
/// spaces), uppercase.
pub fn iban_valid(compact: &str) -> bool {
    iban::check(compact.as_bytes())
}

/// The IBAN length of a country (`"DE"` → 22) in the registry the IBAN detector uses, or
/// `None` for a code it does not know.
pub fn iban_length(country: &str) -> Option<usize> {
    iban::length(country.as_bytes())
}

/// Rule of a candidate that has a structured shape but fails validation. It suppresses phone
/// candidates inside it and is then dropped, never reported.
pub(crate) const SHAPE_ONLY: &str = "shape_only";

/// Decides between overlapping candidates.
fn resolve(out: &mut Vec<Hit>, base: usize) {
    // A phone candidate yields to any structured hit it overlaps (see `Detectors::find`), and
    // shape-only candidates go once they have done that job.
    let strong = |h: &Hit| {
        matches!(
            h.kind,
            Kind::Card | Kind::Iban | Kind::Ip | Kind::Mac | Kind::NationalId
        )
    };
    let mut w = base;
    for r in base..out.len() {
        let h = out[r];
        // An international number longer than the id inside it stays a phone: `+4428 9018 0917`
        // holds a My Number shape, but the `+` says what it is.
        let yields = h.kind == Kind::Phone
            && out[base..w]
                .iter()
                .chain(&out[r + 1..])
                .any(|o| strong(o) && o.overlaps(&h) && !(h.rule == "e164_phone" && h.len() > o.len()));
        if !yields {
            out[w] = h;
            w += 1;
        }
    }
    out.truncate(w);
    out.retain(|h| h.rule != SHAPE_ONLY);
    // Longest first, then Kind order; keep each candidate that overlaps nothing kept so far.
    out[base..].sort_unstable_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then(a.kind.cmp(&b.kind))
            .then(a.start.cmp(&b.start))
    });
    let mut w = base;
    let mut losers = Vec::new();
    for r in base..out.len() {
        let h = out[r];
        if out[base..w].iter().any(|o| o.overlaps(&h)) {
            losers.push(h);
        } else {
            out[w] = h;
            w += 1;
        }
    }
    out.truncate(w);
    out[base..].sort_unstable_by_key(|h| h.start);
    // A candidate that lost keeps no part of itself in the text: the hits it overlaps grow
    // to cover it, and merge if it joins two ("token: x「GB20 UDZE 0706…" is a secret that
    // runs into an IBAN, and the IBAN's tail must go too). The longest of them names the kind.
    for l in losers {
        let kept = &out[base..];
        let first = base + kept.partition_point(|h| h.end <= l.start);
        let last = base + kept.partition_point(|h| h.start < l.end);
        if first >= last {
            continue; // it overlaps nothing kept (cannot happen: it lost to one)
        }
        let named = (first..last)
            .max_by_key(|&i| (out[i].len(), std::cmp::Reverse(i)))
            .unwrap_or(first);
        let merged = Hit {
            start: out[first].start.min(l.start),
            end: out[last - 1].end.max(l.end),
            ..out[named]
        };
        out[first] = merged;
        out.drain(first + 1..last);
    }
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
        assert_eq!(
            names,
            ["email", "phone", "card", "iban", "ip", "mac", "national_id", "token"]
        );
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

    /// A long number that starts an address no detector takes (a TLD with a digit) is one
    /// token for the backstop, not a number and then an address around it.
    #[test]
    fn backstop_tokens_are_disjoint() {
        let mut tokens = Vec::new();
        let text = "x 1234567@intranet.c0rp, 12345678 'a1234567@b.c0'. 1234567@nodot";
        identifying_tokens(text, |s, e| tokens.push(&text[s..e]));
        assert_eq!(
            tokens,
            ["1234567@intranet.c0rp", "12345678", "a1234567@b.c0", "1234567"]
        );
        let mut out = String::new();
        assert_eq!(Detectors::new().redact_into(text, &mut out), 4);
        assert_eq!(out, "x [EMAIL], [NUMBER] '[EMAIL]'. [NUMBER]@nodot");
    }

    /// The phone is glued to a long number, so only the backstop takes the number at first;
    /// then the phone stands alone and is found: redaction scans again after the backstop.
    #[test]
    fn backstop_reveals_a_neighbour() {
        let d = Detectors::new();
        let mut once = String::new();
        d.redact_into("call +37 16 3243-9874044-05-12.", &mut once);
        assert_eq!(once, "call [PHONE]-[NUMBER]-05-12.");
        let mut twice = String::new();
        assert_eq!(d.redact_into(&once, &mut twice), 0);
    }

    /// A secret's value that runs into an IBAN and an IBAN that runs past a secret's value:
    /// either way one hit covers both, named after the longer.
    #[test]
    fn a_losing_candidate_leaves_nothing_behind() {
        let long = "token: abcdefghijklmnopqrstuvwxyz0123456789「GB82 WEST 1234 5698 7654 32 ok";
        assert_eq!(
            hits(long),
            [(
                Kind::Token,
                "abcdefghijklmnopqrstuvwxyz0123456789「GB82 WEST 1234 5698 7654 32".into(),
                "secret_assignment"
            )]
        );
        let short = "token: abc「GB82 WEST 1234 5698 7654 32 ok";
        assert_eq!(
            hits(short),
            [(Kind::Iban, "abc「GB82 WEST 1234 5698 7654 32".into(), "iban")]
        );
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
}
