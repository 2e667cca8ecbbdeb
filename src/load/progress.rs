//! Live progress on stderr: elapsed time, target and achieved rate, p99 of
//! the last second and of the run so far, errors so far. Drawn only on a terminal; silent when
//! stderr is a file or a pipe (CI logs stay clean).

use std::cell::RefCell;
use std::time::Duration;

use hdrhistogram::Histogram;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::results::{fmt_us, new_hist, IntervalData};

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Every measured latency so far, for the run's p99.
    total: RefCell<Histogram<u64>>,
}

impl Progress {
    pub fn new(enabled: bool, duration: Duration) -> Progress {
        if !enabled {
            return Progress {
                bar: None,
                total: RefCell::new(new_hist()),
            };
        }
        let bar = ProgressBar::with_draw_target(Some(duration.as_secs().max(1)), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len}s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        Progress {
            bar: Some(bar),
            total: RefCell::new(new_hist()),
        }
    }

    /// Show one finished interval.
    pub fn interval(&self, d: &IntervalData, errors: u64) {
        let Some(bar) = &self.bar else { return };
        let mut all = new_hist();
        for h in d.series.values() {
            let _ = all.add(h);
        }
        let secs = d.length.as_secs_f64().max(1e-9);
        let target = d
            .target
            .map(|t| format!("target {:.0}/s  ", t / secs))
            .unwrap_or_default();
        let mut total = self.total.borrow_mut();
        let _ = total.add(&all);
        let p99 = |h: &Histogram<u64>| {
            if h.is_empty() {
                "-".to_string()
            } else {
                fmt_us(h.value_at_quantile(0.99))
            }
        };
        let warm = if d.warmup { "  (warm-up)" } else { "" };
        bar.set_position((d.index + 1).min(bar.length().unwrap_or(u64::MAX)));
        bar.set_message(format!(
            "{target}sent {:.0}/s  p99 {} (run {})  errors {errors}{warm}",
            d.sent as f64 / secs,
            p99(&all),
            p99(&total)
        ));
    }

    pub fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => tracing::info!("{text}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
