//! The kit every YAML format loadline reads shares (profiles, schemas, scrub
//! rules, gate policies): serde-saphyr's error turned into a line, column,
//! the offending key and a snippet of the line; [`FileError`], the error a
//! format's loader returns for its file; [`S`], a value with its place in the
//! file; and [`Ctx`], what a format's validation needs to name that place.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// A value read from YAML, with where it was (`s.referenced.line()`).
pub type S<T> = serde_saphyr::Spanned<T>;

/// What validating one file needs: the file's path, to name it in errors of
/// the format's error type `E`.
pub struct Ctx<'a, E> {
    /// The file being validated, as errors name it.
    pub path: &'a Path,
    error: PhantomData<fn() -> E>,
}

impl<'a, E: From<FileError>> Ctx<'a, E> {
    /// Validation context for the file at `path`.
    pub fn new(path: &'a Path) -> Self {
        Ctx {
            path,
            error: PhantomData,
        }
    }

    /// An unacceptable value at `line` under `key`.
    pub fn err(&self, line: u64, key: impl AsRef<str>, message: impl Into<String>) -> E {
        FileError::invalid(self.path, line, key.as_ref(), message).into()
    }

    /// An unacceptable value `s` under `key`, at its line.
    pub fn at<T>(&self, s: &S<T>, key: impl AsRef<str>, message: impl Into<String>) -> E {
        self.err(s.referenced.line(), key, message)
    }
}

/// Where a YAML file went wrong, in words a person can act on.
#[derive(Debug, Clone)]
struct Located {
    /// 1-based line (0 when serde-saphyr gives none).
    line: usize,
    /// 1-based column (0 when serde-saphyr gives none).
    column: usize,
    /// The mapping key at fault, when one can be named.
    key: Option<String>,
    /// serde-saphyr's message, with "field" said as "key".
    message: String,
    /// The offending line with a caret (see [`snippet`]).
    snippet: String,
}

/// Locate a serde-saphyr error in `text`.
fn locate(e: &serde_saphyr::Error, text: &str) -> Located {
    let rendered = e.to_string();
    let first = rendered.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 3 column 1: unknown field `zz`, ..." -> the part after the location.
    let message = match first.find(": ") {
        Some(i) if first.starts_with("line ") => first[i + 2..].to_string(),
        _ => first.to_string(),
    };
    let (line, column) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .or_else(|| {
            // serde's own "duplicate field" carries no location (the YAML
            // layer saw two different keys: `!tag name` and `name`).
            let field = message.strip_prefix("duplicate field `")?.split('`').next()?;
            duplicate_key_line(text, field).map(|l| (l, 1))
        })
        .unwrap_or((0, 0));
    let key = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
        .map(str::to_string)
        .or_else(|| key_on_line(text, line));
    Located {
        line,
        column,
        key,
        message: message
            .replace("unknown field", "unknown key")
            .replace("missing field", "missing key"),
        snippet: snippet(text, line, column),
    }
}

/// The line of the second `field:` at one indentation (the repeated key),
/// or of the only one; keys may carry a tag or an anchor (`!t name:`).
fn duplicate_key_line(text: &str, field: &str) -> Option<usize> {
    let mut first_at_indent: Vec<usize> = Vec::new();
    let mut only = None;
    for (i, l) in text.lines().enumerate() {
        let body = l.trim_start();
        let indent = l.len() - body.len();
        let mut t = body.trim_start_matches("- ").trim_start();
        while t.starts_with('!') || t.starts_with('&') {
            t = t.split_once(' ').map_or("", |(_, rest)| rest.trim_start());
        }
        let Some((k, _)) = t.split_once(':') else {
            continue;
        };
        if k.trim().trim_matches(['"', '\'']) != field {
            continue;
        }
        if first_at_indent.contains(&indent) {
            return Some(i + 1);
        }
        first_at_indent.push(indent);
        only.get_or_insert(i + 1);
    }
    only
}

/// The mapping key written on a line (`  rate: 2000` -> `rate`).
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let t = l.trim_start().trim_start_matches("- ").trim_start();
    let (k, _) = t.split_once(':')?;
    let k = k.trim().trim_start_matches(['{', ' ']);
    (!k.is_empty() && !k.contains(' ')).then(|| k.to_string())
}

/// The offending line with a caret under the column.
pub fn snippet(text: &str, line: usize, column: usize) -> String {
    match line.checked_sub(1).and_then(|i| text.lines().nth(i)) {
        Some(l) => format!("{line:>5} | {l}\n      | {}^", " ".repeat(column.saturating_sub(1))),
        None => String::new(),
    }
}

/// Why a YAML file of some format could not be used; every variant names
/// the file, and the line and key where there is one. `what` names the
/// format in words (`policy`).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file cannot be read.
    #[error("cannot read {what} {path}: {source}")]
    Io {
        /// The format in words (`schema`, `policy`).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The YAML does not parse or does not fit the format.
    #[error("{path}:{line}:{column}: {key_part}{message}\n{snippet}", key_part = key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// The mapping key at fault, when one can be named.
        key: Option<String>,
        /// What is wrong, in serde-saphyr's words ("key" for "field").
        message: String,
        /// The offending line with a caret under the column.
        snippet: String,
    },

    /// The file parses but a value is not acceptable.
    #[error("{path}:{line}: key `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the value.
        line: usize,
        /// Dotted path of the key (`tables.users.columns.email.fake`).
        key: String,
        /// What is wrong and, where it helps, what would be right.
        message: String,
    },
}

impl FileError {
    /// A serde-saphyr error in `text`, read from `path`, located.
    pub fn syntax(e: &serde_saphyr::Error, text: &str, path: &Path) -> Self {
        let l = locate(e, text);
        FileError::Syntax {
            path: path.to_path_buf(),
            line: l.line,
            column: l.column,
            key: l.key,
            message: l.message,
            snippet: l.snippet,
        }
    }

    /// An unacceptable value at `line` under `key`.
    pub fn invalid(path: &Path, line: u64, key: &str, message: impl Into<String>) -> Self {
        FileError::Invalid {
            path: path.to_path_buf(),
            line: line as usize,
            key: key.to_string(),
            message: message.into(),
        }
    }
}
