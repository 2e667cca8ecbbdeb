//! The report's tables: the run header (the run beside its baseline), the
//! per-endpoint table, and the gate's verdict with every check's rows.
//!
//! Every string that comes from a run or a policy (profile, endpoint and
//! check names, paths, URLs, notes) goes through [`esc`]: a profile may
//! be named anything, and the document must stay well-formed XML.

use std::fmt::Write;

use crate::gate::format::{fmt_pct, fmt_value};
use crate::gate::policy::Action;
use crate::gate::render::{against, delta, xml_escape as esc};
use crate::gate::verdict::{CheckResult, Decision, Outcome, Unit, Verdict};
use crate::results::hist::LatencyStats;
use crate::results::run::Run;
use crate::results::summary::{EndpointSummary, Model, ProfileInfo, Summary};

/// Escaped text that may break after `/`, `_`, `-` and `.`:
/// endpoint names, paths and URLs are long words, and a table column as
/// wide as the longest of them pushes every other column out of view.
/// The breaks are `<wbr/>`, which copies as nothing.
pub fn breakable(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    let mut buf = [0u8; 4];
    let mut run = 0usize;
    for c in s.chars() {
        out.push_str(&esc(c.encode_utf8(&mut buf)));
        run += 1;
        // Not after the first few characters: `a_b` need not break.
        if matches!(c, '/' | '_' | '-' | '.') && run > 3 {
            out.push_str("<wbr/>");
            run = 0;
        }
    }
    out
}

fn us(v: u64) -> String {
    fmt_value(v as f64, Unit::Us)
}

fn secs(v: f64) -> String {
    fmt_value(v, Unit::Seconds)
}

fn rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}/s")
    } else {
        format!("{v:.1}/s")
    }
}

/// Relative change of `cand` over `base`, signed; `-` without a base.
fn change(cand: u64, base: u64) -> String {
    if base == 0 {
        return "-".into();
    }
    let d = cand as f64 / base as f64 - 1.0;
    let s = fmt_pct(d);
    if d >= 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// The facts of one run, as (label, value) pairs; values are escaped HTML.
fn facts(r: &Run) -> Vec<(&'static str, String)> {
    let s = &r.summary;
    vec![
        ("profile", profile_fact(&s.profile)),
        ("directory", breakable(&r.dir.display().to_string())),
        (
            "target",
            format!(
                "{} <span class=\"muted\">({}, {} connections)</span>",
                breakable(&s.target.base_url),
                esc(&s.target.http),
                s.target.connections
            ),
        ),
        ("started", esc(&s.run.started_at)),
        (
            "measured",
            format!(
                "{} after {} warm-up{}",
                secs(s.run.measured_s),
                secs(s.run.warmup_s),
                if s.run.interrupted {
                    " <span class=\"bad\">(interrupted)</span>"
                } else {
                    ""
                }
            ),
        ),
        ("model", model_fact(&s.profile)),
        (
            "requests",
            format!(
                "{} measured, {} in the warm-up",
                s.totals.requests, s.totals.warmup_requests
            ),
        ),
        ("rate", rate_fact(s)),
        ("errors", errors_fact(s)),
        ("latency", latency_fact(s)),
        ("generator", generator_fact(s)),
    ]
}

/// The profile's name, with its description muted beside it.
fn profile_fact(p: &ProfileInfo) -> String {
    match &p.description {
        Some(d) => format!("{} <span class=\"muted\">{}</span>", esc(&p.name), esc(d)),
        None => esc(&p.name),
    }
}

/// The load model: closed with its users, or open with its arrivals.
fn model_fact(p: &ProfileInfo) -> String {
    match (p.model, &p.arrivals, p.users) {
        (Model::Closed, _, Some(u)) => format!("closed, {u} users"),
        (m, Some(a), _) => format!("{m}, {}", esc(a)),
        (m, _, _) => m.to_string(),
    }
}

/// The achieved rate, and beside it the target and how much of the plan
/// was sent.
fn rate_fact(s: &Summary) -> String {
    match s.rate.target_per_s {
        // The ratio is of requests sent to requests planned, which is what
        // the gate holds a run to; the two rates can differ by rounding
        // of the measured window.
        Some(t) => format!(
            "{} achieved, target {} ({} of the planned requests sent)",
            rate(s.rate.achieved_per_s),
            rate(t),
            s.rate.achieved_ratio.map_or("-".into(), fmt_pct)
        ),
        None => format!("{} (no target: closed model)", rate(s.rate.achieved_per_s)),
    }
}

/// `name n, name n, ...` of the counts above 0, escaped.
fn counts(by_name: &std::collections::BTreeMap<String, u64>) -> String {
    let listed: Vec<String> = by_name
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{} {n}", esc(k)))
        .collect();
    listed.join(", ")
}

/// Errors, their rate, the count of each class that occurred, their kinds
/// and the requests retried on a fresh connection.
fn errors_fact(s: &Summary) -> String {
    let by_class = counts(&s.errors_by_class);
    let by_kind = counts(&s.errors_by_kind);
    let mut out = format!(
        "{} ({}){}",
        s.totals.errors,
        fmt_pct(s.totals.error_rate),
        if by_class.is_empty() {
            String::new()
        } else {
            format!(": {by_class}")
        }
    );
    if !by_kind.is_empty() {
        let _ = write!(out, "<br/><span class=\"muted\">by kind: {by_kind}</span>");
    }
    if s.retried_stale > 0 {
        let _ = write!(
            out,
            "<br/><span class=\"muted\">{} retried on a fresh connection (the server had closed a reused one; not errors)</span>",
            s.retried_stale
        );
    }
    out
}

/// p50, p99 and max over every request, `-` without any.
fn latency_fact(s: &Summary) -> String {
    let l = &s.totals.latency_us;
    if l.count == 0 {
        "-".into()
    } else {
        format!("p50 {}, p99 {}, max {}", us(l.p50), us(l.p99), us(l.max))
    }
}

/// Whether the load generator kept its schedule, and how far it fell
/// behind.
fn generator_fact(s: &Summary) -> String {
    let sched = &s.schedule;
    let generator = if sched.generator_saturated {
        format!(
            "<span class=\"bad\">saturated</span>{}",
            sched
                .saturation_reason
                .as_deref()
                .map(|r| format!(": {}", esc(r)))
                .unwrap_or_default()
        )
    } else {
        "kept up".into()
    };
    let cpu = s.generator.as_ref().map_or(String::new(), |g| {
        format!(
            "; {:.2} CPU-s, {:.0}% of its workers', {:.0} requests per CPU-second",
            g.cpu_s,
            g.cpu_share * 100.0,
            g.requests_per_cpu_s
        )
    });
    // The open model's own lateness, apart from waits for a free connection.
    let send = if s.rate.target_per_s.is_some() {
        format!(" (send lag p99 {})", us(sched.send_lag_us.p99))
    } else {
        String::new()
    };
    format!(
        "{generator} (schedule lag p99 {}{send}, {} late, {} dropped{cpu})",
        us(sched.lag_us.p99),
        sched.late_requests,
        sched.dropped_requests
    )
}

/// The run header: one column for the run, one for the baseline.
pub fn header(run: &Run, baseline: Option<&Run>) -> String {
    let mut out = String::from("<table class=\"facts\">\n<thead><tr><th></th><th>run</th>");
    if baseline.is_some() {
        out.push_str("<th>baseline</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let base = baseline.map(facts);
    for (i, (label, value)) in facts(run).into_iter().enumerate() {
        let _ = write!(out, "<tr><th scope=\"row\">{label}</th><td>{value}</td>");
        if let Some(b) = &base {
            let _ = write!(out, "<td>{}</td>", b.get(i).map_or("", |f| f.1.as_str()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn endpoint_cells(out: &mut String, name: &str, kind: &str, e: Option<&EndpointSummary>, total: &LatencyStats) {
    let (requests, share, rate_s, errors, error_rate) = match e {
        Some(e) => (e.requests, e.share, e.rate_per_s, e.errors, e.error_rate),
        None => (0, 0.0, 0.0, 0, 0.0),
    };
    let err_class = if errors > 0 {
        " class=\"num bad\""
    } else {
        " class=\"num\""
    };
    let _ = write!(
        out,
        "<td class=\"name\">{name}</td><td class=\"kind\">{kind}</td><td class=\"num\">{requests}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td{err_class}>{errors}</td><td{err_class}>{}</td>",
        fmt_pct(share),
        rate(rate_s),
        fmt_pct(error_rate)
    );
    if total.count == 0 {
        out.push_str(&"<td class=\"num\">-</td>".repeat(5));
    } else {
        for v in [total.p50, total.p90, total.p99, total.p99_9, total.max] {
            let _ = write!(out, "<td class=\"num\">{}</td>", us(v));
        }
    }
}

/// Per endpoint: requests, share, rate, errors and latency, with the
/// baseline's p50 and p99 and the change when a baseline is given. The
/// last row is every endpoint together.
pub fn endpoints(run: &Run, baseline: Option<&Run>) -> String {
    let mut out = String::from("<table class=\"endpoints\">\n<thead><tr><th>endpoint</th><th>kind</th><th>requests</th><th>share</th><th>rate</th><th>errors</th><th>error rate</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th>");
    if baseline.is_some() {
        out.push_str("<th>baseline p50</th><th>change</th><th>baseline p99</th><th>change</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let base_stats = |name: &str| -> Option<LatencyStats> {
        let b = baseline?;
        b.summary
            .endpoints
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.latency_us.clone())
    };
    let compare = |out: &mut String, cand: &LatencyStats, base: Option<LatencyStats>| match base {
        Some(b) if b.count > 0 && cand.count > 0 => {
            let _ = write!(
                out,
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                us(b.p50),
                change(cand.p50, b.p50),
                us(b.p99),
                change(cand.p99, b.p99)
            );
        }
        _ => out.push_str(&"<td class=\"num\">-</td>".repeat(4)),
    };
    for e in &run.summary.endpoints {
        out.push_str("<tr>");
        let kind = format!("{} {}", esc(&e.method), esc(&e.kind));
        endpoint_cells(&mut out, &breakable(&e.name), &kind, Some(e), &e.latency_us);
        if baseline.is_some() {
            compare(&mut out, &e.latency_us, base_stats(&e.name));
        }
        out.push_str("</tr>\n");
    }
    let s = &run.summary;
    let all = EndpointSummary {
        name: String::new(),
        kind: String::new(),
        method: String::new(),
        planned_share: 1.0,
        requests: s.totals.requests,
        share: if s.totals.requests > 0 { 1.0 } else { 0.0 },
        rate_per_s: s.rate.achieved_per_s,
        errors: s.totals.errors,
        error_rate: s.totals.error_rate,
        unexpected_status: s.totals.unexpected_status,
        latency_us: s.totals.latency_us.clone(),
        outcomes: Default::default(),
    };
    out.push_str("<tr class=\"total\">");
    endpoint_cells(&mut out, "all endpoints", "", Some(&all), &all.latency_us);
    if let Some(b) = baseline {
        compare(&mut out, &all.latency_us, Some(b.summary.totals.latency_us.clone()));
    }
    out.push_str("</tr>\n</tbody>\n</table>\n");
    out
}

fn outcome_class(o: Option<Outcome>) -> &'static str {
    match o {
        Some(Outcome::Pass) => "ok",
        Some(Outcome::Inconclusive) => "warn",
        Some(Outcome::Fail) => "bad",
        Some(Outcome::NoData) => "none",
        None => "info",
    }
}

fn decision_class(d: Decision) -> &'static str {
    match d {
        Decision::Promote => "ok",
        Decision::Warn => "warn",
        Decision::Block => "bad",
    }
}

fn action_class(a: Option<Action>) -> &'static str {
    match a {
        Some(Action::Block) => "bad",
        Some(Action::Warn) => "warn",
        Some(Action::Observe) | None => "info",
    }
}

fn check_rows(out: &mut String, c: &CheckResult) {
    let n = c.rows.len().max(1);
    let crit = if c.critical {
        " <span class=\"tag\">critical</span>"
    } else {
        ""
    };
    let line = c
        .line
        .map(|l| format!(" <span class=\"muted\">line {l}</span>"))
        .unwrap_or_default();
    let head = format!(
        "<td rowspan=\"{}\" class=\"check\"><strong>{}</strong>{crit}{line}</td>",
        n + 1,
        esc(&c.name)
    );
    if c.rows.is_empty() {
        let _ = writeln!(
            out,
            "<tr>{head}<td colspan=\"5\" class=\"muted\">no rows</td><td><span class=\"pill {}\">{}</span></td><td>{}</td></tr>",
            outcome_class(Some(c.outcome)),
            c.outcome.name(),
            c.action.map_or("", Action::name)
        );
    }
    for (i, r) in c.rows.iter().enumerate() {
        let note = r
            .note
            .as_deref()
            .map(|n| format!("<div class=\"muted\">{}</div>", esc(n)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr>{}<td class=\"name\">{}</td><td class=\"metric\">{}{note}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><span class=\"pill {}\">{}</span></td><td class=\"{}\">{}</td></tr>",
            if i == 0 { head.as_str() } else { "" },
            breakable(r.scope.as_str()),
            esc(&r.metric),
            esc(&r.observed.map_or("-".into(), |v| fmt_value(v, r.unit))),
            esc(&against(r)),
            esc(&delta(r)),
            outcome_class(r.outcome),
            r.outcome.map_or("info", Outcome::name),
            action_class(r.action),
            r.action.map_or("", Action::name)
        );
    }
    let _ = writeln!(
        out,
        "<tr class=\"reason\"><td colspan=\"7\"><span class=\"pill {}\">{}</span> {}{}</td></tr>",
        outcome_class(Some(c.outcome)),
        c.outcome.name(),
        c.action.map_or(String::new(), |a| format!("&#8594; {}: ", a.name())),
        esc(&c.reason)
    );
}

/// The verdict: the decision large and in its colour, the environment and
/// its enforcement, and every check's rows and reason.
pub fn verdict(v: &Verdict) -> String {
    let mut out = String::new();
    let e = &v.environment;
    let t = &v.tally;
    let _ = writeln!(
        out,
        "<div class=\"decision {}\" id=\"decision\"><span class=\"word\">{}</span> <span>for <strong>{}</strong></span></div>",
        decision_class(v.decision),
        v.decision.name().to_uppercase(),
        esc(&e.name)
    );
    let soak = e
        .min_soak_s
        .map(|s| format!(", min soak {}", secs(s)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<p>Environment <strong>{}</strong>: enforce <strong>{}</strong>{soak}, inconclusive &#8594; {}, no data &#8594; {}. Policy <code>{}</code>{}.</p>",
        esc(&e.name),
        e.enforce.name(),
        e.on_inconclusive.name(),
        e.on_no_data.name(),
        esc(&v.policy),
        v.baseline
            .as_ref()
            .map(|b| format!(", baseline <code>{}</code>", breakable(&b.dir)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "<p class=\"tally\"><span class=\"pill ok\">{} passed</span> <span class=\"pill bad\">{} failed</span> <span class=\"pill warn\">{} inconclusive</span> <span class=\"pill none\">{} without data</span></p>",
        t.pass, t.fail, t.inconclusive, t.no_data
    );
    out.push_str("<table class=\"checks\">\n<thead><tr><th>check</th><th>scope</th><th>metric</th><th>observed</th><th>limit/baseline</th><th>delta [interval]</th><th>outcome</th><th>action</th></tr></thead>\n");
    for c in &v.checks {
        out.push_str("<tbody>\n");
        check_rows(&mut out, c);
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
    out
}

/// Per client class of the profile's `clients:` (slow and abandoning
/// clients): what they do, their share, counts and latency. Their requests
/// are not in the endpoint table; `None` when the profile has no classes.
pub fn clients(run: &Run) -> Option<String> {
    let classes = &run.summary.clients;
    if classes.is_empty() {
        return None;
    }
    let mut out = String::from("<table class=\"clients\">\n<thead><tr><th>class</th><th>behaviour</th><th>planned share</th><th>share</th><th>requests</th><th>errors</th><th>abandoned</th><th>not sent</th><th>p50</th><th>p99</th><th>max</th><th>errors by kind</th></tr></thead>\n<tbody>\n");
    for c in classes {
        let err_class = if c.errors > 0 { "num bad" } else { "num" };
        let _ = write!(
            out,
            "<tr><td class=\"name\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{err_class}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            breakable(&c.name),
            esc(&c.behaviour),
            fmt_pct(c.planned_share),
            fmt_pct(c.share),
            c.requests,
            c.errors,
            c.abandoned,
            c.overflow + c.never_sent,
        );
        let l = &c.latency_us;
        if l.count == 0 {
            out.push_str(&"<td class=\"num\">-</td>".repeat(3));
        } else {
            for v in [l.p50, l.p99, l.max] {
                let _ = write!(out, "<td class=\"num\">{}</td>", us(v));
            }
        }
        let kinds = counts(&c.errors_by_kind);
        let _ = write!(out, "<td>{}</td>", if kinds.is_empty() { "-" } else { &kinds });
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_break_at_separators_and_stay_escaped() {
        assert_eq!(breakable("get_item"), "get_<wbr/>item");
        assert_eq!(breakable("a_b"), "a_b");
        assert_eq!(
            breakable("/tmp/runs/cand"),
            "/tmp/<wbr/>runs/<wbr/>cand",
            "not after the leading slash"
        );
        assert_eq!(breakable("x<&>y_z"), "x&lt;&amp;&gt;y_<wbr/>z");
        assert_eq!(breakable("search<&>'x'"), "search&lt;&amp;&gt;&apos;x&apos;");
        assert_eq!(breakable("ünïcödé_näme"), "ünïcödé_<wbr/>näme");
        assert_eq!(breakable(""), "");
    }

    #[test]
    fn changes_are_signed_and_safe_without_a_base() {
        assert_eq!(change(1100, 1000), "+10%");
        assert_eq!(change(900, 1000), "-10%");
        assert_eq!(change(5, 0), "-");
    }
}
