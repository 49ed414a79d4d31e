//! TLS (RFC 3261 §26.2.1) with rustls and the ring provider: the listeners' acceptor from
//! PEM files, and the connector for outbound connections from a PEM file of trust anchors.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::{TlsIdentity, TransportError};

fn read(path: &Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|source| TransportError::ReadPem {
        path: path.to_owned(),
        source,
    })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let pem = read(path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TransportError::BadPem {
            path: path.to_owned(),
            expected: "certificate",
        });
    }
    Ok(certs)
}

/// The acceptor for TLS and WSS listeners (and the server's HTTPS listener).
pub fn acceptor(identity: &TlsIdentity) -> Result<TlsAcceptor, TransportError> {
    let certs = certificates(&identity.cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(&read(&identity.key_pem)?).map_err(|_| {
        TransportError::BadPem {
            path: identity.key_pem.clone(),
            expected: "private key",
        }
    })?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The connector for outbound TLS, trusting the certificates in `roots`.
pub(crate) fn connector(roots: &Path) -> Result<TlsConnector, TransportError> {
    let mut store = RootCertStore::empty();
    for cert in certificates(roots)? {
        store.add(cert)?;
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
