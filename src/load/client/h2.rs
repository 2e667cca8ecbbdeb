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
    pub async fn exchange(&mut self, req: http::Request<Bytes>) -> Result<u16, ErrorKind> {
        self.send.ready().await.map_err(|e| hyper_kind(&e, false))?;
        let resp = self
            .send
            .send_request(req.map(Full::new))
            .await
            .map_err(|e| hyper_kind(&e, false))?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| hyper_kind(&e, true))?;
        }
        Ok(status)
    }
}

/// The kind of a failed HTTP/2 exchange, from the h2 error under hyper's
/// when there is one (GOAWAY, RST_STREAM and its reason); `in_body`: the
/// response head had come.
fn hyper_kind(e: &hyper::Error, in_body: bool) -> ErrorKind {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h2e) = s.downcast_ref::<h2::Error>() {
            return h2_kind(h2e, in_body);
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
