//! The report's four plots, from a run (and a baseline): the latency
//! percentile spectrum, target against achieved rate, p50/p99 over time and
//! errors over time. Each is an inline `<svg>` with a stable id
//! (`plot-spectrum`, `plot-rate`, `plot-latency`, `plot-errors`) that the
//! tests look for.
//!
//! Time plots run from T0 to the run's end (see [`timeline`]): each interval
//! of the time series is drawn over its real span, lines at its middle, its
//! rates over its real length; the candidate's warm-up is shaded so the
//! reader knows which seconds the numbers in the tables leave out.

use hdrhistogram::Histogram;

use super::svg::{linear_axis, log_axis, nines_axis, quantile_at, span_axis, Axis, Chart, MAX_NINES};
use super::timeline::{self, Timeline};
use crate::gate::format::fmt_value;
use crate::gate::verdict::Unit;
use crate::results::run::{Run, SeriesRow};

/// Spectrum points per unit of the nines scale: 20 per decade of the tail is
/// smooth to the eye and keeps each line around a hundred points.
const STEPS_PER_NINE: f64 = 20.0;

/// A latency in µs as a short tick label: `500us`, `2ms`, `1.5s`.
fn us_label(v: f64) -> String {
    fmt_value(v, Unit::Us)
}

/// A rate or count as a short tick label: `250`, `1.5k`, `0.5`.
fn count_label(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{}k", super::svg::num(v / 1000.0))
    } else {
        super::svg::num(v)
    }
}

/// The latency axis for values in µs: logarithmic when they span more than
/// a factor of 30 (a tail or a stall next to a fast median would otherwise
/// flatten everything else against the axis), linear from zero otherwise.
fn latency_axis(values_us: impl Iterator<Item = f64>) -> Axis {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values_us.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi <= 0.0 {
        return linear_axis(0.0, 1000.0, false, "latency", us_label);
    }
    if hi / lo > 30.0 {
        log_axis(lo, hi, "latency (log scale)", us_label)
    } else {
        linear_axis(0.0, hi, false, "latency", us_label)
    }
}

/// The spectrum of one histogram: (nines, µs) from the median of the
/// fastest request to the deepest percentile its count supports, ending at
/// the maximum. A histogram of `n` requests says nothing past the quantile
/// 1 - 1/n, so that is where its line stops.
pub fn spectrum(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let top = (h.len() as f64).log10().clamp(0.0, MAX_NINES);
    let steps = (top * STEPS_PER_NINE).floor() as usize;
    let mut pts: Vec<(f64, f64)> = (0..=steps)
        .map(|i| {
            let x = i as f64 / STEPS_PER_NINE;
            (x, h.value_at_quantile(quantile_at(x)) as f64)
        })
        .collect();
    pts.push((top, h.max() as f64));
    pts
}

/// Plot 1: latency by percentile, the candidate over the baseline.
pub fn latency_spectrum(run: &Run, baseline: Option<&Run>) -> String {
    let cand = spectrum(&run.overall);
    let base = baseline.map(|b| spectrum(&b.overall)).unwrap_or_default();
    let x_hi = cand.iter().chain(&base).map(|p| p.0).fold(0.0, f64::max);
    let y = latency_axis(cand.iter().chain(&base).map(|p| p.1));
    let mut c = Chart::new("plot-spectrum", "Latency by percentile", nines_axis(x_hi), y);
    let as_line = |pts: &[(f64, f64)]| pts.iter().map(|&(x, y)| (x, Some(y))).collect::<Vec<_>>();
    if !base.is_empty() {
        c.line(&as_line(&base), "c-grey dash");
        c.legend("baseline", "c-grey dash", false);
    }
    c.line(&as_line(&cand), "c-blue");
    c.legend("run", "c-blue", false);
    if cand.is_empty() {
        c.note("no requests were measured");
    }
    c.finish()
}

/// The x axis of the time plots: seconds from T0 to the end of the run
/// (the longer of the run and its baseline), not rounded up past it.
fn time_axis(run: &Timeline, baseline: Option<&Timeline>) -> Axis {
    let hi = run.end.max(baseline.map_or(0.0, |b| b.end));
    span_axis(hi, "seconds from start", |v| format!("{}s", super::svg::num(v)))
}

/// The timelines of the run and its baseline.
fn timelines(run: &Run, baseline: Option<&Run>) -> (Timeline, Option<Timeline>) {
    (Timeline::of(run), baseline.map(Timeline::of))
}

/// Shade the candidate's warm-up: from T0 to the end of the warm-up.
fn warmup_band(c: &mut Chart, t: &Timeline) {
    if t.warmup > 0.0 {
        // Labelled inside the band itself, so it needs no legend entry.
        c.band(0.0, t.warmup, "warmup", "warm-up");
    }
}

/// Plot 2: the rate the profile asked for against the rate completed, each
/// interval's count over its real length. Closed-model runs have no target;
/// they show the achieved rate only.
pub fn rate(run: &Run, baseline: Option<&Run>) -> String {
    let (t, bt) = timelines(run, baseline);
    let target = timeline::target(&run.series, &t);
    let achieved = timeline::achieved(&run.series, &t);
    let hi = target.iter().chain(&achieved).filter_map(|p| p.1).fold(0.0, f64::max);
    // A little headroom so the peak does not run along the frame.
    let y = linear_axis(0.0, hi * 1.05, false, "requests/s", count_label);
    let mut c = Chart::new("plot-rate", "Target and achieved rate", time_axis(&t, bt.as_ref()), y);
    warmup_band(&mut c, &t);
    if target.iter().any(|p| p.1.is_some()) {
        c.line(&target, "c-grey dash");
        c.legend("target", "c-grey dash", false);
    }
    c.line(&achieved, "c-blue");
    c.legend("achieved", "c-blue", false);
    if run.series.is_empty() {
        c.note("no time series");
    }
    c.finish()
}

/// Plot 3: p50 and p99 per second, the baseline's faint underneath.
pub fn latency_over_time(run: &Run, baseline: Option<&Run>) -> String {
    let (t, bt) = timelines(run, baseline);
    let base_series = baseline.map_or(&[][..], |b| &b.series[..]);
    let p50 = |s: &SeriesRow| s.p50_ms;
    let p99 = |s: &SeriesRow| s.p99_ms;
    let lines = [
        timeline::latency(&run.series, &t, p50),
        timeline::latency(&run.series, &t, p99),
    ];
    let base_lines = bt.map(|bt| {
        [
            timeline::latency(base_series, &bt, p50),
            timeline::latency(base_series, &bt, p99),
        ]
    });
    let all = lines.iter().chain(base_lines.iter().flatten()).flatten();
    let y = latency_axis(all.filter_map(|p| p.1));
    let mut c = Chart::new("plot-latency", "p50 and p99 per second", time_axis(&t, bt.as_ref()), y);
    warmup_band(&mut c, &t);
    if let Some([b50, b99]) = &base_lines {
        c.line(b50, "c-blue dash faint");
        c.line(b99, "c-orange dash faint");
        c.legend("baseline", "c-grey dash faint", false);
    }
    c.line(&lines[0], "c-blue");
    c.line(&lines[1], "c-orange");
    c.legend("p50", "c-blue", false);
    c.legend("p99", "c-orange", false);
    if lines.iter().flatten().all(|p| p.1.is_none()) {
        c.note("no latency recorded");
    }
    c.finish()
}

/// Plot 4: errors per second as bars over each interval's measured part,
/// the baseline's as a faint line.
pub fn errors(run: &Run, baseline: Option<&Run>) -> String {
    let (t, bt) = timelines(run, baseline);
    let base_series = baseline.map_or(&[][..], |b| &b.series[..]);
    let bars: Vec<(f64, f64, f64)> = run
        .series
        .iter()
        .filter_map(|s| {
            let span = t.measured(s.second).filter(|sp| t.plotted(sp))?;
            Some((span.start, span.len, s.errors as f64 / span.len))
        })
        .collect();
    let base = bt.map(|bt| timeline::errors(base_series, &bt)).unwrap_or_default();
    let hi = bars
        .iter()
        .map(|b| b.2)
        .chain(base.iter().filter_map(|p| p.1))
        .fold(0.0, f64::max);
    let y = linear_axis(0.0, hi * 1.1, true, "errors/s", count_label);
    let mut c = Chart::new("plot-errors", "Errors per second", time_axis(&t, bt.as_ref()), y);
    warmup_band(&mut c, &t);
    if baseline.is_some() {
        c.line(&base, "c-grey dash faint");
        c.legend("baseline", "c-grey dash faint", false);
    }
    c.bars(&bars, "bar-red");
    c.legend("run", "bar-red", true);
    if run.series.iter().all(|s| s.errors == 0) {
        // A flat line at zero says "measured, none" where an empty plot
        // would look like missing data.
        let zero: Vec<(f64, Option<f64>)> = timeline::errors(&run.series, &t)
            .into_iter()
            .map(|(x, _)| (x, Some(0.0)))
            .collect();
        c.line(&zero, "c-red");
        c.note("no errors in this run");
    }
    c.finish()
}

/// A sentence for the plots' caption when the time plots leave out the end
/// of the run (an interval shorter than a quarter of the grid's), so the requests
/// the tables count and the plots do not show are not a mystery.
pub fn left_out_note(run: &Run) -> Option<String> {
    let t = Timeline::of(run);
    let n = timeline::left_out(&run.series, &t);
    if n == 0 {
        return None;
    }
    let secs: f64 = run
        .series
        .iter()
        .filter_map(|s| t.span(s.second))
        .filter(|s| !t.plotted(s))
        .map(|s| s.len)
        .sum();
    Some(format!(
        "The time plots leave out {n} request{} sent in the run's last {} (an interval shorter than a quarter of {}, too short to compare with full ones); the tables count {}.",
        if n == 1 { "" } else { "s" },
        fmt_value(secs, Unit::Seconds),
        fmt_value(t.interval, Unit::Seconds),
        if n == 1 { "it" } else { "them" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::hist::{new_hist, record};

    #[test]
    fn a_spectrum_stops_where_the_count_does_and_ends_at_the_max() {
        let mut h = new_hist();
        for v in 1..=1000u64 {
            record(&mut h, v * 10);
        }
        let s = spectrum(&h);
        let last = s.last().copied().unwrap_or_default();
        assert!((last.0 - 3.0).abs() < 1e-9, "1000 requests reach 99.9%: {last:?}");
        assert_eq!(last.1, h.max() as f64);
        assert!(
            s.windows(2).all(|w| w[0].1 <= w[1].1),
            "latency never falls with the percentile"
        );
        assert!(spectrum(&new_hist()).is_empty());
        let mut one = new_hist();
        record(&mut one, 42);
        assert_eq!(spectrum(&one), [(0.0, 42.0), (0.0, 42.0)]);
    }

    #[test]
    fn latency_axes_go_logarithmic_for_wide_ranges() {
        assert!(latency_axis([1000.0, 2000.0].into_iter()).title == "latency");
        assert!(latency_axis([1000.0, 300_000.0].into_iter()).title.contains("log"));
        let empty = latency_axis(std::iter::empty());
        assert!(empty.ticks.iter().all(|t| t.at.is_finite()));
    }
}
