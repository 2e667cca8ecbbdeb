//! The schema format: which tables exist, how many rows each has, and how
//! every column's values are generated. A leaf module: parsing and
//! validation only, no generation ([`crate::synth::gen`]) and no output.
//!
//! ```yaml
//! seed: 7
//! tables:
//!   users:
//!     rows: 200000
//!     columns:
//!       id: {serial: 1}
//!       tenant_id: {ref: tenants.id, skew: {zipf: 1.1}}
//!       email: {fake: safe_email, unique: true}
//! ```

use std::path::{Path, PathBuf};

use crate::values::fake::{FakeKind, Locale};

pub mod pattern;
pub(crate) mod raw;
mod validate;

pub use pattern::Pattern;
pub use validate::{parse_instant, InstantError, DEFAULT_DAY};

/// Why a schema could not be used; every variant names the file, and the
/// line and key where there is one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read, does not parse or fit the format, or holds
    /// a value that is not acceptable: file, line and key.
    #[error(transparent)]
    File(#[from] crate::yaml::FileError),

    /// A command-line option does not fit the schema.
    #[error("{flag}: {message}")]
    Flag {
        /// The option (`--tables`, `--scale`).
        flag: &'static str,
        /// What does not fit, naming the schema file where it helps.
        message: String,
    },
}

/// A validated schema: tables in generation order (every table after the
/// tables it references).
#[derive(Debug, Clone)]
pub struct Schema {
    /// The file it was read from (for messages).
    pub path: PathBuf,
    /// The seed every value derives from: the file's, `--seed`, or one
    /// picked for this run.
    pub seed: u64,
    /// Whether the seed came from the file (or the command line) rather
    /// than being picked for this run.
    pub seed_given: bool,
    /// Tables in generation order, parents before children.
    pub tables: Vec<Table>,
}

/// One table: how many rows and how each column is made.
#[derive(Debug, Clone)]
pub struct Table {
    /// The table's name (its key under `tables:`).
    pub name: String,
    /// Row count, after `--scale`.
    pub rows: u64,
    /// Columns in the order the file lists them (the output's order).
    pub columns: Vec<Column>,
    /// Index of the primary-key column, if any.
    pub primary_key: Option<usize>,
    /// Line of the table's key in the schema file.
    pub line: usize,
}

/// One column: its generator and modifiers.
#[derive(Debug, Clone)]
pub struct Column {
    /// The column's name (its key under `columns:`, or in a `json` object).
    pub name: String,
    /// How the values are made.
    pub gen: Gen,
    /// Probability of NULL, 0..=1.
    pub nulls: f64,
    /// `unique: true`: no value repeats within the table (by construction).
    pub unique: bool,
    /// The type of the values (and of the database column).
    pub kind: Kind,
    /// `type:` as written, when it overrides the inferred database type.
    pub line: usize,
}

/// The type of a column's values (and of its database column). Written in
/// a schema's `type:` as the name shown (`integer`) or an alias (`int`,
/// `bigint`); error messages use the name shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum Kind {
    /// 64-bit signed integers.
    #[strum(to_string = "integer", serialize = "int", serialize = "bigint")]
    Int,
    /// 64-bit floating point.
    #[strum(to_string = "float", serialize = "double", serialize = "real")]
    Float,
    /// `true`/`false`.
    #[strum(to_string = "boolean", serialize = "bool")]
    Bool,
    /// UTF-8 text.
    #[strum(to_string = "text", serialize = "string")]
    Text,
    /// Date and time of day, UTC, to the second.
    #[strum(to_string = "timestamp", serialize = "datetime")]
    Timestamp,
    /// A calendar day.
    Date,
    /// A UUID, written hyphenated.
    Uuid,
    /// A JSON document.
    Json,
}

/// How a column's values are made.
// One per column: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Gen {
    /// `start + row`.
    Serial {
        /// The value of row 0.
        start: i64,
    },
    /// A text key from the 1-based row number: `t-{index:05}`.
    Key(KeyFormat),
    /// Fake data by name (`fake: safe_email`), in a locale.
    Fake {
        /// Which generator.
        kind: FakeKind,
        /// The column's `locale`, or English.
        locale: Locale,
    },
    /// Strings matching a regular expression.
    Pattern(Pattern),
    /// A number from a distribution, clamped to `min..=max`; integers are
    /// rounded, floats rounded to `round` decimals when given.
    Number {
        /// Where the numbers come from.
        dist: Dist,
        /// Values below are raised to it.
        min: Option<f64>,
        /// Values above are lowered to it.
        max: Option<f64>,
        /// Decimal places floats are rounded to.
        round: Option<u32>,
        /// Values are whole numbers (parameters written as integers, or
        /// `type: integer`).
        int: bool,
    },
    /// One of a list of values (`one_of`), optionally weighted.
    OneOf {
        /// The values, as written.
        choices: Vec<String>,
        /// One weight per choice (all equal when none are given).
        weights: Vec<f64>,
    },
    /// Timestamps or dates.
    Time(TimeGen),
    /// True with this probability.
    Bool(f64),
    /// Random (version 4) UUIDs.
    Uuid,
    /// A JSON object built from other generators.
    Json(Vec<Column>),
    /// The same value in every row.
    Const(String),
    /// A foreign key: the value of `column` in a row of `table` picked
    /// with `skew` (index into [`Schema::tables`] and its columns).
    Ref {
        /// Index of the parent table in [`Schema::tables`].
        table: usize,
        /// Index of the referenced column in the parent's columns.
        column: usize,
        /// How parent rows are picked.
        skew: Skew,
    },
}

/// A distribution of numbers, with its parameters as the schema gives them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Inclusive for integers, half-open for floats.
    Uniform {
        /// Lowest value.
        lo: f64,
        /// Highest value (excluded for floats).
        hi: f64,
    },
    /// Gaussian.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Log-normal: a long right tail (prices, sizes, durations).
    LogNormal {
        /// Median (`exp(mu)`).
        median: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Exponential.
    Exponential {
        /// Mean (`1 / lambda`).
        mean: f64,
    },
    /// Poisson counts.
    Poisson {
        /// Mean (`lambda`).
        mean: f64,
    },
    /// Ranks 1..=n with weight rank^-s.
    Zipf {
        /// Number of ranks.
        n: u64,
        /// Exponent: larger is more skewed.
        s: f64,
    },
    /// An empirical distribution: the values at the quantile levels
    /// [`QUANTILE_LEVELS`], joined by straight lines (a piecewise-linear
    /// inverse CDF), the end segments extended to levels 0 and 1.
    Quantiles([f64; 9]),
}

/// The levels of a `quantiles` generator's nine points: 1%, 5%, 10%, 25%,
/// 50%, 75%, 90%, 95% and 99%.
pub const QUANTILE_LEVELS: [f64; 9] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

impl Dist {
    /// The value at quantile `u` (0..=1) of a `quantiles` distribution:
    /// linear between the points, the first and last segments extended.
    pub fn quantile_at(points: &[f64; 9], u: f64) -> f64 {
        let l = &QUANTILE_LEVELS;
        let i = l.partition_point(|&x| x <= u).clamp(1, l.len() - 1);
        let (x0, x1, y0, y1) = (l[i - 1], l[i], points[i - 1], points[i]);
        y0 + (y1 - y0) * (u - x0) / (x1 - x0)
    }
}

/// How a foreign key picks its parent row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Skew {
    /// Every parent row equally likely.
    Uniform,
    /// Parent row `r` (0-based) has weight (r+1)^-s: the first rows are the
    /// hot ones, matching how profiles pick tenants.
    Zipf(f64),
}

/// The widest zero padding of a key template (`{index:032}`): a u64 has
/// 20 digits, and a crafted width of millions would make every key that long.
pub const MAX_KEY_WIDTH: usize = 32;

/// `prefix{index:0W}suffix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFormat {
    /// Text before the number.
    pub prefix: String,
    /// Minimum digits, zero-padded (0: no padding).
    pub width: usize,
    /// Text after the number.
    pub suffix: String,
}

impl KeyFormat {
    /// The key of 0-based row `row`.
    pub fn write(&self, row: u64, out: &mut String) {
        out.push_str(&self.prefix);
        let mut b = itoa::Buffer::new();
        let digits = b.format(row + 1);
        for _ in digits.len()..self.width {
            out.push('0');
        }
        out.push_str(digits);
        out.push_str(&self.suffix);
    }
}

/// Timestamps: uniform in `from..to` (optionally weighted by time of day),
/// or after another timestamp.
#[derive(Debug, Clone)]
pub struct TimeGen {
    /// Unix seconds, inclusive.
    pub from: i64,
    /// Unix seconds, exclusive.
    pub to: i64,
    /// 24 hourly weights.
    pub diurnal: Option<[f64; 24]>,
    /// 7 day-of-week weights, Monday first.
    pub weekly: Option<[f64; 7]>,
    /// `after:`: the value is strictly later than this other timestamp
    /// (and before `to`); `from` is then unused.
    pub after: Option<After>,
    /// With `after`: the most seconds after the earlier timestamp.
    pub within: Option<i64>,
    /// Values are dates (midnight), typed `date`.
    pub date: bool,
}

/// The timestamp a value must come after: a column of this table, or a
/// column of the row a foreign key of this table points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Column index in the same table.
    Column(usize),
    /// Via the foreign-key column `via` of this table, the column `column`
    /// of the parent table `table`.
    Parent {
        /// Index of the foreign-key column in this table.
        via: usize,
        /// Index of the parent table in [`Schema::tables`].
        table: usize,
        /// Index of the timestamp column in the parent table.
        column: usize,
    },
}

/// Options that change a schema for one run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Multiply every table's rows (at least 1 row each).
    pub scale: Option<f64>,
    /// Use this seed instead of the file's.
    pub seed: Option<u64>,
}

impl Schema {
    /// The table with this name.
    pub fn table(&self, name: &str) -> Option<(usize, &Table)> {
        self.tables.iter().enumerate().find(|(_, t)| t.name == name)
    }

    /// Names, in generation order.
    pub fn table_names(&self) -> Vec<&str> {
        self.tables.iter().map(|t| t.name.as_str()).collect()
    }
}

impl Table {
    /// The column with this name, with its index.
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns.iter().enumerate().find(|(_, c)| c.name == name)
    }
}

/// Read, parse and validate a schema file.
pub fn load(path: &Path, opts: &Options) -> Result<Schema, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::yaml::FileError::Io {
        what: "schema",
        path: path.to_path_buf(),
        source,
    })?;
    from_str(&text, path, opts)
}

/// Parse and validate schema text; `path` is used in messages.
pub fn from_str(text: &str, path: &Path, opts: &Options) -> Result<Schema, Error> {
    let raw =
        serde_saphyr::from_str::<raw::RawSchema>(text).map_err(|e| crate::yaml::FileError::syntax(&e, text, path))?;
    let mut schema = validate::validate(raw, path)?;
    if let Some(seed) = opts.seed {
        schema.seed = seed;
        schema.seed_given = true;
    }
    if let Some(scale) = opts.scale {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::Flag {
                flag: "--scale",
                message: format!("{scale} is not a positive number"),
            });
        }
        for t in &mut schema.tables {
            if t.rows > 0 {
                t.rows = ((t.rows as f64 * scale).round() as u64).max(1);
            }
        }
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use strum::VariantNames as _;

    use super::Kind;

    /// Every type parses from its name and its aliases, whatever the case
    /// the caller lower-cased, and messages list the names in this order.
    #[test]
    fn kinds_parse_by_name_and_alias() {
        assert_eq!(
            Kind::VARIANTS.join(", "),
            "integer, float, boolean, text, timestamp, date, uuid, json"
        );
        for (name, kind) in [
            ("integer", Kind::Int),
            ("int", Kind::Int),
            ("bigint", Kind::Int),
            ("double", Kind::Float),
            ("real", Kind::Float),
            ("bool", Kind::Bool),
            ("string", Kind::Text),
            ("datetime", Kind::Timestamp),
            ("date", Kind::Date),
            ("uuid", Kind::Uuid),
            ("json", Kind::Json),
        ] {
            assert_eq!(name.parse::<Kind>().ok(), Some(kind), "{name}");
        }
        assert!("Integer".parse::<Kind>().is_err());
        assert_eq!(<&str>::from(Kind::Bool), "boolean");
        assert_eq!(<&str>::from(Kind::Timestamp), "timestamp");
    }
}
