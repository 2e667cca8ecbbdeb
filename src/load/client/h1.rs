//! HTTP/1.1 over one connection, by hand: write the rendered request, parse
//! the response head with `httparse`, skip the body by its framing
//! (Content-Length, chunked, or until close).
//!
//! This is the engine's hot path. A generic client (hyper's pooled client)
//! costs a channel hop and allocations per request; here a request is one
//! `write` from a reused buffer and usually one `read` into another.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{io_outcome, Stream};
use crate::results::Outcome;

/// The most a response head (and what is read with it) may take.
const READ_BUF: usize = 64 * 1024;
/// What a connection's read buffer starts at: a typical response head and
/// small body. It doubles, up to [`READ_BUF`], when a read fills it, so
/// thousands of idle connections do not each hold 64 KiB (they did: 70 KB
/// of RSS per connection at 18,000 connections).
const READ_BUF_START: usize = 4 * 1024;
const MAX_HEADERS: usize = 64;

/// One keep-alive HTTP/1.1 connection.
#[derive(Debug)]
pub struct H1Conn {
    stream: Option<Stream>,
    rbuf: Box<[u8]>,
    pos: usize,
    filled: usize,
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
            wbuf: Vec::with_capacity(1024),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    pub fn attach(&mut self, stream: Stream) {
        self.stream = Some(stream);
        self.pos = 0;
        self.filled = 0;
    }

    pub fn close(&mut self) {
        self.stream = None;
        self.pos = 0;
        self.filled = 0;
    }

    /// Send `wbuf` and read one response; returns its status. On any error
    /// the connection is closed (its state is unknown) and the outcome
    /// class is returned.
    pub async fn exchange(&mut self, head_only: bool) -> Result<u16, Outcome> {
        let r = self.exchange_inner(head_only).await;
        if r.is_err() {
            self.close();
        }
        r
    }

    #[allow(clippy::too_many_lines)] // hot path: one request's write and response parse, one future per request (BENCHMARKS.md, HTTP/1.1)
    async fn exchange_inner(&mut self, head_only: bool) -> Result<u16, Outcome> {
        let stream = self.stream.as_mut().ok_or(Outcome::Connect)?;
        stream.write_all(&self.wbuf).await.map_err(|e| io_outcome(&e))?;
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
                                    return Err(Outcome::Other);
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
                    Err(_) => return Err(Outcome::Other),
                }
            };
            self.pos += consumed;
            // An interim response (100 Continue, 103 Early Hints): the final one follows.
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            break (status, framing, close);
        };
        match framing {
            Framing::None => {}
            Framing::Length(n) => self.skip(n).await?,
            Framing::Chunked => self.skip_chunked().await?,
            Framing::UntilClose => {
                loop {
                    self.pos = self.filled;
                    match self.read_some().await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(o) => return Err(o),
                    }
                }
                self.close();
                return Ok(status);
            }
        }
        if status == 101 {
            return Err(Outcome::Other);
        }
        if close {
            self.close();
        } else if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        }
        Ok(status)
    }

    /// Read more bytes; end of stream before a complete response is a reset.
    async fn read_more(&mut self) -> Result<(), Outcome> {
        match self.read_some().await? {
            0 => Err(Outcome::Reset),
            _ => Ok(()),
        }
    }

    async fn read_some(&mut self) -> Result<usize, Outcome> {
        if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        } else if self.filled == self.rbuf.len() {
            if self.pos == 0 {
                // A response head larger than the buffer.
                return Err(Outcome::Other);
            }
            self.rbuf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        let stream = self.stream.as_mut().ok_or(Outcome::Reset)?;
        let n = stream
            .read(&mut self.rbuf[self.filled..])
            .await
            .map_err(|e| io_outcome(&e))?;
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

    async fn skip(&mut self, mut n: u64) -> Result<(), Outcome> {
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

    async fn skip_chunked(&mut self) -> Result<(), Outcome> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.rbuf[self.pos..self.filled]) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.pos += used;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => self.read_more().await?,
                    Err(_) => return Err(Outcome::Other),
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
            self.skip(size + 2).await?;
        }
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
        assert_eq!(c.exchange(false).await, Err(Outcome::Reset));
        assert!(!c.is_connected());
        let addr = serve(vec![b"SMTP ready\r\n\r\n"]).await;
        let mut c = conn(addr).await;
        assert_eq!(c.exchange(false).await, Err(Outcome::Other));
    }

    #[tokio::test]
    async fn body_until_close() {
        let addr = serve(vec![b"HTTP/1.0 200 OK\r\n\r\nall of it"]).await;
        let mut c = conn(addr).await;
        assert_eq!(c.exchange(false).await, Ok(200));
        assert!(!c.is_connected());
    }
}
