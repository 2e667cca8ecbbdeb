//! The files a deployment ships to the cluster (the profile, the files it
//! names, the policy), read and checked here with the project's own loaders
//! so a bad profile fails on the laptop (exit 2), not in forty pods.
//!
//! The profile is checked *without* the laptop's environment: `${env:NAME}`
//! values exist only in the pods (from a Secret), so each reference is
//! replaced by a placeholder for the check, and the file itself is shipped
//! verbatim. A credential written literally in the profile is refused,
//! since a ConfigMap is readable by anyone who can read the namespace.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::Error;
use crate::profile::{self, Overrides, Profile};

/// What stands for an `${env:NAME}` value that starts a YAML value: a
/// URL, so a `base_url` taken whole from the environment still checks.
const PLACEHOLDER_URL: &str = "http://env-placeholder.invalid";
/// What stands for one inside a value (`Bearer ${env:TOKEN}`).
const PLACEHOLDER_WORD: &str = "env-placeholder";

/// The profile as it will run in the pods.
#[derive(Debug)]
pub struct ProfileInput {
    /// The file's text, verbatim.
    pub text: String,
    /// The validated profile (with placeholders for `${env:...}`).
    pub profile: Profile,
    /// Names of the environment variables the profile reads, sorted.
    pub env_vars: BTreeSet<String>,
    /// Files the profile names, by the relative path it names them with.
    pub files: Vec<ShippedFile>,
}

/// A file the profile reads (a CA bundle, a tenant-weights CSV), shipped
/// in the ConfigMap and mounted beside the profile.
#[derive(Debug)]
pub struct ShippedFile {
    /// The path as the profile writes it, relative to the profile.
    pub relative: String,
    /// Its text.
    pub text: String,
}

/// Read and check the profile at `path` for a deployment of `shards`.
pub fn read_profile(path: &Path, shards: u32) -> Result<ProfileInput, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        what: "profile",
        path: path.to_path_buf(),
        source,
    })?;
    let (checked, env_vars) = with_placeholders(&text);
    let profile = profile::from_str(&checked, path, &Overrides::default()).map_err(Error::Profile)?;
    for h in &profile.target.headers {
        // Secret-marked and not from the environment (both placeholders
        // contain the word): a credential written out.
        if h.secret && !h.value.contains(PLACEHOLDER_WORD) {
            return Err(Error::LiteralCredential {
                path: path.to_path_buf(),
                header: h.name.clone(),
            });
        }
    }
    if let profile::Load::Closed { users, .. } = profile.load {
        if users < shards {
            return Err(Error::TooFewUsers { users, shards });
        }
    }
    let files = named_files(path, &text)?;
    Ok(ProfileInput {
        text,
        profile,
        env_vars,
        files,
    })
}

/// `text` with each `${env:NAME}` replaced by a placeholder, and the names.
/// Line numbers are kept, so errors point at the real file's lines.
fn with_placeholders(text: &str) -> (String, BTreeSet<String>) {
    let mut out = String::with_capacity(text.len());
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("${env:") {
        let Some(end) = rest[i..].find('}') else { break };
        let name = &rest[i + 6..i + end];
        if name.contains('\n') {
            break;
        }
        out.push_str(&rest[..i]);
        let line = &out[out.rfind('\n').map_or(0, |n| n + 1)..];
        if in_comment(line) {
            // `${env:...}` in a comment is read by no one.
            out.push_str(&rest[i..=i + end]);
            rest = &rest[i + end + 1..];
            continue;
        }
        // At the start of a value (after `: `, a quote or `- `), the whole
        // value may come from the variable; inside one, only a part.
        let before = out.trim_end_matches(['"', '\'']);
        let starts_value = before.ends_with(':') || before.ends_with(": ") || before.ends_with("- ");
        out.push_str(if starts_value {
            PLACEHOLDER_URL
        } else {
            PLACEHOLDER_WORD
        });
        names.insert(name.to_string());
        rest = &rest[i + end + 1..];
    }
    // An unclosed reference is left as written: the loader names its line.
    out.push_str(rest);
    (out, names)
}

/// Whether the end of `line` (text up to a point) is inside a YAML comment:
/// a `#` at the line's start or after a blank, outside quotes.
fn in_comment(line: &str) -> bool {
    let mut quote = None;
    let mut prev = ' ';
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev == ' ' || prev == '\t' => return true,
            _ => {}
        }
        prev = c;
    }
    false
}

/// The keys that name files, read from the profile's text: the validated
/// profile keeps their contents, not the names the pods need.
#[derive(Deserialize, Default)]
struct FileKeys {
    #[serde(default)]
    target: Option<TargetKeys>,
    #[serde(default)]
    tenants: Option<TenantKeys>,
    #[serde(default)]
    endpoints: Vec<EndpointKeys>,
}

#[derive(Deserialize, Default)]
struct EndpointKeys {
    #[serde(default)]
    vars: std::collections::BTreeMap<String, VarKeys>,
}

/// A variable is a mapping; only `from_schema` names a file here.
#[derive(Deserialize, Default)]
struct VarKeys {
    #[serde(default)]
    from_schema: Option<FromSchemaKeys>,
}

#[derive(Deserialize, Default)]
struct FromSchemaKeys {
    #[serde(default)]
    schema: Option<String>,
}

#[derive(Deserialize, Default)]
struct TargetKeys {
    #[serde(default)]
    tls: Option<TlsKeys>,
}

#[derive(Deserialize, Default)]
struct TlsKeys {
    #[serde(default)]
    ca_file: Option<String>,
}

#[derive(Deserialize, Default)]
struct TenantKeys {
    #[serde(default)]
    skew: Option<SkewKeys>,
    #[serde(default)]
    from_schema: Option<FromSchemaKeys>,
}

/// `skew` is a string (`uniform`) or a mapping; only the CSV form names a file.
#[derive(Deserialize)]
#[serde(untagged)]
enum SkewKeys {
    Csv {
        weights_csv: String,
    },
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

/// Files the profile names, read from beside it (where the pods will find
/// them): `target.tls.ca_file`, `tenants.skew.weights_csv`, and the
/// schemas of `tenants.from_schema` and of variables' `from_schema` (each
/// once).
fn named_files(path: &Path, text: &str) -> Result<Vec<ShippedFile>, Error> {
    // The profile has been validated, so this reads.
    let keys: FileKeys = serde_saphyr::from_str(text).unwrap_or_default();
    let (skew, tenant_schema) = match keys.tenants {
        Some(t) => (t.skew, t.from_schema.and_then(|f| f.schema)),
        None => (None, None),
    };
    let mut named = vec![
        (
            "target.tls.ca_file",
            keys.target.and_then(|t| t.tls).and_then(|t| t.ca_file),
        ),
        (
            "tenants.skew.weights_csv",
            skew.and_then(|s| match s {
                SkewKeys::Csv { weights_csv } => Some(weights_csv),
                SkewKeys::Other(_) => None,
            }),
        ),
        ("tenants.from_schema.schema", tenant_schema),
    ];
    for e in keys.endpoints {
        for v in e.vars.into_values() {
            named.push((
                "endpoints.vars.from_schema.schema",
                v.from_schema.and_then(|f| f.schema),
            ));
        }
    }
    let mut files: Vec<ShippedFile> = Vec::new();
    for (key, file) in named {
        let Some(file) = file else { continue };
        if files.iter().any(|f| f.relative == file) {
            continue;
        }
        let relative = Path::new(&file);
        let inside = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside {
            return Err(Error::FileOutside {
                path: path.to_path_buf(),
                key,
                file,
            });
        }
        let beside: PathBuf = path.parent().unwrap_or(Path::new(".")).join(relative);
        let text = std::fs::read_to_string(&beside).map_err(|source| Error::Read {
            what: key,
            path: beside.clone(),
            source,
        })?;
        files.push(ShippedFile { relative: file, text });
    }
    Ok(files)
}

/// A policy, read and checked with the gate's loader; `env` must be one
/// of its environments.
pub fn read_policy(path: &Path) -> Result<(String, crate::gate::policy::Policy), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        what: "policy",
        path: path.to_path_buf(),
        source,
    })?;
    let policy = crate::gate::policy::from_str(&text, path).map_err(Error::Policy)?;
    Ok((text, policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_become_placeholders_that_still_validate() {
        let (t, names) = with_placeholders(
            "base_url: ${env:URL}\nheaders:\n  Authorization: \"Bearer ${env:TOKEN}\"\n  X-Key: '${env:KEY}'\n",
        );
        assert_eq!(
            t,
            "base_url: http://env-placeholder.invalid\nheaders:\n  Authorization: \"Bearer env-placeholder\"\n  \
             X-Key: 'http://env-placeholder.invalid'\n"
        );
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["KEY", "TOKEN", "URL"]);
        let (t, names) = with_placeholders("# STAGING_TOKEN=${env:A}\nk: \"#${env:B}\" # ${env:C}\n");
        assert_eq!(t, "# STAGING_TOKEN=${env:A}\nk: \"#env-placeholder\" # ${env:C}\n");
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["B"]);
        let (t, names) = with_placeholders("a: ${env:OPEN\nb: 1\n");
        assert_eq!(t, "a: ${env:OPEN\nb: 1\n");
        assert!(names.is_empty());
    }
}
