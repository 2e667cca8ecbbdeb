//! A rendered request ([`RequestBuf`]) on the wire: HTTP/1.1 bytes, an
//! `http::Request` for HTTP/2, and the text `loadline run --dry-run` prints.
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
            self.static_pairs.push((n, v));
        }
    }
}
