//! The dump formats scrub reads and writes: CSV (RFC 4180 with a header,
//! parsed strictly), PostgreSQL `COPY … TO STDOUT` text (with a header
//! line, as `COPY … WITH (HEADER)` writes it) and JSON Lines.
//!
//! Parsing is split in two: [`next_record_end`] finds where a record ends
//! (cheaply, on one thread, so the file can be cut into chunks of whole
//! records), and [`Parser::record`] parses one record strictly on a worker.
//! A record that does not parse is rejected with its reason; it never
//! shifts the records after it.

use std::path::Path;

use memchr::{memchr, memchr2};

use crate::values::text;

/// A dump file's format, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Format {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// PostgreSQL COPY text format with a header line.
    Copy,
    /// One JSON object per line (`.jsonl`, `.ndjson`); keys are columns.
    Jsonl,
}

impl Format {
    /// `.csv`, `.copy`, `.jsonl` / `.ndjson`; `None` for other files.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "copy" => Some(Format::Copy),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// "csv", "copy" or "jsonl" (also for `.ndjson` files), as reports name the format.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Where the record starting at `start` ends (the index after its
/// newline), or `None` if `buf` does not hold all of it yet (the reader
/// ends its input with a newline). For CSV a newline
/// inside a quoted field does not end the record; a quote that opens a
/// field and never closes makes the record run to the end of the input,
/// which the caller cuts back (see [`MAX_RECORD`]).
pub fn next_record_end(format: Format, buf: &[u8], start: usize) -> Option<usize> {
    match format {
        Format::Copy | Format::Jsonl => memchr(b'\n', &buf[start..]).map(|i| start + i + 1),
        Format::Csv => csv_record_end(buf, start),
    }
}

/// The longest record accepted: a quote left open would otherwise make
/// the rest of the file one record.
pub const MAX_RECORD: usize = 16 << 20;

fn csv_record_end(buf: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    loop {
        let i = memchr2(b'"', b'\n', &buf[pos..])? + pos;
        if buf[i] == b'\n' {
            return Some(i + 1);
        }
        // A quote opens a quoted field only where a field starts; anywhere
        // else it is stray, and the parser rejects the record.
        if i != start && buf[i - 1] != b',' {
            pos = i + 1;
            continue;
        }
        // To the closing quote ("" is an escaped quote).
        let mut p = i + 1;
        loop {
            let q = memchr(b'"', &buf[p..])? + p;
            if buf.get(q + 1) == Some(&b'"') {
                p = q + 2;
                continue;
            }
            if q + 1 == buf.len() {
                // Cannot tell `"` from `""` yet.
                return None;
            }
            pos = q + 1;
            break;
        }
    }
}

/// One parsed record: decoded field text and where each field lies in it.
#[derive(Debug, Default)]
pub struct Record {
    /// The fields' text, unescaped, one after the other (see `field`).
    pub text: String,
    bytes: Vec<u8>,
    /// (start, end, is_null) per field.
    spans: Vec<(usize, usize, bool)>,
}

impl Record {
    /// How many fields the record has.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the record has no field at all.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field `i`; `None` for NULL (an unquoted empty CSV field, `\N` in COPY).
    pub fn field(&self, i: usize) -> Option<&str> {
        let (s, e, null) = self.spans[i];
        (!null).then(|| &self.text[s..e])
    }

    /// Every field in order, `None` for NULL.
    pub fn fields(&self) -> impl Iterator<Item = Option<&str>> {
        (0..self.len()).map(|i| self.field(i))
    }
}

/// Why a record does not parse.
pub type BadRecord = String;

/// Parses one complete record of CSV or COPY text.
#[derive(Debug, Clone, Copy)]
pub struct Parser {
    /// CSV or COPY (a JSON line is parsed by serde_json).
    pub format: Format,
}

impl Parser {
    /// Parse `raw` (one record, with or without its newline) into `rec`.
    pub fn record(&self, raw: &[u8], rec: &mut Record) -> Result<(), BadRecord> {
        // Take back the last record's buffer rather than allocating.
        if rec.bytes.capacity() == 0 {
            rec.bytes = std::mem::take(&mut rec.text).into_bytes();
        }
        rec.bytes.clear();
        rec.spans.clear();
        let raw = strip_newline(raw);
        match self.format {
            Format::Csv => parse_csv(raw, rec)?,
            Format::Copy => parse_copy(raw, rec)?,
            Format::Jsonl => return Err("JSON lines are parsed as objects".into()),
        }
        let bytes = std::mem::take(&mut rec.bytes);
        match String::from_utf8(bytes) {
            Ok(s) => {
                // The fields lie side by side without their separators, so
                // a field cut inside a character (`\xe5,\x80\x82`) and the
                // next one make valid UTF-8 together: each field must also
                // start and end on a character.
                let cut =
                    |(start, end, _): &(usize, usize, bool)| !s.is_char_boundary(*start) || !s.is_char_boundary(*end);
                if let Some(field) = rec.spans.iter().position(cut) {
                    rec.bytes = s.into_bytes();
                    return Err(format!("field {} is not valid UTF-8", field + 1));
                }
                rec.text = s;
                Ok(())
            }
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let field = rec
                    .spans
                    .iter()
                    .position(|(s, e, _)| (*s..*e).contains(&at))
                    .unwrap_or(0);
                rec.bytes = e.into_bytes();
                Err(format!("field {} is not valid UTF-8", field + 1))
            }
        }
    }
}

fn strip_newline(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

fn parse_csv(raw: &[u8], rec: &mut Record) -> Result<(), BadRecord> {
    let mut pos = 0;
    loop {
        let start = rec.bytes.len();
        if raw.get(pos) == Some(&b'"') {
            let mut p = pos + 1;
            loop {
                let Some(q) = memchr(b'"', &raw[p..]).map(|i| i + p) else {
                    return Err(format!("field {}: quoted field is never closed", rec.spans.len() + 1));
                };
                rec.bytes.extend_from_slice(&raw[p..q]);
                if raw.get(q + 1) == Some(&b'"') {
                    rec.bytes.push(b'"');
                    p = q + 2;
                    continue;
                }
                pos = q + 1;
                break;
            }
            rec.spans.push((start, rec.bytes.len(), false));
            match raw.get(pos) {
                None => return Ok(()),
                Some(b',') => pos += 1,
                Some(_) => return Err(format!("field {}: characters after the closing quote", rec.spans.len())),
            }
        } else {
            let end = memchr::memchr2(b',', b'"', &raw[pos..]).map_or(raw.len(), |i| i + pos);
            if raw.get(end) == Some(&b'"') {
                return Err(format!(
                    "field {}: a quote inside an unquoted field (quote the field and double the quote)",
                    rec.spans.len() + 1
                ));
            }
            rec.bytes.extend_from_slice(&raw[pos..end]);
            rec.spans.push((start, rec.bytes.len(), end == pos));
            if end == raw.len() {
                return Ok(());
            }
            pos = end + 1;
        }
    }
}

fn parse_copy(raw: &[u8], rec: &mut Record) -> Result<(), BadRecord> {
    for field in raw.split(|b| *b == b'\t') {
        let start = rec.bytes.len();
        if field == b"\\N" {
            rec.spans.push((start, start, true));
            continue;
        }
        let mut i = 0;
        while i < field.len() {
            let b = field[i];
            if b != b'\\' {
                rec.bytes.push(b);
                i += 1;
                continue;
            }
            let Some(&e) = field.get(i + 1) else {
                return Err(format!(
                    "field {}: a backslash at the end of the field",
                    rec.spans.len() + 1
                ));
            };
            i += 2;
            match e {
                b'b' => rec.bytes.push(8),
                b'f' => rec.bytes.push(12),
                b'n' => rec.bytes.push(b'\n'),
                b'r' => rec.bytes.push(b'\r'),
                b't' => rec.bytes.push(b'\t'),
                b'v' => rec.bytes.push(11),
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    let mut n = 1;
                    while n < 3 && field.get(i).is_some_and(|c| (b'0'..=b'7').contains(c)) {
                        v = v * 8 + u32::from(field[i] - b'0');
                        i += 1;
                        n += 1;
                    }
                    rec.bytes.push((v & 0xff) as u8);
                }
                b'x' if field.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                    let mut v = 0u32;
                    let mut n = 0;
                    while n < 2 && field.get(i).is_some_and(u8::is_ascii_hexdigit) {
                        v = v * 16 + char::from(field[i]).to_digit(16).unwrap_or(0);
                        i += 1;
                        n += 1;
                    }
                    rec.bytes.push(v as u8);
                }
                other => rec.bytes.push(other),
            }
        }
        rec.spans.push((start, rec.bytes.len(), false));
    }
    Ok(())
}

/// Append one CSV field (nothing for NULL; see [`text::csv_field`]).
pub fn write_csv_field(out: &mut Vec<u8>, value: Option<&str>) {
    if let Some(v) = value {
        text::csv_field(v, out);
    }
}

/// Append one COPY text field, escaped (`\N` for NULL).
pub fn write_copy_field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => text::copy_field(v, out),
        None => out.extend_from_slice(b"\\N"),
    }
}

/// The header of a CSV or COPY file: its first record's fields.
pub fn header(format: Format, raw: &[u8]) -> Result<Vec<String>, BadRecord> {
    let mut rec = Record::default();
    Parser { format }.record(raw, &mut rec)?;
    let cols: Vec<String> = rec.fields().map(|f| f.unwrap_or_default().trim().to_string()).collect();
    if cols.iter().any(String::is_empty) {
        return Err("the header has an empty column name".into());
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(raw: &str) -> Result<Vec<Option<String>>, String> {
        let mut r = Record::default();
        Parser { format: Format::Csv }.record(raw.as_bytes(), &mut r)?;
        Ok(r.fields().map(|f| f.map(str::to_string)).collect())
    }

    #[test]
    fn csv_fields_quotes_and_nulls() {
        assert_eq!(
            csv("1,\"a,b\",,\"\",\"say \"\"hi\"\"\"\n").unwrap(),
            vec![
                Some("1".into()),
                Some("a,b".into()),
                None,
                Some("".into()),
                Some("say \"hi\"".into())
            ]
        );
        assert_eq!(csv("x,\"multi\nline\"\r\n").unwrap()[1].as_deref(), Some("multi\nline"));
        assert!(csv("1,ab\"c,d").unwrap_err().contains("field 2: a quote inside"));
        assert!(csv("1,\"ab\"c,d").unwrap_err().contains("after the closing quote"));
        assert!(csv("1,\"abc").unwrap_err().contains("never closed"));
    }

    #[test]
    fn csv_record_ends_respect_quotes() {
        let b = b"1,\"a\nb\",c\n2,x,y\n3,\"open\n";
        let e1 = next_record_end(Format::Csv, b, 0).unwrap();
        assert_eq!(&b[..e1], b"1,\"a\nb\",c\n");
        let e2 = next_record_end(Format::Csv, b, e1).unwrap();
        assert_eq!(&b[e1..e2], b"2,x,y\n");
        assert_eq!(next_record_end(Format::Csv, b, e2), None);
        // A stray quote does not swallow the next lines.
        let s = b"1,ab\"c,d\n2,e,f\n";
        assert_eq!(next_record_end(Format::Csv, s, 0), Some(9));
    }

    #[test]
    fn copy_text_escapes_round_trip() {
        let mut r = Record::default();
        Parser { format: Format::Copy }
            .record(b"1\t\\N\ta\\tb\\\\c\\nd\t\\101\\x42\n", &mut r)
            .unwrap();
        let f: Vec<Option<&str>> = r.fields().collect();
        assert_eq!(f, vec![Some("1"), None, Some("a\tb\\c\nd"), Some("AB")]);
        let mut out = Vec::new();
        write_copy_field(&mut out, f[2]);
        assert_eq!(out, b"a\\tb\\\\c\\nd");
        write_copy_field(&mut out, None);
        assert!(out.ends_with(b"\\N"));
    }

    #[test]
    fn bad_utf8_names_the_field() {
        let mut r = Record::default();
        let e = Parser { format: Format::Csv }
            .record(b"ok,\xff\xfe,x", &mut r)
            .unwrap_err();
        assert_eq!(e, "field 2 is not valid UTF-8");
    }

    /// A field ending inside a character, followed by one starting with
    /// the rest of it, is rejected (it made valid UTF-8 once the fields were
    /// put side by side, and reading the field panicked; found by fuzzing).
    #[test]
    fn utf8_cut_across_fields_is_rejected() {
        let mut r = Record::default();
        let e = Parser { format: Format::Csv }
            .record(b"\xe5,\x80\x82\n", &mut r)
            .unwrap_err();
        assert_eq!(e, "field 1 is not valid UTF-8");
        let e = Parser { format: Format::Copy }
            .record(b"ok\t\\xe5\t\\x80\\x82\n", &mut r)
            .unwrap_err();
        assert_eq!(e, "field 2 is not valid UTF-8");
        // The record after it parses as usual.
        Parser { format: Format::Csv }
            .record("a,é\n".as_bytes(), &mut r)
            .unwrap();
        assert_eq!(r.fields().collect::<Vec<_>>(), vec![Some("a"), Some("é")]);
    }

    #[test]
    fn csv_writer_keeps_null_and_empty_apart() {
        let mut out = Vec::new();
        write_csv_field(&mut out, None);
        out.push(b',');
        write_csv_field(&mut out, Some(""));
        out.push(b',');
        write_csv_field(&mut out, Some("a\"b,c"));
        assert_eq!(out, b",\"\",\"a\"\"b,c\"");
    }
}
