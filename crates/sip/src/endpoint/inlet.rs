//! Received requests fed to the transaction layer from the UDP reader's task: the layer sits
//! behind a mutex shared with the endpoint task (see [`Direct`]), so the reader can open the
//! server transaction and queue the application's event itself. A REGISTER then costs no
//! hop through the endpoint task and no wake-up of it; the endpoint task still owns the
//! timers and the client transactions, and takes what this cannot finish (responses,
//! outputs it does not pass on, an application queue near full, a socket that would block).

use std::sync::{Arc, Weak};
use std::time::Instant;

use tokio::sync::mpsc;

use super::direct::Direct;
use super::{Command, EndpointEvent, ServerTransaction};
use crate::message::Message;
use crate::transaction::{Received, TransactionEvent};
use crate::transport::Inlet;

/// The endpoint's side of [`Inlet`]. Weak handles: the transports keep this and are
/// reachable from the layer (a cycle otherwise), and the application's event queue must
/// close when the endpoint task ends.
pub(super) struct Fast {
    pub(super) direct: Weak<Direct>,
    pub(super) events: mpsc::WeakSender<EndpointEvent>,
    /// Event capacity kept free, as in the endpoint task (past it new requests get 503,
    /// which the endpoint task sends).
    pub(super) reserve: usize,
    pub(super) commands: mpsc::WeakUnboundedSender<Command>,
}

impl Inlet for Fast {
    fn take(&self, received: Received) -> Option<Received> {
        if !matches!(received.message, Message::Request(_)) {
            return Some(received);
        }
        let (Some(direct), Some(events), Some(commands)) = (
            self.direct.upgrade(),
            self.events.upgrade(),
            self.commands.upgrade(),
        ) else {
            return Some(received);
        };
        if events.capacity() <= self.reserve {
            return Some(received);
        }
        let arrival = direct.layer().receive_now(Instant::now(), received);
        let event = match arrival.event {
            Some(TransactionEvent::Request { key, request }) => {
                ServerTransaction::new(key, request, false, commands.clone(), Arc::clone(&direct))
                    .map(EndpointEvent::Request)
            }
            Some(TransactionEvent::Deferred { key, request }) => {
                ServerTransaction::new(key, request, true, commands.clone(), Arc::clone(&direct))
                    .map(EndpointEvent::Request)
            }
            Some(TransactionEvent::Cancel {
                key,
                invite,
                request,
            }) => {
                ServerTransaction::new(key, request, false, commands.clone(), Arc::clone(&direct))
                    .map(|cancel| EndpointEvent::Cancel { cancel, invite })
            }
            Some(TransactionEvent::Ack { request }) => Some(EndpointEvent::Ack(request)),
            // `receive_now` passes on nothing else.
            Some(_) | None => None,
        };
        if let Some(event) = event {
            // Full only past the reserve: lost like a datagram (a ServerTransaction inside
            // answers 500 as it drops), as in the endpoint task.
            if let Err(e) = events.try_send(event) {
                tracing::warn!(error = %e, "application event queue full");
            }
        }
        // After the event: a stored response for a retransmission, a 100 Trying.
        direct.finish(arrival.transmit, arrival.wake, &commands);
        None
    }
}
