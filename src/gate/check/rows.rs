//! What every check's rows are made of: the scope a row is about (the
//! whole run or an endpoint), an empty row to fill, and the limits a value
//! is held to.

use super::super::verdict::{Limit, Op, Outcome, Row, Unit};

/// A scope: what a row is about, and the endpoints it merges.
pub struct Scope {
    pub name: String,
    pub endpoints: Vec<usize>,
}

/// An empty row of `metric` for `scope`: no data until a check fills it.
pub fn row(scope: &str, metric: impl Into<String>, unit: Unit) -> Row {
    Row {
        scope: scope.to_string(),
        metric: metric.into(),
        unit,
        observed: None,
        limit: None,
        comparison: None,
        samples: 0,
        outcome: Some(Outcome::NoData),
        action: None,
        note: None,
    }
}

/// A limit the value must not exceed.
pub fn at_most(v: f64) -> Option<Limit> {
    Some(Limit {
        op: Op::AtMost,
        value: v,
    })
}

/// A limit the value must reach.
pub fn at_least(v: f64) -> Option<Limit> {
    Some(Limit {
        op: Op::AtLeast,
        value: v,
    })
}
