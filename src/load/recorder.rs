//! Per-worker recording on the run's time grid: every request belongs to
//! the one-second interval of its *intended* send instant, whenever it is
//! sent or completes, so interval `k` of every worker and every shard
//! covers the same span of the schedule and their histograms add exactly.
//!
//! An interval stays open while requests intended in it are in flight or
//! its arrivals are not all claimed yet; it is handed to the collector
//! (in order) once neither is true. Histograms of closed intervals are
//! reset and reused, so memory is fixed by the endpoints and the few
//! intervals in flight, whatever the run's length.

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use crate::results::hist::{new_hist, record};
use crate::results::{ErrorKind, Outcome, SeriesKey};

/// One worker's finished interval.
#[derive(Debug)]
pub struct WorkerInterval {
    /// The interval's number: whole seconds of intended send time since the start of the run.
    pub index: u64,
    /// Latency histograms (µs) of the series that recorded anything, by
    /// endpoint and outcome.
    pub series: Vec<(SeriesKey, Histogram<u64>)>,
    /// Requests intended in the interval (this worker's), warm-up included.
    pub intended: u64,
    /// Of those, the ones sent.
    pub sent: u64,
    /// Of those, the ones never sent (the run ended while every connection was busy).
    pub never_sent: u64,
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
    /// Open model: the lag of requests whose connection was free and waiting
    /// for their instant (the generator's own lateness), µs.
    pub send_lag: Histogram<u64>,
    pub late: u64,
    pub warmup_requests: u64,
    /// Requests intended in the measured window (open model), sent or not.
    pub intended: u64,
    pub dropped: u64,
    /// Measured failures per [`ErrorKind`] (by index).
    pub kinds: [u64; ErrorKind::COUNT],
    /// Requests sent again on a fresh connection after their keep-alive
    /// connection turned out closed by the server (measured ones).
    pub retried_stale: u64,
    /// Per client class of the profile's `clients:`, in its order.
    pub clients: Vec<ClassTotals>,
}

/// What one worker recorded of one client class (slow or abandoning
/// clients) over the run. Kept apart from the endpoints' series, so the
/// slow clients' own slowness is not in the latency the gate reads.
#[derive(Debug, Default)]
pub(crate) struct ClassTotals {
    /// Latency (µs, from the intended instant) of measured requests that
    /// got a response or failed, by [`Outcome::index`]; allocated on first use.
    pub latency: Vec<Option<Histogram<u64>>>,
    /// Measured requests closed by the client at `abandon_after`, as declared.
    pub abandoned: u64,
    /// Measured arrivals not sent: the class's `max_in_flight` was reached.
    pub overflow: u64,
    /// Measured requests still running when the run ended (cut, not recorded).
    pub unfinished: u64,
    /// Measured arrivals never sent (the run ended while every slot was busy).
    pub never_sent: u64,
    /// Requests of the warm-up (not measured).
    pub warmup_requests: u64,
    /// Request bytes written by measured requests.
    pub bytes_sent: u64,
    /// Response bytes read by measured requests.
    pub bytes_received: u64,
    /// Measured requests that failed, by [`ErrorKind::index`].
    pub kinds: [u64; ErrorKind::COUNT],
}

impl ClassTotals {
    /// Record a measured request's latency under its outcome.
    pub fn record(&mut self, outcome: Outcome, us: u64) {
        if self.latency.len() < Outcome::COUNT {
            self.latency.resize_with(Outcome::COUNT, || None);
        }
        record(self.latency[outcome.index()].get_or_insert_with(new_hist), us);
    }
}

/// Where recorded intervals go.
pub trait IntervalSink {
    /// Take one finished interval (the collector merges the workers').
    fn interval(&mut self, iv: WorkerInterval);
}

/// One open interval.
#[derive(Debug)]
struct Open {
    /// `[endpoint * Outcome::COUNT + outcome]`, allocated on first use.
    series: Vec<Option<Histogram<u64>>>,
    intended: u64,
    sent: u64,
    never_sent: u64,
    /// Claimed and not finished yet.
    in_flight: u64,
}

/// One worker's recorder: the open intervals' histograms per endpoint and
/// outcome, and the run's totals.
pub struct Recorder {
    /// The index of `open[0]`: every interval before it is closed.
    base: u64,
    open: VecDeque<Open>,
    /// Histograms of closed intervals, reset, for the next ones.
    spare: Vec<Histogram<u64>>,
    series: usize,
    pub(crate) totals: WorkerTotals,
}

impl Recorder {
    /// A recorder for `endpoints` endpoints and `tenants` tenants (0 when
    /// the profile has none), at interval 0.
    pub fn new(endpoints: usize, tenants: usize) -> Recorder {
        Recorder {
            base: 0,
            open: VecDeque::new(),
            spare: Vec::new(),
            series: endpoints * Outcome::COUNT,
            totals: WorkerTotals {
                tenants: vec![0; tenants],
                unexpected: vec![0; endpoints],
                read: 0,
                write: 0,
                lag: new_hist(),
                loop_lag: new_hist(),
                send_lag: new_hist(),
                late: 0,
                warmup_requests: 0,
                intended: 0,
                dropped: 0,
                kinds: [0; ErrorKind::COUNT],
                retried_stale: 0,
                clients: Vec::new(),
            },
        }
    }

    /// Interval `index`, opened (with every interval before it) if needed. An
    /// interval already closed cannot be reopened: its requests go to the
    /// oldest open one (never lost; the engine's ordering makes this not happen).
    #[inline]
    fn at(&mut self, index: u64) -> &mut Open {
        let offset = index.saturating_sub(self.base) as usize;
        while self.open.len() <= offset {
            self.open.push_back(Open {
                series: (0..self.series).map(|_| None).collect(),
                intended: 0,
                sent: 0,
                never_sent: 0,
                in_flight: 0,
            });
        }
        &mut self.open[offset]
    }

    /// A request intended in interval `index` was claimed: it is in flight until [`Self::finished`].
    pub fn claimed(&mut self, index: u64) {
        let o = self.at(index);
        o.intended += 1;
        o.in_flight += 1;
    }

    /// A claimed request of interval `index` was given back unsent (the run was stopped).
    pub fn abandoned(&mut self, index: u64) {
        let o = self.at(index);
        o.intended = o.intended.saturating_sub(1);
        o.in_flight = o.in_flight.saturating_sub(1);
    }

    /// A request intended in interval `index` was sent.
    pub fn sent(&mut self, index: u64) {
        self.at(index).sent += 1;
    }

    /// A claimed request of interval `index` is done (any outcome).
    pub fn finished(&mut self, index: u64) {
        let o = self.at(index);
        o.in_flight = o.in_flight.saturating_sub(1);
    }

    /// A request intended in interval `index` was never sent: the run ended first.
    pub fn never_sent(&mut self, index: u64) {
        let o = self.at(index);
        o.intended += 1;
        o.never_sent += 1;
    }

    /// The latency of a measured request intended in interval `index`.
    #[inline]
    pub fn latency(&mut self, index: u64, endpoint: usize, outcome: Outcome, us: u64) {
        let offset = index.saturating_sub(self.base) as usize;
        if offset >= self.open.len() {
            self.at(index);
        }
        let Recorder { open, spare, .. } = self;
        let slot = &mut open[offset].series[endpoint * Outcome::COUNT + outcome.index()];
        record(slot.get_or_insert_with(|| spare.pop().unwrap_or_else(new_hist)), us);
    }

    /// Hand every interval before `index` whose requests are all done to
    /// `sink`, in order, stopping at the first one still in flight.
    pub fn close_before(&mut self, index: u64, sink: &mut impl IntervalSink) {
        if index > self.base {
            self.at(index - 1);
        }
        while self.base < index && self.open.front().is_some_and(|o| o.in_flight == 0) {
            self.close_front(sink);
        }
    }

    /// Hand every open interval to `sink`, in flight or not (the run is over).
    pub fn close_all(&mut self, sink: &mut impl IntervalSink) {
        while !self.open.is_empty() {
            self.close_front(sink);
        }
    }

    fn close_front(&mut self, sink: &mut impl IntervalSink) {
        let Some(mut o) = self.open.pop_front() else { return };
        let mut series = Vec::new();
        for (i, slot) in o.series.iter_mut().enumerate() {
            if let Some(h) = slot.take() {
                let key = (
                    i / Outcome::COUNT,
                    Outcome::from_index(i % Outcome::COUNT).unwrap_or(Outcome::Other),
                );
                if h.is_empty() {
                    self.spare.push(h);
                } else {
                    series.push((key, h));
                }
            }
        }
        sink.interval(WorkerInterval {
            index: self.base,
            series,
            intended: o.intended,
            sent: o.sent,
            never_sent: o.never_sent,
        });
        self.base += 1;
    }

    /// The oldest interval still open (every one before it was handed on).
    pub fn oldest_open(&self) -> u64 {
        self.base
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
    fn intervals_close_in_order_once_nothing_is_in_flight() {
        let mut r = Recorder::new(2, 0);
        let mut sink = Collect(Vec::new());
        // Interval 0: one request done, one still in flight.
        r.claimed(0);
        r.sent(0);
        r.latency(0, 1, Outcome::S2xx, 100);
        r.finished(0);
        r.claimed(0);
        r.sent(0);
        // Interval 2: done.
        r.claimed(2);
        r.sent(2);
        r.latency(2, 0, Outcome::Timeout, 5000);
        r.finished(2);
        r.close_before(3, &mut sink);
        assert!(sink.0.is_empty(), "interval 0 is in flight, so nothing after it closes");
        // The slow request of interval 0 completes in interval 3's time: it
        // still lands in interval 0, where it was intended.
        r.latency(0, 1, Outcome::S2xx, 3_000_000);
        r.finished(0);
        r.close_before(3, &mut sink);
        let idx: Vec<u64> = sink.0.iter().map(|i| i.index).collect();
        assert_eq!(idx, [0, 1, 2]);
        assert_eq!((sink.0[0].intended, sink.0[0].sent), (2, 2));
        assert_eq!(sink.0[0].series.len(), 1);
        assert_eq!(sink.0[0].series[0].0, (1, Outcome::S2xx));
        assert_eq!(sink.0[0].series[0].1.len(), 2);
        assert!(sink.0[1].series.is_empty());
        assert_eq!(sink.0[2].series[0].0, (0, Outcome::Timeout));
        assert_eq!(r.oldest_open(), 3);
    }

    #[test]
    fn never_sent_and_abandoned_requests_are_counted_where_intended() {
        let mut r = Recorder::new(1, 0);
        let mut sink = Collect(Vec::new());
        r.claimed(1);
        r.abandoned(1);
        r.never_sent(1);
        r.never_sent(4);
        r.close_all(&mut sink);
        let counts: Vec<(u64, u64, u64, u64)> = sink
            .0
            .iter()
            .map(|i| (i.index, i.intended, i.sent, i.never_sent))
            .collect();
        assert_eq!(
            counts,
            [(0, 0, 0, 0), (1, 1, 0, 1), (2, 0, 0, 0), (3, 0, 0, 0), (4, 1, 0, 1)]
        );
    }
}
