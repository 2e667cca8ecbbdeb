//! Per-worker recording: latency histograms per endpoint and outcome for
//! the current one-second interval, handed to the collector when the
//! interval ends and reset (not reallocated). Memory is fixed by the number
//! of endpoints, whatever the run's length.

use hdrhistogram::Histogram;

use crate::results::hist::{new_hist, record};
use crate::results::{Outcome, SeriesKey};

/// One worker's finished interval.
#[derive(Debug)]
pub struct WorkerInterval {
    /// The interval's number: whole seconds since the start of the run.
    pub index: u64,
    /// Latency histograms (µs) of the series that recorded anything, by
    /// endpoint and outcome.
    pub series: Vec<(SeriesKey, Histogram<u64>)>,
    /// Requests sent during the interval, measured or not.
    pub sent: u64,
}

/// What a worker has recorded over the whole run, apart from intervals.
#[derive(Debug)]
pub(crate) struct WorkerTotals {
    pub tenants: Vec<u64>,
    pub unexpected: Vec<u64>,
    pub read: u64,
    pub write: u64,
    /// Send minus intended, µs, every request.
    pub lag: Histogram<u64>,
    /// Event-loop oversleep, µs.
    pub loop_lag: Histogram<u64>,
    pub late: u64,
    pub warmup_requests: u64,
    /// Requests intended in the measured window (open model), sent or not.
    pub intended: u64,
    pub dropped: u64,
}

/// Where recorded intervals go.
pub trait IntervalSink {
    /// Take one finished interval (the collector merges the workers').
    fn interval(&mut self, iv: WorkerInterval);
}

/// One worker's recorder: the current interval's histograms per endpoint
/// and outcome, and the run's totals.
pub struct Recorder {
    current: u64,
    series: Vec<Option<Histogram<u64>>>,
    sent: u64,
    pub(crate) totals: WorkerTotals,
}

impl Recorder {
    /// A recorder for `endpoints` endpoints and `tenants` tenants (0 when
    /// the profile has none), at interval 0.
    pub fn new(endpoints: usize, tenants: usize) -> Recorder {
        Recorder {
            current: 0,
            series: (0..endpoints * Outcome::COUNT).map(|_| None).collect(),
            sent: 0,
            totals: WorkerTotals {
                tenants: vec![0; tenants],
                unexpected: vec![0; endpoints],
                read: 0,
                write: 0,
                lag: new_hist(),
                loop_lag: new_hist(),
                late: 0,
                warmup_requests: 0,
                intended: 0,
                dropped: 0,
            },
        }
    }

    /// Close every interval before `index` and hand it to `sink`.
    pub fn roll_to(&mut self, index: u64, sink: &mut impl IntervalSink) {
        while self.current < index {
            let mut series = Vec::new();
            for (i, slot) in self.series.iter_mut().enumerate() {
                if let Some(h) = slot {
                    if !h.is_empty() {
                        let key = (
                            i / Outcome::COUNT,
                            Outcome::from_index(i % Outcome::COUNT).unwrap_or(Outcome::Other),
                        );
                        series.push((key, h.clone()));
                        h.reset();
                    }
                }
            }
            sink.interval(WorkerInterval {
                index: self.current,
                series,
                sent: std::mem::take(&mut self.sent),
            });
            self.current += 1;
        }
    }

    /// A request was sent during interval `index`.
    pub fn sent(&mut self, index: u64, sink: &mut impl IntervalSink) {
        if index > self.current {
            self.roll_to(index, sink);
        }
        self.sent += 1;
    }

    /// A measured request completed during interval `index`.
    pub fn latency(&mut self, index: u64, endpoint: usize, outcome: Outcome, us: u64, sink: &mut impl IntervalSink) {
        if index > self.current {
            self.roll_to(index, sink);
        }
        let slot = &mut self.series[endpoint * Outcome::COUNT + outcome.index()];
        record(slot.get_or_insert_with(new_hist), us);
    }

    /// The interval being recorded.
    pub fn current(&self) -> u64 {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<WorkerInterval>);
    impl IntervalSink for Collect {
        fn interval(&mut self, iv: WorkerInterval) {
            self.0.push(iv);
        }
    }

    #[test]
    fn intervals_roll_in_order_and_reset() {
        let mut r = Recorder::new(2, 0);
        let mut sink = Collect(Vec::new());
        r.sent(0, &mut sink);
        r.latency(0, 1, Outcome::S2xx, 100, &mut sink);
        r.latency(2, 0, Outcome::Timeout, 5000, &mut sink);
        r.roll_to(3, &mut sink);
        let idx: Vec<u64> = sink.0.iter().map(|i| i.index).collect();
        assert_eq!(idx, [0, 1, 2]);
        assert_eq!(sink.0[0].sent, 1);
        assert_eq!(sink.0[0].series.len(), 1);
        assert_eq!(sink.0[0].series[0].0, (1, Outcome::S2xx));
        assert!(sink.0[1].series.is_empty());
        assert_eq!(sink.0[2].series[0].0, (0, Outcome::Timeout));
    }
}
