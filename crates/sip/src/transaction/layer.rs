//! [`TransactionLayer`]: feeds inputs to the state machines and queues their outputs.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::client_invite::ClientInvite;
use super::client_non_invite::ClientNonInvite;
use super::key::TransactionKey;
use super::server_invite::ServerInvite;
use super::server_non_invite::ServerNonInvite;
use super::table::{Entry, Head, Table};
use super::timer::TimerConfig;
use super::wire;
use super::{
    is_reliable, Input, Outgoing, Output, Reaction, Received, TransactionError, TransactionEvent,
    Transmit,
};
use crate::header::Transport;
use crate::message::{Message, Request, Response};

/// How far ahead [`Output::Timeout`] points when no timer runs.
const IDLE: Duration = Duration::from_secs(3600);

/// Slots of [`Unanswered`]: 32 KiB, far more than the deferred requests waiting at once.
const UNANSWERED_SLOTS: usize = 4096;

/// Deferred requests handed up and not answered yet, by key hash, direct-mapped: a copy
/// that arrives while its original waits in the TU's queue is absorbed, as the transaction
/// the original would have opened would absorb it. A slot another key takes over only lets
/// such a copy through to the TU, answered afresh as after a stateless answer.
struct Unanswered(Box<[u64]>);

impl Unanswered {
    fn new() -> Self {
        Self(vec![0; UNANSWERED_SLOTS].into_boxed_slice())
    }

    /// The slot's mark for `key`: never 0, which marks an empty slot.
    fn mark(key: &TransactionKey) -> (usize, u64) {
        let hash = key.hash_value();
        ((hash as usize) % UNANSWERED_SLOTS, hash | 1)
    }

    /// Notes `key` as waiting; `false` if it was already (this is a copy).
    fn wait(&mut self, key: &TransactionKey) -> bool {
        let (index, mark) = Self::mark(key);
        match self.0.get_mut(index) {
            Some(slot) if *slot == mark => false,
            Some(slot) => {
                *slot = mark;
                true
            }
            None => true,
        }
    }

    /// `key` is answered or opened: its copies are the transaction's, or new requests.
    fn done(&mut self, key: &TransactionKey) {
        let (index, mark) = Self::mark(key);
        if let Some(slot) = self.0.get_mut(index).filter(|slot| **slot == mark) {
            *slot = 0;
        }
    }
}

/// Counters for monitoring (`/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Transactions alive now.
    pub transactions: usize,
    /// Received messages dropped because they lacked a usable Via, CSeq or status.
    pub malformed_dropped: u64,
    /// Responses matching no client transaction, dropped (§17.1.3, §18.1.2).
    pub stray_responses: u64,
    /// Messages re-sent by timers or in answer to retransmissions.
    pub retransmissions: u64,
}

/// All transactions of one endpoint. See the [module docs](super) for the driving loop.
pub struct TransactionLayer {
    timers: TimerConfig,
    table: Table,
    outputs: VecDeque<Output>,
    stats: LayerStats,
    /// The deadline last handed out by [`Self::poll_output`]: the driver sleeps until then.
    reported: Option<Instant>,
    /// Methods whose requests open no transaction on arrival (see [`Self::defer`]).
    deferred: Vec<String>,
    unanswered: Unanswered,
}

/// What [`TransactionLayer::receive_now`] leaves to its caller.
#[derive(Debug, Default)]
pub struct Arrival {
    /// The event to pass to the application.
    pub event: Option<TransactionEvent>,
    /// Bytes to send now.
    pub transmit: Option<Transmit>,
    /// Outputs are queued, or a timer now runs before the last reported deadline: the
    /// driver must run [`TransactionLayer::poll_output`] again soon.
    pub wake: bool,
}

/// What [`TransactionLayer::respond_now`] leaves to its caller.
#[derive(Debug)]
pub struct Immediate {
    /// The response's bytes, to send now (none when the transaction sends nothing, e.g. a
    /// second final response refused).
    pub transmit: Option<Transmit>,
    /// Outputs are queued, or a timer now runs before the last reported deadline: the
    /// driver must run [`TransactionLayer::poll_output`] again soon.
    pub wake: bool,
}

// Variant names mirror the machine types (and files): ClientInvite … ServerNonInvite.
#[allow(clippy::enum_variant_names)]
pub(super) enum Machine {
    /// The INVITE is kept whole while it may be retransmitted or a non-2xx final ACKed
    /// (built from it); dropped once a final came, so an answered call does not keep it
    /// through Timer M's 32 s. Boxed: every slot of the table is as large as the largest
    /// machine, and most transactions are server ones (every request received opens one).
    ClientInvite(ClientInvite, Option<Box<Request>>),
    ClientNonInvite(ClientNonInvite, Bytes),
    ServerInvite(ServerInvite),
    ServerNonInvite(ServerNonInvite),
}

impl Machine {
    pub(super) fn deadline(&self) -> Option<Instant> {
        match self {
            Self::ClientInvite(s, _) => s.deadline(),
            Self::ClientNonInvite(s, _) => Some(s.deadline()),
            Self::ServerInvite(s) => s.deadline(),
            Self::ServerNonInvite(s) => s.deadline(),
        }
    }

    fn on_timeout(self, now: Instant, timers: &TimerConfig) -> (Option<Self>, Reaction) {
        match self {
            Self::ClientInvite(s, req) => {
                wrap(s.on_timeout(now, timers), |s| Self::ClientInvite(s, req))
            }
            Self::ClientNonInvite(s, bytes) => wrap(s.on_timeout(now, timers), |s| {
                Self::ClientNonInvite(s, bytes)
            }),
            Self::ServerInvite(s) => wrap(s.on_timeout(now, timers), Self::ServerInvite),
            Self::ServerNonInvite(s) => wrap(s.on_timeout(now), Self::ServerNonInvite),
        }
    }
}

fn wrap<S>(
    (state, reaction): (Option<S>, Reaction),
    into: impl FnOnce(S) -> Machine,
) -> (Option<Machine>, Reaction) {
    (state.map(into), reaction)
}

impl Default for TransactionLayer {
    fn default() -> Self {
        Self::new(TimerConfig::default())
    }
}

impl TransactionLayer {
    /// An empty layer with these timer values.
    pub fn new(timers: TimerConfig) -> Self {
        Self {
            timers,
            table: Table::default(),
            outputs: VecDeque::new(),
            stats: LayerStats::default(),
            reported: None,
            deferred: Vec::new(),
            unanswered: Unanswered::new(),
        }
    }

    /// New requests of `method` open no server transaction on arrival: they come up as
    /// [`TransactionEvent::Deferred`] (a copy arriving before the first is answered is
    /// absorbed), and the TU answers them statelessly with
    /// [`Self::respond_deferred`], or opens their transaction with [`Self::open`] before a
    /// stateful answer or a wait (Kamailio's `sl` replies against `t_newtran`). For a TU that
    /// answers most requests of `method` statelessly, as a registrar does REGISTER: each then
    /// costs no insertion and removal. INVITE, ACK and CANCEL always open one (or are
    /// matched), whatever is asked here.
    pub fn defer(&mut self, method: &str) {
        if !self.deferred.iter().any(|m| m == method) {
            self.deferred.push(method.to_owned());
        }
    }

    /// Opens server non-INVITE transaction `key` for a request that came up as
    /// [`TransactionEvent::Deferred`] from `peer` over `transport`, as its arrival would have
    /// without [`Self::defer`]: from now on it absorbs retransmissions, and answers go
    /// through [`Self::respond_now`] or [`Outgoing::Response`]. `false` when `key` is open or
    /// completed already (a copy of the request, delivered separately, opened it first):
    /// that transaction stands, and its answer is the one sent.
    pub fn open(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        peer: SocketAddr,
        transport: Transport,
    ) -> bool {
        self.unanswered.done(key);
        if self.contains(key) {
            return false;
        }
        let machine = Machine::ServerNonInvite(ServerNonInvite::start(now, &self.timers));
        self.table.insert(key.clone(), peer, transport, machine);
        true
    }

    /// The bytes of a stateless final `response` (RFC 3261 §8.2.7) to a request that came
    /// up as [`TransactionEvent::Deferred`] and was not opened, to send to `peer` over
    /// `transport` now; nothing is kept. When a copy of the request opened transaction
    /// `key` meanwhile, that transaction decides instead: its stored final again if it has
    /// one (what a retransmission would get), nothing while it is still unanswered.
    pub fn respond_deferred(
        &mut self,
        key: &TransactionKey,
        peer: SocketAddr,
        transport: Transport,
        response: Response,
    ) -> Result<Option<Transmit>, TransactionError> {
        let status = response.status().as_u16();
        if status < 200 {
            return Err(TransactionError::NotFinal { status });
        }
        if self.table.slot_of(key).is_some() {
            return Ok(None);
        }
        self.unanswered.done(key);
        let (bytes, key) = match self.table.completed(key) {
            Some(stored) => {
                self.stats.retransmissions += 1;
                (stored.clone(), Some(key.clone()))
            }
            // Moved out, not cloned: a clone of a freshly built response's bytes would
            // allocate a shared header for them.
            None => (response.into_bytes(), None),
        };
        Ok(Some(Transmit {
            destination: peer,
            transport,
            bytes,
            key,
        }))
    }

    /// Counters, and the number of live transactions.
    pub fn stats(&self) -> LayerStats {
        LayerStats {
            transactions: self.table.len(),
            ..self.stats
        }
    }

    /// True while transaction `key` exists (a completed one included, until its Timer J).
    pub fn contains(&self, key: &TransactionKey) -> bool {
        self.table.slot_of(key).is_some() || self.table.completed(key).is_some()
    }

    /// Whether client INVITE transaction `key` still holds its INVITE.
    #[cfg(test)]
    pub(crate) fn keeps_invite(&self, key: &TransactionKey) -> bool {
        let entry = self
            .table
            .slot_of(key)
            .and_then(|slot| self.table.get(slot));
        matches!(
            entry,
            Some(Entry {
                machine: Machine::ClientInvite(_, Some(_)),
                ..
            })
        )
    }

    /// Feeds one input. Errors are the TU's misuse of [`Outgoing`]; received messages
    /// never fail (malformed ones are dropped and counted).
    pub fn handle(&mut self, now: Instant, input: Input) -> Result<(), TransactionError> {
        match input {
            Input::Received(received) => {
                self.on_received(now, received);
                Ok(())
            }
            Input::Send(Outgoing::Request {
                request,
                destination,
                transport,
            }) => self.send_request(now, request, destination, transport),
            Input::Send(Outgoing::Response { key, response }) => {
                self.send_response(now, &key, &response)
            }
            Input::Send(Outgoing::StatelessResponse { key, response }) => {
                self.send_stateless_response(&key, &response)
            }
            Input::Send(Outgoing::Stateless {
                bytes,
                destination,
                transport,
            }) => {
                self.outputs.push_back(Output::Transmit(Transmit {
                    destination,
                    transport,
                    bytes,
                    key: None,
                }));
                Ok(())
            }
            Input::TransportFailed(key) => {
                let Some(slot) = self.table.slot_of(&key) else {
                    if !self.table.forget_completed(&key) {
                        return Err(TransactionError::NoTransaction);
                    }
                    self.push_event(TransactionEvent::TransportError { key: key.clone() });
                    self.push_event(TransactionEvent::Terminated { key });
                    return Ok(());
                };
                self.push_event(TransactionEvent::TransportError { key });
                if let Some(entry) = self.table.take(slot) {
                    self.table.release(slot, &entry.head.key);
                    self.push_event(TransactionEvent::Terminated {
                        key: entry.head.key,
                    });
                }
                Ok(())
            }
            Input::Timeout => {
                self.run_timers(now);
                Ok(())
            }
        }
    }

    /// The next thing to do: transmits and events first, then the deadline to wake up at.
    /// Due timers are run here too, so a late `Input::Timeout` loses nothing.
    pub fn poll_output(&mut self, now: Instant) -> Output {
        if let Some(output) = self.outputs.pop_front() {
            return output;
        }
        self.run_timers(now);
        if let Some(output) = self.outputs.pop_front() {
            return output;
        }
        let at = self.table.next_deadline().unwrap_or(now + IDLE);
        self.reported = Some(at);
        Output::Timeout(at)
    }

    /// Sends a response through server transaction `key` like [`Input::Send`] with
    /// [`Outgoing::Response`] (or [`Outgoing::StatelessResponse`] when `stateless`), but
    /// hands its transmit back instead of queueing it, so the task that built the response
    /// can send it without a trip through the driver. The transaction keeps the bytes for
    /// retransmitted requests exactly as on the queued path (RFC 3261 §17.2.2). The end of
    /// a server transaction, which no driver acts on, is not reported; anything else the
    /// call queues stays queued and sets [`Immediate::wake`].
    pub fn respond_now(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        response: &Response,
        stateless: bool,
    ) -> Result<Immediate, TransactionError> {
        let queued = self.outputs.len();
        if stateless {
            self.send_stateless_response(key, response)?;
        } else {
            self.send_response(now, key, response)?;
        }
        let mut transmit = None;
        let ours = self.outputs.iter().skip(queued).all(|output| match output {
            Output::Transmit(t) => t.key.as_ref().is_none_or(|k| k == key),
            Output::Event(TransactionEvent::Terminated { key: k }) => k == key,
            _ => false,
        });
        let transmits = self
            .outputs
            .iter()
            .skip(queued)
            .filter(|o| matches!(o, Output::Transmit(_)))
            .count();
        if ours && transmits <= 1 {
            for output in self.outputs.drain(queued..) {
                if let Output::Transmit(t) = output {
                    transmit = Some(t);
                }
            }
        }
        Ok(Immediate {
            transmit,
            wake: self.must_wake(queued),
        })
    }

    /// Whether the driver must poll again soon after a call that found `queued` outputs
    /// waiting: it left more, or a timer now runs before the deadline last reported.
    fn must_wake(&mut self, queued: usize) -> bool {
        let earlier = match (self.table.next_deadline(), self.reported) {
            (Some(next), Some(reported)) => next < reported,
            (_, None) => true,
            (None, Some(_)) => false,
        };
        earlier || self.outputs.len() > queued
    }

    /// Feeds a received message like [`Input::Received`], but from the task that read it,
    /// and hands back what a driver would only pass on: the server-side event it made (a
    /// new request, a CANCEL, an ACK for a 2xx) and the one transmit (a stored response
    /// for a retransmitted request, a 100 Trying). Taken only when nothing else was queued
    /// before it and it made nothing else, so events keep their order; otherwise its
    /// outputs stay queued and [`Arrival::wake`] is set, as it is when a timer now runs
    /// before the last reported deadline.
    pub fn receive_now(&mut self, now: Instant, received: Received) -> Arrival {
        let queued = self.outputs.len();
        self.on_received(now, received);
        let mut arrival = Arrival::default();
        let (mut events, mut transmits) = (0, 0);
        let passed_on = self.outputs.iter().skip(queued).all(|output| match output {
            Output::Transmit(_) => {
                transmits += 1;
                true
            }
            Output::Event(
                TransactionEvent::Request { .. }
                | TransactionEvent::Deferred { .. }
                | TransactionEvent::Cancel { .. }
                | TransactionEvent::Ack { .. },
            ) => {
                events += 1;
                true
            }
            Output::Event(_) | Output::Timeout(_) => false,
        });
        if queued == 0 && passed_on && events <= 1 && transmits <= 1 {
            for output in self.outputs.drain(..) {
                match output {
                    Output::Transmit(t) => arrival.transmit = Some(t),
                    Output::Event(e) => arrival.event = Some(e),
                    Output::Timeout(_) => {}
                }
            }
        }
        arrival.wake = self.must_wake(queued);
        arrival
    }

    fn run_timers(&mut self, now: Instant) {
        // Completed server non-INVITE transactions end silently: the TU holds nothing of a
        // server transaction it has answered, and no driver acts on their end.
        self.table.expire_completed(now);
        while let Some((slot, entry)) = self.table.pop_due(now) {
            let (machine, reaction) = entry.machine.on_timeout(now, &self.timers);
            self.settle(slot, entry.head, machine, reaction, None);
        }
    }

    fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        destination: SocketAddr,
        transport: Transport,
    ) -> Result<(), TransactionError> {
        let (key, method) = wire::client_key(&request)?;
        if method == "ACK" {
            return Err(TransactionError::AckNotAllowed);
        }
        let is_invite = method == "INVITE";
        if self.table.slot_of(&key).is_some() {
            return Err(TransactionError::Duplicate);
        }
        let reliable = is_reliable(transport);
        let bytes = wire::request_bytes(&request);
        let machine = if is_invite {
            Machine::ClientInvite(
                ClientInvite::start(now, &self.timers, reliable),
                Some(Box::new(request)),
            )
        } else {
            Machine::ClientNonInvite(
                ClientNonInvite::start(now, &self.timers, reliable),
                bytes.clone(),
            )
        };
        self.outputs.push_back(Output::Transmit(Transmit {
            destination,
            transport,
            bytes,
            key: Some(key.clone()),
        }));
        self.table.insert(key, destination, transport, machine);
        Ok(())
    }

    fn send_response(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        response: &Response,
    ) -> Result<(), TransactionError> {
        let status = response.status().as_u16();
        let slot = self.answerable(key, status)?;
        let Some(entry) = self.table.take(slot) else {
            return Err(TransactionError::NoTransaction);
        };
        let bytes = wire::response_bytes(response);
        let reliable = is_reliable(entry.head.transport);
        let result = match entry.machine {
            Machine::ServerInvite(s) => s
                .on_send(now, status, bytes, &self.timers, reliable)
                .map(|(s, r)| (s.map(Machine::ServerInvite), r))
                .map_err(|(s, e)| (Machine::ServerInvite(s), e)),
            Machine::ServerNonInvite(s) => s
                .on_send(now, status, bytes, &self.timers, reliable)
                .map(|(s, r)| (s.map(Machine::ServerNonInvite), r))
                .map_err(|(s, e)| (Machine::ServerNonInvite(s), e)),
            client => Err((client, TransactionError::NotServer)),
        };
        match result {
            Ok((
                Some(Machine::ServerNonInvite(ServerNonInvite::Completed { response, j_at })),
                _,
            )) if !reliable => {
                // All that is left to do is answer retransmissions until Timer J: the slot
                // goes back now, and only the bytes and the key are kept (see `Table`).
                self.transmit(response.clone(), entry.head.peer, entry.head.transport, key);
                self.table.release(slot, &entry.head.key);
                self.table.complete(entry.head.key, response, j_at);
                Ok(())
            }
            Ok((machine, reaction)) => {
                self.settle(slot, entry.head, machine, reaction, None);
                Ok(())
            }
            Err((machine, error)) => {
                self.table.put(
                    slot,
                    Entry {
                        head: entry.head,
                        machine,
                    },
                );
                Err(error)
            }
        }
    }

    fn send_stateless_response(
        &mut self,
        key: &TransactionKey,
        response: &Response,
    ) -> Result<(), TransactionError> {
        let status = response.status().as_u16();
        if status < 200 {
            return Err(TransactionError::NotFinal { status });
        }
        let slot = self.answerable(key, status)?;
        let Some(entry) = self.table.take(slot) else {
            return Err(TransactionError::NoTransaction);
        };
        match &entry.machine {
            Machine::ServerInvite(_) | Machine::ServerNonInvite(_) => {}
            _ => {
                self.table.put(slot, entry);
                return Err(TransactionError::NotServer);
            }
        }
        let bytes = wire::response_bytes(response);
        self.outputs.push_back(Output::Transmit(Transmit {
            destination: entry.head.peer,
            transport: entry.head.transport,
            bytes,
            // Nothing is left to fail: the transaction ends here.
            key: None,
        }));
        self.table.release(slot, &entry.head.key);
        self.push_event(TransactionEvent::Terminated {
            key: entry.head.key,
        });
        Ok(())
    }

    /// The slot of server transaction `key`, to answer with `status`; a completed one has
    /// already sent its final response.
    fn answerable(&self, key: &TransactionKey, status: u16) -> Result<u32, TransactionError> {
        match self.table.slot_of(key) {
            Some(slot) => Ok(slot),
            None if self.table.completed(key).is_some() => {
                Err(TransactionError::AlreadyFinal { status })
            }
            None => Err(TransactionError::NoTransaction),
        }
    }

    fn on_received(&mut self, now: Instant, received: Received) {
        match &received.message {
            Message::Request(request) => match wire::server_key(request) {
                Ok((key, method)) => {
                    let kind = match RequestKind::of(method) {
                        RequestKind::Other if self.deferred.iter().any(|m| m == method) => {
                            RequestKind::Deferred
                        }
                        kind => kind,
                    };
                    self.on_request(now, key, kind, received);
                }
                Err(_) => self.stats.malformed_dropped += 1,
            },
            Message::Response(response) => match wire::response_key(response) {
                Ok((key, status)) => self.on_response(now, key, status, received),
                Err(_) => self.stats.malformed_dropped += 1,
            },
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        key: TransactionKey,
        kind: RequestKind,
        received: Received,
    ) {
        let is_ack = kind == RequestKind::Ack;
        if let Some(slot) = self.table.slot_of(&key) {
            let Some(entry) = self.table.take(slot) else {
                return;
            };
            let reliable = is_reliable(entry.head.transport);
            let (machine, reaction) = match entry.machine {
                Machine::ServerInvite(s) => wrap(
                    s.on_request(now, is_ack, &self.timers, reliable),
                    Machine::ServerInvite,
                ),
                Machine::ServerNonInvite(s) => wrap(s.on_request(), Machine::ServerNonInvite),
                // Server keys never collide with client keys (the role is part of the key).
                client => (Some(client), Reaction::Nothing),
            };
            let delivered = is_ack.then(|| TransactionEvent::Ack { request: received });
            self.settle(slot, entry.head, machine, reaction, delivered);
            return;
        }
        let (peer, transport) = (received.source, received.transport);
        // A retransmission to a completed non-INVITE transaction (§17.2.2): its final
        // response again, to where the retransmission came from (the same sent-by).
        if let Some(response) = self.table.completed(&key) {
            let response = response.clone();
            self.stats.retransmissions += 1;
            self.transmit(response, peer, transport, &key);
            return;
        }
        match kind {
            // The ACK for a 2xx has its own branch and belongs to the dialog (§17.2.3).
            RequestKind::Ack => self.push_event(TransactionEvent::Ack { request: received }),
            RequestKind::Invite => {
                let Message::Request(request) = &received.message else {
                    return;
                };
                let trying = wire::trying(request);
                let (state, reaction) = ServerInvite::start(now, &self.timers, trying);
                self.push_event(TransactionEvent::Request {
                    key: key.clone(),
                    request: received,
                });
                if let Reaction::Send(bytes) = &reaction {
                    self.transmit(bytes.clone(), peer, transport, &key);
                }
                self.table
                    .insert(key, peer, transport, Machine::ServerInvite(state));
            }
            RequestKind::Cancel => {
                let invite_key = key.with_method("INVITE");
                let invite = self
                    .table
                    .slot_of(&invite_key)
                    .is_some()
                    .then_some(invite_key);
                self.push_event(TransactionEvent::Cancel {
                    key: key.clone(),
                    invite,
                    request: received,
                });
                self.table.insert(
                    key,
                    peer,
                    transport,
                    Machine::ServerNonInvite(ServerNonInvite::start(now, &self.timers)),
                );
            }
            // A copy of one still waiting for the TU is absorbed, as in Trying (§17.2.2).
            RequestKind::Deferred => {
                if self.unanswered.wait(&key) {
                    self.push_event(TransactionEvent::Deferred {
                        key,
                        request: received,
                    });
                }
            }
            RequestKind::Other => {
                self.push_event(TransactionEvent::Request {
                    key: key.clone(),
                    request: received,
                });
                self.table.insert(
                    key,
                    peer,
                    transport,
                    Machine::ServerNonInvite(ServerNonInvite::start(now, &self.timers)),
                );
            }
        }
    }

    fn on_response(&mut self, now: Instant, key: TransactionKey, status: u16, received: Received) {
        let Some(slot) = self.table.slot_of(&key) else {
            self.stats.stray_responses += 1;
            return;
        };
        let Some(entry) = self.table.take(slot) else {
            return;
        };
        let reliable = is_reliable(entry.head.transport);
        let (machine, reaction) = match entry.machine {
            Machine::ClientInvite(s, invite) => {
                let make_ack = || match (&received.message, &invite) {
                    (Message::Response(response), Some(invite)) => wire::ack(invite, response),
                    _ => None,
                };
                let (s, reaction) = s.on_response(now, status, &self.timers, reliable, make_ack);
                let machine = s.map(|s| {
                    let invite = invite.filter(|_| s.awaits_final());
                    Machine::ClientInvite(s, invite)
                });
                (machine, reaction)
            }
            Machine::ClientNonInvite(s, bytes) => {
                wrap(s.on_response(now, status, &self.timers, reliable), |s| {
                    Machine::ClientNonInvite(s, bytes)
                })
            }
            server => (Some(server), Reaction::Nothing),
        };
        let delivered = TransactionEvent::Response {
            key: entry.head.key.clone(),
            response: received,
        };
        self.settle(slot, entry.head, machine, reaction, Some(delivered));
    }

    /// Carries out `reaction`, then stores the machine back (rescheduling its timer) or,
    /// when it has terminated, removes the transaction.
    fn settle(
        &mut self,
        slot: u32,
        head: Head,
        machine: Option<Machine>,
        reaction: Reaction,
        delivered: Option<TransactionEvent>,
    ) {
        let (key, peer, transport) = (&head.key, head.peer, head.transport);
        match reaction {
            Reaction::Nothing => {}
            Reaction::Deliver => {
                if let Some(event) = delivered {
                    self.push_event(event);
                }
            }
            Reaction::DeliverAndSend(bytes) => {
                self.transmit(bytes, peer, transport, key);
                if let Some(event) = delivered {
                    self.push_event(event);
                }
            }
            Reaction::Send(bytes) => {
                self.stats.retransmissions += 1;
                self.transmit(bytes, peer, transport, key);
            }
            Reaction::Retransmit => {
                self.stats.retransmissions += 1;
                let bytes = match &machine {
                    Some(Machine::ClientInvite(_, Some(request))) => {
                        Some(wire::request_bytes(request))
                    }
                    Some(Machine::ClientNonInvite(_, bytes)) => Some(bytes.clone()),
                    _ => None,
                };
                if let Some(bytes) = bytes {
                    self.transmit(bytes, peer, transport, key);
                }
            }
            Reaction::TimedOut(timer) => self.push_event(TransactionEvent::Timeout {
                key: key.clone(),
                timer,
            }),
        }
        match machine {
            Some(machine) => self.table.put(slot, Entry { head, machine }),
            None => {
                self.table.release(slot, &head.key);
                self.push_event(TransactionEvent::Terminated { key: head.key });
            }
        }
    }

    fn transmit(
        &mut self,
        bytes: Bytes,
        destination: SocketAddr,
        transport: Transport,
        key: &TransactionKey,
    ) {
        self.outputs.push_back(Output::Transmit(Transmit {
            destination,
            transport,
            bytes,
            key: Some(key.clone()),
        }));
    }

    fn push_event(&mut self, event: TransactionEvent) {
        self.outputs.push_back(Output::Event(event));
    }
}

/// The methods the layer treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestKind {
    Invite,
    Ack,
    Cancel,
    /// A method the TU asked to [`defer`](TransactionLayer::defer).
    Deferred,
    Other,
}

impl RequestKind {
    fn of(method: &str) -> Self {
        match method {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "CANCEL" => Self::Cancel,
            _ => Self::Other,
        }
    }
}
