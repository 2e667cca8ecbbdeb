//! `redact`: free text with the row's own scrubbed values (a note that
//! names the customer), the dump's known values (see [`crate::scrub::known`]),
//! every detector hit, and then every run of 7 or more digits and every
//! address-shaped token replaced by placeholders.
//! The row's values and the known values are found in one walk over the
//! text's atoms (hashed once), so a note costs the same however many
//! columns the row has; the detectors themselves are in
//! [`crate::scrub::detect`].

use super::{Cells, Op, Scratch, TablePlan};
use crate::scrub::detect::{backstop_into, Kind, REDACT_ROUNDS};
use crate::scrub::known;
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
    /// Free text: the row's own scrubbed values (a note that names the customer) and the
    /// dump's known values, found in one walk over the text's atoms, then every detector hit,
    /// replaced by placeholders.
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
        scratch.needles.clear();
        let table = self.known.as_deref().filter(|k| !k.is_empty());
        if !row_values && table.is_none() {
            current.push_str(value);
        } else {
            // The text's atoms first, so that only the row's values that may be in it are
            // split (with no value and no table, the walk below finds nothing).
            match table {
                Some(t) => t.split(value, &mut scratch.atoms),
                None => known::split_atoms(&self.keyed, value, &mut scratch.atoms),
            }
            if row_values {
                for (tag, (c, _)) in self.row_value_columns.iter().enumerate() {
                    if let Some(v) = cells.cell(*c) {
                        scratch.needles.add_for(&self.keyed, v, tag as u16, &scratch.atoms);
                    }
                }
            }
            let atoms = &scratch.atoms;
            let mut last = 0;
            let mut i = 0;
            while i < atoms.len() {
                // The row's own value first: it names the column the text came from.
                let found = scratch
                    .needles
                    .at(atoms, i)
                    .map(|(n, tag)| (n, self.row_value_columns[usize::from(tag)].1.as_str()))
                    .or_else(|| {
                        let (n, c) = table?.longest_at(atoms, i)?;
                        Some((n, self.known_placeholders[usize::from(c)].as_str()))
                    });
                match found {
                    Some((n, placeholder)) => {
                        current.push_str(&value[last..atoms[i].start]);
                        current.push_str(placeholder);
                        last = atoms[i + n - 1].end;
                        i += n;
                    }
                    None => i += 1,
                }
            }
            current.push_str(&value[last..]);
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

#[cfg(test)]
mod tests {
    use super::*;

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
