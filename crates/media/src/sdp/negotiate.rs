//! Offer/answer (RFC 3264 §5, §6): pick G.711 and telephone-event from an offer and write
//! the answer; write our own offer and read the answer to it.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::{Direction, MediaDescription, SdpError, SessionDescription};
use crate::g711::Codec;

/// Telephone-event payload type used in our own offers.
pub const OFFER_TELEPHONE_EVENT_PT: u8 = 101;
/// Packetisation time we send and announce.
pub const PTIME_MS: u32 = 20;

/// What both sides agreed for the audio stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The G.711 law for audio.
    pub codec: Codec,
    /// Payload type carrying `codec` (0/8, or a dynamic number the peer chose).
    pub payload_type: u8,
    /// Payload type of telephone-event/8000 when both sides support it.
    pub telephone_event: Option<u8>,
    /// Where the peer wants RTP; `None` when on hold (`c=0.0.0.0`) or the port is 0.
    pub remote: Option<SocketAddr>,
    /// The peer's packetisation time if it stated one.
    pub remote_ptime: Option<u32>,
    /// Our direction for the stream.
    pub direction: Direction,
}

/// The first G.711 payload type in the stream's preference order, and its codec.
fn pick_codec(media: &MediaDescription) -> Option<(Codec, u8)> {
    media.payload_types().find_map(|pt| {
        let codec = match media.rtpmap(pt) {
            Some(map) if map.clock_rate == 8000 && map.encoding.eq_ignore_ascii_case("PCMU") => {
                Codec::Pcmu
            }
            Some(map) if map.clock_rate == 8000 && map.encoding.eq_ignore_ascii_case("PCMA") => {
                Codec::Pcma
            }
            Some(_) => return None,
            None if pt == 0 => Codec::Pcmu,
            None if pt == 8 => Codec::Pcma,
            None => return None,
        };
        Some((codec, pt))
    })
}

fn pick_telephone_event(media: &MediaDescription) -> Option<u8> {
    media.payload_types().find(|pt| {
        media.rtpmap(*pt).is_some_and(|m| {
            m.clock_rate == 8000 && m.encoding.eq_ignore_ascii_case("telephone-event")
        })
    })
}

/// Index of the stream to use and what it negotiates to.
fn select(sdp: &SessionDescription) -> Result<(usize, Negotiated), SdpError> {
    let mut saw_audio = false;
    for (index, media) in sdp.media.iter().enumerate() {
        if !media.is_rtp_audio() || media.port == 0 {
            continue;
        }
        saw_audio = true;
        let Some((codec, payload_type)) = pick_codec(media) else {
            continue;
        };
        let ip = media
            .connection
            .or(sdp.connection)
            .ok_or(SdpError::MissingConnection { index })?;
        let remote = (!ip.is_unspecified()).then(|| SocketAddr::new(ip, media.port));
        return Ok((
            index,
            Negotiated {
                codec,
                payload_type,
                telephone_event: pick_telephone_event(media),
                remote,
                remote_ptime: media.ptime,
                direction: media.direction.reversed(),
            },
        ));
    }
    Err(if saw_audio {
        SdpError::NoCommonCodec
    } else {
        SdpError::NoAudio
    })
}

fn address_line(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("IN IP4 {v4}"),
        IpAddr::V6(v6) => format!("IN IP6 {v6}"),
    }
}

fn header(out: &mut String, local: IpAddr, session_id: u64, version: u64) {
    let addr = address_line(local);
    let _ = write!(
        out,
        "v=0\r\no=hotdesk {session_id} {version} {addr}\r\ns=hotdesk\r\nc={addr}\r\nt=0 0\r\n"
    );
}

fn audio_lines(out: &mut String, codecs: &[(Codec, u8)], event: Option<u8>, direction: Direction) {
    for (codec, pt) in codecs {
        let _ = write!(out, "a=rtpmap:{pt} {}/8000\r\n", codec.encoding_name());
    }
    if let Some(pt) = event {
        let _ = write!(
            out,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-15\r\n"
        );
    }
    let _ = write!(out, "a=ptime:{PTIME_MS}\r\na={}\r\n", direction.as_str());
}

/// Answers an offer (RFC 3264 §6): the first usable audio stream gets the offerer's first
/// G.711 payload type and its telephone-event; every other stream is refused with port 0.
/// `local` is the address and port we receive on; `session_id` goes into `o=`.
pub fn build_answer(
    offer: &SessionDescription,
    local: SocketAddr,
    session_id: u64,
) -> Result<(Negotiated, String), SdpError> {
    build_answer_version(offer, local, session_id, 1)
}

/// [`build_answer`] for a re-offer in the same session: `version` (RFC 4566 §5.2, 2 and up)
/// tells the peer the description changed.
pub fn build_answer_version(
    offer: &SessionDescription,
    local: SocketAddr,
    session_id: u64,
    version: u64,
) -> Result<(Negotiated, String), SdpError> {
    let (chosen, negotiated) = select(offer)?;
    let mut out = String::with_capacity(320);
    header(&mut out, local.ip(), session_id, version);
    for (index, media) in offer.media.iter().enumerate() {
        if index == chosen {
            let mut formats = negotiated.payload_type.to_string();
            if let Some(pt) = negotiated.telephone_event {
                let _ = write!(formats, " {pt}");
            }
            let _ = write!(
                out,
                "m=audio {} {} {formats}\r\n",
                local.port(),
                media.proto
            );
            let codecs = [(negotiated.codec, negotiated.payload_type)];
            audio_lines(
                &mut out,
                &codecs,
                negotiated.telephone_event,
                negotiated.direction,
            );
        } else {
            let format = media.formats.first().map_or("0", String::as_str);
            let _ = write!(out, "m={} 0 {} {format}\r\n", media.media, media.proto);
        }
    }
    Ok((negotiated, out))
}

/// Our offer when we call a device (Activate Phone): PCMU, PCMA and telephone-event 101.
pub fn build_offer(local: SocketAddr, session_id: u64) -> String {
    let mut out = String::with_capacity(320);
    header(&mut out, local.ip(), session_id, 1);
    let _ = write!(
        out,
        "m=audio {} RTP/AVP 0 8 {OFFER_TELEPHONE_EVENT_PT}\r\n",
        local.port()
    );
    audio_lines(
        &mut out,
        &[(Codec::Pcmu, 0), (Codec::Pcma, 8)],
        Some(OFFER_TELEPHONE_EVENT_PT),
        Direction::SendRecv,
    );
    out
}

impl Negotiated {
    /// Reads the answer to our [`build_offer`] (RFC 3264 §7).
    pub fn from_answer(answer: &SessionDescription) -> Result<Self, SdpError> {
        select(answer).map(|(_, negotiated)| negotiated)
    }
}

#[cfg(test)]
mod tests;
