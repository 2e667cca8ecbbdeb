//! Kubernetes manifests for a sharded run (`loadline deploy k8s`), so
//! nobody edits YAML by hand.
//!
//! One render gives, as one multi-document YAML: the results claim
//! (ReadWriteMany, unless an existing claim is named), a ConfigMap with the
//! profile (and policy, and files the profile reads) verbatim, an Indexed
//! Job whose N pods run `loadline run --shard auto/N` on one time grid (T0
//! and the run id are the same in every pod), and a follow-up Job that
//! merges the shards once all have finished and gates the merged run, its
//! exit code the promotion decision.
//!
//! Every input is checked here, with the project's loaders, so a mistake
//! fails on the laptop with exit 2 rather than in the cluster. The output
//! is a pure function of the request and the clock reading passed in: the
//! same inputs give the same bytes.

use std::path::PathBuf;
use std::time::Duration;

mod inputs;
pub mod k8s;
mod manifests;
pub mod names;

pub use manifests::{RESULTS_ROOT, RUN_AS};

/// Why no manifests were rendered. Every variant is bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file cannot be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        /// What the file is (`profile`, `policy`, or the profile's key naming it).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// The profile does not load (file, line and key are in the message).
    #[error(transparent)]
    Profile(crate::profile::Error),

    /// The policy does not load (file, line and key are in the message).
    #[error(transparent)]
    Policy(crate::gate::policy::Error),

    /// A credential is written in the profile rather than read from the environment.
    #[error(
        "{}: target.headers.{header} holds a credential written in the file; the profile is shipped \
         in a ConfigMap, which anyone who can read the namespace can read. Write `${{env:NAME}}` \
         there and pass --secret with a Secret holding NAME",
        path.display()
    )]
    LiteralCredential {
        /// The profile.
        path: PathBuf,
        /// The header's name.
        header: String,
    },

    /// The profile reads variables from the environment and no Secret provides them.
    #[error(
        "the profile reads {} from the environment: pass --secret NAME, a Secret in the run's \
         namespace with {} as its keys (kubectl create secret generic NAME --from-literal=...)",
        list(.0), if .0.len() == 1 { "this" } else { "these" }
    )]
    NeedsSecret(Vec<String>),

    /// A closed-model profile has fewer users than shards.
    #[error(
        "the profile's closed model has {users} users: it cannot be split into {shards} shards (use at most {users})"
    )]
    TooFewUsers {
        /// `load.users`.
        users: u32,
        /// `--shards`.
        shards: u32,
    },

    /// A file the profile names is not beside it, so the pods cannot have it.
    #[error(
        "{}: {key}: `{file}` is outside the profile's folder; the pods get the profile and the files \
         beside it (or below it), so copy it there and name it by a relative path",
        path.display()
    )]
    FileOutside {
        /// The profile.
        path: PathBuf,
        /// The key naming the file.
        key: &'static str,
        /// The file as named.
        file: String,
    },

    /// The ConfigMap would exceed Kubernetes' 1 MiB object limit.
    #[error("the profile, policy and the files they read come to {bytes} bytes; a ConfigMap holds at most {max}")]
    TooLarge {
        /// Their size.
        bytes: usize,
        /// The limit kept to.
        max: usize,
    },

    /// A flag's value is not acceptable.
    #[error("{flag}: {message}")]
    Flag {
        /// The flag, as written (`--run-id`).
        flag: &'static str,
        /// What is wrong with its value.
        message: String,
    },

    /// Serializing the manifests failed (a bug, not bad input).
    #[error("cannot write the manifests as YAML: {0}")]
    Yaml(String),
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

/// When the shards start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At this instant (`--start-at`).
    At(jiff::Timestamp),
    /// This long after the render (`--start-in`): time for the pods to be
    /// scheduled and the image pulled.
    In(Duration),
}

/// How strictly the shards are kept on different nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Spread {
    /// Spread over nodes when the scheduler can (`ScheduleAnyway`).
    Soft,
    /// Never more than one shard more on a node than on another (`DoNotSchedule`):
    /// a pod stays Pending rather than share, and misses T0.
    Hard,
}

/// What to deploy: the command line's choices, before they are checked.
#[derive(Debug, Clone)]
pub struct Request {
    /// The traffic profile.
    pub profile: PathBuf,
    /// Number of shards (pods).
    pub shards: u32,
    /// The loadline image.
    pub image: String,
    /// Where the objects go; `None`: kubectl's current namespace.
    pub namespace: Option<String>,
    /// The run's id; `None`: derived from the profile's name and T0.
    pub run_id: Option<String>,
    /// When the shards start.
    pub start: Start,
    /// A gate policy; `None`: the follow-up Job only merges.
    pub policy: Option<PathBuf>,
    /// The policy's environment; `None`: the profile's `target.environment`.
    pub env: Option<String>,
    /// A baseline run on the results volume.
    pub baseline: Option<String>,
    /// `gate calibrate` noise floors on the results volume.
    pub calibration: Option<String>,
    /// Merge (and gate, as inconclusive) even with shards missing.
    pub allow_partial: bool,
    /// An existing ReadWriteMany claim; `None`: the manifests create one.
    pub results_claim: Option<String>,
    /// Size of the claim created.
    pub storage: String,
    /// Storage class of the claim created; `None`: the cluster's default.
    pub storage_class: Option<String>,
    /// CPU per pod (request = limit).
    pub cpu: String,
    /// Memory per pod (request = limit).
    pub memory: String,
    /// A Secret whose keys become the pods' environment.
    pub secret: Option<String>,
    /// How the shards are spread over nodes.
    pub spread: Spread,
    /// How long finished Jobs are kept.
    pub ttl: Duration,
    /// Allow a profile labelled `environment: prod` (passed on to the shards).
    pub allow_prod: bool,
}

/// The rendered manifests and what the user should know about them.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Multi-document YAML.
    pub yaml: String,
    /// The run's id.
    pub run_id: String,
    /// T0.
    pub start_at: jiff::Timestamp,
    /// The Job that merges and gates (`kubectl wait job/NAME`).
    pub gate_job: String,
    /// Things that are allowed but likely wrong.
    pub warnings: Vec<String>,
}

/// Below this lead time, pods may not be running by T0.
pub const MIN_LEAD: Duration = Duration::from_secs(60);

/// Check `request` and render its manifests; `now` is the clock reading
/// `Start::In` counts from and T0 is checked against.
pub fn render(request: &Request, now: jiff::Timestamp) -> Result<Rendered, Error> {
    let plan = manifests::plan(request, now)?;
    manifests::render(&plan)
}

/// `--start-at`: RFC 3339 (`2026-12-05T10:00:00Z`) or Unix milliseconds.
pub fn parse_start_at(s: &str) -> Result<jiff::Timestamp, String> {
    let t = s.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        let ms: i64 = t
            .parse()
            .map_err(|_| format!("`{t}` is too large for Unix milliseconds"))?;
        return jiff::Timestamp::from_millisecond(ms).map_err(|e| format!("`{t}`: {e}"));
    }
    t.parse::<jiff::Timestamp>().map_err(|_| {
        format!("`{t}` is not a time: write RFC 3339 with an offset (2026-12-05T10:00:00Z) or Unix milliseconds")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_at_takes_rfc3339_or_unix_ms() {
        let t = parse_start_at("2026-12-05T10:00:00Z").unwrap();
        assert_eq!(parse_start_at("1796464800000").unwrap(), t);
        assert_eq!(parse_start_at("2026-12-05T11:00:00+01:00").unwrap(), t);
        assert!(parse_start_at("2026-12-05T10:00:00").unwrap_err().contains("RFC 3339"));
        assert!(parse_start_at("tomorrow").is_err());
        assert!(parse_start_at("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
    }
}
