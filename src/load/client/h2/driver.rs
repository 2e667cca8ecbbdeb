//! A connection's I/O task: writes what the slots queued in one write,
//! reads what the server sent and hands each frame to the connection's
//! state. It ends with the connection.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn::{Ended, Inner};
use super::frame::{self, code, Head};
use crate::load::client::Stream;

/// Room for two frames of the largest size the client accepts.
const READ_BUF: usize = 2 * (frame::HEADER_LEN + frame::MIN_MAX_FRAME);

pub struct Driver {
    io: Stream,
    inner: Rc<RefCell<Inner>>,
    rbuf: Box<[u8]>,
    /// Unread bytes are `rbuf[start..end]`.
    start: usize,
    end: usize,
    /// Bytes of the write buffer already written.
    written: usize,
}

impl Driver {
    pub fn new(io: Stream, inner: Rc<RefCell<Inner>>) -> Driver {
        Driver {
            io,
            inner,
            rbuf: vec![0; READ_BUF].into_boxed_slice(),
            start: 0,
            end: 0,
            written: 0,
        }
    }

    /// Write the queued frames; `Pending` while the socket takes no more.
    fn poll_write(&mut self, inner: &mut Inner, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while self.written < inner.wbuf.len() {
            match Pin::new(&mut self.io).poll_write(cx, &inner.wbuf[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if self.written > 0 {
            inner.wbuf.clear();
            self.written = 0;
            // Plain TCP flushes at once; TLS hands its records to the socket.
            return Pin::new(&mut self.io).poll_flush(cx);
        }
        Poll::Ready(Ok(()))
    }

    /// Read once and handle every whole frame read; `Ready` when bytes
    /// came or the connection ended.
    fn poll_read(&mut self, inner: &mut Inner, cx: &mut Context<'_>) -> Poll<()> {
        if self.rbuf.len() - self.end < frame::HEADER_LEN + frame::MIN_MAX_FRAME {
            self.rbuf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let mut rb = ReadBuf::new(&mut self.rbuf[self.end..]);
        match Pin::new(&mut self.io).poll_read(cx, &mut rb) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => inner.end(Ended::Io(e.kind())),
            Poll::Ready(Ok(())) if rb.filled().is_empty() => inner.end(Ended::Eof),
            Poll::Ready(Ok(())) => {
                self.end += rb.filled().len();
                self.frames(inner);
            }
        }
        Poll::Ready(())
    }

    /// Hand every whole frame in the read buffer to the connection.
    fn frames(&mut self, inner: &mut Inner) {
        while self.end - self.start >= frame::HEADER_LEN {
            let mut hb = [0u8; frame::HEADER_LEN];
            hb.copy_from_slice(&self.rbuf[self.start..self.start + frame::HEADER_LEN]);
            let h = Head::parse(&hb);
            if h.len > frame::MIN_MAX_FRAME {
                inner.end(Ended::Protocol(code::FRAME_SIZE_ERROR));
                return;
            }
            let at = self.start + frame::HEADER_LEN;
            if self.end - at < h.len {
                break;
            }
            if let Err(c) = inner.on_frame(h, &self.rbuf[at..at + h.len]) {
                inner.end(Ended::Protocol(c));
                return;
            }
            self.start = at + h.len;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let rc = this.inner.clone();
        let mut inner = rc.borrow_mut();
        loop {
            if let Poll::Ready(Err(e)) = this.poll_write(&mut inner, cx) {
                inner.end(Ended::Io(e.kind()));
            }
            if inner.ended.is_some() {
                // A GOAWAY the client queued got its one chance above.
                return Poll::Ready(());
            }
            if inner.is_drained() && inner.wbuf.is_empty() {
                return Poll::Ready(());
            }
            match this.poll_read(&mut inner, cx) {
                Poll::Pending => break,
                Poll::Ready(()) if inner.ended.is_some() => continue,
                Poll::Ready(()) => {
                    // Let the slots whose responses came run first: their next
                    // requests then go out together in the next write.
                    cx.waker().wake_by_ref();
                    if inner.wbuf.is_empty() {
                        break;
                    }
                }
            }
        }
        if !inner.driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            inner.driver = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A driver dropped (its runtime ends) ends the connection: its streams fail.
impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.end(Ended::Abandoned);
        }
    }
}
