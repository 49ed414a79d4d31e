//! One side of a call as a UA sees it (RFC 3261 §12): Call-ID, local and remote
//! From/To values with their tags, the remote target, route set, where to send, and our
//! local CSeq. Builds the requests we send inside it.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use hotdesk_sip::endpoint::new_branch;
use hotdesk_sip::transport::Target;
use hotdesk_sip::{Method, Request, RequestBuilder};

/// A dialog (or, before an answer, the dialog-to-be of an outgoing INVITE).
#[derive(Debug, Clone)]
pub(super) struct Dialog {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The From value of requests we send (our URI and tag).
    pub local: String,
    /// The To value of requests we send (their URI, their tag once known).
    pub remote: String,
    /// Request-URI of requests we send: the peer's Contact.
    pub remote_target: String,
    /// Route headers, in order (from Record-Route).
    pub route: Vec<String>,
    /// Where requests go.
    pub target: Target,
    /// Our last CSeq number.
    pub cseq: u32,
    /// Our Contact URI on this side (shared by every dialog on that listener).
    pub contact: Arc<str>,
}

/// The Via of a request sent over `target`'s transport from `local` (our listener).
pub(super) fn via(target: &Target, local: std::net::SocketAddr) -> String {
    format!(
        "SIP/2.0/{} {local};branch={};rport",
        target.transport.as_str(),
        new_branch()
    )
}

impl Dialog {
    /// A request inside the dialog with the next CSeq (or `cseq` for ACK/CANCEL).
    pub(super) fn request(
        &mut self,
        method: Method,
        via: String,
        cseq: Option<u32>,
        extra: &[(&str, &str)],
        body: Option<(&str, Bytes)>,
    ) -> Option<Request> {
        let seq = match cseq {
            Some(seq) => seq,
            None => {
                self.cseq += 1;
                self.cseq
            }
        };
        let cseq = format!("{seq} {}", method.as_str());
        let has_contact = !matches!(method, Method::Ack | Method::Bye | Method::Cancel);
        let mut builder = RequestBuilder::new(method, Cow::Borrowed(self.remote_target.as_str()))
            .header("Via", via);
        if !extra
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Max-Forwards"))
        {
            builder = builder.header("Max-Forwards", "70");
        }
        for route in &self.route {
            builder = builder.header("Route", route.as_str());
        }
        builder = builder
            .header("From", self.local.as_str())
            .header("To", self.remote.as_str())
            .header("Call-ID", self.call_id.as_str())
            .header("CSeq", cseq);
        if has_contact {
            builder = builder.header("Contact", &*self.contact);
        }
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        if let Some((content_type, body)) = body {
            builder = builder.body(content_type, body);
        }
        // Every value comes from a message we parsed or is one we made: indexed as written,
        // not parsed again (a full parse cost a tenth of a call's CPU).
        builder.build_trusted().ok()
    }

    /// Sets the peer's tag on the To value we send (when the answer arrives).
    pub(super) fn set_remote_tag(&mut self, tag: &str) {
        if !self.remote.contains(";tag=") {
            self.remote = format!("{};tag={tag}", self.remote);
        }
    }
}

/// `<uri>` from a Contact header value (`"Name" <sip:…>;expires=…` or a bare URI).
pub(super) fn contact_uri(value: &str) -> Option<String> {
    let value = value.trim();
    if let Some(start) = value.find('<') {
        let rest = value.get(start + 1..)?;
        let end = rest.find('>')?;
        return Some(rest.get(..end)?.to_owned());
    }
    let end = value.find(';').unwrap_or(value.len());
    let uri = value.get(..end)?.trim();
    (!uri.is_empty()).then(|| uri.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_uri_forms() {
        assert_eq!(
            contact_uri("\"Bob\" <sip:1004@127.0.0.1:5062;transport=udp>;expires=60").as_deref(),
            Some("sip:1004@127.0.0.1:5062;transport=udp")
        );
        assert_eq!(
            contact_uri("sip:1004@127.0.0.1:5062;expires=60").as_deref(),
            Some("sip:1004@127.0.0.1:5062")
        );
        assert_eq!(contact_uri("  "), None);
    }
}
