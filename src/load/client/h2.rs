//! HTTP/2 over one connection with hyper's per-connection client (no pool):
//! h2c with prior knowledge on `http://`, ALPN `h2` on `https://`. Several
//! request slots may share one connection (`target.streams`).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::Stream;
use crate::results::ErrorKind;

/// One HTTP/2 connection; cheap to clone (clones share the connection).
#[derive(Debug, Clone)]
pub struct H2Conn {
    send: SendRequest<Full<Bytes>>,
}

impl H2Conn {
    /// Run the HTTP/2 handshake on a fresh stream; the connection task runs
    /// on the current runtime.
    pub async fn handshake(stream: Stream) -> Result<H2Conn, ErrorKind> {
        let (send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| {
                tracing::debug!("HTTP/2 handshake failed: {e}");
                ErrorKind::H2Handshake
            })?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("HTTP/2 connection ended: {e}");
            }
        });
        Ok(H2Conn { send })
    }

    pub fn is_usable(&self) -> bool {
        !self.send.is_closed()
    }

    /// Send one request and read its whole response; returns the status.
    /// `progress` says how far it got, also when the caller's timeout
    /// drops this future.
    pub async fn exchange(&mut self, req: http::Request<Bytes>, progress: &mut Progress) -> Result<u16, ErrorKind> {
        *progress = Progress::default();
        self.send.ready().await.map_err(|e| hyper_kind(&e, progress))?;
        let resp = self
            .send
            .send_request(req.map(Full::new))
            .await
            .map_err(|e| hyper_kind(&e, progress))?;
        progress.in_body = true;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| hyper_kind(&e, progress))?;
        }
        Ok(status)
    }
}

/// How far one HTTP/2 exchange got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// The response head had come (a timeout is then `timeout_body`).
    pub in_body: bool,
    /// The server said it never processed the request: its stream was
    /// above a graceful GOAWAY's last stream id, or refused with
    /// REFUSED_STREAM (RFC 9113, 6.8 and 8.7). Any method may be sent
    /// again on another connection.
    pub unprocessed: bool,
}

impl Progress {
    /// The kind of a timeout at this point of the exchange.
    pub fn timeout_kind(&self) -> ErrorKind {
        if self.in_body {
            ErrorKind::TimeoutBody
        } else {
            ErrorKind::TimeoutHead
        }
    }
}

/// The kind of a failed HTTP/2 exchange, from the h2 error under hyper's
/// when there is one (GOAWAY, RST_STREAM and its reason); records in
/// `progress` whether the server never processed the request.
fn hyper_kind(e: &hyper::Error, progress: &mut Progress) -> ErrorKind {
    let in_body = progress.in_body;
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h2e) = s.downcast_ref::<h2::Error>() {
            let kind = h2_kind(h2e, in_body);
            // A graceful GOAWAY fails only the streams above its last
            // stream id; one with an error reason tears down every stream,
            // processed or not.
            progress.unprocessed = !in_body
                && h2e.is_remote()
                && ((h2e.is_go_away() && h2e.reason() == Some(h2::Reason::NO_ERROR))
                    || (h2e.is_reset() && h2e.reason() == Some(h2::Reason::REFUSED_STREAM)));
            return kind;
        }
        source = s.source();
    }
    if e.is_timeout() {
        if in_body {
            ErrorKind::TimeoutBody
        } else {
            ErrorKind::TimeoutHead
        }
    } else if e.is_closed() || e.is_incomplete_message() || e.is_canceled() {
        if in_body {
            ErrorKind::EofInBody
        } else {
            ErrorKind::EofBeforeResponse
        }
    } else {
        ErrorKind::H2Protocol
    }
}

fn h2_kind(e: &h2::Error, in_body: bool) -> ErrorKind {
    if e.is_go_away() {
        return if e.reason() == Some(h2::Reason::NO_ERROR) || e.is_remote() {
            ErrorKind::H2Goaway
        } else {
            ErrorKind::H2Protocol
        };
    }
    if e.is_reset() {
        return match e.reason() {
            Some(h2::Reason::REFUSED_STREAM) => ErrorKind::H2RefusedStream,
            Some(h2::Reason::PROTOCOL_ERROR | h2::Reason::FRAME_SIZE_ERROR | h2::Reason::COMPRESSION_ERROR)
                if !e.is_remote() =>
            {
                ErrorKind::H2Protocol
            }
            _ => ErrorKind::H2RstStream,
        };
    }
    if let Some(io) = e.get_io() {
        return super::io_kind(
            io,
            if in_body {
                super::h1::Phase::Body
            } else {
                super::h1::Phase::Request
            },
        );
    }
    ErrorKind::H2Protocol
}
