//! `redact`: free text with the row's own scrubbed values (a note that
//! names the customer), the dump's known values (see [`crate::scrub::known`]),
//! every detector hit, and then every run of 7 or more digits and every
//! address-shaped token replaced by placeholders.
//! Finding the row's values in a note runs for every value of every row,
//! so it works on bytes and tests with a memchr first; the detectors
//! themselves are in [`crate::scrub::detect`].

use super::{Cells, Op, Scratch, TablePlan};
use crate::scrub::detect::{backstop_into, Kind, REDACT_ROUNDS};
use crate::scrub::rules::Redact;

/// The op of a `redact` rule.
pub(super) fn compile(r: Redact) -> Op {
    Op::Redact {
        kinds: r.kinds,
        row_values: r.row_values,
    }
}

/// The columns whose values `redact` with `row_values` replaces in its
/// text, each with its placeholder (`[EMAIL]` for `email`); none when no
/// column asks for row values.
pub(super) fn row_value_columns(ops: &[Op], columns: &[String]) -> Vec<(usize, String)> {
    let wants_row_values = ops.iter().any(|o| matches!(o, Op::Redact { row_values: true, .. }));
    if wants_row_values {
        ops.iter()
            .enumerate()
            .filter(|(_, o)| {
                matches!(
                    o,
                    Op::Drop | Op::Email(_) | Op::Text(_) | Op::Uuid(_) | Op::Fake { .. } | Op::Mask { .. }
                )
            })
            .map(|(i, _)| (i, format!("[{}]", columns[i].to_ascii_uppercase())))
            .collect()
    } else {
        Vec::new()
    }
}

impl TablePlan {
    /// Free text: first the row's own scrubbed values (a note that names
    /// the customer), then every detector hit, replaced by placeholders.
    pub(super) fn redact<C: Cells + ?Sized>(
        &self,
        value: &str,
        kinds: &[Kind],
        row_values: bool,
        cells: &C,
        scratch: &mut Scratch,
    ) {
        let mut current = std::mem::take(&mut scratch.text);
        let mut next = std::mem::take(&mut scratch.next);
        current.clear();
        current.push_str(value);
        if row_values && !self.row_value_columns.is_empty() {
            for (c, placeholder) in &self.row_value_columns {
                if let Some(v) = cells.cell(*c) {
                    replace_value_in(&mut current, v, &mut scratch.lower, &mut scratch.needle, placeholder);
                }
            }
        }
        if let Some(known) = &self.known {
            next.clear();
            let mut last = 0;
            known.find(&current, &mut scratch.atoms, |s, e, c| {
                next.push_str(&current[last..s]);
                next.push_str(&self.known_placeholders[usize::from(c)]);
                last = e;
            });
            if last > 0 {
                next.push_str(&current[last..]);
                std::mem::swap(&mut current, &mut next);
            }
        }
        // The backstop can reveal a neighbour the boundary rules hid, as a
        // detector's find can ("+37 16 3243-9874044-05-12" loses the
        // number, and then the phone): scan again while it replaces.
        for round in 0..4 {
            self.detect_into(&mut current, &mut next, kinds, scratch);
            let before = scratch.out.len();
            // The backstop: long numbers and addresses in shapes no detector knows.
            if backstop_into(&current, &mut scratch.out) == 0 || round == 3 {
                break;
            }
            current.clear();
            current.push_str(&scratch.out[before..]);
            scratch.out.truncate(before);
        }
        scratch.text = current;
        scratch.next = next;
    }

    /// Replace every detector hit of `kinds` in `current` by its
    /// placeholder. Replacing one find can reveal another (an IP glued to
    /// a phone number), so the result is scanned again until nothing is
    /// left.
    fn detect_into(&self, current: &mut String, next: &mut String, kinds: &[Kind], scratch: &mut Scratch) {
        for _ in 0..REDACT_ROUNDS {
            scratch.hits.clear();
            self.detectors.find(current, &mut scratch.hits);
            scratch.hits.retain(|h| kinds.contains(&h.kind));
            if scratch.hits.is_empty() {
                break;
            }
            next.clear();
            let mut last = 0;
            let mut glued = false;
            for h in &scratch.hits {
                next.push_str(&current[last..h.start]);
                next.push_str(h.kind.placeholder());
                last = h.end;
                // A find that touches other text on either side may have
                // hidden another one there.
                let touches = |c: Option<char>| {
                    c.is_some_and(|c| !c.is_whitespace() && !matches!(c, ',' | ';' | '.' | ')' | '"' | '\''))
                };
                glued |= touches(current[..h.start].chars().next_back()) || touches(current[h.end..].chars().next());
            }
            next.push_str(&current[last..]);
            std::mem::swap(current, next);
            if !glued {
                break;
            }
        }
    }
}

/// Replace `needle` (ASCII case-insensitively) in `text`, and for a value
/// of several words, each capitalised word of 4+ letters where it appears
/// capitalised (a first name on its own).
#[cfg(test)]
fn replace_value(text: &mut String, needle: &str, placeholder: &str) {
    let (mut lower, mut buf) = (String::new(), String::new());
    replace_value_in(text, needle, &mut lower, &mut buf, placeholder);
}

/// [`replace_value`] with buffers for the lowercase copies. This runs for
/// every value of every row, and most notes do not mention the row's
/// values, so the first test is a memchr and it works on bytes where it
/// can.
fn replace_value_in(text: &mut String, needle: &str, lower: &mut String, buf: &mut String, placeholder: &str) {
    let needle = needle.trim();
    if needle.len() < 3 {
        return;
    }
    if occurs_ignoring_case(text.as_bytes(), needle.as_bytes()) {
        buf.clear();
        buf.push_str(needle);
        buf.make_ascii_lowercase();
        lower.clear();
        lower.push_str(text);
        lower.make_ascii_lowercase();
        let (l, n) = (lower.as_bytes(), buf.as_bytes());
        let mut out = String::new();
        let mut last = 0;
        for at in memchr::memchr_iter(n[0], l) {
            // Whole tokens only: `Lee` is not replaced inside `Leeds`.
            if at < last || !l[at..].starts_with(n) {
                continue;
            }
            let before = lower[..at].chars().next_back();
            let after = lower[at + n.len()..].chars().next();
            if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
                continue;
            }
            out.push_str(&text[last..at]);
            out.push_str(placeholder);
            last = at + n.len();
        }
        if last > 0 {
            out.push_str(&text[last..]);
            *text = out;
        }
    }
    // Each word between spaces and hyphens, if the value has spaces.
    if memchr::memchr(b' ', needle.as_bytes()).is_none() {
        return;
    }
    let mut rest = needle;
    while !rest.is_empty() {
        let end = rest.bytes().position(|c| c == b' ' || c == b'-').unwrap_or(rest.len());
        let word = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        // Cheapest test first: most words (digit groups, initials) do
        // not start with a capital. Non-ASCII goes the long way.
        match word.bytes().find(|c| c.is_ascii_alphanumeric() || !c.is_ascii()) {
            Some(c) if c.is_ascii_uppercase() || !c.is_ascii() => {}
            _ => continue,
        }
        let w = word.trim_matches(|c: char| !c.is_alphanumeric());
        if w.chars().next().is_some_and(char::is_uppercase)
            && w.chars().count() >= 4
            && occurs(text.as_bytes(), w.as_bytes())
        {
            replace_word(text, w, placeholder);
        }
    }
}

/// Whether `needle` occurs in `hay`: a memchr for its first byte and a
/// compare, cheaper on a short text than building a substring searcher.
fn occurs(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    memchr::memchr_iter(first, hay).any(|i| hay[i + 1..].starts_with(rest))
}

/// [`occurs`], ASCII case-insensitively: a memchr for either case of the
/// needle's least common byte (`@` in an email, `k` in `Bakker`), then a
/// compare. Most of the row's values are not in its note, and this says
/// so in a few instructions per 32 bytes of note.
fn occurs_ignoring_case(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (mut j, mut rank) = (0, u8::MAX);
    for (i, &b) in needle.iter().enumerate().take(16) {
        let r = commonness(b);
        if r < rank {
            (j, rank) = (i, r);
            if r == 1 {
                break;
            }
        }
    }
    let rare = needle[j];
    memchr::memchr2_iter(rare.to_ascii_lowercase(), rare.to_ascii_uppercase(), hay).any(|i| {
        i >= j
            && hay
                .get(i - j..i - j + needle.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(needle))
    })
}

/// How often a byte appears in English notes, roughly, as a rank: letters
/// by their frequency (`e` highest, either case), then space, digits and
/// punctuation; everything else is rare.
fn commonness(b: u8) -> u8 {
    const TABLE: [u8; 256] = {
        let mut t = [1u8; 256];
        let by_frequency = b"etaoinshrdlcumwfgypbvkjxqz";
        let mut i = 0;
        while i < 26 {
            t[by_frequency[i] as usize] = 30 - i as u8;
            t[by_frequency[i].to_ascii_uppercase() as usize] = 30 - i as u8;
            i += 1;
        }
        let mut d = b'0';
        while d <= b'9' {
            t[d as usize] = 12;
            d += 1;
        }
        t[b' ' as usize] = 31;
        t[b'.' as usize] = 10;
        t[b',' as usize] = 10;
        t[b'-' as usize] = 5;
        t
    };
    TABLE[usize::from(b)]
}

/// Whole-word, case-sensitive replacement.
fn replace_word(text: &mut String, word: &str, placeholder: &str) {
    if !text.contains(word) {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(word) {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if at < last || before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(placeholder);
        last = at + word.len();
    }
    out.push_str(&text[last..]);
    *text = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_search_anchors_on_any_byte() {
        for (hay, needle, found) in [
            ("Spoke to LENA BAKKER today", "Lena Bakker", true),
            ("lena bakker", "Lena Bakker", true),
            ("mail rohan96@Yahoo.com now", "rohan96@yahoo.com", true),
            ("mail rohan96@yahoo.co", "rohan96@yahoo.com", false),
            ("@yahoo.com", "rohan96@yahoo.com", false),
            ("Bakke", "Bakker", false),
            ("", "eee", false),
            ("anything", "", true),
        ] {
            assert_eq!(
                occurs_ignoring_case(hay.as_bytes(), needle.as_bytes()),
                found,
                "{needle} in {hay}"
            );
        }
    }

    #[test]
    fn row_values_are_replaced_in_text() {
        let mut t = "Spoke to Maria Garcia; maria garcia said Maria would call".to_string();
        replace_value(&mut t, "Maria Garcia", "[NAME]");
        assert_eq!(t, "Spoke to [NAME]; [NAME] said [NAME] would call");
        let mut u = "Mariana called".to_string();
        replace_value(&mut u, "Maria Garcia", "[NAME]");
        assert_eq!(u, "Mariana called");
        let mut v = "Lee lives in Leeds".to_string();
        replace_value(&mut v, "Lee", "[NAME]");
        assert_eq!(v, "[NAME] lives in Leeds");
    }

    /// The scrub's redaction scans again after the backstop, as
    /// `Detectors::redact_into` does: the phone glued to a long number is
    /// found once the number is gone.
    #[test]
    fn the_backstop_reveals_a_neighbour_in_a_plan() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "0123456789abcdef0123").unwrap();
        let text = format!(
            "key: ${{file:{}}}\ntables:\n  t:\n    columns:\n      notes: redact\n",
            key.display()
        );
        let rules = crate::scrub::rules::from_str(&text, &dir.path().join("r.yaml")).unwrap();
        let columns = vec!["notes".to_string()];
        let plan = TablePlan::new(&rules.tables["t"], &rules.key, &columns, "t.csv").unwrap();
        let redact = |note: &str| {
            let (mut scratch, mut minted, mut out) = (Scratch::default(), Vec::new(), String::new());
            let cells = [Some(note)];
            plan.row(&cells[..], &mut scratch, &mut minted, |_, cell| {
                out = format!("{cell:?}")
            })
            .unwrap();
            out
        };
        let once = redact("call +37 16 3243-9874044-05-12.");
        assert!(once.contains("call [PHONE]-[NUMBER]-05-12."), "{once}");
    }
}
