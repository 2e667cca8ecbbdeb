//! Reading a dump file row by row, for `verify` and `scan`: the same
//! record cutting and strict parsing as the scrubber, so a row the
//! scrubber rejected as malformed is skipped here the same way.

use std::fs::File;
use std::path::Path;

use indexmap::IndexMap;

use super::format::{self, Format, Parser, Record};
use super::pipeline::{Chunk, Splitter};
use super::Error;

/// One row: the line it starts on and its cells by column.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<Option<String>>,
}

/// A file's rows in order; malformed ones are counted, not returned.
pub struct Rows {
    format: Format,
    splitter: Splitter<File>,
    pub columns: Vec<String>,
    chunk: Option<Chunk>,
    at: usize,
    start: usize,
    line: u64,
    rec: Record,
    /// Rows that do not parse (the scrubber rejects them too).
    pub malformed: u64,
}

impl Rows {
    pub fn open(path: &Path, format: Format) -> Result<Rows, Error> {
        let file = File::open(path).map_err(Error::io(path))?;
        let mut splitter = Splitter::new(file, format);
        let columns = match format {
            Format::Jsonl => Vec::new(),
            _ => {
                let header = splitter.first().map_err(Error::io(path))?.unwrap_or_default();
                format::header(format, &header).map_err(|reason| Error::BadHeader {
                    path: path.to_path_buf(),
                    reason,
                })?
            }
        };
        Ok(Rows {
            format,
            splitter,
            columns,
            chunk: None,
            at: 0,
            start: 0,
            line: 0,
            rec: Record::default(),
            malformed: 0,
        })
    }

    /// The next well-formed row, `Ok(None)` at the end.
    pub fn next_row(&mut self, path: &Path) -> Result<Option<Row>, Error> {
        loop {
            let need = self.chunk.as_ref().is_none_or(|c| self.at >= c.ends.len());
            if need {
                match self.splitter.chunk().map_err(Error::io(path))? {
                    Some(c) => {
                        self.line = c.first_line;
                        self.chunk = Some(c);
                        self.at = 0;
                        self.start = 0;
                    }
                    None => return Ok(None),
                }
            }
            let Some(chunk) = self.chunk.as_ref() else {
                return Ok(None);
            };
            let end = chunk.ends[self.at] as usize;
            let raw = &chunk.data[self.start..end];
            self.at += 1;
            self.start = end;
            let line = self.line;
            self.line += memchr::memchr_iter(b'\n', raw).count() as u64;
            match self.format {
                Format::Jsonl => {
                    if raw.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let Ok(obj) = serde_json::from_slice::<IndexMap<String, serde_json::Value>>(raw) else {
                        self.malformed += 1;
                        continue;
                    };
                    let mut cells = vec![None; self.columns.len()];
                    for (k, v) in obj {
                        let i = match self.columns.iter().position(|c| *c == k) {
                            Some(i) => i,
                            None => {
                                self.columns.push(k);
                                cells.push(None);
                                self.columns.len() - 1
                            }
                        };
                        cells[i] = json_text(&v).map(std::borrow::Cow::into_owned);
                    }
                    return Ok(Some(Row { line, cells }));
                }
                _ => {
                    let parser = Parser { format: self.format };
                    if parser.record(raw, &mut self.rec).is_err() || self.rec.len() != self.columns.len() {
                        self.malformed += 1;
                        continue;
                    }
                    let cells = self.rec.fields().map(|f| f.map(str::to_string)).collect();
                    return Ok(Some(Row { line, cells }));
                }
            }
        }
    }
}

/// A JSON value as a cell's text: a string as it is, `null` as NULL, and
/// anything else (numbers, booleans, objects, arrays) as its JSON.
pub(super) fn json_text(v: &serde_json::Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        other => Some(std::borrow::Cow::Owned(other.to_string())),
    }
}
