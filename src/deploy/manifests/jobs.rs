//! The two Jobs: the shards (an Indexed Job, one pod per shard, no pod
//! ever replayed) and the follow-up that merges them and gates the result.

use std::collections::BTreeMap;

use super::super::k8s::*;
use super::{Plan, GATE_SLACK, POLICY_DIR, PROFILE_DIR, RESULTS_ROOT, RUN_AS};

/// The pod's completion index, from the annotation the Job controller sets.
/// Declared explicitly so `$(JOB_COMPLETION_INDEX)` in the arguments is
/// expanded by the kubelet (it expands only variables the container declares).
const INDEX_FIELD: &str = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

impl Plan {
    /// The Indexed Job of the shards.
    pub(super) fn shards_job(&self) -> Job {
        let dir = self.run_dir();
        let mut args = vec![
            "run".to_string(),
            format!("{PROFILE_DIR}/profile.yaml"),
            "--shard".into(),
            format!("auto/{}", self.shards),
            "--start-at".into(),
            self.t0.to_string(),
            "--run-id".into(),
            self.run_id.clone(),
            "--out".into(),
            format!("{dir}/shard-$(JOB_COMPLETION_INDEX)"),
        ];
        if self.allow_prod {
            args.push("--allow-prod".into());
        }
        let mut container = self.container("shard", args, vec!["profile", "results", "tmp"]);
        container.env = vec![EnvVar {
            name: "JOB_COMPLETION_INDEX",
            value_from: EnvSource {
                field_ref: FieldRef {
                    field_path: INDEX_FIELD,
                },
            },
        }];
        if let Some(secret) = &self.secret {
            container.env_from = vec![EnvFrom {
                secret_ref: NameRef { name: secret.clone() },
            }];
        }
        let mut profile_items = vec![KeyPath {
            key: "profile.yaml".into(),
            path: "profile.yaml".into(),
        }];
        profile_items.extend(self.input.files.iter().map(|f| KeyPath {
            key: super::file_key(&f.relative),
            path: f.relative.trim_start_matches("./").to_string(),
        }));
        let labels = self.labels("shard");
        let spread = TopologySpread {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname",
            when_unsatisfiable: match self.spread {
                super::Spread::Soft => "ScheduleAnyway",
                super::Spread::Hard => "DoNotSchedule",
            },
            label_selector: Selector {
                match_labels: BTreeMap::from([
                    ("loadline.dev/run-id".to_string(), self.run_id.clone()),
                    ("app.kubernetes.io/component".to_string(), "shard".to_string()),
                ]),
            },
        };
        Job {
            api_version: "batch/v1",
            kind: "Job",
            metadata: self.meta(self.shards_job_name(), "shard", self.annotations()),
            spec: JobSpec {
                completion_mode: Some("Indexed"),
                completions: self.shards,
                parallelism: self.shards,
                backoff_limit: None,
                backoff_limit_per_index: Some(0),
                pod_replacement_policy: Some("Failed"),
                pod_failure_policy: None,
                active_deadline_seconds: self.shard_deadline.as_secs(),
                ttl_seconds_after_finished: self.ttl.as_secs(),
                template: PodTemplate {
                    metadata: TemplateMeta { labels },
                    spec: self.pod(
                        vec![],
                        container,
                        self.grace.as_secs(),
                        vec![spread],
                        Some(("profile", profile_items)),
                    ),
                },
            },
        }
    }

    /// The follow-up Job: merge (an init container) then gate, or merge alone.
    pub(super) fn gate_job(&self) -> Job {
        let dir = self.run_dir();
        let wait = self.shard_deadline;
        let mut merge = vec![
            "merge".to_string(),
            dir.clone(),
            "--wait".into(),
            crate::units::Dur(wait).to_string(),
            "--out".into(),
            format!("{dir}/merged"),
        ];
        if self.allow_partial {
            merge.push("--allow-partial".into());
        }
        let mounts = vec!["results", "tmp"];
        let (init, main, items) = match &self.gate {
            None => (vec![], self.container("merge", merge, mounts), vec![]),
            Some(g) => {
                let mut gate = vec![
                    "gate".to_string(),
                    format!("{dir}/merged"),
                    "--policy".into(),
                    format!("{POLICY_DIR}/policy.yaml"),
                    "--env".into(),
                    g.env.clone(),
                ];
                for (flag, path) in [("--baseline", &g.baseline), ("--calibration", &g.calibration)] {
                    if let Some(p) = path {
                        gate.extend([flag.to_string(), p.clone()]);
                    }
                }
                for (flag, file) in [("--json", "json"), ("--markdown", "md"), ("--junit", "xml")] {
                    gate.extend([flag.to_string(), format!("{dir}/verdict.{file}")]);
                }
                let mut gate_mounts = mounts.clone();
                gate_mounts.push("policy");
                let items = vec![KeyPath {
                    key: "policy.yaml".into(),
                    path: "policy.yaml".into(),
                }];
                (
                    vec![self.container("merge", merge, mounts)],
                    self.container("gate", gate, gate_mounts),
                    items,
                )
            }
        };
        let config = (!items.is_empty()).then_some(("policy", items));
        let pod = self.pod(init, main, 30, vec![], config);
        Job {
            api_version: "batch/v1",
            kind: "Job",
            metadata: self.meta(self.gate_job_name(), "gate", self.annotations()),
            spec: JobSpec {
                completion_mode: None,
                completions: 1,
                parallelism: 1,
                // A verdict is given once: a blocked gate is not retried.
                backoff_limit: Some(0),
                backoff_limit_per_index: None,
                pod_replacement_policy: Some("Failed"),
                // A pod lost to a node drain or preemption gave no verdict:
                // it is replaced without counting as a failure.
                pod_failure_policy: Some(PodFailurePolicy {
                    rules: vec![PodFailureRule {
                        action: "Ignore",
                        on_pod_conditions: vec![PodCondition {
                            kind: "DisruptionTarget",
                            status: "True",
                        }],
                    }],
                }),
                active_deadline_seconds: (wait + GATE_SLACK).as_secs(),
                ttl_seconds_after_finished: self.ttl.as_secs(),
                template: PodTemplate {
                    metadata: TemplateMeta {
                        labels: self.labels("gate"),
                    },
                    spec: pod,
                },
            },
        }
    }

    /// A loadline container: non-root, read-only root, CPU and memory
    /// requested as limited (a throttled generator measures itself).
    fn container(&self, name: &str, args: Vec<String>, mounts: Vec<&'static str>) -> Container {
        let amounts = BTreeMap::from([("cpu", self.cpu.clone()), ("memory", self.memory.clone())]);
        Container {
            name: name.into(),
            image: self.image.clone(),
            image_pull_policy: "IfNotPresent",
            args,
            env: vec![],
            env_from: vec![],
            resources: Resources {
                requests: amounts.clone(),
                limits: amounts,
            },
            security_context: ContainerSecurity {
                allow_privilege_escalation: false,
                read_only_root_filesystem: true,
                capabilities: Capabilities { drop: vec!["ALL"] },
            },
            volume_mounts: mounts
                .into_iter()
                .map(|m| Mount {
                    name: m,
                    mount_path: match m {
                        "profile" => PROFILE_DIR,
                        "policy" => POLICY_DIR,
                        "results" => RESULTS_ROOT,
                        _ => "/tmp",
                    },
                    read_only: matches!(m, "profile" | "policy"),
                })
                .collect(),
        }
    }

    /// A pod of the run: the config map mounted as volume `config.0` with
    /// the keys `config.1` (none for a merge alone), the results claim and a
    /// scratch `/tmp`.
    fn pod(
        &self,
        init_containers: Vec<Container>,
        main: Container,
        grace_seconds: u64,
        spread: Vec<TopologySpread>,
        config: Option<(&'static str, Vec<KeyPath>)>,
    ) -> PodSpec {
        let mut volumes = Vec::new();
        if let Some((name, items)) = config {
            volumes.push(Volume {
                name,
                config_map: Some(ConfigMapVolume {
                    name: self.config_name(),
                    items,
                }),
                persistent_volume_claim: None,
                empty_dir: None,
            });
        }
        volumes.push(Volume {
            name: "results",
            config_map: None,
            persistent_volume_claim: Some(ClaimVolume {
                claim_name: self.claim.clone(),
            }),
            empty_dir: None,
        });
        volumes.push(Volume {
            name: "tmp",
            config_map: None,
            persistent_volume_claim: None,
            empty_dir: Some(EmptyDir { size_limit: "64Mi" }),
        });
        PodSpec {
            restart_policy: "Never",
            termination_grace_period_seconds: grace_seconds,
            security_context: PodSecurity {
                run_as_non_root: true,
                run_as_user: RUN_AS,
                run_as_group: RUN_AS,
                fs_group: RUN_AS,
                seccomp_profile: Seccomp { kind: "RuntimeDefault" },
            },
            topology_spread_constraints: spread,
            init_containers,
            containers: vec![main],
            volumes,
        }
    }
}
