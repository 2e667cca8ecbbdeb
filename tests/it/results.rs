//! The run's files: the summary against its committed JSON schema, the
//! interval log read back by HdrHistogram's own reader, the time series.

use loadline::results::{self, hlog};

use crate::support::*;

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/summary.schema.json")).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON schema")
}

/// Invariant: every run's summary.json matches schemas/summary.schema.json,
/// and the interval log adds up to the summary's totals.
#[test]
fn files_match_their_schemas_and_each_other() {
    let scratch = Scratch::new();
    let t = plain_target();
    let text = "name: files
target: {base_url: \"{BASE}\", connections: 8}
seed: 4
duration: 3s
warmup: 1s
load: {model: open, rate: 500/s}
tenants: {count: 50, skew: {zipf: 1.0}, send_as: {query: tenant}}
endpoints:
  - {name: get_product, weight: 3, path: \"/t/{{tenant}}/products/{{p}}\", vars: {p: {zipf: {n: 100, s: 1}}}}
  - {name: missing, weight: 1, path: /nothing/here}
";
    let report = run(&scratch, profile(&scratch, text, &t.base_url()), 2);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.dir.join(results::SUMMARY_FILE)).expect("summary")).expect("JSON");
    let v = schema();
    let errors: Vec<String> = v
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "summary.json does not match its schema:\n{}",
        errors.join("\n")
    );
    // The same document read back into the typed summary.
    let s = results::read_summary(&report.dir).expect("read back");
    assert_eq!(s, report.summary);
    assert!(s.outcomes["4xx"] > 0 && s.outcomes["2xx"] > 0, "{:?}", s.outcomes);
    assert_eq!(s.totals.errors, 0, "4xx is not an error by default");
    assert!(s.totals.warmup_requests > 300, "{}", s.totals.warmup_requests);

    // The interval log: tags are endpoint/outcome, and the counts add up.
    let intervals = hlog::read(&report.dir.join(results::LATENCY_LOG_FILE)).expect("hlog");
    let total: u64 = intervals.iter().map(|i| i.hist.len()).sum();
    assert_eq!(total, s.totals.requests);
    let tagged = |tag: &str| {
        intervals
            .iter()
            .filter(|i| i.tag.as_deref() == Some(tag))
            .map(|i| i.hist.len())
            .sum::<u64>()
    };
    assert_eq!(tagged("get_product/2xx"), s.endpoints[0].outcomes["2xx"].count);
    assert_eq!(tagged("missing/4xx"), s.endpoints[1].outcomes["4xx"].count);
    assert!(intervals.iter().all(|i| i.length.as_secs() == 1));
    assert!(
        intervals.iter().all(|i| i.start.as_secs() >= 1),
        "the warm-up second is not in the log"
    );
    let text = std::fs::read_to_string(report.dir.join(results::LATENCY_LOG_FILE)).expect("text");
    assert!(text.contains("#[StartTime: ") && text.contains("\"StartTimestamp\",\"Interval_Length\""));

    // The time series: one row per second, warm-up marked.
    let mut rdr = csv::Reader::from_path(report.dir.join(results::TIMESERIES_FILE)).expect("timeseries");
    assert_eq!(
        rdr.headers().expect("header").iter().collect::<Vec<_>>(),
        [
            "second",
            "target_rate",
            "achieved_rate",
            "completed",
            "p50_ms",
            "p99_ms",
            "errors",
            "warmup",
            "intended",
            "sent",
            "never_sent"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    assert!(rows.len() >= 3);
    assert_eq!(&rows[0][7], "1");
    assert_eq!(&rows[1][7], "0");
    // Tenants went as a query parameter: the server counted them by it.
    assert!(
        t.stats().tenants.keys().all(|k| k.parse::<u32>().is_ok()),
        "{:?}",
        t.stats().tenants.keys().take(3).collect::<Vec<_>>()
    );
}

/// The schema itself rejects a summary with a misspelled field (it is not
/// a schema that accepts anything).
#[test]
fn the_schema_is_strict() {
    let scratch = Scratch::new();
    let t = plain_target();
    let report = run(
        &scratch,
        profile(&scratch, &simple("100/s", "1s", "uniform"), &t.base_url()),
        1,
    );
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.dir.join(results::SUMMARY_FILE)).expect("summary")).expect("JSON");
    assert!(schema().is_valid(&json));
    json["totals"]["eror_rate"] = serde_json::json!(0.0);
    assert!(!schema().is_valid(&json));
}
