//! HTTP/2 over one connection with hyper's per-connection client (no pool):
//! h2c with prior knowledge on `http://`, ALPN `h2` on `https://`. Several
//! request slots may share one connection (`target.streams`).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::Stream;
use crate::results::Outcome;

/// One HTTP/2 connection; cheap to clone (clones share the connection).
#[derive(Debug, Clone)]
pub struct H2Conn {
    send: SendRequest<Full<Bytes>>,
}

impl H2Conn {
    /// Run the HTTP/2 handshake on a fresh stream; the connection task runs
    /// on the current runtime.
    pub async fn handshake(stream: Stream) -> Result<H2Conn, Outcome> {
        let (send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| {
                tracing::debug!("HTTP/2 handshake failed: {e}");
                Outcome::Connect
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
    pub async fn exchange(&mut self, req: http::Request<Bytes>) -> Result<u16, Outcome> {
        self.send.ready().await.map_err(|e| hyper_outcome(&e))?;
        let resp = self
            .send
            .send_request(req.map(Full::new))
            .await
            .map_err(|e| hyper_outcome(&e))?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| hyper_outcome(&e))?;
        }
        Ok(status)
    }
}

fn hyper_outcome(e: &hyper::Error) -> Outcome {
    if e.is_timeout() {
        Outcome::Timeout
    } else if e.is_closed() || e.is_incomplete_message() || e.is_canceled() {
        Outcome::Reset
    } else {
        // A stream reset by the server (RST_STREAM) or a GOAWAY shows up
        // as an h2 error; both are resets from the client's point of view.
        let text = e.to_string();
        if text.contains("reset") || text.contains("GOAWAY") || text.contains("broken pipe") {
            Outcome::Reset
        } else {
            Outcome::Other
        }
    }
}
