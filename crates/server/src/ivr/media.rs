//! The media side of an IVR call, as the call task sees it: answer an SDP offer (or make
//! one), play prompts, report digits and the end of playback. Placeholder until
//! `crates/media` lands: it reserves an RTP port and times prompts, but sends no audio.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hotdesk_sip::StatusCode;
use tokio::net::UdpSocket;

use super::config::IvrSettings;

/// Why media could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The offer is missing or unusable.
    #[error("unusable SDP offer")]
    Sdp,
    /// No RTP port is free.
    #[error("no free RTP port")]
    NoPort,
}

impl MediaError {
    /// The SIP status an INVITE gets for this.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Sdp => StatusCode::NOT_ACCEPTABLE_HERE,
            Self::NoPort => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The reason phrase.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Sdp => "No Usable Audio In Offer",
            Self::NoPort => "No Media Port Free",
        }
    }
}

/// The media engine shared by all calls.
#[derive(Debug)]
pub struct Media {
    ip: IpAddr,
    first: u16,
    last: u16,
    next: AtomicU32,
}

/// What a call's leg reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegEvent {
    /// A DTMF key.
    Digit(char),
    /// The prompts asked for finished.
    PlaybackDone,
}

/// One call's RTP session.
#[derive(Debug)]
pub struct Leg {
    _socket: UdpSocket,
    playing: Option<tokio::time::Instant>,
}

impl Media {
    /// Starts the engine for RTP on `ip`.
    pub fn start(settings: &IvrSettings, ip: IpAddr) -> Result<Self, MediaError> {
        Ok(Self {
            ip,
            first: settings.rtp_ports.0,
            last: settings.rtp_ports.1,
            next: AtomicU32::new(0),
        })
    }

    async fn bind(&self) -> Result<UdpSocket, MediaError> {
        let span = u32::from(self.last - self.first) + 1;
        for _ in 0..span {
            let n = self.next.fetch_add(2, Ordering::Relaxed) % span;
            let port = self.first + u16::try_from(n).unwrap_or(0);
            if let Ok(socket) = UdpSocket::bind(SocketAddr::new(self.ip, port)).await {
                return Ok(socket);
            }
        }
        Err(MediaError::NoPort)
    }

    /// An offer for an outgoing call.
    pub async fn offer(&self) -> Result<(Offered, String), MediaError> {
        let socket = self.bind().await?;
        let port = socket.local_addr().map_err(|_| MediaError::NoPort)?.port();
        Ok((Offered { socket }, sdp(self.ip, port)))
    }

    /// Answers `offer` (PCMU): the leg and the SDP answer.
    pub async fn answer(&self, offer: &[u8]) -> Result<(Leg, String), MediaError> {
        if !offer.starts_with(b"v=0") {
            return Err(MediaError::Sdp);
        }
        let socket = self.bind().await?;
        let port = socket.local_addr().map_err(|_| MediaError::NoPort)?.port();
        Ok((
            Leg {
                _socket: socket,
                playing: None,
            },
            sdp(self.ip, port),
        ))
    }
}

fn sdp(ip: IpAddr, port: u16) -> String {
    format!(
        "v=0\r\no=hotdesk 1 1 IN IP4 {ip}\r\ns=hotdesk\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    )
}

/// Our offer, waiting for the answer (Activate Phone).
#[derive(Debug)]
pub struct Offered {
    socket: UdpSocket,
}

impl Offered {
    /// The leg, once the peer's SDP answer arrived.
    pub fn answered(self, answer: &[u8]) -> Result<Leg, MediaError> {
        if !answer.starts_with(b"v=0") {
            return Err(MediaError::Sdp);
        }
        Ok(Leg {
            _socket: self.socket,
            playing: None,
        })
    }
}

impl Leg {
    /// Plays prompts in order, replacing anything playing.
    pub fn play(&mut self, prompts: &[&'static str]) {
        let length = Duration::from_millis(100) * u32::try_from(prompts.len()).unwrap_or(1);
        self.playing = Some(tokio::time::Instant::now() + length);
    }

    /// Stops playback.
    pub fn stop(&mut self) {
        self.playing = None;
    }

    /// The next event; cancel-safe.
    pub async fn next(&mut self) -> LegEvent {
        match self.playing {
            Some(end) => {
                tokio::time::sleep_until(end).await;
                self.playing = None;
                LegEvent::PlaybackDone
            }
            None => std::future::pending().await,
        }
    }
}

/// The key in a SIP INFO body: `Ok(None)` for a body that is no DTMF, `Err` with the
/// status to answer for a malformed one.
pub fn info_digit(content_type: &str, body: &[u8]) -> Result<Option<char>, StatusCode> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let text = String::from_utf8_lossy(body);
    let signal = if media.eq_ignore_ascii_case("application/dtmf-relay") {
        text.lines()
            .filter_map(|line| line.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("signal"))
            .map(|(_, value)| value.trim().to_owned())
    } else if media.eq_ignore_ascii_case("application/dtmf") {
        Some(text.trim().to_owned())
    } else {
        return Ok(None);
    };
    let signal = signal.ok_or(StatusCode::BAD_REQUEST)?;
    let mut chars = signal.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ ('0'..='9' | '*' | '#')), None) => Ok(Some(c)),
        _ => match signal.as_str() {
            "10" => Ok(Some('*')),
            "11" => Ok(Some('#')),
            _ => Err(StatusCode::BAD_REQUEST),
        },
    }
}
