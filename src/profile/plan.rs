//! From a profile to requests: request number `i` becomes an endpoint, a
//! tenant and variable values, rendered into a reused buffer.
//!
//! Request `i` is a pure function of the seed and `i` (its randomness comes
//! from an RNG seeded by both), so the same seed gives the same requests
//! whatever the number of workers or shards, and any request can be made
//! without making the ones before it.

use std::io::Write;

use rand::RngExt;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Zipf};

use super::{Profile, SendAs, Skew, VAR_REQUEST, VAR_TENANT};
use crate::values::{derive_seed, rng_for, Rng64};

/// How tenants are drawn.
#[derive(Debug, Clone)]
enum TenantDist {
    Uniform(u32),
    Zipf(Zipf<f64>, u32),
    Weights(WeightedAliasIndex<f64>),
}

/// The compiled form of a profile's endpoints and tenants.
#[derive(Debug, Clone)]
pub struct RequestPlan {
    seed: u64,
    profile: std::sync::Arc<Profile>,
    mix: WeightedAliasIndex<f64>,
    tenant_ids: Vec<Box<[u8]>>,
    tenant_dist: Option<TenantDist>,
    /// Per endpoint: "METHOD " (request line start).
    line_start: Vec<Vec<u8>>,
    /// Per endpoint: the header block that never changes (Host, profile
    /// headers, static endpoint headers), in HTTP/1.1 wire form.
    static_h1: Vec<Vec<u8>>,
    /// Per endpoint: the same headers as name/value pairs (HTTP/2).
    static_pairs: Vec<Vec<(http::HeaderName, http::HeaderValue)>>,
    max_vars: usize,
}

/// One rendered request. Reused from request to request, so rendering
/// allocates nothing once the buffers have grown.
#[derive(Debug, Default, Clone)]
pub struct RequestBuf {
    pub index: u64,
    pub endpoint: usize,
    /// 0-based tenant index, when the profile has tenants.
    pub tenant: Option<u32>,
    /// Path and query, including the base URL's prefix.
    pub path: Vec<u8>,
    /// Headers that vary per request, in HTTP/1.1 wire form (`Name: value\r\n`).
    pub headers: Vec<u8>,
    pub body: Vec<u8>,
    pub has_body: bool,
    values: Vec<Vec<u8>>,
}

impl RequestPlan {
    pub fn new(profile: std::sync::Arc<Profile>) -> Self {
        let shares: Vec<f64> = profile.endpoints.iter().map(|e| e.share).collect();
        // Validation guarantees at least one positive share.
        let mix = WeightedAliasIndex::new(shares).unwrap_or_else(|_| {
            WeightedAliasIndex::new(vec![1.0]).unwrap_or_else(|_| unreachable!("a single weight of 1 is valid"))
        });
        let (tenant_ids, tenant_dist) = match &profile.tenants {
            None => (Vec::new(), None),
            Some(t) => {
                let ids = (1..=t.count).map(|i| t.id(i).into_bytes().into_boxed_slice()).collect();
                let dist = match &t.skew {
                    Skew::Uniform => TenantDist::Uniform(t.count),
                    Skew::Zipf(s) => match Zipf::new(f64::from(t.count), *s) {
                        Ok(z) => TenantDist::Zipf(z, t.count),
                        Err(_) => TenantDist::Uniform(t.count),
                    },
                    Skew::Weights(w) => match WeightedAliasIndex::new(w.clone()) {
                        Ok(a) => TenantDist::Weights(a),
                        Err(_) => TenantDist::Uniform(t.count),
                    },
                };
                (ids, Some(dist))
            }
        };
        let authority = profile.target.base.authority();
        let mut line_start = Vec::new();
        let mut static_h1 = Vec::new();
        let mut static_pairs = Vec::new();
        for e in &profile.endpoints {
            line_start.push(format!("{} ", e.method).into_bytes());
            let mut block = format!("Host: {authority}\r\n").into_bytes();
            let mut pairs = Vec::new();
            let mut add = |name: &str, value: &[u8]| {
                block.extend_from_slice(name.as_bytes());
                block.extend_from_slice(b": ");
                block.extend_from_slice(value);
                block.extend_from_slice(b"\r\n");
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_bytes(value),
                ) {
                    pairs.push((n, v));
                }
            };
            for h in &profile.target.headers {
                // An endpoint's own header of the same name wins.
                if !e.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&h.name)) {
                    add(&h.name, h.value.as_bytes());
                }
            }
            for (name, t) in &e.headers {
                if t.is_static() {
                    let mut v = Vec::new();
                    t.render_into(&[], &mut v);
                    add(name, &v);
                }
            }
            static_h1.push(block);
            static_pairs.push(pairs);
        }
        let max_vars = profile.endpoints.iter().map(|e| e.vars.len()).max().unwrap_or(2);
        RequestPlan {
            seed: derive_seed(profile.seed, "requests"),
            profile,
            mix,
            tenant_ids,
            tenant_dist,
            line_start,
            static_h1,
            static_pairs,
            max_vars,
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The RNG for request `index`.
    pub fn rng(&self, index: u64) -> Rng64 {
        rng_for(self.seed, index)
    }

    /// Render request `index` into `buf`.
    pub fn render(&self, index: u64, buf: &mut RequestBuf) {
        let mut rng = self.rng(index);
        self.render_with(index, &mut rng, buf);
    }

    /// Render a request drawing from `rng` (closed-model users draw from
    /// their own stream); `index` feeds `{{request}}` and sequential picks.
    pub fn render_with(&self, index: u64, rng: &mut Rng64, buf: &mut RequestBuf) {
        let ep_idx = self.mix.sample(rng);
        let ep = &self.profile.endpoints[ep_idx];
        buf.index = index;
        buf.endpoint = ep_idx;
        if buf.values.len() < self.max_vars {
            buf.values.resize_with(self.max_vars, Vec::new);
        }
        for v in &mut buf.values {
            v.clear();
        }
        buf.tenant = self.tenant_dist.as_ref().map(|d| match d {
            TenantDist::Uniform(n) => rng.random_range(0..*n),
            TenantDist::Zipf(z, n) => ((z.sample(rng) as u32).max(1) - 1).min(n - 1),
            TenantDist::Weights(a) => a.sample(rng) as u32,
        });
        if let Some(t) = buf.tenant {
            buf.values[VAR_TENANT].extend_from_slice(&self.tenant_ids[t as usize]);
        }
        let _ = write!(buf.values[VAR_REQUEST], "{index}");
        for (i, (_, gen)) in ep.vars.iter().enumerate() {
            if let Some(g) = gen {
                let mut slot = std::mem::take(&mut buf.values[i]);
                g.write(rng, index, &mut slot);
                buf.values[i] = slot;
            }
        }
        buf.path.clear();
        buf.path
            .extend_from_slice(self.profile.target.base.path_prefix.as_bytes());
        ep.path.render_into(&buf.values, &mut buf.path);
        buf.headers.clear();
        for (name, t) in &ep.headers {
            if !t.is_static() {
                buf.headers.extend_from_slice(name.as_bytes());
                buf.headers.extend_from_slice(b": ");
                t.render_into(&buf.values, &mut buf.headers);
                buf.headers.extend_from_slice(b"\r\n");
            }
        }
        if let (Some(t), Some(send_as)) = (
            buf.tenant,
            self.profile.tenants.as_ref().and_then(|t| t.send_as.as_ref()),
        ) {
            let id = &self.tenant_ids[t as usize];
            match send_as {
                SendAs::Header(h) => {
                    buf.headers.extend_from_slice(h.as_bytes());
                    buf.headers.extend_from_slice(b": ");
                    buf.headers.extend_from_slice(id);
                    buf.headers.extend_from_slice(b"\r\n");
                }
                SendAs::Query(q) => {
                    buf.path.push(if buf.path.contains(&b'?') { b'&' } else { b'?' });
                    buf.path.extend_from_slice(q.as_bytes());
                    buf.path.push(b'=');
                    super::template::encode_into(super::template::Context::Url, id, &mut buf.path);
                }
                SendAs::PathVar(_) => {}
            }
        }
        buf.body.clear();
        buf.has_body = ep.body.is_some();
        if let Some(b) = &ep.body {
            b.render_into(&buf.values, &mut buf.body);
        }
    }

    /// Write the request in HTTP/1.1 wire form.
    pub fn write_h1(&self, buf: &RequestBuf, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.line_start[buf.endpoint]);
        out.extend_from_slice(&buf.path);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        out.extend_from_slice(&self.static_h1[buf.endpoint]);
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
        let secrets: Vec<&str> = self
            .profile
            .target
            .headers
            .iter()
            .filter(|h| h.secret)
            .map(|h| h.name.as_str())
            .collect();
        let mut out = String::new();
        for line in head.split("\r\n") {
            match line.split_once(": ") {
                Some((name, _)) if secrets.iter().any(|s| s.eq_ignore_ascii_case(name)) => {
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

    /// Build the request for HTTP/2 (or any `http`-crate client).
    pub fn to_http_request(
        &self,
        buf: &RequestBuf,
        uri_base: &str,
    ) -> Result<http::Request<bytes::Bytes>, http::Error> {
        let ep = &self.profile.endpoints[buf.endpoint];
        let mut uri = String::with_capacity(uri_base.len() + buf.path.len());
        uri.push_str(uri_base);
        uri.push_str(&String::from_utf8_lossy(&buf.path));
        let mut req = http::Request::builder().method(ep.method.clone()).uri(uri);
        for (n, v) in &self.static_pairs[buf.endpoint] {
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
