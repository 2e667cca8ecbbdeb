//! `fake`: a keyed fake value of a kind (a name, a city) in a locale. The
//! value's PRF bits seed the generator, so the same input always gets the
//! same fake.

use rand::SeedableRng;

use super::{Lanes, Op};
use crate::scrub::detect::Kind;
use crate::scrub::keyed::{seed_of, Prf, Secret};
use crate::values::fake::{FakeKind, Locale};
use crate::values::seed::Rng64;

/// The op of a `fake` rule.
pub(super) fn compile(secret: &Secret, kind: FakeKind, locale: Locale) -> Op {
    // Keyed by the kind, not the column: the same name maps to
    // the same fake name wherever it appears.
    Op::Fake {
        prf: secret.prf("fake", &format!("{}/{locale}", kind.name())),
        kind,
        locale,
    }
}

/// The PRF of each value of a group.
pub(super) fn prepare<'v>(prf: &Prf, rows: usize, value: impl Fn(usize) -> Option<&'v str>, lanes: &mut Lanes) {
    lanes.keyed(prf, rows, value, |_, v| v.as_bytes());
}

/// The kinds of personal data a fake of `kind` is meant to look like.
pub fn kinds_of(kind: FakeKind) -> &'static [Kind] {
    let name = kind.name();
    if name.contains("phone") || name.contains("cell") {
        &[Kind::Phone]
    } else if name.contains("email") {
        &[Kind::Email]
    } else if name.starts_with("ip") {
        &[Kind::Ip]
    } else if name.starts_with("mac") {
        &[Kind::Mac]
    } else if name.contains("card") {
        &[Kind::Card]
    } else if name.contains("iban") {
        &[Kind::Iban]
    } else {
        &[]
    }
}

/// The PRF bits of draw `attempt` of a mask or fake: the value's own bits first (`ahead` if
/// prepared), then bits keyed by the attempt too.
pub(super) fn redraw_bits(prf: &Prf, value: &str, ahead: Option<[u8; 16]>, attempt: u8) -> [u8; 16] {
    match attempt {
        0 => ahead.unwrap_or_else(|| prf.bytes(&[value.as_bytes()])),
        n => prf.bytes(&[value.as_bytes(), b"redraw", &[n]]),
    }
}

/// Write the fake for `value`; `ahead` holds its PRF bits if prepared.
pub(super) fn write(prf: &Prf, kind: FakeKind, locale: Locale, value: &str, ahead: Option<[u8; 16]>, out: &mut String) {
    let bits = ahead.unwrap_or_else(|| prf.bytes(&[value.as_bytes()]));
    let mut rng = Rng64::from_seed(seed_of(&bits));
    // A fake that happens to equal the real value (a
    // common name) would keep it: draw again.
    for _ in 0..8 {
        out.clear();
        kind.generate_into(locale, &mut rng, out);
        if *out != value {
            break;
        }
    }
}
