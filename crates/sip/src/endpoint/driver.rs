//! The endpoint task: the one loop that owns the [`TransactionLayer`]. Each turn takes a
//! batch of application commands or received messages (or the timer), feeds them to the
//! layer, then drains its outputs until it names the next deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::mpsc;

use super::client::Sink;
use super::direct::Direct;
use super::{ClientEvent, Command, EndpointEvent, EndpointStats, ServerTransaction};
use crate::message::{Message, Request, StatusCode};
use crate::transaction::{
    Input, Outgoing, Output, Received, TransactionError, TransactionEvent, TransactionKey,
    TransactionLayer, Transmit,
};
use crate::transport::{NetInput, Target, Transport, Transports};

/// Inputs taken per turn before the layer's outputs are drained.
const BATCH: usize = 64;

pub(super) struct Driver {
    /// The transaction layer, shared with the handles that answer requests.
    direct: Arc<Direct>,
    transports: Transports,
    /// Responses the application could not send without waiting; sent first in `drain`.
    unsent: Vec<Transmit>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Weak, so the task ends when the application drops every handle.
    handle: mpsc::WeakUnboundedSender<Command>,
    net: mpsc::Receiver<NetInput>,
    events: mpsc::Sender<EndpointEvent>,
    /// Event capacity kept free for events of transactions already under way.
    reserve: usize,
    clients: HashMap<TransactionKey, Sink>,
    stats: Arc<Mutex<EndpointStats>>,
    overload_refused: u64,
    send_failed: u64,
}

impl Driver {
    pub(super) fn new(
        direct: Arc<Direct>,
        transports: Transports,
        commands: mpsc::UnboundedReceiver<Command>,
        handle: mpsc::WeakUnboundedSender<Command>,
        net: mpsc::Receiver<NetInput>,
        events: mpsc::Sender<EndpointEvent>,
        stats: Arc<Mutex<EndpointStats>>,
    ) -> Self {
        let reserve = events.max_capacity() / 4;
        Self {
            direct,
            transports,
            unsent: Vec::new(),
            commands,
            handle,
            net,
            events,
            reserve,
            clients: HashMap::new(),
            stats,
            overload_refused: 0,
            send_failed: 0,
        }
    }

    pub(super) async fn run(mut self) {
        let mut commands = Vec::with_capacity(BATCH);
        let mut inputs = Vec::with_capacity(BATCH);
        let mut deadline = self.drain().await;
        let mut armed = deadline;
        let sleep = tokio::time::sleep_until(deadline.into());
        tokio::pin!(sleep);
        loop {
            // Re-arming the timer costs a timer-wheel update: only when the deadline moved.
            if deadline != armed || sleep.is_elapsed() {
                sleep.as_mut().reset(deadline.into());
                armed = deadline;
            }
            // Commands first: answers complete transactions and free memory.
            tokio::select! {
                biased;
                n = self.commands.recv_many(&mut commands, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    let now = Instant::now();
                    for command in commands.drain(..) {
                        self.command(now, command);
                    }
                }
                n = self.net.recv_many(&mut inputs, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    let now = Instant::now();
                    for input in inputs.drain(..) {
                        self.net_input(now, input);
                    }
                }
                () = &mut sleep => {
                    // Due timers also run in poll_output; this only says why we woke.
                    let _ = self.layer().handle(Instant::now(), Input::Timeout);
                }
            }
            deadline = self.drain().await;
            self.publish_stats();
        }
    }

    /// The transaction layer; held only for one call, never across an await.
    fn layer(&self) -> std::sync::MutexGuard<'_, TransactionLayer> {
        self.direct.layer()
    }

    fn publish_stats(&self) {
        let mut stats = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        stats.overload_refused = self.overload_refused;
        stats.send_failed = self.send_failed;
    }

    /// Sends and routes outputs until the layer names its next deadline.
    async fn drain(&mut self) -> Instant {
        let now = Instant::now();
        for transmit in std::mem::take(&mut self.unsent) {
            self.transmit(now, transmit).await;
        }
        loop {
            let output = self.layer().poll_output(now);
            match output {
                Output::Transmit(transmit) => self.transmit(now, transmit).await,
                Output::Event(event) => self.event(now, event),
                Output::Timeout(at) => return at,
            }
        }
    }

    async fn transmit(&mut self, now: Instant, transmit: Transmit) {
        if let Err(e) = self.transports.send(&transmit).await {
            tracing::debug!(error = %e, "send failed");
            self.send_failed += 1;
            self.failed(now, transmit.key);
        }
    }

    /// Ends transaction `key` after a failed send.
    fn failed(&mut self, now: Instant, key: Option<TransactionKey>) {
        if let Some(key) = key {
            // The transaction may have ended meanwhile: nothing to fail then.
            let _ = self.layer().handle(now, Input::TransportFailed(key));
        }
    }

    fn command(&mut self, now: Instant, command: Command) {
        let result = match command {
            Command::Transmit(transmit) => {
                self.unsent.push(transmit);
                Ok(())
            }
            Command::SendFailed(key) => {
                self.send_failed += 1;
                self.failed(now, key);
                Ok(())
            }
            // The drain that follows every command batch is what was asked for.
            Command::Wake => Ok(()),
            Command::Request {
                key,
                request,
                target,
                events,
            } => {
                self.start_client(now, key, request, target, events);
                Ok(())
            }
            Command::Stateless { bytes, target } => {
                self.name_tls_peer(&target);
                let input = Input::Send(Outgoing::Stateless {
                    bytes,
                    destination: target.addr,
                    transport: target.transport,
                });
                self.layer().handle(now, input)
            }
        };
        if let Err(e) = result {
            // A response after the transaction timed out, a second final response, …
            tracing::debug!(error = %e, "command refused by the transaction layer");
        }
    }

    fn start_client(
        &mut self,
        now: Instant,
        key: TransactionKey,
        request: Request,
        target: Target,
        events: Sink,
    ) {
        // Checked first: inserting would replace the live transaction's event channel.
        if self.layer().contains(&key) {
            events.send(ClientEvent::Refused(TransactionError::Duplicate));
            return;
        }
        self.name_tls_peer(&target);
        let input = Input::Send(Outgoing::Request {
            request,
            destination: target.addr,
            transport: target.transport,
        });
        let result = self.layer().handle(now, input);
        match result {
            Ok(()) => {
                self.clients.insert(key, events);
            }
            Err(e) => events.send(ClientEvent::Refused(e)),
        }
    }

    /// RFC 5922: a TLS peer found through DNS is verified against the domain looked up.
    fn name_tls_peer(&self, target: &Target) {
        if let (Transport::Tls, Some(name)) = (target.transport, &target.name) {
            self.transports.set_tls_name(target.addr, name);
        }
    }

    fn net_input(&mut self, now: Instant, input: NetInput) {
        let input = match input {
            NetInput::Received(received) => Input::Received(received),
            NetInput::Failed(key) => Input::TransportFailed(key),
        };
        // Received messages never fail; a failure for a finished transaction is moot.
        let _ = self.layer().handle(now, input);
    }

    fn event(&mut self, now: Instant, event: TransactionEvent) {
        match event {
            TransactionEvent::Request { key, request } => self.request(now, key, request, false),
            TransactionEvent::Deferred { key, request } => self.request(now, key, request, true),
            TransactionEvent::Cancel {
                key,
                invite,
                request,
            } => {
                if let Some(cancel) = self.server_transaction(key, request, false) {
                    self.emit(EndpointEvent::Cancel { cancel, invite });
                }
            }
            TransactionEvent::Ack { request } => self.emit(EndpointEvent::Ack(request)),
            TransactionEvent::Response { key, response } => {
                self.to_client(&key, ClientEvent::Response(response));
            }
            TransactionEvent::Timeout { key, timer } => {
                if !self.to_client(&key, ClientEvent::Timeout(timer)) {
                    self.emit(EndpointEvent::ServerTimeout { key, timer });
                }
            }
            TransactionEvent::TransportError { key } => {
                if !self.to_client(&key, ClientEvent::TransportError) {
                    self.emit(EndpointEvent::ServerTransportError { key });
                }
            }
            TransactionEvent::Terminated { key } => {
                self.clients.remove(&key);
            }
        }
    }

    /// Passes `event` to the client transaction `key`; `false` if it is not one of ours.
    fn to_client(&self, key: &TransactionKey, event: ClientEvent) -> bool {
        match self.clients.get(key) {
            Some(sink) => {
                sink.send(event);
                true
            }
            None => false,
        }
    }

    /// A new request for the application, or 503 when it cannot keep up.
    fn request(&mut self, now: Instant, key: TransactionKey, request: Received, deferred: bool) {
        if self.events.capacity() <= self.reserve {
            if deferred {
                // The 503 goes through a transaction, which absorbs the retransmissions.
                self.layer()
                    .open(now, &key, request.source, request.transport);
            }
            self.refuse(now, key, &request);
            return;
        }
        if let Some(transaction) = self.server_transaction(key, request, deferred) {
            self.emit(EndpointEvent::Request(transaction));
        }
    }

    fn server_transaction(
        &self,
        key: TransactionKey,
        received: Received,
        deferred: bool,
    ) -> Option<ServerTransaction> {
        ServerTransaction::new(
            key,
            received,
            deferred,
            self.handle.upgrade()?,
            Arc::clone(&self.direct),
        )
    }

    fn emit(&self, event: EndpointEvent) {
        // Full only past the reserve (a burst of ACKs and CANCELs): such an event is lost
        // like a datagram; a ServerTransaction inside answers 500 as it drops.
        if let Err(e) = self.events.try_send(event) {
            tracing::warn!(error = %e, "application event queue full");
        }
    }

    /// Answers 503 for an application that cannot keep up (RFC 3261 §21.5.4).
    fn refuse(&mut self, now: Instant, key: TransactionKey, received: &Received) {
        self.overload_refused += 1;
        let Message::Request(request) = &received.message else {
            return;
        };
        let response = request
            .response(StatusCode::SERVICE_UNAVAILABLE)
            .to_tag(super::new_tag())
            .header("Retry-After", "1")
            .build();
        let _ = self
            .layer()
            .handle(now, Input::Send(Outgoing::Response { key, response }));
    }
}
