//! The readers of a run's files that `gate`, `report` and `merge` use: the
//! interval log and the summary.

use std::path::Path;
use std::time::Duration;

use super::{ensure, names_file_and_line, Violation};
use crate::gate::stats::Grid;
use crate::results::hlog::Reader;
use crate::results::merge::{self, Shard};
use crate::results::run::{Run, Series};
use crate::results::{self, hist, LatencyStats, Summary};

/// The name a fuzzed log is read as, in errors.
pub const LOG_NAME: &str = "fuzz/latency.hlog";
/// The name a fuzzed summary is read as, in errors.
pub const SUMMARY_NAME: &str = "fuzz/summary.json";

/// Read `data` as an interval log with [`Reader`], interval by
/// interval (each error naming the file and the line), then as the log of
/// a run of `summary` ([`Run::from_log`], what the gate and the report
/// read): every latency, count and block of each endpoint is computed.
pub fn hlog(data: &[u8], summary: &Summary) -> Result<(), Violation> {
    let reader = || Reader::new(LOG_NAME.into(), Box::new(std::io::Cursor::new(data.to_vec())));
    let mut r = reader();
    let mut n = 0u64;
    loop {
        match r.next_interval() {
            Ok(Some(iv)) => {
                n += 1;
                // A few only: each walks every slot, and the run below
                // walks them again.
                if n <= 2 {
                    let _ = LatencyStats::of(&iv.hist);
                    let _ = run_sparse(&iv.hist);
                    let theirs = hdrhistogram_decode(r.last_bytes());
                    ensure!(
                        theirs.as_ref() == Ok(&iv.hist),
                        "HdrHistogram's deserializer disagrees with ours: {:?}",
                        theirs.map(|h| h.len())
                    );
                }
            }
            Ok(None) => break,
            Err(e) => {
                let message = e.to_string();
                // A payload ours refuses, HdrHistogram's deserializer refuses
                // too (but for the run of 2^63 empty slots, on which it panics
                // with overflow checks on).
                if n < 2 && PAYLOAD_ERRORS.iter().any(|p| message.contains(p)) {
                    let theirs = hdrhistogram_decode(r.last_bytes());
                    ensure!(
                        theirs.is_err(),
                        "HdrHistogram's deserializer reads what ours refuses ({message}): {:?}",
                        theirs.map(|h| h.len())
                    );
                }
                ensure!(
                    names_file_and_line(&message, LOG_NAME),
                    "a log error without the file and line: {message:?}"
                );
                break;
            }
        }
    }
    ensure!(n <= data.len() as u64, "{n} intervals from {} bytes", data.len());
    let bounds = [Duration::from_millis(1), Duration::from_millis(100)];
    let Ok(run) = Run::from_log(Path::new("fuzz"), summary.clone(), reader(), &bounds) else {
        return Ok(());
    };
    let all: Vec<usize> = (0..run.endpoints.len()).collect();
    for eps in [&all[..], &all[..all.len().min(1)]] {
        let h = run.latency_of(eps);
        let _ = LatencyStats::of(&h);
        let _ = run.counts_of(eps);
        let grid = Grid::of(&run.blocks, eps, &run.blocks, eps);
        let _ = (grid.total(&grid.a), grid.total(&grid.b));
    }
    Ok(())
}

/// The errors of [`crate::results::slots::decode`] on a payload, after the
/// header's checks.
const PAYLOAD_ERRORS: [&str; 3] = ["past the payload", "past the layout", "past 2^64"];

/// `bytes` read by HdrHistogram's own deserializer (the header's limits
/// checked first, as it allocates what the header asks for).
fn hdrhistogram_decode(bytes: &[u8]) -> Result<hdrhistogram::Histogram<u64>, String> {
    let mut z = hist::Inflater::default();
    let plain = hist::v2_plain(bytes, &mut z)?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut &plain[..])
        .map_err(|e| e.to_string())
}

fn run_sparse(h: &hdrhistogram::Histogram<u64>) -> usize {
    crate::results::run::sparse(h).len()
}

/// Read `data` as a run's `summary.json` ([`results::summary_from_str`],
/// under its limits); what reads has its histograms decoded, becomes a
/// [`Run`] with an empty log, and is checked as a shard of a merge, as
/// `merge` and the gate do.
pub fn summary(data: &[u8]) -> Result<(), Violation> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let s = match results::summary_from_str(text, Path::new(SUMMARY_NAME)) {
        Ok(s) => s,
        Err(e) => {
            let message = e.to_string();
            ensure!(
                message.starts_with(SUMMARY_NAME),
                "a summary error without the file: {message:?}"
            );
            return Ok(());
        }
    };
    for h in [
        &s.schedule.lag_histogram,
        &s.schedule.loop_lag_histogram,
        &s.schedule.send_lag_histogram,
    ]
    .into_iter()
    .flatten()
    {
        let _ = hist::decode(h);
    }
    // What the gate and the report make of it, with an empty log.
    let empty = Reader::new(LOG_NAME.into(), Box::new(std::io::Cursor::new(Vec::new())));
    if let Ok(run) = Run::from_log(Path::new("fuzz"), s.clone(), empty, &[Duration::from_secs(1)]) {
        let _ = run.measured();
        let _ = Grid::of(&run.blocks, &[], &run.blocks, &[]);
    }
    let shard = Shard {
        dir: "fuzz".into(),
        summary: s,
    };
    let (index, count) = shard.position();
    ensure!(index < count, "shard {index}/{count} read");
    for partial in [false, true] {
        if let Ok(info) = merge::check(std::slice::from_ref(&shard), partial) {
            ensure!(
                info.merged.len() + info.missing.len() == info.count as usize,
                "merged {} and missing {} of {}",
                info.merged.len(),
                info.missing.len(),
                info.count
            );
        }
    }
    Ok(())
}

/// The summary the `hlog` target reads logs as the run of: `summary.json`
/// of a real run, in `dir`.
pub fn seed_summary(dir: &Path) -> Result<Summary, String> {
    results::read_summary(dir).map_err(|e| e.to_string())
}

/// The run the `policy_yaml` target evaluates policies on: a real run's
/// directory.
pub fn seed_run(dir: &Path) -> Result<Run, String> {
    Run::load(
        dir,
        &[Duration::from_millis(100), Duration::from_millis(500)],
        Series::Read,
    )
    .map_err(|e| e.to_string())
}
