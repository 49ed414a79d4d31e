//! REGISTER answers: the registrar's error enum with its one mapping to status, reason and
//! extra headers (Kamailio's `rerrno` without the parallel arrays), and the 200 listing every
//! current binding (RFC 3261 §10.3 step 8).

use std::fmt::Write as _;

use hotdesk_sip::decimal::push_decimal;
use hotdesk_sip::endpoint::{new_tag, Hex16};
use hotdesk_sip::{Request, Response, StatusCode};
use hotdesk_store::{Binding, StoreError};
use jiff::Timestamp;

/// Why a REGISTER was refused after authentication (or before it, for the domain).
#[derive(Debug, thiserror::Error)]
pub enum RegError {
    /// To is not a SIP URI with an extension as its user part.
    #[error("To is not an address of record of this server")]
    BadAor,
    /// The To domain is not one of ours (HD-SEC-1).
    #[error("domain not served here")]
    UnknownDomain,
    /// The client requires an extension we do not implement (RFC 3261 §8.2.2.3).
    #[error("unsupported extension required")]
    Unsupported {
        /// The option tags we do not support, comma-separated.
        tags: String,
    },
    /// The authenticated user is not the AOR's owner (§10.3 step 4).
    #[error("authenticated user may not register this AOR")]
    NotOwner,
    /// A Contact value does not parse.
    #[error("malformed Contact")]
    BadContact,
    /// A contact that is not a `sip:`/`sips:` URI (nothing could route to it).
    #[error("contact URI scheme not supported")]
    ContactScheme,
    /// A Path value does not parse.
    #[error("malformed Path")]
    BadPath,
    /// `Contact: *` together with other contacts (§10.3 step 6).
    #[error("Contact * with other contacts")]
    StarWithContacts,
    /// `Contact: *` without `Expires: 0` (§10.3 step 6).
    #[error("Contact * needs Expires: 0")]
    StarExpires,
    /// A non-zero expiry below the minimum (§10.3 step 7, 423).
    #[error("expiry below the minimum of {min} s")]
    IntervalTooBrief {
        /// The minimum, sent in Min-Expires.
        min: u32,
    },
    /// Same Call-ID with a CSeq not above the binding's (§10.3 step 7): out of order.
    #[error("out-of-order REGISTER (CSeq not above the binding's)")]
    OutOfOrder,
    /// More contacts than an AOR may have.
    #[error("more than {max} contacts")]
    TooManyContacts {
        /// The limit.
        max: usize,
    },
    /// The binding could not be written to the store.
    #[error("binding not stored: {0}")]
    Store(#[from] StoreError),
}

impl RegError {
    /// The status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadAor
            | Self::BadContact
            | Self::ContactScheme
            | Self::BadPath
            | Self::StarWithContacts
            | Self::StarExpires => StatusCode::BAD_REQUEST,
            Self::UnknownDomain => StatusCode::NOT_FOUND,
            Self::Unsupported { .. } => StatusCode::BAD_EXTENSION,
            Self::NotOwner | Self::TooManyContacts { .. } => StatusCode::FORBIDDEN,
            Self::IntervalTooBrief { .. } => StatusCode::INTERVAL_TOO_BRIEF,
            Self::OutOfOrder | Self::Store(_) => StatusCode::SERVER_INTERNAL_ERROR,
        }
    }

    /// The reason phrase, naming the fault (HD-SEC-5) without echoing input.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadAor => "Bad Address Of Record",
            Self::UnknownDomain => "Domain Not Served",
            Self::Unsupported { .. } => "Bad Extension",
            Self::NotOwner => "Forbidden",
            Self::BadContact => "Bad Contact",
            Self::ContactScheme => "Unsupported Contact Scheme",
            Self::BadPath => "Bad Path",
            Self::StarWithContacts => "Invalid Contact * With Other Contacts",
            Self::StarExpires => "Contact * Needs Expires 0",
            Self::IntervalTooBrief { .. } => "Interval Too Brief",
            Self::OutOfOrder => "Out Of Order Request",
            Self::TooManyContacts { .. } => "Too Many Registered Contacts",
            Self::Store(_) => "Binding Not Stored",
        }
    }

    /// The error response to `request`, with Min-Expires (423) or Unsupported (420).
    pub fn response(&self, request: &Request) -> Response {
        let mut builder = request
            .response(self.status())
            .reason(self.reason())
            .to_tag(new_tag());
        match self {
            Self::IntervalTooBrief { min } => {
                builder = builder.header("Min-Expires", min.to_string())
            }
            Self::Unsupported { tags } => builder = builder.header("Unsupported", tags.as_str()),
            Self::Store(_) => builder = builder.header("Retry-After", "5"),
            _ => {}
        }
        builder.build()
    }
}

/// Seconds left on `binding` at `now`, rounded up (a binding that is live has at least 1).
pub fn seconds_left(binding: &Binding, now: Timestamp) -> u64 {
    let left = binding.expires_at.duration_since(now);
    let secs = u64::try_from(left.as_secs()).unwrap_or(0);
    secs + u64::from(left.subsec_nanos() > 0)
}

/// One Contact value of the 200: `<uri>;expires=N` plus the parameters the client sent
/// that identify the binding (`q`, `+sip.instance`, `reg-id`).
fn contact_value(binding: &Binding, now: Timestamp) -> String {
    let mut value = String::with_capacity(binding.contact.len() + 24);
    value.push('<');
    value.push_str(&binding.contact);
    value.push_str(">;expires=");
    push_decimal(&mut value, seconds_left(binding, now));
    // Writing into a String cannot fail.
    if let Some(q) = binding.q {
        let _ = write!(value, ";q={}.{:03}", q / 1000, q % 1000);
    }
    if let Some(instance) = &binding.instance {
        let _ = write!(value, ";+sip.instance=\"{instance}\"");
    }
    if let Some(reg_id) = binding.reg_id {
        let _ = write!(value, ";reg-id={reg_id}");
    }
    value
}

/// What the 200 carries besides the bindings.
#[derive(Debug, Clone, Copy, Default)]
pub struct OkOptions<'a> {
    /// Path values to echo (only when the client said `Supported: path`, RFC 3327 §5.3).
    pub path: &'a [&'a str],
    /// Add `Require: outbound` (RFC 5626 §6: a flow was registered).
    pub outbound: bool,
}

/// The 200 to a REGISTER: every current binding with its remaining expiry, To-tagged for a
/// stateless answer from the request's `fingerprint`
/// ([`request_fingerprint`](hotdesk_sip::endpoint::request_fingerprint)).
pub fn ok(
    request: &Request,
    fingerprint: u64,
    contacts: &[Binding],
    now: Timestamp,
    options: OkOptions<'_>,
) -> Response {
    // Sent statelessly: a retransmission answered again must get the same To tag (what
    // `stateless_tag` gives, from the fingerprint the registrar has already).
    let tag = Hex16::new(fingerprint);
    let mut builder = request.response(StatusCode::OK).to_tag(tag.as_str());
    for path in options.path {
        builder = builder.header("Path", *path);
    }
    if options.outbound {
        builder = builder.header("Require", "outbound");
    }
    for binding in contacts {
        builder = builder.header("Contact", contact_value(binding, now));
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_10_3_error_mapping() {
        assert_eq!(
            RegError::IntervalTooBrief { min: 60 }.status().as_u16(),
            423
        );
        assert_eq!(RegError::StarWithContacts.status().as_u16(), 400);
        assert_eq!(RegError::UnknownDomain.status().as_u16(), 404);
        assert_eq!(RegError::NotOwner.status().as_u16(), 403);
        assert_eq!(
            RegError::Unsupported { tags: "foo".into() }
                .status()
                .as_u16(),
            420
        );
        assert_eq!(RegError::OutOfOrder.status().as_u16(), 500);
    }
}
