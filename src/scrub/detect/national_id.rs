//! National identity numbers, each validated by its own structure and check:
//! - `us_ssn`: `AAA-GG-SSSS` (or with spaces), area not 000, 666 or 9xx, group not 00,
//!   serial not 0000.
//! - `uk_nino`: a valid prefix, 6 digits (optionally spaced in pairs or as one group), suffix
//!   A–D; also the `ZZ … T` form that HMRC never issues but test-data generators write.
//! - `es_dni`: 8 digits and the mod-23 control letter. `es_nie`: X/Y/Z, 7 digits and the
//!   control letter.
//! - `ca_sin`: `ddd ddd ddd` or `ddd-ddd-ddd`, Luhn-valid, not starting with 8.
//! - `se_personnummer`: `YYMMDD-NNNN` or `YYYYMMDD-NNNN` (`-` or `+`), a real date
//!   (coordination numbers, day + 60, allowed) and Luhn over `YYMMDDNNNN`.
//! - `fr_nir`: the 15-character French social security number (sex, year, month, department
//!   with Corsica's `2A`/`2B`, commune, order, mod-97 key), compact or grouped
//!   `1 84 12 76 451 089 46`.
//! - `it_codice_fiscale`: 6 letters, the birth date and place code (digits or their omocodia
//!   letters) and the check letter.
//! - `de_rvnr`: the German pension insurance number: area, birth date `DDMMYY`, the initial,
//!   serial and check digit.
//! - `br_cpf`: `123.456.789-09` with both mod-11 check digits.
//! - `jp_my_number`: `1234 5678 9012` with the check digit.
//!
//! Bare runs of 9–12 digits with only a check digit (Dutch BSN, CPF, My Number) are not
//! matched: one in ten random numbers would pass. Redaction removes every run of 7 or more
//! digits anyway (see `Detectors::redact_into`).

use super::text::{at, before, digits_end, fixed_groups, is_word, left_ok, luhn, num, right_ok, Text};
use super::{Finder, Hit, Kind};

pub(super) struct NationalIds;

type Matcher = fn(&[u8], usize) -> Option<usize>;

impl Finder for NationalIds {
    fn scan(&self, t: &Text<'_>, out: &mut Vec<Hit>) {
        let b = t.b;
        for r in &t.runs {
            let (i, len, next) = (r.start, r.len(), at(b, r.end));
            if left_ok(b, i) {
                let chained = matches!(next, b' ' | b'-' | b'.' | b'+') && at(b, r.end + 1).is_ascii_digit();
                let ids: &[(Matcher, &'static str)] = match (chained, len) {
                    (false, 8) => &[(dni_at, "es_dni")],
                    (false, 6 | 15) => &[(nir_at, "fr_nir")],
                    (true, 1) => &[(nir_at, "fr_nir")],
                    (true, 3) => &[(ssn_at, "us_ssn"), (sin_at, "ca_sin"), (cpf_at, "br_cpf")],
                    (true, 4) => &[(my_number_at, "jp_my_number")],
                    (true, 6) => &[(personnummer_at, "se_personnummer")],
                    (true, 8) => &[(personnummer_at, "se_personnummer"), (dni_at, "es_dni")],
                    _ => &[],
                };
                for &(f, rule) in ids {
                    if let Some(e) = f(b, i) {
                        out.push(Hit::new(Kind::NationalId, i, e, rule));
                    }
                }
                if len == 8 && next.is_ascii_uppercase() {
                    if let Some(e) = rvnr_at(b, i) {
                        out.push(Hit::new(Kind::NationalId, i, e, "de_rvnr"));
                    }
                }
            }
            // Letters first: "X1234567L", "AB 12 34 56 C", "RSSMRA85T10A562S", "2A …" NIRs.
            self.letter_prefixed(b, r.start, out);
        }
    }
}

impl NationalIds {
    fn letter_prefixed(&self, b: &[u8], i: usize, out: &mut Vec<Hit>) {
        for back in 1..=3 {
            let Some(s) = i.checked_sub(back) else { break };
            if !b[s].is_ascii_uppercase() || is_word(before(b, s)) {
                continue;
            }
            let found: &[(Matcher, &'static str)] = match back {
                1 => &[(nie_at, "es_nie")],
                2 => &[(nino_at, "uk_nino")],
                3 => &[(nino_at, "uk_nino")],
                _ => &[],
            };
            for &(f, rule) in found {
                if let Some(e) = f(b, s) {
                    out.push(Hit::new(Kind::NationalId, s, e, rule));
                }
            }
        }
        // The codice fiscale's first digits are at offset 6.
        if let Some(s) = i.checked_sub(6) {
            if !is_word(before(b, s)) {
                if let Some(e) = codice_fiscale_at(b, s) {
                    out.push(Hit::new(Kind::NationalId, s, e, "it_codice_fiscale"));
                }
            }
        }
    }
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
    if !c.is_ascii_uppercase() {
        return None;
    }
    let test_form = a == b'Z' && c == b'Z';
    if !test_form
        && (BAD.contains(&a)
            || BAD.contains(&c)
            || c == b'O'
            || matches!(&b[i..i + 2], b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN"))
    {
        return None;
    }
    let mut p = i + 2;
    let spaced = at(b, p) == b' ';
    p += usize::from(spaced);
    let e = digits_end(b, p);
    if e - p == 6 {
        p = e; // "ZZ 123456 T"
    } else {
        for k in 0..3 {
            if k > 0 && spaced {
                if at(b, p) != b' ' {
                    return None;
                }
                p += 1;
            }
            if !(at(b, p).is_ascii_digit() && at(b, p + 1).is_ascii_digit()) || at(b, p + 2).is_ascii_digit() && k == 2
            {
                return None;
            }
            p += 2;
        }
    }
    if spaced {
        if at(b, p) != b' ' {
            return None;
        }
        p += 1;
    }
    let suffix = at(b, p);
    let ok = if test_form {
        suffix == b'T'
    } else {
        matches!(suffix, b'A'..=b'D')
    };
    (ok && !is_word(at(b, p + 1))).then_some(p + 1)
}

/// Mod-97 key over the 13 digits, with Corsica's `2A` and `2B` read as 19 and 18.
fn nir_at(b: &[u8], i: usize) -> Option<usize> {
    let mut d = [0u8; 15];
    let end = if digits_end(b, i) - i == 1 && at(b, i + 1) == b' ' {
        // Grouped 1 84 12 76 451 089 46 (the department may be 2A/2B).
        let mut p = i;
        let mut w = 0;
        for (k, len) in [1usize, 2, 2, 2, 3, 3, 2].into_iter().enumerate() {
            if k > 0 {
                if at(b, p) != b' ' {
                    return None;
                }
                p += 1;
            }
            let g = b.get(p..p + len)?;
            d[w..w + len].copy_from_slice(g);
            w += len;
            p += len;
        }
        p
    } else {
        let g = b.get(i..i + 15)?;
        d.copy_from_slice(g);
        i + 15
    };
    if !right_ok(b, end) || !matches!(d[0], b'1' | b'2' | b'3' | b'7' | b'8') {
        return None;
    }
    let month = num(&d[3..5]);
    // Corsica's departments 2A and 2B count as 19 and 18.
    let dept: &[u8] = match &d[5..7] {
        b"2A" | b"2a" => b"19",
        b"2B" | b"2b" => b"18",
        other => other,
    };
    let digits: Vec<u8> = d[..5].iter().chain(dept).chain(&d[7..]).copied().collect();
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !(month == 20 || (1..=12).contains(&month) || (30..=42).contains(&month) || (50..=99).contains(&month)) {
        return None;
    }
    let body = digits[..13].iter().fold(0u64, |a, &c| a * 10 + u64::from(c - b'0'));
    let key = 97 - body % 97;
    (u64::from(num(&d[13..15])) == key).then_some(end)
}

/// Omocodia: when two people would get the same code, digits are replaced by these letters.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
const CF_ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

fn codice_fiscale_at(b: &[u8], i: usize) -> Option<usize> {
    let c = b.get(i..i + 16)?;
    if is_word(at(b, i + 16)) {
        return None;
    }
    let digit_like = |x: u8| x.is_ascii_digit() || OMOCODIA.contains(&x);
    let shape = c[..6].iter().all(u8::is_ascii_uppercase)
        && digit_like(c[6])
        && digit_like(c[7])
        && c[8].is_ascii_uppercase()
        && digit_like(c[9])
        && digit_like(c[10])
        && c[11].is_ascii_uppercase()
        && c[12..15].iter().all(|&x| digit_like(x))
        && c[15].is_ascii_uppercase();
    if !shape || !b"ABCDEHLMPRST".contains(&c[8]) {
        return None;
    }
    let value = |x: u8| {
        if x.is_ascii_digit() {
            u32::from(x - b'0')
        } else {
            u32::from(x - b'A')
        }
    };
    let sum: u32 = c[..15]
        .iter()
        .enumerate()
        .map(|(k, &x)| {
            let v = value(x);
            if k % 2 == 0 {
                CF_ODD[v as usize]
            } else {
                v
            }
        })
        .sum();
    (c[15] == b'A' + (sum % 26) as u8).then_some(i + 16)
}

/// `DDDDDDDD` `L` `DDD`: area, birth date, the surname's initial, serial and check digit.
fn rvnr_at(b: &[u8], i: usize) -> Option<usize> {
    let c = b.get(i..i + 12)?;
    if !(c[8].is_ascii_uppercase() && c[9..].iter().all(u8::is_ascii_digit)) || is_word(at(b, i + 12)) {
        return None;
    }
    let (day, month) = (num(&c[2..4]), num(&c[4..6]));
    // Day + 50 marks a second number for the same date.
    let day = if day > 50 { day - 50 } else { day };
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    let letter = u32::from(c[8] - b'A') + 1;
    let mut d = [0u32; 12];
    for k in 0..8 {
        d[k] = u32::from(c[k] - b'0');
    }
    d[8] = letter / 10;
    d[9] = letter % 10;
    d[10] = u32::from(c[9] - b'0');
    d[11] = u32::from(c[10] - b'0');
    let factors = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = d.iter().zip(factors).map(|(v, f)| (v * f) / 10 + (v * f) % 10).sum();
    (sum % 10 == u32::from(c[11] - b'0')).then_some(i + 12)
}

/// Both mod-11 check digits of a CPF written `123.456.789-09` (a bare run of 11 digits is
/// left to the redaction backstop: one in a hundred random numbers passes the checks).
fn cpf_at(b: &[u8], i: usize) -> Option<usize> {
    let c = b.get(i..i + 14)?;
    let shape = c.iter().enumerate().all(|(k, &x)| match k {
        3 | 7 => x == b'.',
        11 => x == b'-',
        _ => x.is_ascii_digit(),
    });
    if !shape || !right_ok(b, i + 14) {
        return None;
    }
    let d: Vec<u32> = c
        .iter()
        .filter(|x| x.is_ascii_digit())
        .map(|&x| u32::from(x - b'0'))
        .collect();
    if d.iter().all(|&x| x == d[0]) {
        return None;
    }
    let check = |n: usize| {
        let s: u32 = (0..n).map(|k| d[k] * (n + 1 - k) as u32).sum();
        (s * 10) % 11 % 10
    };
    (check(9) == d[9] && check(10) == d[10]).then_some(i + 14)
}

/// `1234 5678 9012`: the 12th digit checks the first 11 (weights 6,5,4,3,2,7,6,5,4,3,2 from
/// the left). A bare run of 12 digits is left to the redaction backstop: one in eleven random
/// numbers passes the check.
fn my_number_at(b: &[u8], i: usize) -> Option<usize> {
    let mut d = [0u8; 12];
    let end = {
        let e = fixed_groups(b, i, &[4, 4, 4], b" -")?;
        let mut w = 0;
        for &c in &b[i..e] {
            if c.is_ascii_digit() {
                d[w] = c;
                w += 1;
            }
        }
        e
    };
    if !right_ok(b, end) {
        return None;
    }
    let s: u32 = (0..11)
        .map(|k| u32::from(d[10 - k] - b'0') * if k < 6 { k as u32 + 2 } else { k as u32 - 4 })
        .sum();
    let r = s % 11;
    let want = if r <= 1 { 0 } else { 11 - r };
    (want == u32::from(d[11] - b'0')).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(s: &str) -> Vec<(String, &'static str)> {
        let t = Text::new(s);
        let mut out = Vec::new();
        NationalIds.scan(&t, &mut out);
        out.iter().map(|h| (s[h.start..h.end].to_string(), h.rule)).collect()
    }

    #[test]
    fn each_id_with_its_check() {
        for (id, rule) in [
            ("123-45-6789", "us_ssn"),
            ("ZZ 12 34 56 T", "uk_nino"),
            ("ZZ335041T", "uk_nino"),
            ("AB 123456 C", "uk_nino"),
            ("2 84 02 2A 012 345 30", "fr_nir"),
            ("284022A01234530", "fr_nir"),
            ("RSSMRA85T10A562S", "it_codice_fiscale"),
            ("71080891T547", "de_rvnr"),
            ("252.492.793-84", "br_cpf"),
            ("1861 9963 2090", "jp_my_number"),
        ] {
            assert_eq!(rules(&format!("id {id}.")), [(id.to_string(), rule)], "{id}");
        }
        for bad in [
            "2 84 02 2A 012 345 31",
            "RSSMRA85T10A562T",
            "71080891T548",
            "252.492.793-85",
            "1861 9963 2091",
            "ZZ335041A",
        ] {
            assert!(rules(bad).is_empty(), "{bad}: {:?}", rules(bad));
        }
    }
}
