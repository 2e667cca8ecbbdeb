//! What one column's values looked like, in memory that does not grow with
//! the row count: NULLs, which types the values parse as, distinct values
//! (keyed hashes, exact up to a cap, then a sample), a few candidate
//! categories (exact up to [`CATEGORY_CAP`] values, then dropped), the
//! character shape per position, lengths, a log-bucketed histogram of the
//! numbers, and the days, hours and weekdays of the times.
//!
//! Values live here only while they may still become categories; nothing
//! else keeps a value, and nothing here is written out: [`super::choose`]
//! decides what may be.

use std::collections::{BTreeMap, BTreeSet};

use crate::learn::sketch::{Distinct, Quantiles};
use crate::scrub::detect::{Detectors, Kind as PiiKind};
use crate::scrub::keyed::Prf;

use super::source::Declared;

/// Distinct keyed hashes kept exactly (per column) before sampling.
pub const DISTINCT_CAP: usize = 1 << 16;
/// Most different values a column may have and still be a category.
pub const CATEGORY_CAP: usize = 50;
/// Longest value (in bytes) that can be a category.
const CATEGORY_LEN: usize = 64;
/// Positions whose characters are tracked one by one.
const SHAPE_LEN: usize = 48;
/// Values the personal-data detectors look at, per column (the first ones).
const DETECT_SAMPLE: u64 = 2_000;
/// Smallest hashes kept to test inclusion between columns.
pub const BOTTOM_K: usize = 4_096;
/// Day buckets of a time column before two neighbours merge.
const DAY_BUCKETS: usize = 20_000;

/// The type a column is learned as (the schema's types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Type {
    /// Whole numbers.
    Integer,
    /// Numbers.
    Float,
    /// `true`/`false`.
    Boolean,
    /// Date and time.
    Timestamp,
    /// Calendar day.
    Date,
    /// A UUID.
    Uuid,
    /// A JSON document.
    Json,
    /// Anything else.
    Text,
}

impl Type {
    /// The schema's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            Type::Integer => "integer",
            Type::Float => "float",
            Type::Boolean => "boolean",
            Type::Timestamp => "timestamp",
            Type::Date => "date",
            Type::Uuid => "uuid",
            Type::Json => "json",
            Type::Text => "text",
        }
    }
}

/// How many non-empty values parsed as each type.
#[derive(Debug, Clone, Copy, Default)]
struct Parsed {
    int: u64,
    float: u64,
    boolean: u64,
    trues: u64,
    timestamp: u64,
    date: u64,
    uuid: u64,
    json: u64,
}

/// One position of a value: the classes of characters seen there, and the
/// one character every value had there, if they all had the same.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    seen: u64,
    lower: bool,
    upper: bool,
    digit: bool,
    space: bool,
    /// ASCII punctuation seen, one bit per byte 0x20..0x7f.
    punct: u128,
    non_ascii: bool,
    first: Option<char>,
    same: bool,
}

/// The characters of a column's values, position by position.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    positions: Vec<Position>,
    /// Values by length in characters (the last slot counts longer ones).
    lengths: Vec<u64>,
    /// Whole-value classes: any lower-case letter, upper, digit, space, other.
    any: Position,
    /// Values with more than one word.
    multi_word: u64,
    /// Words over all values.
    words: u64,
    values: u64,
}

impl Shape {
    fn add(&mut self, v: &str) {
        self.values += 1;
        let mut n = 0usize;
        for (i, c) in v.chars().enumerate() {
            if i < SHAPE_LEN {
                if self.positions.len() <= i {
                    self.positions.push(Position::default());
                }
                note(&mut self.positions[i], c);
            }
            note(&mut self.any, c);
            n = i + 1;
        }
        let slot = n.min(256);
        if self.lengths.len() <= slot {
            self.lengths.resize(slot + 1, 0);
        }
        self.lengths[slot] += 1;
        let words = v.split_whitespace().count() as u64;
        self.words += words;
        if words > 1 {
            self.multi_word += 1;
        }
    }

    /// The length every value had, if they all had the same (and it is
    /// short enough to be tracked position by position).
    pub fn fixed_len(&self) -> Option<usize> {
        let mut it = self.lengths.iter().enumerate().filter(|(_, n)| **n > 0);
        let (len, _) = it.next()?;
        (it.next().is_none() && len <= SHAPE_LEN && len > 0).then_some(len)
    }

    /// The length (characters) at quantile `q` (0..=1).
    pub fn length_at(&self, q: f64) -> usize {
        let total: u64 = self.lengths.iter().sum();
        let want = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (len, n) in self.lengths.iter().enumerate() {
            seen += n;
            if seen >= want {
                return len;
            }
        }
        0
    }

    /// The mean number of words per value.
    pub fn mean_words(&self) -> f64 {
        self.words as f64 / self.values.max(1) as f64
    }

    /// Share of values with more than one word.
    pub fn multi_word_share(&self) -> f64 {
        self.multi_word as f64 / self.values.max(1) as f64
    }

    /// A regular expression for values of this shape. With a fixed length,
    /// position by position: a character every value had there (seen at
    /// least `k` times, a letter, digit or `-_.:/`) is kept, the others
    /// become their classes; otherwise the classes of every character with
    /// the length between the guarded 1st and 99th percentiles. `unique`
    /// needs fixed counts, so a variable length becomes the median length.
    pub fn pattern(&self, k: u64, unique: bool) -> String {
        if let Some(len) = self.fixed_len() {
            let mut out = String::new();
            let mut run: Option<(String, usize)> = None;
            for p in &self.positions[..len] {
                let keep = p.same && p.seen >= k;
                let piece = match p.first {
                    Some(c) if keep && (c.is_ascii_alphanumeric() || "-_.:/".contains(c)) => regex_literal(c),
                    _ => class_of(p),
                };
                match &mut run {
                    Some((prev, n)) if *prev == piece && piece.starts_with('[') => *n += 1,
                    _ => {
                        flush(&mut out, run.take());
                        run = Some((piece, 1));
                    }
                }
            }
            flush(&mut out, run);
            return out;
        }
        let class = class_of(&self.any);
        let (lo, hi) = (self.length_at(0.01).max(1), self.length_at(0.99).max(1));
        if unique {
            // Enough characters for every row to differ, with room to spare.
            let mid = self.length_at(0.5).clamp(8, 64);
            format!("{class}{{{mid}}}")
        } else if lo == hi {
            format!("{class}{{{lo}}}")
        } else {
            format!("{class}{{{lo},{hi}}}")
        }
    }

    /// The text before the digits, when every value is the same letters
    /// (and separators) followed by at least one digit and nothing after:
    /// a `key` template's prefix, with the digits' width.
    pub fn key_prefix(&self, k: u64) -> Option<(String, usize)> {
        let len = self.fixed_len()?;
        let mut prefix = String::new();
        let mut i = 0;
        while i < len {
            let p = &self.positions[i];
            match p.first {
                Some(c) if p.same && p.seen >= k && !c.is_ascii_digit() => prefix.push(c),
                _ => break,
            }
            i += 1;
        }
        let digits = &self.positions[i..len];
        let all_digits = !digits.is_empty()
            && digits
                .iter()
                .all(|p| p.digit && !p.lower && !p.upper && !p.space && p.punct == 0 && !p.non_ascii);
        (all_digits && prefix.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c)))
            .then_some((prefix, len - i))
    }
}

fn note(p: &mut Position, c: char) {
    p.seen += 1;
    match c {
        'a'..='z' => p.lower = true,
        'A'..='Z' => p.upper = true,
        '0'..='9' => p.digit = true,
        ' ' => p.space = true,
        c if c.is_ascii_graphic() => p.punct |= 1u128 << (c as u32),
        c if c.is_ascii() => p.space = true,
        _ => p.non_ascii = true,
    }
    match p.first {
        None => {
            p.first = Some(c);
            p.same = true;
        }
        Some(f) if f != c => p.same = false,
        _ => {}
    }
}

fn regex_literal(c: char) -> String {
    if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':' || c == '/' {
        c.to_string()
    } else {
        format!("\\{c}")
    }
}

/// A character class covering what was seen at a position: letters,
/// digits, a space and the ASCII punctuation (non-ASCII letters become
/// ASCII ones: their shape is kept, not their script).
fn class_of(p: &Position) -> String {
    let mut s = String::from("[");
    if p.lower || p.non_ascii {
        s.push_str("a-z");
    }
    if p.upper {
        s.push_str("A-Z");
    }
    if p.digit {
        s.push_str("0-9");
    }
    if p.space {
        s.push(' ');
    }
    for b in 0x21u8..0x7f {
        if p.punct & (1u128 << b) != 0 {
            let c = b as char;
            if "\\]^-[".contains(c) {
                s.push('\\');
            }
            s.push(c);
        }
    }
    if s.len() == 1 {
        s.push_str("a-z");
    }
    s.push(']');
    s
}

fn flush(out: &mut String, run: Option<(String, usize)>) {
    if let Some((piece, n)) = run {
        out.push_str(&piece);
        if n > 1 {
            out.push_str(&format!("{{{n}}}"));
        }
    }
}

/// Numbers in signed log-spaced buckets (32 per power of two: within about
/// 2%): bounded by the range of `f64`, not by the row count.
#[derive(Debug, Clone, Default)]
pub struct Hist {
    bins: BTreeMap<i32, f64>,
    n: f64,
    /// Every value was a whole number.
    pub all_int: bool,
    /// Every value was 0 or more.
    pub non_negative: bool,
    count: u64,
}

const SUBS: f64 = 32.0;

fn bin_of(v: f64) -> i32 {
    if v == 0.0 || !v.is_finite() {
        return 0;
    }
    let a = v.abs().clamp(1e-300, 1e300);
    let e = a.log2().floor();
    let sub = ((a / e.exp2() - 1.0) * SUBS).floor().clamp(0.0, SUBS - 1.0);
    let i = ((e + 1100.0) * SUBS + sub) as i32 + 1;
    if v < 0.0 {
        -i
    } else {
        i
    }
}

/// The lower and upper edge of a bin's absolute values.
fn edges(i: i32) -> (f64, f64) {
    if i == 0 {
        return (0.0, 0.0);
    }
    let j = f64::from(i.abs() - 1);
    let e = (j / SUBS).floor() - 1100.0;
    let sub = j.rem_euclid(SUBS);
    (e.exp2() * (1.0 + sub / SUBS), e.exp2() * (1.0 + (sub + 1.0) / SUBS))
}

impl Hist {
    fn new() -> Self {
        Hist {
            all_int: true,
            non_negative: true,
            ..Hist::default()
        }
    }

    fn add(&mut self, v: f64) {
        *self.bins.entry(bin_of(v)).or_insert(0.0) += 1.0;
        self.n += 1.0;
        self.count += 1;
        self.all_int &= v.fract() == 0.0 && v.abs() < 9e15;
        self.non_negative &= v >= 0.0;
    }

    /// Values counted (noised when noise was added).
    pub fn len(&self) -> f64 {
        self.n
    }

    /// Whether no value was counted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Add noise to every bin (and recount).
    pub fn noise(&mut self, mut f: impl FnMut() -> f64) {
        for c in self.bins.values_mut() {
            *c = (*c + f()).max(0.0);
        }
        self.n = self.bins.values().sum();
    }

    /// The value at quantile `q`, interpolated inside its bucket.
    pub fn at(&self, q: f64) -> f64 {
        let want = q.clamp(0.0, 1.0) * self.n;
        let mut seen = 0.0;
        let mut last = 0.0;
        for (&i, &c) in &self.bins {
            let (lo, hi) = edges(i);
            let (a, b) = if i < 0 { (-hi, -lo) } else { (lo, hi) };
            last = b;
            if c > 0.0 && seen + c >= want {
                let f = ((want - seen) / c).clamp(0.0, 1.0);
                return a + (b - a) * f;
            }
            seen += c;
        }
        last
    }
}

/// Days, hours of day and days of week of a time column.
#[derive(Debug, Clone, Default)]
pub struct Times {
    /// Values per bucket of `width` days (day number / width).
    days: BTreeMap<i64, f64>,
    width: i64,
    /// Values per hour of day (UTC).
    pub hours: [f64; 24],
    /// Values per day of week, Monday first.
    pub weekdays: [f64; 7],
    /// Every value was at midnight.
    pub midnight: bool,
    n: f64,
}

impl Times {
    fn new() -> Self {
        Times {
            width: 1,
            midnight: true,
            ..Times::default()
        }
    }

    fn add(&mut self, secs: i64) {
        let day = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400);
        *self.days.entry(day.div_euclid(self.width)).or_insert(0.0) += 1.0;
        self.hours[(in_day / 3600) as usize] += 1.0;
        self.weekdays[(day + 3).rem_euclid(7) as usize] += 1.0;
        self.midnight &= in_day == 0;
        self.n += 1.0;
        if self.days.len() > DAY_BUCKETS {
            self.width *= 2;
            let old = std::mem::take(&mut self.days);
            for (b, c) in old {
                *self.days.entry(b.div_euclid(2)).or_insert(0.0) += c;
            }
        }
    }

    /// Values counted (noised when noise was added).
    pub fn len(&self) -> f64 {
        self.n
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.n <= 0.0
    }

    /// Add noise to every day bucket, hour and weekday count.
    pub fn noise(&mut self, mut days: impl FnMut() -> f64, mut hours: impl FnMut() -> f64) {
        for c in self.days.values_mut() {
            *c = (*c + days()).max(0.0);
        }
        self.n = self.days.values().sum();
        for c in self.hours.iter_mut().chain(self.weekdays.iter_mut()) {
            *c = (*c + hours()).max(0.0);
        }
    }

    /// The instant (Unix seconds) at quantile `q`, interpolated inside its
    /// bucket of days.
    pub fn at(&self, q: f64) -> i64 {
        let want = q.clamp(0.0, 1.0) * self.n;
        let mut seen = 0.0;
        let mut last = 0;
        for (&b, &c) in &self.days {
            let start = b * self.width * 86_400;
            let span = self.width * 86_400;
            last = start + span;
            if c > 0.0 && seen + c >= want {
                let f = ((want - seen) / c).clamp(0.0, 1.0);
                return start + (span as f64 * f) as i64;
            }
            seen += c;
        }
        last
    }
}

/// The smallest keyed hashes of a column's distinct values: two columns'
/// sketches tell whether one's values are all among the other's.
#[derive(Debug, Clone, Default)]
pub struct BottomK {
    kept: BTreeSet<u64>,
}

impl BottomK {
    /// Note one hash.
    pub fn add(&mut self, h: u64) {
        if self.kept.len() < BOTTOM_K {
            self.kept.insert(h);
        } else if self.kept.last().is_some_and(|m| h < *m) && self.kept.insert(h) {
            self.kept.pop_last();
        }
    }

    /// The largest hash below which every value's hash is kept.
    pub fn threshold(&self) -> u64 {
        if self.kept.len() < BOTTOM_K {
            u64::MAX
        } else {
            self.kept.last().copied().unwrap_or(u64::MAX)
        }
    }

    /// The kept hashes.
    pub fn kept(&self) -> &BTreeSet<u64> {
        &self.kept
    }
}

/// Everything learned about one column.
#[derive(Debug, Clone)]
pub struct ColumnStats {
    /// The column's name.
    pub name: String,
    /// What the source declares.
    pub declared: Declared,
    /// The source's type name.
    pub type_name: String,
    /// Declared NOT NULL.
    pub not_null: bool,
    /// Rows seen.
    pub rows: u64,
    /// NULLs seen (an empty field counts as NULL where no type is declared).
    pub nulls: u64,
    /// NULLs as reported: `nulls`, plus noise under `--epsilon`.
    pub null_count: f64,
    /// Empty values, where a type is declared (empty strings).
    pub empty: u64,
    parsed: Parsed,
    /// Distinct values, as keyed hashes with their counts.
    pub distinct: Distinct,
    /// The smallest keyed hashes, for inclusion tests.
    pub bottom: BottomK,
    /// Candidate categories with their counts, until there are too many.
    categories: Option<BTreeMap<String, f64>>,
    /// The character shape.
    pub shape: Shape,
    /// Lengths in characters.
    pub lengths: Quantiles,
    /// The numbers.
    pub numbers: Hist,
    /// The times.
    pub times: Times,
    /// Smallest and largest whole number seen (for the density of a key;
    /// never written).
    int_range: Option<(i64, i64)>,
    /// Smallest and largest index after a `key` prefix (never written).
    key_range: Option<(u64, u64)>,
    /// Values the detectors looked at, and what they found.
    pub detected: u64,
    /// Detector findings per kind (values that were entirely one hit).
    pub pii: BTreeMap<PiiKind, u64>,
    /// Top-level JSON fields (objects only): name to how many documents had it.
    pub json_fields: BTreeMap<String, u64>,
    json_overflow: bool,
}

impl ColumnStats {
    /// An empty summary of a column.
    pub fn new(name: &str, declared: Declared, type_name: &str, not_null: bool) -> Self {
        ColumnStats {
            name: name.to_string(),
            declared,
            type_name: type_name.to_string(),
            not_null,
            rows: 0,
            nulls: 0,
            null_count: 0.0,
            empty: 0,
            parsed: Parsed::default(),
            distinct: Distinct::new(DISTINCT_CAP),
            bottom: BottomK::default(),
            categories: Some(BTreeMap::new()),
            shape: Shape::default(),
            lengths: Quantiles::new(),
            numbers: Hist::new(),
            times: Times::new(),
            int_range: None,
            key_range: None,
            detected: 0,
            pii: BTreeMap::new(),
            json_fields: BTreeMap::new(),
            json_overflow: false,
        }
    }

    /// Fold in one value (`None` is NULL).
    pub fn add(&mut self, v: Option<&str>, prf: &Prf, detectors: &Detectors) {
        self.rows += 1;
        let Some(v) = v else {
            self.nulls += 1;
            self.null_count += 1.0;
            return;
        };
        if v.is_empty() {
            if self.declared == Declared::Unknown {
                // CSV writes NULL as an empty field.
                self.nulls += 1;
                self.null_count += 1.0;
                return;
            }
            self.empty += 1;
        }
        let h = prf.u64(&[v.as_bytes()]);
        self.distinct.add(h);
        self.bottom.add(h);
        if let Some(c) = &mut self.categories {
            if v.len() > CATEGORY_LEN {
                self.categories = None;
            } else if let Some(n) = c.get_mut(v) {
                *n += 1.0;
            } else if c.len() < CATEGORY_CAP {
                c.insert(v.to_string(), 1.0);
            } else {
                self.categories = None;
            }
        }
        self.shape.add(v);
        self.lengths.add(v.chars().count() as u64);
        self.parse(v);
        if self.detected < DETECT_SAMPLE {
            self.detected += 1;
            if let Some(hit) = detectors.first(v) {
                if hit.start == 0 && hit.end == v.len() {
                    *self.pii.entry(hit.kind).or_insert(0) += 1;
                }
            }
        }
        if let Some(prefix) = self.shape.positions.iter().position(|p| p.digit) {
            let idx = v.get(prefix..).and_then(|d| d.parse::<u64>().ok());
            self.key_range = match (self.key_range, idx) {
                (_, None) => None,
                (None, Some(i)) if self.rows - self.nulls == 1 => Some((i, i)),
                (Some((a, b)), Some(i)) => Some((a.min(i), b.max(i))),
                _ => None,
            };
        }
    }

    fn parse(&mut self, v: &str) {
        let t = v.trim();
        let p = &mut self.parsed;
        if let Ok(i) = t.parse::<i64>() {
            p.int += 1;
            p.float += 1;
            self.numbers.add(i as f64);
            self.int_range = Some(match self.int_range {
                None => (i, i),
                Some((a, b)) => (a.min(i), b.max(i)),
            });
        } else if let Ok(f) = t.parse::<f64>() {
            if f.is_finite() {
                p.float += 1;
                self.numbers.add(f);
            }
        }
        match t {
            "true" | "false" | "t" | "f" | "TRUE" | "FALSE" | "True" | "False" => {
                p.boolean += 1;
                if t.starts_with(['t', 'T']) {
                    p.trues += 1;
                }
            }
            _ => {}
        }
        if looks_like_date(t) {
            if let Some((secs, date_only)) = parse_time(t) {
                if date_only {
                    p.date += 1;
                }
                p.timestamp += 1;
                self.times.add(secs);
            }
        }
        if is_uuid(t) {
            p.uuid += 1;
        }
        if t.starts_with('{') || t.starts_with('[') {
            if let Ok(doc) = serde_json::from_str::<serde_json::Value>(t) {
                p.json += 1;
                if let serde_json::Value::Object(m) = doc {
                    for k in m.keys() {
                        if let Some(n) = self.json_fields.get_mut(k) {
                            *n += 1;
                        } else if self.json_fields.len() < 64 {
                            self.json_fields.insert(k.clone(), 1);
                        } else {
                            self.json_overflow = true;
                        }
                    }
                }
            }
        }
    }

    /// Non-NULL values seen.
    pub fn values(&self) -> u64 {
        self.rows - self.nulls
    }

    /// The type: the declared one, or the narrowest every value parsed as.
    pub fn kind(&self) -> Type {
        let p = &self.parsed;
        match self.declared {
            Declared::Integer => return Type::Integer,
            Declared::Float => return Type::Float,
            Declared::Boolean => return Type::Boolean,
            Declared::Timestamp => return Type::Timestamp,
            Declared::Date => return Type::Date,
            Declared::Uuid => return Type::Uuid,
            Declared::Json => return Type::Json,
            Declared::Other => return Type::Text,
            Declared::Text => {
                // SQLite has no time, UUID or JSON types, and text columns
                // elsewhere often hold them: a text column whose every
                // value is one is learned as one (written back as text).
                let n = self.values();
                return match () {
                    _ if n == 0 => Type::Text,
                    _ if p.date == n => Type::Date,
                    _ if p.timestamp == n => Type::Timestamp,
                    _ if p.uuid == n => Type::Uuid,
                    _ if p.json == n => Type::Json,
                    _ => Type::Text,
                };
            }
            Declared::Unknown => {}
        }
        let n = self.values();
        if n == 0 {
            return Type::Text;
        }
        if p.int == n {
            Type::Integer
        } else if p.float == n {
            Type::Float
        } else if p.boolean == n {
            Type::Boolean
        } else if p.date == n {
            Type::Date
        } else if p.timestamp == n {
            Type::Timestamp
        } else if p.uuid == n {
            Type::Uuid
        } else if p.json == n {
            Type::Json
        } else {
            Type::Text
        }
    }

    /// Share of `true` among the booleans.
    pub fn true_share(&self) -> f64 {
        self.parsed.trues as f64 / self.parsed.boolean.max(1) as f64
    }

    /// Every value differs: counted exactly, or (past the distinct cap)
    /// whole numbers `a..=b` filling their range with as many values as
    /// numbers in it, which duplicates would leave holes in, the sampled
    /// distinct count agreeing within 10%.
    pub fn observed_unique(&self) -> bool {
        let n = self.values();
        if self.distinct.exact() {
            return self.distinct.distinct() == n && n > 0;
        }
        self.int_range.is_some_and(|(a, b)| (b - a + 1) as u64 == n)
            && self.distinct.distinct() as f64 >= 0.9 * n as f64
    }

    /// Whole numbers `a..=b` with one value each and nothing missing.
    pub fn dense_ints(&self) -> Option<(i64, i64)> {
        let (a, b) = self.int_range?;
        (self.observed_unique() && (b - a + 1) as u64 == self.values()).then_some((a, b))
    }

    /// `prefix` + zero-padded 1, 2, ... n, each once: a `key` template.
    pub fn key_template(&self, k: u64) -> Option<String> {
        let (prefix, width) = self.shape.key_prefix(k)?;
        let (a, b) = self.key_range?;
        (a == 1 && b == self.values() && self.observed_unique()).then(|| format!("{prefix}{{index:0{width}}}"))
    }

    /// The candidate categories (when there were few enough), with counts.
    pub fn categories(&self) -> Option<&BTreeMap<String, f64>> {
        self.categories.as_ref()
    }

    /// Mutable categories (for noise).
    pub fn categories_mut(&mut self) -> Option<&mut BTreeMap<String, f64>> {
        self.categories.as_mut()
    }

    /// The JSON field names were too many to track.
    pub fn json_overflow(&self) -> bool {
        self.json_overflow
    }
}

fn looks_like_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit)
}

/// A date or time as written by databases, CSV and JSON: `2024-05-01`,
/// `2024-05-01 13:45:00`, `2024-05-01T13:45:00Z`, with fractions and
/// offsets (`+00`, `+02:00`). Unix seconds, and whether it was a bare date.
pub fn parse_time(t: &str) -> Option<(i64, bool)> {
    if t.len() == 10 {
        let d = t.parse::<jiff::civil::Date>().ok()?;
        let ts = jiff::tz::TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .ok()?;
        return Some((ts.as_second(), true));
    }
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some((ts.as_second(), false));
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return Some((jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()?.as_second(), false));
    }
    // PostgreSQL's `+00` offset: jiff wants minutes too.
    let b = t.as_bytes();
    if b.len() > 3 && matches!(b[b.len() - 3], b'+' | b'-') && b[b.len() - 2..].iter().all(u8::is_ascii_digit) {
        return parse_time(&format!("{t}:00"));
    }
    None
}

fn is_uuid(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}
