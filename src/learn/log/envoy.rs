//! Envoy access logs: the default text format and JSON.
//!
//! Text (Envoy's default):
//! `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
//! %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ...`;
//! fields after `%DURATION%` are not read, so any may follow.
//!
//! JSON: one object per line with the keys Envoy and Istio configurations
//! use (`start_time`, `method`, `path`, `x_envoy_original_path`,
//! `response_code`, `bytes_received`, `bytes_sent`, `duration`), numbers or
//! numeric strings alike. Strings are borrowed from the line; one the
//! learner needs that holds JSON escapes is rejected rather than copied.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::fields::{self, Fields};
use super::{LineParser, Reject};
use crate::learn::{Record, TimeSource};

/// Envoy's default text format.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvoyText;

impl LineParser for EnvoyText {
    fn parse<'a>(&self, line: &'a str) -> Result<Record<'a>, Reject> {
        let rest = line.strip_prefix('[').ok_or(Reject::LayoutMismatch)?;
        let close = rest.find("] ").ok_or(Reject::LayoutMismatch)?;
        let arrival = fields::iso8601(&rest[..close])?;
        let mut f = Fields::new(line, 1 + close + 2);
        if line.as_bytes().get(1 + close + 2) != Some(&b'"') {
            return Err(Reject::LayoutMismatch);
        }
        let (method, target) = fields::request_line(f.next_field()?)?;
        let status = fields::status(f.next_field()?)?;
        f.skip(1)?; // response flags
        let request_bytes = fields::bytes(f.next_field()?)?;
        let response_bytes = fields::bytes(f.next_field()?)?;
        fields::duration(f.next_field()?)?;
        Ok(Record {
            arrival,
            time_source: TimeSource::Arrival,
            method,
            target,
            status,
            request_bytes,
            response_bytes,
            tenant_header: None,
        })
    }

    fn name(&self) -> &str {
        "envoy"
    }
}

/// Envoy JSON access logs.
#[derive(Debug, Clone, Default)]
pub struct EnvoyJson {
    /// The tenant header as a key: lower-cased with `-`, and with `_`.
    tenant_keys: Option<(String, String)>,
}

impl EnvoyJson {
    /// A parser reading the tenant from `tenant_header`'s key, if given.
    pub fn new(tenant_header: Option<&str>) -> Self {
        EnvoyJson {
            tenant_keys: tenant_header.map(|h| {
                let lower = h.to_ascii_lowercase();
                (lower.replace('_', "-"), lower.replace('-', "_"))
            }),
        }
    }
}

/// One JSON value as far as the parser cares.
#[derive(Debug, Clone, Copy, Default)]
enum Scalar<'a> {
    Str(&'a str),
    /// A string with escapes: could only be copied.
    Escaped,
    Num(f64),
    #[default]
    Null,
    /// A bool, array or object.
    Other,
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Escaped)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Num(v as f64))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Num(v))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// The keys of one line the parser reads.
#[derive(Debug, Default)]
struct Keys<'a> {
    start_time: Scalar<'a>,
    method: Scalar<'a>,
    path: Scalar<'a>,
    original_path: Scalar<'a>,
    response_code: Scalar<'a>,
    bytes_received: Scalar<'a>,
    bytes_sent: Scalar<'a>,
    tenant: Scalar<'a>,
}

struct KeysSeed<'p>(&'p EnvoyJson);

impl<'de> DeserializeSeed<'de> for KeysSeed<'_> {
    type Value = Keys<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for KeysSeed<'_> {
    type Value = Keys<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut k = Keys::default();
        while let Some(key) = map.next_key::<Scalar<'de>>()? {
            let Scalar::Str(key) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let slot = match key {
                "start_time" => &mut k.start_time,
                "method" => &mut k.method,
                "path" => &mut k.path,
                "x_envoy_original_path" | "x-envoy-original-path" => &mut k.original_path,
                "response_code" => &mut k.response_code,
                "bytes_received" => &mut k.bytes_received,
                "bytes_sent" => &mut k.bytes_sent,
                _ => match &self.0.tenant_keys {
                    Some((dash, under)) if key == dash || key == under => &mut k.tenant,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                },
            };
            *slot = map.next_value()?;
        }
        Ok(k)
    }
}

/// A string the parser needs: absent, `null` and `-` are `None`.
fn text(v: Scalar<'_>) -> Result<Option<&str>, Reject> {
    match v {
        Scalar::Str("-" | "") | Scalar::Null => Ok(None),
        Scalar::Str(s) => Ok(Some(s)),
        Scalar::Escaped => Err(Reject::JsonEscape),
        Scalar::Num(_) | Scalar::Other => Err(Reject::MissingField),
    }
}

/// A number, given as a JSON number or a numeric string.
fn number(v: Scalar<'_>) -> Result<Option<f64>, Reject> {
    match v {
        Scalar::Num(n) => Ok(Some(n)),
        Scalar::Str("-" | "") | Scalar::Null => Ok(None),
        Scalar::Str(s) => s.parse().map(Some).map_err(|_| Reject::BadNumber),
        Scalar::Escaped | Scalar::Other => Err(Reject::BadNumber),
    }
}

fn whole(v: Option<f64>) -> Result<Option<u64>, Reject> {
    match v {
        None => Ok(None),
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n < 1e18 => Ok(Some(n as u64)),
        Some(_) => Err(Reject::BadNumber),
    }
}

impl LineParser for EnvoyJson {
    fn parse<'a>(&self, line: &'a str) -> Result<Record<'a>, Reject> {
        if !line.trim_start().starts_with('{') {
            return Err(Reject::NotJson);
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let k = KeysSeed(self).deserialize(&mut de).map_err(|_| Reject::NotJson)?;
        de.end().map_err(|_| Reject::NotJson)?;
        let start = text(k.start_time)?.ok_or(Reject::BadTime)?;
        let method = text(k.method)?.ok_or(Reject::BadRequestLine)?;
        let target = match text(k.path)? {
            Some(p) => p,
            None => text(k.original_path)?.ok_or(Reject::BadRequestLine)?,
        };
        // The same checks as a text request line.
        fields::request_line_parts(method, target)?;
        let status = match whole(number(k.response_code)?)? {
            None | Some(0) => None,
            Some(n @ 100..=999) => Some(n as u16),
            Some(_) => return Err(Reject::BadStatus),
        };
        Ok(Record {
            arrival: fields::iso8601(start)?,
            time_source: TimeSource::Arrival,
            method,
            target,
            status,
            request_bytes: whole(number(k.bytes_received)?)?,
            response_bytes: whole(number(k.bytes_sent)?)?,
            tenant_header: text(k.tenant)?,
        })
    }

    fn name(&self) -> &str {
        "envoy-json"
    }
}
