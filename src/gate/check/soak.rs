//! The environment's minimum soak: the run measured for at least this long.

use std::time::Duration;

use super::rows::{at_least, row};
use crate::gate::verdict::{Outcome, Row, Unit};
use crate::results::run::Run;

/// The measured soak against the environment's minimum.
pub fn soak(run: &Run, min: Duration) -> Row {
    let measured = run.summary.run.measured_s;
    let mut r = row("overall", "measured soak", Unit::Seconds);
    r.observed = Some(measured);
    r.limit = at_least(min.as_secs_f64());
    r.samples = run.summary.totals.requests;
    let short = measured + 1e-9 < min.as_secs_f64();
    r.outcome = Some(if short { Outcome::Fail } else { Outcome::Pass });
    if run.summary.run.interrupted {
        r.note = Some("the run was interrupted (Ctrl-C): only the recorded part counts".into());
    }
    r
}
