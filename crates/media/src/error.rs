//! The engine's error type.

use thiserror::Error;

use crate::sdp::SdpError;

/// Why a media request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MediaError {
    /// The offer or answer is unusable; see [`SdpError::status`] (488 or 400).
    #[error(transparent)]
    Sdp(#[from] SdpError),
    /// Every port of the range is in use: answer 503 (or 488) and log it.
    #[error("no free RTP port in the configured range")]
    NoFreePort,
    /// A prompt name is not loaded for the language.
    #[error("prompt {name:?} is not loaded for language {lang:?}")]
    UnknownPrompt {
        /// Language asked for.
        lang: String,
        /// Prompt name.
        name: String,
    },
    /// The session is closed or ended (a re-offer for it gets 481).
    #[error("media session {0} does not exist")]
    UnknownSession(crate::SessionId),
    /// The driver thread could not be started.
    #[error("cannot start the media thread: {0}")]
    Start(std::io::ErrorKind),
    /// The engine's driver task is gone (runtime shutting down).
    #[error("media engine stopped")]
    EngineStopped,
}

impl MediaError {
    /// SIP status for an INVITE that cannot get media.
    pub fn status(&self) -> u16 {
        match self {
            Self::Sdp(e) => e.status(),
            Self::NoFreePort | Self::EngineStopped | Self::Start(_) => 503,
            Self::UnknownPrompt { .. } => 500,
            Self::UnknownSession(_) => 481,
        }
    }
}
