//! The achieved rate: requests sent over requests planned, below which a run
//! did not deliver its load and every other check is inconclusive.

use super::rows::{at_least, row};
use crate::gate::format::fmt_pct;
use crate::gate::verdict::{Outcome, Row, Unit};
use crate::results::run::Run;

/// The run's requests sent over requests planned, against `min`. Under it, or with the
/// generator saturated, the row is inconclusive; a closed-model run has no target rate and
/// gives no data.
pub fn achieved_rows(run: &Run, min: f64) -> Vec<Row> {
    let s = &run.summary;
    let mut r = row("overall", "achieved / target rate", Unit::Fraction);
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
