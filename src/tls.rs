//! rustls client configurations shared by every part that speaks TLS (the
//! load engine's HTTPS, the PostgreSQL seeder): the system's roots plus an
//! optional CA file, and the weaker modes people ask for by name (no
//! verification, as `verify: false` or libpq's `sslmode=require`; chain but
//! not host name, as libpq's `verify-ca`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{VerifierBuilderError, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// How much of the server's certificate to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Nothing: encryption without authentication.
    Nothing,
    /// The chain up to a trusted root, not the host name.
    Chain,
    /// The chain and the host name (the default for HTTPS).
    Full,
}

/// Why a TLS client configuration could not be built. Most often the CA
/// file: it names the file, which the user fixes or replaces.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// rustls refused the crypto provider's protocol versions (a build
    /// problem, not the user's).
    #[error(transparent)]
    Protocols(rustls::Error),
    /// The certificate verifier could not be built from the roots (for
    /// example, no root at all to check a chain against).
    #[error(transparent)]
    Verifier(VerifierBuilderError),
    /// The CA file cannot be read.
    #[error("cannot read CA file {}: {source}", path.display())]
    ReadCaFile {
        /// The CA file, as given.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The CA file is not valid PEM.
    #[error("CA file {}: {source}", path.display())]
    CaFilePem {
        /// The CA file, as given.
        path: PathBuf,
        /// What is wrong with the PEM.
        source: rustls::pki_types::pem::Error,
    },
    /// A certificate of the CA file is not acceptable as a trust root.
    #[error("CA file {}: {source}", path.display())]
    CaFileCertificate {
        /// The CA file, as given.
        path: PathBuf,
        /// Why rustls refused the certificate.
        source: rustls::Error,
    },
    /// The CA file holds no `CERTIFICATE` block (a key, or an empty file).
    #[error("CA file {} holds no certificate", path.display())]
    NoCertificate {
        /// The CA file, as given.
        path: PathBuf,
    },
}

/// A client configuration (no ALPN set). `ca_file` adds its certificates to
/// the system's roots; it is not read with [`Verify::Nothing`].
pub fn client_config(verify: Verify, ca_file: Option<&Path>) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(Error::Protocols)?;
    if verify == Verify::Nothing {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth());
    }
    let roots = Arc::new(roots(ca_file)?);
    if verify == Verify::Full {
        return Ok(builder.with_root_certificates(roots).with_no_client_auth());
    }
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(Error::Verifier)?;
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
        .with_no_client_auth())
}

/// The system's roots, plus every certificate of `ca_file`.
fn roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| Error::ReadCaFile {
            path: path.to_path_buf(),
            source,
        })?;
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|source| Error::CaFilePem {
                path: path.to_path_buf(),
                source,
            })?;
            roots.add(cert).map_err(|source| Error::CaFileCertificate {
                path: path.to_path_buf(),
                source,
            })?;
            n += 1;
        }
        if n == 0 {
            return Err(Error::NoCertificate {
                path: path.to_path_buf(),
            });
        }
    }
    Ok(roots)
}

/// Accept any certificate (handshake signatures are still checked).
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

/// The full check, except that a certificate for another host name passes.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
