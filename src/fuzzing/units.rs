//! Every parser of a value written by hand: the units of `src/units.rs`
//! (profiles, policies and flags share them), gate quantiles, `--shard`.

use std::str::FromStr;

use super::{ensure, Violation};
use crate::gate::policy::Quantile;
use crate::units::{Count, Dur, Percent, Rate, Split};

/// `text` parses as `T`, and if it does, the value's `Display` parses back
/// to the same value (`same` compares).
fn round_trip<T>(what: &str, text: &str, same: impl Fn(&T, &T) -> bool) -> Result<(), Violation>
where
    T: FromStr + std::fmt::Display + std::fmt::Debug,
    T::Err: std::fmt::Display,
{
    let v = match text.parse::<T>() {
        Ok(v) => v,
        Err(e) => {
            ensure!(!e.to_string().is_empty(), "{what}: an empty error for {text:?}");
            return Ok(());
        }
    };
    let shown = v.to_string();
    match shown.parse::<T>() {
        Ok(back) => ensure!(
            same(&v, &back),
            "{what}: {text:?} is {v:?}, shown as {shown:?}, which reads as {back:?}"
        ),
        Err(e) => {
            return Err(Violation(format!(
                "{what}: {text:?} is {v:?}, shown as {shown:?}, which does not parse: {e}"
            )))
        }
    }
    Ok(())
}

/// Two shares the same within rounding (a split is normalised, so its
/// shares are computed, not read).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// Run `text` through every parser: no panic; a refusal has a message;
/// what parses shows as text that parses back to the same value (exactly,
/// but for a read/write split's shares, computed by a division).
pub fn units(text: &str) -> Result<(), Violation> {
    round_trip::<Dur>("duration", text, |a, b| a == b)?;
    round_trip::<Rate>("rate", text, |a, b| a == b)?;
    round_trip::<Percent>("percentage", text, |a, b| a == b)?;
    round_trip::<Count>("count", text, |a, b| a == b)?;
    round_trip::<Split>("split", text, |a, b| close(a.read, b.read) && close(a.write, b.write))?;
    if let Ok(s) = text.parse::<Split>() {
        ensure!(
            (0.0..=1.0).contains(&s.read) && (0.0..=1.0).contains(&s.write) && close(s.read + s.write, 1.0),
            "split {text:?} is {s:?}"
        );
    }
    if let Ok(d) = text.parse::<Dur>() {
        let secs = d.as_secs_f64();
        ensure!(secs.is_finite() && secs >= 0.0, "duration {text:?} is {secs} s");
    }
    if let Ok(r) = text.parse::<Rate>() {
        let v = r.as_per_sec();
        ensure!(v.is_finite() && v >= 0.0, "rate {text:?} is {v}/s");
    }
    if let Some(q) = Quantile::parse(text) {
        ensure!((0.0..=1.0).contains(&q.fraction), "quantile {text:?} is {}", q.fraction);
    }
    if let Ok((i, n)) = crate::cli::parse_shard(text) {
        ensure!(i < n, "shard {text:?} is {i}/{n}");
    }
    Ok(())
}
