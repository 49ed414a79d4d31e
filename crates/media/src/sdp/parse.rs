//! SDP text → [`SessionDescription`] (RFC 4566 §5).

use std::net::IpAddr;

use super::{SdpError, MAX_SDP};

/// Media direction attribute (RFC 3264 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    #[default]
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The direction an answer gives to this offered direction.
    pub fn reversed(self) -> Self {
        match self {
            Self::SendRecv => Self::SendRecv,
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            Self::Inactive => Self::Inactive,
        }
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Self::SendRecv),
            "sendonly" => Some(Self::SendOnly),
            "recvonly" => Some(Self::RecvOnly),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written (compare case-insensitively).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type (`audio`, `video`, …).
    pub media: String,
    /// Transport port (0 = stream rejected or disabled).
    pub port: u16,
    /// Transport protocol (`RTP/AVP`, …).
    pub proto: String,
    /// Format list as written (payload types for RTP).
    pub formats: Vec<String>,
    /// Media-level `c=` address.
    pub connection: Option<IpAddr>,
    /// `a=rtpmap` lines.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=ptime` in milliseconds.
    pub ptime: Option<u32>,
    /// Direction attribute (media level, else session level, else sendrecv).
    pub direction: Direction,
}

impl MediaDescription {
    /// The payload types of the format list, skipping entries that are not numbers.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|pt| *pt < 128)
    }

    /// The rtpmap for a payload type, if any.
    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == payload_type)
    }

    /// Whether this is an audio stream over plain RTP.
    pub fn is_rtp_audio(&self) -> bool {
        self.media == "audio" && (self.proto == "RTP/AVP" || self.proto == "RTP/AVPF")
    }
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=` session id (used to keep the answer's origin distinct).
    pub origin_session: String,
    /// Session-level `c=` address.
    pub connection: Option<IpAddr>,
    /// Media sections in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// Parses an SDP body. Accepts LF or CRLF line ends and ignores lines it does not use.
    pub fn parse(body: &str) -> Result<Self, SdpError> {
        if body.len() > MAX_SDP {
            return Err(SdpError::TooLarge(body.len()));
        }
        let mut lines = body.lines().map(|l| l.trim_end_matches('\r')).enumerate();
        match lines.find(|(_, l)| !l.is_empty()) {
            Some((_, "v=0")) => {}
            _ => return Err(SdpError::MissingVersion),
        }
        let mut session = Self {
            origin_session: String::new(),
            connection: None,
            media: Vec::new(),
        };
        let mut session_direction = None;
        // Media sections that set their own direction; the session level applies to the rest.
        let mut explicit = Vec::new();
        for (index, line) in lines {
            let number = index + 1;
            if line.is_empty() {
                continue;
            }
            let (kind, value) = match line.split_once('=') {
                Some((k, v)) if k.len() == 1 => (k, v),
                _ => return Err(SdpError::BadLine { line: number }),
            };
            match kind {
                "o" => {
                    if let Some(id) = value.split_whitespace().nth(1) {
                        session.origin_session = id.to_owned();
                    }
                }
                "c" => {
                    let address =
                        parse_connection(value).ok_or(SdpError::BadLine { line: number })?;
                    match session.media.last_mut() {
                        Some(media) => media.connection = Some(address),
                        None => session.connection = Some(address),
                    }
                }
                "m" => session
                    .media
                    .push(parse_media(value).ok_or(SdpError::BadLine { line: number })?),
                "a" => {
                    let (name, rest) = value.split_once(':').unwrap_or((value, ""));
                    let last = session.media.len().checked_sub(1);
                    match (last, session.media.last_mut()) {
                        (Some(index), Some(media)) => {
                            if Direction::parse(name).is_some() {
                                explicit.push(index);
                            }
                            apply_attribute(media, name, rest)
                                .ok_or(SdpError::BadLine { line: number })?;
                        }
                        _ => session_direction = Direction::parse(name).or(session_direction),
                    }
                }
                _ => {}
            }
        }
        if let Some(direction) = session_direction {
            for (index, media) in session.media.iter_mut().enumerate() {
                if !explicit.contains(&index) {
                    media.direction = direction;
                }
            }
        }
        Ok(session)
    }
}

/// `IN IP4 192.0.2.1` or `IN IP6 ::1` (a TTL or count suffix is ignored).
fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut parts = value.split_whitespace();
    if parts.next()? != "IN" {
        return None;
    }
    let family = parts.next()?;
    let address = parts.next()?.split('/').next()?;
    let ip: IpAddr = address.parse().ok()?;
    match (family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Some(ip),
        _ => None,
    }
}

/// `audio 49170[/2] RTP/AVP 0 8 101`.
fn parse_media(value: &str) -> Option<MediaDescription> {
    let mut parts = value.split_whitespace();
    let media = parts.next()?.to_owned();
    let port = parts.next()?.split('/').next()?.parse().ok()?;
    let proto = parts.next()?.to_owned();
    Some(MediaDescription {
        media,
        port,
        proto,
        formats: parts.map(str::to_owned).collect(),
        connection: None,
        rtpmaps: Vec::new(),
        ptime: None,
        direction: Direction::SendRecv,
    })
}

/// Applies a media-level attribute; `None` when a known attribute is malformed.
fn apply_attribute(media: &mut MediaDescription, name: &str, rest: &str) -> Option<()> {
    match name {
        "rtpmap" => {
            let (pt, encoding) = rest.split_once(' ')?;
            let mut enc = encoding.trim().split('/');
            let name = enc.next()?.to_owned();
            let clock_rate = enc.next()?.parse().ok()?;
            media.rtpmaps.push(RtpMap {
                payload_type: pt.trim().parse().ok()?,
                encoding: name,
                clock_rate,
            });
        }
        "ptime" => media.ptime = Some(rest.trim().parse().ok()?),
        other => {
            if let Some(direction) = Direction::parse(other) {
                media.direction = direction;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4566_typical_phone_offer() {
        let sdp = "v=0\r\no=- 123 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n\
                   m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
                   a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
        let parsed = SessionDescription::parse(sdp).unwrap();
        assert_eq!(parsed.origin_session, "123");
        assert_eq!(parsed.connection, Some("192.0.2.10".parse().unwrap()));
        let audio = &parsed.media[0];
        assert_eq!(audio.port, 4000);
        assert_eq!(audio.payload_types().collect::<Vec<_>>(), vec![8, 0, 101]);
        assert_eq!(audio.rtpmap(101).unwrap().encoding, "telephone-event");
        assert_eq!(audio.ptime, Some(20));
    }

    // HD-SEC-5: a malformed body is an error (400), not a crash.
    #[test]
    fn malformed_lines_are_errors() {
        assert_eq!(SessionDescription::parse(""), Err(SdpError::MissingVersion));
        assert_eq!(
            SessionDescription::parse("v=1\n"),
            Err(SdpError::MissingVersion)
        );
        assert_eq!(
            SessionDescription::parse("v=0\nbogus\n"),
            Err(SdpError::BadLine { line: 2 })
        );
        assert_eq!(
            SessionDescription::parse("v=0\nc=IN IP4 nope\n"),
            Err(SdpError::BadLine { line: 2 })
        );
        assert_eq!(
            SessionDescription::parse("v=0\nm=audio x RTP/AVP 0\n"),
            Err(SdpError::BadLine { line: 2 })
        );
        assert_eq!(
            SessionDescription::parse("v=0\nm=audio 1 RTP/AVP 0\na=rtpmap:zz PCMU/8000\n"),
            Err(SdpError::BadLine { line: 3 })
        );
        assert!(matches!(
            SessionDescription::parse(&"v=0\n".repeat(10_000)),
            Err(SdpError::TooLarge(_))
        ));
    }

    #[test]
    fn session_level_direction_applies_to_media() {
        let sdp = "v=0\nc=IN IP6 ::1\na=sendonly\nm=audio 5000 RTP/AVP 0\n";
        let parsed = SessionDescription::parse(sdp).unwrap();
        assert_eq!(parsed.media[0].direction, Direction::SendOnly);
        assert_eq!(parsed.connection, Some("::1".parse().unwrap()));
    }
}
