//! The achieved rate: requests sent over requests planned, below which a run
//! did not deliver its load and every other check is inconclusive.

use super::rows::{at_least, row};
use crate::gate::format::fmt_pct;
use crate::gate::verdict::{Outcome, Row, Scope, Unit};
use crate::results::run::Run;

/// The run's requests sent over requests planned, against `min`. Under it, or with the
/// generator saturated, the row is inconclusive; a closed-model run has no target rate and
/// gives no data.
pub fn achieved_rows(run: &Run, min: f64) -> Vec<Row> {
    let s = &run.summary;
    let mut r = row(Scope::Overall, "achieved / target rate", Unit::Fraction);
    r.limit = at_least(min);
    r.samples = s.rate.sent_requests;
    match s.rate.achieved_ratio {
        None => r.note = Some("a closed-model run has no target rate".into()),
        Some(ratio) => {
            r.observed = Some(ratio);
            let reason = if ratio < min {
                Some(format!(
                    "achieved {} of the target rate ({} of {} intended requests), under {}",
                    fmt_pct(ratio),
                    s.rate.sent_requests,
                    s.rate.target_requests.unwrap_or(0),
                    fmt_pct(min)
                ))
            } else if s.schedule.generator_saturated {
                Some(format!(
                    "the generator was saturated: {}",
                    s.schedule
                        .saturation_reason
                        .as_deref()
                        .unwrap_or("it could not keep its schedule")
                ))
            } else {
                None
            };
            r.outcome = Some(if reason.is_some() {
                Outcome::Inconclusive
            } else {
                Outcome::Pass
            });
            r.note = reason;
        }
    }
    vec![r]
}

#[cfg(test)]
mod tests {
    use super::super::rows::tests::empty_run;
    use super::*;

    /// The achieved-rate row of a run that sent `sent` of 1,000 intended requests, against 99%.
    fn sent_of_1000(sent: u64) -> Row {
        let mut run = empty_run(&["get"]);
        run.summary.rate.target_requests = Some(1000);
        run.summary.rate.sent_requests = sent;
        run.summary.rate.achieved_ratio = Some(sent as f64 / 1000.0);
        achieved_rows(&run, 0.99).remove(0)
    }

    /// The minimum is inclusive; under it the run did not deliver its load, which makes it
    /// inconclusive (not a failure of the service, not a pass either).
    #[test]
    fn at_the_minimum_passes_and_under_it_is_inconclusive() {
        let at = sent_of_1000(990);
        assert_eq!(at.outcome, Some(Outcome::Pass), "{at:?}");
        assert_eq!((at.observed, at.samples, at.note.as_deref()), (Some(0.99), 990, None));
        assert_eq!(sent_of_1000(1000).outcome, Some(Outcome::Pass));
        let under = sent_of_1000(989);
        assert_eq!(under.outcome, Some(Outcome::Inconclusive), "{under:?}");
        assert_eq!(
            under.note.as_deref(),
            Some("achieved 98.9% of the target rate (989 of 1000 intended requests), under 99%")
        );
    }

    /// A saturated generator understates the load: inconclusive even at the full rate, with
    /// the reason the run gave (or a general one).
    #[test]
    fn a_saturated_generator_is_inconclusive() {
        let mut run = empty_run(&["get"]);
        run.summary.schedule.generator_saturated = true;
        let r = &achieved_rows(&run, 0.99)[0];
        assert_eq!(r.outcome, Some(Outcome::Inconclusive));
        assert_eq!(
            r.note.as_deref(),
            Some("the generator was saturated: it could not keep its schedule")
        );
        run.summary.schedule.saturation_reason = Some("event loop 40 ms late".into());
        let r = &achieved_rows(&run, 0.99)[0];
        assert_eq!(
            r.note.as_deref(),
            Some("the generator was saturated: event loop 40 ms late")
        );
    }

    /// A closed-model run has no target rate: no data, with the reason, never a pass.
    #[test]
    fn a_closed_model_run_has_no_data() {
        let mut run = empty_run(&["get"]);
        run.summary.rate.achieved_ratio = None;
        let rows = achieved_rows(&run, 0.99);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].outcome, rows[0].observed), (Some(Outcome::NoData), None));
        assert_eq!(rows[0].note.as_deref(), Some("a closed-model run has no target rate"));
    }
}
