//! The client's fault matrix (issue 17): one test per thing a flaky server
//! or network does, each a short run against the sample target (its wire
//! faults) or a port nothing listens on. Each asserts the counted error
//! kind (exactly where the fault is deterministic), that the run finished
//! within a hard limit (no hang) and that it wrote a summary that matches
//! the schema.

use std::sync::mpsc;
use std::time::Duration;

use loadline::results::{ErrorKind, Outcome, Summary};
use loadline::sample::{ResetAt, TargetConfig, TlsMode, WireFaults};

use crate::support::*;

/// No run here may take longer than this (each is planned for ~1 s).
const HARD_LIMIT: Duration = Duration::from_secs(30);

/// One endpoint at 20/s for 1 s on 2 connections with a 400 ms timeout;
/// `target_extra` goes into the `target:` map, `endpoint_extra` into the endpoint's.
fn matrix_profile(target_extra: &str, endpoint_extra: &str) -> String {
    format!(
        "name: faults
target: {{base_url: \"{{BASE}}\", connections: 2, timeout: 400ms{target_extra}}}
seed: 1
duration: 1s
load: {{model: open, rate: 20/s, arrivals: uniform}}
endpoints:
  - {{name: root, weight: 1, path: /{endpoint_extra}}}
"
    )
}

/// Run `text` against `base` in a thread; fail if it does not finish within
/// [`HARD_LIMIT`]. Checks the summary file against the schema.
fn run_bounded(text: &str, base: &str) -> Summary {
    let scratch = Scratch::new();
    let p = profile(&scratch, text, base);
    let (tx, rx) = mpsc::channel();
    let dir = scratch.path("out");
    std::thread::spawn(move || {
        let report = run(&scratch, p, 1);
        let _ = tx.send((report, scratch));
    });
    let (report, _scratch) = rx
        .recv_timeout(HARD_LIMIT)
        .unwrap_or_else(|_| panic!("the run did not finish within {HARD_LIMIT:?}: a hang"));
    assert_eq!(report.dir, dir);
    let text = std::fs::read_to_string(report.dir.join("summary.json")).expect("summary.json written");
    let json: serde_json::Value = serde_json::from_str(&text).expect("summary is JSON");
    let errors = schema_errors("summary.schema.json", &json);
    assert!(errors.is_empty(), "{errors:?}");
    report.summary
}

fn kind(s: &Summary, k: ErrorKind) -> u64 {
    s.errors_by_kind.get(k.name()).copied().unwrap_or(0)
}

fn outcome(s: &Summary, o: Outcome) -> u64 {
    s.outcomes.get(o.name()).copied().unwrap_or(0)
}

/// Every request failed with kind `k`, and nothing else was counted.
#[track_caller]
fn all_of_kind(s: &Summary, k: ErrorKind) {
    // A timeout holds its connection: two connections at a 400 ms timeout
    // send about 5 per second, the rest is never sent (and counted so).
    assert!(s.totals.requests >= 4, "{:?}", s.totals);
    assert_eq!(kind(s, k), s.totals.requests, "{k}: {:?}", s.errors_by_kind);
    assert_eq!(s.errors_by_kind.len(), 1, "{:?}", s.errors_by_kind);
    assert_eq!(outcome(s, k.outcome()), s.totals.requests, "{:?}", s.outcomes);
}

/// Every request answered 2xx, nothing counted as an error.
#[track_caller]
fn all_ok(s: &Summary) {
    assert!(s.totals.requests >= 15, "{:?}", s.totals);
    assert_eq!(
        outcome(s, Outcome::S2xx),
        s.totals.requests,
        "{:?} {:?}",
        s.outcomes,
        s.errors_by_kind
    );
    assert!(s.errors_by_kind.is_empty(), "{:?}", s.errors_by_kind);
}

fn wire_target(wire: WireFaults, reset_rate: f64) -> loadline::sample::RunningTarget {
    target(TargetConfig {
        wire,
        reset_rate,
        ..TargetConfig::default()
    })
}

#[test]
fn connection_refused_on_a_port_nobody_listens_on() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let s = run_bounded(&matrix_profile("", ""), &format!("http://127.0.0.1:{port}"));
    all_of_kind(&s, ErrorKind::Refused);
}

#[test]
fn reset_before_the_response() {
    let t = target(TargetConfig {
        reset_rate: 1.0,
        ..TargetConfig::default()
    });
    all_of_kind(
        &run_bounded(&matrix_profile("", ""), &t.base_url()),
        ErrorKind::ResetBeforeResponse,
    );
}

#[test]
fn reset_in_the_head_and_in_the_body() {
    for (at, k) in [
        (ResetAt::Head, ErrorKind::ResetInHead),
        (ResetAt::Body, ErrorKind::ResetInBody),
    ] {
        let t = wire_target(
            WireFaults {
                reset_at: at,
                ..WireFaults::default()
            },
            1.0,
        );
        all_of_kind(&run_bounded(&matrix_profile("", ""), &t.base_url()), k);
    }
}

/// A reset right after a complete response is met by the next request on
/// that connection: before any byte of its response, on a reused
/// connection, so a GET is sent again on a fresh one and counted as
/// retried, not failed; a POST is not retried and counts as a reset.
#[test]
fn reset_after_the_response_is_retried_for_a_get_only() {
    let t = wire_target(
        WireFaults {
            reset_at: ResetAt::After,
            ..WireFaults::default()
        },
        1.0,
    );
    let s = run_bounded(&matrix_profile("", ""), &t.base_url());
    all_ok(&s);
    assert!(
        s.retried_stale >= s.totals.requests - 4,
        "{} of {}",
        s.retried_stale,
        s.totals.requests
    );
    let s = run_bounded(&matrix_profile("", ", method: POST, body: 'x'"), &t.base_url());
    assert_eq!(s.retried_stale, 0);
    let failed = kind(&s, ErrorKind::ResetBeforeResponse) + kind(&s, ErrorKind::EofBeforeResponse);
    assert!(failed > 0 && failed == s.totals.errors, "{:?}", s.errors_by_kind);
    assert_eq!(
        failed + outcome(&s, Outcome::S2xx),
        s.totals.requests,
        "{:?}",
        s.outcomes
    );
}

/// The server closes each keep-alive connection after 3 responses without
/// announcing it (an idle or request-count limit): GETs are retried once,
/// never reported as errors. Alone, the fault keeps hyper and the shop
/// routes (the connection closes as request 4 arrives); beside a framing
/// fault, the raw writer closes right after response 3. Both look the same
/// to the client.
#[test]
fn silent_close_after_n_requests_is_a_retry_not_an_error() {
    for (chunked, path) in [(false, "t/acme/products/7"), (true, "")] {
        let t = wire_target(
            WireFaults {
                close_after: Some(3),
                chunked,
                ..WireFaults::default()
            },
            0.0,
        );
        let s = run_bounded(&matrix_profile("", path), &t.base_url());
        all_ok(&s);
        // Per connection, every third request after the first finds it closed.
        let n = s.totals.requests;
        assert!(
            s.retried_stale >= n / 3 - 2 && s.retried_stale <= n / 3 + 1,
            "chunked {chunked}: {} of {n}",
            s.retried_stale
        );
        let st = t.stats();
        assert!(st.connections >= s.retried_stale, "{st:?}");
        if !chunked {
            // The shop answered, and what was closed on was not counted as served.
            assert_eq!(st.not_found, 0, "{st:?}");
            assert_eq!(st.total, n, "{st:?}");
        }
    }
}

/// A POST that meets the silent close is not sent again (it may have been
/// processed): it counts as `eof_before_response`, once per closed
/// connection, and every other POST is answered.
#[test]
fn silent_close_fails_a_post_it_catches() {
    let t = wire_target(
        WireFaults {
            close_after: Some(3),
            ..WireFaults::default()
        },
        0.0,
    );
    let s = run_bounded(
        &matrix_profile("", "t/acme/orders, method: POST, body: '{\"product\": 1}'"),
        &t.base_url(),
    );
    let n = s.totals.requests;
    // A FIN, or an RST if the close came before the server read the whole
    // body (TCP's rule for unread data): either way, before any response byte.
    let eof = kind(&s, ErrorKind::EofBeforeResponse) + kind(&s, ErrorKind::ResetBeforeResponse);
    assert_eq!(s.retried_stale, 0);
    assert!(
        eof >= n / 4 - 2 && eof <= n / 4 + 1,
        "{eof} of {n}: {:?}",
        s.errors_by_kind
    );
    assert_eq!(eof, s.totals.errors, "{:?}", s.errors_by_kind);
    assert_eq!(eof + outcome(&s, Outcome::S2xx), n, "{:?}", s.outcomes);
}

#[test]
fn connection_close_on_every_response() {
    let t = wire_target(
        WireFaults {
            close_every_response: true,
            ..WireFaults::default()
        },
        0.0,
    );
    let s = run_bounded(&matrix_profile("", ""), &t.base_url());
    all_ok(&s);
    assert_eq!(s.retried_stale, 0, "an announced close is no surprise");
    assert!(t.stats().connections >= s.totals.requests);
}

#[test]
fn a_server_that_accepts_and_never_answers() {
    let t = wire_target(
        WireFaults {
            hang_rate: 1.0,
            ..WireFaults::default()
        },
        0.0,
    );
    all_of_kind(
        &run_bounded(&matrix_profile("", ""), &t.base_url()),
        ErrorKind::TimeoutHead,
    );
}

/// One byte per 100 ms: a head of ~70 bytes never arrives within 400 ms; a
/// 6-byte body after a fast head does not either.
#[test]
fn slow_headers_and_slow_bodies() {
    let slow = |head, body| {
        wire_target(
            WireFaults {
                slow_head: head,
                slow_body: body,
                ..WireFaults::default()
            },
            0.0,
        )
    };
    let t = slow(true, false);
    all_of_kind(
        &run_bounded(&matrix_profile("", ""), &t.base_url()),
        ErrorKind::TimeoutHead,
    );
    let t = slow(false, true);
    all_of_kind(
        &run_bounded(&matrix_profile("", ""), &t.base_url()),
        ErrorKind::TimeoutBody,
    );
}

#[test]
fn a_body_without_length_ended_by_eof() {
    let t = wire_target(
        WireFaults {
            no_length_rate: 1.0,
            ..WireFaults::default()
        },
        0.0,
    );
    all_ok(&run_bounded(&matrix_profile("", ""), &t.base_url()));
}

#[test]
fn chunked_bodies_with_extensions_and_trailers_and_bad_sizes() {
    let t = wire_target(
        WireFaults {
            chunked: true,
            ..WireFaults::default()
        },
        0.0,
    );
    all_ok(&run_bounded(&matrix_profile("", ""), &t.base_url()));
    let t = wire_target(
        WireFaults {
            chunked: true,
            bad_chunk_rate: 0.5,
            ..WireFaults::default()
        },
        0.0,
    );
    let s = run_bounded(&matrix_profile("", ""), &t.base_url());
    let bad = kind(&s, ErrorKind::BadChunkSize);
    assert_eq!(
        bad + outcome(&s, Outcome::S2xx),
        s.totals.requests,
        "{:?}",
        s.errors_by_kind
    );
    let share = bad as f64 / s.totals.requests as f64;
    assert!((0.2..=0.8).contains(&share), "bad chunk share {share}");
}

#[test]
fn interim_1xx_responses_before_the_final_one() {
    let t = wire_target(
        WireFaults {
            interim_1xx: true,
            ..WireFaults::default()
        },
        0.0,
    );
    all_ok(&run_bounded(&matrix_profile("", ""), &t.base_url()));
}

/// A header past the client's 64 KiB head buffer is refused; one under it is read.
#[test]
fn huge_headers() {
    let huge = |bytes| {
        wire_target(
            WireFaults {
                huge_header: bytes,
                ..WireFaults::default()
            },
            0.0,
        )
    };
    let t = huge(100 * 1024);
    all_of_kind(
        &run_bounded(&matrix_profile("", ""), &t.base_url()),
        ErrorKind::HeadTooLarge,
    );
    let t = huge(32 * 1024);
    all_ok(&run_bounded(&matrix_profile("", ""), &t.base_url()));
}

#[test]
fn a_reply_that_is_not_http() {
    let t = wire_target(
        WireFaults {
            garbage_rate: 1.0,
            ..WireFaults::default()
        },
        0.0,
    );
    all_of_kind(
        &run_bounded(&matrix_profile("", ""), &t.base_url()),
        ErrorKind::NonHttpReply,
    );
}

/// A plain-HTTP server behind an `https://` URL fails the handshake; an
/// expired certificate and an untrusted one are told apart.
#[test]
fn tls_handshake_failure_and_expired_and_untrusted_certificates() {
    let plain = plain_target();
    let https = plain.base_url().replace("http://", "https://");
    all_of_kind(&run_bounded(&matrix_profile("", ""), &https), ErrorKind::TlsHandshake);

    let scratch = Scratch::new();
    let expired = target(TargetConfig {
        tls: Some(TlsMode::Expired),
        ..TargetConfig::default()
    });
    let ca = scratch.write("ca.pem", &expired.ca_pem().expect("ca"));
    let with_ca = format!(", tls: {{ca_file: \"{}\"}}", ca.display());
    all_of_kind(
        &run_bounded(&matrix_profile(&with_ca, ""), &expired.base_url()),
        ErrorKind::TlsCertExpired,
    );

    let fresh = target(TargetConfig {
        tls: Some(TlsMode::SelfSigned),
        ..TargetConfig::default()
    });
    all_of_kind(
        &run_bounded(&matrix_profile("", ""), &fresh.base_url()),
        ErrorKind::TlsCertUntrusted,
    );
}

/// HTTP/2 with 4 streams per connection against a server allowing 1: the
/// client waits for a free stream, nothing fails.
#[test]
fn http2_low_max_concurrent_streams() {
    let t = wire_target(
        WireFaults {
            h2_max_streams: Some(1),
            ..WireFaults::default()
        },
        0.0,
    );
    all_ok(&run_bounded(
        &matrix_profile(", http: http2, streams: 4", ""),
        &t.base_url(),
    ));
}

#[test]
fn http2_rst_stream() {
    let t = wire_target(
        WireFaults {
            h2_rst_rate: 1.0,
            ..WireFaults::default()
        },
        0.0,
    );
    all_of_kind(
        &run_bounded(&matrix_profile(", http: http2", ""), &t.base_url()),
        ErrorKind::H2RstStream,
    );
}

/// GOAWAY after every 4 requests: the client opens new connections. The
/// GOAWAY is graceful, so a request caught above its last stream id was
/// never processed and goes again on another connection (counted in
/// `retried_stale`): no request fails.
#[test]
fn http2_goaway() {
    let t = wire_target(
        WireFaults {
            h2_goaway_after: Some(4),
            ..WireFaults::default()
        },
        0.0,
    );
    let s = run_bounded(&matrix_profile(", http: http2", ""), &t.base_url());
    all_ok(&s);
    assert!(
        t.stats().connections >= s.totals.requests / 4,
        "{:?}",
        t.stats().connections
    );
}

/// The `h1_response` fuzz target's inputs as a test: its seed corpus (the
/// matrix's raw replies) and every crasher kept in
/// `fuzz/regressions/h1_response/`, through the same entry point with the
/// same read-size rule, never panic or hang and give a status or a kind
/// for each exchange.
#[test]
fn h1_response_fuzz_inputs_and_regressions() {
    use loadline::load::client::fuzzing;
    let mut seen = 0;
    for dir in ["corpus/h1_response", "regressions/h1_response"] {
        let Ok(entries) = std::fs::read_dir(root().join("fuzz").join(dir)) else {
            continue;
        };
        for path in entries.map(|e| e.expect("entry").path()) {
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let data = std::fs::read(&path).expect("read");
            let Some((&first, reply)) = data.split_first() else {
                continue;
            };
            let chunk = match first >> 1 {
                0 => usize::MAX,
                n => usize::from(n & 63) + 1,
            };
            let got = fuzzing::h1_responses(reply, chunk, first & 1 == 1)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!got.is_empty() && got.len() <= 8, "{}: {got:?}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 12, "the seed corpus is missing ({seen} inputs)");
}
