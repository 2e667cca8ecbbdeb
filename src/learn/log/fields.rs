//! Field scanners the text formats share: times, request lines, numbers and
//! quoted fields, written by hand because they run once per field of every
//! line of logs that reach gigabytes (a calendar crate's parser costs
//! several times more per timestamp; jiff checks these in the tests).

use super::Reject;
use crate::dates::days_from_civil;

/// nginx `$time_local` / Apache `%t`: `10/Oct/2000:13:55:36 -0700`, always
/// this many bytes.
pub const TIME_LOCAL_LEN: usize = 26;

fn digits(b: &[u8]) -> Option<u32> {
    let mut n: u32 = 0;
    if b.is_empty() {
        return None;
    }
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

fn month(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Unix seconds of a civil date and time at UTC offset `offset_s`, checking ranges.
fn unix(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32, offset_s: i64) -> Option<f64> {
    if !(1..=12).contains(&mo)
        || d == 0
        || d > crate::dates::days_in_month(i64::from(y), mo)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s) - offset_s;
    Some(secs as f64)
}

/// `+0200` or `+02:00` as seconds east of UTC.
fn offset(b: &[u8]) -> Option<i64> {
    let (sign, rest) = match b.first()? {
        b'+' => (1, &b[1..]),
        b'-' => (-1, &b[1..]),
        _ => return None,
    };
    let (h, m) = match rest.len() {
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * i64::from(h * 3600 + m * 60))
}

/// `10/Oct/2000:13:55:36 -0700` as Unix seconds.
pub fn time_local(s: &str) -> Result<f64, Reject> {
    let b = s.as_bytes();
    if b.len() != TIME_LOCAL_LEN
        || b[2] != b'/'
        || b[6] != b'/'
        || b[11] != b':'
        || b[14] != b':'
        || b[17] != b':'
        || b[20] != b' '
    {
        return Err(Reject::BadTime);
    }
    (|| {
        unix(
            digits(&b[7..11])?,
            month(&b[3..6])?,
            digits(&b[0..2])?,
            digits(&b[12..14])?,
            digits(&b[15..17])?,
            digits(&b[18..20])?,
            offset(&b[21..])?,
        )
    })()
    .ok_or(Reject::BadTime)
}

/// RFC 3339 / ISO 8601 as nginx, ALB and Envoy write it:
/// `2000-10-10T13:55:36-07:00`, `2018-07-02T22:23:00.186641Z`,
/// `2024-01-01T12:00:00.123Z` (offset `Z`, `±HH:MM` or `±HHMM`).
pub fn iso8601(s: &str) -> Result<f64, Reject> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(Reject::BadTime);
    }
    let mut i = 19;
    let mut frac = 0.0;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(Reject::BadTime);
        }
        frac = s[start - 1..i].parse::<f64>().map_err(|_| Reject::BadTime)?;
    }
    let off = match &b[i..] {
        b"Z" | b"z" => Some(0),
        rest => offset(rest),
    };
    (|| {
        let whole = unix(
            digits(&b[0..4])?,
            digits(&b[5..7])?,
            digits(&b[8..10])?,
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
            off?,
        )?;
        Some(whole + frac)
    })()
    .ok_or(Reject::BadTime)
}

/// `1700000000.123` (nginx `$msec`) as Unix seconds.
pub fn seconds(s: &str) -> Result<f64, Reject> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(Reject::BadTime),
    }
}

/// A duration in seconds (`0.012`); `-` is `None`. Upstream times may list
/// several (`0.010, 0.020` or `0.010 : 0.020`): their sum.
pub fn duration(s: &str) -> Result<Option<f64>, Reject> {
    if s == "-" || s.is_empty() {
        return Ok(None);
    }
    if let Ok(v) = s.parse::<f64>() {
        return if v.is_finite() && v >= 0.0 {
            Ok(Some(v))
        } else {
            Err(Reject::BadNumber)
        };
    }
    let mut total = 0.0;
    for part in s.split([',', ':']) {
        match part.trim() {
            "-" => {}
            p => total += p.parse::<f64>().map_err(|_| Reject::BadNumber)?,
        }
    }
    Ok(Some(total))
}

/// A byte count; `-` (Apache's `%b` for 0 bytes, a missing value) is `None`.
pub fn bytes(s: &str) -> Result<Option<u64>, Reject> {
    if s == "-" {
        return Ok(None);
    }
    s.parse::<u64>().map(Some).map_err(|_| Reject::BadNumber)
}

/// A status: three digits; `-`, `000` and `0` are `None` (no response was sent).
pub fn status(s: &str) -> Result<Option<u16>, Reject> {
    match s {
        "-" | "0" | "000" => return Ok(None),
        _ => {}
    }
    let b = s.as_bytes();
    if b.len() != 3 {
        return Err(Reject::BadStatus);
    }
    let n = digits(b).ok_or(Reject::BadStatus)?;
    if n < 100 {
        return Err(Reject::BadStatus);
    }
    Ok(Some(n as u16))
}

/// `GET /path?q HTTP/1.1` (or `GET /path`, HTTP/0.9) as method and target.
/// The method must be an HTTP token of upper-case letters, so the escaped
/// TLS handshake bytes nginx logs from HTTPS clients on a plain port
/// (`\x16\x03\x01...`) are rejected, as is `-`.
pub fn request_line(s: &str) -> Result<(&str, &str), Reject> {
    let (method, rest) = s.split_once(' ').ok_or(Reject::BadRequestLine)?;
    let target = match rest.rsplit_once(' ') {
        Some((target, protocol)) if protocol.starts_with("HTTP/") => target,
        Some(_) => return Err(Reject::BadRequestLine),
        None => rest,
    };
    request_line_parts(method, target)?;
    Ok((method, target))
}

/// Check a method and target logged apart (`$request_method`, Envoy JSON's
/// `method` and `path`) as [`request_line`] checks them.
pub fn request_line_parts(method: &str, target: &str) -> Result<(), Reject> {
    if method.is_empty()
        || method.len() > 20
        || !method.bytes().all(|c| c.is_ascii_uppercase() || c == b'-' || c == b'_')
    {
        return Err(Reject::BadRequestLine);
    }
    if target.is_empty() || target == "-" || target.contains(' ') {
        return Err(Reject::BadRequestLine);
    }
    Ok(())
}

/// The end (exclusive) of a quoted value starting at `from` (just past the
/// opening quote): the next `"` not escaped by a backslash (Apache writes
/// `\"`, nginx `\x22`, `escape=json` `\"`).
pub fn closing_quote(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let q = i + memchr::memchr(b'"', b.get(i..)?)?;
        let mut backslashes = 0;
        while q > from + backslashes && b[q - 1 - backslashes] == b'\\' {
            backslashes += 1;
        }
        if backslashes % 2 == 0 {
            return Some(q);
        }
        i = q + 1;
    }
}

/// Space-separated fields where a field starting with `"` runs to its
/// closing quote (ALB, Envoy text). Yields the fields without quotes;
/// `Err(MissingField)` for an unterminated quote.
pub struct Fields<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Fields<'a> {
    /// Fields of `line` from byte `pos`.
    pub fn new(line: &'a str, pos: usize) -> Self {
        Fields { line, pos }
    }

    /// The next field, or `MissingField` at the end of the line.
    pub fn next_field(&mut self) -> Result<&'a str, Reject> {
        let b = self.line.as_bytes();
        while self.pos < b.len() && b[self.pos] == b' ' {
            self.pos += 1;
        }
        if self.pos >= b.len() {
            return Err(Reject::MissingField);
        }
        if b[self.pos] == b'"' {
            let start = self.pos + 1;
            let end = closing_quote(b, start).ok_or(Reject::MissingField)?;
            self.pos = end + 1;
            if self.pos < b.len() && b[self.pos] != b' ' {
                return Err(Reject::LayoutMismatch);
            }
            return Ok(&self.line[start..end]);
        }
        let start = self.pos;
        let end = memchr::memchr(b' ', &b[start..]).map_or(b.len(), |i| start + i);
        self.pos = end;
        Ok(&self.line[start..end])
    }

    /// Skip `n` fields.
    pub fn skip(&mut self, n: usize) -> Result<(), Reject> {
        for _ in 0..n {
            self.next_field()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jiff_secs(s: &str, fmt: &str) -> f64 {
        let t = jiff::fmt::strtime::parse(fmt, s).unwrap().to_timestamp().unwrap();
        t.as_second() as f64
    }

    /// The hand parsers agree with jiff, offsets included.
    #[test]
    fn times_agree_with_jiff() {
        for s in [
            "10/Oct/2000:13:55:36 -0700",
            "29/Feb/2024:00:00:00 +0000",
            "31/Dec/1999:23:59:59 +0530",
        ] {
            assert_eq!(time_local(s).unwrap(), jiff_secs(s, "%d/%b/%Y:%H:%M:%S %z"), "{s}");
        }
        let ts = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond() as f64 / 1000.0;
        for s in [
            "2000-10-10T13:55:36-07:00",
            "2018-07-02T22:23:00.186Z",
            "2024-01-01T12:00:00.123Z",
            "2024-03-01T00:00:00+05:30",
        ] {
            assert!((iso8601(s).unwrap() - ts(s)).abs() < 1e-6, "{s}");
        }
        assert!((iso8601("2018-07-02T22:23:00.186641Z").unwrap() - 1_530_570_180.186_641).abs() < 1e-6);
        assert_eq!(time_local("30/Feb/2024:00:00:00 +0000"), Err(Reject::BadTime));
        assert_eq!(time_local("10/Oct/2000:13:55:36"), Err(Reject::BadTime));
        assert_eq!(iso8601("2024-01-01T12:00:00"), Err(Reject::BadTime));
        assert_eq!(iso8601("-"), Err(Reject::BadTime));
    }

    #[test]
    fn request_lines() {
        assert_eq!(request_line("GET /a?b=1 HTTP/1.1"), Ok(("GET", "/a?b=1")));
        assert_eq!(request_line("GET /a"), Ok(("GET", "/a")));
        assert_eq!(request_line(r"\x16\x03\x01\x00\xF1\x01"), Err(Reject::BadRequestLine));
        assert_eq!(request_line("-"), Err(Reject::BadRequestLine));
        assert_eq!(request_line("- - -"), Err(Reject::BadRequestLine));
        assert_eq!(request_line("GET /a b HTTP/1.1"), Err(Reject::BadRequestLine));
    }

    #[test]
    fn numbers_and_statuses() {
        assert_eq!(status("200"), Ok(Some(200)));
        assert_eq!(status("-"), Ok(None));
        assert_eq!(status("20x"), Err(Reject::BadStatus));
        assert_eq!(status("2000"), Err(Reject::BadStatus));
        assert_eq!(bytes("-"), Ok(None));
        assert!((duration("0.010, 0.020").unwrap().unwrap() - 0.030).abs() < 1e-9);
        assert_eq!(duration("0.010 : -"), Ok(Some(0.010)));
    }

    #[test]
    fn quoted_fields_honour_backslash_escapes() {
        let mut f = Fields::new(r#"a "b \"c\" d" "" e"#, 0);
        assert_eq!(f.next_field(), Ok("a"));
        assert_eq!(f.next_field(), Ok(r#"b \"c\" d"#));
        assert_eq!(f.next_field(), Ok(""));
        assert_eq!(f.next_field(), Ok("e"));
        assert_eq!(f.next_field(), Err(Reject::MissingField));
        assert_eq!(Fields::new(r#""open"#, 0).next_field(), Err(Reject::MissingField));
    }
}
