//! HTTP/1.1 over one connection, by hand: write the rendered request, parse
//! the response head with `httparse`, skip the body by its framing
//! (Content-Length, chunked, or until close).
//!
//! This is the engine's hot path. A generic client (hyper's pooled client)
//! costs a channel hop and allocations per request; here a request is one
//! `write` from a reused buffer and usually one `read` into another.
//!
//! A failure is returned as an [`ErrorKind`]: what the server did and
//! where in the response (before any byte, in the head, in the body), as
//! kept in [`H1Conn::phase`], which also tells a timeout's kind once the
//! caller has dropped the exchange.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{io_kind, Stream};
use crate::results::ErrorKind;

/// The most a response head (and what is read with it) may take.
const READ_BUF: usize = 64 * 1024;
/// What a connection's read buffer starts at: a typical response head and
/// small body. It doubles, up to [`READ_BUF`], when a read fills it, so
/// thousands of idle connections do not each hold 64 KiB (they did: 70 KB
/// of RSS per connection at 18,000 connections).
const READ_BUF_START: usize = 4 * 1024;
const MAX_HEADERS: usize = 64;

/// How far the current exchange got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opening the connection.
    Connect,
    /// The request is written (or being written); no byte of the response yet.
    Request,
    /// Some of the response head has come.
    Head,
    /// The head is complete; the body is being read.
    Body,
}

impl Phase {
    /// The kind of a timeout that struck in this phase.
    pub fn timeout_kind(self) -> ErrorKind {
        match self {
            Phase::Connect => ErrorKind::TimeoutConnect,
            Phase::Request | Phase::Head => ErrorKind::TimeoutHead,
            Phase::Body => ErrorKind::TimeoutBody,
        }
    }
}

/// One keep-alive HTTP/1.1 connection.
#[derive(Debug)]
pub struct H1Conn {
    stream: Option<Stream>,
    rbuf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Responses read whole on this connection (a stale-connection retry
    /// is only for a connection that has served one).
    served: u64,
    /// How far the current exchange got.
    pub phase: Phase,
    /// The request to send; the caller renders into it.
    pub wbuf: Vec<u8>,
}

impl Default for H1Conn {
    fn default() -> Self {
        Self::new()
    }
}

enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

impl H1Conn {
    pub fn new() -> Self {
        H1Conn {
            stream: None,
            rbuf: vec![0u8; READ_BUF_START].into_boxed_slice(),
            pos: 0,
            filled: 0,
            served: 0,
            phase: Phase::Connect,
            wbuf: Vec::with_capacity(1024),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// Whether the connection has served a response before this one: an
    /// EOF or reset before any byte on it is the server closing an idle
    /// keep-alive connection, which a client retries once on a fresh one.
    pub fn is_reused(&self) -> bool {
        self.served > 0
    }

    pub fn attach(&mut self, stream: Stream) {
        self.stream = Some(stream);
        self.pos = 0;
        self.filled = 0;
        self.served = 0;
    }

    pub fn close(&mut self) {
        self.stream = None;
        self.pos = 0;
        self.filled = 0;
        self.served = 0;
    }

    /// Send `wbuf` and read one response; returns its status. On any error
    /// the connection is closed (its state is unknown) and the kind of the
    /// failure is returned.
    pub async fn exchange(&mut self, head_only: bool) -> Result<u16, ErrorKind> {
        self.phase = Phase::Request;
        let r = self.exchange_inner(head_only).await;
        match r {
            Ok(_) => self.served += 1,
            Err(_) => self.close(),
        }
        r
    }

    #[allow(clippy::too_many_lines)] // hot path: one request's write and response parse, one future per request (BENCHMARKS.md, HTTP/1.1)
    async fn exchange_inner(&mut self, head_only: bool) -> Result<u16, ErrorKind> {
        let stream = self.stream.as_mut().ok_or(ErrorKind::ConnectFailed)?;
        if let Err(e) = stream.write_all(&self.wbuf).await {
            return Err(self.io_error(&e));
        }
        let (status, framing, close) = loop {
            let (status, framing, close, consumed) = {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut resp = httparse::Response::new(&mut headers);
                match resp.parse(&self.rbuf[self.pos..self.filled]) {
                    Ok(httparse::Status::Complete(n)) => {
                        let status = resp.code.unwrap_or(0);
                        let mut length = None;
                        let mut chunked = false;
                        let mut close = resp.version == Some(0);
                        for h in resp.headers.iter() {
                            if h.name.eq_ignore_ascii_case("content-length") {
                                length = std::str::from_utf8(h.value)
                                    .ok()
                                    .and_then(|v| v.trim().parse::<u64>().ok());
                                if length.is_none() {
                                    return Err(ErrorKind::BadContentLength);
                                }
                            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                                chunked = h.value.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked"));
                            } else if h.name.eq_ignore_ascii_case("connection") {
                                if h.value.windows(5).any(|w| w.eq_ignore_ascii_case(b"close")) {
                                    close = true;
                                } else if h.value.windows(10).any(|w| w.eq_ignore_ascii_case(b"keep-alive")) {
                                    close = false;
                                }
                            }
                        }
                        let framing = if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
                            Framing::None
                        } else if chunked {
                            Framing::Chunked
                        } else if let Some(n) = length {
                            Framing::Length(n)
                        } else {
                            Framing::UntilClose
                        };
                        (status, framing, close, n)
                    }
                    Ok(httparse::Status::Partial) => {
                        self.read_more().await?;
                        continue;
                    }
                    Err(e) => return Err(head_error(&self.rbuf[self.pos..self.filled], e)),
                }
            };
            self.pos += consumed;
            // An interim response (100 Continue, 103 Early Hints): the final one follows.
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            break (status, framing, close);
        };
        self.phase = Phase::Body;
        match framing {
            Framing::None => {}
            Framing::Length(n) => self.skip(n).await?,
            Framing::Chunked => self.skip_chunked().await?,
            Framing::UntilClose => {
                loop {
                    self.pos = self.filled;
                    if self.read_some().await? == 0 {
                        break;
                    }
                }
                self.close();
                return Ok(status);
            }
        }
        if status == 101 {
            return Err(ErrorKind::UpgradeRefused);
        }
        if close {
            self.close();
        } else if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        }
        Ok(status)
    }

    /// The kind of an I/O error in the current phase.
    fn io_error(&self, e: &std::io::Error) -> ErrorKind {
        io_kind(e, self.phase)
    }

    /// Read more bytes; end of stream before a complete response is an EOF
    /// of the current phase.
    async fn read_more(&mut self) -> Result<(), ErrorKind> {
        match self.read_some().await? {
            0 => Err(match self.phase {
                Phase::Connect | Phase::Request => ErrorKind::EofBeforeResponse,
                Phase::Head => ErrorKind::EofInHead,
                Phase::Body => ErrorKind::EofInBody,
            }),
            _ => Ok(()),
        }
    }

    async fn read_some(&mut self) -> Result<usize, ErrorKind> {
        if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        } else if self.filled == self.rbuf.len() {
            if self.pos == 0 {
                // A response head (or a chunk-size or trailer line) larger than the buffer.
                return Err(ErrorKind::HeadTooLarge);
            }
            self.rbuf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(ErrorKind::EofInBody);
        };
        let n = match stream.read(&mut self.rbuf[self.filled..]).await {
            Ok(n) => n,
            Err(e) => return Err(self.io_error(&e)),
        };
        if n > 0 && self.phase == Phase::Request {
            self.phase = Phase::Head;
        }
        self.filled += n;
        if self.filled == self.rbuf.len() && self.rbuf.len() < READ_BUF {
            // Full: a larger head or body is coming; double (a few times per
            // connection at most), keeping the unread bytes in place.
            let mut bigger = vec![0u8; (self.rbuf.len() * 2).min(READ_BUF)].into_boxed_slice();
            bigger[..self.filled].copy_from_slice(&self.rbuf[..self.filled]);
            self.rbuf = bigger;
        }
        Ok(n)
    }

    async fn skip(&mut self, mut n: u64) -> Result<(), ErrorKind> {
        loop {
            let avail = (self.filled - self.pos) as u64;
            if avail >= n {
                self.pos += n as usize;
                return Ok(());
            }
            n -= avail;
            self.pos = self.filled;
            self.read_more().await?;
        }
    }

    async fn skip_chunked(&mut self) -> Result<(), ErrorKind> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.rbuf[self.pos..self.filled]) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.pos += used;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => self.read_more().await?,
                    Err(_) => return Err(ErrorKind::BadChunkSize),
                }
            };
            if size == 0 {
                // Trailers, if any, then an empty line.
                loop {
                    let line_end = loop {
                        if let Some(i) = self.rbuf[self.pos..self.filled].windows(2).position(|w| w == b"\r\n") {
                            break i;
                        }
                        self.read_more().await?;
                    };
                    self.pos += line_end + 2;
                    if line_end == 0 {
                        return Ok(());
                    }
                }
            }
            self.skip(size).await?;
            // The chunk's data ends with CRLF; anything else means the size lied.
            while self.filled - self.pos < 2 {
                self.read_more().await?;
            }
            if &self.rbuf[self.pos..self.pos + 2] != b"\r\n" {
                return Err(ErrorKind::BadChunkSize);
            }
            self.pos += 2;
        }
    }
}

/// The kind of a response head `httparse` rejected: not HTTP at all, a
/// bad status line, too many headers, or a bad header.
pub(crate) fn head_error(buf: &[u8], e: httparse::Error) -> ErrorKind {
    let n = buf.len().min(5);
    if !buf[..n].eq_ignore_ascii_case(&b"HTTP/"[..n]) {
        return ErrorKind::NonHttpReply;
    }
    match e {
        httparse::Error::Version | httparse::Error::Status => ErrorKind::BadStatusLine,
        httparse::Error::TooManyHeaders => ErrorKind::HeadTooLarge,
        _ => ErrorKind::BadHeader,
    }
}

/// Entry points for the fuzz target `h1_response`: the client's real
/// response reading, from bytes in memory instead of a socket.
#[doc(hidden)]
pub mod fuzzing {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use super::{H1Conn, Stream};
    use crate::results::ErrorKind;

    /// Read `data` as the reply to one GET (or HEAD) request, handed to
    /// the client `chunk` bytes per read (at least 1), then as many further
    /// responses as keep-alive allows (at most 8). Returns what each
    /// exchange gave. The stream never blocks, so an exchange that is still
    /// pending after it was polled is a hang: that is an error here.
    pub fn h1_responses(data: &[u8], chunk: usize, head_only: bool) -> Result<Vec<Result<u16, ErrorKind>>, String> {
        let mut conn = H1Conn::new();
        conn.attach(Stream::Mem(super::super::stream::MemStream::new(data.to_vec(), chunk)));
        conn.wbuf.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut out = Vec::new();
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..8 {
            let r = {
                let mut fut = std::pin::pin!(conn.exchange(head_only));
                match fut.as_mut().poll(&mut cx) {
                    Poll::Ready(r) => r,
                    Poll::Pending => return Err("the exchange is pending on a stream that never blocks".into()),
                }
            };
            out.push(r);
            if !conn.is_connected() {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    /// Serve the given raw responses, one per request read, on one connection.
    async fn serve(responses: Vec<&'static [u8]>) -> std::net::SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            for r in responses {
                let _ = s.read(&mut buf).await;
                s.write_all(r).await.unwrap();
            }
            // Keep the socket open briefly so the last response is read whole.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        });
        addr
    }

    async fn conn(addr: std::net::SocketAddr) -> H1Conn {
        let mut c = H1Conn::new();
        c.attach(Stream::Plain(tokio::net::TcpStream::connect(addr).await.unwrap()));
        c.wbuf.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        c
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_on_one_connection() {
        let addr = serve(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ])
        .await;
        let mut c = conn(addr).await;
        assert_eq!(c.exchange(false).await, Ok(200));
        assert_eq!(c.exchange(false).await, Ok(201));
        assert_eq!(c.exchange(false).await, Ok(204));
        assert!(c.is_connected());
        assert_eq!(c.exchange(false).await, Ok(503));
        assert!(!c.is_connected(), "Connection: close must close");
    }

    #[tokio::test]
    async fn early_close_is_a_reset_and_garbage_is_other() {
        let addr = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"]).await;
        let mut c = conn(addr).await;
        assert_eq!(c.exchange(false).await, Err(ErrorKind::EofInBody));
        assert!(!c.is_connected());
        let addr = serve(vec![b"SMTP ready\r\n\r\n"]).await;
        let mut c = conn(addr).await;
        assert_eq!(c.exchange(false).await, Err(ErrorKind::NonHttpReply));
    }

    #[tokio::test]
    async fn body_until_close() {
        let addr = serve(vec![b"HTTP/1.0 200 OK\r\n\r\nall of it"]).await;
        let mut c = conn(addr).await;
        assert_eq!(c.exchange(false).await, Ok(200));
        assert!(!c.is_connected());
    }

    /// Each malformed or cut reply gives its kind, whatever the read sizes
    /// (1 byte at a time, 7, all at once): the head and body parsers keep
    /// their place across reads.
    #[test]
    fn each_bad_reply_has_its_kind_at_every_read_size() {
        use ErrorKind::*;
        let cases: &[(&[u8], Result<u16, ErrorKind>)] = &[
            (b"", Err(EofBeforeResponse)),
            (b"HTTP/1.1 200 O", Err(EofInHead)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", Err(EofInBody)),
            (b"SSH-2.0-OpenSSH_9.6\r\n", Err(NonHttpReply)),
            (b"\x16\x03\x01\x00\xa5\x01\x00", Err(NonHttpReply)),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", Err(BadStatusLine)),
            (b"HTTP/9.9 200 OK\r\n\r\n", Err(BadStatusLine)),
            (b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", Err(BadHeader)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", Err(BadContentLength)),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Err(BadChunkSize)),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n", Err(BadChunkSize)),
            (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", Err(UpgradeRefused)),
            (
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                Ok(200),
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
                Ok(200),
            ),
            (b"HTTP/1.0 200 OK\r\n\r\nuntil EOF", Ok(200)),
        ];
        for (reply, want) in cases {
            for chunk in [1, 7, 1 << 20] {
                let got = fuzzing::h1_responses(reply, chunk, false).unwrap();
                assert_eq!(
                    got.first(),
                    Some(want),
                    "{:?} read {chunk} at a time",
                    String::from_utf8_lossy(reply)
                );
            }
        }
        let mut huge = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        huge.resize(READ_BUF + 10, b'a');
        assert_eq!(fuzzing::h1_responses(&huge, 4096, false).unwrap()[0], Err(HeadTooLarge));
    }
}
