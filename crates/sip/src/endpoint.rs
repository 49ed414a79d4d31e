//! The endpoint: the only tokio code between the sockets and the [`TransactionLayer`].
//!
//! [`Endpoint::bind`] opens the configured [transports](crate::transport) and starts one task
//! that owns the transaction layer's timers: it takes parsed messages from the transport
//! readers (UDP readers feed requests to the layer themselves when they can, see `inlet`)
//! and commands from the application, feeds them to [`TransactionLayer::handle`], drains
//! [`TransactionLayer::poll_output`] — sending each transmit, routing each event — and
//! sleeps until the next timer. The application sees:
//!
//! - [`Events`]: new requests as [`ServerTransaction`]s (answer with
//!   [`ServerTransaction::respond`], which consumes the handle), CANCELs, ACKs for 2xx and
//!   stray ACKs, and server transactions that timed out or lost their transport;
//! - [`Endpoint::send_request`]: a [`ClientTransaction`] yielding its responses;
//! - [`Endpoint::send_stateless`]: bytes outside any transaction (2xx ACKs, proxying).
//!
//! When the application is slower than the network and its event queue is three quarters
//! full, new requests are answered 503 by the endpoint instead of queued.
//!
//! [`TransactionLayer`]: crate::transaction::TransactionLayer
//! [`TransactionLayer::handle`]: crate::transaction::TransactionLayer::handle
//! [`TransactionLayer::poll_output`]: crate::transaction::TransactionLayer::poll_output

mod client;
mod direct;
mod driver;
mod inlet;
mod server;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::mpsc;

pub use client::{ClientError, ClientEvent, ClientSink, ClientTransaction, SharedEvents};
pub use server::ServerTransaction;

use crate::header::BRANCH_MAGIC_COOKIE;
use crate::message::{Method, Request};
use crate::transaction::{
    LayerStats, Received, Timer, TimerConfig, TransactionError, TransactionKey, TransactionLayer,
    Transmit,
};
use crate::transport::{
    Monitor, Target, Transport, TransportConfig, TransportError, TransportStats, Transports,
};
use direct::Direct;
use driver::Driver;

/// Everything [`Endpoint::bind`] needs.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Listeners and limits.
    pub transport: TransportConfig,
    /// Transaction timers (T1, T2, T4).
    pub timers: TimerConfig,
    /// Events queued for the application before new requests are refused with 503.
    pub event_queue: usize,
    /// Methods whose requests open no server transaction until the application answers
    /// statefully or [holds](ServerTransaction::hold) them (see
    /// [`TransactionLayer::defer`]): for a method answered statelessly nearly always.
    pub deferred: Vec<Method>,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            transport: TransportConfig::default(),
            timers: TimerConfig::default(),
            event_queue: 4096,
            deferred: Vec::new(),
        }
    }
}

/// What the endpoint tells the application.
#[derive(Debug)]
pub enum EndpointEvent {
    /// A new request (not ACK or CANCEL) opened a server transaction, or, for a
    /// [deferred](EndpointConfig::deferred) method, may open one.
    Request(ServerTransaction),
    /// A CANCEL: answer `cancel` (200, or 481 when `invite` is `None`), and the INVITE's
    /// server transaction with 487 if it is still unanswered (RFC 3261 §9.2).
    Cancel {
        /// The CANCEL's own server transaction.
        cancel: ServerTransaction,
        /// The INVITE server transaction it cancels, if still known.
        invite: Option<TransactionKey>,
    },
    /// An ACK for a 2xx (or matching nothing): it belongs to the dialog (§17.2.3).
    Ack(Received),
    /// A server transaction's timer gave up (Timer H: the ACK for our non-2xx never came).
    ServerTimeout {
        /// The transaction.
        key: TransactionKey,
        /// The timer.
        timer: Timer,
    },
    /// The transport failed while answering a server transaction.
    ServerTransportError {
        /// The transaction.
        key: TransactionKey,
    },
}

/// The receiving end of the endpoint's events. When every [`Endpoint`] clone and every
/// transaction handle is gone, the endpoint stops and this yields `None`.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<EndpointEvent>,
}

impl Events {
    /// The next event.
    pub async fn recv(&mut self) -> Option<EndpointEvent> {
        self.rx.recv().await
    }

    /// The next event if one is queued, without waiting: a consumer woken for one event
    /// takes the others that queued meanwhile in the same turn.
    pub fn try_recv(&mut self) -> Option<EndpointEvent> {
        self.rx.try_recv().ok()
    }
}

/// A misuse of the endpoint, or an endpoint that could not start or has stopped.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// A listener could not be opened.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request cannot start a client transaction.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// [`ServerTransaction::respond`] was given a provisional response.
    #[error("status {status} is not a final response")]
    NotFinal {
        /// The status given.
        status: u16,
    },
    /// [`ServerTransaction::provisional`] was given a final response.
    #[error("status {status} is not a provisional response")]
    NotProvisional {
        /// The status given.
        status: u16,
    },
    /// The endpoint's task has ended.
    #[error("endpoint closed")]
    Closed,
}

/// Counters for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Transport counters.
    pub transport: TransportStats,
    /// Transaction layer counters.
    pub layer: LayerStats,
    /// Requests answered 503 because the application's event queue was full.
    pub overload_refused: u64,
    /// Messages the transports could not send (no route, full connection queue, …).
    pub send_failed: u64,
}

/// A command from the application to the endpoint task.
#[derive(Debug)]
enum Command {
    /// A response sent by [`direct`] that the socket could not take at once.
    Transmit(Transmit),
    /// A response sent by [`direct`] could not be delivered.
    SendFailed(Option<TransactionKey>),
    /// A [`direct`] response queued outputs or moved a timer earlier.
    Wake,
    Request {
        key: TransactionKey,
        request: Request,
        target: Target,
        events: client::Sink,
    },
    Stateless {
        bytes: Bytes,
        target: Target,
    },
}

struct Inner {
    commands: mpsc::UnboundedSender<Command>,
    /// The transaction layer, read for its live counters.
    direct: Arc<Direct>,
    local: Vec<(Transport, SocketAddr)>,
    monitor: Monitor,
    stats: Arc<Mutex<EndpointStats>>,
}

/// A handle on a running endpoint; cheap to clone.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("local", &self.inner.local)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Opens the listeners and starts the endpoint task (inside a tokio runtime).
    pub async fn bind(config: EndpointConfig) -> Result<(Self, Events), EndpointError> {
        let limits = &config.transport.limits;
        let (net_tx, net_rx) = mpsc::channel(limits.receive_queue.max(1));
        let transports = Transports::bind(&config.transport, net_tx)?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, rx) = mpsc::channel(config.event_queue.max(4));
        let stats = Arc::new(Mutex::new(EndpointStats::default()));
        let mut layer = TransactionLayer::new(config.timers);
        for method in &config.deferred {
            layer.defer(method.as_str());
        }
        let direct = Arc::new(Direct::new(layer, transports.sender()));
        let inner = Inner {
            direct: Arc::clone(&direct),
            local: transports.local_addrs().to_vec(),
            monitor: transports.monitor(),
            stats: Arc::clone(&stats),
            commands,
        };
        transports.set_inlet(Box::new(inlet::Fast {
            direct: Arc::downgrade(&direct),
            events: event_tx.downgrade(),
            reserve: event_tx.max_capacity() / 4,
            commands: inner.commands.downgrade(),
        }));
        let driver = Driver::new(
            direct,
            transports,
            command_rx,
            inner.commands.downgrade(),
            net_rx,
            event_tx,
            stats,
        );
        tokio::spawn(driver.run());
        let endpoint = Self {
            inner: Arc::new(inner),
        };
        Ok((endpoint, Events { rx }))
    }

    /// Every bound listener address (port 0 resolved), in configuration order.
    pub fn local_addrs(&self) -> &[(Transport, SocketAddr)] {
        &self.inner.local
    }

    /// The first bound address of `transport`.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.inner
            .local
            .iter()
            .find(|(t, _)| *t == transport)
            .map(|(_, a)| *a)
    }

    /// A Via value for a new request over `transport`: our bound address as sent-by, a
    /// fresh branch and `rport` (RFC 3581). `None` without a listener for `transport`.
    pub fn via(&self, transport: Transport) -> Option<String> {
        let addr = self.local_addr(transport)?;
        Some(format!(
            "SIP/2.0/{} {addr};branch={};rport",
            transport.as_str(),
            new_branch()
        ))
    }

    /// Starts a client transaction for `request` (top Via with a fresh branch, not ACK) sent
    /// to `target`; its responses arrive on the returned handle.
    pub fn send_request(
        &self,
        request: Request,
        target: Target,
    ) -> Result<ClientTransaction, EndpointError> {
        if *request.method() == Method::Ack {
            return Err(TransactionError::AckNotAllowed.into());
        }
        let missing = || TransactionError::Missing { what: "Via branch" };
        let via = request.via().map_err(|_| missing())?;
        let branch = via.branch().filter(|b| !b.is_empty()).ok_or_else(missing)?;
        let key = TransactionKey::client(branch, request.method().as_str());
        let (events, rx) = mpsc::unbounded_channel();
        self.command(Command::Request {
            key: key.clone(),
            request,
            target,
            events: client::Sink::Own(events),
        })?;
        Ok(ClientTransaction::new(key, rx))
    }

    /// Like [`Self::send_request`], but the transaction's events go to the shared `sink`,
    /// each paired with `token`: one task can then follow thousands of transactions
    /// (a B2BUA's legs) from one channel instead of one task per transaction.
    pub fn send_request_to(
        &self,
        request: Request,
        target: Target,
        sink: &ClientSink,
        token: u64,
    ) -> Result<TransactionKey, EndpointError> {
        if *request.method() == Method::Ack {
            return Err(TransactionError::AckNotAllowed.into());
        }
        let missing = || TransactionError::Missing { what: "Via branch" };
        let via = request.via().map_err(|_| missing())?;
        let branch = via.branch().filter(|b| !b.is_empty()).ok_or_else(missing)?;
        let key = TransactionKey::client(branch, request.method().as_str());
        self.command(Command::Request {
            key: key.clone(),
            request,
            target,
            events: client::Sink::Shared {
                token,
                tx: sink.tx.clone(),
            },
        })?;
        Ok(key)
    }

    /// Sends bytes outside any transaction: the ACK for a 2xx, a 2xx retransmission, a
    /// stateless reply or a forwarded message.
    pub fn send_stateless(&self, bytes: Bytes, target: Target) -> Result<(), EndpointError> {
        self.command(Command::Stateless { bytes, target })
    }

    /// Transport, transaction and overload counters.
    pub fn stats(&self) -> EndpointStats {
        let mut stats = *self
            .inner
            .stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        stats.transport = self.inner.monitor.stats();
        // Live: responses sent from application tasks change the layer between the
        // endpoint task's turns.
        stats.layer = self.inner.direct.layer().stats();
        stats
    }

    fn command(&self, command: Command) -> Result<(), EndpointError> {
        self.inner
            .commands
            .send(command)
            .map_err(|_| EndpointError::Closed)
    }
}

/// A fresh RFC 3261 branch: the magic cookie and 96 random bits.
pub fn new_branch() -> String {
    let (a, b) = (rand::random::<u64>(), rand::random::<u32>());
    format!("{BRANCH_MAGIC_COOKIE}{a:016x}{b:08x}")
}

/// A fresh From/To tag: 64 random bits.
pub fn new_tag() -> String {
    Hex16::new(rand::random::<u64>()).as_str().to_owned()
}

/// Identifies `request`'s transaction, the same for each of its retransmissions: a hash of
/// its Call-ID, From tag, top Via branch and CSeq number (all kept from parsing), seeded once
/// per process so that peers cannot predict it.
pub fn request_fingerprint(request: &Request) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    static SEED: std::sync::OnceLock<foldhash::quality::RandomState> = std::sync::OnceLock::new();
    let mut hasher = SEED.get_or_init(Default::default).build_hasher();
    request.call_id().hash(&mut hasher);
    request.from().ok().and_then(|f| f.tag()).hash(&mut hasher);
    request
        .via()
        .ok()
        .and_then(|v| v.branch())
        .hash(&mut hasher);
    request.cseq().seq.hash(&mut hasher);
    hasher.finish()
}

/// The To tag a stateless answer to `request` carries: the same for every retransmission
/// of the request (RFC 3261 §8.2.7), from its [`request_fingerprint`].
pub fn stateless_tag(request: &Request) -> Hex16 {
    Hex16::new(request_fingerprint(request))
}

/// A 64-bit number as 16 lower-case hex digits (what `format!("{n:016x}")` gives), kept
/// inline: every stateless answer carries one as its To tag, and needs no allocation for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hex16([u8; 16]);

impl Hex16 {
    /// The digits of `n`.
    pub fn new(n: u64) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, digit) in out.iter_mut().enumerate() {
            *digit = DIGITS[((n >> ((15 - i) * 4)) & 0xf) as usize];
        }
        Self(out)
    }

    /// The digits as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for Hex16 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_8_2_7_stateless_tag_is_stable_and_hex() {
        for n in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            assert_eq!(Hex16::new(n).as_str(), format!("{n:016x}"));
        }
        let text = "OPTIONS sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKst1\r\nFrom: <sip:b@192.0.2.2>;tag=f1\r\nTo: <sip:a@192.0.2.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        let parse = |t: &str| match crate::parse_message(Bytes::from(t.to_owned())) {
            Ok(crate::Message::Request(r)) => r,
            other => panic!("not a request: {other:?}"),
        };
        let tag = stateless_tag(&parse(text));
        assert_eq!(tag.as_str().len(), 16);
        assert_eq!(tag, stateless_tag(&parse(text)));
        // Another transaction: another branch, From tag, Call-ID or CSeq number.
        for (from, to) in [
            ("z9hG4bKst1", "z9hG4bKst2"),
            ("tag=f1", "tag=f2"),
            ("Call-ID: c1", "Call-ID: c2"),
            ("CSeq: 1 ", "CSeq: 2 "),
        ] {
            let other = parse(&text.replace(from, to));
            assert_ne!(tag, stateless_tag(&other), "{to}");
            assert_ne!(
                request_fingerprint(&parse(text)),
                request_fingerprint(&other),
                "{to}"
            );
        }
    }
}
