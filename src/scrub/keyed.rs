//! The keyed primitives behind every scrub transformer: the secret, a PRF
//! (AES-128 CBC-MAC over length-prefixed input) for values that map
//! many-to-one or need random bits, and a keyed format-preserving
//! permutation (a Feistel network over AES-128, with cycle walking) for
//! values that must stay one-to-one.
//!
//! Every subkey is HMAC-SHA256(secret, purpose and domain), so two columns, or the
//! same column under two keys, give unrelated outputs, while the same
//! value under the same key and domain gives the same output in every
//! table, file and run. Without the secret nothing can be inverted or
//! recomputed: an attacker who knows some (value, pseudonym) pairs learns
//! nothing about the others (AES and HMAC are pseudorandom functions).

use std::fmt;

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The scrub key. Never printed: `Debug` shows nothing, and it is wiped
/// from memory when dropped. Only its SHA-256 is kept, as the HMAC key
/// of every subkey.
pub struct Secret(Zeroizing<[u8; 32]>);

impl Secret {
    /// The secret of a key's bytes (hashed to 32 bytes; the bytes are wiped).
    pub fn new(bytes: Vec<u8>) -> Self {
        let bytes = Zeroizing::new(bytes);
        Secret(Zeroizing::new(Sha256::digest(&bytes[..]).into()))
    }

    /// A 32-byte subkey for one purpose and domain.
    fn subkey(&self, purpose: &str, domain: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = hmac_with(&self.0);
        mac.update(b"loadline/scrub/v1\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(domain.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    /// The keyed function for one purpose (`email`, `fake`, …) and domain (`users.email`).
    pub fn prf(&self, purpose: &str, domain: &str) -> Prf {
        let k = self.subkey(purpose, domain);
        let mut key = aes::cipher::Key::<Aes128>::default();
        key.copy_from_slice(&k[..16]);
        Prf(Aes128::new(&key))
    }

    /// An AES-128 cipher keyed for one purpose and domain.
    pub fn cipher(&self, purpose: &str, domain: &str) -> Aes128 {
        let k = self.subkey(purpose, domain);
        let mut key = aes::cipher::Key::<Aes128>::default();
        key.copy_from_slice(&k[..16]);
        Aes128::new(&key)
    }
}

/// HMAC-SHA256 keyed with 32 bytes: zero-padded to the block, which is
/// what HMAC does with a short key, through the infallible constructor.
fn hmac_with(key: &[u8; 32]) -> HmacSha256 {
    use zeroize::Zeroize;
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    block[..32].copy_from_slice(key);
    let mac = <HmacSha256 as KeyInit>::new(&block);
    block.as_mut_slice().zeroize();
    mac
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A pseudorandom function under one subkey: CBC-MAC with AES-128 over
/// an input that starts with its own length (and each part's), which
/// makes the set of inputs prefix-free, the condition under which CBC-MAC
/// is a secure PRF (Bellare, Kilian, Rogaway). On the short values of a
/// dump it costs a few AES blocks, a fraction of HMAC-SHA256.
#[derive(Clone)]
pub struct Prf(Aes128);

impl Prf {
    /// 16 pseudorandom bytes for `parts`. The input is the total length
    /// and part count (8 bytes), then each part's length (4 bytes) and
    /// bytes, zero-padded to whole blocks.
    pub fn bytes(&self, parts: &[&[u8]]) -> [u8; 16] {
        let total: usize = parts.iter().map(|p| 4 + p.len()).sum();
        let mut block = [0u8; 16];
        block[..4].copy_from_slice(&(total as u32).to_le_bytes());
        block[4..8].copy_from_slice(&(parts.len() as u32).to_le_bytes());
        let mut fill = 8;
        let mut state = aes::Block::default();
        for p in parts {
            for mut bytes in [&(p.len() as u32).to_le_bytes()[..], p] {
                while fill + bytes.len() >= 16 {
                    let n = 16 - fill;
                    block[fill..].copy_from_slice(&bytes[..n]);
                    self.absorb(&mut state, &block);
                    bytes = &bytes[n..];
                    fill = 0;
                }
                block[fill..fill + bytes.len()].copy_from_slice(bytes);
                fill += bytes.len();
            }
        }
        if fill > 0 {
            block[fill..].fill(0);
            self.absorb(&mut state, &block);
        }
        state.into()
    }

    /// One CBC step: the state XOR the block, encrypted.
    fn absorb(&self, state: &mut aes::Block, block: &[u8; 16]) {
        let mut x = [0u8; 16];
        x.copy_from_slice(state);
        let x = (u128::from_ne_bytes(x) ^ u128::from_ne_bytes(*block)).to_ne_bytes();
        *state = aes::Block::from(x);
        self.0.encrypt_block(state);
    }

    /// [`Prf::bytes`] of each one-part input, `out[i]` for `inputs[i]`.
    /// The same CBC-MAC, but up to [`LANES`] inputs go through AES side
    /// by side: block j of every message at once, so AES-NI works on
    /// independent blocks instead of waiting for each chain in turn.
    pub fn bytes_many(&self, inputs: &[&[u8]], out: &mut [[u8; 16]]) {
        debug_assert_eq!(inputs.len(), out.len());
        for (ins, outs) in inputs.chunks(LANES).zip(out.chunks_mut(LANES)) {
            let mut blocks = [0usize; LANES];
            for (b, v) in blocks.iter_mut().zip(ins) {
                *b = (12 + v.len()).div_ceil(16);
            }
            let mut state = [aes::Block::default(); LANES];
            let most = blocks.iter().copied().max().unwrap_or(0);
            for j in 0..most {
                let mut batch = [aes::Block::default(); LANES];
                let mut lane = [0usize; LANES];
                let mut m = 0;
                for (l, v) in ins.iter().enumerate() {
                    if j < blocks[l] {
                        let x = u128::from_ne_bytes(state[l].into()) ^ u128::from_ne_bytes(message_block(v, j));
                        batch[m] = aes::Block::from(x.to_ne_bytes());
                        lane[m] = l;
                        m += 1;
                    }
                }
                self.0.encrypt_blocks(&mut batch[..m]);
                for (b, &l) in batch[..m].iter().zip(&lane[..m]) {
                    state[l] = *b;
                }
            }
            for (o, st) in outs.iter_mut().zip(&state) {
                *o = (*st).into();
            }
        }
    }

    /// The first 64 bits of the PRF of `parts`.
    pub fn u64(&self, parts: &[&[u8]]) -> u64 {
        first_u64(&self.bytes(parts))
    }

    /// A seed for a random stream (fake values, mask digits).
    pub fn seed(&self, parts: &[&[u8]]) -> [u8; 32] {
        seed_of(&self.bytes(parts))
    }
}

/// How many independent AES blocks are encrypted together: the `aes`
/// crate's AES-NI backend pipelines 8.
pub const LANES: usize = 8;

/// Block `j` of the message [`Prf::bytes`] MACs for the one-part input
/// `v`: total length, part count and part length (4 bytes each), then
/// `v`, zero-padded.
fn message_block(v: &[u8], j: usize) -> [u8; 16] {
    let mut block = [0u8; 16];
    if j == 0 {
        block[..4].copy_from_slice(&((4 + v.len()) as u32).to_le_bytes());
        block[4..8].copy_from_slice(&1u32.to_le_bytes());
        block[8..12].copy_from_slice(&(v.len() as u32).to_le_bytes());
        let n = v.len().min(4);
        block[12..12 + n].copy_from_slice(&v[..n]);
    } else {
        let from = 16 * j - 12;
        let to = (from + 16).min(v.len());
        block[..to - from].copy_from_slice(&v[from..to]);
    }
    block
}

/// The first 8 of a PRF's bytes, as a number.
pub fn first_u64(b: &[u8; 16]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// A random stream's seed from a PRF's bytes: the 128 keyed bits, twice,
/// the second copy inverted.
pub fn seed_of(b: &[u8; 16]) -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(b);
    for (i, x) in b.iter().enumerate() {
        seed[16 + i] = !x;
    }
    seed
}

impl fmt::Debug for Prf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Prf(<keyed>)")
    }
}

/// Feistel rounds; 10 as in NIST FF1, enough for domains of a few values.
const ROUNDS: u8 = 10;

/// A keyed permutation of `[0, size)` for any `size` from 2 to 2^64 - 1:
/// a numeric Feistel network on a rectangle just larger than `size`,
/// whose round function is AES-128, and cycle walking to stay inside the
/// range (a second pass is rare: the rectangle exceeds `size` by less
/// than its square root).
#[derive(Clone)]
pub struct Permutation {
    aes: Aes128,
}

impl fmt::Debug for Permutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permutation(<keyed>)")
    }
}

impl Permutation {
    /// The keyed permutation of one pseudonym domain (`users.id`).
    pub fn new(secret: &Secret, domain: &str) -> Self {
        Permutation {
            aes: secret.cipher("permutation", domain),
        }
    }

    /// The image of `x` (< `size`) in the permutation of `[0, size)`
    /// labelled by `tweak` (different tweaks: independent permutations).
    pub fn permute(&self, x: u64, size: u64, tweak: u64) -> u64 {
        debug_assert!(x < size);
        if size <= 1 {
            return x;
        }
        // [0, a*b) with a*b just above size: rarely a second pass.
        let a = ceil_sqrt(size);
        let b = size.div_ceil(a);
        let mut y = self.feistel(x, a, b, tweak);
        while y >= size {
            y = self.feistel(y, a, b, tweak);
        }
        y
    }

    /// [`Permutation::permute`] of each `(x, size, tweak)`: the same
    /// values, with up to [`LANES`] Feistel networks run side by side so
    /// that each round's AES blocks are encrypted together.
    pub fn permute_many(&self, inputs: &[(u64, u64, u64)], out: &mut [u64]) {
        debug_assert_eq!(inputs.len(), out.len());
        for (ins, outs) in inputs.chunks(LANES).zip(out.chunks_mut(LANES)) {
            let mut nets = [Feistel::default(); LANES];
            for (net, &(x, size, tweak)) in nets.iter_mut().zip(ins) {
                *net = Feistel::new(x, size, tweak);
            }
            let nets = &mut nets[..ins.len()];
            // Cycle walking: a network whose result is out of range runs
            // again from there, until every one is in range.
            while nets.iter().any(|n| n.walking) {
                for round in 0..ROUNDS {
                    let mut batch = [aes::Block::default(); LANES];
                    for (b, n) in batch.iter_mut().zip(nets.iter()) {
                        *b = aes::Block::from(n.block(round));
                    }
                    self.aes.encrypt_blocks(&mut batch[..nets.len()]);
                    for (n, b) in nets.iter_mut().zip(&batch) {
                        n.step(first_u64(&(*b).into()));
                    }
                }
                for n in nets.iter_mut() {
                    n.finish();
                }
            }
            for (o, n) in outs.iter_mut().zip(nets.iter()) {
                *o = n.x;
            }
        }
    }

    /// A Feistel network on Z_a x Z_b with addition modulo the half's size
    /// (the numeric form NIST FF1 uses): the halves swap sizes every
    /// round, and after an even number of rounds are back in place.
    fn feistel(&self, x: u64, a: u64, b: u64, tweak: u64) -> u64 {
        let mut n = Feistel {
            x,
            a,
            b,
            tweak,
            walking: true,
            ..Feistel::default()
        };
        n.start();
        for round in 0..ROUNDS {
            let mut block = aes::Block::from(n.block(round));
            self.aes.encrypt_block(&mut block);
            n.step(first_u64(&block.into()));
        }
        n.left * b + n.right
    }

    /// A 128-bit block encrypted: a permutation of all UUIDs.
    pub fn encrypt128(&self, block: [u8; 16]) -> [u8; 16] {
        let mut b = aes::Block::from(block);
        self.aes.encrypt_block(&mut b);
        b.into()
    }
}

/// One Feistel network's state (see [`Permutation::feistel`]). A network
/// that does not move (a domain of 0 or 1 values) is never walking.
#[derive(Debug, Clone, Copy, Default)]
struct Feistel {
    /// The input of the pass under way, then the result.
    x: u64,
    size: u64,
    a: u64,
    b: u64,
    tweak: u64,
    left: u64,
    right: u64,
    /// The size of the half that the next round adds to, and the other's.
    ml: u64,
    mr: u64,
    walking: bool,
}

impl Feistel {
    fn new(x: u64, size: u64, tweak: u64) -> Self {
        debug_assert!(x < size);
        if size <= 1 {
            return Feistel {
                x,
                ..Feistel::default()
            };
        }
        let a = ceil_sqrt(size);
        let mut n = Feistel {
            x,
            size,
            a,
            b: size.div_ceil(a),
            tweak,
            walking: true,
            ..Feistel::default()
        };
        n.start();
        n
    }

    fn start(&mut self) {
        (self.left, self.right) = (self.x / self.b, self.x % self.b);
        (self.ml, self.mr) = (self.a, self.b);
    }

    /// The AES input of round `round`.
    fn block(&self, round: u8) -> [u8; 16] {
        let mut block = [0u8; 16];
        block[0] = round;
        block[1..8].copy_from_slice(&(self.tweak ^ self.ml.rotate_left(17)).to_le_bytes()[..7]);
        block[8..].copy_from_slice(&self.right.to_le_bytes());
        block
    }

    /// One round, given the AES output's first 64 bits.
    fn step(&mut self, aes_out: u64) {
        if !self.walking {
            return;
        }
        let ml = self.ml;
        // Uniform in [0, ml) by multiply-shift (no division).
        let f = ((u128::from(aes_out) * u128::from(ml)) >> 64) as u64;
        // (left + f) mod ml without overflow: both are below ml.
        let c = if self.left >= ml - f {
            self.left - (ml - f)
        } else {
            self.left + f
        };
        self.left = self.right;
        self.right = c;
        std::mem::swap(&mut self.ml, &mut self.mr);
    }

    /// After the rounds of a pass: the result, in range or walking on.
    fn finish(&mut self) {
        if !self.walking {
            return;
        }
        self.x = self.left * self.b + self.right;
        if self.x < self.size {
            self.walking = false;
        } else {
            self.start();
        }
    }
}

/// The smallest r with r * r >= n.
fn ceil_sqrt(n: u64) -> u64 {
    let mut r = (n as f64).sqrt() as u64;
    while u128::from(r) * u128::from(r) < u128::from(n) {
        r += 1;
    }
    while r > 1 && u128::from(r - 1) * u128::from(r - 1) >= u128::from(n) {
        r -= 1;
    }
    r.max(1)
}

/// Lowercase RFC 4648 base32 without padding, from the leading bits.
pub fn base32_into(bytes: &[u8], chars: usize, out: &mut String) {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut acc: u64 = 0;
    let mut have = 0u32;
    let mut written = 0;
    for &b in bytes {
        acc = (acc << 8) | u64::from(b);
        have += 8;
        while have >= 5 && written < chars {
            have -= 5;
            out.push(char::from(ALPHABET[((acc >> have) & 31) as usize]));
            written += 1;
        }
        if written == chars {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s.as_bytes().to_vec())
    }

    #[test]
    fn permutation_is_a_bijection_on_small_and_odd_domains() {
        let p = Permutation::new(&secret("0123456789abcdef"), "users.id");
        for size in [2u64, 3, 9, 10, 90, 900, 1000, 4097, 9000] {
            let mut seen = vec![false; size as usize];
            for x in 0..size {
                let y = p.permute(x, size, 7);
                assert!(y < size);
                assert!(!seen[y as usize], "collision at size {size}");
                seen[y as usize] = true;
            }
        }
    }

    #[test]
    fn keys_and_tweaks_give_unrelated_permutations() {
        let a = Permutation::new(&secret("0123456789abcdef"), "users.id");
        let b = Permutation::new(&secret("0123456789abcdeF"), "users.id");
        let c = Permutation::new(&secret("0123456789abcdef"), "orders.id");
        let size = 1_000_000;
        let same = |p: &Permutation, q: &Permutation| {
            (0..1000)
                .filter(|x| p.permute(*x, size, 1) == q.permute(*x, size, 1))
                .count()
        };
        assert_eq!(same(&a, &a), 1000);
        assert!(same(&a, &b) < 3);
        assert!(same(&a, &c) < 3);
        assert!(
            (0..1000)
                .filter(|x| a.permute(*x, size, 1) == a.permute(*x, size, 2))
                .count()
                < 3
        );
    }

    #[test]
    fn prf_separates_parts_and_never_shows_the_key() {
        let s = secret("a secret of 16+ bytes");
        let p = s.prf("fake", "name");
        assert_ne!(p.bytes(&[b"ab", b"c"]), p.bytes(&[b"a", b"bc"]));
        assert_eq!(p.bytes(&[b"x"]), s.prf("fake", "name").bytes(&[b"x"]));
        assert!(!format!("{s:?} {p:?}").contains("secret"));
    }

    #[test]
    fn batches_give_the_single_results() {
        let s = secret("0123456789abcdef");
        let prf = s.prf("fake", "name");
        let inputs: Vec<Vec<u8>> = (0..40).map(|n| vec![b'x'; n * 3 % 37]).collect();
        let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        let mut out = vec![[0u8; 16]; refs.len()];
        prf.bytes_many(&refs, &mut out);
        for (r, o) in refs.iter().zip(&out) {
            assert_eq!(prf.bytes(&[r]), *o);
        }
        let p = Permutation::new(&s, "users.id");
        // Sizes where cycle walking happens, 0/1-value domains and u64::MAX.
        let lanes: Vec<(u64, u64, u64)> = (0..50u64)
            .map(|i| match i % 5 {
                0 => (0, 1, 3),
                1 => (i, 1000 + i, 7),
                2 => (i * 1_000_003, u64::MAX, 1),
                3 => (i % 10, 10, 2),
                _ => (i, 4097, 9),
            })
            .collect();
        let mut got = vec![0u64; lanes.len()];
        p.permute_many(&lanes, &mut got);
        for (&(x, size, tweak), y) in lanes.iter().zip(&got) {
            assert_eq!(p.permute(x, size, tweak), *y, "{x} in {size}");
        }
    }

    #[test]
    fn permutation_handles_the_largest_domains() {
        let p = Permutation::new(&secret("0123456789abcdef"), "big");
        for size in [u64::MAX, 1u64 << 63, 9_000_000_000_000_000_000] {
            for x in [0, 1, size / 2, size - 1] {
                assert!(p.permute(x, size, 0) < size);
            }
        }
        assert_eq!(ceil_sqrt(u64::MAX), 1u64 << 32);
        assert_eq!(ceil_sqrt(10), 4);
    }

    #[test]
    fn base32_takes_the_leading_bits() {
        let mut s = String::new();
        base32_into(&[0xff, 0x00, 0xff], 4, &mut s);
        assert_eq!(s, "74ap");
    }
}
