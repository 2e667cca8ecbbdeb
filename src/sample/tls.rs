//! HTTPS for the sample service: a fresh self-signed certificate per server.
//!
//! A certificate made at start (for `localhost` and the loopback addresses)
//! means no key material in the repository and nothing to expire; the
//! caller gets the certificate's PEM to trust, exactly as a staging client
//! would be pointed at a private CA. ALPN offers `h2` first so TLS clients
//! that can speak HTTP/2 do, as they would against a real edge.

use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::Error;

/// The server side of TLS, and the certificate a client must trust.
pub(crate) struct SelfSigned {
    pub(crate) cert_pem: String,
    pub(crate) config: Arc<rustls::ServerConfig>,
}

/// Why the sample target's certificate or TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The self-signed certificate could not be generated.
    #[error("{0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the protocol versions or the certificate.
    #[error("{0}")]
    Config(#[from] rustls::Error),
}

/// A self-signed certificate; `expired`: valid only on 1–2 January 2000,
/// for the expired-certificate fault (a client that checks dates refuses it).
pub(crate) fn self_signed(expired: bool) -> Result<SelfSigned, Error> {
    let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| Error::Tls(e.into()))?;
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2000, 1, 2);
    }
    let signing_key = rcgen::KeyPair::generate().map_err(|e| Error::Tls(e.into()))?;
    let cert = params.self_signed(&signing_key).map_err(|e| Error::Tls(e.into()))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    // An explicit provider, so this works whatever process-wide default
    // another part of the program did or did not install.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.into()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .map_err(|e| Error::Tls(e.into()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(SelfSigned {
        cert_pem: cert.pem(),
        config: Arc::new(config),
    })
}
