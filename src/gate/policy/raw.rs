//! The policy file as written: serde structs that mirror the YAML, every
//! value with its line. [`super::validate`] turns them into a [`super::Policy`].

use indexmap::IndexMap;
use serde::Deserialize;

use crate::units::{Dur, Percent};
use crate::yaml::S;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub(super) environments: S<IndexMap<String, S<RawEnvironment>>>,
    pub(super) checks: S<Vec<S<RawCheck>>>,
    #[serde(default)]
    pub(super) regression: Option<S<RawRegression>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvironment {
    pub(super) enforce: S<String>,
    #[serde(default)]
    pub(super) min_soak: Option<S<Dur>>,
    #[serde(default)]
    pub(super) on_inconclusive: Option<S<String>>,
    #[serde(default)]
    pub(super) on_no_data: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawEndpoints {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub(super) name: S<String>,
    #[serde(default)]
    pub(super) endpoints: Option<S<RawEndpoints>>,
    #[serde(default)]
    pub(super) critical: Option<bool>,
    #[serde(default)]
    pub(super) latency: Option<S<IndexMap<String, S<Dur>>>>,
    #[serde(default)]
    pub(super) error_rate: Option<S<RawErrorRate>>,
    #[serde(default)]
    pub(super) slo: Option<S<RawSlo>>,
    #[serde(default)]
    pub(super) burn_rate: Option<S<RawBurnRate>>,
    #[serde(default)]
    pub(super) achieved_rate: Option<S<RawAchievedRate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawErrorRate {
    pub(super) max: S<Percent>,
    #[serde(default)]
    pub(super) count_4xx: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlo {
    pub(super) latency_le: S<Dur>,
    pub(super) target: S<Percent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBurnRate {
    pub(super) windows: S<Vec<(Dur, Dur, f64)>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAchievedRate {
    pub(super) min: S<Percent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegression {
    pub(super) quantiles: S<Vec<String>>,
    pub(super) tolerance: S<String>,
    pub(super) confidence: S<Percent>,
}
