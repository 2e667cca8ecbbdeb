//! HTTP/2 over one connection, by hand (RFC 9113): h2c with prior
//! knowledge on `http://`, ALPN `h2` on `https://`. Several request slots
//! share one connection (`target.streams`).
//!
//! As for HTTP/1.1 (`h1`), a generic client cost too much per request
//! (hyper's dispatch: a channel hop, a task wake-up and allocations per
//! request, 0.39x h2load's requests per CPU-second; BENCHMARKS.md). Here
//! the slots of a connection write their requests' frames into one buffer
//! ([`conn`]), its I/O task ([`driver`]) sends them in one write and reads
//! every stream's responses in one read, and the response head is decoded
//! only for its status ([`hpack`]; the request's header block uses no
//! dynamic table, [`crate::load::client::wire`]). Flow control,
//! SETTINGS, PING, GOAWAY, RST_STREAM, CONTINUATION and padding are handled
//! as the RFC says; a failure is an [`ErrorKind`].

mod conn;
pub(crate) use conn::fuzzing;
mod driver;
pub(crate) mod frame;
mod hpack;

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Context, Poll};

use self::conn::{Ended, Inner};
use super::{Stream, Wire};
use crate::profile::RequestBuf;
use crate::results::ErrorKind;

/// One HTTP/2 connection; cheap to clone (clones share the connection).
/// When the last clone is dropped, the connection closes.
#[derive(Clone)]
pub struct H2Conn {
    handle: Rc<Handle>,
}

impl std::fmt::Debug for H2Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Conn").field("usable", &self.is_usable()).finish()
    }
}

struct Handle {
    inner: Rc<RefCell<Inner>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.end(Ended::Abandoned);
            inner.wake_driver();
        }
    }
}

impl H2Conn {
    /// Start HTTP/2 on a fresh stream: the preface and SETTINGS are queued
    /// and the connection's I/O task starts on the current `LocalSet`.
    /// Requests wait for the server's SETTINGS; a server that answers with
    /// anything else fails them as `h2_handshake`.
    pub async fn handshake(stream: Stream) -> Result<H2Conn, ErrorKind> {
        let inner = Rc::new(RefCell::new(Inner::new()));
        tokio::task::spawn_local(driver::Driver::new(stream, inner.clone()));
        Ok(H2Conn {
            handle: Rc::new(Handle { inner }),
        })
    }

    pub fn is_usable(&self) -> bool {
        self.handle.inner.try_borrow().is_ok_and(|i| i.is_usable())
    }

    /// Send one request and read its whole response; returns the status.
    /// `progress` says how far it got, also when the caller's timeout
    /// drops this future (the stream is then reset).
    pub async fn exchange(&self, wire: &Wire, buf: &RequestBuf, progress: &mut Progress) -> Result<u16, ErrorKind> {
        *progress = Progress::default();
        let inner = &self.handle.inner;
        let opened = poll_fn(|cx| inner.borrow_mut().poll_open(cx, wire, buf)).await;
        let id = match opened {
            Ok(id) => id,
            Err(f) => {
                progress.unprocessed = f.unprocessed;
                return Err(f.kind);
            }
        };
        let mut open = OpenStream {
            inner,
            id,
            progress,
            done: false,
        };
        poll_fn(|cx| open.poll(cx)).await
    }
}

/// A stream whose response is awaited; dropped before the end (a timeout),
/// it resets the stream and records how far the exchange got.
struct OpenStream<'a> {
    inner: &'a Rc<RefCell<Inner>>,
    id: u32,
    progress: &'a mut Progress,
    done: bool,
}

impl OpenStream<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<u16, ErrorKind>> {
        let Poll::Ready((end, in_body)) = self.inner.borrow_mut().poll_response(self.id, cx) else {
            return Poll::Pending;
        };
        self.done = true;
        self.progress.in_body = in_body;
        Poll::Ready(end.map_err(|f| {
            self.progress.unprocessed = f.unprocessed;
            f.kind
        }))
    }
}

impl Drop for OpenStream<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            if let Some(in_body) = inner.cancel(self.id) {
                self.progress.in_body = in_body;
            }
        }
    }
}

/// How far one HTTP/2 exchange got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// The response head had come (a timeout is then `timeout_body`).
    pub in_body: bool,
    /// The server said it never processed the request: its stream was
    /// above a graceful GOAWAY's last stream id, or refused with
    /// REFUSED_STREAM (RFC 9113, 6.8 and 8.7). Any method may be sent
    /// again on another connection.
    pub unprocessed: bool,
}

impl Progress {
    /// The kind of a timeout at this point of the exchange.
    pub fn timeout_kind(&self) -> ErrorKind {
        if self.in_body {
            ErrorKind::TimeoutBody
        } else {
            ErrorKind::TimeoutHead
        }
    }
}
