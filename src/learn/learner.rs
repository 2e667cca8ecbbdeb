//! The learner: folds records into the template tree, the per-second
//! counts and the tenant counts, merges per-thread learners, and turns the
//! whole into what the profile is written from.

use super::curve::{self, Counts, CurveError, Resolution, Shape};
use super::paths::{Dropped, Endpoint, Pin, Request, Tree, TreeOptions};
use super::record::{Record, TimeSource};
use super::tenants::{TenantSkew, TenantSource, Tenants};
use crate::profile::Kind;
use crate::scrub::keyed::Prf;
use crate::units::Dur;

/// What to learn and how.
#[derive(Debug, Clone)]
pub struct LearnOptions {
    /// Fixed path segments, templates and tenants seen fewer times are left out.
    pub min_count: u64,
    /// Different fixed segments under one parent before the position is a variable.
    pub max_literals: usize,
    /// How fine the rate curve is.
    pub resolution: Resolution,
    /// Where requests name their tenant.
    pub tenant: Option<TenantSource>,
    /// Templates pinned by the user.
    pub pins: Vec<Pin>,
    /// Replay the log's span in this long instead of real time.
    pub replay_in: Option<Dur>,
    /// The learned profile's `target.base_url`.
    pub base_url: String,
    /// The learned profile's `name`.
    pub name: String,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            min_count: 10,
            max_literals: 25,
            resolution: Resolution::Hour,
            tenant: None,
            pins: Vec::new(),
            replay_in: None,
            base_url: "http://127.0.0.1:8080".into(),
            name: "learned".into(),
        }
    }
}

/// Requests the learner could not use, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unusable {
    /// The method is not an HTTP token of capital letters.
    pub bad_method: u64,
    /// The target is neither a path nor an absolute URL (`*`, `host:443`).
    pub bad_target: u64,
    /// The path is deeper than the tree follows.
    pub too_deep: u64,
}

/// One learner: one per thread, merged at the end.
#[derive(Debug, Clone)]
pub struct Learner {
    tree: Tree,
    counts: Counts,
    tenants: Option<Tenants>,
    tenant_source: Option<TenantSource>,
    reads: u64,
    writes: u64,
    sources: [u64; 3],
    unusable: Unusable,
}

/// Everything the profile is written from.
#[derive(Debug, Clone)]
pub struct Learned {
    /// Endpoints, busiest first.
    pub endpoints: Vec<Endpoint>,
    /// What the templates left out.
    pub dropped: Dropped,
    /// The rate over time.
    pub shape: Shape,
    /// The tenant skew, when a tenant source was given.
    pub tenants: Option<TenantSkew>,
    /// Requests with no tenant (when a source was given).
    pub tenant_missing: u64,
    /// Read requests (GET, HEAD, OPTIONS) among the learned endpoints.
    pub reads: u64,
    /// Other requests among the learned endpoints.
    pub writes: u64,
    /// Requests by where their arrival time came from.
    pub time_sources: Vec<(TimeSource, u64)>,
    /// Requests that could not be used.
    pub unusable: Unusable,
}

/// Why nothing could be learned.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// No record could be used.
    #[error("no request could be used: {0}")]
    Curve(#[from] CurveError),
    /// Every template was rarer than `--min-count`.
    #[error("every path was seen fewer than {0} times (--min-count): nothing to learn")]
    NoEndpoint(u64),
}

fn is_read(method: &str) -> bool {
    Kind::of_method(method) == Kind::Read
}

fn valid_method(m: &str) -> bool {
    (1..=20).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_')
}

/// The path and query of a request target: `/p?q` as is; an absolute URL
/// loses its scheme and authority; anything else is `None`.
pub fn split_target(target: &str) -> Option<(&str, Option<&str>)> {
    let rest = if target.starts_with('/') {
        target
    } else {
        let after = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))?;
        match after.find('/') {
            Some(i) => &after[i..],
            None => match after.find('?') {
                Some(_) => return None,
                None => "/",
            },
        }
    };
    let rest = rest.split('#').next().unwrap_or(rest);
    Some(match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    })
}

impl Learner {
    /// An empty learner. Tenant names are hashed with `prf` (the same key
    /// in every thread).
    pub fn new(opts: &LearnOptions, prf: Prf) -> Self {
        let (tenant_segment, tenant_query) = match &opts.tenant {
            Some(TenantSource::Path(i)) => (Some(*i), None),
            Some(TenantSource::Query(k)) => (None, Some(k.clone())),
            _ => (None, None),
        };
        let tree = Tree::new(TreeOptions {
            max_literals: opts.max_literals,
            max_nodes: 50_000,
            tenant_segment,
            tenant_query,
            pins: opts.pins.clone(),
        });
        Learner {
            tree,
            counts: Counts::default(),
            tenants: opts.tenant.as_ref().map(|_| Tenants::new(prf)),
            tenant_source: opts.tenant.clone(),
            reads: 0,
            writes: 0,
            sources: [0; 3],
            unusable: Unusable::default(),
        }
    }

    /// Fold in one request.
    pub fn add(&mut self, r: &Record<'_>) {
        if !valid_method(r.method) {
            self.unusable.bad_method += 1;
            return;
        }
        let Some((path, query)) = split_target(r.target) else {
            self.unusable.bad_target += 1;
            return;
        };
        let tenant = match self.tenant_source.as_ref() {
            None => None,
            Some(TenantSource::Path(i)) => path.strip_prefix('/').and_then(|p| p.split('/').nth(*i)),
            Some(TenantSource::Header(_)) => r.tenant_header,
            Some(TenantSource::Query(k)) => query.and_then(|q| {
                q.split('&')
                    .find_map(|pair| pair.split_once('=').filter(|(key, _)| key == k).map(|(_, v)| v))
            }),
        }
        .filter(|n| !n.is_empty() && *n != "-");
        let before = self.tree.too_deep;
        self.tree.add(&Request {
            method: r.method,
            path,
            query,
            status: r.status,
            request_bytes: r.request_bytes,
            response_bytes: r.response_bytes,
            tenant: match self.tenant_source {
                Some(TenantSource::Header(_) | TenantSource::Query(_)) => tenant,
                _ => None,
            },
        });
        if self.tree.too_deep > before {
            return;
        }
        if let Some(t) = self.tenants.as_mut() {
            match tenant {
                Some(n) => t.add(n),
                None => t.missing += 1,
            }
        }
        self.counts.add(r.arrival);
        self.sources[r.time_source as usize] += 1;
        if is_read(r.method) {
            self.reads += 1;
        } else {
            self.writes += 1;
        }
    }

    /// Add another learner (same options and key) into this one.
    pub fn merge(&mut self, o: Learner) {
        self.tree.merge(o.tree);
        self.counts.merge(&o.counts);
        if let (Some(a), Some(b)) = (self.tenants.as_mut(), o.tenants.as_ref()) {
            a.merge(b);
        }
        self.reads += o.reads;
        self.writes += o.writes;
        for (a, b) in self.sources.iter_mut().zip(o.sources) {
            *a += b;
        }
        self.unusable.bad_method += o.unusable.bad_method;
        self.unusable.bad_target += o.unusable.bad_target;
    }

    /// Requests folded in.
    pub fn requests(&self) -> u64 {
        self.counts.total()
    }

    /// Fit everything.
    pub fn finish(self, opts: &LearnOptions) -> Result<Learned, LearnError> {
        let shape = curve::shape(&self.counts, opts.resolution)?;
        let mut unusable = self.unusable;
        unusable.too_deep = self.tree.too_deep;
        let (endpoints, dropped) = self.tree.endpoints(opts.min_count);
        if endpoints.is_empty() {
            return Err(LearnError::NoEndpoint(opts.min_count));
        }
        let (reads, writes) = endpoints.iter().fold((0, 0), |(r, w), e| {
            if is_read(&e.method) {
                (r + e.leaf.count, w)
            } else {
                (r, w + e.leaf.count)
            }
        });
        let sources = [TimeSource::Arrival, TimeSource::EndMinusDuration, TimeSource::LogTime];
        Ok(Learned {
            endpoints,
            dropped,
            shape,
            tenant_missing: self.tenants.as_ref().map_or(0, |t| t.missing),
            tenants: self.tenants.map(|t| t.skew(opts.min_count)),
            reads,
            writes,
            time_sources: sources.into_iter().zip(self.sources).filter(|(_, n)| *n > 0).collect(),
            unusable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("/a/b?x=1#f"), Some(("/a/b", Some("x=1"))));
        assert_eq!(split_target("https://h:443/p?q"), Some(("/p", Some("q"))));
        assert_eq!(split_target("http://h"), Some(("/", None)));
        assert_eq!(split_target("*"), None);
        assert_eq!(split_target("h:443"), None);
    }
}
