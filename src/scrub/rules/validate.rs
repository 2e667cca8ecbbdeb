//! Raw rules to typed [`Rules`]: one transformer per column, `same_as`
//! resolved to the column whose pseudonyms it shares, the key read from
//! where the rules say it lives. Every error names the line and the key.

use std::path::Path;

use indexmap::IndexMap;
use strum::VariantNames;

use super::raw::{RawMask, RawPseudonymize, RawRedact, RawRule, RawRuleMap, RawRules, RawShift, RawTable, S};
use super::{ColumnRule, Error, Mask, PseudoKind, Redact, Rules, TableRules, Transform, Unlisted};
use crate::scrub::detect::Kind;
use crate::scrub::keyed::Secret;
use crate::values::fake::{did_you_mean, FakeKind, Locale};

/// The shortest key accepted: shorter secrets can be guessed.
pub const MIN_KEY_BYTES: usize = 16;

type Ctx<'a> = crate::yaml::Ctx<'a, Error>;

/// Check the rules file as written (`path` names it in errors) and resolve it into [`Rules`].
pub fn validate(raw: RawRules, path: &Path) -> Result<Rules, Error> {
    let cx = Ctx::new(path);
    let default_unlisted = match &raw.unlisted_columns {
        Some(u) => unlisted(&cx, u)?,
        None => Unlisted::Fail,
    };
    let default_locale = match &raw.locale {
        Some(l) => l
            .value
            .parse::<Locale>()
            .map_err(|e| cx.err(l.referenced.line(), "locale", e.to_string()))?,
        None => Locale::En,
    };
    if raw.tables.value.is_empty() {
        return Err(cx.err(raw.tables.referenced.line(), "tables", "no tables: list at least one"));
    }

    // First pass: each column's own transformer; `same_as` left for later.
    let mut tables = IndexMap::new();
    let mut same_as: Vec<SameAs> = Vec::new();
    for (tname, t) in &raw.tables.value {
        let rules = table(&cx, tname, t, default_unlisted, default_locale, &mut same_as)?;
        tables.insert(tname.clone(), rules);
    }
    // Second pass: `same_as: users.id` shares users.id's pseudonyms.
    resolve_shared(&cx, &mut tables, same_as)?;
    let key = resolve_key(&cx, &raw.key)?;
    Ok(Rules {
        path: path.to_path_buf(),
        key,
        unlisted: default_unlisted,
        tables,
    })
}

/// A column that shares another's pseudonyms: (table, column, `same_as` target, its `as`).
type SameAs = (String, String, S<String>, Option<PseudoKind>);

/// One table's rules: each column's own transformer, its identity columns and what happens
/// to columns it does not list; columns with `same_as` are added to `same_as`.
fn table(
    cx: &Ctx,
    tname: &str,
    t: &S<RawTable>,
    default_unlisted: Unlisted,
    default_locale: Locale,
    same_as: &mut Vec<SameAs>,
) -> Result<TableRules, Error> {
    let tline = t.referenced.line();
    if t.value.columns.value.is_empty() {
        return Err(cx.err(tline, tname, "no columns: list the table's columns"));
    }
    let mut columns = IndexMap::new();
    for (cname, c) in &t.value.columns.value {
        let line = c.referenced.line();
        let transform = match &c.value {
            RawRule::Word(w) => word(cx, line, cname, w)?,
            RawRule::Map(m) => {
                let (tr, pending) = map(cx, line, tname, cname, m, default_locale)?;
                if let Some((target, kind)) = pending {
                    same_as.push((tname.to_string(), cname.clone(), target, kind));
                }
                tr
            }
        };
        columns.insert(
            cname.clone(),
            ColumnRule {
                line: line as usize,
                transform,
            },
        );
    }
    let identity = match &t.value.identity {
        Some(ids) => {
            if ids.value.is_empty() {
                return Err(cx.err(ids.referenced.line(), "identity", "list at least one column"));
            }
            Some(ids.value.clone())
        }
        None => None,
    };
    let table_unlisted = match &t.value.unlisted_columns {
        Some(u) => unlisted(cx, u)?,
        None => default_unlisted,
    };
    Ok(TableRules {
        name: tname.to_string(),
        line: tline as usize,
        unlisted: table_unlisted,
        identity,
        columns,
    })
}

/// Point each `same_as` column at the pseudonyms of the column that owns them; an `as`
/// given beside `same_as` must be the owner's.
fn resolve_shared(cx: &Ctx, tables: &mut IndexMap<String, TableRules>, same_as: Vec<SameAs>) -> Result<(), Error> {
    let sharing: Vec<String> = same_as.iter().map(|(t, c, _, _)| format!("{t}.{c}")).collect();
    for (tname, cname, target, kind) in same_as {
        let line = target.referenced.line();
        let (root, root_kind) = resolve_same_as(cx, tables, &sharing, &target.value, line)?;
        if let Some(k) = kind {
            if k != root_kind {
                return Err(cx.err(
                    line,
                    "same_as",
                    format!(
                        "`{}` is pseudonymized as {}, not {}; leave out `as` to share it",
                        target.value,
                        root_kind.name(),
                        k.name()
                    ),
                ));
            }
        }
        if let Some(c) = tables.get_mut(&tname).and_then(|t| t.columns.get_mut(&cname)) {
            c.transform = Transform::Pseudonymize {
                kind: root_kind,
                domain: root,
            };
        }
    }
    Ok(())
}

fn unlisted(cx: &Ctx, u: &S<String>) -> Result<Unlisted, Error> {
    u.value.parse().map_err(|_| {
        cx.err(
            u.referenced.line(),
            "unlisted_columns",
            format!("`{}` is not one of {}", u.value, Unlisted::VARIANTS.join(", ")),
        )
    })
}

/// The transformers' names, for messages: `keep, drop, …, noise`.
fn transformers() -> String {
    Transform::VARIANTS.join(", ")
}

fn word(cx: &Ctx, line: u64, column: &str, w: &str) -> Result<Transform, Error> {
    Ok(match w {
        "keep" => Transform::Keep,
        "drop" => Transform::Drop,
        "null" => Transform::Null,
        "redact" => Transform::Redact(Redact {
            kinds: Kind::ALL.to_vec(),
            row_values: true,
        }),
        other => {
            let all = Transform::VARIANTS.iter().copied();
            let hint = did_you_mean(other, all);
            let needs_args = ["pseudonymize", "fake", "mask", "shift_date", "noise"].contains(&other);
            let message = if needs_args {
                format!("`{other}` needs arguments, e.g. `{{{other}: ...}}` (see the README)")
            } else {
                format!("unknown transformer `{other}`{hint} (known: {})", transformers())
            };
            return Err(cx.err(line, column, message));
        }
    })
}

type Pending = Option<(S<String>, Option<PseudoKind>)>;

/// A column's rule written as a map: exactly one transformer, with its arguments checked.
fn map(
    cx: &Ctx,
    line: u64,
    table: &str,
    column: &str,
    m: &RawRuleMap,
    default_locale: Locale,
) -> Result<(Transform, Pending), Error> {
    one_transformer(cx, line, column, m)?;
    if m.locale.is_some() && m.fake.is_none() {
        return Err(cx.err(line, "locale", "`locale` only goes with `fake`"));
    }
    if let Some(p) = &m.pseudonymize {
        return pseudonymize(cx, table, column, p);
    }
    if let Some(f) = &m.fake {
        let kind = f
            .value
            .parse::<FakeKind>()
            .map_err(|e| cx.err(f.referenced.line(), "fake", e.to_string()))?;
        let locale = match &m.locale {
            Some(l) => l
                .value
                .parse::<Locale>()
                .map_err(|e| cx.err(l.referenced.line(), "locale", e.to_string()))?,
            None => default_locale,
        };
        return Ok((Transform::Fake { kind, locale }, None));
    }
    if let Some(mk) = &m.mask {
        return Ok((Transform::Mask(mask(cx, mk)?), None));
    }
    if let Some(s) = &m.shift_date {
        return Ok((shift_date(cx, s)?, None));
    }
    if let Some(n) = &m.noise {
        let r = n.value.relative.value.fraction();
        if !(r > 0.0 && r < 1.0) {
            return Err(cx.err(
                n.value.relative.referenced.line(),
                "relative",
                "between 0% and 100%, both excluded (e.g. `5%`)",
            ));
        }
        return Ok((Transform::Noise { relative: r }, None));
    }
    if let Some(r) = &m.redact {
        return Ok((Transform::Redact(redact(cx, r)?), None));
    }
    if let Some(k) = &m.keep {
        return if k.value {
            Ok((Transform::Keep, None))
        } else {
            Err(cx.err(k.referenced.line(), "keep", "write `keep` or another transformer"))
        };
    }
    if let Some(d) = &m.drop {
        return if d.value {
            Ok((Transform::Drop, None))
        } else {
            Err(cx.err(d.referenced.line(), "drop", "write `drop` or another transformer"))
        };
    }
    Err(cx.err(line, column, format!("no transformer (one of: {})", transformers())))
}

/// A rule map names exactly one transformer.
fn one_transformer(cx: &Ctx, line: u64, column: &str, m: &RawRuleMap) -> Result<(), Error> {
    let given: Vec<&str> = [
        ("pseudonymize", m.pseudonymize.is_some()),
        ("fake", m.fake.is_some()),
        ("mask", m.mask.is_some()),
        ("shift_date", m.shift_date.is_some()),
        ("noise", m.noise.is_some()),
        ("redact", m.redact.is_some()),
        ("keep", m.keep.is_some()),
        ("drop", m.drop.is_some()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(n, _)| n)
    .collect();
    match given.len() {
        0 => Err(cx.err(line, column, format!("no transformer (one of: {})", transformers()))),
        1 => Ok(()),
        _ => Err(cx.err(
            line,
            column,
            format!("one transformer per column, found {}", given.join(" and ")),
        )),
    }
}

/// `pseudonymize: {as: KIND}` or `{same_as: table.column}`; the target of `same_as` is
/// resolved in a second pass, once every table is read.
fn pseudonymize(cx: &Ctx, table: &str, column: &str, p: &S<RawPseudonymize>) -> Result<(Transform, Pending), Error> {
    let pline = p.referenced.line();
    let kind = match &p.value.kind {
        Some(k) => Some(k.value.parse::<PseudoKind>().map_err(|_| {
            cx.err(
                k.referenced.line(),
                "as",
                format!(
                    "`{}` is not one of {}{}",
                    k.value,
                    PseudoKind::VARIANTS.join(", "),
                    did_you_mean(&k.value, PseudoKind::VARIANTS.iter().copied())
                ),
            )
        })?),
        None => None,
    };
    match (&p.value.same_as, kind) {
        (Some(target), kind) => Ok((
            // Placeholder until the second pass resolves the target.
            Transform::Keep,
            Some((clone_spanned(target), kind)),
        )),
        (None, Some(kind)) => Ok((
            Transform::Pseudonymize {
                kind,
                domain: format!("{table}.{column}"),
            },
            None,
        )),
        (None, None) => Err(cx.err(
            pline,
            "pseudonymize",
            "say what the values are (`as: integer|email|uuid|text`) or which column's pseudonyms to share (`same_as: table.column`)",
        )),
    }
}

/// `mask: {keep_first, keep_last, with}` or `{all: true}`.
fn mask(cx: &Ctx, mk: &S<RawMask>) -> Result<Mask, Error> {
    let mline = mk.referenced.line();
    let r = &mk.value;
    let all = r.all.as_ref().is_some_and(|a| a.value);
    let keep_first = r.keep_first.as_ref().map_or(0, |k| k.value);
    let keep_last = r.keep_last.as_ref().map_or(0, |k| k.value);
    if all && (keep_first > 0 || keep_last > 0) {
        return Err(cx.err(
            mline,
            "mask",
            "`all: true` masks everything; leave out keep_first/keep_last",
        ));
    }
    if !all && r.keep_first.is_none() && r.keep_last.is_none() {
        return Err(cx.err(
            mline,
            "mask",
            "say how much to keep (`keep_last: 2`, `keep_first: 1`) or `all: true`",
        ));
    }
    let with = match &r.with {
        Some(w) => {
            let mut chars = w.value.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => return Err(cx.err(w.referenced.line(), "with", "one character, e.g. `with: '*'`")),
            }
        }
        None => None,
    };
    Ok(Mask {
        keep_first,
        keep_last,
        with,
    })
}

/// `shift_date: {max: 30d}`: whole days, at most 365000.
fn shift_date(cx: &Ctx, s: &S<RawShift>) -> Result<Transform, Error> {
    let secs = s.value.max.value.0.as_secs();
    let days = secs / 86_400;
    if days < 1 || secs % 86_400 != 0 {
        return Err(cx.err(
            s.value.max.referenced.line(),
            "max",
            "dates move by whole days: write `max` in days, at least `1d` (e.g. `30d`)",
        ));
    }
    let max_days = u32::try_from(days)
        .ok()
        .filter(|d| *d <= 365_000)
        .ok_or_else(|| cx.err(s.value.max.referenced.line(), "max", "at most 365000d"))?;
    Ok(Transform::ShiftDate { max_days })
}

/// `redact: {kinds: [...], row_values}`: known detector kinds, at least one.
fn redact(cx: &Ctx, r: &S<RawRedact>) -> Result<Redact, Error> {
    let kinds = match &r.value.kinds {
        Some(ks) => {
            let mut out = Vec::new();
            for k in &ks.value {
                let kind = k.parse::<Kind>().map_err(|_| {
                    cx.err(
                        ks.referenced.line(),
                        "kinds",
                        format!(
                            "unknown detector `{k}`{} (known: {})",
                            did_you_mean(k, Kind::VARIANTS.iter().copied()),
                            Kind::VARIANTS.join(", ")
                        ),
                    )
                })?;
                out.push(kind);
            }
            if out.is_empty() {
                return Err(cx.err(ks.referenced.line(), "kinds", "list at least one detector"));
            }
            out
        }
        None => Kind::ALL.to_vec(),
    };
    let row_values = r.value.row_values.as_ref().is_none_or(|b| b.value);
    Ok(Redact { kinds, row_values })
}

fn clone_spanned(s: &S<String>) -> S<String> {
    S::new(s.value.clone(), s.referenced, s.defined)
}

/// The column that owns the pseudonyms `same_as` points at.
fn resolve_same_as(
    cx: &Ctx,
    tables: &IndexMap<String, TableRules>,
    sharing: &[String],
    target: &str,
    line: u64,
) -> Result<(String, PseudoKind), Error> {
    let (t, c) = target.split_once('.').ok_or_else(|| {
        cx.err(
            line,
            "same_as",
            format!("`{target}`: write `table.column`, e.g. `users.id`"),
        )
    })?;
    let table = tables
        .get(t)
        .ok_or_else(|| cx.err(line, "same_as", format!("`{target}`: no table `{t}` in the rules")))?;
    let column = table.columns.get(c).ok_or_else(|| {
        cx.err(
            line,
            "same_as",
            format!("`{target}`: table `{t}` has no column `{c}` in the rules"),
        )
    })?;
    if sharing.iter().any(|s| s == target) {
        return Err(cx.err(
            line,
            "same_as",
            format!("`{target}` shares another column's pseudonyms itself; point at the column that has `as:`"),
        ));
    }
    match &column.transform {
        Transform::Pseudonymize { kind, domain } => Ok((domain.clone(), *kind)),
        other => Err(cx.err(
            line,
            "same_as",
            format!(
                "`{target}` is `{}`, not pseudonymized; its values cannot be shared",
                other.name()
            ),
        )),
    }
}

/// `${env:NAME}` or `${file:PATH}`; a key written into the rules would be
/// committed with them, so a literal is refused. The value is never echoed.
fn resolve_key(cx: &Ctx, key: &S<String>) -> Result<Secret, Error> {
    let line = key.referenced.line();
    let spec = key.value.trim();
    let inner = spec.strip_prefix("${").and_then(|s| s.strip_suffix('}')).ok_or_else(|| {
        cx.err(
            line,
            "key",
            "write where the key lives, `${env:NAME}` or `${file:PATH}`, not the key itself (a key in the rules file would be committed with it)",
        )
    })?;
    let bytes = if let Some(name) = inner.strip_prefix("env:") {
        let v = std::env::var_os(name).ok_or_else(|| {
            cx.err(
                line,
                "key",
                format!("environment variable {name} is not set (export it with the scrub key; it is never printed)"),
            )
        })?;
        v.into_encoded_bytes()
    } else if let Some(file) = inner.strip_prefix("file:") {
        let p = cx.path.parent().unwrap_or(Path::new(".")).join(file);
        let mut b =
            std::fs::read(&p).map_err(|e| cx.err(line, "key", format!("cannot read key file {}: {e}", p.display())))?;
        while b.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            b.pop();
        }
        b
    } else {
        return Err(cx.err(line, "key", "write `${env:NAME}` or `${file:PATH}`"));
    };
    if bytes.len() < MIN_KEY_BYTES {
        return Err(cx.err(
            line,
            "key",
            format!(
                "the key is {} bytes; use at least {MIN_KEY_BYTES} (e.g. `openssl rand -hex 32`)",
                bytes.len()
            ),
        ));
    }
    Ok(Secret::new(bytes))
}
