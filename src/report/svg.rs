//! Plot primitives for the report: scales (linear, log10 and the "nines"
//! percentile scale), tick generation, and a [`Chart`] that draws axes,
//! lines with gaps, bars, shaded bands and a legend as inline SVG.
//!
//! Hand-written rather than a plotting crate: four small plots do not need
//! one, and the output must be self-contained, well-formed XML whose every
//! number is finite. Every coordinate goes through [`num`], which rounds to
//! two decimals (the file stays small) and maps anything non-finite to 0, so
//! no `NaN` or `inf` can reach the document whatever the data.

use std::fmt::Write;

use crate::gate::render::xml_escape;

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Linear,
    /// Log10; the domain must be positive (values at or below 0 are drawn at the low end).
    Log,
}

/// A domain `[lo, hi]` and how it maps onto `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub kind: Kind,
}

impl Scale {
    /// A linear scale; an empty or non-finite domain becomes `[lo, lo + 1]`
    /// so a flat or empty series still has somewhere to be drawn.
    pub fn linear(lo: f64, hi: f64) -> Scale {
        let lo = if lo.is_finite() { lo } else { 0.0 };
        let hi = if hi.is_finite() && hi > lo { hi } else { lo + 1.0 };
        Scale {
            lo,
            hi,
            kind: Kind::Linear,
        }
    }

    /// A log10 scale over a positive domain (widened to a decade when empty).
    pub fn log(lo: f64, hi: f64) -> Scale {
        let lo = if lo.is_finite() && lo > 0.0 { lo } else { 1.0 };
        let hi = if hi.is_finite() && hi > lo { hi } else { lo * 10.0 };
        Scale {
            lo,
            hi,
            kind: Kind::Log,
        }
    }

    fn t(&self, v: f64) -> f64 {
        match self.kind {
            Kind::Linear => v,
            Kind::Log => v.max(self.lo).log10(),
        }
    }

    /// Where `v` falls in the domain, 0 at `lo` and 1 at `hi`, clamped so a
    /// stray value stays inside the plot.
    pub fn frac(&self, v: f64) -> f64 {
        let span = self.t(self.hi) - self.t(self.lo);
        let f = (self.t(v) - self.t(self.lo)) / span;
        if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// A labelled tick at a domain value.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// An axis: its scale, ticks and a title (with the unit).
#[derive(Debug, Clone)]
pub struct Axis {
    pub scale: Scale,
    pub ticks: Vec<Tick>,
    pub title: String,
}

/// A coordinate for SVG: rounded to two decimals, trailing zeros dropped,
/// and 0 for anything non-finite.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let r = (v * 100.0).round() / 100.0;
    // -0 prints as "-0".
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A "nice" step (1, 2 or 5 times a power of ten) giving about `target`
/// intervals over `span`; at least `min_step`.
pub fn nice_step(span: f64, target: usize, min_step: f64) -> f64 {
    let raw = span / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return min_step.max(1.0);
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    step.max(min_step)
}

/// A linear axis from 0 (or `lo`) to a nice value at or above `hi`, with
/// about five ticks labelled by `label`. `integer` keeps the step whole
/// (counts, seconds).
pub fn linear_axis(lo: f64, hi: f64, integer: bool, title: &str, label: impl Fn(f64) -> String) -> Axis {
    let lo = if lo.is_finite() { lo } else { 0.0 };
    let hi = if hi.is_finite() && hi > lo { hi } else { lo + 1.0 };
    let step = nice_step(hi - lo, 5, if integer { 1.0 } else { 0.0 });
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let scale = Scale::linear(first, last);
    let n = ((last - first) / step).round() as usize;
    let ticks = (0..=n.min(50))
        .map(|i| {
            let at = first + i as f64 * step;
            Tick { at, label: label(at) }
        })
        .collect();
    Axis {
        scale,
        ticks,
        title: title.to_string(),
    }
}

/// An axis over exactly `[0, hi]`, for time: the frame ends where the data
/// does, not at the next round number. Ticks are at round values within the
/// range and the last one at `hi` itself; the round tick before it is
/// dropped when the two labels would run into each other.
pub fn span_axis(hi: f64, title: &str, label: impl Fn(f64) -> String) -> Axis {
    let hi = if hi.is_finite() && hi > 0.0 { hi } else { 1.0 };
    let step = nice_step(hi, 6, 0.0);
    let n = (hi / step + 1e-9).floor() as usize;
    let mut at: Vec<f64> = (0..=n.min(50)).map(|i| i as f64 * step).collect();
    let last = at.last().copied().unwrap_or(0.0);
    if hi - last > 1e-9 * hi.max(1.0) {
        if at.len() > 1 && hi - last < 0.45 * step {
            at.pop();
        }
        at.push(hi);
    }
    Axis {
        scale: Scale::linear(0.0, hi),
        ticks: at.into_iter().map(|a| Tick { at: a, label: label(a) }).collect(),
        title: title.to_string(),
    }
}

/// A log10 axis covering `[lo, hi]` (both positive) with ticks at 1, 2 and
/// 5 times each power of ten, or only the powers when that would crowd.
pub fn log_axis(lo: f64, hi: f64, title: &str, label: impl Fn(f64) -> String) -> Axis {
    let lo = if lo.is_finite() && lo > 0.0 { lo } else { 1.0 };
    let hi = if hi.is_finite() && hi > lo { hi } else { lo * 10.0 };
    let steps = |mults: &[f64]| -> Vec<f64> {
        let mut v = Vec::new();
        let d0 = lo.log10().floor() as i32;
        let d1 = hi.log10().ceil() as i32;
        for d in d0..=d1 {
            for m in mults {
                v.push(m * 10f64.powi(d));
            }
        }
        v
    };
    let fine = steps(&[1.0, 2.0, 5.0]);
    // The domain runs from the tick below `lo` to the tick above `hi`, so
    // the line never touches the frame.
    let lo_t = fine.iter().copied().filter(|t| *t <= lo).fold(lo, |_, t| t);
    let hi_t = fine.iter().copied().find(|t| *t >= hi).unwrap_or(hi);
    let inside = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .copied()
            .filter(|t| *t >= lo_t * 0.999 && *t <= hi_t * 1.001)
            .collect()
    };
    let mut at = inside(&fine);
    if at.len() > 10 {
        at = inside(&steps(&[1.0]));
    }
    Axis {
        scale: Scale::log(lo_t, hi_t),
        ticks: at.into_iter().map(|a| Tick { at: a, label: label(a) }).collect(),
        title: title.to_string(),
    }
}

/// The percentile scale's coordinate of quantile `q`: log10(1 / (1 - q)),
/// so 90% is 1, 99% is 2, 99.9% is 3. Capped at `MAX_NINES` (q = 1 would be
/// infinite).
pub fn nines(q: f64) -> f64 {
    let tail = (1.0 - q).max(10f64.powf(-MAX_NINES));
    (1.0 / tail).log10().clamp(0.0, MAX_NINES)
}

/// The quantile at nines coordinate `x`.
pub fn quantile_at(x: f64) -> f64 {
    1.0 - 10f64.powf(-x.clamp(0.0, MAX_NINES))
}

/// The deepest percentile the plots show: 99.99999%.
pub const MAX_NINES: f64 = 7.0;

/// The label of a whole number of nines: 0%, 90%, 99%, 99.9%, ...
pub fn nines_label(k: u32) -> String {
    match k {
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        k => format!("99.{}%", "9".repeat(k as usize - 2)),
    }
}

/// A nines axis from 0% to the whole number of nines at or above `hi`
/// (at least 90%), with the median marked too.
pub fn nines_axis(hi: f64) -> Axis {
    let top = if hi.is_finite() {
        hi.ceil().clamp(1.0, MAX_NINES)
    } else {
        1.0
    };
    let mut ticks = vec![Tick {
        at: 0.0,
        label: nines_label(0),
    }];
    ticks.push(Tick {
        at: nines(0.5),
        label: "50%".into(),
    });
    ticks.extend((1..=top as u32).map(|k| Tick {
        at: f64::from(k),
        label: nines_label(k),
    }));
    Axis {
        scale: Scale::linear(0.0, top),
        ticks,
        title: "percentile".into(),
    }
}

/// A plot being drawn: a fixed pixel frame, two axes, and the SVG of its
/// marks. Series are told apart by CSS classes the document's stylesheet
/// defines (`c-blue`, `dash`, `faint`, ...).
pub struct Chart {
    id: String,
    title: String,
    x: Axis,
    y: Axis,
    marks: String,
    legend: Vec<(String, String, bool)>,
    note: Option<String>,
}

/// The frame in pixels (the SVG scales to its container via the viewBox).
const W: f64 = 560.0;
const H: f64 = 260.0;
const LEFT: f64 = 60.0;
// Room for half of the last x tick's label (`99.999%`).
const RIGHT: f64 = 28.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 40.0;

impl Chart {
    pub fn new(id: &str, title: &str, x: Axis, y: Axis) -> Chart {
        Chart {
            id: id.to_string(),
            title: title.to_string(),
            x,
            y,
            marks: String::new(),
            legend: Vec::new(),
            note: None,
        }
    }

    fn px(&self, x: f64) -> f64 {
        LEFT + self.x.scale.frac(x) * (W - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        H - BOTTOM - self.y.scale.frac(y) * (H - TOP - BOTTOM)
    }

    /// Add a legend entry: a line swatch (or a filled box when `filled`)
    /// in the classes of the series.
    pub fn legend(&mut self, label: &str, class: &str, filled: bool) {
        self.legend.push((label.to_string(), class.to_string(), filled));
    }

    /// A message in the middle of the plot (no data, no errors).
    pub fn note(&mut self, text: &str) {
        self.note = Some(text.to_string());
    }

    /// A line through `points`, broken where a value is missing. A point
    /// with no neighbour is drawn as a short dash so it stays visible.
    pub fn line(&mut self, points: &[(f64, Option<f64>)], class: &str) {
        let mut run: Vec<(f64, f64)> = Vec::new();
        for &(x, y) in points {
            match y {
                Some(y) if x.is_finite() && y.is_finite() => run.push((self.px(x), self.py(y))),
                _ => self.flush_line(&mut run, class),
            }
        }
        self.flush_line(&mut run, class);
    }

    fn flush_line(&mut self, run: &mut Vec<(f64, f64)>, class: &str) {
        match run.as_slice() {
            [] => {}
            [(x, y)] => {
                let _ = writeln!(
                    self.marks,
                    "<path class=\"series {class}\" d=\"M{} {}h4\"/>",
                    num(x - 2.0),
                    num(*y)
                );
            }
            pts => {
                let mut s = String::new();
                for (i, (x, y)) in pts.iter().enumerate() {
                    if i > 0 {
                        s.push(' ');
                    }
                    let _ = write!(s, "{},{}", num(*x), num(*y));
                }
                let _ = writeln!(self.marks, "<polyline class=\"series {class}\" points=\"{s}\"/>");
            }
        }
        run.clear();
    }

    /// Bars from the x axis up to each value, each `(start, width, value)`
    /// spanning `[start, start + width)`; zero bars are left out.
    pub fn bars(&mut self, bars: &[(f64, f64, f64)], class: &str) {
        let base = self.py(self.y.scale.lo);
        for &(x, width, v) in bars {
            if !(v.is_finite() && v > 0.0) {
                continue;
            }
            let x0 = self.px(x);
            let x1 = self.px(x + width);
            let top = self.py(v);
            // A gap of a pixel between neighbours when there is room for one.
            let w = ((x1 - x0) - if x1 - x0 > 3.0 { 1.0 } else { 0.0 }).max(0.5);
            let _ = writeln!(
                self.marks,
                "<rect class=\"series {class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                num(x0),
                num(top),
                num(w),
                num((base - top).max(0.5))
            );
        }
    }

    /// A shaded vertical band over `[x0, x1)`, behind the series, labelled
    /// inside at the top.
    pub fn band(&mut self, x0: f64, x1: f64, class: &str, label: &str) {
        let (a, b) = (self.px(x0), self.px(x1));
        if b - a <= 0.0 {
            return;
        }
        let band = format!(
            "<rect class=\"{class}\" x=\"{}\" y=\"{TOP}\" width=\"{}\" height=\"{}\"/>\n<text class=\"band-label\" x=\"{}\" y=\"{}\">{}</text>\n",
            num(a),
            num(b - a),
            num(H - TOP - BOTTOM),
            num(a + 3.0),
            num(TOP + 11.0),
            xml_escape(label)
        );
        // Bands go first so the lines are drawn over them.
        self.marks.insert_str(0, &band);
    }

    /// The finished `<svg>` element.
    pub fn finish(self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"{}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{}-title\">",
            xml_escape(&self.id),
            xml_escape(&self.id)
        );
        let _ = writeln!(
            s,
            "<title id=\"{}-title\">{}</title>",
            xml_escape(&self.id),
            xml_escape(&self.title)
        );
        let _ = writeln!(
            s,
            "<text class=\"title\" x=\"4\" y=\"16\">{}</text>",
            xml_escape(&self.title)
        );
        self.grid(&mut s);
        s.push_str(&self.marks);
        self.axes(&mut s);
        self.legend_row(&mut s);
        s.push_str("</svg>\n");
        s
    }

    /// Grid lines and tick labels of both axes.
    fn grid(&self, s: &mut String) {
        let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
        for t in &self.y.ticks {
            let y = self.py(t.at);
            let _ = writeln!(
                s,
                "<line class=\"grid\" x1=\"{x0}\" y1=\"{0}\" x2=\"{x1}\" y2=\"{0}\"/><text class=\"tick y\" x=\"{1}\" y=\"{2}\" text-anchor=\"end\">{3}</text>",
                num(y),
                num(x0 - 5.0),
                num(y + 3.5),
                xml_escape(&t.label)
            );
        }
        for t in &self.x.ticks {
            let x = self.px(t.at);
            let _ = writeln!(
                s,
                "<line class=\"grid\" x1=\"{0}\" y1=\"{y0}\" x2=\"{0}\" y2=\"{y1}\"/><text class=\"tick x\" x=\"{0}\" y=\"{1}\" text-anchor=\"middle\">{2}</text>",
                num(x),
                num(y1 + 14.0),
                xml_escape(&t.label)
            );
        }
    }

    /// The axis lines and titles, over the marks, and the note if any.
    fn axes(&self, s: &mut String) {
        let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
        let _ = writeln!(
            s,
            "<path class=\"axis\" d=\"M{x0} {y0}V{y1}H{x1}\"/>\n<text class=\"axis-title\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n<text class=\"axis-title\" x=\"4\" y=\"{}\">{}</text>",
            num((x0 + x1) / 2.0),
            num(H - 6.0),
            xml_escape(&self.x.title),
            num(TOP - 10.0),
            xml_escape(&self.y.title)
        );
        if let Some(note) = &self.note {
            let _ = writeln!(
                s,
                "<text class=\"note\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                num((x0 + x1) / 2.0),
                num((y0 + y1) / 2.0),
                xml_escape(note)
            );
        }
    }

    /// The legend, right to left from the top-right corner.
    fn legend_row(&self, s: &mut String) {
        // Widths are estimated (about 6 px a character at the tick font
        // size).
        let mut right = W - RIGHT;
        for (label, class, filled) in self.legend.iter().rev() {
            let text_w = label.chars().count() as f64 * 6.0;
            let start = right - text_w - 22.0;
            let swatch = if *filled {
                format!(
                    "<rect class=\"{class}\" x=\"{}\" y=\"24\" width=\"14\" height=\"8\"/>",
                    num(start)
                )
            } else {
                format!("<path class=\"series {class}\" d=\"M{} 28h16\"/>", num(start))
            };
            let _ = writeln!(
                s,
                "{swatch}<text class=\"legend\" x=\"{}\" y=\"32\">{}</text>",
                num(start + 20.0),
                xml_escape(label)
            );
            right = start - 12.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_finite() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(12.345), "12.35");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
        assert_eq!(num(0.5), "0.5");
    }

    #[test]
    fn nice_steps_are_1_2_5() {
        assert_eq!(nice_step(10.0, 5, 0.0), 2.0);
        assert_eq!(nice_step(1000.0, 5, 0.0), 200.0);
        assert_eq!(nice_step(0.7, 5, 0.0), 0.2);
        assert_eq!(nice_step(3.0, 5, 1.0), 1.0);
        assert_eq!(nice_step(0.0, 5, 0.0), 1.0);
        assert_eq!(nice_step(f64::NAN, 5, 1.0), 1.0);
    }

    #[test]
    fn linear_axes_cover_the_data_with_round_ticks() {
        let a = linear_axis(0.0, 957.0, false, "req/s", |v| format!("{v}"));
        let at: Vec<f64> = a.ticks.iter().map(|t| t.at).collect();
        assert_eq!(at, [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]);
        assert_eq!((a.scale.lo, a.scale.hi), (0.0, 1000.0));
        // Empty and flat data still get a usable axis.
        let e = linear_axis(0.0, 0.0, true, "errors", |v| format!("{v}"));
        assert_eq!(e.ticks.iter().map(|t| t.at).collect::<Vec<_>>(), [0.0, 1.0]);
        let n = linear_axis(f64::NAN, f64::INFINITY, false, "", |v| format!("{v}"));
        assert!(n.ticks.iter().all(|t| t.at.is_finite()));
    }

    #[test]
    fn span_axes_end_at_the_data_not_at_a_round_number() {
        let labels = |a: &Axis| a.ticks.iter().map(|t| t.label.clone()).collect::<Vec<_>>();
        let s = |v: f64| format!("{}s", num(v));
        // 11 intervals of a 10.4 s run once made this axis run to 15 s.
        let a = span_axis(10.4, "t", s);
        assert_eq!((a.scale.lo, a.scale.hi), (0.0, 10.4));
        assert_eq!(labels(&a), ["0s", "2s", "4s", "6s", "8s", "10.4s"]);
        let a = span_axis(10.0, "t", s);
        assert_eq!(labels(&a), ["0s", "2s", "4s", "6s", "8s", "10s"]);
        assert_eq!(a.scale.hi, 10.0);
        // Room for both: the round tick stays.
        let a = span_axis(11.2, "t", s);
        assert_eq!(labels(&a), ["0s", "2s", "4s", "6s", "8s", "10s", "11.2s"]);
        let a = span_axis(3600.0, "t", s);
        assert_eq!(a.ticks.last().map(|t| t.at), Some(3600.0));
        assert!(a.ticks.len() <= 8, "{:?}", labels(&a));
        for bad in [0.0, -1.0, f64::NAN] {
            let a = span_axis(bad, "t", s);
            assert_eq!((a.scale.hi, a.ticks.len()), (1.0, 6), "{bad}");
        }
        assert_eq!(
            labels(&span_axis(0.35, "t", s)).last().map(String::as_str),
            Some("0.35s")
        );
    }

    #[test]
    fn log_axes_use_1_2_5_ticks_then_decades() {
        let a = log_axis(900.0, 4_200.0, "latency", |v| format!("{v}"));
        let at: Vec<f64> = a.ticks.iter().map(|t| t.at).collect();
        assert_eq!(at, [500.0, 1000.0, 2000.0, 5000.0]);
        assert_eq!((a.scale.lo, a.scale.hi), (500.0, 5000.0));
        let wide = log_axis(3.0, 2_000_000.0, "latency", |v| format!("{v}"));
        let at: Vec<f64> = wide.ticks.iter().map(|t| t.at).collect();
        assert_eq!(at, [10.0, 100.0, 1e3, 1e4, 1e5, 1e6]);
        assert!(wide.scale.lo <= 3.0 && wide.scale.hi >= 2_000_000.0);
    }

    #[test]
    fn the_nines_scale_maps_percentiles_to_whole_numbers() {
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
        assert_eq!(nines(0.0), 0.0);
        assert_eq!(nines(1.0), MAX_NINES);
        assert!((quantile_at(2.0) - 0.99).abs() < 1e-12);
        assert_eq!(nines_label(4), "99.99%");
        let a = nines_axis(2.3);
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0%", "50%", "90%", "99%", "99.9%"]);
        assert_eq!(nines_axis(f64::NAN).scale.hi, 1.0);
    }

    #[test]
    fn scales_never_divide_by_zero() {
        let s = Scale::linear(5.0, 5.0);
        assert_eq!(s.frac(5.0), 0.0);
        assert_eq!(s.frac(6.0), 1.0);
        let l = Scale::log(0.0, 0.0);
        assert!(l.frac(0.0).is_finite());
        assert_eq!(Scale::log(1.0, 100.0).frac(10.0), 0.5);
    }

    #[test]
    fn lines_break_at_gaps_and_isolated_points_stay_visible() {
        let x = linear_axis(0.0, 10.0, true, "s", |v| format!("{v}"));
        let y = linear_axis(0.0, 10.0, false, "ms", |v| format!("{v}"));
        let mut c = Chart::new("t", "test", x, y);
        c.line(
            &[
                (0.0, Some(1.0)),
                (1.0, Some(2.0)),
                (2.0, None),
                (3.0, Some(f64::NAN)),
                (4.0, Some(3.0)),
            ],
            "c-blue",
        );
        let svg = c.finish();
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<path class=\"series c-blue\"").count(), 1);
        assert!(!svg.contains("NaN"));
    }
}
