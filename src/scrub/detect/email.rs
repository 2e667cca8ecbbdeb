//! E-mail addresses: `local@domain.tld`.
//!
//! The local part is RFC 5322 atom characters (sub-addresses such as `bob+news` included),
//! letters of any script written with spaces (RFC 6531: `josé@…`, `иван@…`), or a quoted
//! string (`"john doe"@example.com`); no leading, trailing or doubled dot. The delimiters
//! `= / | \` { }` end it, because in practice they separate an address from surrounding text
//! (`email=bob@x.com`). The domain needs two or more labels of letters, digits and `-` (not
//! starting or ending with `-`; internationalized labels in their Unicode or `xn--` form) and
//! a top-level label of at least 2 letters. Han, kana and Hangul end an address, because text
//! in those scripts runs into it without a space. Trailing sentence punctuation is not part of
//! the hit.

use memchr::memchr_iter;

use super::text::{at, is_cjk, is_word, Text, F_AT};
use super::{Finder, Hit, Kind};

pub(super) struct Emails;

impl Finder for Emails {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        if !t.has(F_AT) {
            return;
        }
        for a in memchr_iter(b'@', t.b) {
            if let Some((s, e)) = email_at(t.s, a) {
                out.push(Hit::new(Kind::Email, s, e, "email"));
            }
        }
    }
}

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".!#$%&'*+?^_~-".contains(&c)
}

/// A letter or digit of a script written with spaces between words.
fn is_spaced_alnum(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// The start of the local part that ends at `a` (the `@`).
fn local_start(text: &str, a: usize) -> Option<usize> {
    let b = text.as_bytes();
    if a > 1 && b[a - 1] == b'"' {
        // A quoted local part: printable text up to the opening quote, no line breaks.
        let open = b[..a - 1].iter().rposition(|&c| c == b'"' || c == b'\n')?;
        let ok = b[open] == b'"' && a - open <= 66 && open + 1 < a - 1;
        return ok.then_some(open);
    }
    let mut s = a;
    for (i, c) in text[..a].char_indices().rev() {
        let ok = if c.is_ascii() {
            is_local(c as u8)
        } else {
            is_spaced_alnum(c)
        };
        // "see...bob@x.com": an ellipsis ends the local part, since ".." cannot be in one.
        if !ok || (c == '.' && i > 0 && b[i - 1] == b'.') {
            break;
        }
        s = i;
        if a - s > 64 {
            return None;
        }
    }
    // Opening quotes and the like: "'bob@x.com'" is the address bob@x.com.
    while s < a && b[s].is_ascii() && !is_word(b[s]) {
        s += 1;
    }
    (s < a && b[a - 1] != b'.').then_some(s)
}

fn email_at(text: &str, a: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let s = local_start(text, a)?;
    let (mut p, mut labels) = (a + 1, 0);
    let tld = loop {
        let ls = p;
        p = label_end(text, p);
        if p == ls || p - ls > 63 || b[ls] == b'-' || b[p - 1] == b'-' {
            return None;
        }
        labels += 1;
        if at(b, p) == b'.' && label_end(text, p + 1) > p + 1 {
            p += 1;
        } else {
            break &text[ls..p];
        }
    };
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || (tld.len() > 4 && tld.as_bytes()[..4].eq_ignore_ascii_case(b"xn--"));
    if labels < 2 || !tld_ok || at(b, p) == b'_' || p - a - 1 > 253 {
        return None;
    }
    Some((s, p))
}

/// The end of a domain label starting at `p`: ASCII letters, digits and `-`, and letters of
/// scripts written with spaces.
fn label_end(text: &str, p: usize) -> usize {
    let Some(rest) = text.get(p..) else { return p };
    let len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && is_spaced_alnum(c))))
        .map_or(rest.len(), |(i, _)| i);
    p + len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<&str> {
        let t = Text::new(s);
        let mut out = Vec::new();
        Emails.scan(&t, &mut out);
        out.iter().map(|h| &s[h.start..h.end]).collect()
    }

    #[test]
    fn addresses() {
        for (text, want) in [
            (
                "mail me at bob.smith+x@mail.example.co.uk, thanks",
                "bob.smith+x@mail.example.co.uk",
            ),
            ("Contact: alice@example.com.", "alice@example.com"),
            ("<o'brien@example.ie>", "o'brien@example.ie"),
            ("email=bob@example.com", "bob@example.com"),
            ("see...bob@example.com", "bob@example.com"),
            (r#"write to "john doe"@example.com today"#, r#""john doe"@example.com"#),
            ("josé.garcía@correo.es", "josé.garcía@correo.es"),
            ("иван@пример.рф", "иван@пример.рф"),
            ("info@bücher.de", "info@bücher.de"),
            ("info@xn--bcher-kva.de", "info@xn--bcher-kva.de"),
            ("連絡先はtaro@example.co.jpです", "taro@example.co.jp"),
            ("メール：hanako.sato@example.com。", "hanako.sato@example.com"),
            ("KATRIN.MEIER@WEB.DE", "KATRIN.MEIER@WEB.DE"),
        ] {
            assert_eq!(found(text), [want], "{text}");
        }
        for text in [
            "foo@bar",
            "@handle",
            "a@b.c",
            "bob@example.c",
            "bob.@example.com",
            "bob@-example.com",
            "\"\"@x.com",
            // A top-level label whose fourth byte is inside a char (found by fuzzing).
            "via37@uo.o3aǜ",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
