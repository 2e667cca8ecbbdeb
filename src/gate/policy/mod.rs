//! The gate policy format (`profiles/gate.yaml` is a commented example):
//! environments with their enforcement, the checks, and how a candidate is
//! compared with a baseline. Parsing and validation only. Unknown keys,
//! a check with no metric or two, and values out of range are errors that
//! name the file, line and key: a misspelled metric must never pass
//! silently.
//!
//! Like the other YAML formats: this file holds the typed policy, `raw.rs`
//! the serde structs that mirror the file, `validate.rs` the rules between.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;

mod raw;
mod validate;

/// Why a policy could not be used (file, line and key).
pub type Error = crate::yaml::FileError;

/// What a finding does in an environment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// Reported only.
    Observe,
    /// Reported as a warning; the change still moves on.
    Warn,
    /// The change does not move on.
    Block,
}

impl Action {
    /// `observe`, `warn` or `block`: the name policies and verdicts use.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// An environment of the policy: what its findings do there.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// What a failed check does.
    pub enforce: Action,
    /// The shortest run (warm-up excluded) that can promote.
    pub min_soak: Option<Duration>,
    /// What an inconclusive comparison does (default: as `enforce`).
    pub on_inconclusive: Action,
    /// What a check without data does (default: as `enforce`).
    pub on_no_data: Action,
}

/// The endpoints a check looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoints {
    /// Every endpoint of the run, each on its own.
    Each,
    /// The run as a whole (a check that names no endpoints).
    Overall,
    /// These, by name (each must be in the run).
    Named(Vec<String>),
}

/// A latency quantile as written (`p50`, `p99.9`) and its fraction.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantile {
    /// As written: `p50`, `p99.9`, `max`.
    pub name: String,
    /// From 0 to 1: 0.999 for `p99.9`, 1 for `max`.
    pub fraction: f64,
}

impl Quantile {
    /// `p50` is 0.5, `p99.9` is 0.999, `max` is 1.
    pub fn parse(s: &str) -> Option<Quantile> {
        let fraction = if s == "max" {
            1.0
        } else {
            let digits = s.strip_prefix('p')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            let v: f64 = digits.parse().ok()?;
            if !(v > 0.0 && v < 100.0) {
                return None;
            }
            v / 100.0
        };
        Some(Quantile {
            name: s.to_string(),
            fraction,
        })
    }
}

/// One window pair of the multiwindow burn-rate rule: the budget burns
/// too fast when both windows burn faster than `factor`.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnWindow {
    /// The long window (e.g. 1h): the burn is sustained.
    pub long: Duration,
    /// The short window (e.g. 5m): the burn is still happening.
    pub short: Duration,
    /// The burn rate, a multiple of the sustainable one, both windows must exceed.
    pub factor: f64,
}

/// What a check measures, and its limit.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// Each quantile at or under its threshold.
    Latency(Vec<(Quantile, Duration)>),
    /// Failed requests (5xx, timeouts, resets; 4xx when `count_4xx`) at or
    /// under `max`, a fraction.
    ErrorRate {
        /// The highest acceptable error rate, a fraction.
        max: f64,
        /// Whether 4xx responses count as errors.
        count_4xx: bool,
    },
    /// A share of requests (`target`, a fraction) answered within
    /// `latency_le` without error, and its budget's burn rate.
    ErrorBudget {
        /// A good request is answered within this, without error.
        latency_le: Duration,
        /// The share of good requests the SLO promises, a fraction.
        target: f64,
        /// The burn-rate windows; none for the budget alone.
        burn: Vec<BurnWindow>,
    },
    /// Achieved over target rate at or above `min`, a fraction; below it
    /// the run cannot judge the others.
    AchievedRate {
        /// The lowest acceptable achieved/target ratio.
        min: f64,
    },
}

/// One entry of the policy's `checks`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The check's `name`, unique in the policy.
    pub name: String,
    /// Line of the check in the policy file.
    pub line: usize,
    /// The endpoints it looks at.
    pub endpoints: Endpoints,
    /// Line of the check's `endpoints` key (the check's line when it has none).
    pub endpoints_line: usize,
    /// A critical check that fails blocks in any environment that does more than observe.
    pub critical: bool,
    /// What it measures, and the limit.
    pub metric: Metric,
}

/// How far a candidate's quantile may move from the baseline's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// A relative change, as a fraction (5% is 0.05).
    Relative(f64),
    /// The noise floor measured by `gate calibrate`.
    FromCalibration,
}

/// The policy's `regression`: how the candidate is compared with a baseline run.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    /// The quantiles compared.
    pub quantiles: Vec<Quantile>,
    /// How far they may move.
    pub tolerance: Tolerance,
    /// Of the confidence intervals, as a fraction.
    pub confidence: f64,
}

/// A validated policy file: its environments, checks and regression comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The file it was read from, for messages.
    pub path: PathBuf,
    /// By name, in the file's order.
    pub environments: IndexMap<String, Environment>,
    /// In the file's order.
    pub checks: Vec<Check>,
    /// The baseline comparison's settings, when the policy has them.
    pub regression: Option<Regression>,
}

/// Read and validate a policy file.
pub fn load(path: &Path) -> Result<Policy, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: "policy",
        path: path.to_path_buf(),
        source,
    })?;
    from_str(&text, path)
}

/// Parse and validate policy text; `path` is used in messages.
pub fn from_str(text: &str, path: &Path) -> Result<Policy, Error> {
    let raw = serde_saphyr::from_str::<raw::RawPolicy>(text).map_err(|e| Error::syntax(&e, text, path))?;
    validate::validate(raw, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, String> {
        from_str(text, Path::new("gate.yaml")).map_err(|e| e.to_string())
    }

    const BASE: &str = "environments:\n  dev: {enforce: observe}\nchecks:\n";

    #[test]
    fn the_example_policy_parses_as_written() {
        let p = load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/gate.yaml"))).unwrap();
        assert_eq!(p.environments.len(), 3);
        let prod = &p.environments["prod"];
        assert_eq!(prod.enforce, Action::Block);
        assert_eq!(prod.min_soak, Some(Duration::from_secs(1800)));
        assert_eq!(p.environments["staging"].on_inconclusive, Action::Warn);
        assert_eq!(p.environments["dev"].on_no_data, Action::Observe);
        assert_eq!(p.checks.len(), 5);
        assert_eq!(p.checks[0].endpoints, Endpoints::Each);
        let Metric::Latency(q) = &p.checks[0].metric else {
            panic!("latency")
        };
        assert!((q[1].0.fraction - 0.999).abs() < 1e-12);
        assert_eq!(q[1].1, Duration::from_secs(1));
        assert_eq!(p.checks[1].endpoints, Endpoints::Named(vec!["create_order".into()]));
        assert!(p.checks[1].critical);
        let Metric::ErrorRate { max, count_4xx: false } = p.checks[2].metric else {
            panic!("errors")
        };
        assert!((max - 0.001).abs() < 1e-12);
        let Metric::ErrorBudget { burn, target, .. } = &p.checks[3].metric else {
            panic!("slo")
        };
        assert!((*target - 0.999).abs() < 1e-12);
        assert_eq!(
            burn[1],
            BurnWindow {
                long: Duration::from_secs(6 * 3600),
                short: Duration::from_secs(1800),
                factor: 6.0
            }
        );
        let Metric::AchievedRate { min } = p.checks[4].metric else {
            panic!("rate")
        };
        assert!((min - 0.99).abs() < 1e-12);
        let r = p.regression.unwrap();
        let Tolerance::Relative(t) = r.tolerance else {
            panic!("tolerance")
        };
        assert!((t - 0.05).abs() < 1e-12);
        assert_eq!(r.quantiles.len(), 3);
    }

    #[test]
    fn mistakes_name_the_line_and_key() {
        for (body, line, expect) in [
            ("  - name: lat\n    latncy: {p99: 1s}\n", 5, "unknown key `latncy`"),
            ("  - name: lat\n    latency: {p98.5x: 1s}\n", 5, "not a quantile"),
            ("  - name: lat\n", 4, "no metric"),
            (
                "  - name: two\n    latency: {p99: 1s}\n    error_rate: {max: 1%}\n",
                4,
                "latency, error_rate metrics",
            ),
            (
                "  - name: burn\n    burn_rate: {windows: [[1h, 5m, 14.4]]}\n",
                4,
                "add `slo`",
            ),
            (
                "  - name: slo\n    slo: {latency_le: 1s, target: 100%}\n",
                5,
                "no error budget",
            ),
            (
                "  - name: w\n    slo: {latency_le: 1s, target: 99%}\n    burn_rate: {windows: [[5m, 1h, 2]]}\n",
                6,
                "shorter",
            ),
            (
                "  - name: e\n    endpoints: []\n    latency: {p99: 1s}\n",
                5,
                "selects nothing",
            ),
            (
                "  - name: a\n    latency: {p99: 1s}\n  - name: a\n    latency: {p50: 1s}\n",
                6,
                "a second check named `a`",
            ),
            (
                "  - name: r\n    achieved_rate: {min: 99%}\n    endpoints: [x]\n",
                4,
                "leave out `endpoints`",
            ),
        ] {
            let e = parse(&format!("{BASE}{body}")).unwrap_err();
            assert!(e.starts_with(&format!("gate.yaml:{line}:")), "{e}");
            assert!(e.contains(expect), "{e}");
        }
        let e = parse("environments:\n  prod: {enforce: blok}\nchecks:\n  - name: x\n    latency: {p99: 1s}\n")
            .unwrap_err();
        assert!(
            e.starts_with("gate.yaml:2: key `enforce`") && e.contains("observe, warn or block"),
            "{e}"
        );
        let e = parse(&format!("{BASE}  - name: x\n    latency: {{p99: 1s}}\nregression:\n  quantiles: [p50]\n  tolerance: five\n  confidence: 95%\n")).unwrap_err();
        assert!(e.contains("key `tolerance`") && e.contains("from calibration"), "{e}");
    }

    #[test]
    fn quantiles_and_defaults() {
        assert_eq!(Quantile::parse("p50").unwrap().fraction, 0.5);
        assert_eq!(Quantile::parse("max").unwrap().fraction, 1.0);
        for bad in ["p100", "p0", "99", "p", "p9x", "P99"] {
            assert!(Quantile::parse(bad).is_none(), "{bad}");
        }
        let p = parse(&format!("{BASE}  - name: all\n    latency: {{p99: 1s}}\nregression:\n  quantiles: [p99]\n  tolerance: from calibration\n  confidence: 90%\n")).unwrap();
        assert_eq!(p.checks[0].endpoints, Endpoints::Overall);
        assert_eq!(p.regression.unwrap().tolerance, Tolerance::FromCalibration);
    }
}
