//! Answers sent from the application's task: the transaction layer sits behind a mutex
//! shared with the endpoint task, so [`ServerTransaction`](super::ServerTransaction) records
//! its response in the server transaction (which then absorbs retransmitted requests with
//! it, RFC 3261 §17.2) and puts the bytes on the socket itself. Without this every response
//! costs a wake-up of the endpoint task and a second channel hop.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::mpsc;

use super::{Command, EndpointError};
use crate::header::Transport;
use crate::message::Response;
use crate::transaction::{Immediate, TransactionError, TransactionKey, TransactionLayer, Transmit};
use crate::transport::{Sender, TrySendError};

/// The transaction layer and a way to send, shared by the endpoint task and every handle.
pub(super) struct Direct {
    layer: Mutex<TransactionLayer>,
    sender: Sender,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").finish_non_exhaustive()
    }
}

impl Direct {
    pub(super) fn new(layer: TransactionLayer, sender: Sender) -> Self {
        Self {
            layer: Mutex::new(layer),
            sender,
        }
    }

    /// The layer; a panic elsewhere while it was held leaves it usable (every call keeps
    /// the table consistent before it can fail).
    pub(super) fn layer(&self) -> MutexGuard<'_, TransactionLayer> {
        self.layer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `response` through server transaction `key` (ended at once when `stateless`),
    /// from the calling task; a deferred request's transaction is opened first, towards
    /// `open`'s peer and transport. What cannot be done here — a UDP socket that would
    /// block, a transport failure to report, timers or events for the endpoint task — goes
    /// to the endpoint task through `commands`.
    pub(super) fn respond(
        &self,
        key: &TransactionKey,
        response: &Response,
        stateless: bool,
        open: Option<(SocketAddr, Transport)>,
        commands: &mpsc::UnboundedSender<Command>,
    ) -> Result<(), EndpointError> {
        self.answer(commands, |layer| {
            let now = Instant::now();
            if let Some((peer, transport)) = open {
                // Opened by a copy of the request already: the answer goes through it.
                layer.open(now, key, peer, transport);
            }
            layer.respond_now(now, key, response, stateless)
        })
    }

    /// Opens the server transaction of a deferred request (see
    /// [`TransactionLayer::open`]); `false` if a copy of the request opened it first.
    pub(super) fn open(
        &self,
        key: &TransactionKey,
        peer: SocketAddr,
        transport: Transport,
    ) -> bool {
        self.layer().open(Instant::now(), key, peer, transport)
    }

    /// Sends a stateless final `response` to a deferred request that was not opened (see
    /// [`TransactionLayer::respond_deferred`]), from the calling task.
    pub(super) fn respond_deferred(
        &self,
        key: &TransactionKey,
        peer: SocketAddr,
        transport: Transport,
        response: Response,
        commands: &mpsc::UnboundedSender<Command>,
    ) -> Result<(), EndpointError> {
        self.answer(commands, |layer| {
            let transmit = layer.respond_deferred(key, peer, transport, response)?;
            Ok(Immediate {
                transmit,
                wake: false,
            })
        })
    }

    /// Runs `send` on the layer, then sends what it made (see [`Self::finish`]). A response
    /// the layer refuses (after the transaction timed out, a second final response, …) is
    /// dropped and logged: not the caller's failure.
    fn answer(
        &self,
        commands: &mpsc::UnboundedSender<Command>,
        send: impl FnOnce(&mut TransactionLayer) -> Result<Immediate, TransactionError>,
    ) -> Result<(), EndpointError> {
        if commands.is_closed() {
            return Err(EndpointError::Closed);
        }
        let result = send(&mut self.layer());
        match result {
            Ok(immediate) => self.finish(immediate.transmit, immediate.wake, commands),
            Err(e) => tracing::debug!(error = %e, "response refused by the transaction layer"),
        }
        Ok(())
    }

    /// Sends `transmit` from the calling task and wakes the endpoint task if `wake`. What
    /// the socket cannot take now, or a failure to report, goes to the endpoint task
    /// instead (whose drain that wakes it is then the wake-up asked for).
    pub(super) fn finish(
        &self,
        transmit: Option<Transmit>,
        mut wake: bool,
        commands: &mpsc::UnboundedSender<Command>,
    ) {
        if let Some(transmit) = transmit {
            match self.sender.try_send(&transmit) {
                Ok(()) => {}
                Err(TrySendError::WouldBlock) => {
                    let _ = commands.send(Command::Transmit(transmit));
                    wake = false;
                }
                Err(TrySendError::Failed(e)) => {
                    tracing::debug!(error = %e, "send failed");
                    let _ = commands.send(Command::SendFailed(transmit.key));
                    wake = false;
                }
            }
        }
        if wake {
            let _ = commands.send(Command::Wake);
        }
    }
}
