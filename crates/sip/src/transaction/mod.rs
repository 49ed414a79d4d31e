//! The transaction layer (RFC 3261 §17, RFC 6026): client and server INVITE and
//! non-INVITE state machines, timers A–M, retransmission and absorption, ACK for non-2xx
//! finals, CANCEL matching, RFC 2543 fallback keys.
//!
//! Logic only: no socket, no tokio, no clock. The driver feeds [`Input`]s with the current
//! time to [`TransactionLayer::handle`], then calls [`TransactionLayer::poll_output`] until
//! it returns [`Output::Timeout`], sending each [`Transmit`] and passing each
//! [`TransactionEvent`] on; it sleeps until that deadline or the next input. RFC 3581
//! (`rport`/`received`) belongs to the transport: a server transaction answers to the
//! source address of the request.

mod client_invite;
mod client_non_invite;
mod done;
mod key;
mod layer;
mod server_invite;
mod server_non_invite;
mod table;
mod timer;
mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use crate::header::Transport;
use crate::message::{Message, Request, Response};

pub use key::{is_rfc3261_branch, LegacyFields, Role, TransactionKey, MAGIC_COOKIE};
pub use layer::{Arrival, Immediate, LayerStats, TransactionLayer};
pub use timer::{Timer, TimerConfig};

/// Something that happened, for [`TransactionLayer::handle`].
#[derive(Debug)]
pub enum Input {
    /// A message read from the network (already parsed).
    Received(Received),
    /// A message the TU wants sent.
    Send(Outgoing),
    /// The transport could not deliver a [`Transmit`] of this transaction (ICMP error,
    /// connection refused or reset): the transaction ends with
    /// [`TransactionEvent::TransportError`] (§17.1.4, §17.2.4).
    TransportFailed(TransactionKey),
    /// The deadline from the last [`Output::Timeout`] has passed.
    Timeout,
}

/// A parsed message and where it came from.
#[derive(Debug, Clone)]
pub struct Received {
    /// The message.
    pub message: Message,
    /// The address it came from (after RFC 3581 handling: where responses go).
    pub source: SocketAddr,
    /// The transport it came over.
    pub transport: Transport,
}

/// What the TU asks the layer to send.
#[derive(Debug)]
pub enum Outgoing {
    /// Start a client transaction: `request` must carry a top Via with a fresh
    /// `z9hG4bK` branch and a CSeq. Its key is [`TransactionKey::client`] of that branch
    /// and method. ACK is not allowed here: use [`Outgoing::Stateless`].
    Request {
        /// The request.
        request: Request,
        /// Where to send it (resolved by the TU, RFC 3263).
        destination: SocketAddr,
        /// Over which transport.
        transport: Transport,
    },
    /// Send a response through the server transaction `key` (from the
    /// [`TransactionEvent::Request`] it answers).
    Response {
        /// The server transaction.
        key: TransactionKey,
        /// The response.
        response: Response,
    },
    /// Send a final response through server transaction `key` and end the transaction at
    /// once, as a stateless UAS would (RFC 3261 §8.2.7): nothing is kept, so a
    /// retransmitted request opens a new transaction and is answered afresh. Meant for
    /// challenges, so that floods of unauthenticated requests leave no state (§26.1.5).
    StatelessResponse {
        /// The server transaction.
        key: TransactionKey,
        /// The final response.
        response: Response,
    },
    /// Send bytes outside any transaction: the ACK for a 2xx (§13.2.2.4), the TU's 2xx
    /// retransmissions after the transaction ended, stateless replies.
    Stateless {
        /// The serialized message.
        bytes: Bytes,
        /// Where to send it.
        destination: SocketAddr,
        /// Over which transport.
        transport: Transport,
    },
}

/// What the layer asks of its driver, from [`TransactionLayer::poll_output`].
#[derive(Debug)]
pub enum Output {
    /// Send these bytes.
    Transmit(Transmit),
    /// Tell the TU.
    Event(TransactionEvent),
    /// Nothing more now; call [`TransactionLayer::handle`] with [`Input::Timeout`] at this
    /// instant (or earlier, on input). An hour ahead when no timer runs.
    Timeout(Instant),
}

/// Bytes to send, and where.
#[derive(Debug, Clone)]
pub struct Transmit {
    /// Destination address.
    pub destination: SocketAddr,
    /// Transport to use (for TCP/TLS/WS: the connection to `destination`).
    pub transport: Transport,
    /// The serialized message.
    pub bytes: Bytes,
    /// The transaction it belongs to, for [`Input::TransportFailed`]; `None` for stateless.
    pub key: Option<TransactionKey>,
}

/// What the TU learns from the layer.
#[derive(Debug, Clone)]
pub enum TransactionEvent {
    /// A new request opened server transaction `key`; answer with [`Outgoing::Response`].
    /// Retransmissions of it never appear here.
    Request {
        /// The server transaction.
        key: TransactionKey,
        /// The request, with its source.
        request: Received,
    },
    /// A new request of a method the TU [deferred](TransactionLayer::defer): no transaction
    /// was opened. Answer it statelessly with [`TransactionLayer::respond_deferred`], or
    /// [`TransactionLayer::open`] its transaction `key` first. A retransmission that comes
    /// before either is absorbed; one after a stateless answer comes up again as new.
    Deferred {
        /// The key its server transaction would have, or will have once opened.
        key: TransactionKey,
        /// The request, with its source.
        request: Received,
    },
    /// A CANCEL opened its own server transaction `key` (answer it: 200, or 481 when
    /// `invite` is `None`); `invite` is the INVITE server transaction it cancels (§9.2),
    /// which the TU answers with 487 if still unanswered.
    Cancel {
        /// The CANCEL's server transaction.
        key: TransactionKey,
        /// The matching INVITE server transaction, if still known.
        invite: Option<TransactionKey>,
        /// The CANCEL, with its source.
        request: Received,
    },
    /// An ACK for a 2xx: matching no transaction, or an INVITE server transaction in
    /// Accepted (RFC 6026 §7.1). Belongs to the dialog.
    Ack {
        /// The ACK, with its source.
        request: Received,
    },
    /// A response for client transaction `key`: provisionals, the final, and (INVITE,
    /// RFC 6026 Accepted) 2xx retransmissions, which the TU must ACK again.
    Response {
        /// The client transaction.
        key: TransactionKey,
        /// The response, with its source.
        response: Received,
    },
    /// Timer B or F (client: act as if a 408 came) or Timer H (server: the ACK never came).
    Timeout {
        /// The transaction.
        key: TransactionKey,
        /// Which timer fired.
        timer: Timer,
    },
    /// The transport failed for this transaction (client: act as if a 503 came).
    TransportError {
        /// The transaction.
        key: TransactionKey,
    },
    /// The transaction is gone; the TU may drop what it kept for it.
    Terminated {
        /// The transaction.
        key: TransactionKey,
    },
}

/// The TU misused the layer. Received messages never cause these: malformed ones are
/// dropped (and counted in [`LayerStats`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// No transaction with this key (never existed, or already terminated).
    #[error("no such transaction")]
    NoTransaction,
    /// A client transaction with this branch and method already exists.
    #[error("a transaction with this key already exists")]
    Duplicate,
    /// The message lacks what the layer needs (top Via with a branch, CSeq).
    #[error("message lacks {what}")]
    Missing {
        /// Which part: `"Via branch"`, `"CSeq"`, …
        what: &'static str,
    },
    /// ACK cannot open a transaction; send it with [`Outgoing::Stateless`].
    #[error("ACK is sent outside transactions")]
    AckNotAllowed,
    /// A response was sent through a transaction that already sent its final response.
    #[error("transaction already answered; status {status} not sent")]
    AlreadyFinal {
        /// Status of the refused response.
        status: u16,
    },
    /// A response was sent through a client transaction.
    #[error("responses go through server transactions")]
    NotServer,
    /// A provisional response cannot end a transaction.
    #[error("status {status} is not final")]
    NotFinal {
        /// Status of the refused response.
        status: u16,
    },
}

/// What a state machine wants done after an input; the layer carries it out.
#[derive(Debug)]
pub(crate) enum Reaction {
    /// Nothing to do (absorbed, or a timer that only ends the transaction).
    Nothing,
    /// Pass the received message to the TU.
    Deliver,
    /// Pass the received message to the TU and send these bytes (ACK for a non-2xx).
    DeliverAndSend(Bytes),
    /// Send these bytes to the peer.
    Send(Bytes),
    /// Send the original request again (client).
    Retransmit,
    /// Tell the TU the timer fired; the transaction ends.
    TimedOut(Timer),
}

/// RFC 3261 §18: only UDP (and unknown transports, treated like it) lose messages.
pub(crate) fn is_reliable(transport: Transport) -> bool {
    !matches!(transport, Transport::Udp | Transport::Unknown)
}
