//! rustls client configuration from a profile's `tls` settings: the
//! system's roots plus an optional CA file, or no verification at all when
//! the profile says `verify: false` (see [`crate::tls`]); ALPN from the
//! HTTP mode.

use std::sync::Arc;

use rustls::pki_types::ServerName;

use super::SetupError;
use crate::profile::{HttpMode, Target};
use crate::tls::{client_config, Verify};

/// A TLS connector and the server name to present.
pub fn connector(target: &Target) -> Result<(tokio_rustls::TlsConnector, ServerName<'static>), SetupError> {
    let verify = if target.tls.verify {
        Verify::Full
    } else {
        Verify::Nothing
    };
    let mut config = client_config(verify, target.tls.ca_file.as_deref())?;
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
    let name = ServerName::try_from(host.clone()).map_err(|_| SetupError::ServerName { host: host.clone() })?;
    Ok((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
}
