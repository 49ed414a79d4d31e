//! Request methods (RFC 3261 §7.1 and the extensions hotdesk meets).

use std::fmt;

use bytes::Bytes;

use crate::parse::scan::is_token;

/// A SIP method. Methods are case-sensitive (RFC 3261 §7.1): `invite` is an extension
/// method, not INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE (RFC 3261).
    Invite,
    /// ACK (RFC 3261).
    Ack,
    /// BYE (RFC 3261).
    Bye,
    /// CANCEL (RFC 3261).
    Cancel,
    /// REGISTER (RFC 3261).
    Register,
    /// OPTIONS (RFC 3261).
    Options,
    /// INFO (RFC 6086).
    Info,
    /// PRACK (RFC 3262).
    Prack,
    /// UPDATE (RFC 3311).
    Update,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// REFER (RFC 3515).
    Refer,
    /// MESSAGE (RFC 3428).
    Message,
    /// PUBLISH (RFC 3903).
    Publish,
    /// Any other token, kept as a slice of the message buffer (or a copy when built).
    Extension(Bytes),
}

const KNOWN: [(&[u8], Method); 14] = [
    (b"INVITE", Method::Invite),
    (b"ACK", Method::Ack),
    (b"BYE", Method::Bye),
    (b"CANCEL", Method::Cancel),
    (b"REGISTER", Method::Register),
    (b"OPTIONS", Method::Options),
    (b"INFO", Method::Info),
    (b"PRACK", Method::Prack),
    (b"UPDATE", Method::Update),
    (b"SUBSCRIBE", Method::Subscribe),
    (b"NOTIFY", Method::Notify),
    (b"REFER", Method::Refer),
    (b"MESSAGE", Method::Message),
    (b"PUBLISH", Method::Publish),
];

impl Method {
    /// Classifies a token already checked by the caller; an unknown one becomes
    /// [`Method::Extension`] sharing `token`'s buffer.
    pub fn from_token(token: &Bytes) -> Self {
        KNOWN
            .iter()
            .find(|(name, _)| *name == &token[..])
            .map_or_else(|| Self::Extension(token.clone()), |(_, m)| m.clone())
    }

    /// The standard method spelled `token` (case-sensitive), if any: no buffer to share.
    pub(crate) fn known(token: &[u8]) -> Option<Self> {
        KNOWN
            .iter()
            .find(|(name, _)| *name == token)
            .map(|(_, m)| m.clone())
    }

    /// Parses a method name; `None` unless it is a `token`.
    pub fn parse(s: &str) -> Option<Self> {
        is_token(s.as_bytes()).then(|| Self::from_token(&Bytes::copy_from_slice(s.as_bytes())))
    }

    /// The method name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Register => "REGISTER",
            Self::Options => "OPTIONS",
            Self::Info => "INFO",
            Self::Prack => "PRACK",
            Self::Update => "UPDATE",
            Self::Subscribe => "SUBSCRIBE",
            Self::Notify => "NOTIFY",
            Self::Refer => "REFER",
            Self::Message => "MESSAGE",
            Self::Publish => "PUBLISH",
            // Extension tokens are ASCII by construction.
            Self::Extension(b) => std::str::from_utf8(b).unwrap_or_default(),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_7_1_method_table() {
        let cases = [
            ("INVITE", Some(Method::Invite)),
            ("PUBLISH", Some(Method::Publish)),
            (
                "invite",
                Some(Method::Extension(Bytes::from_static(b"invite"))),
            ),
            (
                "RE%47IST%45R",
                Some(Method::Extension(Bytes::from_static(b"RE%47IST%45R"))),
            ),
            ("NOT A TOKEN", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(Method::parse(input), want, "{input}");
        }
        for (name, m) in KNOWN {
            assert_eq!(m.as_str().as_bytes(), name);
        }
    }
}
