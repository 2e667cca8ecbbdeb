//! The result of a run, on disk and in memory: the summary (JSON), the
//! latency interval log (HdrHistogram's text format, one histogram per
//! second per endpoint and outcome) and the per-second time series (CSV).
//! The load engine writes it; the gate and the report read it.

pub mod error_kind;
pub mod hist;
pub mod hlog;
pub mod merge;
pub mod outcome;
pub mod run;
pub mod slots;
pub mod summary;
pub mod table;
pub mod writer;

pub use error_kind::ErrorKind;
pub use hist::{fmt_us, new_hist, LatencyStats};
pub use outcome::Outcome;
pub use summary::Summary;
pub use writer::{
    ClientKey, IntervalData, ResultWriter, SeriesKey, CLIENTS_LOG_FILE, LATENCY_LOG_FILE, SUMMARY_FILE, TIMESERIES_FILE,
};

/// The largest `summary.json` read: a summary is a few kilobytes per
/// endpoint.
pub const MAX_SUMMARY_BYTES: u64 = 16 << 20;
/// The most endpoints a summary may list.
pub const MAX_ENDPOINTS: usize = 1_000;
/// The most shards a run may be split into (`merge` lists the missing
/// ones, so a count is memory).
pub const MAX_SHARDS: u32 = 1_000_000;

/// Why a run's summary could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The file could not be read.
    #[error("cannot read {}: {cause}", path.display())]
    Read {
        /// The summary's path.
        path: std::path::PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The file is not a summary's JSON.
    #[error("{}: {cause}", path.display())]
    Json {
        /// The summary's path.
        path: std::path::PathBuf,
        /// Where and why the JSON did not read.
        cause: serde_json::Error,
    },
    /// The JSON reads but is past a limit or names files outside its run.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The summary's path.
        path: std::path::PathBuf,
        /// Which limit, with the key.
        message: String,
    },
}

/// Read a run directory's summary.
///
/// Limits, since a summary may come from anywhere: at most
/// [`MAX_SUMMARY_BYTES`] (JSON nesting is bounded by serde_json's
/// recursion limit of 128), at most [`MAX_ENDPOINTS`] endpoints, a shard
/// count of at most [`MAX_SHARDS`] with the index below it, the run's
/// times (`run.*_s`) from 0 to [`MAX_DURATION`](crate::units::MAX_DURATION),
/// and the files it names (`files.*`) plain names inside the run directory.
pub fn read_summary(dir: &std::path::Path) -> Result<Summary, SummaryError> {
    use std::io::Read;
    let path = dir.join(SUMMARY_FILE);
    let mut text = String::new();
    let read = std::fs::File::open(&path).and_then(|f| f.take(MAX_SUMMARY_BYTES + 1).read_to_string(&mut text));
    if let Err(cause) = read {
        return Err(SummaryError::Read { path, cause });
    }
    summary_from_str(&text, &path)
}

/// Parse and check a summary's text (see [`read_summary`]); `path` names it
/// in errors.
pub fn summary_from_str(text: &str, path: &std::path::Path) -> Result<Summary, SummaryError> {
    let invalid = |message: String| SummaryError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    if text.len() as u64 > MAX_SUMMARY_BYTES {
        return Err(invalid(format!("larger than {MAX_SUMMARY_BYTES} bytes")));
    }
    let summary: Summary = serde_json::from_str(text).map_err(|cause| SummaryError::Json {
        path: path.to_path_buf(),
        cause,
    })?;
    check_summary(&summary).map_err(invalid)?;
    Ok(summary)
}

fn check_summary(s: &Summary) -> Result<(), String> {
    if s.endpoints.len() > MAX_ENDPOINTS {
        return Err(format!(
            "key `endpoints`: {} endpoints, more than {MAX_ENDPOINTS}",
            s.endpoints.len()
        ));
    }
    let max_s = crate::units::MAX_DURATION.as_secs_f64();
    for (key, v) in [
        ("run.planned_duration_s", s.run.planned_duration_s),
        ("run.warmup_s", s.run.warmup_s),
        ("run.elapsed_s", s.run.elapsed_s),
        ("run.measured_s", s.run.measured_s),
        ("run.interval_s", s.run.interval_s),
    ] {
        if !(0.0..=max_s).contains(&v) {
            return Err(format!("key `{key}`: {v} is not a number of seconds from 0 to {max_s}"));
        }
    }
    if let Some(shard) = &s.run.shard {
        if shard.count == 0 || shard.count > MAX_SHARDS || shard.index >= shard.count {
            return Err(format!(
                "key `run.shard`: shard {}/{}: the count must be 1 to {MAX_SHARDS} and the index below it",
                shard.index, shard.count
            ));
        }
    }
    if let Some(m) = &s.run.merged {
        if m.count > MAX_SHARDS || m.merged.len() + m.missing.len() > m.count as usize {
            return Err(format!(
                "key `run.merged`: {} merged and {} missing of {} shards (at most {MAX_SHARDS})",
                m.merged.len(),
                m.missing.len(),
                m.count
            ));
        }
    }
    for (key, name) in [
        ("files.summary", &s.files.summary),
        ("files.latency_log", &s.files.latency_log),
        ("files.timeseries", &s.files.timeseries),
    ] {
        let plain = std::path::Path::new(name)
            .file_name()
            .is_some_and(|f| f == name.as_str());
        if !plain || name.contains(['/', '\\']) {
            return Err(format!(
                "key `{key}`: `{name}` is not a file name inside the run directory"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/run/summary.json");
        std::fs::read_to_string(dir).unwrap()
    }

    fn check(edit: impl Fn(&mut serde_json::Value)) -> Result<Summary, String> {
        let mut v: serde_json::Value = serde_json::from_str(&example()).unwrap();
        edit(&mut v);
        summary_from_str(&v.to_string(), std::path::Path::new("r/summary.json")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_real_summary_reads() {
        check(|_| {}).unwrap();
    }

    /// Each limit is an error naming the file and the key.
    #[test]
    fn limits_name_the_file_and_key() {
        let e = check(|v| v["run"]["shard"] = serde_json::json!({"index": 0, "count": 4_000_000_000u32})).unwrap_err();
        assert!(e.starts_with("r/summary.json: key `run.shard`"), "{e}");
        let e = check(|v| v["run"]["shard"] = serde_json::json!({"index": 3, "count": 3})).unwrap_err();
        assert!(e.contains("run.shard"), "{e}");
        let e = check(|v| v["files"]["latency_log"] = "../../etc/passwd".into()).unwrap_err();
        assert!(e.contains("files.latency_log"), "{e}");
        let e = check(|v| v["run"]["measured_s"] = 1e300.into()).unwrap_err();
        assert!(e.contains("key `run.measured_s`"), "{e}");
        let e = check(|v| v["files"]["timeseries"] = "..".into()).unwrap_err();
        assert!(e.contains("files.timeseries"), "{e}");
        let mut s = check(|_| {}).unwrap();
        s.endpoints = vec![s.endpoints[0].clone(); MAX_ENDPOINTS + 1];
        let e = check_summary(&s).unwrap_err();
        assert!(e.contains("key `endpoints`"), "{e}");
        let big = format!("{{{}}}", " ".repeat(MAX_SUMMARY_BYTES as usize));
        let e = summary_from_str(&big, std::path::Path::new("r/summary.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger than"), "{e}");
    }
}
