//! The built-in sample service, tested from outside over real sockets: every
//! route, HTTP/1.1 keep-alive, HTTP/2 with prior knowledge, HTTPS with ALPN,
//! each fault, the stats, and the `loadline target` command line.
//!
//! The load engine's own tests trust this server to do exactly what it is
//! told (a 300 ms stall really holds responses for 300 ms, a reset really is
//! an RST), so those promises are checked here. HTTP/1.1 goes through a tiny
//! blocking client written against the wire, so nothing in hyper's client can
//! paper over a server bug; HTTP/2 and TLS use hyper's client.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use loadline::sample::{Error, Faults, RunningTarget, StatsSnapshot, TargetConfig, TlsMode};
use serde_json::Value;

fn config() -> TargetConfig {
    TargetConfig {
        threads: 2,
        ..TargetConfig::default()
    }
}

fn start(config: TargetConfig) -> RunningTarget {
    RunningTarget::start(config).expect("the sample target starts")
}

const MS: fn(u64) -> Duration = Duration::from_millis;

/// A response as read off the wire.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A blocking HTTP/1.1 keep-alive client: one connection, requests in turn.
struct Http1 {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Http1 {
    fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Http1 {
            stream,
            buf: Vec::new(),
        }
    }

    fn get(&mut self, path: &str) -> std::io::Result<Resp> {
        self.send("GET", path, &[], b"")
    }

    fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<Resp> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes)?;
        self.read_response()
    }

    fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    fn read_response(&mut self) -> std::io::Result<Resp> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&self.buf).expect("a valid HTTP/1.1 response head") {
                httparse::Status::Partial => self.fill()?,
                httparse::Status::Complete(head_len) => {
                    let status = parsed.code.expect("status");
                    let headers: Vec<(String, String)> = parsed
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .map_or(0, |(_, v)| v.parse().expect("content-length"));
                    while self.buf.len() < head_len + len {
                        self.fill()?;
                    }
                    let body = self.buf[head_len..head_len + len].to_vec();
                    self.buf.drain(..head_len + len);
                    return Ok(Resp { status, headers, body });
                }
            }
        }
    }
}

/// One request on a fresh connection.
fn get(target: &RunningTarget, path: &str) -> Resp {
    Http1::connect(target.addr()).get(path).expect("a response")
}

#[test]
fn every_route_answers_as_specified_on_one_keep_alive_connection() {
    let target = start(config());
    let mut c = Http1::connect(target.addr());

    let r = c.get("/t/acme/products/123").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let p = r.json();
    assert_eq!(p["tenant"], "acme");
    assert_eq!(p["id"], 123);
    assert!(p["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(p["price_cents"].as_u64().is_some_and(|c| c > 0));
    // Deterministic: the same id gives the same product.
    assert_eq!(c.get("/t/other/products/123").unwrap().json()["name"], p["name"]);

    assert_eq!(c.get("/t/acme/products/abc").unwrap().status, 400);
    assert_eq!(c.get("/t/acme/products/-1").unwrap().status, 400);

    let s = c.get("/t/acme/search?q=lamp").unwrap();
    assert_eq!(s.status, 200);
    let results = s.json()["results"].as_array().unwrap().len();
    assert!((1..=5).contains(&results));
    assert_eq!(c.get("/t/acme/search?q=lamp").unwrap().body, s.body);
    assert_eq!(s.json()["q"], "lamp");
    assert_eq!(c.get("/t/acme/search").unwrap().status, 400);

    let o = c.send("POST", "/t/acme/orders", &[], br#"{"sku":1}"#).unwrap();
    assert_eq!(o.status, 201);
    assert_eq!(o.json()["order_id"], 1);
    let o = c.send("POST", "/t/acme/orders", &[], br#"{"sku":2}"#).unwrap();
    assert_eq!(o.json()["order_id"], 2);
    assert_eq!(c.send("POST", "/t/acme/orders", &[], b"").unwrap().status, 400);

    let h = c.get("/health").unwrap();
    assert_eq!((h.status, h.text()), (200, "ok"));
    let root = c.get("/").unwrap();
    assert_eq!((root.status, root.text()), (200, "hello\n"));

    assert_eq!(c.get("/nope").unwrap().status, 404);
    assert_eq!(c.get("/t/acme/products/1/extra").unwrap().status, 404);
    let wrong = c.get("/t/acme/orders").unwrap();
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("POST"));

    let stats: StatsSnapshot = serde_json::from_slice(&c.get("/_stats").unwrap().body).unwrap();
    assert_eq!(
        stats,
        target.stats(),
        "/_stats is the snapshot and is not counted itself"
    );
    assert_eq!(stats.connections, 1, "every request above reused one connection");
    assert_eq!(stats.total, 15);
    assert_eq!(stats.routes["products"], 4);
    assert_eq!(stats.routes["search"], 3);
    assert_eq!(stats.routes["orders"], 3);
    assert_eq!(stats.routes["health"], 1);
    assert_eq!(stats.routes["root"], 1);
    assert_eq!(stats.routes["other"], 3);
    assert_eq!(stats.methods["POST"], 3);
    assert_eq!(stats.statuses["2xx"], 8);
    assert_eq!(stats.statuses["4xx"], 7);
}

#[test]
fn tenants_are_counted_by_header_then_query_then_path() {
    let target = start(config());
    let mut c = Http1::connect(target.addr());
    c.send("GET", "/t/pathy/products/1", &[("X-Tenant-ID", "hdr")], b"")
        .unwrap();
    c.send("GET", "/?tenant=qry", &[("x-tenant-id", "hdr")], b"").unwrap();
    c.get("/t/pathy/search?q=x&tenant=qry").unwrap();
    c.get("/?tenant=qry").unwrap();
    c.get("/t/pathy/products/2").unwrap();
    c.get("/t/a%20b/products/3").unwrap();
    c.get("/health").unwrap();

    let stats = target.stats();
    let tenants: Vec<(&str, u64)> = stats.tenants.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(tenants, [("a b", 1), ("hdr", 2), ("pathy", 1), ("qry", 2)]);
    assert_eq!(stats.total, 7);

    target.reset_stats();
    let stats = target.stats();
    assert_eq!((stats.total, stats.connections), (0, 0));
    assert!(stats.tenants.is_empty());
}

#[tokio::test]
async fn http2_with_prior_knowledge_serves_concurrent_streams() {
    let target = start(config());
    let stream = tokio::net::TcpStream::connect(target.addr()).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .expect("h2c handshake");
    tokio::spawn(conn);

    let mut requests = Vec::new();
    for id in 0..20u64 {
        let mut sender = sender.clone();
        let uri = format!("http://{}/t/h2/products/{id}", target.addr());
        requests.push(tokio::spawn(async move {
            let req = http::Request::get(uri).body(Empty::<Bytes>::new()).unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(res.version(), http::Version::HTTP_2);
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            let json: Value = serde_json::from_slice(&body).unwrap();
            (status, json["id"].as_u64())
        }));
    }
    for (i, r) in requests.into_iter().enumerate() {
        assert_eq!(r.await.unwrap(), (http::StatusCode::OK, Some(i as u64)));
    }
    let stats = target.stats();
    assert_eq!((stats.connections, stats.routes["products"]), (1, 20));
    assert_eq!(stats.tenants["h2"], 20);
}

/// A TLS client that trusts only the target's own certificate.
async fn tls_connect(target: &RunningTarget, alpn: &[&[u8]]) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    let pem = target.ca_pem().expect("a certificate when TLS is on");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate"))
        .expect("a usable trust anchor");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(target.addr()).await.expect("connect");
    tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(ServerName::try_from("localhost").expect("a DNS name"), tcp)
        .await
        .expect("the TLS handshake succeeds against the self-signed certificate")
}

#[tokio::test]
async fn https_negotiates_h2_by_alpn_and_falls_back_to_http1() {
    let target = start(TargetConfig {
        tls: Some(TlsMode::SelfSigned),
        ..config()
    });
    assert!(target.base_url().starts_with("https://127.0.0.1:"));
    assert!(target.ca_pem().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));

    let tls = tls_connect(&target, &[b"h2", b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(format!("{}/health", target.base_url()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(
        (res.status(), res.version()),
        (http::StatusCode::OK, http::Version::HTTP_2)
    );
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "ok");

    let tls = tls_connect(&target, &[b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("/")
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(
        (res.status(), res.version()),
        (http::StatusCode::OK, http::Version::HTTP_11)
    );
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "hello\n");
}

#[test]
fn latency_and_jitter_are_added_to_every_response() {
    let target = start(TargetConfig {
        latency: MS(60),
        latency_jitter: MS(30),
        ..config()
    });
    let mut c = Http1::connect(target.addr());
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(c.get("/").unwrap().status, 200);
        let took = t.elapsed();
        assert!(took >= MS(60), "{took:?}");
        assert!(took < MS(60 + 30 + 250), "{took:?}");
    }
}

#[test]
fn error_rate_of_100_percent_answers_500_and_0_percent_never() {
    let target = start(TargetConfig {
        error_rate: 1.0,
        ..config()
    });
    let mut c = Http1::connect(target.addr());
    for _ in 0..10 {
        let r = c.get("/t/acme/products/1").unwrap();
        assert_eq!(r.status, 500);
        assert_eq!(r.json(), serde_json::json!({"error": "injected"}));
    }
    assert_eq!(target.stats().statuses["5xx"], 10);
    // /_stats stays readable on an unhealthy server.
    assert_eq!(c.get("/_stats").unwrap().status, 200);

    target
        .set_faults(Faults {
            error_rate: 0.0,
            ..target.faults()
        })
        .unwrap();
    for _ in 0..50 {
        assert_eq!(c.get("/t/acme/products/1").unwrap().status, 200);
    }
    assert_eq!(target.stats().statuses["5xx"], 10);
}

/// Invariant: the same seed and the same traffic give the same faults.
#[test]
fn random_faults_are_deterministic_per_seed() {
    let statuses = |seed| {
        let target = start(TargetConfig {
            error_rate: 0.5,
            seed,
            ..config()
        });
        let mut c = Http1::connect(target.addr());
        (0..100).map(|_| c.get("/").unwrap().status).collect::<Vec<_>>()
    };
    let a = statuses(7);
    assert_eq!(a, statuses(7));
    assert_ne!(a, statuses(8));
    let errors = a.iter().filter(|s| **s == 500).count();
    assert!((25..=75).contains(&errors), "{errors} errors of 100 at 50%");
}

#[test]
fn reset_rate_of_100_percent_resets_the_tcp_connection() {
    let target = start(TargetConfig {
        reset_rate: 1.0,
        ..config()
    });
    for _ in 0..3 {
        let mut c = Http1::connect(target.addr());
        let err = c.get("/").expect_err("no HTTP response on a reset connection");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    }
    let stats = target.stats();
    assert_eq!((stats.resets, stats.total), (3, 3));
    assert_eq!(stats.statuses.values().sum::<u64>(), 0);

    // Healthy again, and healthy connections close normally (no RST).
    target.set_faults(Faults::default()).unwrap();
    assert_eq!(get(&target, "/").status, 200);
}

#[tokio::test]
async fn a_reset_under_http2_drops_the_whole_connection() {
    let target = start(TargetConfig {
        reset_rate: 1.0,
        ..config()
    });
    let stream = tokio::net::TcpStream::connect(target.addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let req = http::Request::get(format!("{}/", target.base_url()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert!(sender.send_request(req).await.is_err());
    let ended = tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the connection ends");
    assert!(
        ended.unwrap().is_err(),
        "the connection ends in an error, not a clean close"
    );
}

#[test]
fn stall_now_holds_responses_including_those_in_preparation() {
    let target = start(config());
    let mut c = Http1::connect(target.addr());
    let t = Instant::now();
    c.get("/").unwrap();
    assert!(t.elapsed() < MS(150), "unstalled responses are immediate");

    target.stall_now(MS(300));
    let t = Instant::now();
    assert_eq!(c.get("/").unwrap().status, 200);
    let took = t.elapsed();
    assert!(took >= MS(280) && took < MS(800), "{took:?}");

    // A response already being prepared (sleeping its latency) when the
    // stall starts is held until the stall ends too.
    target
        .set_faults(Faults {
            latency: MS(100),
            ..Faults::default()
        })
        .unwrap();
    let addr = target.addr();
    let t = Instant::now();
    let inflight = std::thread::spawn(move || Http1::connect(addr).get("/").unwrap().status);
    std::thread::sleep(MS(30));
    target.stall_now(MS(300));
    assert_eq!(inflight.join().unwrap(), 200);
    let took = t.elapsed();
    assert!(took >= MS(320), "{took:?}");
}

#[test]
fn periodic_stalls_start_one_period_after_start() {
    let t0 = Instant::now();
    let target = start(TargetConfig {
        stall_every: Some(MS(400)),
        stall_for: MS(200),
        ..config()
    });
    let mut c = Http1::connect(target.addr());
    let t = Instant::now();
    c.get("/").unwrap();
    assert!(t.elapsed() < MS(150), "no stall before the first period");

    std::thread::sleep((t0 + MS(450)).saturating_duration_since(Instant::now()));
    let t = Instant::now();
    c.get("/").unwrap();
    let took = t.elapsed();
    assert!(took >= MS(100) && took < MS(400), "{took:?}");
}

#[test]
fn bad_settings_are_refused_with_a_reason() {
    let err = RunningTarget::start(TargetConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..config()
    })
    .unwrap_err();
    assert!(matches!(err, Error::NotLoopback { .. }), "{err}");
    assert!(err.to_string().contains("loopback"));

    let bad = |c: TargetConfig| RunningTarget::start(c).is_err();
    assert!(bad(TargetConfig {
        error_rate: 1.5,
        ..config()
    }));
    assert!(bad(TargetConfig {
        error_rate: 0.6,
        reset_rate: 0.6,
        ..config()
    }));
    assert!(bad(TargetConfig {
        stall_every: Some(MS(100)),
        stall_for: MS(100),
        ..config()
    }));
    assert!(bad(TargetConfig { threads: 0, ..config() }));

    let target = start(config());
    assert!(target
        .set_faults(Faults {
            reset_rate: -0.1,
            ..Faults::default()
        })
        .is_err());
}

#[test]
fn shutdown_stops_listening() {
    let target = start(config());
    let addr = target.addr();
    let mut c = Http1::connect(addr);
    assert_eq!(c.get("/").unwrap().status, 200);
    target.shutdown();
    let err = TcpStream::connect(addr).expect_err("nothing listens after shutdown");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(c.get("/").is_err(), "open connections are closed too");
}

#[test]
fn shutdown_from_inside_an_async_context_does_not_panic() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let target = start(config());
        assert_eq!(get(&target, "/health").status, 200);
        drop(target);
    });
}

mod cli {
    use super::*;
    use loadline::cli::{execute, Cli, Exit};
    use loadline::printer::Printer;

    #[test]
    fn runs_for_a_duration_and_exits_0() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let ca_arg = ca.to_str().unwrap();
        let cli = Cli::try_parse_from([
            "loadline",
            "target",
            "--port",
            "0",
            "--duration",
            "200ms",
            "--latency",
            "2ms",
            "--error-rate",
            "1%",
            "--reset-rate",
            "0.5%",
            "--stall-every",
            "10s",
            "--stall-for",
            "500ms",
            "--threads",
            "1",
            "--tls",
            "--write-ca",
            ca_arg,
        ])
        .unwrap();
        let t = Instant::now();
        assert_eq!(execute(cli, Printer::silent()).unwrap(), Exit::Success);
        assert!(t.elapsed() >= MS(200));
        assert!(std::fs::read_to_string(&ca)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["--latency", "fast"][..],
            &["--error-rate", "5"],
            &["--error-rate", "120%"],
            &["--threads", "0"],
            &["--stall-for", "1s"],
            &["--write-ca", "ca.pem"],
        ] {
            let argv = ["loadline", "target"].iter().chain(args);
            let err = Cli::try_parse_from(argv).expect_err(&format!("{args:?} is refused"));
            assert!(err.use_stderr(), "{args:?}: {err}");
        }
    }

    #[test]
    fn non_loopback_bind_is_an_input_error() {
        let cli = Cli::try_parse_from(["loadline", "target", "--bind", "0.0.0.0", "--port", "0"]).unwrap();
        let err = execute(cli, Printer::silent()).unwrap_err();
        assert_eq!(err.code, 2);
        assert!(err.error.to_string().contains("loopback"), "{}", err.error);
    }
}
