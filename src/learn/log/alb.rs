//! AWS Application Load Balancer access logs: space-separated fields, some
//! quoted, in the documented order
//! (`type time elb client:port target:port request_processing_time
//! target_processing_time response_processing_time elb_status_code
//! target_status_code received_bytes sent_bytes "request" "user_agent"
//! ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
//! "chosen_cert_arn" matched_rule_priority request_creation_time ...`).
//!
//! AWS appends fields at the end from time to time (and has broken other
//! parsers each time), so nothing after `request_creation_time` is read and
//! any number of fields may follow it; lines cut short after the request
//! (older logs) fall back to `time` minus the processing times.

use super::fields::{self, Fields};
use super::{LineParser, Reject};
use crate::learn::{Record, TimeSource};

/// The ALB parser.
#[derive(Debug, Clone, Copy, Default)]
pub struct Alb;

/// `https://host:443/path?q` → `/path?q`; a target without a scheme is kept.
fn path_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => url,
    }
}

/// `time` (response sent) minus the three processing times, when all are logged (`-1` is not).
fn end_minus_processing(time: &str, processing: [&str; 3]) -> Result<(f64, TimeSource), Reject> {
    let end = fields::iso8601(time)?;
    let mut total = 0.0;
    for p in processing {
        match p.parse::<f64>() {
            Ok(v) if v >= 0.0 => total += v,
            _ => return Ok((end, TimeSource::LogTime)),
        }
    }
    Ok((end - total, TimeSource::EndMinusDuration))
}

impl LineParser for Alb {
    fn parse<'a>(&self, line: &'a str) -> Result<Record<'a>, Reject> {
        let mut f = Fields::new(line, 0);
        let kind = f.next_field()?;
        if !matches!(kind, "http" | "https" | "h2" | "grpcs" | "ws" | "wss") {
            return Err(Reject::LayoutMismatch);
        }
        let time = f.next_field()?;
        f.skip(3)?; // elb, client:port, target:port
        let processing = [f.next_field()?, f.next_field()?, f.next_field()?];
        let status = fields::status(f.next_field()?)?;
        f.skip(1)?; // target_status_code
        let request_bytes = fields::bytes(f.next_field()?)?;
        let response_bytes = fields::bytes(f.next_field()?)?;
        let (method, url) = fields::request_line(f.next_field()?)?;
        // user_agent ssl_cipher ssl_protocol target_group_arn trace_id
        // domain_name chosen_cert_arn matched_rule_priority
        let creation = f.skip(8).and_then(|()| f.next_field());
        let (arrival, time_source) = match creation {
            Ok(c) if c != "-" => (fields::iso8601(c)?, TimeSource::Arrival),
            Ok(_) | Err(Reject::MissingField) => end_minus_processing(time, processing)?,
            Err(e) => return Err(e),
        };
        Ok(Record {
            arrival,
            time_source,
            method,
            target: path_of(url),
            status,
            request_bytes,
            response_bytes,
            tenant_header: None,
        })
    }

    fn name(&self) -> &str {
        "alb"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_targets_lose_scheme_host_and_port() {
        assert_eq!(path_of("https://www.example.com:443/p/a?x=1"), "/p/a?x=1");
        assert_eq!(path_of("http://h:80"), "/");
        assert_eq!(path_of("/already"), "/already");
    }
}
