//! `csv:DIR`: every `*.csv` and `*.csv.gz` file of DIR (not its
//! subdirectories) is a table named by the file's stem. The first row is
//! the header (required); a UTF-8 byte-order mark before it is skipped.
//! CSV is read strictly: every row must have as many fields as the header
//! (an error naming the file and line otherwise), and every field must be
//! UTF-8. Nothing is declared: types are `Unknown`, no keys.
//!
//! An empty field is `Some("")`. `synth --to csv:` writes NULL as an
//! unquoted empty field and an empty string as `""`; the CSV reader cannot
//! tell them apart, so both arrive as `Some("")` and the profiler decides
//! (it reads `""` as NULL only in columns that are not text).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder};

use super::{check_dir, open_file, recycle, table_files, ColumnInfo, Declared, Source, SourceError, TableInfo};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A directory of CSV files.
pub(super) struct CsvSource {
    dir: PathBuf,
    /// (table, file), sorted by table.
    files: Vec<(String, PathBuf)>,
}

/// The header and records of one file, checked as they are read.
struct CsvFile {
    path: PathBuf,
    reader: csv::Reader<Box<dyn BufRead>>,
    record: ByteRecord,
    width: usize,
}

impl CsvFile {
    /// Open `path` and read its header.
    fn open(path: &Path) -> Result<(Self, Vec<String>), SourceError> {
        let mut input = open_file(path)?;
        let io = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        if input.fill_buf().map_err(io)?.starts_with(BOM) {
            input.consume(BOM.len());
        }
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut f = CsvFile {
            path: path.to_path_buf(),
            reader,
            record: ByteRecord::new(),
            width: 0,
        };
        if !f.next()? {
            return Err(f.format(1, "no header row (the file is empty); a CSV table needs a header"));
        }
        let mut names: Vec<String> = Vec::with_capacity(f.record.len());
        for (i, b) in f.record.iter().enumerate() {
            let Ok(name) = std::str::from_utf8(b) else {
                return Err(f.format(1, &format!("header field {} is not UTF-8", i + 1)));
            };
            if names.iter().any(|n| n == name) {
                return Err(f.format(1, &format!("column `{name}` appears twice in the header")));
            }
            names.push(name.to_string());
        }
        f.width = names.len();
        Ok((f, names))
    }

    fn format(&self, line: u64, message: &str) -> SourceError {
        SourceError::Format {
            path: self.path.clone(),
            line,
            message: message.to_string(),
        }
    }

    fn line(&self) -> u64 {
        self.record.position().map_or(0, csv::Position::line)
    }

    /// Read the next record; false at the end. A data record with the
    /// wrong field count is an error.
    fn next(&mut self) -> Result<bool, SourceError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(false),
            Ok(true) if self.width == 0 || self.record.len() == self.width => Ok(true),
            Ok(true) => Err(self.format(
                self.line(),
                &format!(
                    "{} fields where the header has {} (CSV is read strictly: every row needs the header's field count)",
                    self.record.len(),
                    self.width
                ),
            )),
            Err(e) => {
                let line = e.position().map_or(self.line(), csv::Position::line);
                match e.into_kind() {
                    csv::ErrorKind::Io(source) => Err(SourceError::Io {
                        path: self.path.clone(),
                        source,
                    }),
                    _ => Err(self.format(line, "not readable as CSV")),
                }
            }
        }
    }
}

impl CsvSource {
    pub(super) fn open(dir: &Path) -> Result<Self, SourceError> {
        check_dir(dir)?;
        let files = table_files(dir, &[".csv", ".csv.gz"], "csv:")?;
        Ok(CsvSource {
            dir: dir.to_path_buf(),
            files,
        })
    }

    fn path(&self, table: &str) -> Result<&Path, SourceError> {
        self.files
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, p)| p.as_path())
            .ok_or_else(|| SourceError::BadSource(format!("{}: no table `{table}`", self.describe())))
    }
}

impl Source for CsvSource {
    fn describe(&self) -> String {
        format!("csv:{}", self.dir.display())
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let mut out = Vec::with_capacity(self.files.len());
        for (name, path) in &self.files {
            let (_, header) = CsvFile::open(path)?;
            out.push(TableInfo {
                name: name.clone(),
                columns: header
                    .into_iter()
                    .map(|name| ColumnInfo {
                        name,
                        declared: Declared::Unknown,
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
        let (mut f, header) = CsvFile::open(self.path(&table.name)?)?;
        if header.len() != table.columns.len() || header.iter().zip(&table.columns).any(|(h, c)| *h != c.name) {
            return Err(f.format(1, "the header changed since the tables were listed"));
        }
        let mut fields: Vec<Option<&str>> = Vec::with_capacity(f.width);
        let mut n = 0u64;
        while limit.is_none_or(|l| n < l) && f.next()? {
            let mut v = recycle(fields);
            for (b, c) in f.record.iter().zip(&table.columns) {
                match std::str::from_utf8(b) {
                    Ok(s) => v.push(Some(s)),
                    Err(_) => return Err(f.format(f.line(), &format!("column `{}` is not UTF-8", c.name))),
                }
            }
            n += 1;
            let go_on = row(&v);
            fields = recycle(v);
            if !go_on {
                break;
            }
        }
        Ok(n)
    }

    fn count(&mut self, table: &TableInfo) -> Result<u64, SourceError> {
        let (mut f, _) = CsvFile::open(self.path(&table.name)?)?;
        let mut n = 0u64;
        while f.next()? {
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn source(files: &[(&str, &[u8])]) -> (tempfile::TempDir, CsvSource) {
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(d.path().join(name), bytes).unwrap();
        }
        let s = CsvSource::open(d.path()).unwrap();
        (d, s)
    }

    fn rows(s: &mut CsvSource, t: &TableInfo) -> Result<Vec<Vec<Option<String>>>, SourceError> {
        let mut out = Vec::new();
        s.scan(t, None, &mut |r| {
            out.push(r.iter().map(|v| v.map(str::to_string)).collect());
            true
        })?;
        Ok(out)
    }

    #[test]
    fn bom_quotes_empty_fields_and_gzip() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all("k\n1\n2\n".as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let (_d, mut s) = source(&[
            ("a b.csv", "\u{feff}id,\"Na,me\"\n1,\"x\"\"y\"\n2,\n3,\"\"\n".as_bytes()),
            ("z.csv.gz", &gz),
            ("skip.txt", b"not a table"),
        ]);
        let t = s.tables().unwrap();
        assert_eq!(t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["a b", "z"]);
        assert_eq!(t[0].columns[0].name, "id", "the BOM is not part of the first name");
        assert_eq!(t[0].columns[1].name, "Na,me");
        let o = |v: &str| Some(v.to_string());
        assert_eq!(
            rows(&mut s, &t[0]).unwrap(),
            vec![vec![o("1"), o("x\"y")], vec![o("2"), o("")], vec![o("3"), o("")]]
        );
        assert_eq!(s.count(&t[0]).unwrap(), 3);
        assert_eq!(s.count(&t[1]).unwrap(), 2);
        assert_eq!(s.scan(&t[0], Some(2), &mut |_| true).unwrap(), 2);
        assert_eq!(s.scan(&t[0], None, &mut |_| false).unwrap(), 1);
    }

    #[test]
    fn ragged_rows_and_bad_bytes_name_file_and_line() {
        let (_d, mut s) = source(&[
            ("r.csv", b"a,b\n1,2\n\"multi\nline\",3\n4\n"),
            ("u.csv", b"a\nok\n\xff\xfe\n"),
        ]);
        let t = s.tables().unwrap();
        let e = rows(&mut s, &t[0]).unwrap_err().to_string();
        assert!(e.ends_with("r.csv:5: 1 fields where the header has 2 (CSV is read strictly: every row needs the header's field count)"), "{e}");
        let e = rows(&mut s, &t[1]).unwrap_err().to_string();
        assert!(e.ends_with("u.csv:3: column `a` is not UTF-8"), "{e}");
    }

    #[test]
    fn a_header_alone_is_an_empty_table() {
        let (_d, mut s) = source(&[("h.csv", b"a,b\n")]);
        let t = s.tables().unwrap();
        assert_eq!(t[0].columns.len(), 2);
        assert_eq!(rows(&mut s, &t[0]).unwrap().len(), 0);
        assert_eq!(s.count(&t[0]).unwrap(), 0);
    }

    #[test]
    fn a_file_without_header_is_an_error() {
        let (_d, mut s) = source(&[("empty.csv", b"")]);
        let e = s.tables().unwrap_err().to_string();
        assert!(e.contains("empty.csv:1: no header row"), "{e}");
    }
}
