//! The comparison with a baseline run: each quantile's relative change (and
//! the spread's, and Cliff's delta) with a block-bootstrap interval, judged
//! against the tolerance.

use std::collections::BTreeMap;

use super::check::row;
use super::error::Error;
use super::options::Options;
use super::policy::{Policy, Quantile, Regression, Tolerance};
use super::stats::{self, Grid, Statistic};
use super::verdict::{Comparison, Outcome, Row, Scope, Unit};
use crate::results::run::Run;
use crate::values::seed::derive_seed;

/// The tolerance for a metric (`p99`, `shape`).
fn tolerance(reg: &Regression, metric: &str, opts: &Options, policy: &Policy) -> Result<f64, Error> {
    match reg.tolerance {
        Tolerance::Relative(t) => Ok(t),
        Tolerance::FromCalibration => {
            let cal = opts.calibration.ok_or_else(|| Error::NeedsCalibration {
                policy: policy.path.display().to_string(),
            })?;
            cal.tolerance(metric).ok_or_else(|| Error::NotCalibrated {
                file: cal.source.clone(),
                metric: metric.to_string(),
                known: cal.noise.keys().cloned().collect::<Vec<_>>().join(", "),
            })
        }
    }
}

/// The regression settings when the policy has none: p50, p99, p99.9 within 5% at 95%.
pub fn default_regression() -> Regression {
    Regression {
        quantiles: ["p50", "p99", "p99.9"]
            .iter()
            .filter_map(|q| Quantile::parse(q))
            .collect(),
        tolerance: Tolerance::Relative(0.05),
        confidence: 0.95,
    }
}

/// What one replicate of the comparison measures: each quantile's relative
/// change, the spread's relative change, and Cliff's delta.
struct Compare {
    /// Ascending, p50 included.
    qs: Vec<f64>,
    median: usize,
    top: Option<usize>,
}

/// Relative change of `b` over `a`, capped at a factor of a million either
/// way so a replicate with a zero spread stays a finite number in JSON.
fn rel(b: f64, a: f64) -> f64 {
    const CAP: f64 = 1e6;
    if a == 0.0 {
        if b == 0.0 {
            0.0
        } else {
            CAP
        }
    } else {
        (b / a - 1.0).clamp(-CAP, CAP)
    }
}

impl Statistic for Compare {
    fn measure(&self, values: &[u64], a: &[u64], b: &[u64]) -> Option<Vec<f64>> {
        let qa = stats::quantiles(a, values, &self.qs)?;
        let qb = stats::quantiles(b, values, &self.qs)?;
        let mut out: Vec<f64> = qa.iter().zip(&qb).map(|(&x, &y)| rel(y as f64, x as f64)).collect();
        if let Some(t) = self.top {
            let sa = qa[t].saturating_sub(qa[self.median]) as f64;
            let sb = qb[t].saturating_sub(qb[self.median]) as f64;
            out.push(rel(sb, sa));
        }
        out.push(stats::rank_test(a, b)?.cliffs_delta);
        Some(out)
    }
}

/// Pass when the whole interval is within the tolerance, fail when it is
/// all beyond, otherwise inconclusive. Getting faster is never a failure.
fn judge(interval: Option<(f64, f64)>, tol: f64) -> Outcome {
    match interval {
        Some((lo, _)) if lo > tol => Outcome::Fail,
        Some((_, hi)) if hi <= tol => Outcome::Pass,
        Some(_) => Outcome::Inconclusive,
        None => Outcome::NoData,
    }
}

fn cliff_words(d: f64) -> &'static str {
    match d.abs() {
        x if x < 0.147 => "negligible",
        x if x < 0.33 => "small",
        x if x < 0.474 => "medium",
        _ => "large",
    }
}

pub fn regression_check(
    policy: &Policy,
    run: &Run,
    baseline: Option<&Run>,
    opts: &Options,
) -> Result<Option<Vec<Row>>, Error> {
    let reg = match (&policy.regression, baseline) {
        (Some(r), _) => r.clone(),
        (None, Some(_)) => default_regression(),
        (None, None) => return Ok(None),
    };
    let Some(base) = baseline else {
        let mut r = row(Scope::Overall, "baseline comparison", Unit::Us);
        r.note = Some("no baseline run given (--baseline DIR)".into());
        return Ok(Some(vec![r]));
    };
    let mut tols = BTreeMap::new();
    for q in &reg.quantiles {
        tols.insert(q.name.clone(), tolerance(&reg, &q.name, opts, policy)?);
    }
    let shape_tol = tolerance(&reg, "shape", opts, policy)?;
    let mut scopes = vec![(
        Scope::Overall,
        (0..run.endpoints.len()).collect::<Vec<_>>(),
        (0..base.endpoints.len()).collect::<Vec<_>>(),
    )];
    let mut rows = Vec::new();
    for (i, e) in run.endpoints.iter().enumerate() {
        match base.endpoint(e) {
            Some(j) => scopes.push((Scope::Endpoint(e.clone()), vec![i], vec![j])),
            None => {
                let mut r = row(Scope::Endpoint(e.clone()), "baseline comparison", Unit::Us);
                r.outcome = None;
                r.note = Some("not in the baseline run: nothing to compare".into());
                rows.push(r);
            }
        }
    }
    // Scopes are independent and seeded each on its own: one thread per
    // core, the same rows in the same order whatever the core count.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, scopes.len());
    let per_thread = scopes.len().div_ceil(threads);
    let compared: Vec<Vec<Row>> = std::thread::scope(|s| {
        let handles: Vec<_> = scopes
            .chunks(per_thread)
            .map(|chunk| {
                let (reg, tols) = (&reg, &tols);
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(name, ce, be)| compare_scope(name, run, ce, base, be, reg, tols, shape_tol, opts))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    rows.extend(compared.into_iter().flatten());
    Ok(Some(rows))
}

/// Compare one scope (all endpoints, or one) of the candidate with the baseline: a row per
/// quantile of the policy, the spread, and the rank test.
#[allow(clippy::too_many_arguments)]
fn compare_scope(
    scope: &Scope,
    run: &Run,
    cand_eps: &[usize],
    base: &Run,
    base_eps: &[usize],
    reg: &Regression,
    tols: &BTreeMap<String, f64>,
    shape_tol: f64,
    opts: &Options,
) -> Vec<Row> {
    let grid = Grid::of(&base.blocks, base_eps, &run.blocks, cand_eps);
    let (ta, tb) = (grid.total(&grid.a), grid.total(&grid.b));
    let block_lens = (base.block_len, run.block_len);
    let s = ScopeStats::new(scope, &grid, block_lens, &ta, &tb, reg, opts);
    let mut rows = s.quantile_rows(tols);
    // A policy that compares no quantile above the median asks for no spread.
    if s.qs.iter().any(|&q| q > 0.5) {
        rows.push(s.spread_row(shape_tol));
    }
    rows.push(s.rank_row(&ta, &tb));
    rows
}

/// One scope's quantiles in both runs and their bootstrap samples.
struct ScopeStats<'a> {
    scope: &'a Scope,
    reg: &'a Regression,
    /// The policy's quantiles and the median, sorted, without repeats.
    qs: Vec<f64>,
    /// Where the median is in `qs`.
    median: usize,
    /// The highest quantile above the median that both runs can estimate.
    top: Option<usize>,
    /// Requests in the baseline and the candidate.
    na: u64,
    nb: u64,
    /// Blocks in the baseline and the candidate, and their lengths in seconds.
    blocks: (usize, usize),
    block_lens: (u64, u64),
    /// Whether both runs have enough blocks for the bootstrap.
    enough_blocks: bool,
    /// The quantiles of `qs` in the baseline and the candidate.
    pa: Option<Vec<u64>>,
    pb: Option<Vec<u64>>,
    boot: Option<stats::Bootstrap>,
}

impl<'a> ScopeStats<'a> {
    fn new(
        scope: &'a Scope,
        grid: &Grid,
        block_lens: (u64, u64),
        ta: &[u64],
        tb: &[u64],
        reg: &'a Regression,
        opts: &Options,
    ) -> Self {
        let (na, nb): (u64, u64) = (ta.iter().sum(), tb.iter().sum());
        let mut qs: Vec<f64> = reg.quantiles.iter().map(|q| q.fraction).collect();
        qs.push(0.5);
        qs.sort_by(f64::total_cmp);
        qs.dedup();
        let median = qs.iter().position(|&q| q == 0.5).unwrap_or(0);
        let enough_blocks = grid.a.len() >= stats::MIN_BLOCKS && grid.b.len() >= stats::MIN_BLOCKS;
        let mut s = ScopeStats {
            scope,
            reg,
            median,
            top: None,
            na,
            nb,
            blocks: (grid.a.len(), grid.b.len()),
            block_lens,
            enough_blocks,
            pa: stats::quantiles(ta, &grid.values, &qs),
            pb: stats::quantiles(tb, &grid.values, &qs),
            boot: None,
            qs,
        };
        s.top = (0..s.qs.len()).rev().find(|&i| s.qs[i] > 0.5 && s.ok(s.qs[i]));
        let stat = Compare {
            qs: s.qs.clone(),
            median,
            top: s.top,
        };
        if na > 0 && nb > 0 && enough_blocks {
            s.boot = Some(stats::bootstrap(
                grid,
                &stat,
                opts.replicates,
                derive_seed(opts.seed, scope.as_str()),
            ));
        }
        s
    }

    /// Whether quantile `q` can be estimated in both runs.
    fn ok(&self, q: f64) -> bool {
        stats::estimable(self.na, q) && stats::estimable(self.nb, q) && self.enough_blocks
    }

    /// The bootstrap interval of the statistic's component `k`.
    fn ci(&self, k: usize) -> Option<(f64, f64)> {
        self.boot
            .as_ref()
            .and_then(|b| b.samples.get(k))
            .and_then(|s| stats::interval(s, self.reg.confidence))
    }

    /// Why a comparison of `what` (a quantile's name, or a description) has no interval:
    /// too few blocks or too few requests.
    fn short_note(&self, what: &str) -> String {
        if !self.enough_blocks {
            format!(
                "not enough samples: {} and {} blocks of {}s and {}s, a comparison needs {} in each run",
                self.blocks.0,
                self.blocks.1,
                self.block_lens.0,
                self.block_lens.1,
                stats::MIN_BLOCKS
            )
        } else {
            format!(
                "not enough samples: {} and {} requests, {what} needs at least {} in each",
                self.na,
                self.nb,
                what_needed(what, &self.qs, self.reg)
            )
        }
    }

    /// A row per quantile of the policy: its relative change within the tolerance.
    fn quantile_rows(&self, tols: &BTreeMap<String, f64>) -> Vec<Row> {
        let mut rows = Vec::new();
        for q in &self.reg.quantiles {
            let k = self.qs.iter().position(|&x| x == q.fraction).unwrap_or(0);
            let mut r = row(self.scope.clone(), q.name.clone(), Unit::Us);
            r.samples = self.nb;
            let tol = tols.get(&q.name).copied().unwrap_or(0.05);
            if let (Some(pa), Some(pb)) = (&self.pa, &self.pb) {
                let interval = if self.ok(q.fraction) { self.ci(k) } else { None };
                judge_relative(&mut r, pa[k] as f64, pb[k] as f64, interval, tol);
                if interval.is_none() {
                    r.note = Some(self.short_note(&q.name));
                }
            } else {
                r.note = Some("no requests in one of the runs".into());
            }
            rows.push(r);
        }
        rows
    }

    /// The shape: how far the tail sits from the median, relative to the baseline's.
    fn spread_row(&self, shape_tol: f64) -> Row {
        let top_name = self.top.map(|t| name_of(self.qs[t], self.reg));
        let mut r = row(
            self.scope.clone(),
            format!("spread p50..{}", top_name.as_deref().unwrap_or("tail")),
            Unit::Us,
        );
        r.samples = self.nb;
        match (self.top, &self.pa, &self.pb) {
            (Some(t), Some(pa), Some(pb)) => {
                let (sa, sb) = (
                    pa[t].saturating_sub(pa[self.median]) as f64,
                    pb[t].saturating_sub(pb[self.median]) as f64,
                );
                if sa == 0.0 {
                    r.observed = Some(sb);
                    r.note = Some("the baseline has no spread above its median: nothing to compare with".into());
                } else {
                    judge_relative(&mut r, sa, sb, self.ci(self.qs.len()), shape_tol);
                }
            }
            _ => r.note = Some(self.short_note("a tail quantile above p50")),
        }
        r
    }

    /// The rank test: reported, never decisive on its own.
    fn rank_row(&self, ta: &[u64], tb: &[u64]) -> Row {
        let mut r = row(self.scope.clone(), "rank (Cliff's delta)", Unit::Effect);
        r.outcome = None;
        r.samples = self.nb;
        if let Some(t) = stats::rank_test(ta, tb) {
            r.observed = Some(t.cliffs_delta);
            let k = self.qs.len() + usize::from(self.top.is_some());
            r.comparison = Some(Comparison {
                baseline: 0.0,
                delta: t.cliffs_delta,
                interval: self.ci(k).map(|(l, h)| [l, h]),
                tolerance: None,
                p_value: Some(t.p_value),
            });
            r.note = Some(format!(
                "{} shift: a candidate request is slower than a baseline one {:.1}% of the time (p = {:.2e})",
                cliff_words(t.cliffs_delta),
                t.auc * 100.0,
                t.p_value
            ));
        } else {
            r.note = Some("no requests in one of the runs".into());
        }
        r
    }
}

/// Set `r`'s observed value `b`, its change relative to the baseline's `a` with the bootstrap
/// `interval`, and the outcome against the tolerance `tol`.
fn judge_relative(r: &mut Row, a: f64, b: f64, interval: Option<(f64, f64)>, tol: f64) {
    r.observed = Some(b);
    r.comparison = Some(Comparison {
        baseline: a,
        delta: rel(b, a),
        interval: interval.map(|(l, h)| [l, h]),
        tolerance: Some(tol),
        p_value: None,
    });
    r.outcome = Some(judge(interval, tol));
}

fn name_of(q: f64, reg: &Regression) -> String {
    reg.quantiles
        .iter()
        .find(|x| x.fraction == q)
        .map_or_else(|| "p50".to_string(), |x| x.name.clone())
}

fn what_needed(what: &str, qs: &[f64], reg: &Regression) -> u64 {
    reg.quantiles
        .iter()
        .find(|q| q.name == what)
        .map(|q| stats::needed(q.fraction))
        .unwrap_or_else(|| {
            qs.iter()
                .filter(|&&q| q > 0.5)
                .map(|&q| stats::needed(q))
                .min()
                .unwrap_or(20)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging_an_interval_against_a_tolerance() {
        assert_eq!(judge(Some((0.06, 0.2)), 0.05), Outcome::Fail);
        assert_eq!(judge(Some((-0.3, 0.05)), 0.05), Outcome::Pass);
        assert_eq!(
            judge(Some((-0.3, -0.2)), 0.05),
            Outcome::Pass,
            "faster is never a failure"
        );
        assert_eq!(judge(Some((0.01, 0.08)), 0.05), Outcome::Inconclusive);
        assert_eq!(judge(None, 0.05), Outcome::NoData);
    }

    #[test]
    fn relative_change_of_zero() {
        assert_eq!(rel(5.0, 0.0), 1e6);
        assert_eq!(rel(0.0, 0.0), 0.0);
    }
}
