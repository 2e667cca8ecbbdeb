//! Pass 1 of `scrub verify`: read every original once for what must not be in the output
//! (values of transformed and dropped columns, identifying tokens of redacted free text, as
//! [`crate::scrub::known`] stores them) and what may (values of kept columns), and read the
//! keys that `same_as` columns join to, in the originals and in the outputs.

use std::collections::{HashMap, HashSet};

use super::{Role, Table};
use crate::scrub::detect::identifying_tokens;
use crate::scrub::known::KnownValues;
use crate::scrub::rows::Rows;
use crate::scrub::rules::{PseudoKind, Rules, Transform};
use crate::scrub::transform::fingerprint;
use crate::scrub::Error;

/// What pass 1 learnt.
pub(super) struct Learnt {
    /// Values and free-text tokens that must not be in the output.
    pub known: KnownValues,
    /// Fingerprints of the values of `keep` columns: a value the rules keep in one place may
    /// be anywhere.
    pub kept: HashSet<u64>,
    /// The redacted columns, `table.column`.
    pub redacted: HashSet<String>,
    /// Per join domain (`table.column` a `same_as` points at): fingerprints of its values in
    /// the original and in the output.
    pub parents: HashMap<String, (HashSet<u64>, HashSet<u64>)>,
    /// The `same_as` columns: (table, column, parent domain), in the order of the tables,
    /// then of the columns in the rules; join findings of a row come in this order.
    pub children: Vec<(String, String, String)>,
}

/// Read the originals, then the outputs' join keys.
pub(super) fn learn(rules: &Rules, tables: &[Table]) -> Result<Learnt, Error> {
    let mut learnt = Learnt {
        known: KnownValues::new(&rules.key),
        kept: HashSet::new(),
        redacted: redacted_columns(tables),
        parents: HashMap::new(),
        children: Vec::new(),
    };
    for t in tables {
        for (c, role) in &t.roles {
            if let Role::Scrubbed(Transform::Pseudonymize { domain, .. }) = role {
                if *domain != format!("{}.{c}", t.name) {
                    learnt.children.push((t.name.clone(), c.clone(), domain.clone()));
                    learnt.parents.entry(domain.clone()).or_default();
                }
            }
        }
    }
    for t in tables {
        learnt.read_original(t)?;
    }
    for t in tables {
        learnt.read_output_keys(t)?;
    }
    Ok(learnt)
}

/// The columns whose free text is redacted, `table.column`.
fn redacted_columns(tables: &[Table]) -> HashSet<String> {
    tables
        .iter()
        .flat_map(|t| {
            t.roles
                .iter()
                .filter(|(_, r)| matches!(r, Role::Scrubbed(Transform::Redact(_))))
                .map(|(c, _)| format!("{}.{c}", t.name))
        })
        .collect()
}

impl Learnt {
    /// Every cell of an original file (rows the scrub rejected left out).
    fn read_original(&mut self, t: &Table) -> Result<(), Error> {
        let mut rows = Rows::open(&t.file.path, t.file.format)?;
        while let Some(row) = rows.next_row(&t.file.path)? {
            if t.rejected_lines.contains(&row.line) {
                continue;
            }
            for (i, cell) in row.cells.iter().enumerate() {
                let (Some(v), Some(name)) = (cell, rows.columns.get(i)) else {
                    continue;
                };
                self.learn_cell(t, name, v);
            }
        }
        Ok(())
    }

    /// One original cell: a join key, a kept value, or a value that must not survive.
    fn learn_cell(&mut self, t: &Table, name: &str, v: &str) {
        if let Some(p) = self.parents.get_mut(&format!("{}.{name}", t.name)) {
            p.0.insert(fingerprint(v));
        }
        let column = format!("{}.{name}", t.name);
        match t.roles.get(name) {
            Some(Role::Keep) | Some(Role::UnlistedKeep) | None => {
                self.kept.insert(fingerprint(v.trim()));
            }
            Some(Role::Scrubbed(Transform::Redact(_))) => {
                let c = self.known.column(&column);
                let known = &mut self.known;
                identifying_tokens(v, |s, e| {
                    known.add(c, &v[s..e]);
                });
            }
            // Dates and amounts are not identifiers (the scrub does not look for them
            // either), and integer pseudonyms map numbers onto numbers by design.
            Some(Role::Scrubbed(
                Transform::ShiftDate { .. }
                | Transform::Noise { .. }
                | Transform::Pseudonymize {
                    kind: PseudoKind::Integer,
                    ..
                },
            )) => {}
            Some(Role::Dropped) | Some(Role::Scrubbed(_)) => {
                let c = self.known.column(&column);
                self.known.add(c, v);
            }
        }
    }

    /// The values of an output's columns that other tables join to.
    fn read_output_keys(&mut self, t: &Table) -> Result<(), Error> {
        let Some(s) = &t.scrubbed else { return Ok(()) };
        let wanted: Vec<String> = self
            .parents
            .keys()
            .filter_map(|d| d.strip_prefix(&format!("{}.", t.name)).map(str::to_string))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut rows = Rows::open(&s.path, s.format)?;
        while let Some(row) = rows.next_row(&s.path)? {
            for (i, cell) in row.cells.iter().enumerate() {
                let (Some(v), Some(name)) = (cell, rows.columns.get(i)) else {
                    continue;
                };
                if wanted.contains(name) {
                    if let Some(p) = self.parents.get_mut(&format!("{}.{name}", t.name)) {
                        p.1.insert(fingerprint(v));
                    }
                }
            }
        }
        Ok(())
    }
}
