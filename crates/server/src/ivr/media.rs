//! The media side of an IVR call as the call task sees it, over `hotdesk-media`: one
//! engine for the server (its own pacing thread), its single event stream routed to the
//! call that owns each session, and a [`Leg`] per call that plays prompts, takes SIP INFO
//! digits (injected, so barge-in works the same as for RTP digits) and closes its session
//! — freeing the port — when dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use hotdesk_media::dtmf::sip_info;
use hotdesk_media::{
    Digit, MediaConfig, MediaEngine, MediaEvent, PlaybackId, PortRange, PromptSet, SessionConfig,
    SessionId,
};
use hotdesk_sip::StatusCode;
use tokio::sync::mpsc;

use super::config::IvrSettings;
use super::rtp_address::RtpAddress;

/// Why media could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The prompt directory could not be loaded.
    #[error("cannot load prompts: {0}")]
    Prompts(#[from] hotdesk_media::prompt::PromptError),
    /// The engine refused (SDP, no port, stopped).
    #[error(transparent)]
    Engine(#[from] hotdesk_media::MediaError),
    /// The SDP body is not UTF-8.
    #[error("SDP body is not text")]
    NotText,
    /// `--sip` listens on a wildcard address, no `--rtp-address` is set and the routing
    /// table offers none.
    #[error(
        "--sip listens on {0}, which cannot go into SDP, and no route gives a local address: \
         set --rtp-address (HOTDESK_RTP_ADDRESS) to the address phones reach this host on"
    )]
    NoRtpAddress(IpAddr),
    /// `--rtp-address` is a wildcard or multicast address.
    #[error("--rtp-address {0} cannot go into SDP: give the address phones reach this host on")]
    UnusableRtpAddress(IpAddr),
}

impl MediaError {
    /// The SIP status an INVITE gets for this.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Engine(error) => {
                StatusCode::new(error.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
            Self::NotText => StatusCode::BAD_REQUEST,
            Self::Prompts(_) | Self::NoRtpAddress(_) | Self::UnusableRtpAddress(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The reason phrase.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Engine(hotdesk_media::MediaError::Sdp(_)) | Self::NotText => {
                "No Usable Audio In Offer"
            }
            Self::Engine(hotdesk_media::MediaError::NoFreePort) => "No Media Port Free",
            Self::Engine(_)
            | Self::Prompts(_)
            | Self::NoRtpAddress(_)
            | Self::UnusableRtpAddress(_) => "Media Unavailable",
        }
    }
}

/// What a call's leg reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegEvent {
    /// A DTMF key (RTP, in-band, or an injected SIP INFO).
    Digit(char),
    /// The prompts last asked for finished.
    PlaybackDone,
    /// The session ended by itself (no RTP for the time-out, or its maximum life).
    Ended,
}

type Routes = Arc<Mutex<HashMap<SessionId, mpsc::UnboundedSender<MediaEvent>>>>;

/// The media engine shared by all calls.
#[derive(Debug)]
pub struct Media {
    engine: MediaEngine,
    routes: Routes,
    language: String,
}

impl Media {
    /// Loads the prompts and starts the engine on `address` with the configured port
    /// range; a task routes its events to the calls.
    pub fn start(settings: &IvrSettings, address: RtpAddress) -> Result<Self, MediaError> {
        let prompts = PromptSet::load(&settings.prompts_dir)?;
        let config = MediaConfig {
            bind_ip: address.bind,
            advertise_ip: Some(address.advertise),
            ports: PortRange {
                first: settings.rtp_ports.0,
                last: settings.rtp_ports.1,
            },
            prompts,
            default_language: settings.language.clone(),
            session: SessionConfig {
                // The phone menu's own limit ends calls first; these are the backstop.
                no_media_timeout: settings.timing.session,
                max_duration: settings.timing.session + std::time::Duration::from_secs(5),
                ..SessionConfig::default()
            },
        };
        let (engine, mut events) = MediaEngine::start(config)?;
        if let Some(priority) = settings.realtime_priority {
            engine.set_realtime_priority(priority)?;
        }
        let routes = Routes::default();
        let table = Arc::clone(&routes);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let id = match event {
                    MediaEvent::Digit { id, .. }
                    | MediaEvent::PlaybackDone { id, .. }
                    | MediaEvent::Ended { id, .. } => id,
                };
                let route = table
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&id)
                    .cloned();
                if let Some(route) = route {
                    let _ = route.send(event);
                }
            }
        });
        Ok(Self {
            engine,
            routes,
            language: settings.language.clone(),
        })
    }

    /// The driver's pacing counters.
    pub fn pacing(&self) -> hotdesk_media::PacingStats {
        self.engine.pacing()
    }

    /// RTP ports held by sessions now.
    pub fn ports_in_use(&self) -> usize {
        self.engine.ports_in_use()
    }

    fn leg(&self, id: SessionId) -> Leg {
        let (tx, rx) = mpsc::unbounded_channel();
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, tx.clone());
        Leg {
            id,
            engine: self.engine.clone(),
            routes: Arc::clone(&self.routes),
            language: self.language.clone(),
            default_language: self.language.clone(),
            events: rx,
            own: tx,
            playing: None,
        }
    }

    /// Answers an SDP offer: the leg and the SDP answer.
    pub async fn answer(&self, offer: &[u8]) -> Result<(Leg, String), MediaError> {
        let offer = std::str::from_utf8(offer).map_err(|_| MediaError::NotText)?;
        let answered = self.engine.open(offer)?;
        Ok((self.leg(answered.id), answered.sdp))
    }

    /// An offer for an outgoing call (Activate Phone).
    pub async fn offer(&self) -> Result<(Offered, String), MediaError> {
        let (id, sdp) = self.engine.offer()?;
        Ok((Offered { leg: self.leg(id) }, sdp))
    }
}

/// Our offer, waiting for the answer.
#[derive(Debug)]
pub struct Offered {
    leg: Leg,
}

impl Offered {
    /// The leg, once the peer's SDP answer arrived (dropping it closes the session).
    pub fn answered(self, answer: &[u8]) -> Result<Leg, MediaError> {
        let answer = std::str::from_utf8(answer).map_err(|_| MediaError::NotText)?;
        self.leg.engine.answer(self.leg.id, answer)?;
        Ok(self.leg)
    }
}

/// One call's RTP session.
#[derive(Debug)]
pub struct Leg {
    id: SessionId,
    engine: MediaEngine,
    routes: Routes,
    /// The domain's prompt language, else the server's.
    language: String,
    /// The server's (`HOTDESK_PROMPTS_LANGUAGE`): what a prompt missing in `language` is
    /// said in.
    default_language: String,
    events: mpsc::UnboundedReceiver<MediaEvent>,
    own: mpsc::UnboundedSender<MediaEvent>,
    playing: Option<PlaybackId>,
}

impl Leg {
    /// Speaks the domain's prompt language (`settings.prompt_language`) from now on;
    /// `None` keeps the server's.
    pub fn set_language(&mut self, language: Option<&str>) {
        self.language = language.map_or_else(|| self.default_language.clone(), str::to_owned);
    }

    /// Plays prompts in order, replacing anything playing; a digit stops them. Returns the
    /// language they are said in: the leg's, or the server's when the leg's folder lacks
    /// one of them (a translation in progress) — never half in each.
    pub fn play(&mut self, prompts: &[&'static str]) -> String {
        let complete = prompts
            .iter()
            .all(|name| self.engine.has_prompt(&self.language, name));
        let language = if complete {
            self.language.clone()
        } else {
            if self.language != self.default_language {
                tracing::warn!(language = %self.language, ?prompts, "prompts missing; said in the server's language");
            }
            self.default_language.clone()
        };
        let known: Vec<&str> = prompts
            .iter()
            .copied()
            .filter(|name| {
                let found = self.engine.has_prompt(&language, name);
                if !found {
                    tracing::warn!(prompt = name, "prompt file missing; skipped");
                }
                found
            })
            .collect();
        match self.engine.play_in(self.id, &language, &known, true) {
            Ok(playback) if !known.is_empty() => self.playing = Some(playback),
            // Nothing to play: the script must not wait for audio that never comes.
            Ok(playback) => self.done_now(playback),
            Err(error) => {
                tracing::warn!(%error, "cannot play prompts");
                self.done_now(0);
            }
        }
        language
    }

    fn done_now(&mut self, playback: PlaybackId) {
        self.playing = Some(playback);
        let _ = self.own.send(MediaEvent::PlaybackDone {
            id: self.id,
            playback,
            interrupted: false,
        });
    }

    /// Stops playback.
    pub fn stop(&mut self) {
        self.playing = None;
        let _ = self.engine.stop_playback(self.id);
    }

    /// A digit from SIP INFO: through the engine, so it barges in like an RTP digit.
    pub fn inject(&self, digit: char) {
        if let Some(digit) = Digit::from_char(digit) {
            let _ = self.engine.digit(self.id, digit);
        }
    }

    /// The next event; cancel-safe.
    pub async fn next(&mut self) -> LegEvent {
        loop {
            match self.events.recv().await {
                Some(MediaEvent::Digit { digit, .. }) => return LegEvent::Digit(digit.as_char()),
                Some(MediaEvent::PlaybackDone { playback, .. }) => {
                    // Only the playback asked for last counts; a replaced one is stale.
                    if self.playing == Some(playback) {
                        self.playing = None;
                        return LegEvent::PlaybackDone;
                    }
                }
                Some(MediaEvent::Ended { .. }) => return LegEvent::Ended,
                // Our own sender keeps the channel open; this cannot end.
                None => std::future::pending::<()>().await,
            }
        }
    }
}

impl Drop for Leg {
    fn drop(&mut self) {
        let _ = self.engine.close(self.id);
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// The key in a SIP INFO body: `Ok(None)` for a body that is no DTMF, `Err` with the
/// status to answer for a malformed one.
pub fn info_digit(content_type: &str, body: &[u8]) -> Result<Option<char>, StatusCode> {
    if !sip_info::is_dtmf_type(content_type) {
        return Ok(None);
    }
    match sip_info::parse(content_type, body) {
        Ok(digit) => Ok(Some(digit.as_char())),
        Err(error) => Err(StatusCode::new(error.status()).unwrap_or(StatusCode::BAD_REQUEST)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotdesk_core::phone_menu::Prompt;

    #[test]
    fn every_phone_menu_prompt_has_a_file() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts/en"));
        for prompt in Prompt::all() {
            let file = dir.join(format!("{}.wav", prompt.name()));
            assert!(file.is_file(), "missing {}", file.display());
        }
    }

    #[test]
    fn info_bodies_give_digits_or_a_status() {
        assert_eq!(
            info_digit("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            Ok(Some('5'))
        );
        assert_eq!(info_digit("application/dtmf", b"#"), Ok(Some('#')));
        assert_eq!(info_digit("text/plain", b"hello"), Ok(None));
        assert!(info_digit("application/dtmf-relay", b"Duration=160").is_err());
    }
}
