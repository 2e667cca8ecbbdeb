//! `loadline deploy k8s`: the manifests' fields (parsed back and checked
//! one by one), the checked-in example kept up to date, the output checked
//! against the Kubernetes API schemas by kubernetes-validate when it is
//! installed (`deploy/validator.sh`, which .ci/run calls), and the refusals
//! a user meets on the command line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use loadline::deploy::{self, Request, Spread, Start};
use serde_json::Value;

use crate::support::*;

/// The clock reading the fixed renders are made at.
const NOW: &str = "2026-12-05T09:00:00Z";
/// Their T0.
const T0: &str = "2026-12-05T10:00:00Z";
/// The checked-in example, rendered by [`example_request`].
const EXAMPLE: &str = "deploy/k8s/shop-8-shards.yaml";

fn at(s: &str) -> jiff::Timestamp {
    s.parse().expect("timestamp")
}

/// What `loadline deploy k8s` sends the library for its flags' defaults.
fn request(profile: &str, shards: u32) -> Request {
    Request {
        profile: root().join(profile),
        shards,
        image: format!("ghcr.io/loadline/loadline:{}", env!("CARGO_PKG_VERSION")),
        namespace: None,
        run_id: None,
        start: Start::At(at(T0)),
        policy: None,
        env: None,
        baseline: None,
        calibration: None,
        allow_partial: false,
        results_claim: None,
        storage: "10Gi".into(),
        storage_class: None,
        cpu: "2".into(),
        memory: "1Gi".into(),
        secret: None,
        spread: Spread::Soft,
        ttl: Duration::from_secs(86_400),
        allow_prod: false,
    }
}

/// `deploy k8s --shards 8 --namespace loadtest --policy profiles/gate.yaml
/// --secret staging-token --start-at T0 profiles/shop.yaml`.
fn example_request() -> Request {
    Request {
        namespace: Some("loadtest".into()),
        policy: Some(root().join("profiles/gate.yaml")),
        secret: Some("staging-token".into()),
        ..request("profiles/shop.yaml", 8)
    }
}

fn render(r: &Request) -> deploy::Rendered {
    deploy::render(r, at(NOW)).unwrap_or_else(|e| panic!("render: {e}"))
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_str_multiple::<Value, Vec<Value>>(yaml).expect("the output parses as YAML")
}

fn by_name<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no object named {name}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// Every field the shards' Job must have for one time grid, no late
/// replays and a clean SIGTERM; read back from the YAML, not from the types.
#[test]
fn shards_job_has_every_field_a_sharded_run_needs() {
    let out = render(&example_request());
    let docs = documents(&out.yaml);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, ["PersistentVolumeClaim", "ConfigMap", "Job", "Job"]);
    let run = "shop-20261205-100000";
    assert_eq!(out.run_id, run);

    let job = by_name(&docs, &format!("{run}-shards"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 8);
    assert_eq!(spec["parallelism"], 8);
    assert_eq!(spec["backoffLimitPerIndex"], 0);
    assert_eq!(spec["podReplacementPolicy"], "Failed");
    assert_eq!(job["metadata"]["annotations"]["loadline.dev/start-at"], T0);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    // shop.yaml's timeout is 2s: the grace period must outlast it.
    assert!(pod["terminationGracePeriodSeconds"].as_u64().expect("grace") > 2);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], deploy::RUN_AS);
    let c = &pod["containers"][0];
    assert_eq!(
        strings(&c["args"]),
        [
            "run",
            "/profile/profile.yaml",
            "--shard",
            "auto/8",
            "--start-at",
            T0,
            "--run-id",
            run,
            "--out",
            &format!("/results/{run}/shard-$(JOB_COMPLETION_INDEX)"),
        ]
    );
    assert_eq!(c["env"][0]["name"], "JOB_COMPLETION_INDEX");
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "staging-token");
    assert_eq!(c["resources"]["requests"], c["resources"]["limits"]);
    assert_eq!(c["resources"]["limits"]["cpu"], "2");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    let mounts = c["volumeMounts"].as_array().expect("mounts");
    let results = mounts
        .iter()
        .find(|m| m["mountPath"] == "/results")
        .expect("results mounted");
    assert_eq!(results["readOnly"], false);
    // The spread constraint selects exactly this Job's pods.
    let spread = &pod["topologySpreadConstraints"][0];
    assert_eq!(spread["topologyKey"], "kubernetes.io/hostname");
    let labels = &spec["template"]["metadata"]["labels"];
    for (k, v) in spread["labelSelector"]["matchLabels"].as_object().expect("selector") {
        assert_eq!(&labels[k], v, "{k}");
    }
    for key in [
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "app.kubernetes.io/managed-by",
        "loadline.dev/run-id",
    ] {
        assert!(job["metadata"]["labels"][key].is_string(), "{key}");
    }
}

/// The follow-up Job merges (waiting for every shard), then gates; the
/// ConfigMap holds the profile and policy byte for byte; the claim is RWX.
#[test]
fn gate_job_config_map_and_claim() {
    let r = Request {
        baseline: Some("shop-baseline/merged".into()),
        allow_partial: true,
        ..example_request()
    };
    let docs = documents(&render(&r).yaml);
    let run = "shop-20261205-100000";
    let job = by_name(&docs, &format!("{run}-gate"));
    assert_eq!(job["spec"]["backoffLimit"], 0);
    let pod = &job["spec"]["template"]["spec"];
    let merge = strings(&pod["initContainers"][0]["args"]);
    // T0 is an hour away, the soak 60 s, the grace 32 s, then 10 min of slack: 72 min.
    assert_eq!(
        merge,
        [
            "merge",
            &format!("/results/{run}"),
            "--wait",
            "72m",
            "--out",
            &format!("/results/{run}/merged"),
            "--allow-partial"
        ]
    );
    let gate = strings(&pod["containers"][0]["args"]);
    assert_eq!(
        gate[..8],
        [
            "gate",
            &format!("/results/{run}/merged"),
            "--policy",
            "/policy/policy.yaml",
            "--env",
            "staging",
            "--baseline",
            "/results/shop-baseline/merged",
        ]
    );
    assert!(gate.contains(&format!("/results/{run}/verdict.json")));

    let config = by_name(&docs, &format!("{run}-config"));
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect("read");
    assert_eq!(config["data"]["profile.yaml"], read("profiles/shop.yaml"));
    assert_eq!(config["data"]["policy.yaml"], read("profiles/gate.yaml"));
    let claim = by_name(&docs, "loadline-results");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteMany");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "10Gi");

    // An existing claim is used, not created; no policy: the Job only merges.
    let r = Request {
        results_claim: Some("shared-rwx".into()),
        secret: None,
        ..request("profiles/demo.yaml", 2)
    };
    let docs = documents(&render(&r).yaml);
    assert!(docs.iter().all(|d| d["kind"] != "PersistentVolumeClaim"));
    let job = by_name(&docs, "demo-20261205-100000-merge");
    let pod = &job["spec"]["template"]["spec"];
    assert!(pod.get("initContainers").is_none());
    assert_eq!(pod["containers"][0]["args"][0], "merge");
    assert_eq!(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "shared-rwx");
}

/// Same inputs, same bytes; and a different T0 is a different run.
#[test]
fn same_inputs_same_manifests() {
    let a = render(&example_request()).yaml;
    assert_eq!(a, render(&example_request()).yaml);
    let later = Request {
        start: Start::At(at("2026-12-05T11:00:00Z")),
        ..example_request()
    };
    let b = render(&later);
    assert_eq!(b.run_id, "shop-20261205-110000");
    assert_ne!(a, b.yaml);
}

/// deploy/k8s/shop-8-shards.yaml is what the command renders today.
/// `LOADLINE_UPDATE_EXAMPLES=1 cargo test --test it deploy::example` rewrites it.
#[test]
fn example_manifest_is_up_to_date() {
    let rendered = render(&example_request()).yaml;
    let path = root().join(EXAMPLE);
    if std::env::var_os("LOADLINE_UPDATE_EXAMPLES").is_some() {
        std::fs::write(&path, &rendered).expect("write the example");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == rendered,
        "{EXAMPLE} is out of date: run LOADLINE_UPDATE_EXAMPLES=1 cargo test --test it deploy::example"
    );
}

/// kubernetes-validate, as deploy/validator.sh installs it; `None` when absent.
fn validator() -> Option<PathBuf> {
    let path = std::env::var_os("LOADLINE_KUBERNETES_VALIDATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/kubernetes-validate/bin/kubernetes-validate"));
    path.exists().then_some(path)
}

/// Run the validator on `yaml` for one Kubernetes version; its output on failure.
fn validate(validator: &Path, yaml: &str, version: &str) -> Result<(), String> {
    let scratch = Scratch::new();
    let file = scratch.write("manifests.yaml", yaml);
    let o = Command::new(validator)
        .args(["--strict", "--kubernetes-version", version, "--quiet"])
        .arg(&file)
        .output()
        .expect("run kubernetes-validate");
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// The manifests of several option sets pass the API's strict schemas of
/// 1.29 (the first with backoffLimitPerIndex and podReplacementPolicy on by
/// default) and of the newest the validator knows; a manifest with a wrong
/// type does not, so the check is live.
#[test]
fn manifests_pass_the_kubernetes_schemas() {
    let Some(validator) = validator() else {
        eprintln!(
            "skipped: kubernetes-validate is not installed (deploy/validator.sh installs it under target/; \
             .ci/run does)"
        );
        return;
    };
    let sets = [
        example_request(),
        Request {
            results_claim: Some("shared-rwx".into()),
            spread: Spread::Hard,
            allow_partial: true,
            run_id: Some("demo-1".into()),
            ..request("profiles/demo.yaml", 1)
        },
        Request {
            shards: 16,
            baseline: Some("/results/shop-baseline/merged".into()),
            calibration: Some("calibration.json".into()),
            storage_class: Some("nfs-rwx".into()),
            cpu: "500m".into(),
            memory: "512Mi".into(),
            ttl: Duration::from_secs(3600),
            ..example_request()
        },
    ];
    for r in &sets {
        let yaml = render(r).yaml;
        for version in ["1.29.0", "1.37.0"] {
            if let Err(e) = validate(&validator, &yaml, version) {
                panic!(
                    "{} shards of {}: Kubernetes {version} refuses:\n{e}",
                    r.shards,
                    r.profile.display()
                );
            }
        }
    }
    let broken = render(&example_request())
        .yaml
        .replace("completions: 8", "completions: \"8\"");
    assert!(
        validate(&validator, &broken, "1.37.0").is_err(),
        "the validator accepted a string count"
    );
}

/// A profile that reads a file gets it beside it in the pods.
#[test]
fn files_the_profile_reads_are_shipped_beside_it() {
    let scratch = Scratch::new();
    std::fs::create_dir(scratch.path("data")).expect("mkdir");
    scratch.write("data/weights.csv", "weight\n5\n1\n");
    let text = simple("100/s", "10s", "uniform").replace("{BASE}", "http://target:8080")
        + "tenants: {count: 2, skew: {weights_csv: data/weights.csv, column: weight}}\n";
    let profile = scratch.write("p.yaml", &text);
    let r = Request {
        profile,
        ..request("profiles/demo.yaml", 2)
    };
    let docs = documents(&render(&r).yaml);
    let config = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("config map");
    assert_eq!(config["data"]["file.data_weights.csv"], "weight\n5\n1\n");
    let job = docs
        .iter()
        .find(|d| d["spec"]["completionMode"] == "Indexed")
        .expect("shards");
    let items = &job["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"];
    assert_eq!(items[1]["key"], "file.data_weights.csv");
    assert_eq!(items[1]["path"], "data/weights.csv");

    // One outside the profile's folder cannot be shipped.
    std::fs::create_dir(scratch.path("p")).expect("mkdir");
    let inner = scratch.write("p/p.yaml", &text.replace("data/weights.csv", "../data/weights.csv"));
    let e = deploy::render(&Request { profile: inner, ..r }, at(NOW))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tenants.skew.weights_csv: `../data/weights.csv` is outside"),
        "{e}"
    );

    // The demo's schema, named by its tenants and two variables
    // (`from_schema`), is shipped once.
    let docs = documents(&render(&request("profiles/demo.yaml", 2)).yaml);
    let config = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("config map");
    let schema = std::fs::read_to_string(root().join("profiles/demo.schema.yaml")).expect("read");
    assert_eq!(config["data"]["file.demo.schema.yaml"], schema);
    let files: Vec<&String> = config["data"]
        .as_object()
        .expect("data")
        .keys()
        .filter(|k| k.starts_with("file."))
        .collect();
    assert_eq!(files, ["file.demo.schema.yaml"]);
}

fn loadline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("STAGING_TOKEN", "s3cr3t-token-value")
        .output()
        .expect("run loadline")
}

/// The command as a user types it: manifests on stdout (T0 two minutes
/// out), or in a file written whole; never a secret's value.
#[test]
fn prints_manifests_or_writes_them_whole() {
    let o = loadline(&[
        "deploy",
        "k8s",
        "--shards",
        "3",
        "--secret",
        "staging-token",
        "profiles/shop.yaml",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let yaml = String::from_utf8(o.stdout).expect("utf8");
    assert_eq!(documents(&yaml).len(), 4);
    assert!(yaml.contains("--shard\n        - auto/3\n"), "{yaml}");
    assert!(!yaml.contains("s3cr3t") && !String::from_utf8_lossy(&o.stderr).contains("s3cr3t"));

    let scratch = Scratch::new();
    let out = scratch.path("m.yaml");
    let o = loadline(&[
        "deploy",
        "k8s",
        "--shards",
        "2",
        "profiles/demo.yaml",
        "--run-id",
        "demo-1",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run demo-1, 2 shards"));
    assert!(std::fs::read_to_string(&out)
        .expect("written")
        .contains("demo-1-shards"));
    assert!(!loadline::atomic::partial_path(&out).exists());
}

/// Bad input fails here, with exit 2 and what to change, before any YAML.
#[test]
fn refusals_exit_2_and_say_what_to_change() {
    let scratch = Scratch::new();
    let literal = scratch.write(
        "literal.yaml",
        &simple("10/s", "5s", "uniform")
            .replace("{BASE}", "http://target:8080")
            .replace(
                "connections: 16,",
                "connections: 16, headers: {Authorization: \"Bearer abc\"},",
            ),
    );
    let broken = scratch.write("broken.yaml", "name: x\ntarget: {base_url: http://a}\nduration: soon\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--shards", "2", "profiles/shop.yaml"],
            "the profile reads STAGING_TOKEN from the environment: pass --secret NAME",
        ),
        (
            vec!["--shards", "2", literal.to_str().expect("utf8")],
            "target.headers.Authorization holds a credential",
        ),
        (vec!["--shards", "2", broken.to_str().expect("utf8")], "broken.yaml:3"),
        (vec!["--shards", "0", "profiles/demo.yaml"], "--shards: 0 shards"),
        (
            vec!["--shards", "2", "--run-id", "Shop_1", "profiles/demo.yaml"],
            "--run-id: `Shop_1` has `S`",
        ),
        (
            vec![
                "--shards",
                "2",
                "--start-at",
                "2020-01-01T00:00:00Z",
                "profiles/demo.yaml",
            ],
            "--start-at: 2020-01-01T00:00:00Z was",
        ),
        (
            vec!["--shards", "2", "--cpu", "2 cores", "profiles/demo.yaml"],
            "--cpu: `2 cores`",
        ),
        (
            vec![
                "--shards",
                "2",
                "--policy",
                "profiles/gate.yaml",
                "--env",
                "qa",
                "profiles/demo.yaml",
            ],
            "has no environment `qa` (it defines: dev, staging, prod)",
        ),
        (
            vec!["--shards", "2", "--baseline", "b", "profiles/demo.yaml"],
            "--baseline is for the gate",
        ),
        (
            vec![
                "--shards",
                "2",
                "--policy",
                "profiles/gate.yaml",
                "--baseline",
                "../b",
                "profiles/demo.yaml",
            ],
            "--baseline: `../b` uses `..`",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["deploy", "k8s"];
        all.extend(&args);
        let o = loadline(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: expected `{expected}` in:\n{err}");
        assert!(o.stdout.is_empty(), "{args:?} printed manifests");
    }
}

#[test]
fn deploy_help() {
    let o = loadline(&["deploy", "k8s", "--help"]);
    assert!(o.status.success());
    insta::assert_snapshot!("deploy_k8s_help", String::from_utf8_lossy(&o.stdout));
}

/// deploy/Dockerfile's dependency layer writes a stub for every target the
/// manifests declare: cargo refuses to build when a declared file is missing.
#[test]
fn dockerfile_stubs_every_declared_target() {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect("read");
    let dockerfile = read("deploy/Dockerfile");
    let mut expected = Vec::new();
    for (manifest, table, key, dir) in [
        ("Cargo.toml", "[[bench]]", "name = ", "benches/"),
        (
            "benches/baselines/Cargo.toml",
            "[[bin]]",
            "path = ",
            "benches/baselines/",
        ),
    ] {
        let mut section = "";
        for line in read(manifest).lines() {
            if line.starts_with('[') {
                section = line.trim();
            } else if let (true, Some(v)) = (section == table, line.strip_prefix(key)) {
                let v = v.trim().trim_matches('"');
                let file = if v.ends_with(".rs") {
                    v.to_string()
                } else {
                    format!("{v}.rs")
                };
                expected.push(format!("{dir}{file}"));
            }
        }
    }
    assert_eq!(expected.len(), 10, "{expected:?}");
    for stub in expected {
        assert!(dockerfile.contains(&stub), "deploy/Dockerfile does not stub {stub}");
    }
}
