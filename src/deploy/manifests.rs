//! From a [`Request`] to the objects: [`plan`] checks every input and
//! works out names and timings; [`render`] builds the objects from the plan
//! and writes them as YAML; the two Jobs are built in [`jobs`]. Keeping the two apart means every refusal
//! happens before any object exists.

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::inputs::{self, ProfileInput};
use super::k8s::*;
use super::names::{self, QuantityKind};
use super::{Error, Rendered, Request, Spread, Start, MIN_LEAD};

/// Where the results volume is mounted; runs land in `RESULTS_ROOT/RUN/shard-I`.
pub const RESULTS_ROOT: &str = "/results";
/// The image's user and group (numeric, so `runAsNonRoot` can verify it).
pub const RUN_AS: u32 = 10001;
/// Where the profile (and the files it names) are mounted.
const PROFILE_DIR: &str = "/profile";
/// Where the policy is mounted.
const POLICY_DIR: &str = "/policy";
/// The claim created when none is named; shared by every run, each in its folder.
const DEFAULT_CLAIM: &str = "loadline-results";
/// Kubernetes refuses objects over 1 MiB; this leaves room for the metadata.
const CONFIGMAP_MAX: usize = 1_000_000;
/// Indexed Jobs with a per-index backoff limit allow at most this many completions.
const MAX_SHARDS: u32 = 100_000;
/// Past the run's end: for results to be written and for scheduling slack.
const SLACK: Duration = Duration::from_secs(600);
/// Past the shards' deadline: for the merge and the gate themselves.
const GATE_SLACK: Duration = Duration::from_secs(900);

/// A checked request: everything the objects are built from.
pub(super) struct Plan {
    run_id: String,
    namespace: Option<String>,
    t0: jiff::Timestamp,
    shards: u32,
    image: String,
    cpu: String,
    memory: String,
    /// `Some(size, class)` when the manifests create the claim.
    new_claim: Option<(String, Option<String>)>,
    claim: String,
    secret: Option<String>,
    spread: Spread,
    ttl: Duration,
    input: ProfileInput,
    gate: Option<GatePlan>,
    allow_partial: bool,
    allow_prod: bool,
    /// How long the shards may run, from the Job's creation.
    shard_deadline: Duration,
    /// Grace between SIGTERM and SIGKILL for a shard.
    grace: Duration,
    warnings: Vec<String>,
}

/// The gate step's inputs, checked.
struct GatePlan {
    policy_text: String,
    env: String,
    baseline: Option<String>,
    calibration: Option<String>,
}

fn flag(flag: &'static str) -> impl Fn(String) -> Error {
    move |message| Error::Flag { flag, message }
}

/// Check the flags that are plain values.
fn check_flags(r: &Request) -> Result<(), Error> {
    if r.shards == 0 || r.shards > MAX_SHARDS {
        return Err(flag("--shards")(format!(
            "{} shards: use 1 to {MAX_SHARDS} (an Indexed Job's limit)",
            r.shards
        )));
    }
    if let Some(ns) = &r.namespace {
        names::check_label(ns, 63).map_err(flag("--namespace"))?;
    }
    if r.image.is_empty() || r.image.contains(char::is_whitespace) {
        return Err(flag("--image")(format!("`{}` is not an image reference", r.image)));
    }
    if let Some(s) = &r.secret {
        names::check_subdomain(s).map_err(flag("--secret"))?;
    }
    if let Some(c) = &r.results_claim {
        names::check_subdomain(c).map_err(flag("--results-claim"))?;
    }
    if let Some(c) = &r.storage_class {
        names::check_subdomain(c).map_err(flag("--storage-class"))?;
    }
    names::check_quantity(&r.cpu, QuantityKind::Cpu).map_err(flag("--cpu"))?;
    names::check_quantity(&r.memory, QuantityKind::Bytes).map_err(flag("--memory"))?;
    names::check_quantity(&r.storage, QuantityKind::Bytes).map_err(flag("--storage"))?;
    if r.policy.is_none() {
        for (name, given) in [
            ("--env", r.env.is_some()),
            ("--baseline", r.baseline.is_some()),
            ("--calibration", r.calibration.is_some()),
        ] {
            if given {
                return Err(flag("--policy")(format!(
                    "{name} is for the gate, which needs --policy"
                )));
            }
        }
    }
    Ok(())
}

/// T0: given, or `start_in` after `now` rounded up to a whole second; never past.
fn start_instant(start: Start, now: jiff::Timestamp) -> Result<jiff::Timestamp, Error> {
    let t0 = match start {
        Start::At(t) => t,
        Start::In(d) => {
            let nanos = now.as_nanosecond() + i128::try_from(d.as_nanos()).unwrap_or(i128::MAX / 2);
            let secs = nanos.div_euclid(1_000_000_000) + i128::from(nanos.rem_euclid(1_000_000_000) > 0);
            i64::try_from(secs)
                .ok()
                .and_then(|s| jiff::Timestamp::from_second(s).ok())
                .ok_or_else(|| flag("--start-in")(format!("{} is too far ahead", crate::units::Dur(d))))?
        }
    };
    if t0 < now {
        let ago = now.duration_since(t0).unsigned_abs();
        return Err(flag("--start-at")(format!(
            "{t0} was {} ago: the shards refuse a start already past; give a later time or --start-in",
            crate::units::Dur(Duration::from_secs(ago.as_secs()))
        )));
    }
    Ok(t0)
}

/// The gate step, when a policy is given.
fn gate_plan(r: &Request, input: &ProfileInput) -> Result<Option<GatePlan>, Error> {
    let Some(path) = &r.policy else { return Ok(None) };
    let (policy_text, policy) = inputs::read_policy(path)?;
    let defined = || policy.environments.keys().cloned().collect::<Vec<_>>().join(", ");
    let env = match (&r.env, input.profile.target.environment) {
        (Some(e), _) => e.clone(),
        (None, Some(e)) if policy.environments.contains_key(&e.to_string()) => e.to_string(),
        (None, _) => {
            return Err(flag("--env")(format!(
                "required with --policy: name the environment to judge for (the policy defines: {})",
                defined()
            )))
        }
    };
    if !policy.environments.contains_key(&env) {
        return Err(flag("--env")(format!(
            "{} has no environment `{env}` (it defines: {})",
            path.display(),
            defined()
        )));
    }
    let on_volume = |v: &Option<String>, f| {
        v.as_deref()
            .map(|p| names::volume_path(p, RESULTS_ROOT).map_err(flag(f)))
            .transpose()
    };
    Ok(Some(GatePlan {
        policy_text,
        env,
        baseline: on_volume(&r.baseline, "--baseline")?,
        calibration: on_volume(&r.calibration, "--calibration")?,
    }))
}

/// Check everything in `r` and work out names and timings.
pub(super) fn plan(r: &Request, now: jiff::Timestamp) -> Result<Plan, Error> {
    check_flags(r)?;
    let t0 = start_instant(r.start, now)?;
    let input = inputs::read_profile(&r.profile, r.shards)?;
    if !input.env_vars.is_empty() && r.secret.is_none() {
        return Err(Error::NeedsSecret(input.env_vars.iter().cloned().collect()));
    }
    if input.profile.target.environment == Some(crate::profile::Environment::Prod) && !r.allow_prod {
        return Err(flag("--allow-prod")(
            "the profile's target is labelled `environment: prod`: load on production needs --allow-prod \
             (passed on to every shard)"
                .into(),
        ));
    }
    let run_id = match &r.run_id {
        Some(id) => {
            names::check_label(id, names::MAX_RUN_ID).map_err(flag("--run-id"))?;
            id.clone()
        }
        None => names::derive_run_id(&input.profile.name, t0),
    };
    let gate = gate_plan(r, &input)?;
    let bytes = input.text.len()
        + input.files.iter().map(|f| f.text.len()).sum::<usize>()
        + gate.as_ref().map_or(0, |g| g.policy_text.len());
    if bytes > CONFIGMAP_MAX {
        return Err(Error::TooLarge {
            bytes,
            max: CONFIGMAP_MAX,
        });
    }
    let lead = now.duration_until(t0).unsigned_abs();
    let mut warnings = Vec::new();
    if lead < MIN_LEAD {
        warnings.push(format!(
            "T0 is {}s away: pods that are not running by then (scheduling, image pull) refuse to \
             start late and their shards fail; --start-in 2m leaves more time",
            lead.as_secs()
        ));
    }
    let p = &input.profile;
    let host = &p.target.base.host;
    if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
        warnings.push(format!(
            "target.base_url is {}: in a pod, that is the pod itself; point the profile at a Service \
             (http://NAME.NAMESPACE.svc:PORT)",
            p.target.base
        ));
    }
    // SIGTERM lets in-flight requests finish within their timeout, then
    // the results are written: the grace period covers both.
    let grace = Duration::from_secs(p.target.timeout.as_secs_f64().ceil() as u64 + 30);
    // The warm-up is part of the duration.
    let shard_deadline = ceil_minutes(lead + p.duration + grace + SLACK);
    Ok(Plan {
        run_id,
        namespace: r.namespace.clone(),
        t0,
        shards: r.shards,
        image: r.image.clone(),
        cpu: r.cpu.clone(),
        memory: r.memory.clone(),
        new_claim: match r.results_claim {
            Some(_) => None,
            None => Some((r.storage.clone(), r.storage_class.clone())),
        },
        claim: r.results_claim.clone().unwrap_or_else(|| DEFAULT_CLAIM.to_string()),
        secret: r.secret.clone(),
        spread: r.spread,
        ttl: r.ttl,
        input,
        gate,
        allow_partial: r.allow_partial,
        allow_prod: r.allow_prod,
        shard_deadline,
        grace,
        warnings,
    })
}

fn ceil_minutes(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs().div_ceil(60) * 60)
}

impl Plan {
    fn run_dir(&self) -> String {
        format!("{RESULTS_ROOT}/{}", self.run_id)
    }

    fn config_name(&self) -> String {
        format!("{}-config", self.run_id)
    }

    fn shards_job_name(&self) -> String {
        format!("{}-shards", self.run_id)
    }

    fn gate_job_name(&self) -> String {
        let step = if self.gate.is_some() { "gate" } else { "merge" };
        format!("{}-{step}", self.run_id)
    }

    /// The labels every object of the run carries; `component` tells them apart.
    fn labels(&self, component: &str) -> Labels {
        Labels::from([
            ("app.kubernetes.io/name".into(), "loadline".into()),
            ("app.kubernetes.io/instance".into(), self.run_id.clone()),
            ("app.kubernetes.io/component".into(), component.into()),
            ("app.kubernetes.io/version".into(), env!("CARGO_PKG_VERSION").into()),
            ("app.kubernetes.io/managed-by".into(), "loadline".into()),
            ("loadline.dev/run-id".into(), self.run_id.clone()),
        ])
    }

    fn meta(&self, name: String, component: &str, annotations: Labels) -> Meta {
        Meta {
            name,
            namespace: self.namespace.clone(),
            labels: self.labels(component),
            annotations,
        }
    }

    /// Facts about the run, on the Jobs.
    fn annotations(&self) -> Labels {
        let sha = Sha256::digest(self.input.text.as_bytes());
        let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
        Labels::from([
            ("loadline.dev/start-at".into(), self.t0.to_string()),
            ("loadline.dev/shards".into(), self.shards.to_string()),
            ("loadline.dev/profile".into(), self.input.profile.name.clone()),
            ("loadline.dev/profile-sha256".into(), hex),
        ])
    }

    /// The shared claim: not labelled with a run, since every run uses it.
    fn claim(&self, size: &str, class: &Option<String>) -> Claim {
        let mut labels = self.labels("results");
        labels.remove("app.kubernetes.io/instance");
        labels.remove("loadline.dev/run-id");
        Claim {
            api_version: "v1",
            kind: "PersistentVolumeClaim",
            metadata: Meta {
                name: self.claim.clone(),
                namespace: self.namespace.clone(),
                labels,
                annotations: Labels::new(),
            },
            spec: ClaimSpec {
                access_modes: vec!["ReadWriteMany"],
                storage_class_name: class.clone(),
                resources: Resources {
                    requests: BTreeMap::from([("storage", size.to_string())]),
                    limits: BTreeMap::new(),
                },
            },
        }
    }

    /// Config map keys: the profile, the policy, and each file the profile names.
    fn config_map(&self) -> ConfigMap {
        let mut data = BTreeMap::from([("profile.yaml".to_string(), Text(self.input.text.clone()))]);
        if let Some(g) = &self.gate {
            data.insert("policy.yaml".into(), Text(g.policy_text.clone()));
        }
        for f in &self.input.files {
            data.insert(file_key(&f.relative), Text(f.text.clone()));
        }
        ConfigMap {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: self.meta(self.config_name(), "config", Labels::new()),
            data,
        }
    }
}

/// A ConfigMap key for a file the profile names (keys allow `[-._a-zA-Z0-9]`).
fn file_key(relative: &str) -> String {
    let safe: String = relative
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("file.{safe}")
}

/// Render the plan's objects as one multi-document YAML.
pub(super) fn render(plan: &Plan) -> Result<Rendered, Error> {
    let yaml_err = |e: serde_saphyr::SerializeError| Error::Yaml(e.to_string());
    let mut docs = Vec::new();
    if let Some((size, class)) = &plan.new_claim {
        docs.push(to_yaml(&plan.claim(size, class)).map_err(yaml_err)?);
    }
    docs.push(to_yaml(&plan.config_map()).map_err(yaml_err)?);
    docs.push(to_yaml(&plan.shards_job()).map_err(yaml_err)?);
    docs.push(to_yaml(&plan.gate_job()).map_err(yaml_err)?);
    let mut yaml = header(plan);
    for doc in docs {
        yaml.push_str("---\n");
        yaml.push_str(&doc);
    }
    Ok(Rendered {
        yaml,
        run_id: plan.run_id.clone(),
        start_at: plan.t0,
        gate_job: plan.gate_job_name(),
        warnings: plan.warnings.clone(),
    })
}

/// What the file is and how to use it, as YAML comments.
fn header(plan: &Plan) -> String {
    let step = if plan.gate.is_some() {
        "merges the shards, then gates the run: its exit code is the decision"
    } else {
        "merges the shards (no --policy: no gate)"
    };
    format!(
        "# Rendered by `loadline deploy k8s` (loadline {version}); render again rather than edit.\n\
         # Run {run}: {n} shards of profile `{name}`, all starting at T0 {t0}.\n\
         # Results: claim {claim}, {dir}/shard-I.\n\
         # Job {gate} {step}.\n\
         #   kubectl apply -f THIS_FILE\n\
         #   kubectl wait --for=condition=complete job/{gate} --timeout={wait}s\n",
        version = env!("CARGO_PKG_VERSION"),
        run = plan.run_id,
        n = plan.shards,
        name = plan.input.profile.name,
        t0 = plan.t0,
        claim = plan.claim,
        dir = plan.run_dir(),
        gate = plan.gate_job_name(),
        wait = (plan.shard_deadline + GATE_SLACK).as_secs(),
    )
}

mod jobs;
