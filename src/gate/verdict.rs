//! What the gate decided and every number behind it. This is what the JSON
//! output serialises (schema: `schemas/verdict.schema.json`), and what the
//! table, Markdown, JUnit and HTML writers render.

use serde::Serialize;

use super::policy::{Action, Environment};

/// Bumped on any incompatible change to the verdict's fields.
pub const SCHEMA_VERSION: u32 = 1;

/// What a check found, before the environment decides what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// Within its limit, with enough samples to say so.
    Pass,
    /// Not enough samples, or nothing to measure: never a silent pass.
    /// Serialised `no_data`, written `no data` for people.
    #[strum(serialize = "no data")]
    NoData,
    /// A comparison whose interval straddles the tolerance, or a run whose
    /// generator did not deliver the load.
    Inconclusive,
    /// Beyond its limit.
    Fail,
}

impl Outcome {
    /// The outcome as tables and messages write it: `pass`, `no data`, `inconclusive`, `fail`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The gate's answer for the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Decision {
    /// Every check passed, or what did not is only observed here.
    Promote,
    /// Something the environment warns about; the change still moves on.
    Warn,
    /// The change does not move on.
    Block,
}

impl Decision {
    /// `promote`, `warn` or `block`, as the JSON writes it.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// 0 promote, 1 block; a warning is 0, or 3 when `fail_on_warn`.
    pub fn exit_code(self, fail_on_warn: bool) -> u8 {
        match self {
            Decision::Promote => 0,
            Decision::Warn if fail_on_warn => 3,
            Decision::Warn => 0,
            Decision::Block => 1,
        }
    }
}

/// The unit of a row's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Microseconds.
    Us,
    /// A fraction (0.001 is 0.1%).
    Fraction,
    /// A multiple of the error budget's sustainable burn rate.
    Burn,
    /// Seconds.
    Seconds,
    /// Cliff's delta, from -1 to 1.
    Effect,
}

/// How a limit holds an observed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::Display)]
pub enum Op {
    /// The value must not exceed the limit.
    #[serde(rename = "<=")]
    #[strum(serialize = "<=")]
    AtMost,
    /// The value must reach the limit.
    #[serde(rename = ">=")]
    #[strum(serialize = ">=")]
    AtLeast,
}

impl Op {
    /// `<=` or `>=`, as the JSON writes it.
    pub fn symbol(self) -> &'static str {
        self.into()
    }

    /// The comparison a value stood in, for people: `<=` when it held, `>`
    /// when it did not (for [`Op::AtMost`]).
    pub fn word(self, held: bool) -> &'static str {
        match (self, held) {
            (Op::AtMost, true) => "<=",
            (Op::AtMost, false) => ">",
            (Op::AtLeast, true) => ">=",
            (Op::AtLeast, false) => "<",
        }
    }
}

/// A limit an observed value is held to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limit {
    /// Which side of `value` passes.
    pub op: Op,
    /// In the row's unit.
    pub value: f64,
}

/// What a check measures: a policy's metric, or a built-in check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Latency quantiles against thresholds.
    Latency,
    /// The error rate against a maximum.
    ErrorRate,
    /// An SLO's error budget and its burn rate.
    ErrorBudget,
    /// The rate the generator delivered against its target.
    AchievedRate,
    /// Built in: the environment's minimum soak.
    Soak,
    /// Built in: the comparison with a baseline run.
    Regression,
}

/// A comparison with the baseline run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// The baseline's value, in the row's unit.
    pub baseline: f64,
    /// Relative change, candidate over baseline minus one (for `effect`
    /// rows: the candidate's Cliff's delta against the baseline).
    pub delta: f64,
    /// The bootstrap interval of `delta` at the policy's confidence.
    pub interval: Option<[f64; 2]>,
    /// The largest acceptable `delta` (a fraction), when the row decides.
    pub tolerance: Option<f64>,
    /// Rank test only: two-sided p-value (reported, never decisive alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
}

/// What a row is about: the whole run, or one endpoint of it. Serialised
/// as `overall` or the endpoint's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every endpoint of the run, merged.
    Overall,
    /// One endpoint, by its name in the profile.
    Endpoint(String),
}

impl Scope {
    /// `overall`, or the endpoint's name.
    pub fn as_str(&self) -> &str {
        match self {
            Scope::Overall => "overall",
            Scope::Endpoint(name) => name,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One measured number of a check: a quantile of one endpoint, one burn window...
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What the number is about.
    pub scope: Scope,
    /// What was measured: `p99`, `error rate`, `burn 1h/5m`, ...
    pub metric: String,
    /// The unit of `observed`, the limit and the comparison's baseline.
    pub unit: Unit,
    /// The measured value; `None` without data.
    pub observed: Option<f64>,
    /// The policy's limit, for a threshold row.
    pub limit: Option<Limit>,
    /// The baseline comparison, for a regression row.
    pub comparison: Option<Comparison>,
    /// Requests behind the number.
    pub samples: u64,
    /// `None`: reported for context, does not decide the check.
    pub outcome: Option<Outcome>,
    /// What the environment does about this row's outcome; `None` for a
    /// pass or a row that does not decide.
    pub action: Option<Action>,
    /// Why the row has no data or did not decide, when that needs saying.
    pub note: Option<String>,
}

/// One check of the policy (or a built-in one: `soak`, `regression`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The check's name in the policy, or `soak` / `regression`.
    pub name: String,
    /// What it measures.
    pub kind: CheckKind,
    /// The check's line in the policy; `None` for built-in checks.
    pub line: Option<usize>,
    /// A critical check's failure blocks wherever the environment does more than observe.
    pub critical: bool,
    /// The worst deciding row's outcome.
    pub outcome: Outcome,
    /// What the environment does about the outcome; `None` for a pass.
    pub action: Option<Action>,
    /// One sentence: why this outcome.
    pub reason: String,
    /// Every number behind the outcome.
    pub rows: Vec<Row>,
}

/// The run a verdict is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRef {
    /// The run's directory.
    pub dir: String,
    /// The profile's name.
    pub profile: String,
    /// When the run started, RFC 3339.
    pub started_at: String,
    /// Seconds measured (warm-up excluded).
    pub measured_s: f64,
    /// Requests recorded.
    pub requests: u64,
}

/// The environment the change is entering, as the policy defines it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvRef {
    /// The environment's name in the policy.
    pub name: String,
    /// What a failed check does.
    pub enforce: Action,
    /// The shortest run that can promote, in seconds.
    pub min_soak_s: Option<f64>,
    /// What an inconclusive check does.
    pub on_inconclusive: Action,
    /// What a check without data does.
    pub on_no_data: Action,
}

impl EnvRef {
    /// The policy's environment `name`, as the verdict reports it.
    pub fn new(name: &str, env: &Environment) -> EnvRef {
        EnvRef {
            name: name.to_string(),
            enforce: env.enforce,
            min_soak_s: env.min_soak.map(|d| d.as_secs_f64()),
            on_inconclusive: env.on_inconclusive,
            on_no_data: env.on_no_data,
        }
    }
}

/// How many checks ended in each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Checks that passed.
    pub pass: usize,
    /// Checks that failed.
    pub fail: usize,
    /// Checks that could not tell.
    pub inconclusive: usize,
    /// Checks without enough data.
    pub no_data: usize,
}

/// What the gate decided for an environment, and every number behind it (`verdict.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// [`SCHEMA_VERSION`] of the loadline that wrote it.
    pub schema_version: u32,
    /// The loadline that judged.
    pub loadline_version: String,
    /// The policy file.
    pub policy: String,
    /// The environment judged for.
    pub environment: EnvRef,
    /// The candidate run.
    pub run: RunRef,
    /// The baseline run, when there was one.
    pub baseline: Option<RunRef>,
    /// Promote, warn or block.
    pub decision: Decision,
    /// Checks per outcome.
    pub tally: Tally,
    /// Every check: `soak` (when the environment sets a minimum), the policy's in order, then `regression`.
    pub checks: Vec<CheckResult>,
    /// Seed of the bootstrap (the same seed, runs and policy give the same intervals).
    pub seed: u64,
    /// How the baseline comparison's intervals were made, when there was one.
    pub bootstrap: Option<BootstrapInfo>,
}

/// The settings behind the baseline comparison's intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapInfo {
    /// Bootstrap replicates per interval.
    pub replicates: usize,
    /// Of the intervals, as a fraction.
    pub confidence: f64,
    /// Seconds per resampled block in the candidate.
    pub candidate_block_s: u64,
    /// Seconds per resampled block in the baseline.
    pub baseline_block_s: u64,
    /// `policy` (a fixed tolerance) or the calibration file the tolerances came from.
    pub tolerance_from: String,
}

impl Verdict {
    /// Count outcomes and decide: the strongest action any check takes.
    pub fn decide(checks: &[CheckResult]) -> (Decision, Tally) {
        let mut t = Tally::default();
        let mut decision = Decision::Promote;
        for c in checks {
            match c.outcome {
                Outcome::Pass => t.pass += 1,
                Outcome::Fail => t.fail += 1,
                Outcome::Inconclusive => t.inconclusive += 1,
                Outcome::NoData => t.no_data += 1,
            }
            let d = match c.action {
                Some(Action::Block) => Decision::Block,
                Some(Action::Warn) => Decision::Warn,
                Some(Action::Observe) | None => Decision::Promote,
            };
            decision = decision.max(d);
        }
        (decision, t)
    }
}

/// The action an environment takes on an outcome. A critical check that
/// fails blocks wherever the environment enforces anything (warn or
/// block); where it only observes, it is observed like the rest.
pub fn action(env: &Environment, outcome: Outcome, critical: bool) -> Option<Action> {
    match outcome {
        Outcome::Pass => None,
        Outcome::Fail if critical && env.enforce != Action::Observe => Some(Action::Block),
        Outcome::Fail => Some(env.enforce),
        Outcome::Inconclusive => Some(env.on_inconclusive),
        Outcome::NoData => Some(env.on_no_data),
    }
}

/// A check's outcome from its rows: the worst deciding row (fail, then
/// inconclusive, then no data); a check with no deciding row has no data.
pub fn worst(rows: &[Row]) -> Outcome {
    rows.iter().filter_map(|r| r.outcome).max().unwrap_or(Outcome::NoData)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names for people are the JSON's, except `no data`; operators print as their JSON symbol.
    #[test]
    fn names_match_the_json() {
        for o in [Outcome::Pass, Outcome::Inconclusive, Outcome::Fail] {
            assert_eq!(json(&o), format!("\"{}\"", o.name()));
        }
        assert_eq!(
            (json(&Outcome::NoData).as_str(), Outcome::NoData.name()),
            ("\"no_data\"", "no data")
        );
        for d in [Decision::Promote, Decision::Warn, Decision::Block] {
            assert_eq!(json(&d), format!("\"{}\"", d.name()));
        }
        for a in [Action::Observe, Action::Warn, Action::Block] {
            assert_eq!(json(&a), format!("\"{}\"", a.name()));
            assert_eq!(a.name().parse::<Action>().ok(), Some(a));
        }
        for op in [Op::AtMost, Op::AtLeast] {
            assert_eq!(json(&op), format!("\"{op}\""));
        }
        assert_eq!(json(&Scope::Overall), "\"overall\"");
        assert_eq!(json(&Scope::Endpoint("checkout".into())), "\"checkout\"");
    }

    fn json<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }
}
