//! The error rate: errors (and 4xx when the policy counts them) over requests, per scope.

use super::rows::{at_most, row, Scope};
use crate::gate::format::fmt_pct;
use crate::gate::verdict::{Outcome, Row, Unit};
use crate::results::run::Run;
use crate::results::Outcome as Status;

/// One row per scope: the error rate against `max` (4xx counted as errors when `count_4xx`).
pub fn error_rows(run: &Run, scopes: &[Scope], max: f64, count_4xx: bool) -> Vec<Row> {
    scopes
        .iter()
        .map(|s| {
            let counts = run.counts_of(&s.endpoints);
            let total: u64 = counts.iter().sum();
            let counted = |o: Status| o.is_error() || (count_4xx && o == Status::S4xx);
            let errors: u64 = Status::ALL
                .iter()
                .filter(|o| counted(**o))
                .map(|o| counts[o.index()])
                .sum();
            let mut r = row(
                &s.name,
                if count_4xx {
                    "error rate (4xx too)"
                } else {
                    "error rate"
                },
                Unit::Fraction,
            );
            r.limit = at_most(max);
            r.samples = total;
            if total == 0 {
                r.note = Some("no requests".into());
                return r;
            }
            let rate = errors as f64 / total as f64;
            r.observed = Some(rate);
            let classes: Vec<String> = Status::ALL
                .iter()
                .filter(|o| counted(**o) && counts[o.index()] > 0)
                .map(|o| format!("{o} {}", counts[o.index()]))
                .collect();
            // A run too short to show the limit: with 1/max requests, one error is over it.
            let needed = if max > 0.0 { (1.0 / max).ceil() as u64 } else { 1 };
            r.outcome = Some(if rate > max {
                Outcome::Fail
            } else if total < needed {
                r.note = Some(format!(
                    "not enough samples: {total} requests cannot show a rate under {}; needs at least {needed}",
                    fmt_pct(max)
                ));
                Outcome::NoData
            } else {
                Outcome::Pass
            });
            if r.note.is_none() && !classes.is_empty() {
                r.note = Some(format!("{errors} of {total}: {}", classes.join(", ")));
            }
            r
        })
        .collect()
}
