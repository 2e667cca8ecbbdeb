//! The result of a run, on disk and in memory: the summary (JSON), the
//! latency interval log (HdrHistogram's text format, one histogram per
//! second per endpoint and outcome) and the per-second time series (CSV).
//! The load engine writes it; the gate and the report read it.

pub mod hist;
pub mod hlog;
pub mod merge;
pub mod outcome;
pub mod run;
pub mod summary;
pub mod table;
pub mod writer;

pub use hist::{fmt_us, new_hist, LatencyStats};
pub use outcome::Outcome;
pub use summary::Summary;
pub use writer::{
    ClientKey, IntervalData, ResultWriter, SeriesKey, CLIENTS_LOG_FILE, LATENCY_LOG_FILE, SUMMARY_FILE, TIMESERIES_FILE,
};

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
}

/// Read a run directory's summary.
pub fn read_summary(dir: &std::path::Path) -> Result<Summary, SummaryError> {
    let path = dir.join(SUMMARY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(cause) => return Err(SummaryError::Read { path, cause }),
    };
    serde_json::from_str(&text).map_err(|cause| SummaryError::Json { path, cause })
}
