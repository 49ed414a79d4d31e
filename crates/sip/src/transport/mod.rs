//! Transports (RFC 3261 §18) on tokio: UDP, TCP, TLS and WebSocket (RFC 7118) listeners,
//! a table of open connections so responses and in-dialog requests reuse the connection a
//! request came in on, and RFC 3263 target resolution ([`resolve`]).
//!
//! Every socket is read on its own task: a UDP socket by one task that drains it in batches,
//! each connection by one task that also writes to it. Readers parse, stamp the top Via
//! (RFC 3261 §18.2.1 `received`, RFC 3581 `rport`) and hand the message to the endpoint's
//! transaction task through a bounded queue (UDP readers first offer it to the endpoint's
//! `Inlet`, which feeds requests to the transaction layer on the reader's task); a malformed request is answered (400 with the
//! parser's reason) or dropped right there, so a flood of garbage costs the reader, never the
//! transaction layer. A connection that sends an incomplete message too slowly, idles too
//! long or never finishes its TLS/WebSocket handshake is closed ([`Limits`]).
//!
//! Not covered: SCTP, STUN keep-alives on UDP (RFC 5626 §4.4.2), TLS client certificates,
//! outbound WebSocket connections, choosing among several UDP sockets of one address family
//! (the first one sends).

mod connection;
mod error;
mod inbound;
mod keepalive;
pub mod resolve;
mod stream;
mod tcp;
mod tls;
mod udp;
mod ws;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

pub use crate::header::Transport;
pub use error::TransportError;
pub use resolve::{
    DnsLookup, HickoryLookup, NaptrRecord, Query, ResolveError, Resolver, SrvRecord, Target,
};
pub use tls::acceptor as tls_acceptor;

use crate::transaction::{Received, TransactionKey, Transmit};
use crate::MAX_MESSAGE_SIZE;
use connection::{Connections, Outbound};
use inbound::Policy;
use tcp::Upgrade;

/// Certificate chain and private key for the TLS and WSS listeners, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsIdentity {
    /// The certificate chain, leaf first.
    pub cert_pem: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: PathBuf,
}

/// Which listeners to open and how to treat peers. Port 0 picks a free port; the bound
/// addresses are reported by [`crate::endpoint::Endpoint::local_addrs`].
#[derive(Debug, Clone, Default)]
pub struct TransportConfig {
    /// UDP sockets.
    pub udp: Vec<SocketAddr>,
    /// TCP listeners.
    pub tcp: Vec<SocketAddr>,
    /// TLS listeners (need `tls_identity`).
    pub tls: Vec<SocketAddr>,
    /// WebSocket listeners (RFC 7118, subprotocol `sip`).
    pub ws: Vec<SocketAddr>,
    /// Secure WebSocket listeners (need `tls_identity`).
    pub wss: Vec<SocketAddr>,
    /// Certificate and key for TLS and WSS listeners.
    pub tls_identity: Option<TlsIdentity>,
    /// PEM file of trust anchors for outbound TLS; without it no TLS connection is opened.
    pub tls_roots: Option<PathBuf>,
    /// Answer UDP requests at their source port even without `rport` (NAT-friendly, like
    /// Kamailio's `force_rport`). Off: RFC 3261 §18.2.2, the Via sent-by port.
    pub force_rport: bool,
    /// Sizes, time-outs and connection limits.
    pub limits: Limits,
}

impl TransportConfig {
    /// UDP and TCP on the same address (the `--sip` contract).
    pub fn udp_tcp(addr: SocketAddr) -> Self {
        Self {
            udp: vec![addr],
            tcp: vec![addr],
            ..Self::default()
        }
    }
}

/// Bounds that keep one peer from starving the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted on any transport (RFC 3261 §18.1.1); larger requests get
    /// 513 when a response can be formed. Never above [`MAX_MESSAGE_SIZE`] on streams.
    pub max_message_size: usize,
    /// Open connections (inbound and outbound, all stream transports together).
    pub max_connections: usize,
    /// Open connections from or to one IP address.
    pub max_connections_per_ip: usize,
    /// A connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// An incomplete message must be complete within this time (slow-loris guard); also
    /// bounds each write to a peer.
    pub message_timeout: Duration,
    /// TCP connect, TLS and WebSocket handshakes must finish within this time.
    pub handshake_timeout: Duration,
    /// Messages queued for one connection before sends to it fail (a peer that does not
    /// read; generous, as a busy machine may not run the writer for tens of milliseconds).
    pub write_queue: usize,
    /// Received messages queued for the transaction layer; a full queue drops UDP
    /// datagrams (the peer retransmits) and slows stream readers.
    pub receive_queue: usize,
    /// Kernel receive and send buffer asked for each UDP socket, in bytes.
    pub udp_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: MAX_MESSAGE_SIZE,
            max_connections: 10_000,
            max_connections_per_ip: 256,
            idle_timeout: Duration::from_secs(600),
            message_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            write_queue: 2048,
            receive_queue: 8192,
            udp_buffer: 4 * 1024 * 1024,
        }
    }
}

/// Counters for monitoring; all but `connections` count since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Messages handed to the transaction layer.
    pub received: u64,
    /// Messages that did not parse (answered or dropped).
    pub malformed: u64,
    /// Datagrams dropped because the transaction layer's queue was full.
    pub overload_dropped: u64,
    /// Connections open now.
    pub connections: usize,
    /// Connections refused by a connection limit.
    pub connections_refused: u64,
    /// Connections closed for a slow or idle peer or a failed handshake.
    pub connections_timed_out: u64,
}

/// What readers hand to the transaction task.
#[derive(Debug)]
pub(crate) enum NetInput {
    /// A parsed message with its source.
    Received(Received),
    /// A message of this transaction could not be delivered.
    Failed(TransactionKey),
}

/// Takes received UDP messages on the reader's task, so that the common request does not
/// travel to the endpoint task first (see `endpoint::inlet`).
pub(crate) trait Inlet: Send + Sync {
    /// Handles `received` now, or hands it back for the endpoint task's queue.
    fn take(&self, received: Received) -> Option<Received>;
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    malformed: AtomicU64,
    overload_dropped: AtomicU64,
    connections_refused: AtomicU64,
    connections_timed_out: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What every reader and connection task shares.
struct Shared {
    limits: Limits,
    policy: Policy,
    to_layer: mpsc::Sender<NetInput>,
    /// Set once by the endpoint after binding; UDP readers try it before `to_layer`.
    inlet: OnceLock<Box<dyn Inlet>>,
    connections: Arc<Connections>,
    counters: Arc<Counters>,
    tls_client: Option<tokio_rustls::TlsConnector>,
    /// Resolves (with an error) when [`Transports`] is dropped: every task then ends.
    shutdown: watch::Receiver<()>,
}

impl Shared {
    /// Reports that a message of transaction `key` was not delivered.
    async fn failed(&self, key: Option<TransactionKey>) {
        if let Some(key) = key {
            // The layer being gone means we are shutting down: nothing to report to.
            let _ = self.to_layer.send(NetInput::Failed(key)).await;
        }
    }

    /// Closes a connection's queue and reports everything still in it as undelivered.
    async fn fail_queued(&self, mut rx: mpsc::Receiver<Outbound>) {
        rx.close();
        while let Ok(out) = rx.try_recv() {
            self.failed(out.key).await;
        }
    }
}

/// For a TCP listener on port 0 whose address is also a UDP listener's: the index of that
/// UDP socket, whose port the listener must share (SPEC §4, `--sip ADDR:0`).
fn paired_udp(transport: Transport, addr: SocketAddr, udp: &[SocketAddr]) -> Option<usize> {
    if transport != Transport::Tcp || addr.port() != 0 {
        return None;
    }
    udp.iter().position(|u| *u == addr)
}

/// Times a UDP socket is traded for a fresh one before giving up on one port for both.
const SAME_PORT_ATTEMPTS: usize = 16;

/// SPEC §4: UDP and TCP on one port when the port was left to the system. Binds TCP (with
/// `bind_tcp`) on the port of `udp`; a port free for UDP may be taken for TCP (the ephemeral
/// ranges of the two are shared with every other socket on the machine), and then `udp` is
/// traded for a fresh socket from `bind_udp` and TCP tries its port. Any error other than
/// "address in use" ends the attempts at once, as another port would not help.
fn bind_same_port<U, L>(
    mut udp: (SocketAddr, U),
    mut bind_udp: impl FnMut() -> io::Result<(SocketAddr, U)>,
    mut bind_tcp: impl FnMut(SocketAddr) -> io::Result<L>,
) -> io::Result<((SocketAddr, U), L)> {
    for _ in 0..SAME_PORT_ATTEMPTS {
        match bind_tcp(udp.0) {
            Ok(listener) => return Ok((udp, listener)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {}
            Err(e) => return Err(e),
        }
        // The old socket is dropped only after the new one is bound, so the system cannot
        // hand back the port TCP just failed on.
        udp = bind_udp()?;
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no port free for both UDP and TCP after {SAME_PORT_ATTEMPTS} attempts"),
    ))
}

/// Read-only view of the counters, for [`crate::endpoint::Endpoint::stats`].
#[derive(Clone)]
pub(crate) struct Monitor {
    counters: Arc<Counters>,
    connections: Arc<Connections>,
}

impl Monitor {
    pub(crate) fn stats(&self) -> TransportStats {
        let c = &self.counters;
        TransportStats {
            received: c.received.load(Ordering::Relaxed),
            malformed: c.malformed.load(Ordering::Relaxed),
            overload_dropped: c.overload_dropped.load(Ordering::Relaxed),
            connections: self.connections.len(),
            connections_refused: c.connections_refused.load(Ordering::Relaxed),
            connections_timed_out: c.connections_timed_out.load(Ordering::Relaxed),
        }
    }
}

/// The open listeners and the sending side; owned by the endpoint's transaction task.
/// Dropping it stops every reader and connection task.
pub(crate) struct Transports {
    shared: Arc<Shared>,
    /// Each UDP socket with its bound address (looked up per send, so kept here).
    udp: Vec<(SocketAddr, Arc<UdpSocket>)>,
    local: Vec<(Transport, SocketAddr)>,
    _shutdown: watch::Sender<()>,
}

impl Transports {
    /// Opens every configured listener and starts its tasks; must run inside a tokio
    /// runtime. Received messages go to `to_layer`.
    pub(crate) fn bind(
        config: &TransportConfig,
        to_layer: mpsc::Sender<NetInput>,
    ) -> Result<Self, TransportError> {
        let secure_listeners = !(config.tls.is_empty() && config.wss.is_empty());
        let acceptor = match &config.tls_identity {
            Some(identity) if secure_listeners => Some(tls::acceptor(identity)?),
            Some(_) | None => None,
        };
        let tls_client = config
            .tls_roots
            .as_deref()
            .map(tls::connector)
            .transpose()?;

        // Bind everything before spawning anything, so a failure leaves no task behind.
        let limits = &config.limits;
        let bind_udp = |addr| -> io::Result<(SocketAddr, Arc<UdpSocket>)> {
            let socket = udp::bind(addr, limits.udp_buffer)?;
            Ok((socket.local_addr()?, Arc::new(socket)))
        };
        let mut udp = Vec::new();
        for &addr in &config.udp {
            udp.push(bind_udp(addr).map_err(|source| TransportError::Bind {
                transport: Transport::Udp,
                addr,
                source,
            })?);
        }
        let mut stream_local = Vec::new();
        let mut listeners = Vec::new();
        // Without an identity, a TLS or WSS listener is refused below.
        let streams = [
            (Transport::Tcp, &config.tcp, Some(Upgrade::Plain)),
            (
                Transport::Tls,
                &config.tls,
                acceptor.clone().map(Upgrade::Tls),
            ),
            (Transport::Ws, &config.ws, Some(Upgrade::Ws)),
            (Transport::Wss, &config.wss, acceptor.map(Upgrade::Wss)),
        ];
        for (transport, addrs, upgrade) in streams {
            for &addr in addrs {
                let upgrade = upgrade
                    .clone()
                    .ok_or(TransportError::NoTlsIdentity { transport })?;
                let bind_error = |source| TransportError::Bind {
                    transport,
                    addr,
                    source,
                };
                let listener = match paired_udp(transport, addr, &config.udp) {
                    // `--sip 127.0.0.1:0`: one port serves both, as with a fixed port; the
                    // UDP socket may be replaced on the way (nothing reads it yet).
                    Some(index) => {
                        let (socket, listener) =
                            bind_same_port(udp[index].clone(), || bind_udp(addr), tcp::bind)
                                .map_err(bind_error)?;
                        udp[index] = socket;
                        listener
                    }
                    None => tcp::bind(addr).map_err(bind_error)?,
                };
                stream_local.push((transport, listener.local_addr().map_err(bind_error)?));
                listeners.push((transport, listener, upgrade));
            }
        }
        // Known only now: pairing with TCP may have replaced a UDP socket.
        let local = udp
            .iter()
            .map(|(bound, _)| (Transport::Udp, *bound))
            .chain(stream_local)
            .collect();

        let (stop, shutdown) = watch::channel(());
        let counters = Arc::new(Counters::default());
        let shared = Arc::new(Shared {
            limits: limits.clone(),
            policy: Policy {
                max_message_size: limits.max_message_size,
                force_rport: config.force_rport,
            },
            to_layer,
            inlet: OnceLock::new(),
            connections: Arc::new(Connections::new(limits)),
            counters,
            tls_client,
            shutdown,
        });
        for (_, socket) in &udp {
            tokio::spawn(udp::run(Arc::clone(socket), Arc::clone(&shared)));
        }
        for (transport, listener, upgrade) in listeners {
            tokio::spawn(tcp::accept_loop(
                listener,
                transport,
                upgrade,
                Arc::clone(&shared),
            ));
        }
        Ok(Self {
            shared,
            udp,
            local,
            _shutdown: stop,
        })
    }

    /// The bound listener addresses, in configuration order.
    pub(crate) fn local_addrs(&self) -> &[(Transport, SocketAddr)] {
        &self.local
    }

    pub(crate) fn monitor(&self) -> Monitor {
        Monitor {
            counters: Arc::clone(&self.shared.counters),
            connections: Arc::clone(&self.shared.connections),
        }
    }

    /// Remembers the name to verify in the certificate of a TLS peer at `addr` (the host
    /// an RFC 3263 lookup started from); without one the IP address is verified.
    pub(crate) fn set_tls_name(&self, addr: SocketAddr, name: &str) {
        self.shared.connections.set_tls_name(addr, name);
    }

    /// Lets UDP readers hand received messages to `inlet` (only the first call counts).
    pub(crate) fn set_inlet(&self, inlet: Box<dyn Inlet>) {
        let _ = self.shared.inlet.set(inlet);
    }

    /// A sending handle usable from any task (see [`Sender`]).
    pub(crate) fn sender(&self) -> Sender {
        Sender {
            shared: Arc::clone(&self.shared),
            udp: self.udp.clone(),
        }
    }

    /// Sends one message: UDP at once, streams through the connection to the destination
    /// (opened first for TCP and TLS when there is none).
    pub(crate) async fn send(&self, transmit: &Transmit) -> Result<(), TransportError> {
        if transmit.transport == Transport::Udp {
            let addr = transmit.destination;
            return udp_socket(&self.udp, addr)?
                .send_to(&transmit.bytes, addr)
                .await
                .map(drop)
                .map_err(|source| TransportError::Send { addr, source });
        }
        send_stream(&self.shared, transmit)
    }
}

/// The UDP socket that can reach `addr` (same address family).
fn udp_socket(
    udp: &[(SocketAddr, Arc<UdpSocket>)],
    addr: SocketAddr,
) -> Result<&UdpSocket, TransportError> {
    udp.iter()
        .find(|(local, _)| local.is_ipv4() == addr.is_ipv4())
        .map(|(_, socket)| &**socket)
        .ok_or(TransportError::NoRoute {
            transport: Transport::Udp,
            addr,
        })
}

/// Queues a message on the connection to its destination (opened first when needed).
fn send_stream(shared: &Arc<Shared>, transmit: &Transmit) -> Result<(), TransportError> {
    let addr = transmit.destination;
    match transmit.transport {
        Transport::Tcp | Transport::Tls | Transport::Ws | Transport::Wss => {
            let out = Outbound {
                bytes: transmit.bytes.clone(),
                key: transmit.key.clone(),
            };
            tcp::send(shared, addr, transmit.transport, out)
        }
        transport
        @ (Transport::Udp | Transport::Sctp | Transport::TlsSctp | Transport::Unknown) => {
            Err(TransportError::NoRoute { transport, addr })
        }
    }
}

/// Why [`Sender::try_send`] did not send.
#[derive(Debug)]
pub(crate) enum TrySendError {
    /// The UDP socket's buffer is full right now: send with [`Transports::send`], which waits.
    WouldBlock,
    /// The message cannot be sent.
    Failed(TransportError),
}

/// Sends without waiting, from whichever task has the bytes (the application's, for the
/// responses it answers with), so a response does not first travel to the endpoint task.
#[derive(Clone)]
pub(crate) struct Sender {
    shared: Arc<Shared>,
    udp: Vec<(SocketAddr, Arc<UdpSocket>)>,
}

impl Sender {
    /// Sends `transmit` now: one `sendto` for UDP, a queued write for streams.
    pub(crate) fn try_send(&self, transmit: &Transmit) -> Result<(), TrySendError> {
        if transmit.transport != Transport::Udp {
            return send_stream(&self.shared, transmit).map_err(TrySendError::Failed);
        }
        let addr = transmit.destination;
        let socket = udp_socket(&self.udp, addr).map_err(TrySendError::Failed)?;
        match socket.try_send_to(&transmit.bytes, addr) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(TrySendError::WouldBlock),
            Err(source) => Err(TrySendError::Failed(TransportError::Send { addr, source })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_use() -> io::Error {
        io::Error::from(io::ErrorKind::AddrInUse)
    }

    #[tokio::test]
    async fn spec_4_port_0_serves_udp_and_tcp_on_one_port_when_tcp_holds_udps_port() {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let bind_udp = || -> io::Result<(SocketAddr, Arc<UdpSocket>)> {
            let socket = udp::bind(any, 65_536)?;
            Ok((socket.local_addr()?, Arc::new(socket)))
        };
        let first = bind_udp().unwrap();
        // Another program's TCP socket on the port the system gave UDP: the first TCP
        // attempt must fail, as on a busy machine.
        let squatter = tcp::bind(first.0).unwrap();
        let (udp, listener) = bind_same_port(first, bind_udp, tcp::bind).unwrap();
        assert_ne!(udp.0, squatter.local_addr().unwrap());
        assert_eq!(udp.0, listener.local_addr().unwrap());
        assert_eq!(
            udp.1.local_addr().unwrap(),
            udp.0,
            "the socket kept is the one reported"
        );
    }

    #[test]
    fn spec_4_same_port_gives_up_after_bounded_attempts() {
        let mut port = 40_000;
        let mut bind_udp = || -> io::Result<(SocketAddr, ())> {
            port += 1;
            Ok((SocketAddr::from(([127, 0, 0, 1], port)), ()))
        };
        let mut tried = 0;
        let start = bind_udp().unwrap();
        let result = bind_same_port(start, bind_udp, |_| -> io::Result<()> {
            tried += 1;
            Err(in_use())
        });
        let err = result.err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(tried, SAME_PORT_ATTEMPTS);
    }

    #[test]
    fn spec_4_same_port_does_not_retry_an_error_another_port_cannot_fix() {
        let start = (SocketAddr::from(([127, 0, 0, 1], 40_000)), ());
        let mut rebinds = 0;
        let result = bind_same_port(
            start,
            || {
                rebinds += 1;
                Err(in_use())
            },
            |_| -> io::Result<()> { Err(io::Error::from(io::ErrorKind::PermissionDenied)) },
        );
        assert_eq!(
            result.err().unwrap().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(rebinds, 0);
    }
}
