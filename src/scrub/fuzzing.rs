//! Entry points for the fuzz targets in `fuzz/` and their regression tests
//! (`tests/it/fuzz_regressions.rs`): not an API, hidden from the docs, and
//! free to change with the targets.
//!
//! [`Dumps::scrub`] takes any bytes as a CSV, COPY text or JSON-lines file and
//! runs them through the pieces `scrub` is made of ([`Splitter`],
//! [`format::header`], [`Parser`], [`TablePlan`], `pipeline::delimited` and
//! `pipeline::jsonl`, the collision check), in memory and on one thread,
//! checking what must hold whatever the bytes are. [`rules`] does the same
//! for a rules file. A property that fails comes back as a [`Violation`],
//! which a fuzz target turns into a crash: the library never panics for it.
//!
//! What is not the real `scrub`: files and threads (`pipeline::run`,
//! `stream`), and the choice of a file's table, which goes by its header
//! here (the first table of [`RULES`] whose columns it has) rather than by
//! its file name.

use std::collections::hash_map::{Entry, HashMap};
use std::path::Path;

use super::detect::{iban_length, identifying_tokens, Detectors, Hit, REDACT_ROUNDS, SHAPE_ONLY};
use super::format::{self, Format, Parser, Record};
use super::pipeline::{self, Chunk, Splitter};
use super::rules::{self, Rules, TableRules};
use super::run::Minted;
use super::transform::{Scratch, TablePlan};
use super::Error;

/// The rules the dump targets scrub with: the tables of `fixtures/dump` and
/// `fixtures/faker/*` with every transformer and every `unlisted_columns`
/// setting at least once. The key is read from [`KEY_FILE`].
pub const RULES: &str = "\
key: ${file:fuzzing-key.txt}
unlisted_columns: keep
tables:
  users:
    columns:
      id: {pseudonymize: {as: integer}}
      email: {pseudonymize: {as: email}}
      name: {fake: name}
      phone: {mask: {keep_last: 2}}
      birth_date: {shift_date: {max: 30d}}
      notes: redact
      ssn: drop
  orders:
    unlisted_columns: drop
    columns:
      id: keep
      user_id: {pseudonymize: {same_as: users.id}}
      total_cents: {noise: {relative: 5%}}
      shipping_address: {fake: street_address}
      card_last4: {mask: {all: true}}
  tickets:
    unlisted_columns: fail
    columns:
      id: {mask: {keep_first: 1, with: '*'}}
      user_id: null
      subject: {pseudonymize: {as: text}}
      body: {redact: {kinds: [email, phone], row_values: false}}
";

/// The file the key of [`RULES`] is read from, in the rules' folder. Its
/// key is not a secret: it only keys fuzzing.
pub const KEY_FILE: &str = "fuzzing-key.txt";

use crate::fuzzing::ensure;
pub use crate::fuzzing::Violation;

/// What `scrub` would have done with an input.
#[derive(Debug)]
pub enum Outcome {
    /// Every row scrubbed or rejected.
    Scrubbed { rows_in: u64, rows_out: u64, rejected: u64 },
    /// Refused before any output, as `scrub` refuses it (a header it cannot
    /// read, columns that do not fit the rules, a pseudonym collision).
    Refused(Error),
}

/// Plans kept at most: enough for the headers a fuzzing run keeps coming
/// back to, without growing with every mutated one.
const PLANS: usize = 256;

/// Scrubs inputs under [`RULES`], keeping each table plan it compiles:
/// compiling one (its detectors' regex) costs far more than scrubbing a
/// small input, and `scrub` too compiles one per file, not per row.
#[derive(Debug)]
pub struct Dumps {
    pub rules: Rules,
    plans: HashMap<(String, Vec<String>), TablePlan>,
}

impl Dumps {
    /// [`RULES`], read as if from `dir/rules.yaml` (so `dir` must hold
    /// [`KEY_FILE`]).
    pub fn new(dir: &Path) -> Result<Dumps, rules::Error> {
        Ok(Dumps {
            rules: rules::from_str(RULES, &dir.join("rules.yaml"))?,
            plans: HashMap::new(),
        })
    }

    /// Scrub `data` as one file of `format` and check that:
    ///
    /// - the records cut from it hold every byte once, in order, each ending
    ///   in a newline, with the right first line per chunk;
    /// - a record that parses, written back with the writer, is cut as one
    ///   record and parses to the same fields;
    /// - rows in = rows out + rejected, and rejects point at lines of their
    ///   chunk;
    /// - the output reads back: its header is the written columns and each
    ///   row parses with that many fields (a JSON object per line for JSON
    ///   lines), as many rows as were written.
    pub fn scrub(&mut self, format: Format, data: &[u8]) -> Result<Outcome, Violation> {
        let file = format!("fuzz.{}", format.name());
        let (header, chunks) = cut(format, data)?;
        if format != Format::Jsonl {
            for chunk in &chunks {
                round_trip(format, chunk)?;
            }
        }

        let rules = &self.rules;
        let (table, columns) = match format {
            Format::Jsonl => {
                let keys = first_object_keys(data);
                let table = choose_table(rules, &keys)?;
                let mut columns: Vec<String> = table.columns.keys().cloned().collect();
                for k in keys {
                    if !columns.contains(&k) {
                        columns.push(k);
                    }
                }
                (table, columns)
            }
            _ => {
                let Some(h) = header else {
                    return Ok(Outcome::Refused(Error::EmptyFile { path: file.into() }));
                };
                let columns = match format::header(format, &h) {
                    Ok(c) => c,
                    Err(reason) => {
                        return Ok(Outcome::Refused(Error::BadHeader {
                            path: file.into(),
                            reason,
                        }))
                    }
                };
                (choose_table(rules, &columns)?, columns)
            }
        };
        let key = (table.name.clone(), columns);
        if self.plans.len() >= PLANS && !self.plans.contains_key(&key) {
            self.plans.clear();
        }
        let plan = match self.plans.entry(key) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => match TablePlan::new(table, &rules.key, &v.key().1, &file) {
                Ok(p) => v.insert(p),
                Err(e) => return Ok(Outcome::Refused(e.into())),
            },
        };
        scrub_chunks(plan, format, chunks)
    }
}

/// Scrub the chunks of one file with `plan`, as `scrub` does, and check
/// the counts, the rejects and the output.
fn scrub_chunks(plan: &TablePlan, format: Format, chunks: Vec<Chunk>) -> Result<Outcome, Violation> {
    let mut out = Vec::new();
    if format != Format::Jsonl {
        let sep = if format == Format::Csv { b',' } else { b'\t' };
        for (i, c) in plan.output_columns().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            match format {
                Format::Copy => format::write_copy_field(&mut out, Some(c)),
                _ => format::write_csv_field(&mut out, Some(c)),
            }
        }
        out.push(b'\n');
    }
    let (mut rows_in, mut rows_out, mut rejected) = (0, 0, 0);
    let mut minted = Minted::default();
    for chunk in chunks {
        let first_line = chunk.first_line;
        let lines = count_lines(&chunk.data);
        let done = match format {
            Format::Jsonl => pipeline::jsonl(plan, chunk),
            _ => pipeline::delimited(plan, format, chunk),
        };
        ensure!(
            done.rows_in == done.rows_out + done.rejected.len() as u64,
            "a chunk of {} rows gave {} out and {} rejected",
            done.rows_in,
            done.rows_out,
            done.rejected.len()
        );
        for r in &done.rejected {
            ensure!(
                (first_line..first_line + lines).contains(&r.line),
                "a reject at line {} of a chunk of lines {first_line} to {}",
                r.line,
                first_line + lines - 1
            );
            ensure!(!r.reason.is_empty(), "a reject at line {} without a reason", r.line);
        }
        for column in 0..plan.columns.len() as u32 {
            let domain = plan.domain(column as usize).unwrap_or(&plan.columns[column as usize]);
            let made = done.minted.iter().filter(|m| m.column == column);
            // In memory (no spill folder): extending cannot fail.
            let _ = minted.extend(domain, made.map(|m| (m.tag, m.input)));
        }
        rows_in += done.rows_in;
        rows_out += done.rows_out;
        rejected += done.rejected.len() as u64;
        out.extend_from_slice(&done.out);
    }
    reads_back(format, plan, &out, rows_out)?;
    if let Err(e) = minted.check() {
        return Ok(Outcome::Refused(e));
    }
    Ok(Outcome::Scrubbed {
        rows_in,
        rows_out,
        rejected,
    })
}

/// The header (CSV and COPY) and the chunks of `data`, as `scrub` cuts
/// them, checked against `data`.
fn cut(format: Format, data: &[u8]) -> Result<(Option<Vec<u8>>, Vec<Chunk>), Violation> {
    let io = |e: std::io::Error| Violation(format!("reading from memory failed: {e}"));
    let mut splitter = Splitter::new(data, format);
    let header = match format {
        Format::Jsonl => None,
        _ => splitter.first().map_err(io)?,
    };
    let mut all = header.clone().unwrap_or_default();
    let mut chunks = Vec::new();
    while let Some(c) = splitter.chunk().map_err(io)? {
        ensure!(
            c.first_line == 1 + count_lines(&all),
            "a chunk starts at line {}, after {} lines",
            c.first_line,
            count_lines(&all)
        );
        let mut start = 0;
        for &end in &c.ends {
            let end = end as usize;
            ensure!(
                start < end && end <= c.data.len(),
                "record ends {start} then {end} in a chunk of {} bytes",
                c.data.len()
            );
            ensure!(c.data[end - 1] == b'\n', "a record that does not end in a newline");
            start = end;
        }
        ensure!(start == c.data.len(), "bytes after the last record of a chunk");
        all.extend_from_slice(&c.data);
        chunks.push(c);
    }
    let mut expected = data.to_vec();
    if expected.last().is_some_and(|b| *b != b'\n') {
        expected.push(b'\n');
    }
    ensure!(all == expected, "the records cut are not the input");
    Ok((header, chunks))
}

/// Each record of `chunk` that parses, written back, is one record with
/// the same fields.
fn round_trip(format: Format, chunk: &Chunk) -> Result<(), Violation> {
    let parser = Parser { format };
    let sep = if format == Format::Csv { b',' } else { b'\t' };
    let (mut rec, mut again) = (Record::default(), Record::default());
    let mut written = Vec::new();
    let mut start = 0;
    for &end in &chunk.ends {
        let raw = &chunk.data[start..end as usize];
        start = end as usize;
        if parser.record(raw, &mut rec).is_err() {
            continue;
        }
        written.clear();
        for (i, f) in rec.fields().enumerate() {
            if i > 0 {
                written.push(sep);
            }
            match format {
                Format::Copy => format::write_copy_field(&mut written, f),
                _ => format::write_csv_field(&mut written, f),
            }
        }
        written.push(b'\n');
        let cut_at = format::next_record_end(format, &written, 0);
        ensure!(
            cut_at == Some(written.len()),
            "{:?} parsed and written as {:?} is cut at {cut_at:?}",
            String::from_utf8_lossy(raw),
            String::from_utf8_lossy(&written)
        );
        if let Err(e) = parser.record(&written, &mut again) {
            return Err(Violation(format!(
                "{:?} parsed and written as {:?} does not parse: {e}",
                String::from_utf8_lossy(raw),
                String::from_utf8_lossy(&written)
            )));
        }
        ensure!(
            rec.fields().eq(again.fields()),
            "{:?} parsed to {:?}, written as {:?}, parsed to {:?}",
            String::from_utf8_lossy(raw),
            rec.fields().collect::<Vec<_>>(),
            String::from_utf8_lossy(&written),
            again.fields().collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// The scrubbed file `out` reads back as `rows_out` rows of the plan's
/// written columns. Records are found with [`format::next_record_end`]
/// rather than a second [`Splitter`]: the output is whole in memory.
fn reads_back(format: Format, plan: &TablePlan, out: &[u8], rows_out: u64) -> Result<(), Violation> {
    let shown = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < out.len() {
        let Some(end) = format::next_record_end(format, out, pos) else {
            return Err(Violation(format!(
                "the output's last record does not end: {:?}",
                shown(&out[pos..])
            )));
        };
        records.push(&out[pos..end]);
        pos = end;
    }
    if format == Format::Jsonl {
        for line in &records {
            // JSON's grammar and whole surrogate pairs, as the reader takes
            // them; numbers past f64's range (`1e400`) are JSON too.
            let parsed = serde_json::from_slice::<indexmap::IndexMap<String, &serde_json::value::RawValue>>(line);
            ensure!(
                parsed.is_ok() && pipeline::surrogates_paired(line).is_ok(),
                "an output line is not a JSON object: {:?}",
                shown(line)
            );
        }
        ensure!(
            records.len() as u64 == rows_out,
            "{} output lines for {rows_out} rows",
            records.len()
        );
        return Ok(());
    }
    let written: Vec<&str> = plan.output_columns().collect();
    if written.is_empty() {
        // Nothing is written: no header a reader could take.
        return Ok(());
    }
    let Some((header, rows)) = records.split_first() else {
        return Err(Violation("no output header".into()));
    };
    let read = format::header(format, header);
    ensure!(
        read.as_ref().is_ok_and(|h| h == &written),
        "the output header {:?} reads as {read:?}, not {written:?}",
        shown(header)
    );
    let parser = Parser { format };
    let mut rec = Record::default();
    for raw in rows {
        let parsed = parser.record(raw, &mut rec);
        ensure!(
            parsed.is_ok() && rec.len() == written.len(),
            "an output row {:?} reads as {parsed:?} with {} fields, not {}",
            shown(raw),
            rec.len(),
            written.len()
        );
    }
    ensure!(
        rows.len() as u64 == rows_out,
        "{} output rows for {rows_out} written",
        rows.len()
    );
    Ok(())
}

/// The keys of the first line that is not blank, if it is a JSON object:
/// what `scrub` adds to a JSON-lines table's columns.
fn first_object_keys(data: &[u8]) -> Vec<String> {
    let Some(line) = data
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
    else {
        return Vec::new();
    };
    serde_json::from_slice::<indexmap::IndexMap<String, serde::de::IgnoredAny>>(line)
        .map(|o| o.into_keys().collect())
        .unwrap_or_default()
}

/// The first table of `rules` whose columns are all in `columns`, or the
/// first table (whose plan then fails on its missing columns).
fn choose_table<'r>(rules: &'r Rules, columns: &[String]) -> Result<&'r TableRules, Violation> {
    let fits = |t: &&TableRules| t.columns.keys().all(|c| columns.contains(c));
    let mut tables = rules.tables.values();
    rules
        .tables
        .values()
        .find(fits)
        .or_else(|| tables.next())
        .ok_or_else(|| Violation("rules without tables".into()))
}

fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// Values every column of a table is given when [`rules`] accepts a file.
const SAMPLES: [Option<&str>; 12] = [
    None,
    Some(""),
    Some("42"),
    Some("-9223372036854775809"),
    Some("18446744073709551615"),
    Some("1250.50"),
    Some("2024-02-29T10:00:00Z"),
    Some("Jane.Doe@Example.com"),
    Some("+1 415-555-0123"),
    Some("550E8400E29B41D4A716446655440000"),
    Some("Maria Garcia (maria.g@mail.example.net) card 4111 1111 1111 1111"),
    Some("ünïcødé 漢字 \u{1F600}"),
];

/// Read `text` as a rules file at `origin` and check that an error is not
/// empty and starts with `origin` and a line; rules that are accepted are
/// compiled for a table with their columns and applied to a few rows.
pub fn rules(text: &str, origin: &Path) -> Result<(), Violation> {
    let rules = match rules::from_str(text, origin) {
        Ok(r) => r,
        Err(e) => {
            let message = e.to_string();
            let prefix = format!("{}:", origin.display());
            ensure!(
                message.starts_with(&prefix) && message.len() > prefix.len(),
                "an error that does not start with the file: {message:?}"
            );
            return Ok(());
        }
    };
    let mut scratch = Scratch::default();
    let mut minted = Vec::new();
    for table in rules.tables.values() {
        let mut columns: Vec<String> = table.columns.keys().cloned().collect();
        for id in table.identity.iter().flatten() {
            if !columns.contains(id) {
                columns.push(id.clone());
            }
        }
        let plan = match TablePlan::new(table, &rules.key, &columns, "fuzz.csv") {
            Ok(p) => p,
            Err(e) => {
                ensure!(!e.to_string().is_empty(), "an empty plan error");
                continue;
            }
        };
        for sample in SAMPLES {
            let cells = vec![sample; columns.len()];
            minted.clear();
            // A value a transformer cannot take rejects the row: fine.
            let _ = plan.row(&cells[..], &mut scratch, &mut minted, |_, _| {});
        }
    }
    Ok(())
}

/// Run the detectors over `text` and check that:
///
/// - the hits are sorted, disjoint, non-empty, inside the text and on char
///   boundaries, and none is a shape that failed its check;
/// - every find of [`reference_finds`] (a plain reading for Luhn-valid card
///   numbers and IBANs) lies inside the hits: the differential oracle;
/// - after redaction no reference find and no identifying token (the
///   backstop's long numbers and addresses) is left, and redacting again
///   changes nothing (for fewer than `REDACT_ROUNDS` replacements).
pub fn detect(detectors: &Detectors, text: &str) -> Result<(), Violation> {
    let mut hits = Vec::new();
    detectors.find(text, &mut hits);
    let mut last = 0;
    for h in &hits {
        ensure!(
            last <= h.start && h.start < h.end && h.end <= text.len(),
            "hits not sorted, overlapping or outside the text: {hits:?}"
        );
        ensure!(
            text.is_char_boundary(h.start) && text.is_char_boundary(h.end),
            "a hit cuts a char: {h:?}"
        );
        ensure!(h.rule != SHAPE_ONLY, "a failed shape reported as a hit: {h:?}");
        last = h.end;
    }
    for (what, s, e) in reference_finds(text) {
        ensure!(
            covered(&hits, s, e),
            "the reference finds the {what} {:?} at {s}..{e}, the detectors do not cover it: {hits:?}",
            &text[s..e]
        );
    }
    let mut once = String::new();
    let replaced = detectors.redact_into(text, &mut once);
    if let Some((what, s, e)) = reference_finds(&once).into_iter().next() {
        return Err(Violation(format!(
            "the {what} {:?} survives redaction as {once:?}",
            &once[s..e]
        )));
    }
    let mut left = Vec::new();
    identifying_tokens(&once, |s, e| left.push(&once[s..e]));
    ensure!(left.is_empty(), "{left:?} survive redaction as {once:?}");
    // Stable, unless a chain of glued findings outran the scans (see REDACT_ROUNDS).
    if replaced < REDACT_ROUNDS {
        let mut twice = String::new();
        detectors.redact_into(&once, &mut twice);
        ensure!(twice == once, "redacting {once:?} again gives {twice:?}");
    }
    Ok(())
}

/// Whether the sorted, disjoint `hits` cover `s..e` without a gap.
fn covered(hits: &[Hit], s: usize, e: usize) -> bool {
    let mut pos = s;
    for h in hits {
        if h.start <= pos && h.end > pos {
            pos = h.end;
        }
    }
    pos >= e
}

/// Card numbers and IBANs as a plain reading finds them, each as what it
/// is and its byte range, for the detectors' differential oracle. This is
/// deliberately simpler and narrower than the detectors (no issuer table,
/// no lower case, no context rules), so all it finds they must find too:
///
/// - a run of 13 to 19 ASCII digits whose Luhn sum is valid;
/// - digit groups joined by one repeated space or dash, printed as cards
///   are (4-4-4-4, 4-4-4-4-3, 4-4-4-1..4, 4-6-5, 4-6-4), with a valid Luhn
///   sum over all their digits;
/// - an upper-case IBAN, compact or in groups of 4 joined by single spaces,
///   whose length is its country's and whose mod-97 remainder is 1;
///
/// each standing as a token of its own: after the start of the text, white
/// space, an opening bracket or quote, `:`, `=`, `,`, `;` or a non-ASCII
/// char, and before the end, white space, a closing bracket or quote,
/// `,`, `;`, `:`, `!`, `?`, `<`, a non-ASCII char or a `.` that no digit
/// follows.
pub fn reference_finds(text: &str) -> Vec<(&'static str, usize, usize)> {
    let reading = Reading { b: text.as_bytes() };
    let mut out = Vec::new();
    reading.cards(&mut out);
    reading.ibans(text, &mut out);
    out
}

/// The plain reading of one text: what stands as a token of its own, and where runs end.
struct Reading<'a> {
    b: &'a [u8],
}

impl Reading<'_> {
    /// A token may start at `i`.
    fn starts(&self, i: usize) -> bool {
        let b = self.b;
        i == 0 || b[i - 1] >= 0x80 || b[i - 1].is_ascii_whitespace() || b"([{\"':=,;".contains(&b[i - 1])
    }

    /// A token may end at `e`.
    fn ends(&self, e: usize) -> bool {
        match self.b.get(e) {
            None => true,
            Some(&c) if c >= 0x80 || c.is_ascii_whitespace() || b")]}\"',;:!?<".contains(&c) => true,
            Some(b'.') => !self.b.get(e + 1).is_some_and(u8::is_ascii_digit),
            Some(_) => false,
        }
    }

    /// The end of the run of ASCII digits at `p`.
    fn digits_end(&self, mut p: usize) -> usize {
        while self.b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        p
    }

    /// The end of the word (ASCII letters, digits, `_`) at `p`.
    fn word_end(&self, mut p: usize) -> usize {
        while self.b.get(p).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            p += 1;
        }
        p
    }

    /// Card numbers, compact or in groups.
    fn cards(&self, out: &mut Vec<(&'static str, usize, usize)>) {
        let b = self.b;
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let e = self.digits_end(i);
            if (13..=19).contains(&(e - i)) && self.starts(i) && self.ends(e) && luhn(&b[i..e]) {
                out.push(("card number", i, e));
            }
            // A chain of groups begins here unless a group joined to it ends right before.
            let joined = i >= 2 && matches!(b[i - 1], b' ' | b'-') && b[i - 2].is_ascii_digit();
            if !joined && matches!(b.get(e), Some(b' ' | b'-')) {
                if let Some(end) = self.grouped_card(i, e) {
                    out.push(("grouped card number", i, end));
                }
            }
            i = e;
        }
    }

    /// The end of a grouped card number whose first group is `i..e`, if it is one.
    fn grouped_card(&self, i: usize, e: usize) -> Option<usize> {
        let b = self.b;
        let sep = b[e];
        let mut groups = vec![(i, e)];
        while b.get(groups[groups.len() - 1].1) == Some(&sep)
            && b.get(groups[groups.len() - 1].1 + 1).is_some_and(u8::is_ascii_digit)
        {
            let s = groups[groups.len() - 1].1 + 1;
            groups.push((s, self.digits_end(s)));
        }
        let lens: Vec<usize> = groups.iter().map(|(s, e)| e - s).collect();
        let total: usize = lens.iter().sum();
        let fours = lens.len() >= 3
            && lens[..lens.len() - 1].iter().all(|&n| n == 4)
            && (1..=4).contains(&lens[lens.len() - 1]);
        let amex_diners = matches!(lens[..], [4, 6, 4 | 5]);
        let end = groups[groups.len() - 1].1;
        let digits: Vec<u8> = groups.iter().flat_map(|&(s, e)| b[s..e].iter().copied()).collect();
        ((fours || amex_diners) && (13..=19).contains(&total) && self.starts(i) && self.ends(end) && luhn(&digits))
            .then_some(end)
    }

    /// Upper-case IBANs, compact or in groups of 4.
    fn ibans(&self, text: &str, out: &mut Vec<(&'static str, usize, usize)>) {
        let b = self.b;
        let mut i = 0;
        while i + 4 <= b.len() {
            let word = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            let iban_head = b[i].is_ascii_uppercase()
                && b[i + 1].is_ascii_uppercase()
                && b[i + 2].is_ascii_digit()
                && b[i + 3].is_ascii_digit();
            if !word || !iban_head || !self.starts(i) {
                i += 1;
                continue;
            }
            let Some(want) = iban_length(&text[i..i + 2]) else {
                i += 1;
                continue;
            };
            let e = self.word_end(i);
            if e - i == want && upper(&b[i..e]) && self.ends(e) && mod97(&b[i..e]) == 1 {
                out.push(("IBAN", i, e));
            } else if e - i == 4 {
                if let Some(end) = self.grouped_iban(i, e, want) {
                    out.push(("grouped IBAN", i, end));
                }
            }
            i = e;
        }
    }

    /// The end of an IBAN of `want` characters in groups of 4 joined by single spaces (the
    /// last one shorter or whole), whose first group is `i..e`, if it is one.
    fn grouped_iban(&self, i: usize, e: usize, want: usize) -> Option<usize> {
        let b = self.b;
        let mut compact = b[i..e].to_vec();
        let mut end = e;
        while compact.len() < want && b.get(end) == Some(&b' ') {
            let (gs, ge) = (end + 1, self.word_end(end + 1));
            if ge == gs || ge - gs > 4 || !upper(&b[gs..ge]) {
                break;
            }
            compact.extend_from_slice(&b[gs..ge]);
            end = ge;
            if ge - gs < 4 {
                break; // a short group is the last
            }
        }
        (compact.len() == want && self.ends(end) && mod97(&compact) == 1).then_some(end)
    }
}

/// Upper-case ASCII letters and digits only.
fn upper(s: &[u8]) -> bool {
    s.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The Luhn sum of ASCII digits is a multiple of 10.
fn luhn(d: &[u8]) -> bool {
    let mut sum = 0;
    for (k, c) in d.iter().rev().enumerate() {
        let v = u32::from(c - b'0');
        sum += if k % 2 == 1 {
            [0, 2, 4, 6, 8, 1, 3, 5, 7, 9][v as usize]
        } else {
            v
        };
    }
    sum % 10 == 0
}

/// ISO 7064 mod 97-10 of an IBAN: its first four chars moved to the end,
/// letters read as 10 to 35, the decimal number taken modulo 97.
fn mod97(iban: &[u8]) -> u64 {
    let rearranged = iban[4..].iter().chain(&iban[..4]);
    let decimal: String = rearranged
        .map(|&c| match c {
            b'0'..=b'9' => char::from(c).to_string(),
            _ => (u32::from(c - b'A') + 10).to_string(),
        })
        .collect();
    decimal.as_bytes().chunks(9).fold(0u64, |r, chunk| {
        let part: u64 = std::str::from_utf8(chunk).unwrap_or("0").parse().unwrap_or(0);
        (r * 10u64.pow(chunk.len() as u32) + part) % 97
    })
}
