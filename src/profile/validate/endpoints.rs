//! Endpoints and their template variables: names, weights and the
//! read/write rescaling, methods, templates compiled against the variable
//! table, and each variable's generator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Zipf;

use super::{read_csv_column, resolve, Ctx};
use crate::profile::keys::Schemas;
use crate::profile::raw::*;
use crate::profile::template::{Context, Template};
use crate::profile::token::{Alphabet, TokenError, TokenSpace};
use crate::profile::vars::{Pick, VarGen};
use crate::profile::*;
use crate::values::{FakeKind, Locale};

pub(super) fn endpoints(
    ctx: &Ctx,
    schemas: &Schemas,
    list: S<Vec<RawEndpoint>>,
    read_write: Option<&S<crate::units::Split>>,
    tenants: Option<&Tenants>,
) -> Result<Vec<Endpoint>, Error> {
    if list.value.is_empty() {
        return Err(ctx.at(
            &list,
            "endpoints",
            "the endpoint list is empty: add at least one endpoint",
        ));
    }
    if list.value.len() > crate::results::MAX_ENDPOINTS {
        return Err(ctx.at(
            &list,
            "endpoints",
            format!(
                "{} endpoints, more than {}: the summary, gate and report keep histograms per endpoint \
                 and read at most that many (group paths under one endpoint with a template variable)",
                list.value.len(),
                crate::results::MAX_ENDPOINTS
            ),
        ));
    }
    let list_line = list.referenced.line();
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, e) in list.value.into_iter().enumerate() {
        out.push(endpoint(ctx, schemas, i, e, &mut names, tenants)?);
    }
    let total: f64 = out.iter().map(|e| e.weight).sum();
    if total <= 0.0 {
        return Err(ctx.err(
            list_line,
            "endpoints.weight",
            "the endpoint weights sum to 0: no request could be sent",
        ));
    }
    match read_write {
        None => {
            for e in &mut out {
                e.share = e.weight / total;
            }
        }
        Some(rw) => {
            let sum_of = |k: Kind| out.iter().filter(|e| e.kind == k).map(|e| e.weight).sum::<f64>();
            let (reads, writes) = (sum_of(Kind::Read), sum_of(Kind::Write));
            for (share, sum, what) in [(rw.value.read, reads, "read"), (rw.value.write, writes, "write")] {
                if share > 0.0 && sum <= 0.0 {
                    return Err(ctx.at(
                        rw,
                        "load.read_write",
                        format!(
                            "asks for {}% {what}s but no endpoint of kind `{what}` has a weight",
                            share * 100.0
                        ),
                    ));
                }
            }
            for e in &mut out {
                let (share, sum) = match e.kind {
                    Kind::Read => (rw.value.read, reads),
                    Kind::Write => (rw.value.write, writes),
                };
                e.share = if sum > 0.0 { share * e.weight / sum } else { 0.0 };
            }
        }
    }
    Ok(out)
}

/// One endpoint checked, its variables built and its templates compiled
/// against them (the weight's `share` is filled in by [`endpoints`]).
fn endpoint(
    ctx: &Ctx,
    schemas: &Schemas,
    i: usize,
    e: RawEndpoint,
    names: &mut BTreeSet<String>,
    tenants: Option<&Tenants>,
) -> Result<Endpoint, Error> {
    let key = |k: &str| format!("endpoints[{i}].{k}");
    let name = endpoint_name(ctx, &e.name, &key("name"), names)?;
    let weight = e.weight.value;
    if !(weight.is_finite() && weight >= 0.0) {
        return Err(ctx.at(&e.weight, key("weight"), "the weight must be a non-negative number"));
    }
    let method = match &e.method {
        None => http::Method::GET,
        Some(m) => http::Method::from_bytes(m.value.to_ascii_uppercase().as_bytes())
            .map_err(|_| ctx.at(m, key("method"), format!("`{}` is not an HTTP method", m.value)))?,
    };
    let kind = endpoint_kind(ctx, &e.kind, &method, &key("kind"))?;
    if !e.path.value.starts_with('/') {
        return Err(ctx.at(&e.path, key("path"), "the path must start with `/`"));
    }
    // The literal text only: `{{ tenant }}` may have spaces inside its braces.
    let literal: String = e
        .path
        .value
        .split("{{")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.split_once("}}").map_or(part, |(_, rest)| rest)
            }
        })
        .collect();
    if let Some(c) = literal.chars().find(|c| c.is_whitespace() || c.is_control()) {
        // It would split the request line (a folded YAML line is a space).
        return Err(ctx.at(
            &e.path,
            key("path"),
            format!("the path holds {c:?}, which would break the request line: write it percent-encoded (`%20` for a space)"),
        ));
    }
    let tenant_alias = match tenants.and_then(|t| t.send_as.as_ref()) {
        Some(SendAs::PathVar(p)) => Some(p.clone()),
        _ => None,
    };
    let vars = var_table(ctx, schemas, &e.vars, tenant_alias.as_deref(), &key("vars"))?;
    let templates = Templates {
        ctx,
        vars: &vars,
        vars_key: key("vars"),
        tenant_alias: tenant_alias.as_deref(),
        tenants,
    };
    let path = templates.compile(&e.path, Context::Url, &key("path"))?;
    let headers = templates.headers(&e.headers, &key("headers"))?;
    let body = match &e.body {
        None => None,
        Some(b) => Some(templates.compile(b, body_context(&e.headers), &key("body"))?),
    };
    let expect = expect(ctx, &e.expect, &key("expect"))?;
    Ok(Endpoint {
        name,
        weight,
        share: 0.0,
        kind,
        method,
        path,
        headers,
        body,
        vars,
        expect,
    })
}

/// An endpoint's name, trimmed: letters, digits, `_`, `-`, `.`, and not
/// taken by an earlier endpoint.
fn endpoint_name(ctx: &Ctx, n: &S<String>, key: &str, names: &mut BTreeSet<String>) -> Result<String, Error> {
    let name = n.value.trim().to_string();
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok {
        return Err(ctx.at(
            n,
            key,
            format!("`{name}` is not a valid endpoint name (letters, digits, `_`, `-`, `.`)"),
        ));
    }
    if !names.insert(name.clone()) {
        return Err(ctx.at(n, key, format!("endpoint `{name}` is defined twice")));
    }
    Ok(name)
}

/// `kind: read|write` as written, else read for GET, HEAD and OPTIONS and
/// write for any other method.
fn endpoint_kind(ctx: &Ctx, k: &Option<S<String>>, method: &http::Method, key: &str) -> Result<Kind, Error> {
    match k {
        None => Ok(Kind::of_method(method.as_str())),
        Some(k) => k
            .value
            .parse()
            .map_err(|_| ctx.at(k, key, format!("unknown kind `{}` (expected read or write)", k.value))),
    }
}

/// The variable table: built-ins first (`tenant`, `request`), then the
/// endpoint's own, which may not reuse a built-in's name.
fn var_table(
    ctx: &Ctx,
    schemas: &Schemas,
    raw: &BTreeMap<String, S<RawVar>>,
    tenant_alias: Option<&str>,
    vars_key: &str,
) -> Result<Vec<(String, Option<VarGen>)>, Error> {
    let mut vars: Vec<(String, Option<VarGen>)> = vec![("tenant".into(), None), ("request".into(), None)];
    for (vname, spec) in raw {
        let vkey = format!("{vars_key}.{vname}");
        if vname == "tenant" || vname == "request" || Some(vname.as_str()) == tenant_alias {
            return Err(ctx.at(
                spec,
                &vkey,
                format!("`{vname}` is a built-in variable and cannot be redefined"),
            ));
        }
        vars.push((vname.clone(), Some(var(ctx, schemas, spec, &vkey)?)));
    }
    Ok(vars)
}

/// A JSON body (its values escaped as JSON) when a `content-type` header
/// says json, else a raw one.
fn body_context(headers: &BTreeMap<String, S<String>>) -> Context {
    let json = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.value.to_ascii_lowercase().contains("json"));
    if json {
        Context::JsonBody
    } else {
        Context::RawBody
    }
}

/// `expect:` a non-empty list of HTTP statuses.
fn expect(ctx: &Ctx, x: &Option<S<Vec<u16>>>, key: &str) -> Result<Option<Vec<u16>>, Error> {
    match x {
        None => Ok(None),
        Some(x) if x.value.is_empty() => Err(ctx.at(x, key, "list at least one status")),
        Some(x) => {
            if let Some(bad) = x.value.iter().find(|s| !(100..=599).contains(*s)) {
                return Err(ctx.at(x, key, format!("{bad} is not an HTTP status")));
            }
            Ok(Some(x.value.clone()))
        }
    }
}

/// What an endpoint's templates are compiled against: its variable table
/// and, with `tenants:`, the tenant under its own name or alias.
struct Templates<'a> {
    ctx: &'a Ctx<'a>,
    vars: &'a [(String, Option<VarGen>)],
    /// `endpoints[i].vars`, where an undefined name's hint points.
    vars_key: String,
    tenant_alias: Option<&'a str>,
    tenants: Option<&'a Tenants>,
}

impl Templates<'_> {
    /// The index of the variable a template names, if it has one.
    fn lookup(&self, n: &str) -> Option<usize> {
        if n == "tenant" || Some(n) == self.tenant_alias {
            return self.tenants.map(|_| super::VAR_TENANT);
        }
        self.vars.iter().position(|(v, _)| v == n)
    }

    /// `s` compiled for where it goes; an undefined name says how to define it.
    fn compile(&self, s: &S<String>, context: Context, k: &str) -> Result<Template, Error> {
        Template::compile(&s.value, context, |n| self.lookup(n)).map_err(|err| {
            let hint = match &err {
                super::template::TemplateError::Undefined { name } if name == "tenant" => {
                    " (add a `tenants:` section to the profile)".to_string()
                }
                super::template::TemplateError::Undefined { .. } => format!(" (define it under {})", self.vars_key),
                _ => String::new(),
            };
            self.ctx.at(s, k, format!("{err}{hint}"))
        })
    }

    /// Each header's name checked (valid, not one loadline sets itself) and
    /// its value compiled.
    fn headers(&self, raw: &BTreeMap<String, S<String>>, headers_key: &str) -> Result<Vec<(String, Template)>, Error> {
        let mut headers = Vec::new();
        for (hname, hvalue) in raw {
            let hk = format!("{headers_key}.{hname}");
            if http::HeaderName::from_bytes(hname.as_bytes()).is_err() {
                return Err(self
                    .ctx
                    .at(hvalue, &hk, format!("`{hname}` is not a valid header name")));
            }
            if hname.eq_ignore_ascii_case("content-length") || hname.eq_ignore_ascii_case("host") {
                return Err(self.ctx.at(hvalue, &hk, format!("`{hname}` is set by loadline itself")));
            }
            headers.push((hname.clone(), self.compile(hvalue, Context::Header, &hk)?));
        }
        Ok(headers)
    }
}

/// A variable's one generator, checked and built.
fn var(ctx: &Ctx, schemas: &Schemas, spec: &S<RawVar>, key: &str) -> Result<VarGen, Error> {
    let v = &spec.value;
    let given = [
        v.zipf.is_some(),
        v.uniform.is_some(),
        v.fake.is_some(),
        v.csv.is_some(),
        v.one_of.is_some(),
        v.sequence.is_some(),
        v.uuid.is_some(),
        v.token.is_some(),
        v.from_schema.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        return Err(ctx.at(
            spec,
            key,
            "a variable has exactly one generator: zipf, uniform, fake, csv, one_of, sequence, uuid, token or from_schema",
        ));
    }
    if let Some(z) = &v.zipf {
        return zipf_var(ctx, spec, z, key);
    }
    if let Some([lo, hi]) = v.uniform {
        return uniform_var(ctx, spec, lo, hi, key);
    }
    if let Some(f) = &v.fake {
        return fake_var(ctx, spec, f, key);
    }
    if let Some(c) = &v.csv {
        return csv_var(ctx, spec, c, key);
    }
    if let Some(o) = &v.one_of {
        return one_of_var(ctx, spec, o, key);
    }
    if let Some(s) = &v.sequence {
        return Ok(VarGen::Sequence(s.start.unwrap_or(1)));
    }
    if let Some(t) = &v.token {
        return token_var(ctx, spec, t, key);
    }
    if let Some(f) = &v.from_schema {
        let k = format!("{key}.from_schema");
        let keys = super::schema_keys(ctx, schemas, f, spec.referenced.line(), &k)?;
        let pick = pick(ctx, spec, f.pick.as_deref(), keys.rows(), &format!("{k}.pick"))?;
        return Ok(VarGen::Schema { keys, pick });
    }
    Ok(VarGen::Uuid)
}

/// `zipf: {n, s, from}`: ranks 1..=n written as `from..from + n`, n at
/// least 1, s positive, the last value within a 64-bit integer.
fn zipf_var(ctx: &Ctx, spec: &S<RawVar>, z: &RawZipf, key: &str) -> Result<VarGen, Error> {
    if z.n.0 == 0 || !(z.s.is_finite() && z.s > 0.0) {
        return Err(ctx.at(spec, format!("{key}.zipf"), "needs n >= 1 and a positive exponent s"));
    }
    let from = z.from.unwrap_or(1);
    let last = i64::try_from(z.n.0 - 1).ok().and_then(|span| from.checked_add(span));
    if last.is_none() {
        return Err(ctx.at(
            spec,
            format!("{key}.zipf.from"),
            "from + n - 1 is beyond the largest 64-bit integer",
        ));
    }
    let dist = Zipf::new(z.n.0 as f64, z.s).map_err(|e| ctx.at(spec, format!("{key}.zipf"), e.to_string()))?;
    Ok(VarGen::Zipf { dist, from })
}

/// `token: {len, alphabet, n, pick}`: n distinct ids of len characters.
fn token_var(ctx: &Ctx, spec: &S<RawVar>, t: &RawToken, key: &str) -> Result<VarGen, Error> {
    let alphabet: Alphabet = match t.alphabet.as_deref() {
        None => Alphabet::Alnum,
        Some(a) => a.parse().map_err(|_| {
            ctx.at(
                spec,
                format!("{key}.token.alphabet"),
                format!("unknown alphabet `{a}` (expected one of: {})", Alphabet::names()),
            )
        })?,
    };
    let space = TokenSpace::new(t.len, alphabet, t.n.0).map_err(|e| {
        let k = match e {
            TokenError::Len(_) => "len",
            TokenError::Empty | TokenError::TooSmall { .. } => "n",
        };
        ctx.at(spec, format!("{key}.token.{k}"), e.to_string())
    })?;
    let pick = pick(ctx, spec, t.pick.as_deref(), t.n.0, &format!("{key}.token.pick"))?;
    Ok(VarGen::Token { space, pick })
}

/// `pick:` of a list of `n` values: `uniform` (the default), `sequential`,
/// or `zipf:S` (`zipf` alone is `zipf:1.0`; S a positive number).
fn pick(ctx: &Ctx, spec: &S<RawVar>, p: Option<&str>, n: u64, key: &str) -> Result<Pick, Error> {
    match p.map(str::trim) {
        None | Some("uniform") => Ok(Pick::Uniform),
        Some("sequential") => Ok(Pick::Sequential),
        Some(p) if p.starts_with("zipf") => {
            let s = p["zipf".len()..].trim_start_matches([':', ' ']);
            let s: f64 = if s.is_empty() {
                1.0
            } else {
                s.parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| ctx.at(spec, key, format!("`{p}`: the Zipf exponent must be a positive number")))?
            };
            Zipf::new(n as f64, s)
                .map(Pick::Zipf)
                .map_err(|e| ctx.at(spec, key, e.to_string()))
        }
        Some(other) => Err(ctx.at(
            spec,
            key,
            format!("unknown pick `{other}` (expected uniform, sequential or zipf:S)"),
        )),
    }
}

/// `uniform: [low, high]`: whole numbers when both ends are (and small
/// enough to be exact in a float), else floats.
fn uniform_var(ctx: &Ctx, spec: &S<RawVar>, lo: f64, hi: f64, key: &str) -> Result<VarGen, Error> {
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(ctx.at(spec, format!("{key}.uniform"), "write `[low, high]` with low <= high"));
    }
    Ok(
        if lo.fract() == 0.0 && hi.fract() == 0.0 && lo.abs() < 9e15 && hi.abs() < 9e15 {
            VarGen::UniformInt(lo as i64, hi as i64)
        } else {
            VarGen::UniformFloat(lo, hi)
        },
    )
}

/// `fake: KIND` or `fake: {name, locale}` (English unless given).
fn fake_var(ctx: &Ctx, spec: &S<RawVar>, f: &RawFake, key: &str) -> Result<VarGen, Error> {
    let (name, locale) = match f {
        RawFake::Name(n) => (n.as_str(), None),
        RawFake::Full { name, locale } => (name.as_str(), locale.as_deref()),
    };
    let kind: FakeKind = name
        .parse()
        .map_err(|e: crate::values::fake::UnknownFake| ctx.at(spec, format!("{key}.fake"), e.to_string()))?;
    let locale: Locale = match locale {
        None => Locale::En,
        Some(l) => l.parse().map_err(|e: crate::values::fake::UnknownLocale| {
            ctx.at(spec, format!("{key}.fake.locale"), e.to_string())
        })?,
    };
    Ok(VarGen::Fake(kind, locale))
}

/// `csv: {path, column, pick}`: the column's values read now, picked
/// uniformly, in order or by Zipf rank.
fn csv_var(ctx: &Ctx, spec: &S<RawVar>, c: &RawCsv, key: &str) -> Result<VarGen, Error> {
    let path = resolve(ctx, &c.path, spec.referenced.line(), &format!("{key}.csv.path"))?;
    let values = read_csv_column(&path, &c.column).map_err(|m| ctx.at(spec, format!("{key}.csv"), m))?;
    let pick = pick(
        ctx,
        spec,
        c.pick.as_deref(),
        values.len() as u64,
        &format!("{key}.csv.pick"),
    )?;
    Ok(VarGen::Csv {
        values: Arc::new(values),
        pick,
    })
}

/// `one_of`: a list (equal weights) or values with shares, at least one
/// with a weight above 0.
fn one_of_var(ctx: &Ctx, spec: &S<RawVar>, o: &RawOneOf, key: &str) -> Result<VarGen, Error> {
    let (values, weights): (Vec<String>, Vec<f64>) = match o {
        RawOneOf::List(l) => (l.clone(), vec![1.0; l.len()]),
        RawOneOf::Weighted(m) => (m.keys().cloned().collect(), m.values().map(|p| p.fraction()).collect()),
    };
    if values.is_empty() || weights.iter().sum::<f64>() <= 0.0 {
        return Err(ctx.at(
            spec,
            format!("{key}.one_of"),
            "needs at least one value with a weight above 0",
        ));
    }
    let idx = WeightedAliasIndex::new(weights).map_err(|e| ctx.at(spec, format!("{key}.one_of"), e.to_string()))?;
    Ok(VarGen::OneOf {
        values,
        weights: Arc::new(idx),
    })
}
