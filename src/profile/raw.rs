//! The profile file as written: serde structs that mirror the YAML, with
//! unknown keys rejected and source locations kept where validation needs
//! to point at a value. [`super::validate`] turns these into the typed
//! [`super::Profile`]; nothing else should read them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::units::{Count, Dur, Percent, Rate, Split};

pub use crate::yaml::S;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub name: S<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub target: RawTarget,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub duration: Option<S<Dur>>,
    #[serde(default)]
    pub warmup: Option<S<Dur>>,
    pub load: RawLoad,
    #[serde(default)]
    pub tenants: Option<S<RawTenants>>,
    pub endpoints: S<Vec<RawEndpoint>>,
    /// Client classes (slow senders, slow readers, abandoners) by name.
    #[serde(default)]
    pub clients: Option<S<BTreeMap<String, S<RawClient>>>>,
}

/// One class under `clients:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClient {
    /// `2%` or `0.02`.
    pub share: S<RawNumber>,
    #[serde(default)]
    pub send: Option<S<RawPace>>,
    #[serde(default)]
    pub read: Option<S<RawPace>>,
    #[serde(default)]
    pub abandon_after: Option<S<Dur>>,
    #[serde(default)]
    pub timeout: Option<S<Dur>>,
    #[serde(default)]
    pub max_in_flight: Option<S<Count>>,
}

/// `{bytes_per_s: 50}` or `{chunk: 1, every: 100ms}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPace {
    #[serde(default)]
    pub bytes_per_s: Option<RawNumber>,
    #[serde(default)]
    pub chunk: Option<Count>,
    #[serde(default)]
    pub every: Option<Dur>,
}

/// A number written bare (`0.02`, `50`) or as text in a unit (`2%`, `50/s`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawNumber {
    Number(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub base_url: S<String>,
    #[serde(default)]
    pub environment: Option<S<String>>,
    #[serde(default)]
    pub http: Option<S<String>>,
    #[serde(default)]
    pub connections: Option<S<Count>>,
    /// HTTP/2 only: concurrent streams per connection.
    #[serde(default)]
    pub streams: Option<S<Count>>,
    #[serde(default)]
    pub timeout: Option<S<Dur>>,
    #[serde(default)]
    pub tls: Option<RawTls>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    #[serde(default)]
    pub verify: Option<bool>,
    #[serde(default)]
    pub ca_file: Option<S<String>>,
    #[serde(default)]
    pub server_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub model: S<String>,
    #[serde(default)]
    pub rate: Option<S<Rate>>,
    #[serde(default)]
    pub arrivals: Option<S<String>>,
    #[serde(default)]
    pub users: Option<S<Count>>,
    #[serde(default)]
    pub think_time: Option<S<Dur>>,
    #[serde(default)]
    pub read_write: Option<S<Split>>,
    #[serde(default)]
    pub shape: Option<RawShape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShape {
    #[serde(default)]
    pub diurnal: Option<S<RawDiurnal>>,
    #[serde(default)]
    pub spikes: Vec<S<RawSpike>>,
    #[serde(default)]
    pub stages: Option<S<Vec<S<RawStage>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiurnal {
    pub period: S<Dur>,
    /// 24 factors, one per hour; or else `factors`.
    #[serde(default)]
    pub hourly: Option<S<Vec<f64>>>,
    /// Any number of factors spread evenly over the period.
    #[serde(default)]
    pub factors: Option<S<Vec<f64>>>,
    /// Where in the day the run starts (`9h` starts at 09:00).
    #[serde(default)]
    pub start: Option<S<Dur>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpike {
    pub at: Dur,
    #[serde(rename = "for")]
    pub for_: Dur,
    pub factor: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    #[serde(default)]
    pub to: Option<Rate>,
    #[serde(default)]
    pub over: Option<Dur>,
    #[serde(default)]
    pub hold: Option<Dur>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenants {
    #[serde(default)]
    pub count: Option<S<Count>>,
    /// Tenant ids from a schema's table: `count` is then its rows.
    #[serde(default)]
    pub from_schema: Option<S<RawFromSchema>>,
    #[serde(default)]
    pub skew: Option<S<RawSkew>>,
    #[serde(default)]
    pub id: Option<S<String>>,
    #[serde(default)]
    pub send_as: Option<S<RawSendAs>>,
}

/// `uniform`, `{zipf: 1.1}` or `{weights_csv: path, column: weight}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawSkew {
    Name(String),
    Map(RawSkewMap),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSkewMap {
    #[serde(default)]
    pub zipf: Option<f64>,
    #[serde(default)]
    pub weights_csv: Option<String>,
    #[serde(default)]
    pub column: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSendAs {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub path_var: Option<String>,
    #[serde(default)]
    pub query: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    pub name: S<String>,
    pub weight: S<f64>,
    #[serde(default)]
    pub kind: Option<S<String>>,
    #[serde(default)]
    pub method: Option<S<String>>,
    pub path: S<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub body: Option<S<String>>,
    #[serde(default)]
    pub vars: BTreeMap<String, S<RawVar>>,
    #[serde(default)]
    pub expect: Option<S<Vec<u16>>>,
}

/// A template variable's generator: a map with exactly one key naming it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVar {
    #[serde(default)]
    pub zipf: Option<RawZipf>,
    #[serde(default)]
    pub uniform: Option<[f64; 2]>,
    #[serde(default)]
    pub fake: Option<RawFake>,
    #[serde(default)]
    pub csv: Option<RawCsv>,
    #[serde(default)]
    pub one_of: Option<RawOneOf>,
    #[serde(default)]
    pub sequence: Option<RawSequence>,
    #[serde(default)]
    pub uuid: Option<bool>,
    #[serde(default)]
    pub token: Option<RawToken>,
    #[serde(default)]
    pub from_schema: Option<RawFromSchema>,
}

/// `{schema: PATH, table: T, column: C, pick: zipf:0.9, seed: N, scale: X}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFromSchema {
    pub schema: String,
    pub table: String,
    pub column: String,
    #[serde(default)]
    pub pick: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub scale: Option<f64>,
}

/// `{len: 24, alphabet: hex, n: 50000, pick: "zipf:0.9"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToken {
    pub len: u64,
    #[serde(default)]
    pub alphabet: Option<String>,
    pub n: Count,
    #[serde(default)]
    pub pick: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZipf {
    pub n: Count,
    pub s: f64,
    /// The first (most frequent) value; 1 unless given.
    #[serde(default)]
    pub from: Option<i64>,
}

/// `{fake: safe_email}` or `{fake: {name: safe_email, locale: fr_fr}}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawFake {
    Name(String),
    Full { name: String, locale: Option<String> },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCsv {
    pub path: String,
    pub column: String,
    #[serde(default)]
    pub pick: Option<String>,
}

/// `[a, b, c]` (equal weights) or `{a: 70%, b: 30%}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawOneOf {
    List(Vec<String>),
    Weighted(BTreeMap<String, Percent>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSequence {
    #[serde(default)]
    pub start: Option<i64>,
}
