//! Why a transport could not start or could not deliver (STYLE §4: one enum where the failure
//! arises, data in the fields).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::header::Transport;

/// A listener that would not start, a TLS file that would not load, or a message that could
/// not be sent.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Binding a listening socket failed (address in use, no such address, …).
    #[error("cannot listen for {} on {addr}: {source}", transport.as_str())]
    Bind {
        /// The transport of the listener.
        transport: Transport,
        /// The configured address.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A TLS or WSS listener is configured without a certificate and key.
    #[error("a {} listener needs tls_identity (certificate and key)", transport.as_str())]
    NoTlsIdentity {
        /// The transport of the listener.
        transport: Transport,
    },
    /// A PEM file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadPem {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A PEM file holds no usable item of the expected kind.
    #[error("{path} holds no {expected}")]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What was looked for: `"certificate"` or `"private key"`.
        expected: &'static str,
    },
    /// rustls refused the certificate, key or trust anchors.
    #[error("TLS configuration refused: {0}")]
    Tls(#[from] rustls::Error),
    /// No listener can send to this address family or transport (e.g. IPv6 without an IPv6
    /// UDP socket, SCTP, or WS when the peer has no open connection).
    #[error("no {} route to {addr}", transport.as_str())]
    NoRoute {
        /// The transport asked for.
        transport: Transport,
        /// The destination.
        addr: SocketAddr,
    },
    /// Outbound TLS was asked for but no trust anchors are configured (`tls_roots`).
    #[error("outbound TLS to {addr} needs tls_roots")]
    NoTlsRoots {
        /// The destination.
        addr: SocketAddr,
    },
    /// The connection's send queue is full: the peer does not read.
    #[error("send queue to {addr} is full")]
    QueueFull {
        /// The peer.
        addr: SocketAddr,
    },
    /// The global or per-address connection limit is reached.
    #[error("connection limit reached; {addr} refused")]
    TooManyConnections {
        /// The peer that was refused.
        addr: SocketAddr,
    },
    /// A send on a datagram socket failed.
    #[error("sending to {addr} failed: {source}")]
    Send {
        /// The destination.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
}
