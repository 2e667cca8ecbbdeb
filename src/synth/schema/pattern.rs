//! `pattern:` columns: strings matching a regular expression such as
//! `SKU-[A-Z]{3}-[0-9]{5}`. The expression is parsed by `regex-syntax`
//! (so escapes and classes mean what they mean in `regex`) into a small
//! tree that can draw a random match, count the matches of a fixed-length
//! pattern, and produce the n-th match: that last part is how `unique:
//! true` is guaranteed without retries (row i gets match perm(i)).

use rand::{Rng, RngExt};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Unbounded repetition (`*`, `+`, `{2,}`) draws at most this many extra.
const UNBOUNDED_EXTRA: u32 = 8;

/// Why a `pattern:` cannot be used; the message quotes the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `regex-syntax` does not read it; `reason` is its last line of
    /// explanation.
    #[error("`{pattern}` is not a regular expression: {reason}")]
    Syntax {
        /// The expression as written in the schema.
        pattern: String,
        /// What `regex-syntax` says is wrong.
        reason: String,
    },

    /// A valid expression that cannot draw matches.
    #[error("`{pattern}`: {problem}")]
    Unsupported {
        /// The expression as written in the schema.
        pattern: String,
        /// The part that cannot be generated.
        problem: Unsupported,
    },
}

/// A part of a valid regular expression that matches cannot be drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A literal that is not UTF-8 (possible with `(?-u)` escapes).
    #[error("non-UTF-8 literal")]
    NonUtf8Literal,
    /// A character class with no character in it.
    #[error("a character class matches nothing")]
    EmptyClass,
    /// A byte class with nothing between `0x20` and `0x7e`.
    #[error("a character class matches no printable ASCII character")]
    NoPrintableAscii,
    /// A repetition count above 10000.
    #[error("a repetition of more than 10000 is not supported")]
    LongRepetition,
}

/// A parsed `pattern:` that draws random matches or enumerates them.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    source: String,
    root: Node,
    /// Every count fits a `u64`: [`Pattern::nth`] takes the fast path.
    small: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(String),
    /// Inclusive character ranges and the number of characters in them.
    Class(Vec<(char, char)>, u64),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: u32,
    },
    Concat(Vec<Node>),
    Alt(Vec<Node>),
}

impl Pattern {
    /// Parse a regular expression as written in a schema.
    pub fn parse(source: &str) -> Result<Pattern, Error> {
        // ASCII semantics: `\d` is 0-9 and `\w` is [0-9A-Za-z_], as people
        // writing an id format mean them (Unicode `\d` has 760 digits).
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(source)
            .map_err(|e| Error::Syntax {
                pattern: source.to_string(),
                reason: first_line(&e.to_string()),
            })?;
        let root = node(&hir).map_err(|problem| Error::Unsupported {
            pattern: source.to_string(),
            problem,
        })?;
        let small = count(&root).is_some_and(|c| u64::try_from(c).is_ok());
        Ok(Pattern {
            source: source.to_string(),
            root,
            small,
        })
    }

    /// The expression as written in the schema.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Append a random match.
    pub fn generate<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut String) {
        gen(&self.root, rng, out);
    }

    /// How many distinct strings the pattern can produce when every
    /// repetition has a fixed count (saturating); `None` when a repetition
    /// is variable, which makes enumeration ambiguous.
    pub fn count(&self) -> Option<u128> {
        count(&self.root)
    }

    /// Append the `n`-th match (`n < count()`), in a fixed mixed-radix order.
    pub fn nth(&self, n: u128, out: &mut String) {
        match u64::try_from(n) {
            Ok(n) if self.small => nth(&self.root, n, out),
            _ => nth(&self.root, n, out),
        }
    }
}

fn first_line(s: &str) -> String {
    let l = s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim();
    l.strip_prefix("error: ").unwrap_or(l).to_string()
}

fn node(h: &Hir) -> Result<Node, Unsupported> {
    Ok(match h.kind() {
        HirKind::Empty => Node::Literal(String::new()),
        HirKind::Look(_) => Node::Literal(String::new()),
        HirKind::Literal(l) => Node::Literal(String::from_utf8(l.0.to_vec()).map_err(|_| Unsupported::NonUtf8Literal)?),
        HirKind::Class(Class::Unicode(c)) => {
            let ranges: Vec<(char, char)> = c.ranges().iter().map(|r| (r.start(), r.end())).collect();
            let n: u64 = ranges.iter().map(|(a, b)| u64::from(*b as u32 - *a as u32 + 1)).sum();
            if n == 0 {
                return Err(Unsupported::EmptyClass);
            }
            // `.` and negated classes span all of Unicode: draw printable
            // ASCII instead of surrogates and control characters.
            if n > 60_000 {
                return Ok(Node::Class(vec![('a', 'z'), ('A', 'Z'), ('0', '9')], 62));
            }
            Node::Class(ranges, n)
        }
        HirKind::Class(Class::Bytes(c)) => {
            // Without Unicode, classes are bytes; keep printable ASCII
            // (`.` and negated classes would otherwise draw control bytes).
            let ranges: Vec<(char, char)> = c
                .ranges()
                .iter()
                .filter_map(|r| {
                    let (a, b) = (r.start().max(0x20), r.end().min(0x7e));
                    (a <= b).then_some((a as char, b as char))
                })
                .collect();
            let n: u64 = ranges.iter().map(|(a, b)| u64::from(*b as u32 - *a as u32 + 1)).sum();
            if n == 0 {
                return Err(Unsupported::NoPrintableAscii);
            }
            Node::Class(ranges, n)
        }
        HirKind::Repetition(r) => {
            let max = r.max.unwrap_or(r.min + UNBOUNDED_EXTRA);
            if max > 10_000 {
                return Err(Unsupported::LongRepetition);
            }
            Node::Repeat {
                node: Box::new(node(&r.sub)?),
                min: r.min,
                max,
            }
        }
        HirKind::Capture(c) => node(&c.sub)?,
        HirKind::Concat(v) => Node::Concat(v.iter().map(node).collect::<Result<_, _>>()?),
        HirKind::Alternation(v) => Node::Alt(v.iter().map(node).collect::<Result<_, _>>()?),
    })
}

fn class_char(ranges: &[(char, char)], mut i: u64) -> char {
    for (a, b) in ranges {
        let len = u64::from(*b as u32 - *a as u32 + 1);
        if i < len {
            return char::from_u32(*a as u32 + i as u32).unwrap_or(*a);
        }
        i -= len;
    }
    ranges.first().map(|r| r.0).unwrap_or('?')
}

fn gen<R: Rng + ?Sized>(n: &Node, rng: &mut R, out: &mut String) {
    match n {
        Node::Literal(s) => out.push_str(s),
        Node::Class(ranges, len) => out.push(class_char(ranges, rng.random_range(0..*len))),
        Node::Repeat { node, min, max } => {
            let k = if min == max {
                *min
            } else {
                rng.random_range(*min..=*max)
            };
            for _ in 0..k {
                gen(node, rng, out);
            }
        }
        Node::Concat(v) => v.iter().for_each(|x| gen(x, rng, out)),
        Node::Alt(v) => {
            if !v.is_empty() {
                gen(&v[rng.random_range(0..v.len())], rng, out);
            }
        }
    }
}

fn count(n: &Node) -> Option<u128> {
    Some(match n {
        Node::Literal(_) => 1,
        Node::Class(_, len) => u128::from(*len),
        Node::Repeat { node, min, max } => {
            if min != max {
                return None;
            }
            let c = count(node)?;
            (0..*min).fold(1u128, |acc, _| acc.saturating_mul(c))
        }
        Node::Concat(v) => v.iter().try_fold(1u128, |acc, x| Some(acc.saturating_mul(count(x)?)))?,
        Node::Alt(v) => v.iter().try_fold(0u128, |acc, x| Some(acc.saturating_add(count(x)?)))?,
    })
}

/// The arithmetic of [`nth`]: `u64` when every count fits (the usual case,
/// several times faster than `u128` division, which a `from_schema`
/// variable pays on every request), `u128` otherwise. Both give the same
/// match for the same index.
trait Index:
    Copy + PartialOrd + std::ops::Div<Output = Self> + std::ops::Rem<Output = Self> + std::ops::Sub<Output = Self>
{
    fn of(c: u128) -> Self;
    fn low(self) -> u64;
}

impl Index for u64 {
    fn of(c: u128) -> Self {
        u64::try_from(c).unwrap_or(u64::MAX)
    }
    fn low(self) -> u64 {
        self
    }
}

impl Index for u128 {
    fn of(c: u128) -> Self {
        c
    }
    fn low(self) -> u64 {
        self as u64
    }
}

fn nth<I: Index>(n: &Node, i: I, out: &mut String) {
    match n {
        Node::Literal(s) => out.push_str(s),
        Node::Class(ranges, len) => out.push(class_char(ranges, (i % I::of(u128::from(*len))).low())),
        Node::Repeat { node, min, .. } => {
            let c = I::of(count(node).unwrap_or(1).max(1));
            // Most significant digit first, so the order reads naturally.
            let mut digits: smallvec::SmallVec<[I; 16]> = smallvec::SmallVec::new();
            let mut i = i;
            for _ in 0..*min {
                digits.push(i % c);
                i = i / c;
            }
            for d in digits.into_iter().rev() {
                nth(node, d, out);
            }
        }
        Node::Concat(v) => {
            let mut digits: smallvec::SmallVec<[I; 16]> = smallvec::SmallVec::new();
            let mut i = i;
            for x in v.iter().rev() {
                let c = I::of(count(x).unwrap_or(1).max(1));
                digits.push(i % c);
                i = i / c;
            }
            for (x, d) in v.iter().zip(digits.into_iter().rev()) {
                nth(x, d, out);
            }
        }
        Node::Alt(v) => {
            let mut i = i;
            for x in v {
                let c = I::of(count(x).unwrap_or(1));
                if i < c {
                    return nth(x, i, out);
                }
                i = i - c;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::seed::rng_for;
    use std::collections::HashSet;

    #[test]
    fn the_u64_path_gives_the_matches_of_the_u128_one() {
        for src in ["SKU-[A-Z]{3}-[0-9]{5}", "(ab|[x-z]{2}|q)[0-9]{3}", "[a-f0-9]{15}"] {
            let p = Pattern::parse(src).unwrap();
            assert!(p.small, "{src}");
            let n = p.count().unwrap();
            for i in (0..n).step_by((n / 997).max(1) as usize).chain([n - 1]) {
                let (mut a, mut b) = (String::new(), String::new());
                nth(&p.root, i as u64, &mut a);
                nth(&p.root, i, &mut b);
                assert_eq!(a, b, "{src} #{i}");
            }
        }
        assert!(!Pattern::parse("[a-z]{30}").unwrap().small);
    }

    #[test]
    fn random_matches_match_the_expression() {
        let p = Pattern::parse("SKU-[A-Z]{3}-[0-9]{5}").unwrap();
        let mut rng = rng_for(1, 2);
        for _ in 0..100 {
            let mut s = String::new();
            p.generate(&mut rng, &mut s);
            assert_eq!(s.len(), 13, "{s}");
            assert!(s.starts_with("SKU-"));
            assert!(s[4..7].chars().all(|c| c.is_ascii_uppercase()));
            assert!(s[8..].chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn enumeration_is_one_to_one() {
        let p = Pattern::parse("(ab|c)[x-z]\\d{2}").unwrap();
        assert_eq!(p.count(), Some(3 * 2 * 100));
        let all: HashSet<String> = (0..600u128)
            .map(|i| {
                let mut s = String::new();
                p.nth(i, &mut s);
                s
            })
            .collect();
        assert_eq!(all.len(), 600);
        assert!(all.contains("abx00") && all.contains("cz99"));
    }

    #[test]
    fn classes_are_ascii() {
        let p = Pattern::parse("\\d{4}\\w.").unwrap();
        let mut rng = rng_for(3, 4);
        for _ in 0..200 {
            let mut s = String::new();
            p.generate(&mut rng, &mut s);
            assert_eq!(s.len(), 6, "{s:?}");
            assert!(s[..4].bytes().all(|b| b.is_ascii_digit()), "{s:?}");
            assert!(s.bytes().all(|b| (0x20..0x7f).contains(&b)), "{s:?}");
        }
    }

    #[test]
    fn variable_repetition_cannot_be_counted() {
        assert_eq!(Pattern::parse("[a-z]{2,4}").unwrap().count(), None);
        assert!(Pattern::parse("[a-").is_err());
    }

    /// The messages quote the expression and say what is wrong with it.
    #[test]
    fn errors_name_the_expression() {
        let e = |p: &str| Pattern::parse(p).unwrap_err().to_string();
        assert_eq!(e("[a-"), "`[a-` is not a regular expression: unclosed character class");
        assert_eq!(
            e("a{10001}"),
            "`a{10001}`: a repetition of more than 10000 is not supported"
        );
        assert_eq!(
            e("(?-u)[\\x00-\\x1f]"),
            "`(?-u)[\\x00-\\x1f]`: a character class matches no printable ASCII character"
        );
    }
}
