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
//! Memory: a slot is 8 bytes, 48 bits of the keyed hash and a 16-bit column (the hashes,
//! never the values), plus a filter of 16 bits per value on each value's first two atoms.
//! `scrub` sizes the table once, from the values per byte of the dump's first chunk (1.1
//! times that over the whole dump, filled to 80%): about 13 bytes per distinct value,
//! doubled only if the dump holds more than expected. The key comes from the scrub key, so
//! the table says nothing without it. A sequence of atoms matches a stored value by chance
//! with probability 2⁻⁴⁸ per comparison; such a match only redacts text that did not need it.

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
    /// Byte offset of its first byte in the text.
    pub start: usize,
    /// Byte offset just past its last byte.
    pub end: usize,
    hash: u64,
    digits: u32,
    alphabetic: bool,
    capitalized: bool,
    /// What a table's filter says this atom may start ([`ONE`], [`LONGER`]), or
    /// [`UNMARKED`] until [`KnownValues::split`] asks it.
    starts: u8,
}

/// An atom may start a known value of one atom.
const ONE: u8 = 1;
/// An atom may start a known value of two or more atoms.
const LONGER: u8 = 2;
/// No table's filter was asked yet.
const UNMARKED: u8 = 4;

impl Atom {
    /// An atom that starts at `start`, before its chars are added.
    fn starting(start: usize, capitalized: bool) -> Atom {
        Atom {
            start,
            end: start,
            hash: 0,
            digits: 0,
            alphabetic: true,
            capitalized,
            starts: UNMARKED,
        }
    }
}

/// Splits `text` into atoms, hashed with `key`.
pub fn split_atoms(key: &Keyed, text: &str, out: &mut Vec<Atom>) {
    out.clear();
    each_atom(key, text, |a| out.push(a));
}

/// Per byte: 1 for an ASCII letter, 2 for an ASCII digit, 0 for anything else.
const ASCII_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            2
        } else if b.is_ascii_alphabetic() {
            1
        } else {
            0
        };
        c += 1;
    }
    t
};

/// Calls `f` with each atom of `text` in order. ASCII goes byte by byte; other chars are
/// decoded, and lower-cased by Unicode's rules.
fn each_atom(key: &Keyed, text: &str, mut f: impl FnMut(Atom)) {
    let b = text.as_bytes();
    // The atom being read, if `open`: plain state rather than an `Option<Atom>`, which cost
    // a test and a move of the whole atom at every byte.
    let mut open = false;
    let mut cur = Atom::starting(0, false);
    let mut h = key.hasher();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if ASCII_CLASS[usize::from(c)] != 0 {
                if !open {
                    open = true;
                    h = key.hasher();
                    cur = Atom::starting(i, c.is_ascii_uppercase());
                }
                // The whole run of ASCII letters and digits in one tight loop, one table look
                // a byte; setting bit 5 lower-cases exactly these bytes.
                let mut digits = 0;
                while i < b.len() {
                    let class = ASCII_CLASS[usize::from(b[i])];
                    if class == 0 {
                        break;
                    }
                    h.write_u8(b[i] | 0x20);
                    digits += u32::from(class >> 1);
                    i += 1;
                }
                cur.digits += digits;
                cur.alphabetic &= digits == 0;
                continue;
            }
            if open {
                open = false;
                cur.end = i;
                cur.hash = h.finish();
                f(cur);
            }
            i += 1;
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
        let len = ch.len_utf8();
        // `is_alphanumeric` is exactly this, and the atom needs `alphabetic` too: one look
        // in the Unicode tables instead of two.
        let alphabetic = ch.is_alphabetic();
        let alphanumeric = alphabetic || ch.is_numeric();
        if !alphanumeric || is_cjk(ch) {
            if open {
                open = false;
                cur.end = i;
                cur.hash = h.finish();
                f(cur);
            }
            if alphanumeric {
                // Han, kana and Hangul: each char is an atom of its own.
                let mut one = key.hasher();
                one.write_u32(ch as u32);
                f(Atom {
                    start: i,
                    end: i + len,
                    hash: one.finish(),
                    digits: 0,
                    alphabetic: true,
                    capitalized: false,
                    starts: UNMARKED,
                });
            }
            i += len;
            continue;
        }
        if !open {
            open = true;
            h = key.hasher();
            cur = Atom::starting(i, ch.is_uppercase());
        }
        for l in ch.to_lowercase() {
            h.write_u32(l as u32);
        }
        cur.alphabetic &= alphabetic;
        i += len;
    }
    if open {
        cur.end = b.len();
        cur.hash = h.finish();
        f(cur);
    }
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

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyed(..)") // never the key
    }
}

impl Keyed {
    /// The keyed hashing of one run's secret.
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

/// The hash of a run of atoms, as [`combine`] builds it one atom at a time.
fn hash_of(atoms: &[Atom]) -> u64 {
    atoms.iter().fold(0, |h, a| combine(h, a.hash))
}

/// What a value's atoms add up to, gathered without keeping them.
#[derive(Default)]
struct Shape {
    hash: u64,
    /// The hash of the first two atoms (of the first, for a single atom): the filter's key.
    prefix: u64,
    atoms: usize,
    digits: u32,
    all_digits: bool,
    first_alphabetic: bool,
    first_capitalized: bool,
}

impl Shape {
    fn of(key: &Keyed, value: &str) -> Shape {
        let mut s = Shape {
            all_digits: true,
            ..Shape::default()
        };
        each_atom(key, value, |a| {
            if s.atoms == 0 {
                s.first_alphabetic = a.alphabetic;
                s.first_capitalized = a.capitalized;
            }
            s.atoms += 1;
            s.hash = combine(s.hash, a.hash);
            if s.atoms <= 2 {
                s.prefix = s.hash;
            }
            s.digits += a.digits;
            s.all_digits &= a.digits as usize == a.end - a.start;
        });
        s
    }

    /// The value's entry, if it is specific enough to look for (the rules in the module
    /// docs): `None` for too few bytes or digits, too many atoms, or a single word that is
    /// not capitalized.
    fn entry(&self, column: u16, bytes: usize) -> Option<Entry> {
        if self.atoms == 0 || self.atoms > MAX_ATOMS || bytes < MIN_BYTES {
            return None;
        }
        if self.all_digits && (self.digits as usize) < MIN_DIGITS {
            return None;
        }
        let single_word = self.atoms == 1 && self.first_alphabetic;
        if single_word && !self.first_capitalized {
            return None;
        }
        Some(Entry {
            hash: self.hash | 1,
            column: column | if single_word { CAPITALIZED } else { 0 },
            prefix: self.prefix | 1,
            atoms: self.atoms as u8,
        })
    }
}

/// One value to remember: its keyed hash, its column (with [`CAPITALIZED`] for a single
/// word), the hash of its first two atoms and its number of atoms. What the pre-pass's
/// workers hand to the thread that fills the table.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    hash: u64,
    column: u16,
    prefix: u64,
    atoms: u8,
}

/// The known values of a dump, as an open-addressing table of keyed hashes.
pub struct KnownValues {
    key: Keyed,
    /// Per slot, the high 48 bits of a value's hash ([`tag_of`]) and, in the low 16, its
    /// column (an index into `columns`, with [`CAPITALIZED`] set for single words that must
    /// be capitalized); 0 for an empty slot. One word per slot, so an insert or a probe
    /// touches one cache line. Linear probing from the slot the tag's high bits pick
    /// (`tag × len / 2⁶⁴`), so any length works.
    slots: Vec<u64>,
    len: usize,
    /// Which atom counts occur, bit n for n atoms.
    counts: u32,
    /// A Bloom filter of each value's first two atoms (its one atom, for a single atom): two
    /// bits in one word, so that an atom of a text that starts no value costs one memory
    /// access instead of up to 12 probes of the table. A first atom alone would not do:
    /// first names and 3-digit numbers start many values. Sized once (16 bits per value
    /// expected, about 1.4% false passes); more values only make it let more through.
    filter: Vec<u64>,
    /// Column names, `table.column`, by index.
    columns: Vec<String>,
}

const CAPITALIZED: u16 = 0x8000;
/// Slots when nothing says how many values to expect.
const FIRST_SLOTS: usize = 1024;

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
    /// An empty table, hashing with `secret`.
    pub fn new(secret: &Secret) -> KnownValues {
        KnownValues {
            key: Keyed::new(secret),
            slots: vec![0; FIRST_SLOTS],
            len: 0,
            counts: 0,
            filter: vec![0; filter_words(FIRST_SLOTS)],
            columns: Vec::new(),
        }
    }

    /// Make room for `values` more values at once (a table filled to 80%), so that the
    /// table is not rebuilt as it grows, and size the filter for them. Only
    /// before the first value is added; later it does nothing.
    pub fn expect(&mut self, values: usize) {
        if self.len > 0 {
            return;
        }
        let slots = (values + values / 4).max(FIRST_SLOTS);
        self.slots = vec![0; slots];
        self.filter = vec![0; filter_words(values)];
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

    /// Number of distinct values remembered (the tests count them).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is known.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the table holds.
    pub fn memory(&self) -> usize {
        self.slots.capacity() * 8 + self.filter.capacity() * 8
    }

    /// The keyed hashing of this table, for [`entry`] on other threads.
    pub fn keyed(&self) -> &Keyed {
        &self.key
    }

    /// Remember `value` of column `column`; returns whether it was specific enough.
    pub fn add(&mut self, column: u16, value: &str) -> bool {
        match entry(&self.key, column, value) {
            Some(e) => {
                self.insert(e);
                true
            }
            None => false,
        }
    }

    /// Remember values made by [`entry`], in order. The table and the filter are tens of
    /// megabytes, so every insert is two cache misses: the slots of a few entries are read
    /// first, with no branch on what is read, so that their misses overlap.
    pub fn insert_all(&mut self, entries: &[Entry]) {
        for block in entries.chunks(16) {
            let mut touched = 0u64;
            for e in block {
                touched ^= self.slots[self.slot_of(tag_of(e.hash))] ^ self.filter[self.filter_bits(e.prefix).0];
            }
            std::hint::black_box(touched);
            for &e in block {
                self.insert(e);
            }
        }
    }

    /// Remember a value made by [`entry`]. Of two columns with the same value, the one
    /// added first names it.
    pub fn insert(&mut self, e: Entry) {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        self.counts |= 1 << e.atoms;
        if self.put(tag_of(e.hash), e.column) {
            let (word, bits) = self.filter_bits(e.prefix);
            self.filter[word] |= bits;
        }
    }

    /// The filter word of a prefix hash and the two bits in it.
    fn filter_bits(&self, prefix: u64) -> (usize, u64) {
        // Bit 0 is always set (see `Shape::entry`): bits 1-12 pick the two bits, the rest
        // the word.
        let word = ((u128::from(prefix >> 13) * self.filter.len() as u128) >> 51) as usize;
        (word, 1 << ((prefix >> 1) & 63) | 1 << ((prefix >> 7) & 63))
    }

    /// Whether a value may start with the atoms whose prefix hash is `prefix`.
    fn may_start(&self, prefix: u64) -> bool {
        let (word, bits) = self.filter_bits(prefix);
        self.filter[word] & bits == bits
    }

    fn slot_of(&self, tag: u64) -> usize {
        ((u128::from(tag) * self.slots.len() as u128) >> 64) as usize
    }

    /// Put a tag ([`tag_of`]) in the table; false if it was there.
    fn put(&mut self, tag: u64, column: u16) -> bool {
        let mut i = self.slot_of(tag);
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = tag | u64::from(column);
                    self.len += 1;
                    return true;
                }
                x if x & TAG == tag => return false,
                _ => i = if i + 1 == self.slots.len() { 0 } else { i + 1 },
            }
        }
    }

    fn grow(&mut self) {
        let bigger = vec![0; self.slots.len() * 2];
        let slots = std::mem::replace(&mut self.slots, bigger);
        self.len = 0;
        for s in slots {
            if s != 0 {
                self.put(s & TAG, s as u16);
            }
        }
    }

    fn get(&self, h: u64) -> Option<u16> {
        let tag = tag_of(h);
        let mut i = self.slot_of(tag);
        loop {
            match self.slots[i] {
                0 => return None,
                x if x & TAG == tag => return Some(x as u16),
                _ => i = if i + 1 == self.slots.len() { 0 } else { i + 1 },
            }
        }
    }

    /// Every known value in `text`, leftmost and longest first, not overlapping: calls `f`
    /// with its byte range and column. `atoms` is a buffer.
    pub fn find(&self, text: &str, atoms: &mut Vec<Atom>, mut f: impl FnMut(usize, usize, u16)) {
        if self.len == 0 {
            return;
        }
        self.split(text, atoms);
        let mut i = 0;
        while i < atoms.len() {
            match self.longest_at(atoms, i) {
                Some((n, c)) => {
                    f(atoms[i].start, atoms[i + n - 1].end, c);
                    i += n;
                }
                None => i += 1,
            }
        }
    }

    /// Splits `text` into atoms hashed with this table's key, and asks the filter which
    /// atoms may start a value, for all of them before any answer is used: the filter is
    /// megabytes, so each look is a cache miss, and a loop with no branch on the answers
    /// has them all in flight at once instead of one after another.
    pub fn split(&self, text: &str, atoms: &mut Vec<Atom>) {
        split_atoms(&self.key, text, atoms);
        let mut next = None;
        for a in atoms.iter_mut().rev() {
            a.starts = self.starts(a.hash, next);
            next = Some(a.hash);
        }
    }

    /// What an atom with hash `atom`, followed by one with hash `next`, may start:
    /// [`ONE`], [`LONGER`] or both.
    fn starts(&self, atom: u64, next: Option<u64>) -> u8 {
        let first = combine(0, atom);
        let one = self.counts & 2 != 0 && self.may_start(first | 1);
        let more = self.counts & !3 != 0 && next.is_some_and(|n| self.may_start(combine(first, n) | 1));
        (u8::from(one) * ONE) | (u8::from(more) * LONGER)
    }

    /// The longest known value that starts at atom `i` of `atoms` (best split by
    /// [`KnownValues::split`]): its number of atoms and its column.
    pub fn longest_at(&self, atoms: &[Atom], i: usize) -> Option<(usize, u16)> {
        if self.len == 0 {
            return None;
        }
        let left = atoms.len() - i;
        let starts = match atoms[i].starts {
            UNMARKED => self.starts(atoms[i].hash, atoms.get(i + 1).map(|a| a.hash)),
            marked => marked,
        };
        if starts == 0 {
            return None;
        }
        let most = if starts & LONGER != 0 { MAX_ATOMS.min(left) } else { 1 };
        let mut seq = [0u64; MAX_ATOMS + 1];
        let mut h = 0;
        for n in 1..=most {
            h = combine(h, atoms[i + n - 1].hash);
            seq[n] = h | 1;
        }
        for n in (1..=most).rev() {
            if self.counts & (1 << n) == 0 || (n == 1 && starts & ONE == 0) {
                continue;
            }
            if let Some(c) = self.get(seq[n]) {
                if c & CAPITALIZED != 0 && !atoms[i].capitalized {
                    continue;
                }
                return Some((n, c & !CAPITALIZED));
            }
        }
        None
    }
}

/// The bits of a slot that hold the tag.
const TAG: u64 = !0xFFFF;

/// The tag a hash is stored under: its high 48 bits, never 0.
fn tag_of(hash: u64) -> u64 {
    (hash | 1 << 16) & TAG
}

/// Words of the filter for `values` values: 16 bits each.
fn filter_words(values: usize) -> usize {
    (values * 16).div_ceil(64).max(16)
}

/// A value looked for in one text only (a row's own values in its free text): found by its
/// atoms as the table's values are, with no rule on how specific it must be.
#[derive(Debug, Clone, Copy)]
struct Needle {
    first: u64,
    hash: u64,
    atoms: usize,
    /// Found only where the text writes its first atom capitalized.
    capitalized: bool,
    tag: u16,
}

/// The values of one row that its free text must lose (see [`Needles::add`]).
#[derive(Debug, Default)]
pub struct Needles {
    list: Vec<Needle>,
    /// A bit per needle's first atom, so that most atoms of a text are passed over with
    /// one test.
    firsts: u64,
    atoms: Vec<Atom>,
}

impl Needles {
    /// Forget every needle, keeping the buffers.
    pub fn clear(&mut self) {
        self.list.clear();
        self.firsts = 0;
    }

    /// Adds a row's value (of 3 bytes or more), with a tag that is handed back when it is
    /// found: the whole value, and for a value of several words, each word of 4 or more
    /// chars that starts with a capital (a first name on its own), found where the text
    /// capitalizes it too. The value is split into atoms once, and its words are runs of
    /// its atoms with no space or hyphen between them.
    pub fn add(&mut self, key: &Keyed, value: &str, tag: u16) {
        let value = trim(value);
        if value.len() < 3 {
            return;
        }
        split_atoms(key, value, &mut self.atoms);
        let atoms = &self.atoms;
        if atoms.is_empty() {
            return;
        }
        let mut push = |from: usize, to: usize, capitalized: bool| {
            let hash = hash_of(&atoms[from..to]);
            self.firsts |= 1 << (atoms[from].hash & 63);
            self.list.push(Needle {
                first: atoms[from].hash,
                hash,
                atoms: to - from,
                capitalized,
                tag,
            });
        };
        push(0, atoms.len(), false);
        if memchr::memchr(b' ', value.as_bytes()).is_none() {
            return;
        }
        let mut from = 0;
        for to in 1..=atoms.len() {
            let ends_word = to == atoms.len()
                || value.as_bytes()[atoms[to - 1].end..atoms[to].start]
                    .iter()
                    .any(|&c| c == b' ' || c == b'-');
            if !ends_word {
                continue;
            }
            let word = &value[atoms[from].start..atoms[to - 1].end];
            if atoms[from].capitalized && word.len() >= 4 && word.chars().count() >= 4 {
                push(from, to, true);
            }
            from = to;
        }
    }

    /// [`Needles::add`] for one text, split into `text` with the same key: a value whose first
    /// atom the text does not have, and that has no capitalized word to be found by on its
    /// own, cannot be found there and is not split further. Most of a row's values (its
    /// e-mail, phone and ids) are not in its note.
    pub fn add_for(&mut self, key: &Keyed, value: &str, tag: u16, text: &[Atom]) {
        let b = value.as_bytes();
        let words = memchr::memchr(b' ', b).is_some() && (!value.is_ascii() || b.iter().any(u8::is_ascii_uppercase));
        if !words && !first_atom(key, value).is_some_and(|h| text.iter().any(|a| a.hash == h)) {
            return;
        }
        self.add(key, value, tag);
    }

    /// The longest needle that starts at atom `i` of `atoms` (split with the same key): its
    /// number of atoms and its tag.
    pub fn at(&self, atoms: &[Atom], i: usize) -> Option<(usize, u16)> {
        if self.firsts & (1 << (atoms[i].hash & 63)) == 0 {
            return None;
        }
        let mut best: Option<(usize, u16)> = None;
        for n in &self.list {
            if n.first != atoms[i].hash
                || n.atoms > atoms.len() - i
                || (n.capitalized && !atoms[i].capitalized)
                || best.is_some_and(|(len, _)| len >= n.atoms)
            {
                continue;
            }
            if hash_of(&atoms[i..i + n.atoms]) == n.hash {
                best = Some((n.atoms, n.tag));
            }
        }
        best
    }
}

/// The hash of the first atom of `value`, as [`split_atoms`] makes it, hashing no further
/// than the first ASCII byte that ends a run of ASCII letters and digits (the first atom ends
/// there or before it).
fn first_atom(key: &Keyed, value: &str) -> Option<u64> {
    let b = value.as_bytes();
    let end = b
        .iter()
        .position(u8::is_ascii_alphanumeric)
        .and_then(|s| {
            b[s..]
                .iter()
                .position(|c| c.is_ascii() && !c.is_ascii_alphanumeric())
                .map(|n| s + n)
        })
        .unwrap_or(b.len());
    let mut first = None;
    each_atom(key, value.get(..end)?, |a| {
        first.get_or_insert(a.hash);
    });
    first
}

/// The entry of `value` of column `column` (see [`KnownValues::insert`]), if it is specific
/// enough to remember. Needs only the key, so workers make entries side by side.
pub fn entry(key: &Keyed, column: u16, value: &str) -> Option<Entry> {
    let bytes = trim(value).len();
    if bytes < MIN_BYTES {
        return None; // too short whatever its atoms are: not hashed
    }
    Shape::of(key, value).entry(column, bytes)
}

/// `value.trim()`, without its Unicode tables when the value starts and ends with a printable
/// ASCII byte (no white space to trim), which nearly every value does.
pub(crate) fn trim(value: &str) -> &str {
    let b = value.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => value,
        _ => value.trim(),
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

    /// A row's own values are found whole (in any case, across separators) and by their
    /// capitalized words of 4 or more chars; whole atoms only.
    #[test]
    fn a_rows_values_and_their_capitalized_words_are_found() {
        let key = Keyed::new(&Secret::new(b"test key of 32 bytes or so......".to_vec()));
        let mut nd = Needles::default();
        nd.add(&key, " Maria Garcia-Lopez ", 0);
        nd.add(&key, "Lee", 1);
        nd.add(&key, "+1 (271) 224-0809", 2);
        nd.add(&key, "ab", 3);
        let text = "Spoke to Maria Garcia-Lopez; MARIA GARCIA LOPEZ said Maria Lopez would call \
                    Mariana, maria, garcia. Lee lives in Leeds, call 1-271-224-0809";
        let mut atoms = Vec::new();
        split_atoms(&key, text, &mut atoms);
        let mut found = Vec::new();
        let mut i = 0;
        while i < atoms.len() {
            match nd.at(&atoms, i) {
                Some((n, tag)) => {
                    found.push((&text[atoms[i].start..atoms[i + n - 1].end], tag));
                    i += n;
                }
                None => i += 1,
            }
        }
        assert_eq!(
            found,
            [
                ("Maria Garcia-Lopez", 0),
                ("MARIA GARCIA LOPEZ", 0),
                ("Maria", 0),
                ("Lopez", 0),
                ("Lee", 1),
                ("1-271-224-0809", 2)
            ]
        );
    }

    /// Values added for a text only if the text has their first atom find what adding them
    /// all finds.
    #[test]
    fn needles_for_a_text_find_what_all_needles_find() {
        let key = Keyed::new(&Secret::new(b"test key of 32 bytes or so......".to_vec()));
        let values = [
            "lena.bakker@gmail.com",
            " +33 1 99 00 54 56 ",
            "070-35-5917",
            "Lena Bakker",
            "lena bakker",
            "van der Berg Jansen",
            "山田太郎",
            "José Álvarez",
            "josé-luis",
            "--- x",
            "Ängel 1234567",
            "1234567",
        ];
        let texts = [
            "Spoke to Lena Bakker about the refund, mail lena.bakker@gmail.com",
            "call 33 1 99 00 54 56 or +33 1 99 00 54 56; ssn 070 35 5917",
            "Jansen and Berg met 山田太郎 and Álvarez; JOSÉ ÁLVAREZ, José-Luis, josé luis",
            "ÄNGEL 1234567 x --- x",
            "nothing here",
        ];
        let finds = |nd: &Needles, atoms: &[Atom]| {
            let mut out = Vec::new();
            let mut i = 0;
            while i < atoms.len() {
                match nd.at(atoms, i) {
                    Some((n, tag)) => {
                        out.push((i, n, tag));
                        i += n;
                    }
                    None => i += 1,
                }
            }
            out
        };
        for text in texts {
            let mut atoms = Vec::new();
            split_atoms(&key, text, &mut atoms);
            let (mut all, mut some) = (Needles::default(), Needles::default());
            for (tag, v) in values.iter().enumerate() {
                all.add(&key, v, tag as u16);
                some.add_for(&key, v, tag as u16, &atoms);
            }
            assert_eq!(finds(&all, &atoms), finds(&some, &atoms), "{text}");
            assert!(some.list.len() < all.list.len(), "{text}");
        }
    }

    /// Atoms marked by the table's filter ([`KnownValues::split`]) and atoms that were not
    /// give the same finds.
    #[test]
    fn marked_and_unmarked_atoms_find_the_same() {
        let k = known(&[
            ("users.name", "Cynthia Glenn"),
            ("users.city", "Rose"),
            ("users.id", "1234567"),
            ("users.phone", "+1-271-224-0809"),
        ]);
        let text = "Rose and Cynthia Glenn, 1234567, 1 271 224 0809; rose, Cynthia Glennon";
        let (mut marked, mut plain) = (Vec::new(), Vec::new());
        k.split(text, &mut marked);
        split_atoms(k.keyed(), text, &mut plain);
        let finds = |atoms: &[Atom]| (0..atoms.len()).map(|i| k.longest_at(atoms, i)).collect::<Vec<_>>();
        assert_eq!(finds(&marked), finds(&plain));
        assert_eq!(finds(&marked).iter().flatten().count(), 4);
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
