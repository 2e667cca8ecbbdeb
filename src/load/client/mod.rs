//! HTTP clients for the request loop: one connection per slot, owned by the
//! slot, no pool and no channel between the loop and the socket.
//!
//! HTTP/1.1 is written by hand (`h1`): the request is rendered into a
//! reused buffer and the response head parsed with `httparse`, which is the
//! measured hot path (see BENCHMARKS.md). HTTP/2 uses hyper's
//! per-connection client (`h2`). TLS is rustls for both. [`wire`] turns a
//! rendered request into the bytes or the `http::Request` they send.

pub(crate) mod h1;
pub(crate) mod h2;
pub(crate) mod slow;
pub(crate) mod stream;
pub(crate) mod tls;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

#[doc(hidden)]
/// Entry points for the fuzz targets `h1_response` and `h2_frames`: the
/// clients' real response handling, from bytes in memory.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::h1::fuzzing::h1_responses;
    pub use super::h2::fuzzing::h2_frames;
}
use self::h1::Phase;
pub(crate) use self::stream::Stream;
pub use self::wire::Wire;
use crate::profile::{HttpMode, Scheme, Target};
use crate::results::ErrorKind;

/// Which protocol a new connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    H1,
    H2,
}

/// Opens connections to the target: resolved address, TLS, ALPN.
#[derive(Clone)]
pub(crate) struct Connector {
    addrs: Arc<Vec<SocketAddr>>,
    tls: Option<(tokio_rustls::TlsConnector, rustls::pki_types::ServerName<'static>)>,
    mode: HttpMode,
    timeout: Duration,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("addrs", &self.addrs)
            .field("tls", &self.tls.is_some())
            .field("mode", &self.mode)
            .finish()
    }
}

/// Why the target could not be set up (before any request).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The target's host name cannot be resolved (DNS).
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The base URL's host.
        host: String,
        /// The resolver's reason.
        source: std::io::Error,
    },
    /// The host name resolves, but to no address.
    #[error("{host} resolves to no address")]
    NoAddress {
        /// The base URL's host.
        host: String,
    },
    /// The TLS client configuration cannot be built (usually the CA file).
    #[error("TLS setup: {0}")]
    Tls(#[from] crate::tls::Error),
    /// `tls.server_name` (or the host) is not a name TLS can present.
    #[error("TLS setup: `{host}` is not a valid TLS server name")]
    ServerName {
        /// The name that was tried.
        host: String,
    },
}

impl Connector {
    /// Resolve the target once and prepare TLS.
    pub async fn new(target: &Target) -> Result<Connector, SetupError> {
        let host = target.base.host.clone();
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), target.base.port))
            .await
            .map_err(|source| SetupError::Resolve {
                host: host.clone(),
                source,
            })?
            .collect();
        if addrs.is_empty() {
            return Err(SetupError::NoAddress { host });
        }
        let tls = match target.base.scheme {
            Scheme::Http => None,
            Scheme::Https => Some(tls::connector(target)?),
        };
        Ok(Connector {
            addrs: Arc::new(addrs),
            tls,
            mode: target.http,
            timeout: target.timeout,
        })
    }

    /// Open a connection; returns the stream and the protocol to speak on it,
    /// or the kind of the failure (refused, TLS, timeout).
    pub async fn connect(&self) -> Result<(Stream, Proto), ErrorKind> {
        let fut = async {
            let mut last = ErrorKind::ConnectFailed;
            for addr in self.addrs.iter() {
                match TcpStream::connect(addr).await {
                    Ok(tcp) => {
                        let _ = tcp.set_nodelay(true);
                        return match &self.tls {
                            None => Ok((
                                Stream::Plain(tcp),
                                if self.mode == HttpMode::Http2 {
                                    Proto::H2
                                } else {
                                    Proto::H1
                                },
                            )),
                            Some((connector, name)) => match connector.connect(name.clone(), tcp).await {
                                Ok(tls) => {
                                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                                    Ok((Stream::Tls(Box::new(tls)), if h2 { Proto::H2 } else { Proto::H1 }))
                                }
                                Err(e) => {
                                    tracing::debug!("TLS handshake with {addr} failed: {e}");
                                    Err(tls_kind(&e))
                                }
                            },
                        };
                    }
                    Err(e) => {
                        tracing::debug!("connect to {addr} failed: {e}");
                        last = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                            ErrorKind::Refused
                        } else {
                            ErrorKind::ConnectFailed
                        };
                    }
                }
            }
            Err(last)
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(ErrorKind::TimeoutConnect),
        }
    }
}

/// The kind of a failed TLS handshake: the certificate's dates, its trust, or the rest.
fn tls_kind(e: &std::io::Error) -> ErrorKind {
    use rustls::CertificateError as C;
    let Some(rustls::Error::InvalidCertificate(cert)) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
    else {
        return ErrorKind::TlsHandshake;
    };
    match cert {
        C::Expired | C::NotValidYet | C::ExpiredContext { .. } | C::NotValidYetContext { .. } => {
            ErrorKind::TlsCertExpired
        }
        _ => ErrorKind::TlsCertUntrusted,
    }
}

/// The kind of an I/O error during an exchange that had reached `phase`.
pub(crate) fn io_kind(e: &std::io::Error, phase: Phase) -> ErrorKind {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe => match phase {
            Phase::Connect | Phase::Request => ErrorKind::ResetBeforeResponse,
            Phase::Head => ErrorKind::ResetInHead,
            Phase::Body => ErrorKind::ResetInBody,
        },
        UnexpectedEof => match phase {
            Phase::Connect | Phase::Request => ErrorKind::EofBeforeResponse,
            Phase::Head => ErrorKind::EofInHead,
            Phase::Body => ErrorKind::EofInBody,
        },
        TimedOut => phase.timeout_kind(),
        ConnectionRefused => ErrorKind::Refused,
        _ => ErrorKind::Io,
    }
}
