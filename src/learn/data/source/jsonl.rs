//! `jsonl:DIR`: every `*.jsonl`, `*.jsonl.gz`, `*.ndjson` and
//! `*.ndjson.gz` file of DIR (not its subdirectories) is a table named by
//! the file's stem; each non-blank line is one JSON object, one row.
//!
//! The columns are the union of the keys in order of first appearance,
//! found by a first pass over the file that keeps only the key names and
//! what kinds of value each holds (at most 1,000 keys: more is an error).
//! Values come out as text: strings unquoted, numbers as written, `true` /
//! `false`, objects and arrays as compact JSON; `null` and a missing key
//! are `None`.
//!
//! Declared types: `Boolean` when every non-null value of the key is
//! `true`/`false`, `Integer` when every one is a number written without
//! fraction or exponent, `Float` when every one is a number; `Unknown`
//! otherwise (strings included: the profiler infers timestamps, UUIDs,
//! ... from their text). No keys or constraints are declared.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::value::RawValue;

use super::{check_dir, emit, open_file, ColumnInfo, Declared, Source, SourceError, TableInfo};

/// The most distinct keys one file may hold.
const MAX_KEYS: usize = 1000;

/// A directory of JSON-lines files.
pub(super) struct JsonlSource {
    dir: PathBuf,
    /// (table, file), sorted by table.
    files: Vec<(String, PathBuf)>,
    /// Rows per table, counted by the first pass.
    counts: HashMap<String, u64>,
}

/// What kinds of value one key has held so far.
#[derive(Debug, Clone, Copy)]
struct Shape {
    non_null: bool,
    bools: bool,
    ints: bool,
    numbers: bool,
}

impl Shape {
    const NEW: Shape = Shape {
        non_null: false,
        bools: true,
        ints: true,
        numbers: true,
    };

    fn add(&mut self, raw: &str) {
        match raw.as_bytes().first() {
            Some(b'n') | None => return,
            Some(b't' | b'f') => {
                self.ints = false;
                self.numbers = false;
            }
            Some(b'-' | b'0'..=b'9') => {
                self.bools = false;
                if raw.contains(['.', 'e', 'E']) {
                    self.ints = false;
                }
            }
            Some(_) => {
                self.bools = false;
                self.ints = false;
                self.numbers = false;
            }
        }
        self.non_null = true;
    }

    fn declared(self) -> Declared {
        match self {
            Shape { non_null: false, .. } => Declared::Unknown,
            Shape { bools: true, .. } => Declared::Boolean,
            Shape { ints: true, .. } => Declared::Integer,
            Shape { numbers: true, .. } => Declared::Float,
            _ => Declared::Unknown,
        }
    }
}

/// The non-blank lines of one file, each parsed as an object.
struct Lines {
    path: PathBuf,
    input: Box<dyn BufRead>,
    buf: Vec<u8>,
    line: u64,
}

impl Lines {
    fn open(path: &Path) -> Result<Self, SourceError> {
        Ok(Lines {
            path: path.to_path_buf(),
            input: open_file(path)?,
            buf: Vec::with_capacity(1024),
            line: 0,
        })
    }

    fn format(&self, message: &str) -> SourceError {
        SourceError::Format {
            path: self.path.clone(),
            line: self.line,
            message: message.to_string(),
        }
    }

    /// Read the next non-blank line; false at the end of the file.
    fn advance(&mut self) -> Result<bool, SourceError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| SourceError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(false);
            }
            self.line += 1;
            if !self.buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(true);
            }
        }
    }

    /// The current line as an object's entries, in order.
    fn object(&self) -> Result<IndexMap<String, &RawValue>, SourceError> {
        let Ok(text) = std::str::from_utf8(&self.buf) else {
            return Err(self.format("not UTF-8"));
        };
        let text = text.trim();
        let what = match text.as_bytes().first() {
            Some(b'{') => None,
            Some(b'[') => Some("an array"),
            Some(b'"') => Some("a string"),
            Some(b't' | b'f') => Some("a boolean"),
            Some(b'n') => Some("null"),
            Some(b'-' | b'0'..=b'9') => Some("a number"),
            _ => Some("not JSON"),
        };
        if let Some(what) = what {
            return Err(self.format(&format!("the line is {what}; each line must be one JSON object")));
        }
        match serde_json::from_str::<IndexMap<String, &RawValue>>(text) {
            Ok(map) => Ok(map),
            Err(e) => {
                // serde_json's own text says "at line 1 column N" of this line.
                let m = e.to_string();
                let what = m.split(" at line ").next().unwrap_or("invalid JSON");
                Err(SourceError::Format {
                    path: self.path.clone(),
                    line: self.line,
                    message: format!("invalid JSON at column {}: {what}", e.column()),
                })
            }
        }
    }
}

impl JsonlSource {
    pub(super) fn open(dir: &Path) -> Result<Self, SourceError> {
        check_dir(dir)?;
        let files = super::table_files(dir, &[".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"], "jsonl:")?;
        Ok(JsonlSource {
            dir: dir.to_path_buf(),
            files,
            counts: HashMap::new(),
        })
    }

    fn path(&self, table: &str) -> Result<&Path, SourceError> {
        self.files
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, p)| p.as_path())
            .ok_or_else(|| SourceError::BadSource(format!("{}: no table `{table}`", self.describe())))
    }

    /// The first pass: the keys in order of first appearance with their
    /// shapes, and the row count.
    fn keys(path: &Path) -> Result<(IndexMap<String, Shape>, u64), SourceError> {
        let mut lines = Lines::open(path)?;
        let mut keys: IndexMap<String, Shape> = IndexMap::new();
        let mut rows = 0u64;
        while lines.advance()? {
            let map = lines.object()?;
            rows += 1;
            for (k, v) in &map {
                if let Some(shape) = keys.get_mut(k.as_str()) {
                    shape.add(v.get());
                    continue;
                }
                if keys.len() == MAX_KEYS {
                    return Err(lines.format(&format!(
                        "more than {MAX_KEYS} distinct keys in this file; is each line one row of one table?"
                    )));
                }
                let mut shape = Shape::NEW;
                shape.add(v.get());
                keys.insert(k.clone(), shape);
            }
        }
        Ok((keys, rows))
    }
}

impl Source for JsonlSource {
    fn describe(&self) -> String {
        format!("jsonl:{}", self.dir.display())
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let mut out = Vec::with_capacity(self.files.len());
        for (name, path) in &self.files {
            let (keys, rows) = Self::keys(path)?;
            self.counts.insert(name.clone(), rows);
            out.push(TableInfo {
                name: name.clone(),
                columns: keys
                    .into_iter()
                    .map(|(name, shape)| ColumnInfo {
                        name,
                        declared: shape.declared(),
                        type_name: String::new(),
                        not_null: false,
                    })
                    .collect(),
                primary_key: Vec::new(),
                unique: Vec::new(),
                foreign_keys: Vec::new(),
            });
        }
        Ok(out)
    }

    fn scan(
        &mut self,
        table: &TableInfo,
        limit: Option<u64>,
        row: &mut dyn FnMut(&[Option<&str>]) -> bool,
    ) -> Result<u64, SourceError> {
        let mut lines = Lines::open(self.path(&table.name)?)?;
        let index: HashMap<&str, usize> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), i))
            .collect();
        let mut text = String::new();
        let mut ranges: Vec<Option<(usize, usize)>> = vec![None; table.columns.len()];
        let mut fields: Vec<Option<&str>> = Vec::with_capacity(table.columns.len());
        let mut n = 0u64;
        while limit.is_none_or(|l| n < l) && lines.advance()? {
            let map = lines.object()?;
            text.clear();
            ranges.fill(None);
            for (k, v) in &map {
                let Some(&i) = index.get(k.as_str()) else {
                    let m = format!("key `{k}` was not in the file when its tables were listed");
                    return Err(lines.format(&m));
                };
                let start = text.len();
                if render(v.get(), &mut text) {
                    ranges[i] = Some((start, text.len()));
                }
            }
            drop(map);
            let go_on;
            (fields, go_on) = emit(fields, &ranges, &text, row);
            n += 1;
            if !go_on {
                break;
            }
        }
        Ok(n)
    }

    fn count(&mut self, table: &TableInfo) -> Result<u64, SourceError> {
        if let Some(&n) = self.counts.get(&table.name) {
            return Ok(n);
        }
        let (_, n) = Self::keys(self.path(&table.name)?)?;
        self.counts.insert(table.name.clone(), n);
        Ok(n)
    }
}

/// One JSON value as text onto `out`: a string unquoted, `null` as
/// nothing (false), an object or array compacted, anything else as written.
fn render(raw: &str, out: &mut String) -> bool {
    match raw.as_bytes().first() {
        Some(b'n') | None => return false,
        Some(b'"') if !raw.contains('\\') => out.push_str(&raw[1..raw.len() - 1]),
        Some(b'"') => match serde_json::from_str::<String>(raw) {
            Ok(s) => out.push_str(&s),
            // The line parsed, so the string is valid JSON.
            Err(_) => out.push_str(&raw[1..raw.len() - 1]),
        },
        Some(b'{' | b'[') => compact(raw, out),
        Some(_) => out.push_str(raw),
    }
    true
}

/// Valid JSON without the whitespace between its tokens.
fn compact(raw: &str, out: &mut String) {
    let (mut in_string, mut escaped) = (false, false);
    for c in raw.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn source(files: &[(&str, &[u8])]) -> (tempfile::TempDir, JsonlSource) {
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(d.path().join(name), bytes).unwrap();
        }
        let s = JsonlSource::open(d.path()).unwrap();
        (d, s)
    }

    fn rows(s: &mut JsonlSource, t: &TableInfo) -> Result<Vec<Vec<Option<String>>>, SourceError> {
        let mut out = Vec::new();
        s.scan(t, None, &mut |r| {
            out.push(r.iter().map(|v| v.map(str::to_string)).collect());
            true
        })?;
        Ok(out)
    }

    #[test]
    fn keys_in_order_values_as_text_and_shapes() {
        let text = concat!(
            r#"{"id": 1, "name": "a\"b\u00e9", "ok": true, "x": 1.50}"#,
            "\n\n   \n",
            r#"{"id": 2, "doc": {"a": [1, 2], "s": "x y"}, "x": 2, "name": null}"#,
            "\n",
            r#"{"ok": false, "id": 3}"#,
        );
        let (_d, mut s) = source(&[("t.jsonl", text.as_bytes())]);
        let t = s.tables().unwrap();
        let names: Vec<&str> = t[0].columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "name", "ok", "x", "doc"]);
        let types: Vec<Declared> = t[0].columns.iter().map(|c| c.declared).collect();
        use Declared::*;
        assert_eq!(types, [Integer, Unknown, Boolean, Float, Unknown]);
        let o = |v: &str| Some(v.to_string());
        assert_eq!(
            rows(&mut s, &t[0]).unwrap(),
            vec![
                vec![o("1"), o("a\"bé"), o("true"), o("1.50"), None],
                vec![o("2"), None, None, o("2"), o(r#"{"a":[1,2],"s":"x y"}"#)],
                vec![o("3"), None, o("false"), None, None],
            ]
        );
        assert_eq!(s.count(&t[0]).unwrap(), 3);
        assert_eq!(s.scan(&t[0], Some(2), &mut |_| true).unwrap(), 2);
    }

    #[test]
    fn gzip_and_ndjson() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        let gz = gz.finish().unwrap();
        let (_d, mut s) = source(&[("g.jsonl.gz", &gz), ("n.ndjson", b"{\"b\":\"x\"}\n")]);
        let t = s.tables().unwrap();
        assert_eq!(t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["g", "n"]);
        assert_eq!(rows(&mut s, &t[0]).unwrap().len(), 2);
        assert_eq!(s.count(&t[1]).unwrap(), 1);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        for (text, want) in [
            (
                &b"{\"a\":1}\n[1,2]\n"[..],
                "a.jsonl:2: the line is an array; each line must be one JSON object",
            ),
            (b"\n{\"a\":1,}\n", "a.jsonl:2: invalid JSON at column 8"),
            (b"{\"a\":\"\xff\"}\n", "a.jsonl:1: not UTF-8"),
        ] {
            let (_d, mut s) = source(&[("a.jsonl", text)]);
            let e = s.tables().unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn too_many_keys_is_an_error() {
        let mut text = String::new();
        for i in 0..=MAX_KEYS {
            text.push_str(&format!("{{\"k{i}\": 1}}\n"));
        }
        let (_d, mut s) = source(&[("wide.jsonl", text.as_bytes())]);
        let e = s.tables().unwrap_err().to_string();
        assert!(
            e.contains(&format!("wide.jsonl:{}: more than 1000", MAX_KEYS + 1)),
            "{e}"
        );
    }
}
