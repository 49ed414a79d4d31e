//! Session timers (RFC 4028) as an intermediary on both halves of a call: the caller's
//! `Session-Expires` and `Min-SE` go to the callee (Min-SE raised to ours, 422 when the
//! interval is below it, §8), the negotiated interval and refresher come back in the 2xx,
//! and every 2xx to a re-INVITE or UPDATE refreshes the session (§10). A session nobody
//! refreshed within its interval is a hung dialog: the sweep ends it with BYE both ways.
//!
//! A caller that asks for no timer (§8: a proxy or B2BUA may add one): the callee's INVITE
//! carries `Session-Expires: N;refresher=uac` (`HOTDESK_CALL_SESSION_EXPIRES`, 1800 s; 0
//! turns it off), the caller's leg stays without one (its 2xx gets no Session-Expires, it
//! may not support timers). When the callee's 2xx leaves the refreshing to us, the sweep
//! sends the refresh at half the interval ([`Refresher`]): an UPDATE without body when the
//! callee allows UPDATE (RFC 3311), else a re-INVITE with the last SDP the callee got from
//! us (an unchanged offer, RFC 3264 §8), ACKed without body. A 408 or 481 (or no answer)
//! means the callee is gone: the call is cleared with BYE both ways; other failures are
//! retried until the session lapses, when the sweep clears it. A callee that makes itself
//! the refresher refreshes through us as before. A callee's 422 to our interval gets the
//! INVITE again, once, with the interval raised to its Min-SE (§7.4): the caller, which
//! asked for no timer, could do nothing with that 422.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hotdesk_sip::endpoint::ClientEvent;
use hotdesk_sip::header::Params;
use hotdesk_sip::{Headers, Method, Request, Response, StatusCode};

use super::call::{ForkState, Side};
use super::prack::{has_token, header};
use super::{B2bua, SLOT_REFRESH};

/// RFC 4028 §4: the smallest Min-SE allowed (the default of `HOTDESK_CALL_MIN_SE`).
pub const MIN_SE_FLOOR: u32 = 90;

/// The interval we ask of a callee when the caller asked for none (RFC 4028 §4 recommends
/// 1800 s; the default of `HOTDESK_CALL_SESSION_EXPIRES`).
pub const SESSION_EXPIRES: u32 = 1800;

/// `delta-seconds` of a Session-Expires (or compact `x`) or Min-SE value.
fn seconds(headers: &Headers, name: &str) -> Option<u32> {
    let value = header(headers, name)?;
    value.split(';').next()?.trim().parse().ok()
}

/// The interval a message's Session-Expires asks for.
pub(super) fn requested(headers: &Headers) -> Option<u32> {
    seconds(headers, "Session-Expires")
}

/// Whether a message's Session-Expires names the UAC as refresher (`refresher=uac`).
fn refresher_is_uac(headers: &Headers) -> bool {
    header(headers, "Session-Expires")
        .and_then(|value| value.find(';').map(|at| &value[at..]))
        .and_then(|raw| Params::parse_header(raw).ok())
        .and_then(|params| params.get("refresher"))
        .is_some_and(|who| who.eq_ignore_ascii_case("uac"))
}

/// Our refreshes of the callee's leg, when its 2xx made us (its UAC) the refresher of a
/// timer we added (see the module notes).
#[derive(Debug)]
pub(super) struct Refresher {
    /// When the next refresh goes (`None` while one is under way).
    pub at: Option<Instant>,
    /// The callee allows UPDATE: refresh with it, no SDP needed.
    update: bool,
    /// The last SDP the callee got from us, for a re-INVITE refresh (none with UPDATE).
    offer: Option<(String, Bytes)>,
    /// CSeq of our last refresh (its 2xx, and retransmissions of it, are ACKed with it).
    cseq: u32,
}

impl Refresher {
    /// After the callee's 2xx to the INVITE: ours if it says `refresher=uac` (§7.2).
    pub(super) fn after_answer(
        response: &Response,
        interval: Duration,
        offer: Option<(String, Bytes)>,
        now: Instant,
    ) -> Option<Box<Self>> {
        if !refresher_is_uac(response.headers()) {
            return None;
        }
        let update = has_token(response.headers(), "Allow", "UPDATE");
        Some(Box::new(Self {
            at: Some(now + interval / 2),
            update,
            // A copy: a slice would keep the whole message it came in alive.
            offer: offer
                .filter(|_| !update)
                .map(|(ct, b)| (ct, Bytes::copy_from_slice(&b))),
            cseq: 0,
        }))
    }

    /// The SDP the callee last got from us changed (late offer's ACK, a re-INVITE): a
    /// re-INVITE refresh repeats it.
    pub(super) fn sent(&mut self, body: Option<(&str, Bytes)>) {
        if let (false, Some((ct, body))) = (self.update, body) {
            self.offer = Some((ct.to_owned(), Bytes::copy_from_slice(&body)));
        }
    }
}

/// The session interval of an answered call and when it lapses without a refresh.
#[derive(Debug, Clone, Copy)]
pub(super) struct SessionTimer {
    pub interval: Duration,
    /// When the session lapses unless refreshed.
    pub expires: Instant,
}

impl SessionTimer {
    /// The session after a 2xx (the INVITE's, or a refresh's): the interval negotiated by
    /// it, else the one in force; `None` while no interval was ever negotiated.
    pub(super) fn after(
        previous: Option<Self>,
        negotiated: &Negotiated,
        now: Instant,
    ) -> Option<Self> {
        let interval = negotiated
            .interval
            .map(|s| Duration::from_secs(u64::from(s)))
            .or(previous.map(|p| p.interval))?;
        Some(Self {
            interval,
            expires: now + interval,
        })
    }
}

/// What a 2xx to an INVITE or a refresh settles about the session timer.
#[derive(Debug)]
pub(super) struct Negotiated {
    /// Headers for the requester's copy of the 2xx.
    pub headers: Vec<(&'static str, String)>,
    /// The interval now in force, if the 2xx settled one.
    pub interval: Option<u32>,
}

/// The requester's side of a 2xx: the answerer's Session-Expires (interval, refresher) with
/// `Require: timer` if the requester supports timers (§9); when the answerer does not do
/// timers but the requester asked for one, the requester refreshes (`refresher=uac`, as a
/// proxy may decide, §8.2), so the session still has an interval we can reap on.
pub(super) fn negotiate(request: &Request, response: &Response) -> Negotiated {
    let timer = supports_timer(request);
    let require = || ("Require", "timer".to_owned());
    if let Some(value) = header(response.headers(), "Session-Expires") {
        let mut headers = vec![("Session-Expires", value.to_owned())];
        if timer {
            headers.push(require());
        }
        return Negotiated {
            headers,
            interval: requested(response.headers()),
        };
    }
    match requested(request.headers()).filter(|_| timer) {
        Some(asked) => Negotiated {
            headers: vec![
                ("Session-Expires", format!("{asked};refresher=uac")),
                require(),
            ],
            interval: Some(asked),
        },
        None => Negotiated {
            headers: Vec::new(),
            interval: None,
        },
    }
}

/// Whether `request` says it supports session timers.
pub(super) fn supports_timer(request: &Request) -> bool {
    has_token(request.headers(), "Supported", "timer")
        || has_token(request.headers(), "Require", "timer")
}

/// Session-Expires and Min-SE for the callee's INVITE: the caller's interval as is, Min-SE
/// the larger of the caller's and ours (§8.1). When the caller asked for none, ours
/// (`expires`, at least `min_se`) with us refreshing, unless `expires` is 0.
pub(super) fn offer_headers(
    request: &Request,
    min_se: u32,
    expires: u32,
) -> Vec<(&'static str, String)> {
    let Some(value) = header(request.headers(), "Session-Expires") else {
        if expires == 0 {
            return Vec::new();
        }
        return vec![
            (
                "Session-Expires",
                format!("{};refresher=uac", expires.max(min_se)),
            ),
            ("Min-SE", min_se.to_string()),
        ];
    };
    let theirs = seconds(request.headers(), "Min-SE").unwrap_or(0);
    vec![
        ("Session-Expires", value.to_owned()),
        ("Min-SE", theirs.max(min_se).to_string()),
    ]
}

/// §8.1: an interval below our minimum is refused with 422 naming the minimum.
pub(super) fn too_small(request: &Request, min_se: u32) -> bool {
    requested(request.headers()).is_some_and(|s| s < min_se)
}

impl B2bua {
    /// A callee's 422 (its Min-SE above the interval we offered, §7.4): its Min-SE is kept,
    /// the largest of the stage's, whatever the other forks still do. When no fork of the
    /// stage answers, the caller gets 422 with it rather than another fork's failure (but
    /// a 6xx), like a proxy gathering 401/407 challenges (RFC 3261 §16.7): a retry with a
    /// longer interval may reach the device that refused. The caller's own interval is not
    /// raised by us (§9: the caller's refreshes would not match the callee's); only a timer
    /// we added is ([`Self::retry_interval`]).
    pub(super) fn note_interval_too_small(&mut self, id: u64, index: usize, response: &Response) {
        let Some(min) = seconds(response.headers(), "Min-SE") else {
            // A 422 without Min-SE (a §6 violation) fails like any other 4xx.
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let current = index >= call.hunt.as_ref().map_or(0, |h| h.stage_start);
        if current && !call.cancelled && call.winner.is_none() {
            call.min_se = Some(call.min_se.map_or(min, |m| m.max(min)));
        }
    }

    /// A callee's 422 to a timer we added (the caller asked for none, so it could not
    /// retry): the INVITE again, once, with our interval raised to the callee's Min-SE
    /// (§7.4: same Call-ID and From tag, the next CSeq). `false` when not ours to retry.
    pub(super) fn retry_interval(&mut self, id: u64, index: usize, response: &Response) -> bool {
        let Some(min) = seconds(response.headers(), "Min-SE") else {
            return false;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let ours = call
            .a_invite
            .as_ref()
            .is_some_and(|t| requested(t.request().headers()).is_none());
        if !ours || call.cancelled || call.winner.is_some() || self.policy.session_expires == 0 {
            return false;
        }
        let Some(template) = call.template.as_deref() else {
            return false;
        };
        let Some(fork) = call.forks.get_mut(index) else {
            return false;
        };
        if fork.interval_retried || fork.cancel_pending {
            return false;
        }
        let Some(via_value) = self.io.via(&fork.dialog.target) else {
            return false;
        };
        let min = min.max(self.policy.min_se);
        let (interval, min) = (format!("{min};refresher=uac"), min.to_string());
        let (extra, body) = template.with_interval(&interval, &min);
        let Some(invite) =
            fork.dialog
                .request(Method::Invite, via_value.clone(), None, &extra, body)
        else {
            return false;
        };
        let kept = fork.invite.is_some().then(|| Box::new(invite.clone()));
        let token = Self::token(id, index as u64 + 1);
        let target = fork.dialog.target.clone();
        if self
            .io
            .endpoint
            .send_request_to(invite, target, &self.io.sink, token)
            .is_err()
        {
            return false;
        }
        tracing::debug!(call = id, fork = index, %interval, "INVITE again after a 422");
        fork.interval_retried = true;
        fork.invite = kept;
        fork.invite_cseq = fork.dialog.cseq;
        fork.via = via_value;
        fork.state = ForkState::Calling;
        true
    }

    /// The Min-SE for a 422 to the caller: the callees' largest, at least ours (§8.1).
    pub(super) fn caller_min_se(&self, id: u64, status: StatusCode) -> Option<String> {
        if status != StatusCode::SESSION_INTERVAL_TOO_SMALL {
            return None;
        }
        let theirs = self.calls.get(&id).and_then(|c| c.min_se).unwrap_or(0);
        Some(theirs.max(self.policy.min_se).to_string())
    }

    /// From the sweep: the refreshes that are due.
    pub(super) fn refresh_due(&mut self, now: Instant) {
        let due: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| {
                c.ended.is_none()
                    && c.refresher
                        .as_ref()
                        .and_then(|r| r.at)
                        .is_some_and(|at| at <= now)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.send_refresh(id, now);
        }
    }

    /// Our session refresh toward the callee (UPDATE, else re-INVITE with the last SDP).
    fn send_refresh(&mut self, id: u64, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(interval) = call.session.map(|s| s.interval) else {
            call.refresher = None;
            return;
        };
        let busy = call.reinvite.as_ref().is_some_and(|r| r.pending());
        let Some(r) = call.refresher.as_mut() else {
            return;
        };
        let offer = r.offer.clone();
        let method = if r.update {
            Method::Update
        } else if busy || offer.is_none() {
            // A re-INVITE of the call's is under way (that refreshes too), or no SDP to
            // repeat: try again a little later, the session lapses meanwhile if need be.
            r.at = Some(now + interval / 8);
            return;
        } else {
            Method::Invite
        };
        r.at = None;
        let Some(dialog) = call.dialog_mut(Side::B) else {
            return;
        };
        let Some(via_value) = self.io.via(&dialog.target) else {
            return;
        };
        let expires = format!("{};refresher=uac", interval.as_secs());
        let extra = [
            ("Session-Expires", expires.as_str()),
            ("Supported", "timer"),
        ];
        let body = offer
            .as_ref()
            .filter(|_| method == Method::Invite)
            .map(|(ct, b)| (ct.as_str(), b.clone()));
        let Some(out) = dialog.request(method, via_value, None, &extra, body) else {
            return;
        };
        let cseq = dialog.cseq;
        let target = dialog.target.clone();
        if let Some(r) = call.refresher.as_mut() {
            r.cseq = cseq;
        }
        tracing::debug!(call = id, "session refresh toward the callee");
        let token = Self::token(id, SLOT_REFRESH);
        if self
            .io
            .endpoint
            .send_request_to(out, target, &self.io.sink, token)
            .is_err()
        {
            if let Some(r) = self.calls.get_mut(&id).and_then(|c| c.refresher.as_mut()) {
                r.at = Some(now + interval / 8);
            }
        }
    }

    /// The callee's answer to our refresh.
    pub(super) fn refresh_answer(&mut self, id: u64, event: ClientEvent, now: Instant) {
        let response = match event {
            ClientEvent::Response(received) => match received.message.into_response() {
                Some(response) => response,
                None => return,
            },
            ClientEvent::Timeout(_) | ClientEvent::TransportError | ClientEvent::Refused(_) => {
                tracing::info!(
                    call = id,
                    "no answer to our session refresh; clearing the call"
                );
                return self.hang_up(id, None, now);
            }
        };
        let status = response.status();
        if status.is_provisional() {
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(r) = call.refresher.as_mut() else {
            return;
        };
        if response.cseq().seq != r.cseq {
            return;
        }
        let invite = response.cseq().method == Method::Invite;
        if status.is_success() && invite {
            // Every 2xx to our re-INVITE, retransmissions too, gets our ACK (§13.2.2.4).
            let cseq = r.cseq;
            if let Some(dialog) = call.dialog_mut(Side::B) {
                if let Some(via_value) = self.io.via(&dialog.target) {
                    if let Some(ack) = dialog.request(Method::Ack, via_value, Some(cseq), &[], None)
                    {
                        let _ = self
                            .io
                            .endpoint
                            .send_stateless(ack.as_bytes().clone(), dialog.target.clone());
                    }
                }
            }
        }
        let Some(r) = call.refresher.as_mut() else {
            return;
        };
        if r.at.is_some() {
            // A retransmitted 2xx of a refresh already settled.
            return;
        }
        if status.is_success() {
            let negotiated = Negotiated {
                headers: Vec::new(),
                interval: requested(response.headers()),
            };
            call.session = SessionTimer::after(call.session, &negotiated, now);
            match (call.session, refresher_is_uac(response.headers())) {
                (Some(session), true) => r.at = Some(now + session.interval / 2),
                // The callee took the refreshing over (or dropped the timer).
                _ => call.refresher = None,
            }
            return;
        }
        if matches!(status.as_u16(), 408 | 481) {
            tracing::info!(call = id, %status, "callee's dialog is gone; clearing the call");
            return self.hang_up(id, None, now);
        }
        // 491 and the like: again a little later (§10: until the session lapses).
        let interval = call.session.map_or(Duration::from_secs(1), |s| s.interval);
        r.at = Some(now + interval / 8);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use hotdesk_sip::parse_message;

    use super::*;

    /// An INVITE with `extra` header lines (each ending in CRLF).
    pub(in crate::b2bua) fn invite(extra: &str) -> Request {
        let text = format!(
            "INVITE sip:1004@acme.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n\
             From: <sip:1005@acme.test>;tag=a\r\nTo: <sip:1004@acme.test>\r\nCall-ID: c1\r\n\
             CSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        parse_message(text.into_bytes().into())
            .ok()
            .and_then(|m| m.into_request())
            .expect("a valid INVITE")
    }

    #[test]
    fn rfc4028_8_1_interval_below_min_se_is_too_small() {
        let request = invite("Session-Expires: 60;refresher=uac\r\n");
        assert!(too_small(&request, 90));
        assert!(!too_small(&request, 60));
        assert!(
            !too_small(&invite(""), 90),
            "no timer asked, nothing to refuse"
        );
    }

    #[test]
    fn rfc4028_8_1_min_se_toward_the_callee_is_the_larger() {
        let request = invite("Supported: timer\r\nSession-Expires: 1800\r\nMin-SE: 120\r\n");
        let headers = offer_headers(&request, 90, 0);
        assert!(headers.contains(&("Min-SE", "120".to_owned())));
        assert!(headers.contains(&("Session-Expires", "1800".to_owned())));
        assert!(offer_headers(&invite(""), 90, 0).is_empty());
    }

    #[test]
    fn rfc4028_8_a_callee_gets_our_interval_when_the_caller_asked_for_none() {
        let headers = offer_headers(&invite(""), 90, 1800);
        assert!(headers.contains(&("Session-Expires", "1800;refresher=uac".to_owned())));
        assert!(headers.contains(&("Min-SE", "90".to_owned())));
        // Never below our minimum; none at all when turned off.
        let headers = offer_headers(&invite(""), 120, 60);
        assert!(headers.contains(&("Session-Expires", "120;refresher=uac".to_owned())));
        assert!(offer_headers(&invite(""), 90, 0).is_empty());
        // The caller's own interval is passed on as is.
        let asked = offer_headers(&invite("Session-Expires: 600\r\n"), 90, 1800);
        assert!(asked.contains(&("Session-Expires", "600".to_owned())));
    }

    #[test]
    fn rfc4028_7_2_refresher_uac_makes_us_refresh_with_update_or_the_last_sdp() {
        let now = Instant::now();
        let interval = Duration::from_secs(1800);
        let request = invite("");
        let sdp = Some(("application/sdp".to_owned(), Bytes::from_static(b"v=0\r\n")));
        let with_update = request
            .response(StatusCode::OK)
            .header("Session-Expires", "1800;refresher=uac")
            .header("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE")
            .build();
        let r = Refresher::after_answer(&with_update, interval, sdp.clone(), now);
        let r = r.expect("we refresh");
        assert_eq!(
            r.at,
            Some(now + Duration::from_secs(900)),
            "at half the interval"
        );
        assert!(r.update && r.offer.is_none(), "UPDATE needs no SDP");
        let without_update = request
            .response(StatusCode::OK)
            .header("Session-Expires", "1800; refresher=UAC")
            .header("Allow", "INVITE, ACK, BYE, CANCEL")
            .build();
        let r = Refresher::after_answer(&without_update, interval, sdp.clone(), now);
        let r = r.expect("we refresh");
        assert!(
            !r.update && r.offer.is_some(),
            "re-INVITE with the last SDP"
        );
        let theirs = request
            .response(StatusCode::OK)
            .header("Session-Expires", "1800;refresher=uas")
            .build();
        assert!(Refresher::after_answer(&theirs, interval, sdp, now).is_none());
    }

    #[test]
    fn rfc4028_9_answerers_interval_goes_back_with_require_timer() {
        let request = invite("Supported: timer\r\nSession-Expires: 1800\r\n");
        let response = request
            .response(StatusCode::OK)
            .header("Session-Expires", "900;refresher=uas")
            .build();
        let negotiated = negotiate(&request, &response);
        assert_eq!(negotiated.interval, Some(900));
        assert!(negotiated
            .headers
            .contains(&("Session-Expires", "900;refresher=uas".to_owned())));
        assert!(negotiated
            .headers
            .contains(&("Require", "timer".to_owned())));
    }

    #[test]
    fn rfc4028_8_2_answerer_without_timers_makes_the_requester_refresh() {
        let request = invite("Supported: timer\r\nSession-Expires: 1800\r\n");
        let plain = request.response(StatusCode::OK).build();
        let negotiated = negotiate(&request, &plain);
        assert_eq!(negotiated.interval, Some(1800));
        assert!(negotiated
            .headers
            .contains(&("Session-Expires", "1800;refresher=uac".to_owned())));
        // Without timer support on either side there is no session timer at all.
        let none = invite("");
        let negotiated = negotiate(&none, &none.response(StatusCode::OK).build());
        assert!(negotiated.headers.is_empty() && negotiated.interval.is_none());
    }

    #[test]
    fn rfc4028_10_refresh_keeps_the_interval_in_force() {
        let now = Instant::now();
        let first = Negotiated {
            headers: Vec::new(),
            interval: Some(90),
        };
        let session = SessionTimer::after(None, &first, now);
        let later = now + Duration::from_secs(60);
        let silent = Negotiated {
            headers: Vec::new(),
            interval: None,
        };
        let refreshed = SessionTimer::after(session, &silent, later).map(|s| s.expires);
        assert_eq!(refreshed, Some(later + Duration::from_secs(90)));
        assert!(SessionTimer::after(None, &silent, now).is_none());
    }
}
