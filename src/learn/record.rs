//! One parsed access-log line: what `learn` keeps of a request. Parsers fill
//! it from a line without copying (the strings borrow the line); the learner
//! folds it into its sketches and forgets it.

/// Where a record's arrival time came from, best first. The learned profile
/// says which was used (`# arrival time: ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeSource {
    /// The request's start, logged as such: ALB `request_creation_time`,
    /// Envoy `START_TIME`, nginx `$msec - $request_time`.
    Arrival,
    /// A 1-second end-of-request time minus the request's duration (nginx
    /// `$time_local - $request_time`).
    EndMinusDuration,
    /// The time written when the request ended, no duration to subtract
    /// (nginx `$time_local` or Apache `%t` alone): late by the request's
    /// duration, at 1-second resolution.
    LogTime,
}

impl TimeSource {
    /// How the learned profile names it.
    pub fn describe(self) -> &'static str {
        match self {
            TimeSource::Arrival => "request start as logged",
            TimeSource::EndMinusDuration => "log time minus request duration",
            TimeSource::LogTime => "log time (end of request, 1-second resolution)",
        }
    }
}

/// A request as read from one log line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record<'a> {
    /// When the request arrived, Unix seconds with a fraction.
    pub arrival: f64,
    /// How `arrival` was derived.
    pub time_source: TimeSource,
    /// The request method, as logged (`GET`).
    pub method: &'a str,
    /// The request target as logged: path and query, still percent-encoded
    /// (`/t/acme/orders/123?x=1`); absolute-form targets keep their scheme and
    /// host (`http://h/p`) and the learner strips them.
    pub target: &'a str,
    /// The response status, when logged (`-` or `0` is `None`).
    pub status: Option<u16>,
    /// Bytes received from the client (request size), when logged.
    pub request_bytes: Option<u64>,
    /// Bytes sent to the client (response size, body or whole), when logged.
    pub response_bytes: Option<u64>,
    /// The tenant header's value, when the user named a header
    /// (`--tenant header:X-Tenant-ID`) and the format logs it.
    pub tenant_header: Option<&'a str>,
}
