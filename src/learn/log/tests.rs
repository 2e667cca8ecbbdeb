//! Every format against the hand-written fixtures in `fixtures/logs/`
//! (lines from each format's documentation plus nasty ones), the reader
//! (gzip, `\r\n`, long lines, chunks) and detection.

use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::learn::TimeSource;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/logs")
        .join(name)
}

/// Method, target and status, or why not.
type Parsed = Result<(String, String, Option<u16>), Reject>;

/// A line and its number, or why it cannot be read.
type Numbered = (u64, Result<String, Reject>);

/// Every line of `path` through `parser`: (line number, record or reason).
fn parse_all(path: &std::path::Path, parser: &dyn LineParser) -> Vec<(u64, Parsed)> {
    let mut out = Vec::new();
    let chunks = Source::open(path).unwrap().chunks(1).unwrap();
    for mut chunk in chunks {
        chunk
            .for_each_line(|n, line| {
                let r = line
                    .and_then(|l| parser.parse(l))
                    .map(|r| (r.method.to_owned(), r.target.to_owned(), r.status));
                out.push((n, r));
            })
            .unwrap();
    }
    out
}

fn ok(m: &str, t: &str, s: u16) -> Parsed {
    Ok((m.into(), t.into(), Some(s)))
}

#[test]
fn nginx_combined_fixture_parses_and_rejects_by_reason() {
    let parser = Format::NginxCombined.parser(None).unwrap();
    let got = parse_all(&fixture("combined.log"), parser.as_ref());
    let want = vec![
        (1, ok("GET", "/apache_pb.gif", 200)),
        (2, ok("POST", "/t/acme/orders", 201)),
        (3, ok("GET", "/t/acme/search?q=a%20b", 200)),
        (4, Err(Reject::BadRequestLine)),
        (5, Err(Reject::BadRequestLine)),
        (6, ok("GET", "/health", 200)),
        (7, Err(Reject::BadStatus)),
        (8, Err(Reject::BadTime)),
        (9, ok("GET", "/t/acme/products/8", 304)),
        (10, ok("GET", "/crlf", 200)),
        (11, Err(Reject::NotUtf8)),
        (12, Err(Reject::MissingField)),
    ];
    assert_eq!(got, want);
    let first = parser.parse(r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#).unwrap();
    assert_eq!(first.arrival, 971_211_336.0);
    assert_eq!(first.time_source, TimeSource::LogTime);
    assert_eq!(first.response_bytes, Some(2326));
    assert_eq!(first.request_bytes, None);
}

#[test]
fn apache_formats_accept_backslash_escaped_quotes_and_dash_sizes() {
    let common = Format::ApacheCommon.parser(None).unwrap();
    let got = parse_all(&fixture("apache-common.log"), common.as_ref());
    assert_eq!(got[0].1, ok("GET", "/apache_pb.gif", 200));
    assert_eq!(got[1].1, ok("GET", "/icons/blank.gif", 304));
    assert_eq!(
        got[2].1,
        Err(Reject::BadRequestLine),
        "a target with spaces is not a target"
    );
    assert_eq!(got[3].1, ok("OPTIONS", "*", 200));
    let combined = Format::ApacheCombined.parser(None).unwrap();
    let got = parse_all(&fixture("apache-combined.log"), combined.as_ref());
    assert!(got.iter().all(|(_, r)| r.is_ok()), "{got:?}");
}

#[test]
fn alb_reads_documented_lines_and_any_trailing_fields() {
    let parser = Format::Alb.parser(None).unwrap();
    let got = parse_all(&fixture("alb.log"), parser.as_ref());
    assert_eq!(got[0].1, ok("GET", "/", 200));
    assert_eq!(got[1].1, ok("GET", "/", 200));
    assert_eq!(
        got[2].1,
        ok("GET", "/t/acme/products/9?x=1", 200),
        "extra trailing fields"
    );
    assert_eq!(got[3].1, ok("POST", "/t/acme/orders", 460));
    assert_eq!(got[4].1, ok("GET", "/old", 200), "cut short after the request");
    assert_eq!(got[5].1, Err(Reject::BadRequestLine));

    let lines = std::fs::read_to_string(fixture("alb.log")).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    let r = parser.parse(lines[1]).unwrap();
    assert_eq!(r.time_source, TimeSource::Arrival);
    assert!((r.arrival - 1_530_570_168.364).abs() < 1e-6);
    assert_eq!((r.request_bytes, r.response_bytes), (Some(0), Some(57)));
    let old = parser.parse(lines[4]).unwrap();
    assert_eq!(old.time_source, TimeSource::EndMinusDuration);
    assert!((old.arrival - (1_530_570_180.186_641 - 0.060)).abs() < 1e-6);
}

#[test]
fn envoy_text_reads_the_default_format() {
    let parser = Format::Envoy.parser(None).unwrap();
    let got = parse_all(&fixture("envoy.log"), parser.as_ref());
    assert_eq!(got[0].1, ok("POST", "/api/v1/locations", 204));
    assert_eq!(got[1].1, ok("GET", "/t/acme/products/1?x=1", 200));
    assert_eq!(got[2].1, Err(Reject::BadRequestLine), "TCP proxy line");
    assert_eq!(got[3].1, ok("GET", "/t/acme/search?q=x", 503));
    assert_eq!(got[4].1, Err(Reject::BadTime));
    let line = std::fs::read_to_string(fixture("envoy.log")).unwrap();
    let r = parser.parse(line.lines().next().unwrap()).unwrap();
    assert_eq!(r.time_source, TimeSource::Arrival);
    assert!((r.arrival - 1_460_751_420.310).abs() < 1e-6);
    assert_eq!((r.request_bytes, r.response_bytes), (Some(154), Some(0)));
}

#[test]
fn envoy_json_reads_numbers_or_strings_and_the_tenant_key() {
    let parser = Format::EnvoyJson.parser(Some("X-Tenant-ID")).unwrap();
    let text = std::fs::read_to_string(fixture("envoy.json.log")).unwrap();
    let got: Vec<_> = text.lines().map(|l| parser.parse(l)).collect();
    let a = got[0].unwrap();
    assert_eq!(
        (a.method, a.target, a.status, a.tenant_header),
        ("GET", "/t/acme/products/1", Some(200), Some("acme"))
    );
    assert!((a.arrival - 1_704_110_400.123).abs() < 1e-6);
    let b = got[1].unwrap();
    assert_eq!(
        (b.method, b.target, b.status, b.tenant_header),
        ("POST", "/t/globex/orders", Some(201), Some("globex"))
    );
    assert_eq!((b.request_bytes, b.response_bytes), (Some(17), Some(12)));
    assert_eq!(got[2].unwrap_err(), Reject::JsonEscape);
    assert_eq!(got[3].unwrap_err(), Reject::BadRequestLine);
    assert_eq!(got[4].unwrap_err(), Reject::BadNumber);
    assert_eq!(got[5].unwrap_err(), Reject::NotJson);
    assert_eq!(got[6].unwrap_err(), Reject::NotJson);
}

/// The built-in target's `nginx` access-log format, as docs/target.md gives it.
const TARGET_NGINX: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $msec "$http_x_tenant_id""#;

#[test]
fn nginx_custom_format_uses_msec_minus_request_time_and_the_tenant_variable() {
    let parser = Format::NginxCustom(TARGET_NGINX.into())
        .parser(Some("X-Tenant-ID"))
        .unwrap();
    let line = r#"10.1.2.3 - - [10/Oct/2000:13:55:36 -0700] "GET /t/acme/products/1 HTTP/1.1" 200 61 "-" "curl/8 (x; y)" 0.250 971211336.500 "acme""#;
    let r = parser.parse(line).unwrap();
    assert_eq!(r.time_source, TimeSource::Arrival);
    assert!((r.arrival - 971_211_336.25).abs() < 1e-6);
    assert_eq!(r.tenant_header, Some("acme"));
    let no_tenant = line.replace("\"acme\"", "\"-\"");
    assert_eq!(parser.parse(&no_tenant).unwrap().tenant_header, None);

    let end_minus = Format::NginxCustom(r#"[$time_local] "$request" $status $request_time"#.into())
        .parser(None)
        .unwrap();
    let r = end_minus
        .parse(r#"[10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1.500"#)
        .unwrap();
    assert_eq!(r.time_source, TimeSource::EndMinusDuration);
    assert_eq!(r.arrival, 971_211_334.5);
}

#[test]
fn nginx_custom_format_variants() {
    // Brace syntax, an unquoted fixed-width time followed by a space,
    // unknown variables, back-to-back variables.
    let f = "${time_local} $host $request_method $uri$is_args$args $status ${upstream_response_time} $bytes_sent $request_length";
    let p = Format::NginxCustom(f.into()).parser(None).unwrap();
    let r = p
        .parse("10/Oct/2000:13:55:36 -0700 example.com GET /a/b?x=1 404 0.001, 0.002 900 120")
        .unwrap_err();
    // upstream_response_time with ", " holds the separator: it runs to the first space.
    assert_eq!(r, Reject::BadNumber);
    let r = p
        .parse("10/Oct/2000:13:55:36 -0700 example.com GET /a/b?x=1 404 0.001 900 120")
        .unwrap();
    assert_eq!((r.method, r.target, r.status), ("GET", "/a/b?x=1", Some(404)));
    assert_eq!((r.request_bytes, r.response_bytes), (Some(120), Some(900)));

    // escape=json: quotes inside values are \" and must not end the field.
    let json = r#"{"time":"$time_iso8601","req":"$request","status":$status,"rt":$request_time,"t":"$http_x_tenant_id","ua":"$http_user_agent"}"#;
    let p = Format::NginxCustom(json.into()).parser(Some("x-tenant-id")).unwrap();
    let r = p
        .parse(r#"{"time":"2024-01-01T12:00:00+00:00","req":"GET /q?a=\"b\" HTTP/1.1","status":200,"rt":0.5,"t":"acme","ua":"say \"hi\""}"#)
        .unwrap();
    assert_eq!(
        (r.target, r.tenant_header, r.time_source),
        (r#"/q?a=\"b\""#, Some("acme"), TimeSource::EndMinusDuration)
    );
    assert_eq!(r.arrival, 1_704_110_399.5);
}

#[test]
fn formats_that_cannot_log_the_tenant_header_say_so() {
    for format in [
        Format::NginxCombined,
        Format::ApacheCommon,
        Format::ApacheCombined,
        Format::Alb,
        Format::Envoy,
    ] {
        let err = format.parser(Some("X-Tenant-ID")).err().unwrap().to_string();
        assert!(
            err.contains("does not log request headers") && err.contains("$http_x_tenant_id"),
            "{err}"
        );
    }
    let err = Format::NginxCustom(nginx::COMBINED.into())
        .parser(Some("X-Tenant-ID"))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "the log format does not log header `X-Tenant-ID`: add `\"$http_x_tenant_id\"` to the nginx log_format (and to --log-format)"
    );
    let err = Format::NginxCustom("$status $msec".into()).parser(None).err().unwrap();
    assert!(err.to_string().contains("has no request"), "{err}");
    let err = Format::NginxCustom("$request ${status".into())
        .parser(None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("character 17"), "{err}");
    assert!("nginxx".parse::<Format>().is_err());
    assert_eq!("common".parse::<Format>().unwrap(), Format::ApacheCommon);
    assert_eq!("nginx".parse::<Format>().unwrap(), Format::NginxCombined);
}

#[test]
fn auto_detects_each_fixture() {
    for (file, want) in [
        ("combined.log", Format::NginxCombined),
        ("apache-common.log", Format::ApacheCommon),
        ("alb.log", Format::Alb),
        ("envoy.log", Format::Envoy),
        ("envoy.json.log", Format::EnvoyJson),
    ] {
        let head = Source::open(fixture(file)).unwrap().head(DETECT_LINES).unwrap();
        let refs: Vec<&str> = head.iter().map(String::as_str).collect();
        let (format, parser) = detect(&refs, None).unwrap();
        assert_eq!(format, want, "{file}");
        assert_eq!(parser.name(), want.to_string());
    }
    let err = detect(&["hello", "world"], None).err().unwrap().to_string();
    assert!(err.starts_with("cannot detect the log format"), "{err}");
    assert!(!err.contains("hello"), "never the content: {err}");
}

fn lines_of(path: &std::path::Path, k: usize) -> (Vec<Numbered>, usize) {
    let outcomes = Source::open(path)
        .unwrap()
        .for_each_chunk(k, |chunk| {
            let mut v = Vec::new();
            chunk.for_each_line(|n, l| v.push((n, l.map(str::to_owned))))?;
            Ok(v)
        })
        .unwrap();
    let chunks = outcomes.len();
    let lines = outcomes
        .into_iter()
        .flat_map(|o| o.value.into_iter().map(move |(n, l)| (n + o.line_offset, l)))
        .collect();
    (lines, chunks)
}

#[test]
fn gzip_multi_member_crlf_and_long_lines() {
    use flate2::write::GzEncoder;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log.1");
    let mut file = std::fs::File::create(&path).unwrap();
    for part in [
        b"a\r\nb\n".to_vec(),
        [vec![b'x'; MAX_LINE + 10], b"\nc".to_vec()].concat(),
    ] {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&part).unwrap();
        file.write_all(&gz.finish().unwrap()).unwrap();
    }
    drop(file);
    let (lines, chunks) = lines_of(&path, 4);
    assert_eq!(chunks, 1);
    assert_eq!(
        lines,
        vec![
            (1, Ok("a".into())),
            (2, Ok("b".into())),
            (3, Err(Reject::LineTooLong)),
            (4, Ok("c".into()))
        ]
    );
}

#[test]
fn chunks_of_a_plain_file_number_lines_as_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 20 * 1024 * 1024 {
        n += 1;
        text.push_str(&format!("line {n} {}\n", "y".repeat(n % 97)));
        if n % 100_000 == 0 {
            text.push('\n'); // an empty line: numbered, not passed on
        }
    }
    std::fs::write(&path, &text).unwrap();
    let (one, _) = lines_of(&path, 1);
    let (four, chunks) = lines_of(&path, 4);
    assert_eq!(chunks, 4);
    assert_eq!(one, four);
    let expected: Vec<u64> = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(four.iter().map(|(n, _)| *n).collect::<Vec<_>>(), expected);
}

#[test]
fn reject_counts_keep_five_line_numbers_and_merge_with_offsets() {
    let mut a = RejectCounts::default();
    for line in 1..=7 {
        a.add(Reject::BadTime, line);
    }
    let mut b = RejectCounts::default();
    b.add(Reject::NotUtf8, 2);
    let mut all = RejectCounts::default();
    all.merge(&a, 0);
    all.merge(&b, 100);
    assert_eq!(all.total(), 8);
    assert_eq!(
        all.to_string(),
        "bad time: 7 (lines 1, 2, 3, 4, 5, ...); not UTF-8: 1 (line 102)"
    );
}

/// Parse speed per format: `cargo test --release --lib learn::log::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
#[allow(clippy::print_stdout)]
fn bench_parse_speed() {
    let lines: [(&str, Format, String); 3] = [
        (
            "combined",
            Format::NginxCombined,
            String::from_utf8_lossy(&std::fs::read(fixture("combined.log")).unwrap())
                .lines()
                .next()
                .unwrap()
                .to_owned(),
        ),
        (
            "alb",
            Format::Alb,
            std::fs::read_to_string(fixture("alb.log"))
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
                .to_owned(),
        ),
        (
            "envoy-json",
            Format::EnvoyJson,
            std::fs::read_to_string(fixture("envoy.json.log"))
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_owned(),
        ),
    ];
    for (name, format, line) in lines {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.log");
        let mut text = String::new();
        while text.len() < 200 * 1024 * 1024 {
            text.push_str(&line);
            text.push('\n');
        }
        std::fs::write(&path, &text).unwrap();
        let parser = format.parser(None).unwrap();
        let start = std::time::Instant::now();
        let mut ok = 0u64;
        for mut chunk in Source::open(&path).unwrap().chunks(1).unwrap() {
            chunk
                .for_each_line(|_, l| {
                    if l.and_then(|l| parser.parse(l)).is_ok() {
                        ok += 1;
                    }
                })
                .unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name}: {ok} lines, {:.0} MB/s on one core",
            text.len() as f64 / secs / 1e6
        );
    }
}
