//! What the values of one template variable looked like, and the generator
//! that makes values of the same shape without copying any of them.

use std::hash::{Hash, Hasher};

use super::segment::{Chars, Class};
use super::sketch::{round_2, round_down_2, round_up_2, Distinct, Quantiles};

/// Distinct values kept per variable to estimate their number and skew.
const DISTINCT_CAP: usize = 1024;

/// A variable's observed shape: classes, lengths, characters, numbers and
/// distinct values (as hashes). No value is kept.
#[derive(Debug, Clone)]
pub struct VarStats {
    classes: [u64; Class::ALL.len()],
    distinct: Distinct,
    numbers: Quantiles,
    /// Values by length in bytes (the last slot counts 256 and longer).
    lengths: Vec<u64>,
    chars: Chars,
}

impl Default for VarStats {
    fn default() -> Self {
        VarStats {
            classes: [0; Class::ALL.len()],
            distinct: Distinct::new(DISTINCT_CAP),
            numbers: Quantiles::new(),
            lengths: Vec::new(),
            chars: Chars::default(),
        }
    }
}

/// A stable 64-bit hash of a value (SipHash with fixed keys): used only in
/// memory, to count distinct values.
pub fn value_hash(v: &str) -> u64 {
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new_with_keys(0x6c6f_6164_6c69_6e65, 0x6c65_6172_6e21_0001);
    v.hash(&mut h);
    h.finish()
}

impl VarStats {
    /// Note `n` occurrences of one value.
    pub fn add(&mut self, v: &str, class: Class, n: u64) {
        self.classes[class.index()] += n;
        self.distinct.add_n(value_hash(v), n);
        let reps = u32::try_from(n).unwrap_or(u32::MAX);
        if class == Class::Number {
            if let Ok(x) = v.parse::<u64>() {
                self.numbers.add_n(x, reps);
            }
        }
        let len = v.len().min(256);
        if self.lengths.len() <= len {
            self.lengths.resize(len + 1, 0);
        }
        self.lengths[len] += n;
        self.chars.add(v);
    }

    /// Add another variable's observations into this one.
    pub fn merge(&mut self, o: &VarStats) {
        for (a, b) in self.classes.iter_mut().zip(o.classes) {
            *a += b;
        }
        self.distinct.merge(&o.distinct);
        self.numbers.merge(&o.numbers);
        if self.lengths.len() < o.lengths.len() {
            self.lengths.resize(o.lengths.len(), 0);
        }
        for (a, b) in self.lengths.iter_mut().zip(&o.lengths) {
            *a += b;
        }
        self.chars.merge(o.chars);
    }

    /// Occurrences seen.
    pub fn count(&self) -> u64 {
        self.classes.iter().sum()
    }

    /// The class most values had (ties to the earlier class).
    pub fn class(&self) -> Class {
        let mut best = Class::Other;
        let mut most = 0;
        for c in Class::ALL {
            if self.classes[c.index()] > most {
                most = self.classes[c.index()];
                best = c;
            }
        }
        best
    }

    /// The estimated number of distinct values.
    pub fn distinct(&self) -> u64 {
        self.distinct.distinct()
    }

    /// A name for the variable, by what its values look like.
    pub fn base_name(&self) -> &'static str {
        match self.class() {
            Class::Number => "id",
            Class::Uuid => "uuid",
            Class::Hex | Class::Token | Class::Other => "token",
            Class::Email => "email",
            Class::Word => "slug",
        }
    }

    /// The profile generator (a YAML flow map) for values of this shape.
    pub fn generator(&self) -> String {
        let n = round_2(self.distinct()).max(1);
        let pick = match self.distinct.zipf() {
            Some(fit) if fit.s >= 0.3 && fit.ks <= 0.15 => Some(fit.s),
            _ => None,
        };
        match self.class() {
            Class::Number => self.number_generator(n, pick),
            Class::Uuid => "{uuid: true}".into(),
            Class::Email => "{fake: safe_email}".into(),
            Class::Word if !self.chars.digit && !self.chars.upper => "{fake: word}".into(),
            _ => {
                let len = self.median_length().clamp(1, 256);
                let pick = pick.map_or("uniform".to_string(), |s| format!("zipf:{s:.2}"));
                format!(
                    "{{token: {{len: {len}, alphabet: {}, n: {n}, pick: \"{pick}\"}}}}",
                    self.chars.alphabet()
                )
            }
        }
    }

    fn number_generator(&self, n: u64, pick: Option<f64>) -> String {
        // Guarded range: the 1st and 99th percentiles, widened to two
        // significant digits, never an exact extreme.
        let lo = round_down_2(self.numbers.at(0.01));
        let hi = round_up_2(self.numbers.at(0.99)).max(lo);
        match pick {
            Some(s) => {
                let n = n.min(hi - lo + 1).max(1);
                format!("{{zipf: {{n: {n}, s: {s:.2}, from: {lo}}}}}")
            }
            None => format!("{{uniform: [{lo}, {hi}]}}"),
        }
    }

    /// The median length in bytes, exact.
    fn median_length(&self) -> usize {
        let total: u64 = self.lengths.iter().sum();
        let mut seen = 0;
        for (len, n) in self.lengths.iter().enumerate() {
            seen += n;
            if 2 * seen >= total {
                return len;
            }
        }
        0
    }

    /// A one-line description for the profile's comments: counts only.
    pub fn describe(&self) -> String {
        let exact = if self.distinct.exact() { "" } else { "about " };
        let fit = match self.distinct.zipf() {
            Some(f) => format!(", Zipf s {:.2} (KS {:.3})", f.s, f.ks),
            None => String::new(),
        };
        format!(
            "{exact}{} distinct values in {} requests{fit}",
            round_2(self.distinct()),
            self.count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_a_guarded_range() {
        let mut v = VarStats::default();
        for i in 0..10_000u64 {
            let s = (1_234_567 + i).to_string();
            v.add(&s, Class::Number, 1);
        }
        let g = v.generator();
        assert_eq!(g, "{uniform: [1200000, 1300000]}");
        assert!(!g.contains("1234567"));
    }

    #[test]
    fn skewed_numbers_get_zipf_from_their_range() {
        let mut v = VarStats::default();
        for i in 1..=500u64 {
            let reps = 10_000 / i;
            v.add(&(1000 + i).to_string(), Class::Number, reps);
        }
        let g = v.generator();
        assert!(g.starts_with("{zipf: {n: 500, s: 1.0"), "{g}");
        assert!(g.contains("from: 1000"), "{g}");
    }

    #[test]
    fn tokens_keep_length_and_alphabet() {
        let mut v = VarStats::default();
        for i in 0..300u64 {
            let s = format!("{:024x}", value_hash(&i.to_string()) as u128 * 7919);
            v.add(&s, Class::Hex, 1);
        }
        let g = v.generator();
        assert!(g.starts_with("{token: {len: 24, alphabet: hex, n: 300"), "{g}");
    }
}
