//! The slice of the Kubernetes API the manifests use, as serde types.
//!
//! Only the fields loadline sets are modelled; each struct serializes to the
//! API's camelCase names in the order `kubectl` users read them (apiVersion,
//! kind, metadata, spec). Maps are `BTreeMap`s so the same inputs give the
//! same bytes. Optional fields are skipped when unset rather than written
//! as `null`, which the API's strict schemas refuse in places.

use std::collections::BTreeMap;

use serde::Serialize;

/// Labels or annotations: ordered, so output is deterministic.
pub type Labels = BTreeMap<String, String>;

/// `metadata`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// DNS-1123 name.
    pub name: String,
    /// Where the object lives; unset: the namespace `kubectl` is pointed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `app.kubernetes.io/*` and `loadline.dev/run-id`.
    pub labels: Labels,
    /// Facts about the run (T0, the profile's hash) for people and tools.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: Labels,
}

/// A `v1` ConfigMap; the values are written as YAML block literals so a
/// profile reads in the manifest as it reads in its file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    /// `v1`.
    pub api_version: &'static str,
    /// `ConfigMap`.
    pub kind: &'static str,
    /// Name and labels.
    pub metadata: Meta,
    /// File name to contents.
    pub data: BTreeMap<String, Text>,
}

/// A string in a ConfigMap: a `|` block when it can be one without
/// changing a byte (see [`block_safe`]), otherwise whatever style the
/// serializer picks to keep every byte.
#[derive(Debug, Clone)]
pub struct Text(pub String);

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if block_safe(&self.0) {
            serde_saphyr::LitStr(&self.0).serialize(s)
        } else {
            self.0.serialize(s)
        }
    }
}

/// Whether `text` survives a literal block (`|`) unchanged: it ends in
/// exactly one line break (what `|` restores), no line starts with a space
/// that would be read as indentation, and it has no tab or carriage return
/// that editors and YAML readers treat differently.
pub fn block_safe(text: &str) -> bool {
    text.ends_with('\n')
        && !text.ends_with("\n\n")
        && !text.starts_with(' ')
        && !text.contains(['\t', '\r'])
        && text.lines().all(|l| !l.ends_with(' '))
}

/// A `v1` PersistentVolumeClaim.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// `v1`.
    pub api_version: &'static str,
    /// `PersistentVolumeClaim`.
    pub kind: &'static str,
    /// Name and labels.
    pub metadata: Meta,
    /// Access mode, class and size.
    pub spec: ClaimSpec,
}

/// `PersistentVolumeClaim.spec`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSpec {
    /// `[ReadWriteMany]`: every shard pod writes, on any node.
    pub access_modes: Vec<&'static str>,
    /// The cluster's RWX class (NFS, CephFS, EFS...); unset: the default class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// `requests.storage`.
    pub resources: Resources,
}

/// `resources`: requests and limits by resource name.
#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: BTreeMap<&'static str, String>,
    /// The ceiling; absent for a claim.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<&'static str, String>,
}

/// A `batch/v1` Job.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// `batch/v1`.
    pub api_version: &'static str,
    /// `Job`.
    pub kind: &'static str,
    /// Name and labels.
    pub metadata: Meta,
    /// Completion mode, counts, retries and the pod template.
    pub spec: JobSpec,
}

/// `Job.spec`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    /// `Indexed` for the shards; unset (NonIndexed) for the gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_mode: Option<&'static str>,
    /// Pods that must succeed.
    pub completions: u32,
    /// Pods that run at once.
    pub parallelism: u32,
    /// Retries of the whole Job (the gate: 0, a verdict is not retried).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<u32>,
    /// Retries per index (the shards: 0, a shard is never replayed late).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_limit_per_index: Option<u32>,
    /// `Failed`: a replacement pod (none here) only once the old one is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_replacement_policy: Option<&'static str>,
    /// Which pod failures do not count (a node drain under the gate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_failure_policy: Option<PodFailurePolicy>,
    /// The Job is stopped (SIGTERM to its pods) after this long.
    pub active_deadline_seconds: u64,
    /// The finished Job (not its results) is deleted after this long.
    pub ttl_seconds_after_finished: u64,
    /// The pods.
    pub template: PodTemplate,
}

/// `podFailurePolicy`.
#[derive(Debug, Clone, Serialize)]
pub struct PodFailurePolicy {
    /// Evaluated in order.
    pub rules: Vec<PodFailureRule>,
}

/// One `podFailurePolicy` rule: on a pod condition.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodFailureRule {
    /// `Ignore`, `FailJob`, `FailIndex` or `Count`.
    pub action: &'static str,
    /// The conditions that select the failure.
    pub on_pod_conditions: Vec<PodCondition>,
}

/// `onPodConditions[]`.
#[derive(Debug, Clone, Serialize)]
pub struct PodCondition {
    /// e.g. `DisruptionTarget`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `"True"`.
    pub status: &'static str,
}

/// `template`.
#[derive(Debug, Clone, Serialize)]
pub struct PodTemplate {
    /// Labels the spread constraint selects on.
    pub metadata: TemplateMeta,
    /// The pod.
    pub spec: PodSpec,
}

/// `template.metadata`: labels only.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateMeta {
    /// Same labels as the Job.
    pub labels: Labels,
}

/// `PodSpec`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// `Never`: a failed container fails its pod, and the Job decides.
    pub restart_policy: &'static str,
    /// Longer than a request timeout, so SIGTERM lets in-flight requests end.
    pub termination_grace_period_seconds: u64,
    /// Run as the image's non-root user.
    pub security_context: PodSecurity,
    /// Shards on different nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpread>,
    /// The gate's merge step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// The one main container.
    pub containers: Vec<Container>,
    /// Profile, results and scratch space.
    pub volumes: Vec<Volume>,
}

/// `PodSpec.securityContext`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurity {
    /// `true`: the kubelet refuses to start the container as root.
    pub run_as_non_root: bool,
    /// The image's user.
    pub run_as_user: u32,
    /// The image's group.
    pub run_as_group: u32,
    /// Group of mounted volumes that support ownership, so results are writable.
    pub fs_group: u32,
    /// `RuntimeDefault`.
    pub seccomp_profile: Seccomp,
}

/// `seccompProfile`.
#[derive(Debug, Clone, Serialize)]
pub struct Seccomp {
    /// `RuntimeDefault`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `topologySpreadConstraints[]`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpread {
    /// At most this many more shards on one node than on another.
    pub max_skew: u32,
    /// `kubernetes.io/hostname`: spread over nodes.
    pub topology_key: &'static str,
    /// `ScheduleAnyway` (soft) or `DoNotSchedule` (hard).
    pub when_unsatisfiable: &'static str,
    /// This run's shard pods.
    pub label_selector: Selector,
}

/// `labelSelector`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// Exact label matches.
    pub match_labels: Labels,
}

/// `Container`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// DNS-1123 label.
    pub name: String,
    /// The loadline image.
    pub image: String,
    /// `IfNotPresent`.
    pub image_pull_policy: &'static str,
    /// Arguments to the image's `loadline` entrypoint.
    pub args: Vec<String>,
    /// Explicit variables (the completion index, from the downward API).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Whole Secrets as variables (what `${env:NAME}` in the profile reads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFrom>,
    /// CPU and memory.
    pub resources: Resources,
    /// Read-only root, no privilege escalation, no capabilities.
    pub security_context: ContainerSecurity,
    /// Where the volumes appear.
    pub volume_mounts: Vec<Mount>,
}

/// `env[]` from a field of the pod.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// The variable.
    pub name: &'static str,
    /// Where its value comes from.
    pub value_from: EnvSource,
}

/// `valueFrom`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvSource {
    /// A pod field.
    pub field_ref: FieldRef,
}

/// `fieldRef`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldRef {
    /// e.g. `metadata.annotations['batch.kubernetes.io/job-completion-index']`.
    pub field_path: &'static str,
}

/// `envFrom[]`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvFrom {
    /// A Secret in the Job's namespace.
    pub secret_ref: NameRef,
}

/// A reference by name.
#[derive(Debug, Clone, Serialize)]
pub struct NameRef {
    /// The object's name.
    pub name: String,
}

/// `Container.securityContext`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSecurity {
    /// `false`.
    pub allow_privilege_escalation: bool,
    /// `true`: only the mounted volumes are writable.
    pub read_only_root_filesystem: bool,
    /// `drop: [ALL]`.
    pub capabilities: Capabilities,
}

/// `capabilities`.
#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    /// `[ALL]`.
    pub drop: Vec<&'static str>,
}

/// `volumeMounts[]`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    /// The volume.
    pub name: &'static str,
    /// Where it appears.
    pub mount_path: &'static str,
    /// The profile: read-only.
    pub read_only: bool,
}

/// `volumes[]`: one of a ConfigMap, a claim or an emptyDir.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Referred to by the mounts.
    pub name: &'static str,
    /// The profile (and policy, and files the profile reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    /// The results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<ClaimVolume>,
    /// Scratch space (`/tmp`) under a read-only root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
}

/// `configMap` volume source.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigMapVolume {
    /// The ConfigMap.
    pub name: String,
    /// Key to path under the mount, so a file the profile names by a
    /// relative path is found beside it.
    pub items: Vec<KeyPath>,
}

/// `items[]`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPath {
    /// ConfigMap key.
    pub key: String,
    /// Relative path under the mount.
    pub path: String,
}

/// `persistentVolumeClaim` volume source.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimVolume {
    /// The claim.
    pub claim_name: String,
}

/// `emptyDir` volume source.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDir {
    /// A cap on scratch space.
    pub size_limit: &'static str,
}

/// Serialize one object as a YAML document (without the `---`).
pub fn to_yaml<T: Serialize>(object: &T) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block literal is forced only where reading it back gives the same
    /// bytes; otherwise the serializer picks the style. Either way it round-trips.
    #[test]
    fn configmap_text_round_trips_byte_for_byte() {
        for text in [
            "name: shop\nseed: 42\n",
            "no trailing newline",
            "two trailing\n\n",
            "  indented first line\n",
            "tab\there\n",
            "trailing space \nx\n",
            "crlf\r\n",
            "# comment: with ${env:TOKEN}\nkey: \"quoted\" # and 'single'\n",
            "",
        ] {
            let yaml = to_yaml(&BTreeMap::from([("k", Text(text.to_string()))])).unwrap();
            let back: BTreeMap<String, String> = serde_saphyr::from_str(&yaml).unwrap();
            assert_eq!(back["k"], text, "{yaml}");
            if block_safe(text) {
                assert!(yaml.starts_with("k: |\n"), "{yaml}");
            }
        }
    }
}
