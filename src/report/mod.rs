//! The HTML report: a run, an optional baseline and an optional verdict as
//! one self-contained HTML file with SVG plots.
//!
//! Self-contained means nothing is fetched when the file is opened: the
//! stylesheet is inline, the plots are inline SVG, there is no script, no
//! font and no image. The markup is polyglot XHTML (every element closed,
//! attributes quoted, text escaped), so the whole document parses as XML:
//! that is how the tests check it is well-formed where no browser is at
//! hand, and it renders the same as ordinary HTML.
//!
//! [`tables`] draws the header, per-endpoint and verdict tables,
//! [`plots`] the four plots on the primitives of [`svg`].

mod plots;
mod svg;
mod tables;
mod timeline;

use std::fmt::Write;

use crate::gate::render::xml_escape as esc;
use crate::gate::Verdict;
use crate::results::run::Run;

/// One stylesheet for the document and its plots. No `<` or `&` in it, so
/// it is valid inside an XML document without a CDATA section.
const STYLE: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #f6f8fa; color: #1f2328;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 48px; }
h1, .sub { overflow-wrap: anywhere; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
p { margin: 6px 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eaeef2; padding: 1px 4px; border-radius: 4px; }
.muted { color: #656d76; font-size: 12px; }
.sub { color: #656d76; margin: 0 0 12px; }
table { border-collapse: collapse; background: #fff; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #d8dee4; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f0f3f6; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.facts th[scope=row] { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; }
td.kind { white-space: nowrap; }
td.name { min-width: 12em; }
td.metric { min-width: 14em; }
tr.total td { font-weight: 600; background: #f6f8fa; }
tr.reason td { background: #fbfcfd; color: #424a53; font-size: 12px; }
td.check { background: #fff; }
.bad { color: #cf222e; }
.warn { color: #9a6700; }
.ok { color: #1a7f37; }
.tag { font-size: 11px; color: #cf222e; border: 1px solid #cf222e; border-radius: 8px; padding: 0 5px; }
.pill { display: inline-block; min-width: 3em; text-align: center; font-size: 12px; font-weight: 600;
  border-radius: 10px; padding: 0 8px; color: #fff; background: #6e7781; white-space: nowrap; }
.pill.ok { background: #1a7f37; }
.pill.warn { background: #bf8700; }
.pill.bad { background: #cf222e; }
.pill.none { background: #6e7781; }
.pill.info { background: #d0d7de; color: #1f2328; }
.decision { display: flex; align-items: baseline; gap: 12px; padding: 12px 18px; border-radius: 8px;
  color: #fff; font-size: 16px; margin: 8px 0 10px; }
.decision .word { font-size: 28px; font-weight: 700; letter-spacing: 0.04em; }
.decision.ok { background: #1a7f37; }
.decision.warn { background: #bf8700; }
.decision.bad { background: #cf222e; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(460px, 100%), 1fr)); gap: 14px; }
.plots figure { min-width: 0; }
.plots figure { margin: 0; background: #fff; border: 1px solid #d8dee4; border-radius: 6px; padding: 6px; }
svg.plot { display: block; width: 100%; height: auto; font-family: inherit; }
svg.plot text { fill: #57606a; font-size: 11px; }
svg.plot text.title { fill: #1f2328; font-size: 13px; font-weight: 600; }
svg.plot text.axis-title { fill: #424a53; }
svg.plot text.note { fill: #8c959f; font-size: 13px; }
svg.plot text.band-label { fill: #8c959f; font-size: 10px; }
svg.plot .grid { stroke: #eaeef2; stroke-width: 1; }
svg.plot .axis { stroke: #8c959f; fill: none; stroke-width: 1; }
svg.plot .series { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg.plot .c-blue { stroke: #0969da; }
svg.plot .c-orange { stroke: #d4622a; }
svg.plot .c-grey { stroke: #6e7781; }
svg.plot .c-red { stroke: #cf222e; }
svg.plot .dash { stroke-dasharray: 5 3; }
svg.plot .faint { opacity: 0.45; }
svg.plot .bar-red { fill: #cf222e; stroke: none; opacity: 0.85; }
svg.plot .warmup { fill: #eaeef2; stroke: none; }
footer { margin-top: 32px; color: #8c959f; font-size: 12px; }
"#;

/// Render the report.
pub fn render(run: &Run, baseline: Option<&Run>, verdict: Option<&Verdict>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let name = esc(&run.summary.profile.name);
    out.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n");
    out.push_str(
        "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n",
    );
    let _ = writeln!(out, "<title>loadline report: {name}</title>");
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    let _ = writeln!(out, "<h1>loadline report: {name}</h1>");
    let _ = writeln!(
        out,
        "<p class=\"sub\">Run of {} started {}{}.</p>",
        fmt_secs(run.summary.run.measured_s),
        esc(&run.summary.run.started_at),
        baseline
            .map(|b| format!(
                ", against the baseline <code>{}</code> ({})",
                tables::breakable(&b.dir.display().to_string()),
                esc(&b.summary.run.started_at)
            ))
            .unwrap_or_default()
    );
    if let Some(v) = verdict {
        out.push_str("<section id=\"verdict\">\n<h2>Gate verdict</h2>\n<div class=\"scroll\">\n");
        out.push_str(&tables::verdict(v));
        out.push_str("</div>\n</section>\n");
    }
    out.push_str("<section id=\"run\">\n<h2>Run</h2>\n<div class=\"scroll\">\n");
    out.push_str(&tables::header(run, baseline));
    out.push_str("</div>\n</section>\n");
    out.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n<div class=\"plots\">\n");
    for plot in [
        plots::latency_spectrum(run, baseline),
        plots::rate(run, baseline),
        plots::latency_over_time(run, baseline),
        plots::errors(run, baseline),
    ] {
        let _ = writeln!(out, "<figure>\n{plot}</figure>");
    }
    out.push_str("</div>\n");
    if let Some(note) = plots::left_out_note(run) {
        let _ = writeln!(out, "<p class=\"muted\" id=\"left-out\">{}</p>", esc(&note));
    }
    out.push_str("<p class=\"muted\">Latency is measured from each request's intended send time. The percentile axis is logarithmic in the tail (each step is one more nine); the warm-up is shaded and left out of every table. Time runs from the start to the end of the run, each interval's rates over the time it really lasted.</p>\n</section>\n");
    out.push_str("<section id=\"endpoints\">\n<h2>Endpoints</h2>\n<div class=\"scroll\">\n");
    out.push_str(&tables::endpoints(run, baseline));
    out.push_str("</div>\n</section>\n");
    if let Some(table) = tables::clients(run) {
        out.push_str("<section id=\"clients\">\n<h2>Client classes</h2>\n<div class=\"scroll\">\n");
        out.push_str(&table);
        out.push_str("<p class=\"muted\">Slow and abandoning clients declared under the profile's <code>clients:</code>, each request on its own connection. Their latency is kept out of the endpoint table and the gate's checks; abandoned requests are not errors and not in the latency; \"not sent\" counts arrivals over the class's <code>max_in_flight</code> or left when the run ended.</p>\n");
        out.push_str("</div>\n</section>\n");
    }
    let _ = writeln!(
        out,
        "<footer>loadline {} &#183; profile seed {} &#183; {} worker{}</footer>",
        esc(&run.summary.loadline_version),
        run.summary.profile.seed,
        run.summary.run.workers,
        if run.summary.run.workers == 1 { "" } else { "s" }
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn fmt_secs(s: f64) -> String {
    crate::gate::format::fmt_value(s, crate::gate::verdict::Unit::Seconds)
}
