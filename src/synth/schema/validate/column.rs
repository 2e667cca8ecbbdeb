//! One column of a schema: which generator, its parameters and modifiers
//! (`nulls`, `unique`, `min`/`max`, `round`, `type`), each checked with the
//! file, line and key of the mistake.

use std::collections::BTreeSet;

use super::super::raw::*;
use super::super::*;
use super::{Ctx, PendingAfter, PendingRef};

const GENERATORS: &str =
    "key, serial, fake, pattern, one_of, timestamp, date, ref, uniform, normal, lognormal, exponential, poisson, zipf, bool, uuid, json, value";

type ColumnParts = (Column, Option<PendingRef>, Option<PendingAfter>);

pub(super) fn column(
    ctx: &Ctx,
    key: &str,
    name: &str,
    c: &S<RawColumn>,
    locale: Locale,
    nested: bool,
) -> Result<ColumnParts, Error> {
    let r = &c.value;
    let line = c.referenced.line();
    let given: Vec<&str> = [
        ("key", r.key.is_some()),
        ("serial", r.serial.is_some()),
        ("fake", r.fake.is_some()),
        ("pattern", r.pattern.is_some()),
        ("one_of", r.one_of.is_some()),
        ("timestamp", r.timestamp.is_some()),
        ("date", r.date.is_some()),
        ("ref", r.reference.is_some()),
        ("uniform", r.uniform.is_some()),
        ("normal", r.normal.is_some()),
        ("lognormal", r.lognormal.is_some()),
        ("exponential", r.exponential.is_some()),
        ("poisson", r.poisson.is_some()),
        ("zipf", r.zipf.is_some()),
        ("bool", r.bool.is_some()),
        ("uuid", r.uuid.is_some()),
        ("json", r.json.is_some()),
        ("value", r.value.is_some()),
    ]
    .into_iter()
    .filter(|(_, g)| *g)
    .map(|(n, _)| n)
    .collect();
    match given.len() {
        0 => return Err(ctx.err(line, key, format!("no generator (give one of: {GENERATORS})"))),
        1 => {}
        _ => {
            return Err(ctx.err(
                line,
                key,
                format!(
                    "more than one generator ({}); a column has exactly one",
                    given.join(", ")
                ),
            ))
        }
    }
    let nulls = match &r.nulls {
        None => 0.0,
        Some(n) => match n.value {
            Num::Share(f) => f,
            _ => {
                return Err(ctx.at(
                    n,
                    format!("{key}.nulls"),
                    "write the share of NULLs as a percentage, e.g. `20%`",
                ))
            }
        },
    };
    let unique = r.unique.as_ref().is_some_and(|u| u.value);
    let num_opt = |v: &Option<S<Num>>, k: &str| -> Result<Option<f64>, Error> {
        match v {
            None => Ok(None),
            Some(n) => match n.value {
                Num::Share(_) => Err(ctx.at(n, format!("{key}.{k}"), "expected a number, not a percentage")),
                x => Ok(Some(x.as_f64())),
            },
        }
    };
    let min = num_opt(&r.min, "min")?;
    let max = num_opt(&r.max, "max")?;
    let ints_written = [&r.min, &r.max]
        .iter()
        .all(|o| o.as_ref().is_none_or(|n| n.value.is_int()));
    if let (Some(s), None) = (&r.skew, &r.reference) {
        return Err(ctx.at(s, format!("{key}.skew"), "`skew` is for `ref` columns"));
    }
    if let (Some(l), None) = (&r.locale, &r.fake) {
        return Err(ctx.at(l, format!("{key}.locale"), "`locale` is for `fake` columns"));
    }
    let is_number = r.uniform.is_some()
        || r.normal.is_some()
        || r.lognormal.is_some()
        || r.exponential.is_some()
        || r.poisson.is_some()
        || r.zipf.is_some();
    for (opt, k) in [(&r.min, "min"), (&r.max, "max")] {
        if let Some(o) = opt {
            if !is_number {
                return Err(ctx.at(o, format!("{key}.{k}"), format!("`{k}` is for numeric generators")));
            }
        }
    }
    if let Some(o) = &r.round {
        if !is_number {
            return Err(ctx.at(o, format!("{key}.round"), "`round` is for numeric generators"));
        }
    }
    let mut pending_ref = None;
    let mut pending_after = None;
    let (gen, mut kind) = if let Some(k) = &r.key {
        (Gen::Key(key_format(ctx, k, key)?), Kind::Text)
    } else if let Some(s) = &r.serial {
        let Num::Int(start) = s.value else {
            return Err(ctx.at(
                s,
                format!("{key}.serial"),
                "the first value of a serial must be a whole number",
            ));
        };
        (Gen::Serial { start }, Kind::Int)
    } else if let Some(f) = &r.fake {
        let kind: FakeKind = f
            .value
            .parse()
            .map_err(|e| ctx.at(f, format!("{key}.fake"), format!("{e}")))?;
        let loc = match &r.locale {
            Some(l) => l
                .value
                .parse()
                .map_err(|e| ctx.at(l, format!("{key}.locale"), format!("{e}")))?,
            None => locale,
        };
        (Gen::Fake { kind, locale: loc }, Kind::Text)
    } else if let Some(p) = &r.pattern {
        let pat = Pattern::parse(&p.value).map_err(|e| ctx.at(p, format!("{key}.pattern"), e))?;
        (Gen::Pattern(pat), Kind::Text)
    } else if let Some(o) = &r.one_of {
        let k = format!("{key}.one_of");
        let (choices, weights) = match &o.value {
            RawChoices::Equal(v) => (v.clone(), vec![1.0; v.len()]),
            RawChoices::Weighted(v) => {
                let shares = v.iter().filter(|(_, w)| matches!(w, Num::Share(_))).count();
                if shares != 0 && shares != v.len() {
                    return Err(ctx.at(
                        o,
                        k,
                        "give every choice a percentage, or every choice a weight, not a mix",
                    ));
                }
                let total: f64 = v.iter().map(|(_, w)| w.as_f64()).sum();
                if shares == v.len() && (total - 1.0).abs() > 1e-6 {
                    return Err(ctx.at(
                        o,
                        k,
                        format!(
                            "the shares add up to {}%, not 100%",
                            (total * 100.0 * 1e6).round() / 1e6
                        ),
                    ));
                }
                if let Some((c, _)) = v.iter().find(|(_, w)| w.as_f64() < 0.0 || !w.as_f64().is_finite()) {
                    return Err(ctx.at(o, k, format!("the weight of `{c}` must be a positive number")));
                }
                (
                    v.iter().map(|(c, _)| c.clone()).collect(),
                    v.iter().map(|(_, w)| w.as_f64()).collect(),
                )
            }
        };
        if choices.is_empty() || weights.iter().sum::<f64>() <= 0.0 {
            return Err(ctx.at(o, format!("{key}.one_of"), "no choices with a weight above zero"));
        }
        let mut seen = BTreeSet::new();
        if let Some(d) = choices.iter().find(|c| !seen.insert(c.as_str())) {
            return Err(ctx.at(o, format!("{key}.one_of"), format!("the choice `{d}` is listed twice")));
        }
        let kind = if choices.iter().all(|c| c.parse::<i64>().is_ok()) {
            Kind::Int
        } else if choices.iter().all(|c| c.parse::<f64>().is_ok()) {
            Kind::Float
        } else if choices.iter().all(|c| c == "true" || c == "false") {
            Kind::Bool
        } else {
            Kind::Text
        };
        (Gen::OneOf { choices, weights }, kind)
    } else if let Some(t) = r.timestamp.as_ref().or(r.date.as_ref()) {
        let is_date = r.date.is_some();
        let k = format!("{key}.{}", if is_date { "date" } else { "timestamp" });
        let (tg, after) = time_gen(ctx, &k, t, is_date)?;
        pending_after = after;
        (Gen::Time(tg), if is_date { Kind::Date } else { Kind::Timestamp })
    } else if let Some(rf) = &r.reference {
        if nested {
            return Err(ctx.at(rf, format!("{key}.ref"), "`ref` cannot be used inside `json`"));
        }
        let Some((t, c)) = rf.value.split_once('.') else {
            return Err(ctx.at(
                rf,
                format!("{key}.ref"),
                format!("write `ref: table.column`, not `{}`", rf.value),
            ));
        };
        let skew = match &r.skew {
            None => Skew::Uniform,
            Some(s) => match &s.value {
                RawSkew::Named(n) if n == "uniform" => Skew::Uniform,
                RawSkew::Named(n) => {
                    return Err(ctx.at(
                        s,
                        format!("{key}.skew"),
                        format!("unknown skew `{n}` (expected `uniform` or `{{zipf: S}}`)"),
                    ))
                }
                RawSkew::Zipf(z) => {
                    let v = z.as_f64();
                    if !(v > 0.0 && v.is_finite()) || matches!(z, Num::Share(_)) {
                        return Err(ctx.at(
                            s,
                            format!("{key}.skew.zipf"),
                            "the Zipf exponent must be a positive number",
                        ));
                    }
                    Skew::Zipf(v)
                }
            },
        };
        if unique && skew != Skew::Uniform {
            return Err(ctx.at(
                rf,
                format!("{key}.skew"),
                "a `unique` reference maps rows one to one; it cannot be skewed",
            ));
        }
        pending_ref = Some(PendingRef {
            table: t.to_string(),
            column: c.to_string(),
            skew,
            line: rf.referenced.line(),
            key: format!("{key}.ref"),
        });
        // Replaced when the reference is resolved.
        (Gen::Const(String::new()), Kind::Text)
    } else if is_number {
        number(ctx, key, r, min, max, ints_written)?
    } else if let Some(b) = &r.bool {
        let p = match b.value {
            Num::Share(p) => p,
            _ => {
                return Err(ctx.at(
                    b,
                    format!("{key}.bool"),
                    "write the share of `true` as a percentage, e.g. `bool: 30%`",
                ))
            }
        };
        (Gen::Bool(p), Kind::Bool)
    } else if let Some(u) = &r.uuid {
        if !u.value {
            return Err(ctx.at(u, format!("{key}.uuid"), "write `uuid: true`"));
        }
        (Gen::Uuid, Kind::Uuid)
    } else if let Some(j) = &r.json {
        let mut fields = Vec::new();
        for (fname, f) in &j.value {
            let (col, _, a) = column(ctx, &format!("{key}.json.{fname}"), fname, f, locale, true)?;
            if a.is_some() {
                return Err(ctx.at(f, format!("{key}.json.{fname}"), "`after` cannot be used inside `json`"));
            }
            fields.push(col);
        }
        if fields.is_empty() {
            return Err(ctx.at(j, format!("{key}.json"), "a JSON object needs at least one field"));
        }
        (Gen::Json(fields), Kind::Json)
    } else if let Some(v) = &r.value {
        let s = v.value.0.clone();
        let kind = if s.parse::<i64>().is_ok() {
            Kind::Int
        } else if s.parse::<f64>().is_ok() {
            Kind::Float
        } else if s == "true" || s == "false" {
            Kind::Bool
        } else {
            Kind::Text
        };
        (Gen::Const(s), kind)
    } else {
        return Err(ctx.err(line, key, format!("no generator (give one of: {GENERATORS})")));
    };
    let mut gen = gen;
    if let Some(t) = &r.sql_type {
        if pending_ref.is_some() {
            return Err(ctx.at(
                t,
                format!("{key}.type"),
                "a `ref` column has the type of the column it points at",
            ));
        }
        let Some(k) = Kind::parse(&t.value.to_ascii_lowercase()) else {
            return Err(ctx.at(
                t,
                format!("{key}.type"),
                format!("unknown type `{}` (known: {})", t.value, Kind::NAMES),
            ));
        };
        let fits = k == kind
            || k == Kind::Text
            || (k == Kind::Float && kind == Kind::Int)
            || (k == Kind::Int && matches!(gen, Gen::Number { .. }))
            || (k == Kind::Date && kind == Kind::Timestamp);
        if !fits {
            return Err(ctx.at(
                t,
                format!("{key}.type"),
                format!("`{}` values cannot be stored as `{}`", kind_name(kind), t.value),
            ));
        }
        match &mut gen {
            Gen::Number { int, .. } if matches!(k, Kind::Int | Kind::Float) => *int = k == Kind::Int,
            Gen::Time(tg) if k == Kind::Date => tg.date = true,
            _ => {}
        }
        kind = k;
    }
    if unique {
        let ok = matches!(
            gen,
            Gen::Serial { .. }
                | Gen::Key(_)
                | Gen::Fake { .. }
                | Gen::Pattern(_)
                | Gen::Uuid
                | Gen::Const(_)
                | Gen::Time(_)
        ) || matches!(gen, Gen::Number { dist: Dist::Uniform { .. }, .. } if kind == Kind::Int);
        let ok = ok && !matches!(&gen, Gen::Time(t) if t.diurnal.is_some() || t.after.is_some() || t.date);
        let ok = ok || pending_ref.is_some();
        if !ok || pending_after.is_some() {
            return Err(ctx.err(
                line,
                format!("{key}.unique"),
                "`unique: true` works with key, serial, fake, pattern, uuid, integer `uniform`, plain timestamp ranges (not dates) and `ref`",
            ));
        }
        if nulls > 0.0 {
            return Err(ctx.err(
                line,
                format!("{key}.unique"),
                "a unique column cannot also have `nulls`",
            ));
        }
    }
    Ok((
        Column {
            name: name.to_string(),
            gen,
            nulls,
            unique,
            kind,
            line: line as usize,
        },
        pending_ref,
        pending_after,
    ))
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Int => "integer",
        Kind::Float => "float",
        Kind::Bool => "boolean",
        Kind::Text => "text",
        Kind::Timestamp => "timestamp",
        Kind::Date => "date",
        Kind::Uuid => "uuid",
        Kind::Json => "json",
    }
}

fn key_format(ctx: &Ctx, k: &S<String>, key: &str) -> Result<KeyFormat, Error> {
    let s = &k.value;
    let bad = || {
        ctx.at(
            k,
            format!("{key}.key"),
            format!("`{s}`: a key template holds `{{index}}` or `{{index:05}}` once, e.g. `t-{{index:05}}`"),
        )
    };
    let start = s.find("{index").ok_or_else(bad)?;
    let end = start + s[start..].find('}').ok_or_else(bad)?;
    let spec = &s[start + "{index".len()..end];
    let width = match spec {
        "" => 0,
        w => w
            .strip_prefix(':')
            .and_then(|w| w.parse::<usize>().ok())
            .ok_or_else(bad)?,
    };
    let (prefix, suffix) = (&s[..start], &s[end + 1..]);
    if suffix.contains("{index") {
        return Err(bad());
    }
    // A suffix that starts with a digit would make `1` + `2x` equal `12` + `x`.
    if suffix.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(ctx.at(
            k,
            format!("{key}.key"),
            "the text after `{index}` cannot start with a digit (keys would collide)",
        ));
    }
    Ok(KeyFormat {
        prefix: prefix.to_string(),
        width,
        suffix: suffix.to_string(),
    })
}

fn number(
    ctx: &Ctx,
    key: &str,
    r: &RawColumn,
    min: Option<f64>,
    max: Option<f64>,
    ints_written: bool,
) -> Result<(Gen, Kind), Error> {
    let pos = |n: &S<Num>, k: &str| -> Result<f64, Error> {
        let v = n.value.as_f64();
        if matches!(n.value, Num::Share(_)) || !(v > 0.0 && v.is_finite()) {
            return Err(ctx.at(n, format!("{key}.{k}"), "must be a positive number"));
        }
        Ok(v)
    };
    let (dist, int) = if let Some(u) = &r.uniform {
        if u.value.len() != 2 {
            return Err(ctx.at(u, format!("{key}.uniform"), "write `uniform: [low, high]`"));
        }
        let (lo, hi) = (&u.value[0], &u.value[1]);
        if matches!(lo.value, Num::Share(_))
            || matches!(hi.value, Num::Share(_))
            || lo.value.as_f64() > hi.value.as_f64()
        {
            return Err(ctx.at(
                u,
                format!("{key}.uniform"),
                "write `uniform: [low, high]` with low <= high",
            ));
        }
        let int = lo.value.is_int() && hi.value.is_int();
        (
            Dist::Uniform {
                lo: lo.value.as_f64(),
                hi: hi.value.as_f64(),
            },
            int,
        )
    } else if let Some(n) = &r.normal {
        let sd = pos(&n.value.sd, "normal.sd")?;
        (
            Dist::Normal {
                mean: n.value.mean.value.as_f64(),
                sd,
            },
            n.value.mean.value.is_int(),
        )
    } else if let Some(n) = &r.lognormal {
        let median = pos(&n.value.median, "lognormal.median")?;
        let sigma = pos(&n.value.sigma, "lognormal.sigma")?;
        (Dist::LogNormal { median, sigma }, n.value.median.value.is_int())
    } else if let Some(n) = &r.exponential {
        let mean = pos(&n.value.mean, "exponential.mean")?;
        (Dist::Exponential { mean }, n.value.mean.value.is_int())
    } else if let Some(n) = &r.poisson {
        let mean = pos(&n.value.mean, "poisson.mean")?;
        (Dist::Poisson { mean }, true)
    } else if let Some(z) = &r.zipf {
        let Num::Int(n) = z.value.n.value else {
            return Err(ctx.at(&z.value.n, format!("{key}.zipf.n"), "must be a whole number of ranks"));
        };
        if n < 1 {
            return Err(ctx.at(&z.value.n, format!("{key}.zipf.n"), "must be at least 1"));
        }
        let s = pos(&z.value.s, "zipf.s")?;
        (Dist::Zipf { n: n as u64, s }, true)
    } else {
        return Err(ctx.err(0, key, "no numeric generator (a bug: please report it)"));
    };
    if let (Some(a), Some(b), Some(m)) = (min, max, &r.min) {
        if a > b {
            return Err(ctx.at(m, format!("{key}.min"), format!("min {a} is above max {b}")));
        }
    }
    let int = int && ints_written && r.round.is_none();
    let round = r.round.as_ref().map(|x| x.value);
    Ok((
        Gen::Number {
            dist,
            min,
            max,
            round,
            int,
        },
        if int { Kind::Int } else { Kind::Float },
    ))
}

fn time_gen(
    ctx: &Ctx,
    key: &str,
    t: &S<RawTimestamp>,
    is_date: bool,
) -> Result<(TimeGen, Option<PendingAfter>), Error> {
    let r = &t.value;
    let parse = |s: &Option<S<Scalar>>, k: &str| -> Result<Option<i64>, Error> {
        match s {
            None => Ok(None),
            Some(v) => parse_instant(&v.value.0)
                .map(Some)
                .map_err(|e| ctx.at(v, format!("{key}.{k}"), e)),
        }
    };
    let from = parse(&r.from, "from")?;
    let to = parse(&r.to, "to")?;
    let diurnal = match &r.diurnal {
        None
        | Some(S {
            value: RawDiurnal::On(false),
            ..
        }) => None,
        Some(S {
            value: RawDiurnal::On(true),
            ..
        }) => Some(DEFAULT_DAY),
        Some(
            d @ S {
                value: RawDiurnal::Weights(w),
                ..
            },
        ) => {
            if w.len() != 24 || w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || w.iter().sum::<f64>() <= 0.0 {
                return Err(ctx.at(
                    d,
                    format!("{key}.diurnal"),
                    "give 24 hourly weights (0 or more, not all 0), or `true`",
                ));
            }
            let mut a = [0.0; 24];
            a.copy_from_slice(w);
            Some(a)
        }
    };
    if let Some(a) = &r.after {
        if from.is_some() {
            return Err(ctx.at(a, format!("{key}.after"), "give `after` or `from`, not both"));
        }
        if diurnal.is_some() {
            return Err(ctx.at(
                a,
                format!("{key}.after"),
                "`diurnal` works with `from`/`to` ranges, not with `after`",
            ));
        }
        let within = r.within.as_ref().map(|w| w.value.as_secs_f64() as i64);
        let (first, second) = match a.value.split_once('.') {
            Some((f, s)) => (f.to_string(), Some(s.to_string())),
            None => (a.value.clone(), None),
        };
        return Ok((
            TimeGen {
                from: 0,
                to: to.unwrap_or(i64::MIN),
                diurnal: None,
                after: None,
                within,
                date: is_date,
            },
            Some(PendingAfter {
                first,
                second,
                line: a.referenced.line(),
                key: format!("{key}.after"),
            }),
        ));
    }
    if let Some(w) = &r.within {
        return Err(ctx.at(w, format!("{key}.within"), "`within` goes with `after`"));
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ctx.at(
            t,
            key,
            "give `from` and `to` (e.g. `{from: 2021-01-01, to: 2026-11-01}`), or `after`",
        ));
    };
    if to <= from {
        return Err(ctx.at(t, format!("{key}.to"), "`to` must be later than `from`"));
    }
    Ok((
        TimeGen {
            from,
            to,
            diurnal,
            after: None,
            within: None,
            date: is_date,
        },
        None,
    ))
}

/// When people buy: quiet at night, a morning rise, an evening peak
/// (relative weights per hour, UTC).
pub const DEFAULT_DAY: [f64; 24] = [
    0.30, 0.20, 0.15, 0.12, 0.12, 0.18, 0.35, 0.60, 0.85, 1.00, 1.05, 1.10, 1.15, 1.10, 1.05, 1.05, 1.10, 1.20, 1.35,
    1.45, 1.40, 1.15, 0.80, 0.50,
];

/// `2021-01-01`, `2021-01-01 12:00:00`, `2021-01-01T12:00:00Z` (UTC unless
/// an offset is given) to Unix seconds.
pub fn parse_instant(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC
            .to_timestamp(dt)
            .map(|t| t.as_second())
            .map_err(|e| e.to_string());
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return jiff::tz::TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .map(|t| t.as_second())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "`{s}` is not a date (write `2021-01-01` or `2021-01-01T12:00:00Z`)"
    ))
}
