//! One column of a schema: which generator, its parameters and modifiers
//! (`nulls`, `unique`, `min`/`max`, `round`, `type`), each checked with the
//! file, line and key of the mistake.
//!
//! The checks run in a fixed order (the generator count, the modifiers, the
//! generator's own parameters, `type`, then `unique`), so a column with
//! several mistakes always reports the same one first.

use std::collections::BTreeSet;

use strum::VariantNames as _;

use super::super::raw::*;
use super::super::*;
use super::{Ctx, PendingAfter, PendingRef};

const GENERATORS: &str =
    "key, serial, fake, pattern, one_of, timestamp, date, ref, uniform, normal, lognormal, exponential, poisson, zipf, quantiles, bool, uuid, json, value";

type ColumnParts = (Column, Option<PendingRef>, Option<PendingAfter>);

/// Where a column sits: its line, its table's default locale, and whether
/// it is a field inside a `json` column.
#[derive(Clone, Copy)]
struct Place {
    line: u64,
    locale: Locale,
    nested: bool,
}

/// The modifiers every generator may be given, checked.
struct Modifiers {
    nulls: f64,
    unique: bool,
    min: Option<f64>,
    max: Option<f64>,
    /// `min` and `max`, where given, are written as whole numbers.
    ints_written: bool,
}

/// A column's generator, checked, with its type before any `type:` and
/// what can only be resolved once every table is known.
struct Generated {
    gen: Gen,
    kind: Kind,
    pending_ref: Option<PendingRef>,
    pending_after: Option<PendingAfter>,
}

impl Generated {
    /// A generator with nothing left to resolve.
    fn plain((gen, kind): (Gen, Kind)) -> Generated {
        Generated {
            gen,
            kind,
            pending_ref: None,
            pending_after: None,
        }
    }
}

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
    one_generator(ctx, line, key, r)?;
    let m = modifiers(ctx, key, r)?;
    let place = Place { line, locale, nested };
    let g = generator(ctx, key, r, &m, place)?;
    let g = sql_type(ctx, key, r, g)?;
    if m.unique {
        unique_fits(ctx, line, key, &g, m.nulls)?;
    }
    Ok((
        Column {
            name: name.to_string(),
            gen: g.gen,
            nulls: m.nulls,
            unique: m.unique,
            kind: g.kind,
            line: line as usize,
        },
        g.pending_ref,
        g.pending_after,
    ))
}

/// A column names exactly one generator.
fn one_generator(ctx: &Ctx, line: u64, key: &str, r: &RawColumn) -> Result<(), Error> {
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
        ("quantiles", r.quantiles.is_some()),
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
        0 => Err(ctx.err(line, key, format!("no generator (give one of: {GENERATORS})"))),
        1 => Ok(()),
        _ => Err(ctx.err(
            line,
            key,
            format!(
                "more than one generator ({}); a column has exactly one",
                given.join(", ")
            ),
        )),
    }
}

/// `nulls`, `unique`, `min` and `max` read, then each modifier checked
/// against the kind of generator it was given with.
fn modifiers(ctx: &Ctx, key: &str, r: &RawColumn) -> Result<Modifiers, Error> {
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
    modifiers_fit(ctx, key, r)?;
    Ok(Modifiers {
        nulls,
        unique,
        min,
        max,
        ints_written,
    })
}

/// `skew`, `locale`, `min`, `max` and `round` each belong to one kind of
/// generator.
fn modifiers_fit(ctx: &Ctx, key: &str, r: &RawColumn) -> Result<(), Error> {
    if let (Some(s), None) = (&r.skew, &r.reference) {
        return Err(ctx.at(s, format!("{key}.skew"), "`skew` is for `ref` columns"));
    }
    if let (Some(l), None) = (&r.locale, &r.fake) {
        return Err(ctx.at(l, format!("{key}.locale"), "`locale` is for `fake` columns"));
    }
    let is_number = is_number(r);
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
    Ok(())
}

/// The generator is one of the numeric distributions.
fn is_number(r: &RawColumn) -> bool {
    r.uniform.is_some()
        || r.normal.is_some()
        || r.lognormal.is_some()
        || r.exponential.is_some()
        || r.poisson.is_some()
        || r.zipf.is_some()
        || r.quantiles.is_some()
}

/// The one generator the column names, with its parameters checked.
fn generator(ctx: &Ctx, key: &str, r: &RawColumn, m: &Modifiers, place: Place) -> Result<Generated, Error> {
    let plain = if let Some(k) = &r.key {
        (Gen::Key(key_format(ctx, k, key)?), Kind::Text)
    } else if let Some(s) = &r.serial {
        serial(ctx, key, s)?
    } else if let Some(f) = &r.fake {
        fake(ctx, key, f, &r.locale, place.locale)?
    } else if let Some(p) = &r.pattern {
        let pat = Pattern::parse(&p.value).map_err(|e| ctx.at(p, format!("{key}.pattern"), e.to_string()))?;
        (Gen::Pattern(pat), Kind::Text)
    } else if let Some(o) = &r.one_of {
        one_of(ctx, key, o)?
    } else if let Some(t) = r.timestamp.as_ref().or(r.date.as_ref()) {
        let is_date = r.date.is_some();
        let k = format!("{key}.{}", if is_date { "date" } else { "timestamp" });
        let (tg, after) = time_gen(ctx, &k, t, is_date)?;
        return Ok(Generated {
            gen: Gen::Time(tg),
            kind: if is_date { Kind::Date } else { Kind::Timestamp },
            pending_ref: None,
            pending_after: after,
        });
    } else if let Some(rf) = &r.reference {
        if place.nested {
            return Err(ctx.at(rf, format!("{key}.ref"), "`ref` cannot be used inside `json`"));
        }
        return Ok(Generated {
            // Replaced when the reference is resolved.
            gen: Gen::Const(String::new()),
            kind: Kind::Text,
            pending_ref: Some(reference(ctx, key, r, rf, m.unique)?),
            pending_after: None,
        });
    } else if is_number(r) {
        number(ctx, key, r, m)?
    } else if let Some(b) = &r.bool {
        (Gen::Bool(bool_share(ctx, key, b)?), Kind::Bool)
    } else if let Some(u) = &r.uuid {
        if !u.value {
            return Err(ctx.at(u, format!("{key}.uuid"), "write `uuid: true`"));
        }
        (Gen::Uuid, Kind::Uuid)
    } else if let Some(j) = &r.json {
        (Gen::Json(json_fields(ctx, key, j, place.locale)?), Kind::Json)
    } else if let Some(v) = &r.value {
        let s = v.value.0.clone();
        let kind = literals_kind(std::slice::from_ref(&s));
        (Gen::Const(s), kind)
    } else {
        return Err(ctx.err(place.line, key, format!("no generator (give one of: {GENERATORS})")));
    };
    Ok(Generated::plain(plain))
}

/// `serial: N`: whole numbers from N up.
fn serial(ctx: &Ctx, key: &str, s: &S<Num>) -> Result<(Gen, Kind), Error> {
    let Num::Int(start) = s.value else {
        return Err(ctx.at(
            s,
            format!("{key}.serial"),
            "the first value of a serial must be a whole number",
        ));
    };
    Ok((Gen::Serial { start }, Kind::Int))
}

/// `fake: KIND`, in the column's own `locale` or else its table's.
fn fake(
    ctx: &Ctx,
    key: &str,
    f: &S<String>,
    own_locale: &Option<S<String>>,
    locale: Locale,
) -> Result<(Gen, Kind), Error> {
    let kind: FakeKind = f
        .value
        .parse()
        .map_err(|e| ctx.at(f, format!("{key}.fake"), format!("{e}")))?;
    let loc = match own_locale {
        Some(l) => l
            .value
            .parse()
            .map_err(|e| ctx.at(l, format!("{key}.locale"), format!("{e}")))?,
        None => locale,
    };
    Ok((Gen::Fake { kind, locale: loc }, Kind::Text))
}

/// `one_of`: distinct choices with weights that make sense; the column's
/// type is the one every choice can be read as.
fn one_of(ctx: &Ctx, key: &str, o: &S<RawChoices>) -> Result<(Gen, Kind), Error> {
    let (choices, weights) = match &o.value {
        RawChoices::Equal(v) => (v.clone(), vec![1.0; v.len()]),
        RawChoices::Weighted(v) => weighted_choices(ctx, key, o, v)?,
    };
    if choices.is_empty() || weights.iter().sum::<f64>() <= 0.0 {
        return Err(ctx.at(o, format!("{key}.one_of"), "no choices with a weight above zero"));
    }
    let mut seen = BTreeSet::new();
    if let Some(d) = choices.iter().find(|c| !seen.insert(c.as_str())) {
        return Err(ctx.at(o, format!("{key}.one_of"), format!("the choice `{d}` is listed twice")));
    }
    let kind = literals_kind(&choices);
    Ok((Gen::OneOf { choices, weights }, kind))
}

/// `{a: 70%, b: 30%}` or `{a: 3, b: 1}` split into choices and weights:
/// all shares (adding up to 100%) or all weights, none negative.
fn weighted_choices(
    ctx: &Ctx,
    key: &str,
    o: &S<RawChoices>,
    v: &[(String, Num)],
) -> Result<(Vec<String>, Vec<f64>), Error> {
    let k = format!("{key}.one_of");
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
    Ok((
        v.iter().map(|(c, _)| c.clone()).collect(),
        v.iter().map(|(_, w)| w.as_f64()).collect(),
    ))
}

/// The narrowest type every one of these written values can be read as.
fn literals_kind(values: &[String]) -> Kind {
    if values.iter().all(|c| c.parse::<i64>().is_ok()) {
        Kind::Int
    } else if values.iter().all(|c| c.parse::<f64>().is_ok()) {
        Kind::Float
    } else if values.iter().all(|c| c == "true" || c == "false") {
        Kind::Bool
    } else {
        Kind::Text
    }
}

/// `ref: table.column` by name, with its `skew`, to resolve once every
/// table is known.
fn reference(ctx: &Ctx, key: &str, r: &RawColumn, rf: &S<String>, unique: bool) -> Result<PendingRef, Error> {
    let Some((t, c)) = rf.value.split_once('.') else {
        return Err(ctx.at(
            rf,
            format!("{key}.ref"),
            format!("write `ref: table.column`, not `{}`", rf.value),
        ));
    };
    let skew = match &r.skew {
        None => Skew::Uniform,
        Some(s) => skew(ctx, key, s)?,
    };
    if unique && skew != Skew::Uniform {
        return Err(ctx.at(
            rf,
            format!("{key}.skew"),
            "a `unique` reference maps rows one to one; it cannot be skewed",
        ));
    }
    Ok(PendingRef {
        table: t.to_string(),
        column: c.to_string(),
        skew,
        line: rf.referenced.line(),
        key: format!("{key}.ref"),
    })
}

/// `skew: uniform` or `skew: {zipf: S}` with a positive exponent.
fn skew(ctx: &Ctx, key: &str, s: &S<RawSkew>) -> Result<Skew, Error> {
    match &s.value {
        RawSkew::Named(n) if n == "uniform" => Ok(Skew::Uniform),
        RawSkew::Named(n) => Err(ctx.at(
            s,
            format!("{key}.skew"),
            format!("unknown skew `{n}` (expected `uniform` or `{{zipf: S}}`)"),
        )),
        RawSkew::Zipf(z) => {
            let v = z.as_f64();
            if !(v > 0.0 && v.is_finite()) || matches!(z, Num::Share(_)) {
                return Err(ctx.at(
                    s,
                    format!("{key}.skew.zipf"),
                    "the Zipf exponent must be a positive number",
                ));
            }
            Ok(Skew::Zipf(v))
        }
    }
}

/// `bool: 30%`: the share of `true`.
fn bool_share(ctx: &Ctx, key: &str, b: &S<Num>) -> Result<f64, Error> {
    match b.value {
        Num::Share(p) => Ok(p),
        _ => Err(ctx.at(
            b,
            format!("{key}.bool"),
            "write the share of `true` as a percentage, e.g. `bool: 30%`",
        )),
    }
}

/// `json`: each field a column of its own (no `ref`, no `after`), at least
/// one.
fn json_fields(
    ctx: &Ctx,
    key: &str,
    j: &S<indexmap::IndexMap<String, S<RawColumn>>>,
    locale: Locale,
) -> Result<Vec<Column>, Error> {
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
    Ok(fields)
}

/// `type:` stores the generated values as another type where they fit it
/// (integers as floats, anything as text, timestamps as dates, ...).
fn sql_type(ctx: &Ctx, key: &str, r: &RawColumn, g: Generated) -> Result<Generated, Error> {
    let Some(t) = &r.sql_type else {
        return Ok(g);
    };
    let Generated {
        mut gen,
        kind,
        pending_ref,
        pending_after,
    } = g;
    if pending_ref.is_some() {
        return Err(ctx.at(
            t,
            format!("{key}.type"),
            "a `ref` column has the type of the column it points at",
        ));
    }
    let Ok(k) = t.value.to_ascii_lowercase().parse::<Kind>() else {
        return Err(ctx.at(
            t,
            format!("{key}.type"),
            format!("unknown type `{}` (known: {})", t.value, Kind::VARIANTS.join(", ")),
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
            format!("`{}` values cannot be stored as `{}`", <&str>::from(kind), t.value),
        ));
    }
    match &mut gen {
        Gen::Number { int, .. } if matches!(k, Kind::Int | Kind::Float) => *int = k == Kind::Int,
        Gen::Time(tg) if k == Kind::Date => tg.date = true,
        _ => {}
    }
    Ok(Generated {
        gen,
        kind: k,
        pending_ref,
        pending_after,
    })
}

/// `unique: true` goes only with generators that can promise distinct
/// values, and never with `nulls`.
fn unique_fits(ctx: &Ctx, line: u64, key: &str, g: &Generated, nulls: f64) -> Result<(), Error> {
    let (gen, kind) = (&g.gen, g.kind);
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
    let ok =
        ok && !matches!(gen, Gen::Time(t) if t.diurnal.is_some() || t.weekly.is_some() || t.after.is_some() || t.date);
    let ok = ok || g.pending_ref.is_some();
    if !ok || g.pending_after.is_some() {
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
    Ok(())
}

/// `key: t-{index:05}`: a prefix, the row number (zero-padded to a width)
/// and a suffix that cannot run into the number.
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
    if width > MAX_KEY_WIDTH {
        return Err(ctx.at(
            k,
            format!("{key}.key"),
            format!("`{{index:{width}}}`: the width is at most {MAX_KEY_WIDTH} digits"),
        ));
    }
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

/// A numeric generator: its distribution, `min` no greater than `max`, and
/// whether its values are whole numbers.
fn number(ctx: &Ctx, key: &str, r: &RawColumn, m: &Modifiers) -> Result<(Gen, Kind), Error> {
    let (dist, int) = distribution(ctx, key, r)?;
    if let (Some(a), Some(b), Some(mn)) = (m.min, m.max, &r.min) {
        if a > b {
            return Err(ctx.at(mn, format!("{key}.min"), format!("min {a} is above max {b}")));
        }
    }
    let int = int && m.ints_written && r.round.is_none();
    let round = r.round.as_ref().map(|x| x.value);
    Ok((
        Gen::Number {
            dist,
            min: m.min,
            max: m.max,
            round,
            int,
        },
        if int { Kind::Int } else { Kind::Float },
    ))
}

/// The column's distribution with its parameters checked, and whether
/// they are written as whole numbers.
fn distribution(ctx: &Ctx, key: &str, r: &RawColumn) -> Result<(Dist, bool), Error> {
    let pos = |n: &S<Num>, k: &str| positive(ctx, key, n, k);
    if let Some(u) = &r.uniform {
        uniform(ctx, key, u)
    } else if let Some(n) = &r.normal {
        let sd = pos(&n.value.sd, "normal.sd")?;
        Ok((
            Dist::Normal {
                mean: n.value.mean.value.as_f64(),
                sd,
            },
            n.value.mean.value.is_int(),
        ))
    } else if let Some(n) = &r.lognormal {
        let median = pos(&n.value.median, "lognormal.median")?;
        let sigma = pos(&n.value.sigma, "lognormal.sigma")?;
        Ok((Dist::LogNormal { median, sigma }, n.value.median.value.is_int()))
    } else if let Some(n) = &r.exponential {
        let mean = pos(&n.value.mean, "exponential.mean")?;
        Ok((Dist::Exponential { mean }, n.value.mean.value.is_int()))
    } else if let Some(n) = &r.poisson {
        let mean = pos(&n.value.mean, "poisson.mean")?;
        Ok((Dist::Poisson { mean }, true))
    } else if let Some(z) = &r.zipf {
        let Num::Int(n) = z.value.n.value else {
            return Err(ctx.at(&z.value.n, format!("{key}.zipf.n"), "must be a whole number of ranks"));
        };
        if n < 1 {
            return Err(ctx.at(&z.value.n, format!("{key}.zipf.n"), "must be at least 1"));
        }
        let s = pos(&z.value.s, "zipf.s")?;
        Ok((Dist::Zipf { n: n as u64, s }, true))
    } else if let Some(q) = &r.quantiles {
        quantiles(ctx, key, q)
    } else {
        Err(ctx.err(0, key, "no numeric generator (a bug: please report it)"))
    }
}

/// `quantiles: [p1, p5, p10, p25, p50, p75, p90, p95, p99]`: nine finite
/// numbers, never decreasing; whole numbers when all are written as such.
fn quantiles(ctx: &Ctx, key: &str, q: &S<Vec<S<Num>>>) -> Result<(Dist, bool), Error> {
    let bad = || {
        ctx.at(
            q,
            format!("{key}.quantiles"),
            "give the 9 values at the 1%, 5%, 10%, 25%, 50%, 75%, 90%, 95% and 99% levels, in order, never decreasing",
        )
    };
    if q.value.len() != QUANTILE_LEVELS.len() {
        return Err(bad());
    }
    let mut points = [0.0; 9];
    for (p, v) in points.iter_mut().zip(&q.value) {
        if matches!(v.value, Num::Share(_)) || !v.value.as_f64().is_finite() {
            return Err(bad());
        }
        *p = v.value.as_f64();
    }
    if points.windows(2).any(|w| w[1] < w[0]) {
        return Err(bad());
    }
    let int = q.value.iter().all(|v| v.value.is_int());
    Ok((Dist::Quantiles(points), int))
}

/// A distribution parameter that must be a positive, finite number.
fn positive(ctx: &Ctx, key: &str, n: &S<Num>, k: &str) -> Result<f64, Error> {
    let v = n.value.as_f64();
    if matches!(n.value, Num::Share(_)) || !(v > 0.0 && v.is_finite()) {
        return Err(ctx.at(n, format!("{key}.{k}"), "must be a positive number"));
    }
    Ok(v)
}

/// `uniform: [low, high]` with low <= high; whole numbers when both are
/// written as such.
fn uniform(ctx: &Ctx, key: &str, u: &S<Vec<S<Num>>>) -> Result<(Dist, bool), Error> {
    if u.value.len() != 2 {
        return Err(ctx.at(u, format!("{key}.uniform"), "write `uniform: [low, high]`"));
    }
    let (lo, hi) = (&u.value[0], &u.value[1]);
    if matches!(lo.value, Num::Share(_)) || matches!(hi.value, Num::Share(_)) || lo.value.as_f64() > hi.value.as_f64() {
        return Err(ctx.at(
            u,
            format!("{key}.uniform"),
            "write `uniform: [low, high]` with low <= high",
        ));
    }
    let int = lo.value.is_int() && hi.value.is_int();
    Ok((
        Dist::Uniform {
            lo: lo.value.as_f64(),
            hi: hi.value.as_f64(),
        },
        int,
    ))
}

/// A `timestamp` or `date` generator: a `from`/`to` range (with an optional
/// day curve), or `after` another column (resolved later by name).
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
                .map_err(|e| ctx.at(v, format!("{key}.{k}"), e.to_string())),
        }
    };
    let from = parse(&r.from, "from")?;
    let to = parse(&r.to, "to")?;
    let diurnal = diurnal(ctx, key, &r.diurnal)?;
    let weekly = weekly(ctx, key, &r.weekly)?;
    if let (Some(a), Some(w)) = (&r.after, &r.weekly) {
        return Err(ctx.at(
            a,
            format!("{key}.after"),
            format!(
                "`weekly` (line {}) works with `from`/`to` ranges, not with `after`",
                w.referenced.line()
            ),
        ));
    }
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
        let (tg, after) = after_gen(key, r, a, to, is_date);
        return Ok((tg, Some(after)));
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
            weekly,
            after: None,
            within: None,
            date: is_date,
        },
        None,
    ))
}

/// `weekly:` seven day-of-week weights, Monday first, 0 or more and not all 0.
fn weekly(ctx: &Ctx, key: &str, w: &Option<S<Vec<Num>>>) -> Result<Option<[f64; 7]>, Error> {
    let Some(w) = w else { return Ok(None) };
    let v: Vec<f64> = w.value.iter().map(|n| n.as_f64()).collect();
    if v.len() != 7
        || w.value.iter().any(|n| matches!(n, Num::Share(_)))
        || v.iter().any(|x| !(x.is_finite() && *x >= 0.0))
        || v.iter().sum::<f64>() <= 0.0
    {
        return Err(ctx.at(
            w,
            format!("{key}.weekly"),
            "give 7 day-of-week weights, Monday first (0 or more, not all 0)",
        ));
    }
    let mut a = [0.0; 7];
    a.copy_from_slice(&v);
    Ok(Some(a))
}

/// `diurnal:` as 24 hourly weights: `true` is [`DEFAULT_DAY`], a list must
/// hold 24 weights, 0 or more and not all 0.
fn diurnal(ctx: &Ctx, key: &str, d: &Option<S<RawDiurnal>>) -> Result<Option<[f64; 24]>, Error> {
    match d {
        None
        | Some(S {
            value: RawDiurnal::On(false),
            ..
        }) => Ok(None),
        Some(S {
            value: RawDiurnal::On(true),
            ..
        }) => Ok(Some(DEFAULT_DAY)),
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
            Ok(Some(a))
        }
    }
}

/// A time that follows another column's (`after: column` or
/// `after: ref_column.parent_column`): the range is filled in once the
/// column it follows is resolved.
fn after_gen(key: &str, r: &RawTimestamp, a: &S<String>, to: Option<i64>, is_date: bool) -> (TimeGen, PendingAfter) {
    let within = r.within.as_ref().map(|w| w.value.as_secs_f64() as i64);
    let (first, second) = match a.value.split_once('.') {
        Some((f, s)) => (f.to_string(), Some(s.to_string())),
        None => (a.value.clone(), None),
    };
    (
        TimeGen {
            from: 0,
            to: to.unwrap_or(i64::MIN),
            diurnal: None,
            weekly: None,
            after: None,
            within,
            date: is_date,
        },
        PendingAfter {
            first,
            second,
            line: a.referenced.line(),
            key: format!("{key}.after"),
        },
    )
}

/// When people buy: quiet at night, a morning rise, an evening peak
/// (relative weights per hour, UTC).
pub const DEFAULT_DAY: [f64; 24] = [
    0.30, 0.20, 0.15, 0.12, 0.12, 0.18, 0.35, 0.60, 0.85, 1.00, 1.05, 1.10, 1.15, 1.10, 1.05, 1.05, 1.10, 1.20, 1.35,
    1.45, 1.40, 1.15, 0.80, 0.50,
];

/// Why a `from`/`to` value is not an instant.
#[derive(Debug, thiserror::Error)]
pub enum InstantError {
    /// Not written as a date, a date and time, or an RFC 3339 timestamp.
    #[error("`{0}` is not a date (write `2021-01-01` or `2021-01-01T12:00:00Z`)")]
    NotADate(String),
    /// A date and time that has no Unix timestamp (out of jiff's range).
    #[error(transparent)]
    OutOfRange(#[from] jiff::Error),
}

/// `2021-01-01`, `2021-01-01 12:00:00`, `2021-01-01T12:00:00Z` (UTC unless
/// an offset is given) to Unix seconds.
pub fn parse_instant(s: &str) -> Result<i64, InstantError> {
    let t = s.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return Ok(jiff::tz::TimeZone::UTC.to_timestamp(dt)?.as_second());
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return Ok(jiff::tz::TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))?
            .as_second());
    }
    Err(InstantError::NotADate(s.to_string()))
}
