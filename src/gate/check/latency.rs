//! Latency thresholds: each quantile of each scope at most its limit.

use std::time::Duration;

use super::rows::{at_most, row, Slice};
use crate::gate::policy::Quantile;
use crate::gate::stats;
use crate::gate::verdict::{Outcome, Row, Unit};
use crate::results::run::Run;

/// One row per scope and quantile: the quantile against its limit.
pub fn latency_rows(run: &Run, slices: &[Slice], qs: &[(Quantile, Duration)]) -> Vec<Row> {
    let mut rows = Vec::new();
    for s in slices {
        let h = run.latency_of(&s.endpoints);
        let n = h.len();
        for (q, limit) in qs {
            let limit_us = limit.as_micros() as f64;
            let mut r = row(s.scope.clone(), q.name.clone(), Unit::Us);
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

#[cfg(test)]
mod tests {
    use super::super::rows::tests::{add, empty_run, endpoint, overall};
    use super::*;
    use crate::results::Outcome as Status;

    fn p(name: &str) -> Quantile {
        Quantile::parse(name).expect("a quantile")
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// One row's outcome for 1,000 requests of 1 ms each against a p99 limit.
    fn p99_against(limit: Duration) -> Row {
        let mut run = empty_run(&["get"]);
        add(&mut run, 0, Status::S2xx, 1000, 1000);
        let rows = latency_rows(&run, &[overall(&[0])], &[(p("p99"), limit)]);
        assert_eq!(rows.len(), 1);
        rows.into_iter().next().expect("one row")
    }

    /// The limit is inclusive: a quantile exactly at it passes, one microsecond over fails.
    #[test]
    fn a_quantile_at_the_limit_passes_and_just_over_fails() {
        let at = p99_against(us(1000));
        assert_eq!(at.outcome, Some(Outcome::Pass), "{at:?}");
        assert_eq!(at.observed, Some(1000.0));
        assert_eq!(at.samples, 1000);
        assert_eq!(
            at.limit.map(|l| (l.op, l.value)),
            Some((crate::gate::verdict::Op::AtMost, 1000.0))
        );
        assert_eq!(p99_against(us(1001)).outcome, Some(Outcome::Pass));
        let over = p99_against(us(999));
        assert_eq!(over.outcome, Some(Outcome::Fail), "{over:?}");
    }

    /// Too few requests to estimate the quantile: no data rather than a pass, but a value
    /// already over the limit fails whatever the count.
    #[test]
    fn too_few_samples_are_no_data_unless_already_over() {
        let mut run = empty_run(&["get"]);
        add(&mut run, 0, Status::S2xx, 1000, 50);
        let q = [(p("p99"), us(2000))];
        let r = &latency_rows(&run, &[overall(&[0])], &q)[0];
        assert_eq!(r.outcome, Some(Outcome::NoData), "{r:?}");
        let note = r.note.as_deref().unwrap_or("");
        assert!(
            note.contains("not enough samples: 50 requests, p99 needs at least 1000"),
            "{note}"
        );
        let q = [(p("p99"), us(500))];
        assert_eq!(latency_rows(&run, &[overall(&[0])], &q)[0].outcome, Some(Outcome::Fail));
    }

    /// A scope with no requests has no data and no observed value.
    #[test]
    fn no_requests_is_no_data() {
        let run = empty_run(&["get", "post"]);
        let rows = latency_rows(&run, &[endpoint("post", 1)], &[(p("p50"), us(1000))]);
        assert_eq!(rows[0].outcome, Some(Outcome::NoData));
        assert_eq!(rows[0].observed, None);
        assert_eq!(rows[0].note.as_deref(), Some("no requests"));
    }

    /// Each scope merges only its own endpoints: a slow endpoint fails the overall row and
    /// its own, never a fast endpoint's. Rows come scope by scope, quantile by quantile.
    #[test]
    fn scopes_merge_only_their_endpoints() {
        let mut run = empty_run(&["fast", "slow"]);
        add(&mut run, 0, Status::S2xx, 100, 2000);
        add(&mut run, 1, Status::S2xx, 1500, 100);
        let scopes = [overall(&[0, 1]), endpoint("fast", 0), endpoint("slow", 1)];
        let qs = [(p("p50"), us(1000)), (p("max"), us(1000))];
        let rows = latency_rows(&run, &scopes, &qs);
        let got: Vec<(&str, &str, Option<Outcome>)> = rows
            .iter()
            .map(|r| (r.scope.as_str(), r.metric.as_str(), r.outcome))
            .collect();
        assert_eq!(
            got,
            [
                ("overall", "p50", Some(Outcome::Pass)),
                ("overall", "max", Some(Outcome::Fail)),
                ("fast", "p50", Some(Outcome::Pass)),
                ("fast", "max", Some(Outcome::Pass)),
                ("slow", "p50", Some(Outcome::Fail)),
                ("slow", "max", Some(Outcome::Fail)),
            ]
        );
        assert_eq!(rows[0].samples, 2100);
        assert_eq!(rows[4].samples, 100);
    }
}
