//! YAML error locations shared by every file format loadline reads
//! (profiles, schemas, scrub rules, gate policies): serde-saphyr's error
//! turned into a line, column, the offending key and a snippet of the line.

/// Where a YAML file went wrong, in words a person can act on.
#[derive(Debug, Clone)]
pub struct Located {
    pub line: usize,
    pub column: usize,
    pub key: Option<String>,
    pub message: String,
    pub snippet: String,
}

/// Locate a serde-saphyr error in `text`.
pub fn locate(e: &serde_saphyr::Error, text: &str) -> Located {
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

/// The mapping key written on a line (`  rate: 2000` -> `rate`).
pub fn key_on_line(text: &str, line: usize) -> Option<String> {
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
