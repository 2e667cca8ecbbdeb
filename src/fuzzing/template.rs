//! The request template engine (`{{var}}` in paths, headers and bodies)
//! and the opaque token ids a `token` variable spells.

use super::{ensure, Bytes, Violation};
use crate::profile::template::{encode_into, Context, Segment, Template};
use crate::profile::token::{Alphabet, TokenSpace};

/// The variables a fuzzed template may name.
pub const VARS: [&str; 4] = ["tenant", "request", "product", "q"];

/// The input: a context byte, four values (a length byte and that many
/// bytes each), token parameters (length, alphabet, count, two ids), then
/// the template's text. Compiles the text; when it compiles, renders it
/// and checks that each value landed encoded for its context and that the
/// literals are the text's; the token space, when valid, spells ids of its
/// length in its alphabet, different for different ids.
pub fn template(data: &[u8]) -> Result<(), Violation> {
    let mut b = Bytes::new(data);
    let context = [Context::Url, Context::Header, Context::JsonBody, Context::RawBody][usize::from(b.u8() % 4)];
    let values: Vec<Vec<u8>> = (0..VARS.len())
        .map(|_| {
            let n = usize::from(b.u8() % 32);
            b.take(n).to_vec()
        })
        .collect();
    tokens(&mut b)?;
    let Ok(text) = std::str::from_utf8(b.rest()) else {
        return Ok(());
    };
    let t = match Template::compile(text, context, |n| VARS.iter().position(|v| *v == n)) {
        Ok(t) => t,
        Err(e) => {
            ensure!(!e.to_string().is_empty(), "an empty template error");
            return Ok(());
        }
    };
    let mut out = Vec::new();
    t.render_into(&values, &mut out);
    let mut expected = Vec::new();
    let mut literals = Vec::new();
    for seg in &t.segments {
        match seg {
            Segment::Literal(l) => {
                expected.extend_from_slice(l);
                literals.extend_from_slice(l);
            }
            Segment::Var(i) => {
                ensure!(*i < VARS.len(), "variable index {i} of {}", VARS.len());
                let v = &values[*i];
                encoded_as_context(context, v)?;
                encode_into(context, v, &mut expected);
            }
        }
    }
    ensure!(out == expected, "rendered {out:?}, segment by segment {expected:?}");
    let mut stripped = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        stripped.push_str(&rest[..open]);
        let close = rest[open..].find("}}").map_or(rest.len(), |c| open + c + 2);
        rest = &rest[close..];
    }
    stripped.push_str(rest);
    ensure!(
        literals == stripped.as_bytes(),
        "literals {:?} are not the text without its variables {stripped:?}",
        String::from_utf8_lossy(&literals)
    );
    Ok(())
}

/// `v` encoded for `context` reads back as `v` (URL: percent-decoding, JSON:
/// as a JSON string when `v` is UTF-8) or is `v` less what the context
/// cannot carry (a header: CR and LF).
fn encoded_as_context(context: Context, v: &[u8]) -> Result<(), Violation> {
    let mut enc = Vec::new();
    encode_into(context, v, &mut enc);
    match context {
        Context::Url => {
            ensure!(
                enc.iter()
                    .all(|b| b.is_ascii_graphic() && !b"/?#&=%".contains(b) || *b == b'%'),
                "a URL value encoded with a reserved byte: {enc:?}"
            );
            let decoded: Vec<u8> = percent_decode(&enc);
            ensure!(
                decoded == v,
                "URL value {v:?} encoded as {enc:?} decodes as {decoded:?}"
            );
        }
        Context::Header => {
            let kept: Vec<u8> = v.iter().copied().filter(|b| *b != b'\r' && *b != b'\n').collect();
            ensure!(enc == kept, "header value {v:?} encoded as {enc:?}");
        }
        Context::JsonBody => {
            if let Ok(s) = std::str::from_utf8(v) {
                let mut json = b"\"".to_vec();
                json.extend_from_slice(&enc);
                json.push(b'"');
                let back: Result<String, _> = serde_json::from_slice(&json);
                ensure!(
                    back.as_deref().ok() == Some(s),
                    "JSON value {s:?} encoded as {:?} reads as {back:?}",
                    String::from_utf8_lossy(&enc)
                );
            }
        }
        Context::RawBody => ensure!(enc == v, "a raw body value changed"),
    }
    Ok(())
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match (
            s[i],
            s.get(i + 1).copied().and_then(hex),
            s.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// A token space from the next bytes: ids of its length, in its alphabet,
/// distinct for distinct ids.
fn tokens(b: &mut Bytes<'_>) -> Result<(), Violation> {
    let len = u64::from(b.u8());
    const ALPHABETS: [Alphabet; 6] = [
        Alphabet::Hex,
        Alphabet::HexUpper,
        Alphabet::Digits,
        Alphabet::Alnum,
        Alphabet::Lower,
        Alphabet::Base64Url,
    ];
    let alphabet = ALPHABETS[usize::from(b.u8()) % ALPHABETS.len()];
    let n = b.u64();
    let (k1, k2) = (b.u64(), b.u64());
    let Ok(space) = TokenSpace::new(len, alphabet, n) else {
        return Ok(());
    };
    let (mut a, mut c) = (Vec::new(), Vec::new());
    space.write(k1, &mut a);
    space.write(k2, &mut c);
    for id in [&a, &c] {
        ensure!(id.len() as u64 == len, "a token of {} chars, not {len}", id.len());
        ensure!(
            id.iter().all(|ch| alphabet.chars().contains(ch)),
            "a token {id:?} outside {alphabet:?}"
        );
    }
    let (c1, c2) = (k1.clamp(1, n), k2.clamp(1, n));
    ensure!((c1 == c2) == (a == c), "ids {c1} and {c2} of {n} spell {a:?} and {c:?}");
    Ok(())
}
