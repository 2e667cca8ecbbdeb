//! `loadline learn`: round trips (a known profile replayed against a server
//! that writes an access log, the profile learned back from that log and
//! compared) and privacy (canary values planted in a log never reach the
//! learned profile or the output).

use std::path::{Path, PathBuf};
use std::process::Command;

use loadline::learn::curve::Resolution;
use loadline::learn::log::Format;
use loadline::learn::paths::Part;
use loadline::learn::render;
use loadline::learn::run::{read_logs, Input};
use loadline::learn::tenants::TenantSource;
use loadline::learn::{LearnOptions, Learned};
use loadline::profile::{self, Overrides};
use loadline::sample::{AccessLogConfig, AccessLogFormat, TargetConfig, NGINX_LOG_FORMAT};
use loadline::scrub::keyed::Secret;

use crate::support::{self, Scratch};

/// The compressed day: 48 s, two seconds per hour, a spike at 20 s.
const HOURLY: [f64; 24] = [
    0.25, 0.2, 0.18, 0.18, 0.2, 0.3, 0.5, 0.75, 0.9, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.65,
    0.5, 0.4, 0.3,
];
const PERIOD_S: f64 = 48.0;
const SPIKE_AT: f64 = 20.0;

fn known_profile(base: &str) -> String {
    let hourly: Vec<String> = HOURLY.iter().map(ToString::to_string).collect();
    format!(
        r#"name: known
target: {{base_url: "{base}", connections: 64, timeout: 5s}}
seed: 11
duration: 48s
load:
  model: open
  rate: 700/s
  shape:
    diurnal: {{period: 48s, hourly: [{}]}}
    spikes: [{{at: 20s, for: 3s, factor: 3}}]
tenants: {{count: 400, skew: {{zipf: 1.1}}, id: "t-{{index:04}}", send_as: {{header: X-Tenant-ID}}}}
endpoints:
  - {{name: get_product, weight: 60, path: "/t/{{{{tenant}}}}/products/{{{{product}}}}", vars: {{product: {{zipf: {{n: 2000, s: 0.9}}}}}}}}
  - {{name: search, weight: 25, path: "/t/{{{{tenant}}}}/search?q={{{{word}}}}", vars: {{word: {{fake: word}}}}}}
  - {{name: create_order, weight: 15, method: POST, path: "/t/{{{{tenant}}}}/orders", body: "{{}}"}}
"#,
        hourly.join(", ")
    )
}

fn learn(log: &Path, format: Format, tenant: TenantSource, resolution: Resolution) -> (Learned, String) {
    let opts = LearnOptions {
        resolution,
        tenant: Some(tenant.clone()),
        ..LearnOptions::default()
    };
    let input = Input {
        format,
        tenant_header: match tenant {
            TenantSource::Header(h) => Some(h),
            _ => None,
        },
        threads: 2,
        max_bad: 0.01,
    };
    let prf = Secret::new(b"round trip".to_vec()).prf("learn", "tenant");
    let (learner, reports) = read_logs(&[log.to_path_buf()], &input, &opts, &prf).expect("the log reads");
    assert!(reports[0].rejects.is_empty(), "rejected: {}", reports[0].rejects);
    let learned = learner.finish(&opts).expect("something to learn");
    let text = render::render(&learned, &opts, &["access.log".into()], "learned.tenants.csv").profile;
    (learned, text)
}

fn template(e: &loadline::learn::paths::Endpoint) -> String {
    let mut s = format!("{} ", e.method);
    for p in &e.parts {
        s.push('/');
        match p {
            Part::Literal(l) => s.push_str(l),
            Part::Tenant => s.push_str("{tenant}"),
            Part::Var(..) => s.push_str("{var}"),
        }
    }
    s
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb) * (y - mb)).sum();
    cov / (va * vb).sqrt()
}

/// The profile's hourly curve as the engine draws it (linear between the
/// middles of the hours) at time `t` seconds into the compressed day.
fn curve_at(t: f64) -> f64 {
    let h = (t / PERIOD_S * 24.0 - 0.5).rem_euclid(24.0);
    let i = h.floor() as usize;
    let f = h - h.floor();
    HOURLY[i] * (1.0 - f) + HOURLY[(i + 1) % 24] * f
}

/// Compare what was learned with the known profile: the issue's bars.
/// The measured values are printed (`--nocapture`) for BENCHMARKS.md.
fn compare(name: &str, learned: &Learned, text: &str, dir: &Path) {
    // The learned profile loads as `loadline run` loads it.
    profile::from_str(text, &dir.join("learned.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("the learned profile does not load: {e}\n{text}"));
    let total: u64 = learned.endpoints.iter().map(|e| e.leaf.count).sum();
    let share = |t: &str| {
        let n: u64 = learned
            .endpoints
            .iter()
            .filter(|e| template(e) == t)
            .map(|e| e.leaf.count)
            .sum();
        100.0 * n as f64 / total as f64
    };
    let templates: Vec<String> = learned.endpoints.iter().map(template).collect();
    for (t, want) in [
        ("GET /t/{tenant}/products/{var}", 60.0),
        ("GET /t/{tenant}/search", 25.0),
        ("POST /t/{tenant}/orders", 15.0),
    ] {
        let got = share(t);
        eprintln!("ROUNDTRIP {name} share {t}: {got:.2}% (profile {want}%, bar ±2)");
        assert!(
            (got - want).abs() <= 2.0,
            "{t}: {got:.2}% (want {want}%); templates {templates:?}"
        );
    }
    assert_eq!(learned.endpoints.len(), 3, "{templates:?}");
    let reads = 100.0 * learned.reads as f64 / (learned.reads + learned.writes) as f64;
    eprintln!("ROUNDTRIP {name} reads: {reads:.2}% (profile 85%, bar ±2)");
    assert!((reads - 85.0).abs() <= 2.0, "reads {reads:.2}%");
    let fit = learned.tenants.as_ref().and_then(|t| t.fit).expect("a tenant fit");
    eprintln!(
        "ROUNDTRIP {name} tenant zipf: {:.3} KS {:.3} (profile 1.1, bar ±0.1)",
        fit.s, fit.ks
    );
    assert!((fit.s - 1.1).abs() <= 0.1, "tenant Zipf {fit:?}");
    // The curve: learned per-second factors against the profile's curve.
    let shape = &learned.shape;
    let skip = 1; // the first and last seconds are partial
    let learned_curve: Vec<f64> = shape.factors[skip..shape.factors.len() - skip].to_vec();
    let expected: Vec<f64> = (skip..shape.factors.len() - skip)
        .map(|i| curve_at(i as f64 + 0.5))
        .collect();
    let r = pearson(&learned_curve, &expected);
    eprintln!(
        "ROUNDTRIP {name} curve correlation: {r:.3} over {} seconds (bar >= 0.95)",
        learned_curve.len()
    );
    assert!(r >= 0.95, "curve correlation {r:.3}: learned {learned_curve:?}");
    // The spike: found, where it was, about as strong.
    let spike = shape
        .spikes
        .iter()
        .find(|s| (s.at - SPIKE_AT).abs() <= 2.0)
        .unwrap_or_else(|| panic!("no spike near {SPIKE_AT} s: {:?}", shape.spikes));
    eprintln!(
        "ROUNDTRIP {name} spike: at {:.0} s for {:.0} s, factor {:.2} (profile 20 s for 3 s, factor 3)",
        spike.at, spike.len, spike.factor
    );
    assert!((spike.len - 3.0).abs() <= 2.0 && spike.factor > 2.0, "{spike:?}");
}

fn replay(scratch: &Scratch, base: &str) {
    let p = support::profile(scratch, &known_profile(base), base);
    let report = support::run(scratch, p, 2);
    assert!(report.summary.totals.requests > 20_000, "{:?}", report.summary.totals);
}

fn round_trip_through_target(name: &str, format: AccessLogFormat, learn_format: Format, tenant: TenantSource) {
    let scratch = Scratch::new();
    let log = scratch.path("access.log");
    let target = support::target(TargetConfig {
        access_log: Some(AccessLogConfig {
            path: log.clone(),
            format,
        }),
        ..TargetConfig::default()
    });
    replay(&scratch, &target.base_url());
    target.shutdown();
    let (learned, text) = learn(&log, learn_format, tenant, Resolution::Second);
    compare(name, &learned, &text, &scratch.path(""));
}

#[test]
fn round_trip_nginx_log_of_the_target() {
    round_trip_through_target(
        "target-nginx",
        AccessLogFormat::Nginx,
        Format::NginxCustom(NGINX_LOG_FORMAT.into()),
        TenantSource::Path(1),
    );
}

#[test]
fn round_trip_envoy_json_log_of_the_target() {
    round_trip_through_target(
        "target-envoy-json",
        AccessLogFormat::EnvoyJson,
        Format::EnvoyJson,
        TenantSource::Header("X-Tenant-ID".into()),
    );
}

/// nginx itself, where it is installed: it answers every request with 200
/// and logs in the documented format.
#[test]
fn round_trip_real_nginx() {
    let Some(nginx) = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    else {
        eprintln!("SKIPPED round_trip_real_nginx: nginx is not installed (apt-get install nginx-light)");
        return;
    };
    let scratch = Scratch::new();
    let dir = scratch.path("nginx");
    std::fs::create_dir_all(dir.join("logs")).expect("nginx dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let d = dir.display();
    let conf = format!(
        r#"worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  log_format loadline '{NGINX_LOG_FORMAT}';
  access_log {d}/access.log loadline;
  keepalive_requests 100000000;
  client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f; uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\n"; }} }}
}}
"#
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
    let mut child = Command::new(nginx)
        .args([
            "-e",
            &format!("{d}/logs/error.log"),
            "-p",
            &d.to_string(),
            "-c",
            &format!("{d}/nginx.conf"),
            "-g",
            "daemon off;",
        ])
        .spawn()
        .expect("nginx starts");
    std::thread::sleep(std::time::Duration::from_millis(300));
    replay(&scratch, &format!("http://127.0.0.1:{port}"));
    let _ = Command::new("kill").args(["-QUIT", &child.id().to_string()]).status();
    let _ = child.wait();
    let (learned, text) = learn(
        &dir.join("access.log"),
        Format::NginxCustom(NGINX_LOG_FORMAT.into()),
        TenantSource::Header("X-Tenant-ID".into()),
        Resolution::Second,
    );
    compare("nginx", &learned, &text, &scratch.path(""));
}

/// Canary values planted in every field a log has never reach the profile,
/// the tenant table or what `loadline learn` prints.
#[test]
fn canaries_never_leave() {
    let scratch = Scratch::new();
    let canaries = [
        "10.99.88.77",
        "CanaryAgent/9.9",
        "canary-referrer.example",
        "canaryuser",
        "zebracanaryvalue",
        "canarytenantname",
        "canary.person@example.com",
        "7777777777",
        "CANARYSEGMENT",
    ];
    let mut log = String::new();
    for i in 0..3_000u32 {
        let tenant = if i % 3 == 0 {
            "canarytenantname".to_string()
        } else {
            format!("tenant{}", i % 40)
        };
        let (ip, ua, referrer, user) = if i % 500 == 0 {
            (
                "10.99.88.77",
                "CanaryAgent/9.9",
                "https://canary-referrer.example/",
                "canaryuser",
            )
        } else {
            ("192.0.2.1", "Mozilla/5.0", "-", "-")
        };
        let path = match i % 6 {
            0 => format!("/t/{tenant}/search?q=zebracanaryvalue&page={}", i % 4),
            1 => format!("/t/{tenant}/users/canary.person@example.com/profile"),
            2 => format!(
                "/t/{tenant}/orders/{}",
                if i % 97 == 0 {
                    7_777_777_777
                } else {
                    1000 + u64::from(i)
                }
            ),
            3 if i % 999 == 3 => "/t/x/CANARYSEGMENT/admin".to_string(),
            _ => format!("/t/{tenant}/products/{}", i % 50),
        };
        let secs = i / 20;
        log.push_str(&format!(
            "{ip} - {user} [06/Dec/2025:10:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 512 \"{referrer}\" \"{ua}\"\n",
            secs / 60,
            secs % 60
        ));
    }
    let log_path = scratch.write("access.log", &log);
    let out = scratch.path("learned.yaml");
    let run = Command::new(env!("CARGO_BIN_EXE_loadline"))
        .args([
            "learn",
            "--format",
            "combined",
            "--tenant",
            "path:1",
            "--min-count",
            "10",
            "--out",
        ])
        .arg(&out)
        .arg(&log_path)
        .output()
        .expect("loadline runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{printed}");
    let profile = std::fs::read_to_string(&out).expect("the profile");
    let table = std::fs::read_to_string(scratch.path("learned.tenants.csv")).unwrap_or_default();
    for c in canaries {
        let lc = c.to_ascii_lowercase();
        for (what, text) in [("profile", &profile), ("tenant table", &table), ("output", &printed)] {
            assert!(
                !text.to_ascii_lowercase().contains(&lc),
                "canary `{c}` in the {what}:\n{text}"
            );
        }
    }
    assert!(printed.contains("dropped"), "learn says what it dropped: {printed}");
    assert!(profile.contains("/t/{{tenant}}/orders/{{id}}"), "{profile}");
}

fn combined_lines(n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "192.0.2.{} - - [06/Dec/2025:10:{:02}:{:02} +0000] \"GET /api/items/{} HTTP/1.1\" 200 512 \"-\" \"ua\"\n",
                i % 200,
                (i / 10) / 60,
                (i / 10) % 60,
                1000 + i
            )
        })
        .collect()
}

fn learn_cli(args: &[&str], stdin: Option<Vec<u8>>) -> (bool, i32, String) {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loadline"));
    cmd.arg("learn").args(args);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("loadline runs");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&bytes)
            .expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("loadline ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), out.status.code().unwrap_or(-1), text)
}

/// Too many lines that do not parse: exit 2, the file and the first line
/// numbers named by reason, never the lines themselves; nothing written.
#[test]
fn too_many_bad_lines_is_an_input_error() {
    let scratch = Scratch::new();
    let mut log = combined_lines(200);
    for _ in 0..5 {
        log.push_str("SECRETGARBAGE not a log line at all\n");
    }
    let path = scratch.write("bad.log", &log);
    let out = scratch.path("p.yaml");
    let (ok, code, text) = learn_cli(
        &[
            "--format",
            "combined",
            "--out",
            out.to_str().expect("utf-8"),
            path.to_str().expect("utf-8"),
        ],
        None,
    );
    assert!(!ok && code == 2, "{code}: {text}");
    assert!(
        text.contains("bad.log") && text.contains("lines 201, 202, 203, 204, 205"),
        "{text}"
    );
    assert!(!text.contains("SECRETGARBAGE"), "{text}");
    assert!(!out.exists());
    // Within --max-bad, the same log is learned, and the rejects are reported.
    let (ok, _, text) = learn_cli(
        &[
            "--format",
            "combined",
            "--max-bad",
            "5%",
            "--out",
            out.to_str().expect("utf-8"),
            path.to_str().expect("utf-8"),
        ],
        None,
    );
    assert!(ok, "{text}");
    assert!(text.contains("5 lines rejected"), "{text}");
    let profile = std::fs::read_to_string(&out).expect("profile");
    assert!(profile.contains("\"/api/items/{{id}}\""), "{profile}");
}

/// Standard input, gzip (several members, as logrotate writes them) and
/// auto-detection give the same profile as the plain file.
#[test]
fn stdin_gzip_and_detection_agree() {
    use std::io::Write;
    let scratch = Scratch::new();
    let log = combined_lines(400);
    let plain = scratch.write("plain.log", &log);
    let mut gz = Vec::new();
    for half in [&log[..log.len() / 2], &log[log.len() / 2..]] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(half.as_bytes()).expect("gzip");
        gz.extend(e.finish().expect("gzip"));
    }
    let gz_path = scratch.path("log.gz");
    std::fs::write(&gz_path, &gz).expect("write gz");
    let mut profiles = Vec::new();
    for (i, (args, stdin)) in [
        (vec!["--format", "combined", plain.to_str().expect("utf-8")], None),
        (vec![gz_path.to_str().expect("utf-8")], None),
        (vec!["-"], Some(gz.clone())),
        (vec!["--format", "nginx", "-"], Some(log.clone().into_bytes())),
    ]
    .into_iter()
    .enumerate()
    {
        let out = scratch.path(&format!("p{i}.yaml"));
        let mut all = vec!["--out", out.to_str().expect("utf-8")];
        all.extend(args);
        let (ok, _, text) = learn_cli(&all, stdin);
        assert!(ok, "{i}: {text}");
        let p = std::fs::read_to_string(&out).expect("profile");
        // The header names the inputs; the rest must agree.
        profiles.push(
            p.lines()
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n")
                .replace(&format!("p{i}"), "p"),
        );
    }
    for p in &profiles[1..] {
        assert_eq!(p, &profiles[0]);
    }
}

#[test]
fn bad_options_are_input_errors() {
    let scratch = Scratch::new();
    let log = scratch.write("a.log", &combined_lines(50));
    let out = scratch.path("p.yaml");
    let (o, l) = (out.to_str().expect("utf-8"), log.to_str().expect("utf-8"));
    for (args, want) in [
        (vec!["--format", "iis", "--out", o, l], "unknown log format `iis`"),
        (vec!["--tenant", "cookie:x", "--out", o, l], "--tenant"),
        (
            vec!["--format", "combined", "--tenant", "header:X-Tenant", "--out", o, l],
            "does not log request headers",
        ),
        (vec!["--resolution", "5m", "--out", o, l], "--resolution"),
        (vec!["--template", "/t/{{tenant}}/x", "--out", o, l], "--tenant"),
        (vec!["--out", o, "/nonexistent/access.log"], "/nonexistent/access.log"),
        (vec!["--min-count", "1000", "--out", o, l], "fewer than 1000 times"),
    ] {
        let (ok, code, text) = learn_cli(&args, None);
        assert!(!ok && code == 2, "{args:?}: {code} {text}");
        assert!(text.contains(want), "{args:?}: {text}");
    }
    assert!(!out.exists());
}

/// Tenants that a Zipf law fits poorly get a weights table of keyed hashes
/// (tenants seen fewer than `--min-count` times left out), the same key
/// giving the same hashes; `--replay-in` compresses the day.
#[test]
fn poor_tenant_fit_writes_a_keyed_weights_table() {
    let scratch = Scratch::new();
    let mut log = String::new();
    let mut i = 0u32;
    // Two giants, a flat middle of 40 tenants and 5 rare ones: not a Zipf law.
    for (tenant, n) in (0..47u32).map(|t| {
        (
            t,
            if t < 2 {
                800
            } else if t < 42 {
                30
            } else {
                3
            },
        )
    }) {
        for _ in 0..n {
            let s = i / 4;
            log.push_str(&format!(
                "192.0.2.1 - - [06/Dec/2025:{:02}:{:02}:{:02} +0000] \"GET /t/secretname{tenant}/items HTTP/1.1\" 200 9 \"-\" \"ua\"\n",
                s / 3600,
                (s / 60) % 60,
                s % 60
            ));
            i += 1;
        }
    }
    // nginx writes lines in time order; the learner does not need it, but keep the log realistic.
    let path = scratch.write("t.log", &log);
    let mut tables = Vec::new();
    for run in 0..2 {
        let out = scratch.path(&format!("t{run}.yaml"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loadline"));
        cmd.args([
            "learn",
            "--format",
            "combined",
            "--tenant",
            "path:1",
            "--replay-in",
            "10m",
            "--out",
        ])
        .arg(&out)
        .arg(&path)
        .env("LOADLINE_LEARN_KEY", "a key for the test");
        let o = cmd.output().expect("loadline runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let profile = std::fs::read_to_string(&out).expect("profile");
        assert!(
            profile.contains(&format!("weights_csv: \"t{run}.tenants.csv\"")),
            "{profile}"
        );
        assert!(profile.contains("count: 42"), "{profile}");
        assert!(profile.contains("duration: 10m"), "{profile}");
        let table = std::fs::read_to_string(scratch.path(&format!("t{run}.tenants.csv"))).expect("table");
        assert_eq!(table.lines().count(), 43, "{table}");
        assert!(!table.contains("secretname"), "{table}");
        // The profile loads with its table, as `loadline run` would load it.
        profile::load(&out, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
        tables.push(table);
    }
    assert_eq!(tables[0], tables[1], "the same key gives the same tenant keys");
}
