//! Known values: the values of the dump's structured columns that the rules transform (names,
//! e-mails, phones, addresses, ids, dropped columns), remembered as keyed hashes so that free
//! text anywhere in the dump loses them too: `met Cynthia Glenn at 10.1.2.3` loses the name
//! when `users.name` holds `Cynthia Glenn`, in any row of any table.
//!
//! Matching is on *atoms*, not bytes: runs of letters and digits (each Han, kana or Hangul
//! character is an atom of its own, since those scripts have no spaces), compared without
//! regard to case, with whatever separates them ignored. So the phone `+1-271-224-0809` is
//! found as `1 (271) 224 0809`, and `Dr. Jann Scheel` across a line break. A value is looked
//! for only when it is specific enough to be found by design rather than by chance:
//! - at least 4 bytes and at most [`MAX_ATOMS`] atoms;
//! - all digits (ids, phones): at least 7 digits in total;
//! - one alphabetic atom (a single-word name or city): matched only where the text writes it
//!   capitalized, so `Rose` the person is found but not `rose` the flower.
//!
//! Memory: a 16-byte slot (the 8-byte keyed hash, the column, the first atom's hash) and one
//! byte of first-atom filter per slot, the table between 7/16 and 7/8 full: 19–39 bytes per
//! distinct value, the hashes never the values. The key
//! comes from the scrub key, so the table says nothing without it. Two values collide with
//! probability 2⁻⁶⁴ per pair; a collision only redacts text that did not need it.

use super::detect::is_cjk;
use super::keyed::Secret;

/// Longest value, in atoms, that is remembered. Longer values (a whole address with its
/// country) are rare in free text as a whole; their parts are not matched.
pub const MAX_ATOMS: usize = 12;
/// Shortest value remembered, in bytes.
pub const MIN_BYTES: usize = 4;
/// Fewest digits of an all-digit value.
pub const MIN_DIGITS: usize = 7;

/// One atom of a text: its byte range, keyed hash and shape.
#[derive(Debug, Clone, Copy)]
pub struct Atom {
    pub start: usize,
    pub end: usize,
    hash: u64,
    digits: u32,
    alphabetic: bool,
    capitalized: bool,
}

/// Splits `text` into atoms, hashed with `key`.
pub fn split_atoms(key: &Keyed, text: &str, out: &mut Vec<Atom>) {
    out.clear();
    let mut cur: Option<(usize, Hasher64, u32, bool, bool)> = None;
    let end_of = |cur: &mut Option<(usize, Hasher64, u32, bool, bool)>, end: usize, out: &mut Vec<Atom>| {
        if let Some((start, h, digits, alphabetic, capitalized)) = cur.take() {
            out.push(Atom {
                start,
                end,
                hash: h.finish(),
                digits,
                alphabetic,
                capitalized,
            });
        }
    };
    for (i, c) in text.char_indices() {
        if !c.is_alphanumeric() {
            end_of(&mut cur, i, out);
            continue;
        }
        if is_cjk(c) {
            end_of(&mut cur, i, out);
            let mut h = key.hasher();
            h.write_u32(c as u32);
            cur = Some((i, h, 0, true, false));
            end_of(&mut cur, i + c.len_utf8(), out);
            continue;
        }
        let (_, h, digits, alphabetic, _) = cur.get_or_insert_with(|| (i, key.hasher(), 0, true, c.is_uppercase()));
        if c.is_ascii() {
            h.write_u8(c.to_ascii_lowercase() as u8);
        } else {
            for l in c.to_lowercase() {
                h.write_u32(l as u32);
            }
        }
        if c.is_ascii_digit() {
            *digits += 1;
        }
        *alphabetic &= c.is_alphabetic();
    }
    end_of(&mut cur, text.len(), out);
}

/// FNV-1a over the atom's bytes, seeded with the key and finished with a 64-bit mixer: a
/// byte costs one multiply, and the table only needs well-spread hashes.
#[derive(Clone, Copy)]
struct Hasher64(u64);

impl Hasher64 {
    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    fn write_u32(&mut self, c: u32) {
        for b in c.to_le_bytes() {
            self.write_u8(b);
        }
    }
    fn finish(self) -> u64 {
        // murmur3's fmix64
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The keyed hash of atoms.
#[derive(Clone)]
pub struct Keyed {
    key: u64,
}

impl Keyed {
    pub fn new(secret: &Secret) -> Keyed {
        Keyed {
            key: secret.prf("known-values", "").u64(&[]),
        }
    }

    fn hasher(&self) -> Hasher64 {
        Hasher64(self.key ^ 0xcbf2_9ce4_8422_2325)
    }
}

/// The hash of a sequence of atoms.
fn combine(h: u64, atom: u64) -> u64 {
    (h.rotate_left(23) ^ atom).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D
}

/// What a value's atoms look like, for the rules above: `None` if it is not specific enough.
fn specific(atoms: &[Atom], bytes: usize) -> Option<bool> {
    if atoms.is_empty() || atoms.len() > MAX_ATOMS || bytes < MIN_BYTES {
        return None;
    }
    let digits: u32 = atoms.iter().map(|a| a.digits).sum();
    let all_digits = atoms.iter().all(|a| a.digits as usize == a.end - a.start);
    if all_digits && (digits as usize) < MIN_DIGITS {
        return None;
    }
    // One word must be capitalized where it is found.
    let single_word = atoms.len() == 1 && atoms[0].alphabetic;
    if single_word && !atoms[0].capitalized {
        return None;
    }
    Some(single_word)
}

/// The known values of a dump, as an open-addressing table of keyed hashes.
pub struct KnownValues {
    key: Keyed,
    /// Hash of each value's atoms (0: empty slot) and its column (an index into `columns`),
    /// with the top bit set for single words that must be capitalized.
    slots: Vec<Slot>,
    len: usize,
    /// Which atom counts occur, bit n for n atoms.
    counts: u32,
    /// A bit per hash of a value's first atom (8 bits per slot), so that most atoms of a
    /// text cost one probe of a small bitset instead of up to 12 probes of the table.
    firsts: Vec<u64>,
    /// Column names, `table.column`, by index.
    columns: Vec<String>,
    atoms: Vec<Atom>,
}

const CAPITALIZED: u16 = 0x8000;

/// A value's hash (0: empty), its column, and the hash of its first atom (to rebuild the
/// filter when the table grows; it fits in the padding).
#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    column: u16,
    first: u32,
}

impl std::fmt::Debug for KnownValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the hashes: only how many.
        write!(
            f,
            "KnownValues({} values of {} columns, {} bytes)",
            self.len,
            self.columns.len(),
            self.memory()
        )
    }
}

impl KnownValues {
    pub fn new(secret: &Secret) -> KnownValues {
        KnownValues {
            key: Keyed::new(secret),
            slots: vec![Slot::default(); 1024],
            len: 0,
            counts: 0,
            firsts: vec![0; 1024 * 8 / 64],
            columns: Vec::new(),
            atoms: Vec::new(),
        }
    }

    /// The index of column `name` (`table.column`), added on first use.
    pub fn column(&mut self, name: &str) -> u16 {
        match self.columns.iter().position(|c| c == name) {
            Some(i) => i as u16,
            None => {
                self.columns.push(name.to_string());
                // More than 32,767 columns share the last index.
                (self.columns.len() - 1).min(usize::from(!CAPITALIZED)) as u16
            }
        }
    }

    /// The name (`table.column`) of column index `c`.
    pub fn column_name(&self, c: u16) -> &str {
        &self.columns[usize::from(c & !CAPITALIZED).min(self.columns.len() - 1)]
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// Number of distinct values remembered.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the table holds.
    pub fn memory(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>() + self.firsts.capacity() * 8
    }

    /// Remember `value` of column `column`; returns whether it was specific enough.
    pub fn add(&mut self, column: u16, value: &str) -> bool {
        let mut atoms = std::mem::take(&mut self.atoms);
        split_atoms(&self.key, value, &mut atoms);
        let value_bytes = value.trim().len();
        let added = match specific(&atoms, value_bytes) {
            None => false,
            Some(single) => {
                let h = atoms.iter().fold(0, |h, a| combine(h, a.hash)) | 1;
                self.counts |= 1 << atoms.len();
                self.insert(Slot {
                    hash: h,
                    column: column | if single { CAPITALIZED } else { 0 },
                    first: atoms[0].hash as u32,
                });
                true
            }
        };
        self.atoms = atoms;
        added
    }

    fn insert(&mut self, slot: Slot) {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = (slot.hash as usize) & mask;
        loop {
            match self.slots[i].hash {
                0 => {
                    self.slots[i] = slot;
                    self.len += 1;
                    let bit = slot.first as usize % (self.firsts.len() * 64);
                    self.firsts[bit / 64] |= 1 << (bit % 64);
                    return;
                }
                x if x == slot.hash => return,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let bigger = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        self.firsts = vec![0; self.slots.len() * 8 / 64];
        self.len = 0;
        for slot in old {
            if slot.hash != 0 {
                self.insert(slot);
            }
        }
    }

    fn may_start(&self, first: u64) -> bool {
        let bit = first as u32 as usize % (self.firsts.len() * 64);
        self.firsts[bit / 64] & (1 << (bit % 64)) != 0
    }

    fn get(&self, h: u64) -> Option<u16> {
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            match self.slots[i] {
                Slot { hash: 0, .. } => return None,
                Slot { hash, column, .. } if hash == h => return Some(column),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Every known value in `text`, leftmost and longest first, not overlapping: calls `f`
    /// with its byte range and column. `atoms` is a buffer.
    pub fn find(&self, text: &str, atoms: &mut Vec<Atom>, mut f: impl FnMut(usize, usize, u16)) {
        if self.len == 0 {
            return;
        }
        split_atoms(&self.key, text, atoms);
        let mut i = 0;
        while i < atoms.len() {
            if !self.may_start(atoms[i].hash) {
                i += 1;
                continue;
            }
            let mut found = None;
            let mut h = 0;
            let mut seq = [0u64; MAX_ATOMS + 1];
            for n in 1..=MAX_ATOMS.min(atoms.len() - i) {
                h = combine(h, atoms[i + n - 1].hash);
                seq[n] = h | 1;
            }
            for n in (1..=MAX_ATOMS.min(atoms.len() - i)).rev() {
                if self.counts & (1 << n) == 0 {
                    continue;
                }
                if let Some(c) = self.get(seq[n]) {
                    if c & CAPITALIZED != 0 && !atoms[i].capitalized {
                        continue;
                    }
                    found = Some((n, c & !CAPITALIZED));
                    break;
                }
            }
            match found {
                Some((n, c)) => {
                    f(atoms[i].start, atoms[i + n - 1].end, c);
                    i += n;
                }
                None => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(values: &[(&str, &str)]) -> KnownValues {
        let mut k = KnownValues::new(&Secret::new(b"test key of 32 bytes or so......".to_vec()));
        for (col, v) in values {
            let c = k.column(col);
            k.add(c, v);
        }
        k
    }

    fn found(k: &KnownValues, text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        k.find(text, &mut Vec::new(), |s, e, c| {
            out.push((text[s..e].to_string(), k.column_name(c).to_string()))
        });
        out
    }

    #[test]
    fn values_are_found_across_separators_and_case() {
        let k = known(&[
            ("users.name", "Cynthia Glenn"),
            ("users.phone", "+1-271-224-0809"),
            ("users.email", "C.Glenn@example.com"),
            ("users.city", "Rose"),
            ("users.id", "1234567"),
        ]);
        assert_eq!(
            found(
                &k,
                "met CYNTHIA glenn at 10.1.2.3, call 1 (271) 224 0809 or c.glenn@EXAMPLE.com"
            ),
            [
                ("CYNTHIA glenn".into(), "users.name".into()),
                ("1 (271) 224 0809".into(), "users.phone".into()),
                ("c.glenn@EXAMPLE.com".into(), "users.email".into()),
            ]
        );
        assert_eq!(
            found(&k, "a rose for Rose, ref 1234567."),
            [
                ("Rose".into(), "users.city".into()),
                ("1234567".into(), "users.id".into())
            ]
        );
        // Whole atoms only, and only the whole value.
        assert!(found(&k, "Cynthia Glennon, 12345678, id 234567, Glenn").is_empty());
        assert_eq!(
            found(&k, "連絡はCynthia Glennまで"),
            [("Cynthia Glenn".into(), "users.name".into())]
        );
    }

    #[test]
    fn vague_values_are_not_remembered() {
        let mut k = known(&[]);
        let c = k.column("t.c");
        for v in ["42", "abc", "123456", "2024", "rose", "", "   "] {
            assert!(!k.add(c, v), "{v}");
        }
        assert!(k.add(c, "1234567"));
        assert!(k.add(c, "山田太郎"));
        assert!(k.add(c, "Bob Li"));
        assert_eq!(k.len(), 3);
    }

    #[test]
    fn the_table_grows_and_keeps_every_value() {
        let mut k = known(&[]);
        let c = k.column("t.c");
        for i in 0..20_000u32 {
            assert!(k.add(c, &format!("user{i}@example.com")));
        }
        assert_eq!(k.len(), 20_000);
        for i in (0..20_000u32).step_by(997) {
            let t = format!("write to user{i}@example.com.");
            assert_eq!(found(&k, &t).len(), 1, "{t}");
        }
    }
}
