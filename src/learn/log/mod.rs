//! Access-log formats and the line reader.
//!
//! A [`Format`] builds a [`LineParser`]; the parser turns one line into a
//! [`Record`](super::Record) or a [`Reject`] reason. Lines are never copied
//! into errors or reports: a rejected line is counted by reason with its line
//! number only ([`RejectCounts`]).
//!
//! - [`fields`]: the hand-written scanners shared by the text formats
//!   (times, request lines, numbers): the hot path, measured;
//! - [`nginx`]: nginx `log_format` strings compiled into literals and
//!   variables; nginx `combined` and Apache common/combined are such strings;
//! - [`alb`], [`envoy`]: AWS ALB and Envoy (default text and JSON);
//! - [`reader`]: files, gzip and standard input, split into chunks that
//!   threads parse independently.

use std::fmt;
use std::str::FromStr;

use super::Record;

pub mod alb;
pub mod envoy;
pub mod fields;
pub mod nginx;
pub mod reader;
mod reject;

pub use reader::{Chunk, ChunkOutcome, ReadError, Source, MAX_LINE};
pub use reject::{Reject, RejectCounts};

/// Lines [`detect`] tries every parser on.
pub const DETECT_LINES: usize = 200;

/// Turns one log line into a [`Record`] borrowing from it.
pub trait LineParser: Send + Sync {
    /// Parse one line (without its line ending).
    fn parse<'a>(&self, line: &'a str) -> Result<Record<'a>, Reject>;
    /// The format's name, as `--format` takes it (`combined`, `alb`, ...).
    fn name(&self) -> &str;
}

/// An access-log format, as `--format` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Detect from the first lines ([`detect`]).
    Auto,
    /// nginx's predefined `combined` (`--format nginx` or `combined`).
    NginxCombined,
    /// Apache's Common Log Format (`apache-common` or `common`).
    ApacheCommon,
    /// Apache's Combined Log Format (`apache-combined`).
    ApacheCombined,
    /// AWS Application Load Balancer access logs (`alb`).
    Alb,
    /// Envoy's default text format (`envoy`).
    Envoy,
    /// Envoy (or Istio) JSON access logs, one object per line (`envoy-json`).
    EnvoyJson,
    /// An nginx `log_format` string (`--log-format '...'`).
    NginxCustom(String),
}

/// What `--format` takes (besides a `--log-format` string).
pub const FORMAT_NAMES: &str =
    "auto, nginx (or combined), apache-common (or common), apache-combined, alb, envoy, envoy-json";

/// Why a format cannot be used as asked.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// `--format` names no known format.
    #[error("unknown log format `{0}` (expected one of: {FORMAT_NAMES}, or give an nginx log_format string with --log-format)")]
    Unknown(String),
    /// The format cannot carry request headers, so a tenant header cannot be read from it.
    #[error(
        "the {format} log format does not log request headers, so the tenant cannot be read from header `{header}` \
         (use --tenant path:N or query:NAME, or a format that logs the header: an nginx --log-format with \
         `$http_{var}`, or envoy-json with a `{key}` key)"
    )]
    NoHeaders {
        /// The format's name.
        format: String,
        /// The header asked for.
        header: String,
        /// The nginx variable that would log it.
        var: String,
        /// The Envoy JSON key that would log it.
        key: String,
    },
    /// An nginx `log_format` does not log the tenant header.
    #[error(
        "the log format does not log header `{header}`: add `\"${var}\"` to the nginx log_format (and to --log-format)"
    )]
    MissingHeaderVar {
        /// The header asked for.
        header: String,
        /// The nginx variable to add.
        var: String,
    },
    /// An nginx `log_format` string that cannot be compiled.
    #[error("invalid --log-format at character {at}: {reason}")]
    BadLogFormat {
        /// 0-based character offset into the string.
        at: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// An nginx `log_format` with no way to read the request.
    #[error("the --log-format has no {what}: it needs {need}")]
    LogFormatLacks {
        /// What is missing (`request`, `time`).
        what: &'static str,
        /// The variables that would provide it.
        need: &'static str,
    },
    /// `auto` found no format that parses most of the first lines.
    #[error(
        "cannot detect the log format: no format parses most of the first {lines} non-empty lines \
         (best: {best} with {parsed}); give --format ({FORMAT_NAMES}) or --log-format"
    )]
    Undetected {
        /// Non-empty lines tried.
        lines: usize,
        /// The format that parsed most.
        best: String,
        /// How many it parsed.
        parsed: usize,
    },
    /// `auto` with no lines to look at.
    #[error("cannot detect the log format of an empty log; give --format")]
    Empty,
    /// [`Format::parser`] called on `auto`.
    #[error("the `auto` format is resolved by detection from the log's first lines")]
    AutoNeedsLines,
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "nginx" | "combined" | "nginx-combined" => Format::NginxCombined,
            "apache-common" | "common" | "clf" => Format::ApacheCommon,
            "apache-combined" => Format::ApacheCombined,
            "alb" | "aws-alb" => Format::Alb,
            "envoy" => Format::Envoy,
            "envoy-json" => Format::EnvoyJson,
            _ => return Err(FormatError::Unknown(s.to_owned())),
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Auto => "auto",
            Format::NginxCombined => "combined",
            Format::ApacheCommon => "apache-common",
            Format::ApacheCombined => "apache-combined",
            Format::Alb => "alb",
            Format::Envoy => "envoy",
            Format::EnvoyJson => "envoy-json",
            Format::NginxCustom(_) => "nginx log_format",
        })
    }
}

/// The nginx variable that logs header `name` (`X-Tenant-ID` → `http_x_tenant_id`).
pub fn nginx_header_var(name: &str) -> String {
    format!("http_{}", name.to_ascii_lowercase().replace('-', "_"))
}

impl Format {
    /// The parser for this format; `tenant_header` names the request header
    /// that carries the tenant (`--tenant header:X-Tenant-ID`), which the
    /// format must log.
    pub fn parser(&self, tenant_header: Option<&str>) -> Result<Box<dyn LineParser>, FormatError> {
        let no_headers = |format: &Format| -> Result<(), FormatError> {
            match tenant_header {
                None => Ok(()),
                Some(header) => Err(FormatError::NoHeaders {
                    format: format.to_string(),
                    header: header.to_owned(),
                    var: nginx_header_var(header).trim_start_matches("http_").to_owned(),
                    key: header.to_ascii_lowercase(),
                }),
            }
        };
        Ok(match self {
            Format::Auto => return Err(FormatError::AutoNeedsLines),
            Format::NginxCombined => {
                no_headers(self)?;
                Box::new(nginx::Compiled::new("combined", nginx::COMBINED, None)?)
            }
            Format::ApacheCommon => {
                no_headers(self)?;
                Box::new(nginx::Compiled::new("apache-common", nginx::APACHE_COMMON, None)?)
            }
            Format::ApacheCombined => {
                no_headers(self)?;
                Box::new(nginx::Compiled::new("apache-combined", nginx::APACHE_COMBINED, None)?)
            }
            Format::Alb => {
                no_headers(self)?;
                Box::new(alb::Alb)
            }
            Format::Envoy => {
                no_headers(self)?;
                Box::new(envoy::EnvoyText)
            }
            Format::EnvoyJson => Box::new(envoy::EnvoyJson::new(tenant_header)),
            Format::NginxCustom(s) => Box::new(nginx::Compiled::new("nginx log_format", s, tenant_header)?),
        })
    }

    /// The fixed formats `auto` chooses from, in order of preference on a tie.
    pub fn candidates() -> [Format; 6] {
        [
            Format::NginxCombined,
            Format::ApacheCombined,
            Format::ApacheCommon,
            Format::Alb,
            Format::Envoy,
            Format::EnvoyJson,
        ]
    }
}

/// Pick the format that parses most of `sample` (the log's first lines, up
/// to [`DETECT_LINES`] non-empty ones are looked at); it must parse more
/// than half of them. Formats that cannot log `tenant_header` are skipped.
pub fn detect(sample: &[&str], tenant_header: Option<&str>) -> Result<(Format, Box<dyn LineParser>), FormatError> {
    let lines: Vec<&str> = sample
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .take(DETECT_LINES)
        .collect();
    if lines.is_empty() {
        return Err(FormatError::Empty);
    }
    let mut best: Option<(usize, Format, Box<dyn LineParser>)> = None;
    for format in Format::candidates() {
        let Ok(parser) = format.parser(tenant_header) else {
            continue;
        };
        let parsed = lines.iter().filter(|l| parser.parse(l).is_ok()).count();
        if best.as_ref().is_none_or(|(n, _, _)| parsed > *n) {
            best = Some((parsed, format, parser));
        }
    }
    match best {
        Some((parsed, format, parser)) if parsed * 2 > lines.len() => Ok((format, parser)),
        Some((parsed, format, _)) => Err(FormatError::Undetected {
            lines: lines.len(),
            best: format.to_string(),
            parsed,
        }),
        None => Err(FormatError::Empty),
    }
}

#[cfg(test)]
mod tests;
