//! The sample service's access log, in nginx `combined`, an nginx format
//! with arrival-time variables and the tenant header, or Envoy JSON: what
//! `loadline learn`'s round-trip tests read back.
//!
//! Serving only fills an [`Entry`] and hands it to a channel; a background
//! thread formats and writes (buffered), flushing when the channel is idle
//! and when the target stops, so logging costs the request path one small
//! allocation and a channel send, never a write.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Error;

/// The `log_format` of the `nginx` access-log format: `combined` plus the
/// request's duration, the end time with milliseconds and the tenant header,
/// so that `learn` takes arrival as `$msec - $request_time`.
pub const NGINX_LOG_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $msec "$http_x_tenant_id""#;

/// Entries queued before serving waits for the writer.
const QUEUE: usize = 64 * 1024;

/// The writer flushes after this long without a new entry.
const IDLE_FLUSH: Duration = Duration::from_millis(200);

/// How the access log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLogFormat {
    /// nginx's predefined `combined`.
    Combined,
    /// [`NGINX_LOG_FORMAT`].
    Nginx,
    /// One JSON object per line with Envoy's keys and `x-tenant-id`.
    EnvoyJson,
}

impl FromStr for AccessLogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "combined" => Ok(AccessLogFormat::Combined),
            "nginx" => Ok(AccessLogFormat::Nginx),
            "envoy-json" => Ok(AccessLogFormat::EnvoyJson),
            _ => Err(format!(
                "unknown access-log format `{s}` (expected combined, nginx or envoy-json)"
            )),
        }
    }
}

/// Where and how to write the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogConfig {
    /// The file, appended to (created if missing).
    pub path: PathBuf,
    /// The line format.
    pub format: AccessLogFormat,
}

/// One served request, as the log needs it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) peer: IpAddr,
    pub(crate) start: SystemTime,
    pub(crate) duration: Duration,
    pub(crate) method: http::Method,
    pub(crate) version: http::Version,
    pub(crate) target: String,
    /// 0 when the connection was reset instead of answered.
    pub(crate) status: u16,
    pub(crate) request_bytes: u64,
    pub(crate) response_bytes: u64,
    pub(crate) user_agent: Option<String>,
    pub(crate) tenant: Option<String>,
}

enum Msg {
    Entry(Box<Entry>),
    Stop,
}

/// The serving side: queues entries for the writer thread.
#[derive(Debug)]
pub(crate) struct AccessLog {
    tx: SyncSender<Msg>,
}

impl AccessLog {
    pub(crate) fn log(&self, entry: Entry) {
        // The writer only goes away after serving has stopped.
        let _ = self.tx.send(Msg::Entry(Box::new(entry)));
    }
}

/// The writer thread, stopped (and the file flushed) by [`Writer::finish`].
#[derive(Debug)]
pub(crate) struct Writer {
    tx: SyncSender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Open the file and start the writer thread.
    pub(crate) fn start(config: &AccessLogConfig) -> Result<(Writer, AccessLog), Error> {
        let err = |source| Error::AccessLog {
            path: config.path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.path)
            .map_err(err)?;
        let (tx, rx) = sync_channel(QUEUE);
        let format = config.format;
        let thread = std::thread::Builder::new()
            .name("loadline-target-access-log".into())
            .spawn(move || write_loop(&rx, BufWriter::with_capacity(256 * 1024, file), format))
            .map_err(err)?;
        Ok((
            Writer {
                tx: tx.clone(),
                thread: Some(thread),
            },
            AccessLog { tx },
        ))
    }

    /// Write what is queued, flush, and stop the thread.
    pub(crate) fn finish(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("sample target: the access-log writer panicked");
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.finish();
    }
}

fn write_loop(rx: &Receiver<Msg>, mut out: BufWriter<std::fs::File>, format: AccessLogFormat) {
    let mut line = String::with_capacity(512);
    let mut failed = false;
    loop {
        let msg = match rx.recv_timeout(IDLE_FLUSH) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                failed |= report(out.flush(), failed);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => Msg::Stop,
        };
        match msg {
            Msg::Entry(entry) => {
                line.clear();
                format_line(&mut line, &entry, format);
                failed |= report(out.write_all(line.as_bytes()), failed);
            }
            Msg::Stop => {
                report(out.flush(), failed);
                return;
            }
        }
    }
}

/// Warn about the first write error only; returns whether this one failed.
fn report(result: std::io::Result<()>, already: bool) -> bool {
    match result {
        Ok(()) => false,
        Err(e) => {
            if !already {
                tracing::warn!("sample target: cannot write the access log: {e}");
            }
            true
        }
    }
}

/// nginx's escaping of logged strings: `"`, `\` and bytes outside
/// printable ASCII as `\xHH`; empty is `-`.
fn nginx_str(out: &mut String, s: Option<&str>) {
    match s {
        None | Some("") => out.push('-'),
        Some(s) => {
            for b in s.bytes() {
                if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
                    let _ = write!(out, "\\x{b:02X}");
                } else {
                    out.push(b as char);
                }
            }
        }
    }
}

fn unix(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `10/Oct/2000:13:55:36 +0000` (UTC).
fn time_local(out: &mut String, t: SystemTime) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = unix(t).as_secs() as i64;
    let (y, m, d) = crate::dates::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{d:02}/{}/{y:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[(m as usize).saturating_sub(1) % 12],
        s / 3600,
        s / 60 % 60,
        s % 60
    );
}

fn format_line(out: &mut String, e: &Entry, format: AccessLogFormat) {
    let end = e.start + e.duration;
    let status = if e.status == 0 { 444 } else { e.status };
    if format == AccessLogFormat::EnvoyJson {
        return envoy_json(out, e);
    }
    let _ = write!(out, "{} - - [", e.peer);
    time_local(out, end);
    let _ = write!(out, "] \"{} ", e.method);
    nginx_str(out, Some(&e.target));
    let _ = write!(out, " {:?}\" {status} {} \"-\" \"", e.version, e.response_bytes);
    nginx_str(out, e.user_agent.as_deref());
    out.push('"');
    if format == AccessLogFormat::Nginx {
        let end = unix(end);
        let _ = write!(
            out,
            " {:.3} {}.{:03} \"",
            e.duration.as_secs_f64(),
            end.as_secs(),
            end.subsec_millis()
        );
        nginx_str(out, e.tenant.as_deref());
        out.push('"');
    }
    out.push('\n');
}

fn envoy_json(out: &mut String, e: &Entry) {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        start_time: String,
        method: &'a str,
        path: &'a str,
        protocol: String,
        response_code: u16,
        bytes_received: u64,
        bytes_sent: u64,
        duration: u128,
        downstream_remote_address: String,
        user_agent: Option<&'a str>,
        #[serde(rename = "x-tenant-id")]
        tenant: Option<&'a str>,
    }
    let line = Line {
        start_time: crate::dates::rfc3339(e.start, 3),
        method: e.method.as_str(),
        path: &e.target,
        protocol: format!("{:?}", e.version),
        response_code: e.status,
        bytes_received: e.request_bytes,
        bytes_sent: e.response_bytes,
        duration: e.duration.as_millis(),
        downstream_remote_address: e.peer.to_string(),
        user_agent: e.user_agent.as_deref(),
        tenant: e.tenant.as_deref(),
    };
    if let Ok(json) = serde_json::to_string(&line) {
        out.push_str(&json);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_the_real_thing() {
        let entry = Entry {
            peer: IpAddr::from([127, 0, 0, 1]),
            start: UNIX_EPOCH + Duration::from_millis(971_211_336_250),
            duration: Duration::from_millis(250),
            method: http::Method::GET,
            version: http::Version::HTTP_11,
            target: "/t/acme/search?q=\"x\"".into(),
            status: 200,
            request_bytes: 0,
            response_bytes: 61,
            user_agent: Some("curl/8".into()),
            tenant: Some("acme".into()),
        };
        let mut s = String::new();
        format_line(&mut s, &entry, AccessLogFormat::Nginx);
        assert_eq!(
            s,
            "127.0.0.1 - - [10/Oct/2000:20:55:36 +0000] \"GET /t/acme/search?q=\\x22x\\x22 HTTP/1.1\" 200 61 \"-\" \"curl/8\" 0.250 971211336.500 \"acme\"\n"
        );
        s.clear();
        format_line(&mut s, &entry, AccessLogFormat::EnvoyJson);
        assert!(
            s.starts_with(
                r#"{"start_time":"2000-10-10T20:55:36.250Z","method":"GET","path":"/t/acme/search?q=\"x\"","#
            ),
            "{s}"
        );
    }
}
