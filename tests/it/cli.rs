//! The binary as a user runs it: help text, the demo, exit codes.

use std::process::Command;

use crate::support::*;

fn loadline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
}

fn stdout_of(args: &[&str]) -> String {
    let o = loadline()
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run loadline");
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf8")
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", stdout_of(&["--help"]));
    insta::assert_snapshot!("run_help", stdout_of(&["run", "--help"]));
    insta::assert_snapshot!("target_help", stdout_of(&["target", "--help"]));
    insta::assert_snapshot!("demo_help", stdout_of(&["demo", "--help"]));
    insta::assert_snapshot!("gate_help", stdout_of(&["gate", "--help"]));
    insta::assert_snapshot!("report_help", stdout_of(&["report", "--help"]));
}

/// The README's first command: the demo runs on its own and says where its files are.
#[test]
fn demo_runs_self_contained() {
    let scratch = Scratch::new();
    let out = scratch.path("demo");
    let o = loadline()
        .args(["demo", "--duration", "5s", "--out"])
        .arg(&out)
        .current_dir(scratch.dir.path())
        .output()
        .expect("run demo");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("get_product") && stdout.contains("p99"), "{stdout}");
    assert!(stdout.contains(&format!("results in {}", out.display())), "{stdout}");
    let s = loadline::results::read_summary(&out).expect("summary");
    assert!(s.totals.requests > 500, "{}", s.totals.requests);
    assert_eq!(s.profile.name, "demo");
    // Seeded, served, judged and drawn, and it says where each is.
    for (label, path) in [
        ("dataset", out.join("data/shop.db")),
        ("results", out.clone()),
        ("report", out.join("report.html")),
    ] {
        assert!(path.exists(), "{}", path.display());
        assert!(
            stdout.contains(&format!("{label:<9} {}", path.display())),
            "{label}: {stdout}"
        );
    }
    assert!(stdout.contains("verdict   promote for dev"), "{stdout}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("(0 not found)"),
        "every key drawn from the schema exists: {stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = loadline().args(["run"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let o = loadline()
        .args(["run", "x.yaml", "--shard", "4/4"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("index must be below the count"));
    let o = loadline().args(["run", "does/not/exist.yaml"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does/not/exist.yaml"));
}

/// `loadline run PROFILE --out OUT` in the background, 2.5 s into its run.
fn running(profile: &std::path::Path, out: &std::path::Path) -> std::process::Child {
    let child = loadline()
        .arg("run")
        .arg(profile)
        .arg("--out")
        .arg(out)
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    child
}

/// Send `signal` (`INT` is what Ctrl-C sends, `TERM` what Kubernetes sends) to the process.
pub(crate) fn send(signal: &str, child: &std::process::Child) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// The first `signal` (`INT` or `TERM`) stops a run cleanly: requests in
/// flight finish, every file is written, marked interrupted.
fn stops_cleanly_and_writes_results(signal: &str) {
    let scratch = Scratch::new();
    let t = plain_target();
    let path = scratch.write(
        "long.yaml",
        &simple("300/s", "60s", "uniform").replace("{BASE}", &t.base_url()),
    );
    let out = scratch.path("out");
    let mut child = running(&path, &out);
    send(signal, &child);
    let code = child.wait().expect("wait");
    assert!(code.success(), "{code:?}");
    let s = loadline::results::read_summary(&out).expect("summary written after the signal");
    assert!(s.run.interrupted);
    assert!(s.totals.requests > 300);
    assert!(s.run.elapsed_s < 10.0);
    assert!(!out.join("latency.hlog.partial").exists());
}

/// A second `signal` aborts without waiting for requests in flight: exit
/// code `code`, and nothing looks complete (no `summary.json`, files stay
/// `.partial`).
fn a_second_signal_aborts(signal: &str, code: i32) {
    let scratch = Scratch::new();
    // Every answer takes 30 s, so the run cannot end between the two signals.
    let t = target(loadline::sample::TargetConfig {
        latency: std::time::Duration::from_secs(30),
        ..Default::default()
    });
    let text = simple("50/s", "60s", "uniform").replace("timeout: 2s", "timeout: 60s");
    let path = scratch.write("slow.yaml", &text.replace("{BASE}", &t.base_url()));
    let out = scratch.path("out");
    let started = std::time::Instant::now();
    let mut child = running(&path, &out);
    send(signal, &child);
    std::thread::sleep(std::time::Duration::from_millis(500));
    send(signal, &child);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(code), "{status:?}");
    assert!(
        started.elapsed().as_secs() < 20,
        "the abort waited for requests in flight"
    );
    assert!(!out.join("summary.json").exists());
    assert!(out.join("latency.hlog.partial").exists());
}

/// Ctrl-C (SIGINT) stops a run cleanly and every file is still written.
#[test]
fn sigint_stops_cleanly_and_writes_results() {
    stops_cleanly_and_writes_results("INT");
}

/// SIGTERM (how Kubernetes stops a pod) stops a run like the first Ctrl-C.
#[test]
fn sigterm_stops_cleanly_and_writes_results() {
    stops_cleanly_and_writes_results("TERM");
}

/// A second Ctrl-C aborts with exit code 130 (128 + SIGINT).
#[test]
fn a_second_sigint_aborts_with_130_and_leaves_only_partial_files() {
    a_second_signal_aborts("INT", 130);
}

/// A second SIGTERM aborts like a second Ctrl-C, with SIGTERM's exit code (143).
#[test]
fn a_second_sigterm_aborts_with_143() {
    a_second_signal_aborts("TERM", 143);
}

/// `--dry-run N` prints the first N requests, the same for the same seed,
/// with secrets redacted, and sends nothing.
#[test]
fn dry_run_prints_requests_without_sending() {
    let t = plain_target();
    let dry = || {
        let o = loadline()
            .args(["run", "profiles/shop.yaml", "--dry-run", "20", "--set"])
            .arg(format!("target.base_url={}", t.base_url()))
            .env("STAGING_TOKEN", "tok-SECRET-42")
            .current_dir(root())
            .output()
            .expect("run");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).expect("utf8")
    };
    let a = dry();
    assert_eq!(a, dry(), "same seed, same requests");
    assert_eq!(a.matches("# request ").count(), 20);
    assert!(a.contains("Authorization: <redacted>"), "{a}");
    assert!(!a.contains("tok-SECRET-42"));
    assert!(a.contains("POST /t/t-") && a.contains("X-Tenant-ID: t-"), "{a}");
    assert_eq!(t.stats().total, 0, "a dry run sends nothing");
}
