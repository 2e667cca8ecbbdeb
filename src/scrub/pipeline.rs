//! Streaming one dump file through its [`TablePlan`]: the calling thread
//! reads the file and cuts it into chunks of whole records, worker threads
//! parse and scrub chunks, and the results are written back in input order,
//! so the output is the same bytes whatever the thread count. Memory is a
//! few chunks per worker, whatever the file's size.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use indexmap::IndexMap;
use serde_json::value::RawValue;

use super::format::{self, Format, Parser, Record, MAX_RECORD};
use super::keyed::LANES;
use super::rules::Unlisted;
use super::transform::{Cell, Minted, Scratch, TablePlan};

/// Bytes of records per chunk handed to a worker.
const CHUNK_BYTES: usize = 1 << 20;
/// Bytes read from the file at a time.
const READ_BYTES: usize = 4 << 20;
/// Chunks queued per worker, each way.
const DEPTH: usize = 4;

/// Records cut from the input, with the line the first one starts on.
pub struct Chunk {
    pub data: Vec<u8>,
    pub ends: Vec<u32>,
    pub first_line: u64,
}

/// A record that was not scrubbed: where it was, why, and its bytes.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
    pub raw: Vec<u8>,
}

/// One chunk, scrubbed.
#[derive(Debug, Default)]
pub struct Done {
    pub out: Vec<u8>,
    pub rows_in: u64,
    pub rows_out: u64,
    pub rejected: Vec<Rejected>,
    /// One-to-one pseudonyms made, for the run's collision check.
    pub minted: Vec<Minted>,
}

/// Reads a file and cuts it into chunks of whole records.
pub struct Splitter<R> {
    reader: R,
    format: Format,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    line: u64,
}

impl<R: Read> Splitter<R> {
    pub fn new(reader: R, format: Format) -> Self {
        Splitter {
            reader,
            format,
            buf: Vec::with_capacity(READ_BYTES),
            pos: 0,
            eof: false,
            line: 1,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let have = self.buf.len();
        // Into the spare capacity, which is never zeroed first.
        self.buf.reserve(READ_BYTES);
        let n = match (&mut self.reader).take(READ_BYTES as u64).read_to_end(&mut self.buf) {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(have);
                return Err(e);
            }
        };
        if n == 0 {
            self.eof = true;
            // A last record without its newline parses like the others.
            if self.buf.last().is_some_and(|b| *b != b'\n') {
                self.buf.push(b'\n');
            }
        }
        Ok(())
    }

    /// The next record's byte range in `self.buf`, reading as needed.
    fn next_record(&mut self) -> io::Result<Option<(usize, usize)>> {
        loop {
            if self.pos >= self.buf.len() && self.eof {
                return Ok(None);
            }
            if let Some(end) = format::next_record_end(self.format, &self.buf, self.pos) {
                let start = self.pos;
                self.pos = end;
                return Ok(Some((start, end)));
            }
            let pending = self.buf.len() - self.pos;
            if self.eof || pending > MAX_RECORD {
                // A quote that never closes: cut the record at its first
                // line, which the parser rejects, and go on from the next.
                let start = self.pos;
                let end = memchr::memchr(b'\n', &self.buf[start..]).map_or(self.buf.len(), |i| start + i + 1);
                self.pos = end;
                return Ok(Some((start, end)));
            }
            self.fill()?;
        }
    }

    /// The first record alone (a header), as bytes.
    pub fn first(&mut self) -> io::Result<Option<Vec<u8>>> {
        let Some((s, e)) = self.next_record()? else {
            return Ok(None);
        };
        self.line += count_lines(&self.buf[s..e]);
        Ok(Some(self.buf[s..e].to_vec()))
    }

    /// The next chunk of whole records, `None` at the end of the file.
    pub fn chunk(&mut self) -> io::Result<Option<Chunk>> {
        let first_line = self.line;
        let mut data = Vec::with_capacity(CHUNK_BYTES + 4096);
        let mut ends = Vec::new();
        // Records found in the buffer as it is are copied in one piece,
        // from `span` on; reading more moves the buffer, so what was
        // found is copied first.
        let mut span = self.pos;
        while data.len() + (self.pos - span) < CHUNK_BYTES {
            if let Some(end) = format::next_record_end(self.format, &self.buf, self.pos) {
                self.pos = end;
                ends.push((data.len() + end - span) as u32);
                continue;
            }
            data.extend_from_slice(&self.buf[span..self.pos]);
            let next = self.next_record()?;
            span = self.pos;
            let Some((s, e)) = next else { break };
            data.extend_from_slice(&self.buf[s..e]);
            ends.push(data.len() as u32);
            if data.len() > u32::MAX as usize - MAX_RECORD {
                break;
            }
        }
        data.extend_from_slice(&self.buf[span..self.pos]);
        if ends.is_empty() {
            return Ok(None);
        }
        self.line += count_lines(&data);
        Ok(Some(Chunk { data, ends, first_line }))
    }
}

fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// Work on every chunk from `chunks` on `threads` workers (scrub it, or
/// read known values from it) and hand the results to `sink` in input
/// order.
pub fn run<T: Send, E>(
    threads: usize,
    mut chunks: impl FnMut() -> Result<Option<Chunk>, E>,
    work: impl Fn(Chunk) -> T + Sync,
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let threads = threads.max(1);
    std::thread::scope(|scope| {
        let mut to_workers: Vec<SyncSender<Chunk>> = Vec::new();
        let mut from_workers: Vec<Receiver<T>> = Vec::new();
        for _ in 0..threads {
            let (tx, rx) = sync_channel::<Chunk>(DEPTH);
            let (dtx, drx) = sync_channel::<T>(DEPTH);
            let work = &work;
            scope.spawn(move || {
                for c in rx {
                    if dtx.send(work(c)).is_err() {
                        break;
                    }
                }
            });
            to_workers.push(tx);
            from_workers.push(drx);
        }
        // Chunk i goes to worker i % threads and comes back from it, so
        // results are read in order; at most `ahead` chunks are in flight.
        let ahead = 2 * threads;
        let mut in_flight: VecDeque<usize> = VecDeque::new();
        let mut next = 0usize;
        let result = (|| {
            loop {
                let Some(c) = chunks()? else { break };
                let w = next % threads;
                next += 1;
                if to_workers[w].send(c).is_err() {
                    break;
                }
                in_flight.push_back(w);
                if in_flight.len() > ahead {
                    if let Some(w) = in_flight.pop_front() {
                        match from_workers[w].recv() {
                            Ok(d) => sink(d)?,
                            Err(_) => break,
                        }
                    }
                }
            }
            while let Some(w) = in_flight.pop_front() {
                match from_workers[w].recv() {
                    Ok(d) => sink(d)?,
                    Err(_) => break,
                }
            }
            Ok(())
        })();
        drop(to_workers);
        // Drain so that workers blocked on a full channel can finish.
        for rx in &from_workers {
            while rx.recv().is_ok() {}
        }
        result
    })
}

/// Scrub one chunk of CSV or COPY records, [`LANES`] at a time: parsed,
/// their keyed work done together ([`TablePlan::prepare`]), then written.
#[allow(clippy::too_many_lines)] // hot path: the scrub's per-row loop for CSV and COPY, buffers reused across lanes (BENCHMARKS.md, scrub)
pub fn delimited(plan: &TablePlan, format: Format, chunk: Chunk) -> Done {
    let mut done = Done {
        out: Vec::with_capacity(chunk.data.len() + chunk.data.len() / 4),
        ..Done::default()
    };
    let parser = Parser { format };
    let mut recs: Vec<Record> = (0..LANES).map(|_| Record::default()).collect();
    let mut scratch = Scratch::default();
    let mut minted = Vec::new();
    let mut line = chunk.first_line;
    let mut start = 0usize;
    let sep = if format == Format::Csv { b',' } else { b'\t' };
    for ends in chunk.ends.chunks(LANES) {
        // Each record's bytes and first line, and whether it parsed.
        let mut raws: [(usize, usize, u64); LANES] = [(0, 0, 0); LANES];
        let mut parsed = [false; LANES];
        for (k, &end) in ends.iter().enumerate() {
            let raw = &chunk.data[start..end as usize];
            raws[k] = (start, end as usize, line);
            start = end as usize;
            // Only a quoted field can hold a line break.
            line += if memchr::memchr(b'"', raw).is_some() {
                count_lines(raw)
            } else {
                1
            };
            done.rows_in += 1;
            let reason = match parser.record(raw, &mut recs[k]) {
                Err(reason) => reason,
                Ok(()) if recs[k].len() != plan.columns.len() => {
                    format!("{} fields, the header has {}", recs[k].len(), plan.columns.len())
                }
                Ok(()) => {
                    parsed[k] = true;
                    continue;
                }
            };
            done.rejected.push(Rejected {
                line: raws[k].2,
                column: None,
                reason,
                raw: raw.to_vec(),
            });
        }
        let mut rows: [Option<&Record>; LANES] = [None; LANES];
        for (k, rec) in recs.iter().enumerate().take(ends.len()) {
            rows[k] = parsed[k].then_some(rec);
        }
        plan.prepare(&rows[..ends.len()], &mut scratch);
        for (k, rec) in recs.iter().enumerate().take(ends.len()) {
            if !parsed[k] {
                continue;
            }
            let mark = done.out.len();
            let mut first = true;
            minted.clear();
            let out = &mut done.out;
            let result = plan.batch_row(k, rec, &mut scratch, &mut minted, |_, cell| {
                if !first {
                    out.push(sep);
                }
                first = false;
                match (format, cell) {
                    // A number made by a transformer (digits, sign, point)
                    // needs neither quotes nor escapes.
                    (_, Cell::Number(n)) if !n.is_empty() => out.extend_from_slice(n.as_bytes()),
                    (Format::Copy, _) => format::write_copy_field(out, cell.text()),
                    _ => format::write_csv_field(out, cell.text()),
                }
            });
            match result {
                Ok(()) => {
                    done.out.push(b'\n');
                    done.rows_out += 1;
                    done.minted.extend_from_slice(&minted);
                }
                Err(r) => {
                    done.out.truncate(mark);
                    let (s, e, line) = raws[k];
                    done.rejected.push(Rejected {
                        line,
                        column: Some(r.column),
                        reason: r.message,
                        raw: chunk.data[s..e].to_vec(),
                    });
                }
            }
        }
    }
    // Rejects in line order, as the records came (a parse reject of a
    // later record in a batch was pushed before a transform reject).
    done.rejected.sort_by_key(|r| r.line);
    done
}

/// How a JSON value was written, so that an unchanged or numeric output
/// keeps its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Absent,
    Null,
    String,
    Number,
    Bool,
    Structure,
}

/// Scrub one chunk of JSON lines: one object per line; keys are columns.
/// Keys missing from a line stay missing; keys the rules do not list
/// follow `unlisted_columns`.
#[allow(clippy::too_many_lines)] // hot path: the scrub's per-row loop for JSON lines, buffers reused across rows (BENCHMARKS.md, scrub)
pub fn jsonl(plan: &TablePlan, chunk: Chunk) -> Done {
    let mut done = Done {
        out: Vec::with_capacity(chunk.data.len() + chunk.data.len() / 4),
        ..Done::default()
    };
    let mut scratch = Scratch::default();
    let mut minted = Vec::new();
    let n = plan.columns.len();
    let mut start = 0usize;
    for (k, &end) in chunk.ends.iter().enumerate() {
        let raw = &chunk.data[start..end as usize];
        start = end as usize;
        let line = chunk.first_line + k as u64;
        let body = raw.strip_suffix(b"\n").unwrap_or(raw);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.iter().all(u8::is_ascii_whitespace) {
            continue; // blank lines are not rows
        }
        done.rows_in += 1;
        let reject = |column: Option<String>, reason: String| Rejected {
            line,
            column,
            reason,
            raw: raw.to_vec(),
        };
        let obj: IndexMap<String, &RawValue> = match std::str::from_utf8(body)
            .map_err(|e| format!("not valid UTF-8 at byte {}", e.valid_up_to() + 1))
            .and_then(|s| serde_json::from_str(s).map_err(|e| format!("not a JSON object: {e}")))
            .and_then(|o| surrogates_paired(body).map(|()| o))
        {
            Ok(o) => o,
            Err(reason) => {
                done.rejected.push(reject(None, reason));
                continue;
            }
        };
        let mut types = vec![JsonType::Absent; n];
        let mut texts: Vec<Option<String>> = vec![None; n];
        let mut extra: Vec<(&str, &RawValue)> = Vec::new();
        let mut bad = None;
        for (key, value) in &obj {
            let Some(i) = plan.index_of(key) else {
                match plan.unlisted {
                    Unlisted::Keep => extra.push((key, value)),
                    Unlisted::Drop => {}
                    Unlisted::Fail => {
                        bad = Some((Some(key.to_string()), "a key the rules do not list".to_string()));
                        break;
                    }
                }
                continue;
            };
            let text = value.get();
            let (t, v) = match text.as_bytes().first() {
                Some(b'"') => match serde_json::from_str::<String>(text) {
                    Ok(s) => (JsonType::String, Some(s)),
                    Err(e) => {
                        bad = Some((Some(key.to_string()), e.to_string()));
                        break;
                    }
                },
                Some(b'n') => (JsonType::Null, None),
                Some(b't' | b'f') => (JsonType::Bool, Some(text.to_string())),
                Some(b'{' | b'[') => (JsonType::Structure, Some(text.to_string())),
                _ => (JsonType::Number, Some(text.to_string())),
            };
            types[i] = t;
            texts[i] = v;
        }
        if let Some((column, reason)) = bad {
            done.rejected.push(reject(column, reason));
            continue;
        }
        let cells: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
        // Each column's new JSON value, written afterwards in the line's
        // own key order.
        let mut values: Vec<Option<Vec<u8>>> = vec![None; n];
        let mut failure = None;
        minted.clear();
        let result = plan.row(&cells[..], &mut scratch, &mut minted, |i, cell| {
            if types[i] == JsonType::Absent || failure.is_some() {
                return;
            }
            let original = obj.get(&plan.columns[i]).map_or("null", |v| v.get());
            let mut v = Vec::new();
            match (cell, types[i]) {
                (Cell::Null, _) => v.extend_from_slice(b"null"),
                (Cell::Same(_), _) => v.extend_from_slice(original.as_bytes()),
                (_, JsonType::Structure) if plan.is_redact(i) => match redact_json(plan, i, original, &cells[..]) {
                    Ok(r) => v.extend_from_slice(r.as_bytes()),
                    Err(e) => failure = Some((plan.columns[i].clone(), e)),
                },
                (_, JsonType::Structure | JsonType::Bool) => {
                    let what = if types[i] == JsonType::Bool {
                        "true/false"
                    } else {
                        "objects or arrays"
                    };
                    failure = Some((
                        plan.columns[i].clone(),
                        format!("holds JSON {what}; `{}` takes text", plan.transforms[i]),
                    ));
                }
                // A number stays a number when the new value is one (a
                // masked or noisy amount, a pseudonymized id).
                (Cell::Text(s) | Cell::Number(s), JsonType::Number)
                    if serde_json::from_str::<serde_json::Number>(s).is_ok() =>
                {
                    v.extend_from_slice(s.as_bytes())
                }
                (Cell::Text(s) | Cell::Number(s), _) => write_json_str(&mut v, s),
            }
            values[i] = Some(v);
        });
        if let Err(r) = result {
            failure = Some((r.column, r.message));
        }
        if let Some((column, reason)) = failure {
            done.rejected.push(reject(Some(column), reason));
            continue;
        }
        done.out.push(b'{');
        let mut first = true;
        for (key, raw) in &obj {
            let value = match plan.index_of(key) {
                Some(i) => match &values[i] {
                    Some(v) => v.as_slice(),
                    None => continue, // dropped
                },
                None if extra.iter().any(|(k, _)| k == key) => raw.get().as_bytes(),
                None => continue,
            };
            if !first {
                done.out.push(b',');
            }
            first = false;
            write_json_str(&mut done.out, key);
            done.out.push(b':');
            done.out.extend_from_slice(value);
        }
        done.out.extend_from_slice(b"}\n");
        done.rows_out += 1;
        done.minted.extend_from_slice(&minted);
    }
    done
}

/// `Ok` unless a `\u` escape of `line` is a UTF-16 surrogate without its
/// pair. The JSON grammar lets such an escape through and a raw value kept
/// as it is would carry it to the output, where strict readers (serde_json,
/// PostgreSQL's `jsonb`) refuse the line; so the row is rejected instead.
/// The escapes are read as they come (the line has parsed already); a
/// line without `\u` costs one search.
pub(super) fn surrogates_paired(line: &[u8]) -> Result<(), String> {
    if memchr::memmem::find(line, b"\\u").is_none() {
        return Ok(());
    }
    let hex = |at: usize| -> Option<u16> {
        let digits = std::str::from_utf8(line.get(at..at + 4)?).ok()?;
        u16::from_str_radix(digits, 16).ok()
    };
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &line[i..]) {
        let p = i + k;
        i = match (line.get(p + 1), hex(p + 2)) {
            (Some(b'u'), Some(unit @ 0xD800..=0xDBFF)) => {
                let low = (line.get(p + 6..p + 8) == Some(b"\\u")).then(|| hex(p + 8)).flatten();
                if !matches!(low, Some(0xDC00..=0xDFFF)) {
                    return Err(format!(
                        "not valid Unicode: \\u{unit:04x} without its low half at byte {}",
                        p + 1
                    ));
                }
                p + 12
            }
            (Some(b'u'), Some(unit @ 0xDC00..=0xDFFF)) => {
                return Err(format!(
                    "not valid Unicode: \\u{unit:04x} without its high half at byte {}",
                    p + 1
                ));
            }
            (Some(b'u'), _) => p + 6,
            _ => p + 2, // any other escape, `\\` included
        };
        if i >= line.len() {
            break;
        }
    }
    Ok(())
}

/// A JSON object or array with every string inside redacted.
fn redact_json(plan: &TablePlan, column: usize, raw: &str, cells: &[Option<&str>]) -> Result<String, String> {
    fn walk(v: &mut serde_json::Value, f: &mut dyn FnMut(&str) -> String) {
        match v {
            serde_json::Value::String(s) => *s = f(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, f)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, f)),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let mut scratch = Scratch::default();
    walk(&mut v, &mut |s| plan.redact_text(column, s, cells, &mut scratch));
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records cross the 4 MB reads at every offset: the chunks hold every
    /// byte once, in order, cut only between records, with their lines.
    #[test]
    fn chunks_cut_between_records_across_reads() {
        let mut input = b"id,note\n".to_vec();
        let mut starts = Vec::new();
        let mut lines = Vec::new();
        let mut line = 2u64;
        for i in 0..150_000u32 {
            starts.push(input.len());
            lines.push(line);
            let record = if i % 7 == 0 {
                line += 3;
                format!(
                    "{i},\"a \"\"quoted\"\"\nnote,\nover three lines {}\"\n",
                    "x".repeat((i % 50) as usize)
                )
            } else {
                line += 1;
                format!("{i},plain note {}\n", "y".repeat((i % 90) as usize))
            };
            input.extend_from_slice(record.as_bytes());
        }
        input.extend_from_slice(b"last,no newline");
        assert!(input.len() > 2 * READ_BYTES);
        let mut s = Splitter::new(&input[..], Format::Csv);
        assert_eq!(s.first().unwrap().unwrap(), b"id,note\n");
        let (mut all, mut cuts, mut firsts) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(c) = s.chunk().unwrap() {
            firsts.push((all.len(), c.first_line));
            cuts.extend(c.ends.iter().map(|e| all.len() + *e as usize));
            all.extend_from_slice(&c.data);
        }
        let mut expected = input[8..].to_vec();
        expected.push(b'\n');
        assert!(all == expected, "the chunks are not the input");
        let record_starts: Vec<usize> = starts.iter().map(|s| s - 8).collect();
        // Each record ends where the next starts; the last one ends the input.
        assert_eq!(cuts.len(), record_starts.len() + 1);
        assert!(
            cuts[..record_starts.len() - 1] == record_starts[1..],
            "a cut inside a record"
        );
        assert_eq!(cuts[cuts.len() - 1], expected.len());
        for (at, first_line) in firsts {
            let k = record_starts.binary_search(&at).expect("chunks start at records");
            assert_eq!(first_line, lines[k]);
        }
    }
}
