//! Payment card numbers (PAN): validated by Luhn, labelled by the issuer table.
//!
//! A card is 12–19 digits, contiguous or written in card groupings, whose Luhn sum is valid.
//! The issuer table below names the network when the number's prefix (IIN) and length are one
//! of a network's; a Luhn-valid number of 13–19 digits with a prefix no network in the table
//! uses is still a card (rule `card_unknown_issuer`): issuers add ranges every year, and a
//! scrubber that misses a new range leaks. Twelve-digit numbers are cards only in Maestro's
//! ranges, because many other 12-digit numbers (Japan's My Number, UPC barcodes) carry a check
//! digit too. The cost, one in ten random 13–19 digit numbers redacted as a card, is measured
//! in BENCHMARKS.md.

use super::text::{digits_end, left_ok, luhn, num, right_ok, Groups, Text};
use super::{Finder, Hit, Kind};

pub(super) struct Cards;

impl Finder for Cards {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        let b = t.b;
        for r in &t.runs {
            if !left_ok(b, r.start) {
                continue;
            }
            if let Some((end, rule)) = card_at(b, r.start) {
                out.push(Hit::new(Kind::Card, r.start, end, rule));
            }
        }
    }
}

/// A card starting at the digit run at `i`: the run itself (12–19 digits), or card groups
/// joined by one repeated ` ` or `-`. A grouped run that continues may still hold a card in
/// its leading groups ("4111 1111 1111 1111 12/27"), so shorter prefixes are tried too.
fn card_at(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let e = digits_end(b, i);
    if e - i >= 12 {
        return (e - i <= 19 && right_ok(b, e))
            .then(|| issuer(&b[i..e]))
            .flatten()
            .map(|r| (e, r));
    }
    if e - i != 4 || !matches!(b.get(e), Some(b' ' | b'-')) {
        return None;
    }
    let g = Groups::at(b, i, b" -");
    let mut buf = [0u8; 19];
    for k in (3..=g.n).rev() {
        let n = g.total(k);
        if !(12..=19).contains(&n) || !card_grouping(&g, k) || !right_ok(b, g.end[k - 1]) {
            continue;
        }
        // A window of a longer chain of groups is not a card ("1234 5678 9012 3456 7890 12").
        if k < g.n && g.len(k) >= 3 {
            continue;
        }
        if let Some(rule) = g.digits(b, k, &mut buf).and_then(issuer) {
            return Some((g.end[k - 1], rule));
        }
    }
    // Two groups: American Express and Diners are printed 4-6-5 and 4-6-4, which are three.
    None
}

/// How card numbers are printed: groups of 4 with a shorter last group (`4-4-4-4`,
/// `4-4-4-4-3`, `4-4-4`), or American Express's `4-6-5` and Diners' `4-6-4`. Phone numbers
/// (`3-3-4`, `001-267-618-3225`) and thousands groupings are not card groupings.
fn card_grouping(g: &Groups, k: usize) -> bool {
    let fours = (0..k - 1).all(|j| g.len(j) == 4) && (1..=4).contains(&g.len(k - 1));
    let amex_diners = k == 3 && g.len(0) == 4 && g.len(1) == 6 && matches!(g.len(2), 4 | 5);
    fours || amex_diners
}

/// The rule for a Luhn-valid number: the network whose prefix and length it has, else
/// `card_unknown_issuer` for 13–19 digits; `None` when Luhn fails or a 12-digit number is not
/// Maestro's.
pub(super) fn issuer(d: &[u8]) -> Option<&'static str> {
    if !luhn(d) {
        return None;
    }
    let len = d.len();
    let known = ISSUERS.iter().find(|iss| {
        let p = num(&d[..usize::from(iss.digits)]);
        (iss.lo..=iss.hi).contains(&p) && iss.lengths & (1 << len) != 0
    });
    match known {
        Some(iss) => Some(iss.name),
        None if len >= 13 => Some("card_unknown_issuer"),
        None => None,
    }
}

/// One issuer range: prefixes `lo..=hi` over the first `digits` digits, and the lengths the
/// network issues (bit n set: n digits).
struct Issuer {
    name: &'static str,
    digits: u8,
    lo: u32,
    hi: u32,
    lengths: u32,
}

const fn lens(from: u32, to: u32) -> u32 {
    ((1 << (to + 1)) - 1) & !((1 << from) - 1)
}

const fn iss(name: &'static str, digits: u8, lo: u32, hi: u32, lengths: u32) -> Issuer {
    Issuer {
        name,
        digits,
        lo,
        hi,
        lengths,
    }
}

/// The networks' published IIN ranges (ISO/IEC 7812 issuer tables as of 2026). Order matters
/// only where ranges overlap: the more specific range comes first.
const ISSUERS: &[Issuer] = &[
    iss("visa", 1, 4, 4, 1 << 13 | 1 << 16 | 1 << 19),
    iss("amex", 2, 34, 34, 1 << 15),
    iss("amex", 2, 37, 37, 1 << 15),
    iss("mir", 4, 2200, 2204, lens(16, 19)),
    iss("mastercard", 4, 2221, 2720, 1 << 16),
    iss("mastercard", 2, 51, 55, 1 << 16),
    iss("discover", 4, 6011, 6011, lens(16, 19)),
    iss("discover", 6, 622_126, 622_925, lens(16, 19)),
    iss("discover", 3, 644, 649, lens(16, 19)),
    iss("discover", 2, 65, 65, lens(16, 19)),
    iss("jcb", 4, 3528, 3589, lens(16, 19)),
    iss("jcb", 4, 1800, 1800, 1 << 15),
    iss("jcb", 4, 2131, 2131, 1 << 15),
    iss("diners", 3, 300, 305, lens(14, 19)),
    iss("diners", 4, 3095, 3095, lens(14, 19)),
    iss("diners", 2, 36, 36, lens(14, 19)),
    iss("diners", 2, 38, 39, lens(16, 19)),
    iss("unionpay", 2, 62, 62, lens(16, 19)),
    iss("unionpay", 4, 8100, 8171, lens(16, 19)),
    iss("rupay", 2, 60, 60, 1 << 16),
    iss("rupay", 3, 508, 508, 1 << 16),
    iss("rupay", 2, 81, 82, 1 << 16),
    iss("verve", 6, 506_099, 506_198, 1 << 16 | 1 << 18 | 1 << 19),
    iss("verve", 6, 650_002, 650_027, 1 << 16 | 1 << 18 | 1 << 19),
    iss("uatp", 1, 1, 1, 1 << 15),
    iss("troy", 4, 9792, 9792, 1 << 16),
    iss("dankort", 4, 5019, 5019, 1 << 16),
    iss("humo", 4, 9860, 9860, 1 << 16),
    iss("uzcard", 4, 8600, 8600, 1 << 16),
    iss("borica", 4, 2205, 2205, 1 << 16),
    iss("maestro", 2, 50, 50, lens(12, 19)),
    iss("maestro", 2, 56, 69, lens(12, 19)),
    // Listed as Maestro UK in older issuer tables, and still produced by test generators.
    iss("maestro", 4, 604, 604, lens(12, 19)),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Option<&'static str> {
        let t = Text::new(s);
        let mut out = Vec::new();
        Cards.scan(&t, &mut out);
        out.first().map(|h| h.rule)
    }

    /// Numbers from the networks' published test ranges and from other generators, each
    /// with its Luhn digit.
    #[test]
    fn every_network_and_length() {
        for (n, want) in [
            ("4222222222222", "visa"),
            ("4111111111111111", "visa"),
            ("4111111111111111003", "visa"),
            ("5555555555554444", "mastercard"),
            ("2223003122003222", "mastercard"),
            ("378282246310005", "amex"),
            ("6011111111111117", "discover"),
            ("6011000990139424", "discover"),
            ("3530111333300000", "jcb"),
            ("3566002020360505", "jcb"),
            ("180053733300793", "jcb"),
            ("213112345678904", "jcb"),
            ("30569309025904", "diners"),
            ("36227206271667", "diners"),
            ("6200000000000005", "unionpay"),
            ("6212345678901232", "unionpay"),
            ("6759649826438453", "maestro"),
            ("501800000009", "maestro"),
            ("060454545454", "maestro"),
            ("2200000000000004", "mir"),
            ("122000000000003", "uatp"),
            ("9792000000000003", "troy"),
            ("7000000000000005", "card_unknown_issuer"),
            ("8888888888880", "card_unknown_issuer"),
        ] {
            assert!(luhn(n.as_bytes()), "{n} fails Luhn");
            assert_eq!(rule(n), Some(want), "{n}");
        }
    }

    #[test]
    fn groupings() {
        for (s, want) in [
            ("4111 1111 1111 1111", Some("visa")),
            ("4111-1111-1111-1111", Some("visa")),
            ("3782 822463 10005", Some("amex")),
            ("3056 930902 5904", Some("diners")),
            ("5018 0000 0009", Some("maestro")),
            ("4111 1111 1111 1111 003", Some("visa")),
            ("card 4111 1111 1111 1111 12/27", Some("visa")),
            // Phone and other groupings are not cards, whatever their Luhn sum.
            ("001-267-618-3225", None),
            ("463-025-299-5725", None),
            ("4111 1111 1111 1111 1234 5678", None),
            ("4111 1111 1111 1112", None),
            ("411111111111", None),
            ("41111111111111110", None),
        ] {
            assert_eq!(rule(s), want, "{s}");
        }
    }
}
