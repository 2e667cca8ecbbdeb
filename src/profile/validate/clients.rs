//! `clients:` checked: each class's share (a percentage or a fraction, the
//! shares summing to 100% at most), its pace (never 0), its abandon time,
//! timeout and cap, and that it does something a normal client does not.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Ctx;
use crate::profile::clients::{ClientClass, Pace};
use crate::profile::raw::{RawClient, RawNumber, RawPace, S};
use crate::profile::{Error, HttpMode, Target};

/// Requests of one class in flight at once per shard, unless the class says.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 1000;

/// Every class of `clients:`, in name order.
pub(super) fn clients(
    ctx: &Ctx,
    raw: Option<S<BTreeMap<String, S<RawClient>>>>,
    target: &Target,
) -> Result<Vec<ClientClass>, Error> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    if target.http == HttpMode::Http2 {
        return Err(ctx.at(
            &raw,
            "clients",
            "slow and abandoning clients speak HTTP/1.1, each on its own connection; with `target.http: http2` they are not supported (use http1 or auto)",
        ));
    }
    let mut out = Vec::new();
    let mut total = 0.0;
    for (name, c) in &raw.value {
        let class = class(ctx, name, c, target)?;
        total += class.share;
        if total > 1.0 + 1e-9 {
            return Err(ctx.at(
                &c.value.share,
                format!("clients.{name}.share"),
                format!(
                    "the classes' shares add up to {:.4}%, over 100% (the rest of the arrivals are normal clients)",
                    total * 100.0
                ),
            ));
        }
        out.push(class);
    }
    Ok(out)
}

/// One class.
fn class(ctx: &Ctx, name: &str, c: &S<RawClient>, target: &Target) -> Result<ClientClass, Error> {
    let key = |k: &str| format!("clients.{name}.{k}");
    if name.is_empty()
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
    {
        return Err(ctx.at(
            c,
            format!("clients.{name}"),
            "a class name is letters, digits, `_`, `-` or `.` (it names the class in results)",
        ));
    }
    let v = &c.value;
    let share = share(ctx, &v.share, &key("share"))?;
    let send = pace(ctx, v.send.as_ref(), &key("send"))?;
    let read = pace(ctx, v.read.as_ref(), &key("read"))?;
    let abandon_after = match &v.abandon_after {
        Some(d) if d.value.0.is_zero() => {
            return Err(ctx.at(d, key("abandon_after"), "must be longer than 0"));
        }
        d => d.as_ref().map(|d| d.value.0),
    };
    if send.is_none() && read.is_none() && abandon_after.is_none() {
        return Err(ctx.at(
            c,
            format!("clients.{name}"),
            "the class does nothing a normal client does not: give it `send`, `read` or `abandon_after`",
        ));
    }
    let timeout = match &v.timeout {
        Some(d) if d.value.0.is_zero() => return Err(ctx.at(d, key("timeout"), "must be longer than 0")),
        Some(d) => d.value.0,
        None => target.timeout,
    };
    let max_in_flight = match &v.max_in_flight {
        Some(m) if m.value.0 == 0 || m.value.0 > 1_000_000 => {
            return Err(ctx.at(m, key("max_in_flight"), "must be between 1 and 1000000"))
        }
        Some(m) => m.value.0 as u32,
        None => DEFAULT_MAX_IN_FLIGHT,
    };
    Ok(ClientClass {
        name: name.to_string(),
        share,
        send,
        read,
        abandon_after,
        timeout,
        max_in_flight,
    })
}

/// `2%` or a fraction such as `0.02`.
fn share(ctx: &Ctx, s: &S<RawNumber>, key: &str) -> Result<f64, Error> {
    let v = match &s.value {
        RawNumber::Number(f) => *f,
        RawNumber::Text(t) => match t.parse::<crate::units::Percent>() {
            Ok(p) => p.fraction(),
            Err(e) => return Err(ctx.at(s, key, e.to_string())),
        },
    };
    if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
        return Err(ctx.at(
            s,
            key,
            format!("a share lies between 0 and 100% (a fraction from 0 to 1); {v} is not"),
        ));
    }
    Ok(v)
}

/// `{bytes_per_s: N}` or `{chunk: N, every: D}`: a pace that moves.
fn pace(ctx: &Ctx, p: Option<&S<RawPace>>, key: &str) -> Result<Option<Pace>, Error> {
    let Some(p) = p else { return Ok(None) };
    let shape = "write `{bytes_per_s: 50}` or `{chunk: 1, every: 100ms}`";
    match (&p.value.bytes_per_s, p.value.chunk, p.value.every) {
        (Some(rate), None, None) => {
            let v = match rate {
                RawNumber::Number(f) => *f,
                RawNumber::Text(t) => t
                    .parse::<crate::units::Rate>()
                    .map_err(|e| ctx.at(p, format!("{key}.bytes_per_s"), e.to_string()))?
                    .as_per_sec(),
            };
            if !(v.is_finite() && v > 0.0) {
                return Err(ctx.at(
                    p,
                    format!("{key}.bytes_per_s"),
                    "the pace must be more than 0 bytes per second",
                ));
            }
            Ok(Some(Pace::per_second(v)))
        }
        (None, Some(chunk), Some(every)) => {
            if chunk.0 == 0 || chunk.0 > 1 << 20 {
                return Err(ctx.at(p, format!("{key}.chunk"), "a chunk is 1 to 1048576 bytes"));
            }
            if every.0.is_zero() {
                return Err(ctx.at(p, format!("{key}.every"), "the pause must be longer than 0"));
            }
            if every.0 > Duration::from_secs(3600) {
                return Err(ctx.at(p, format!("{key}.every"), "the pause is at most 1h"));
            }
            Ok(Some(Pace {
                chunk: chunk.0 as u32,
                every: every.0,
            }))
        }
        _ => Err(ctx.at(p, key, shape)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::profile::{from_str, Overrides, Profile};

    const BASE: &str = "name: c
target: {base_url: \"http://127.0.0.1:1\", timeout: 3s}
seed: 1
duration: 10s
load: {model: open, rate: 10/s}
endpoints:
  - {name: a, weight: 1, path: /}
clients:
";

    fn parse(clients: &str) -> Result<Profile, String> {
        from_str(&format!("{BASE}{clients}"), Path::new("p.yaml"), &Overrides::default()).map_err(|e| e.to_string())
    }

    fn error(clients: &str) -> String {
        match parse(clients) {
            Ok(_) => panic!("expected an error for {clients}"),
            Err(e) => e,
        }
    }

    #[test]
    fn classes_parse_with_their_defaults() {
        let p = parse(
            "  slow_send: {share: 2%, send: {bytes_per_s: 50}}
  slow_read: {share: 0.01, read: {chunk: 1, every: 100ms}, timeout: 30s}
  abandon: {share: 1%, abandon_after: 150ms, max_in_flight: 20}
",
        )
        .unwrap();
        let names: Vec<&str> = p.clients.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["abandon", "slow_read", "slow_send"], "in name order");
        let [abandon, read, send] = &p.clients[..] else {
            panic!()
        };
        assert!((send.share - 0.02).abs() < 1e-12 && (read.share - 0.01).abs() < 1e-12);
        assert_eq!(send.send.map(|p| (p.chunk, p.every.as_millis())), Some((5, 100)));
        assert_eq!(read.timeout.as_secs(), 30);
        assert_eq!(send.timeout.as_secs(), 3, "the target's timeout by default");
        assert_eq!(abandon.abandon_after.map(|d| d.as_millis()), Some(150));
        assert_eq!(
            (abandon.max_in_flight, send.max_in_flight),
            (20, super::DEFAULT_MAX_IN_FLIGHT)
        );
        assert!((p.normal_share() - 0.96).abs() < 1e-12);
    }

    #[test]
    fn a_share_over_100_percent_is_refused() {
        assert_eq!(
            error("  x: {share: 120%, abandon_after: 1s}\n"),
            "p.yaml:9: key `clients.x.share`: invalid percentage `120%`: a percentage lies between 0% and 100%"
        );
        assert_eq!(
            error("  x: {share: 1.5, abandon_after: 1s}\n"),
            "p.yaml:9: key `clients.x.share`: a share lies between 0 and 100% (a fraction from 0 to 1); 1.5 is not"
        );
    }

    #[test]
    fn shares_summing_over_100_percent_are_refused() {
        assert_eq!(
            error("  a: {share: 60%, abandon_after: 1s}\n  b: {share: 0.5, read: {bytes_per_s: 10}}\n"),
            "p.yaml:10: key `clients.b.share`: the classes' shares add up to 110.0000%, over 100% (the rest of the arrivals are normal clients)"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let e = error("  a: {share: 6%, abandon_afer: 1s}\n");
        assert!(e.starts_with("p.yaml:9:"), "{e}");
        assert!(e.contains("unknown key `abandon_afer`"), "{e}");
        let e = error("  a: {share: 6%, read: {bytes_per_sec: 1}}\n");
        assert!(
            e.starts_with("p.yaml:9:") && e.contains("unknown key `bytes_per_sec`"),
            "{e}"
        );
    }

    #[test]
    fn a_pace_of_zero_is_refused() {
        assert_eq!(
            error("  a: {share: 6%, send: {bytes_per_s: 0}}\n"),
            "p.yaml:9: key `clients.a.send.bytes_per_s`: the pace must be more than 0 bytes per second"
        );
        assert_eq!(
            error("  a: {share: 6%, read: {chunk: 0, every: 1s}}\n"),
            "p.yaml:9: key `clients.a.read.chunk`: a chunk is 1 to 1048576 bytes"
        );
        assert_eq!(
            error("  a: {share: 6%, read: {chunk: 4, every: 0}}\n"),
            "p.yaml:9: key `clients.a.read.every`: the pause must be longer than 0"
        );
        assert!(error("  a: {share: 6%, read: {chunk: 4}}\n").contains("`{chunk: 1, every: 100ms}`"));
        assert!(error("  a: {share: 6%, abandon_after: 0}\n").contains("clients.a.abandon_after"));
    }

    #[test]
    fn a_class_that_does_nothing_or_speaks_http2_is_refused() {
        assert!(error("  a: {share: 6%}\n").contains("give it `send`, `read` or `abandon_after`"));
        let text =
            format!("{BASE}  a: {{share: 6%, abandon_after: 1s}}\n").replace("timeout: 3s", "timeout: 3s, http: http2");
        let e = from_str(&text, Path::new("p.yaml"), &Overrides::default())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.yaml:9: key `clients`:") && e.contains("http2"), "{e}");
    }
}
