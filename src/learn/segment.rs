//! What a path segment or query value looks like, by its characters alone.

/// The lexical class of one path segment or query value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Could be a fixed part of the path (`orders`, `v2`, `search.json`).
    Word,
    /// Decimal digits only (`123`).
    Number,
    /// A UUID (`123e4567-e89b-12d3-a456-426614174000`).
    Uuid,
    /// Hex digits with at least one digit and eight or more characters (an
    /// object id, a hash).
    Hex,
    /// Letters and digits mixed, or long: an opaque id or token
    /// (`ord_8f7aK2`, `SKU-12345`, a base64url token).
    Token,
    /// Looks like an e-mail address.
    Email,
    /// Anything else: percent-encoded or non-ASCII text, punctuation.
    Other,
}

impl Class {
    /// Every class, in declaration order (the index used by counters).
    pub const ALL: [Class; 7] = [
        Class::Word,
        Class::Number,
        Class::Uuid,
        Class::Hex,
        Class::Token,
        Class::Email,
        Class::Other,
    ];

    /// Whether a segment of this class is a variable whatever its count.
    pub fn is_variable(self) -> bool {
        self != Class::Word
    }

    /// Index in [`Class::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The longest segment that can stay a fixed part of a template.
pub const MAX_WORD: usize = 40;

/// Classify one segment (still percent-encoded, as logged).
pub fn classify(s: &str) -> Class {
    let b = s.as_bytes();
    if b.is_empty() {
        return Class::Word;
    }
    let mut digits = 0usize;
    let mut hex_letters = 0usize;
    let mut letters = 0usize;
    let mut other = 0usize;
    let mut at = 0usize;
    for &c in b {
        match c {
            b'0'..=b'9' => digits += 1,
            b'a'..=b'f' | b'A'..=b'F' => {
                hex_letters += 1;
                letters += 1;
            }
            b'g'..=b'z' | b'G'..=b'Z' => letters += 1,
            b'-' | b'_' | b'.' | b'~' => {}
            b'@' => at += 1,
            _ => other += 1,
        }
    }
    if digits == b.len() {
        return if b.len() <= 18 { Class::Number } else { Class::Token };
    }
    if is_uuid(b) {
        return Class::Uuid;
    }
    if at == 1 && other == 0 && s.contains('.') {
        return Class::Email;
    }
    if other > 0 || at > 0 {
        return Class::Other;
    }
    if digits > 0 && digits + hex_letters == b.len() && b.len() >= 8 {
        return Class::Hex;
    }
    if b.len() > MAX_WORD || (b.len() >= 20 && digits > 0) {
        return Class::Token;
    }
    // Version-like words keep their digits: v1, v2beta, api2, oauth2, 2fa.
    if digits > 0 && (digits >= 3 || b.len() >= 8 || letters == 0) {
        return Class::Token;
    }
    Class::Word
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The characters a set of token-like values was drawn from, smallest
/// alphabet first, as the profile's `token` generator names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chars {
    /// Saw a lower-case letter beyond `f`.
    pub lower: bool,
    /// Saw a lower-case hex letter.
    pub lower_hex: bool,
    /// Saw an upper-case letter.
    pub upper: bool,
    /// Saw a digit.
    pub digit: bool,
    /// Saw `-` or `_`.
    pub dash: bool,
}

impl Chars {
    /// Note the characters of one value.
    pub fn add(&mut self, s: &str) {
        for c in s.bytes() {
            match c {
                b'a'..=b'f' => self.lower_hex = true,
                b'g'..=b'z' => self.lower = true,
                b'A'..=b'Z' => self.upper = true,
                b'0'..=b'9' => self.digit = true,
                b'-' | b'_' => self.dash = true,
                _ => {}
            }
        }
    }

    /// Both sets of characters.
    pub fn merge(&mut self, o: Chars) {
        self.lower |= o.lower;
        self.lower_hex |= o.lower_hex;
        self.upper |= o.upper;
        self.digit |= o.digit;
        self.dash |= o.dash;
    }

    /// The `token` generator's alphabet that covers these characters.
    pub fn alphabet(self) -> &'static str {
        if self.dash {
            "base64url"
        } else if self.upper && !self.lower && !self.lower_hex && !self.digit {
            "alnum"
        } else if self.upper && !self.lower && !self.lower_hex {
            "HEX"
        } else if self.upper || self.lower {
            if self.digit || self.upper {
                "alnum"
            } else {
                "lower"
            }
        } else if self.lower_hex {
            "hex"
        } else {
            "digits"
        }
    }
}

/// Whether `s` may be kept as a query key or a fixed path part at all: a
/// short identifier, nothing percent-encoded.
pub fn is_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_WORD
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for (s, c) in [
            ("orders", Class::Word),
            ("v2", Class::Word),
            ("oauth2", Class::Word),
            ("search.json", Class::Word),
            ("", Class::Word),
            ("123", Class::Number),
            ("0042", Class::Number),
            ("123e4567-e89b-12d3-a456-426614174000", Class::Uuid),
            ("507f1f77bcf86cd799439011", Class::Hex),
            ("deadbeef", Class::Word),
            ("ord_8f7aK2", Class::Token),
            ("SKU-12345", Class::Token),
            ("a@b.example", Class::Email),
            ("caf%C3%A9", Class::Other),
            ("x".repeat(41).as_str(), Class::Token),
            ("2024-01-05", Class::Token),
        ] {
            assert_eq!(classify(s), c, "{s}");
        }
    }

    #[test]
    fn alphabets() {
        let of = |v: &[&str]| {
            let mut c = Chars::default();
            v.iter().for_each(|s| c.add(s));
            c.alphabet()
        };
        assert_eq!(of(&["507f1f77bcf86cd7"]), "hex");
        assert_eq!(of(&["507F1F77BCF86CD7"]), "HEX");
        assert_eq!(of(&["aZ09xy"]), "alnum");
        assert_eq!(of(&["a-Z_09"]), "base64url");
        assert_eq!(of(&["12345"]), "digits");
    }
}
