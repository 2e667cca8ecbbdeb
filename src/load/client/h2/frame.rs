//! HTTP/2 frames (RFC 9113, section 6): the constants and the writers of
//! the frames a client sends, appending to a connection's write buffer.

/// The client connection preface (RFC 9113, 3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// A frame header's length.
pub const HEADER_LEN: usize = 9;

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const PRIORITY: u8 = 0x2;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PUSH_PROMISE: u8 = 0x5;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

pub const SETTINGS_ENABLE_PUSH: u16 = 0x2;
pub const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
pub const SETTINGS_MAX_FRAME_SIZE: u16 = 0x5;

/// The default and smallest SETTINGS_MAX_FRAME_SIZE; the client never
/// raises its own, so no frame it receives may be longer.
pub const MIN_MAX_FRAME: usize = 16_384;
/// The largest flow-control window (RFC 9113, 6.9.1).
pub const MAX_WINDOW: i64 = (1 << 31) - 1;
/// The default initial window (RFC 9113, 6.5.2).
pub const DEFAULT_WINDOW: i64 = 65_535;

/// A frame's header.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    pub len: usize,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
}

impl Head {
    /// Parse the 9 bytes of a frame header (the reserved bit is ignored).
    pub fn parse(b: &[u8; HEADER_LEN]) -> Head {
        Head {
            len: (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }
}

/// Append a frame header.
pub fn head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    let l = (len as u32).to_be_bytes();
    out.extend_from_slice(&[l[1], l[2], l[3], kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
}

/// The client's SETTINGS: no server push, and `window` as every stream's
/// initial window.
pub fn settings(out: &mut Vec<u8>, window: u32) {
    head(out, 12, SETTINGS, 0, 0);
    out.extend_from_slice(&SETTINGS_ENABLE_PUSH.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&SETTINGS_INITIAL_WINDOW_SIZE.to_be_bytes());
    out.extend_from_slice(&window.to_be_bytes());
}

pub fn settings_ack(out: &mut Vec<u8>) {
    head(out, 0, SETTINGS, ACK, 0);
}

pub fn ping_ack(out: &mut Vec<u8>, payload: &[u8]) {
    head(out, 8, PING, ACK, 0);
    out.extend_from_slice(payload);
}

pub fn window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    head(out, 4, WINDOW_UPDATE, 0, stream);
    out.extend_from_slice(&increment.to_be_bytes());
}

pub fn rst_stream(out: &mut Vec<u8>, stream: u32, code: u32) {
    head(out, 4, RST_STREAM, 0, stream);
    out.extend_from_slice(&code.to_be_bytes());
}

pub fn goaway(out: &mut Vec<u8>, last_stream: u32, code: u32) {
    head(out, 8, GOAWAY, 0, 0);
    out.extend_from_slice(&last_stream.to_be_bytes());
    out.extend_from_slice(&code.to_be_bytes());
}

/// A header block as HEADERS and, past `max_frame` bytes, CONTINUATION frames.
pub fn header_block(out: &mut Vec<u8>, stream: u32, block: &[u8], end_stream: bool, max_frame: usize) {
    let mut chunks = block.chunks(max_frame.max(1)).peekable();
    let mut kind = HEADERS;
    let mut flags = if end_stream { END_STREAM } else { 0 };
    if chunks.peek().is_none() {
        head(out, 0, HEADERS, flags | END_HEADERS, stream);
        return;
    }
    while let Some(c) = chunks.next() {
        if chunks.peek().is_none() {
            flags |= END_HEADERS;
        }
        head(out, c.len(), kind, flags, stream);
        out.extend_from_slice(c);
        kind = CONTINUATION;
        flags = 0;
    }
}

/// Error codes (RFC 9113, 7).
pub mod code {
    pub const NO_ERROR: u32 = 0x0;
    pub const PROTOCOL_ERROR: u32 = 0x1;
    pub const FLOW_CONTROL_ERROR: u32 = 0x3;
    pub const FRAME_SIZE_ERROR: u32 = 0x6;
    pub const REFUSED_STREAM: u32 = 0x7;
    pub const CANCEL: u32 = 0x8;
    pub const COMPRESSION_ERROR: u32 = 0x9;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_header_block_is_split_into_continuation_frames() {
        let block = vec![7u8; 40];
        let mut out = Vec::new();
        header_block(&mut out, 3, &block, true, 16);
        let h = |at: usize| Head::parse(out[at..at + HEADER_LEN].try_into().expect("9 bytes"));
        let (a, b, c) = (h(0), h(25), h(50));
        assert_eq!((a.kind, a.flags, a.len, a.stream), (HEADERS, END_STREAM, 16, 3));
        assert_eq!((b.kind, b.flags, b.len), (CONTINUATION, 0, 16));
        assert_eq!((c.kind, c.flags, c.len), (CONTINUATION, END_HEADERS, 8));
        assert_eq!(out.len(), 3 * HEADER_LEN + 40);
    }
}
