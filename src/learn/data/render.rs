//! The learned schema as YAML, in the format `loadline synth` runs: a
//! header saying where it came from and what was held back, then every
//! table with its rounded row count and every column with its generator,
//! the statistics it was chosen from in a comment above it.

use std::fmt::Write as _;

use crate::scrub::detect::Detectors;

use super::choose::{self, quote, Role};
use super::Profile;

/// A table or column name as a YAML key: plain when it is a simple
/// identifier, else double-quoted.
fn key(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            name,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        name.to_string()
    } else {
        quote(name)
    }
}

/// A row count rounded to 3 significant digits (within 0.5%).
pub fn round_rows(n: f64) -> u64 {
    if n < 1.0 {
        return 0;
    }
    choose::sig(n, 3).round().max(1.0) as u64
}

/// The schema text. `date` is the day it was learned (for the header).
pub fn render(p: &Profile, date: &str) -> String {
    let det = Detectors::new();
    let mut body = String::new();
    let mut withheld: Vec<String> = Vec::new();
    for (ti, t) in p.tables.iter().enumerate() {
        let rows = round_rows(t.rows);
        let _ = writeln!(body, "  {}:", key(&t.info.name));
        let sample = if t.sampled {
            format!("; a sample of {} rows read", t.scanned)
        } else {
            String::new()
        };
        let _ = writeln!(body, "    # {rows} rows (3 significant digits){sample}");
        let _ = writeln!(body, "    rows: {rows}");
        let _ = writeln!(body, "    columns:");
        for (ci, c) in t.columns.iter().enumerate() {
            let role = role(p, ti, ci);
            let ch = choose::choose(p, ti, ci, role, &det);
            for n in &ch.notes {
                let _ = writeln!(body, "      # {}", n.replace('\n', " "));
            }
            // synth takes a `serial` or `key` column named `id` as the
            // primary key by itself; any other needs saying.
            let keyed = ch.spec.starts_with("{serial") || ch.spec.starts_with("{key");
            let pk = if role.primary_key && (ch.spec.contains("unique: true") || (keyed && c.name != "id")) {
                ", primary_key: true"
            } else {
                ""
            };
            let spec = if pk.is_empty() {
                ch.spec.clone()
            } else {
                format!("{}{pk}}}", &ch.spec[..ch.spec.len() - 1])
            };
            let _ = writeln!(body, "      {}: {spec}", key(&c.name));
            withheld.extend(ch.withheld.into_iter().map(|w| format!("{}.{w}", t.info.name)));
        }
    }
    let mut out = header(p, date, &withheld);
    out.push_str("seed: 1\n");
    out.push_str("tables:\n");
    out.push_str(&body);
    out
}

fn role(p: &Profile, ti: usize, ci: usize) -> Role<'_> {
    let t = &p.tables[ti];
    let single = |f: &&super::fk::Fk| f.columns.len() == 1 && f.parent_columns.len() == 1;
    Role {
        parent: p
            .fks
            .iter()
            .filter(single)
            .any(|f| f.parent == ti && f.parent_columns[0] == ci),
        fk: p
            .fks
            .iter()
            .filter(single)
            .find(|f| f.table == ti && f.columns[0] == ci),
        composite: p
            .fks
            .iter()
            .find(|f| f.columns.len() > 1 && f.table == ti && f.columns.contains(&ci)),
        primary_key: t.info.primary_key == [t.columns[ci].name.clone()],
        declared_unique: t.info.unique.iter().any(|u| *u == [t.columns[ci].name.clone()]),
        table: &t.info.name,
    }
}

fn header(p: &Profile, date: &str, withheld: &[String]) -> String {
    let mut h = String::new();
    let k = p.options.min_count;
    let _ = writeln!(h, "# Learned by `loadline synth learn` from {} on {date}.", p.source);
    let _ = writeln!(
        h,
        "# No value is copied: numbers and times are quantiles moved inward until at least k = {k}"
    );
    let _ = writeln!(
        h,
        "# values lie beyond each end, rounded; categories are kept only when each was seen at least"
    );
    let _ = writeln!(
        h,
        "# k times and none looks like personal data; personal data gets fake generators."
    );
    match &p.budget {
        None => {
            let _ = writeln!(h, "# No differential privacy noise (pass --epsilon to add some).");
        }
        Some(b) => {
            let _ = writeln!(
                h,
                "# Differential privacy: epsilon {} spent as {} Laplace-noised counts and histograms of",
                b.epsilon, b.queries
            );
            let _ = writeln!(
                h,
                "# epsilon {:.5} each (basic composition). Not covered: distinct counts, lengths, shapes, fan-outs.",
                b.per_query
            );
        }
    }
    let read: Vec<String> = p
        .tables
        .iter()
        .map(|t| {
            if t.sampled {
                format!("{} (sample of {})", t.info.name, t.scanned)
            } else {
                format!("{} (all {})", t.info.name, t.scanned)
            }
        })
        .collect();
    let _ = writeln!(h, "# Rows read: {}.", read.join(", "));
    let declared = p.fks.iter().filter(|f| f.declared).count();
    let _ = writeln!(
        h,
        "# Foreign keys: {declared} declared, {} found by inclusion of keyed hashes.",
        p.fks.len() - declared
    );
    for (t, c, parent, why) in &p.dangling {
        let _ = writeln!(h, "# Left out: {t}({c}) -> {parent}: {why}.");
    }
    if withheld.is_empty() {
        let _ = writeln!(h, "# Withheld: nothing beyond the rules above.");
    } else {
        let _ = writeln!(h, "# Withheld: {}.", withheld.join("; "));
    }
    h
}
