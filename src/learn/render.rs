//! The learned profile as YAML, in the format `loadline run` takes, with
//! what was measured as comments. Every string is written JSON-quoted
//! (valid YAML); nothing observed is written but counts, fitted numbers,
//! rounded quantiles and templates.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Duration;

use super::curve::Shape;
use super::learner::{LearnOptions, Learned};
use super::paths::{Endpoint, Part};
use super::sketch::round_2;
use super::tenants::{TenantSource, WeightRow};
use crate::units::Dur;

/// The profile's text, and the tenant weights table (CSV) when the Zipf fit
/// was poor.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The profile YAML.
    pub profile: String,
    /// `tenant_key,weight` rows, when there is a table.
    pub tenants_csv: Option<String>,
}

fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn num(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A duration the profile reads back (`1h2m3s`, `2500ms`).
pub fn dur(secs: f64) -> String {
    Dur(Duration::from_millis((secs * 1000.0).round().max(0.0) as u64)).to_string()
}

/// A rate the profile reads back: per second, or per hour when below
/// 0.01/s (so a sparse log's rate is not rounded to 0).
fn rate(per_s: f64) -> String {
    if per_s >= 0.01 {
        format!("{}/s", num(per_s, 3))
    } else {
        let h = num(per_s * 3600.0, 4);
        if h == "0" {
            format!("{:.3e}/h", per_s * 3600.0)
        } else {
            format!("{h}/h")
        }
    }
}

fn bytes(v: u64) -> String {
    match v {
        0..1_000 => format!("{v} B"),
        1_000..1_000_000 => format!("{} kB", num(v as f64 / 1e3, 1)),
        _ => format!("{} MB", num(v as f64 / 1e6, 1)),
    }
}

/// The profile for `learned`, with the log files' names in the header
/// (the file names only, given by the user).
pub fn render(learned: &Learned, opts: &LearnOptions, sources: &[String], csv_name: &str) -> Rendered {
    let mut y = String::new();
    header(&mut y, learned, sources);
    let scale = opts
        .replay_in
        .map_or(1.0, |d| d.as_secs_f64() / learned.shape.span as f64);
    let _ = writeln!(y, "name: {}", q(&opts.name));
    let _ = writeln!(y, "target:\n  base_url: {}\n  environment: staging", q(&opts.base_url));
    let _ = writeln!(y, "seed: 1");
    let _ = writeln!(y, "duration: {}", dur(learned.shape.span as f64 * scale));
    load(&mut y, learned, scale);
    let tenants_csv = tenants(&mut y, learned, opts, csv_name);
    endpoints(&mut y, learned);
    Rendered {
        profile: y,
        tenants_csv,
    }
}

fn header(y: &mut String, l: &Learned, sources: &[String]) {
    let s = &l.shape;
    let total: u64 = l.endpoints.iter().map(|e| e.leaf.count).sum();
    let _ = writeln!(
        y,
        "# Learned by loadline {} from {} (`loadline learn`).",
        env!("CARGO_PKG_VERSION"),
        sources.join(", ")
    );
    let _ = writeln!(
        y,
        "# {} requests over {} from {}; {} in the {} endpoints below.",
        s.total,
        dur(s.span as f64),
        jiff::Timestamp::from_second(s.first).map_or_else(|_| s.first.to_string(), |t| t.to_string()),
        total,
        l.endpoints.len()
    );
    for (src, n) in &l.time_sources {
        let _ = writeln!(y, "# Arrival time: {} ({n} requests).", src.describe());
    }
    let _ = writeln!(
        y,
        "# Left out: {} requests of {} templates seen fewer than the minimum count; {} rare and {} personal-looking path segments made variables.",
        l.dropped.rare_requests, l.dropped.rare_templates, l.dropped.rare_segments, l.dropped.personal_segments
    );
    let _ = writeln!(
        y,
        "# Nothing observed is copied: no address, user agent, query value, path value or tenant name."
    );
}

fn load(y: &mut String, l: &Learned, scale: f64) {
    let s = &l.shape;
    let arrivals = if s.burstiness < 0.3 { "uniform" } else { "poisson" };
    let _ = writeln!(y, "load:\n  model: open");
    let _ = writeln!(
        y,
        "  rate: {}            # the curve's peak; mean {} over the log",
        rate(s.peak_rate),
        rate(s.mean_rate)
    );
    let _ = writeln!(
        y,
        "  arrivals: {arrivals}        # burstiness {} (index of dispersion of requests per {} s around the curve: 1 = Poisson, 0 = evenly spaced)",
        num(s.burstiness, 2),
        s.bin
    );
    let total = (l.reads + l.writes).max(1) as f64;
    let _ = writeln!(
        y,
        "  read_write: {}/{}",
        num(100.0 * l.reads as f64 / total, 1),
        num(100.0 * l.writes as f64 / total, 1)
    );
    let _ = writeln!(y, "  shape:\n    diurnal:");
    let _ = writeln!(y, "      period: {}", dur(s.period as f64 * scale));
    let factors: Vec<String> = s.factors.iter().map(|f| num(*f, 4)).collect();
    match s.start_of_day {
        Some(start) => {
            let _ = writeln!(
                y,
                "      start: {}           # UTC time of day of the log's first second",
                dur(start as f64)
            );
            if !s.unobserved_hours.is_empty() {
                let hours: Vec<String> = s.unobserved_hours.iter().map(ToString::to_string).collect();
                let _ = writeln!(
                    y,
                    "      # hours (UTC) not in the log, interpolated: {}",
                    hours.join(", ")
                );
            }
            let _ = writeln!(y, "      hourly: [{}]", factors.join(", "));
        }
        None => {
            let _ = writeln!(
                y,
                "      # one factor per {} s of the log",
                s.period / s.factors.len().max(1) as i64
            );
            let _ = writeln!(y, "      factors: [{}]", factors.join(", "));
        }
    }
    spikes(y, s, scale);
}

fn spikes(y: &mut String, s: &Shape, scale: f64) {
    if s.spikes.is_empty() {
        return;
    }
    let _ = writeln!(y, "    spikes:                 # sustained excursions above the curve");
    for sp in &s.spikes {
        let _ = writeln!(
            y,
            "      - {{at: {}, for: {}, factor: {}}}",
            dur(sp.at * scale),
            dur((sp.len * scale).max(0.001)),
            num(sp.factor, 2)
        );
    }
}

fn tenants(y: &mut String, l: &Learned, opts: &LearnOptions, csv_name: &str) -> Option<String> {
    let (Some(t), Some(src)) = (l.tenants.as_ref(), opts.tenant.as_ref()) else {
        return None;
    };
    let send_as = match src {
        TenantSource::Path(_) => None,
        TenantSource::Header(h) => Some(format!("{{header: {}}}", q(h))),
        TenantSource::Query(k) => Some(format!("{{query: {}}}", q(k))),
    };
    let _ = writeln!(y, "tenants:");
    let csv = match (&t.weights, t.fit) {
        (Some(rows), fit) => {
            let _ = writeln!(y, "  count: {}", rows.len());
            let why = fit.map_or("too few requests to fit a Zipf law".to_string(), |f| {
                format!("a Zipf law fits poorly: s {} with KS {}", num(f.s, 2), num(f.ks, 3))
            });
            let _ = writeln!(
                y,
                "  skew: {{weights_csv: {}, column: weight}}   # {why}; tenants seen fewer than {} times left out ({} of them)",
                q(csv_name),
                opts.min_count,
                t.rare_tenants
            );
            Some(weights_csv(rows))
        }
        (None, Some(fit)) => {
            let _ = writeln!(y, "  count: {}", t.count.max(1));
            let _ = writeln!(
                y,
                "  skew: {{zipf: {}}}        # KS distance {} over {}{} tenants",
                num(fit.s.max(0.01), 2),
                num(fit.ks, 3),
                if t.exact { "" } else { "about " },
                t.count
            );
            None
        }
        (None, None) => {
            let _ = writeln!(
                y,
                "  count: {}\n  skew: uniform          # too few requests to fit a Zipf law",
                t.count.max(1)
            );
            None
        }
    };
    let _ = writeln!(y, "  id: \"t-{{index:05}}\"");
    if let Some(s) = send_as {
        let _ = writeln!(y, "  send_as: {s}");
    }
    if l.tenant_missing > 0 {
        let _ = writeln!(y, "  # {} requests named no tenant", l.tenant_missing);
    }
    csv
}

fn weights_csv(rows: &[WeightRow]) -> String {
    let mut s = String::from("tenant_key,weight\n");
    for r in rows {
        let _ = writeln!(s, "{},{}", r.key, r.weight);
    }
    s
}

fn endpoints(y: &mut String, l: &Learned) {
    let total: u64 = l.endpoints.iter().map(|e| e.leaf.count).sum::<u64>().max(1);
    let _ = writeln!(y, "endpoints:");
    let mut names = HashSet::new();
    for e in &l.endpoints {
        endpoint(y, e, total, &mut names);
    }
}

fn endpoint_name(e: &Endpoint, taken: &mut HashSet<String>) -> String {
    let mut base = e.method.to_ascii_lowercase();
    for p in &e.parts {
        if let Part::Literal(l) = p {
            let clean: String = l
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if !clean.trim_matches('_').is_empty() {
                base.push('_');
                base.push_str(clean.trim_matches('_'));
            }
        }
    }
    if base == e.method.to_ascii_lowercase() {
        base.push_str("_root");
    }
    let mut name = base.clone();
    let mut k = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{k}");
        k += 1;
    }
    name
}

fn unique(name: &str, used: &mut HashSet<String>) -> String {
    let mut n = name.to_string();
    let mut k = 2;
    while n == "tenant" || n == "request" || !used.insert(n.clone()) {
        n = format!("{name}_{k}");
        k += 1;
    }
    n
}

fn endpoint(y: &mut String, e: &Endpoint, total: u64, names: &mut HashSet<String>) {
    let leaf = &e.leaf;
    let mut used = HashSet::new();
    let mut vars: Vec<(String, String, String)> = Vec::new();
    let mut path = String::new();
    for p in &e.parts {
        path.push('/');
        match p {
            Part::Literal(l) => path.push_str(l),
            Part::Tenant => path.push_str("{{tenant}}"),
            Part::Var(name, stats) => {
                let n = unique(name.as_deref().unwrap_or(stats.base_name()), &mut used);
                let _ = write!(path, "{{{{{n}}}}}");
                vars.push((n, stats.generator(), stats.describe()));
            }
        }
    }
    if e.parts.is_empty() {
        path.push('/');
    }
    let mut keys: Vec<_> = leaf.query.iter().collect();
    keys.sort_by(|a, b| b.1.count().cmp(&a.1.count()).then(a.0.cmp(b.0)));
    let mut query = Vec::new();
    let mut rare_keys = Vec::new();
    for (k, stats) in keys {
        let share = stats.count() as f64 / leaf.count as f64;
        if share >= 0.5 {
            let var: String = k
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
                .collect();
            let n = unique(&var, &mut used);
            query.push(format!("{k}={{{{{n}}}}}"));
            vars.push((n, stats.generator(), stats.describe()));
        } else if stats.count() >= 10 {
            rare_keys.push(format!("{k} ({}%)", num(100.0 * share, 1)));
        }
    }
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    comment(y, e, total);
    if !rare_keys.is_empty() {
        let _ = writeln!(
            y,
            "  # query keys in fewer than half of the requests, left out: {}",
            rare_keys.join(", ")
        );
    }
    let _ = writeln!(y, "  - name: {}", endpoint_name(e, names));
    let _ = writeln!(y, "    weight: {}", leaf.count);
    let kind = crate::profile::Kind::of_method(&e.method);
    let _ = writeln!(y, "    kind: {kind}\n    method: {}\n    path: {}", e.method, q(&path));
    if !vars.is_empty() {
        let _ = writeln!(y, "    vars:");
        for (n, g, d) in vars {
            let _ = writeln!(y, "      {n}: {g}   # {d}");
        }
    }
}

fn comment(y: &mut String, e: &Endpoint, total: u64) {
    let leaf = &e.leaf;
    let n = leaf.count.max(1) as f64;
    let mut parts = vec![format!(
        "{}% of requests",
        num(100.0 * leaf.count as f64 / total as f64, 2)
    )];
    let classes: Vec<String> = ["unlogged", "1xx", "2xx", "3xx", "4xx", "5xx"]
        .iter()
        .zip(leaf.status)
        .filter(|(_, c)| *c > 0)
        .map(|(name, c)| format!("{name} {}%", num(100.0 * c as f64 / n, 2)))
        .collect();
    parts.push(format!("status {}", classes.join(", ")));
    for (what, qs) in [("response", &leaf.response_bytes), ("request", &leaf.request_bytes)] {
        if !qs.is_empty() {
            parts.push(format!(
                "{what} bytes p50 {}, p90 {}, p99 {}",
                bytes(round_2(qs.at(0.5))),
                bytes(round_2(qs.at(0.9))),
                bytes(round_2(qs.at(0.99)))
            ));
        }
    }
    let _ = writeln!(y, "  # {}", parts.join("; "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_back() {
        assert_eq!(dur(3600.0), "1h");
        assert_eq!(dur(2.5), "2500ms");
        assert_eq!(rate(5.4311), "5.431/s");
        assert_eq!(rate(0.001), "3.6/h");
        assert_eq!(rate(1e-9), "3.600e-6/h");
        assert!("3.600e-6/h"
            .parse::<crate::units::Rate>()
            .is_ok_and(|r| r.as_per_sec() > 0.0));
    }
}
