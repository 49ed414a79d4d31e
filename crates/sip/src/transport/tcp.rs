//! Stream transports (RFC 3261 §18.3): the accept loop shared by TCP, TLS, WS and WSS
//! listeners, the handshakes, and outbound TCP/TLS connections. A connection then runs in
//! [`super::stream`] (TCP, TLS) or [`super::ws`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use super::connection::{Link, Outbound, Slot};
use super::{stream, ws, Counters, Shared, Transport, TransportError};

/// What to do with an accepted TCP connection before SIP flows.
#[derive(Clone)]
pub(crate) enum Upgrade {
    /// Plain TCP.
    Plain,
    /// TLS handshake, then SIP.
    Tls(TlsAcceptor),
    /// WebSocket handshake, then SIP in WebSocket messages.
    Ws,
    /// TLS, then WebSocket.
    Wss(TlsAcceptor),
}

/// Binds a listening socket (IPv6-only for IPv6 addresses, address reuse for restarts).
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// Accepts connections until shutdown; each runs on its own task. Over the connection limit
/// a connection is accepted and closed at once, so the backlog never fills.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    upgrade: Upgrade,
    shared: Arc<Shared>,
) {
    let mut stop = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((slot, link, rx)) = shared.connections.admit(remote, transport) else {
            Counters::bump(&shared.counters.connections_refused);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            remote,
            transport,
            slot,
            link,
            shared: Arc::clone(&shared),
        };
        tokio::spawn(serve(stream, upgrade.clone(), conn, rx));
    }
}

/// One connection's identity and place in the table.
pub(crate) struct Conn {
    pub(crate) remote: SocketAddr,
    pub(crate) transport: Transport,
    pub(crate) slot: Slot,
    pub(crate) link: Link,
    pub(crate) shared: Arc<Shared>,
}

impl Conn {
    /// Leaves the table and reports every message still queued as undelivered (for a
    /// connection that never got to run).
    pub(crate) async fn close(self, rx: mpsc::Receiver<Outbound>) {
        self.shared
            .connections
            .forget(self.remote, self.transport, &self.link);
        self.shared.fail_queued(rx).await;
        drop(self.slot);
    }

    pub(crate) fn timed_out(&self) {
        Counters::bump(&self.shared.counters.connections_timed_out);
    }
}

async fn serve(stream: TcpStream, upgrade: Upgrade, conn: Conn, rx: mpsc::Receiver<Outbound>) {
    let handshake = conn.shared.limits.handshake_timeout;
    match upgrade {
        Upgrade::Plain => stream::run(stream, conn, rx).await,
        Upgrade::Tls(acceptor) => match timeout(handshake, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => stream::run(tls, conn, rx).await,
            Ok(Err(_)) | Err(_) => {
                conn.timed_out();
                conn.close(rx).await;
            }
        },
        Upgrade::Ws => ws::serve(stream, conn, rx).await,
        Upgrade::Wss(acceptor) => match timeout(handshake, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => ws::serve(tls, conn, rx).await,
            Ok(Err(_)) | Err(_) => {
                conn.timed_out();
                conn.close(rx).await;
            }
        },
    }
}

/// Queues `out` on the connection to `addr`, opening a TCP or TLS connection when there is
/// none (WebSocket peers must connect to us).
pub(crate) fn send(
    shared: &Arc<Shared>,
    addr: SocketAddr,
    transport: Transport,
    out: Outbound,
) -> Result<(), TransportError> {
    let out = match shared.connections.get(addr, transport) {
        Some(link) => match link.tx.try_send(out) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                return Err(TransportError::QueueFull { addr });
            }
            // The connection is closing: open a new one below.
            Err(mpsc::error::TrySendError::Closed(out)) => {
                shared.connections.forget(addr, transport, &link);
                out
            }
        },
        None => out,
    };
    let connector = match transport {
        Transport::Tcp => None,
        Transport::Tls => Some(
            shared
                .tls_client
                .clone()
                .ok_or(TransportError::NoTlsRoots { addr })?,
        ),
        Transport::Udp
        | Transport::Ws
        | Transport::Wss
        | Transport::Sctp
        | Transport::TlsSctp
        | Transport::Unknown => return Err(TransportError::NoRoute { transport, addr }),
    };
    let (slot, link, rx) = shared
        .connections
        .admit(addr, transport)
        .ok_or(TransportError::TooManyConnections { addr })?;
    // A fresh queue has room for one message.
    let _ = link.tx.try_send(out);
    let conn = Conn {
        remote: addr,
        transport,
        slot,
        link,
        shared: Arc::clone(shared),
    };
    tokio::spawn(connect(conn, rx, connector));
    Ok(())
}

async fn connect(
    conn: Conn,
    rx: mpsc::Receiver<Outbound>,
    connector: Option<tokio_rustls::TlsConnector>,
) {
    let limit = conn.shared.limits.handshake_timeout;
    let stream = match timeout(limit, TcpStream::connect(conn.remote)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(peer = %conn.remote, error = %e, "connect failed");
            return conn.close(rx).await;
        }
        Err(_) => {
            conn.timed_out();
            return conn.close(rx).await;
        }
    };
    let _ = stream.set_nodelay(true);
    match connector {
        None => stream::run(stream, conn, rx).await,
        Some(connector) => {
            let name = conn.shared.connections.tls_name(conn.remote);
            match timeout(limit, connector.connect(name, stream)).await {
                Ok(Ok(tls)) => stream::run(tls, conn, rx).await,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %conn.remote, error = %e, "TLS handshake failed");
                    conn.close(rx).await;
                }
                Err(_) => {
                    conn.timed_out();
                    conn.close(rx).await;
                }
            }
        }
    }
}
