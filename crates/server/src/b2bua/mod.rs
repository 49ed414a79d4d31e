//! The signalling-only B2BUA (SPEC §2 Routing): every call is two UA halves joined here —
//! toward the caller (A, we are its UAS) and toward the callee's devices (B, we fork as
//! UAC, HD-ROUTE-1). Each half has its own Call-ID, tags and CSeq; bodies (SDP) pass
//! through unchanged, so media flows phone to phone.
//!
//! Owned by the dispatcher task, like the registrar: no locks, nothing awaited. Client
//! transactions report on one shared channel ([`ClientSink`]) tagged with a token naming
//! the call and fork; timers sit in one heap the dispatcher sleeps on. The dialog-level
//! work the transaction layer leaves to us is done here: re-sending our 2xx until the ACK
//! (RFC 3261 §13.3.1.4) and ACKing every 2xx we receive (§13.2.2.4).
//!
//! Files: [`route`] (who rings, HD-ROUTE-*), [`setup`] (INVITE, inbound, start),
//! [`forks`] (provisionals, first 2xx wins, CANCEL, failures),
//! [`in_dialog`] (ACK, BYE, CANCEL, relayed requests), [`hunt`] (queues and forwarding:
//! calls ringing in stages), [`reinvite`] (RFC 3261 §14), [`prack`] (RFC 3262), [`session`]
//! (RFC 4028), [`trunk`], [`dialog`], [`call`], [`cdr`].

mod call;
pub mod cdr;
mod dialog;
mod forks;
mod hunt;
mod in_dialog;
mod keys;
mod prack;
mod reinvite;
mod route;
pub mod session;
mod setup;
mod trunk;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotdesk_core::{Cdr, Disposition, DomainName, Extension};
use hotdesk_sip::endpoint::{ClientEvent, ClientSink, Endpoint, ServerTransaction, SharedEvents};
use hotdesk_sip::transaction::TransactionKey;
use hotdesk_sip::transport::{Target, Transport};
use tokio::sync::mpsc;

use crate::state::App;
use call::{Call, Side};
use keys::{tag_key, IdMap};

/// RFC 3261 T1: first 2xx retransmission interval.
const T1: Duration = Duration::from_millis(500);
/// RFC 3261 T2: cap of the 2xx retransmission interval.
const T2: Duration = Duration::from_secs(4);
/// How long an ended call waits for its forks' final responses (64·T1, §9.1).
const LINGER: Duration = Duration::from_secs(32);

/// Token slot of transactions whose responses we ignore (our BYEs and CANCELs).
const SLOT_IGNORE: u64 = 0;
/// Token slot of relayed in-dialog requests (looked up in `relays`).
const SLOT_RELAY: u64 = 0xFF;
/// Token slot of a call's relayed re-INVITE (one at a time per call).
const SLOT_REINVITE: u64 = 0xFE;
/// Token slot of our own session refresh toward the callee (RFC 4028, [`session`]).
const SLOT_REFRESH: u64 = 0xFD;

/// Call timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// How long forks ring before the caller gets 480 (`HOTDESK_CALL_RING_TIMEOUT`).
    pub ring_timeout: Duration,
    /// Longest call; longer ones are cleared with BYE (hung dialogs are reaped).
    pub max_duration: Duration,
    /// Smallest session interval accepted (RFC 4028 Min-SE, `HOTDESK_CALL_MIN_SE`).
    pub min_se: u32,
    /// Session interval asked of the callee when the caller asked for none, with us
    /// refreshing (RFC 4028 §8, `HOTDESK_CALL_SESSION_EXPIRES`); 0: none.
    pub session_expires: u32,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            ring_timeout: Duration::from_secs(60),
            max_duration: Duration::from_secs(4 * 3600),
            min_se: session::MIN_SE_FLOOR,
            session_expires: session::SESSION_EXPIRES,
        }
    }
}

/// An in-dialog request relayed to the other side, waiting for its answer.
#[derive(Debug)]
struct Relay {
    call: u64,
    /// The request we answer with the other side's response.
    transaction: ServerTransaction,
}

/// Sending: the endpoint, the shared event channel and our listener addresses.
#[derive(Debug)]
struct Io {
    endpoint: Endpoint,
    sink: ClientSink,
    /// Our Contact per listener, shared by every dialog (one allocation, not two per call).
    contacts: Vec<(Transport, Arc<str>)>,
}

impl Io {
    fn new(endpoint: Endpoint, sink: ClientSink) -> Self {
        let mut io = Self {
            endpoint,
            sink,
            contacts: Vec::new(),
        };
        let transports: Vec<Transport> =
            io.endpoint.local_addrs().iter().map(|(t, _)| *t).collect();
        io.contacts = transports
            .into_iter()
            .map(|t| (t, Arc::from(io.contact_text(t))))
            .collect();
        io
    }

    fn local(&self, transport: Transport) -> Option<SocketAddr> {
        self.endpoint
            .local_addr(transport)
            .or_else(|| self.endpoint.local_addr(Transport::Udp))
    }

    /// The Via (fresh branch) of a request to `target`, from our listener of its transport.
    fn via(&self, target: &Target) -> Option<String> {
        self.local(target.transport)
            .map(|local| dialog::via(target, local))
    }

    /// Our Contact URI for `transport`.
    fn contact(&self, transport: Transport) -> Arc<str> {
        match self.contacts.iter().find(|(t, _)| *t == transport) {
            Some((_, contact)) => Arc::clone(contact),
            None => Arc::from(self.contact_text(transport)),
        }
    }

    fn contact_text(&self, transport: Transport) -> String {
        match self.local(transport) {
            Some(addr) if transport == Transport::Udp => format!("<sip:{addr}>"),
            Some(addr) => format!(
                "<sip:{addr};transport={}>",
                transport.as_str().to_ascii_lowercase()
            ),
            None => "<sip:invalid>".to_owned(),
        }
    }
}

/// The B2BUA: every call in progress, indexed by dialog and by the caller's INVITE.
pub struct B2bua {
    app: Arc<App>,
    io: Io,
    policy: CallPolicy,
    /// Boxed: the table keeps spare slots (up to half of them when it has just grown), and a
    /// call is large; a pointer per spare slot rather than a whole call (held calls,
    /// BENCHMARKS.md "Concurrent calls").
    calls: IdMap<Box<Call>>,
    /// Our tag in a dialog ([`keys::tag_key`]) → call and side; [`Self::find`] checks the
    /// Call-ID too.
    dialogs: IdMap<(u64, Side)>,
    /// The caller's INVITE transaction → call, for CANCEL.
    invites: HashMap<TransactionKey, u64>,
    relays: IdMap<Relay>,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    next_id: u64,
    cdrs: mpsc::UnboundedSender<Cdr>,
    /// Base URL of our HTTP listener, for Geolocation URLs (HD-ROUTE-6).
    http_base: Option<String>,
    /// Emergency callback windows: (domain, callback number) → device anchor, until.
    callbacks: HashMap<(DomainName, String), (Extension, Instant)>,
    /// Round-robin queues: (domain, queue) → the member the next call starts at.
    rotation: HashMap<(DomainName, Extension), usize>,
    /// Trunk names resolved in the background (RFC 3263).
    trunk_names: trunk::TrunkNames,
    /// Calls waiting for their trunk's name to resolve.
    parked: Vec<trunk::Parked>,
}

impl std::fmt::Debug for B2bua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("B2bua")
            .field("calls", &self.calls.len())
            .field("dialogs", &self.dialogs.len())
            .finish_non_exhaustive()
    }
}

impl B2bua {
    /// A B2BUA sending through `endpoint`; CDRs go to `cdrs`. The returned channel carries
    /// the responses to the requests it sends: feed them to [`Self::client_event`].
    pub fn new(
        app: Arc<App>,
        endpoint: Endpoint,
        policy: CallPolicy,
        cdrs: mpsc::UnboundedSender<Cdr>,
    ) -> (Self, SharedEvents) {
        let (sink, events) = ClientSink::channel();
        let b2bua = Self {
            app,
            io: Io::new(endpoint, sink),
            policy,
            calls: IdMap::default(),
            dialogs: IdMap::default(),
            invites: HashMap::new(),
            relays: IdMap::default(),
            timers: BinaryHeap::new(),
            next_id: 1,
            cdrs,
            http_base: None,
            callbacks: HashMap::new(),
            rotation: HashMap::new(),
            trunk_names: trunk::TrunkNames::default(),
            parked: Vec::new(),
        };
        (b2bua, events)
    }

    /// Sets the base URL (`http://127.0.0.1:8080`) location documents are served from.
    pub fn set_http_base(&mut self, base: Option<String>) {
        self.http_base = base;
    }

    /// DNS servers for trunk names (`HOTDESK_DNS_SERVERS`); empty keeps `/etc/resolv.conf`.
    pub fn set_dns_servers(&mut self, servers: &[SocketAddr]) {
        self.trunk_names.use_servers(servers);
    }

    /// The earliest timer, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// A response (or failure) of a request we sent.
    pub fn client_event(&mut self, token: u64, event: ClientEvent, now: Instant) {
        let (call, slot) = (token >> 8, token & 0xFF);
        match slot {
            SLOT_IGNORE => {}
            SLOT_RELAY => self.relay_answer(token, event, now),
            SLOT_REINVITE => self.reinvite_answer(call, event, now),
            SLOT_REFRESH => self.refresh_answer(call, event, now),
            fork => self.fork_event(call, (fork - 1) as usize, event, now),
        }
        self.publish();
    }

    /// Runs the timers due at `now`.
    pub fn on_timer(&mut self, now: Instant) {
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let current = self.calls.get_mut(&id).filter(|c| c.scheduled == Some(at));
            if let Some(call) = current {
                call.scheduled = None;
                self.tick(id, now);
            }
        }
        self.publish();
    }

    /// Puts the call in the heap for its next deadline, unless an entry as early is there.
    fn schedule(&mut self, id: u64) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(at) = call.deadline(LINGER) else {
            return;
        };
        if call.scheduled.is_none_or(|s| at < s) {
            call.scheduled = Some(at);
            self.timers.push(Reverse((at, id)));
        }
    }

    /// Clears calls past the longest duration or whose session timer lapsed without a
    /// refresh (RFC 4028 §10; hung dialogs: both phones gone without a BYE) and sends our
    /// own session refreshes when due. Run from the dispatcher's periodic sweep (1 s).
    pub fn sweep(&mut self, now: Instant) {
        let hung: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| {
                c.ended.is_none()
                    && (c.end_deadline <= now || c.session.is_some_and(|s| s.expires <= now))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in hung {
            tracing::info!(
                call = id,
                "call reached its longest duration or session expiry; clearing it"
            );
            self.hang_up(id, None, now);
        }
        self.refresh_due(now);
        self.trunk_sweep(now);
        self.publish();
    }

    fn tick(&mut self, id: u64, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(ended) = call.ended {
            if ended + LINGER <= now {
                // Forks that never answered our CANCEL: give up on them (§9.1).
                self.remove(id);
                return;
            }
        }
        if let Some(r) = &mut call.a_ok {
            if r.give_up <= now {
                // No ACK for our 2xx: the caller is gone (§13.3.1.4); clear the call.
                call.a_ok = None;
                self.hang_up(id, None, now);
                return;
            }
            if r.due(now, Some(T2)) {
                let _ = self
                    .io
                    .endpoint
                    .send_stateless(r.bytes.clone(), r.target.clone());
            }
        }
        if call.a_invite.is_some() && call.ring_deadline <= now {
            // A staged call (queue, forwarding) moves on; otherwise 480.
            if !self.advance_hunt(id, now) {
                self.give_up_ringing(id, now);
            }
            return;
        }
        if self.reinvite_tick(id, now) || self.reliable_tick(id, now) {
            return;
        }
        self.schedule(id);
    }

    /// Ends an answered call: BYE to every side but `except` (the one that hung up).
    fn hang_up(&mut self, id: u64, except: Option<Side>, now: Instant) {
        for side in [Side::A, Side::B] {
            if Some(side) != except {
                self.send_bye(id, side);
            }
        }
        self.end(id, Disposition::Answered, now);
    }

    /// Marks the call over, writes its CDR and removes it once its forks are done.
    fn end(&mut self, id: u64, disposition: Disposition, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.cancelled = true;
        call.a_ok = None;
        call.shed_setup();
        if call.ended.is_none() {
            call.ended = Some(now);
            let record = &call.record;
            let cdr = Cdr {
                domain: record.domain.clone(),
                call_id: call.a.call_id.clone(),
                direction: record.direction,
                anchor: record.anchor.clone(),
                user_name: record.identity.name.clone(),
                user_extension: record.identity.user.clone(),
                from: record.identity.number.clone(),
                to: record.dialled.clone(),
                start: record.start,
                answer: record.answer,
                end: self.app.now(),
                disposition,
            };
            // The writer task is gone only at shutdown.
            let _ = self.cdrs.send(cdr);
        }
        let done = call.forks_done();
        // Dialogs end now: later requests in them get 481.
        self.forget_dialogs(id);
        if done {
            self.remove(id);
        } else {
            self.schedule(id);
        }
    }

    fn remove(&mut self, id: u64) {
        self.forget_dialogs(id);
        if let Some(call) = self.calls.remove(&id) {
            self.invites.remove(&call.a_invite_key);
            self.relays.retain(|_, r| r.call != id);
        }
    }

    /// Unlinks call `id`'s dialogs: the caller's and every stage's toward the callees (each
    /// stage has its own Call-ID and tag, see [`hunt`]).
    fn forget_dialogs(&mut self, id: u64) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let tags = std::iter::once(&call.a.local_tag)
            .chain(call.forks.iter().map(|f| &f.dialog.local_tag));
        for key in tags.filter_map(|tag| tag_key(tag)) {
            self.dialogs.remove(&key);
        }
    }

    /// Links our tag `tag` of a dialog to call `id`'s `side`.
    fn link(&mut self, tag: &str, id: u64, side: Side) {
        // Our tags always have a key (`keys::new_tag`).
        if let Some(key) = tag_key(tag) {
            self.dialogs.insert(key, (id, side));
        }
    }

    /// Updates the gauges `/metrics` shows.
    fn publish(&self) {
        let c = self.app.counters();
        c.calls_active
            .store(self.calls.len() as u64, Ordering::Relaxed);
        c.dialogs_active
            .store(self.dialogs.len() as u64, Ordering::Relaxed);
    }

    /// Calls in the table (answered, ringing, or waiting for their forks).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    fn token(call: u64, slot: u64) -> u64 {
        (call << 8) | slot
    }
}
