//! re-INVITE across an answered call (RFC 3261 §14), from either side: the request goes
//! to the other side as a new INVITE of that dialog with its body; the other side's 2xx
//! comes back to the requester and is re-sent until its ACK (§13.3.1.4); that ACK (with an
//! answer, when the offer came in the 2xx) goes on as the ACK of the other side's 2xx, and
//! is re-sent for each retransmission of it. One re-INVITE at a time per call: a second one
//! from the same side gets 500 with Retry-After, from the other side 491 (§14.2). Each 2xx
//! refreshes the session timer (RFC 4028 §10).

use std::time::Instant;

use bytes::Bytes;
use hotdesk_sip::endpoint::{ClientEvent, ServerTransaction};
use hotdesk_sip::transport::Target;
use hotdesk_sip::{HeaderName, Method, Request, Response, StatusCode};

use super::call::{Retransmit, Side};
use super::dialog::contact_uri;
use super::in_dialog::{relayed_headers, request_content_type};
use super::session::{negotiate, Negotiated, SessionTimer};
use super::setup::content_type;
use super::{B2bua, SLOT_REINVITE, T1, T2};

/// A re-INVITE in progress, or the last one (kept for its 2xx retransmissions).
#[derive(Debug)]
pub(super) struct ReInvite {
    /// The side that sent it.
    from: Side,
    /// Its CSeq there (the requester's ACK repeats it).
    their_cseq: u32,
    /// Our CSeq for it on the other side.
    our_cseq: u32,
    /// The request, until its final response.
    transaction: Option<ServerTransaction>,
    /// Our 2xx to the requester, re-sent until its ACK.
    pub ok: Option<Retransmit>,
    /// Our ACK of the other side's 2xx, re-sent for each retransmission of that 2xx.
    ack: Option<(Bytes, Target)>,
}

impl ReInvite {
    pub(super) fn pending(&self) -> bool {
        self.transaction.is_some() || self.ok.is_some()
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

fn contact_of(headers: &hotdesk_sip::Headers) -> Option<String> {
    headers
        .get(HeaderName::Contact)
        .and_then(|h| h.value_str().ok())
        .and_then(contact_uri)
}

impl B2bua {
    /// A re-INVITE from `from` in call `id`.
    pub(super) fn reinvite(&mut self, id: u64, from: Side, transaction: ServerTransaction) {
        let Some(call) = self.calls.get_mut(&id) else {
            let _ = transaction.reply(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
            return;
        };
        let request = transaction.request();
        if call.winner.is_none() || call.ended.is_some() {
            // Not before the call is answered (§14.1).
            let _ = transaction.reply(StatusCode::REQUEST_PENDING);
            return;
        }
        if let Some(pending) = call.reinvite.as_ref().filter(|r| r.pending()) {
            if pending.from == from {
                let response = request
                    .response(StatusCode::SERVER_INTERNAL_ERROR)
                    .reason("Previous re-INVITE In Progress")
                    .header("Retry-After", "2")
                    .build();
                let _ = transaction.respond(response);
            } else {
                let _ = transaction.reply(StatusCode::REQUEST_PENDING);
            }
            return;
        }
        // Target refresh (§12.2.2).
        if let (Some(uri), Some(dialog)) = (contact_of(request.headers()), call.dialog_mut(from)) {
            dialog.remote_target = uri;
        }
        let their_cseq = request.cseq().seq;
        let Some(dialog) = call.dialog_mut(other(from)) else {
            let _ = transaction.reply(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
            return;
        };
        let Some(via_value) = self.io.via(&dialog.target) else {
            let _ = transaction.reply(StatusCode::SERVICE_UNAVAILABLE);
            return;
        };
        let extra = relayed_headers(request);
        let body = request_content_type(request)
            .filter(|_| !request.body().is_empty())
            .map(|ct| (ct, request.body_bytes()));
        let sent = body.clone();
        let Some(out) = dialog.request(Method::Invite, via_value, None, &extra, body) else {
            let _ = transaction.reply(StatusCode::BAD_REQUEST);
            return;
        };
        let our_cseq = dialog.cseq;
        let target = dialog.target.clone();
        if from == Side::A {
            // The callee's SDP from us changes: our re-INVITE refreshes repeat this one.
            if let Some(r) = call.refresher.as_mut() {
                r.sent(sent);
            }
        }
        let token = Self::token(id, SLOT_REINVITE);
        if self
            .io
            .endpoint
            .send_request_to(out, target, &self.io.sink, token)
            .is_err()
        {
            let _ = transaction.reply(StatusCode::SERVICE_UNAVAILABLE);
            return;
        }
        call.reinvite = Some(Box::new(ReInvite {
            from,
            their_cseq,
            our_cseq,
            transaction: Some(transaction),
            ok: None,
            ack: None,
        }));
    }

    /// The other side answered (or failed) a relayed re-INVITE.
    pub(super) fn reinvite_answer(&mut self, id: u64, event: ClientEvent, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(r) = call.reinvite.as_mut() else {
            return;
        };
        let response = match event {
            ClientEvent::Response(received) => match received.message.into_response() {
                Some(response) => response,
                None => return,
            },
            ClientEvent::Timeout(_) | ClientEvent::TransportError | ClientEvent::Refused(_) => {
                if let Some(transaction) = r.transaction.take() {
                    let _ = transaction.reply(StatusCode::REQUEST_TIMEOUT);
                }
                call.reinvite = None;
                return;
            }
        };
        let status = response.status();
        if status == StatusCode::TRYING || response.cseq().seq != r.our_cseq {
            return;
        }
        if status.is_success() && r.transaction.is_none() {
            // A 2xx retransmission: our ACK was lost, or the requester's is still to come.
            if let Some((bytes, target)) = &r.ack {
                let _ = self
                    .io
                    .endpoint
                    .send_stateless(bytes.clone(), target.clone());
            }
            return;
        }
        let from = r.from;
        if status.is_success() {
            if let (Some(uri), Some(dialog)) =
                (contact_of(response.headers()), call.dialog_mut(other(from)))
            {
                dialog.remote_target = uri;
            }
        }
        let Some((contact, target)) = call
            .dialog_mut(from)
            .map(|d| (d.contact.clone(), d.target.clone()))
        else {
            return;
        };
        let Some(r) = call.reinvite.as_mut() else {
            return;
        };
        let Some(transaction) = r.transaction.as_ref() else {
            return;
        };
        let negotiated = negotiate(transaction.request(), &response);
        if status.is_success() {
            call.session = SessionTimer::after(call.session, &negotiated, now);
        }
        let built = answer(transaction.request(), &response, &contact, negotiated);
        if from == Side::B && status.is_success() {
            // The caller's answer goes to the callee as ours (see `session::Refresher`).
            let body = content_type(&response)
                .filter(|_| !response.body().is_empty())
                .map(|ct| (ct, response.body_bytes()));
            if let Some(r) = call.refresher.as_mut() {
                r.sent(body);
            }
        }
        if status.is_provisional() {
            let _ = transaction.provisional(built);
            return;
        }
        let Some(transaction) = r.transaction.take() else {
            return;
        };
        if status.is_success() {
            r.ok = Some(Retransmit {
                bytes: built.as_bytes().clone(),
                target,
                next: now + T1,
                interval: T1,
                give_up: now + T1 * 64,
            });
            let _ = transaction.respond(built);
            self.schedule(id);
        } else {
            // The transaction layers ACK non-2xx answers on both sides.
            let _ = transaction.respond(built);
            call.reinvite = None;
        }
    }

    /// An ACK from `side`: if it acknowledges our 2xx to its re-INVITE, stops the
    /// re-sending and ACKs the other side's 2xx with its body. `false` if not such an ACK.
    pub(super) fn reinvite_ack(&mut self, id: u64, side: Side, request: &Request) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let Some(r) = call.reinvite.as_mut() else {
            return false;
        };
        if r.from != side || request.cseq().seq != r.their_cseq || r.transaction.is_some() {
            return false;
        }
        if r.ok.take().is_none() {
            // A retransmitted ACK.
            return true;
        }
        let our_cseq = r.our_cseq;
        let Some(dialog) = call.dialog_mut(other(side)) else {
            return true;
        };
        let Some(via_value) = self.io.via(&dialog.target) else {
            return true;
        };
        let body = request_content_type(request)
            .filter(|_| !request.body().is_empty())
            .map(|ct| (ct, request.body_bytes()));
        let Some(ack) = dialog.request(Method::Ack, via_value, Some(our_cseq), &[], body) else {
            return true;
        };
        let bytes = ack.as_bytes().clone();
        let target = dialog.target.clone();
        let _ = self
            .io
            .endpoint
            .send_stateless(bytes.clone(), target.clone());
        if let Some(r) = call.reinvite.as_mut() {
            r.ack = Some((bytes, target));
        }
        true
    }

    /// Re-sends our 2xx to a re-INVITE; with no ACK after 64·T1 the requester is gone and
    /// the call is cleared (§13.3.1.4). Returns `true` when it was.
    pub(super) fn reinvite_tick(&mut self, id: u64, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        if call.ended.is_some() {
            // The call is over: nothing to re-send.
            call.reinvite = None;
            return false;
        }
        let Some(r) = call.reinvite.as_mut().and_then(|r| r.ok.as_mut()) else {
            return false;
        };
        if r.give_up <= now {
            self.hang_up(id, None, now);
            return true;
        }
        if r.due(now, Some(T2)) {
            let _ = self
                .io
                .endpoint
                .send_stateless(r.bytes.clone(), r.target.clone());
        }
        false
    }
}

/// The requester's copy of the other side's answer: status, reason, body, our Contact,
/// and the session timer's headers.
fn answer(
    request: &Request,
    response: &Response,
    contact: &str,
    negotiated: Negotiated,
) -> Response {
    let status = response.status();
    let mut builder = request
        .response(status)
        .reason(response.reason())
        .header("Contact", contact.to_owned());
    if status.is_success() {
        for (name, value) in negotiated.headers {
            builder = builder.header(name, value);
        }
    }
    if let Some(ct) = content_type(response) {
        if !response.body().is_empty() {
            builder = builder.body(ct.to_owned(), response.body_bytes());
        }
    }
    builder.build()
}
