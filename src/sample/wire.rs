//! Faults on the wire: what a flaky server or proxy does to the bytes of
//! a response, which hyper (rightly) cannot be made to write. With any
//! HTTP/1.1 wire fault on, connections are served by the raw writer here
//! instead of hyper: it reads each request head (and skips its body by
//! Content-Length), then answers `200 hello\n` (or `500` when the error
//! rate draws it) with the faults applied. The shop routes are not served
//! then; the point is the framing, not the content. HTTP/2 faults
//! (streams, GOAWAY, RST_STREAM) stay with hyper (`server.rs`).
//!
//! One uniform draw per request picks at most one of hang, garbage, reset,
//! bad chunk and no length, so their rates add up to at most 100%, and the
//! same seed and traffic give the same faults.

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::faults::{request_seed, Outcome};
use super::service::Conn;
use super::Error;

/// Where in the exchange an injected reset (`reset_rate`) strikes, on the
/// raw HTTP/1.1 path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, strum::Display, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum ResetAt {
    /// Before any byte of the response.
    #[default]
    Before,
    /// Halfway through the response head.
    Head,
    /// Halfway through the body.
    Body,
    /// Right after the whole response: the next request on the connection meets it.
    After,
}

/// Faults fixed at start: the response's framing and pacing (HTTP/1.1,
/// raw writer) and HTTP/2's connection limits.
#[derive(Debug, Clone, PartialEq)]
pub struct WireFaults {
    /// Write the response head one byte per `pace`.
    pub slow_head: bool,
    /// Write the response body one byte per `pace`.
    pub slow_body: bool,
    /// The pace of `slow_head` and `slow_body` (100 ms by default).
    pub pace: Duration,
    /// Close a keep-alive connection, unannounced, after this many
    /// responses. Hyper's path (the shop) closes as the next request
    /// arrives; the raw writer, right after the last response.
    pub close_after: Option<u64>,
    /// Send `Connection: close` with every response, and close.
    pub close_every_response: bool,
    /// Fraction of requests never answered (the connection stays open, silent).
    pub hang_rate: f64,
    /// Fraction of requests answered with bytes that are not HTTP, then a close.
    pub garbage_rate: f64,
    /// Where `reset_rate`'s resets strike on the raw path.
    pub reset_at: ResetAt,
    /// Frame bodies as `Transfer-Encoding: chunked`, with a chunk extension and a trailer.
    pub chunked: bool,
    /// Fraction of requests whose chunked body has a malformed chunk size.
    pub bad_chunk_rate: f64,
    /// Fraction of requests answered without Content-Length, the body ended by closing.
    pub no_length_rate: f64,
    /// Send `100 Continue` and `103 Early Hints` before every final response.
    pub interim_1xx: bool,
    /// Add a header of this many bytes to every response (0: none).
    pub huge_header: usize,
    /// HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS (default 1024).
    pub h2_max_streams: Option<u32>,
    /// HTTP/2: send GOAWAY (graceful) after this many requests on a connection.
    pub h2_goaway_after: Option<u64>,
    /// HTTP/2: fraction of requests answered by RST_STREAM (INTERNAL_ERROR).
    pub h2_rst_rate: f64,
}

impl Default for WireFaults {
    fn default() -> Self {
        WireFaults {
            slow_head: false,
            slow_body: false,
            pace: Duration::from_millis(100),
            close_after: None,
            close_every_response: false,
            hang_rate: 0.0,
            garbage_rate: 0.0,
            reset_at: ResetAt::Before,
            chunked: false,
            bad_chunk_rate: 0.0,
            no_length_rate: 0.0,
            interim_1xx: false,
            huge_header: 0,
            h2_max_streams: None,
            h2_goaway_after: None,
            h2_rst_rate: 0.0,
        }
    }
}

/// The largest `huge_header`: past this it is a memory fault of the fixture, not of the wire.
pub const MAX_HUGE_HEADER: usize = 16 << 20;

impl WireFaults {
    /// Whether HTTP/1.1 connections go to the raw writer (a reset before
    /// the response alone is hyper's to do).
    pub(crate) fn raw_h1(&self, reset_rate: f64) -> bool {
        self.slow_head
            || self.slow_body
            || self.close_every_response
            || self.hang_rate > 0.0
            || self.garbage_rate > 0.0
            || self.chunked
            || self.bad_chunk_rate > 0.0
            || self.no_length_rate > 0.0
            || self.interim_1xx
            || self.huge_header > 0
            || (reset_rate > 0.0 && self.reset_at != ResetAt::Before)
    }

    /// Rates are fractions that, with the reset rate, add up to at most 1;
    /// the pace is not zero; a huge header stays under [`MAX_HUGE_HEADER`].
    pub fn validate(&self, reset_rate: f64) -> Result<(), Error> {
        let rates = [
            ("hang rate", self.hang_rate),
            ("garbage rate", self.garbage_rate),
            ("bad chunk rate", self.bad_chunk_rate),
            ("no-length rate", self.no_length_rate),
            ("HTTP/2 RST_STREAM rate", self.h2_rst_rate),
        ];
        for (what, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::InvalidFault {
                    what,
                    value: format!("{rate}"),
                    hint: "a rate is a fraction between 0 and 1 (0% to 100%)",
                });
            }
        }
        let sum = self.hang_rate + self.garbage_rate + self.bad_chunk_rate + self.no_length_rate + reset_rate;
        if sum > 1.0 + 1e-9 {
            return Err(Error::InvalidFault {
                what: "hang + garbage + bad chunk + no-length + reset rates",
                value: format!("{sum}"),
                hint: "one draw picks at most one of these per request, so they add up to at most 100%",
            });
        }
        if (self.slow_head || self.slow_body) && self.pace.is_zero() {
            return Err(Error::InvalidFault {
                what: "slow pace",
                value: "0".into(),
                hint: "one byte per pace: give a pace longer than 0, e.g. 100ms",
            });
        }
        if self.huge_header > MAX_HUGE_HEADER {
            return Err(Error::InvalidFault {
                what: "huge header",
                value: self.huge_header.to_string(),
                hint: "at most 16 MiB",
            });
        }
        if self.close_after == Some(0) || self.h2_goaway_after == Some(0) || self.h2_max_streams == Some(0) {
            return Err(Error::InvalidFault {
                what: "close-after, h2-goaway-after or h2-max-streams",
                value: "0".into(),
                hint: "a count of at least 1",
            });
        }
        Ok(())
    }
}

/// What the draw picked for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fate {
    Normal,
    Hang,
    Garbage,
    Reset,
    BadChunk,
    NoLength,
}

fn draw(w: &WireFaults, reset_rate: f64, rng: &mut SmallRng) -> Fate {
    let u: f64 = rng.random();
    let mut edge = 0.0;
    for (rate, fate) in [
        (w.hang_rate, Fate::Hang),
        (w.garbage_rate, Fate::Garbage),
        (reset_rate, Fate::Reset),
        (w.bad_chunk_rate, Fate::BadChunk),
        (w.no_length_rate, Fate::NoLength),
    ] {
        edge += rate;
        if u < edge {
            return fate;
        }
    }
    Fate::Normal
}

/// The largest request head read; past it the connection is closed.
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// Serve one connection with the raw writer until the client closes it or
/// a fault ends it. Returning drops the socket: with the reset flag set on
/// `conn`, as an RST.
pub(crate) async fn serve_raw<I>(mut io: I, conn: Arc<Conn>, w: &WireFaults)
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut served = 0u64;
    loop {
        let Some(body_len) = read_request(&mut io, &mut buf).await else {
            return;
        };
        if skip_body(&mut io, &mut buf, body_len).await.is_none() {
            return;
        }
        let shared = &*conn.shared;
        let n = conn.next_request();
        let seed = request_seed(shared.seed, conn.number(), n);
        let plan = shared.knobs.plan(|| SmallRng::seed_from_u64(seed));
        let faults = shared.knobs.get();
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5749_5245);
        let fate = draw(w, faults.reset_rate, &mut rng);
        if !plan.delay.is_zero() {
            tokio::time::sleep(plan.delay).await;
        }
        shared.stall.hold().await;
        served += 1;
        // `close_after` closes without a word, as an idle or request-count
        // limit does; `close_every_response` announces it.
        let close = w.close_every_response || w.close_after.is_some_and(|n| served >= n);
        match fate {
            Fate::Hang => {
                // Accept, read, never answer: wait for the client to give up.
                let mut sink = [0u8; 1024];
                while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Fate::Garbage => {
                let _ = io.write_all(b"SSH-2.0-OpenSSH_9.6 loadline-garbage\r\n").await;
                return;
            }
            _ => {}
        }
        let error = plan.outcome == Outcome::Error;
        let (head, body) = response(w, fate, w.close_every_response, error);
        let reset = fate == Fate::Reset || plan.outcome == Outcome::Reset;
        if reset && w.reset_at == ResetAt::Before {
            conn.request_reset();
            return;
        }
        if reset && w.reset_at == ResetAt::Head {
            let _ = io.write_all(&head[..head.len() / 2]).await;
            let _ = io.flush().await;
            conn.request_reset();
            return;
        }
        if write_paced(&mut io, &head, w.slow_head, w.pace).await.is_none() {
            return;
        }
        if reset && w.reset_at == ResetAt::Body {
            let _ = io.write_all(&body[..body.len() / 2]).await;
            let _ = io.flush().await;
            conn.request_reset();
            return;
        }
        if write_paced(&mut io, &body, w.slow_body, w.pace).await.is_none() {
            return;
        }
        if reset {
            // After the whole response: the reset meets the next request.
            let _ = io.flush().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
            conn.request_reset();
            return;
        }
        if close || fate == Fate::NoLength {
            // Dropping the socket closes it whole: a request sent on it
            // later meets an EOF (or a reset), never silence.
            return;
        }
    }
}

/// The response's head and body, framed as the faults say; `close`:
/// with `Connection: close`.
fn response(w: &WireFaults, fate: Fate, close: bool, error: bool) -> (Vec<u8>, Vec<u8>) {
    let mut head = Vec::with_capacity(256 + w.huge_header);
    if w.interim_1xx {
        head.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        head.extend_from_slice(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
    }
    head.extend_from_slice(if error {
        b"HTTP/1.1 500 Internal Server Error\r\n"
    } else {
        b"HTTP/1.1 200 OK\r\n"
    });
    head.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    if w.huge_header > 0 {
        head.extend_from_slice(b"X-Huge: ");
        head.resize(head.len() + w.huge_header, b'a');
        head.extend_from_slice(b"\r\n");
    }
    let text: &[u8] = if error { b"{\"error\":\"injected\"}" } else { b"hello\n" };
    let mut body = Vec::new();
    if fate == Fate::NoLength {
        head.extend_from_slice(b"Connection: close\r\n");
        body.extend_from_slice(text);
    } else if w.chunked || fate == Fate::BadChunk {
        head.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        if close {
            head.extend_from_slice(b"Connection: close\r\n");
        }
        let (a, b) = text.split_at(text.len() / 2);
        if fate == Fate::BadChunk {
            body.extend_from_slice(b"zz\r\n");
        } else {
            body.extend_from_slice(format!("{:x};name=value\r\n", a.len()).as_bytes());
        }
        body.extend_from_slice(a);
        body.extend_from_slice(format!("\r\n{:x}\r\n", b.len()).as_bytes());
        body.extend_from_slice(b);
        body.extend_from_slice(b"\r\n0\r\nX-Checksum: 0\r\n\r\n");
    } else {
        head.extend_from_slice(format!("Content-Length: {}\r\n", text.len()).as_bytes());
        if close {
            head.extend_from_slice(b"Connection: close\r\n");
        }
        body.extend_from_slice(text);
    }
    head.extend_from_slice(b"\r\n");
    (head, body)
}

/// Write `bytes`, one byte per `pace` when `slow`.
async fn write_paced<I: AsyncWrite + Unpin>(io: &mut I, bytes: &[u8], slow: bool, pace: Duration) -> Option<()> {
    if !slow {
        io.write_all(bytes).await.ok()?;
        return io.flush().await.ok();
    }
    for b in bytes {
        io.write_all(std::slice::from_ref(b)).await.ok()?;
        io.flush().await.ok()?;
        tokio::time::sleep(pace).await;
    }
    Some(())
}

/// Read one request head into `buf` (keeping what follows it); its body's
/// length. None at EOF, on an error, or on a head that does not parse.
async fn read_request<I: AsyncRead + Unpin>(io: &mut I, buf: &mut Vec<u8>) -> Option<u64> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => {
                let len = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                    .unwrap_or(0);
                buf.drain(..n);
                return Some(len);
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_REQUEST_HEAD => {}
            _ => return None,
        }
        let mut chunk = [0u8; 4096];
        let n = io.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Drop the request's body: `len` bytes, from `buf` first.
async fn skip_body<I: AsyncRead + Unpin>(io: &mut I, buf: &mut Vec<u8>, mut len: u64) -> Option<()> {
    let have = (buf.len() as u64).min(len);
    buf.drain(..have as usize);
    len -= have;
    let mut chunk = [0u8; 4096];
    while len > 0 {
        let n = io.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        let used = (n as u64).min(len);
        buf.extend_from_slice(&chunk[used as usize..n]);
        len -= used;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invariant: each fate's observed share matches its rate.
    #[test]
    fn one_draw_splits_by_the_rates() {
        let w = WireFaults {
            hang_rate: 0.1,
            garbage_rate: 0.2,
            no_length_rate: 0.3,
            ..WireFaults::default()
        };
        let mut rng = SmallRng::seed_from_u64(3);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..100_000 {
            *counts.entry(draw(&w, 0.1, &mut rng)).or_insert(0u32) += 1;
        }
        for (fate, want) in [
            (Fate::Hang, 0.1),
            (Fate::Garbage, 0.2),
            (Fate::Reset, 0.1),
            (Fate::NoLength, 0.3),
        ] {
            let got = f64::from(counts[&fate]) / 100_000.0;
            assert!((got - want).abs() < 0.01, "{fate:?}: {got}");
        }
        assert!(w.validate(0.5).is_err(), "rates over 100% are refused");
        assert!(w.validate(0.3).is_ok());
    }
}
