//! The profile format: every documented example works, and every mistake
//! gets an error naming the file, the line and the key (snapshots).

use std::path::Path;
use std::process::Command;

use loadline::profile::token::{Alphabet, TokenSpace};
use loadline::profile::{self, Overrides};

use crate::support::*;

const GOOD: &str = "name: good
target:
  base_url: http://127.0.0.1:8080
  timeout: 2s
seed: 1
duration: 10s
load:
  model: open
  rate: 100/s
tenants: {count: 10, skew: {zipf: 1.1}, id: \"t-{index:03}\"}
endpoints:
  - name: get
    weight: 3
    path: /t/{{tenant}}/items/{{item}}
    vars:
      item: {uniform: [1, 10]}
  - name: post
    weight: 1
    method: POST
    path: /t/{{tenant}}/items
    body: '{\"n\": {{n}}}'
    vars:
      n: {sequence: {start: 1}}
";

fn error_of(text: &str) -> String {
    match profile::from_str(text, Path::new("profiles/bad.yaml"), &Overrides::default()) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_good_profile_parses() {
    let p = profile::from_str(GOOD, Path::new("good.yaml"), &Overrides::default()).expect("valid");
    assert_eq!(p.endpoints.len(), 2);
    assert!((p.endpoints[0].share - 0.75).abs() < 1e-12);
    assert_eq!(p.tenants.as_ref().expect("tenants").id(7), "t-007");
}

macro_rules! bad {
    ($name:ident, $from:expr, $to:expr) => {
        #[test]
        fn $name() {
            let text = GOOD.replacen($from, $to, 1);
            assert_ne!(text, GOOD, "the replacement must change the profile");
            insta::assert_snapshot!(error_of(&text));
        }
    };
}

bad!(unknown_top_level_key, "duration: 10s", "durration: 10s");
bad!(unknown_nested_key, "    weight: 3", "    wieght: 3");
bad!(rate_without_unit, "rate: 100/s", "rate: 100");
bad!(duration_not_a_duration, "timeout: 2s", "timeout: soon");
bad!(
    undefined_template_variable,
    "/t/{{tenant}}/items/{{item}}",
    "/t/{{tenant}}/items/{{itme}}"
);
bad!(
    unclosed_template,
    "/t/{{tenant}}/items/{{item}}",
    "/t/{{tenant}}/items/{{item"
);
bad!(
    unknown_fake_generator,
    "n: {sequence: {start: 1}}",
    "n: {fake: safe_emial}"
);
bad!(
    two_generators_in_one_variable,
    "item: {uniform: [1, 10]}",
    "item: {uniform: [1, 10], uuid: true}"
);
bad!(unknown_model, "model: open", "model: opne");
bad!(closed_model_with_a_rate, "model: open", "model: closed\n  users: 5");
bad!(negative_weight, "    weight: 3", "    weight: -3");
bad!(
    bad_base_url,
    "base_url: http://127.0.0.1:8080",
    "base_url: 127.0.0.1:8080"
);
bad!(unknown_environment, "  timeout: 2s", "  timeout: 2s\n  environment: qa");
bad!(duplicate_endpoint_name, "  - name: post", "  - name: get");
bad!(
    hourly_needs_24_values,
    "  rate: 100/s",
    "  rate: 100/s\n  shape: {diurnal: {period: 24s, hourly: [1, 2, 3]}}"
);
bad!(
    diurnal_factors_empty,
    "  rate: 100/s",
    "  rate: 100/s\n  shape: {diurnal: {period: 24s, factors: []}}"
);
bad!(
    diurnal_factors_negative,
    "  rate: 100/s",
    "  rate: 100/s\n  shape:\n    diurnal:\n      period: 24s\n      factors: [1, 0.5, -2]"
);
bad!(
    diurnal_factors_all_zero,
    "  rate: 100/s",
    "  rate: 100/s\n  shape: {diurnal: {period: 24s, factors: [0, 0, 0]}}"
);
bad!(
    diurnal_hourly_and_factors,
    "  rate: 100/s",
    "  rate: 100/s\n  shape:\n    diurnal:\n      period: 24s\n      hourly: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n      factors: [1, 2]"
);
bad!(
    diurnal_without_factors,
    "  rate: 100/s",
    "  rate: 100/s\n  shape:\n    diurnal:\n      period: 24s\n      start: 9h"
);
bad!(
    token_unknown_alphabet,
    "item: {uniform: [1, 10]}",
    "item: {token: {len: 24, alphabet: hexa, n: 100}}"
);
bad!(
    token_too_long,
    "item: {uniform: [1, 10]}",
    "item: {token: {len: 300, n: 100}}"
);
bad!(
    token_space_too_small,
    "item: {uniform: [1, 10]}",
    "item: {token: {len: 2, alphabet: hex, n: 50000}}"
);
bad!(
    token_bad_pick,
    "item: {uniform: [1, 10]}",
    "item: {token: {len: 24, n: 100, pick: \"zipf:-1\"}}"
);
bad!(
    token_unknown_key,
    "item: {uniform: [1, 10]}",
    "item: {token: {length: 24, n: 100}}"
);
bad!(token_without_n, "item: {uniform: [1, 10]}", "item: {token: {len: 24}}");
bad!(
    zipf_from_overflows,
    "item: {uniform: [1, 10]}",
    "item: {zipf: {n: 10, s: 1, from: 9223372036854775807}}"
);
bad!(
    malformed_stage,
    "  rate: 100/s",
    "  rate: 100/s\n  shape: {stages: [{to: 10/s}]}"
);
bad!(
    users_with_the_open_model,
    "  rate: 100/s",
    "  rate: 100/s\n  read_write: 50/50\n  users: 3"
);
bad!(
    missing_environment_variable,
    "  timeout: 2s",
    "  timeout: 2s\n  headers: {Authorization: \"Bearer ${env:LOADLINE_TEST_UNSET_TOKEN}\"}"
);
bad!(
    warmup_longer_than_duration,
    "duration: 10s",
    "duration: 10s\nwarmup: 20s"
);
bad!(zipf_needs_a_positive_exponent, "skew: {zipf: 1.1}", "skew: {zipf: 0}");
bad!(
    csv_file_that_does_not_exist,
    "item: {uniform: [1, 10]}",
    "item: {csv: {path: no/such.csv, column: sku}}"
);

#[test]
fn empty_endpoint_list() {
    let text = format!(
        "{}endpoints: []\n",
        &GOOD[..GOOD.find("endpoints:").expect("endpoints")]
    );
    insta::assert_snapshot!(error_of(&text));
}

/// A path split by a folded YAML line is refused; spaces inside `{{ }}` are not literal.
#[test]
fn a_space_in_a_path_is_refused_but_not_inside_braces() {
    let e = error_of(&GOOD.replacen("/items/{{item}}", "/items/{{item}} x", 1));
    assert!(e.contains("path") && e.contains("%20"), "{e}");
    let spaced = GOOD.replacen("/items/{{item}}", "/items/{{ item }}", 1);
    profile::from_str(&spaced, Path::new("good.yaml"), &Overrides::default()).expect("spaces inside braces");
}

/// A run could not write a summary its own gate reads: refused at load.
#[test]
fn more_endpoints_than_a_summary_holds() {
    let mut text = format!("{}endpoints:\n", &GOOD[..GOOD.find("endpoints:").expect("endpoints")]);
    for i in 0..=loadline::results::MAX_ENDPOINTS {
        text.push_str(&format!("  - {{name: e{i}, weight: 1, path: /e{i}}}\n"));
    }
    let e = error_of(&text);
    assert!(
        e.contains("key `endpoints`") && e.contains("1001 endpoints, more than 1000"),
        "{e}"
    );
}

#[test]
fn weights_sum_to_zero() {
    let text = GOOD
        .replacen("    weight: 3", "    weight: 0", 1)
        .replacen("    weight: 1", "    weight: 0", 1);
    insta::assert_snapshot!(error_of(&text));
}

#[test]
fn read_write_needs_both_kinds() {
    let text = GOOD
        .replacen("  rate: 100/s", "  rate: 100/s\n  read_write: 50/50", 1)
        .replacen("method: POST", "method: GET", 1);
    insta::assert_snapshot!(error_of(&text));
}

#[test]
fn set_overrides_apply_and_are_blamed() {
    let o = Overrides {
        set: vec!["load.rate=250/s".into(), "endpoints.post.weight=0".into()],
        ..Overrides::default()
    };
    let p = profile::from_str(GOOD, Path::new("good.yaml"), &o).expect("valid");
    match p.load {
        profile::Load::Open { ref shape, .. } => assert_eq!(shape.base, 250.0),
        _ => panic!("open model"),
    }
    assert_eq!(p.endpoints[1].share, 0.0);
    let bad = Overrides {
        set: vec!["load.rate=fast".into()],
        ..Overrides::default()
    };
    let e = profile::from_str(GOOD, Path::new("good.yaml"), &bad).expect_err("bad override");
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn values_come_from_a_csv_file() {
    let scratch = Scratch::new();
    let text = GOOD.replacen(
        "item: {uniform: [1, 10]}",
        &format!(
            "item: {{csv: {{path: \"{}\", column: sku, pick: sequential}}}}",
            root().join("fixtures/skus.csv").display()
        ),
        1,
    );
    let p = profile(&scratch, &text, "");
    let plan = profile::RequestPlan::new(std::sync::Arc::new(p));
    let skus = std::fs::read_to_string(root().join("fixtures/skus.csv")).expect("fixture");
    let mut buf = profile::RequestBuf::default();
    let mut seen = 0;
    for i in 0..200 {
        plan.render(i, &mut buf);
        if buf.endpoint == 0 {
            let path = String::from_utf8(buf.path.clone()).expect("utf8");
            let sku = path.rsplit('/').next().expect("sku");
            assert!(
                skus.lines().skip(1).any(|l| l.starts_with(sku)),
                "{sku} is not in the fixture"
            );
            seen += 1;
        }
    }
    assert!(seen > 100);
}

/// The open model's rate curve of a profile.
fn shape_of(text: &str) -> profile::RateShape {
    match profile::from_str(text, Path::new("good.yaml"), &Overrides::default())
        .expect("valid")
        .load
    {
        profile::Load::Open { shape, .. } => shape,
        profile::Load::Closed { .. } => panic!("open model"),
    }
}

/// `factors` of 24 values is `hourly` under another name, and a 2-factor
/// curve holds each at the middle of its half of the period, linear in
/// between and across the period's end.
#[test]
fn diurnal_factors_generalise_hourly() {
    let day: Vec<String> = (0..24).map(|h| format!("{}", 0.2 + (h % 7) as f64 * 0.15)).collect();
    let day = day.join(", ");
    let with = |diurnal: &str| {
        GOOD.replacen(
            "  rate: 100/s",
            &format!("  rate: 100/s\n  shape: {{diurnal: {diurnal}}}"),
            1,
        )
    };
    let hourly = shape_of(&with(&format!("{{period: 48s, hourly: [{day}], start: 3h}}")));
    let factors = shape_of(&with(&format!("{{period: 48s, factors: [{day}], start: 3h}}")));
    for t in [0.0, 0.7, 1.0, 5.25, 13.9, 24.0, 47.99, 60.5] {
        assert_eq!(hourly.rate_at(t), factors.rate_at(t), "t = {t}");
    }
    let two = shape_of(&with("{period: 10s, factors: [1, 3]}"));
    for (t, want) in [
        (2.5, 100.0),
        (7.5, 300.0),
        (5.0, 200.0),
        (0.0, 200.0),
        (1.25, 150.0),
        (8.75, 250.0),
    ] {
        assert!((two.rate_at(t) - want).abs() < 1e-9, "t = {t}: {}", two.rate_at(t));
    }
}

/// A learned curve at one factor per second of 11 days parses (the YAML
/// parser's node budget is raised for it); one more factor is refused.
#[test]
fn diurnal_takes_a_million_factors() {
    let max = profile::shape::MAX_DIURNAL_FACTORS;
    let with = |n: usize| {
        let list = vec!["0.5"; n].join(",");
        GOOD.replacen(
            "  rate: 100/s",
            &format!("  rate: 100/s\n  shape: {{diurnal: {{period: {n}s, factors: [{list}]}}}}"),
            1,
        )
    };
    let shape = shape_of(&with(max));
    assert!((shape.rate_at(123.4) - 50.0).abs() < 1e-9);
    assert!(error_of(&with(max + 1)).contains("factors is too many (at most 1000000)"));
}

/// The values of the variable `item` in `n` rendered requests of the `get`
/// endpoint (the last path segment).
fn item_values(text: &str, n: u64) -> Vec<String> {
    let p = profile::from_str(text, Path::new("good.yaml"), &Overrides::default()).expect("valid");
    let plan = profile::RequestPlan::new(std::sync::Arc::new(p));
    let mut buf = profile::RequestBuf::default();
    let mut out = Vec::new();
    for i in 0..n {
        plan.render(i, &mut buf);
        if buf.endpoint == 0 {
            let path = String::from_utf8(buf.path.clone()).expect("utf8");
            out.push(path.rsplit('/').next().expect("item").to_string());
        }
    }
    out
}

/// `zipf.from` shifts the values: `from` is the most frequent, and none is
/// outside `from..from + n`.
#[test]
fn zipf_from_offsets_the_values() {
    let text = GOOD.replacen(
        "item: {uniform: [1, 10]}",
        "item: {zipf: {n: 50, s: 1.2, from: 1200000}}",
        1,
    );
    let values: Vec<i64> = item_values(&text, 3000)
        .iter()
        .map(|v| v.parse().expect("integer"))
        .collect();
    assert!(values.iter().all(|v| (1_200_000..1_200_050).contains(v)));
    let top = values.iter().filter(|v| **v == 1_200_000).count();
    let second = values.iter().filter(|v| **v == 1_200_001).count();
    assert!(top > second && top > values.len() / 10, "{top} {second}");
}

/// A `token` variable: ids of the length and alphabet asked for, from a
/// space of n that is the same whatever the seed, skewed by `pick`.
#[test]
fn token_ids_are_shaped_and_seed_independent() {
    let text = GOOD.replacen(
        "item: {uniform: [1, 10]}",
        "item: {token: {len: 24, alphabet: hex, n: 500, pick: \"zipf:1.1\"}}",
        1,
    );
    // The whole space of 500 ids, computed apart from any run.
    let space = TokenSpace::new(24, Alphabet::Hex, 500).expect("space");
    let ids: Vec<String> = (1..=500)
        .map(|k| {
            let mut out = Vec::new();
            space.write(k, &mut out);
            String::from_utf8(out).expect("utf8")
        })
        .collect();
    let a = item_values(&text, 3000);
    let b = item_values(&text.replacen("seed: 1", "seed: 2", 1), 3000);
    assert_ne!(a, b, "another seed draws other ids...");
    for t in a.iter().chain(&b) {
        assert!(ids.contains(t), "...from the same space: {t}");
    }
    // Rank 1 is the most frequent id.
    let count = |k: usize| a.iter().filter(|t| **t == ids[k]).count();
    assert!(count(0) > count(1) && count(0) > count(250) + a.len() / 10);
}

fn loadline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
}

/// profiles/shop.yaml runs as written (shortened, pointed at the sample
/// service), and its token is used but never printed or written.
#[test]
fn shop_profile_runs_and_keeps_its_token_secret() {
    let scratch = Scratch::new();
    let t = plain_target();
    let token = "s3cr3t-token-value-1234";
    let out = scratch.path("shop");
    let o = loadline()
        .args(["run", "profiles/shop.yaml", "--duration", "3s", "--rate-scale", "0.2"])
        .arg("--set")
        .arg(format!("target.base_url={}", t.base_url()))
        .arg("--set")
        .arg("warmup=1s")
        .arg("--out")
        .arg(&out)
        .env("STAGING_TOKEN", token)
        .current_dir(root())
        .output()
        .expect("run loadline");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("get_product") && stdout.contains("create_order"),
        "{stdout}"
    );
    assert!(!stdout.contains(token) && !stderr.contains(token));
    for f in std::fs::read_dir(&out).expect("results") {
        let bytes = std::fs::read(f.expect("entry").path()).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(token),
            "the token leaked into a result file"
        );
    }
    let s = loadline::results::read_summary(&out).expect("summary");
    assert_eq!(s.totals.unexpected_status, 0, "orders answered 201");
    assert!(s.tenants.expect("tenants").seen > 50);
    // Without the token the profile is refused with exit code 2.
    let o = loadline()
        .args(["run", "profiles/shop.yaml"])
        .env_remove("STAGING_TOKEN")
        .current_dir(root())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("STAGING_TOKEN"));
}

/// Every file in profiles/ parses: traffic profiles as profiles, gate
/// policies (`gate*.yaml`) as policies, schemas (`*.schema.yaml`) as
/// schemas (the demo itself is run by
/// `cli::demo_runs`).
#[test]
fn every_example_profile_parses() {
    let mut policies = 0;
    for entry in std::fs::read_dir(root().join("profiles")).expect("profiles/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .expect("read")
            .replace("${env:STAGING_TOKEN}", "test");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let result = if name.starts_with("gate") {
            policies += 1;
            loadline::gate::policy::from_str(&text, &path)
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else if name.ends_with(".schema.yaml") {
            // A dataset a profile draws keys from (`from_schema`).
            loadline::synth::schema::from_str(&text, &path, &Default::default())
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            profile::from_str(&text, &path, &Overrides::default())
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if let Err(e) = result {
            panic!("{}: {e}", path.display());
        }
    }
    assert!(policies > 0, "profiles/gate.yaml is missing");
}

/// Exit code 2 and the file:line:key message for a bad profile, through the binary.
#[test]
fn bad_profile_exits_2() {
    let scratch = Scratch::new();
    let path = scratch.write("bad.yaml", &GOOD.replacen("duration: 10s", "durration: 10s", 1));
    let o = loadline().arg("run").arg(&path).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.yaml:6:1: key `durration`: unknown key"), "{err}");
}

/// A target labelled prod is refused by the binary with exit code 2.
#[test]
fn prod_target_exits_2_without_allow_prod() {
    let scratch = Scratch::new();
    let path = scratch.write(
        "prod.yaml",
        &GOOD.replacen("  timeout: 2s", "  timeout: 2s\n  environment: prod", 1),
    );
    let o = loadline().arg("run").arg(&path).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("refusing to send load to production"));
}

/// Tenant ids' `{index:W}` width is bounded as the schema's keys are.
#[test]
fn a_tenant_id_width_past_the_limit_is_refused() {
    let text = GOOD.replace("t-{index:03}", "t-{index:0999999999}");
    assert_ne!(text, GOOD);
    let e = error_of(&text);
    assert!(e.starts_with("profiles/bad.yaml:"), "{e}");
    assert!(e.contains("tenants.id") && e.contains("at most 32 digits"), "{e}");
}
