//! Where a run's intervals lie in time, and what each one's numbers are
//! once its real length is known.
//!
//! The time series has one row per interval of the run's grid
//! (`interval_s`, one second), and the files give every interval the grid's
//! length: the last one of a 10.4 s run is `[10, 11)` in the interval log,
//! its rate in `timeseries.csv` is its count over one second, so 40% of a
//! second's requests look like a collapse to 40% of the rate. The run really
//! ended at `warmup_s + measured_s` (from the summary), so here each interval
//! is cut at that end and its rates are its counts over the seconds it
//! really lasted. Latency and errors are of measured requests only, so their
//! part of an interval also starts at the end of the warm-up.
//!
//! An interval left with less than [`MIN_PLOTTED`] of the grid's length is
//! too short to stand beside full ones (a few requests make a spike or a
//! gap either way): it is left out of the time plots, the line ending at the
//! interval before, and [`Points::left_out`] counts its requests so the
//! report says so. The tables count every request whatever the plots show.

use crate::results::run::{Run, SeriesRow};
use crate::results::summary::RunInfo;

/// The shortest part of an interval, as a fraction of the grid's length,
/// that is plotted.
pub const MIN_PLOTTED: f64 = 0.25;

/// A run's time grid: the interval length, the end of the warm-up and the
/// end of the run, in seconds from T0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    /// Length of one interval of the grid.
    pub interval: f64,
    /// End of the warm-up.
    pub warmup: f64,
    /// End of the run: of its schedule, or where it was stopped.
    pub end: f64,
}

/// One interval's span, cut at the run's end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Start, seconds from T0.
    pub start: f64,
    /// Real length in seconds (the grid's, or less for the last interval).
    pub len: f64,
}

impl Span {
    /// The middle of the span, where its point goes.
    pub fn mid(&self) -> f64 {
        self.start + self.len / 2.0
    }
}

impl Timeline {
    /// The grid of `run`, from its summary; a summary without a usable end
    /// (no measured window, as in hand-made or emptied runs) ends after its
    /// last interval.
    pub fn of(run: &Run) -> Timeline {
        Timeline::from_info(&run.summary.run, &run.series)
    }

    /// The grid of a run's summary part and its time series.
    pub fn from_info(r: &RunInfo, series: &[SeriesRow]) -> Timeline {
        let interval = if r.interval_s.is_finite() && r.interval_s > 0.0 {
            r.interval_s
        } else {
            1.0
        };
        let warmup = if r.warmup_s.is_finite() {
            r.warmup_s.max(0.0)
        } else {
            0.0
        };
        let mut end = warmup + r.measured_s;
        if r.interrupted && r.measured_s <= 0.0 {
            // Stopped during the warm-up: it ended where it was stopped.
            end = r.elapsed_s.min(r.planned_duration_s);
        }
        if !(end.is_finite() && end > 0.0) {
            end = series.iter().map(|s| s.second + 1).max().unwrap_or(0) as f64 * interval;
        }
        Timeline {
            interval,
            warmup: warmup.min(end.max(0.0)),
            end: end.max(0.0),
        }
    }

    /// Interval `index` cut at the run's end, starting no earlier than
    /// `from`; None when nothing of it is left.
    fn cut(&self, index: u64, from: f64) -> Option<Span> {
        let start = (index as f64 * self.interval).max(from);
        let stop = ((index + 1) as f64 * self.interval).min(self.end);
        (stop - start > 1e-9).then_some(Span {
            start,
            len: stop - start,
        })
    }

    /// The whole of interval `index` within the run.
    pub fn span(&self, index: u64) -> Option<Span> {
        self.cut(index, 0.0)
    }

    /// The measured part of interval `index`: after the warm-up, within the run.
    pub fn measured(&self, index: u64) -> Option<Span> {
        self.cut(index, self.warmup)
    }

    /// Whether `span` is long enough to be plotted beside full intervals.
    pub fn plotted(&self, span: &Span) -> bool {
        span.len >= MIN_PLOTTED * self.interval - 1e-9
    }
}

/// Points of one series over time: `(seconds from T0, value)`, a missing
/// value breaking the line.
pub type Points = Vec<(f64, Option<f64>)>;

/// Requests an interval sent: its own count when the file has one, else
/// its rate times the grid's length (the length the files divide by).
fn sent(row: &SeriesRow, t: &Timeline) -> f64 {
    row.sent.map_or(row.achieved_rate * t.interval, |n| n as f64)
}

/// The rate the run achieved, each interval's requests over its real length.
pub fn achieved(series: &[SeriesRow], t: &Timeline) -> Points {
    by_span(series, t, Timeline::span, |row, span| Some(sent(row, t) / span.len))
}

/// Requests in the intervals [`achieved`] leaves out: too short to plot, or
/// past the run's end. They are in the tables, not in the time plots.
pub fn left_out(series: &[SeriesRow], t: &Timeline) -> u64 {
    series
        .iter()
        .filter(|row| !t.span(row.second).is_some_and(|s| t.plotted(&s)))
        .map(|row| sent(row, t).round() as u64)
        .sum()
}

/// The rate the schedule intended. The file's target is the interval's
/// planned count over the grid's length (the schedule already stops at the
/// run's end), so it is rescaled to the real length the same way.
pub fn target(series: &[SeriesRow], t: &Timeline) -> Points {
    by_span(series, t, Timeline::span, |row, span| {
        row.target_rate.map(|r| r * t.interval / span.len)
    })
}

/// Errors per second of the measured part of each interval.
pub fn errors(series: &[SeriesRow], t: &Timeline) -> Points {
    by_span(series, t, Timeline::measured, |row, span| {
        Some(row.errors as f64 / span.len)
    })
}

/// A latency column (in ms) of each interval's measured part, as µs.
pub fn latency(series: &[SeriesRow], t: &Timeline, ms: fn(&SeriesRow) -> Option<f64>) -> Points {
    by_span(series, t, Timeline::measured, |row, _| ms(row).map(|v| v * 1000.0))
}

/// Each row's value at the middle of its span; rows without a span long
/// enough to plot are left out. A row after a gap in the grid starts a new
/// line.
fn by_span(
    series: &[SeriesRow],
    t: &Timeline,
    span_of: fn(&Timeline, u64) -> Option<Span>,
    value: impl Fn(&SeriesRow, &Span) -> Option<f64>,
) -> Points {
    let mut out = Points::new();
    let mut prev: Option<u64> = None;
    for row in series {
        let Some(s) = span_of(t, row.second).filter(|s| t.plotted(s)) else {
            continue;
        };
        if prev.is_some_and(|p| row.second > p + 1) {
            out.push((s.start, None));
        }
        out.push((s.mid(), value(row, &s)));
        prev = Some(row.second);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(warmup_s: f64, measured_s: f64) -> RunInfo {
        RunInfo {
            started_at: String::new(),
            ended_at: String::new(),
            planned_duration_s: warmup_s + measured_s,
            warmup_s,
            elapsed_s: warmup_s + measured_s + 0.05,
            measured_s,
            interrupted: false,
            workers: 1,
            shard: None,
            run_id: String::new(),
            t0_unix_ms: 0,
            interval_s: 1.0,
            late_start_ms: 0,
            merged: None,
        }
    }

    /// A run at `rate` requests/s over `end` seconds with a warm-up, as the
    /// writer puts it in `timeseries.csv`: one row per interval, the last
    /// one's count over a whole second.
    fn series(rate: f64, end: f64, warmup: f64) -> Vec<SeriesRow> {
        (0..end.ceil() as u64)
            .map(|k| {
                let len = (end - k as f64).min(1.0);
                let sent = (rate * len).round() as u64;
                SeriesRow {
                    second: k,
                    target_rate: Some(rate * len),
                    achieved_rate: sent as f64,
                    completed: sent,
                    p50_ms: (k as f64 >= warmup).then_some(2.0),
                    p99_ms: (k as f64 >= warmup).then_some(9.0),
                    errors: u64::from(k as f64 >= warmup),
                    warmup: (k as f64) < warmup,
                    intended: Some(sent),
                    sent: Some(sent),
                    never_sent: Some(0),
                }
            })
            .collect()
    }

    fn values(p: &Points) -> Vec<f64> {
        p.iter().filter_map(|p| p.1).collect()
    }

    #[test]
    fn a_partial_last_interval_is_a_rate_over_its_real_length() {
        let s = series(100.0, 10.4, 2.0);
        let t = Timeline::from_info(&info(2.0, 8.4), &s);
        assert_eq!((t.end, t.warmup, t.interval), (10.4, 2.0, 1.0));
        // The file says 40/s for the last interval; it lasted 0.4 s.
        assert_eq!(s[10].achieved_rate, 40.0);
        let a = achieved(&s, &t);
        assert_eq!(a.len(), 11);
        let (x, y) = a[10];
        assert!((x - 10.2).abs() < 1e-9, "at the middle of [10, 10.4): {x}");
        assert!((y.unwrap_or(0.0) - 100.0).abs() < 1e-9, "no drop: {y:?}");
        assert!(values(&a).iter().all(|v| (v - 100.0).abs() < 1e-9), "{a:?}");
        assert!(values(&target(&s, &t)).iter().all(|v| (v - 100.0).abs() < 1e-9));
        assert_eq!(left_out(&s, &t), 0);
        // Errors: one per interval over its measured part, so 2.5/s in the last.
        let e = values(&errors(&s, &t));
        assert_eq!(e.len(), 9, "none in the warm-up: {e:?}");
        assert!((e[8] - 2.5).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn a_last_interval_shorter_than_a_quarter_is_left_out_and_counted() {
        let s = series(100.0, 10.2, 0.0);
        let t = Timeline::from_info(&info(0.0, 10.2), &s);
        let a = achieved(&s, &t);
        assert_eq!(a.len(), 10, "the line ends at the last full interval");
        assert_eq!(a.last().map(|p| p.0), Some(9.5));
        assert!(values(&a).iter().all(|v| (v - 100.0).abs() < 1e-9), "{a:?}");
        assert_eq!(left_out(&s, &t), 20, "its 20 requests are counted");
        assert_eq!(latency(&s, &t, |r| r.p99_ms).len(), 10);
        // A row past the end of the run (a file from elsewhere) has no span at all.
        let mut past = series(100.0, 10.0, 0.0);
        past.push(SeriesRow {
            second: 10,
            ..past[9].clone()
        });
        let t = Timeline::from_info(&info(0.0, 10.0), &past);
        assert_eq!(achieved(&past, &t).len(), 10);
        assert_eq!(left_out(&past, &t), 100);
    }

    #[test]
    fn the_warm_up_boundary_cuts_the_measured_part_of_an_interval() {
        let t = Timeline {
            interval: 1.0,
            warmup: 2.5,
            end: 10.0,
        };
        assert_eq!(t.span(2), Some(Span { start: 2.0, len: 1.0 }));
        assert_eq!(t.measured(2), Some(Span { start: 2.5, len: 0.5 }));
        assert_eq!(t.measured(1), None);
        assert_eq!(t.span(10), None);
        // The first interval is whole.
        assert_eq!(t.span(0), Some(Span { start: 0.0, len: 1.0 }));
    }

    #[test]
    fn the_end_comes_from_the_summary_or_else_the_series() {
        let s = series(10.0, 3.0, 0.0);
        let mut stopped = info(2.0, 0.0);
        stopped.interrupted = true;
        stopped.elapsed_s = 1.3;
        stopped.planned_duration_s = 10.0;
        assert_eq!(Timeline::from_info(&stopped, &s).end, 1.3);
        assert_eq!(Timeline::from_info(&stopped, &s).warmup, 1.3);
        let empty = info(0.0, 0.0);
        assert_eq!(Timeline::from_info(&empty, &s).end, 3.0);
        assert_eq!(Timeline::from_info(&empty, &[]).end, 0.0);
        let mut odd = info(f64::NAN, f64::INFINITY);
        odd.interval_s = 0.0;
        let t = Timeline::from_info(&odd, &s);
        assert!(t.end.is_finite() && t.interval == 1.0 && t.warmup == 0.0, "{t:?}");
    }
}
