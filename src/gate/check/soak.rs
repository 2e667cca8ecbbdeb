//! The environment's minimum soak: the run measured for at least this long.

use std::time::Duration;

use super::rows::{at_least, row};
use crate::gate::verdict::{Outcome, Row, Scope, Unit};
use crate::results::run::Run;

/// The measured soak against the environment's minimum.
pub fn soak(run: &Run, min: Duration) -> Row {
    let measured = run.summary.run.measured_s;
    let mut r = row(Scope::Overall, "measured soak", Unit::Seconds);
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

#[cfg(test)]
mod tests {
    use super::super::rows::tests::empty_run;
    use super::*;

    /// The soak row of a run measured for `measured_s` against a one-minute minimum.
    fn measured(measured_s: f64) -> Row {
        let mut run = empty_run(&["get"]);
        run.summary.run.measured_s = measured_s;
        soak(&run, Duration::from_secs(60))
    }

    /// The minimum is inclusive (to a nanosecond of float noise); shorter fails.
    #[test]
    fn a_soak_at_the_minimum_passes_and_shorter_fails() {
        let at = measured(60.0);
        assert_eq!(at.outcome, Some(Outcome::Pass), "{at:?}");
        assert_eq!((at.observed, at.samples, at.note.as_deref()), (Some(60.0), 6000, None));
        assert_eq!(measured(60.0 - 1e-12).outcome, Some(Outcome::Pass));
        assert_eq!(measured(120.0).outcome, Some(Outcome::Pass));
        assert_eq!(measured(59.5).outcome, Some(Outcome::Fail));
        assert_eq!(measured(0.0).outcome, Some(Outcome::Fail));
    }

    /// An interrupted run says so; its recorded length is still what is judged.
    #[test]
    fn an_interrupted_run_is_judged_on_what_it_recorded() {
        let mut run = empty_run(&["get"]);
        run.summary.run.interrupted = true;
        run.summary.run.measured_s = 90.0;
        let r = soak(&run, Duration::from_secs(60));
        assert_eq!(r.outcome, Some(Outcome::Pass));
        assert!(r.note.as_deref().unwrap_or("").contains("interrupted"), "{r:?}");
        run.summary.run.measured_s = 30.0;
        assert_eq!(soak(&run, Duration::from_secs(60)).outcome, Some(Outcome::Fail));
    }
}
