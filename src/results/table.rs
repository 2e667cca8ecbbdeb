//! The result table printed after a run: what a person reads first. Plain
//! text, aligned, readable without colour.

use std::fmt::Write;
use std::path::Path;

use super::hist::{fmt_us, LatencyStats};
use super::summary::Summary;

/// A share as a percentage with two decimals.
fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// One line of the endpoint table.
fn row(out: &mut String, name: &str, kind: &str, n: u64, rate: f64, err: f64, l: &LatencyStats) {
    let lat = |v: u64| if l.count == 0 { "-".to_string() } else { fmt_us(v) };
    let _ = writeln!(
        out,
        "  {name:<18} {kind:<5} {n:>9} {rate:>9.1} {err:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        lat(l.p50),
        lat(l.p90),
        lat(l.p99),
        lat(l.p99_9),
        lat(l.max),
        err = pct(err),
    );
}

/// Render a run's summary as the table printed after `loadline run`.
pub fn render(s: &Summary, dir: &Path) -> String {
    let mut out = String::new();
    heading(&mut out, s);
    let _ = writeln!(out);
    endpoint_table(&mut out, s);
    clients(&mut out, s);
    let _ = writeln!(out);
    mix(&mut out, s);
    schedule(&mut out, s);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  results in {}: {}, {}, {}{}",
        dir.display(),
        s.files.summary,
        s.files.latency_log,
        s.files.timeseries,
        s.files
            .clients_log
            .as_deref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default()
    );
    out
}

/// What ran against what, for how long, and how close the sent rate came
/// to the target.
fn heading(out: &mut String, s: &Summary) {
    let env = s
        .profile
        .environment
        .as_deref()
        .map(|e| format!(" [{e}]"))
        .unwrap_or_default();
    let model = match (&s.profile.arrivals, s.profile.users) {
        (Some(a), _) => format!("open model, {a} arrivals"),
        (None, Some(u)) => format!("closed model, {u} users"),
        _ => s.profile.model.to_string(),
    };
    let _ = writeln!(
        out,
        "{} ({model}, seed {}) against {}{env}",
        s.profile.name, s.profile.seed, s.target.base_url
    );
    let interrupted = if s.run.interrupted { ", INTERRUPTED" } else { "" };
    let _ = writeln!(
        out,
        "  measured {:.1}s after a {:.1}s warm-up{interrupted}; {} requests, {:.1}/s",
        s.run.measured_s, s.run.warmup_s, s.totals.requests, s.rate.achieved_per_s
    );
    if let (Some(t), Some(ratio)) = (s.rate.target_per_s, s.rate.achieved_ratio) {
        let _ = writeln!(
            out,
            "  target {t:.1}/s (peak {:.1}/s): {} of {} intended requests sent ({})",
            s.rate.peak_target_per_s.unwrap_or(t),
            s.rate.sent_requests,
            s.rate.target_requests.unwrap_or(0),
            pct(ratio)
        );
    }
}

/// One row per endpoint and one for all of them: requests, rate, errors
/// and latency quantiles.
fn endpoint_table(out: &mut String, s: &Summary) {
    let _ = writeln!(
        out,
        "  {:<18} {:<5} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "endpoint", "kind", "requests", "rate/s", "errors", "p50", "p90", "p99", "p99.9", "max"
    );
    for e in &s.endpoints {
        row(
            out,
            &e.name,
            &e.kind,
            e.requests,
            e.rate_per_s,
            e.error_rate,
            &e.latency_us,
        );
    }
    row(
        out,
        "all",
        "",
        s.totals.requests,
        s.rate.achieved_per_s,
        s.totals.error_rate,
        &s.totals.latency_us,
    );
}

/// One row per client class (slow and abandoning clients), apart from the
/// endpoints: their latency is their own slowness, not the service's.
fn clients(out: &mut String, s: &Summary) {
    if s.clients.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<18} {:>6} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9}  not sent",
        "client class", "share", "requests", "abandon", "errors", "p50", "p99", "max"
    );
    for c in &s.clients {
        let l = &c.latency_us;
        let lat = |v: u64| if l.count == 0 { "-".to_string() } else { fmt_us(v) };
        let errors = if c.requests == 0 {
            0.0
        } else {
            c.errors as f64 / c.requests as f64
        };
        let _ = writeln!(
            out,
            "  {:<18} {:>6} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9}  {} over cap, {} cut at the end",
            c.name,
            pct(c.share),
            c.requests,
            c.abandoned,
            pct(errors),
            lat(l.p50),
            lat(l.p99),
            lat(l.max),
            c.overflow,
            c.unfinished,
        );
        if !c.errors_by_kind.is_empty() {
            let _ = writeln!(out, "  {:<18} errors by kind: {}", "", kinds_line(&c.errors_by_kind));
        }
    }
    let _ = writeln!(
        out,
        "  (client classes are kept out of the endpoints, the totals and latency.hlog: see `clients` in summary.json)"
    );
}

/// `kind n, kind n, ...`, most frequent first: the fault met most often
/// leads the line.
fn kinds_line(by_kind: &std::collections::BTreeMap<String, u64>) -> String {
    let mut kinds: Vec<(&String, &u64)> = by_kind.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let kinds: Vec<String> = kinds.iter().map(|(k, v)| format!("{k} {v}")).collect();
    kinds.join(", ")
}

/// What the requests came to: outcomes, unexpected statuses, the
/// read/write split and the busiest tenants.
fn mix(out: &mut String, s: &Summary) {
    let outcomes: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        out,
        "  outcomes: {}",
        if outcomes.is_empty() {
            "none".to_string()
        } else {
            outcomes.join(", ")
        }
    );
    if s.totals.unexpected_status > 0 {
        let _ = writeln!(
            out,
            "  unexpected status (not in `expect`): {}",
            s.totals.unexpected_status
        );
    }
    if !s.errors_by_kind.is_empty() {
        let _ = writeln!(out, "  errors by kind: {}", kinds_line(&s.errors_by_kind));
    }
    if s.retried_stale > 0 {
        let _ = writeln!(
            out,
            "  retried on a fresh connection (server closed an idle keep-alive one): {}",
            s.retried_stale
        );
    }
    let rw = &s.read_write;
    if rw.read + rw.write > 0 {
        let _ = writeln!(
            out,
            "  read/write: {} / {}",
            pct(rw.read_share),
            pct(1.0 - rw.read_share)
        );
    }
    if let Some(t) = &s.tenants {
        let top: Vec<String> = t
            .top
            .iter()
            .take(3)
            .map(|x| format!("{} {}", x.id, pct(x.share)))
            .collect();
        let _ = writeln!(
            out,
            "  tenants: {} of {} seen; busiest: {}",
            t.seen,
            t.count,
            top.join(", ")
        );
    }
}

/// How well the generator kept its schedule, and whether it could not.
fn schedule(out: &mut String, s: &Summary) {
    let sc = &s.schedule;
    // The open model's own lateness, apart from waits for a free connection.
    let send = if s.rate.target_per_s.is_some() {
        format!(" (send lag p99 {})", fmt_us(sc.send_lag_us.p99))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  schedule: lag p50 {} p99 {} max {}{send}; {} late (>{}ms), {} never sent",
        fmt_us(sc.lag_us.p50),
        fmt_us(sc.lag_us.p99),
        fmt_us(sc.lag_us.max),
        sc.late_requests,
        sc.late_threshold_ms,
        sc.dropped_requests
    );
    if let Some(g) = &s.generator {
        let _ = writeln!(
            out,
            "  generator: {:.2} CPU-s, {:.0}% of its {} worker(s); {:.0} requests per CPU-second",
            g.cpu_s,
            g.cpu_share * 100.0,
            s.run.workers,
            g.requests_per_cpu_s
        );
    }
    if sc.generator_saturated {
        let _ = writeln!(
            out,
            "  GENERATOR SATURATED: {}",
            sc.saturation_reason.as_deref().unwrap_or("the schedule was not kept")
        );
    }
}
