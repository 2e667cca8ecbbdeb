//! A verdict for people and for CI: the table printed on stdout, Markdown
//! for a PR comment or a CI step summary, and JUnit XML with one testcase
//! per check. JSON is the verdict serialised as is.
//!
//! JUnit mirrors what the environment does, so CI colours match the
//! enforcement: a check whose action is `block` is a `<failure>`, `warn`
//! is `<skipped>` with the warning as its message, and `observe` passes
//! with the finding in `<system-out>`.

use std::fmt::Write;

use super::format::{fmt_delta, fmt_pct, fmt_value};
use super::policy::Action;
use super::verdict::{CheckResult, Decision, Outcome, Row, Verdict};

/// The cells of one row, shared by the table and the Markdown.
struct Cells {
    check: String,
    scope: String,
    metric: String,
    observed: String,
    against: String,
    delta: String,
    outcome: String,
    action: String,
}

fn action_name(a: Option<Action>) -> String {
    a.map_or("-", |a| a.name()).to_string()
}

/// The limit or the baseline a row's observed value is held against.
pub(crate) fn against(row: &Row) -> String {
    match (row.limit, row.comparison) {
        // Cliff's delta is already a comparison; the baseline against itself is 0.
        (_, Some(_)) if row.unit == super::verdict::Unit::Effect => String::new(),
        (_, Some(c)) => fmt_value(c.baseline, row.unit),
        (Some(l), None) => format!("{} {}", l.op, fmt_value(l.value, row.unit)),
        (None, None) => String::new(),
    }
}

/// A row's change from the baseline with its interval and tolerance.
pub(crate) fn delta(row: &Row) -> String {
    row.comparison.map_or(String::new(), |c| {
        let d = if row.unit == super::verdict::Unit::Effect {
            match c.interval {
                Some([lo, hi]) => format!("{:+.3} [{lo:+.3}, {hi:+.3}]", c.delta),
                None => format!("{:+.3}", c.delta),
            }
        } else {
            fmt_delta(&c)
        };
        match c.tolerance {
            Some(t) => format!("{d} tol {}", fmt_pct(t)),
            None => d,
        }
    })
}

fn cells(check: Option<&CheckResult>, row: &Row) -> Cells {
    let (against, delta) = (against(row), delta(row));
    Cells {
        check: check.map_or(String::new(), |c| c.name.clone()),
        scope: row.scope.to_string(),
        metric: row.metric.clone(),
        observed: row.observed.map_or("-".into(), |v| fmt_value(v, row.unit)),
        against,
        delta,
        outcome: row.outcome.map_or("info", Outcome::name).to_string(),
        action: row.action.map_or(String::new(), |a| a.name().to_string()),
    }
}

fn all_cells(v: &Verdict) -> Vec<Cells> {
    v.checks
        .iter()
        .flat_map(|c| {
            c.rows
                .iter()
                .enumerate()
                .map(move |(i, r)| cells((i == 0).then_some(c), r))
        })
        .collect()
}

const HEADERS: [&str; 8] = [
    "check",
    "scope",
    "metric",
    "observed",
    "limit/baseline",
    "delta [interval]",
    "outcome",
    "action",
];

fn as_array(c: &Cells) -> [&str; 8] {
    [
        &c.check,
        &c.scope,
        &c.metric,
        &c.observed,
        &c.against,
        &c.delta,
        &c.outcome,
        &c.action,
    ]
}

fn headline(v: &Verdict) -> String {
    let e = &v.environment;
    let soak = e
        .min_soak_s
        .map(|s| format!(", min soak {}", fmt_value(s, super::verdict::Unit::Seconds)))
        .unwrap_or_default();
    format!("{} for {} (enforce {}{soak})", v.run.dir, e.name, e.enforce.name())
}

fn decision_line(v: &Verdict, fail_on_warn: bool) -> String {
    let t = &v.tally;
    format!(
        "{} (exit {}): {} passed, {} failed, {} inconclusive, {} without data",
        v.decision.name().to_uppercase(),
        v.decision.exit_code(fail_on_warn),
        t.pass,
        t.fail,
        t.inconclusive,
        t.no_data
    )
}

/// The findings that decided: checks that did not pass, with their action.
fn findings(v: &Verdict) -> Vec<String> {
    v.checks
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| {
            let line = c.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let crit = if c.critical && c.action == Some(Action::Block) && c.outcome == Outcome::Fail {
                ", critical"
            } else {
                ""
            };
            format!(
                "{}{line}: {} -> {}{crit}: {}",
                c.name,
                c.outcome.name(),
                action_name(c.action),
                c.reason
            )
        })
        .collect()
}

/// The table printed on stdout.
pub fn table(v: &Verdict, fail_on_warn: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "gate: {}", headline(v));
    let _ = writeln!(out, "  policy: {}", v.policy);
    if let Some(b) = &v.baseline {
        let _ = writeln!(
            out,
            "  baseline: {} (profile {}, {:.1}s measured)",
            b.dir, b.profile, b.measured_s
        );
    }
    let _ = writeln!(out);
    let rows = all_cells(v);
    let mut width = HEADERS.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(as_array(r)) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, cols: [&str; 8]| {
        let mut s = String::from(" ");
        for (i, (c, w)) in cols.iter().zip(width).enumerate() {
            // Numbers read best right-aligned.
            if (3..=4).contains(&i) {
                let _ = write!(s, " {c:>w$}");
            } else {
                let _ = write!(s, " {c:<w$}");
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    };
    line(&mut out, HEADERS);
    for r in &rows {
        line(&mut out, as_array(r));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "decision: {}", decision_line(v, fail_on_warn));
    for f in findings(v) {
        let _ = writeln!(out, "  - {f}");
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown for a PR comment or a CI step summary.
pub fn markdown(v: &Verdict, fail_on_warn: bool) -> String {
    let mut out = String::new();
    let mark = match v.decision {
        Decision::Promote => "promote",
        Decision::Warn => "warn",
        Decision::Block => "BLOCK",
    };
    let _ = writeln!(out, "### loadline gate: **{mark}** for `{}`\n", v.environment.name);
    let _ = writeln!(
        out,
        "Run `{}` (profile `{}`, {:.1}s measured, {} requests){}, policy `{}`, enforce `{}`.\n",
        v.run.dir,
        v.run.profile,
        v.run.measured_s,
        v.run.requests,
        v.baseline
            .as_ref()
            .map(|b| format!(" against baseline `{}`", b.dir))
            .unwrap_or_default(),
        v.policy,
        v.environment.enforce.name()
    );
    let _ = writeln!(out, "**Decision:** {}\n", decision_line(v, fail_on_warn));
    let f = findings(v);
    if !f.is_empty() {
        for x in &f {
            let _ = writeln!(out, "- {}", md_cell(x));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADERS.len()));
    for r in all_cells(v) {
        let cols: Vec<String> = as_array(&r).iter().map(|c| md_cell(c)).collect();
        let _ = writeln!(out, "| {} |", cols.join(" | "));
    }
    out
}

/// Escape text for XML content and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn row_text(r: &Row) -> String {
    let c = cells(None, r);
    format!(
        "{} {}: {}{}{} -> {}{}",
        r.scope,
        r.metric,
        c.observed,
        if c.against.is_empty() {
            String::new()
        } else {
            format!(" vs {}", c.against)
        },
        if c.delta.is_empty() {
            String::new()
        } else {
            format!(", {}", c.delta)
        },
        r.outcome.map_or("info", Outcome::name),
        r.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
    )
}

/// JUnit XML: one testsuite for the environment, one testcase per check.
pub fn junit(v: &Verdict) -> String {
    let env = &v.environment.name;
    let failures = v.checks.iter().filter(|c| c.action == Some(Action::Block)).count();
    let skipped = v.checks.iter().filter(|c| c.action == Some(Action::Warn)).count();
    let n = v.checks.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"loadline gate\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"loadline gate: {}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        xml_escape(env)
    );
    let _ = writeln!(out, "    <properties>");
    let mut props = vec![
        ("decision", v.decision.name().to_string()),
        ("environment", env.clone()),
        ("enforce", v.environment.enforce.name().to_string()),
        ("run", v.run.dir.clone()),
        ("policy", v.policy.clone()),
    ];
    if let Some(b) = &v.baseline {
        props.push(("baseline", b.dir.clone()));
    }
    for (k, val) in props {
        let _ = writeln!(out, "      <property name=\"{k}\" value=\"{}\"/>", xml_escape(&val));
    }
    let _ = writeln!(out, "    </properties>");
    for c in &v.checks {
        let _ = writeln!(
            out,
            "    <testcase classname=\"loadline.gate.{}\" name=\"{}\">",
            xml_escape(env),
            xml_escape(&c.name)
        );
        let message = format!("{}: {}", c.outcome.name(), c.reason);
        match c.action {
            Some(Action::Block) => {
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\"/>",
                    c.outcome.name(),
                    xml_escape(&message)
                );
            }
            Some(Action::Warn) => {
                let _ = writeln!(out, "      <skipped message=\"warning: {}\"/>", xml_escape(&message));
            }
            Some(Action::Observe) | None => {}
        }
        let text: Vec<String> = c.rows.iter().map(row_text).collect();
        let _ = writeln!(out, "      <system-out>{}</system-out>", xml_escape(&text.join("\n")));
        let _ = writeln!(out, "    </testcase>");
    }
    let _ = writeln!(out, "  </testsuite>");
    let _ = writeln!(out, "</testsuites>");
    out
}
