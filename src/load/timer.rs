//! A worker's precise timer for the open model's send instants.
//!
//! tokio's timer wheel has a resolution of one millisecond and rounds every
//! deadline up to its next tick, so a request due at an instant went out up to
//! a millisecond late (schedule lag p50 0.84 ms at 100,000/s, BENCHMARKS.md).
//! This timer keeps the waiting slots in a heap by deadline and arms one Linux
//! `timerfd` (absolute `CLOCK_MONOTONIC`, nanoseconds, no timer slack) at the
//! earliest; the fd sits in the runtime's own epoll set, so the worker sleeps
//! until the first deadline and wakes within microseconds of it. It costs one
//! `timerfd_settime` each time the earliest deadline changes.
//!
//! Sleeping and waking costs more than the wait is worth when instants are
//! microseconds apart (at 100,000/s, firing for every arrival took the whole
//! core on the benchmark VM, BENCHMARKS.md), so
//! the timer fires at most once per [`MIN_GAP`] and each firing releases
//! every slot whose instant has come: a send is late by at most that much
//! plus the wake-up, and the worker wakes at most 20,000 times a second.
//!
//! One per worker thread (`Rc`, not `Send`); [`Timer::drive`] must run on the
//! same `LocalSet` as the slots that sleep on it.

use std::cell::{Cell, RefCell};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::future::Future;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rustix::time::{
    clock_gettime, timerfd_create, timerfd_settime, ClockId, Itimerspec, TimerfdClockId, TimerfdFlags,
    TimerfdTimerFlags, Timespec,
};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::Instant;

/// The shortest time between two firings of the timer.
const MIN_GAP: Duration = Duration::from_micros(50);

/// A slot waiting for its instant.
struct Waiting {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The precise timer of one worker.
pub(crate) struct Timer {
    fd: AsyncFd<OwnedFd>,
    /// `CLOCK_MONOTONIC` at `base`: an `Instant` is that clock on Linux, so
    /// `at` is armed as `base_ts + (at - base)`.
    base: Instant,
    base_ts: Duration,
    heap: RefCell<BinaryHeap<Reverse<Waiting>>>,
    /// The deadline the fd is armed for, if any.
    armed: Cell<Option<Instant>>,
    /// When the fd last fired: the next firing is [`MIN_GAP`] later at the earliest.
    fired: Cell<Option<Instant>>,
    seq: Cell<u64>,
}

impl Timer {
    /// A timer on a new `timerfd`, registered with the current runtime.
    /// Fails where there is no `timerfd` (the caller then uses tokio's timer).
    pub fn new() -> std::io::Result<Rc<Timer>> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        let base = Instant::now();
        let ts = clock_gettime(ClockId::Monotonic);
        let base_ts = Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        );
        // tokio deprecates its safe constructors for types whose fd could
        // change under it (tokio#8587); an `OwnedFd` cannot, this one is never
        // handed out mutably, and the crate forbids `unsafe` for `register`.
        #[allow(deprecated)]
        let fd = AsyncFd::with_interest(fd, Interest::READABLE)?;
        Ok(Rc::new(Timer {
            fd,
            base,
            base_ts,
            heap: RefCell::new(BinaryHeap::new()),
            armed: Cell::new(None),
            fired: Cell::new(None),
            seq: Cell::new(0),
        }))
    }

    /// Completes at `at` (at once if it has passed).
    pub fn sleep_until(self: &Rc<Self>, at: Instant) -> Sleep {
        Sleep {
            timer: self.clone(),
            at,
            registered: false,
        }
    }

    /// Wake the slots whose instant has come, each time the fd fires. Runs
    /// until the worker drops it; ends early only if the fd fails.
    pub async fn drive(self: Rc<Self>) {
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                self.release_all();
                return;
            };
            // The expiry count is not read: arming the fd again resets it,
            // and the next expiry is a new edge for epoll.
            guard.clear_ready();
            drop(guard);
            self.armed.set(None);
            self.fired.set(Some(Instant::now()));
            self.fire();
        }
    }

    /// Wake every waiting slot whose instant has come and arm the fd at the
    /// earliest of the rest.
    fn fire(&self) {
        let now = Instant::now();
        let next = {
            let mut heap = self.heap.borrow_mut();
            while heap.peek().is_some_and(|w| w.0.at <= now) {
                if let Some(Reverse(w)) = heap.pop() {
                    w.waker.wake();
                }
            }
            heap.peek().map(|w| w.0.at)
        };
        if let Some(at) = next {
            self.arm(at);
        }
    }

    /// Arm the fd for `at`, or [`MIN_GAP`] after the last firing if that is
    /// later, unless it is armed for that already or earlier; on failure, wake
    /// everyone (they then see the time themselves and wait again, so nothing hangs).
    fn arm(&self, at: Instant) {
        let at = match self.fired.get() {
            Some(fired) => at.max(fired + MIN_GAP),
            None => at,
        };
        if self.armed.get().is_some_and(|armed| armed <= at) {
            return;
        }
        let abs = self.base_ts + at.saturating_duration_since(self.base);
        let spec = Itimerspec {
            it_interval: Timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: Timespec {
                tv_sec: i64::try_from(abs.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(abs.subsec_nanos()),
            },
        };
        match timerfd_settime(self.fd.get_ref(), TimerfdTimerFlags::ABSTIME, &spec) {
            Ok(_) => self.armed.set(Some(at)),
            Err(e) => {
                tracing::debug!("timerfd_settime failed: {e}");
                self.release_all();
            }
        }
    }

    fn release_all(&self) {
        let drained: Vec<_> = self.heap.borrow_mut().drain().collect();
        for Reverse(w) in drained {
            w.waker.wake();
        }
    }

    fn register(&self, at: Instant, waker: Waker) {
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        self.heap.borrow_mut().push(Reverse(Waiting { at, seq, waker }));
        self.arm(at);
    }
}

/// The future of [`Timer::sleep_until`].
pub(crate) struct Sleep {
    timer: Rc<Timer>,
    at: Instant,
    registered: bool,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        // Polled again before its instant (another branch of a `select!`
        // woke the task): the heap still holds this task's waker.
        if !self.registered || !self.timer.heap.borrow().iter().any(|w| w.0.waker.will_wake(cx.waker())) {
            self.registered = true;
            self.timer.register(self.at, cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local<F: Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, f)
    }

    /// Sleepers wake in order of their instants, none before it, and well
    /// inside tokio's millisecond.
    #[test]
    fn wakes_each_sleeper_at_its_instant() {
        let lags = local(async {
            let timer = Timer::new().unwrap();
            let driver = tokio::task::spawn_local(timer.clone().drive());
            let start = Instant::now() + Duration::from_millis(5);
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            // Registered out of order; instants 0.25 ms apart.
            for i in [7u64, 3, 0, 9, 1, 4, 8, 2, 6, 5] {
                let at = start + Duration::from_micros(250 * i);
                let (timer, order) = (timer.clone(), order.clone());
                tasks.push(tokio::task::spawn_local(async move {
                    timer.sleep_until(at).await;
                    let now = Instant::now();
                    assert!(now >= at);
                    order.borrow_mut().push(i);
                    now - at
                }));
            }
            let mut lags = Vec::new();
            for t in tasks {
                lags.push(t.await.unwrap());
            }
            driver.abort();
            assert_eq!(*order.borrow(), (0..10).collect::<Vec<_>>());
            lags
        });
        lags.iter()
            .for_each(|l| assert!(*l < Duration::from_millis(200), "{l:?}"));
        let mut sorted = lags.clone();
        sorted.sort();
        // A loaded CI machine may delay a few; most must be well under 1 ms.
        assert!(sorted[5] < Duration::from_micros(900), "{sorted:?}");
    }

    /// An instant in the past completes at once; a task's sleep polled again
    /// by a `select!` keeps a single registration.
    #[test]
    fn past_instants_and_repolls() {
        local(async {
            let timer = Timer::new().unwrap();
            let driver = tokio::task::spawn_local(timer.clone().drive());
            timer.sleep_until(Instant::now() - Duration::from_millis(1)).await;
            let notify = Rc::new(tokio::sync::Notify::new());
            let n = notify.clone();
            tokio::task::spawn_local(async move {
                for _ in 0..5 {
                    tokio::task::yield_now().await;
                    n.notify_one();
                }
            });
            let at = Instant::now() + Duration::from_millis(100);
            let t = timer.clone();
            let (wakes, most) = tokio::task::spawn_local(async move {
                let sleep = t.sleep_until(at);
                tokio::pin!(sleep);
                let (mut wakes, mut most) = (0, 0);
                loop {
                    tokio::select! {
                        () = &mut sleep => break,
                        () = notify.notified() => wakes += 1,
                    }
                    most = most.max(t.heap.borrow().len());
                }
                (wakes, most)
            })
            .await
            .unwrap();
            assert!(Instant::now() >= at);
            assert!(wakes >= 1);
            assert_eq!(most, 1, "one registration however often the task is polled");
            driver.abort();
        });
    }
}
