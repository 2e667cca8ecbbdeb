//! Phone numbers. They have no checksum, so the shapes are strict, and every other rule wins
//! over a phone it overlaps (see `resolve`).
//!
//! A candidate is a chain of digit groups joined by at most two of ` -./` and at most one
//! pair of parentheses, optionally followed by an extension (`x123`, ` x 123`, `ext. 45`,
//! `#45`). It is a phone when one of these holds:
//! - Rule `e164_phone`: it starts with `+`, or with the international prefix `00` (`001-…`,
//!   `0049 …`), and has 7–15 digits after it, in any grouping (`+44161 496 0663`,
//!   `+7-(937)-896-91-77`, `+81 3-1234-5678`, `+44 (0)20 7946 0958`).
//! - Rule `national_phone`:
//!   - a parenthesised area code of 2–5 digits first, or after a one-digit trunk prefix
//!     (`(415) 555-0123`, `(028) 9018450`, `8 (951) 956-9034`, `1 (456) 952-6156`), 7–15
//!     digits in total;
//!   - a leading trunk `0` and 9–13 digits in 2–6 groups, separators mixed or not
//!     (`0701-234567`, `030/23125206`, `06 12 34 56 78`, `0227-03 81 40`, `08-260 172 67`);
//!   - 3 groups joined by one repeated separator with 9–15 digits, the last group at least
//!     as long as the middle one (`415-555-0123`, `020 7946 0958`, `302.298.2109x30137`);
//!   - 4–6 groups of 2–4 digits joined by one repeated space or `-`, 9–13 digits, not a
//!     thousands grouping (`32 753 87 88`, `8 643 523 45 12`), or NANP's `1-800-555-0123`;
//!   - Brazil's `68 6850-3706`, Stockholm's `08-11 82 27`, and 9 digits as `3-3-3` from 5–9
//!     (Spain and Poland: `913 193 619`, `905.842.512`, `904-916-762`);
//!   - one run of 9–11 digits starting with the trunk `0` and a non-zero digit
//!     (`0159746287`), 11 digits starting with `1` and a digit 2–9 (NANP with its country
//!     code, China's mobiles: `16288276510`) or with Russia's trunk `8`, or 10 digits
//!     starting with 6–9 (India's mobiles).
//!
//! Not phones: dates (`15.01.2024 1030`), thousands groupings, dotted quads, the SSN shape
//! `3-2-4`, groups of one digit, a chain that continues with more groups, and anything a card,
//! IBAN, IP or national id rule also matches.

use smallvec::SmallVec;

use super::text::{at, before, is_word, left_ok, num, right_ok, Run, Text};
use super::{Finder, Hit, Kind};

pub(super) struct Phones;

impl Finder for Phones {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        let b = t.b;
        let mut covered = 0;
        for r in &t.runs {
            if r.start < covered {
                continue;
            }
            let i = r.start;
            let prev = before(b, i);
            // Where the candidate starts: at a `+` or `(` just before the digits, else at the
            // digits themselves.
            let s = if matches!(prev, b'+' | b'(') && !is_word(before(b, i - 1)) {
                i - 1
            } else {
                i
            };
            if s == i && !left_ok(b, i) {
                continue;
            }
            // A run joined to the one before by the separator that also follows it sits
            // inside a chain that was already tried as a whole ("1 234 567 890"); its tail is
            // not a phone either.
            if s == i && SEPS.contains(&prev) && before(b, i - 1).is_ascii_digit() && at(b, r.end) == prev {
                continue;
            }
            // "(227-517-5089)": a parenthesis that opens the text around the number, not an
            // area code.
            let found = phone_at(b, s).map(|f| (s, f)).or_else(|| {
                (s < i && left_ok(b, i))
                    .then(|| phone_at(b, i))
                    .flatten()
                    .map(|f| (i, f))
            });
            if let Some((s, (end, rule))) = found {
                out.push(Hit::new(Kind::Phone, s, end, rule));
                covered = end;
            }
        }
    }
}

/// A chain of digit groups from `s`.
struct Chain {
    plus: bool,
    groups: SmallVec<[Run; 8]>,
    /// The separator bytes before each group (empty for the first).
    seps: SmallVec<[[u8; 2]; 8]>,
    /// Index of the group in parentheses, if any.
    paren: Option<usize>,
    /// Whether the chain continues past the groups kept (more digits follow a separator).
    more: bool,
}

const SEPS: &[u8] = b" -./";

fn chain(b: &[u8], s: usize) -> Chain {
    let mut c = Chain {
        plus: b[s] == b'+',
        groups: SmallVec::new(),
        seps: SmallVec::new(),
        paren: None,
        more: false,
    };
    let mut p = s + usize::from(c.plus);
    let mut sep = [0u8; 2];
    loop {
        let open = at(b, p) == b'(';
        if open && c.paren.is_some() {
            break;
        }
        let ds = p + usize::from(open);
        let de = super::text::digits_end(b, ds);
        if de == ds || (open && at(b, de) != b')') || c.groups.len() == 8 {
            c.more = !c.groups.is_empty() && de > ds;
            break;
        }
        if open {
            c.paren = Some(c.groups.len());
        }
        c.groups.push(Run { start: ds, end: de });
        c.seps.push(sep);
        p = de + usize::from(open);
        // Up to two separator bytes ("- ", " ."); none is needed after a `)` or before a `(`.
        sep = [0, 0];
        let mut q = p;
        while q - p < 2 && SEPS.contains(&at(b, q)) {
            sep[q - p] = b[q];
            q += 1;
        }
        // ". " ends a sentence, not a group: "… 044-895-4870. 070-0713-…" is two numbers.
        if sep == *b". " {
            break;
        }
        let next = at(b, q);
        let glued = open || next == b'(';
        if !(next.is_ascii_digit() || next == b'(') || (q == p && !glued) {
            break;
        }
        p = q;
    }
    c
}

fn phone_at(b: &[u8], s: usize) -> Option<(usize, &'static str)> {
    let c = chain(b, s);
    let n = c.groups.len();
    // Every rule of `accept` wants 7 digits or more in the groups it takes: a chain with
    // fewer (a year, an amount, a version) is no phone however it is cut.
    if n == 0 || c.groups.iter().map(Run::len).sum::<usize>() < 7 {
        return None;
    }
    for k in (1..=n).rev() {
        // A window of a longer chain is something else ("4111 1111 1111 1112" is a bad card).
        if k < n && c.groups[k].len() >= 3 && c.paren.is_none_or(|p| p >= k) && !c.plus {
            continue;
        }
        if (k == n && c.more && !c.plus) || (k > 1 && c.groups[k - 1].len() < 2) {
            continue;
        }
        let end = c.groups[k - 1].end + usize::from(c.paren == Some(k - 1));
        if c.paren.is_some_and(|p| p >= k) {
            continue;
        }
        if let Some(rule) = accept(b, &c, k) {
            if right_ok(b, end) || extension_end(b, end).is_some() {
                return Some((extension_end(b, end).unwrap_or(end), rule));
            }
        }
    }
    None
}

fn accept(b: &[u8], c: &Chain, k: usize) -> Option<&'static str> {
    let g = &c.groups[..k];
    let lens: SmallVec<[usize; 8]> = g.iter().map(Run::len).collect();
    let total: usize = lens.iter().sum();
    let first = &b[g[0].start..g[0].end];
    let seps = &c.seps[1..k];
    let one_sep = seps
        .iter()
        .all(|s| s[1] == 0 && s[0] == seps.first().map_or(0, |f| f[0]));
    if c.plus {
        return (7..=15).contains(&total).then_some("e164_phone");
    }
    // After the international prefix 00 comes a country code, which never starts with 0.
    let cc = if first.len() > 2 {
        first[2]
    } else {
        g.get(1).map_or(b'0', |r| b[r.start])
    };
    if first.starts_with(b"00") && cc != b'0' && (first.len() <= 5 || (k == 1 && first.len() >= 10)) {
        return (7..=15).contains(&(total - 2)).then_some("e164_phone");
    }
    if let Some(p) = c.paren {
        let area = lens[p];
        let trunk_ok = p == 0 || (p == 1 && lens[0] == 1 && matches!(first[0], b'0' | b'1' | b'8'));
        let rest_ok = lens[p + 1..].iter().all(|&l| l >= 2);
        return (trunk_ok && (2..=5).contains(&area) && rest_ok && (7..=15).contains(&total))
            .then_some("national_phone");
    }
    if seps.iter().any(|s| s.contains(&b'/')) && !(k == 2 && first[0] == b'0' && seps[0] == [b'/', 0]) {
        return None;
    }
    if date_like(b, g, &lens) {
        return None;
    }
    let lead0 = first[0] == b'0';
    let dotted = seps.iter().any(|s| s[0] == b'.');
    // French numbers are written 01.23.45.67.89; other dotted runs of short groups are
    // addresses or versions.
    let french = lead0 && k == 5 && lens.iter().all(|&l| l == 2);
    if dotted && k >= 4 && lens[..4].iter().all(|&l| l <= 3) && !french {
        return None;
    }
    let thousands =
        k >= 2 && lens[1..].iter().all(|&l| l == 3) && (dotted || lens[0] < 3 || seps.iter().all(|s| s[0] == b' '));
    let ok = match k {
        1 => contiguous(first, lead0),
        // Stockholm: `08-11 82 27`.
        4 if lead0 && total == 8 => lens[..] == [2, 2, 2, 2] && seps == [*b"-\0", *b" \0", *b" \0"],
        _ if lead0 => {
            (9..=13).contains(&total)
                && lens[1..].iter().all(|&l| l >= 2)
                && lens[0] <= 5
                && !(k == 2 && (dotted || (lens[..] == [5, 4] && seps[0][0] == b'-')))
                && !thousands
                && lens[..] != [3, 2, 4]
                && seps.iter().all(|s| s[1] == 0 || s == b") ")
        }
        // Brazil: area code, then the number with a dash: `68 6850-3706`.
        3 if !one_sep => lens[0] == 2 && (4..=5).contains(&lens[1]) && lens[2] == 4 && seps == [*b" \0", *b"-\0"],
        _ if !one_sep => false,
        2 => false,
        // Spain and Poland: `913 193 619`, `905.842.512`, `733 640 864`. A thousands
        // grouping has the same shape, but amounts of hundreds of millions are rare in text.
        3 if lens[..] == [3, 3, 3] => matches!(first[0], b'5'..=b'9'),
        3 => {
            (9..=15).contains(&total)
                && lens.iter().all(|&l| l >= 2)
                && lens[0] <= 5
                && lens[2] >= lens[1]
                && lens[2] <= 8
                && !thousands
                && lens[..] != [3, 2, 4]
        }
        _ => {
            let nanp = k == 4 && first == b"1" && lens[..] == [1, 3, 3, 4];
            let spaced = matches!(seps[0][0], b' ' | b'-');
            let trunk_digit = lens[0] == 1 && matches!(first[0], b'1' | b'7' | b'8');
            nanp || (spaced
                && k <= 6
                && (9..=13).contains(&total)
                && lens
                    .iter()
                    .enumerate()
                    .all(|(j, &l)| (2..=4).contains(&l) || (j == 0 && trunk_digit))
                && !thousands)
        }
    };
    ok.then_some("national_phone")
}

/// One run of digits: a trunk `0` and 9–11 digits (`0159746287`), NANP or China with a
/// leading `1` (`16288276510`), Russia's trunk `8` (`85097992627`), or an Indian mobile
/// (`9960814398`; ten digits from 6, so never a Unix time before 2160).
fn contiguous(d: &[u8], lead0: bool) -> bool {
    match (d.len(), d[0]) {
        (9..=11, b'0') => lead0,
        (11, b'1') => (b'2'..=b'9').contains(&d[1]),
        (11, b'8') => true,
        (10, b'6'..=b'9') => true,
        _ => false,
    }
}

/// `15.01.2024 1030`, `2024-01-15 1030`, `01/15/2024`: a day, month and year in the first
/// three groups.
fn date_like(b: &[u8], g: &[Run], lens: &[usize]) -> bool {
    if g.len() < 3 {
        return false;
    }
    let v = |j: usize| num(&b[g[j].start..g[j].end]);
    let year = |j: usize| lens[j] == 4 && (1900..=2099).contains(&v(j));
    let day_month =
        |d: usize, m: usize| lens[d] <= 2 && lens[m] <= 2 && (1..=31).contains(&v(d)) && (1..=12).contains(&v(m));
    (year(2) && (day_month(0, 1) || day_month(1, 0))) || (year(0) && day_month(2, 1))
}

/// An extension after a phone ending at `end`: `x123`, ` x123`, ` x 123`, `ext. 45`,
/// ` ext 45`, `#45`; 1–6 digits. Returns the end of the extension.
fn extension_end(b: &[u8], end: usize) -> Option<usize> {
    let mut p = end + usize::from(at(b, end) == b' ');
    let word = b.get(p..p + 3).is_some_and(|w| w.eq_ignore_ascii_case(b"ext"));
    if word {
        p += 3;
        p += usize::from(at(b, p) == b'.');
    } else if matches!(at(b, p), b'x' | b'X' | b'#') {
        p += 1;
    } else {
        return None;
    }
    p += usize::from(at(b, p) == b' ');
    let e = super::text::digits_end(b, p);
    ((1..=6).contains(&(e - p)) && right_ok(b, e)).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<&str> {
        let t = Text::new(s);
        let mut out = Vec::new();
        Phones.scan(&t, &mut out);
        out.iter().map(|h| &s[h.start..h.end]).collect()
    }

    #[test]
    fn shapes_of_many_locales() {
        for p in [
            "+44 20 7946 0958",
            "+14155550123",
            "+1 (415) 555-0123",
            "+44 (0)20 7946 0958",
            "(415) 555-0123",
            "415-555-0123",
            "415.555.0123",
            "415 555 0123",
            "020 7946 0958",
            "1-800-555-0123",
            "06 12 34 56 78",
            "01.99.00.54.56",
            "030/23125206",
            "362-354-3614x8166",
            "001-792-628-5370x746",
            "+44161 496 0663",
            "+4429 2018 0336",
            "+34978 35 02 44",
            "0159746287",
            "16288276510",
            "8 (951) 956-9034",
            "8 643 523 45 12",
            "0227-03 81 40",
            "08-260 172 67",
            "+49-9217-17185722",
            "(55) 04355-2536",
            "+81 109 9161 4339",
            "+7-(937)-896-91-77",
            "32 753 87 88",
            "1 (456) 952-6156",
            "966-178-7937 x516",
            "302.298.2109x30137",
            "(028) 9018450",
            "+1-271-224-0809",
            "415-555-0123 ext. 45",
            "0049 30 1234567",
            "68 6850-3706",
            "0006-455722",
            "+3157-4662185",
            "8 410 533 8516",
            "00614017603",
            "9960814398",
            "85097992627",
            "905.842.512",
            "733 640 864",
            "904-916-762",
            "08-11 82 27",
        ] {
            assert_eq!(found(&format!("call {p}, thanks")), [p], "{p}");
        }
    }

    #[test]
    fn sentences_end_numbers() {
        assert_eq!(
            found("call 044-895-4870. 070-0713-1234 too"),
            ["044-895-4870", "070-0713-1234"]
        );
    }

    #[test]
    fn parentheses_around_the_number() {
        assert_eq!(found("(227-517-5089)"), ["227-517-5089"]);
        assert_eq!(found("(415) 555-0123"), ["(415) 555-0123"]);
    }

    #[test]
    fn not_phones() {
        for text in [
            "15.01.2024 1030",
            "2024-01-15 10:30",
            "1 234 567 890",
            "123.456.789",
            "$1,234,567.89",
            "192.168.100.200",
            "487-6506",
            "01310-100",
            "94105-1234",
            "978-3-16-148410-0",
            "123-45-6789",
            "order 123456789",
            "1700000000",
            "v1.2.3.4",
            "12 345 678 901",
            "400-12345-678",
            "ZIP 02215-6429",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
