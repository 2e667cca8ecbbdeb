//! Resource limits: every command that writes files, pointed at a full disk
//! (a small tmpfs filled to the last byte), a read-only one, or a path under
//! a regular file. Each must exit non-zero naming the path and the reason,
//! never panic, and leave no file that looks complete (only `*.partial`, or
//! nothing). A disk that fills while a run goes on stops the run.
//!
//! The tmpfs tests need root and `mount`; elsewhere they say they skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::{plain_target, root, Scratch};

/// A tmpfs mounted on a fresh directory for the test's life; unmounted on drop.
struct TinyFs {
    dir: tempfile::TempDir,
}

impl TinyFs {
    /// `size` as `mount -o size=` takes it; `extra` adds mount options
    /// (`ro`). None, with the reason on stderr, where mounting is not allowed.
    fn mount(test: &str, size: &str, extra: &str) -> Option<TinyFs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = if extra.is_empty() {
            format!("size={size}")
        } else {
            format!("size={size},{extra}")
        };
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
            .arg(dir.path())
            .output();
        match o {
            Ok(o) if o.status.success() => Some(TinyFs { dir }),
            Ok(o) => {
                eprintln!(
                    "skipped {test}: cannot mount a tmpfs here ({})",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped {test}: no mount command ({e})");
                None
            }
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fill the file system to the last byte.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path("filler")).expect("filler");
        let block = vec![0x55u8; 4096];
        loop {
            match f.write(&block) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = f.flush();
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn loadline(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
        .current_dir(cwd)
        .args(args)
        .env("LOADLINE_SCRUB_KEY", "a resources test key, 32 bytes!!")
        .output()
        .expect("spawn loadline")
}

/// Exit 1 (not a panic's 101, not success), stderr naming `path` and `reason`.
fn assert_fails_naming(o: &Output, path: &Path, reason: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "exit {:?}: {stderr}", o.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(&path.display().to_string()),
        "no {}: {stderr}",
        path.display()
    );
    assert!(stderr.contains(reason), "no `{reason}`: {stderr}");
}

/// Every file under `dir` (but the filler): none may look complete.
fn assert_only_partial(dir: &Path) {
    for f in walk(dir) {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            name == "filler" || name.ends_with(".partial"),
            "{} looks complete after a failed write",
            f.display()
        );
    }
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

/// A short run profile against `base`.
fn run_profile(s: &Scratch, base: &str, duration: &str, rate: &str) -> PathBuf {
    s.write(
        "profile.yaml",
        &format!(
            "name: resources
target: {{base_url: \"{base}\", connections: 8, timeout: 2s}}
seed: 1
duration: {duration}
load: {{model: open, rate: {rate}, arrivals: uniform}}
endpoints:
  - {{name: get_product, weight: 3, path: \"/t/a/products/{{{{p}}}}\", vars: {{p: {{uniform: [1, 1000]}}}}}}
  - {{name: search, weight: 1, path: /t/a/search?q=x}}
  - {{name: create_order, weight: 1, method: POST, path: /t/a/orders, body: '{{\"product\": 1}}', expect: [201]}}
"
        ),
    )
}

/// A finished run directory on the ordinary disk, for gate, report and merge.
fn finished_run(s: &Scratch, base: &str) -> PathBuf {
    let profile = run_profile(s, base, "1s", "200/s");
    let out = s.path("run");
    let o = loadline(
        s.dir.path(),
        &["run", profile.to_str().expect("path"), "--quiet", "--out", "run"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

const NOSPC: &str = "No space left on device";

/// A run whose results directory is on a full disk fails at once, naming
/// the file and the reason; nothing in it looks complete.
#[test]
fn run_on_a_full_disk_fails_naming_the_path() {
    let Some(fs) = TinyFs::mount("run_on_a_full_disk_fails_naming_the_path", "64k", "") else {
        return;
    };
    fs.fill();
    let target = plain_target();
    let s = Scratch::new();
    let profile = run_profile(&s, &target.base_url(), "3s", "200/s");
    let out = fs.path("run");
    let o = loadline(
        s.dir.path(),
        &[
            "run",
            profile.to_str().expect("path"),
            "--quiet",
            "--out",
            out.to_str().expect("path"),
        ],
    );
    assert_fails_naming(&o, &out, NOSPC);
    assert!(!out.join("summary.json").exists());
    assert_only_partial(fs.dir.path());
}

/// A disk that fills while the run goes on stops the run (load that cannot
/// be recorded is not sent): it ends well before its duration, says it
/// stopped, and leaves only `*.partial` files.
#[test]
fn a_disk_that_fills_during_a_run_stops_it() {
    let Some(fs) = TinyFs::mount("a_disk_that_fills_during_a_run_stops_it", "64k", "") else {
        return;
    };
    let target = plain_target();
    let s = Scratch::new();
    // Room for two pages: the log's head, then the histograms of a few
    // seconds (8 endpoints, so 8 histograms a second).
    std::fs::write(fs.path("filler"), vec![0u8; 56 * 1024]).expect("filler");
    let endpoints: String = (0..8)
        .map(|i| format!("  - {{name: e{i}, weight: 1, path: \"/t/a/products/{i}\"}}\n"))
        .collect();
    let profile = s.write(
        "profile.yaml",
        &format!(
            "name: fills
target: {{base_url: \"{}\", connections: 8, timeout: 2s}}
seed: 1
duration: 60s
load: {{model: open, rate: 2000/s, arrivals: uniform}}
endpoints:
{endpoints}",
            target.base_url()
        ),
    );
    let out = fs.path("run");
    let started = Instant::now();
    let o = loadline(
        s.dir.path(),
        &[
            "run",
            profile.to_str().expect("path"),
            "--quiet",
            "--out",
            out.to_str().expect("path"),
        ],
    );
    let took = started.elapsed();
    assert_fails_naming(&o, &out, NOSPC);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("the run was stopped"), "{stderr}");
    assert!(
        took < Duration::from_secs(45),
        "the run went on for {took:?} on a full disk"
    );
    assert!(!out.join("summary.json").exists());
    assert_only_partial(fs.dir.path());
}

/// `synth` into CSV files and into a SQL script on a full disk.
#[test]
fn synth_on_a_full_disk_fails_and_leaves_nothing() {
    let Some(fs) = TinyFs::mount("synth_on_a_full_disk_fails_and_leaves_nothing", "64k", "") else {
        return;
    };
    fs.fill();
    let schema = root().join("fixtures/shop.schema.yaml");
    let schema = schema.to_str().expect("path");
    for (to, named) in [
        (format!("csv:{}", fs.path("csv").display()), fs.path("csv")),
        (format!("sql:{}", fs.path("seed.sql").display()), fs.path("seed.sql")),
    ] {
        let o = loadline(fs.dir.path(), &["synth", schema, "--to", &to, "--scale", "0.01"]);
        assert_fails_naming(&o, &named, NOSPC);
        assert_only_partial(fs.dir.path());
    }
}

/// `scrub` into a full disk.
#[test]
fn scrub_on_a_full_disk_fails_and_leaves_nothing() {
    let Some(fs) = TinyFs::mount("scrub_on_a_full_disk_fails_and_leaves_nothing", "64k", "") else {
        return;
    };
    fs.fill();
    let rules = root().join("fixtures/shop.scrub.yaml");
    let dump = root().join("fixtures/dump");
    let out = fs.path("clean");
    let o = loadline(
        fs.dir.path(),
        &[
            "scrub",
            "--rules",
            rules.to_str().expect("path"),
            "--in",
            dump.to_str().expect("path"),
            "--out",
            out.to_str().expect("path"),
            "--threads",
            "1",
        ],
    );
    assert_fails_naming(&o, &out, NOSPC);
    assert_only_partial(fs.dir.path());
}

/// `gate --json`, `report --out` and `merge --out` into a full disk.
#[test]
fn gate_report_and_merge_on_a_full_disk_fail_and_leave_nothing() {
    let Some(fs) = TinyFs::mount("gate_report_and_merge_on_a_full_disk_fail_and_leave_nothing", "64k", "") else {
        return;
    };
    let target = plain_target();
    let s = Scratch::new();
    let run = finished_run(&s, &target.base_url());
    let run = run.to_str().expect("path");
    // A report is larger than the room left; a verdict and a merge are not,
    // so the disk is filled for them.
    std::fs::write(fs.path("filler"), vec![0u8; 56 * 1024]).expect("filler");
    let report = fs.path("report.html");
    let o = loadline(s.dir.path(), &["report", run, "--out", report.to_str().expect("path")]);
    assert_fails_naming(&o, &report, NOSPC);
    fs.fill();
    let policy = root().join("profiles/gate.yaml");
    let verdict = fs.path("verdict.json");
    let o = loadline(
        s.dir.path(),
        &[
            "gate",
            run,
            "--policy",
            policy.to_str().expect("path"),
            "--env",
            "dev",
            "--json",
            verdict.to_str().expect("path"),
        ],
    );
    assert_fails_naming(&o, &verdict, NOSPC);
    let merged = fs.path("merged");
    let o = loadline(s.dir.path(), &["merge", run, "--out", merged.to_str().expect("path")]);
    assert_fails_naming(&o, &merged, NOSPC);
    assert_only_partial(fs.dir.path());
}

/// A read-only file system and a path under a regular file: exit 1 naming
/// the path, for every command that writes. (chmod 000 does not stop root,
/// so a read-only mount stands for an unwritable directory.)
#[test]
fn unwritable_output_paths_fail_with_exit_1_naming_them() {
    let target = plain_target();
    let s = Scratch::new();
    let run = finished_run(&s, &target.base_url());
    let run = run.to_str().expect("path");
    let file = s.write("a-file", "not a directory\n");
    let ro = TinyFs::mount("unwritable_output_paths (read-only part)", "64k", "ro");
    let mut bases = vec![(file.clone(), "Not a directory")];
    if let Some(ro) = &ro {
        bases.push((ro.dir.path().to_path_buf(), "Read-only file system"));
    }
    let profile = run_profile(&s, &target.base_url(), "1s", "100/s");
    let profile = profile.to_str().expect("path");
    let policy = root().join("profiles/gate.yaml");
    let policy = policy.to_str().expect("path");
    let schema = root().join("fixtures/shop.schema.yaml");
    let schema = schema.to_str().expect("path");
    for (base, reason) in &bases {
        let out = base.join("out");
        let o = out.to_str().expect("path");
        let cases: Vec<Vec<String>> = vec![
            vec!["run".into(), profile.into(), "--quiet".into(), "--out".into(), o.into()],
            vec![
                "synth".into(),
                schema.into(),
                "--to".into(),
                format!("csv:{o}"),
                "--scale".into(),
                "0.01".into(),
            ],
            vec!["report".into(), run.into(), "--out".into(), o.into()],
            vec!["merge".into(), run.into(), "--out".into(), o.into()],
            vec![
                "gate".into(),
                run.into(),
                "--policy".into(),
                policy.into(),
                "--env".into(),
                "dev".into(),
                "--json".into(),
                o.into(),
            ],
        ];
        for args in cases {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out_ = loadline(s.dir.path(), &args);
            eprintln!("{:?}: {}", args[0], String::from_utf8_lossy(&out_.stderr).trim());
            assert_fails_naming(&out_, &out, reason);
        }
    }
}

/// The soft limit on open files of this process, from /proc/self/limits.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// 2,000 connections (benches/connections.sh is the 50,000 version): every
/// one is opened and accepted, and every request is answered.
#[test]
fn two_thousand_connections_are_all_opened_and_counted() {
    // Both ends of every connection live in this process.
    match open_files_limit() {
        Some(n) if n >= 4_500 => {}
        n => {
            eprintln!("skipped two_thousand_connections: the open-files limit is {n:?}, below 4,500");
            return;
        }
    }
    let target = plain_target();
    let s = Scratch::new();
    let text = "name: many
target: {base_url: \"{BASE}\", connections: 2000, timeout: 5s}
seed: 1
duration: 2s
load: {model: open, rate: 1000/s, arrivals: uniform}
endpoints:
  - {name: root, weight: 1, path: /}
";
    let p = crate::support::profile(&s, text, &target.base_url());
    let report = crate::support::run(&s, p, 2);
    let stats = target.stats();
    // The protocol probe opens one more.
    assert!(stats.connections >= 2000, "accepted {}", stats.connections);
    assert_eq!(stats.accept_errors, 0);
    assert_eq!(report.summary.totals.errors, 0, "{:?}", report.summary.errors_by_class);
    assert!(
        report.summary.totals.requests >= 1900,
        "{}",
        report.summary.totals.requests
    );
}
