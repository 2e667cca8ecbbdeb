//! The values a manifest carries that Kubernetes would refuse at apply
//! time (names, resource quantities, paths on the results volume), checked
//! here so a typo fails on the laptop with the flag's name, not in the
//! cluster. Also the run id a profile and T0 give when none is chosen.

/// Longest run id: the names made from it (`RUN-shards`, and the pods'
/// `RUN-shards-INDEX-xxxxx`) must stay within Kubernetes' 63-character label
/// and host-name limits for any shard count.
pub const MAX_RUN_ID: usize = 40;

/// Why a value was refused; the caller names the flag.
pub type Refusal = String;

/// A DNS-1123 label (namespaces, run ids): lower-case letters, digits and
/// `-`, starting and ending with a letter or digit, at most `max` long.
pub fn check_label(value: &str, max: usize) -> Result<(), Refusal> {
    if value.is_empty() {
        return Err("is empty".into());
    }
    if value.len() > max {
        return Err(format!("`{value}` is {} characters long (at most {max})", value.len()));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "`{value}` has `{c}`: use lower-case letters, digits and `-` (a DNS-1123 label)"
        ));
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err(format!("`{value}` must start and end with a letter or digit"));
    }
    Ok(())
}

/// A DNS-1123 subdomain (Secrets, claims): labels joined by `.`, at most
/// 253 characters.
pub fn check_subdomain(value: &str) -> Result<(), Refusal> {
    if value.len() > 253 {
        return Err(format!("`{value}` is longer than 253 characters"));
    }
    value
        .split('.')
        .try_for_each(|part| check_label(part, 63))
        .map_err(|e| format!("`{value}` is not a DNS-1123 name: a part {e}"))
}

/// Which suffixes a quantity may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityKind {
    /// CPU: cores (`2`, `1.5`) or millicores (`500m`).
    Cpu,
    /// Memory or storage: bytes with a decimal or binary suffix (`512Mi`, `20G`).
    Bytes,
}

/// A Kubernetes resource quantity greater than zero, in the forms people
/// write (`2`, `500m`, `1.5`, `512Mi`, `20Gi`, `1G`).
pub fn check_quantity(value: &str, kind: QuantityKind) -> Result<(), Refusal> {
    let suffixes: &[&str] = match kind {
        QuantityKind::Cpu => &["m", ""],
        QuantityKind::Bytes => &["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E", ""],
    };
    let hint = match kind {
        QuantityKind::Cpu => "expected cores such as `2`, `1.5` or `500m`",
        QuantityKind::Bytes => "expected a size such as `512Mi`, `2Gi` or `20G`",
    };
    let number = suffixes
        .iter()
        .find_map(|s| value.strip_suffix(s))
        .ok_or_else(|| format!("`{value}`: {hint}"))?;
    let well_formed = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.matches('.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    match number.parse::<f64>() {
        Ok(v) if well_formed && v > 0.0 => Ok(()),
        _ => Err(format!("`{value}`: {hint}")),
    }
}

/// A path on the results volume (mounted at `root`) for a file the gate
/// reads: relative paths are taken under `root`, absolute ones must be
/// inside it, and `..` is refused so the path cannot leave it.
pub fn volume_path(value: &str, root: &str) -> Result<String, Refusal> {
    let rel = if let Some(abs) = value.strip_prefix('/') {
        abs.strip_prefix(root.trim_start_matches('/'))
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| format!("`{value}` is not on the results volume (mounted at {root})"))?
    } else {
        value
    };
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.is_empty() {
        return Err(format!("`{value}` names the results volume itself, not a run in it"));
    }
    if parts.contains(&"..") {
        return Err(format!("`{value}` uses `..`: name a path inside {root}"));
    }
    Ok(format!("{root}/{}", parts.join("/")))
}

/// The run id used when none is given: the profile's name made
/// DNS-safe, then T0 in UTC (`shop-20261205-100000`), so two renders of one
/// profile for one T0 name the same run, and different T0s different runs.
pub fn derive_run_id(profile_name: &str, t0: jiff::Timestamp) -> String {
    let mut slug = String::new();
    for c in profile_name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    // The time part is 16 characters with its `-`.
    slug.truncate(MAX_RUN_ID - 16);
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "run" } else { slug };
    format!("{slug}-{}", t0.strftime("%Y%m%d-%H%M%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_dns_1123() {
        assert_eq!(check_label("shop-1", 63), Ok(()));
        let why = |s| check_label(s, 10).unwrap_err();
        assert_eq!(why(""), "is empty");
        assert_eq!(
            why("Shop"),
            "`Shop` has `S`: use lower-case letters, digits and `-` (a DNS-1123 label)"
        );
        assert_eq!(
            why("shop_1"),
            "`shop_1` has `_`: use lower-case letters, digits and `-` (a DNS-1123 label)"
        );
        assert_eq!(why("-shop"), "`-shop` must start and end with a letter or digit");
        assert_eq!(why("abcdefghijk"), "`abcdefghijk` is 11 characters long (at most 10)");
        assert_eq!(check_subdomain("loadline.results-1"), Ok(()));
        assert!(check_subdomain("a..b").is_err());
    }

    #[test]
    fn quantities_take_kubernetes_forms_only() {
        for ok in ["2", "1.5", "500m"] {
            assert_eq!(check_quantity(ok, QuantityKind::Cpu), Ok(()), "{ok}");
        }
        for ok in ["512Mi", "20Gi", "1G", "1000000", "1.5Gi"] {
            assert_eq!(check_quantity(ok, QuantityKind::Bytes), Ok(()), "{ok}");
        }
        for bad in ["", "0", "2 cores", "1.5.1", ".5", "-1", "500Mi", "2x"] {
            assert!(check_quantity(bad, QuantityKind::Cpu).is_err(), "{bad}");
        }
        for bad in ["0Gi", "1GB", "Gi", "1e3", "1,5Gi"] {
            assert!(check_quantity(bad, QuantityKind::Bytes).is_err(), "{bad}");
        }
    }

    #[test]
    fn volume_paths_stay_on_the_volume() {
        assert_eq!(
            volume_path("baseline/merged", "/results").unwrap(),
            "/results/baseline/merged"
        );
        assert_eq!(
            volume_path("/results/b/./merged/", "/results").unwrap(),
            "/results/b/merged"
        );
        assert!(volume_path("/data/b", "/results").is_err());
        assert!(volume_path("/resultsx/b", "/results").is_err());
        assert!(volume_path("b/../../etc", "/results").is_err());
        assert!(volume_path("/results", "/results").is_err());
    }

    /// The derived id is a valid label, at most MAX_RUN_ID long, whatever the name.
    #[test]
    fn derived_run_ids_are_valid_labels() {
        let t0: jiff::Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
        assert_eq!(derive_run_id("shop", t0), "shop-20261205-100000");
        assert_eq!(derive_run_id("My Shop (EU)", t0), "my-shop-eu-20261205-100000");
        assert_eq!(derive_run_id("__", t0), "run-20261205-100000");
        let long = derive_run_id(&"x-".repeat(40), t0);
        assert!(long.len() <= MAX_RUN_ID, "{long}");
        check_label(&long, MAX_RUN_ID).unwrap();
    }
}
