//! How the gate writes numbers for people: a value in its unit (`250ms`,
//! `99.96%`, `1.50x`), and a comparison's delta with its interval. One place,
//! so the table, Markdown, JUnit and the reasons of a verdict all agree.

use std::time::Duration;

use super::verdict::{Comparison, Unit};
use crate::results::fmt_us;

/// A value in its unit, for people.
pub fn fmt_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Us => trim_zeros(fmt_us(v.round().max(0.0) as u64)),
        Unit::Fraction => fmt_pct(v),
        Unit::Burn => format!("{v:.2}x"),
        Unit::Seconds => crate::units::Dur(Duration::from_secs_f64(v.max(0.0))).to_string(),
        Unit::Effect => format!("{v:+.3}"),
    }
}

/// `250.00ms` as `250ms`, `1.50s` as `1.5s`, `5.00%` as `5%`.
fn trim_zeros(s: String) -> String {
    let Some(dot) = s.find('.') else { return s };
    let unit_at = s[dot + 1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(s.len(), |i| dot + 1 + i);
    let digits = s[..unit_at].trim_end_matches('0').trim_end_matches('.');
    format!("{digits}{}", &s[unit_at..])
}

/// A fraction as a percentage with enough digits to tell 0.1% from 0.
pub fn fmt_pct(v: f64) -> String {
    let p = v * 100.0;
    trim_zeros(if (99.0..100.0).contains(&p) {
        // 99.96% must not round to 100%.
        format!("{p:.3}%")
    } else if p == 0.0 || p.abs() >= 10.0 {
        format!("{p:.1}%")
    } else if p.abs() >= 0.1 {
        format!("{p:.2}%")
    } else {
        format!("{p:.3}%")
    })
}

/// A comparison's delta with its interval: `+21.3% [+18.9%, +23.5%]`.
pub fn fmt_delta(c: &Comparison) -> String {
    let signed = |v: f64| {
        let s = fmt_pct(v);
        if v >= 0.0 {
            format!("+{s}")
        } else {
            s
        }
    };
    match c.interval {
        Some([lo, hi]) => format!("{} [{}, {}]", signed(c.delta), signed(lo), signed(hi)),
        None => signed(c.delta),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(fmt_value(250_000.0, Unit::Us), "250ms");
        assert_eq!(fmt_value(1_500_000.0, Unit::Us), "1.5s");
        assert_eq!(fmt_value(12_345.0, Unit::Us), "12.35ms");
        assert_eq!(fmt_pct(0.05), "5%");
        assert_eq!(fmt_pct(0.001), "0.1%");
        assert_eq!(fmt_pct(0.9996), "99.96%");
        assert_eq!(fmt_pct(1.0), "100%");
        assert_eq!(fmt_pct(0.00005), "0.005%");
        assert_eq!(
            fmt_delta(&Comparison {
                baseline: 1.0,
                delta: 0.181,
                interval: Some([0.169, -0.01]),
                tolerance: None,
                p_value: None,
            }),
            "+18.1% [+16.9%, -1%]"
        );
    }
}
