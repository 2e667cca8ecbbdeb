//! The YAML loaders: profiles, synth schemas and gate policies (scrub's
//! rules are `scrub::fuzzing::rules`).

use std::path::Path;
use std::sync::Arc;

use super::{ensure, names_file_and_line, Violation};
use crate::gate;
use crate::profile::{self, Overrides, RequestBuf, RequestPlan};
use crate::results::run::Run;
use crate::synth::{self, batch::RowBatch, Generator};
use crate::yaml::FileError;

/// The path every YAML target's text is read as: a folder that does not
/// exist, so relative file names (CSV variables, `from_schema`, weights)
/// resolve to nothing.
pub const ORIGIN: &str = "/nonexistent/loadline-fuzz";

/// Texts naming these are skipped: a profile or schema may read a file
/// by an absolute name, and `/dev/zero` or `/dev/stdin` would never end.
const UNREADABLE: [&str; 3] = ["/dev", "/proc", "/sys"];

/// Requests rendered from an accepted profile.
pub const REQUESTS: u64 = 8;
/// Rows of each table generated from an accepted schema (each table is
/// cut to this many rows first, so a fuzzed `rows: 1e9` costs nothing).
pub const ROWS: u64 = 16;
/// Tenants above which an accepted profile is not rendered: the request
/// plan spells every tenant id up front (up to 100 million, gigabytes).
pub const MAX_RENDERED_TENANTS: u32 = 100_000;

fn skipped(text: &str) -> bool {
    UNREADABLE.iter().any(|d| text.contains(d))
}

/// A file error names the file read and a line of it (1 or more), or is an
/// I/O error naming another file the text pointed at.
fn file_error(e: &FileError, path: &Path) -> Result<(), Violation> {
    let message = e.to_string();
    match e {
        FileError::Io { .. } => ensure!(!message.is_empty(), "an empty I/O error"),
        FileError::Syntax { .. } | FileError::Invalid { .. } => ensure!(
            names_file_and_line(&message, &path.display().to_string()),
            "an error without the file and a line: {message:?}"
        ),
    }
    Ok(())
}

/// Load `text` as a profile (as `loadline run --dry-run` does, every
/// check included); a rejection must name the file and a line, and an
/// accepted profile renders [`REQUESTS`] requests.
pub fn profile(text: &str) -> Result<(), Violation> {
    if skipped(text) {
        return Ok(());
    }
    let path = Path::new(ORIGIN).join("profile.yaml");
    let p = match profile::from_str(text, &path, &Overrides::default()) {
        Ok(p) => p,
        Err(profile::Error::File(e)) => return file_error(&e, &path),
        Err(e) => return Err(Violation(format!("a profile error that is not about the file: {e}"))),
    };
    ensure!(!p.endpoints.is_empty(), "a profile without endpoints loaded");
    ensure!(p.warmup < p.duration, "a warm-up not shorter than the duration loaded");
    if p.tenants.as_ref().is_some_and(|t| t.count > MAX_RENDERED_TENANTS) {
        return Ok(());
    }
    let n_ep = p.endpoints.len();
    let plan = RequestPlan::new(Arc::new(p));
    let mut buf = RequestBuf::default();
    for i in 0..REQUESTS {
        plan.render(i, &mut buf);
        ensure!(
            buf.endpoint < n_ep,
            "request {i} went to endpoint {} of {n_ep}",
            buf.endpoint
        );
        request_is_well_formed(i, &buf)?;
    }
    Ok(())
}

/// A rendered request cannot break its HTTP/1.1 framing: a path without
/// spaces or control bytes; header lines `Name: value`, each ended by
/// CRLF, with no other CR or LF.
fn request_is_well_formed(i: u64, buf: &RequestBuf) -> Result<(), Violation> {
    ensure!(
        !buf.path.iter().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()),
        "request {i}'s path has a space or a control byte: {:?}",
        String::from_utf8_lossy(&buf.path)
    );
    let Some(block) = buf.headers.strip_suffix(b"\r\n") else {
        ensure!(buf.headers.is_empty(), "request {i}'s headers do not end in CRLF");
        return Ok(());
    };
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        ensure!(
            !line.contains(&b'\r') && line.contains(&b':'),
            "request {i}'s header block has a line that is not `Name: value`: {:?}",
            String::from_utf8_lossy(&buf.headers)
        );
    }
    ensure!(
        block.split(|b| *b == b'\n').count() == block.windows(2).filter(|w| w == b"\r\n").count() + 1,
        "request {i}'s header block has a bare LF: {:?}",
        String::from_utf8_lossy(&buf.headers)
    );
    Ok(())
}

/// Load `text` as a synth schema; a rejection must name the file and a
/// line; an accepted schema, each table cut to [`ROWS`] rows, generates
/// every row of every table.
pub fn schema(text: &str) -> Result<(), Violation> {
    if skipped(text) {
        return Ok(());
    }
    let path = Path::new(ORIGIN).join("schema.yaml");
    let mut s = match synth::schema::from_str(text, &path, &synth::schema::Options::default()) {
        Ok(s) => s,
        Err(synth::schema::Error::File(e)) => return file_error(&e, &path),
        Err(e) => return Err(Violation(format!("a schema error that is not about the file: {e}"))),
    };
    for t in &mut s.tables {
        t.rows = t.rows.min(ROWS);
    }
    let Ok(g) = Generator::new(s) else {
        // A unique column that cannot have that many values: refused.
        return Ok(());
    };
    let mut batch = RowBatch::default();
    for (ti, t) in g.schema().tables.iter().enumerate() {
        let n = usize::try_from(t.rows).unwrap_or(0);
        g.fill(ti, 0, n, &mut batch);
        ensure!(
            batch.cells.len() == n * t.columns.len(),
            "table {}: {} cells for {n} rows of {} columns",
            t.name,
            batch.cells.len(),
            t.columns.len()
        );
    }
    Ok(())
}

/// Load `text` as a gate policy; a rejection must name the file and a
/// line; an accepted policy is evaluated for each of its environments on
/// `run` alone and against itself as the baseline.
pub fn policy(text: &str, run: &Run) -> Result<(), Violation> {
    let path = Path::new(ORIGIN).join("gate.yaml");
    let policy = match gate::policy::from_str(text, &path) {
        Ok(p) => p,
        Err(e) => {
            let message = e.to_string();
            ensure!(
                names_file_and_line(&message, &path.display().to_string()),
                "an error without the file and a line: {message:?}"
            );
            return Ok(());
        }
    };
    for env in policy.environments.keys() {
        let mut opts = gate::Options::new(env);
        opts.replicates = 20;
        for baseline in [None, Some(run)] {
            // An error (a check naming an endpoint the run lacks) is fine.
            if let Ok(v) = gate::evaluate(&policy, run, baseline, &opts) {
                let _ = gate::render::table(&v, false);
                let _ = gate::render::junit(&v);
            }
        }
    }
    Ok(())
}
