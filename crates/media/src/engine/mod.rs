//! The handle the IVR uses: open sessions from an offer, play prompts, receive events.
//! All sessions are driven by ONE thread ([`driver`]), serving them in 1 ms steps of a
//! 20 ms timer wheel ([`wheel`]).

mod clock;
mod driver;
mod pacing;
mod readiness;
pub(crate) mod realtime;
mod wheel;

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use pacing::PacingCounters;
pub use pacing::PacingStats;

use crate::dtmf::{Digit, DigitSource};
use crate::error::MediaError;
use crate::g711::Codec;
use crate::prompt::{Prompt, PromptSet};
use crate::rtp::{PortLease, PortPool, PortRange};
use crate::sdp::{
    build_answer, build_answer_version, build_offer, Direction, Negotiated, SessionDescription,
};
use crate::session::{EndReason, Session, SessionConfig};

/// Name of the driver thread (for `top -H` and the benchmark's CPU figure).
pub const THREAD_NAME: &str = "hotdesk-media";

/// Identifies a session of one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}

/// Identifies one [`MediaEngine::play`] call, echoed in [`MediaEvent::PlaybackDone`].
pub type PlaybackId = u64;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Address RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// Address written into SDP (`c=`); defaults to `bind_ip`. Must not be unspecified
    /// when `bind_ip` is `0.0.0.0`.
    pub advertise_ip: Option<IpAddr>,
    /// UDP ports for RTP (even ports are used).
    pub ports: PortRange,
    /// Prompts by language.
    pub prompts: PromptSet,
    /// Language used by [`MediaEngine::play`].
    pub default_language: String,
    /// Per-session time-outs and DTMF options.
    pub session: SessionConfig,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            advertise_ip: None,
            ports: PortRange {
                first: 20000,
                last: 29999,
            },
            prompts: PromptSet::new(),
            default_language: "en".to_owned(),
            session: SessionConfig::default(),
        }
    }
}

/// What the engine reports, tagged with the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// A key press (RFC 4733, in-band, or SIP INFO passed in by [`MediaEngine::digit`]).
    Digit {
        /// Session.
        id: SessionId,
        /// The key.
        digit: Digit,
        /// Its carrier.
        source: DigitSource,
    },
    /// A playback ended: it ran out, or a digit cut it (`interrupted`, barge-in).
    PlaybackDone {
        /// Session.
        id: SessionId,
        /// The id [`MediaEngine::play`] returned.
        playback: PlaybackId,
        /// Whether a digit cut it short.
        interrupted: bool,
    },
    /// The session ended by itself (no RTP for the time-out, or its maximum life) and its
    /// port is free. Not sent after [`MediaEngine::close`].
    Ended {
        /// Session.
        id: SessionId,
        /// Why.
        reason: EndReason,
    },
}

/// A session opened from an offer.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The session.
    pub id: SessionId,
    /// The SDP answer to send in the 200 OK.
    pub sdp: String,
    /// What was agreed.
    pub negotiated: Negotiated,
}

/// Commands from handles to the driver.
#[derive(Debug)]
enum Command {
    Add(SessionId, Box<Session>, PortLease),
    Negotiated(SessionId, Negotiated),
    Play(SessionId, PlaybackId, Vec<Arc<Prompt>>, bool),
    StopPlayback(SessionId),
    Digit(SessionId, Digit),
    SendDigit(SessionId, Digit),
    Close(SessionId),
    RealtimePriority(i32),
}

#[derive(Debug)]
struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    pool: PortPool,
    prompts: PromptSet,
    default_language: String,
    bind_ip: IpAddr,
    advertise_ip: IpAddr,
    session: SessionConfig,
    next_id: AtomicU64,
    next_playback: AtomicU64,
    pacing: Arc<PacingCounters>,
    locals: Locals,
}

/// Our address and SDP version per live session, for re-offers; the driver removes a
/// session's entry when it ends.
pub(super) type Locals = Arc<Mutex<HashMap<SessionId, Local>>>;

#[derive(Debug, Clone, Copy)]
pub(super) struct Local {
    address: SocketAddr,
    version: u64,
}

/// Cheap-to-clone handle to the media engine. When the last handle is dropped the driver
/// stops and every session's port is freed.
#[derive(Debug, Clone)]
pub struct MediaEngine {
    shared: Arc<Shared>,
}

impl MediaEngine {
    /// Starts the driver on its own plain thread (`hotdesk-media`), so pacing does not wait behind the server's other tasks; returns the handle
    /// and the one event stream for all sessions. Works inside or outside a runtime.
    pub fn start(
        config: MediaConfig,
    ) -> Result<(Self, mpsc::UnboundedReceiver<MediaEvent>), MediaError> {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (events, event_rx) = mpsc::unbounded_channel();
        let advertise_ip = config.advertise_ip.unwrap_or(config.bind_ip);
        if advertise_ip.is_unspecified() {
            // c=0.0.0.0 means "hold" to the peer: it would never send us media.
            return Err(MediaError::Start(std::io::ErrorKind::InvalidInput));
        }
        let pacing = Arc::new(PacingCounters::default());
        let counters = Arc::clone(&pacing);
        let locals = Locals::default();
        let driver_locals = Arc::clone(&locals);
        let readiness = readiness::Readiness::new().map_err(|e| MediaError::Start(e.kind()))?;
        std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || driver::run(command_rx, events, counters, driver_locals, readiness))
            .map_err(|e| MediaError::Start(e.kind()))?;
        let shared = Shared {
            commands,
            pool: PortPool::new(config.ports),
            prompts: config.prompts,
            default_language: config.default_language,
            bind_ip: config.bind_ip,
            advertise_ip,
            session: config.session,
            next_id: AtomicU64::new(1),
            next_playback: AtomicU64::new(1),
            pacing,
            locals,
        };
        Ok((
            Self {
                shared: Arc::new(shared),
            },
            event_rx,
        ))
    }

    fn send(&self, command: Command) -> Result<(), MediaError> {
        self.shared
            .commands
            .send(command)
            .map_err(|_| MediaError::EngineStopped)
    }

    fn lease(&self) -> Result<(PortLease, SocketAddr, SessionId), MediaError> {
        let lease = self
            .shared
            .pool
            .lease(self.shared.bind_ip)
            .ok_or(MediaError::NoFreePort)?;
        let local = SocketAddr::new(self.shared.advertise_ip, lease.port());
        let id = SessionId(self.shared.next_id.fetch_add(1, Ordering::Relaxed));
        Ok((lease, local, id))
    }

    fn new_session(&self, negotiated: Negotiated) -> Session {
        Session::new(
            Instant::now(),
            negotiated,
            self.shared.session,
            rand::random(),
            rand::random(),
            rand::random(),
        )
    }

    /// Answers an SDP offer: binds a port, negotiates G.711 + telephone-event and starts
    /// sending silence. Errors map to a SIP status with [`MediaError::status`].
    pub fn open(&self, offer: &str) -> Result<Answered, MediaError> {
        let offer = SessionDescription::parse(offer)?;
        let (lease, local, id) = self.lease()?;
        let (negotiated, sdp) = build_answer(&offer, local, id.0)?;
        let session = self.new_session(negotiated);
        tracing::debug!(session = %id, port = lease.port(), ?negotiated, "media session opened");
        self.send(Command::Add(id, Box::new(session), lease))?;
        self.remember(id, local);
        Ok(Answered {
            id,
            sdp,
            negotiated,
        })
    }

    /// Makes an offer (we call a device: Activate Phone). Nothing is sent until
    /// [`MediaEngine::answer`] gives the peer's address, or its first packet arrives.
    pub fn offer(&self) -> Result<(SessionId, String), MediaError> {
        let (lease, local, id) = self.lease()?;
        let sdp = build_offer(local, id.0);
        let placeholder = Negotiated {
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(crate::sdp::OFFER_TELEPHONE_EVENT_PT),
            remote: None,
            remote_ptime: None,
            direction: Direction::SendRecv,
        };
        self.send(Command::Add(
            id,
            Box::new(self.new_session(placeholder)),
            lease,
        ))?;
        self.remember(id, local);
        Ok((id, sdp))
    }

    fn locals(&self) -> MutexGuard<'_, HashMap<SessionId, Local>> {
        self.shared
            .locals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(&self, id: SessionId, address: SocketAddr) {
        self.locals().insert(
            id,
            Local {
                address,
                version: 1,
            },
        );
    }

    /// Answers a re-offer (re-INVITE or UPDATE with SDP: hold, resume, session refresh) on
    /// the session's existing port; the answer's `o=` version goes up by one.
    pub fn update(&self, id: SessionId, offer: &str) -> Result<Answered, MediaError> {
        let offer = SessionDescription::parse(offer)?;
        let Local { address, version } = self
            .locals()
            .get(&id)
            .copied()
            .ok_or(MediaError::UnknownSession(id))?;
        let (negotiated, sdp) = build_answer_version(&offer, address, id.0, version + 1)?;
        if let Some(local) = self.locals().get_mut(&id) {
            local.version = version + 1;
        }
        self.send(Command::Negotiated(id, negotiated))?;
        Ok(Answered {
            id,
            sdp,
            negotiated,
        })
    }

    /// Applies the peer's answer to [`MediaEngine::offer`].
    pub fn answer(&self, id: SessionId, answer: &str) -> Result<Negotiated, MediaError> {
        let negotiated = Negotiated::from_answer(&SessionDescription::parse(answer)?)?;
        self.send(Command::Negotiated(id, negotiated))?;
        Ok(negotiated)
    }

    /// Plays prompts (by name, default language) in order, replacing any current playback;
    /// a digit stops it (barge-in). Unknown session ids are ignored (it may have ended).
    pub fn play<S: AsRef<str>>(
        &self,
        id: SessionId,
        prompts: &[S],
    ) -> Result<PlaybackId, MediaError> {
        let lang = self.shared.default_language.clone();
        self.play_in(id, &lang, prompts, true)
    }

    /// [`MediaEngine::play`] with a language and barge-in choice.
    pub fn play_in<S: AsRef<str>>(
        &self,
        id: SessionId,
        lang: &str,
        prompts: &[S],
        barge_in: bool,
    ) -> Result<PlaybackId, MediaError> {
        let resolved = prompts
            .iter()
            .map(|name| {
                self.shared.prompts.get(lang, name.as_ref()).ok_or_else(|| {
                    MediaError::UnknownPrompt {
                        lang: lang.to_owned(),
                        name: name.as_ref().to_owned(),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let playback = self.shared.next_playback.fetch_add(1, Ordering::Relaxed);
        self.send(Command::Play(id, playback, resolved, barge_in))?;
        Ok(playback)
    }

    /// Stops playback (no event); silence follows.
    pub fn stop_playback(&self, id: SessionId) -> Result<(), MediaError> {
        self.send(Command::StopPlayback(id))
    }

    /// Passes a digit that arrived by SIP INFO (see [`crate::dtmf::sip_info::parse`]); it
    /// barges in and comes back as a [`MediaEvent::Digit`] with source `SipInfo`.
    pub fn digit(&self, id: SessionId, digit: Digit) -> Result<(), MediaError> {
        self.send(Command::Digit(id, digit))
    }

    /// Sends a digit to the peer as RFC 4733 events (ignored if not negotiated).
    pub fn send_digit(&self, id: SessionId, digit: Digit) -> Result<(), MediaError> {
        self.send(Command::SendDigit(id, digit))
    }

    /// Ends a session and frees its port (no event). Closing twice is harmless.
    pub fn close(&self, id: SessionId) -> Result<(), MediaError> {
        self.locals().remove(&id);
        self.send(Command::Close(id))
    }

    /// Moves the driver thread to SCHED_FIFO at `priority` (1–99) when the process may (root
    /// or CAP_SYS_NICE): on a saturated machine the thread's wake-up latency, not its work,
    /// spreads the 20 ms spacing (BENCHMARKS.md). A refusal is logged and ignored.
    pub fn set_realtime_priority(&self, priority: i32) -> Result<(), MediaError> {
        self.send(Command::RealtimePriority(priority))
    }

    /// The driver's pacing counters: packets, packets sent 20 ms ± 2 ms after their
    /// session's previous one, worst spacing error (for metrics and the benchmark).
    pub fn pacing(&self) -> PacingStats {
        self.shared.pacing.snapshot()
    }

    /// Ports currently held by sessions (for tests and metrics).
    pub fn ports_in_use(&self) -> usize {
        self.shared.pool.in_use()
    }

    /// Whether a prompt exists for a language.
    pub fn has_prompt(&self, lang: &str, name: &str) -> bool {
        self.shared.prompts.get(lang, name).is_some()
    }

    /// The configured no-RTP time-out.
    pub fn no_media_timeout(&self) -> Duration {
        self.shared.session.no_media_timeout
    }
}
