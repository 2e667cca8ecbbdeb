//! `learn`'s access-log reading: the line reader, every format's parser,
//! format detection and custom nginx `log_format` strings.

use super::{ensure, Bytes, Violation};
use crate::dates::civil_from_days;
use crate::learn::log::{self, Format, LineParser, Reject, RejectCounts, Source, MAX_LINE};
use crate::learn::Record;

/// The input: a byte choosing the format (the six fixed ones, `auto`, or
/// an nginx `log_format` string given as the first line), a byte choosing
/// whether a tenant header is asked for, then the log. Every line is read
/// as `learn` reads it; checked: each line the reader passes on is the
/// next non-empty line of the input (or too long, or not UTF-8), numbered
/// in order; each is a record or a rejection with a reason, and the
/// rejections counted add up; a record's method and target are parts of
/// its line, its time a finite number. Then a well-formed `combined` line
/// built from the first bytes must parse back to its fields.
pub fn access_log(data: &[u8]) -> Result<(), Violation> {
    combined_round_trip(data)?;
    let mut b = Bytes::new(data);
    let which = b.u8();
    let tenant = (b.u8() & 1 == 1).then_some("X-Tenant-ID");
    let mut log = b.rest();
    let parser: Box<dyn LineParser> = match which % 8 {
        6 => {
            let mut src = Source::from_reader("fuzz.log", Box::new(std::io::Cursor::new(log.to_vec())));
            let Ok(head) = src.head(log::DETECT_LINES) else {
                return Err(Violation("reading the head of bytes in memory failed".into()));
            };
            let lines: Vec<&str> = head.iter().map(String::as_str).collect();
            match log::detect(&lines, tenant) {
                Ok((_, p)) => p,
                Err(e) => {
                    ensure!(!e.to_string().is_empty(), "an empty detection error");
                    return Ok(());
                }
            }
        }
        7 => {
            let (first, rest) = match log.iter().position(|c| *c == b'\n') {
                Some(i) => (&log[..i], &log[i + 1..]),
                None => (log, &[][..]),
            };
            log = rest;
            let Ok(f) = std::str::from_utf8(first) else {
                return Ok(());
            };
            match Format::NginxCustom(f.to_string()).parser(tenant) {
                Ok(p) => p,
                Err(e) => {
                    ensure!(!e.to_string().is_empty(), "an empty log_format error");
                    return Ok(());
                }
            }
        }
        i => match Format::candidates()[usize::from(i)].parser(tenant) {
            Ok(p) => p,
            Err(_) => return Ok(()),
        },
    };
    read_lines(log, parser.as_ref())
}

/// The lines the reader must pass on: `(number, Some(line))`, or `None`
/// for one too long or not UTF-8.
fn expected_lines(log: &[u8]) -> Vec<(u64, Option<&str>)> {
    let mut out = Vec::new();
    let mut parts: Vec<&[u8]> = log.split(|c| *c == b'\n').collect();
    if log.ends_with(b"\n") || log.is_empty() {
        parts.pop();
    }
    for (i, l) in parts.into_iter().enumerate() {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.len() > MAX_LINE {
            out.push((i as u64 + 1, None));
        } else if !l.is_empty() {
            out.push((i as u64 + 1, std::str::from_utf8(l).ok()));
        }
    }
    out
}

fn read_lines(log: &[u8], parser: &dyn LineParser) -> Result<(), Violation> {
    let src = Source::from_reader("fuzz.log", Box::new(std::io::Cursor::new(log.to_vec())));
    let Ok(mut chunks) = src.chunks(1) else {
        return Err(Violation("splitting bytes in memory failed".into()));
    };
    let expected = expected_lines(log);
    let mut seen = 0usize;
    let mut rejects = RejectCounts::default();
    let mut rejected = 0u64;
    let mut bad: Option<String> = None;
    for chunk in &mut chunks {
        let r = chunk.for_each_line(|n, line| {
            let want = expected.get(seen).copied();
            seen += 1;
            let got = (n, line.as_ref().ok().copied());
            if want != Some(got) {
                bad.get_or_insert(format!("line {n}: read {got:?}, expected {want:?}"));
            }
            let outcome = line.and_then(|l| parser.parse(l).map(|r| (l, r)));
            match outcome {
                Ok((l, rec)) => {
                    if let Err(v) = record_in_line(l, &rec) {
                        bad.get_or_insert(format!("line {n}: {v}"));
                    }
                }
                Err(reason) => {
                    rejects.add(reason, n);
                    rejected += 1;
                }
            }
        });
        ensure!(r.is_ok(), "reading bytes in memory failed");
    }
    if let Some(b) = bad {
        return Err(Violation(b));
    }
    ensure!(
        seen == expected.len(),
        "{seen} lines passed on, {} expected",
        expected.len()
    );
    ensure!(
        rejects.total() == rejected,
        "{rejected} rejected, {} counted",
        rejects.total()
    );
    Ok(())
}

/// Whether `part` is a slice of `line`.
fn inside(part: &str, line: &str) -> bool {
    let (p, l) = (part.as_ptr() as usize, line.as_ptr() as usize);
    p >= l && p + part.len() <= l + line.len()
}

fn record_in_line(line: &str, r: &Record<'_>) -> Result<(), Violation> {
    ensure!(
        !r.method.is_empty() && inside(r.method, line),
        "method {:?} is not part of the line",
        r.method
    );
    // An absolute URL with no path (`http://h:80`) is the path `/`, which
    // the ALB reader gives as a constant.
    ensure!(
        !r.target.is_empty() && (inside(r.target, line) || r.target == "/"),
        "target {:?} is not part of the line",
        r.target
    );
    ensure!(r.arrival.is_finite(), "arrival {}", r.arrival);
    ensure!(r.status.is_none_or(|s| s < 1000), "status {:?}", r.status);
    if let Some(t) = r.tenant_header {
        ensure!(inside(t, line), "tenant {t:?} is not part of the line");
    }
    Ok(())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// Text of `n` bytes of `b` mapped onto `alphabet`.
fn text_from(b: &mut Bytes<'_>, n: usize, alphabet: &[u8]) -> String {
    b.take(n)
        .iter()
        .map(|c| char::from(alphabet[usize::from(*c) % alphabet.len()]))
        .collect()
}

/// A nginx `combined` line made of fields taken from `data` parses back to
/// those fields.
fn combined_round_trip(data: &[u8]) -> Result<(), Violation> {
    const PATH: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%+";
    const FREE: &[u8] = b"abcdefghijklmnopqrstuvwxyz ABC/;:()0123456789.,-";
    let mut b = Bytes::new(data);
    let ip = format!("{}.{}.{}.{}", b.u8(), b.u8(), b.u8(), b.u8());
    // 1970 to 2106, an offset of -23:59 to +23:59.
    let epoch = i64::from(b.u64() as u32);
    let offset_min = i64::from(b.u8()) * 2878 / 255 - 1439;
    let method = METHODS[usize::from(b.u8()) % METHODS.len()];
    let path = format!("/{}", text_from(&mut b, 12, PATH));
    let status = 100 + u16::from(b.u8() % 250) * 2;
    let bytes = b.u64() >> 20;
    let referer = text_from(&mut b, 10, FREE);
    let agent = text_from(&mut b, 10, FREE);
    let local = epoch + offset_min * 60;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    let (sign, off) = if offset_min < 0 {
        ('-', -offset_min)
    } else {
        ('+', offset_min)
    };
    let month = MONTHS[(m as usize).saturating_sub(1).min(11)];
    let line = format!(
        "{ip} - - [{d:02}/{month}/{y:04}:{:02}:{:02}:{:02} {sign}{:02}{:02}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"{referer}\" \"{agent}\"",
        s / 3600,
        s / 60 % 60,
        s % 60,
        off / 60,
        off % 60,
    );
    let Ok(parser) = Format::NginxCombined.parser(None) else {
        return Err(Violation("the combined format has no parser".into()));
    };
    let r = parser
        .parse(&line)
        .map_err(|e: Reject| Violation(format!("{line:?} is rejected: {e}")))?;
    ensure!(
        (r.method, r.target, r.status, r.response_bytes) == (method, path.as_str(), Some(status), Some(bytes)),
        "{line:?} reads as {} {} {:?} {:?}",
        r.method,
        r.target,
        r.status,
        r.response_bytes
    );
    ensure!(
        r.arrival == epoch as f64,
        "{line:?} reads as time {}, not {epoch}",
        r.arrival
    );
    Ok(())
}
