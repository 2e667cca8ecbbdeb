//! The HTML report: rendered from real runs, parsed as XML (HTML and SVG
//! well-formed), with no network fetches.
//!
//! No browser is available where the suite runs, so the report is written
//! as polyglot XHTML and every test parses the whole document with an XML
//! parser, then checks what a browser would need: the plots are SVG in the
//! SVG namespace with a viewBox and real marks, every number is finite,
//! nothing points outside the file, and text from the run is escaped.

use std::path::Path;

use loadline::gate::{eval, policy, Decision};
use loadline::results::run::{Run, Series};
use loadline::sample::TargetConfig;

use crate::support::*;

const XHTML: &str = "http://www.w3.org/1999/xhtml";
const SVG: &str = "http://www.w3.org/2000/svg";
const PLOTS: [&str; 4] = ["plot-spectrum", "plot-rate", "plot-latency", "plot-errors"];

/// A profile name that would break the document if it were not escaped.
const NASTY_PROFILE: &str = "shop <script>alert(1)</script> & \"co\"";
/// Endpoint names are letters, digits, `_`, `-` and `.` (the profile
/// validator refuses anything else), so this one is put into the run after
/// loading it, as a summary written by another tool could have it.
const NASTY_ENDPOINT: &str = "search<&>'x'";

fn two_endpoints(name: &str) -> String {
    format!(
        "name: '{}'
target: {{base_url: \"{{BASE}}\", connections: 8, timeout: 2s}}
seed: 3
duration: 2s
warmup: 1s
load: {{model: open, rate: 300/s, arrivals: poisson}}
endpoints:
  - {{name: get_item, weight: 3, path: /items/1}}
  - {{name: search, weight: 1, path: /search}}
",
        name.replace('\'', "''")
    )
}

/// A finished run in its own scratch directory (kept alive by the caller).
fn real_run(config: TargetConfig, text: &str) -> (Scratch, String) {
    let scratch = Scratch::new();
    let t = target(config);
    let base = t.base_url();
    let report = run(&scratch, profile(&scratch, text, &base), 2);
    assert!(
        report.summary.totals.requests > 100,
        "{}",
        report.summary.totals.requests
    );
    (scratch, base)
}

fn rename_endpoint(run: &mut Run, i: usize, name: &str) {
    run.endpoints[i] = name.to_string();
    run.summary.endpoints[i].name = name.to_string();
}

/// A candidate with injected errors and a slower tail, and a clean
/// baseline, both loaded with the second endpoint renamed.
fn candidate_and_baseline() -> (Scratch, Scratch, Vec<String>) {
    let cand = real_run(
        TargetConfig {
            error_rate: 0.03,
            latency: std::time::Duration::from_millis(1),
            tail_rate: 0.02,
            tail_latency: std::time::Duration::from_millis(40),
            ..TargetConfig::default()
        },
        &two_endpoints(NASTY_PROFILE),
    );
    let base = real_run(TargetConfig::default(), &two_endpoints("baseline"));
    (cand.0, base.0, vec![cand.1, base.1])
}

fn load(scratch: &Scratch) -> Run {
    let mut r = Run::load(&scratch.path("out"), &[], Series::Read).expect("load run");
    rename_endpoint(&mut r, 1, NASTY_ENDPOINT);
    r
}

/// Every word of the document: what a stray `NaN` or `inf` would be.
fn words(html: &str) -> impl Iterator<Item = &str> {
    html.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Everything a browser needs that a parser can check; returns the parsed
/// document. `urls` are the base URLs that may appear as text (the run's
/// target is data, not a reference).
fn check_document<'a>(html: &'a str, urls: &[String], expect_data: bool) -> roxmltree::Document<'a> {
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{}", &html[..40.min(html.len())]);
    // The DOCTYPE is the one DTD a polyglot document has; it declares no entities.
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(html, opts)
        .unwrap_or_else(|e| panic!("the report is not well-formed: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html");
    assert_eq!(root.tag_name().namespace(), Some(XHTML));
    assert_eq!(root.attribute("lang"), Some("en"));
    let meta = doc
        .descendants()
        .find(|n| n.has_tag_name((XHTML, "meta")) && n.attribute("charset").is_some())
        .expect("<meta charset>");
    assert_eq!(meta.attribute("charset"), Some("utf-8"));

    // Numbers: no NaN or infinity anywhere, as text or attribute.
    for w in words(html) {
        let lw = w.to_ascii_lowercase();
        assert!(lw != "nan" && lw != "inf" && lw != "infinity", "`{w}` in the report");
    }

    // Nothing is fetched: no script, no external reference of any kind.
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(!html.contains("url(") && !html.contains("@import"));
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        assert!(
            !matches!(
                name,
                "script" | "link" | "img" | "iframe" | "object" | "embed" | "image" | "use"
            ),
            "<{name}> in the report"
        );
        for a in n.attributes() {
            if matches!(a.name(), "src" | "href" | "srcset" | "action" | "data") {
                assert!(
                    a.value().starts_with('#'),
                    "{}=\"{}\" points outside",
                    a.name(),
                    a.value()
                );
            }
            assert!(!a.value().contains("://"), "{}=\"{}\" on <{name}>", a.name(), a.value());
        }
    }
    let mut rest = html
        .replace(&format!("xmlns=\"{XHTML}\""), "")
        .replace(&format!("xmlns=\"{SVG}\""), "");
    for u in urls {
        rest = rest.replace(u.as_str(), "");
    }
    assert!(
        !rest.contains("http://") && !rest.contains("https://"),
        "a URL other than the namespaces and the run's target"
    );

    // The four plots: SVG in its namespace, with a viewBox and marks.
    let svgs: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.tag_name().name() == "svg").collect();
    let ids: Vec<&str> = svgs.iter().filter_map(|s| s.attribute("id")).collect();
    assert_eq!(ids, PLOTS);
    for svg in &svgs {
        let id = svg.attribute("id").unwrap_or_default();
        assert_eq!(svg.tag_name().namespace(), Some(SVG), "{id}");
        let vb: Vec<f64> = svg
            .attribute("viewBox")
            .expect("viewBox")
            .split_whitespace()
            .map(|v| v.parse().expect("a number"))
            .collect();
        assert!(vb.len() == 4 && vb[2] > 0.0 && vb[3] > 0.0, "{id}: {vb:?}");
        // Every coordinate parses and lies in the viewBox (a little slack
        // for text anchored at the edge).
        for n in svg.descendants().filter(|n| n.is_element()) {
            for key in ["x", "y", "x1", "x2", "y1", "y2", "width", "height"] {
                if let Some(v) = n.attribute(key) {
                    let v: f64 = v.parse().unwrap_or_else(|_| panic!("{id}: {key}=\"{v}\""));
                    assert!(
                        v.is_finite() && (-1.0..=vb[2].max(vb[3]) + 1.0).contains(&v),
                        "{id}: {key}={v}"
                    );
                }
            }
        }
        assert!(
            svg.descendants().any(|n| n.has_tag_name((SVG, "title"))),
            "{id} has a <title>"
        );
        let ticks = svg
            .descendants()
            .filter(|n| n.attribute("class").is_some_and(|c| c.split(' ').any(|c| c == "tick")))
            .count();
        assert!(ticks >= 4, "{id}: {ticks} tick labels");
        let marks: Vec<roxmltree::Node> = svg
            .descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|c| c == "series"))
            })
            .filter(|n| match n.tag_name().name() {
                "polyline" => n.attribute("points").is_some_and(|p| p.split(' ').count() >= 2),
                "path" => n.attribute("d").is_some_and(|d| d.len() > 3),
                "rect" => n
                    .attribute("height")
                    .and_then(|h| h.parse::<f64>().ok())
                    .is_some_and(|h| h > 0.0),
                _ => false,
            })
            .collect();
        if expect_data {
            assert!(!marks.is_empty(), "{id} draws no data");
        }
    }
    doc
}

/// The document's text; `<wbr/>` breaks inside a name leave it whole.
fn text_of(doc: &roxmltree::Document) -> String {
    text_of_node(doc.root())
}

/// A real two-endpoint run, alone and over a baseline: well-formed, four
/// plots with data, self-contained, names escaped.
#[test]
fn a_run_and_a_baseline_render_as_well_formed_self_contained_html() {
    let (cs, bs, urls) = candidate_and_baseline();
    let cand = load(&cs);
    let base = load(&bs);
    assert!(cand.summary.totals.errors > 0, "the candidate has errors to plot");

    for baseline in [None, Some(&base)] {
        let html = loadline::report::render(&cand, baseline, None);
        assert!(html.len() < 1_000_000, "{} bytes", html.len());
        let doc = check_document(&html, &urls, true);
        let text = text_of(&doc);
        // Escaped in the source, intact once parsed.
        assert!(html.contains("shop &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;"));
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name((XHTML, "title")))
            .and_then(|n| n.text())
            .unwrap_or_default();
        assert_eq!(title, format!("loadline report: {NASTY_PROFILE}"));
        assert!(
            doc.descendants()
                .any(|n| n.has_tag_name((XHTML, "td")) && n.text() == Some(NASTY_ENDPOINT)),
            "the renamed endpoint is a table cell"
        );
        assert!(text.contains("get_item") && text.contains("all endpoints"));
        // The header says what was asked and what was delivered.
        for fact in [
            "profile",
            "target",
            "started",
            "measured",
            "rate",
            "errors",
            "generator",
        ] {
            assert!(
                doc.descendants()
                    .any(|n| n.has_tag_name((XHTML, "th")) && n.text() == Some(fact)),
                "header row `{fact}`"
            );
        }
        assert!(text.contains("kept up") || text.contains("saturated"));
        assert!(text.contains("5xx"), "errors by class");
        let spectrum = doc
            .descendants()
            .find(|n| n.attribute("id") == Some("plot-spectrum"))
            .expect("spectrum");
        let spec_text = text_of_node(spectrum);
        assert!(spec_text.contains("99%") && spec_text.contains("50%"), "{spec_text}");
        let rate = doc
            .descendants()
            .find(|n| n.attribute("id") == Some("plot-rate"))
            .expect("rate");
        assert!(text_of_node(rate).contains("target") && text_of_node(rate).contains("warm-up"));
        let heads: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name((XHTML, "th")))
            .filter_map(|n| n.text())
            .collect();
        match baseline {
            None => {
                assert!(!heads.contains(&"baseline p99"));
                assert!(!text_of_node(spectrum).contains("baseline"));
            }
            Some(_) => {
                assert!(heads.contains(&"baseline p99") && heads.contains(&"change"));
                for id in ["plot-spectrum", "plot-latency", "plot-errors"] {
                    let n = doc.descendants().find(|n| n.attribute("id") == Some(id)).expect("plot");
                    assert!(text_of_node(n).contains("baseline"), "{id} shows the baseline");
                }
                // The baseline's own endpoint is matched by name: both runs renamed theirs.
                let changes = doc
                    .descendants()
                    .filter(|n| n.has_tag_name((XHTML, "td")))
                    .filter_map(|n| n.text())
                    .filter(|t| (t.starts_with('+') || t.starts_with('-')) && t.ends_with('%'))
                    .count();
                assert!(changes >= 6, "{changes} relative changes");
            }
        }
    }
}

fn text_of_node(n: roxmltree::Node) -> String {
    n.descendants().filter_map(|n| n.text()).collect::<String>()
}

const POLICY: &str = "environments:
  staging: {enforce: warn}
  prod: {enforce: block, on_inconclusive: block}
checks:
  - name: latency
    endpoints: \"*\"
    latency: {p99: 250ms}
  - name: errors & resets
    error_rate: {max: 0.1%}
  - name: generator kept up
    achieved_rate: {min: 90%}
regression:
  quantiles: [p50, p99]
  tolerance: 5%
  confidence: 95%
";

/// With a policy, the verdict comes first: its decision in its colour,
/// the environment's enforcement, and every check with its rows and reason.
#[test]
fn a_verdict_shows_its_decision_and_every_check() {
    let (cs, bs, urls) = candidate_and_baseline();
    let policy = policy::from_str(POLICY, Path::new("gate.yaml")).unwrap_or_else(|e| panic!("policy: {e}"));
    let (mut cand, base) = eval::load_runs(&policy, &cs.path("out"), Some(&bs.path("out"))).expect("runs");
    let mut base = base.expect("baseline");
    rename_endpoint(&mut cand, 1, NASTY_ENDPOINT);
    rename_endpoint(&mut base, 1, NASTY_ENDPOINT);
    let verdict =
        eval::evaluate(&policy, &cand, Some(&base), &loadline::gate::Options::new("staging")).expect("verdict");
    // 3% errors against a 0.1% limit, and staging warns.
    assert_ne!(verdict.decision, Decision::Promote, "{:?}", verdict.tally);

    let html = loadline::report::render(&cand, Some(&base), Some(&verdict));
    let doc = check_document(&html, &urls, true);
    let decision = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("decision"))
        .expect("the decision");
    let class = match verdict.decision {
        Decision::Promote => "ok",
        Decision::Warn => "warn",
        Decision::Block => "bad",
    };
    assert_eq!(decision.attribute("class"), Some(format!("decision {class}").as_str()));
    assert!(text_of_node(decision).contains(&verdict.decision.name().to_uppercase()));
    // The verdict section comes before the run's numbers.
    let order: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((XHTML, "section")))
        .filter_map(|n| n.attribute("id"))
        .collect();
    assert_eq!(order, ["verdict", "run", "plots", "endpoints"]);

    let table = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("checks"))
        .expect("the checks table");
    let text = text_of_node(table);
    let cells: Vec<String> = table
        .descendants()
        .filter(|n| n.has_tag_name((XHTML, "td")))
        .map(text_of_node)
        .collect();
    assert!(
        html.contains("enforce <strong>warn</strong>"),
        "the environment's enforcement"
    );
    for c in &verdict.checks {
        assert!(
            cells.iter().any(|t| t.starts_with(&c.name)),
            "check `{}` has a row",
            c.name
        );
        assert!(text.contains(&c.reason), "the reason of `{}`", c.name);
        for r in &c.rows {
            assert!(
                text.contains(r.scope.as_str()) && text.contains(&r.metric),
                "{} {}",
                r.scope,
                r.metric
            );
        }
    }
    assert!(html.contains("errors &amp; resets"));
    assert!(
        verdict.checks.iter().any(|c| c.name == "regression"),
        "the baseline adds the regression check"
    );
    // Row outcomes are coloured pills.
    let fails = table
        .descendants()
        .filter(|n| n.attribute("class") == Some("pill bad"))
        .count();
    assert!(fails >= 1, "the failing error-rate row is red");
    let tbodies = table.children().filter(|n| n.has_tag_name((XHTML, "tbody"))).count();
    assert_eq!(tbodies, verdict.checks.len());
}

/// Degenerate data: a closed-model run (no target rate), the same run
/// with every request and second removed, and with a single second. None
/// of them may produce a NaN, an infinity or a malformed document.
#[test]
fn closed_and_empty_runs_render_without_nan() {
    let text = "name: closed
target: {base_url: \"{BASE}\"}
seed: 2
duration: 1s
load: {model: closed, users: 2, think_time: 20ms}
endpoints: [{name: root, weight: 1, path: /}]
";
    let scratch = Scratch::new();
    let t = plain_target();
    let urls = vec![t.base_url()];
    run(&scratch, profile(&scratch, text, &t.base_url()), 1);
    let closed = Run::load(&scratch.path("out"), &[], Series::Read).expect("load");
    assert_eq!(closed.summary.rate.target_per_s, None);

    let html = loadline::report::render(&closed, None, None);
    let doc = check_document(&html, &urls, true);
    let rate = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("plot-rate"))
        .expect("rate");
    assert!(
        !text_of_node(rate).contains("target"),
        "a closed model has no target to plot"
    );
    assert!(text_of(&doc).contains("closed model"));

    let mut empty = closed.clone();
    empty.overall.reset();
    for h in &mut empty.latency {
        h.reset();
    }
    empty.series.clear();
    empty.seconds = loadline::results::run::Seconds::default();
    let s = &mut empty.summary;
    s.totals = loadline::results::summary::Totals {
        requests: 0,
        warmup_requests: 0,
        errors: 0,
        error_rate: 0.0,
        unexpected_status: 0,
        latency_us: Default::default(),
    };
    s.rate.achieved_per_s = 0.0;
    s.run.measured_s = 0.0;
    for e in &mut s.endpoints {
        e.requests = 0;
        e.share = 0.0;
        e.latency_us = Default::default();
    }
    let mut single = closed.clone();
    single.series.truncate(1);
    single.series[0].p99_ms = None;

    for (name, r, base) in [
        ("empty", &empty, None),
        ("empty over a real baseline", &empty, Some(&closed)),
        ("a real run over an empty baseline", &closed, Some(&empty)),
        ("a single second", &single, Some(&single)),
    ] {
        let html = loadline::report::render(r, base, None);
        let doc = check_document(&html, &urls, false);
        if std::ptr::eq(r, &empty) {
            assert!(text_of(&doc).contains("no requests were measured"), "{name}");
        }
    }
}

/// Twelve endpoints with long names (the profile allows names of any
/// length) on a run of 3.4 s with 1 s of warm-up: the last interval lasts
/// 0.4 s, and a report of it once ran its time axis to 5 s and drew that
/// interval as a drop to 40% of the rate.
fn long_names_partial_second() -> String {
    let mut text = String::from(
        "name: partial
target: {base_url: \"{BASE}\", connections: 8, timeout: 2s}
seed: 5
duration: 3400ms
warmup: 1s
load: {model: open, rate: 400/s, arrivals: uniform}
endpoints:
",
    );
    for i in 0..12 {
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!(
                "  - {{name: tenant_scoped_catalogue_lookup_by_category_and_region_number_{i:02}, weight: 1, path: /t/tenant-000{i}/catalogue/categories/{i}/regions/eu-west/products?page=1}}\n"
            ),
        );
    }
    text
}

/// The x tick labels of one plot, in order.
fn x_ticks<'a>(doc: &'a roxmltree::Document, id: &str) -> Vec<&'a str> {
    let plot = doc
        .descendants()
        .find(|n| n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("{id}"));
    plot.descendants()
        .filter(|n| n.attribute("class") == Some("tick x"))
        .filter_map(|n| n.text())
        .collect()
}

/// The points of a plot's polyline with `class`, in SVG pixels.
fn polyline(doc: &roxmltree::Document, id: &str, class: &str) -> Vec<(f64, f64)> {
    let plot = doc
        .descendants()
        .find(|n| n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("{id}"));
    let line = plot
        .descendants()
        .find(|n| n.has_tag_name((SVG, "polyline")) && n.attribute("class") == Some(class))
        .unwrap_or_else(|| panic!("{id}: no polyline `{class}`"));
    line.attribute("points")
        .unwrap_or_default()
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

/// The time plots end where the run does and draw its last 0.4 s as a rate
/// over 0.4 s; every table sits in a box that scrolls on its own, and the
/// numbers in it do not wrap.
#[test]
fn time_plots_end_at_the_run_and_tables_sit_in_scroll_boxes() {
    let scratch = Scratch::new();
    let t = plain_target();
    let urls = vec![t.base_url()];
    let report = run(
        &scratch,
        profile(&scratch, &long_names_partial_second(), &t.base_url()),
        2,
    );
    assert_eq!(report.summary.run.measured_s, 2.4);
    let r = Run::load(&scratch.path("out"), &[], Series::Read).expect("load");
    let last = r.series.last().expect("a time series");
    assert_eq!(last.second, 3, "the last interval is [3, 3.4)");
    let html = loadline::report::render(&r, Some(&r), None);
    let doc = check_document(&html, &urls, true);

    for id in ["plot-rate", "plot-latency", "plot-errors"] {
        let ticks = x_ticks(&doc, id);
        assert_eq!(ticks.first(), Some(&"0s"), "{id}: {ticks:?}");
        assert_eq!(
            ticks.last(),
            Some(&"3.4s"),
            "{id}: the axis ends at the run's end: {ticks:?}"
        );
    }
    // The achieved rate: 4 intervals, the last at the middle of [3, 3.4)
    // and as high as the others (uniform arrivals at 400/s), not 40% of them.
    let achieved = polyline(&doc, "plot-rate", "series c-blue");
    assert_eq!(achieved.len(), 4, "{achieved:?}");
    let axis_y = 260.0 - 40.0;
    let height = |p: &(f64, f64)| axis_y - p.1;
    let full = height(&achieved[2]);
    let end = height(&achieved[3]);
    assert!(
        end > 0.85 * full && end < 1.15 * full,
        "last interval {end} px against {full} px: {achieved:?}"
    );
    let (x2, x3) = (achieved[2].0, achieved[3].0);
    let per_s = (x3 - x2) / 0.7;
    assert!(
        ((560.0 - 28.0) - x3 - 0.2 * per_s).abs() < 1.0,
        "the last point sits 0.2 s before the end: {achieved:?}"
    );
    // p99 per second: one point per measured interval, the last one there too.
    let p99 = polyline(&doc, "plot-latency", "series c-orange");
    assert_eq!(p99.len(), 3, "{p99:?}");
    assert!(!html.contains("id=\"left-out\""), "0.4 s is plotted, nothing left out");

    // Tables: each in a scroll box; numbers right-aligned and unbroken.
    for class in ["facts", "endpoints"] {
        let table = doc
            .descendants()
            .find(|n| n.has_tag_name((XHTML, "table")) && n.attribute("class") == Some(class))
            .unwrap_or_else(|| panic!("table {class}"));
        let parent = table.parent_element().expect("parent");
        assert_eq!(
            parent.attribute("class"),
            Some("scroll"),
            "table {class} in a scroll box"
        );
    }
    let style = doc
        .descendants()
        .find(|n| n.has_tag_name((XHTML, "style")))
        .and_then(|n| n.text())
        .unwrap_or_default();
    assert!(style.contains(".scroll { overflow-x: auto;"), "{style}");
    assert!(style.contains("td.num, th.num { text-align: right;") && style.contains("white-space: nowrap"));
    let rows = doc
        .descendants()
        .filter(|n| n.has_tag_name((XHTML, "tr")) && n.ancestors().any(|a| a.attribute("class") == Some("endpoints")))
        .count();
    assert_eq!(rows, 1 + 12 + 1, "header, 12 endpoints, the total");
}

/// A run with client classes and a server that closes keep-alive
/// connections unannounced: the report has a table of the classes (kept
/// apart from the endpoints), the errors by kind and the retried requests.
#[test]
fn client_classes_error_kinds_and_retries_are_in_the_report() {
    let text = "name: classes
target: {base_url: \"{BASE}\", connections: 4, timeout: 2s}
seed: 5
duration: 2s
load: {model: open, rate: 200/s, arrivals: uniform}
endpoints:
  - {name: get_item, weight: 3, path: /items/1}
  - {name: order, weight: 1, method: POST, path: /t/a/orders, body: '{\"sku\": 1}'}
clients:
  impatient: {share: 10%, abandon_after: 5ms}
  trickle: {share: 5%, send: {bytes_per_s: 2000}}
";
    let scratch = Scratch::new();
    let t = target(TargetConfig {
        latency: std::time::Duration::from_millis(20),
        wire: loadline::sample::WireFaults {
            close_after: Some(5),
            ..Default::default()
        },
        ..TargetConfig::default()
    });
    let urls = vec![t.base_url()];
    run(&scratch, profile(&scratch, text, &t.base_url()), 1);
    let r = Run::load(&scratch.path("out"), &[], Series::Read).expect("load");
    let s = &r.summary;
    assert_eq!(s.clients.len(), 2, "{:?}", s.clients);
    assert!(s.retried_stale > 0 && !s.errors_by_kind.is_empty(), "{s:?}");

    let html = loadline::report::render(&r, None, None);
    let doc = check_document(&html, &urls, true);
    let section = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("clients"))
        .expect("a client classes section");
    let rows: Vec<String> = section
        .descendants()
        .filter(|n| n.tag_name().name() == "tr")
        .skip(1)
        .map(text_of_node)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let impatient = s.clients.iter().find(|c| c.name == "impatient").expect("class");
    assert!(impatient.abandoned > 0, "{impatient:?}");
    assert!(
        rows[0].contains("impatient") && rows[0].contains("abandon after 5ms"),
        "{rows:?}"
    );
    assert!(rows[0].contains(&impatient.abandoned.to_string()), "{rows:?}");
    assert!(rows[1].contains("trickle"), "{rows:?}");
    let all = text_of(&doc);
    for (kind, n) in &s.errors_by_kind {
        assert!(all.contains(&format!("{kind} {n}")), "{kind} {n} missing");
    }
    assert!(all.contains(&format!("{} retried on a fresh connection", s.retried_stale)));

    // Without classes, no such section.
    let (plain, _) = real_run(TargetConfig::default(), &two_endpoints("plain"));
    let html = loadline::report::render(&load(&plain), None, None);
    assert!(!html.contains("id=\"clients\""));
}
