//! What the sample service counts: requests per route, method, status class
//! and tenant, resets sent, connections accepted.
//!
//! Tests use these counts to check what the load engine really sent (tenant
//! skew, endpoint mix), so they must be exact; and the service must stay
//! fast, so the counters are striped: each connection writes to one of
//! several cache-line-aligned stripes, and a snapshot adds them up. Tenant
//! counts live in a small map per stripe behind a lock held for one lookup.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

/// The routes of the sample service, as counted. `/_stats` is not among
/// them: reading the counts does not change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Products = 0,
    Search,
    Orders,
    Health,
    Root,
    Other,
}

impl Route {
    const NAMES: [&'static str; 6] = ["products", "search", "orders", "health", "root", "other"];
}

const METHODS: [&str; 8] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "other"];
const STATUSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

fn method_index(m: &http::Method) -> usize {
    match *m {
        http::Method::GET => 0,
        http::Method::POST => 1,
        http::Method::PUT => 2,
        http::Method::DELETE => 3,
        http::Method::PATCH => 4,
        http::Method::HEAD => 5,
        http::Method::OPTIONS => 6,
        _ => 7,
    }
}

/// Distinct tenants remembered across all stripes; past this, requests of
/// new tenants are counted in `untracked_tenant_requests`, so a profile
/// drawing tenant ids from a huge key space cannot grow the server without
/// bound.
const MAX_TENANTS: usize = 1 << 20;

/// A point-in-time copy of the counters, served as JSON on `GET /_stats`.
///
/// `routes`, `methods` and `statuses` always hold every key (zero or not),
/// so their shape is stable; `tenants` holds the tenants seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Requests received (not counting `/_stats`).
    pub total: u64,
    /// TCP connections accepted.
    pub connections: u64,
    /// Requests answered by resetting the connection.
    pub resets: u64,
    /// Requests per route: `products`, `search`, `orders`, `health`, `root`, `other`.
    pub routes: BTreeMap<String, u64>,
    /// Requests per method: `GET`, `POST`, ..., `other`.
    pub methods: BTreeMap<String, u64>,
    /// Responses per status class: `1xx` .. `5xx` (resets have none).
    pub statuses: BTreeMap<String, u64>,
    /// Requests per tenant id (`X-Tenant-ID` header, else `tenant` query
    /// parameter, else the `/t/{tenant}/` path segment).
    pub tenants: BTreeMap<String, u64>,
    /// Requests of tenants not tracked because too many distinct tenants were seen.
    pub untracked_tenant_requests: u64,
    /// Responses 404 Not Found (part of `4xx`): with `--db`, requests naming
    /// a tenant or product the database does not hold.
    #[serde(default)]
    pub not_found: u64,
    /// With `--db`: orders accepted (201) whose insert failed later, in
    /// the writer's batch (see the target's log for why).
    #[serde(default)]
    pub order_write_errors: u64,
    /// Failed `accept` calls: out of file descriptors (EMFILE, ENFILE) or
    /// memory; each is followed by a short pause, not a retry loop.
    #[serde(default)]
    pub accept_errors: u64,
}

/// One stripe of counters. Aligned so two stripes never share a cache
/// line, which is what keeps threads from slowing each other down.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe {
    routes: [AtomicU64; 6],
    methods: [AtomicU64; 8],
    statuses: [AtomicU64; 5],
    not_found: AtomicU64,
    resets: AtomicU64,
    untracked: AtomicU64,
    tenants: Mutex<HashMap<Box<str>, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a counter map leaves counts, not invariants:
    // keep counting rather than poison every later request.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
pub(crate) struct Stats {
    stripes: Box<[Stripe]>,
    connections: AtomicU64,
    accept_errors: AtomicU64,
    tenants_tracked: AtomicU64,
}

impl Stats {
    /// Enough stripes that the worker threads rarely meet on one.
    pub(crate) fn new(threads: usize) -> Self {
        let n = threads.saturating_mul(4).clamp(4, 64).next_power_of_two();
        Stats {
            stripes: (0..n).map(|_| Stripe::default()).collect(),
            connections: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            tenants_tracked: AtomicU64::new(0),
        }
    }

    /// The stripe a connection writes to.
    pub(crate) fn stripe_of(&self, connection: u64) -> usize {
        // Power-of-two length, so the cast cannot truncate what matters.
        (connection as usize) & (self.stripes.len() - 1)
    }

    fn stripe(&self, i: usize) -> &Stripe {
        &self.stripes[i % self.stripes.len()]
    }

    pub(crate) fn connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed `accept`; returns how many have failed so far.
    pub(crate) fn accept_error(&self) -> u64 {
        self.accept_errors.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn request(&self, stripe: usize, route: Route, method: &http::Method, tenant: Option<&str>) {
        let s = self.stripe(stripe);
        s.routes[route as usize].fetch_add(1, Ordering::Relaxed);
        s.methods[method_index(method)].fetch_add(1, Ordering::Relaxed);
        let Some(tenant) = tenant else { return };
        let mut map = lock(&s.tenants);
        if let Some(count) = map.get_mut(tenant) {
            *count += 1;
        } else if self.tenants_tracked.fetch_add(1, Ordering::Relaxed) < MAX_TENANTS as u64 {
            map.insert(tenant.into(), 1);
        } else {
            self.tenants_tracked.fetch_sub(1, Ordering::Relaxed);
            s.untracked.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn status(&self, stripe: usize, status: http::StatusCode) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.stripe(stripe).statuses[class].fetch_add(1, Ordering::Relaxed);
        if status == http::StatusCode::NOT_FOUND {
            self.stripe(stripe).not_found.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn reset_sent(&self, stripe: usize) {
        self.stripe(stripe).resets.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let mut routes = [0u64; 6];
        let mut methods = [0u64; 8];
        let mut statuses = [0u64; 5];
        let mut snap = StatsSnapshot {
            connections: self.connections.load(Ordering::Relaxed),
            accept_errors: self.accept_errors.load(Ordering::Relaxed),
            ..StatsSnapshot::default()
        };
        for s in self.stripes.iter() {
            add_into(&mut routes, &s.routes);
            add_into(&mut methods, &s.methods);
            add_into(&mut statuses, &s.statuses);
            snap.resets += s.resets.load(Ordering::Relaxed);
            snap.not_found += s.not_found.load(Ordering::Relaxed);
            snap.untracked_tenant_requests += s.untracked.load(Ordering::Relaxed);
            for (tenant, n) in lock(&s.tenants).iter() {
                *snap.tenants.entry(tenant.to_string()).or_default() += n;
            }
        }
        snap.total = routes.iter().sum();
        snap.routes = named(&Route::NAMES, &routes);
        snap.methods = named(&METHODS, &methods);
        snap.statuses = named(&STATUSES, &statuses);
        snap
    }

    /// Zero every counter. Requests in flight may land on either side.
    pub(crate) fn reset(&self) {
        self.connections.store(0, Ordering::Relaxed);
        self.accept_errors.store(0, Ordering::Relaxed);
        for s in self.stripes.iter() {
            let all = s.routes.iter().chain(&s.methods).chain(&s.statuses);
            for c in all.chain([&s.resets, &s.untracked, &s.not_found]) {
                c.store(0, Ordering::Relaxed);
            }
            let mut map = lock(&s.tenants);
            self.tenants_tracked.fetch_sub(map.len() as u64, Ordering::Relaxed);
            map.clear();
        }
    }
}

fn add_into<const N: usize>(sum: &mut [u64; N], counters: &[AtomicU64; N]) {
    for (s, c) in sum.iter_mut().zip(counters) {
        *s += c.load(Ordering::Relaxed);
    }
}

fn named(names: &[&str], values: &[u64]) -> BTreeMap<String, u64> {
    names.iter().zip(values).map(|(k, v)| (k.to_string(), *v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invariant: the snapshot is the sum over stripes, whichever stripe
    /// each connection wrote to.
    #[test]
    fn snapshot_adds_up_stripes() {
        let stats = Stats::new(2);
        for conn in 0..100u64 {
            let stripe = stats.stripe_of(conn);
            stats.connection();
            stats.request(stripe, Route::Products, &http::Method::GET, Some("acme"));
            stats.request(stripe, Route::Orders, &http::Method::POST, None);
            stats.status(stripe, http::StatusCode::OK);
            stats.status(stripe, http::StatusCode::CREATED);
            stats.status(stripe, http::StatusCode::NOT_FOUND);
            stats.reset_sent(stripe);
        }
        let s = stats.snapshot();
        assert_eq!(s.total, 200);
        assert_eq!(s.connections, 100);
        assert_eq!(s.resets, 100);
        assert_eq!(s.routes["products"], 100);
        assert_eq!(s.routes["orders"], 100);
        assert_eq!(s.routes["root"], 0);
        assert_eq!(s.methods["GET"], 100);
        assert_eq!(s.methods["POST"], 100);
        assert_eq!(s.statuses["2xx"], 200);
        assert_eq!((s.statuses["4xx"], s.not_found), (100, 100));
        assert_eq!(s.tenants.len(), 1);
        assert_eq!(s.tenants["acme"], 100);

        stats.reset();
        let s = stats.snapshot();
        assert_eq!(s.total, 0);
        assert!(s.tenants.is_empty());
        assert_eq!(stats.tenants_tracked.load(Ordering::Relaxed), 0);
    }
}
