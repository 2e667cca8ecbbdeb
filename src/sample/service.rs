//! One request to the sample service: route it, count it, apply the faults,
//! answer it.
//!
//! This is the hot path of a server meant to outrun the load generator, so
//! it borrows from the request instead of copying, answers the static
//! routes without allocating, and touches shared state only through the
//! connection's stats stripe. The order of the steps is the contract the
//! tests rely on: faults are decided when the request arrives, the
//! configured latency is slept, and the stall hold comes last, right before
//! the answer leaves, so a stall also holds answers that were already
//! being prepared.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde::Serialize;
use tokio::sync::Notify;

use super::access_log::{AccessLog, Entry};
use super::db::{Db, OrderRefused};
use super::faults::{request_seed, Knobs, Outcome, StallClock};
use super::shop;
use super::stats::{Route, Stats};

/// Orders are small JSON documents; anything past this is refused with 413.
const MAX_ORDER_BYTES: usize = 1 << 20;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

pub(crate) type Body = Full<Bytes>;

/// State shared by every connection of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) knobs: Knobs,
    pub(crate) stall: StallClock,
    pub(crate) stats: Stats,
    pub(crate) seed: u64,
    /// Numbers connections for the fault RNG; unlike the stats counter it
    /// is never reset, so no two connections share an RNG stream.
    pub(crate) next_connection: AtomicU64,
    orders: AtomicU64,
    access_log: Option<AccessLog>,
    /// The seeded database, with `--db`.
    pub(crate) db: Option<Db>,
    /// Faults fixed at start: framing, pacing, HTTP/2 limits.
    pub(crate) wire: super::WireFaults,
}

impl Shared {
    pub(crate) fn new(
        knobs: Knobs,
        stall: StallClock,
        stats: Stats,
        seed: u64,
        access_log: Option<AccessLog>,
        db: Option<Db>,
        wire: super::WireFaults,
    ) -> Self {
        Shared {
            knobs,
            stall,
            stats,
            seed,
            next_connection: AtomicU64::new(0),
            orders: AtomicU64::new(0),
            access_log,
            db,
            wire,
        }
    }

    /// The counters, with the database's failed order writes.
    pub(crate) fn snapshot(&self) -> super::StatsSnapshot {
        let mut s = self.stats.snapshot();
        if let Some(db) = &self.db {
            s.order_write_errors = db.write_errors();
        }
        s
    }
}

/// State of one accepted connection, shared by its requests (several at
/// once under HTTP/2).
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) shared: Arc<Shared>,
    peer: IpAddr,
    number: u64,
    stripe: usize,
    requests: AtomicU64,
    reset: AtomicBool,
    /// Wakes the connection's task so it drops the socket at once.
    pub(crate) abort: Notify,
    /// Wakes the connection's task so it sends GOAWAY (`h2_goaway_after`).
    pub(crate) goaway: Notify,
}

impl Conn {
    pub(crate) fn new(shared: Arc<Shared>, peer: IpAddr) -> Self {
        let number = shared.next_connection.fetch_add(1, Ordering::Relaxed);
        shared.stats.connection();
        Conn {
            stripe: shared.stats.stripe_of(number),
            shared,
            peer,
            number,
            requests: AtomicU64::new(0),
            reset: AtomicBool::new(false),
            abort: Notify::new(),
            goaway: Notify::new(),
        }
    }

    /// Whether a request asked for this connection to be reset; the socket
    /// is then closed with `SO_LINGER` 0 so the peer sees an RST.
    pub(crate) fn reset_requested(&self) -> bool {
        self.reset.load(Ordering::Acquire)
    }

    /// Ask for an RST when the socket is dropped (the raw writer's resets).
    pub(crate) fn request_reset(&self) {
        self.shared.stats.reset_sent(self.stripe);
        self.reset.store(true, Ordering::Release);
    }

    /// The connection's number (for the fault RNG).
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// Number the next request on this connection (from 0), and count it
    /// (the raw writer's requests: no route, no status class).
    pub(crate) fn next_request(&self) -> u64 {
        self.shared.stats.request(self.stripe, Route::Root, &Method::GET, None);
        self.requests.fetch_add(1, Ordering::Relaxed)
    }
}

/// The service's "error": a request chose to reset its connection (or,
/// with `close_after`, to close it). Hyper answers a service error by
/// dropping the connection without a response, which is the point.
#[derive(Debug)]
pub(crate) struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Reset {}

/// The routes, with the pieces of the path they need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint<'a> {
    Product { tenant: &'a str, id: &'a str },
    Search { tenant: &'a str },
    Orders { tenant: &'a str },
    Health,
    Root,
    Stats,
    MethodNotAllowed { allow: &'static str },
    NotFound,
}

impl Endpoint<'_> {
    fn route(&self) -> Route {
        match self {
            Endpoint::Product { .. } => Route::Products,
            Endpoint::Search { .. } => Route::Search,
            Endpoint::Orders { .. } => Route::Orders,
            Endpoint::Health => Route::Health,
            Endpoint::Root => Route::Root,
            Endpoint::Stats | Endpoint::MethodNotAllowed { .. } | Endpoint::NotFound => Route::Other,
        }
    }
}

fn route<'a>(method: &Method, path: &'a str) -> Endpoint<'a> {
    const READ: &str = "GET, HEAD";
    const WRITE: &str = "POST";
    let (endpoint, allow) = match path {
        "/" => (Endpoint::Root, READ),
        "/health" => (Endpoint::Health, READ),
        "/_stats" => (Endpoint::Stats, READ),
        _ => {
            let Some((tenant, rest)) = path.strip_prefix("/t/").and_then(|r| r.split_once('/')) else {
                return Endpoint::NotFound;
            };
            if tenant.is_empty() {
                return Endpoint::NotFound;
            }
            match rest {
                "search" => (Endpoint::Search { tenant }, READ),
                "orders" => (Endpoint::Orders { tenant }, WRITE),
                _ => match rest.strip_prefix("products/") {
                    Some(id) if !id.is_empty() && !id.contains('/') => (Endpoint::Product { tenant, id }, READ),
                    _ => return Endpoint::NotFound,
                },
            }
        }
    };
    let allowed = if allow == WRITE {
        *method == Method::POST
    } else {
        *method == Method::GET || *method == Method::HEAD
    };
    if allowed {
        endpoint
    } else {
        Endpoint::MethodNotAllowed { allow }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode a path segment or query value (`+` is a space only in
/// queries). Malformed escapes are kept as written; invalid UTF-8 becomes
/// U+FFFD, since ids are only ever echoed and counted.
fn decode(s: &str, plus_is_space: bool) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || (plus_is_space && b == b'+')) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => match (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<Cow<'a, str>> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| decode(v, true))
    })
}

/// The tenant a request is counted for: the `X-Tenant-ID` header, else the
/// `tenant` query parameter, else the `/t/{tenant}/` path segment; the
/// first one present and non-empty wins.
fn tenant_of<'a>(parts: &'a http::request::Parts) -> Option<Cow<'a, str>> {
    if let Some(h) = parts.headers.get("x-tenant-id").and_then(|v| v.to_str().ok()) {
        if !h.is_empty() {
            return Some(Cow::Borrowed(h));
        }
    }
    if let Some(q) = query_param(parts.uri.query(), "tenant").filter(|q| !q.is_empty()) {
        return Some(q);
    }
    let seg = parts.uri.path().strip_prefix("/t/")?;
    let seg = seg.split_once('/').map_or(seg, |(t, _)| t);
    (!seg.is_empty()).then(|| decode(seg, false))
}

fn respond(status: StatusCode, content_type: HeaderValue, body: impl Into<Bytes>) -> Response<Body> {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, content_type);
    res
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => respond(status, JSON, body),
        // These bodies are plain structs of strings and numbers; should
        // serde_json ever refuse one, say so rather than panic.
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "could not encode the response"),
    }
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    #[derive(Serialize)]
    struct E<'a> {
        error: &'a str,
    }
    match serde_json::to_vec(&E { error: message }) {
        Ok(body) => respond(status, JSON, body),
        Err(_) => respond(status, TEXT, Bytes::from_static(b"error\n")),
    }
}

/// Answer one request of the sample service, and log it when an access
/// log is on (`/_stats` is not logged, as it is not counted).
pub(crate) async fn handle(conn: Arc<Conn>, req: Request<Incoming>) -> Result<Response<Body>, Reset> {
    if conn.shared.access_log.is_none() || req.uri().path() == "/_stats" {
        return serve(conn, req).await;
    }
    let (start, started) = (SystemTime::now(), Instant::now());
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut entry = Entry {
        peer: conn.peer,
        start,
        duration: std::time::Duration::ZERO,
        method: req.method().clone(),
        version: req.version(),
        target: req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned(),
        status: 0,
        request_bytes: header("content-length").and_then(|n| n.parse().ok()).unwrap_or(0),
        response_bytes: 0,
        user_agent: header("user-agent"),
        tenant: header("x-tenant-id"),
    };
    let result = serve(Arc::clone(&conn), req).await;
    entry.duration = started.elapsed();
    if let Ok(res) = &result {
        entry.status = res.status().as_u16();
        entry.response_bytes = hyper::body::Body::size_hint(res.body()).exact().unwrap_or(0);
    }
    if let Some(log) = &conn.shared.access_log {
        log.log(entry);
    }
    result
}

async fn serve(conn: Arc<Conn>, req: Request<Incoming>) -> Result<Response<Body>, Reset> {
    let shared = &*conn.shared;
    let (parts, body) = req.into_parts();
    let endpoint = route(&parts.method, parts.uri.path());
    if endpoint == Endpoint::Stats {
        // Outside the counts and the faults, so a test can read the stats
        // of a server it has just made unhealthy.
        return Ok(json(StatusCode::OK, &shared.snapshot()));
    }
    if let Some(after) = shared.wire.close_after {
        if parts.version < http::Version::HTTP_2 && conn.requests.load(Ordering::Relaxed) >= after {
            // The connection has served its N: it closes (FIN, not RST) as
            // request N + 1 arrives, unanswered and uncounted, which is the
            // race a client of a server with an idle or request-count limit
            // meets now and then. Hyper drops a connection whose service fails.
            return Err(Reset);
        }
    }
    shared.stats.request(
        conn.stripe,
        endpoint.route(),
        &parts.method,
        tenant_of(&parts).as_deref(),
    );

    let n = conn.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(after) = shared.wire.h2_goaway_after {
        if n + 1 == after {
            // Served, then GOAWAY: the connection's task shuts it down gracefully.
            conn.goaway.notify_one();
        }
    }
    if shared.wire.h2_rst_rate > 0.0 && parts.version == http::Version::HTTP_2 {
        let mut rng = SmallRng::seed_from_u64(request_seed(shared.seed, conn.number, n) ^ 0x0052_5354);
        if rand::RngExt::random::<f64>(&mut rng) < shared.wire.h2_rst_rate {
            // A service error under HTTP/2 is RST_STREAM(INTERNAL_ERROR) on this stream alone.
            shared.stats.reset_sent(conn.stripe);
            return Err(Reset);
        }
    }
    let plan = shared
        .knobs
        .plan(|| SmallRng::seed_from_u64(request_seed(shared.seed, conn.number, n)));
    let response = match plan.outcome {
        Outcome::Normal => Some(answer(shared, endpoint, parts.uri.query(), body).await),
        Outcome::Error => Some(error(StatusCode::INTERNAL_SERVER_ERROR, "injected")),
        Outcome::Reset => None,
    };
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    shared.stall.hold().await;

    match response {
        Some(res) => {
            shared.stats.status(conn.stripe, res.status());
            Ok(res)
        }
        None => {
            shared.stats.reset_sent(conn.stripe);
            conn.reset.store(true, Ordering::Release);
            // The connection task drops the socket on this signal; under
            // HTTP/2 that resets the whole connection, not just the stream.
            conn.abort.notify_one();
            Err(Reset)
        }
    }
}

async fn answer(shared: &Shared, endpoint: Endpoint<'_>, query: Option<&str>, body: Incoming) -> Response<Body> {
    if let Some(db) = &shared.db {
        match endpoint {
            Endpoint::Product { tenant, id } => return db_product(db, tenant, id),
            Endpoint::Orders { tenant } => return db_order(db, tenant, body).await,
            _ => {}
        }
    }
    match endpoint {
        Endpoint::Root => respond(StatusCode::OK, TEXT, Bytes::from_static(b"hello\n")),
        Endpoint::Health => respond(StatusCode::OK, TEXT, Bytes::from_static(b"ok")),
        Endpoint::Product { tenant, id } => {
            let Ok(id) = id.parse::<u64>() else {
                return error(StatusCode::BAD_REQUEST, "product id must be a non-negative integer");
            };
            #[derive(Serialize)]
            struct ProductBody<'a> {
                tenant: &'a str,
                #[serde(flatten)]
                product: shop::Product,
            }
            let tenant = decode(tenant, false);
            json(
                StatusCode::OK,
                &ProductBody {
                    tenant: &tenant,
                    product: shop::product(id),
                },
            )
        }
        Endpoint::Search { tenant } => {
            let Some(q) = query_param(query, "q").filter(|q| !q.is_empty()) else {
                return error(StatusCode::BAD_REQUEST, "missing search query `q`");
            };
            #[derive(Serialize)]
            struct SearchBody<'a> {
                tenant: &'a str,
                q: &'a str,
                results: Vec<shop::Product>,
            }
            let tenant = decode(tenant, false);
            json(
                StatusCode::OK,
                &SearchBody {
                    tenant: &tenant,
                    q: &q,
                    results: shop::search(&q),
                },
            )
        }
        Endpoint::Orders { .. } => match Limited::new(body, MAX_ORDER_BYTES).collect().await {
            Ok(collected) => {
                if collected.to_bytes().is_empty() {
                    return error(StatusCode::BAD_REQUEST, "empty order body");
                }
                #[derive(Serialize)]
                struct OrderBody {
                    order_id: u64,
                }
                let order_id = shared.orders.fetch_add(1, Ordering::Relaxed) + 1;
                json(StatusCode::CREATED, &OrderBody { order_id })
            }
            Err(e) if e.is::<LengthLimitError>() => error(StatusCode::PAYLOAD_TOO_LARGE, "order body over 1 MiB"),
            Err(_) => error(StatusCode::BAD_REQUEST, "could not read the order body"),
        },
        Endpoint::MethodNotAllowed { allow } => {
            let mut res = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            res.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
            res
        }
        Endpoint::NotFound | Endpoint::Stats => error(StatusCode::NOT_FOUND, "not found"),
    }
}

/// `GET /t/{tenant}/products/{id}` from the database: the row, or 404.
fn db_product(db: &Db, tenant: &str, id: &str) -> Response<Body> {
    let tenant = decode(tenant, false);
    let id = decode(id, false);
    match db.tenant(&tenant) {
        Ok(true) => {}
        Ok(false) => return error(StatusCode::NOT_FOUND, "no such tenant"),
        Err(e) => return db_error(&e),
    }
    #[derive(Serialize)]
    struct ProductBody<'a> {
        tenant: &'a str,
        #[serde(flatten)]
        product: super::db::ProductRow,
    }
    match db.product(&id) {
        Ok(Some(product)) => json(
            StatusCode::OK,
            &ProductBody {
                tenant: &tenant,
                product,
            },
        ),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such product"),
        Err(e) => db_error(&e),
    }
}

fn db_error(e: &rusqlite::Error) -> Response<Body> {
    tracing::warn!("sample target: database error: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "database error")
}

/// What an order's body must hold: a product (id or SKU) and a quantity.
#[derive(serde::Deserialize)]
struct OrderRequest {
    product: serde_json::Value,
    #[serde(default)]
    qty: Option<i64>,
}

/// `POST /t/{tenant}/orders` into the database: 201 with the new order's
/// id once queued for the writer; 404 for an unknown tenant, 422 for an
/// unknown product, a tenant without users, or a body that is not an order.
async fn db_order(db: &Db, tenant: &str, body: Incoming) -> Response<Body> {
    let bytes = match Limited::new(body, MAX_ORDER_BYTES).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return error(StatusCode::PAYLOAD_TOO_LARGE, "order body over 1 MiB"),
        Err(_) => return error(StatusCode::BAD_REQUEST, "could not read the order body"),
    };
    if bytes.is_empty() {
        return error(StatusCode::BAD_REQUEST, "empty order body");
    }
    let unprocessable = |m: &str| error(StatusCode::UNPROCESSABLE_ENTITY, m);
    let Ok(order) = serde_json::from_slice::<OrderRequest>(&bytes) else {
        return unprocessable("the body must be JSON {\"product\": ID or SKU, \"qty\": N}");
    };
    let product = match &order.product {
        serde_json::Value::Number(n) if n.is_i64() => n.to_string(),
        serde_json::Value::String(s) if !s.is_empty() => s.clone(),
        _ => return unprocessable("`product` must be a product id or SKU"),
    };
    let qty = order.qty.unwrap_or(1);
    if !(1..=1_000_000).contains(&qty) {
        return unprocessable("`qty` must be a whole number from 1 to 1000000");
    }
    let tenant = decode(tenant, false);
    match db.place_order(&tenant, &product, qty) {
        Ok(order_id) => {
            #[derive(Serialize)]
            struct OrderBody {
                order_id: u64,
            }
            json(StatusCode::CREATED, &OrderBody { order_id })
        }
        Err(OrderRefused::NoTenant) => error(StatusCode::NOT_FOUND, "no such tenant"),
        Err(OrderRefused::NoUser) => unprocessable("the tenant has no user to place the order for"),
        Err(OrderRefused::NoProduct) => unprocessable("no such product"),
        Err(OrderRefused::Db(e)) => db_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_exact_paths_and_methods() {
        let get = &Method::GET;
        assert_eq!(route(get, "/"), Endpoint::Root);
        assert_eq!(route(&Method::HEAD, "/health"), Endpoint::Health);
        assert_eq!(
            route(get, "/t/acme/products/12"),
            Endpoint::Product {
                tenant: "acme",
                id: "12"
            }
        );
        assert_eq!(route(get, "/t/acme/search"), Endpoint::Search { tenant: "acme" });
        assert_eq!(
            route(&Method::POST, "/t/acme/orders"),
            Endpoint::Orders { tenant: "acme" }
        );
        assert_eq!(
            route(get, "/t/acme/orders"),
            Endpoint::MethodNotAllowed { allow: "POST" }
        );
        assert_eq!(
            route(&Method::POST, "/"),
            Endpoint::MethodNotAllowed { allow: "GET, HEAD" }
        );
        for path in [
            "/t//search",
            "/t/acme",
            "/t/acme/products/",
            "/t/acme/products/1/x",
            "/nope",
            "/health/",
        ] {
            assert_eq!(route(get, path), Endpoint::NotFound, "{path}");
        }
    }

    #[test]
    fn decoding_keeps_malformed_escapes() {
        assert_eq!(decode("a%20b", false), "a b");
        assert_eq!(decode("a+b", true), "a b");
        assert_eq!(decode("a+b", false), "a+b");
        assert_eq!(decode("100%", false), "100%");
        assert_eq!(decode("%zz%4", false), "%zz%4");
        assert_eq!(decode("%C3%A9", false), "é");
        assert!(matches!(decode("plain", true), Cow::Borrowed(_)));
    }

    #[test]
    fn tenant_comes_from_header_then_query_then_path() {
        let parts = |uri: &str, header: Option<&str>| {
            let mut b = Request::builder().uri(uri);
            if let Some(h) = header {
                b = b.header("X-Tenant-ID", h);
            }
            b.body(()).unwrap().into_parts().0
        };
        let p = parts("/t/path/search?tenant=query", Some("header"));
        assert_eq!(tenant_of(&p).as_deref(), Some("header"));
        let p = parts("/t/path/search?q=x&tenant=query", None);
        assert_eq!(tenant_of(&p).as_deref(), Some("query"));
        let p = parts("/t/pa%20th/search?tenant=", Some(""));
        assert_eq!(tenant_of(&p).as_deref(), Some("pa th"));
        let p = parts("/health", None);
        assert_eq!(tenant_of(&p), None);
    }
}
