//! The schema file as written: serde structs that mirror the YAML, unknown
//! keys rejected, source lines kept where validation must point at a value.
//! [`super::validate`] turns these into the typed [`super::Schema`].

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::units::Dur;

pub use crate::yaml::S;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchema {
    #[serde(default)]
    pub seed: Option<u64>,
    /// Default locale for `fake` columns.
    #[serde(default)]
    pub locale: Option<S<String>>,
    pub tables: S<IndexMap<String, S<RawTable>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    pub rows: S<Num>,
    pub columns: S<IndexMap<String, S<RawColumn>>>,
}

/// One column: exactly one generator key, plus modifiers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    // generators
    #[serde(default)]
    pub key: Option<S<String>>,
    #[serde(default)]
    pub serial: Option<S<Num>>,
    #[serde(default)]
    pub fake: Option<S<String>>,
    #[serde(default)]
    pub pattern: Option<S<String>>,
    #[serde(default)]
    pub one_of: Option<S<RawChoices>>,
    #[serde(default)]
    pub timestamp: Option<S<RawTimestamp>>,
    #[serde(default)]
    pub date: Option<S<RawTimestamp>>,
    #[serde(default, rename = "ref")]
    pub reference: Option<S<String>>,
    #[serde(default)]
    pub uniform: Option<S<Vec<S<Num>>>>,
    #[serde(default)]
    pub normal: Option<S<RawNormal>>,
    #[serde(default)]
    pub lognormal: Option<S<RawLogNormal>>,
    #[serde(default)]
    pub exponential: Option<S<RawMean>>,
    #[serde(default)]
    pub poisson: Option<S<RawMean>>,
    #[serde(default)]
    pub zipf: Option<S<RawZipf>>,
    #[serde(default)]
    pub quantiles: Option<S<Vec<S<Num>>>>,
    #[serde(default)]
    pub bool: Option<S<Num>>,
    #[serde(default)]
    pub uuid: Option<S<bool>>,
    #[serde(default)]
    pub json: Option<S<IndexMap<String, S<RawColumn>>>>,
    #[serde(default)]
    pub value: Option<S<Scalar>>,
    // modifiers
    #[serde(default)]
    pub locale: Option<S<String>>,
    #[serde(default)]
    pub skew: Option<S<RawSkew>>,
    #[serde(default)]
    pub nulls: Option<S<Num>>,
    #[serde(default)]
    pub unique: Option<S<bool>>,
    #[serde(default)]
    pub min: Option<S<Num>>,
    #[serde(default)]
    pub max: Option<S<Num>>,
    #[serde(default)]
    pub round: Option<S<u32>>,
    #[serde(default, rename = "type")]
    pub sql_type: Option<S<String>>,
    #[serde(default)]
    pub primary_key: Option<S<bool>>,
}

/// `{free: 70%, pro: 25%}` (shares), `{a: 3, b: 1}` (weights) or `[a, b]` (equal).
#[derive(Debug)]
pub enum RawChoices {
    Weighted(Vec<(String, Num)>),
    Equal(Vec<String>),
}

impl<'de> Deserialize<'de> for RawChoices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawChoices;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of choice to share (`{paid: 80%, pending: 20%}`) or a list of choices")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<RawChoices, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<Scalar, Num>()? {
                    out.push((k.0, v));
                }
                Ok(RawChoices::Weighted(out))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<RawChoices, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = s.next_element::<Scalar>()? {
                    out.push(v.0);
                }
                Ok(RawChoices::Equal(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimestamp {
    #[serde(default)]
    pub from: Option<S<Scalar>>,
    #[serde(default)]
    pub to: Option<S<Scalar>>,
    /// `column` or `ref_column.parent_column`.
    #[serde(default)]
    pub after: Option<S<String>>,
    /// With `after`: at most this long after (`30d`).
    #[serde(default)]
    pub within: Option<S<Dur>>,
    #[serde(default)]
    pub diurnal: Option<S<RawDiurnal>>,
    /// Seven day-of-week weights, Monday first.
    #[serde(default)]
    pub weekly: Option<S<Vec<Num>>>,
}

/// `diurnal: true` (the built-in day curve) or 24 hourly weights.
#[derive(Debug)]
pub enum RawDiurnal {
    On(bool),
    Weights(Vec<f64>),
}

impl<'de> Deserialize<'de> for RawDiurnal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDiurnal;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false or a list of 24 hourly weights")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawDiurnal, E> {
                Ok(RawDiurnal::On(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<RawDiurnal, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = s.next_element::<Num>()? {
                    out.push(v.as_f64());
                }
                Ok(RawDiurnal::Weights(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNormal {
    pub mean: S<Num>,
    pub sd: S<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogNormal {
    pub median: S<Num>,
    pub sigma: S<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMean {
    pub mean: S<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZipf {
    pub n: S<Num>,
    pub s: S<Num>,
}

/// `uniform` or `{zipf: 1.1}`.
#[derive(Debug)]
pub enum RawSkew {
    Named(String),
    Zipf(Num),
}

impl<'de> Deserialize<'de> for RawSkew {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSkew;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`uniform` or `{zipf: S}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSkew, E> {
                Ok(RawSkew::Named(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<RawSkew, A::Error> {
                let mut out = None;
                while let Some(k) = m.next_key::<String>()? {
                    if k != "zipf" {
                        return Err(de::Error::unknown_field(&k, &["zipf"]));
                    }
                    out = Some(m.next_value::<Num>()?);
                }
                out.map(RawSkew::Zipf).ok_or_else(|| de::Error::missing_field("zipf"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A number as written: `5` is an integer, `5.0` a float, `5%` a share.
/// Whether a distribution yields integers follows from how its parameters
/// were written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
    /// A percentage, as a fraction (`5%` -> 0.05).
    Share(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) | Num::Share(f) => f,
        }
    }
    pub fn is_int(self) -> bool {
        matches!(self, Num::Int(_))
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a percentage such as `20%`")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                i64::try_from(v)
                    .map(Num::Int)
                    .map_err(|_| E::custom("number too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                let t = v.trim();
                if let Some(p) = t.strip_suffix('%') {
                    let f: f64 = p
                        .trim()
                        .parse()
                        .map_err(|_| E::custom(format!("`{v}` is not a percentage (write e.g. `20%`)")))?;
                    if !(0.0..=100.0).contains(&f) {
                        return Err(E::custom(format!("`{v}` is outside 0%..100%")));
                    }
                    return Ok(Num::Share(f / 100.0));
                }
                if let Ok(i) = t.replace('_', "").parse::<i64>() {
                    return Ok(Num::Int(i));
                }
                t.parse::<f64>()
                    .map(Num::Float)
                    .map_err(|_| E::custom(format!("`{v}` is not a number")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any YAML scalar, kept as its text (`one_of` choices, `value`, dates).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}
