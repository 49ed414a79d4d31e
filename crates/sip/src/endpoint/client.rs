//! [`ClientTransaction`]: the responses to a request the application sent.

use tokio::sync::mpsc;

use crate::message::Response;
use crate::transaction::{Received, Timer, TransactionError, TransactionKey};

/// What happens to a client transaction.
#[derive(Debug)]
pub enum ClientEvent {
    /// A response: provisionals, the final, and for INVITE any 2xx retransmissions (which the
    /// application must ACK again, RFC 6026).
    Response(Received),
    /// Timer B or F fired: treat as 408 (RFC 3261 §8.1.3.1).
    Timeout(Timer),
    /// The transport failed: treat as 503 (§8.1.3.1).
    TransportError,
    /// The transaction layer refused the request (duplicate branch, …).
    Refused(TransactionError),
}

/// Where a client transaction's events go: its own [`ClientTransaction`] handle, or a
/// channel shared by many transactions, each event tagged with the sender's token.
#[derive(Debug)]
pub(crate) enum Sink {
    Own(mpsc::UnboundedSender<ClientEvent>),
    Shared {
        token: u64,
        tx: mpsc::UnboundedSender<(u64, ClientEvent)>,
    },
}

impl Sink {
    /// Passes `event` on; a receiver that is gone did not want it.
    pub(crate) fn send(&self, event: ClientEvent) {
        let _ = match self {
            Self::Own(tx) => tx.send(event).map_err(|_| ()),
            Self::Shared { token, tx } => tx.send((*token, event)).map_err(|_| ()),
        };
    }
}

/// The sending side of a shared event channel for
/// [`Endpoint::send_request_to`](super::Endpoint::send_request_to); cheap to clone.
#[derive(Debug, Clone)]
pub struct ClientSink {
    pub(crate) tx: mpsc::UnboundedSender<(u64, ClientEvent)>,
}

/// The receiving side: `(token, event)` pairs of every transaction sent through the sink.
pub type SharedEvents = mpsc::UnboundedReceiver<(u64, ClientEvent)>;

impl ClientSink {
    /// A new shared channel.
    pub fn channel() -> (Self, SharedEvents) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }
}

/// Why [`ClientTransaction::final_response`] has no response.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No final response before the timer fired.
    #[error("no final response before timer {0:?}")]
    Timeout(Timer),
    /// The transport failed.
    #[error("transport failed")]
    Transport,
    /// The transaction layer refused the request.
    #[error(transparent)]
    Refused(TransactionError),
    /// The transaction ended without a final response (the endpoint stopped).
    #[error("transaction ended without a final response")]
    Closed,
}

/// A request in flight. Dropping the handle does not cancel the transaction; its responses
/// are then discarded.
#[derive(Debug)]
pub struct ClientTransaction {
    key: TransactionKey,
    rx: mpsc::UnboundedReceiver<ClientEvent>,
}

impl ClientTransaction {
    pub(super) fn new(key: TransactionKey, rx: mpsc::UnboundedReceiver<ClientEvent>) -> Self {
        Self { key, rx }
    }

    /// The transaction's key.
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }

    /// The next event; `None` once the transaction has terminated.
    pub async fn next(&mut self) -> Option<ClientEvent> {
        self.rx.recv().await
    }

    /// Waits for the final response, skipping provisionals.
    pub async fn final_response(mut self) -> Result<Response, ClientError> {
        loop {
            match self.next().await {
                Some(ClientEvent::Response(received)) => {
                    let Some(response) = received.message.into_response() else {
                        continue;
                    };
                    if !response.status().is_provisional() {
                        return Ok(response);
                    }
                }
                Some(ClientEvent::Timeout(timer)) => return Err(ClientError::Timeout(timer)),
                Some(ClientEvent::TransportError) => return Err(ClientError::Transport),
                Some(ClientEvent::Refused(e)) => return Err(ClientError::Refused(e)),
                None => return Err(ClientError::Closed),
            }
        }
    }
}
