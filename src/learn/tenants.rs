//! Tenant skew: how requests spread over tenants, as a Zipf exponent with
//! its goodness of fit, and a table of keyed hashes where the fit is poor.
//! Tenant names are hashed under a key as soon as they are read; no name is
//! kept, printed or written.

use std::str::FromStr;

use super::sketch::{Distinct, ZipfFit};
use crate::scrub::keyed::Prf;

/// Tenants counted exactly before the count becomes a sample.
const TENANT_CAP: usize = 1 << 16;

/// Where a request names its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSource {
    /// The path segment at this position (0-based: `path:1` is the second).
    Path(usize),
    /// This request header.
    Header(String),
    /// This query parameter.
    Query(String),
}

impl FromStr for TenantSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a tenant source: use path:N, header:NAME or query:NAME");
        let (kind, arg) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "path" => arg.parse().map(TenantSource::Path).map_err(|_| bad()),
            "header" if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
                Ok(TenantSource::Header(arg.to_string()))
            }
            "query" if !arg.is_empty() => Ok(TenantSource::Query(arg.to_string())),
            _ => Err(bad()),
        }
    }
}

/// Requests per tenant, by keyed hash.
#[derive(Debug, Clone)]
pub struct Tenants {
    seen: Distinct,
    prf: Prf,
    /// Requests that did not name a tenant.
    pub missing: u64,
}

/// One row of the weights table.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRow {
    /// The tenant's keyed hash (16 hex digits).
    pub key: String,
    /// Its requests.
    pub weight: u64,
}

/// What the learner concluded about tenants.
#[derive(Debug, Clone)]
pub struct TenantSkew {
    /// Tenants seen (estimated when there are more than 65,536).
    pub count: u64,
    /// Whether `count` is exact.
    pub exact: bool,
    /// The Zipf fit, when there were enough requests to fit one.
    pub fit: Option<ZipfFit>,
    /// The weights table, when the fit is poor: tenants seen at least
    /// `min_count` times, busiest first.
    pub weights: Option<Vec<WeightRow>>,
    /// Tenants left out of the weights table (seen fewer than `min_count` times).
    pub rare_tenants: u64,
    /// Requests of the tenants seen.
    pub requests: u64,
}

/// The largest Kolmogorov–Smirnov distance at which the Zipf fit stands alone.
pub const GOOD_FIT_KS: f64 = 0.05;

impl Tenants {
    /// An empty count; names are hashed with `prf`.
    pub fn new(prf: Prf) -> Self {
        Tenants {
            seen: Distinct::new(TENANT_CAP),
            prf,
            missing: 0,
        }
    }

    /// Count one request of the tenant named `name`.
    pub fn add(&mut self, name: &str) {
        let h = self.prf.u64(&[name.as_bytes()]);
        self.seen.add(h);
    }

    /// Add another count (made with the same key) into this one.
    pub fn merge(&mut self, o: &Tenants) {
        self.seen.merge(&o.seen);
        self.missing += o.missing;
    }

    /// Fit the skew; the weights table only where the fit is poor.
    pub fn skew(&self, min_count: u64) -> TenantSkew {
        let fit = self.seen.zipf();
        let poor = fit.is_none_or(|f| f.ks > GOOD_FIT_KS) && self.seen.exact() && self.seen.distinct() > 1;
        let (weights, rare) = if poor {
            let top = self.seen.top();
            let kept: Vec<WeightRow> = top
                .iter()
                .filter(|(_, c)| *c >= min_count)
                .map(|(h, c)| WeightRow {
                    key: format!("{h:016x}"),
                    weight: *c,
                })
                .collect();
            let rare = (top.len() - kept.len()) as u64;
            (Some(kept).filter(|k| !k.is_empty()), rare)
        } else {
            (None, 0)
        };
        TenantSkew {
            count: self.seen.distinct(),
            exact: self.seen.exact(),
            fit,
            weights,
            rare_tenants: rare,
            requests: self.seen.total(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::scrub::keyed::Secret;

    fn tenants() -> Tenants {
        Tenants::new(Secret::new(b"test key".to_vec()).prf("learn", "tenant"))
    }

    #[test]
    fn sources() {
        assert_eq!("path:1".parse(), Ok(TenantSource::Path(1)));
        assert_eq!(
            "header:X-Tenant-ID".parse(),
            Ok(TenantSource::Header("X-Tenant-ID".into()))
        );
        assert_eq!("query:tenant".parse(), Ok(TenantSource::Query("tenant".into())));
        assert!("path:x".parse::<TenantSource>().is_err());
        assert!("cookie:a".parse::<TenantSource>().is_err());
        assert!("header:".parse::<TenantSource>().is_err());
    }

    #[test]
    fn zipf_tenants_fit_and_need_no_table() {
        let mut t = tenants();
        for i in 1..=200u64 {
            for _ in 0..(20_000 / i) {
                t.add(&format!("acme-{i}"));
            }
        }
        let s = t.skew(10);
        assert_eq!(s.count, 200);
        let fit = s.fit.unwrap();
        assert!((fit.s - 1.0).abs() < 0.05, "{fit:?}");
        assert!(s.weights.is_none());
    }

    #[test]
    fn a_poor_fit_gets_a_table_of_keyed_hashes_without_rare_tenants() {
        let mut t = tenants();
        // Two giants and a flat tail: not a Zipf law.
        for i in 0..100u64 {
            let n = if i < 2 {
                5_000
            } else if i < 90 {
                50
            } else {
                3
            };
            for _ in 0..n {
                t.add(&format!("tenant-{i}"));
            }
        }
        let s = t.skew(10);
        let w = s.weights.unwrap();
        assert_eq!(w.len(), 90);
        assert_eq!(s.rare_tenants, 10);
        assert_eq!(w[0].weight, 5_000);
        assert!(w.iter().all(|r| r.key.len() == 16 && !r.key.contains("tenant")));
    }
}
