//! The forks of a call being set up (HD-ROUTE-1): provisionals relayed to the caller, the
//! first 2xx wins and the others are cancelled (or, answering too late, ACKed and sent a
//! BYE), and when every fork failed the caller gets the best failure (RFC 3261 §16.7).

use std::time::Instant;

use bytes::Bytes;
use hotdesk_core::Disposition;
use hotdesk_sip::endpoint::ClientEvent;
use hotdesk_sip::{HeaderName, Method, Response, StatusCode};

use super::call::{ForkState, Retransmit};
use super::dialog::contact_uri;
use super::keys::tag_key;
use super::session::{self, Negotiated, Refresher, SessionTimer};
use super::setup::content_type;
use super::{B2bua, T1};

impl B2bua {
    /// A response, timeout or failure of fork `index` of call `id`.
    pub(super) fn fork_event(&mut self, id: u64, index: usize, event: ClientEvent, now: Instant) {
        match event {
            ClientEvent::Response(received) => {
                if let Some(response) = received.message.into_response() {
                    self.fork_response(id, index, &response, now);
                }
            }
            ClientEvent::Timeout(_) => self.fork_failed(
                id,
                index,
                StatusCode::REQUEST_TIMEOUT,
                "No Answer From Device",
                now,
            ),
            ClientEvent::TransportError => self.fork_failed(
                id,
                index,
                StatusCode::SERVICE_UNAVAILABLE,
                "Device Unreachable",
                now,
            ),
            ClientEvent::Refused(_) => self.fork_failed(
                id,
                index,
                StatusCode::SERVER_INTERNAL_ERROR,
                "Request Refused",
                now,
            ),
        }
    }

    fn fork_response(&mut self, id: u64, index: usize, response: &Response, now: Instant) {
        let status = response.status();
        if status == StatusCode::SESSION_INTERVAL_TOO_SMALL {
            if self.retry_interval(id, index, response) {
                return;
            }
            // Kept for the caller, then a failure like any other (RFC 4028 §7.4).
            self.note_interval_too_small(id, index, response);
        }
        if matches!(status.as_u16(), 401 | 407) {
            if self.answer_challenge(id, index, response) {
                return;
            }
            // Another's challenge is not the caller's to answer (HD-ROUTE-9).
            let reason = "Upstream Authentication Failed";
            return self.fork_failed(id, index, StatusCode::SERVICE_UNAVAILABLE, reason, now);
        }
        if status.is_success() {
            return self.fork_answered(id, index, response, now);
        }
        if !status.is_provisional() {
            let reason = response.reason().to_owned();
            return self.fork_failed(id, index, status, &reason, now);
        }
        if status == StatusCode::TRYING {
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(fork) = call.forks.get_mut(index) else {
            return;
        };
        if fork.state == ForkState::Calling {
            fork.state = ForkState::Early;
        }
        if fork.cancel_pending {
            fork.cancel_pending = false;
            self.send_cancel(id, index);
            return;
        }
        if call.cancelled || call.a_invite.is_none() {
            return;
        }
        // Reliably or not (RFC 3262): see `prack`.
        self.provisional_to_caller(id, index, response, now);
    }

    fn fork_answered(&mut self, id: u64, index: usize, response: &Response, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(fork) = call.forks.get_mut(index) else {
            return;
        };
        if fork.state == ForkState::Answered {
            // A retransmitted 2xx: our ACK was lost (§13.2.2.4).
            if let Some((bytes, target)) = &fork.ack {
                let _ = self
                    .io
                    .endpoint
                    .send_stateless(bytes.clone(), target.clone());
            }
            return;
        }
        fork.state = ForkState::Answered;
        fork.cancel_pending = false;
        fork.shed_setup();
        if let Some(tag) = response.to().ok().and_then(|t| t.tag()) {
            fork.dialog.set_remote_tag(tag);
        }
        if let Some(uri) = response
            .headers()
            .get(HeaderName::Contact)
            .and_then(|h| h.value_str().ok())
            .and_then(contact_uri)
        {
            fork.dialog.remote_target = uri;
        }
        let mut route: Vec<String> = response
            .headers()
            .get_all(HeaderName::RecordRoute)
            .filter_map(|h| h.value_str().ok().map(str::to_owned))
            .collect();
        route.reverse();
        fork.dialog.route = route;
        let wins = call.winner.is_none() && call.a_invite.is_some() && !call.cancelled;
        // The ACK goes at once, unless the caller's ACK must bring the answer (late offer).
        if !wins || call.a_offer {
            self.send_ack(id, index, None);
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if !wins {
            // Too late: another fork answered, or the caller gave up (HD-ROUTE-1).
            self.send_fork_bye(id, index);
            self.fork_settled(id, now);
            return;
        }
        call.winner = Some(index);
        let offer = call.template.as_ref().and_then(|t| t.offer());
        call.shed_setup();
        // Earlier hunt stages' dialogs-to-be are over (each had its own Call-ID).
        let won = call.forks.get(index).map(|f| f.dialog.call_id.as_str());
        let stale: Vec<u64> = call
            .forks
            .iter()
            .filter(|f| Some(f.dialog.call_id.as_str()) != won)
            .filter_map(|f| tag_key(&f.dialog.local_tag))
            .collect();
        for key in stale {
            self.dialogs.remove(&key);
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.record.answer = Some(self.app.now());
        let Some(transaction) = call.a_invite.take().map(|t| *t) else {
            return;
        };
        self.invites.remove(transaction.key());
        let mut builder = transaction
            .request()
            .response(response.status())
            .reason(response.reason())
            .to_tag(call.a.local_tag.as_str())
            .record_route()
            .header("Contact", &*call.a.contact);
        if session::requested(transaction.request().headers()).is_some()
            || self.policy.session_expires == 0
        {
            // RFC 4028: the negotiated interval and refresher go back to the caller.
            let negotiated = session::negotiate(transaction.request(), response);
            call.session = SessionTimer::after(None, &negotiated, now);
            for (name, value) in negotiated.headers {
                builder = builder.header(name, value);
            }
        } else {
            // The timer is ours, on the callee's leg only (see `session`).
            let negotiated = Negotiated {
                headers: Vec::new(),
                interval: session::requested(response.headers()),
            };
            call.session = SessionTimer::after(None, &negotiated, now);
            call.refresher = call
                .session
                .and_then(|s| Refresher::after_answer(response, s.interval, offer, now));
        }
        if let Some(ct) = content_type(response) {
            if !response.body().is_empty() {
                builder = builder.body(ct, response.body_bytes());
            }
        }
        let ok = builder.build();
        call.a_ok = Some(Box::new(Retransmit {
            bytes: ok.as_bytes().clone(),
            target: call.a.target.clone(),
            next: now + T1,
            interval: T1,
            give_up: now + T1 * 64,
        }));
        let _ = transaction.respond(ok);
        tracing::debug!(call = id, fork = index, "call answered");
        // HD-ROUTE-1: the other devices stop ringing.
        for other in 0..call.forks.len() {
            if other != index {
                self.cancel_fork(id, other);
            }
        }
        self.schedule(id);
    }

    fn fork_failed(
        &mut self,
        id: u64,
        index: usize,
        status: StatusCode,
        reason: &str,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(fork) = call.forks.get_mut(index) else {
            return;
        };
        if fork.state == ForkState::Answered {
            // A late failure (Timer B after the 2xx cannot happen; a stray response can).
            return;
        }
        fork.state = ForkState::Done;
        fork.shed_setup();
        // Forks of a stage already left behind (cancelled) do not speak for the caller.
        if index >= call.hunt.as_ref().map_or(0, |h| h.stage_start) {
            call.note_failure(status, reason);
        }
        self.fork_settled(id, now);
    }

    /// After a fork finished: answer the caller when no fork is left, drop an ended call
    /// whose forks are all done.
    fn fork_settled(&mut self, id: u64, now: Instant) {
        // A queue or forwarding call moves on when its stage failed (busy, declined).
        if self.stage_failed(id) && self.advance_hunt(id, now) {
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if !call.forks_done() {
            return;
        }
        if call.ended.is_some() {
            self.remove(id);
            return;
        }
        if call.winner.is_some() {
            return;
        }
        let (status, reason) = call
            .hunt
            .as_ref()
            .and_then(|h| h.exhausted.clone())
            .or_else(|| call.best.clone())
            .unwrap_or((StatusCode::TEMPORARILY_UNAVAILABLE, "No Answer".to_owned()));
        // RFC 4028 §7.4: a callee's 422 wins over other failures but a 6xx (see `session`).
        let (status, reason) = match call.min_se {
            Some(_) if status.as_u16() < 600 => (
                StatusCode::SESSION_INTERVAL_TOO_SMALL,
                "Session Interval Too Small".to_owned(),
            ),
            _ => (status, reason),
        };
        let min_se = self.caller_min_se(id, status);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(transaction) = call.a_invite.take().map(|t| *t) {
            self.invites.remove(transaction.key());
            let mut response = transaction
                .request()
                .response(status)
                .reason(reason.as_str())
                .to_tag(call.a.local_tag.as_str());
            if let Some(min_se) = min_se {
                response = response.header("Min-SE", min_se);
            }
            let response = response.build();
            let _ = transaction.respond(response);
        }
        let disposition = match status.as_u16() {
            486 | 600 => Disposition::Busy,
            408 | 480 | 487 => Disposition::NoAnswer,
            _ => Disposition::Failed,
        };
        self.end(id, disposition, now);
    }

    /// Ringing went on too long: cancel every fork, 480 to the caller (422 when a callee
    /// refused the session interval meanwhile, RFC 4028 §7.4).
    pub(super) fn give_up_ringing(&mut self, id: u64, now: Instant) {
        if self.calls.get(&id).is_some_and(|c| c.min_se.is_some()) {
            let status = StatusCode::SESSION_INTERVAL_TOO_SMALL;
            return self.abandon(id, status, None, Disposition::Failed, now);
        }
        let status = StatusCode::TEMPORARILY_UNAVAILABLE;
        self.abandon(id, status, Some("No Answer"), Disposition::NoAnswer, now);
    }

    /// Ends an unanswered call: `status` (with `reason`, else the default phrase) to the
    /// caller if it still waits, CANCEL to every fork, and the call's CDR.
    pub(super) fn abandon(
        &mut self,
        id: u64,
        status: StatusCode,
        reason: Option<&str>,
        disposition: Disposition,
        now: Instant,
    ) {
        let min_se = self.caller_min_se(id, status);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.cancelled = true;
        if let Some(transaction) = call.a_invite.take().map(|t| *t) {
            self.invites.remove(transaction.key());
            let mut response = transaction
                .request()
                .response(status)
                .to_tag(call.a.local_tag.as_str());
            if let Some(min_se) = min_se {
                response = response.header("Min-SE", min_se);
            }
            let response = match reason {
                Some(reason) => response.reason(reason).build(),
                None => response.build(),
            };
            let _ = transaction.respond(response);
        }
        let forks = call.forks.len();
        for index in 0..forks {
            self.cancel_fork(id, index);
        }
        self.end(id, disposition, now);
    }

    /// Cancels a ringing fork now, or as soon as it has sent a provisional (§9.1).
    pub(super) fn cancel_fork(&mut self, id: u64, index: usize) {
        let Some(fork) = self.calls.get_mut(&id).and_then(|c| c.forks.get_mut(index)) else {
            return;
        };
        match fork.state {
            ForkState::Early => self.send_cancel(id, index),
            ForkState::Calling => fork.cancel_pending = true,
            ForkState::Answered | ForkState::Done => {}
        }
    }

    fn send_cancel(&mut self, id: u64, index: usize) {
        let Some(fork) = self.calls.get_mut(&id).and_then(|c| c.forks.get_mut(index)) else {
            return;
        };
        let mut dialog = fork.dialog.clone();
        dialog.remote_target = fork.uri.clone();
        dialog.route.clear();
        let Some(cancel) = dialog.request(
            Method::Cancel,
            fork.via.clone(),
            Some(fork.invite_cseq),
            &[],
            None,
        ) else {
            return;
        };
        let _ = self.io.endpoint.send_request_to(
            cancel,
            fork.dialog.target.clone(),
            &self.io.sink,
            Self::token(id, super::SLOT_IGNORE),
        );
    }

    /// ACKs fork `index`'s 2xx (with the caller's late answer `body`, if any).
    pub(super) fn send_ack(&mut self, id: u64, index: usize, body: Option<(&str, Bytes)>) {
        let Some(fork) = self.calls.get_mut(&id).and_then(|c| c.forks.get_mut(index)) else {
            return;
        };
        let Some(via_value) = self.io.via(&fork.dialog.target) else {
            return;
        };
        let Some(ack) =
            fork.dialog
                .request(Method::Ack, via_value, Some(fork.invite_cseq), &[], body)
        else {
            return;
        };
        let bytes = ack.as_bytes().clone();
        let target = fork.dialog.target.clone();
        let _ = self
            .io
            .endpoint
            .send_stateless(bytes.clone(), target.clone());
        fork.ack = Some((bytes, target));
    }

    /// BYE on a fork that answered too late.
    fn send_fork_bye(&mut self, id: u64, index: usize) {
        let Some(fork) = self.calls.get_mut(&id).and_then(|c| c.forks.get_mut(index)) else {
            return;
        };
        let Some(via_value) = self.io.via(&fork.dialog.target) else {
            return;
        };
        if let Some(bye) = fork.dialog.request(Method::Bye, via_value, None, &[], None) {
            let _ = self.io.endpoint.send_request_to(
                bye,
                fork.dialog.target.clone(),
                &self.io.sink,
                Self::token(id, super::SLOT_IGNORE),
            );
        }
    }
}
