//! The report's four plots, from a run (and a baseline): the latency
//! percentile spectrum, target against achieved rate, p50/p99 over time and
//! errors over time. Each is an inline `<svg>` with a stable id
//! (`plot-spectrum`, `plot-rate`, `plot-latency`, `plot-errors`) that the
//! tests look for.
//!
//! Time plots put second `s` of the time series over `[s, s + 1)`, lines at
//! its middle; the candidate's warm-up is shaded so the reader knows which
//! seconds the numbers in the tables leave out.

use hdrhistogram::Histogram;

use super::svg::{linear_axis, log_axis, nines_axis, quantile_at, Axis, Chart, MAX_NINES};
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

/// The x axis of the time plots: seconds from the start of the run.
fn time_axis(run: &Run, baseline: Option<&Run>) -> Axis {
    let end = |r: &Run| r.series.iter().map(|s| s.second + 1).max().unwrap_or(0);
    let hi = end(run).max(baseline.map_or(0, end)).max(1);
    linear_axis(0.0, hi as f64, true, "seconds from start", |v| {
        format!("{}s", super::svg::num(v))
    })
}

/// Shade the candidate's warm-up seconds.
fn warmup_band(c: &mut Chart, series: &[SeriesRow]) {
    let warm: Vec<u64> = series.iter().filter(|s| s.warmup).map(|s| s.second).collect();
    if let (Some(first), Some(last)) = (warm.iter().min(), warm.iter().max()) {
        // Labelled inside the band itself, so it needs no legend entry.
        c.band(*first as f64, (*last + 1) as f64, "warmup", "warm-up");
    }
}

fn mid(s: &SeriesRow) -> f64 {
    s.second as f64 + 0.5
}

/// Plot 2: the rate the profile asked for against the rate completed.
/// Closed-model runs have no target; they show the achieved rate only.
pub fn rate(run: &Run, baseline: Option<&Run>) -> String {
    let hi = run
        .series
        .iter()
        .flat_map(|s| [s.target_rate.unwrap_or(0.0), s.achieved_rate])
        .fold(0.0, f64::max);
    // A little headroom so the peak does not run along the frame.
    let y = linear_axis(0.0, hi * 1.05, false, "requests/s", count_label);
    let mut c = Chart::new("plot-rate", "Target and achieved rate", time_axis(run, baseline), y);
    warmup_band(&mut c, &run.series);
    let target: Vec<(f64, Option<f64>)> = run.series.iter().map(|s| (mid(s), s.target_rate)).collect();
    if target.iter().any(|p| p.1.is_some()) {
        c.line(&target, "c-grey dash");
        c.legend("target", "c-grey dash", false);
    }
    let achieved: Vec<(f64, Option<f64>)> = run.series.iter().map(|s| (mid(s), Some(s.achieved_rate))).collect();
    c.line(&achieved, "c-blue");
    c.legend("achieved", "c-blue", false);
    if run.series.is_empty() {
        c.note("no time series");
    }
    c.finish()
}

/// Plot 3: p50 and p99 per second, the baseline's faint underneath.
pub fn latency_over_time(run: &Run, baseline: Option<&Run>) -> String {
    let base_series = baseline.map_or(&[][..], |b| &b.series[..]);
    let all = run.series.iter().chain(base_series);
    let y = latency_axis(all.flat_map(|s| [s.p50_ms, s.p99_ms]).flatten().map(|ms| ms * 1000.0));
    let mut c = Chart::new("plot-latency", "p50 and p99 per second", time_axis(run, baseline), y);
    warmup_band(&mut c, &run.series);
    let pick = |series: &[SeriesRow], f: fn(&SeriesRow) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
        series.iter().map(|s| (mid(s), f(s).map(|ms| ms * 1000.0))).collect()
    };
    if baseline.is_some() {
        c.line(&pick(base_series, |s| s.p50_ms), "c-blue dash faint");
        c.line(&pick(base_series, |s| s.p99_ms), "c-orange dash faint");
        c.legend("baseline", "c-grey dash faint", false);
    }
    c.line(&pick(&run.series, |s| s.p50_ms), "c-blue");
    c.line(&pick(&run.series, |s| s.p99_ms), "c-orange");
    c.legend("p50", "c-blue", false);
    c.legend("p99", "c-orange", false);
    if run.series.iter().all(|s| s.p50_ms.is_none() && s.p99_ms.is_none()) {
        c.note("no latency recorded");
    }
    c.finish()
}

/// Plot 4: errors per second as bars, the baseline's as a faint line.
pub fn errors(run: &Run, baseline: Option<&Run>) -> String {
    let base_series = baseline.map_or(&[][..], |b| &b.series[..]);
    let hi = run
        .series
        .iter()
        .chain(base_series)
        .map(|s| s.errors)
        .max()
        .unwrap_or(0);
    let y = linear_axis(0.0, hi as f64 * 1.1, true, "errors/s", count_label);
    let mut c = Chart::new("plot-errors", "Errors per second", time_axis(run, baseline), y);
    warmup_band(&mut c, &run.series);
    if baseline.is_some() {
        let pts: Vec<(f64, Option<f64>)> = base_series.iter().map(|s| (mid(s), Some(s.errors as f64))).collect();
        c.line(&pts, "c-grey dash faint");
        c.legend("baseline", "c-grey dash faint", false);
    }
    let bars: Vec<(f64, f64)> = run.series.iter().map(|s| (s.second as f64, s.errors as f64)).collect();
    c.bars(&bars, 1.0, "bar-red");
    c.legend("run", "bar-red", true);
    if run.series.iter().all(|s| s.errors == 0) {
        // A flat line at zero says "measured, none" where an empty plot
        // would look like missing data.
        let zero: Vec<(f64, Option<f64>)> = run.series.iter().map(|s| (mid(s), Some(0.0))).collect();
        c.line(&zero, "c-red");
        c.note("no errors in this run");
    }
    c.finish()
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
