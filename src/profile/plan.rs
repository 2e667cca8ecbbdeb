//! From a profile to requests: request number `i` becomes an endpoint, a
//! tenant and variable values, rendered into a reused buffer.
//!
//! Request `i` is a pure function of the seed and `i` (its randomness comes
//! from an RNG seeded by both), so the same seed gives the same requests
//! whatever the number of workers or shards, and any request can be made
//! without making the ones before it.
//!
//! This module decides *which* request is sent; how it looks on the wire
//! (HTTP/1.1 bytes, HTTP/2 requests, the dry-run text) is the load
//! engine's business (`load::client::wire`).

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

/// The compiled form of a profile's endpoints and tenants: the endpoint mix,
/// the tenant distribution and ids, and the seed every request's RNG derives
/// from. Built once per run and shared by every worker.
#[derive(Debug, Clone)]
pub struct RequestPlan {
    seed: u64,
    profile: std::sync::Arc<Profile>,
    mix: WeightedAliasIndex<f64>,
    tenant_ids: Vec<Box<[u8]>>,
    tenant_dist: Option<TenantDist>,
    max_vars: usize,
    /// Which arrivals are slow or abandoning clients (`clients:`).
    classes: super::clients::ClassPicker,
}

/// One rendered request. Reused from request to request, so rendering
/// allocates nothing once the buffers have grown.
#[derive(Debug, Default, Clone)]
pub struct RequestBuf {
    /// The request's number: its place in the open schedule, or the closed
    /// model's `round * users + user`.
    pub index: u64,
    /// Index into the profile's `endpoints`.
    pub endpoint: usize,
    /// 0-based tenant index, when the profile has tenants.
    pub tenant: Option<u32>,
    /// Path and query, including the base URL's prefix.
    pub path: Vec<u8>,
    /// Headers that vary per request (templated endpoint headers, the
    /// tenant header), as a compact header list: one `Name: value\r\n`
    /// line each, which is also their HTTP/1.1 wire form.
    pub headers: Vec<u8>,
    /// The rendered body; empty when the endpoint has none.
    pub body: Vec<u8>,
    /// Whether the endpoint has a body (so `Content-Length` is sent, even
    /// for an empty one).
    pub has_body: bool,
    /// Rendered variable values, indexed like the endpoint's `vars`.
    values: Vec<Vec<u8>>,
}

impl RequestPlan {
    /// Compile `profile`'s endpoint mix and tenants.
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
        let max_vars = profile.endpoints.iter().map(|e| e.vars.len()).max().unwrap_or(2);
        RequestPlan {
            seed: derive_seed(profile.seed, "requests"),
            classes: super::clients::ClassPicker::new(derive_seed(profile.seed, "clients"), &profile.clients),
            profile,
            mix,
            tenant_ids,
            tenant_dist,
            max_vars,
        }
    }

    /// The profile this plan was compiled from.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The client class of request `index` (an index into the profile's
    /// `clients`), `None` for a normal client. Drawn apart from the
    /// request's own RNG, so classes change no request's endpoint or values.
    #[inline]
    pub fn client_class(&self, index: u64) -> Option<usize> {
        self.classes.pick(index)
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
}
