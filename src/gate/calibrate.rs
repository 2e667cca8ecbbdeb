//! `gate calibrate`: A/A runs (the same build, the same profile, one after
//! another) measure how much a quantile moves between runs when nothing
//! changed. That noise floor, per metric, is the regression tolerance a
//! policy gets with `tolerance: from calibration`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::Error;
use super::format::fmt_pct;
use super::policy::Quantile;
use super::stats::{self, Grid};
use crate::results::run::Run;

/// Bumped on any incompatible change to the calibration file.
pub const SCHEMA_VERSION: u32 = 1;

/// A noise floor is never taken below this: 1%.
pub const MIN_TOLERANCE: f64 = 0.01;

/// The quantiles calibrated when no policy says which.
pub const DEFAULT_QUANTILES: [&str; 4] = ["p50", "p90", "p99", "p99.9"];

/// One pair of A/A runs: the relative change of each metric between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The first run's directory.
    pub a: String,
    /// The second run's directory.
    pub b: String,
    /// Per metric (`p50`, ..., `shape`): the relative change from `a` to `b`.
    pub delta: BTreeMap<String, f64>,
}

/// A calibration file (`loadline gate calibrate --out`): the noise floor between A/A runs, which a policy's `tolerance: from calibration` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Bumped on any incompatible change to the file.
    pub schema_version: u32,
    /// The loadline that wrote it.
    pub loadline_version: String,
    /// The A/A runs' directories.
    pub runs: Vec<String>,
    /// Per metric (`p50`, ..., `shape`): the largest relative change
    /// between any two runs, at least 1%. The regression tolerance.
    pub noise: BTreeMap<String, f64>,
    /// Metrics that could not be calibrated, and why.
    pub skipped: BTreeMap<String, String>,
    /// Every pair of runs and its changes, the evidence behind `noise`.
    pub pairs: Vec<Pair>,
    /// The file this was read from (not written).
    #[serde(skip)]
    pub source: String,
}

impl Calibration {
    /// The tolerance for a metric, if the calibration measured it.
    pub fn tolerance(&self, metric: &str) -> Option<f64> {
        self.noise.get(metric).map(|n| n.max(MIN_TOLERANCE))
    }

    /// Read a calibration file, refusing another schema version.
    pub fn load(path: &Path) -> Result<Calibration, Error> {
        let shown = || path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| Error::ReadCalibration { path: shown(), cause })?;
        let mut c: Calibration =
            serde_json::from_str(&text).map_err(|cause| Error::NotACalibration { path: shown(), cause })?;
        if c.schema_version != SCHEMA_VERSION {
            return Err(Error::CalibrationVersion {
                path: shown(),
                found: c.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        c.source = shown();
        Ok(c)
    }

    /// A plain-text table of the noise floors.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "noise floor over {} A/A runs ({} pairs):",
            self.runs.len(),
            self.pairs.len()
        );
        let _ = writeln!(out, "  {:<10} {:>10}   pairs", "metric", "tolerance");
        for (m, n) in &self.noise {
            let each: Vec<String> = self
                .pairs
                .iter()
                .filter_map(|p| p.delta.get(m))
                .map(|d| format!("{:+.2}%", d * 100.0))
                .collect();
            let _ = writeln!(
                out,
                "  {m:<10} {:>10}   {}",
                fmt_pct(n.max(MIN_TOLERANCE)),
                each.join(" ")
            );
        }
        for (m, why) in &self.skipped {
            let _ = writeln!(out, "  {m:<10} {:>10}   {why}", "-");
        }
        out
    }
}

/// A/A runs must all have run the same profile.
fn same_profile(runs: &[Run]) -> Result<(), Error> {
    let profiles: Vec<&str> = runs.iter().map(|r| r.summary.profile.name.as_str()).collect();
    if profiles.windows(2).any(|w| w[0] != w[1]) {
        return Err(Error::MixedProfiles {
            profiles: profiles.join(", "),
        });
    }
    Ok(())
}

/// Measure the noise floor of `runs` (at least two) for `quantiles`.
pub fn calibrate(runs: &[Run], quantiles: &[Quantile]) -> Result<Calibration, Error> {
    if runs.len() < 2 {
        return Err(Error::TooFewRuns);
    }
    same_profile(runs)?;
    let mut qs: Vec<&Quantile> = quantiles.iter().collect();
    qs.sort_by(|a, b| a.fraction.total_cmp(&b.fraction));
    let min_n = runs.iter().map(|r| r.overall.len()).min().unwrap_or(0);
    let mut skipped = BTreeMap::new();
    let usable: Vec<&Quantile> = qs
        .into_iter()
        .filter(|q| {
            let ok = stats::estimable(min_n, q.fraction);
            if !ok {
                skipped.insert(
                    q.name.clone(),
                    format!(
                        "not enough samples: {min_n} requests in the shortest run, needs {}",
                        stats::needed(q.fraction)
                    ),
                );
            }
            ok
        })
        .collect();
    let top = usable.iter().rev().find(|q| q.fraction > 0.5).copied();
    if top.is_none() {
        skipped.insert("shape".into(), "no calibrated quantile above p50".into());
    }
    let mut fractions: Vec<f64> = usable.iter().map(|q| q.fraction).collect();
    fractions.push(0.5);
    fractions.sort_by(f64::total_cmp);
    fractions.dedup();
    let at = |dense: &[u64], values: &[u64], f: f64| -> f64 {
        stats::quantiles(dense, values, &[f]).map_or(0.0, |v| v[0] as f64)
    };
    let mut pairs = Vec::new();
    let mut noise: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..runs.len() {
        for j in i + 1..runs.len() {
            let (a, b) = (&runs[i], &runs[j]);
            let all = |r: &Run| (0..r.endpoints.len()).collect::<Vec<_>>();
            let grid = Grid::of(&a.blocks, &all(a), &b.blocks, &all(b));
            let (ta, tb) = (grid.total(&grid.a), grid.total(&grid.b));
            let mut delta = BTreeMap::new();
            for q in &usable {
                let (x, y) = (at(&ta, &grid.values, q.fraction), at(&tb, &grid.values, q.fraction));
                if x > 0.0 {
                    delta.insert(q.name.clone(), y / x - 1.0);
                }
            }
            if let Some(t) = top {
                let sa = at(&ta, &grid.values, t.fraction) - at(&ta, &grid.values, 0.5);
                let sb = at(&tb, &grid.values, t.fraction) - at(&tb, &grid.values, 0.5);
                if sa > 0.0 {
                    delta.insert("shape".into(), sb / sa - 1.0);
                }
            }
            for (m, d) in &delta {
                let e = noise.entry(m.clone()).or_insert(0.0);
                *e = e.max(d.abs());
            }
            pairs.push(Pair {
                a: a.dir.display().to_string(),
                b: b.dir.display().to_string(),
                delta,
            });
        }
    }
    Ok(Calibration {
        schema_version: SCHEMA_VERSION,
        loadline_version: env!("CARGO_PKG_VERSION").to_string(),
        runs: runs.iter().map(|r| r.dir.display().to_string()).collect(),
        noise,
        skipped,
        pairs,
        source: String::new(),
    })
}
