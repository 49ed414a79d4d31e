//! Why a message was refused, and the one mapping from a fault to the status and reason a
//! server answers with (STYLE §4, HD-SEC-5).

use std::borrow::Cow;

use crate::message::{HeaderName, StatusCode};
use crate::uri::UriError;

/// A malformed or unacceptable message. Offsets are byte offsets in the message (for errors
/// from a bare typed parser, in the value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but CRLFs (a keep-alive) or no bytes at all.
    #[error("empty message")]
    Empty,
    /// The message is larger than allowed.
    #[error("message larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The header section did not end within the limit (stream framing).
    #[error("header section larger than {limit} bytes")]
    HeadersTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The start line is neither a request line nor a status line.
    #[error("malformed start line at byte {offset}")]
    BadStartLine {
        /// Offset of the fault.
        offset: usize,
    },
    /// The Request-URI does not parse.
    #[error("malformed Request-URI at byte {offset}: {error}")]
    BadRequestUri {
        /// Offset of the Request-URI.
        offset: usize,
        /// What is wrong with it.
        #[source]
        error: UriError,
    },
    /// A Request-URI scheme other than sip, sips or tel (RFC 4475 §3.3.2).
    #[error("unsupported Request-URI scheme at byte {offset}")]
    UnsupportedUriScheme {
        /// Offset of the Request-URI.
        offset: usize,
    },
    /// A well-formed SIP version other than 2.0 (RFC 4475 §3.1.2.16).
    #[error("unsupported SIP version at byte {offset}")]
    UnsupportedVersion {
        /// Offset of the version.
        offset: usize,
    },
    /// A status code that is not three digits in 100..=699 (RFC 4475 §3.1.2.19).
    #[error("bad status code at byte {offset}")]
    BadStatusCode {
        /// Offset of the code.
        offset: usize,
    },
    /// A header line without a token name and colon.
    #[error("malformed header line at byte {offset}")]
    BadHeaderLine {
        /// Offset of the line.
        offset: usize,
    },
    /// A mandatory header is absent (RFC 3261 §8.1.1, RFC 4475 §3.3.1).
    #[error("missing {name} header")]
    MissingHeader {
        /// The header.
        name: HeaderName,
    },
    /// A single-valued header appears more than once (RFC 4475 §3.3.8, §3.3.9).
    #[error("more than one {name} header, second at byte {offset}")]
    DuplicateHeader {
        /// The header.
        name: HeaderName,
        /// Offset of the second occurrence's value.
        offset: usize,
    },
    /// A header value does not match its grammar (or is not UTF-8).
    #[error("malformed {name} header at byte {offset}")]
    BadHeader {
        /// The header.
        name: HeaderName,
        /// Offset of the fault.
        offset: usize,
    },
    /// The CSeq method differs from the request method (RFC 4475 §3.1.2.17).
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch {
        /// Offset of the CSeq value.
        offset: usize,
    },
    /// Fewer body bytes than Content-Length announces (RFC 3261 §18.3, RFC 4475 §3.1.2.2).
    #[error("body has {actual} bytes, Content-Length says {expected}")]
    BodyTooShort {
        /// Content-Length.
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
}

impl ParseError {
    /// The status a server answers a request with (responses with faults are dropped).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } | Self::HeadersTooLarge { .. } => StatusCode::MESSAGE_TOO_LARGE,
            Self::UnsupportedUriScheme { .. } => StatusCode::UNSUPPORTED_URI_SCHEME,
            Self::UnsupportedVersion { .. } => StatusCode::VERSION_NOT_SUPPORTED,
            Self::Empty
            | Self::BadStartLine { .. }
            | Self::BadRequestUri { .. }
            | Self::BadStatusCode { .. }
            | Self::BadHeaderLine { .. }
            | Self::MissingHeader { .. }
            | Self::DuplicateHeader { .. }
            | Self::BadHeader { .. }
            | Self::CSeqMethodMismatch { .. }
            | Self::BodyTooShort { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// A reason phrase naming the fault, e.g. "Bad CSeq" or "Missing Call-ID"; it never
    /// quotes message content.
    pub fn reason(&self) -> Cow<'static, str> {
        match self {
            Self::Empty => Cow::Borrowed("Empty Message"),
            Self::TooLarge { .. } => Cow::Borrowed("Message Too Large"),
            Self::HeadersTooLarge { .. } => Cow::Borrowed("Header Section Too Large"),
            Self::BadStartLine { .. } => Cow::Borrowed("Malformed Request Line"),
            Self::BadRequestUri { .. } => Cow::Borrowed("Bad Request-URI"),
            Self::UnsupportedUriScheme { .. } => Cow::Borrowed("Unsupported URI Scheme"),
            Self::UnsupportedVersion { .. } => Cow::Borrowed("Version Not Supported"),
            Self::BadStatusCode { .. } => Cow::Borrowed("Bad Status Code"),
            Self::BadHeaderLine { .. } => Cow::Borrowed("Malformed Header Line"),
            Self::MissingHeader { name } => Cow::Owned(format!("Missing {name}")),
            Self::DuplicateHeader { name, .. } => Cow::Owned(format!("Multiple {name}")),
            Self::BadHeader { name, .. } => Cow::Owned(format!("Bad {name}")),
            Self::CSeqMethodMismatch { .. } => Cow::Borrowed("CSeq Method Mismatch"),
            Self::BodyTooShort { .. } => Cow::Borrowed("Content-Length Exceeds Body"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_4_each_fault_maps_to_status_and_reason() {
        let cases: [(ParseError, u16, &str); 7] = [
            (
                ParseError::MissingHeader {
                    name: HeaderName::CallId,
                },
                400,
                "Missing Call-ID",
            ),
            (
                ParseError::BadHeader {
                    name: HeaderName::CSeq,
                    offset: 3,
                },
                400,
                "Bad CSeq",
            ),
            (
                ParseError::DuplicateHeader {
                    name: HeaderName::ContentLength,
                    offset: 9,
                },
                400,
                "Multiple Content-Length",
            ),
            (
                ParseError::UnsupportedVersion { offset: 30 },
                505,
                "Version Not Supported",
            ),
            (
                ParseError::UnsupportedUriScheme { offset: 8 },
                416,
                "Unsupported URI Scheme",
            ),
            (
                ParseError::HeadersTooLarge { limit: 65536 },
                513,
                "Header Section Too Large",
            ),
            (
                ParseError::CSeqMethodMismatch { offset: 1 },
                400,
                "CSeq Method Mismatch",
            ),
        ];
        for (err, status, reason) in cases {
            assert_eq!(err.status().as_u16(), status, "{err}");
            assert_eq!(err.reason(), reason, "{err}");
        }
    }
}
