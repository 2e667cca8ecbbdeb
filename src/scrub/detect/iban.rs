//! IBANs: a country code, 2 check digits and a BBAN, compact or in groups of 4 joined by single
//! spaces, upper or lower case. The length must be the country's in the SWIFT IBAN registry
//! (every country and territory it lists, plus the national formats that banks in Africa and
//! Iran use with the same structure), and mod-97 of the rearranged number must be 1.

use super::text::{at, before, is_word, Text};
use super::{Finder, Hit, Kind, SHAPE_ONLY};

pub(super) struct Ibans;

impl Finder for Ibans {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        let b = t.b;
        for r in &t.runs {
            // The check digits follow the country code: "GB82WEST…", "GB82 WEST…", "de89…".
            let i = r.start;
            if i < 2 || r.len() < 2 || !b[i - 2].is_ascii_alphabetic() || !b[i - 1].is_ascii_alphabetic() {
                continue;
            }
            if is_word(before(b, i - 2)) {
                continue;
            }
            if let Some((end, valid)) = iban_at(b, i - 2) {
                out.push(Hit::new(
                    Kind::Iban,
                    i - 2,
                    end,
                    if valid { "iban" } else { SHAPE_ONLY },
                ));
            }
        }
    }
}

/// Returns the end and whether the checksum holds. A well-formed IBAN with a typo in it is
/// still an IBAN, so its digits must not turn up as a phone number (see `SHAPE_ONLY`).
fn iban_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let upper = b[i].is_ascii_uppercase();
    // One case throughout: "DE89 3704…" or "de89 3704…", not "De89…".
    let same_case =
        |c: u8| c.is_ascii_digit() || (upper && c.is_ascii_uppercase()) || (!upper && c.is_ascii_lowercase());
    let cc = [b[i].to_ascii_uppercase(), b[i + 1].to_ascii_uppercase()];
    let want = length(&cc)?;
    if !same_case(b[i + 1]) {
        return None;
    }
    let run_end = |mut p: usize| {
        while same_case(at(b, p)) {
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
    if is_word(at(b, end)) {
        return None;
    }
    buf[..want].make_ascii_uppercase();
    Some((end, check(&buf[..want])))
}

/// Length (per the registry) and mod-97 of the compact, upper-case form.
pub(super) fn check(b: &[u8]) -> bool {
    if b.len() < 5
        || !(b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase())
        || !(b[2].is_ascii_digit() && b[3].is_ascii_digit())
        || length(&b[..2]) != Some(b.len())
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

/// IBAN length per country: the SWIFT IBAN registry (release 99, with the French overseas
/// territories, Åland and the Crown Dependencies, which use their parent's format under their
/// own code), then the national IBANs of the BCEAO/BEAC countries, Algeria, Angola, Cape
/// Verde, Comoros, Iran, Madagascar, Morocco and Mozambique, which are not in the registry but
/// are in use.
pub(super) fn length(cc: &[u8]) -> Option<usize> {
    Some(match cc {
        b"NO" => 15,
        b"BE" => 16,
        b"AX" | b"DK" | b"FI" | b"FK" | b"FO" | b"GL" | b"NL" | b"SD" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"MN" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"GG" | b"IE" | b"IM" | b"JE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"LY" | b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"BI" | b"BL" | b"DJ" | b"FR" | b"GF" | b"GP" | b"GR" | b"IT" | b"MC" | b"MF" | b"MQ" | b"MR" | b"NC"
        | b"PF" | b"PM" | b"RE" | b"SM" | b"TF" | b"WF" | b"YT" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HN" | b"HU" | b"LB" | b"NI" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        // Outside the registry.
        b"AO" | b"CV" | b"GW" | b"MZ" => 25,
        b"DZ" | b"IR" => 26,
        b"CF" | b"CG" | b"CM" | b"GA" | b"GQ" | b"KM" | b"MG" | b"TD" => 27,
        b"BF" | b"BJ" | b"CI" | b"MA" | b"ML" | b"NE" | b"SN" | b"TG" => 28,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<(String, &'static str)> {
        let t = Text::new(s);
        let mut out = Vec::new();
        Ibans.scan(&t, &mut out);
        out.iter().map(|h| (s[h.start..h.end].to_string(), h.rule)).collect()
    }

    #[test]
    fn registry_examples() {
        // The registry's own example IBAN for a sample of countries and territories.
        for iban in [
            "GB82WEST12345698765432",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "NO9386011117947",
            "BE68539007547034",
            "RU0304452522540817810538091310419",
            "LC55HEMM000100010012001200023015",
            "AX2112345600000785",
            "JE97NWBK00000012345678",
            "SN28SN0100000000001234567800",
            "BR630000000000000001234567800",
        ] {
            assert!(check(iban.as_bytes()), "{iban}");
            assert_eq!(found(&format!("iban {iban}.")), [(iban.to_string(), "iban")], "{iban}");
        }
        assert_eq!(
            found("GB82 WEST 1234 5698 7654 32"),
            [("GB82 WEST 1234 5698 7654 32".into(), "iban")]
        );
        assert_eq!(
            found("gb82west12345698765432"),
            [("gb82west12345698765432".into(), "iban")]
        );
        assert_eq!(
            found("GB83WEST12345698765432"),
            [("GB83WEST12345698765432".into(), SHAPE_ONLY)]
        );
        assert!(found("XX82WEST12345698765432").is_empty());
        assert!(found("Gb82WEST12345698765432").is_empty());
        assert!(found("AGB82WEST12345698765432").is_empty());
    }
}
