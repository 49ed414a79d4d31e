//! Reliable provisional responses (RFC 3262) across the two halves of a call.
//!
//! Toward the caller we are the UAS: an 18x goes to it reliably — our own RSeq,
//! `Require: 100rel`, re-sent until its PRACK (§3) — when it requires 100rel, or supports it
//! and the callee's 18x was reliable. Toward a callee we are the UAC: its reliable 18x is
//! PRACKed with the caller's PRACK relayed (so an answer in the PRACK reaches it), or by us
//! at once when the caller got the 18x unreliably (§4). One reliable 18x is outstanding
//! toward the caller at a time; later ones wait their turn (§3 asks this of the first).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use hotdesk_core::Disposition;
use hotdesk_sip::endpoint::ServerTransaction;
use hotdesk_sip::transport::Target;
use hotdesk_sip::{HeaderName, Headers, Method, Request, Response, StatusCode};

use super::call::{Retransmit, Side};
use super::dialog::contact_uri;
use super::in_dialog::request_content_type;
use super::setup::content_type;
use super::{B2bua, SLOT_IGNORE, T1};

/// Reliable provisionals waiting behind the outstanding one; more are dropped (a callee
/// flooding 18x must not grow a call without bound; a provisional is never essential).
const MAX_QUEUED: usize = 8;

/// The early dialog a callee's reliable provisional opened (To tag, Contact, route set).
#[derive(Debug, Clone)]
pub(super) struct Early {
    tag: String,
    target: String,
    route: Vec<String>,
}

/// Which callee provisional a reliable 18x toward the caller carries: fork and its RSeq.
#[derive(Debug, Clone, Copy)]
pub(super) struct Source {
    fork: usize,
    rseq: u32,
}

/// A reliable provisional waiting for the outstanding one's PRACK.
#[derive(Debug)]
pub(super) struct Queued {
    status: StatusCode,
    reason: String,
    body: Option<(String, Bytes)>,
    source: Option<Source>,
}

/// The reliable provisional sent to the caller and not yet PRACKed.
#[derive(Debug)]
pub(super) struct Outstanding {
    rseq: u32,
    pub retransmit: Retransmit,
    source: Option<Source>,
}

/// The caller's side of RFC 3262.
#[derive(Debug, Default)]
pub(super) struct Reliable {
    /// `Supported: 100rel` (or Require) in the caller's INVITE.
    pub supported: bool,
    /// `Require: 100rel` in the caller's INVITE.
    pub required: bool,
    /// Last RSeq we used toward the caller.
    rseq: u32,
    pub outstanding: Option<Outstanding>,
    queue: VecDeque<Queued>,
    /// The fork whose reliable provisional came last: the caller's early UPDATEs go there.
    pub early_fork: Option<usize>,
}

impl Reliable {
    /// What the caller's INVITE says about 100rel.
    pub(super) fn of(request: &Request) -> Self {
        let required = has_token(request.headers(), "Require", "100rel");
        Self {
            supported: required || has_token(request.headers(), "Supported", "100rel"),
            required,
            ..Self::default()
        }
    }
}

/// Whether the `name` headers of a message list `token` (comma-separated, any case).
pub(super) fn has_token(headers: &Headers, name: &str, token: &str) -> bool {
    headers.get_named(name).any(|h| {
        h.value_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// The first value of header `name`, as text.
pub(super) fn header<'m>(headers: &'m Headers, name: &'m str) -> Option<&'m str> {
    headers.get_named(name).next()?.value_str().ok()
}

/// The RSeq of a reliable provisional (RFC 3262 §7.1), `None` for an unreliable one.
fn rseq_of(response: &Response) -> Option<u32> {
    if !has_token(response.headers(), "Require", "100rel") {
        return None;
    }
    header(response.headers(), "RSeq")?.trim().parse().ok()
}

impl B2bua {
    /// A provisional (not 100) of fork `index` for the caller, whose INVITE is still open.
    pub(super) fn provisional_to_caller(
        &mut self,
        id: u64,
        index: usize,
        response: &Response,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(fork) = call.forks.get_mut(index) else {
            return;
        };
        let incoming = rseq_of(response);
        if let Some(rseq) = incoming {
            if fork.rseq.is_some_and(|last| rseq <= last) {
                // A retransmission: not PRACKed again, not processed (§4).
                return;
            }
            fork.rseq = Some(rseq);
            call.reliable.early_fork = Some(index);
            let mut route: Vec<String> = response
                .headers()
                .get_all(HeaderName::RecordRoute)
                .filter_map(|h| h.value_str().ok().map(str::to_owned))
                .collect();
            route.reverse();
            fork.early = Some(Early {
                tag: response
                    .to()
                    .ok()
                    .and_then(|t| t.tag())
                    .unwrap_or_default()
                    .to_owned(),
                target: header(response.headers(), "Contact")
                    .and_then(contact_uri)
                    .unwrap_or_else(|| fork.uri.clone()),
                route,
            });
        }
        let reliable = &call.reliable;
        let out_reliable = reliable.required || (reliable.supported && incoming.is_some());
        let body = content_type(response)
            .filter(|_| !response.body().is_empty())
            .map(|ct| (ct.to_owned(), response.body_bytes()));
        if let (Some(rseq), false) = (incoming, out_reliable) {
            self.own_prack(id, index, rseq);
        }
        let queued = Queued {
            status: response.status(),
            reason: response.reason().to_owned(),
            body,
            source: incoming.map(|rseq| Source { fork: index, rseq }),
        };
        if out_reliable {
            self.send_reliable(id, queued, now);
        } else {
            self.send_provisional(id, &queued, None);
        }
    }

    /// Sends `queued` reliably now, or queues it behind the outstanding one.
    fn send_reliable(&mut self, id: u64, queued: Queued, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.reliable.outstanding.is_some() {
            if call.reliable.queue.len() < MAX_QUEUED {
                call.reliable.queue.push_back(queued);
            }
            return;
        }
        call.reliable.rseq += 1;
        let rseq = call.reliable.rseq;
        let target = call.a.target.clone();
        let Some(bytes) = self.send_provisional(id, &queued, Some(rseq)) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.reliable.outstanding = Some(Outstanding {
            rseq,
            retransmit: Retransmit {
                bytes,
                target,
                next: now + T1,
                interval: T1,
                give_up: now + T1 * 64,
            },
            source: queued.source,
        });
        self.schedule(id);
    }

    /// The 18x to the caller (reliable with `rseq`); returns its bytes for re-sending.
    fn send_provisional(&self, id: u64, queued: &Queued, rseq: Option<u32>) -> Option<Bytes> {
        let call = self.calls.get(&id)?;
        let transaction = call.a_invite.as_ref()?;
        let rseq_text = rseq.map(|n| n.to_string());
        let mut builder = transaction
            .request()
            .response(queued.status)
            .reason(queued.reason.as_str())
            .to_tag(call.a.local_tag.as_str())
            .record_route()
            .header("Contact", &*call.a.contact);
        if let Some(rseq) = &rseq_text {
            builder = builder
                .header("Require", "100rel")
                .header("RSeq", rseq.as_str());
        }
        if let Some((ct, body)) = &queued.body {
            builder = builder.body(ct.as_str(), body.clone());
        }
        let response = builder.build();
        let bytes = response.as_bytes().clone();
        let _ = transaction.provisional(response);
        Some(bytes)
    }

    /// A PRACK toward fork `index` for its reliable provisional `rseq`, in its early dialog.
    fn prack_request(
        &mut self,
        id: u64,
        index: usize,
        rseq: u32,
        body: Option<(&str, Bytes)>,
    ) -> Option<(Request, Target)> {
        let invite_cseq = self.calls.get(&id)?.forks.get(index)?.invite_cseq;
        let rack = format!("{rseq} {invite_cseq} INVITE");
        self.early_request(id, index, Method::Prack, &[("RAck", rack.as_str())], body)
    }

    /// A request of `method` in the early dialog of fork `index` (PRACK; UPDATE or INFO
    /// before the answer, RFC 3311 §5.1), with the next CSeq of that dialog.
    pub(super) fn early_request(
        &mut self,
        id: u64,
        index: usize,
        method: Method,
        extra: &[(&str, &str)],
        body: Option<(&str, Bytes)>,
    ) -> Option<(Request, Target)> {
        let fork = self.calls.get_mut(&id)?.forks.get_mut(index)?;
        let early = fork.early.clone()?;
        let via_value = self.io.via(&fork.dialog.target)?;
        fork.dialog.cseq += 1;
        let mut dialog = fork.dialog.clone();
        dialog.remote = format!("{};tag={}", fork.dialog.remote, early.tag);
        dialog.remote_target = early.target;
        dialog.route = early.route;
        let request = dialog.request(method, via_value, Some(fork.dialog.cseq), extra, body)?;
        Some((request, dialog.target))
    }

    /// PRACKs a callee's reliable provisional ourselves (the caller got it unreliably).
    fn own_prack(&mut self, id: u64, index: usize, rseq: u32) {
        if let Some((request, target)) = self.prack_request(id, index, rseq, None) {
            let _ = self.io.endpoint.send_request_to(
                request,
                target,
                &self.io.sink,
                Self::token(id, SLOT_IGNORE),
            );
        }
    }

    /// The caller's PRACK (RFC 3262 §3): stops the re-sending, goes on to the callee whose
    /// provisional it acknowledges (its 200 comes back through [`Self::relay_answer`]), or
    /// is answered here; 481 when it matches nothing outstanding.
    pub(super) fn prack(&mut self, id: u64, side: Side, transaction: ServerTransaction) {
        let request = transaction.request();
        let rack = header(request.headers(), "RAck").and_then(|v| {
            let mut parts = v.split_whitespace();
            parts.next()?.parse::<u32>().ok()
        });
        let Some(call) = self.calls.get_mut(&id) else {
            let _ = transaction.reply(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
            return;
        };
        let matches = side == Side::A
            && rack.is_some()
            && call
                .reliable
                .outstanding
                .as_ref()
                .is_some_and(|o| Some(o.rseq) == rack);
        if !matches {
            let _ = transaction.reply(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
            return;
        }
        let source = call.reliable.outstanding.take().and_then(|o| o.source);
        let next = call.reliable.queue.pop_front();
        let body = request_content_type(request)
            .filter(|_| !request.body().is_empty())
            .map(|ct| (ct.to_owned(), request.body_bytes()));
        let prack = source.and_then(|s| {
            let body = body.as_ref().map(|(ct, b)| (ct.as_str(), b.clone()));
            self.prack_request(id, s.fork, s.rseq, body)
        });
        match prack {
            Some((out, target)) => self.send_relay(id, out, target, transaction),
            None => {
                let _ = transaction.reply(StatusCode::OK);
            }
        }
        if let Some(next) = next {
            self.send_reliable(id, next, Instant::now());
        }
    }

    /// Re-sends the outstanding reliable provisional (§3: T1 doubling, no cap below 64·T1);
    /// with no PRACK by then, the caller is refused with 504 and the forks cancelled.
    /// Returns `true` when the call was given up.
    pub(super) fn reliable_tick(&mut self, id: u64, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        if call.a_invite.is_none() {
            // A final response went out: nothing more to re-send (§3).
            call.reliable.outstanding = None;
            call.reliable.queue.clear();
            return false;
        }
        let Some(out) = &mut call.reliable.outstanding else {
            return false;
        };
        let r = &mut out.retransmit;
        if r.give_up <= now {
            call.reliable.outstanding = None;
            let status = StatusCode::SERVER_TIMEOUT;
            self.abandon(id, status, Some("No PRACK"), Disposition::Failed, now);
            return true;
        }
        if r.due(now, None) {
            let _ = self
                .io
                .endpoint
                .send_stateless(r.bytes.clone(), r.target.clone());
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::session::tests::invite;
    use super::*;

    #[test]
    fn rfc3262_caller_support_from_supported_or_require() {
        let supported = Reliable::of(&invite("Supported: timer, 100REL\r\n"));
        assert!(supported.supported && !supported.required);
        let required = Reliable::of(&invite("Require: 100rel\r\n"));
        assert!(required.supported && required.required);
        let none = Reliable::of(&invite("Supported: timer\r\n"));
        assert!(!none.supported);
    }

    #[test]
    fn rfc3262_7_1_rseq_only_of_reliable_provisionals() {
        let request = invite("Supported: 100rel\r\n");
        let reliable = request
            .response(StatusCode::SESSION_PROGRESS)
            .header("Require", "100rel")
            .header("RSeq", "7")
            .build();
        assert_eq!(rseq_of(&reliable), Some(7));
        let plain = request
            .response(StatusCode::RINGING)
            .header("RSeq", "7")
            .build();
        assert_eq!(rseq_of(&plain), None);
    }
}
