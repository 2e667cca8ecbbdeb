//! nginx `log_format` strings, compiled into literal separators and
//! variables, then matched against lines left to right. nginx `combined` and
//! Apache's common and combined formats are such strings too.
//!
//! Matching: a leading literal must start the line; a variable runs to the
//! next literal of the format (a literal starting with `"` is searched past
//! backslash-escaped quotes, as Apache and `escape=json` write them; nginx's
//! default escaping writes `\x22` and never a bare quote), except
//! `$time_local`, which is fixed-width because it holds a space. Variables
//! written back to back with no literal between (`$uri$is_args$args`) are
//! one field, given to the first of them. Variables the learner has no use
//! for are opaque and only delimited. The last variable runs to the end of
//! the line; anything after the last literal is ignored.

use memchr::memmem::Finder;

use super::fields::{self, TIME_LOCAL_LEN};
use super::{FormatError, LineParser, Reject};
use crate::learn::{Record, TimeSource};

/// nginx's predefined `combined`.
pub const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// Apache's Common Log Format (`%h %l %u %t "%r" %>s %b`) in nginx terms.
pub const APACHE_COMMON: &str = r#"$remote_addr $ident $remote_user [$time_local] "$request" $status $body_bytes_sent"#;

/// Apache's Combined Log Format (common plus `"%{Referer}i" "%{User-agent}i"`).
pub const APACHE_COMBINED: &str = r#"$remote_addr $ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// What a variable is captured into (`Opaque`: delimited, then dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    TimeLocal,
    TimeIso,
    Msec,
    Request,
    Method,
    RequestUri,
    Uri,
    Status,
    BodyBytes,
    BytesSent,
    RequestLength,
    RequestTime,
    Tenant,
    Opaque,
}

const SLOTS: usize = Slot::Opaque as usize;

#[derive(Debug)]
enum Seg {
    Lit {
        text: Vec<u8>,
        finder: Box<Finder<'static>>,
    },
    Var(Slot),
}

/// A compiled `log_format`.
#[derive(Debug)]
pub struct Compiled {
    name: String,
    segs: Vec<Seg>,
    time_source: TimeSource,
}

fn slot_of(var: &str, tenant_var: Option<&str>) -> Slot {
    match var {
        "time_local" => Slot::TimeLocal,
        "time_iso8601" => Slot::TimeIso,
        "msec" => Slot::Msec,
        "request" => Slot::Request,
        "request_method" => Slot::Method,
        "request_uri" => Slot::RequestUri,
        "uri" | "document_uri" => Slot::Uri,
        "status" => Slot::Status,
        "body_bytes_sent" => Slot::BodyBytes,
        "bytes_sent" => Slot::BytesSent,
        "request_length" => Slot::RequestLength,
        "request_time" => Slot::RequestTime,
        v if Some(v) == tenant_var => Slot::Tenant,
        // $remote_addr, $remote_user, $args, $upstream_response_time, other
        // headers...: the learner keeps none of them.
        _ => Slot::Opaque,
    }
}

/// Split a `log_format` string into literals and variable names.
fn tokenize(format: &str) -> Result<Vec<(bool, &str)>, FormatError> {
    let b = format.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut lit_start) = (0, 0);
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        if lit_start < i {
            out.push((false, &format[lit_start..i]));
        }
        let braced = b.get(i + 1) == Some(&b'{');
        let start = i + 1 + usize::from(braced);
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        if end == start {
            return Err(FormatError::BadLogFormat {
                at: i,
                reason: "`$` not followed by a variable name",
            });
        }
        out.push((true, &format[start..end]));
        i = end;
        if braced {
            if b.get(end) != Some(&b'}') {
                return Err(FormatError::BadLogFormat {
                    at: end,
                    reason: "`${` without its closing `}`",
                });
            }
            i += 1;
        }
        lit_start = i;
    }
    if lit_start < b.len() {
        out.push((false, &format[lit_start..]));
    }
    Ok(out)
}

impl Compiled {
    /// Compile `format`; `tenant_header` must then be logged as `$http_NAME`.
    pub fn new(name: &str, format: &str, tenant_header: Option<&str>) -> Result<Self, FormatError> {
        let tenant_var = tenant_header.map(super::nginx_header_var);
        let mut segs = Vec::new();
        for (is_var, text) in tokenize(format)? {
            segs.push(if is_var {
                Seg::Var(slot_of(text, tenant_var.as_deref()))
            } else {
                Seg::Lit {
                    text: text.as_bytes().to_vec(),
                    finder: Box::new(Finder::new(text.as_bytes()).into_owned()),
                }
            });
        }
        let has = |slot: Slot| segs.iter().any(|s| matches!(s, Seg::Var(v) if *v == slot));
        if let (Some(header), Some(var)) = (tenant_header, &tenant_var) {
            if !has(Slot::Tenant) {
                return Err(FormatError::MissingHeaderVar {
                    header: header.to_owned(),
                    var: var.clone(),
                });
            }
        }
        if !has(Slot::Request) && !(has(Slot::Method) && (has(Slot::RequestUri) || has(Slot::Uri))) {
            return Err(FormatError::LogFormatLacks {
                what: "request",
                need: "$request, or $request_method with $request_uri (or $uri)",
            });
        }
        let time_source = match (
            has(Slot::Msec),
            has(Slot::TimeLocal) || has(Slot::TimeIso),
            has(Slot::RequestTime),
        ) {
            (true, _, true) => TimeSource::Arrival,
            (false, true, true) => TimeSource::EndMinusDuration,
            (true, _, false) | (false, true, false) => TimeSource::LogTime,
            (false, false, _) => {
                return Err(FormatError::LogFormatLacks {
                    what: "time",
                    need: "$msec, $time_local or $time_iso8601 (best $msec with $request_time)",
                })
            }
        };
        Ok(Compiled {
            name: name.to_owned(),
            segs,
            time_source,
        })
    }

    /// How arrival times are derived with this format.
    pub fn time_source(&self) -> TimeSource {
        self.time_source
    }

    /// Match the line against the segments, filling the slots.
    fn capture<'a>(&self, line: &'a str) -> Result<[Option<&'a str>; SLOTS], Reject> {
        let b = line.as_bytes();
        let mut slots = [None; SLOTS];
        let mut pos = 0;
        let mut k = 0;
        while k < self.segs.len() {
            match &self.segs[k] {
                Seg::Lit { text, .. } => {
                    if !b[pos..].starts_with(text) {
                        return Err(if pos >= b.len() {
                            Reject::MissingField
                        } else {
                            Reject::LayoutMismatch
                        });
                    }
                    pos += text.len();
                    k += 1;
                }
                Seg::Var(slot) => {
                    let end = if *slot == Slot::TimeLocal {
                        if b.len() < pos + TIME_LOCAL_LEN || !line.is_char_boundary(pos + TIME_LOCAL_LEN) {
                            return Err(Reject::BadTime);
                        }
                        // A time of another shape would otherwise show as a
                        // mismatch of the literal after it.
                        if let Some(Seg::Lit { text, .. }) = self.segs.get(k + 1) {
                            if !b[pos + TIME_LOCAL_LEN..].starts_with(text) {
                                return Err(Reject::BadTime);
                            }
                        }
                        pos + TIME_LOCAL_LEN
                    } else {
                        self.var_end(b, pos, k)?
                    };
                    let value = &line[pos..end];
                    if (*slot as usize) < SLOTS {
                        slots[*slot as usize] = Some(value);
                    }
                    pos = end;
                    k += 1;
                    // Back-to-back variables: the first took the field.
                    while let Some(Seg::Var(_)) = self.segs.get(k) {
                        k += 1;
                    }
                }
            }
        }
        Ok(slots)
    }

    /// Where the variable at `k`, starting at `pos`, ends: at the next literal.
    fn var_end(&self, b: &[u8], pos: usize, k: usize) -> Result<usize, Reject> {
        let next = self.segs[k + 1..].iter().find_map(|s| match s {
            Seg::Lit { text, finder } => Some((text, finder)),
            Seg::Var(_) => None,
        });
        let Some((text, finder)) = next else {
            return Ok(b.len());
        };
        if text.first() == Some(&b'"') {
            let mut from = pos;
            loop {
                let q = fields::closing_quote(b, from).ok_or(Reject::MissingField)?;
                if b[q..].starts_with(text) {
                    return Ok(q);
                }
                from = q + 1;
            }
        }
        finder.find(&b[pos..]).map(|i| pos + i).ok_or(Reject::MissingField)
    }
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty() && *s != "-")
}

impl LineParser for Compiled {
    fn parse<'a>(&self, line: &'a str) -> Result<Record<'a>, Reject> {
        let s = self.capture(line)?;
        let get = |slot: Slot| s[slot as usize];
        let (method, target) = match get(Slot::Request) {
            Some(r) => fields::request_line(r)?,
            None => {
                let method = present(get(Slot::Method)).ok_or(Reject::BadRequestLine)?;
                let target = present(get(Slot::RequestUri).or(get(Slot::Uri))).ok_or(Reject::BadRequestLine)?;
                fields::request_line_parts(method, target)?;
                (method, target)
            }
        };
        let status = fields::status(get(Slot::Status).unwrap_or("-"))?;
        let duration = match get(Slot::RequestTime) {
            Some(t) => fields::duration(t)?,
            None => None,
        };
        let logged = match (get(Slot::Msec), get(Slot::TimeLocal), get(Slot::TimeIso)) {
            (Some(m), _, _) => fields::seconds(m)?,
            (None, Some(t), _) => fields::time_local(t)?,
            (None, None, Some(t)) => fields::iso8601(t)?,
            (None, None, None) => return Err(Reject::BadTime),
        };
        let (arrival, time_source) = match (duration, self.time_source) {
            (Some(d), TimeSource::Arrival | TimeSource::EndMinusDuration) => (logged - d, self.time_source),
            _ => (logged, TimeSource::LogTime),
        };
        let bytes = |slot: Slot| get(slot).map_or(Ok(None), fields::bytes);
        Ok(Record {
            arrival,
            time_source,
            method,
            target,
            status,
            request_bytes: bytes(Slot::RequestLength)?,
            response_bytes: bytes(Slot::BytesSent)?.or(bytes(Slot::BodyBytes)?),
            tenant_header: present(get(Slot::Tenant)),
        })
    }

    fn name(&self) -> &str {
        &self.name
    }
}
