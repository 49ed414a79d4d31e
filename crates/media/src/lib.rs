//! hotdesk's media engine for its own IVR: RTP/RTCP sessions (RFC 3550) on a UDP port
//! range, G.711 PCMU/PCMA, SDP offer/answer (RFC 3264/4566), DTMF from RFC 4733
//! telephone-events, SIP INFO bodies and in-band tones (Goertzel), and a prompt player
//! paced at 20 ms by ONE driver thread for all sessions.
//!
//! It knows nothing of hot desks or SIP dialogs: the server's IVR turns digits into
//! log-ins. Not covered: other codecs, SRTP/ICE, jitter buffering of received audio (only
//! DTMF is taken from it), RTCP reports beyond parsing.
//!
//! # API for the IVR (stable)
//!
//! ```no_run
//! # async fn demo(offer_sdp: &str) -> Result<(), hotdesk_media::MediaError> {
//! use hotdesk_media::{MediaConfig, MediaEngine, MediaEvent, PromptSet, PortRange, digit_prompts};
//! let prompts = PromptSet::load("prompts".as_ref()).expect("prompts");    // prompts/<lang>/*.wav
//! let config = MediaConfig {
//!     bind_ip: "0.0.0.0".parse().unwrap(),
//!     advertise_ip: Some("192.0.2.10".parse().unwrap()),                  // goes into c=
//!     ports: PortRange { first: 20000, last: 29999 },
//!     prompts,
//!     ..MediaConfig::default()                                            // "en", 20 s no-RTP
//! };
//! let (engine, mut events) = MediaEngine::start(config)?;                 // own thread
//!
//! // INVITE with SDP: answer it (error → e.status() is 488 or 400; 503 if no port).
//! let answered = engine.open(offer_sdp)?;                                 // answered.sdp → 200 OK
//! let id = answered.id;
//! let mut names = vec!["user".to_owned()];
//! names.extend(digit_prompts("1004"));                                     // digit-1 digit-0 …
//! let playback = engine.play(id, &names)?;                                  // barge-in on
//!
//! // SIP INFO with DTMF: parse and inject (barges in, comes back as an event).
//! let digit = hotdesk_media::dtmf::sip_info::parse("application/dtmf-relay", b"Signal=5").unwrap();
//! engine.digit(id, digit)?;
//!
//! while let Some(event) = events.recv().await {
//!     match event {
//!         MediaEvent::Digit { id, digit, source } => { /* feed the IVR script */ }
//!         MediaEvent::PlaybackDone { id, playback, interrupted } => { /* next prompt / start digit timer */ }
//!         MediaEvent::Ended { id, reason } => { /* no RTP: send BYE, drop the call */ }
//!     }
//! }
//! # let reoffer = offer_sdp;
//! let again = engine.update(id, reoffer)?;                                  // re-INVITE: same port, o= version + 1
//! engine.close(id)?;                                                        // on BYE / CANCEL; frees the port
//!
//! // Activate Phone: we offer, the device answers.
//! let (id, offer) = engine.offer()?;        // offer → INVITE body
//! # let answer_sdp = "";
//! engine.answer(id, answer_sdp)?;            // body of the 200 OK
//! # Ok(()) }
//! ```
//!
//! Events of all sessions come on one channel, tagged with the [`SessionId`]. Every
//! [`MediaEngine::play`] ends with exactly one `PlaybackDone` unless it is replaced by
//! another `play`, stopped by [`MediaEngine::stop_playback`] or the session ends; match on
//! its [`PlaybackId`]. A session
//! ends on [`MediaEngine::close`] (no event) or by itself with `Ended` (no RTP/RTCP for
//! [`SessionConfig::no_media_timeout`], or [`SessionConfig::max_duration`]); either way its
//! port is free. Prompt names are file stems under `prompts/<lang>/` (see
//! `prompts/README.md`); an unknown name is [`MediaError::UnknownPrompt`].
//!
//! Operations: [`MediaEngine::set_realtime_priority`] puts the driver thread under
//! SCHED_FIFO (clean pacing on a busy host, see BENCHMARKS.md "Media");
//! [`MediaEngine::pacing`] and [`MediaEngine::ports_in_use`] are for metrics.
//!
//! Layout: [`sdp`], [`rtp`], [`g711`], [`dtmf`], [`prompt`], [`session`] (pure: inputs and
//! `now` in, packets, events and the next deadline out, tested in virtual time) and the
//! thin driver in `engine` (one thread, one 20 ms tick, non-blocking sockets).
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod dtmf;
mod engine;
mod error;
pub mod g711;
pub mod prompt;
pub mod rtp;
pub mod sdp;
pub mod session;

pub use dtmf::{Digit, DigitSource};
pub use engine::{
    Answered, MediaConfig, MediaEngine, MediaEvent, PacingStats, PlaybackId, SessionId, THREAD_NAME,
};
pub use error::MediaError;
pub use g711::Codec;
pub use prompt::{digit_prompts, PromptSet};
pub use rtp::PortRange;
pub use sdp::{Negotiated, SdpError};
pub use session::{EndReason, SessionConfig};
