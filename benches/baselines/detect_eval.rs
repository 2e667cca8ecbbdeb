//! Recall and precision of the PII detectors (`scrub::detect`) on labelled corpora.
//!
//! The corpora come from `benches/detect_corpus.py`: JSON Lines of
//! `{"generator": "faker/de_DE", "text": "...", "spans": [[start, end, "kind"], ...]}` with
//! UTF-8 byte offsets, written by fake-data libraries that loadline did not write, so the
//! detectors are measured against shapes their author did not choose.
//!
//! Per generator (the part of `generator` before the `/`) and for all files together, per kind:
//!
//! - recall (any): the labelled span is fully covered by hits of any kind. This is what
//!   matters for redaction, where a phone redacted as `[CARD]` is still gone;
//! - recall (exact): covered by hits of the span's own kind;
//! - gone after redact: the span's text is no longer in the line after
//!   `Detectors::redact_into`, which adds the backstop (runs of 7+ digits, leftover
//!   addresses) to the detectors: what a `redact` column leaks;
//! - partial: not covered, but some hit overlaps it (a leak of the rest of the value);
//! - precision: hits that overlap a span of their own kind, out of all hits of the kind. The
//!   rest either overlap a span of another kind or no span at all (false positives).
//!
//! Kinds are matched by `Kind::name()`, never by enum variant, so a detector kind added later
//! (such as `mac`) is scored without touching this file.
//!
//! ```text
//! cargo run --release -p loadline-baselines --bin detect_eval -- [--examples] [--json] [--errors OUT.jsonl] FILE...
//! ```
//!
//! `--examples` adds up to 5 examples per false-positive rule and 10 missed spans per kind;
//! `--json` prints the same numbers as JSON; `--errors` writes every miss, partial cover and
//! false positive as JSON Lines, for grouping them by shape with another tool.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;
use loadline::printer::Printer;
use loadline::scrub::detect::{Detectors, Hit};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Corpus kinds first, in the order the corpus documents them; kinds only the detectors know
/// are appended in name order.
const KIND_ORDER: [&str; 8] = ["email", "phone", "card", "iban", "ip", "mac", "national_id", "token"];
const FP_EXAMPLES: usize = 5;
const MISS_EXAMPLES: usize = 10;
/// Bytes of text shown on each side of an example.
const CONTEXT: usize = 40;

#[derive(Parser)]
#[command(about = "Recall and precision of loadline's PII detectors on labelled JSONL corpora")]
struct Args {
    /// Corpus files written by benches/detect_corpus.py.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Show examples of false positives (5 per rule) and misses (10 per kind).
    #[arg(long)]
    examples: bool,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    json: bool,
    /// Write every miss, partial cover and false positive to this file as JSON Lines.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    generator: String,
    text: String,
    spans: Vec<(usize, usize, String)>,
}

/// Counts for one kind. Span counts are by the span's kind, hit counts by the hit's kind.
#[derive(Default, Clone, Serialize)]
struct KindStats {
    spans: u64,
    covered_any: u64,
    covered_exact: u64,
    /// Spans whose text is no longer in the line after `redact_into` (detectors and backstop).
    gone: u64,
    partial: u64,
    hits: u64,
    hits_same_kind: u64,
    hits_other_kind: u64,
    hits_no_span: u64,
}

impl KindStats {
    fn add(&mut self, o: &KindStats) {
        self.spans += o.spans;
        self.covered_any += o.covered_any;
        self.covered_exact += o.covered_exact;
        self.gone += o.gone;
        self.partial += o.partial;
        self.hits += o.hits;
        self.hits_same_kind += o.hits_same_kind;
        self.hits_other_kind += o.hits_other_kind;
        self.hits_no_span += o.hits_no_span;
    }
}

/// Everything measured over a set of lines. Ordered maps, so the output is stable.
#[derive(Default, Serialize)]
struct Tally {
    lines: u64,
    kinds: BTreeMap<String, KindStats>,
    /// False positives (hits overlapping no span) by `kind/rule`.
    false_positives: BTreeMap<String, u64>,
    /// Hits overlapping a span of another kind, by `hit kind/rule -> span kind`.
    other_kind: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fp_examples: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    miss_examples: BTreeMap<String, Vec<String>>,
}

impl Tally {
    fn kind(&mut self, kind: &str) -> &mut KindStats {
        self.kinds.entry(kind.to_owned()).or_default()
    }

    fn merge(&mut self, o: &Tally) {
        self.lines += o.lines;
        for (k, s) in &o.kinds {
            self.kind(k).add(s);
        }
        add_counts(&mut self.false_positives, &o.false_positives);
        add_counts(&mut self.other_kind, &o.other_kind);
        add_examples(&mut self.fp_examples, &o.fp_examples, FP_EXAMPLES);
        add_examples(&mut self.miss_examples, &o.miss_examples, MISS_EXAMPLES);
    }

    /// Kinds in display order: the corpus's kinds, then any others by name.
    fn kind_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = KIND_ORDER
            .iter()
            .copied()
            .filter(|k| self.kinds.contains_key(*k))
            .collect();
        names.extend(
            self.kinds
                .keys()
                .map(String::as_str)
                .filter(|k| !KIND_ORDER.contains(k)),
        );
        names
    }

    fn total(&self) -> KindStats {
        let mut t = KindStats::default();
        for s in self.kinds.values() {
            t.add(s);
        }
        t
    }
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, n) in from {
        *into.entry(k.clone()).or_default() += n;
    }
}

fn add_examples(into: &mut BTreeMap<String, Vec<String>>, from: &BTreeMap<String, Vec<String>>, cap: usize) {
    for (k, v) in from {
        let list = into.entry(k.clone()).or_default();
        list.extend(v.iter().take(cap.saturating_sub(list.len())).cloned());
    }
}

fn push_example(map: &mut BTreeMap<String, Vec<String>>, key: &str, cap: usize, example: impl FnOnce() -> String) {
    let list = map.entry(key.to_owned()).or_default();
    if list.len() < cap {
        list.push(example());
    }
}

/// One labelled span of a line.
struct Span<'a> {
    start: usize,
    end: usize,
    kind: &'a str,
}

/// What one line is scored with, so the scoring functions take one argument instead of five.
struct Line<'a> {
    locale: &'a str,
    text: &'a str,
    spans: Vec<Span<'a>>,
    hits: &'a [Hit],
    /// The text after redaction.
    redacted: &'a str,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let printer = Printer::new(false);
    let detectors = Detectors::new();
    let mut errors = match &args.errors {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let mut by_generator: BTreeMap<String, Tally> = BTreeMap::new();
    for path in &args.files {
        score_file(path, &detectors, &args, &mut by_generator, errors.as_mut())?;
    }
    if let (Some(w), Some(p)) = (errors.as_mut(), &args.errors) {
        w.flush().with_context(|| format!("writing {}", p.display()))?;
    }
    let mut combined = Tally::default();
    for t in by_generator.values() {
        combined.merge(t);
    }
    if args.json {
        let doc = json!({ "generators": by_generator, "combined": combined });
        printer.out(serde_json::to_string_pretty(&doc).context("serialising the report")?);
    } else {
        printer.out(markdown(&by_generator, &combined, args.examples));
    }
    Ok(())
}

fn score_file(
    path: &Path,
    detectors: &Detectors,
    args: &Args,
    by_generator: &mut BTreeMap<String, Tally>,
    mut errors: Option<&mut BufWriter<File>>,
) -> Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hits = Vec::new();
    for (n, raw) in BufReader::new(file).lines().enumerate() {
        let at = || format!("{}:{}", path.display(), n + 1);
        let raw = raw.with_context(|| format!("reading {}", at()))?;
        let rec: Record = serde_json::from_str(&raw).with_context(|| format!("{}: not a corpus record", at()))?;
        let (generator, locale) = rec.generator.split_once('/').unwrap_or((&rec.generator, ""));
        let spans = check_spans(&rec).with_context(at)?;
        hits.clear();
        detectors.find(&rec.text, &mut hits);
        let mut redacted = String::new();
        detectors.redact_into(&rec.text, &mut redacted);
        let line = Line {
            locale,
            text: &rec.text,
            spans,
            hits: &hits,
            redacted: &redacted,
        };
        let tally = by_generator.entry(generator.to_owned()).or_default();
        tally.lines += 1;
        score_spans(&line, tally, args.examples);
        score_hits(&line, tally, args.examples);
        if let Some(w) = errors.as_deref_mut() {
            write_errors(w, generator, &line).with_context(|| format!("writing errors for {}", at()))?;
        }
    }
    Ok(())
}

/// Spans must be sorted, disjoint and on character boundaries, or slicing the text would panic
/// and the coverage walk would be wrong.
fn check_spans(rec: &Record) -> Result<Vec<Span<'_>>> {
    let mut last = 0;
    let mut out = Vec::with_capacity(rec.spans.len());
    for (start, end, kind) in &rec.spans {
        let (start, end) = (*start, *end);
        if start < last || start >= end || end > rec.text.len() {
            bail!("span [{start}, {end}, {kind}] is unsorted, overlapping, empty or out of range");
        }
        if !rec.text.is_char_boundary(start) || !rec.text.is_char_boundary(end) {
            bail!("span [{start}, {end}, {kind}] does not fall on UTF-8 character boundaries");
        }
        last = end;
        out.push(Span { start, end, kind });
    }
    Ok(out)
}

/// Whether `[start, end)` is fully covered by the union of `hits` (sorted and disjoint, as
/// `Detectors::find` returns them). Adjacent hits together cover a span.
fn covers<'h>(start: usize, end: usize, hits: impl Iterator<Item = &'h Hit>) -> bool {
    let mut pos = start;
    for h in hits {
        if h.end <= pos {
            continue;
        }
        if h.start > pos {
            return false;
        }
        pos = h.end;
        if pos >= end {
            return true;
        }
    }
    false
}

fn overlaps(h: &Hit, s: &Span) -> bool {
    h.start < s.end && s.start < h.end
}

fn score_spans(line: &Line, tally: &mut Tally, examples: bool) {
    for s in &line.spans {
        let any = covers(s.start, s.end, line.hits.iter());
        let exact = covers(s.start, s.end, line.hits.iter().filter(|h| h.kind.name() == s.kind));
        let partial = !any && line.hits.iter().any(|h| overlaps(h, s));
        let k = tally.kind(s.kind);
        k.spans += 1;
        k.covered_any += u64::from(any);
        k.covered_exact += u64::from(exact);
        k.gone += u64::from(!line.redacted.contains(&line.text[s.start..s.end]));
        k.partial += u64::from(partial);
        if examples && !any {
            push_example(&mut tally.miss_examples, s.kind, MISS_EXAMPLES, || {
                miss_example(line, s)
            });
        }
    }
}

fn score_hits(line: &Line, tally: &mut Tally, examples: bool) {
    for h in line.hits {
        let kind = h.kind.name();
        let same = line.spans.iter().any(|s| s.kind == kind && overlaps(h, s));
        let other = line.spans.iter().find(|s| s.kind != kind && overlaps(h, s));
        let k = tally.kind(kind);
        k.hits += 1;
        k.hits_same_kind += u64::from(same);
        let rule = format!("{kind}/{}", h.rule);
        match (same, other) {
            (true, _) => {}
            (false, Some(s)) => {
                k.hits_other_kind += 1;
                *tally.other_kind.entry(format!("{rule} -> {}", s.kind)).or_default() += 1;
            }
            (false, None) => {
                k.hits_no_span += 1;
                *tally.false_positives.entry(rule.clone()).or_default() += 1;
                if examples {
                    let ex = || format!("{}: {}", line.locale, snippet(line.text, h.start, h.end));
                    push_example(&mut tally.fp_examples, &rule, FP_EXAMPLES, ex);
                }
            }
        }
    }
}

/// The missed span in context, and what the detectors found inside it, if anything.
fn miss_example(line: &Line, s: &Span) -> String {
    let found: Vec<String> = line
        .hits
        .iter()
        .filter(|h| overlaps(h, s))
        .map(|h| format!("{}/{} `{}`", h.kind.name(), h.rule, &line.text[h.start..h.end]))
        .collect();
    let found = if found.is_empty() {
        String::new()
    } else {
        format!("  [found: {}]", found.join(", "))
    };
    format!("{}: {}{found}", line.locale, snippet(line.text, s.start, s.end))
}

/// `…context ⟦match⟧ context…`, cut on character boundaries.
fn snippet(text: &str, start: usize, end: usize) -> String {
    let mut lo = start.saturating_sub(CONTEXT);
    while !text.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = (end + CONTEXT).min(text.len());
    while !text.is_char_boundary(hi) {
        hi += 1;
    }
    let (pre, post) = (if lo > 0 { "…" } else { "" }, if hi < text.len() { "…" } else { "" });
    format!(
        "{pre}{}⟦{}⟧{}{post}",
        &text[lo..start],
        &text[start..end],
        &text[end..hi]
    )
}

/// One JSON line per miss (not covered by any hit), partial cover and false positive.
fn write_errors(w: &mut impl Write, generator: &str, line: &Line) -> Result<()> {
    for s in &line.spans {
        let found: Vec<_> = line.hits.iter().filter(|h| overlaps(h, s)).collect();
        if covers(s.start, s.end, found.iter().copied()) {
            continue;
        }
        let found: Vec<_> = found
            .iter()
            .map(|h| json!([h.kind.name(), h.rule, &line.text[h.start..h.end]]))
            .collect();
        let what = if found.is_empty() { "miss" } else { "partial" };
        let rec = json!({"what": what, "generator": generator, "locale": line.locale, "kind": s.kind,
            "value": &line.text[s.start..s.end], "found": found, "text": line.text});
        writeln!(w, "{rec}")?;
    }
    for h in line.hits.iter().filter(|h| !line.spans.iter().any(|s| overlaps(h, s))) {
        let rec = json!({"what": "false_positive", "generator": generator, "locale": line.locale,
            "kind": h.kind.name(), "rule": h.rule, "value": &line.text[h.start..h.end], "text": line.text});
        writeln!(w, "{rec}")?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Markdown

fn markdown(by_generator: &BTreeMap<String, Tally>, combined: &Tally, examples: bool) -> String {
    let mut out = String::from("# PII detector evaluation\n");
    let sections = by_generator.iter().map(|(g, t)| (g.as_str(), t));
    let all = sections.chain((by_generator.len() > 1).then_some(("combined", combined)));
    for (name, tally) in all {
        out += &section(name, tally, examples);
    }
    out
}

fn section(name: &str, t: &Tally, examples: bool) -> String {
    let mut out = format!("\n## {name} ({} lines)\n\n", t.lines);
    out += "| kind | spans | recall (any) | recall (exact) | gone after redact | partial | hits | precision | other kind | no span |\n";
    out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for k in t.kind_names() {
        out += &table_row(k, &t.kinds[k]);
    }
    out += &table_row("**all**", &t.total());
    out += &counts_table(
        "False positives (hit overlapping no span) by rule",
        "rule",
        &t.false_positives,
    );
    out += &counts_table("Hits on a span of another kind", "hit rule -> span kind", &t.other_kind);
    if examples {
        out += &examples_block("False-positive examples", &t.fp_examples);
        out += &examples_block("Missed spans (not fully covered by any hit)", &t.miss_examples);
    }
    out
}

fn table_row(kind: &str, s: &KindStats) -> String {
    format!(
        "| {kind} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.spans,
        pct(s.covered_any, s.spans),
        pct(s.covered_exact, s.spans),
        pct(s.gone, s.spans),
        s.partial,
        s.hits,
        pct(s.hits_same_kind, s.hits),
        s.hits_other_kind,
        s.hits_no_span
    )
}

fn pct(n: u64, d: u64) -> String {
    if d == 0 {
        return "–".into();
    }
    // Counts in a corpus are far below 2^53, so the conversion is exact.
    format!("{:.1}%", 100.0 * n as f64 / d as f64)
}

/// Largest count first: the top of the list is what to fix first.
fn counts_table(title: &str, header: &str, counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return format!("\n{title}: none.\n");
    }
    let mut rows: Vec<_> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut out = format!("\n{title}:\n\n| {header} | count |\n|---|---:|\n");
    for (k, n) in rows {
        out += &format!("| {k} | {n} |\n");
    }
    out
}

fn examples_block(title: &str, examples: &BTreeMap<String, Vec<String>>) -> String {
    let mut out = format!("\n### {title}\n");
    for (key, list) in examples.iter().filter(|(_, l)| !l.is_empty()) {
        out += &format!("\n{key}:\n\n```text\n");
        for e in list {
            out += e;
            out.push('\n');
        }
        out += "```\n";
    }
    out
}
