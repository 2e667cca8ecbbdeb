//! Why a request failed, finer than its [`Outcome`] class: what the server
//! (or the network) did, as the client saw it. The class stays the key of
//! the latency histograms; the kind is only counted (`errors_by_kind` in
//! the summary), so a night's run against a flaky staging environment says
//! *which* fault it met, not just "reset". Names are stable: gates and
//! dashboards key on them (docs/results.md has the table).

use std::fmt;

use super::Outcome;

/// The kind of a failed request. Each belongs to one [`Outcome`] class ([`ErrorKind::outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum ErrorKind {
    /// `connect`: nothing listens on the port (TCP RST to the SYN).
    Refused,
    /// `connect`: the TCP connection failed otherwise (unreachable, no route).
    ConnectFailed,
    /// `connect`: the TLS handshake failed (protocol, alert, ALPN).
    TlsHandshake,
    /// `connect`: the server's certificate has expired (or is not yet valid).
    TlsCertExpired,
    /// `connect`: the server's certificate is not trusted (unknown CA, wrong name).
    TlsCertUntrusted,
    /// `connect`: the HTTP/2 handshake (preface, SETTINGS) failed.
    H2Handshake,
    /// `timeout`: no connection within the timeout (SYN or TLS unanswered).
    TimeoutConnect,
    /// `timeout`: connected, but no complete response head within the timeout.
    TimeoutHead,
    /// `timeout`: the head came, the body did not finish within the timeout.
    TimeoutBody,
    /// `reset`: RST (or a failed write) before any byte of the response.
    ResetBeforeResponse,
    /// `reset`: RST while the response head was arriving.
    ResetInHead,
    /// `reset`: RST while the body was arriving.
    ResetInBody,
    /// `reset`: the server closed (FIN) before any byte of the response.
    EofBeforeResponse,
    /// `reset`: the server closed in the middle of the response head.
    EofInHead,
    /// `reset`: the server closed before the body's framing was complete.
    EofInBody,
    /// `reset`: HTTP/2 GOAWAY ended the connection under an open stream.
    H2Goaway,
    /// `reset`: HTTP/2 RST_STREAM on the request's stream.
    H2RstStream,
    /// `reset`: HTTP/2 RST_STREAM(REFUSED_STREAM): the server took none of it.
    H2RefusedStream,
    /// `other`: the reply is not HTTP at all (another protocol, garbage).
    NonHttpReply,
    /// `other`: `HTTP/` but a malformed status line (version, code).
    BadStatusLine,
    /// `other`: a malformed header line.
    BadHeader,
    /// `other`: the head is larger than the client's buffer (64 KiB) or has too many headers.
    HeadTooLarge,
    /// `other`: a Content-Length that is not a number.
    BadContentLength,
    /// `other`: a chunked body with a malformed chunk size or chunk end.
    BadChunkSize,
    /// `other`: a status outside 100–599, or a 1xx where a final status was due.
    BadStatus,
    /// `other`: `101 Switching Protocols` to a request that asked for no upgrade.
    UpgradeRefused,
    /// `other`: an HTTP/2 protocol error (a frame the client could not accept).
    H2Protocol,
    /// `other`: the request could not be built for HTTP/2.
    BadRequest,
    /// `other`: any other I/O error.
    Io,
}

impl ErrorKind {
    /// Every kind, in index order.
    pub const ALL: [ErrorKind; 29] = [
        ErrorKind::Refused,
        ErrorKind::ConnectFailed,
        ErrorKind::TlsHandshake,
        ErrorKind::TlsCertExpired,
        ErrorKind::TlsCertUntrusted,
        ErrorKind::H2Handshake,
        ErrorKind::TimeoutConnect,
        ErrorKind::TimeoutHead,
        ErrorKind::TimeoutBody,
        ErrorKind::ResetBeforeResponse,
        ErrorKind::ResetInHead,
        ErrorKind::ResetInBody,
        ErrorKind::EofBeforeResponse,
        ErrorKind::EofInHead,
        ErrorKind::EofInBody,
        ErrorKind::H2Goaway,
        ErrorKind::H2RstStream,
        ErrorKind::H2RefusedStream,
        ErrorKind::NonHttpReply,
        ErrorKind::BadStatusLine,
        ErrorKind::BadHeader,
        ErrorKind::HeadTooLarge,
        ErrorKind::BadContentLength,
        ErrorKind::BadChunkSize,
        ErrorKind::BadStatus,
        ErrorKind::UpgradeRefused,
        ErrorKind::H2Protocol,
        ErrorKind::BadRequest,
        ErrorKind::Io,
    ];
    /// The number of kinds.
    pub const COUNT: usize = Self::ALL.len();

    /// The outcome class the kind's latency is recorded under.
    pub fn outcome(self) -> Outcome {
        use ErrorKind::*;
        match self {
            Refused | ConnectFailed | TlsHandshake | TlsCertExpired | TlsCertUntrusted | H2Handshake => {
                Outcome::Connect
            }
            TimeoutConnect | TimeoutHead | TimeoutBody => Outcome::Timeout,
            ResetBeforeResponse | ResetInHead | ResetInBody | EofBeforeResponse | EofInHead | EofInBody | H2Goaway
            | H2RstStream | H2RefusedStream => Outcome::Reset,
            NonHttpReply | BadStatusLine | BadHeader | HeadTooLarge | BadContentLength | BadChunkSize | BadStatus
            | UpgradeRefused | H2Protocol | BadRequest | Io => Outcome::Other,
        }
    }

    /// Position in [`ErrorKind::ALL`], for per-kind arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind's name in summaries and tables (`reset_in_body`, ...).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The kind named `s` (as [`ErrorKind::name`] writes it).
    pub fn parse(s: &str) -> Option<ErrorKind> {
        s.parse().ok()
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind is listed once, in index order, and its name parses back.
    #[test]
    fn all_is_in_index_order_and_names_parse_back() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(ErrorKind::parse(k.name()), Some(*k));
            assert!(k.outcome().is_error(), "{k}");
        }
        assert_eq!(ErrorKind::TimeoutHead.name(), "timeout_head");
        assert_eq!(ErrorKind::H2RstStream.name(), "h2_rst_stream");
    }
}
