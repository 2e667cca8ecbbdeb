//! `loadline learn LOG... --out profile.yaml`: a profile fitted from access
//! logs, with production's shape and none of its values.
//!
//! Exit codes: 0 learned, 2 bad input (an unknown format, an unreadable
//! file, too many lines that do not parse, nothing to learn), 1 the profile
//! could not be written.

use std::path::{Path, PathBuf};

use clap::Args;
use rand::RngExt;

use super::{CliError, CliResult, Exit};
use crate::learn::curve::Resolution;
use crate::learn::log::Format;
use crate::learn::paths::Pin;
use crate::learn::render::{self, Rendered};
use crate::learn::run::{self, FileReport, Input};
use crate::learn::tenants::TenantSource;
use crate::learn::{LearnOptions, Learned};
use crate::printer::Printer;
use crate::scrub::keyed::Secret;
use crate::units::{Dur, Percent};

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Access logs: files (gzip is recognised by its content) or `-` for standard input.
    #[arg(value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,

    /// The profile to write (a `.tenants.csv` beside it when tenants need a weights table).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,

    /// The logs' format: auto, nginx (combined), apache-common, apache-combined, alb, envoy, envoy-json.
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub format: String,

    /// An nginx `log_format` string the logs were written with (instead of --format).
    #[arg(long, value_name = "STRING", conflicts_with = "format")]
    pub log_format: Option<String>,

    /// Where requests name their tenant: path:N (0-based segment), header:NAME or query:NAME.
    #[arg(long, value_name = "SOURCE")]
    pub tenant: Option<String>,

    /// The rate curve's resolution: 1h (per hour of day, UTC), 1m or 1s (over the log's span).
    #[arg(long, default_value = "1h", value_name = "RES")]
    pub resolution: String,

    /// Path segments, templates and tenants seen fewer times are never written.
    #[arg(long, default_value_t = 10, value_name = "K")]
    pub min_count: u64,

    /// Different fixed segments under one parent before that position becomes a variable.
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub max_literals: usize,

    /// Pin a template (repeatable): `/users/{{user}}/settings`; matching paths use it as written.
    #[arg(long = "template", value_name = "TEMPLATE")]
    pub templates: Vec<String>,

    /// Replay the log's span in this long (e.g. 10m) instead of real time; rates stay as learned.
    #[arg(long, value_name = "DURATION")]
    pub replay_in: Option<Dur>,

    /// The learned profile's target.
    #[arg(long, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub base_url: String,

    /// The learned profile's name (default: the output file's stem).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The largest share of lines that may fail to parse, per file.
    #[arg(long, default_value = "1%", value_name = "PERCENT")]
    pub max_bad: Percent,

    /// Threads per plain log file (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Environment variable holding the key tenant names are hashed under
    /// (the same key gives the same tenant keys in every run); without it, a
    /// one-off key.
    #[arg(long, default_value = "LOADLINE_LEARN_KEY", value_name = "NAME")]
    pub key_env: String,
}

/// True when `url` carries a password (`scheme://user:secret@host`): the
/// learned profile would hold it in plain text.
fn has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

fn options(args: &LearnArgs) -> Result<(LearnOptions, Input), CliError> {
    if has_password(&args.base_url) {
        // The value is not repeated: it is a secret.
        return Err(CliError::input(anyhow::anyhow!(
            "--base-url: the URL holds a password, which the learned profile would keep in plain text; \
             give the URL without it and send credentials in a header read from the environment \
             (`Authorization: \"Bearer ${{env:TOKEN}}\"`)"
        )));
    }
    let tenant: Option<TenantSource> = args
        .tenant
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: String| CliError::input(anyhow::anyhow!("--tenant: {e}")))?;
    let pins = args
        .templates
        .iter()
        .map(|t| Pin::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::input(anyhow::anyhow!("--template: {e}")))?;
    if tenant.is_none()
        && pins
            .iter()
            .any(|p| p.parts.contains(&crate::learn::paths::PinPart::Tenant))
    {
        return Err(CliError::input(anyhow::anyhow!(
            "--template uses {{{{tenant}}}}: say where requests name their tenant with --tenant"
        )));
    }
    let resolution: Resolution = args
        .resolution
        .parse()
        .map_err(|e: String| CliError::input(anyhow::anyhow!("--resolution: {e}")))?;
    let format = match &args.log_format {
        Some(s) => Format::NginxCustom(s.clone()),
        None => args.format.parse().map_err(CliError::input)?,
    };
    if args.min_count == 0 {
        return Err(CliError::input(anyhow::anyhow!("--min-count must be at least 1")));
    }
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map_or("learned".into(), |s| s.to_string_lossy().into_owned())
    });
    let input = Input {
        format,
        tenant_header: match &tenant {
            Some(TenantSource::Header(h)) => Some(h.clone()),
            _ => None,
        },
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        max_bad: args.max_bad.fraction(),
    };
    let opts = LearnOptions {
        min_count: args.min_count,
        max_literals: args.max_literals.max(1),
        resolution,
        tenant,
        pins,
        replay_in: args.replay_in,
        base_url: args.base_url.clone(),
        name,
    };
    Ok((opts, input))
}

fn secret(env: &str, printer: &Printer) -> Secret {
    match std::env::var(env) {
        Ok(v) if !v.is_empty() => Secret::new(v.into_bytes()),
        _ => {
            let mut key = vec![0u8; 32];
            rand::rng().fill(&mut key[..]);
            printer.info(format!(
                "tenant names are hashed under a one-off key (set {env} to keep tenant keys the same across runs)"
            ));
            Secret::new(key)
        }
    }
}

pub fn execute(args: LearnArgs, printer: Printer) -> CliResult {
    let (opts, input) = options(&args)?;
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(CliError::input(anyhow::anyhow!(
                "--out: folder {} does not exist",
                parent.display()
            )));
        }
    }
    let prf = secret(&args.key_env, &printer).prf("learn", "tenant");
    let (learner, reports) = run::read_logs(&args.logs, &input, &opts, &prf).map_err(CliError::input)?;
    for r in &reports {
        report_file(r, &printer);
    }
    let learned = learner.finish(&opts).map_err(CliError::input)?;
    let csv_path = tenants_csv_path(&args.out);
    let csv_name = csv_path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let sources: Vec<String> = args
        .logs
        .iter()
        .map(|p| p.file_name().map_or("-".into(), |n| n.to_string_lossy().into_owned()))
        .collect();
    let rendered = render::render(&learned, &opts, &sources, &csv_name);
    write(&args.out, &csv_path, &rendered)?;
    summary(&learned, &opts, &printer);
    printer.info(format!("wrote {}", args.out.display()));
    Ok(Exit::Success)
}

fn tenants_csv_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or("learned".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.tenants.csv"))
}

/// Write the weights table, check the profile loads as `loadline run` would
/// load it, then write the profile (each through a temporary file).
fn write(out: &Path, csv_path: &Path, r: &Rendered) -> Result<(), CliError> {
    if let Some(csv) = &r.tenants_csv {
        crate::atomic::write(csv_path, csv.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", csv_path.display()))?;
    }
    crate::profile::from_str(&r.profile, out, &crate::profile::Overrides::default())
        .map_err(|e| anyhow::anyhow!("the learned profile does not load (a bug in loadline learn): {e}"))?;
    crate::atomic::write(out, r.profile.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    Ok(())
}

fn report_file(r: &FileReport, printer: &Printer) {
    printer.info(format!(
        "{}: {} lines as {}, {} requests",
        r.path.display(),
        r.lines,
        r.format,
        r.parsed
    ));
    if !r.rejects.is_empty() {
        printer.warn(format!(
            "{}: {} lines rejected: {}",
            r.path.display(),
            r.rejects.total(),
            r.rejects
        ));
    }
}

fn summary(l: &Learned, opts: &LearnOptions, printer: &Printer) {
    let s = &l.shape;
    let kept: u64 = l.endpoints.iter().map(|e| e.leaf.count).sum();
    for (src, n) in &l.time_sources {
        printer.info(format!("arrival time: {} ({n} requests)", src.describe()));
    }
    printer.info(format!(
        "learned {} endpoints ({:.1}% of {} requests), peak {:.1}/s, mean {:.1}/s, {} spike(s), burstiness {:.2}",
        l.endpoints.len(),
        100.0 * kept as f64 / s.total.max(1) as f64,
        s.total,
        s.peak_rate,
        s.mean_rate,
        s.spikes.len(),
        s.burstiness
    ));
    if let Some(t) = &l.tenants {
        let fit = t
            .fit
            .map_or("no Zipf fit".into(), |f| format!("Zipf s {:.2} (KS {:.3})", f.s, f.ks));
        let table = if t.weights.is_some() {
            ", fit poor: weights table of keyed hashes"
        } else {
            ""
        };
        printer.info(format!("tenants: {} seen, {fit}{table}", t.count));
    }
    let vars: usize = l
        .endpoints
        .iter()
        .map(|e| {
            e.parts
                .iter()
                .filter(|p| matches!(p, crate::learn::paths::Part::Var(..)))
                .count()
                + e.leaf.query.len()
        })
        .sum();
    let tenant = if opts.tenant.is_some() {
        "; tenant names (hashed under the key, never written)"
    } else {
        ""
    };
    printer.info(format!(
        "dropped, never written: client addresses, user names, referrers, user agents and every other logged field; \
         path and query values ({vars} variables, generators only){tenant}; {} requests of {} templates seen fewer than {} times; \
         {} rare and {} personal-looking path segments",
        l.dropped.rare_requests, l.dropped.rare_templates, opts.min_count, l.dropped.rare_segments, l.dropped.personal_segments
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_base_url_is_found() {
        assert!(has_password("http://u:p@h:8080/x"));
        assert!(has_password("https://u:p@h"));
        assert!(!has_password("http://u@h"));
        assert!(!has_password("http://h:8080/a@b:c"));
        assert!(!has_password("http://127.0.0.1:8080"));
    }
}
