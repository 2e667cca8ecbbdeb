//! The built-in target's access log, read back with `learn`'s own parsers:
//! each format logs method, path, status, the tenant header and an arrival
//! time inside the window the requests were sent in.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use loadline::learn::log::{Format, LineParser, Source};
use loadline::learn::TimeSource;
use loadline::sample::{AccessLogConfig, AccessLogFormat, RunningTarget, TargetConfig, NGINX_LOG_FORMAT};

/// One request on its own connection (`Connection: close`); the status.
fn send(addr: SocketAddr, method: &str, path: &str, tenant: Option<&str>, body: &str) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let tenant = tenant.map_or(String::new(), |t| format!("X-Tenant-ID: {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: it \"test\"\r\n{tenant}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("response");
    out[9..12].parse().expect("a status")
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

fn check(format: AccessLogFormat, learn_format: Format, tenant: Option<&str>, want_source: TimeSource) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("access.log");
    let target = RunningTarget::start(TargetConfig {
        threads: 1,
        access_log: Some(AccessLogConfig {
            path: path.clone(),
            format,
        }),
        latency: Duration::from_millis(20),
        ..TargetConfig::default()
    })
    .expect("the target starts");
    let before = now();
    let addr = target.addr();
    let sent = [
        ("GET", "/t/acme/products/7", Some("acme"), "", 200),
        ("POST", "/t/globex/orders", Some("globex"), "{}", 201),
        ("GET", "/t/acme/search?q=a%20b", None, "", 200),
        ("GET", "/_stats", None, "", 200),
        ("DELETE", "/nope", Some("acme"), "", 404),
    ];
    for (method, path, tenant, body, status) in sent {
        assert_eq!(send(addr, method, path, tenant, body), status);
    }
    let after = now();
    target.shutdown();

    let parser: Box<dyn LineParser> = learn_format.parser(tenant).expect("a parser");
    let mut records = Vec::new();
    for mut chunk in Source::open(&path).expect("open").chunks(1).expect("chunks") {
        chunk
            .for_each_line(|n, line| {
                let r = parser
                    .parse(line.expect("a readable line"))
                    .unwrap_or_else(|e| panic!("line {n}: {e}"));
                records.push((
                    r.method.to_owned(),
                    r.target.to_owned(),
                    r.status,
                    r.tenant_header.map(str::to_owned),
                    r.arrival,
                    r.time_source,
                ));
            })
            .expect("read");
    }
    let logged: Vec<_> = sent.iter().filter(|s| s.1 != "/_stats").collect();
    assert_eq!(records.len(), logged.len(), "{format:?}: /_stats is not logged");
    for (r, (method, path, t, _, status)) in records.iter().zip(logged) {
        assert_eq!(
            (r.0.as_str(), r.1.as_str(), r.2),
            (*method, *path, Some(*status)),
            "{format:?}"
        );
        if tenant.is_some() {
            assert_eq!(r.3.as_deref(), *t, "{format:?}");
        }
        assert_eq!(r.5, want_source, "{format:?}");
        // The log's time resolution: 1 s for combined, 1 ms otherwise.
        let slack = if want_source == TimeSource::LogTime { 1.0 } else { 0.002 };
        assert!(
            r.4 >= before - slack && r.4 <= after + slack,
            "{format:?}: arrival {} outside [{before}, {after}]",
            r.4
        );
    }
}

#[test]
fn combined_access_log_reads_back() {
    check(
        AccessLogFormat::Combined,
        Format::NginxCombined,
        None,
        TimeSource::LogTime,
    );
}

#[test]
fn nginx_access_log_reads_back_with_the_documented_log_format() {
    check(
        AccessLogFormat::Nginx,
        Format::NginxCustom(NGINX_LOG_FORMAT.into()),
        Some("X-Tenant-ID"),
        TimeSource::Arrival,
    );
}

#[test]
fn envoy_json_access_log_reads_back() {
    check(
        AccessLogFormat::EnvoyJson,
        Format::EnvoyJson,
        Some("X-Tenant-ID"),
        TimeSource::Arrival,
    );
}

/// `loadline target --access-log` writes the log and flushes it on exit.
#[test]
fn cli_writes_the_access_log_on_exit() {
    use clap::Parser;
    use loadline::cli::{execute, Cli, Exit};
    use loadline::printer::Printer;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let cli = Cli::try_parse_from([
        "loadline",
        "target",
        "--port",
        "0",
        "--duration",
        "100ms",
        "--access-log",
        path.to_str().unwrap(),
        "--access-log-format",
        "envoy-json",
    ])
    .unwrap();
    assert_eq!(execute(cli, Printer::silent()).unwrap(), Exit::Success);
    assert!(path.exists());
    assert!(Cli::try_parse_from([
        "loadline",
        "target",
        "--access-log",
        "x",
        "--access-log-format",
        "apache"
    ])
    .is_err());
}
