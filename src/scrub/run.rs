//! A scrub run: every file of the dump gets its plan before anything is
//! written, then each file is streamed through it into the output folder,
//! and the one-to-one pseudonyms of the whole run are checked for
//! collisions.
//!
//! A run is all or nothing: every file's columns are checked against the
//! rules before anything is written, output goes to `.partial` files, and
//! they are renamed only when every file is complete and the rejects are
//! within `max_rejects`.

use super::known::{self, Entry, Keyed, KnownValues};
use super::rows;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::format::{self, Format, Parser, Record};
use super::pipeline::{self, Chunk, Done, Splitter};
use super::rules::{self, Rules};
use super::transform::TablePlan;
use super::{discover, table_rules, DumpFile, Error, FileReport, Options, Report};

/// A file ready to stream: its plan, built before anything is written.
struct Prepared {
    file: DumpFile,
    plan: TablePlan,
    splitter: Splitter<File>,
    header: Option<Vec<u8>>,
}

/// Scrub `opts.input` into `opts.output` with `rules`.
pub fn scrub(rules: &Rules, opts: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let (files, skipped) = discover(&opts.input)?;
    let (output, rejects_dir) = output_dirs(opts)?;
    check_tables(rules, &files, opts)?;
    let mut dropped_tables = Vec::new();
    let mut prepared = Vec::new();
    for f in files {
        match prepare(rules, f)? {
            Ok(p) => prepared.push(p),
            Err(DroppedTable(table)) => dropped_tables.push(table),
        }
    }
    let interrupted = |removed: usize| Error::Interrupted {
        output: opts.output.clone(),
        removed,
    };
    if prepared.iter().any(|p| p.plan.has_redact()) {
        let known = known_values(rules, &prepared, opts).map_err(|e| match e {
            Error::Interrupted { .. } => interrupted(0),
            e => e,
        })?;
        let known = std::sync::Arc::new(known);
        for p in &mut prepared {
            p.plan.set_known(known.clone());
        }
    }

    // Stream each file into `NAME.partial`.
    let created_output = !output.exists();
    std::fs::create_dir_all(&output).map_err(Error::io(&output))?;
    let mut reports = Vec::new();
    let mut partials: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut minted = Minted::spilling_to(output.join(".collision-check.partial"), MINTED_IN_MEMORY);
    let result = (|| -> Result<(), Error> {
        for p in prepared {
            let r = stream(p, &output, &rejects_dir, opts, &mut partials, &mut minted)?;
            reports.push(r);
        }
        minted.check()
    })();
    // The spilled runs go before the output folder may be removed as empty.
    drop(minted);
    if let Err(e) = result {
        for (partial, _) in &partials {
            let _ = std::fs::remove_file(partial);
        }
        if created_output {
            // Only if empty: nothing else of the user's is there.
            let _ = std::fs::remove_dir(&output);
        }
        return Err(match e {
            Error::Interrupted { .. } => interrupted(partials.len()),
            e => e,
        });
    }
    let rejected: u64 = reports.iter().map(|r| r.rejected).sum();
    let committed = rejected <= opts.max_rejects;
    for (partial, final_path) in &partials {
        let is_reject = final_path.starts_with(&rejects_dir);
        if committed || is_reject {
            std::fs::rename(partial, final_path).map_err(Error::io(final_path))?;
        } else {
            let _ = std::fs::remove_file(partial);
        }
    }
    Ok(Report {
        files: reports,
        skipped,
        dropped_tables,
        seconds: started.elapsed().as_secs_f64(),
        committed,
        max_rejects: opts.max_rejects,
        rejects_dir,
    })
}

/// The output folder (absolute) and the rejects folder (`<input>.rejects` unless given):
/// neither may be where the originals are, and rejected rows stay out of the output.
fn output_dirs(opts: &Options) -> Result<(PathBuf, PathBuf), Error> {
    let input = opts.input.canonicalize().map_err(Error::io(&opts.input))?;
    let rejects_dir = match &opts.rejects {
        Some(r) => r.clone(),
        None => {
            // `dump/` and `dump` both give `dump.rejects`.
            let mut s = opts.input.components().collect::<PathBuf>().into_os_string();
            s.push(".rejects");
            PathBuf::from(s)
        }
    };
    let output = absolute(&opts.output);
    let in_dir = if input.is_dir() {
        input.clone()
    } else {
        input.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    if output == in_dir {
        return Err(Error::OutIsInput {
            out: opts.output.clone(),
        });
    }
    let rejects_abs = absolute(&rejects_dir);
    if rejects_abs.starts_with(&output) {
        return Err(Error::RejectsInsideOut { rejects: rejects_dir });
    }
    Ok((output, rejects_dir))
}

/// Every rules table needs its file, and no two files are the same table.
fn check_tables(rules: &Rules, files: &[DumpFile], opts: &Options) -> Result<(), Error> {
    for t in rules.tables.keys() {
        if !files
            .iter()
            .any(|f| table_rules(rules, &f.table).is_some_and(|r| &r.name == t))
        {
            return Err(Error::TableWithoutFile {
                rules: rules.path.clone(),
                line: rules.tables[t].line,
                table: t.clone(),
                input: opts.input.clone(),
            });
        }
    }
    for (i, f) in files.iter().enumerate() {
        let name = table_rules(rules, &f.table).map(|t| &t.name);
        if let Some(g) = files[..i]
            .iter()
            .find(|g| name.is_some() && table_rules(rules, &g.table).map(|t| &t.name) == name)
        {
            return Err(Error::SameRulesTable {
                first: g.path.clone(),
                second: f.path.clone(),
                table: name.cloned().unwrap_or_default(),
            });
        }
    }
    Ok(())
}

/// A table the rules drop as unlisted (`unlisted_columns: drop`): its file is not
/// scrubbed, and the report names the table.
struct DroppedTable(String);

/// A file's plan, from its rules and its header (`Ok(Err(_))` for a table the rules
/// drop as unlisted). Every file is prepared before anything is written.
fn prepare(rules: &Rules, f: DumpFile) -> Result<Result<Prepared, DroppedTable>, Error> {
    let table = match table_rules(rules, &f.table) {
        Some(t) => t.clone(),
        None => match rules.unlisted {
            rules::Unlisted::Fail => {
                return Err(Error::UnlistedTable {
                    path: f.path,
                    table: f.table,
                })
            }
            rules::Unlisted::Drop => return Ok(Err(DroppedTable(f.table))),
            rules::Unlisted::Keep => rules::TableRules {
                name: f.table.clone(),
                line: 0,
                unlisted: rules::Unlisted::Keep,
                identity: None,
                columns: Default::default(),
            },
        },
    };
    let file = File::open(&f.path).map_err(Error::io(&f.path))?;
    let mut splitter = Splitter::new(file, f.format);
    let shown = f.path.display().to_string();
    let (columns, header) = match f.format {
        Format::Csv | Format::Copy => {
            let Some(h) = splitter.first().map_err(Error::io(&f.path))? else {
                return Err(Error::EmptyFile { path: f.path });
            };
            let cols = format::header(f.format, &h).map_err(|reason| Error::BadHeader {
                path: f.path.clone(),
                reason,
            })?;
            (cols, Some(h))
        }
        Format::Jsonl => (jsonl_columns(&f.path, &table)?, None),
    };
    let plan = TablePlan::new(&table, &rules.key, &columns, &shown)?;
    Ok(Ok(Prepared {
        file: f,
        plan,
        splitter,
        header,
    }))
}

/// The known values of every table (see [`super::known`]): one pass over the dump before the
/// scrub, reading only the columns that hold them. Workers parse chunks and hash the values
/// side by side; this thread puts them in the table in file order (so the same dump always
/// gives the same table), sized once from the first chunk.
fn known_values(rules: &Rules, prepared: &[Prepared], opts: &Options) -> Result<KnownValues, Error> {
    let threads = opts.threads;
    let mut known = KnownValues::new(&rules.key);
    let mut jobs = Vec::new();
    for p in prepared {
        let wanted: Vec<(usize, u16)> = p
            .plan
            .known_value_columns()
            .map(|c| (c, known.column(&format!("{}.{}", p.plan.table, p.plan.columns[c]))))
            .collect();
        if !wanted.is_empty() {
            jobs.push((p, wanted));
        }
    }
    let total: u64 = jobs
        .iter()
        .map(|(p, _)| std::fs::metadata(&p.file.path).map_or(0, |m| m.len()))
        .sum();
    let key = known.keyed().clone();
    let mut sized = false;
    for (p, wanted) in &jobs {
        let (path, format) = (&p.file.path, p.file.format);
        let mut splitter = Splitter::new(File::open(path).map_err(Error::io(path))?, format);
        if format != Format::Jsonl {
            splitter.first().map_err(Error::io(path))?; // the header
        }
        let columns = &p.plan.columns;
        pipeline::run(
            threads,
            || {
                opts.stop.check().map_err(|_| Error::Interrupted {
                    output: opts.output.clone(),
                    removed: 0,
                })?;
                splitter.chunk().map_err(Error::io(path))
            },
            |chunk| (chunk.data.len(), entries(format, columns, wanted, &key, &chunk)),
            |(bytes, entries): (usize, Vec<Entry>)| {
                if !sized {
                    sized = true;
                    // A first chunk unlike the rest of the dump must not reserve gigabytes:
                    // past 2^26 values (about 800 MB) the table grows as it fills instead.
                    let per_byte = entries.len() as f64 / bytes.max(1) as f64;
                    known.expect(((per_byte * total as f64 * 1.1) as usize).min(1 << 26));
                }
                known.insert_all(&entries);
                Ok(())
            },
        )?;
    }
    Ok(known)
}

/// The known-value entries of one chunk: the `wanted` columns (index into `columns`, and
/// the table's column id) of every row that parses, as `verify` reads them (`rows::Rows`).
fn entries(format: Format, columns: &[String], wanted: &[(usize, u16)], key: &Keyed, chunk: &Chunk) -> Vec<Entry> {
    let mut out = Vec::new();
    let parser = Parser { format };
    let mut rec = Record::default();
    let mut spans = Vec::new();
    let mut start = 0;
    for &end in &chunk.ends {
        let raw = &chunk.data[start..end as usize];
        start = end as usize;
        if format == Format::Jsonl {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(obj) = serde_json::from_slice::<indexmap::IndexMap<String, serde_json::Value>>(raw) else {
                continue;
            };
            for &(i, id) in wanted {
                if let Some(text) = obj.get(&columns[i]).and_then(rows::json_text) {
                    out.extend(known::entry(key, id, &text));
                }
            }
            continue;
        }
        if format == Format::Csv {
            // The fields where they lie, none copied: the notes are most of the bytes and
            // none of the values.
            let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let Ok(text) = std::str::from_utf8(raw) else { continue };
            if !csv_spans(raw, &mut spans) || spans.len() != columns.len() {
                continue;
            }
            for &(i, id) in wanted {
                let v = match spans[i] {
                    CsvSpan::Null => continue,
                    CsvSpan::Plain(s, e) => std::borrow::Cow::Borrowed(text.get(s..e).unwrap_or_default()),
                    CsvSpan::Escaped(s, e) => text.get(s..e).unwrap_or_default().replace("\"\"", "\"").into(),
                };
                out.extend(known::entry(key, id, &v));
            }
            continue;
        }
        if parser.record(raw, &mut rec).is_err() || rec.len() != columns.len() {
            continue;
        }
        for &(i, id) in wanted {
            if let Some(v) = rec.field(i) {
                out.extend(known::entry(key, id, v));
            }
        }
    }
    out
}

/// One field of a CSV record as [`csv_spans`] finds it: where its text lies in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvSpan {
    /// An unquoted empty field (NULL).
    Null,
    /// The field's text, as it is.
    Plain(usize, usize),
    /// A quoted field's text, with its quotes doubled.
    Escaped(usize, usize),
}

/// The fields of one CSV record (without its line break) where they lie, `false` where
/// [`Parser::record`] rejects the record's syntax. The parser's other check, that every field
/// is UTF-8 on whole characters, holds exactly when the whole record is UTF-8 (the bytes
/// between fields are ASCII), which the caller checks once.
fn csv_spans(raw: &[u8], spans: &mut Vec<CsvSpan>) -> bool {
    spans.clear();
    let mut pos = 0;
    loop {
        if raw.get(pos) == Some(&b'"') {
            let (start, mut p, mut escaped) = (pos + 1, pos + 1, false);
            let end = loop {
                let Some(q) = memchr::memchr(b'"', &raw[p..]).map(|i| i + p) else {
                    return false;
                };
                if raw.get(q + 1) == Some(&b'"') {
                    escaped = true;
                    p = q + 2;
                    continue;
                }
                break q;
            };
            spans.push(if escaped {
                CsvSpan::Escaped(start, end)
            } else {
                CsvSpan::Plain(start, end)
            });
            pos = end + 1;
            match raw.get(pos) {
                None => return true,
                Some(b',') => pos += 1,
                Some(_) => return false,
            }
        } else {
            let end = memchr::memchr2(b',', b'"', &raw[pos..]).map_or(raw.len(), |i| i + pos);
            if raw.get(end) == Some(&b'"') {
                return false;
            }
            spans.push(if end == pos {
                CsvSpan::Null
            } else {
                CsvSpan::Plain(pos, end)
            });
            if end == raw.len() {
                return true;
            }
            pos = end + 1;
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    match std::fs::canonicalize(p) {
        Ok(c) => c,
        Err(_) => match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => absolute(parent).join(name),
            _ => std::env::current_dir().unwrap_or_default().join(p),
        },
    }
}

/// A JSONL table's columns: the rules' columns, then the keys of the
/// first object that the rules do not list.
fn jsonl_columns(path: &Path, table: &rules::TableRules) -> Result<Vec<String>, Error> {
    use std::io::BufRead;
    let f = File::open(path).map_err(Error::io(path))?;
    let mut columns: Vec<String> = table.columns.keys().cloned().collect();
    for line in std::io::BufReader::new(f).split(b'\n') {
        let line = line.map_err(Error::io(path))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Ok(obj) = serde_json::from_slice::<indexmap::IndexMap<String, serde::de::IgnoredAny>>(&line) {
            for k in obj.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
        break;
    }
    Ok(columns)
}

/// Stream one prepared file through its plan into `NAME.partial` in `output`, its rejected
/// rows into the rejects folder, and its one-to-one pseudonyms into `minted`.
fn stream(
    mut p: Prepared,
    output: &Path,
    rejects_dir: &Path,
    opts: &Options,
    partials: &mut Vec<(PathBuf, PathBuf)>,
    minted: &mut Minted,
) -> Result<FileReport, Error> {
    let started = Instant::now();
    let final_path = output.join(&p.file.name);
    let partial = crate::atomic::partial_path(&output.join(&p.file.name));
    let out_file = File::create(&partial).map_err(Error::io(&partial))?;
    partials.push((partial.clone(), final_path));
    let mut out = BufWriter::with_capacity(1 << 20, out_file);
    if p.header.is_some() {
        out.write_all(&header_line(&p)).map_err(Error::io(&partial))?;
    }
    let mut rejects = Rejects::new(rejects_dir, &p.file.name);
    let mut report = FileReport {
        file: p.file.path.display().to_string(),
        table: p.plan.table.clone(),
        format: p.file.format,
        rows_in: 0,
        rows_out: 0,
        rejected: 0,
        first_rejects: Vec::new(),
        bytes_in: std::fs::metadata(&p.file.path).map(|m| m.len()).unwrap_or(0),
        seconds: 0.0,
        columns: p
            .plan
            .columns
            .iter()
            .cloned()
            .zip(p.plan.transforms.iter().copied())
            .collect(),
        rejects_file: None,
    };
    let plan = &p.plan;
    let fmt = p.file.format;
    let splitter = &mut p.splitter;
    let path = p.file.path.clone();
    pipeline::run(
        opts.threads,
        || {
            opts.stop.check().map_err(|_| Error::Interrupted {
                output: opts.output.clone(),
                removed: 0,
            })?;
            splitter.chunk().map_err(Error::io(&path))
        },
        |chunk| match fmt {
            Format::Jsonl => pipeline::jsonl(plan, chunk),
            _ => pipeline::delimited(plan, fmt, chunk),
        },
        |done: Done| {
            out.write_all(&done.out).map_err(Error::io(&partial))?;
            report.rows_in += done.rows_in;
            report.rows_out += done.rows_out;
            record_minted(plan, &done, minted)?;
            rejects.add(&done, &mut report, partials)
        },
    )?;
    out.flush().map_err(Error::io(&partial))?;
    report.rejects_file = rejects.finish()?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The output's header line: the columns the plan writes, in the file's format.
fn header_line(p: &Prepared) -> Vec<u8> {
    let mut h = Vec::new();
    for (i, c) in p.plan.output_columns().enumerate() {
        if i > 0 {
            h.push(if p.file.format == Format::Csv { b',' } else { b'\t' });
        }
        match p.file.format {
            Format::Copy => format::write_copy_field(&mut h, Some(c)),
            _ => format::write_csv_field(&mut h, Some(c)),
        }
    }
    h.push(b'\n');
    h
}

/// A chunk's one-to-one pseudonyms, for the run's collision check: one domain lookup per
/// column and chunk, not per value.
fn record_minted(plan: &TablePlan, done: &Done, minted: &mut Minted) -> Result<(), Error> {
    let mut columns: Vec<u32> = Vec::new();
    for m in &done.minted {
        if !columns.contains(&m.column) {
            columns.push(m.column);
        }
    }
    for column in columns {
        let domain = plan.domain(column as usize).unwrap_or(&plan.columns[column as usize]);
        let made = done.minted.iter().filter(|m| m.column == column);
        minted.extend(domain, made.map(|m| (m.tag, m.input)))?;
    }
    Ok(())
}

/// A file's reject file (`NAME.rejects.jsonl` in the rejects folder), created at the first
/// rejected row.
struct Rejects<'a> {
    dir: &'a Path,
    final_path: PathBuf,
    partial: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl<'a> Rejects<'a> {
    fn new(dir: &'a Path, file_name: &str) -> Self {
        let final_path = dir.join(format!("{file_name}.rejects.jsonl"));
        Rejects {
            dir,
            partial: crate::atomic::partial_path(&final_path),
            final_path,
            writer: None,
        }
    }

    /// A chunk's rejected rows: counted, the first five kept for the report, all written.
    fn add(
        &mut self,
        done: &Done,
        report: &mut FileReport,
        partials: &mut Vec<(PathBuf, PathBuf)>,
    ) -> Result<(), Error> {
        if done.rejected.is_empty() {
            return Ok(());
        }
        if self.writer.is_none() {
            std::fs::create_dir_all(self.dir).map_err(Error::io(self.dir))?;
            let f = File::create(&self.partial).map_err(Error::io(&self.partial))?;
            partials.push((self.partial.clone(), self.final_path.clone()));
            self.writer = Some(BufWriter::new(f));
        }
        for r in &done.rejected {
            report.rejected += 1;
            if report.first_rejects.len() < 5 {
                report.first_rejects.push((r.line, r.column.clone(), r.reason.clone()));
            }
            if let Some(w) = self.writer.as_mut() {
                let raw = String::from_utf8_lossy(&r.raw);
                let line = RejectLine {
                    column: r.column.as_deref(),
                    file: &report.file,
                    line: r.line,
                    raw: raw.strip_suffix('\n').unwrap_or(&raw),
                    raw_is_utf8: std::str::from_utf8(&r.raw).is_ok(),
                    reason: &r.reason,
                };
                serde_json::to_writer(&mut *w, &line)
                    .map_err(std::io::Error::other)
                    .and_then(|_| w.write_all(b"\n"))
                    .map_err(Error::io(&self.partial))?;
            }
        }
        Ok(())
    }

    /// Flush the reject file, if there is one, and say where it will be; otherwise remove
    /// one left by an earlier run of this file, which would mislead.
    fn finish(self) -> Result<Option<PathBuf>, Error> {
        match self.writer {
            Some(mut w) => {
                w.flush().map_err(Error::io(&self.partial))?;
                Ok(Some(self.final_path))
            }
            None => {
                let _ = std::fs::remove_file(&self.final_path);
                Ok(None)
            }
        }
    }
}

/// One line of a reject file (`NAME.rejects.jsonl`): where the row was, why
/// it was set aside, and the row itself (the reject files are inside the trust
/// boundary, never in the output). Fields in alphabetical order, the order the
/// lines have always had.
#[derive(serde::Serialize)]
struct RejectLine<'a> {
    column: Option<&'a str>,
    file: &'a str,
    line: u64,
    raw: &'a str,
    /// Whether `raw` is the row's bytes exactly (false: invalid UTF-8 was replaced).
    raw_is_utf8: bool,
    reason: &'a str,
}

/// The tags of every one-to-one pseudonym minted in a run, per domain,
/// to prove no two different values got the same one: 16 bytes per value.
/// In memory up to [`MINTED_IN_MEMORY`] pairs; past that (with a spill
/// folder), each domain's pairs are sorted and written to a run file there,
/// and the check merges the sorted runs, so memory stays bounded however
/// large the dump is.
#[derive(Debug, Default)]
pub(crate) struct Minted {
    domains: HashMap<String, Domain>,
    /// Pairs in memory, over every domain.
    held: usize,
    /// Where sorted runs go, and how many pairs memory holds before they do.
    spill: Option<(PathBuf, usize)>,
    /// Run files written so far (their names count up).
    runs: usize,
}

/// One domain's pairs: in memory, and the sorted run files already written.
#[derive(Debug, Default)]
struct Domain {
    pairs: Vec<(u64, u64)>,
    runs: Vec<PathBuf>,
}

/// Pairs the collision check holds in memory before spilling sorted runs
/// to disk (64 MiB).
pub(crate) const MINTED_IN_MEMORY: usize = 4 << 20;

impl Minted {
    /// A check that spills sorted runs into `dir` (created when first
    /// needed, removed when the check is dropped) past `limit` pairs.
    pub(super) fn spilling_to(dir: PathBuf, limit: usize) -> Minted {
        Minted {
            domains: HashMap::new(),
            held: 0,
            spill: Some((dir, limit.max(1))),
            runs: 0,
        }
    }

    /// Add (tag, input) pairs to `domain`.
    pub(super) fn extend(&mut self, domain: &str, pairs: impl Iterator<Item = (u64, u64)>) -> Result<(), Error> {
        let d = self.domains.entry(domain.to_string()).or_default();
        let before = d.pairs.len();
        d.pairs.extend(pairs);
        self.held += d.pairs.len() - before;
        match &self.spill {
            Some((_, limit)) if self.held >= *limit => self.spill_runs(),
            _ => Ok(()),
        }
    }

    /// Sort every domain's pairs in memory and write them as a run file.
    fn spill_runs(&mut self) -> Result<(), Error> {
        let Some((dir, _)) = &self.spill else {
            return Ok(());
        };
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        for d in self.domains.values_mut().filter(|d| !d.pairs.is_empty()) {
            // A run file is one sorted source.
            d.pairs.sort_unstable();
            let path = dir.join(format!("run-{:06}", self.runs));
            self.runs += 1;
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(Error::io(&path))?);
            for (tag, input) in d.pairs.drain(..) {
                w.write_all(&tag.to_le_bytes()).map_err(Error::io(&path))?;
                w.write_all(&input.to_le_bytes()).map_err(Error::io(&path))?;
            }
            w.flush().map_err(Error::io(&path))?;
            d.runs.push(path);
        }
        self.held = 0;
        Ok(())
    }

    /// Sorted by tag, equal tags must come from equal values: the pairs in
    /// memory (sorted on two threads, the one step of a run that cannot
    /// overlap reading) merged with the runs on disk.
    pub(super) fn check(&mut self) -> Result<(), Error> {
        for (domain, d) in &mut self.domains {
            sort_halves(&mut d.pairs);
            let mid = d.pairs.len() / 2;
            let (a, b) = d.pairs.split_at(mid);
            let mut sources: Vec<Source<'_>> =
                vec![Box::new(a.iter().copied().map(Ok)), Box::new(b.iter().copied().map(Ok))];
            for path in &d.runs {
                sources.push(Box::new(RunReader::open(path)?));
            }
            if let Some(tag) = merged_collision(sources)? {
                return Err(Error::Collision {
                    domain: domain.clone(),
                    tag,
                });
            }
        }
        Ok(())
    }
}

impl Drop for Minted {
    fn drop(&mut self) {
        if let Some((dir, _)) = &self.spill {
            // Ours alone (a `.partial` name inside the output); absent unless spilled.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Sort `v`'s two halves, one on another thread; the merge takes them as
/// two sorted sources.
fn sort_halves(v: &mut [(u64, u64)]) {
    let mid = v.len() / 2;
    let (a, b) = v.split_at_mut(mid);
    std::thread::scope(|s| {
        s.spawn(|| a.sort_unstable());
        b.sort_unstable();
    });
}

/// One sorted source of (tag, input) pairs: a half in memory or a run file.
type Source<'a> = Box<dyn Iterator<Item = Result<(u64, u64), Error>> + 'a>;

/// The first tag two different inputs share, walking sorted sources in
/// merged order.
fn merged_collision(sources: Vec<Source<'_>>) -> Result<Option<u64>, Error> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut sources = sources;
    let mut heap = BinaryHeap::new();
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some(p) = s.next() {
            heap.push(Reverse((p?, i)));
        }
    }
    let mut last: Option<(u64, u64)> = None;
    while let Some(Reverse(((tag, input), i))) = heap.pop() {
        if let Some((t, inp)) = last {
            if t == tag && inp != input {
                return Ok(Some(tag));
            }
        }
        last = Some((tag, input));
        if let Some(p) = sources[i].next() {
            heap.push(Reverse((p?, i)));
        }
    }
    Ok(None)
}

/// The pairs of one run file, in order.
struct RunReader<'a> {
    path: &'a Path,
    r: std::io::BufReader<File>,
}

impl<'a> RunReader<'a> {
    fn open(path: &'a Path) -> Result<RunReader<'a>, Error> {
        let f = File::open(path).map_err(Error::io(path))?;
        Ok(RunReader {
            path,
            r: std::io::BufReader::with_capacity(64 << 10, f),
        })
    }
}

impl Iterator for RunReader<'_> {
    type Item = Result<(u64, u64), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::io::Read;
        let mut b = [0u8; 16];
        match self.r.read_exact(&mut b) {
            Ok(()) => {
                let (t, i) = b.split_at(8);
                let word = |x: &[u8]| u64::from_le_bytes(x.try_into().unwrap_or_default());
                Some(Ok((word(t), word(i))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => None,
            Err(e) => Some(Err(Error::io(self.path)(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known-value pass's field finder takes the records the parser takes, with the same
    /// fields, and rejects the others.
    #[test]
    fn csv_spans_read_what_the_parser_reads() {
        let records: [&[u8]; 16] = [
            b"1,a,b\n",
            b"1,,\"\"\r\n",
            b"\"x,y\",\"he said \"\"hi\"\"\",\"\"\"\"\n",
            b"a,b,",
            b",",
            b"",
            b"\"open,b\n",
            b"a\"b,c",
            b"\"a\"b,c",
            b"\"a\",\"b\"x",
            b"caf\xc3\xa9,\"na\xc3\xafve\"",
            b"\xe5,\x80\x82",
            b"bad \xff,x",
            b"\"line\nbreak\",2\n",
            b"\"\",,\"\"\"\"",
            b"x,\"\xc3\",\"\xa9\"",
        ];
        for raw in records {
            spans_match_the_parser(raw);
        }
    }

    /// [`csv_spans`] on `raw`, a record with its line break, against [`Parser::record`]: the
    /// same records taken, with the same fields.
    fn spans_match_the_parser(raw: &[u8]) {
        let parser = Parser { format: Format::Csv };
        let (mut rec, mut spans) = (Record::default(), Vec::new());
        let parsed = parser.record(raw, &mut rec).is_ok();
        let stripped = raw.strip_suffix(b"\n").unwrap_or(raw);
        let stripped = stripped.strip_suffix(b"\r").unwrap_or(stripped);
        let found = std::str::from_utf8(stripped)
            .ok()
            .filter(|_| csv_spans(stripped, &mut spans));
        assert_eq!(parsed, found.is_some(), "{raw:?}");
        let Some(text) = found else { return };
        let fields: Vec<Option<String>> = spans
            .iter()
            .map(|s| match *s {
                CsvSpan::Null => None,
                CsvSpan::Plain(s, e) => Some(text[s..e].to_string()),
                CsvSpan::Escaped(s, e) => Some(text[s..e].replace("\"\"", "\"")),
            })
            .collect();
        let want: Vec<Option<String>> = rec.fields().map(|f| f.map(str::to_string)).collect();
        assert_eq!(fields, want, "{raw:?}");
    }

    proptest::proptest! {
        /// Any record made of the bytes that matter to either reader (separators, quotes,
        /// line breaks, a two-byte character's halves, a byte that is never UTF-8): the
        /// known-value pass and the scrub read the same fields, or both refuse the record.
        #[test]
        fn csv_spans_read_any_record_as_the_parser_does(
            raw in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b' ', b',', b'"', b'\r', b'\n', 0xc3, 0xa9, 0xff]),
                0..40,
            )
        ) {
            spans_match_the_parser(&raw);
        }
    }

    /// Equal tags from equal inputs are fine; from different inputs they
    /// are a collision, within a sorted half or across the two.
    #[test]
    fn collision_check_finds_any_two_inputs_with_one_tag() {
        let run = |pairs: &[(u64, u64)]| {
            let mut m = Minted::default();
            m.extend("users.email", pairs.iter().copied()).expect("in memory");
            let in_memory = m.check().err().map(|e| e.to_string());
            // The same pairs spilled to disk in runs of 1, 2 and 3 pairs and merged.
            for limit in [1, 2, 3] {
                let dir = tempfile::tempdir().expect("temp dir");
                let spill = dir.path().join("spill");
                let mut m = Minted::spilling_to(spill.clone(), limit);
                for p in pairs {
                    m.extend("users.email", std::iter::once(*p)).expect("spill");
                }
                m.extend("users.phone", [(5, 9), (1, 9)].into_iter()).expect("spill");
                assert_eq!(spill.exists(), pairs.len() >= limit, "limit {limit}");
                let spilled = m.check().err().map(|e| e.to_string());
                assert_eq!(spilled, in_memory, "limit {limit}: {pairs:?}");
                drop(m);
                assert!(!spill.exists(), "the runs are removed");
            }
            in_memory
        };
        assert_eq!(
            run(&[(5, 1), (7, 2), (5, 1), (9, 3), (u64::MAX, 4), (u64::MAX, 4)]),
            None
        );
        for pairs in [
            vec![(5, 1), (5, 2), (7, 3), (8, 4)],
            vec![(7, 3), (5, 1), (8, 4), (5, 2)],
            vec![(1, 1), (2, 2), (3, 3), (4, 4), (9, 9), (4, 5)],
            vec![(1, 1), (u64::MAX, 7), (1 << 63, 2), (u64::MAX, 8)],
        ] {
            let e = run(&pairs).expect("a collision");
            assert!(e.contains("users.email") && e.contains("another key"), "{e}");
        }
    }
}
