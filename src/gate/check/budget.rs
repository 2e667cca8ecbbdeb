//! The SLO's error budget: the share of good requests against the target,
//! and the multiwindow burn-rate rule over per-second counts.

use std::time::Duration;

use super::rows::{at_least, at_most, row, Slice};
use crate::gate::format::{fmt_pct, fmt_value};
use crate::gate::policy::BurnWindow;
use crate::gate::stats;
use crate::gate::verdict::{Outcome, Row, Scope, Unit};
use crate::results::run::Run;

/// Per scope, the share of good requests (no error, within `le`) against `target`, and one
/// row per burn window.
pub fn budget_rows(run: &Run, slices: &[Slice], le: Duration, target: f64, burn: &[BurnWindow]) -> Vec<Row> {
    let le_us = u64::try_from(le.as_micros()).unwrap_or(u64::MAX);
    let b = run.bounds_us.iter().position(|&x| x == le_us);
    let budget = 1.0 - target;
    let mut rows = Vec::new();
    for s in slices {
        // Per second from the first to the last second with data: requests and bad ones.
        let (first, last) = run.seconds.span().unwrap_or((0, 0));
        let len = (last - first + 1) as usize;
        let (mut total, mut bad) = (vec![0u64; len], vec![0u64; len]);
        for sec in run.seconds.iter() {
            let i = (sec.index - first) as usize;
            for &e in &s.endpoints {
                let n = sec.requests(e);
                let good = b.map_or(0, |b| sec.within(e, b));
                total[i] += n;
                bad[i] += n - good.min(n);
            }
        }
        let n: u64 = total.iter().sum();
        let nbad: u64 = bad.iter().sum();
        let mut slo = row(
            s.scope.clone(),
            format!("good (<= {}, no error)", fmt_value(le_us as f64, Unit::Us)),
            Unit::Fraction,
        );
        slo.limit = at_least(target);
        slo.samples = n;
        let enough = stats::estimable(n, target);
        if n == 0 {
            slo.note = Some("no requests".into());
        } else {
            let good = 1.0 - nbad as f64 / n as f64;
            slo.observed = Some(good);
            let spent = nbad as f64 / (n as f64 * budget);
            slo.outcome = Some(if good < target {
                Outcome::Fail
            } else if enough {
                Outcome::Pass
            } else {
                Outcome::NoData
            });
            slo.note = Some(if enough || good < target {
                format!("{nbad} bad of {n}: {} of the error budget spent", fmt_pct(spent))
            } else {
                format!(
                    "not enough samples: {n} requests, a {} target needs at least {}",
                    fmt_pct(target),
                    stats::needed(target)
                )
            });
        }
        rows.push(slo);
        for w in burn {
            rows.push(burn_row(s.scope.clone(), w, &total, &bad, budget, enough));
        }
    }
    rows
}

/// Seconds in a duration, at least 1 (the interval log's resolution).
fn whole_secs(d: Duration) -> usize {
    (d.as_secs_f64().round() as usize).max(1)
}

/// The multiwindow burn-rate rule over sliding windows of per-second counts:
/// it fires at second `t` when both the long and the short window ending at
/// `t` burn the budget faster than `factor`. Windows longer than the soak
/// are scaled down together (same ratio) so the long one spans the soak.
/// Until a full long window has passed, the long window holds the soak so
/// far (so a soak no longer than the window is still evaluated every second).
fn burn_row(scope: Scope, w: &BurnWindow, total: &[u64], bad: &[u64], budget: f64, enough: bool) -> Row {
    let soak = total.len().max(1);
    let (mut long, mut short) = (whole_secs(w.long), whole_secs(w.short));
    let mut scaled = String::new();
    if long > soak {
        let k = soak as f64 / w.long.as_secs_f64();
        long = soak;
        short = ((w.short.as_secs_f64() * k).round() as usize).clamp(1, soak);
        scaled = format!("windows scaled to the {}s soak: {long}s/{short}s; ", soak);
    }
    let name = format!(
        "burn {}/{} > {}",
        crate::units::Dur(w.long),
        crate::units::Dur(w.short),
        w.factor
    );
    let mut r = row(scope, name, Unit::Burn);
    r.limit = at_most(w.factor);
    r.samples = total.iter().sum();
    let prefix = |v: &[u64]| -> Vec<u64> {
        let mut p = vec![0u64; v.len() + 1];
        for (i, x) in v.iter().enumerate() {
            p[i + 1] = p[i] + x;
        }
        p
    };
    let (pt, pb) = (prefix(total), prefix(bad));
    let rate = |end: usize, len: usize| -> f64 {
        let start = end + 1 - len;
        let n = pt[end + 1] - pt[start];
        if n == 0 {
            0.0
        } else {
            (pb[end + 1] - pb[start]) as f64 / n as f64 / budget
        }
    };
    let mut worst_burn = 0f64;
    let mut fired: Vec<usize> = Vec::new();
    for end in short - 1..total.len() {
        let both = rate(end, long.min(end + 1)).min(rate(end, short));
        worst_burn = worst_burn.max(both);
        if both > w.factor {
            fired.push(end);
        }
    }
    r.observed = Some(worst_burn);
    r.outcome = Some(if !fired.is_empty() {
        Outcome::Fail
    } else if enough {
        Outcome::Pass
    } else {
        Outcome::NoData
    });
    let when = match (fired.first(), fired.last()) {
        (Some(a), Some(b)) => format!(
            "fired in {} windows, ending {}s to {}s into the soak",
            fired.len(),
            a + 1,
            b + 1
        ),
        _ => "never fired".into(),
    };
    r.note = Some(format!(
        "{scaled}{when}; the worst second's lesser burn {worst_burn:.2}x"
    ));
    r
}

#[cfg(test)]
mod tests {
    use super::super::rows::tests::{empty_run, endpoint, overall, seconds_of};
    use super::*;

    fn window(long: u64, short: u64, factor: f64) -> BurnWindow {
        BurnWindow {
            long: Duration::from_secs(long),
            short: Duration::from_secs(short),
            factor,
        }
    }

    /// The multiwindow rule fires only when both windows burn too fast.
    #[test]
    fn burn_fires_when_both_windows_burn() {
        let total = [100u64; 10];
        let mut bad = [0u64; 10];
        // 20% bad in one second: the 1 s window burns 20x, the 4 s one 5x.
        bad[5] = 20;
        let r = burn_row(Scope::Overall, &window(4, 1, 10.0), &total, &bad, 0.01, true);
        assert_eq!(r.outcome, Some(Outcome::Pass), "{r:?}");
        assert!((r.observed.expect("measured") - 5.0).abs() < 1e-9);
        // 50% bad: 12.5x over 4 s and 50x over 1 s.
        bad[5] = 50;
        let r = burn_row(Scope::Overall, &window(4, 1, 10.0), &total, &bad, 0.01, true);
        assert_eq!(r.outcome, Some(Outcome::Fail));
        assert!(r.note.as_deref().unwrap_or("").contains("ending 6s to 6s"), "{r:?}");
        // Too few requests and nothing fired: no data, not a pass.
        bad[5] = 0;
        let r = burn_row(Scope::Overall, &window(4, 1, 10.0), &total, &bad, 0.01, false);
        assert_eq!(r.outcome, Some(Outcome::NoData));
    }

    /// Windows longer than the soak shrink together to fit it.
    #[test]
    fn burn_windows_scale_to_the_soak() {
        let total = [100u64; 10];
        let mut bad = [0u64; 10];
        bad[0] = 100;
        let r = burn_row(Scope::Overall, &window(3600, 300, 14.4), &total, &bad, 0.001, true);
        let note = r.note.clone().unwrap_or_default();
        assert!(note.starts_with("windows scaled to the 10s soak: 10s/1s"), "{note}");
        // At the first second the long window holds only that second: both burn 1000x.
        assert_eq!(r.outcome, Some(Outcome::Fail));
        assert!(note.contains("ending 1s to"), "{note}");
    }

    /// A run whose seconds hold `(requests, good)` per endpoint, good meaning within 1 ms.
    fn run_of(endpoints: &[&str], seconds: &[&[(u64, u64)]]) -> Run {
        let mut run = empty_run(endpoints);
        run.bounds_us = vec![1000];
        run.seconds = seconds_of(seconds);
        run
    }

    /// The SLO row of one scope: `good` of 400 requests (over 4 s) against a 75% target.
    fn slo_with(good: u64) -> Row {
        let per_sec = [(100, 75), (100, 75), (100, 75), (100, good - 225)];
        let secs: Vec<&[(u64, u64)]> = per_sec.iter().map(std::slice::from_ref).collect();
        let run = run_of(&["get"], &secs);
        budget_rows(&run, &[overall(&[0])], Duration::from_millis(1), 0.75, &[]).remove(0)
    }

    /// The target is inclusive: a good share exactly at it passes, one bad request more fails.
    #[test]
    fn a_good_share_at_the_target_passes_and_just_under_fails() {
        let at = slo_with(300);
        assert_eq!(at.outcome, Some(Outcome::Pass), "{at:?}");
        assert_eq!((at.observed, at.samples), (Some(0.75), 400));
        assert_eq!(at.metric, "good (<= 1ms, no error)");
        assert_eq!(
            at.note.as_deref(),
            Some("100 bad of 400: 100% of the error budget spent")
        );
        assert_eq!(slo_with(301).outcome, Some(Outcome::Pass));
        assert_eq!(slo_with(299).outcome, Some(Outcome::Fail));
    }

    /// Too few requests for the target: no data rather than a pass, unless already under it.
    #[test]
    fn too_few_requests_are_no_data_unless_already_under() {
        // A 99.9% target needs 10,000 requests.
        let run = run_of(&["get"], &[&[(500, 500)]]);
        let r = &budget_rows(&run, &[overall(&[0])], Duration::from_millis(1), 0.999, &[])[0];
        assert_eq!(r.outcome, Some(Outcome::NoData), "{r:?}");
        assert_eq!(
            r.note.as_deref(),
            Some("not enough samples: 500 requests, a 99.9% target needs at least 10000")
        );
        let run = run_of(&["get"], &[&[(500, 400)]]);
        let r = &budget_rows(&run, &[overall(&[0])], Duration::from_millis(1), 0.999, &[])[0];
        assert_eq!(r.outcome, Some(Outcome::Fail), "{r:?}");
    }

    /// A run that recorded nothing gives no data on every row, never a pass.
    #[test]
    fn no_requests_is_no_data_on_every_row() {
        let run = run_of(&["get"], &[]);
        let rows = budget_rows(
            &run,
            &[overall(&[0])],
            Duration::from_millis(1),
            0.99,
            &[window(60, 5, 2.0)],
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].note.as_deref(), Some("no requests"));
        assert!(rows.iter().all(|r| r.outcome == Some(Outcome::NoData)), "{rows:?}");
    }

    /// Each scope counts only its endpoints' seconds, and each scope gets its SLO row then
    /// one row per burn window.
    #[test]
    fn scopes_count_only_their_endpoints() {
        let quiet: &[(u64, u64)] = &[(100, 100), (100, 100)];
        let burst: &[(u64, u64)] = &[(100, 100), (100, 10)];
        let seconds: Vec<&[(u64, u64)]> = vec![quiet, quiet, quiet, burst, quiet, quiet, quiet, quiet, quiet, quiet];
        let run = run_of(&["steady", "bursty"], &seconds);
        let scopes = [overall(&[0, 1]), endpoint("steady", 0), endpoint("bursty", 1)];
        let rows = budget_rows(&run, &scopes, Duration::from_millis(1), 0.9, &[window(2, 1, 4.0)]);
        let got: Vec<(&str, Option<Outcome>)> = rows.iter().map(|r| (r.scope.as_str(), r.outcome)).collect();
        assert_eq!(
            got,
            [
                ("overall", Some(Outcome::Pass)),
                ("overall", Some(Outcome::Pass)),
                ("steady", Some(Outcome::Pass)),
                ("steady", Some(Outcome::Pass)),
                ("bursty", Some(Outcome::Pass)),
                ("bursty", Some(Outcome::Fail)),
            ],
            "{rows:#?}"
        );
        assert_eq!(rows[2].samples, 1000);
        assert_eq!(rows[2].observed, Some(1.0));
        assert_eq!(rows[5].metric, "burn 2s/1s > 4");
    }
}
