//! `--set key.path=value`: change one value of a profile from the command
//! line (`--set load.rate=500/s`, `--set endpoints.search.weight=0`).
//!
//! The override is applied to the parsed YAML tree, which is written back
//! out and parsed again, so an override goes through exactly the same
//! checks as the file.

use serde_json::Value;

use super::Error;
use crate::yaml::FileError;

/// The keys of assignments, for messages: values are left out, since a
/// value given on the command line may be a credential (`--set
/// target.headers.Authorization=...`).
fn keys_of(assignments: &[String]) -> String {
    assignments
        .iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, _)| format!("{k}=..."))
                .unwrap_or_else(|| a.clone())
        })
        .collect::<Vec<_>>()
        .join(" --set ")
}

/// Apply every assignment to the profile text; returns the changed text.
pub fn apply(text: &str, assignments: &[String]) -> Result<String, Error> {
    let mut tree: Value = serde_saphyr::from_str(text).map_err(|e| Error::Override {
        assignment: keys_of(assignments),
        message: format!("the profile does not parse: {e}"),
    })?;
    for a in assignments {
        let fail = |message: String| Error::Override {
            assignment: keys_of(std::slice::from_ref(a)),
            message,
        };
        let (path, raw_value) = a
            .split_once('=')
            .ok_or_else(|| fail("write KEY=VALUE, e.g. `load.rate=500/s`".into()))?;
        let value: Value = serde_saphyr::from_str(raw_value).unwrap_or_else(|_| Value::String(raw_value.to_string()));
        let keys: Vec<&str> = path.split('.').collect();
        if keys.iter().any(|k| k.is_empty()) {
            return Err(fail(format!("`{path}` is not a key path (keys separated by dots)")));
        }
        set(&mut tree, &keys, value).map_err(|e| fail(e.to_string()))?;
    }
    serde_saphyr::to_string(&tree).map_err(|e| Error::Override {
        assignment: keys_of(assignments),
        message: e.to_string(),
    })
}

/// Why an assignment's key path does not lead to a place in the profile.
#[derive(Debug, thiserror::Error)]
enum PathError {
    #[error("index {index} is past the end of a list of {len}")]
    PastTheEnd { index: usize, len: usize },
    #[error("no list item named `{name}`")]
    NoItemNamed { name: String },
    #[error("`{key}` is inside a value that is not a mapping or a list")]
    NotAContainer { key: String },
}

/// Set the value at `keys` below `node`, creating mappings on the way; a list
/// item is found by position (`endpoints.0`) or by its `name`.
fn set(node: &mut Value, keys: &[&str], value: Value) -> Result<(), PathError> {
    let Some((first, rest)) = keys.split_first() else {
        *node = value;
        return Ok(());
    };
    match node {
        Value::Object(map) => {
            if rest.is_empty() {
                map.insert((*first).to_string(), value);
                return Ok(());
            }
            let child = map
                .entry((*first).to_string())
                .or_insert_with(|| Value::Object(Default::default()));
            set(child, rest, value)
        }
        Value::Array(items) => {
            // By position (`endpoints.0`) or by name (`endpoints.search`).
            let idx = match first.parse::<usize>() {
                Ok(i) if i < items.len() => i,
                Ok(index) => {
                    return Err(PathError::PastTheEnd {
                        index,
                        len: items.len(),
                    })
                }
                Err(_) => items
                    .iter()
                    .position(|it| it.get("name").and_then(Value::as_str) == Some(*first))
                    .ok_or_else(|| PathError::NoItemNamed {
                        name: (*first).to_string(),
                    })?,
            };
            set(&mut items[idx], rest, value)
        }
        _ => Err(PathError::NotAContainer {
            key: (*first).to_string(),
        }),
    }
}

/// An error in a profile after overrides: point at the overrides, since the
/// file itself was checked first and was fine.
pub fn blame(assignments: &[String], e: Error) -> Error {
    let message = match &e {
        Error::File(FileError::Syntax { key, message, .. }) => match key {
            Some(k) => format!("key `{k}`: {message}"),
            None => message.clone(),
        },
        Error::File(FileError::Invalid { key, message, .. }) => format!("key `{key}`: {message}"),
        other => other.to_string(),
    };
    Error::Override {
        assignment: keys_of(assignments),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nested_and_list_values() {
        let text = "load:\n  rate: 10/s\nendpoints:\n  - name: a\n    weight: 1\n  - name: b\n    weight: 2\n";
        let out = apply(
            text,
            &[
                "load.rate=500/s".into(),
                "endpoints.b.weight=0".into(),
                "endpoints.0.weight=3".into(),
            ],
        )
        .unwrap();
        let v: Value = serde_saphyr::from_str(&out).unwrap();
        assert_eq!(v["load"]["rate"], "500/s");
        assert_eq!(v["endpoints"][1]["weight"], 0);
        assert_eq!(v["endpoints"][0]["weight"], 3);
        assert!(apply(text, &["endpoints.zz.weight=1".into()]).is_err());
        assert!(apply(text, &["novalue".into()]).is_err());
        // Values never appear in messages: they may be credentials.
        let e = apply(text, &["endpoints.zz.headers.Authorization=Bearer s3cret".into()]).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
