//! The gate policy format (`profiles/gate.yaml` is a commented example):
//! environments with their enforcement, the checks, and how a candidate is
//! compared with a baseline. Parsing and validation only. Unknown keys,
//! a check with no metric or two, and values out of range are errors that
//! name the file, line and key: a misspelled metric must never pass
//! silently.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::units::{Dur, Percent};
use crate::yaml::Ctx;

use crate::yaml::S;

/// Why a policy could not be used (file, line and key).
pub type Error = crate::yaml::FileError;

/// What a finding does in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Reported only.
    Observe,
    /// Reported as a warning; the change still moves on.
    Warn,
    /// The change does not move on.
    Block,
}

impl Action {
    pub const ALL: [(&'static str, Action); 3] = [
        ("observe", Action::Observe),
        ("warn", Action::Warn),
        ("block", Action::Block),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Observe => "observe",
            Action::Warn => "warn",
            Action::Block => "block",
        }
    }
}

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
    pub name: String,
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
    pub long: Duration,
    pub short: Duration,
    pub factor: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// Each quantile at or under its threshold.
    Latency(Vec<(Quantile, Duration)>),
    /// Failed requests (5xx, timeouts, resets; 4xx when `count_4xx`) at or
    /// under `max`, a fraction.
    ErrorRate { max: f64, count_4xx: bool },
    /// A share of requests (`target`, a fraction) answered within
    /// `latency_le` without error, and its budget's burn rate.
    ErrorBudget {
        latency_le: Duration,
        target: f64,
        burn: Vec<BurnWindow>,
    },
    /// Achieved over target rate at or above `min`, a fraction; below it
    /// the run cannot judge the others.
    AchievedRate { min: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    /// Line of the check in the policy file.
    pub line: usize,
    pub endpoints: Endpoints,
    /// Line of the check's `endpoints` key (the check's line when it has none).
    pub endpoints_line: usize,
    pub critical: bool,
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

#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub quantiles: Vec<Quantile>,
    pub tolerance: Tolerance,
    /// Of the confidence intervals, as a fraction.
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub path: PathBuf,
    pub environments: IndexMap<String, Environment>,
    pub checks: Vec<Check>,
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
    let raw = serde_saphyr::from_str::<RawPolicy>(text).map_err(|e| Error::syntax(&e, text, path))?;
    Validator { cx: Ctx::new(path) }.policy(raw)
}

// ------------------------------------------------------------------ raw

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    environments: S<IndexMap<String, S<RawEnvironment>>>,
    checks: S<Vec<S<RawCheck>>>,
    #[serde(default)]
    regression: Option<S<RawRegression>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    enforce: S<String>,
    #[serde(default)]
    min_soak: Option<S<Dur>>,
    #[serde(default)]
    on_inconclusive: Option<S<String>>,
    #[serde(default)]
    on_no_data: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawEndpoints {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: S<String>,
    #[serde(default)]
    endpoints: Option<S<RawEndpoints>>,
    #[serde(default)]
    critical: Option<bool>,
    #[serde(default)]
    latency: Option<S<IndexMap<String, S<Dur>>>>,
    #[serde(default)]
    error_rate: Option<S<RawErrorRate>>,
    #[serde(default)]
    slo: Option<S<RawSlo>>,
    #[serde(default)]
    burn_rate: Option<S<RawBurnRate>>,
    #[serde(default)]
    achieved_rate: Option<S<RawAchievedRate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErrorRate {
    max: S<Percent>,
    #[serde(default)]
    count_4xx: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    latency_le: S<Dur>,
    target: S<Percent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBurnRate {
    windows: S<Vec<(Dur, Dur, f64)>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAchievedRate {
    min: S<Percent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegression {
    quantiles: S<Vec<String>>,
    tolerance: S<String>,
    confidence: S<Percent>,
}

// ----------------------------------------------------------- validation

/// The policy's validation: each part of the raw policy to its typed form.
struct Validator<'a> {
    cx: Ctx<'a, Error>,
}

impl Validator<'_> {
    fn err(&self, line: u64, key: &str, message: impl Into<String>) -> Error {
        self.cx.err(line, key, message)
    }

    fn policy(&self, raw: RawPolicy) -> Result<Policy, Error> {
        if raw.environments.value.is_empty() {
            return Err(self.err(
                raw.environments.referenced.line(),
                "environments",
                "no environments: list at least one",
            ));
        }
        let mut environments = IndexMap::new();
        for (name, env) in &raw.environments.value {
            environments.insert(name.clone(), self.environment(&env.value)?);
        }
        if raw.checks.value.is_empty() {
            return Err(self.err(raw.checks.referenced.line(), "checks", "no checks: list at least one"));
        }
        let mut checks: Vec<Check> = Vec::new();
        for c in &raw.checks.value {
            let check = self.check(&c.value, c.referenced.line())?;
            if checks.iter().any(|o| o.name == check.name) {
                return Err(self.err(
                    c.value.name.referenced.line(),
                    "name",
                    format!("a second check named `{}`", check.name),
                ));
            }
            checks.push(check);
        }
        let regression = raw.regression.as_ref().map(|r| self.regression(&r.value)).transpose()?;
        Ok(Policy {
            path: self.cx.path.to_path_buf(),
            environments,
            checks,
            regression,
        })
    }

    fn action(&self, s: &S<String>, key: &str) -> Result<Action, Error> {
        Action::ALL
            .iter()
            .find(|(n, _)| *n == s.value)
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                self.err(
                    s.referenced.line(),
                    key,
                    format!("`{}`: expected observe, warn or block", s.value),
                )
            })
    }

    fn environment(&self, e: &RawEnvironment) -> Result<Environment, Error> {
        let enforce = self.action(&e.enforce, "enforce")?;
        let or_enforce = |v: &Option<S<String>>, key| v.as_ref().map_or(Ok(enforce), |v| self.action(v, key));
        Ok(Environment {
            enforce,
            min_soak: e.min_soak.as_ref().map(|d| d.value.0),
            on_inconclusive: or_enforce(&e.on_inconclusive, "on_inconclusive")?,
            on_no_data: or_enforce(&e.on_no_data, "on_no_data")?,
        })
    }

    fn check(&self, c: &RawCheck, line: u64) -> Result<Check, Error> {
        let name = c.name.value.trim().to_string();
        if name.is_empty() {
            return Err(self.err(c.name.referenced.line(), "name", "a check needs a name"));
        }
        let endpoints = match c.endpoints.as_ref().map(|e| (&e.value, e.referenced.line())) {
            None => Endpoints::Overall,
            Some((RawEndpoints::One(s), _)) if s == "*" => Endpoints::Each,
            Some((RawEndpoints::One(s), _)) => Endpoints::Named(vec![s.clone()]),
            Some((RawEndpoints::Many(v), l)) if v.is_empty() => {
                return Err(self.err(
                    l,
                    "endpoints",
                    "an empty list selects nothing: name endpoints or write \"*\"",
                ))
            }
            Some((RawEndpoints::Many(v), _)) => Endpoints::Named(v.clone()),
        };
        let given: Vec<&str> = [
            ("latency", c.latency.is_some()),
            ("error_rate", c.error_rate.is_some()),
            ("slo", c.slo.is_some()),
            ("achieved_rate", c.achieved_rate.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(k, _)| *k)
        .collect();
        if c.burn_rate.is_some() && c.slo.is_none() {
            return Err(self.err(
                line,
                "burn_rate",
                "burn_rate measures an SLO's budget: add `slo` to this check",
            ));
        }
        let metric = match given.as_slice() {
            [] => {
                return Err(self.err(
                    line,
                    "checks",
                    format!("check `{name}` has no metric: give one of latency, error_rate, slo (with burn_rate) or achieved_rate"),
                ))
            }
            [_] => self.metric(c)?,
            more => {
                return Err(self.err(
                    line,
                    "checks",
                    format!("check `{name}` has {} metrics: split it, one metric per check", more.join(", ")),
                ))
            }
        };
        if matches!(metric, Metric::AchievedRate { .. }) && c.endpoints.is_some() {
            return Err(self.err(
                line,
                "endpoints",
                "achieved_rate is the run's as a whole: leave out `endpoints`",
            ));
        }
        Ok(Check {
            name,
            line: line as usize,
            endpoints,
            endpoints_line: c.endpoints.as_ref().map_or(line, |e| e.referenced.line()) as usize,
            critical: c.critical.unwrap_or(false),
            metric,
        })
    }

    fn metric(&self, c: &RawCheck) -> Result<Metric, Error> {
        if let Some(l) = &c.latency {
            if l.value.is_empty() {
                return Err(self.err(
                    l.referenced.line(),
                    "latency",
                    "no quantiles: give one, such as `p99: 250ms`",
                ));
            }
            let mut out = Vec::new();
            for (q, d) in &l.value {
                let quantile = Quantile::parse(q).ok_or_else(|| {
                    self.err(
                        d.referenced.line(),
                        q,
                        "not a quantile: write p50, p90, p99, p99.9, p99.99 or max",
                    )
                })?;
                if d.value.0.is_zero() {
                    return Err(self.err(d.referenced.line(), q, "a threshold of 0 can never pass"));
                }
                out.push((quantile, d.value.0));
            }
            return Ok(Metric::Latency(out));
        }
        if let Some(e) = &c.error_rate {
            return Ok(Metric::ErrorRate {
                max: e.value.max.value.fraction(),
                count_4xx: e.value.count_4xx.unwrap_or(false),
            });
        }
        if let Some(s) = &c.slo {
            let target = s.value.target.value.fraction();
            if !(target > 0.0 && target < 1.0) {
                return Err(self.err(
                    s.value.target.referenced.line(),
                    "target",
                    "an SLO target lies strictly between 0% and 100% (100% leaves no error budget)",
                ));
            }
            if s.value.latency_le.value.0.is_zero() {
                return Err(self.err(
                    s.value.latency_le.referenced.line(),
                    "latency_le",
                    "a latency of 0 can never be met",
                ));
            }
            let mut burn = Vec::new();
            if let Some(b) = &c.burn_rate {
                let line = b.value.windows.referenced.line();
                if b.value.windows.value.is_empty() {
                    return Err(self.err(
                        line,
                        "windows",
                        "no windows: give [long, short, factor] pairs such as [1h, 5m, 14.4]",
                    ));
                }
                for (long, short, factor) in &b.value.windows.value {
                    if short.0.is_zero() || short.0 >= long.0 {
                        return Err(self.err(line, "windows", format!("[{long}, {short}, {factor}]: the short window must be shorter than the long one, and not 0")));
                    }
                    if !(factor.is_finite() && *factor > 0.0) {
                        return Err(self.err(
                            line,
                            "windows",
                            format!("[{long}, {short}, {factor}]: the burn factor must be above 0"),
                        ));
                    }
                    burn.push(BurnWindow {
                        long: long.0,
                        short: short.0,
                        factor: *factor,
                    });
                }
            }
            return Ok(Metric::ErrorBudget {
                latency_le: s.value.latency_le.value.0,
                target,
                burn,
            });
        }
        let Some(a) = &c.achieved_rate else {
            return Err(self.err(0, "checks", "no metric"));
        };
        let min = a.value.min.value.fraction();
        if min <= 0.0 {
            return Err(self.err(a.value.min.referenced.line(), "min", "a minimum of 0% checks nothing"));
        }
        Ok(Metric::AchievedRate { min })
    }

    fn regression(&self, r: &RawRegression) -> Result<Regression, Error> {
        let line = r.quantiles.referenced.line();
        if r.quantiles.value.is_empty() {
            return Err(self.err(line, "quantiles", "no quantiles: give some, such as [p50, p99]"));
        }
        let quantiles = r
            .quantiles
            .value
            .iter()
            .map(|q| {
                Quantile::parse(q).filter(|q| q.fraction < 1.0).ok_or_else(|| {
                    self.err(
                        line,
                        "quantiles",
                        format!("`{q}`: not a quantile: write p50, p90, p99, p99.9 or p99.99"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let t = r.tolerance.value.trim();
        let tolerance = if t == "from calibration" {
            Tolerance::FromCalibration
        } else {
            let p: Percent = t.parse().map_err(|_| {
                self.err(
                    r.tolerance.referenced.line(),
                    "tolerance",
                    format!("`{t}`: expected a percentage such as 5%, or `from calibration`"),
                )
            })?;
            if p.fraction() <= 0.0 {
                return Err(self.err(
                    r.tolerance.referenced.line(),
                    "tolerance",
                    "a tolerance of 0% fails on noise alone",
                ));
            }
            Tolerance::Relative(p.fraction())
        };
        let confidence = r.confidence.value.fraction();
        if !(0.5..1.0).contains(&confidence) {
            return Err(self.err(
                r.confidence.referenced.line(),
                "confidence",
                "a confidence lies between 50% and 100% (excluded)",
            ));
        }
        Ok(Regression {
            quantiles,
            tolerance,
            confidence,
        })
    }
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
