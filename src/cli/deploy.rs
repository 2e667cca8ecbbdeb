//! `loadline deploy k8s --shards N PROFILE`: the Kubernetes manifests of a
//! sharded run, to stdout or `--out FILE`. The library ([`crate::deploy`])
//! checks and renders; this file reads the flags and the clock.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, Exit};
use crate::atomic;
use crate::deploy::{self, Request, Spread, Start};
use crate::printer::Printer;
use crate::units::Dur;

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(subcommand)]
    target: DeployTarget,
}

#[derive(Debug, Subcommand)]
enum DeployTarget {
    /// Print the manifests of a sharded run on Kubernetes: an Indexed Job of
    /// N shards on one time grid, a results claim, and a Job that merges the
    /// shards and gates the run (its exit code the promotion decision).
    K8s(Box<K8sArgs>),
}

#[derive(Debug, Args)]
pub struct K8sArgs {
    /// The traffic profile (YAML); checked here and shipped verbatim in a ConfigMap.
    #[arg(value_name = "PROFILE")]
    pub profile: PathBuf,

    /// Number of shards: pods of the Indexed Job, each sending 1/N of the load.
    #[arg(long, value_name = "N")]
    pub shards: u32,

    /// The loadline image the pods run.
    #[arg(long, value_name = "IMAGE", default_value = concat!("ghcr.io/loadline/loadline:", env!("CARGO_PKG_VERSION")))]
    pub image: String,

    /// Namespace of every object (default: kubectl's current namespace).
    #[arg(long, short = 'n', value_name = "NAME")]
    pub namespace: Option<String>,

    /// The run's id, shared by every shard and naming the objects and the
    /// results folder (default: the profile's name and T0, e.g. shop-20261205-100000).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// T0, when every shard starts: RFC 3339 (2026-12-05T10:00:00Z) or Unix milliseconds.
    #[arg(long, value_name = "TIME", value_parser = deploy::parse_start_at, conflicts_with = "start_in")]
    pub start_at: Option<jiff::Timestamp>,

    /// T0 this long after now: time for the pods to be scheduled and the image pulled.
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub start_in: Dur,

    /// A gate policy: the follow-up Job gates the merged run with it (without: merge only).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The policy's environment to judge for (default: the profile's target.environment).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,

    /// A baseline run on the results volume (relative paths are under /results).
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<String>,

    /// `gate calibrate` noise floors on the results volume (relative paths are under /results).
    #[arg(long, value_name = "PATH")]
    pub calibration: Option<String>,

    /// Merge and gate even with shards missing: the run is marked partial, the gate inconclusive.
    #[arg(long)]
    pub allow_partial: bool,

    /// An existing ReadWriteMany claim for the results (default: create `loadline-results`).
    #[arg(long, value_name = "NAME")]
    pub results_claim: Option<String>,

    /// Size of the results claim created.
    #[arg(long, value_name = "SIZE", default_value = "10Gi", conflicts_with = "results_claim")]
    pub storage: String,

    /// Storage class of the results claim created (one that offers ReadWriteMany).
    #[arg(long, value_name = "NAME", conflicts_with = "results_claim")]
    pub storage_class: Option<String>,

    /// CPU of each pod, requested and limited.
    #[arg(long, value_name = "CORES", default_value = "2")]
    pub cpu: String,

    /// Memory of each pod, requested and limited.
    #[arg(long, value_name = "SIZE", default_value = "1Gi")]
    pub memory: String,

    /// A Secret whose keys become the shards' environment (what `${env:NAME}` in the profile reads).
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,

    /// Keep shards on different nodes: soft (when the scheduler can) or hard (a pod waits).
    #[arg(long, value_name = "HOW", value_enum, default_value_t = Spread::Soft)]
    pub spread: Spread,

    /// Finished Jobs are deleted after this long (the results stay on the claim).
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub ttl: Dur,

    /// Allow a profile labelled `environment: prod` (passed on to every shard).
    #[arg(long)]
    pub allow_prod: bool,

    /// Write the manifests to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn execute(args: DeployArgs, printer: Printer) -> CliResult {
    match args.target {
        DeployTarget::K8s(k) => k8s(*k, printer),
    }
}

fn k8s(args: K8sArgs, printer: Printer) -> CliResult {
    let request = Request {
        profile: args.profile,
        shards: args.shards,
        image: args.image,
        namespace: args.namespace,
        run_id: args.run_id,
        start: match args.start_at {
            Some(t) => Start::At(t),
            None => Start::In(args.start_in.0),
        },
        policy: args.policy,
        env: args.env,
        baseline: args.baseline,
        calibration: args.calibration,
        allow_partial: args.allow_partial,
        results_claim: args.results_claim,
        storage: args.storage,
        storage_class: args.storage_class,
        cpu: args.cpu,
        memory: args.memory,
        secret: args.secret,
        spread: args.spread,
        ttl: args.ttl.0,
        allow_prod: args.allow_prod,
    };
    let rendered = deploy::render(&request, jiff::Timestamp::now()).map_err(CliError::input)?;
    for w in &rendered.warnings {
        printer.warn(w);
    }
    match &args.out {
        Some(path) => {
            atomic::write(path, rendered.yaml.as_bytes())?;
            printer.info(format!(
                "wrote {}: run {}, {} shards, T0 {}; kubectl apply -f {} and watch job/{}",
                path.display(),
                rendered.run_id,
                request.shards,
                rendered.start_at,
                path.display(),
                rendered.gate_job
            ));
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(rendered.yaml.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => {}
                // Piped into `head`: what was wanted was read.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(anyhow::anyhow!("cannot write the manifests to stdout: {e}").into()),
            }
        }
    }
    Ok(Exit::Success)
}
