//! The traffic profile: what production's traffic looks like, as a YAML
//! file (`profiles/shop.yaml`), validated into a [`Profile`].
//!
//! Parsing happens in two steps. [`raw`] mirrors the file (unknown keys
//! rejected, source locations kept); [`validate`] turns it into the types
//! below, where an invalid state cannot be written: an endpoint list is never
//! empty, weights are positive, every template variable is defined. Every
//! error names the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod clients;
pub mod keys;
pub mod overrides;
pub mod plan;
mod raw;
pub mod shape;
pub mod template;
pub mod token;
mod validate;
pub mod vars;

pub use clients::{ClientClass, Pace};
pub use plan::{RequestBuf, RequestPlan};
pub use shape::RateShape;
pub use template::Template;
pub use validate::DEFAULT_MAX_IN_FLIGHT;
pub use vars::VarGen;

/// A profile that could not be read. Each variant says where, and what to
/// change.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read, does not parse or fit the format (unknown
    /// key, wrong type, missing field), or holds a value that is not
    /// acceptable: file, line and key.
    #[error(transparent)]
    File(#[from] crate::yaml::FileError),

    /// A `--set` override does not apply.
    #[error("--set {assignment}: {message}")]
    Override {
        /// The assignment's key path (`load.rate=...`), its value left out
        /// since it may be a credential.
        assignment: String,
        /// What is wrong with it.
        message: String,
    },

    /// A command-line flag does not fit the profile.
    #[error("{flag}: {message}")]
    Flag {
        /// The flag, as written on the command line (`--duration`).
        flag: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// Which environment a target belongs to. Load is refused on `prod` unless
/// the user says `--allow-prod`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::Display, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Environment {
    /// A developer's environment (also written `development`).
    #[strum(to_string = "dev", serialize = "development")]
    Dev,
    /// Staging: where soaks and the promotion gate run (also `stage`).
    #[strum(to_string = "staging", serialize = "stage")]
    Staging,
    /// Production: load is refused without `--allow-prod` (also `production`).
    #[strum(to_string = "prod", serialize = "production")]
    Prod,
}

/// Which HTTP version to speak.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::Display, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum HttpMode {
    /// HTTP/1.1 on `http://`; ALPN (h2, then http/1.1) on `https://`.
    Auto,
    /// HTTP/1.1 only, also on `https://` (ALPN offers only http/1.1); also `http1.1`, `h1`.
    #[strum(to_string = "http1", serialize = "http1.1", serialize = "h1")]
    Http1,
    /// h2c with prior knowledge on `http://`; ALPN h2 on `https://`; also `h2`, `h2c`.
    #[strum(to_string = "http2", serialize = "h2", serialize = "h2c")]
    Http2,
}

/// The base URL's scheme.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::Display, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Scheme {
    /// Plain TCP; default port 80.
    Http,
    /// TLS (rustls); default port 443.
    Https,
}

/// Where the load goes: `http://127.0.0.1:8080/api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name or IP address, IPv6 without its brackets.
    pub host: String,
    /// The URL's port, or the scheme's default when it gives none.
    pub port: u16,
    /// Path prefix without a trailing slash (`/api`), or empty.
    pub path_prefix: String,
}

impl BaseUrl {
    /// The `Host` header value: the port is left out when it is the scheme's default.
    pub fn authority(&self) -> String {
        let default = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl BaseUrl {
    /// `scheme://host:port`, without the path prefix.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority())
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.path_prefix)
    }
}

/// TLS settings for `https://` targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Check the server's certificate (default). `false` accepts any.
    pub verify: bool,
    /// Extra CA certificates (PEM) to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    /// SNI and certificate name, when it differs from the URL's host.
    pub server_name: Option<String>,
}

/// A header sent with every request. Values that came from the
/// environment, and credentials, are secret: `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    /// Header name as written in the profile.
    pub name: String,
    /// Value, with `${env:NAME}` already substituted.
    pub value: String,
    /// Came from the environment or is a credential (`Authorization`,
    /// cookies, API keys): redacted in `Debug`, dry runs and outputs.
    pub secret: bool,
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.secret { "<redacted>" } else { self.value.as_str() };
        f.debug_struct("Header")
            .field("name", &self.name)
            .field("value", &value)
            .finish()
    }
}

/// The target section, validated.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where requests go; endpoint paths are appended to its path prefix.
    pub base: BaseUrl,
    /// The target's label; `None` when the profile does not say.
    pub environment: Option<Environment>,
    /// Which HTTP version to speak.
    pub http: HttpMode,
    /// Connections each shard opens in the open model, shared out among its
    /// workers (the closed model opens one per user).
    pub connections: u32,
    /// HTTP/2 only: concurrent streams per connection (the open model).
    pub streams: u32,
    /// A request not answered within this is counted as a timeout.
    pub timeout: Duration,
    /// Certificate checks for `https://`.
    pub tls: TlsSettings,
    /// Headers sent with every request (an endpoint's own header of the
    /// same name wins).
    pub headers: Vec<Header>,
}

/// Arrival process of the open model.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::Display, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Arrivals {
    /// Exponential gaps: how independent users arrive.
    Poisson,
    /// Evenly spaced arrivals (also written `constant`).
    #[strum(to_string = "uniform", serialize = "constant")]
    Uniform,
}

impl Arrivals {
    /// `poisson` or `uniform`, as profiles and summaries write it.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The load model.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per run (or worker), never on a hot path
pub enum Load {
    /// Arrivals per second follow `shape`, whatever the server does.
    Open {
        /// The target rate over time (requests per second).
        shape: RateShape,
        /// How arrivals are spaced around that rate.
        arrivals: Arrivals,
    },
    /// `users` each send, wait for the response, think, and repeat.
    Closed {
        /// Concurrent users in the whole run (every shard), at least 1.
        users: u32,
        /// Pause between a response and the user's next request.
        think_time: Duration,
    },
}

/// Read or write: lets `read_write: 85/15` rescale the mix.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::Display, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Kind {
    /// Only reads: changes nothing on the server (a product page, a search).
    Read,
    /// Changes something on the server (placing an order).
    Write,
}

impl Kind {
    /// The kind of a method when the profile does not say: read for GET,
    /// HEAD and OPTIONS, write for any other.
    pub fn of_method(method: &str) -> Kind {
        if matches!(method, "GET" | "HEAD" | "OPTIONS") {
            Kind::Read
        } else {
            Kind::Write
        }
    }
}

/// How the tenant of each request is chosen.
#[derive(Debug, Clone)]
pub enum Skew {
    /// Every tenant equally often.
    Uniform,
    /// Tenant of rank k (1-based) is chosen with probability ∝ k^-s.
    Zipf(f64),
    /// Explicit weights, one per tenant, from a CSV column.
    Weights(Vec<f64>),
}

/// How the tenant id is sent, besides the `{{tenant}}` template variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendAs {
    /// In a header of this name (`X-Tenant-ID`).
    Header(String),
    /// Only as a template variable of this name (`{{tenant}}` is always set too).
    PathVar(String),
    /// As a query parameter of this name, appended to the path.
    Query(String),
}

/// Tenants: ids `t-00001`.. and how often each is hit.
#[derive(Debug, Clone)]
pub struct Tenants {
    /// Number of tenants (at least 1); ids run from 1 to `count`.
    pub count: u32,
    /// The id template, e.g. `t-{index:05}`; index is 1-based.
    pub id_format: String,
    /// `from_schema`: tenant `index` is the key of row `index - 1` of a
    /// schema's table (so the first, hottest, tenant is its first row);
    /// `id_format` is then unused.
    pub keys: Option<keys::KeySpace>,
    /// How often each tenant is hit.
    pub skew: Skew,
    /// How the id is sent; `None`: only in templates that use `{{tenant}}`.
    pub send_as: Option<SendAs>,
}

impl Tenants {
    /// The id of tenant `index` (1-based).
    pub fn id(&self, index: u32) -> String {
        if let Some(k) = &self.keys {
            return k.key(u64::from(index.saturating_sub(1)));
        }
        format_index(&self.id_format, u64::from(index))
    }
}

/// The widths of the `{index:W}` placeholders of a key template (0 for a
/// bare `{index}`), as [`format_index`] reads them.
pub fn index_widths(template: &str) -> impl Iterator<Item = usize> + '_ {
    template.match_indices("{index").filter_map(|(start, _)| {
        let after = &template[start + 6..];
        let spec = &after[..after.find('}')?];
        Some(index_width(spec))
    })
}

/// The width of one placeholder's spec (`:05`, `:3` or nothing).
fn index_width(spec: &str) -> usize {
    spec.strip_prefix(":0")
        .or_else(|| spec.strip_prefix(':'))
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

/// Expand `{index}` and `{index:05}` (zero-padded width) in a key template.
pub fn format_index(template: &str, index: u64) -> String {
    let mut out = String::with_capacity(template.len() + 8);
    let mut rest = template;
    while let Some(start) = rest.find("{index") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 6..];
        match after.find('}') {
            Some(end) => {
                let spec = &after[..end];
                let width = index_width(spec);
                let pad = if spec.starts_with(":0") { '0' } else { ' ' };
                let digits = index.to_string();
                for _ in digits.len()..width {
                    out.push(pad);
                }
                out.push_str(&digits);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// One endpoint of the mix.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Unique name, used in results (a histogram series per endpoint).
    pub name: String,
    /// Weight as written.
    pub weight: f64,
    /// Share of all requests after `read_write` rescaling (sums to 1).
    pub share: f64,
    /// Read or write, for the `read_write` ratio and the summary.
    pub kind: Kind,
    /// HTTP method (`GET`, `POST`, ...).
    pub method: http::Method,
    /// Path and query template, appended to the base URL's path prefix.
    pub path: Template,
    /// The endpoint's own headers: name and value template (a static
    /// template is sent as written, compiled once).
    pub headers: Vec<(String, Template)>,
    /// Body template; `None`: no body and no `Content-Length`.
    pub body: Option<Template>,
    /// Variables in the order templates refer to them by index. Index 0 is
    /// the tenant and index 1 the request number (built-ins).
    pub vars: Vec<(String, Option<VarGen>)>,
    /// Statuses that count as success; `None` means any 1xx-3xx.
    pub expect: Option<Vec<u16>>,
}

/// Index of the built-in `{{tenant}}` variable in every endpoint's table.
pub const VAR_TENANT: usize = 0;
/// Index of the built-in `{{request}}` variable (the request's number).
pub const VAR_REQUEST: usize = 1;

/// A validated traffic profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile's name, used in result directory names and summaries.
    pub name: String,
    /// Free text from the file, if any.
    pub description: Option<String>,
    /// The file it was read from (for messages and relative file names).
    pub source: PathBuf,
    /// Where the load goes and how.
    pub target: Target,
    /// Seed of every random choice (arrivals, mix, tenants, values).
    pub seed: u64,
    /// True when the profile gave no seed and one was picked.
    pub seed_chosen: bool,
    /// Length of the run, warm-up included.
    pub duration: Duration,
    /// Start of the run whose requests are sent but kept out of the
    /// histograms; shorter than `duration`.
    pub warmup: Duration,
    /// The open or the closed model.
    pub load: Load,
    /// The tenants, when the profile has any.
    pub tenants: Option<Tenants>,
    /// The endpoint mix; never empty.
    pub endpoints: Vec<Endpoint>,
    /// Client classes (`clients:`): shares of the arrivals that send or
    /// read slowly or abandon; empty when every client is a normal one.
    pub clients: Vec<ClientClass>,
    /// `sha256:` and the hex digest of what was run: the profile's text (after
    /// `--set`) and the `--duration` and `--rate-scale` given. Shards of one
    /// run must agree on it; the seed is recorded on its own.
    pub hash: String,
}

/// `sha256:` and the hex SHA-256 of the parts, each prefixed by its length
/// (so no two different lists of parts hash alike).
pub fn content_hash(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

impl Profile {
    /// The share of arrivals that are normal clients (1 without `clients:`).
    pub fn normal_share(&self) -> f64 {
        (1.0 - self.clients.iter().map(|c| c.share).sum::<f64>()).max(0.0)
    }

    /// Users of the closed model (0 for the open model).
    pub fn load_users(&self) -> u32 {
        match &self.load {
            Load::Closed { users, .. } => *users,
            Load::Open { .. } => 0,
        }
    }

    /// The endpoint names, in profile order (the series' indices).
    pub fn endpoint_names(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.name.clone()).collect()
    }
}

/// Command-line changes to a profile, applied before validation (`--set`)
/// or after it.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `key.path=value` assignments.
    pub set: Vec<String>,
    /// `--duration`: replaces the profile's duration.
    pub duration: Option<Duration>,
    /// `--rate-scale`: multiplies the open model's rate.
    pub rate_scale: Option<f64>,
    /// `--seed`: replaces the profile's seed.
    pub seed: Option<u64>,
}

/// Read, parse and validate a profile file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Profile, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::yaml::FileError::Io {
        what: "profile",
        path: path.to_path_buf(),
        source,
    })?;
    from_str(&text, path, overrides)
}

/// Parse and validate profile text; `path` is used in messages and to
/// resolve relative file names.
pub fn from_str(text: &str, path: &Path, overrides: &Overrides) -> Result<Profile, Error> {
    // The file as written is checked first, so every error in it points at
    // its real line; `--set` is applied to a checked file.
    let raw = validate::parse(text, path)?;
    let mut profile = if overrides.set.is_empty() {
        validate::validate(raw, text, path)?
    } else {
        validate::validate(raw, text, path)?;
        let changed = overrides::apply(text, &overrides.set)?;
        let raw = validate::parse(&changed, path).map_err(|e| overrides::blame(&overrides.set, e))?;
        validate::validate(raw, &changed, path).map_err(|e| overrides::blame(&overrides.set, e))?
    };
    if let Some(d) = overrides.duration {
        profile.duration = d;
    }
    if let Some(seed) = overrides.seed {
        profile.seed = seed;
        profile.seed_chosen = false;
    }
    if let (Some(scale), Load::Open { shape, .. }) = (overrides.rate_scale, &mut profile.load) {
        shape.scale *= scale;
    }
    if overrides.duration.is_some() || overrides.rate_scale.is_some() {
        let duration = overrides.duration.map(|d| d.as_nanos().to_le_bytes());
        let scale = overrides.rate_scale.map(f64::to_le_bytes);
        profile.hash = content_hash(&[
            profile.hash.as_bytes(),
            duration.as_ref().map_or(&[][..], |d| &d[..]),
            scale.as_ref().map_or(&[][..], |s| &s[..]),
        ]);
    }
    if profile.warmup >= profile.duration {
        return Err(Error::Flag {
            flag: "--duration",
            message: format!(
                "{} is not longer than the profile's warm-up ({})",
                crate::units::Dur(profile.duration),
                crate::units::Dur(profile.warmup)
            ),
        });
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name is the JSON's; the other usual spellings read as the same value.
    #[test]
    fn names_match_the_json_and_aliases_parse() {
        fn json<T: serde::Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap()
        }
        for e in [Environment::Dev, Environment::Staging, Environment::Prod] {
            assert_eq!(json(&e), format!("\"{e}\""));
        }
        for h in [HttpMode::Auto, HttpMode::Http1, HttpMode::Http2] {
            assert_eq!(json(&h), format!("\"{h}\""));
        }
        for a in [Arrivals::Poisson, Arrivals::Uniform] {
            assert_eq!(json(&a), format!("\"{}\"", a.name()));
        }
        for k in [Kind::Read, Kind::Write] {
            assert_eq!(json(&k), format!("\"{k}\""));
        }
        assert_eq!(
            (Scheme::Http.to_string(), Scheme::Https.to_string()),
            ("http".into(), "https".into())
        );
        for (text, env) in [
            ("development", Environment::Dev),
            ("stage", Environment::Staging),
            ("production", Environment::Prod),
        ] {
            assert_eq!(text.parse::<Environment>().ok(), Some(env));
        }
        for (text, mode) in [
            ("http1.1", HttpMode::Http1),
            ("h1", HttpMode::Http1),
            ("h2", HttpMode::Http2),
            ("h2c", HttpMode::Http2),
        ] {
            assert_eq!(text.parse::<HttpMode>().ok(), Some(mode));
        }
        assert_eq!("constant".parse::<Arrivals>().ok(), Some(Arrivals::Uniform));
        assert!(
            "Poisson".parse::<Arrivals>().is_err(),
            "names are case-sensitive, as before"
        );
    }

    #[test]
    fn index_formats() {
        assert_eq!(format_index("t-{index:05}", 42), "t-00042");
        assert_eq!(format_index("u{index}", 7), "u7");
        assert_eq!(format_index("{index:3}x", 7), "  7x");
        assert_eq!(format_index("plain", 7), "plain");
    }
}
