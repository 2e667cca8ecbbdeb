//! Files that appear whole or not at all. Every output loadline writes (run
//! results, synth files, scrubbed dumps, verdicts, reports, scrub and verify
//! reports) is written as `NAME.partial` next to its final name and renamed
//! when complete, so a reader, a CI step or a crashed run never leaves
//! something that looks finished and is not. This is the one place that names
//! the temporary file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where `path` is written until it is complete: `path` with `.partial`
/// appended (`summary.json.partial`).
pub fn partial_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Writes `bytes` to `path` through its [`partial_path`], renamed at the
/// end; a failure removes the partial file and names the path.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = partial_path(path);
    let result = fs::write(&tmp, bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", tmp.display())))
        .and_then(|()| {
            fs::rename(&tmp, path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot move {} to {}: {e}", tmp.display(), path.display()),
                )
            })
        });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_whole_and_no_partial_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verdict.json");
        write(&path, b"{}\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{}\n");
        assert!(!partial_path(&path).exists());
        assert_eq!(partial_path(&path), dir.path().join("verdict.json.partial"));
    }

    #[test]
    fn a_failed_write_names_the_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("verdict.json");
        let e = write(&path, b"x").unwrap_err();
        assert!(e.to_string().contains("verdict.json.partial"), "{e}");
        assert!(!dir.path().join("missing").exists());
    }
}
