//! Session timers (RFC 4028) as an intermediary on both halves of a call: the caller's
//! `Session-Expires` and `Min-SE` go to the callee (Min-SE raised to ours, 422 when the
//! interval is below it, §8), the negotiated interval and refresher come back in the 2xx,
//! and every 2xx to a re-INVITE or UPDATE refreshes the session (§10). A session nobody
//! refreshed within its interval is a hung dialog: the sweep ends it with BYE both ways.

use std::time::{Duration, Instant};

use hotdesk_core::Disposition;
use hotdesk_sip::{Headers, Request, Response, StatusCode};

use super::call::ForkState;
use super::prack::{has_token, header};
use super::B2bua;

/// RFC 4028 §4: the smallest Min-SE allowed (the default of `HOTDESK_CALL_MIN_SE`).
pub const MIN_SE_FLOOR: u32 = 90;

/// `delta-seconds` of a Session-Expires (or compact `x`) or Min-SE value.
fn seconds(headers: &Headers, name: &str) -> Option<u32> {
    let value = header(headers, name)?;
    value.split(';').next()?.trim().parse().ok()
}

/// The interval a message's Session-Expires asks for.
pub(super) fn requested(headers: &Headers) -> Option<u32> {
    seconds(headers, "Session-Expires")
}

/// The session interval of an answered call and when it lapses without a refresh.
#[derive(Debug, Clone, Copy)]
pub(super) struct SessionTimer {
    interval: Duration,
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
/// the larger of the caller's and ours (§8.1). Empty when the caller asked for none.
pub(super) fn offer_headers(request: &Request, min_se: u32) -> Vec<(&'static str, String)> {
    let Some(value) = header(request.headers(), "Session-Expires") else {
        return Vec::new();
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
    /// A callee's 422 (its Min-SE above the caller's interval, §7.4) when no other fork is
    /// left: the caller gets the 422 with that Min-SE, so it can retry with a longer
    /// interval (we may not raise it for the caller, §9). `false` to treat it as any failure.
    pub(super) fn relay_interval_too_small(
        &mut self,
        id: u64,
        index: usize,
        response: &Response,
        now: Instant,
    ) -> bool {
        let Some(min) = seconds(response.headers(), "Min-SE") else {
            return false;
        };
        let min = min.max(self.policy.min_se).to_string();
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let alone =
            call.forks.iter().enumerate().all(|(i, f)| {
                i == index || matches!(f.state, ForkState::Done | ForkState::Answered)
            });
        if !alone || call.winner.is_some() || call.cancelled {
            return false;
        }
        let Some(transaction) = call.a_invite.take() else {
            return false;
        };
        if let Some(fork) = call.forks.get_mut(index) {
            fork.state = ForkState::Done;
        }
        self.invites.remove(transaction.key());
        let reply = transaction
            .request()
            .response(StatusCode::SESSION_INTERVAL_TOO_SMALL)
            .to_tag(call.a.local_tag.as_str())
            .header("Min-SE", min)
            .build();
        let _ = transaction.respond(reply);
        self.end(id, Disposition::Failed, now);
        true
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
        let headers = offer_headers(&request, 90);
        assert!(headers.contains(&("Min-SE", "120".to_owned())));
        assert!(headers.contains(&("Session-Expires", "1800".to_owned())));
        assert!(offer_headers(&invite(""), 90).is_empty());
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
