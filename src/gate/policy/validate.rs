//! The policy's rules beyond its shape: environments and checks present,
//! names unique, values in range, every mistake named by file, line and key.

use crate::units::{Dur, Percent};
use std::path::Path;

use indexmap::IndexMap;

use super::raw::*;
use super::*;
use crate::yaml::{Ctx, S};

/// Validate a parsed policy; `path` names the file in errors.
pub(super) fn validate(raw: RawPolicy, path: &Path) -> Result<Policy, Error> {
    Validator { cx: Ctx::new(path) }.policy(raw)
}

/// The policy's validation: each part of the raw policy to its typed form.
struct Validator<'a> {
    cx: Ctx<'a, Error>,
}

impl Validator<'_> {
    fn policy(&self, raw: RawPolicy) -> Result<Policy, Error> {
        if raw.environments.value.is_empty() {
            return Err(self.cx.err(
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
            return Err(self
                .cx
                .err(raw.checks.referenced.line(), "checks", "no checks: list at least one"));
        }
        let mut checks: Vec<Check> = Vec::new();
        for c in &raw.checks.value {
            let check = self.check(&c.value, c.referenced.line())?;
            if checks.iter().any(|o| o.name == check.name) {
                return Err(self.cx.err(
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
        s.value.parse::<Action>().map_err(|_| {
            self.cx.err(
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
            return Err(self.cx.err(c.name.referenced.line(), "name", "a check needs a name"));
        }
        let endpoints = match c.endpoints.as_ref().map(|e| (&e.value, e.referenced.line())) {
            None => Endpoints::Overall,
            Some((RawEndpoints::One(s), _)) if s == "*" => Endpoints::Each,
            Some((RawEndpoints::One(s), _)) => Endpoints::Named(vec![s.clone()]),
            Some((RawEndpoints::Many(v), l)) if v.is_empty() => {
                return Err(self.cx.err(
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
            return Err(self.cx.err(
                line,
                "burn_rate",
                "burn_rate measures an SLO's budget: add `slo` to this check",
            ));
        }
        let metric = match given.as_slice() {
            [] => {
                return Err(self.cx.err(
                    line,
                    "checks",
                    format!("check `{name}` has no metric: give one of latency, error_rate, slo (with burn_rate) or achieved_rate"),
                ))
            }
            [_] => self.metric(c)?,
            more => {
                return Err(self.cx.err(
                    line,
                    "checks",
                    format!("check `{name}` has {} metrics: split it, one metric per check", more.join(", ")),
                ))
            }
        };
        if matches!(metric, Metric::AchievedRate { .. }) && c.endpoints.is_some() {
            return Err(self.cx.err(
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

    /// The check's metric: the one of `latency`, `error_rate`, `slo` or `achieved_rate` it has.
    fn metric(&self, c: &RawCheck) -> Result<Metric, Error> {
        if let Some(l) = &c.latency {
            return self.latency(l);
        }
        if let Some(e) = &c.error_rate {
            return Ok(Metric::ErrorRate {
                max: e.value.max.value.fraction(),
                count_4xx: e.value.count_4xx.unwrap_or(false),
            });
        }
        if let Some(s) = &c.slo {
            return self.slo(s, c.burn_rate.as_ref());
        }
        let Some(a) = &c.achieved_rate else {
            return Err(self.cx.err(0, "checks", "no metric"));
        };
        let min = a.value.min.value.fraction();
        if min <= 0.0 {
            return Err(self
                .cx
                .err(a.value.min.referenced.line(), "min", "a minimum of 0% checks nothing"));
        }
        Ok(Metric::AchievedRate { min })
    }

    /// `latency: {p99: 250ms, ...}`: known quantiles, thresholds above 0.
    fn latency(&self, l: &S<IndexMap<String, S<Dur>>>) -> Result<Metric, Error> {
        if l.value.is_empty() {
            return Err(self.cx.err(
                l.referenced.line(),
                "latency",
                "no quantiles: give one, such as `p99: 250ms`",
            ));
        }
        let mut out = Vec::new();
        for (q, d) in &l.value {
            let quantile = Quantile::parse(q).ok_or_else(|| {
                self.cx.err(
                    d.referenced.line(),
                    q,
                    "not a quantile: write p50, p90, p99, p99.9, p99.99 or max",
                )
            })?;
            if d.value.0.is_zero() {
                return Err(self.cx.err(d.referenced.line(), q, "a threshold of 0 can never pass"));
            }
            out.push((quantile, d.value.0));
        }
        Ok(Metric::Latency(out))
    }

    /// `slo: {latency_le, target}`, with the check's `burn_rate` windows if it has them.
    fn slo(&self, s: &S<RawSlo>, burn_rate: Option<&S<RawBurnRate>>) -> Result<Metric, Error> {
        let target = s.value.target.value.fraction();
        if !(target > 0.0 && target < 1.0) {
            return Err(self.cx.err(
                s.value.target.referenced.line(),
                "target",
                "an SLO target lies strictly between 0% and 100% (100% leaves no error budget)",
            ));
        }
        if s.value.latency_le.value.0.is_zero() {
            return Err(self.cx.err(
                s.value.latency_le.referenced.line(),
                "latency_le",
                "a latency of 0 can never be met",
            ));
        }
        let burn = match burn_rate {
            Some(b) => self.burn_windows(b)?,
            None => Vec::new(),
        };
        Ok(Metric::ErrorBudget {
            latency_le: s.value.latency_le.value.0,
            target,
            burn,
        })
    }

    /// `burn_rate: {windows: [[long, short, factor], ...]}`.
    fn burn_windows(&self, b: &S<RawBurnRate>) -> Result<Vec<BurnWindow>, Error> {
        let line = b.value.windows.referenced.line();
        if b.value.windows.value.is_empty() {
            return Err(self.cx.err(
                line,
                "windows",
                "no windows: give [long, short, factor] pairs such as [1h, 5m, 14.4]",
            ));
        }
        let mut burn = Vec::new();
        for (long, short, factor) in &b.value.windows.value {
            if short.0.is_zero() || short.0 >= long.0 {
                return Err(self.cx.err(
                    line,
                    "windows",
                    format!(
                        "[{long}, {short}, {factor}]: the short window must be shorter than the long one, and not 0"
                    ),
                ));
            }
            if !(factor.is_finite() && *factor > 0.0) {
                return Err(self.cx.err(
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
        Ok(burn)
    }

    fn regression(&self, r: &RawRegression) -> Result<Regression, Error> {
        let line = r.quantiles.referenced.line();
        if r.quantiles.value.is_empty() {
            return Err(self
                .cx
                .err(line, "quantiles", "no quantiles: give some, such as [p50, p99]"));
        }
        let quantiles = r
            .quantiles
            .value
            .iter()
            .map(|q| {
                Quantile::parse(q).filter(|q| q.fraction < 1.0).ok_or_else(|| {
                    self.cx.err(
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
                self.cx.err(
                    r.tolerance.referenced.line(),
                    "tolerance",
                    format!("`{t}`: expected a percentage such as 5%, or `from calibration`"),
                )
            })?;
            if p.fraction() <= 0.0 {
                return Err(self.cx.err(
                    r.tolerance.referenced.line(),
                    "tolerance",
                    "a tolerance of 0% fails on noise alone",
                ));
            }
            Tolerance::Relative(p.fraction())
        };
        let confidence = r.confidence.value.fraction();
        if !(0.5..1.0).contains(&confidence) {
            return Err(self.cx.err(
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
