//! One HTTP/2 connection's state, shared by its request slots and its I/O
//! task on one worker thread: the streams, both directions' flow control,
//! the server's settings, and every frame read handled as RFC 9113 says.
//!
//! Nothing here does I/O: frames to send are appended to `wbuf`, which the
//! I/O task ([`super::driver`]) writes, all slots' requests in one write.

use std::task::{Context, Poll, Waker};

use super::frame::{self, code, Head};
use super::hpack::Decoder;
use crate::load::client::h1::Phase;
use crate::load::client::wire::Wire;
use crate::profile::RequestBuf;
use crate::results::ErrorKind;

/// The client's receive window, for each stream and for the connection:
/// large, so a response seldom waits for a WINDOW_UPDATE (h2load's
/// default is the same, 2^30 - 1).
pub const WINDOW: u32 = (1 << 30) - 1;
/// Received bytes are credited back (WINDOW_UPDATE) once this many are owed.
const CREDIT_AT: u32 = WINDOW / 2;
/// The largest header block (HEADERS and its CONTINUATION frames) read.
const MAX_BLOCK: usize = 1 << 20;
/// The largest client stream id (31 bits, odd).
const LAST_ID: u32 = (1 << 31) - 1;

/// How a stream ended badly, for the request loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed {
    pub kind: ErrorKind,
    /// The server never processed the request: it may go again elsewhere.
    pub unprocessed: bool,
}

/// Why the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Eof,
    Io(std::io::ErrorKind),
    /// A connection error: the client sent GOAWAY with this code.
    Protocol(u32),
    /// The server's GOAWAY carried an error code.
    GoawayError,
    /// The client gave the connection up (every handle dropped).
    Abandoned,
}

/// One request's stream.
#[derive(Debug)]
pub struct Stream {
    id: u32,
    /// The final response's status, once its head has come.
    status: Option<u16>,
    end: Option<Result<u16, Failed>>,
    waker: Option<Waker>,
    send_window: i64,
    recv_window: i64,
    recv_owed: u32,
    /// Request body bytes waiting for a flow-control window.
    body: Vec<u8>,
}

/// The connection's state.
pub struct Inner {
    /// Frames to send; the I/O task writes and clears it.
    pub wbuf: Vec<u8>,
    streams: Vec<Stream>,
    next_id: u32,
    /// The server's SETTINGS (its preface) has come.
    settings_seen: bool,
    peer_max_streams: usize,
    peer_initial_window: i64,
    peer_max_frame: usize,
    send_window: i64,
    recv_window: i64,
    recv_owed: u32,
    decoder: Decoder,
    /// The header block being read, and its stream and END_STREAM flag
    /// while CONTINUATION frames are due.
    block: Vec<u8>,
    continuing: Option<(u32, bool)>,
    /// The server sent GOAWAY: no new stream on this connection.
    pub goaway: bool,
    /// The connection can carry nothing more.
    pub ended: Option<Ended>,
    /// The I/O task, woken when there is something to write.
    pub driver: Option<Waker>,
    /// Slots waiting for a stream (the server's MAX_CONCURRENT_STREAMS).
    waiting: Vec<Waker>,
    /// Some stream has body bytes waiting for a window.
    blocked_bodies: bool,
    scratch: Vec<u8>,
}

impl Inner {
    /// A new connection with the client's preface, SETTINGS and
    /// connection window ready to write.
    pub fn new() -> Inner {
        let mut wbuf = Vec::with_capacity(4096);
        wbuf.extend_from_slice(frame::PREFACE);
        frame::settings(&mut wbuf, WINDOW);
        frame::window_update(&mut wbuf, 0, WINDOW - frame::DEFAULT_WINDOW as u32);
        Inner {
            wbuf,
            streams: Vec::new(),
            next_id: 1,
            settings_seen: false,
            peer_max_streams: usize::MAX,
            peer_initial_window: frame::DEFAULT_WINDOW,
            peer_max_frame: frame::MIN_MAX_FRAME,
            send_window: frame::DEFAULT_WINDOW,
            recv_window: i64::from(WINDOW),
            recv_owed: 0,
            // The default SETTINGS_HEADER_TABLE_SIZE, which the client keeps.
            decoder: Decoder::new(4096),
            block: Vec::new(),
            continuing: None,
            goaway: false,
            ended: None,
            driver: None,
            waiting: Vec::new(),
            blocked_bodies: false,
            scratch: Vec::new(),
        }
    }

    /// New streams may open here.
    pub fn is_usable(&self) -> bool {
        !self.goaway && self.ended.is_none() && self.next_id < LAST_ID
    }

    /// Nothing is left to do: the server said GOAWAY and every stream is done.
    pub fn is_drained(&self) -> bool {
        self.goaway && self.streams.is_empty()
    }

    pub fn wake_driver(&self) {
        if let Some(w) = &self.driver {
            w.wake_by_ref();
        }
    }

    fn wake_waiting(&mut self) {
        for w in self.waiting.drain(..) {
            w.wake();
        }
    }

    /// Open a stream and queue the request on it, once the server's
    /// settings allow one more stream; returns its id.
    pub fn poll_open(&mut self, cx: &mut Context<'_>, wire: &Wire, buf: &RequestBuf) -> Poll<Result<u32, Failed>> {
        if let Some(e) = self.ended {
            return Poll::Ready(Err(self.failure(e, false)));
        }
        if !self.is_usable() {
            return Poll::Ready(Err(Failed {
                kind: ErrorKind::H2Goaway,
                unprocessed: true,
            }));
        }
        if !self.settings_seen || self.streams.len() >= self.peer_max_streams {
            if !self.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                self.waiting.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        self.scratch.clear();
        if wire.write_h2_block(buf, &mut self.scratch).is_err() {
            return Poll::Ready(Err(Failed {
                kind: ErrorKind::BadRequest,
                unprocessed: false,
            }));
        }
        let block = std::mem::take(&mut self.scratch);
        let id = self.start_stream(&block, &buf.body);
        self.scratch = block;
        self.wake_driver();
        Poll::Ready(Ok(id))
    }

    /// Queue a new stream's HEADERS (header block `block`) and as much of
    /// `body` as the windows allow; returns the stream's id.
    fn start_stream(&mut self, block: &[u8], body: &[u8]) -> u32 {
        let id = self.next_id;
        self.next_id += 2;
        let no_body = body.is_empty();
        frame::header_block(&mut self.wbuf, id, block, no_body, self.peer_max_frame);
        let mut s = Stream {
            id,
            status: None,
            end: None,
            waker: None,
            send_window: self.peer_initial_window,
            recv_window: i64::from(WINDOW),
            recv_owed: 0,
            body: Vec::new(),
        };
        if !no_body {
            let sent = write_data(&mut self.wbuf, &mut self.send_window, &mut s, body, self.peer_max_frame);
            if sent < body.len() {
                s.body.extend_from_slice(&body[sent..]);
                self.blocked_bodies = true;
            }
        }
        self.streams.push(s);
        id
    }

    /// The end of stream `id`'s exchange, once it has come; `in_body` says
    /// whether the response head had come. A finished stream is forgotten.
    pub fn poll_response(&mut self, id: u32, cx: &mut Context<'_>) -> Poll<(Result<u16, Failed>, bool)> {
        let Some(i) = self.find(id) else {
            return Poll::Ready((Err(self.failure(self.ended.unwrap_or(Ended::Eof), false)), false));
        };
        let s = &mut self.streams[i];
        if let Some(end) = s.end {
            let in_body = s.status.is_some();
            self.streams.swap_remove(i);
            self.wake_waiting();
            return Poll::Ready((end, in_body));
        }
        if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The slot gave stream `id` up (its timeout): reset it if it is still
    /// open. Returns whether its response head had come.
    pub fn cancel(&mut self, id: u32) -> Option<bool> {
        let i = self.find(id)?;
        let s = self.streams.swap_remove(i);
        if s.end.is_none() && self.ended.is_none() {
            frame::rst_stream(&mut self.wbuf, id, code::CANCEL);
            self.wake_driver();
        }
        self.wake_waiting();
        Some(s.status.is_some())
    }

    fn find(&self, id: u32) -> Option<usize> {
        self.streams.iter().position(|s| s.id == id)
    }

    /// A stream id the client has not opened (or a server-initiated one,
    /// which this client never allows).
    fn is_idle(&self, id: u32) -> bool {
        id % 2 == 0 || id >= self.next_id
    }

    /// The kind a stream gets when the connection ends this way.
    fn failure(&self, e: Ended, in_body: bool) -> Failed {
        let phase = if in_body { Phase::Body } else { Phase::Request };
        let kind = match e {
            Ended::Eof if in_body => ErrorKind::EofInBody,
            Ended::Eof | Ended::Abandoned => ErrorKind::EofBeforeResponse,
            Ended::Io(k) => crate::load::client::io_kind(&std::io::Error::from(k), phase),
            Ended::Protocol(_) if !self.settings_seen => ErrorKind::H2Handshake,
            Ended::Protocol(_) => ErrorKind::H2Protocol,
            Ended::GoawayError => ErrorKind::H2Goaway,
        };
        Failed {
            kind,
            unprocessed: false,
        }
    }

    /// End the connection: every open stream fails; a connection error is
    /// sent to the server as GOAWAY.
    pub fn end(&mut self, e: Ended) {
        if self.ended.is_some() {
            return;
        }
        if let Ended::Protocol(c) = e {
            frame::goaway(&mut self.wbuf, 0, c);
        }
        self.ended = Some(e);
        for i in 0..self.streams.len() {
            if self.streams[i].end.is_none() {
                let f = self.failure(e, self.streams[i].status.is_some());
                self.finish(i, Err(f));
            }
        }
        self.wake_waiting();
    }

    fn finish(&mut self, i: usize, end: Result<u16, Failed>) {
        let s = &mut self.streams[i];
        s.end = Some(end);
        s.body = Vec::new();
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }

    /// A stream error found by the client: reset the stream, fail its request.
    fn stream_error(&mut self, i: usize, c: u32) {
        frame::rst_stream(&mut self.wbuf, self.streams[i].id, c);
        self.finish(
            i,
            Err(Failed {
                kind: ErrorKind::H2Protocol,
                unprocessed: false,
            }),
        );
    }

    /// Handle one frame read; `Err` is a connection error's code.
    pub fn on_frame(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        if let Some((id, _)) = self.continuing {
            if h.kind != frame::CONTINUATION || h.stream != id {
                return Err(code::PROTOCOL_ERROR);
            }
        }
        if !self.settings_seen && (h.kind != frame::SETTINGS || h.flags & frame::ACK != 0) {
            // The server's preface is a SETTINGS frame (RFC 9113, 3.4).
            return Err(code::PROTOCOL_ERROR);
        }
        match h.kind {
            frame::DATA => self.on_data(h, p),
            frame::HEADERS => self.on_headers(h, p),
            frame::CONTINUATION => self.on_continuation(h, p),
            frame::RST_STREAM => self.on_rst_stream(h, p),
            frame::SETTINGS => self.on_settings(h, p),
            frame::PING => self.on_ping(h, p),
            frame::GOAWAY => self.on_goaway(h, p),
            frame::WINDOW_UPDATE => self.on_window_update(h, p),
            frame::PRIORITY if h.stream == 0 => Err(code::PROTOCOL_ERROR),
            frame::PRIORITY if p.len() != 5 => Err(code::FRAME_SIZE_ERROR),
            // Push is off in the client's SETTINGS.
            frame::PUSH_PROMISE => Err(code::PROTOCOL_ERROR),
            // PRIORITY is advice; unknown frame types are ignored (RFC 9113, 4.1).
            _ => Ok(()),
        }
    }

    fn on_data(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        if h.stream == 0 || self.is_idle(h.stream) {
            return Err(code::PROTOCOL_ERROR);
        }
        unpad(h, p)?;
        // Padding counts against flow control too (RFC 9113, 6.1).
        let n = p.len() as u32;
        if i64::from(n) > self.recv_window {
            return Err(code::FLOW_CONTROL_ERROR);
        }
        self.recv_window -= i64::from(n);
        self.recv_owed += n;
        if self.recv_owed >= CREDIT_AT {
            frame::window_update(&mut self.wbuf, 0, self.recv_owed);
            self.recv_window += i64::from(self.recv_owed);
            self.recv_owed = 0;
        }
        let Some(i) = self.find(h.stream) else {
            return Ok(());
        };
        let s = &mut self.streams[i];
        if s.end.is_some() {
            return Ok(());
        }
        let Some(status) = s.status else {
            self.stream_error(i, code::PROTOCOL_ERROR);
            return Ok(());
        };
        if i64::from(n) > s.recv_window {
            self.stream_error(i, code::FLOW_CONTROL_ERROR);
            return Ok(());
        }
        s.recv_window -= i64::from(n);
        if h.flags & frame::END_STREAM != 0 {
            self.finish(i, Ok(status));
            return Ok(());
        }
        s.recv_owed += n;
        if s.recv_owed >= CREDIT_AT {
            frame::window_update(&mut self.wbuf, s.id, s.recv_owed);
            s.recv_window += i64::from(s.recv_owed);
            s.recv_owed = 0;
        }
        Ok(())
    }

    fn on_headers(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        if h.stream == 0 || self.is_idle(h.stream) {
            return Err(code::PROTOCOL_ERROR);
        }
        let mut p = unpad(h, p)?;
        if h.flags & frame::PRIORITY_FLAG != 0 {
            p = p.get(5..).ok_or(code::FRAME_SIZE_ERROR)?;
        }
        self.block.clear();
        self.block.extend_from_slice(p);
        let end_stream = h.flags & frame::END_STREAM != 0;
        if h.flags & frame::END_HEADERS == 0 {
            self.continuing = Some((h.stream, end_stream));
            return Ok(());
        }
        self.on_block(h.stream, end_stream)
    }

    fn on_continuation(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        let Some((id, end_stream)) = self.continuing else {
            return Err(code::PROTOCOL_ERROR);
        };
        if self.block.len() + p.len() > MAX_BLOCK {
            return Err(code::PROTOCOL_ERROR);
        }
        self.block.extend_from_slice(p);
        if h.flags & frame::END_HEADERS != 0 {
            self.continuing = None;
            return self.on_block(id, end_stream);
        }
        Ok(())
    }

    /// A whole header block: decoded whatever its stream (the HPACK table
    /// is the connection's), then the response's status, or its trailers.
    fn on_block(&mut self, id: u32, end_stream: bool) -> Result<(), u32> {
        let status = self.decoder.decode(&self.block).map_err(|_| code::COMPRESSION_ERROR)?;
        let Some(i) = self.find(id) else {
            return Ok(());
        };
        let s = &mut self.streams[i];
        if s.end.is_some() {
            return Ok(());
        }
        match (s.status, status) {
            // Informational (1xx) heads come before the final one.
            (None, Some(st)) if st < 200 && !end_stream => {}
            (None, Some(st)) if st >= 200 => {
                s.status = Some(st);
                if end_stream {
                    self.finish(i, Ok(st));
                }
            }
            // Trailers end the stream.
            (Some(st), _) if end_stream => self.finish(i, Ok(st)),
            _ => self.stream_error(i, code::PROTOCOL_ERROR),
        }
        Ok(())
    }

    fn on_rst_stream(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        if h.stream == 0 || self.is_idle(h.stream) {
            return Err(code::PROTOCOL_ERROR);
        }
        let c = u32::from_be_bytes(p.try_into().map_err(|_| code::FRAME_SIZE_ERROR)?);
        if let Some(i) = self.find(h.stream) {
            let s = &self.streams[i];
            if s.end.is_none() {
                let refused = c == code::REFUSED_STREAM;
                let f = Failed {
                    kind: if refused {
                        ErrorKind::H2RefusedStream
                    } else {
                        ErrorKind::H2RstStream
                    },
                    // REFUSED_STREAM: the server never processed it (RFC 9113, 8.7).
                    unprocessed: refused && s.status.is_none(),
                };
                self.finish(i, Err(f));
            }
        }
        Ok(())
    }

    fn on_settings(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        if h.stream != 0 {
            return Err(code::PROTOCOL_ERROR);
        }
        if h.flags & frame::ACK != 0 {
            return if p.is_empty() {
                Ok(())
            } else {
                Err(code::FRAME_SIZE_ERROR)
            };
        }
        if p.len() % 6 != 0 {
            return Err(code::FRAME_SIZE_ERROR);
        }
        for set in p.chunks_exact(6) {
            let id = u16::from_be_bytes([set[0], set[1]]);
            let v = u32::from_be_bytes([set[2], set[3], set[4], set[5]]);
            match id {
                frame::SETTINGS_ENABLE_PUSH if v > 1 => return Err(code::PROTOCOL_ERROR),
                frame::SETTINGS_MAX_CONCURRENT_STREAMS => self.peer_max_streams = v as usize,
                frame::SETTINGS_INITIAL_WINDOW_SIZE => {
                    let v = i64::from(v);
                    if v > frame::MAX_WINDOW {
                        return Err(code::FLOW_CONTROL_ERROR);
                    }
                    let delta = v - self.peer_initial_window;
                    self.peer_initial_window = v;
                    for s in &mut self.streams {
                        s.send_window += delta;
                        if s.send_window > frame::MAX_WINDOW {
                            return Err(code::FLOW_CONTROL_ERROR);
                        }
                    }
                }
                frame::SETTINGS_MAX_FRAME_SIZE => {
                    if !(frame::MIN_MAX_FRAME..=0xff_ffff).contains(&(v as usize)) {
                        return Err(code::PROTOCOL_ERROR);
                    }
                    self.peer_max_frame = v as usize;
                }
                // HEADER_TABLE_SIZE bounds the client's encoder, which never
                // indexes; the rest are advice.
                _ => {}
            }
        }
        frame::settings_ack(&mut self.wbuf);
        self.settings_seen = true;
        self.wake_waiting();
        self.send_blocked_bodies();
        Ok(())
    }

    fn on_ping(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        if h.stream != 0 {
            return Err(code::PROTOCOL_ERROR);
        }
        if p.len() != 8 {
            return Err(code::FRAME_SIZE_ERROR);
        }
        if h.flags & frame::ACK == 0 {
            frame::ping_ack(&mut self.wbuf, p);
        }
        Ok(())
    }

    /// GOAWAY: streams above its last stream id were never processed and
    /// fail at once; with an error code every stream fails and the
    /// connection ends (RFC 9113, 6.8).
    fn on_goaway(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        if h.stream != 0 {
            return Err(code::PROTOCOL_ERROR);
        }
        if p.len() < 8 {
            return Err(code::FRAME_SIZE_ERROR);
        }
        let last = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff;
        let graceful = u32::from_be_bytes([p[4], p[5], p[6], p[7]]) == code::NO_ERROR;
        self.goaway = true;
        for i in 0..self.streams.len() {
            let s = &self.streams[i];
            if s.end.is_none() && (!graceful || s.id > last) {
                let f = Failed {
                    kind: ErrorKind::H2Goaway,
                    unprocessed: graceful && s.status.is_none(),
                };
                self.finish(i, Err(f));
            }
        }
        if !graceful {
            self.ended = Some(Ended::GoawayError);
        }
        self.wake_waiting();
        Ok(())
    }

    fn on_window_update(&mut self, h: Head, p: &[u8]) -> Result<(), u32> {
        let inc = u32::from_be_bytes(p.try_into().map_err(|_| code::FRAME_SIZE_ERROR)?) & 0x7fff_ffff;
        if h.stream == 0 {
            if inc == 0 {
                return Err(code::PROTOCOL_ERROR);
            }
            self.send_window += i64::from(inc);
            if self.send_window > frame::MAX_WINDOW {
                return Err(code::FLOW_CONTROL_ERROR);
            }
        } else {
            if self.is_idle(h.stream) {
                return Err(code::PROTOCOL_ERROR);
            }
            let Some(i) = self.find(h.stream) else {
                return Ok(());
            };
            if self.streams[i].end.is_some() {
                return Ok(());
            }
            if inc == 0 {
                self.stream_error(i, code::PROTOCOL_ERROR);
                return Ok(());
            }
            self.streams[i].send_window += i64::from(inc);
            if self.streams[i].send_window > frame::MAX_WINDOW {
                self.stream_error(i, code::FLOW_CONTROL_ERROR);
                return Ok(());
            }
        }
        self.send_blocked_bodies();
        Ok(())
    }

    /// Send what the windows now allow of bodies that were waiting.
    fn send_blocked_bodies(&mut self) {
        if !self.blocked_bodies {
            return;
        }
        let mut still = false;
        for s in &mut self.streams {
            if s.body.is_empty() || s.end.is_some() {
                continue;
            }
            let body = std::mem::take(&mut s.body);
            let sent = write_data(&mut self.wbuf, &mut self.send_window, s, &body, self.peer_max_frame);
            if sent < body.len() {
                s.body = body;
                s.body.drain(..sent);
                still = true;
            }
        }
        self.blocked_bodies = still;
    }
}

/// Write as much of `data` (the rest of stream `s`'s body) as the
/// connection's and the stream's windows allow, in DATA frames of at most
/// `max_frame` bytes, END_STREAM on the last; returns the bytes sent.
fn write_data(out: &mut Vec<u8>, conn_window: &mut i64, s: &mut Stream, data: &[u8], max_frame: usize) -> usize {
    let mut sent = 0;
    loop {
        let room = (*conn_window).min(s.send_window).max(0) as usize;
        let n = (data.len() - sent).min(room).min(max_frame);
        let last = sent + n == data.len();
        if n == 0 && !last {
            return sent;
        }
        frame::head(out, n, frame::DATA, if last { frame::END_STREAM } else { 0 }, s.id);
        out.extend_from_slice(&data[sent..sent + n]);
        sent += n;
        *conn_window -= n as i64;
        s.send_window -= n as i64;
        if last {
            return sent;
        }
    }
}

/// A padded frame's payload without its padding (RFC 9113, 6.1).
fn unpad(h: Head, p: &[u8]) -> Result<&[u8], u32> {
    if h.flags & frame::PADDED == 0 {
        return Ok(p);
    }
    let (&pad, rest) = p.split_first().ok_or(code::FRAME_SIZE_ERROR)?;
    let keep = rest.len().checked_sub(usize::from(pad)).ok_or(code::PROTOCOL_ERROR)?;
    Ok(&rest[..keep])
}

/// Entry point for the fuzz target `h2_frames`: the connection's real frame
/// handling, fed the server's side from bytes in memory.
#[doc(hidden)]
pub mod fuzzing {
    use std::task::{Context, Poll, Waker};

    use super::{Ended, Inner};
    use crate::load::client::h2::frame::{self, Head};
    use crate::results::ErrorKind;

    /// Open `streams` streams (1 to 8; a body on the even ones), then read
    /// `data` as the server's frames, each handled as the connection's I/O
    /// task does (a connection error ends it; a frame cut short is where the
    /// server's bytes end, and the connection then ends as at EOF). Every
    /// stream is polled after each frame. Properties: no panic; every stream
    /// ends once the connection has ended; a stream that ended with a status
    /// had `:status` in a header block. Returns each stream's end.
    pub fn h2_frames(data: &[u8], streams: usize) -> Result<Vec<Result<u16, ErrorKind>>, String> {
        let mut c = Inner::new();
        let ids: Vec<u32> = (0..streams.clamp(1, 8))
            .map(|i| c.start_stream(&[0x82, 0x84], if i % 2 == 1 { b"body" } else { b"" }))
            .collect();
        let mut cx = Context::from_waker(Waker::noop());
        let mut ends: Vec<Option<Result<u16, ErrorKind>>> = vec![None; ids.len()];
        let mut poll_all = |c: &mut Inner, ends: &mut Vec<Option<Result<u16, ErrorKind>>>| {
            for (i, id) in ids.iter().enumerate() {
                if ends[i].is_some() {
                    continue;
                }
                if let Poll::Ready((r, _)) = c.poll_response(*id, &mut cx) {
                    ends[i] = Some(r.map_err(|f| f.kind));
                }
            }
        };
        let mut rest = data;
        while rest.len() >= frame::HEADER_LEN && c.ended.is_none() {
            let mut head = [0u8; frame::HEADER_LEN];
            head.copy_from_slice(&rest[..frame::HEADER_LEN]);
            let h = Head::parse(&head);
            let Some(payload) = rest.get(frame::HEADER_LEN..frame::HEADER_LEN + h.len) else {
                break;
            };
            if let Err(code) = c.on_frame(h, payload) {
                c.end(Ended::Protocol(code));
            }
            rest = &rest[frame::HEADER_LEN + h.len..];
            c.wbuf.clear();
            poll_all(&mut c, &mut ends);
        }
        c.end(Ended::Eof);
        poll_all(&mut c, &mut ends);
        ends.into_iter()
            .enumerate()
            .map(|(i, e)| e.ok_or_else(|| format!("stream {} did not end after the connection did", ids[i])))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    /// The frames in `bytes`, as (header, payload).
    fn frames(mut bytes: &[u8]) -> Vec<(Head, Vec<u8>)> {
        let mut out = Vec::new();
        while bytes.len() >= frame::HEADER_LEN {
            let h = Head::parse(bytes[..frame::HEADER_LEN].try_into().expect("9 bytes"));
            let end = frame::HEADER_LEN + h.len;
            out.push((h, bytes[frame::HEADER_LEN..end].to_vec()));
            bytes = &bytes[end..];
        }
        out
    }

    fn feed(c: &mut Inner, kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Result<(), u32> {
        let h = Head {
            len: payload.len(),
            kind,
            flags,
            stream,
        };
        c.on_frame(h, payload)
    }

    /// A connection past the handshake (the server's SETTINGS read, the
    /// client's own frames taken), with `settings` from the server.
    fn open(settings: &[(u16, u32)]) -> Inner {
        let mut c = Inner::new();
        assert!(c.wbuf.starts_with(frame::PREFACE));
        let mut p = Vec::new();
        for (id, v) in settings {
            p.extend_from_slice(&id.to_be_bytes());
            p.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(feed(&mut c, frame::SETTINGS, 0, 0, &p), Ok(()));
        let sent = frames(&c.wbuf[frame::PREFACE.len()..]);
        let kinds: Vec<(u8, u8)> = sent.iter().map(|(h, _)| (h.kind, h.flags)).collect();
        assert_eq!(
            kinds,
            [
                (frame::SETTINGS, 0),
                (frame::WINDOW_UPDATE, 0),
                (frame::SETTINGS, frame::ACK)
            ]
        );
        c.wbuf.clear();
        c
    }

    fn end_of(c: &mut Inner, id: u32) -> Option<(Result<u16, Failed>, bool)> {
        let mut cx = Context::from_waker(Waker::noop());
        match c.poll_response(id, &mut cx) {
            Poll::Ready(r) => Some(r),
            Poll::Pending => None,
        }
    }

    /// `:status 200`, the static table's entry 8.
    const STATUS_200: &[u8] = &[0x88];

    /// The fuzz target's entry: the server's frames from bytes; each stream
    /// ends with its status, or as the connection ends.
    #[test]
    fn frames_from_bytes_end_every_stream() {
        let mut data = Vec::new();
        frame::head(&mut data, 0, frame::SETTINGS, 0, 0);
        frame::head(&mut data, 1, frame::HEADERS, frame::END_HEADERS | frame::END_STREAM, 1);
        data.extend_from_slice(STATUS_200);
        // `:status 404` as a literal of the static table's name 8, then a cut frame.
        frame::head(&mut data, 5, frame::HEADERS, frame::END_HEADERS | frame::END_STREAM, 3);
        data.extend_from_slice(&[0x08, 0x03, b'4', b'0', b'4']);
        frame::head(&mut data, 9, frame::DATA, 0, 5);
        data.extend_from_slice(b"cut");
        let ends = super::fuzzing::h2_frames(&data, 3).unwrap();
        assert_eq!(ends, [Ok(200), Ok(404), Err(ErrorKind::EofBeforeResponse)]);
        // A frame on stream 0 that must not be there: a connection error.
        let mut bad = Vec::new();
        frame::head(&mut bad, 0, frame::HEADERS, frame::END_HEADERS, 0);
        let ends = super::fuzzing::h2_frames(&bad, 1).unwrap();
        assert_eq!(ends, [Err(ErrorKind::H2Handshake)]);
    }

    #[test]
    fn a_response_in_headers_and_data_ends_the_stream() {
        let mut c = open(&[]);
        let id = c.start_stream(&[0x82], b"");
        assert_eq!(id, 1);
        let sent = frames(&c.wbuf);
        assert_eq!(
            (sent[0].0.kind, sent[0].0.flags),
            (frame::HEADERS, frame::END_HEADERS | frame::END_STREAM)
        );
        assert_eq!(feed(&mut c, frame::HEADERS, frame::END_HEADERS, 1, STATUS_200), Ok(()));
        assert_eq!(end_of(&mut c, 1), None);
        assert_eq!(feed(&mut c, frame::DATA, frame::END_STREAM, 1, b"hello"), Ok(()));
        assert_eq!(end_of(&mut c, 1), Some((Ok(200), true)));
        assert!(c.streams.is_empty());
    }

    #[test]
    fn padding_priority_and_continuation_are_read() {
        let mut c = open(&[]);
        c.start_stream(&[0x82], b"");
        // HEADERS, padded (2 bytes) and with priority, the block split in two.
        let mut p = vec![2, 0, 0, 0, 0, 16];
        p.extend_from_slice(&[0x08, 0x03]);
        p.extend_from_slice(&[0, 0]);
        let flags = frame::PADDED | frame::PRIORITY_FLAG | frame::END_STREAM;
        assert_eq!(feed(&mut c, frame::HEADERS, flags, 1, &p), Ok(()));
        // Anything but its CONTINUATION is a connection error meanwhile.
        assert_eq!(feed(&mut c, frame::PING, 0, 0, &[0; 8]), Err(code::PROTOCOL_ERROR));
        assert_eq!(feed(&mut c, frame::CONTINUATION, frame::END_HEADERS, 1, b"404"), Ok(()));
        assert_eq!(end_of(&mut c, 1), Some((Ok(404), true)));
    }

    #[test]
    fn ping_is_answered_and_informational_heads_are_skipped() {
        let mut c = open(&[]);
        assert_eq!(feed(&mut c, frame::PING, 0, 0, b"12345678"), Ok(()));
        let sent = frames(&c.wbuf);
        assert_eq!((sent[0].0.kind, sent[0].0.flags), (frame::PING, frame::ACK));
        assert_eq!(sent[0].1, b"12345678");
        c.start_stream(&[0x83], b"{}");
        // :status 100 (literal, name from the static table), then 200.
        assert_eq!(
            feed(&mut c, frame::HEADERS, frame::END_HEADERS, 1, b"\x08\x03100"),
            Ok(())
        );
        assert_eq!(end_of(&mut c, 1), None);
        assert_eq!(
            feed(
                &mut c,
                frame::HEADERS,
                frame::END_HEADERS | frame::END_STREAM,
                1,
                STATUS_200
            ),
            Ok(())
        );
        assert_eq!(end_of(&mut c, 1), Some((Ok(200), true)));
    }

    /// The server's stream limit holds new streams back until one ends.
    #[test]
    fn streams_wait_for_the_servers_limit() {
        let mut c = open(&[(frame::SETTINGS_MAX_CONCURRENT_STREAMS, 1)]);
        c.start_stream(&[0x82], b"");
        assert!(c.streams.len() >= c.peer_max_streams);
        assert_eq!(feed(&mut c, frame::HEADERS, 0x5, 1, STATUS_200), Ok(()));
        assert_eq!(end_of(&mut c, 1), Some((Ok(200), true)));
        assert!(c.streams.len() < c.peer_max_streams);
    }

    /// A body larger than the server's window waits for its WINDOW_UPDATEs.
    #[test]
    fn request_bodies_keep_to_the_servers_windows() {
        let mut c = open(&[(frame::SETTINGS_INITIAL_WINDOW_SIZE, 10)]);
        c.start_stream(&[0x83], &[b'x'; 25]);
        let sent = frames(&c.wbuf);
        assert_eq!(sent[1].0.kind, frame::DATA);
        assert_eq!((sent[1].0.len, sent[1].0.flags), (10, 0));
        c.wbuf.clear();
        // The stream's window opens; the connection's (65,535) has room.
        assert_eq!(feed(&mut c, frame::WINDOW_UPDATE, 0, 1, &20u32.to_be_bytes()), Ok(()));
        let sent = frames(&c.wbuf);
        assert_eq!((sent[0].0.len, sent[0].0.flags), (15, frame::END_STREAM));
        // An overflowing window is a connection error.
        let max = (frame::MAX_WINDOW as u32).to_be_bytes();
        assert_eq!(
            feed(&mut c, frame::WINDOW_UPDATE, 0, 0, &max),
            Err(code::FLOW_CONTROL_ERROR)
        );
    }

    /// Received data is credited back once half the window is owed.
    #[test]
    fn received_data_is_credited_back() {
        let mut c = open(&[]);
        c.start_stream(&[0x82], b"");
        assert_eq!(feed(&mut c, frame::HEADERS, frame::END_HEADERS, 1, STATUS_200), Ok(()));
        c.wbuf.clear();
        c.recv_owed = CREDIT_AT - 1;
        assert_eq!(feed(&mut c, frame::DATA, 0, 1, b"ab"), Ok(()));
        let sent = frames(&c.wbuf);
        assert_eq!((sent[0].0.kind, sent[0].0.stream), (frame::WINDOW_UPDATE, 0));
        assert_eq!(sent[0].1, (CREDIT_AT + 1).to_be_bytes());
    }

    /// A graceful GOAWAY fails only streams above its last id, as never
    /// processed; one with an error code fails every stream.
    #[test]
    fn goaway_fails_the_streams_the_server_did_not_take() {
        let mut c = open(&[]);
        c.start_stream(&[0x82], b"");
        c.start_stream(&[0x82], b"");
        let mut p = 1u32.to_be_bytes().to_vec();
        p.extend_from_slice(&code::NO_ERROR.to_be_bytes());
        assert_eq!(feed(&mut c, frame::GOAWAY, 0, 0, &p), Ok(()));
        assert!(!c.is_usable());
        let above = Failed {
            kind: ErrorKind::H2Goaway,
            unprocessed: true,
        };
        assert_eq!(end_of(&mut c, 3), Some((Err(above), false)));
        assert_eq!(end_of(&mut c, 1), None);
        p[4..].copy_from_slice(&code::PROTOCOL_ERROR.to_be_bytes());
        assert_eq!(feed(&mut c, frame::GOAWAY, 0, 0, &p), Ok(()));
        let torn = Failed {
            kind: ErrorKind::H2Goaway,
            unprocessed: false,
        };
        assert_eq!(end_of(&mut c, 1), Some((Err(torn), false)));
    }

    #[test]
    fn rst_stream_and_refused_stream() {
        let mut c = open(&[]);
        c.start_stream(&[0x82], b"");
        c.start_stream(&[0x82], b"");
        assert_eq!(
            feed(&mut c, frame::RST_STREAM, 0, 1, &code::REFUSED_STREAM.to_be_bytes()),
            Ok(())
        );
        assert_eq!(feed(&mut c, frame::RST_STREAM, 0, 3, &2u32.to_be_bytes()), Ok(()));
        let refused = end_of(&mut c, 1).map(|(r, _)| r);
        assert_eq!(
            refused,
            Some(Err(Failed {
                kind: ErrorKind::H2RefusedStream,
                unprocessed: true
            }))
        );
        let reset = end_of(&mut c, 3).map(|(r, _)| r.map_err(|f| f.kind));
        assert_eq!(reset, Some(Err(ErrorKind::H2RstStream)));
    }

    /// Frames a server must not send are connection errors; a frame for a
    /// stream the client reset is ignored (its header block still decoded).
    #[test]
    fn protocol_errors_and_cancelled_streams() {
        let mut c = Inner::new();
        assert_eq!(
            feed(&mut c, frame::PING, 0, 0, &[0; 8]),
            Err(code::PROTOCOL_ERROR),
            "no SETTINGS first"
        );
        let mut c = open(&[]);
        assert_eq!(
            feed(&mut c, frame::HEADERS, 0x4, 1, STATUS_200),
            Err(code::PROTOCOL_ERROR),
            "idle stream"
        );
        assert_eq!(
            feed(&mut c, frame::PUSH_PROMISE, 0x4, 1, &[0; 4]),
            Err(code::PROTOCOL_ERROR)
        );
        assert_eq!(
            feed(&mut c, frame::SETTINGS, 0, 0, &[0; 5]),
            Err(code::FRAME_SIZE_ERROR)
        );
        assert_eq!(feed(&mut c, frame::PING, 0, 0, &[0; 7]), Err(code::FRAME_SIZE_ERROR));
        c.start_stream(&[0x82], b"");
        assert_eq!(c.cancel(1), Some(false));
        let sent = frames(&c.wbuf);
        assert_eq!(
            (sent[1].0.kind, sent[1].1.as_slice()),
            (frame::RST_STREAM, &code::CANCEL.to_be_bytes()[..])
        );
        // Literal with incremental indexing: `x-a: b` enters the table.
        assert_eq!(feed(&mut c, frame::HEADERS, 0x5, 1, b"\x88\x40\x03x-a\x01b"), Ok(()));
        assert_eq!(
            feed(&mut c, frame::HEADERS, 0x5, 1, &[0xff]),
            Err(code::COMPRESSION_ERROR)
        );
        c.end(Ended::Eof);
        assert!(!c.is_usable());
    }
}
