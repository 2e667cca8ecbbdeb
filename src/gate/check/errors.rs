//! The error rate: errors (and 4xx when the policy counts them) over requests, per scope.

use super::rows::{at_most, row, Slice};
use crate::gate::format::fmt_pct;
use crate::gate::verdict::{Outcome, Row, Unit};
use crate::results::run::Run;
use crate::results::Outcome as Status;

/// One row per scope: the error rate against `max` (4xx counted as errors when `count_4xx`).
pub fn error_rows(run: &Run, slices: &[Slice], max: f64, count_4xx: bool) -> Vec<Row> {
    slices
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
                s.scope.clone(),
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

#[cfg(test)]
mod tests {
    use super::super::rows::tests::{add, empty_run, endpoint, overall};
    use super::*;

    /// 1,000 requests of one endpoint, `errors` of them 5xx, against a 1% limit.
    fn one_percent_with(errors: u64) -> Row {
        let mut run = empty_run(&["get"]);
        add(&mut run, 0, Status::S2xx, 1000, 1000 - errors);
        add(&mut run, 0, Status::S5xx, 1000, errors);
        error_rows(&run, &[overall(&[0])], 0.01, false).remove(0)
    }

    /// The limit is inclusive: a rate exactly at it passes, one error more fails.
    #[test]
    fn a_rate_at_the_limit_passes_and_just_over_fails() {
        let at = one_percent_with(10);
        assert_eq!(at.outcome, Some(Outcome::Pass), "{at:?}");
        assert_eq!(at.observed, Some(0.01));
        assert_eq!(at.samples, 1000);
        assert_eq!(at.note.as_deref(), Some("10 of 1000: 5xx 10"));
        assert_eq!(one_percent_with(9).outcome, Some(Outcome::Pass));
        assert_eq!(one_percent_with(11).outcome, Some(Outcome::Fail));
    }

    /// 4xx is the client's: counted only when the policy says so, and the metric says which.
    #[test]
    fn client_errors_count_only_when_asked() {
        let mut run = empty_run(&["get"]);
        add(&mut run, 0, Status::S2xx, 1000, 900);
        add(&mut run, 0, Status::S4xx, 1000, 100);
        let s = [overall(&[0])];
        let without = &error_rows(&run, &s, 0.05, false)[0];
        assert_eq!(without.metric, "error rate");
        assert_eq!((without.observed, without.outcome), (Some(0.0), Some(Outcome::Pass)));
        let with = &error_rows(&run, &s, 0.05, true)[0];
        assert_eq!(with.metric, "error rate (4xx too)");
        assert_eq!((with.observed, with.outcome), (Some(0.1), Some(Outcome::Fail)));
    }

    /// Every transport failure is an error, and the note counts each class.
    #[test]
    fn every_error_class_is_counted_and_named() {
        let mut run = empty_run(&["get"]);
        add(&mut run, 0, Status::S2xx, 1000, 990);
        add(&mut run, 0, Status::Timeout, 1000, 4);
        add(&mut run, 0, Status::Connect, 1000, 3);
        add(&mut run, 0, Status::Reset, 1000, 2);
        add(&mut run, 0, Status::Other, 1000, 1);
        let r = &error_rows(&run, &[overall(&[0])], 0.001, false)[0];
        assert_eq!(r.observed, Some(0.01));
        assert_eq!(r.outcome, Some(Outcome::Fail));
        assert_eq!(
            r.note.as_deref(),
            Some("10 of 1000: timeout 4, connect 3, reset 2, other 1")
        );
    }

    /// A run too short to show the limit is no data, not a pass; over the limit it fails.
    #[test]
    fn too_few_requests_are_no_data_unless_already_over() {
        let mut run = empty_run(&["get"]);
        add(&mut run, 0, Status::S2xx, 1000, 50);
        let s = [overall(&[0])];
        let r = &error_rows(&run, &s, 0.01, false)[0];
        assert_eq!(r.outcome, Some(Outcome::NoData), "{r:?}");
        assert!(
            r.note
                .as_deref()
                .unwrap_or("")
                .starts_with("not enough samples: 50 requests"),
            "{r:?}"
        );
        add(&mut run, 0, Status::S5xx, 1000, 1);
        assert_eq!(error_rows(&run, &s, 0.01, false)[0].outcome, Some(Outcome::Fail));
    }

    #[test]
    fn no_requests_is_no_data() {
        let run = empty_run(&["get"]);
        let r = &error_rows(&run, &[overall(&[0])], 0.01, false)[0];
        assert_eq!((r.outcome, r.observed, r.samples), (Some(Outcome::NoData), None, 0));
        assert_eq!(r.note.as_deref(), Some("no requests"));
    }

    /// Each scope counts only its endpoints: one failing endpoint fails its own row and the
    /// overall one, not its neighbour's.
    #[test]
    fn scopes_count_only_their_endpoints() {
        let mut run = empty_run(&["good", "bad"]);
        add(&mut run, 0, Status::S2xx, 1000, 1000);
        add(&mut run, 1, Status::S2xx, 1000, 900);
        add(&mut run, 1, Status::S5xx, 1000, 100);
        let scopes = [overall(&[0, 1]), endpoint("good", 0), endpoint("bad", 1)];
        let rows = error_rows(&run, &scopes, 0.02, false);
        let got: Vec<(&str, Option<f64>, Option<Outcome>)> =
            rows.iter().map(|r| (r.scope.as_str(), r.observed, r.outcome)).collect();
        assert_eq!(
            got,
            [
                ("overall", Some(100.0 / 2000.0), Some(Outcome::Fail)),
                ("good", Some(0.0), Some(Outcome::Pass)),
                ("bad", Some(0.1), Some(Outcome::Fail)),
            ]
        );
    }
}
