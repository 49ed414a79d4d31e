//! SDP (RFC 4566) parsing and offer/answer (RFC 3264) for one audio stream: PCMU, PCMA and
//! telephone-event (RFC 4733) under any dynamic payload type.
//!
//! Only what a G.711 IVR needs is modelled; unknown lines are kept out of the way, not
//! rejected. Not covered: ICE, SRTP (`RTP/SAVP` is refused), multiple audio streams (only
//! the first usable one is answered, the others get port 0).

mod negotiate;
mod parse;

pub use negotiate::{
    build_answer, build_answer_version, build_offer, Negotiated, OFFER_TELEPHONE_EVENT_PT, PTIME_MS,
};
pub use parse::{Direction, MediaDescription, RtpMap, SessionDescription};

use thiserror::Error;

/// Why an SDP body cannot be used. The caller answers the INVITE with
/// [`SdpError::status`] (488 for a negotiation failure, 400 for a malformed body).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    /// The body does not start with `v=0`.
    #[error("SDP does not start with v=0")]
    MissingVersion,
    /// A line is not `<letter>=<value>` or its value is malformed.
    #[error("SDP line {line} is malformed")]
    BadLine {
        /// 1-based line number.
        line: usize,
    },
    /// A media stream has no connection address at either level.
    #[error("SDP media stream {index} has no connection address")]
    MissingConnection {
        /// 0-based `m=` index.
        index: usize,
    },
    /// No `m=audio` stream over `RTP/AVP` (or `RTP/AVPF`).
    #[error("SDP offers no RTP/AVP audio stream")]
    NoAudio,
    /// Audio is offered, but neither PCMU nor PCMA.
    #[error("SDP offers no supported codec (PCMU or PCMA at 8000 Hz)")]
    NoCommonCodec,
    /// Larger than [`MAX_SDP`].
    #[error("SDP body of {0} bytes is too large")]
    TooLarge(usize),
}

/// Largest SDP body accepted.
pub const MAX_SDP: usize = 16 * 1024;

impl SdpError {
    /// The SIP status the caller should answer with: 488 Not Acceptable Here when the body
    /// parses but nothing is usable (RFC 3261 §21.4.26), 400 when it does not parse.
    pub fn status(&self) -> u16 {
        match self {
            Self::NoAudio | Self::NoCommonCodec => 488,
            Self::MissingVersion
            | Self::BadLine { .. }
            | Self::MissingConnection { .. }
            | Self::TooLarge(_) => 400,
        }
    }
}
