//! HPACK decoding (RFC 7541) of response heads, for their status only.
//!
//! The dynamic table is kept exactly (entry sizes from the decoded lengths,
//! size updates, eviction), since later blocks refer to it; but of the
//! fields only `:status` is wanted, so an entry keeps its sizes and, for a
//! `:status` entry, the status, and a literal that does not enter the table
//! is skipped without decoding its Huffman code (its value is discarded
//! anyway). A general decoder (`loona-hpack`, tried first) built a hash map
//! per Huffman string: 60% of the client's CPU against nginx.

use std::collections::VecDeque;

/// The block cannot be decoded: a connection error (COMPRESSION_ERROR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError;

/// One dynamic table entry, as much of it as the client needs.
#[derive(Debug, Clone, Copy)]
struct Entry {
    name_len: usize,
    /// Name and value length plus 32 (RFC 7541, 4.1).
    size: usize,
    /// The name is `:status`.
    is_status: bool,
    /// The value, when the name is `:status` and the value a status.
    status: Option<u16>,
}

/// A connection's decoder; its table is bounded by `max_allowed`, the
/// client's SETTINGS_HEADER_TABLE_SIZE.
#[derive(Debug)]
pub struct Decoder {
    table: VecDeque<Entry>,
    size: usize,
    max_size: usize,
    max_allowed: usize,
    scratch: Vec<u8>,
    /// Huffman-coded values that entered the table lately, with their
    /// decoded lengths: servers send the same ones on every response
    /// (nginx enters its `server`, `date` and `content-type` each time).
    memo: [(Vec<u8>, usize); MEMO],
    memo_next: usize,
}

/// Values remembered by [`Decoder::huffman_len`].
const MEMO: usize = 4;

impl Decoder {
    pub fn new(max_allowed: usize) -> Decoder {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            max_size: max_allowed,
            max_allowed,
            scratch: Vec::new(),
            memo: Default::default(),
            memo_next: 0,
        }
    }

    /// Decode one whole header block; returns the status when the first
    /// field is `:status` with a three-digit value.
    pub fn decode(&mut self, mut b: &[u8]) -> Result<Option<u16>, DecodeError> {
        let mut status = None;
        let mut fields = 0;
        while let Some(&first) = b.first() {
            let found = if first & 0x80 != 0 {
                // Indexed field.
                let e = self.get(integer(&mut b, 7)?)?;
                e.is_status.then_some(e.status).flatten()
            } else if first & 0x40 != 0 {
                // Literal with incremental indexing.
                let index = integer(&mut b, 6)?;
                self.literal(&mut b, index, true)?
            } else if first & 0x20 != 0 {
                // Dynamic table size update: only before the first field.
                let n = integer(&mut b, 5)?;
                if fields > 0 || n > self.max_allowed {
                    return Err(DecodeError);
                }
                self.max_size = n;
                self.evict(0);
                continue;
            } else {
                // Literal without indexing, or never indexed.
                let index = integer(&mut b, 4)?;
                self.literal(&mut b, index, false)?
            };
            if fields == 0 {
                status = found;
            }
            fields += 1;
        }
        Ok(status)
    }

    /// A literal field whose name is entry `index` (0: a literal name);
    /// returns its status if it is a `:status` field.
    fn literal(&mut self, b: &mut &[u8], index: usize, insert: bool) -> Result<Option<u16>, DecodeError> {
        let (name_len, is_status) = if index == 0 {
            let (huffman, raw) = string(b)?;
            self.scratch.clear();
            decode_to(huffman, raw, &mut self.scratch)?;
            (self.scratch.len(), self.scratch == b":status")
        } else {
            let e = self.get(index)?;
            (e.name_len, e.is_status)
        };
        let (huffman, raw) = string(b)?;
        let mut status = None;
        let mut value_len = raw.len();
        if is_status {
            self.scratch.clear();
            decode_to(huffman, raw, &mut self.scratch)?;
            value_len = self.scratch.len();
            status = parse_status(&self.scratch);
        } else if insert && huffman {
            value_len = self.huffman_len(raw)?;
        }
        if insert {
            let size = name_len + value_len + 32;
            self.evict(size);
            if size <= self.max_size {
                self.size += size;
                self.table.push_front(Entry {
                    name_len,
                    size,
                    is_status,
                    status,
                });
            }
        }
        Ok(status)
    }

    /// The decoded length of a Huffman-coded value, from the memo when it
    /// came lately (the same bytes decode the same).
    fn huffman_len(&mut self, raw: &[u8]) -> Result<usize, DecodeError> {
        if let Some((_, n)) = self.memo.iter().find(|(r, _)| r.as_slice() == raw) {
            return Ok(*n);
        }
        self.scratch.clear();
        huffman_decode(raw, &mut self.scratch)?;
        let n = self.scratch.len();
        let slot = &mut self.memo[self.memo_next % MEMO];
        slot.0.clear();
        slot.0.extend_from_slice(raw);
        slot.1 = n;
        self.memo_next += 1;
        Ok(n)
    }

    /// Entry `index`: the static table's, then the dynamic table's.
    fn get(&self, index: usize) -> Result<Entry, DecodeError> {
        match index {
            0 => Err(DecodeError),
            1..=STATIC_LEN => {
                let name_len = STATIC_NAMES[index - 1].len();
                let status = STATIC_STATUS.iter().find(|(i, _)| *i == index).map(|(_, s)| *s);
                Ok(Entry {
                    name_len,
                    size: 0,
                    is_status: status.is_some(),
                    status,
                })
            }
            _ => self.table.get(index - STATIC_LEN - 1).copied().ok_or(DecodeError),
        }
    }

    /// Evict the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            let Some(e) = self.table.pop_back() else { break };
            self.size -= e.size;
        }
    }
}

/// An integer with an `n`-bit prefix (RFC 7541, 5.1).
fn integer(b: &mut &[u8], n: u32) -> Result<usize, DecodeError> {
    let (&first, rest) = b.split_first().ok_or(DecodeError)?;
    *b = rest;
    let max = (1usize << n) - 1;
    let mut v = usize::from(first) & max;
    if v < max {
        return Ok(v);
    }
    let mut shift = 0;
    loop {
        let (&byte, rest) = b.split_first().ok_or(DecodeError)?;
        *b = rest;
        if shift > 21 {
            return Err(DecodeError);
        }
        v += usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// A string literal: whether it is Huffman-coded, and its bytes.
fn string<'a>(b: &mut &'a [u8]) -> Result<(bool, &'a [u8]), DecodeError> {
    let huffman = b.first().ok_or(DecodeError)? & 0x80 != 0;
    let len = integer(b, 7)?;
    if len > b.len() {
        return Err(DecodeError);
    }
    let (s, rest) = b.split_at(len);
    *b = rest;
    Ok((huffman, s))
}

fn decode_to(huffman: bool, raw: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
    if huffman {
        huffman_decode(raw, out)
    } else {
        out.extend_from_slice(raw);
        Ok(())
    }
}

fn parse_status(v: &[u8]) -> Option<u16> {
    match v {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// Entries of the static table (RFC 7541, Appendix A).
const STATIC_LEN: usize = 61;

/// The static table's names, entry 1 first.
const STATIC_NAMES: [&str; STATIC_LEN] = [
    ":authority",
    ":method",
    ":method",
    ":path",
    ":path",
    ":scheme",
    ":scheme",
    ":status",
    ":status",
    ":status",
    ":status",
    ":status",
    ":status",
    ":status",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "accept",
    "access-control-allow-origin",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-range",
    "content-type",
    "cookie",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "link",
    "location",
    "max-forwards",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "refresh",
    "retry-after",
    "server",
    "set-cookie",
    "strict-transport-security",
    "transfer-encoding",
    "user-agent",
    "vary",
    "via",
    "www-authenticate",
];

/// The static table's `:status` entries and their values.
const STATIC_STATUS: [(usize, u16); 7] = [
    (8, 200),
    (9, 204),
    (10, 206),
    (11, 304),
    (12, 400),
    (13, 404),
    (14, 500),
];

/// The Huffman code's length in bits of each symbol, 256 being EOS (RFC
/// 7541, Appendix B). The code is canonical: codes of one length are
/// consecutive in symbol order, each length's first code following the
/// shorter ones', so the lengths define it.
const CODE_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12,
    10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6,
    5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22,
    22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20,
    22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28,
    27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28,
    27, 27, 27, 27, 27, 26, 30,
];

/// The canonical code's decoding tables, per length: how many codes, the
/// first code, and where its symbols start in `symbols`.
struct Canonical {
    count: [u32; 31],
    first: [u32; 31],
    offset: [u16; 31],
    symbols: [u16; 257],
}

const HUFFMAN: Canonical = Canonical::new();

impl Canonical {
    const fn new() -> Canonical {
        let mut c = Canonical {
            count: [0; 31],
            first: [0; 31],
            offset: [0; 31],
            symbols: [0; 257],
        };
        let mut s = 0;
        while s < 257 {
            c.count[CODE_LENGTHS[s] as usize] += 1;
            s += 1;
        }
        let (mut code, mut at, mut len) = (0u32, 0u16, 1);
        while len <= 30 {
            c.first[len] = code;
            c.offset[len] = at;
            code = (code + c.count[len]) << 1;
            at += c.count[len] as u16;
            len += 1;
        }
        let mut filled = [0u16; 31];
        let mut s = 0;
        while s < 257 {
            let len = CODE_LENGTHS[s] as usize;
            c.symbols[(c.offset[len] + filled[len]) as usize] = s as u16;
            filled[len] += 1;
            s += 1;
        }
        c
    }
}

/// Codes of at most 8 bits (every letter, digit and most punctuation),
/// looked up by a string's next 8 bits: the symbol and the code's length,
/// length 0 where the next code is longer.
const FAST: [(u8, u8); 256] = fast_table();

const fn fast_table() -> [(u8, u8); 256] {
    let mut t = [(0u8, 0u8); 256];
    let mut len = 1;
    while len <= 8 {
        let mut k = 0;
        while k < HUFFMAN.count[len] {
            let sym = HUFFMAN.symbols[(HUFFMAN.offset[len] as u32 + k) as usize];
            let code = HUFFMAN.first[len] + k;
            let span = 1usize << (8 - len);
            let mut e = 0;
            while e < span {
                t[((code as usize) << (8 - len)) + e] = (sym as u8, len as u8);
                e += 1;
            }
            k += 1;
        }
        len += 1;
    }
    t
}

/// Decode a Huffman-coded string (RFC 7541, 5.2): EOS inside, or padding
/// longer than 7 bits or not all ones, is an error. Bits are taken from a
/// left-aligned 64-bit accumulator: codes of up to 8 bits by one lookup,
/// longer ones bit by bit on the canonical code.
fn huffman_decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let (mut acc, mut bits, mut next) = (0u64, 0usize, 0usize);
    loop {
        while bits <= 56 && next < src.len() {
            acc |= u64::from(src[next]) << (56 - bits);
            bits += 8;
            next += 1;
        }
        if bits == 0 {
            return Ok(());
        }
        let (sym, len) = FAST[(acc >> 56) as usize];
        let len = usize::from(len);
        if len != 0 && len <= bits {
            out.push(sym);
            acc <<= len;
            bits -= len;
            continue;
        }
        // What is left is padding: fewer than 8 bits, all ones.
        if bits < 8 && next == src.len() {
            let ones = (1u64 << bits) - 1;
            return if acc >> (64 - bits) == ones {
                Ok(())
            } else {
                Err(DecodeError)
            };
        }
        let mut code = 0u32;
        let mut len = 0;
        loop {
            if len == bits || len == 30 {
                return Err(DecodeError);
            }
            code = (code << 1) | ((acc >> (63 - len)) & 1) as u32;
            len += 1;
            let i = code.wrapping_sub(HUFFMAN.first[len]);
            if i < HUFFMAN.count[len] {
                let sym = HUFFMAN.symbols[(u32::from(HUFFMAN.offset[len]) + i) as usize];
                out.push(u8::try_from(sym).map_err(|_| DecodeError)?);
                acc <<= len;
                bits -= len;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// RFC 7541, C.4.1: "www.example.com" Huffman-coded.
    #[test]
    fn huffman_as_in_the_rfc() {
        let mut out = Vec::new();
        huffman_decode(&unhex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"), &mut out).expect("decodes");
        assert_eq!(out, b"www.example.com");
        out.clear();
        huffman_decode(&unhex("a8eb 1064 9cbf"), &mut out).expect("decodes");
        assert_eq!(out, b"no-cache");
        // Padding of 8 bits, and padding that is not all ones.
        assert_eq!(huffman_decode(&unhex("a8eb 1064 9cbf ff"), &mut out), Err(DecodeError));
        assert_eq!(huffman_decode(&[0x00], &mut out), Err(DecodeError));
    }

    /// RFC 7541, C.6: three responses with Huffman coding and a 256-byte
    /// table, whose evictions change what later indexes mean.
    #[test]
    fn responses_as_in_the_rfc_keep_the_table() {
        let mut d = Decoder::new(256);
        let r1 = "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                  2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3";
        assert_eq!(d.decode(&unhex(r1)), Ok(Some(302)));
        assert_eq!(d.size, 222);
        let r2 = "4883 640e ff c1 c0 bf";
        assert_eq!(d.decode(&unhex(r2)), Ok(Some(307)));
        assert_eq!(d.size, 222);
        let r3 = "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                  77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                  9587 3160 65c0 03ed 4ee5 b106 3d50 07";
        assert_eq!(d.decode(&unhex(r3)), Ok(Some(200)));
        assert_eq!(d.size, 215);
        assert_eq!(d.table.len(), 3);
    }

    /// A value entered again and again (a server's `date`) has its decoded
    /// length from the memo the second time: the table grows by the same.
    #[test]
    fn repeated_values_enter_the_table_with_their_decoded_length() {
        let mut d = Decoder::new(4096);
        let date = unhex("6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff");
        assert_eq!(d.decode(&date), Ok(None));
        assert_eq!(d.size, 4 + 29 + 32);
        assert_eq!(d.decode(&date), Ok(None));
        assert_eq!(d.size, 2 * (4 + 29 + 32));
    }

    /// Every byte value, coded with the canonical code the lengths define,
    /// decodes back (the long codes take the slow path).
    #[test]
    fn every_symbol_round_trips() {
        let code_of = |sym: usize| {
            let len = usize::from(CODE_LENGTHS[sym]);
            let rank = (0..sym).filter(|&s| usize::from(CODE_LENGTHS[s]) == len).count() as u32;
            (HUFFMAN.first[len] + rank, len)
        };
        let input: Vec<u8> = (0..=255u8)
            .chain(b"Sun, 06 Dec 2026 13:58:47 GMT".iter().copied())
            .collect();
        let (mut acc, mut bits, mut coded) = (0u128, 0usize, Vec::new());
        for &b in &input {
            let (code, len) = code_of(usize::from(b));
            acc = (acc << len) | u128::from(code);
            bits += len;
            while bits >= 8 {
                coded.push((acc >> (bits - 8)) as u8);
                bits -= 8;
            }
        }
        if bits > 0 {
            coded.push(((acc << (8 - bits)) as u8) | ((1u8 << (8 - bits)) - 1));
        }
        let mut out = Vec::new();
        huffman_decode(&coded, &mut out).expect("decodes");
        assert_eq!(out, input);
    }

    #[test]
    fn bad_blocks_are_errors() {
        let mut d = Decoder::new(4096);
        assert_eq!(d.decode(&[0x80]), Err(DecodeError), "index 0");
        assert_eq!(d.decode(&[0xbe]), Err(DecodeError), "empty dynamic table");
        assert_eq!(
            d.decode(&[0x3f, 0xe2, 0x1f]),
            Err(DecodeError),
            "size update over the limit"
        );
        assert_eq!(d.decode(&[0x3f, 0xe1, 0x1f]), Ok(None), "size update to the limit");
        assert_eq!(d.decode(&[0x88, 0x20]), Err(DecodeError), "size update after a field");
        assert_eq!(d.decode(&[0x08, 0x05, b'2']), Err(DecodeError), "string past the end");
        assert_eq!(d.decode(&[0x88]), Ok(Some(200)));
    }
}
