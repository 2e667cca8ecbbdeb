//! rustls client configuration from a profile's `tls` settings: the
//! system's roots plus an optional CA file, or no verification at all when
//! the profile says `verify: false`; ALPN from the HTTP mode.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::SetupError;
use crate::profile::{HttpMode, Target};

/// A TLS connector and the server name to present.
pub fn connector(target: &Target) -> Result<(tokio_rustls::TlsConnector, ServerName<'static>), SetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Tls(e.to_string()))?;
    let mut config = if target.tls.verify {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = &target.tls.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| SetupError::Tls(format!("cannot read CA file {}: {e}", path.display())))?;
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| SetupError::Tls(format!("CA file {}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| SetupError::Tls(format!("CA file {}: {e}", path.display())))?;
                n += 1;
            }
            if n == 0 {
                return Err(SetupError::Tls(format!(
                    "CA file {} holds no certificate",
                    path.display()
                )));
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    };
    config.alpn_protocols = match target.http {
        HttpMode::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        HttpMode::Http1 => vec![b"http/1.1".to_vec()],
        HttpMode::Http2 => vec![b"h2".to_vec()],
    };
    let host = target
        .tls
        .server_name
        .clone()
        .unwrap_or_else(|| target.base.host.clone());
    let name = ServerName::try_from(host.clone())
        .map_err(|_| SetupError::Tls(format!("`{host}` is not a valid TLS server name")))?;
    Ok((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
}

/// `verify: false`: accept any certificate (signatures are still checked
/// for well-formedness by the provider).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
