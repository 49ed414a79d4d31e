//! Why digest authentication failed, and the SIP response each failure implies.

use thiserror::Error;

use super::challenge::AuthKind;

/// A digest authentication failure (RFC 3261 §22, RFC 7616, RFC 8760).
///
/// `Display` never prints secrets, responses or nonces (HD-SEC-2).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestError {
    /// The credentials use another scheme than `Digest` (e.g. `Basic`).
    #[error("credentials scheme is not Digest")]
    NotDigest,
    /// The parameter list does not follow the auth-param grammar.
    #[error("malformed digest parameters at byte {offset}")]
    Malformed {
        /// Byte offset into the header value where parsing stopped.
        offset: usize,
    },
    /// A parameter that may appear once appears twice.
    #[error("digest parameter {name} appears more than once")]
    DuplicateParam {
        /// The parameter name, as we spell it.
        name: &'static str,
    },
    /// A required parameter is absent.
    #[error("missing digest parameter {name}")]
    MissingParam {
        /// The parameter name.
        name: &'static str,
    },
    /// The `algorithm` is not one we implement (or not one we offer).
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
    /// The `qop` is not `auth` (we do not implement `auth-int`).
    #[error("unsupported digest qop")]
    UnsupportedQop,
    /// `nc` is not 8 hex digits.
    #[error("digest nonce-count is not 8 hex digits")]
    BadNonceCount,
    /// The `realm` is not the one the request is authenticated against.
    #[error("digest realm does not match")]
    RealmMismatch,
    /// The `opaque` is not the one we sent.
    #[error("digest opaque does not match")]
    OpaqueMismatch,
    /// The nonce is malformed, or its signature, realm or client address does not verify.
    #[error("digest nonce was not issued by this server")]
    BadNonce,
    /// The nonce is ours but expired; the response was right, so re-challenge with `stale=true`.
    #[error("digest nonce expired")]
    Stale,
    /// The nonce-count is not above the highest one already accepted for this nonce.
    #[error("digest nonce-count {nc} replayed (highest seen {seen})")]
    Replay {
        /// The nonce-count received.
        nc: u32,
        /// The highest nonce-count accepted before.
        seen: u32,
    },
    /// The `response` does not match the stored HA1: wrong password.
    #[error("wrong digest response")]
    WrongResponse,
    /// No such user in this realm (the caller reports it; answered like a wrong password).
    #[error("unknown digest user")]
    UnknownUser,
    /// The HA1 handed to the verifier has the wrong length for the algorithm: a server fault.
    #[error("stored HA1 has {found} hex digits, expected {expected}")]
    InvalidStoredHa1 {
        /// Digits the algorithm needs (32 or 64).
        expected: usize,
        /// Digits received.
        found: usize,
    },
}

impl DigestError {
    /// The SIP status to answer with. Failures a fresh challenge can cure give 401
    /// (407 for proxy authentication); malformed credentials 400; a wrong password or an
    /// unknown user 403, which stops phones from looping on a bad password.
    pub fn status(&self, kind: AuthKind) -> u16 {
        match self {
            Self::NotDigest
            | Self::UnsupportedAlgorithm
            | Self::RealmMismatch
            | Self::OpaqueMismatch
            | Self::BadNonce
            | Self::Stale
            | Self::Replay { .. } => kind.challenge_status(),
            Self::Malformed { .. }
            | Self::DuplicateParam { .. }
            | Self::MissingParam { .. }
            | Self::UnsupportedQop
            | Self::BadNonceCount => 400,
            Self::WrongResponse | Self::UnknownUser => 403,
            Self::InvalidStoredHa1 { .. } => 500,
        }
    }

    /// The reason phrase to send with [`status`](Self::status), naming the fault (HD-SEC-5)
    /// without telling a guesser whether the user exists.
    pub fn reason(&self, kind: AuthKind) -> &'static str {
        match self {
            Self::NotDigest
            | Self::UnsupportedAlgorithm
            | Self::RealmMismatch
            | Self::OpaqueMismatch
            | Self::BadNonce
            | Self::Stale
            | Self::Replay { .. } => kind.challenge_reason(),
            Self::Malformed { .. } | Self::DuplicateParam { .. } => "Malformed Authorization",
            Self::MissingParam { .. } => "Missing Digest Parameter",
            Self::UnsupportedQop => "Unsupported Digest qop",
            Self::BadNonceCount => "Malformed Digest nonce-count",
            Self::WrongResponse | Self::UnknownUser => "Forbidden",
            Self::InvalidStoredHa1 { .. } => "Server Internal Error",
        }
    }

    /// True when the new challenge should carry `stale=true` (RFC 7616 §3.3): the client
    /// knows the password and only needs a fresh nonce, so it retries without asking the user.
    pub fn is_stale(&self) -> bool {
        matches!(self, Self::Stale)
    }

    /// True when the response was right and only the nonce's age or count refused it
    /// ([`Self::Stale`], [`Self::Replay`]: verification checks those after the response).
    /// The sender knows the password; the request may be a retransmission of one already
    /// accepted, which a stateless UAS answers again (RFC 3261 §8.2.7).
    pub fn is_reuse_of_right_credentials(&self) -> bool {
        matches!(self, Self::Stale | Self::Replay { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_22_3_status_mapping() {
        assert_eq!(DigestError::Stale.status(AuthKind::Www), 401);
        assert_eq!(DigestError::Stale.status(AuthKind::Proxy), 407);
        assert_eq!(
            DigestError::BadNonce.reason(AuthKind::Proxy),
            "Proxy Authentication Required"
        );
        assert_eq!(
            DigestError::MissingParam { name: "nonce" }.status(AuthKind::Www),
            400
        );
        assert_eq!(DigestError::WrongResponse.status(AuthKind::Www), 403);
        assert_eq!(
            DigestError::UnknownUser.reason(AuthKind::Www),
            DigestError::WrongResponse.reason(AuthKind::Www)
        );
        assert!(DigestError::Stale.is_stale());
        assert!(!DigestError::Replay { nc: 1, seen: 1 }.is_stale());
        assert!(DigestError::Stale.is_reuse_of_right_credentials());
        assert!(DigestError::Replay { nc: 1, seen: 1 }.is_reuse_of_right_credentials());
        for other in [
            DigestError::WrongResponse,
            DigestError::UnknownUser,
            DigestError::BadNonce,
            DigestError::RealmMismatch,
        ] {
            assert!(!other.is_reuse_of_right_credentials(), "{other}");
        }
    }
}
