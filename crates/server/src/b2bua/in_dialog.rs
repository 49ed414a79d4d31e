//! Inside a call: the caller's ACK and CANCEL, BYE from either side (answered at once and
//! passed on), and every other request (re-INVITE, UPDATE, INFO, NOTIFY, …) relayed to the
//! other side with its answer relayed back. HD-LOGOUT-3: nothing here looks at who is
//! logged in — a call set up keeps running until a BYE, whatever happens to the desk.

use std::time::Instant;

use hotdesk_core::{Disposition, DomainName, Extension};
use hotdesk_sip::endpoint::{new_tag, ClientEvent, ServerTransaction};
use hotdesk_sip::transaction::{Received, TransactionKey};
use hotdesk_sip::{HeaderName, Method, Request, StatusCode};

use super::call::Side;
use super::keys::tag_key;
use super::prack::has_token;
use super::session::{negotiate, SessionTimer};
use super::setup::content_type;
use super::{B2bua, Relay, SLOT_IGNORE, SLOT_RELAY};

/// Headers of a relayed request carried to the other side.
const RELAYED: [&str; 7] = [
    "Event",
    "Subscription-State",
    "Session-Expires",
    "Min-SE",
    "Refer-To",
    "Info-Package",
    "Supported",
];

/// The headers of `request` that go on with it: [`RELAYED`], and `Require: timer` (the
/// one extension the other side may be asked for as is, RFC 4028 §7.1).
pub(super) fn relayed_headers(request: &Request) -> Vec<(&str, &str)> {
    let mut extra: Vec<(&str, &str)> = RELAYED
        .iter()
        .filter_map(|name| {
            let value = request.headers().get_named(name).next()?.value_str().ok()?;
            Some((*name, value))
        })
        .collect();
    if has_token(request.headers(), "Require", "timer") {
        extra.push(("Require", "timer"));
    }
    extra
}

/// The Content-Type of a request, if any.
pub(super) fn request_content_type(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(HeaderName::ContentType)
        .and_then(|h| h.value_str().ok())
}

impl B2bua {
    /// The call and side a request with this Call-ID and To tag belongs to.
    fn find(&self, request: &Request) -> Option<(u64, Side)> {
        let tag = request.to().ok()?.tag()?;
        let &(id, side) = self.dialogs.get(&tag_key(tag)?)?;
        // The tag found the dialog; the Call-ID must be its own too (RFC 3261 §12).
        let call_id = request.call_id();
        let call = self.calls.get(&id)?;
        let ours = match side {
            Side::A => call.a.local_tag == tag && call.a.call_id == call_id,
            Side::B => call
                .forks
                .iter()
                .any(|f| f.dialog.local_tag == tag && f.dialog.call_id == call_id),
        };
        ours.then_some((id, side))
    }

    /// A CANCEL of the caller's INVITE `invite`: 200 to the CANCEL, 487 to the INVITE, the
    /// forks cancelled. The CANCEL comes back when the INVITE is not a call of ours.
    pub fn cancel(
        &mut self,
        cancel: ServerTransaction,
        invite: &TransactionKey,
        now: Instant,
    ) -> Option<ServerTransaction> {
        if self.cancel_parked(invite) {
            let _ = cancel.reply(StatusCode::OK);
            return None;
        }
        let Some(&id) = self.invites.get(invite) else {
            return Some(cancel);
        };
        let _ = cancel.reply(StatusCode::OK);
        self.invites.remove(invite);
        if !self.calls.contains_key(&id) {
            return None;
        }
        let status = StatusCode::REQUEST_TERMINATED;
        self.abandon(id, status, None, Disposition::NoAnswer, now);
        self.publish();
        None
    }

    /// An ACK for a 2xx (the transaction layer passes those up). Stops our 2xx
    /// retransmission; with a late offer, carries the caller's answer to the callee.
    pub fn ack(&mut self, received: &Received) {
        let Some(request) = received.message.as_request() else {
            return;
        };
        let Some((id, side)) = self.find(request) else {
            return;
        };
        if self.reinvite_ack(id, side, request) || side == Side::B {
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.a_ok.take().is_none() {
            // A retransmission.
            return;
        }
        if !call.a_offer {
            if let Some(winner) = call.winner {
                let body = request_content_type(request)
                    .filter(|_| !request.body().is_empty())
                    .map(|ct| (ct.to_owned(), request.body_bytes()));
                let body = body.as_ref().map(|(ct, b)| (ct.as_str(), b.clone()));
                if let Some(r) = call.refresher.as_mut() {
                    r.sent(body.clone());
                }
                self.send_ack(id, winner, body);
            }
        }
    }

    /// A request with a To tag: ours if it names a live call's dialog, else handed back.
    pub fn in_dialog(
        &mut self,
        transaction: ServerTransaction,
        now: Instant,
    ) -> Option<ServerTransaction> {
        let request = transaction.request();
        let Some((id, side)) = self.find(request) else {
            return Some(transaction);
        };
        let method = request.method().clone();
        match method {
            Method::Bye => {
                let _ = transaction.reply(StatusCode::OK);
                let answered = self.calls.get(&id).is_some_and(|c| c.winner.is_some());
                if answered {
                    self.hang_up(id, Some(side), now);
                } else {
                    // A BYE in an early dialog: as a CANCEL would.
                    self.give_up_ringing(id, now);
                }
            }
            Method::Invite => self.reinvite(id, side, transaction),
            Method::Prack => self.prack(id, side, transaction),
            _ => self.relay(id, side, transaction),
        }
        self.publish();
        None
    }

    /// Sends a request of `side`'s peer on to the other side.
    fn relay(&mut self, id: u64, from: Side, transaction: ServerTransaction) {
        let to = match from {
            Side::A => Side::B,
            Side::B => Side::A,
        };
        let Some(dialog) = self.calls.get_mut(&id).and_then(|c| c.dialog_mut(to)) else {
            return self.relay_early(id, transaction);
        };
        let Some(via_value) = self.io.via(&dialog.target) else {
            let _ = transaction.reply(StatusCode::SERVICE_UNAVAILABLE);
            return;
        };
        let request = transaction.request();
        let extra = relayed_headers(request);
        let body = request_content_type(request)
            .filter(|_| !request.body().is_empty())
            .map(|ct| (ct, request.body_bytes()));
        let Some(out) = dialog.request(request.method().clone(), via_value, None, &extra, body)
        else {
            let _ = transaction.reply(StatusCode::BAD_REQUEST);
            return;
        };
        let target = dialog.target.clone();
        self.send_relay(id, out, target, transaction);
    }

    /// A caller's request before the answer (UPDATE, INFO; RFC 3311 §5.1): into the early
    /// dialog a callee's reliable provisional opened, else 481.
    fn relay_early(&mut self, id: u64, transaction: ServerTransaction) {
        let early = self.calls.get(&id).and_then(|c| c.reliable.early_fork);
        let request = transaction.request();
        let extra = relayed_headers(request);
        let body = request_content_type(request)
            .filter(|_| !request.body().is_empty())
            .map(|ct| (ct, request.body_bytes()));
        let method = request.method().clone();
        let out = early.and_then(|index| self.early_request(id, index, method, &extra, body));
        match out {
            Some((out, target)) => self.send_relay(id, out, target, transaction),
            None => {
                let _ = transaction.reply(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
            }
        }
    }

    /// Sends `out` for `transaction` of call `id`; the answer comes to
    /// [`Self::relay_answer`], a failure to send is answered 503 at once.
    pub(super) fn send_relay(
        &mut self,
        id: u64,
        out: Request,
        target: hotdesk_sip::transport::Target,
        transaction: ServerTransaction,
    ) {
        let token = Self::token(self.next_id, SLOT_RELAY);
        self.next_id += 1;
        match self
            .io
            .endpoint
            .send_request_to(out, target, &self.io.sink, token)
        {
            Ok(_) => {
                self.relays.insert(
                    token,
                    Relay {
                        call: id,
                        transaction,
                    },
                );
            }
            Err(_) => {
                let _ = transaction.reply(StatusCode::SERVICE_UNAVAILABLE);
            }
        }
    }

    /// The other side answered (or failed) a relayed request: answer the original.
    pub(super) fn relay_answer(&mut self, token: u64, event: ClientEvent, now: Instant) {
        let response = match event {
            ClientEvent::Response(received) => match received.message.into_response() {
                Some(r) => r,
                None => return,
            },
            ClientEvent::Timeout(_) => {
                if let Some(relay) = self.relays.remove(&token) {
                    let _ = relay.transaction.reply(StatusCode::REQUEST_TIMEOUT);
                }
                return;
            }
            ClientEvent::TransportError | ClientEvent::Refused(_) => {
                if let Some(relay) = self.relays.remove(&token) {
                    let _ = relay.transaction.reply(StatusCode::SERVICE_UNAVAILABLE);
                }
                return;
            }
        };
        let status = response.status();
        if status == StatusCode::TRYING {
            return;
        }
        let Some(relay) = self.relays.get(&token) else {
            return;
        };
        let id = relay.call;
        let is_update = *relay.transaction.request().method() == Method::Update;
        let Some(call) = self.calls.get_mut(&id) else {
            self.relays.remove(&token);
            return;
        };
        let contact = call.a.contact.clone();
        let mut builder = relay
            .transaction
            .request()
            .response(status)
            .reason(response.reason())
            .to_tag(new_tag());
        if is_update {
            builder = builder.header("Contact", contact.to_string());
            if status.is_success() {
                // An UPDATE is a session refresh too (RFC 4028 §10).
                let negotiated = negotiate(relay.transaction.request(), &response);
                call.session = SessionTimer::after(call.session, &negotiated, now);
                for (name, value) in negotiated.headers {
                    builder = builder.header(name, value);
                }
            }
        }
        if let Some(ct) = content_type(&response) {
            if !response.body().is_empty() {
                builder = builder.body(ct, response.body_bytes());
            }
        }
        let built = builder.build();
        if status.is_provisional() {
            let _ = relay.transaction.provisional(built);
            return;
        }
        let Some(relay) = self.relays.remove(&token) else {
            return;
        };
        let _ = relay.transaction.respond(built);
    }

    /// BYE toward `side` of an answered call (responses ignored).
    pub(super) fn send_bye(&mut self, id: u64, side: Side) {
        let Some(dialog) = self.calls.get_mut(&id).and_then(|c| c.dialog_mut(side)) else {
            return;
        };
        let Some(via_value) = self.io.via(&dialog.target) else {
            return;
        };
        if let Some(bye) = dialog.request(Method::Bye, via_value, None, &[], None) {
            let _ = self.io.endpoint.send_request_to(
                bye,
                dialog.target.clone(),
                &self.io.sink,
                Self::token(id, SLOT_IGNORE),
            );
        }
    }

    /// The location URL of a device for an emergency call's Geolocation header
    /// (HD-ROUTE-6, RFC 6442: PIDF-LO by reference).
    pub(super) fn geolocation_url(&self, domain: &DomainName, anchor: &Extension) -> String {
        match &self.http_base {
            Some(base) => format!("<{base}/api/v1/location/{domain}/{anchor}.xml>"),
            None => format!("<cid:location-{anchor}@{domain}>"),
        }
    }
}
