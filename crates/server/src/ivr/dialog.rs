//! One IVR call's SIP dialog (RFC 3261 §12), from either side: the headers our in-dialog
//! requests carry (From/To with tags, Call-ID, CSeq, route set, remote target), the 2xx
//! retransmission schedule (§13.3.1.4), and matching of the peer's in-dialog requests.

use std::time::Duration;

use hotdesk_sip::endpoint::Endpoint;
use hotdesk_sip::transport::Target;
use hotdesk_sip::{Method, Request, Response};

/// T1 and T2 of RFC 3261 §17.1.1.1, for the 2xx retransmission of §13.3.1.4.
pub const T1: Duration = Duration::from_millis(500);
/// See [`T1`].
pub const T2: Duration = Duration::from_secs(4);

/// Why a dialog could not be formed from a message.
#[derive(Debug, thiserror::Error)]
pub enum DialogError {
    /// A header every dialog needs is missing or malformed.
    #[error("missing or malformed {0} header")]
    Header(&'static str),
    /// The endpoint has no listener for the transport the dialog uses.
    #[error("no local listener for the dialog's transport")]
    NoListener,
    /// The request built for the dialog did not parse (a bad value in a header).
    #[error("cannot build an in-dialog request")]
    Build,
}

/// A confirmed or early dialog.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// Call-ID.
    pub call_id: String,
    /// Our From value for requests we send (URI and our tag).
    local: String,
    /// Our To value for requests we send (URI and the peer's tag).
    remote: String,
    /// Where in-dialog requests go (the peer's Contact).
    remote_target: String,
    /// Route headers, in order.
    route_set: Vec<String>,
    /// Our last CSeq number.
    cseq: u32,
    /// The transport and address the peer is reached at.
    pub target: Target,
}

impl Dialog {
    /// The UAS side of a dialog created by `invite` answered with To tag `local_tag`;
    /// requests go back to `target` (where the INVITE came from: right behind NAT too).
    pub fn uas(invite: &Request, local_tag: &str, target: Target) -> Result<Self, DialogError> {
        let from = invite.from().map_err(|_| DialogError::Header("From"))?;
        let to = invite.to().map_err(|_| DialogError::Header("To"))?;
        let contact = contact_uri(invite.headers().contacts().next())
            .ok_or(DialogError::Header("Contact"))?;
        let route_set = invite
            .headers()
            .record_routes()
            .filter_map(Result::ok)
            .map(|r| r.as_str().to_owned())
            .collect();
        Ok(Self {
            call_id: invite.call_id().to_owned(),
            local: format!("{};tag={local_tag}", to.as_str()),
            remote: from.as_str().to_owned(),
            remote_target: contact,
            route_set,
            cseq: 0,
            target,
        })
    }

    /// The UAC side once `response` (a 2xx) answered our INVITE sent with `local_from`
    /// (including our tag) and CSeq `cseq`.
    pub fn uac(response: &Response, cseq: u32, target: Target) -> Result<Self, DialogError> {
        let from = response.from().map_err(|_| DialogError::Header("From"))?;
        let to = response.to().map_err(|_| DialogError::Header("To"))?;
        let contact = contact_uri(response.headers().contacts().next())
            .ok_or(DialogError::Header("Contact"))?;
        let mut route_set: Vec<String> = response
            .headers()
            .record_routes()
            .filter_map(Result::ok)
            .map(|r| r.as_str().to_owned())
            .collect();
        route_set.reverse();
        Ok(Self {
            call_id: response.call_id().to_owned(),
            local: from.as_str().to_owned(),
            remote: to.as_str().to_owned(),
            remote_target: contact,
            route_set,
            cseq,
            target,
        })
    }

    /// A new in-dialog request (BYE, …) with the next CSeq.
    pub fn request(&mut self, endpoint: &Endpoint, method: Method) -> Result<Request, DialogError> {
        self.cseq += 1;
        let cseq = self.cseq;
        self.build(endpoint, method, cseq)
    }

    /// The ACK for a 2xx to our INVITE (its own branch, the INVITE's CSeq number, §13.2.2.4).
    pub fn ack(&self, endpoint: &Endpoint) -> Result<Request, DialogError> {
        self.build(endpoint, Method::Ack, self.cseq)
    }

    fn build(
        &self,
        endpoint: &Endpoint,
        method: Method,
        cseq: u32,
    ) -> Result<Request, DialogError> {
        let via = endpoint
            .via(self.target.transport)
            .ok_or(DialogError::NoListener)?;
        let cseq = format!("{cseq} {}", method.as_str());
        let mut builder =
            hotdesk_sip::message::RequestBuilder::new(method, self.remote_target.as_str())
                .header("Via", via)
                .header("Max-Forwards", "70")
                .header("From", self.local.as_str())
                .header("To", self.remote.as_str())
                .header("Call-ID", self.call_id.as_str())
                .header("CSeq", cseq);
        for route in &self.route_set {
            builder = builder.header("Route", route.as_str());
        }
        builder.build().map_err(|_| DialogError::Build)
    }
}

/// The URI of a Contact header value, in angle brackets.
fn contact_uri<E>(contact: Option<Result<hotdesk_sip::header::Contact<'_>, E>>) -> Option<String> {
    let contact = contact?.ok()?;
    let address = contact.address()?;
    Some(address.uri().as_str().to_owned())
}

/// The 2xx retransmission intervals of RFC 3261 §13.3.1.4: T1, doubling up to T2, until
/// 64·T1 has passed; then the call is given up with a BYE.
pub fn retransmit_intervals() -> impl Iterator<Item = Duration> {
    let mut next = T1;
    let mut total = Duration::ZERO;
    std::iter::from_fn(move || {
        if total + next > T1 * 64 {
            return None;
        }
        let this = next;
        total += this;
        next = (next * 2).min(T2);
        Some(this)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_13_3_1_4_2xx_retransmits_double_to_t2_within_64_t1() {
        let steps: Vec<u64> = retransmit_intervals()
            .map(|d| d.as_millis() as u64)
            .collect();
        assert_eq!(&steps[..5], &[500, 1000, 2000, 4000, 4000]);
        let total: u64 = steps.iter().sum();
        assert!(total <= 32_000, "{total}");
        assert!(total + 4000 > 32_000, "{total}");
    }
}
