//! Shared helpers for the integration tests: a sample service on a free
//! loopback port, profiles written to a temporary directory, runs through
//! the library.

use std::path::{Path, PathBuf};

use loadline::load::{self, RunOptions, RunReport};
use loadline::profile::{self, Overrides, Profile};
use loadline::sample::{RunningTarget, TargetConfig};

/// A temporary directory that lives as long as the test.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `text` to `name` and return its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

/// Start the sample service with these faults (one thread keeps the
/// generator's cores free on a small machine).
pub fn target(config: TargetConfig) -> RunningTarget {
    RunningTarget::start(TargetConfig { threads: 1, ..config }).expect("start target")
}

pub fn plain_target() -> RunningTarget {
    target(TargetConfig::default())
}

/// Parse a profile given as text; `{{BASE}}` is replaced by `base`.
pub fn profile(scratch: &Scratch, text: &str, base: &str) -> Profile {
    let path = scratch.write("profile.yaml", &text.replace("{BASE}", base));
    profile::load(&path, &Overrides::default()).unwrap_or_else(|e| panic!("profile: {e}"))
}

/// Run a profile with results in the scratch directory.
pub fn run(scratch: &Scratch, p: Profile, workers: usize) -> RunReport {
    let mut opts = RunOptions::new(scratch.path("out"));
    opts.workers = Some(workers);
    load::run(p, &opts).unwrap_or_else(|e| panic!("run: {e}"))
}

/// The repository root (for profiles/ and fixtures/).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A one-endpoint open-model profile at `rate` for `duration`.
pub fn simple(rate: &str, duration: &str, arrivals: &str) -> String {
    format!(
        "name: simple
target: {{base_url: \"{{BASE}}\", connections: 16, timeout: 2s}}
seed: 1
duration: {duration}
load: {{model: open, rate: {rate}, arrivals: {arrivals}}}
endpoints:
  - {{name: root, weight: 1, path: /}}
"
    )
}

/// p-value of a chi-square goodness-of-fit test.
pub fn chi_square_p(observed: &[f64], expected: &[f64]) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    assert_eq!(observed.len(), expected.len());
    let stat: f64 = observed.iter().zip(expected).map(|(o, e)| (o - e) * (o - e) / e).sum();
    let df = (observed.len() - 1) as f64;
    1.0 - ChiSquared::new(df).expect("df").cdf(stat)
}

/// Why `json` does not match the committed schema `schemas/NAME` (none when it does).
pub fn schema_errors(name: &str, json: &serde_json::Value) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("schemas").join(name)).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON schema");
    validator
        .iter_errors(json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
