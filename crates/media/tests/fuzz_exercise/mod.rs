//! What the media fuzz targets (`fuzz/fuzz_targets/{rtp_dtmf,sdp_offer}.rs`) and
//! `tests/fuzz_smoke.rs` do with one input, and the invariants that must hold.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hotdesk_media::dtmf::rfc4733::{EventPayload, Receiver};
use hotdesk_media::dtmf::sip_info;
use hotdesk_media::rtp::{rtcp, RtpPacket};
use hotdesk_media::sdp::{build_answer, Negotiated, SessionDescription};
use hotdesk_media::session::{Session, SessionConfig};

/// Splits `data` into datagrams (length-prefixed by one byte) and feeds them to the RTP,
/// RTCP and telephone-event parsers and to a session, which must keep sending.
pub(crate) fn rtp_dtmf(data: &[u8]) {
    let t0 = Instant::now();
    let peer: SocketAddr = "192.0.2.1:4000".parse().unwrap_or_else(|_| unreachable!());
    let negotiated = Negotiated {
        codec: hotdesk_media::Codec::Pcma,
        payload_type: 8,
        telephone_event: data.first().filter(|b| **b & 1 == 1).map(|b| b >> 1),
        remote: Some(peer),
        remote_ptime: None,
        direction: hotdesk_media::sdp::Direction::SendRecv,
    };
    let mut session = Session::new(t0, negotiated, SessionConfig::default(), 1, 2, 3);
    let mut receiver = Receiver::new();
    let mut rest = data.get(1..).unwrap_or(&[]);
    let mut out = Vec::new();
    let mut k = 0u32;
    while let Some((&len, tail)) = rest.split_first() {
        let take = usize::from(len).min(tail.len());
        let datagram = &tail[..take];
        rest = &tail[take..];
        if let Ok(packet) = RtpPacket::parse(datagram) {
            assert!(packet.payload.len() <= datagram.len());
            let rebuilt = packet.header.build(packet.payload);
            assert_eq!(
                RtpPacket::parse(&rebuilt).map(|p| p.header),
                Ok(packet.header)
            );
            let _ = receiver.receive(t0, packet.header.timestamp, packet.payload);
            if let Some(event) = EventPayload::parse(packet.payload) {
                assert_eq!(EventPayload::parse(&event.to_bytes()), Some(event));
            }
        }
        let _ = rtcp::parse(datagram);
        let _ = sip_info::parse("application/dtmf-relay", datagram);
        let now = t0 + Duration::from_millis(20 * u64::from(k));
        session.handle_datagram(now, peer, datagram);
        session.handle_timeout(now);
        let mut sent = 0;
        while session.poll_transmit(now, &mut out).is_some() {
            sent += 1;
            assert!(RtpPacket::parse(&out).is_ok());
        }
        assert!(sent <= 1, "one packet per 20 ms slot");
        while session.poll_event().is_some() {}
        k += 1;
    }
}

/// Parses `data` as an SDP offer; an accepted offer's answer must parse and negotiate the
/// same codec and telephone-event.
pub(crate) fn sdp_offer(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(offer) = SessionDescription::parse(text) else {
        return;
    };
    let local: SocketAddr = "203.0.113.1:20000"
        .parse()
        .unwrap_or_else(|_| unreachable!());
    match build_answer(&offer, local, 1) {
        Ok((negotiated, answer)) => {
            let parsed = SessionDescription::parse(&answer)
                .unwrap_or_else(|e| panic!("answer {answer:?}: {e}"));
            assert_eq!(parsed.media.len(), offer.media.len());
            let back = Negotiated::from_answer(&parsed)
                .unwrap_or_else(|e| panic!("answer {answer:?}: {e}"));
            assert_eq!(
                (back.codec, back.telephone_event),
                (negotiated.codec, negotiated.telephone_event)
            );
        }
        Err(e) => assert!(e.status() == 488 || e.status() == 400),
    }
}
