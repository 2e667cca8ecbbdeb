//! The rules file as written: serde structs that mirror the YAML, unknown
//! keys rejected, source lines kept so that validation can point at a value.
//! [`super::validate`] turns these into the typed [`super::Rules`].

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::units::{Dur, Percent};

pub use crate::yaml::S;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    pub key: S<String>,
    #[serde(default)]
    pub unlisted_columns: Option<S<String>>,
    /// Default locale of `fake` columns.
    #[serde(default)]
    pub locale: Option<S<String>>,
    pub tables: S<IndexMap<String, S<RawTable>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// Columns whose original values identify a row (for `shift_date` and
    /// `noise`); default `id` when the table has one.
    #[serde(default)]
    pub identity: Option<S<Vec<String>>>,
    /// Overrides the file-wide `unlisted_columns` for this table.
    #[serde(default)]
    pub unlisted_columns: Option<S<String>>,
    pub columns: S<IndexMap<String, S<RawRule>>>,
}

/// One column's rule: a word (`keep`, `drop`, `redact`, `null`) or a map
/// with exactly one transformer key (`{fake: name}`).
#[derive(Debug)]
pub enum RawRule {
    Word(String),
    Map(Box<RawRuleMap>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuleMap {
    #[serde(default)]
    pub pseudonymize: Option<S<RawPseudonymize>>,
    #[serde(default)]
    pub fake: Option<S<String>>,
    /// Only with `fake`.
    #[serde(default)]
    pub locale: Option<S<String>>,
    #[serde(default)]
    pub mask: Option<S<RawMask>>,
    #[serde(default)]
    pub shift_date: Option<S<RawShift>>,
    #[serde(default)]
    pub noise: Option<S<RawNoise>>,
    #[serde(default)]
    pub redact: Option<S<RawRedact>>,
    #[serde(default)]
    pub keep: Option<S<bool>>,
    #[serde(default)]
    pub drop: Option<S<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPseudonymize {
    #[serde(default, rename = "as")]
    pub kind: Option<S<String>>,
    #[serde(default)]
    pub same_as: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMask {
    #[serde(default)]
    pub keep_last: Option<S<u32>>,
    #[serde(default)]
    pub keep_first: Option<S<u32>>,
    #[serde(default)]
    pub all: Option<S<bool>>,
    /// Replace with this character instead of keyed random digits/letters.
    #[serde(default)]
    pub with: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShift {
    pub max: S<Dur>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNoise {
    pub relative: S<Percent>,
}

/// `{redact: {kinds: [email, phone]}}`: only these detectors (default all).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedact {
    #[serde(default)]
    pub kinds: Option<S<Vec<String>>>,
    /// Also replace the row's own values of other scrubbed columns (default true).
    #[serde(default)]
    pub row_values: Option<S<bool>>,
}

impl<'de> Deserialize<'de> for RawRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRule;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`keep`, `drop`, `redact`, `null` or a map with one transformer such as `{fake: name}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRule, E> {
                Ok(RawRule::Word(v.to_string()))
            }
            // `notes: null` is YAML's null, and means the `null` rule.
            fn visit_unit<E: de::Error>(self) -> Result<RawRule, E> {
                Ok(RawRule::Word("null".to_string()))
            }
            fn visit_none<E: de::Error>(self) -> Result<RawRule, E> {
                Ok(RawRule::Word("null".to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<RawRule, A::Error> {
                RawRuleMap::deserialize(de::value::MapAccessDeserializer::new(m)).map(|m| RawRule::Map(Box::new(m)))
            }
        }
        d.deserialize_any(V)
    }
}
