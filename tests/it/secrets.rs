//! Secrets never leave: canary values in every place a secret can come from
//! (a profile header's `${env:...}`, a credential header written in the
//! profile, `--set`, a scrub rules key from `${env:...}` and `${file:...}`,
//! the learn keys, database URLs with passwords, reachable and not, a base
//! URL's userinfo) while every subcommand runs with the most verbose logs
//! (`LOADLINE_LOG=trace`, `RUST_LOG=trace`); then no canary may appear in
//! any stdout, stderr, or file under the test's directory (walked: results,
//! .hlog, HTML, verdicts, manifests, schemas, scrub reports, access log).
//!
//! The reachable databases come from LOADLINE_TEST_POSTGRES_URL and
//! LOADLINE_TEST_MYSQL_URL (set in CI); their passwords are canaries too.
//! Without them those steps say they skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::{root, Scratch};

/// Canary values, each naming where it was put.
fn canaries() -> BTreeMap<&'static str, String> {
    [
        ("LL_CANARY_TOKEN", "cnryTOKENq8Zk3vR1pX"),
        ("LL_CANARY_APIKEY", "cnryAPIKEYw4Lm7tB2"),
        ("LL_CANARY_SCRUB", "cnrySCRUBKEYh6Jd9sF0nQ2yT5wE8uI1oP4"),
        ("LL_CANARY_PGPASS", "cnryPGPASSz3Xc6Vb9"),
        ("LL_CANARY_MYPASS", "cnryMYPASSn2Mk5Jl8"),
        ("LL_CANARY_URLPASS", "cnryURLPASSa7Sd4Fg1"),
        ("LOADLINE_LEARN_KEY", "cnryLEARNKEYr5Ty8Ui2Op"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// Literal canaries: in the profile text, on the command line, in a key file.
const LITERAL_COOKIE: &str = "cnryCOOKIEe9Rt2Yu5";
const LITERAL_SET: &str = "cnrySETu3Io6Pa9";
const LITERAL_FILE_KEY: &str = "cnryFILEKEYk1Lz4Xc7Vb0Nm3Qw6Er9Ty2U";

struct Env {
    s: Scratch,
    vars: BTreeMap<&'static str, String>,
    /// Every value that must never be seen.
    secrets: Vec<String>,
    /// Everything every command printed, labelled.
    seen: Vec<(String, String)>,
}

impl Env {
    fn new() -> Env {
        let vars = canaries();
        let mut secrets: Vec<String> = vars.values().cloned().collect();
        secrets.extend([LITERAL_COOKIE, LITERAL_SET, LITERAL_FILE_KEY].map(String::from));
        for var in ["LOADLINE_TEST_POSTGRES_URL", "LOADLINE_TEST_MYSQL_URL"] {
            if let Some(pass) = std::env::var(var).ok().as_deref().and_then(password_of) {
                secrets.push(pass);
            }
        }
        Env {
            s: Scratch::new(),
            vars,
            secrets,
            seen: Vec::new(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_loadline"));
        c.current_dir(self.s.dir.path())
            .args(args)
            .env("LOADLINE_LOG", "trace")
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    /// Run a command, keep what it printed; returns its output.
    fn run(&mut self, args: &[&str]) -> Output {
        let o = self.cmd(args).output().expect("spawn loadline");
        self.keep(args, &o);
        o
    }

    fn keep(&mut self, args: &[&str], o: &Output) {
        let label = args.join(" ");
        self.seen
            .push((format!("{label} (stdout)"), String::from_utf8_lossy(&o.stdout).into()));
        self.seen
            .push((format!("{label} (stderr)"), String::from_utf8_lossy(&o.stderr).into()));
    }

    /// Like `run`, and the command must succeed.
    fn ok(&mut self, args: &[&str]) -> Output {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} exited {:?}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    /// Like `run`, and the command must fail without panicking.
    fn fails(&mut self, args: &[&str]) -> Output {
        let o = self.run(args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        o
    }

    fn path(&self, name: &str) -> String {
        self.s.path(name).to_str().expect("path").to_string()
    }

    /// No canary in anything printed or in any file under the scratch dir.
    fn check(&self) {
        let mut leaks = Vec::new();
        for (label, text) in &self.seen {
            for secret in &self.secrets {
                if text.contains(secret.as_str()) {
                    leaks.push(format!("{label}: {}", context(text, secret)));
                }
            }
        }
        for f in walk(self.s.dir.path()) {
            // The inputs that hold a secret on purpose.
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == "scrub-key.txt" || name == "profile-literal.yaml" {
                continue;
            }
            let bytes = std::fs::read(&f).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            for secret in &self.secrets {
                if text.contains(secret.as_str()) {
                    leaks.push(format!("{}: {}", f.display(), context(&text, secret)));
                }
            }
        }
        assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    }
}

fn context(text: &str, secret: &str) -> String {
    let i = text.find(secret).unwrap_or(0);
    let start = text[..i].char_indices().rev().nth(80).map_or(0, |(j, _)| j);
    let end = (i + secret.len() + 80).min(text.len());
    let end = (end..=text.len())
        .find(|&e| text.is_char_boundary(e))
        .unwrap_or(text.len());
    text[start..end].replace('\n', "⏎")
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The password of `scheme://user:PASSWORD@host/...`, if there is one.
fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    let pass = userinfo.split_once(':')?.1;
    (pass.len() >= 4).then(|| pass.to_string())
}

/// `url` with its password replaced by `password`.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("url");
    let (userinfo, host) = rest.split_once('@').unwrap_or(("loadline", rest));
    let user = userinfo.split(':').next().unwrap_or("loadline");
    format!("{scheme}://{user}:{password}@{host}")
}

/// `loadline target` with an access log, on a free port, for a few seconds.
fn start_target(env: &Env) -> (Child, String) {
    let mut child = env
        .cmd(&[
            "target",
            "--port",
            "0",
            "--duration",
            "20s",
            "--access-log",
            "access.log",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn target");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("read");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, url)
}

fn profile(base: &str, extra_header: &str) -> String {
    format!(
        "name: secrets
target:
  base_url: \"{base}\"
  connections: 2
  timeout: 2s
  headers:
    Authorization: \"Bearer ${{env:LL_CANARY_TOKEN}}\"
    X-Api-Key: \"${{env:LL_CANARY_APIKEY}}\"
{extra_header}seed: 3
duration: 1s
load: {{model: open, rate: 40/s, arrivals: uniform}}
endpoints:
  - {{name: get_product, weight: 3, path: \"/t/a/products/{{{{p}}}}\", vars: {{p: {{uniform: [1, 100]}}}}}}
  - {{name: search, weight: 1, path: /t/a/search?q=x}}
  - {{name: create_order, weight: 1, method: POST, path: /t/a/orders, body: '{{\"product\": 1}}', expect: [201]}}
"
    )
}

/// The load side: run (with --set and a literal cookie), dry run, the demo
/// on that profile, shards and merge, gate, report, the target's access
/// log, an unreachable target with a password in its URL, and deploy.
fn load_side(env: &mut Env) {
    let (mut target, base) = start_target(env);
    let p = env.s.write("profile.yaml", &profile(&base, ""));
    let p = p.to_str().expect("path").to_string();
    let literal = env.s.write(
        "profile-literal.yaml",
        &profile(&base, &format!("    Cookie: \"session={LITERAL_COOKIE}\"\n")),
    );
    let literal = literal.to_str().expect("path").to_string();
    let set = format!("target.headers.X-Auth-Token={LITERAL_SET}");
    env.ok(&["run", &literal, "--out", "run", "--set", &set]);
    env.ok(&["run", &literal, "--dry-run", "5", "--set", &set]);
    env.ok(&["run", &p, "--dry-run", "5"]);
    // The demo replaying the profile with the canaries against its own
    // service: its run, verdict and report are searched too. Tenant `a` is
    // not in the demo's dataset, so its orders get 404s: exit 0 or 1.
    let o = env.run(&["demo", "--profile", &literal, "--duration", "2s", "--out", "demo"]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "demo exited {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(env.s.path("demo/report.html").is_file(), "the demo wrote its report");
    // Two shards of one run, then merge.
    let t0 = (std::time::SystemTime::now() + Duration::from_secs(3))
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis()
        .to_string();
    let shards: Vec<(Vec<String>, Child)> = (0..2)
        .map(|i| {
            let args: Vec<String> = [
                "run",
                &p,
                "--shard",
                &format!("{i}/2"),
                "--start-at",
                &t0,
                "--run-id",
                "secrets",
                "--out",
                &format!("shards/shard-{i}"),
            ]
            .map(String::from)
            .to_vec();
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let child = env
                .cmd(&a)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn shard");
            (args, child)
        })
        .collect();
    for (args, child) in shards {
        let o = child.wait_with_output().expect("shard");
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        env.keep(&a, &o);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    env.ok(&["merge", "shards", "--out", "merged"]);
    let policy = root().join("profiles/gate.yaml");
    let policy = policy.to_str().expect("path");
    let gate = [
        "gate",
        "run",
        "--baseline",
        "merged",
        "--policy",
        policy,
        "--env",
        "dev",
        "--json",
        "verdict.json",
        "--junit",
        "verdict.xml",
        "--markdown",
        "verdict.md",
    ];
    let o = env.run(&gate);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    env.ok(&["report", "run", "--baseline", "merged", "--out", "report.html"]);
    let _ = target.kill();
    let o = target.wait_with_output().expect("target");
    env.keep(&["target"], &o);

    // Unreachable target, its URL carrying a password from the environment.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let down = env.s.write(
        "profile-down.yaml",
        &profile(&format!("http://user:${{env:LL_CANARY_URLPASS}}@127.0.0.1:{port}"), ""),
    );
    let _ = env.run(&["run", down.to_str().expect("path"), "--out", "down"]);

    // Deploy: the profile ships verbatim (its `${env:...}` a reference to a Secret).
    env.ok(&[
        "deploy",
        "k8s",
        &p,
        "--shards",
        "2",
        "--secret",
        "staging-creds",
        "--policy",
        policy,
        "--env",
        "dev",
        "--out",
        "k8s.yaml",
    ]);
    // A credential written in the profile is refused, without echoing it.
    let _ = env.run(&["deploy", "k8s", &literal, "--shards", "2", "--secret", "staging-creds"]);
}

/// The data side: synth to files and to databases (reachable and not),
/// synth learn, scrub with a key from the environment and from a file,
/// scrub verify and scan, learn from an access log.
fn data_side(env: &mut Env) {
    let schema = root().join("fixtures/shop.schema.yaml");
    let schema = schema.to_str().expect("path");
    env.ok(&["synth", schema, "--to", "csv:synth", "--scale", "0.01"]);
    env.ok(&["synth", "learn", "csv:synth", "--out", "learned.schema.yaml"]);
    for (scheme, var, pass) in [
        ("postgres", "LOADLINE_TEST_POSTGRES_URL", "LL_CANARY_PGPASS"),
        ("mysql", "LOADLINE_TEST_MYSQL_URL", "LL_CANARY_MYPASS"),
    ] {
        let pw = env.vars[pass].clone();
        // Nothing listens on port 9: connection refused.
        let down = format!("{scheme}://loadline:{pw}@127.0.0.1:9/shop");
        env.fails(&["synth", schema, "--to", &down, "--scale", "0.01"]);
        env.fails(&["synth", "learn", &down, "--out", "down.schema.yaml"]);
        // Reachable, wrong password: refused by the server.
        match std::env::var(var) {
            Ok(url) => {
                let wrong = with_password(&url, &pw);
                env.fails(&["synth", schema, "--to", &wrong, "--scale", "0.01"]);
                env.ok(&["synth", schema, "--to", &url, "--scale", "0.01", "--reset"]);
                env.ok(&["synth", "learn", &url, "--out", &format!("{scheme}.schema.yaml")]);
            }
            Err(_) => eprintln!("skipped the reachable {scheme} steps: {var} is not set"),
        }
    }
    let dump = root().join("fixtures/dump");
    let dump = dump.to_str().expect("path");
    let rules_text = std::fs::read_to_string(root().join("fixtures/shop.scrub.yaml")).expect("rules");
    let env_rules = env.s.write(
        "rules-env.yaml",
        &rules_text.replace("${env:LOADLINE_SCRUB_KEY}", "${env:LL_CANARY_SCRUB}"),
    );
    env.s.write("scrub-key.txt", LITERAL_FILE_KEY);
    let file_rules = env.s.write(
        "rules-file.yaml",
        &rules_text.replace(
            "${env:LOADLINE_SCRUB_KEY}",
            &format!("${{file:{}}}", env.path("scrub-key.txt")),
        ),
    );
    for (rules, out) in [(env_rules, "clean-env"), (file_rules, "clean-file")] {
        let rules = rules.to_str().expect("path");
        let report = format!("{out}.report.json");
        env.ok(&[
            "scrub", "--rules", rules, "--in", dump, "--out", out, "--report", &report,
        ]);
        let o = env.run(&[
            "scrub",
            "verify",
            "--rules",
            rules,
            "--original",
            dump,
            "--scrubbed",
            out,
        ]);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    env.ok(&["scrub", "scan", "clean-env", "--json", "scan.json"]);
    // The access log `loadline target` wrote while the load side ran.
    let log = env.s.path("access.log");
    let base = format!("http://user:{}@127.0.0.1:8080", env.vars["LL_CANARY_URLPASS"]);
    // A password in the learned profile's base URL would be written in plain text: refused.
    let o = env.run(&[
        "learn",
        log.to_str().expect("path"),
        "--out",
        "learned-url.yaml",
        "--base-url",
        &base,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let o = env.run(&["learn", log.to_str().expect("path"), "--out", "learned.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Every subcommand, every secret source, the most verbose logs: no canary
/// anywhere.
#[test]
fn no_secret_reaches_any_output() {
    let mut env = Env::new();
    load_side(&mut env);
    data_side(&mut env);
    env.check();
}

/// Panics are reported without the values in hand: a panic message is the
/// standard one plus the location; this pins that the CLI's errors at the
/// top (bad input carrying a canary) do not echo the value either.
#[test]
fn errors_about_secret_values_do_not_echo_them() {
    let mut env = Env::new();
    let schema = root().join("fixtures/shop.schema.yaml");
    let schema = schema.to_str().expect("path");
    let pw = env.vars["LL_CANARY_PGPASS"].clone();
    // Malformed URLs holding a password.
    for bad in [
        format!("postgres://u:{pw}@/"),
        format!("postgres://u:{pw}@127.0.0.1:notaport/db"),
        format!("mysql://u:{pw}@[::1/db"),
        format!("postgresql://u:{pw}@127.0.0.1:9/db?sslmode=bogus"),
    ] {
        env.fails(&["synth", schema, "--to", &bad, "--scale", "0.01"]);
        env.fails(&["synth", "learn", &bad, "--out", "x.yaml"]);
    }
    // A key from the environment, accepted or refused, is never printed.
    let rules_text = std::fs::read_to_string(root().join("fixtures/shop.scrub.yaml")).expect("rules");
    let rules = env.s.write(
        "rules.yaml",
        &rules_text.replace("${env:LOADLINE_SCRUB_KEY}", "${env:LL_CANARY_TOKEN}"),
    );
    let dump = root().join("fixtures/dump");
    env.run(&[
        "scrub",
        "--rules",
        rules.to_str().expect("path"),
        "--in",
        dump.to_str().expect("path"),
        "--out",
        "clean",
    ]);
    env.check();
}
