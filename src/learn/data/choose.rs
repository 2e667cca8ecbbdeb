//! The generator each column gets, written as the schema's YAML flow map,
//! with the statistics it was chosen from for the comment beside it.
//!
//! What may be written is decided here, and only here:
//! - numbers and times only as guarded quantiles: the levels move inward
//!   until at least k values lie beyond each end (never a minimum or a
//!   maximum), then rounded to 3 significant digits (times to the day);
//! - categories only when every kept one was seen at least k times and
//!   none looks like personal data to scrub's detectors;
//! - a fixed character (a `SKU-` prefix) only when every value had it and
//!   there were at least k values;
//! - personal data (by the detectors or the column's name) only as a
//!   matching `fake` generator.

use std::fmt::Write as _;

use crate::learn::sketch::{round_down_2, round_up_2};
use crate::scrub::detect::{Detectors, Kind as PiiKind};
use crate::synth::schema::QUANTILE_LEVELS;

use super::column::{ColumnStats, Type};
use super::fk::Fk;
use super::source::Declared;
use super::Profile;

/// A column's generator and what the reviewer should know about it.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// The YAML flow map (`{serial: 1}`).
    pub spec: String,
    /// The statistics and the reason, for the comment.
    pub notes: Vec<String>,
    /// What was held back (`3 rare categories folded`), for the header too.
    pub withheld: Vec<String>,
}

/// What the column is to other columns.
#[derive(Debug, Clone, Copy, Default)]
pub struct Role<'a> {
    /// Another table's `ref` points here: unique, never NULL.
    pub parent: bool,
    /// Its single-column foreign key.
    pub fk: Option<&'a Fk>,
    /// Part of a composite foreign key (written as a comment only).
    pub composite: Option<&'a Fk>,
    /// The declared primary key (alone).
    pub primary_key: bool,
    /// A declared unique constraint or index on this column alone.
    pub declared_unique: bool,
    /// The table's name (for name-based fakes: a tenant's `name` is a company's).
    pub table: &'a str,
}

/// `v` rounded to `d` significant digits.
pub fn sig(v: f64, d: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return 0.0;
    }
    let p = 10f64.powi(d - 1 - v.abs().log10().floor() as i32);
    (v * p).round() / p
}

/// A number as YAML: integers without a fraction.
fn num(v: f64, int: bool) -> String {
    if int {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v}");
        if s.contains('.') || s.contains('e') {
            s
        } else {
            format!("{s}.0")
        }
    }
}

/// A YAML double-quoted string.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The guarded levels: `q`, moved inward so that at least `k` of `n`
/// values lie beyond it. `None` when fewer than `2k` values.
fn guard(q: f64, n: f64, k: u64) -> Option<f64> {
    let m = k as f64 / n.max(1.0);
    (n >= 2.0 * k as f64).then(|| q.clamp(m, 1.0 - m))
}

/// The fake generator a column's name asks for.
pub fn fake_by_name(name: &str, table: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    let last = n.rsplit(['_', '-', ' ']).next().unwrap_or(&n);
    let company = [
        "tenant", "compan", "org", "account", "vendor", "supplier", "business", "merchant",
    ]
    .iter()
    .any(|w| table.to_ascii_lowercase().contains(w));
    Some(match n.as_str() {
        "first_name" | "firstname" | "given_name" | "forename" => "first_name",
        "last_name" | "lastname" | "surname" | "family_name" => "last_name",
        "username" | "user_name" | "login" | "handle" => "username",
        "name" | "full_name" | "fullname" | "display_name" | "contact_name" | "customer_name" if company => {
            "company_name"
        }
        "name" | "full_name" | "fullname" | "display_name" | "contact_name" | "customer_name" => "name",
        "company" | "company_name" => "company_name",
        "street" | "street_address" | "address" | "address_line1" | "address1" => "street_address",
        "city" => "city",
        "zip" | "zipcode" | "zip_code" | "postcode" | "post_code" | "postal_code" => "zip_code",
        "ip" | "ip_address" | "ip_addr" | "client_ip" | "remote_addr" | "remote_ip" => "ipv4",
        "card" | "card_number" | "credit_card" | "cc_number" => "credit_card_number",
        "mac" | "mac_address" => "mac_address",
        _ => match last {
            "email" | "mail" => "safe_email",
            "phone" | "mobile" | "tel" | "telephone" | "fax" | "msisdn" => "phone_number",
            "ip" => "ipv4",
            _ => return None,
        },
    })
}

/// The kind most of the detector's sample was (whole values), if at least
/// half of it.
fn detected(c: &ColumnStats) -> Option<PiiKind> {
    let (kind, n) = c.pii.iter().max_by_key(|(_, n)| **n)?;
    (*n * 2 >= c.detected.max(1)).then_some(*kind)
}

fn fake_of(kind: PiiKind) -> Option<&'static str> {
    match kind {
        PiiKind::Email => Some("safe_email"),
        PiiKind::Phone => Some("phone_number"),
        PiiKind::Card => Some("credit_card_number"),
        PiiKind::Ip => Some("ipv4"),
        PiiKind::Mac => Some("mac_address"),
        PiiKind::Iban | PiiKind::NationalId | PiiKind::Token => None,
    }
}

/// The generator of one column.
pub fn choose(p: &Profile, table: usize, col: usize, role: Role<'_>, detectors: &Detectors) -> Choice {
    let t = &p.tables[table];
    let c = &t.columns[col];
    let k = p.options.min_count;
    let mut ch = Choice::default();
    ch.notes.push(stats_note(c, t.scanned));
    // A key is never NULL, whatever the noise on its NULL count says.
    let nulls = if role.parent || (role.primary_key && c.nulls == 0) {
        0.0
    } else {
        null_share(c)
    };
    let unique = (role.parent || role.primary_key || role.declared_unique || c.observed_unique())
        && c.values() >= k
        && nulls == 0.0;
    let mut spec = if c.values() == 0 {
        ch.notes.push("every value is NULL".into());
        "{value: \"\"}".to_string()
    } else if let Some(fk) = role.fk {
        reference(p, fk, &mut ch)
    } else {
        by_kind(p, c, unique, role, &mut ch, detectors)
    };
    if let Some(f) = role.composite {
        let pt = &p.tables[f.parent];
        ch.notes.push(format!(
            "part of a composite foreign key ({}) -> {}({}), {}; the schema has no composite references, so it is generated on its own",
            f.columns.iter().map(|&i| t.columns[i].name.as_str()).collect::<Vec<_>>().join(", "),
            pt.info.name,
            f.parent_columns.iter().map(|&i| pt.columns[i].name.as_str()).collect::<Vec<_>>().join(", "),
            f.why
        ));
    }
    let share = if c.values() == 0 { 1.0 } else { nulls };
    if share > 0.0 && !spec.contains("unique: true") {
        let pct = (share * 1000.0).round() / 10.0;
        let pct = if pct <= 0.0 { 0.1 } else { pct.min(100.0) };
        spec.insert_str(spec.len() - 1, &format!(", nulls: {pct}%"));
    }
    ch.spec = spec;
    ch
}

fn null_share(c: &ColumnStats) -> f64 {
    if c.rows == 0 {
        return 0.0;
    }
    let s = c.null_count / c.rows as f64;
    if c.nulls == 0 && c.null_count <= 0.5 {
        0.0
    } else {
        s.clamp(0.0, 1.0)
    }
}

fn stats_note(c: &ColumnStats, scanned: u64) -> String {
    let d = &c.distinct;
    let distinct = if d.exact() {
        format!("{} distinct (exact)", d.distinct())
    } else {
        format!("about {} distinct (hash sample)", round_down_2(d.distinct()))
    };
    let declared = if c.type_name.is_empty() {
        "inferred".to_string()
    } else {
        format!("declared {}", c.type_name)
    };
    let unique = if c.observed_unique() { ", unique" } else { "" };
    format!(
        "{} ({declared}); NULL {:.1}% of {scanned}; {distinct}{unique}; length p50 {} p99 {}",
        c.kind().name(),
        100.0 * c.null_count.max(0.0) / c.rows.max(1) as f64,
        c.lengths.at(0.5),
        c.lengths.at(0.99),
    )
}

fn reference(p: &Profile, fk: &Fk, ch: &mut Choice) -> String {
    let pt = &p.tables[fk.parent];
    let pc = &pt.columns[fk.parent_columns[0]];
    let target = format!("{}.{}", pt.info.name, pc.name);
    ch.notes.push(format!("foreign key -> {target}: {}", fk.why));
    let skew = match fk.fit {
        Some(f) if f.ks <= 0.1 && f.s >= 0.05 => {
            ch.notes.push(format!(
                "fan-out: Zipf s {:.2} over {} parents (KS {:.3})",
                f.s, f.n, f.ks
            ));
            format!(", skew: {{zipf: {:.2}}}", f.s)
        }
        Some(f) => {
            let q = fk.fanout.map_or(String::new(), |q| {
                format!("; children per parent p50 {} p90 {} p99 {}", q[0], q[1], q[2])
            });
            ch.notes.push(format!(
                "fan-out: no good Zipf fit (s {:.2}, KS {:.3}), picked uniformly{q}",
                f.s, f.ks
            ));
            String::new()
        }
        None => String::new(),
    };
    format!("{{ref: {}{skew}}}", ref_target(&target))
}

fn ref_target(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        s.to_string()
    } else {
        quote(s)
    }
}

fn by_kind(p: &Profile, c: &ColumnStats, unique: bool, role: Role<'_>, ch: &mut Choice, det: &Detectors) -> String {
    let k = p.options.min_count;
    let u = if unique { ", unique: true" } else { "" };
    let kind = c.kind();
    if matches!(kind, Type::Text) {
        if let Some(f) = fake_by_name(&c.name, role.table) {
            ch.notes
                .push(format!("personal data by its name: fake {f}, no value kept"));
            return format!("{{fake: {f}{u}}}");
        }
    }
    if let Some(pii) = detected(c) {
        ch.notes.push(format!(
            "personal data: {} of {} values checked look like {}",
            c.pii.get(&pii).copied().unwrap_or(0),
            c.detected,
            pii.name()
        ));
        if let Some(f) = fake_of(pii) {
            return format!("{{fake: {f}{u}}}");
        }
        return pattern(c, k, unique, true, ch);
    }
    let gen = match kind {
        Type::Boolean => {
            let share = (c.true_share() * 1000.0).round() / 10.0;
            format!("{{bool: {share}%}}")
        }
        Type::Uuid => format!("{{uuid: true{u}}}"),
        Type::Integer | Type::Float => number(c, k, unique, ch, det),
        Type::Timestamp | Type::Date => time(c, k, kind == Type::Date, ch),
        Type::Json => json(c, k, ch),
        Type::Text => return text(c, k, unique, ch, det),
    };
    if c.declared == Declared::Text {
        ch.notes
            .push(format!("declared as text, every value a {}: kept as text", kind.name()));
        return format!("{}, type: text}}", &gen[..gen.len() - 1]);
    }
    gen
}

/// `one_of` with percentages, when every kept category was seen at least
/// k times, none is flagged, and the rare ones (left out) are under 5% of
/// the values. `None` otherwise.
fn categories(c: &ColumnStats, k: u64, ch: &mut Choice, det: &Detectors, typed: bool) -> Option<String> {
    let cats = c.categories()?;
    let total: f64 = cats.values().sum();
    if cats.is_empty() || total <= 0.0 {
        return None;
    }
    let kept: Vec<(&String, f64)> = cats
        .iter()
        .filter(|(_, n)| **n >= k as f64)
        .map(|(v, n)| (v, *n))
        .collect();
    let rare = cats.len() - kept.len();
    let rare_share: f64 = cats.values().filter(|n| **n < k as f64).sum::<f64>() / total;
    if kept.is_empty() || rare_share > 0.05 {
        return None;
    }
    if kept.iter().any(|(v, _)| det.first(v).is_some()) {
        ch.notes
            .push("some categories look like personal data: written as a shape instead".into());
        return None;
    }
    let kept_total: f64 = kept.iter().map(|(_, n)| n).sum();
    // Largest remainder: tenths of a percent adding up to 100%.
    let exact: Vec<f64> = kept.iter().map(|(_, n)| n / kept_total * 1000.0).collect();
    let mut tenths: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let short = 1000 - tenths.iter().sum::<i64>();
    for &i in order.iter().cycle().take(short.max(0) as usize) {
        tenths[i] += 1;
    }
    let mut order: Vec<usize> = (0..kept.len()).collect();
    order.sort_by(|&a, &b| tenths[b].cmp(&tenths[a]).then(kept[a].0.cmp(kept[b].0)));
    let items: Vec<String> = order
        .iter()
        .filter(|&&i| tenths[i] > 0)
        .map(|&i| {
            let key = if typed { kept[i].0.clone() } else { quote(kept[i].0) };
            format!("{key}: {}%", tenths[i] as f64 / 10.0)
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    ch.notes
        .push(format!("{} categories, each seen at least {k} times", kept.len()));
    if rare > 0 {
        let w = format!(
            "{}: {rare} rare categories ({:.1}% of values) left out",
            c.name,
            rare_share * 100.0
        );
        ch.notes.push(format!(
            "{rare} rare categories ({:.1}% of values) left out",
            rare_share * 100.0
        ));
        ch.withheld.push(w);
    }
    Some(format!("{{one_of: {{{}}}}}", items.join(", ")))
}

fn number(c: &ColumnStats, k: u64, unique: bool, ch: &mut Choice, det: &Detectors) -> String {
    let int = c.kind() == Type::Integer;
    if unique && int {
        if let Some((a, _)) = c.dense_ints() {
            let start = if a >= 0 {
                round_down_2(a as u64) as i64
            } else {
                sig(a as f64, 2) as i64
            };
            ch.notes
                .push("dense unique whole numbers: serial from a rounded start".into());
            return format!("{{serial: {start}}}");
        }
        // Unique but with gaps: a permutation of a range wide enough.
        let lo = c.numbers.at(0.0).floor();
        let lo = if lo >= 0.0 {
            round_down_2(lo as u64) as f64
        } else {
            sig(lo, 2)
        };
        let span = (c.values() as f64 * 2.0).max(c.numbers.at(1.0) - lo + 1.0);
        // Rounded up, as the 2% histogram bin the largest value is in is
        // no value to print.
        let hi = lo + round_up_2(span.ceil() as u64) as f64;
        ch.notes.push("unique whole numbers with gaps: a unique range".into());
        return format!("{{uniform: [{}, {}], unique: true}}", num(lo, true), num(hi, true));
    }
    if !unique {
        if let Some(s) = categories(c, k, ch, det, true) {
            return s;
        }
    }
    let n = c.numbers.len();
    let Some(_) = guard(0.5, n, k) else {
        ch.notes.push(format!("fewer than {} numbers: a generic range", 2 * k));
        return if int {
            "{uniform: [0, 100]}".into()
        } else {
            "{uniform: [0.0, 100.0]}".into()
        };
    };
    let mut points = [0.0; 9];
    for (pt, q) in points.iter_mut().zip(QUANTILE_LEVELS) {
        let g = guard(q, n, k).unwrap_or(0.5);
        let v = sig(c.numbers.at(g), 3);
        *pt = if int { v.round() } else { v };
    }
    for i in 1..9 {
        points[i] = points[i].max(points[i - 1]);
    }
    ch.notes.push(format!(
        "quantiles at 1..99% (moved inward so at least {k} values lie beyond each end), 3 significant digits"
    ));
    let list: Vec<String> = points.iter().map(|v| num(*v, int)).collect();
    let min = if c.numbers.non_negative { ", min: 0" } else { "" };
    let min = if int || min.is_empty() {
        min.to_string()
    } else {
        ", min: 0.0".to_string()
    };
    format!("{{quantiles: [{}]{min}}}", list.join(", "))
}

fn day(secs: i64) -> String {
    jiff::Timestamp::from_second(secs.div_euclid(86_400) * 86_400)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "1970-01-01".into())
}

/// Weights relative to the largest, 2 decimals; `None` when the counts
/// could well be flat (a chi-square test of uniformity at the 0.1% level:
/// 49.7 for 23 degrees of freedom, 22.5 for 6).
fn weights(counts: &[f64]) -> Option<String> {
    let max = counts.iter().copied().fold(0.0, f64::max);
    let total: f64 = counts.iter().sum();
    let e = total / counts.len() as f64;
    let chi2: f64 = counts.iter().map(|o| (o - e) * (o - e) / e.max(1e-9)).sum();
    let critical = if counts.len() == 24 { 49.7 } else { 22.5 };
    if max <= 0.0 || chi2 < critical {
        return None;
    }
    let w: Vec<String> = counts
        .iter()
        .map(|c| format!("{}", (c / max * 100.0).round() / 100.0))
        .collect();
    Some(format!("[{}]", w.join(", ")))
}

fn time(c: &ColumnStats, k: u64, date: bool, ch: &mut Choice) -> String {
    let tm = &c.times;
    let n = tm.len();
    let key = if date { "date" } else { "timestamp" };
    let (Some(lo), Some(hi)) = (guard(0.01, n, k), guard(0.99, n, k)) else {
        ch.notes.push(format!("fewer than {} times: a generic range", 2 * k));
        return format!("{{{key}: {{from: 2020-01-01, to: 2030-01-01}}}}");
    };
    let (a, b) = (tm.at(lo) as f64, tm.at(hi) as f64);
    // Extend the guarded range to levels 0 and 1 as if uniform in between.
    let span = (b - a).max(86_400.0);
    let w = (hi - lo).max(0.01);
    let from = (a - span * lo / w) as i64;
    let to = (b + span * (1.0 - hi) / w) as i64;
    let from_day = from.div_euclid(86_400) * 86_400;
    let to_day = (to.div_euclid(86_400) + 1) * 86_400;
    let mut s = format!(
        "{{{key}: {{from: {}, to: {}",
        day(from_day),
        day(to_day.max(from_day + 86_400))
    );
    ch.notes.push(format!(
        "range from the {:.1}% and {:.1}% quantiles, extended as if uniform, to the day",
        lo * 100.0,
        hi * 100.0
    ));
    if !date && !tm.midnight && n >= 24.0 * k as f64 {
        if let Some(w) = weights(&tm.hours) {
            s.push_str(&format!(", diurnal: {w}"));
            ch.notes.push("hour-of-day weights (UTC)".into());
        }
    }
    if n >= 7.0 * k as f64 {
        if let Some(w) = weights(&tm.weekdays) {
            s.push_str(&format!(", weekly: {w}"));
            ch.notes.push("day-of-week weights, Monday first".into());
        }
    }
    s.push_str("}}");
    s
}

fn json(c: &ColumnStats, k: u64, ch: &mut Choice) -> String {
    let names: Vec<&String> = c
        .json_fields
        .iter()
        .filter(|(name, n)| **n >= k && crate::learn::segment::is_identifier(name))
        .map(|(name, _)| name)
        .take(20)
        .collect();
    let left = c.json_fields.len() - names.len();
    ch.notes.push(format!(
        "JSON: {} top-level field names seen at least {k} times kept ({left} left out{}); their values are generic words",
        names.len(),
        if c.json_overflow() { ", more not tracked" } else { "" }
    ));
    if names.is_empty() {
        return "{json: {value: {fake: word}}}".into();
    }
    let fields: Vec<String> = names.iter().map(|n| format!("{}: {{fake: word}}", quote(n))).collect();
    format!("{{json: {{{}}}}}", fields.join(", "))
}

fn pattern(c: &ColumnStats, k: u64, unique: bool, personal: bool, ch: &mut Choice) -> String {
    // Personal values keep no fixed character at all.
    let keep = if personal { u64::MAX } else { k };
    let re = c.shape.pattern(keep, unique);
    ch.notes
        .push("a pattern of the same shape (character classes, lengths)".into());
    let u = if unique { ", unique: true" } else { "" };
    format!("{{pattern: {}{u}}}", quote(&re))
}

fn text(c: &ColumnStats, k: u64, unique: bool, ch: &mut Choice, det: &Detectors) -> String {
    if c.shape.multi_word_share() > 0.5 && c.shape.mean_words() >= 3.0 {
        ch.notes
            .push(format!("prose: {:.1} words on average", c.shape.mean_words()));
        let kind = if c.shape.mean_words() > 12.0 {
            "paragraph"
        } else {
            "sentence"
        };
        let u = if unique { ", unique: true" } else { "" };
        return format!("{{fake: {kind}{u}}}");
    }
    if unique {
        if let Some(key) = c.key_template(k) {
            if det.first(&key).is_none() {
                ch.notes
                    .push("a constant prefix and the row number, zero-padded".into());
                return format!("{{key: {}}}", quote(&key));
            }
        }
        return pattern(c, k, true, false, ch);
    }
    if let Some(s) = categories(c, k, ch, det, false) {
        if c.categories().is_some_and(|m| {
            m.keys()
                .all(|v| v.parse::<f64>().is_ok() || v == "true" || v == "false")
        }) {
            return format!("{}, type: text}}", &s[..s.len() - 1]);
        }
        return s;
    }
    pattern(c, k, false, false, ch)
}
