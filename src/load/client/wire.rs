//! A rendered request ([`RequestBuf`]) on the wire: HTTP/1.1 bytes, an
//! HTTP/2 header block (HPACK), an `http::Request`, and the text
//! `loadline run --dry-run` prints.
//!
//! [`RequestPlan`](crate::profile::RequestPlan) decides *which* request
//! number `i` is (endpoint, tenant, path, varying headers, body); [`Wire`]
//! adds what never changes between two requests of one endpoint (method,
//! `Host`, the profile's headers, static endpoint headers), compiled once per
//! profile so writing a request only copies bytes.

use std::fmt;
use std::io::Write;

use http::{HeaderName, HeaderValue, Method};

use crate::profile::{Profile, RequestBuf};

/// The wire forms of one profile's requests: per endpoint, the parts that are
/// the same for every request, in HTTP/1.1 bytes and as HTTP/2 header pairs.
#[derive(Clone)]
pub struct Wire {
    /// Indexed like the profile's endpoints (and [`RequestBuf::endpoint`]).
    endpoints: Vec<EndpointWire>,
    /// Scheme and authority (`https://host:8443`) that HTTP/2 URIs start with.
    origin: String,
    /// Names of the profile's secret headers, whose values `describe` hides.
    secrets: Vec<String>,
}

/// The unchanging parts of one endpoint's requests.
#[derive(Clone)]
struct EndpointWire {
    method: Method,
    /// `"METHOD "`: the request line up to the path.
    line_start: Vec<u8>,
    /// `Host`, the profile's headers and the endpoint's static headers, in
    /// HTTP/1.1 wire form (`Name: value\r\n` each).
    static_h1: Vec<u8>,
    /// The same headers as name/value pairs, for HTTP/2 (which sends `Host`
    /// as the URI's authority instead).
    static_pairs: Vec<(HeaderName, HeaderValue)>,
    /// HPACK: `:method`, `:scheme` and `:authority`, the header block's start.
    h2_pseudo: Vec<u8>,
    /// HPACK: the static headers (`static_pairs` less `Host` and the
    /// connection-specific ones HTTP/2 forbids), after `:path`.
    h2_static: Vec<u8>,
}

impl fmt::Debug for Wire {
    /// Methods and header names only: header values may be credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoints: Vec<(&Method, Vec<&HeaderName>)> = self
            .endpoints
            .iter()
            .map(|e| (&e.method, e.static_pairs.iter().map(|(n, _)| n).collect()))
            .collect();
        f.debug_struct("Wire")
            .field("endpoints", &endpoints)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Wire {
    /// Compile the unchanging parts of every endpoint's requests. An
    /// endpoint's own header wins over a profile header of the same name.
    pub fn new(profile: &Profile) -> Wire {
        let authority = profile.target.base.authority();
        let endpoints = profile
            .endpoints
            .iter()
            .map(|e| {
                let mut w = EndpointWire {
                    method: e.method.clone(),
                    line_start: format!("{} ", e.method).into_bytes(),
                    static_h1: format!("Host: {authority}\r\n").into_bytes(),
                    static_pairs: Vec::new(),
                    h2_pseudo: hpack::pseudo(&e.method, profile.target.base.scheme, &authority),
                    h2_static: Vec::new(),
                };
                for h in &profile.target.headers {
                    if !e.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&h.name)) {
                        w.add(&h.name, h.value.as_bytes());
                    }
                }
                for (name, t) in &e.headers {
                    if t.is_static() {
                        let mut v = Vec::new();
                        t.render_into(&[], &mut v);
                        w.add(name, &v);
                    }
                }
                w
            })
            .collect();
        let secrets = profile
            .target
            .headers
            .iter()
            .filter(|h| h.secret)
            .map(|h| h.name.clone())
            .collect();
        Wire {
            endpoints,
            origin: profile.target.base.origin(),
            secrets,
        }
    }

    /// Write the request in HTTP/1.1 wire form, appending to `out`.
    pub fn write_h1(&self, buf: &RequestBuf, out: &mut Vec<u8>) {
        let ep = &self.endpoints[buf.endpoint];
        out.extend_from_slice(&ep.line_start);
        out.extend_from_slice(&buf.path);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        out.extend_from_slice(&ep.static_h1);
        out.extend_from_slice(&buf.headers);
        if buf.has_body {
            let _ = write!(out, "Content-Length: {}\r\n", buf.body.len());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&buf.body);
    }

    /// The request's HTTP/2 header block (HPACK, RFC 7541), appending to
    /// `out`: pseudo-headers, static then varying headers, `content-length`
    /// with a body. Every field is a literal without indexing (or a static
    /// table entry), so the block depends on no connection state. An error
    /// means a rendered path or header value has bytes HTTP/2 forbids.
    pub fn write_h2_block(&self, buf: &RequestBuf, out: &mut Vec<u8>) -> Result<(), BadField> {
        let ep = &self.endpoints[buf.endpoint];
        out.extend_from_slice(&ep.h2_pseudo);
        if buf.path.is_empty() || buf.path.iter().any(|&b| b <= b' ' || b == 0x7f) {
            return Err(BadField);
        }
        hpack::indexed_name(out, hpack::PATH, &buf.path);
        out.extend_from_slice(&ep.h2_static);
        for line in buf.headers.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(pos) = line.iter().position(|b| *b == b':') {
                let (n, v) = line.split_at(pos);
                let v = v[1..].trim_ascii();
                if n.is_empty() || v.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f) {
                    return Err(BadField);
                }
                if !hpack::is_connection_specific(n) {
                    hpack::literal_lower(out, n, v);
                }
            }
        }
        if buf.has_body {
            let mut digits = itoa::Buffer::new();
            hpack::indexed_name(out, hpack::CONTENT_LENGTH, digits.format(buf.body.len()).as_bytes());
        }
        Ok(())
    }

    /// The request as a person reads it (`loadline run --dry-run`): HTTP/1.1
    /// wire form with secret header values (from the environment, or
    /// credentials) replaced by `<redacted>`.
    pub fn describe(&self, buf: &RequestBuf) -> String {
        let mut raw = Vec::new();
        self.write_h1(buf, &mut raw);
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut out = String::new();
        for line in head.split("\r\n") {
            match line.split_once(": ") {
                Some((name, _)) if self.secrets.iter().any(|s| s.eq_ignore_ascii_case(name)) => {
                    out.push_str(name);
                    out.push_str(": <redacted>");
                }
                _ => out.push_str(line),
            }
            out.push('\n');
        }
        out.push('\n');
        out.push_str(body);
        out
    }

    /// The request for HTTP/2 (or any `http`-crate client): absolute URI,
    /// static then varying headers, no `Host` (the URI carries it). An error
    /// means a rendered value is not valid in a URI or a header.
    pub fn to_http_request(&self, buf: &RequestBuf) -> Result<http::Request<bytes::Bytes>, http::Error> {
        let ep = &self.endpoints[buf.endpoint];
        let mut uri = String::with_capacity(self.origin.len() + buf.path.len());
        uri.push_str(&self.origin);
        uri.push_str(&String::from_utf8_lossy(&buf.path));
        let mut req = http::Request::builder().method(ep.method.clone()).uri(uri);
        for (n, v) in &ep.static_pairs {
            if n != http::header::HOST {
                req = req.header(n, v);
            }
        }
        for line in buf.headers.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(pos) = line.iter().position(|b| *b == b':') {
                let (n, v) = line.split_at(pos);
                req = req.header(n, v[1..].trim_ascii());
            }
        }
        req.body(bytes::Bytes::copy_from_slice(&buf.body))
    }
}

impl EndpointWire {
    /// Append one static header to both forms; a name or value `http`
    /// rejects is still written for HTTP/1.1 but left out of HTTP/2.
    fn add(&mut self, name: &str, value: &[u8]) {
        self.static_h1.extend_from_slice(name.as_bytes());
        self.static_h1.extend_from_slice(b": ");
        self.static_h1.extend_from_slice(value);
        self.static_h1.extend_from_slice(b"\r\n");
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) {
            if n != http::header::HOST && !hpack::is_connection_specific(n.as_str().as_bytes()) {
                hpack::literal_lower(&mut self.h2_static, n.as_str().as_bytes(), v.as_bytes());
            }
            self.static_pairs.push((n, v));
        }
    }
}

/// A rendered path or header value has bytes HTTP/2 forbids (control
/// characters, or whitespace in the path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadField;

/// The HPACK (RFC 7541) a client needs to write requests without a dynamic
/// table: static-table entries and literals without indexing, no Huffman.
pub(crate) mod hpack {
    use http::Method;

    use crate::profile::Scheme;

    /// Static table indexes (RFC 7541, Appendix A).
    pub const AUTHORITY: usize = 1;
    pub const METHOD: usize = 2;
    pub const PATH: usize = 4;
    pub const CONTENT_LENGTH: usize = 28;

    /// `:method`, `:scheme` and `:authority` of every request to one origin.
    pub fn pseudo(method: &Method, scheme: Scheme, authority: &str) -> Vec<u8> {
        let mut out = Vec::new();
        match *method {
            Method::GET => out.push(0x82),
            Method::POST => out.push(0x83),
            _ => indexed_name(&mut out, METHOD, method.as_str().as_bytes()),
        }
        out.push(match scheme {
            Scheme::Http => 0x86,
            Scheme::Https => 0x87,
        });
        indexed_name(&mut out, AUTHORITY, authority.as_bytes());
        out
    }

    /// HTTP/1.1 headers HTTP/2 forbids (RFC 9113, 8.2.2), and `Host`,
    /// which `:authority` replaces.
    pub fn is_connection_specific(name: &[u8]) -> bool {
        const NAMES: [&[u8]; 7] = [
            b"connection",
            b"keep-alive",
            b"proxy-connection",
            b"transfer-encoding",
            b"upgrade",
            b"host",
            b"te",
        ];
        NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// A literal field without indexing whose name is static table entry `index`.
    pub fn indexed_name(out: &mut Vec<u8>, index: usize, value: &[u8]) {
        integer(out, 4, 0x00, index);
        string(out, value);
    }

    /// A literal field without indexing with a literal name, lower-cased
    /// as HTTP/2 requires.
    pub fn literal_lower(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
        out.push(0x00);
        integer(out, 7, 0x00, name.len());
        out.extend(name.iter().map(u8::to_ascii_lowercase));
        string(out, value);
    }

    /// A string literal, not Huffman-coded.
    fn string(out: &mut Vec<u8>, s: &[u8]) {
        integer(out, 7, 0x00, s.len());
        out.extend_from_slice(s);
    }

    /// An integer with an `n`-bit prefix whose upper bits are `flags` (RFC 7541, 5.1).
    fn integer(out: &mut Vec<u8>, n: u32, flags: u8, mut v: usize) {
        let max = (1usize << n) - 1;
        if v < max {
            out.push(flags | v as u8);
            return;
        }
        out.push(flags | max as u8);
        v -= max;
        while v >= 128 {
            out.push((v % 128) as u8 | 0x80);
            v /= 128;
        }
        out.push(v as u8);
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// RFC 7541, C.1: integer examples.
        #[test]
        fn integers_as_in_the_rfc() {
            let mut out = Vec::new();
            integer(&mut out, 5, 0, 10);
            assert_eq!(out, [0x0a]);
            out.clear();
            integer(&mut out, 5, 0, 1337);
            assert_eq!(out, [0x1f, 0x9a, 0x0a]);
            out.clear();
            integer(&mut out, 8, 0, 42);
            assert_eq!(out, [0x2a]);
        }
    }
}
