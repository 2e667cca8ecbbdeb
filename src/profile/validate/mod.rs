//! From the file as written ([`super::raw`]) to a [`super::Profile`]:
//! every rule of the format, each failure pointing at a file, line and key.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod clients;
mod endpoints;

pub use clients::DEFAULT_MAX_IN_FLIGHT;

use crate::profile::keys::{key_space, KeySpace, Schemas};
use crate::profile::raw::*;
use crate::profile::shape::{Diurnal, RateShape, Spike, Stage, MAX_DIURNAL_FACTORS};
use crate::profile::*;
use crate::synth::schema::MAX_KEY_WIDTH;

/// Parse the YAML into the raw structs; syntax and shape errors get a
/// location, the key and a snippet of the offending line.
pub(super) fn parse(text: &str, path: &Path) -> Result<RawProfile, Error> {
    serde_saphyr::from_str_with_options::<RawProfile>(text, parse_options()).map_err(|e| syntax_error(&e, text, path))
}

/// serde-saphyr's default limits, with room for a learned day curve of
/// [`MAX_DIURNAL_FACTORS`] values (by default it stops at 250,000 nodes).
fn parse_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = budget.max_nodes.max(2 * MAX_DIURNAL_FACTORS);
    budget.max_events = budget.max_events.max(4 * MAX_DIURNAL_FACTORS);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// A YAML syntax or shape error, located in the file.
fn syntax_error(e: &serde_saphyr::Error, text: &str, path: &Path) -> Error {
    crate::yaml::FileError::syntax(e, text, path).into()
}

/// Builds errors for one file.
pub(super) type Ctx<'a> = crate::yaml::Ctx<'a, Error>;

/// A file named in the profile: relative to the profile's folder, or else
/// to the current directory.
fn resolve(ctx: &Ctx, file: &str, line: u64, key: &str) -> Result<PathBuf, Error> {
    let p = Path::new(file);
    if p.is_absolute() {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            Err(ctx.err(line, key, format!("file {file} does not exist")))
        };
    }
    let beside = ctx.path.parent().unwrap_or(Path::new(".")).join(p);
    if beside.exists() {
        return Ok(beside);
    }
    if p.exists() {
        return Ok(p.to_path_buf());
    }
    Err(ctx.err(
        line,
        key,
        format!(
            "file {file} not found (looked for {} and for {file} in the current directory)",
            beside.display()
        ),
    ))
}

/// Replace `${env:NAME}` with the variable's value. Returns the text and
/// whether anything was substituted (such values are treated as secrets).
fn expand_env(ctx: &Ctx, s: &S<String>, key: &str) -> Result<(String, bool), Error> {
    let mut out = String::new();
    let mut rest = s.value.as_str();
    let mut used = false;
    while let Some(i) = rest.find("${env:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 6..];
        let end = after
            .find('}')
            .ok_or_else(|| ctx.at(s, key, "`${env:` is never closed with `}`"))?;
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| {
            ctx.at(
                s,
                key,
                format!("environment variable {name} is not set (the profile takes this value from it)"),
            )
        })?;
        out.push_str(&value);
        used = true;
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok((out, used))
}

/// Header names whose values are secrets whatever their source.
fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    ]
    .contains(&n.as_str())
        || n.contains("token")
        || n.contains("secret")
}

pub(super) fn validate(raw: RawProfile, text: &str, path: &Path) -> Result<Profile, Error> {
    let ctx = Ctx::new(path);
    let name = raw.name.value.trim().to_string();
    if name.is_empty() {
        return Err(ctx.at(&raw.name, "name", "the profile needs a name"));
    }
    let target = target(&ctx, raw.target)?;
    let (load, stages_len) = load(&ctx, &raw.load)?;
    let duration = match (&raw.duration, stages_len) {
        (Some(d), _) if d.value.0.is_zero() => return Err(ctx.at(d, "duration", "the duration must be longer than 0")),
        (Some(d), _) => d.value.0,
        (None, Some(len)) => len,
        (None, None) => {
            return Err(ctx.err(
                raw.name.referenced.line(),
                "duration",
                "missing key `duration` (how long to run, e.g. `duration: 60s`)",
            ))
        }
    };
    let warmup = raw.warmup.as_ref().map(|w| w.value.0).unwrap_or(Duration::ZERO);
    if let Some(w) = &raw.warmup {
        if warmup >= duration {
            return Err(ctx.at(
                w,
                "warmup",
                format!(
                    "the warm-up ({}) must be shorter than the duration ({})",
                    w.value,
                    crate::units::Dur(duration)
                ),
            ));
        }
    }
    let schemas = Schemas::default();
    let tenants = match raw.tenants {
        Some(t) => Some(tenants(&ctx, &schemas, t)?),
        None => None,
    };
    let endpoints = endpoints::endpoints(
        &ctx,
        &schemas,
        raw.endpoints,
        raw.load.read_write.as_ref(),
        tenants.as_ref(),
    )?;
    let clients = clients::clients(&ctx, raw.clients, &target)?;
    let (seed, seed_chosen) = match raw.seed {
        Some(s) => (s, false),
        None => (rand::random::<u64>() >> 11, true),
    };
    Ok(Profile {
        name,
        description: raw.description,
        source: path.to_path_buf(),
        target,
        seed,
        seed_chosen,
        duration,
        warmup,
        load,
        tenants,
        endpoints,
        clients,
        hash: super::content_hash(&[text.as_bytes()]),
    })
}

/// `target:` checked: the base URL (after `${env:...}`), protocol,
/// connection limits, TLS settings and the headers sent with every request.
fn target(ctx: &Ctx, t: RawTarget) -> Result<Target, Error> {
    let (url, _) = expand_env(ctx, &t.base_url, "target.base_url")?;
    let base = parse_base_url(&url).map_err(|e| ctx.at(&t.base_url, "target.base_url", e.to_string()))?;
    let environment = match &t.environment {
        None => None,
        Some(e) => Some(environment(ctx, e)?),
    };
    let http = match &t.http {
        None => HttpMode::Auto,
        Some(h) => http_mode(ctx, h)?,
    };
    let positive = |v: &Option<S<crate::units::Count>>, key: &str, default: u32| -> Result<u32, Error> {
        match v {
            None => Ok(default),
            Some(c) if c.value.0 == 0 || c.value.0 > 1_000_000 => Err(ctx.at(c, key, "must be between 1 and 1000000")),
            Some(c) => Ok(c.value.0 as u32),
        }
    };
    let connections = positive(&t.connections, "target.connections", 64)?;
    let streams = positive(&t.streams, "target.streams", 1)?;
    let timeout = match &t.timeout {
        None => Duration::from_secs(10),
        Some(d) if d.value.0.is_zero() => return Err(ctx.at(d, "target.timeout", "the timeout must be longer than 0")),
        Some(d) => d.value.0,
    };
    let tls = tls(ctx, t.tls)?;
    let headers = target_headers(ctx, &t.headers)?;
    Ok(Target {
        base,
        environment,
        http,
        connections,
        streams,
        timeout,
        tls,
        headers,
    })
}

/// `environment:` by any of its usual names.
fn environment(ctx: &Ctx, e: &S<String>) -> Result<Environment, Error> {
    let name = e.value.to_ascii_lowercase();
    name.parse().map_err(|_| {
        ctx.at(
            e,
            "target.environment",
            format!("unknown environment `{name}` (expected dev, staging or prod)"),
        )
    })
}

/// `http:` auto, HTTP/1.1 or HTTP/2, by any of their usual names.
fn http_mode(ctx: &Ctx, h: &S<String>) -> Result<HttpMode, Error> {
    h.value.parse().map_err(|_| {
        ctx.at(
            h,
            "target.http",
            format!("unknown HTTP mode `{}` (expected auto, http1 or http2)", h.value),
        )
    })
}

/// `tls:` with its defaults (verify certificates, no extra CA), the CA
/// file found on disk.
fn tls(ctx: &Ctx, tls: Option<RawTls>) -> Result<TlsSettings, Error> {
    Ok(match tls {
        None => TlsSettings {
            verify: true,
            ca_file: None,
            server_name: None,
        },
        Some(tls) => TlsSettings {
            verify: tls.verify.unwrap_or(true),
            ca_file: match &tls.ca_file {
                Some(f) => Some(resolve(ctx, &f.value, f.referenced.line(), "target.tls.ca_file")?),
                None => None,
            },
            server_name: tls.server_name,
        },
    })
}

/// The headers sent with every request: valid names and values after
/// `${env:...}`, those from the environment or naming credentials kept
/// secret.
fn target_headers(ctx: &Ctx, raw: &std::collections::BTreeMap<String, S<String>>) -> Result<Vec<Header>, Error> {
    let mut headers = Vec::new();
    for (name, value) in raw {
        let key = format!("target.headers.{name}");
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(ctx.at(value, &key, format!("`{name}` is not a valid header name")));
        }
        let (v, from_env) = expand_env(ctx, value, &key)?;
        if http::HeaderValue::from_str(&v).is_err() {
            return Err(ctx.at(
                value,
                &key,
                "the value is not a valid header value (line breaks or control characters)",
            ));
        }
        headers.push(Header {
            name: name.clone(),
            value: v,
            secret: from_env || is_credential_header(name),
        });
    }
    Ok(headers)
}

/// Why `target.base_url` is not a base URL loadline can send to; reported
/// at the key's line.
#[derive(Debug, thiserror::Error)]
enum BaseUrlError {
    #[error("`{url}` is not a URL: {source}")]
    NotAUrl { url: String, source: http::uri::InvalidUri },
    #[error("unsupported scheme `{scheme}` (expected http or https)")]
    Scheme { scheme: String },
    #[error("`{url}` has no scheme (write http://{url})")]
    NoScheme { url: String },
    #[error("`{url}` has no host")]
    NoHost { url: String },
    #[error("the base URL cannot have a query string (put it in the endpoint paths)")]
    Query,
}

/// `http://host:port/prefix` into its parts.
fn parse_base_url(url: &str) -> Result<BaseUrl, BaseUrlError> {
    let uri: http::Uri = url.parse().map_err(|source| BaseUrlError::NotAUrl {
        url: url.to_string(),
        source,
    })?;
    let scheme = match uri.scheme_str() {
        Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        Some(other) => {
            return Err(BaseUrlError::Scheme {
                scheme: other.to_string(),
            })
        }
        None => return Err(BaseUrlError::NoScheme { url: url.to_string() }),
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| BaseUrlError::NoHost { url: url.to_string() })?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = uri.port_u16().unwrap_or(match scheme {
        Scheme::Http => 80,
        Scheme::Https => 443,
    });
    if uri.query().is_some() {
        return Err(BaseUrlError::Query);
    }
    Ok(BaseUrl {
        scheme,
        host,
        port,
        path_prefix: uri.path().trim_end_matches('/').to_string(),
    })
}

/// `load:` the open model (a rate, maybe shaped) or the closed one (users
/// and think time), with how long its stages last if it has any.
fn load(ctx: &Ctx, l: &RawLoad) -> Result<(Load, Option<Duration>), Error> {
    match l.model.value.as_str() {
        "open" => open_load(ctx, l),
        "closed" => closed_load(ctx, l),
        other => Err(ctx.at(
            &l.model,
            "load.model",
            format!("unknown load model `{other}` (expected open or closed)"),
        )),
    }
}

/// `model: open`: arrivals at a rate, shaped by a day curve, spikes and
/// stages; none of the closed model's keys.
fn open_load(ctx: &Ctx, l: &RawLoad) -> Result<(Load, Option<Duration>), Error> {
    if let Some(u) = &l.users {
        return Err(ctx.at(
            u,
            "load.users",
            "`users` is for the closed model (`model: closed`); the open model takes `rate`",
        ));
    }
    if let Some(t) = &l.think_time {
        return Err(ctx.at(
            t,
            "load.think_time",
            "`think_time` is for the closed model (`model: closed`)",
        ));
    }
    let arrivals = match &l.arrivals {
        None => Arrivals::Poisson,
        Some(a) => a.value.parse().map_err(|_| {
            ctx.at(
                a,
                "load.arrivals",
                format!("unknown arrival process `{}` (expected poisson or uniform)", a.value),
            )
        })?,
    };
    let mut shape = RateShape::constant(l.rate.as_ref().map(|r| r.value.as_per_sec()).unwrap_or(0.0));
    let has_stages = l.shape.as_ref().is_some_and(|s| s.stages.is_some());
    if l.rate.is_none() && !has_stages {
        return Err(ctx.at(
            &l.model,
            "load.rate",
            "missing key `rate` (arrivals per second of the open model, e.g. `rate: 2000/s`)",
        ));
    }
    if let Some(s) = &l.shape {
        shape_parts(ctx, s, &mut shape)?;
    }
    let len = shape.stages_length();
    Ok((Load::Open { shape, arrivals }, len))
}

/// `model: closed`: a number of users, each waiting `think_time` between
/// requests; none of the open model's keys.
fn closed_load(ctx: &Ctx, l: &RawLoad) -> Result<(Load, Option<Duration>), Error> {
    for (present, key) in [
        (l.rate.as_ref().map(|r| r.referenced.line()), "load.rate"),
        (l.arrivals.as_ref().map(|r| r.referenced.line()), "load.arrivals"),
    ] {
        if let Some(line) = present {
            return Err(ctx.err(
                line,
                key,
                "the closed model has no arrival rate: it has `users` and `think_time` (use `model: open` for a rate)",
            ));
        }
    }
    if l.shape.is_some() {
        return Err(ctx.at(
            &l.model,
            "load.shape",
            "`shape` shapes an arrival rate, so it needs `model: open`",
        ));
    }
    let users = match &l.users {
        None => {
            return Err(ctx.at(
                &l.model,
                "load.users",
                "missing key `users` (how many users the closed model runs)",
            ))
        }
        Some(u) if u.value.0 == 0 || u.value.0 > 1_000_000 => {
            return Err(ctx.at(u, "load.users", "must be between 1 and 1000000"))
        }
        Some(u) => u.value.0 as u32,
    };
    let think_time = l.think_time.as_ref().map(|t| t.value.0).unwrap_or(Duration::ZERO);
    Ok((Load::Closed { users, think_time }, None))
}

/// `shape:` added to the open model's rate: a day curve, spikes, then
/// stages.
fn shape_parts(ctx: &Ctx, s: &RawShape, shape: &mut RateShape) -> Result<(), Error> {
    if let Some(d) = &s.diurnal {
        shape.diurnal = Some(diurnal(ctx, d)?);
    }
    for sp in &s.spikes {
        let v = &sp.value;
        if !(v.factor.is_finite() && v.factor >= 0.0) {
            return Err(ctx.at(
                sp,
                "load.shape.spikes.factor",
                "the factor must be a non-negative number",
            ));
        }
        if v.for_.0.is_zero() {
            return Err(ctx.at(sp, "load.shape.spikes.for", "a spike must last longer than 0"));
        }
        shape.spikes.push(Spike {
            start: v.at.as_secs_f64(),
            end: v.at.as_secs_f64() + v.for_.as_secs_f64(),
            factor: v.factor,
        });
    }
    if let Some(stages) = &s.stages {
        shape_stages(ctx, stages, shape)?;
    }
    Ok(())
}

/// `shape.diurnal`: a period, its factors (24 `hourly` ones or any number
/// of `factors`, not all 0) and a start time of day.
fn diurnal(ctx: &Ctx, d: &S<RawDiurnal>) -> Result<Diurnal, Error> {
    let raw = &d.value;
    if raw.period.value.0.is_zero() {
        return Err(ctx.at(
            &raw.period,
            "load.shape.diurnal.period",
            "the period must be longer than 0",
        ));
    }
    let factors = diurnal_factors(ctx, d)?;
    let start = match &raw.start {
        Some(st) if st.value.0 >= Duration::from_secs(86_400) => {
            return Err(ctx.at(st, "load.shape.diurnal.start", "the start is a time of day, below 24h"))
        }
        Some(st) => st.value.as_secs_f64(),
        None => 0.0,
    };
    Ok(Diurnal {
        period: raw.period.value.as_secs_f64(),
        factors: factors.into(),
        start,
    })
}

/// Exactly one of `hourly` (24 values) and `factors` (1 to
/// [`MAX_DIURNAL_FACTORS`]): non-negative numbers, not all 0.
fn diurnal_factors(ctx: &Ctx, d: &S<RawDiurnal>) -> Result<Vec<f64>, Error> {
    let (list, key) = match (&d.value.hourly, &d.value.factors) {
        (Some(h), None) => {
            if h.value.len() != 24 {
                return Err(ctx.at(
                    h,
                    "load.shape.diurnal.hourly",
                    format!("needs exactly 24 values, one per hour (found {})", h.value.len()),
                ));
            }
            (h, "load.shape.diurnal.hourly")
        }
        (None, Some(f)) => {
            let key = "load.shape.diurnal.factors";
            if f.value.is_empty() {
                return Err(ctx.at(f, key, "the list is empty: give at least 1 factor"));
            }
            if f.value.len() > MAX_DIURNAL_FACTORS {
                return Err(ctx.at(
                    f,
                    key,
                    format!("{} factors is too many (at most {MAX_DIURNAL_FACTORS})", f.value.len()),
                ));
            }
            (f, key)
        }
        (Some(_), Some(f)) => {
            return Err(ctx.at(
                f,
                "load.shape.diurnal.factors",
                "give either `hourly` (24 factors) or `factors` (any number over the period), not both",
            ))
        }
        (None, None) => {
            return Err(ctx.at(
                d,
                "load.shape.diurnal.hourly",
                "missing key `hourly` (24 factors, one per hour) or `factors` (any number spread over the period)",
            ))
        }
    };
    let n = list.value.len();
    if let Some(i) = list.value.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(ctx.at(
            list,
            key,
            format!("factors must be non-negative numbers (value {} of {n} is not)", i + 1),
        ));
    }
    if list.value.iter().all(|v| *v == 0.0) {
        return Err(ctx.at(list, key, format!("all {n} factors are 0: the run would send nothing")));
    }
    Ok(list.value.clone())
}

/// `shape.stages`: ramps (`to` over a time) and holds, one after another
/// from the base rate.
fn shape_stages(ctx: &Ctx, stages: &S<Vec<S<RawStage>>>, shape: &mut RateShape) -> Result<(), Error> {
    if stages.value.is_empty() {
        return Err(ctx.at(stages, "load.shape.stages", "the list of stages is empty"));
    }
    let mut t = 0.0;
    let mut rate = shape.base;
    for st in &stages.value {
        let v = &st.value;
        let (to, len) = match (v.to, v.over, v.hold) {
            (Some(to), Some(over), None) => (to.as_per_sec(), over.as_secs_f64()),
            (None, None, Some(hold)) => (rate, hold.as_secs_f64()),
            _ => {
                return Err(ctx.at(
                    st,
                    "load.shape.stages",
                    "each stage is either `{to: RATE, over: DURATION}` or `{hold: DURATION}`",
                ))
            }
        };
        shape.stages.push(Stage {
            start: t,
            end: t + len,
            from: rate,
            to,
        });
        t += len;
        rate = to;
    }
    Ok(())
}

/// `tenants:` how many (or which, `from_schema`), how requests are spread
/// over them, their ids and how a request names its tenant.
fn tenants(ctx: &Ctx, schemas: &Schemas, raw: S<RawTenants>) -> Result<Tenants, Error> {
    let line = raw.referenced.line();
    let t = raw.value;
    let (count, keys) = match (&t.count, &t.from_schema) {
        (Some(c), None) => match c.value.0 {
            0 => return Err(ctx.at(c, "tenants.count", "needs at least 1 tenant")),
            n if n > MAX_TENANTS => return Err(ctx.at(c, "tenants.count", "at most 100000000 tenants")),
            n => (n as u32, None),
        },
        (None, Some(f)) => {
            let keys = tenant_keys(ctx, schemas, f, &t)?;
            (keys.rows() as u32, Some(keys))
        }
        (Some(c), Some(_)) => {
            return Err(ctx.at(
                c,
                "tenants.count",
                "give `count` or `from_schema`, not both (with `from_schema` the count is the table's rows)",
            ))
        }
        (None, None) => {
            return Err(ctx.err(
                line,
                "tenants.count",
                "missing key `count` (how many tenants) or `from_schema` (tenant ids from a schema's table)",
            ))
        }
    };
    let skew = match &t.skew {
        None => Skew::Uniform,
        Some(s) => tenant_skew(ctx, s, count)?,
    };
    if let Some(id) = &t.id {
        if let Some(w) = super::index_widths(&id.value).find(|w| *w > MAX_KEY_WIDTH) {
            return Err(ctx.at(
                id,
                "tenants.id",
                format!("`{{index:{w}}}`: the width is at most {MAX_KEY_WIDTH} digits"),
            ));
        }
    }
    let id_format =
        t.id.as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_else(|| "{index}".to_string());
    let send_as = match &t.send_as {
        None => None,
        Some(s) => Some(send_as(ctx, s)?),
    };
    Ok(Tenants {
        count,
        id_format,
        keys,
        skew,
        send_as,
    })
}

/// Most tenants a profile may have.
const MAX_TENANTS: u64 = 100_000_000;

/// `tenants.from_schema`: the ids are a schema column's keys (no `pick`:
/// `skew` spreads the requests, rank 1 being the table's first row), and
/// `id` cannot be given too.
fn tenant_keys(ctx: &Ctx, schemas: &Schemas, f: &S<RawFromSchema>, t: &RawTenants) -> Result<KeySpace, Error> {
    let key = "tenants.from_schema";
    if let Some(id) = &t.id {
        return Err(ctx.at(
            id,
            "tenants.id",
            "with `from_schema` the ids are the schema's keys: drop `id`",
        ));
    }
    if f.value.pick.is_some() {
        return Err(ctx.at(
            f,
            format!("{key}.pick"),
            "tenants are spread by `tenants.skew` (rank 1 is the table's first row), not `pick`",
        ));
    }
    let keys = schema_keys(ctx, schemas, &f.value, f.referenced.line(), key)?;
    if keys.rows() > MAX_TENANTS {
        return Err(ctx.at(
            f,
            key,
            format!(
                "{} has {} rows: at most 100000000 tenants",
                keys.describe(),
                keys.rows()
            ),
        ));
    }
    Ok(keys)
}

/// A `from_schema` key space: the schema (resolved like any file the
/// profile names) loaded once per file, seed and scale, and its column
/// checked; errors point at `key` and carry the schema's own problem.
pub(super) fn schema_keys(
    ctx: &Ctx,
    schemas: &Schemas,
    f: &RawFromSchema,
    line: u64,
    key: &str,
) -> Result<KeySpace, Error> {
    if let Some(x) = f.scale {
        if !(x.is_finite() && x > 0.0) {
            return Err(ctx.err(line, format!("{key}.scale"), "the scale must be a positive number"));
        }
    }
    let path = resolve(ctx, &f.schema, line, &format!("{key}.schema"))?;
    let gen = schemas
        .generator(&path, f.seed, f.scale)
        .map_err(|e| ctx.err(line, format!("{key}.schema"), e.to_string()))?;
    key_space(gen, &f.table, &f.column).map_err(|e| {
        let k = match e {
            crate::profile::keys::KeyError::Table { .. } | crate::profile::keys::KeyError::Empty { .. } => "table",
            _ => "column",
        };
        ctx.err(line, format!("{key}.{k}"), e.to_string())
    })
}

/// `tenants.skew`: uniform, Zipf with a positive exponent, or one weight
/// per tenant from a CSV column.
fn tenant_skew(ctx: &Ctx, s: &S<RawSkew>, count: u32) -> Result<Skew, Error> {
    match &s.value {
        RawSkew::Name(n) if n == "uniform" => Ok(Skew::Uniform),
        RawSkew::Name(n) => Err(ctx.at(
            s,
            "tenants.skew",
            format!("unknown skew `{n}` (expected uniform, {{zipf: S}} or {{weights_csv: PATH, column: NAME}})"),
        )),
        RawSkew::Map(RawSkewMap {
            zipf: Some(z),
            weights_csv: None,
            column: None,
        }) => {
            if !(z.is_finite() && *z > 0.0) {
                return Err(ctx.at(
                    s,
                    "tenants.skew.zipf",
                    "the Zipf exponent must be a positive number (1.1 is typical)",
                ));
            }
            Ok(Skew::Zipf(*z))
        }
        RawSkew::Map(RawSkewMap {
            zipf: None,
            weights_csv: Some(file),
            column,
        }) => {
            let column = column.as_deref().unwrap_or("weight");
            Ok(Skew::Weights(tenant_weights(ctx, s, file, column, count)?))
        }
        RawSkew::Map(_) => Err(ctx.at(
            s,
            "tenants.skew",
            "write one of `uniform`, `{zipf: S}` or `{weights_csv: PATH, column: NAME}`",
        )),
    }
}

/// `weights_csv`: one non-negative weight per tenant, not all 0.
fn tenant_weights(ctx: &Ctx, s: &S<RawSkew>, file: &str, column: &str, count: u32) -> Result<Vec<f64>, Error> {
    let path = resolve(ctx, file, s.referenced.line(), "tenants.skew.weights_csv")?;
    let weights = read_csv_column(&path, column)
        .map_err(|m| ctx.at(s, "tenants.skew.weights_csv", m))?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|w| w.is_finite() && *w >= 0.0)
                .ok_or((i, v))
        })
        .collect::<Result<Vec<f64>, _>>()
        .map_err(|(i, v)| {
            ctx.at(
                s,
                "tenants.skew.weights_csv",
                format!(
                    "{}: row {} of column `{column}` is `{v}`, not a non-negative number",
                    path.display(),
                    i + 2
                ),
            )
        })?;
    if weights.len() != count as usize {
        return Err(ctx.at(
            s,
            "tenants.skew.weights_csv",
            format!(
                "{} has {} weights but tenants.count is {count}",
                path.display(),
                weights.len()
            ),
        ));
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(ctx.at(s, "tenants.skew.weights_csv", "the weights sum to 0"));
    }
    Ok(weights)
}

/// `tenants.send_as`: exactly one of a header (with a valid name), a path
/// variable or a query parameter.
fn send_as(ctx: &Ctx, s: &S<RawSendAs>) -> Result<SendAs, Error> {
    match &s.value {
        RawSendAs {
            header: Some(h),
            path_var: None,
            query: None,
        } => {
            if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                return Err(ctx.at(s, "tenants.send_as.header", format!("`{h}` is not a valid header name")));
            }
            Ok(SendAs::Header(h.clone()))
        }
        RawSendAs {
            header: None,
            path_var: Some(p),
            query: None,
        } => Ok(SendAs::PathVar(p.clone())),
        RawSendAs {
            header: None,
            path_var: None,
            query: Some(q),
        } => Ok(SendAs::Query(q.clone())),
        _ => Err(ctx.at(
            s,
            "tenants.send_as",
            "write exactly one of `{header: NAME}`, `{path_var: NAME}` or `{query: NAME}`",
        )),
    }
}

/// Every value of one column of a CSV file with a header row.
pub(super) fn read_csv_column(path: &Path, column: &str) -> Result<Vec<String>, String> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let headers = rdr.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone();
    let idx = headers.iter().position(|h| h == column).ok_or_else(|| {
        format!(
            "{} has no column `{column}` (columns: {})",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })?;
    let mut values = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?;
        values.push(rec.get(idx).unwrap_or_default().to_string());
    }
    if values.is_empty() {
        return Err(format!("{} has no rows", path.display()));
    }
    Ok(values)
}
