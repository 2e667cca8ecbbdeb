//! The sample shop's catalogue: products and search results made up from
//! the request itself.
//!
//! Nothing is stored: a product's name and price are a pure function of its
//! id, and search results of the query, so every response is deterministic
//! (tests can assert exact bodies) and any id a profile draws exists. The
//! hash is spelled out here rather than taken from `std`, whose hashers are
//! not promised to stay the same across Rust releases.

use serde::Serialize;

use super::faults::mix;

const ADJECTIVES: [&str; 16] = [
    "Sturdy", "Compact", "Classic", "Deluxe", "Rustic", "Modern", "Vintage", "Silent", "Bright", "Swift", "Cozy",
    "Sleek", "Tiny", "Grand", "Smart", "Humble",
];

const NOUNS: [&str; 16] = [
    "Lamp", "Kettle", "Backpack", "Chair", "Mug", "Notebook", "Blender", "Umbrella", "Clock", "Scarf", "Speaker",
    "Pillow", "Toaster", "Bicycle", "Wallet", "Candle",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Product {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) price_cents: u64,
}

/// The product with this id: always exists, always the same.
pub(crate) fn product(id: u64) -> Product {
    let h = mix(id);
    let adjective = ADJECTIVES[(h % 16) as usize];
    let noun = NOUNS[((h >> 8) % 16) as usize];
    Product {
        id,
        name: format!("{adjective} {noun}"),
        // 1.00 to 999.99, in cents.
        price_cents: 100 + (h >> 16) % 99_900,
    }
}

/// FNV-1a: a stable hash of the query text.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One to five products for a query, the same ones every time.
pub(crate) fn search(q: &str) -> Vec<Product> {
    let h = fnv1a(q);
    let n = 1 + h % 5;
    (0..n).map(|i| product(mix(h ^ i) % 1_000_000)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_searches_are_deterministic() {
        assert_eq!(product(123), product(123));
        assert_ne!(product(123), product(124));
        let p = product(42);
        assert!((100..100_000).contains(&p.price_cents));
        assert_eq!(search("lamp"), search("lamp"));
        let n = search("lamp").len();
        assert!((1..=5).contains(&n));
    }

    /// Golden values: a change here changes what every test and demo sees.
    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
