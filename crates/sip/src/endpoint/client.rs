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
