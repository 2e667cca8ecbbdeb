//! Slow and abandoning clients (a profile's `clients:` classes): each
//! request on a connection of its own, opened for it and closed after, as a
//! real slow client is its own TCP connection and never holds one of the
//! normal clients' keep-alive connections.
//!
//! - *Slow send*: the request's bytes are written `chunk` at a time with a
//!   pause of `every` between writes (`TCP_NODELAY` is on, so each write is
//!   its own segment and the server sees the request trickle in).
//! - *Slow read*: the socket's receive buffer is made small
//!   ([`SLOW_READ_RCVBUF`], set before `connect` so the window the kernel
//!   advertises stays small) and the response is read `chunk` at a time with
//!   a pause of `every`; once the buffers fill, the server's writes block, as
//!   they do for a client on a bad mobile link.
//! - *Abandon*: `abandon_after` after the client started, the connection is
//!   closed whatever state the exchange is in (the kernel sends a reset
//!   instead of a FIN when response bytes are left unread).
//!
//! The request asks for `Connection: close`, so the end of the response is
//! its `Content-Length`, or else the server closing the connection. HTTP/1.1
//! only: TLS offers only `http/1.1` in ALPN here, and profiles with
//! `target.http: http2` and classes are refused when validated.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::time::Instant;

use super::{io_kind, tls_kind, Connector, Phase, SetupError, Stream};
use crate::profile::{ClientClass, HttpMode, Scheme, Target};
use crate::results::ErrorKind;

/// The receive buffer asked for on a slow reader's socket, in bytes (Linux
/// doubles it for its own bookkeeping and keeps a floor of about 2 KB).
pub const SLOW_READ_RCVBUF: u32 = 4096;

/// Read size of a client that reads at full speed.
const FULL_READ: usize = 16 * 1024;

/// Opens the slow clients' connections: the target's addresses, and TLS
/// offering HTTP/1.1 only.
#[derive(Clone)]
pub(crate) struct SlowConnector {
    addrs: Arc<Vec<SocketAddr>>,
    tls: Option<(tokio_rustls::TlsConnector, rustls::pki_types::ServerName<'static>)>,
}

impl std::fmt::Debug for SlowConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlowConnector")
            .field("addrs", &self.addrs)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// How one slow exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlowEnd {
    /// A complete response (its status), or why there was none.
    Done(Result<u16, ErrorKind>),
    /// The client closed the connection at `abandon_after`, as declared.
    Abandoned,
}

/// One slow exchange: how it ended and the bytes it moved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlowResult {
    pub end: SlowEnd,
    /// Request bytes written.
    pub sent: u64,
    /// Response bytes read (head and body).
    pub received: u64,
}

impl SlowConnector {
    /// The target's resolved addresses (from `connector`) and its TLS
    /// settings with ALPN `http/1.1`.
    pub fn new(target: &Target, connector: &Connector) -> Result<SlowConnector, SetupError> {
        let tls = match target.base.scheme {
            Scheme::Http => None,
            Scheme::Https => {
                let mut h1 = target.clone();
                h1.http = HttpMode::Http1;
                Some(super::tls::connector(&h1)?)
            }
        };
        Ok(SlowConnector {
            addrs: connector.addrs.clone(),
            tls,
        })
    }

    /// A new connection, with a small receive buffer when `small_rcvbuf`.
    async fn connect(&self, small_rcvbuf: bool) -> Result<Stream, ErrorKind> {
        let mut last = ErrorKind::ConnectFailed;
        for addr in self.addrs.iter() {
            let socket = if addr.is_ipv4() {
                TcpSocket::new_v4()
            } else {
                TcpSocket::new_v6()
            };
            let Ok(socket) = socket else {
                last = ErrorKind::Io;
                continue;
            };
            if small_rcvbuf {
                let _ = socket.set_recv_buffer_size(SLOW_READ_RCVBUF);
            }
            let tcp = match socket.connect(*addr).await {
                Ok(tcp) => tcp,
                Err(e) => {
                    tracing::debug!("slow client: connect to {addr} failed: {e}");
                    last = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                        ErrorKind::Refused
                    } else {
                        ErrorKind::ConnectFailed
                    };
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            return match &self.tls {
                None => Ok(Stream::Plain(tcp)),
                Some((connector, name)) => match connector.connect(name.clone(), tcp).await {
                    Ok(tls) => Ok(Stream::Tls(Box::new(tls))),
                    Err(e) => {
                        tracing::debug!("slow client: TLS handshake with {addr} failed: {e}");
                        Err(tls_kind(&e))
                    }
                },
            };
        }
        Err(last)
    }
}

/// `request` (an HTTP/1.1 request as [`super::Wire::write_h1`] writes it)
/// with `Connection: close` added to its head.
pub(crate) fn with_close(request: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(request.len() + 19);
    match request.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => {
            out.extend_from_slice(&request[..end + 2]);
            out.extend_from_slice(b"Connection: close\r\n");
            out.extend_from_slice(&request[end + 2..]);
        }
        None => out.extend_from_slice(request),
    }
    out
}

/// Send `request` as client class `class` would and read the response;
/// `head` when the request is a HEAD (its response has no body). Ends by
/// the class's timeout at the latest.
pub(crate) async fn exchange(conn: &SlowConnector, class: &ClientClass, request: &[u8], head: bool) -> SlowResult {
    let sent = Cell::new(0u64);
    let received = Cell::new(0u64);
    let started = Instant::now();
    let timeout = started + class.timeout;
    let abandon = class.abandon_after.map(|a| started + a).filter(|a| *a < timeout);
    let phase = Cell::new(Phase::Connect);
    let work = talk(conn, class, request, head, &sent, &received, &phase);
    let end = tokio::select! {
        r = work => SlowEnd::Done(r),
        _ = tokio::time::sleep_until(timeout) => SlowEnd::Done(Err(phase.get().timeout_kind())),
        _ = sleep_until_opt(abandon) => SlowEnd::Abandoned,
    };
    SlowResult {
        end,
        sent: sent.get(),
        received: received.get(),
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Connect, write, read: the exchange without its deadlines. The stream is
/// dropped (the connection closed) when this ends or is cancelled.
async fn talk(
    conn: &SlowConnector,
    class: &ClientClass,
    request: &[u8],
    head: bool,
    sent: &Cell<u64>,
    received: &Cell<u64>,
    phase: &Cell<Phase>,
) -> Result<u16, ErrorKind> {
    let mut stream = conn.connect(class.read.is_some()).await?;
    phase.set(Phase::Request);
    let io = |e: std::io::Error| io_kind(&e, phase.get());
    match class.send {
        Some(pace) => {
            let mut chunks = request.chunks(pace.chunk as usize).peekable();
            while let Some(c) = chunks.next() {
                stream.write_all(c).await.map_err(io)?;
                stream.flush().await.map_err(io)?;
                sent.set(sent.get() + c.len() as u64);
                if chunks.peek().is_some() {
                    tokio::time::sleep(pace.every).await;
                }
            }
        }
        None => {
            stream.write_all(request).await.map_err(io)?;
            stream.flush().await.map_err(io)?;
            sent.set(request.len() as u64);
        }
    }
    let mut reader = Response::new(head);
    let size = class.read.map_or(FULL_READ, |p| p.chunk as usize);
    let mut buf = vec![0u8; size];
    loop {
        let n = stream.read(&mut buf).await.map_err(io)?;
        received.set(received.get() + n as u64);
        if n == 0 {
            return reader.at_eof();
        }
        let done = reader.feed(&buf[..n]);
        phase.set(reader.phase());
        if let Some(done) = done? {
            return Ok(done);
        }
        if let Some(p) = class.read {
            tokio::time::sleep(p.every).await;
        }
    }
}

/// How the body of a response ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// After this many more bytes.
    Length(u64),
    /// When the server closes the connection (chunked, or no length).
    Close,
}

/// The response as it arrives: its head parsed with `httparse`, then its
/// body counted (never kept).
struct Response {
    head: bool,
    /// The head's bytes until it is complete.
    pending: Vec<u8>,
    /// Status and framing once the head is parsed.
    parsed: Option<(u16, Framing)>,
    /// The last bytes seen, to spot a chunked body's last chunk.
    tail: [u8; 5],
}

impl Response {
    fn new(head: bool) -> Response {
        Response {
            head,
            pending: Vec::new(),
            parsed: None,
            tail: [0; 5],
        }
    }

    /// Bytes read; `Some(status)` once the response is complete.
    fn feed(&mut self, bytes: &[u8]) -> Result<Option<u16>, ErrorKind> {
        let body: &[u8] = match self.parsed {
            Some(_) => bytes,
            None => {
                self.pending.extend_from_slice(bytes);
                if self.pending.len() > 64 * 1024 {
                    return Err(ErrorKind::HeadTooLarge);
                }
                let mut headers = [httparse::EMPTY_HEADER; 64];
                let mut resp = httparse::Response::new(&mut headers);
                let len = match resp.parse(&self.pending) {
                    Ok(httparse::Status::Complete(len)) => len,
                    Ok(httparse::Status::Partial) => return Ok(None),
                    Err(e) => return Err(super::h1::head_error(&self.pending, e)),
                };
                let status = resp.code.unwrap_or(0);
                if status < 200 {
                    // Interim responses are not expected with `Connection: close`.
                    return Err(ErrorKind::BadStatus);
                }
                let no_body = self.head || status == 204 || status == 304;
                let mut framing = Framing::Close;
                for h in resp.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        let n = std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse().ok());
                        framing = Framing::Length(n.ok_or(ErrorKind::BadContentLength)?);
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        framing = Framing::Close;
                        break;
                    }
                }
                if no_body {
                    framing = Framing::Length(0);
                }
                self.parsed = Some((status, framing));
                let rest = self.pending.split_off(len);
                self.pending = Vec::new();
                return self.body(&rest);
            }
        };
        self.body(body)
    }

    /// Body bytes; `Some(status)` once the body is complete.
    fn body(&mut self, bytes: &[u8]) -> Result<Option<u16>, ErrorKind> {
        let Some((status, framing)) = &mut self.parsed else {
            return Ok(None);
        };
        match framing {
            Framing::Length(left) => {
                *left = left.saturating_sub(bytes.len() as u64);
                Ok((*left == 0).then_some(*status))
            }
            Framing::Close => {
                for b in bytes {
                    self.tail.rotate_left(1);
                    self.tail[4] = *b;
                }
                // A chunked body's last chunk: done even if the server keeps the connection.
                Ok((&self.tail == b"0\r\n\r\n").then_some(*status))
            }
        }
    }

    /// The server closed the connection: complete if the body ends there.
    fn at_eof(&self) -> Result<u16, ErrorKind> {
        match self.parsed {
            Some((status, Framing::Close | Framing::Length(0))) => Ok(status),
            Some(_) => Err(ErrorKind::EofInBody),
            None if self.pending.is_empty() => Err(ErrorKind::EofBeforeResponse),
            None => Err(ErrorKind::EofInHead),
        }
    }

    /// How far the response has come: for the kind of an error or timeout.
    fn phase(&self) -> Phase {
        match self.parsed {
            Some(_) => Phase::Body,
            None if self.pending.is_empty() => Phase::Request,
            None => Phase::Head,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_close_goes_into_the_head() {
        let r = with_close(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
        assert_eq!(
            r,
            b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".to_vec()
        );
    }

    #[test]
    fn responses_end_by_length_by_last_chunk_or_by_close() {
        let mut r = Response::new(false);
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\nContent-Le"), Ok(None));
        assert_eq!(r.feed(b"ngth: 5\r\n\r\nab"), Ok(None));
        assert_eq!(r.feed(b"cde"), Ok(Some(200)));
        let mut r = Response::new(false);
        assert_eq!(
            r.feed(b"HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r"),
            Ok(None)
        );
        assert_eq!(r.feed(b"\n\r\n"), Ok(Some(503)));
        let mut r = Response::new(false);
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\n\r\nbody"), Ok(None));
        assert_eq!(r.at_eof(), Ok(200));
        let mut r = Response::new(true);
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"), Ok(Some(200)));
        assert_eq!(Response::new(false).at_eof(), Err(ErrorKind::EofBeforeResponse));
        let mut r = Response::new(false);
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"), Ok(None));
        assert_eq!((r.phase(), r.at_eof()), (Phase::Body, Err(ErrorKind::EofInBody)));
        let mut r = Response::new(false);
        assert_eq!(r.feed(b"HTTP/1.1 200"), Ok(None));
        assert_eq!((r.phase(), r.at_eof()), (Phase::Head, Err(ErrorKind::EofInHead)));
        assert_eq!(
            Response::new(false).feed(b"SSH-2.0-x\r\n"),
            Err(ErrorKind::NonHttpReply)
        );
        assert_eq!(
            Response::new(false).feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
            Err(ErrorKind::BadContentLength)
        );
    }
}
