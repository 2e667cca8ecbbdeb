//! Latency thresholds: each quantile of each scope at most its limit.

use std::time::Duration;

use super::rows::{at_most, row, Scope};
use crate::gate::policy::Quantile;
use crate::gate::stats;
use crate::gate::verdict::{Outcome, Row, Unit};
use crate::results::run::Run;

/// One row per scope and quantile: the quantile against its limit.
pub fn latency_rows(run: &Run, scopes: &[Scope], qs: &[(Quantile, Duration)]) -> Vec<Row> {
    let mut rows = Vec::new();
    for s in scopes {
        let h = run.latency_of(&s.endpoints);
        let n = h.len();
        for (q, limit) in qs {
            let limit_us = limit.as_micros() as f64;
            let mut r = row(&s.name, q.name.clone(), Unit::Us);
            r.limit = at_most(limit_us);
            r.samples = n;
            if n == 0 {
                r.note = Some("no requests".into());
                rows.push(r);
                continue;
            }
            let v = h.value_at_quantile(q.fraction) as f64;
            r.observed = Some(v);
            r.outcome = Some(if v > limit_us {
                Outcome::Fail
            } else if stats::estimable(n, q.fraction) {
                Outcome::Pass
            } else {
                r.note = Some(format!(
                    "not enough samples: {n} requests, {} needs at least {}",
                    q.name,
                    stats::needed(q.fraction)
                ));
                Outcome::NoData
            });
            rows.push(r);
        }
    }
    rows
}
