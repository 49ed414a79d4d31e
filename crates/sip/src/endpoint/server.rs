//! [`ServerTransaction`]: a received request and the right to answer it once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::direct::Direct;
use super::{new_tag, Command, EndpointError};
use crate::header::Transport;
use crate::message::{Message, Request, Response, StatusCode};
use crate::transaction::{Received, TransactionKey};

/// A request that opened a server transaction. Answer it with [`Self::respond`] (final,
/// consumes the handle) after any number of [`Self::provisional`]s. Dropping the handle
/// unanswered sends `500 Server Internal Error`, so a forgotten request never leaves the
/// client retransmitting into silence.
///
/// A request of a [deferred](super::EndpointConfig::deferred) method has no transaction
/// yet: [`Self::respond_stateless`] then keeps none, and anything else opens it first
/// ([`Self::hold`] to open it before a wait).
#[derive(Debug)]
pub struct ServerTransaction {
    key: TransactionKey,
    /// Kept boxed as parsed: this handle moves through the application's queue.
    request: Box<Request>,
    source: SocketAddr,
    transport: Transport,
    commands: mpsc::UnboundedSender<Command>,
    direct: Arc<Direct>,
    answered: bool,
    /// A deferred request whose transaction is not open yet. Atomic because
    /// [`Self::provisional`] and [`Self::hold`] take `&self`.
    deferred: AtomicBool,
}

impl ServerTransaction {
    /// The handle for a request the transaction layer passed up, `deferred` when it opened
    /// no transaction for it; `None` for a response.
    pub(super) fn new(
        key: TransactionKey,
        received: Received,
        deferred: bool,
        commands: mpsc::UnboundedSender<Command>,
        direct: Arc<Direct>,
    ) -> Option<Self> {
        let Message::Request(request) = received.message else {
            return None;
        };
        Some(Self {
            key,
            request,
            source: received.source,
            transport: received.transport,
            commands,
            direct,
            answered: false,
            deferred: AtomicBool::new(deferred),
        })
    }

    /// The transaction's key (CANCEL names the INVITE's key in
    /// [`super::EndpointEvent::Cancel`]).
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }

    /// The request, its top Via stamped with `received`/`rport` (RFC 3581).
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Where the request came from and where responses go (RFC 3261 §18.2.2).
    pub fn source(&self) -> SocketAddr {
        self.source
    }

    /// The transport it came over.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Sends a provisional (1xx) response; the transaction stays open.
    pub fn provisional(&self, response: Response) -> Result<(), EndpointError> {
        let status = response.status();
        if !status.is_provisional() {
            return Err(EndpointError::NotProvisional {
                status: status.as_u16(),
            });
        }
        self.send(response)
    }

    /// Sends the final (2xx–6xx) response. The handle is consumed: nothing more can be sent
    /// through this transaction. A provisional status is refused and the handle's drop then
    /// answers 500.
    pub fn respond(mut self, response: Response) -> Result<(), EndpointError> {
        let status = response.status();
        if status.is_provisional() {
            return Err(EndpointError::NotFinal {
                status: status.as_u16(),
            });
        }
        self.answered = true;
        self.send(response)
    }

    /// Sends the final response and forgets the transaction at once, as a stateless UAS
    /// (RFC 3261 §8.2.7): for challenges, so that unauthenticated floods keep no state, and
    /// for answers the application can give again to a retransmission (a registrar's 200).
    /// Give the response a To tag from [`super::stateless_tag`], so retransmissions of the
    /// request, answered afresh, get the same one. A deferred request not opened meanwhile
    /// had no transaction to forget.
    pub fn respond_stateless(mut self, response: Response) -> Result<(), EndpointError> {
        let status = response.status();
        if status.is_provisional() {
            return Err(EndpointError::NotFinal {
                status: status.as_u16(),
            });
        }
        self.answered = true;
        if self.deferred.load(Ordering::Relaxed) {
            return self.direct.respond_deferred(
                &self.key,
                self.source,
                self.transport,
                response,
                &self.commands,
            );
        }
        self.direct
            .respond(&self.key, &response, true, None, &self.commands)
    }

    /// Opens the transaction of a deferred request now (nothing for any other), so that it
    /// absorbs the request's retransmissions while the answer waits (a registrar's store
    /// write). `false` when a copy of the request, delivered separately, opened it first:
    /// that copy's answer is the one the client gets.
    pub fn hold(&self) -> bool {
        match self.opening() {
            Some((peer, transport)) => self.direct.open(&self.key, peer, transport),
            None => true,
        }
    }

    /// Where to open the transaction, the first time this is asked of a deferred request
    /// (the handle then counts it open); `None` for any other.
    fn opening(&self) -> Option<(SocketAddr, Transport)> {
        self.deferred
            .swap(false, Ordering::Relaxed)
            .then_some((self.source, self.transport))
    }

    /// Answers with `status`, its canonical reason and a fresh To tag, nothing else.
    pub fn reply(self, status: StatusCode) -> Result<(), EndpointError> {
        let response = self.request.response(status).to_tag(new_tag()).build();
        self.respond(response)
    }

    /// Sent from this task (see [`Direct`]); stored in the transaction for retransmissions,
    /// opened first for a deferred request.
    fn send(&self, response: Response) -> Result<(), EndpointError> {
        self.direct
            .respond(&self.key, &response, false, self.opening(), &self.commands)
    }
}

impl Drop for ServerTransaction {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let response = self
            .request
            .response(StatusCode::SERVER_INTERNAL_ERROR)
            .to_tag(new_tag())
            .build();
        // The endpoint may be gone already; then there is no one to answer for.
        let _ = self.send(response);
    }
}
