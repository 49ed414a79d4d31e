//! The pure session in virtual time. Covered: 20 ms pacing (sequence, timestamp, one packet
//! per tick despite tick jitter, skip-ahead after a stall), prompt audio then silence and
//! PlaybackDone, barge-in by RFC 4733 / SIP INFO / in-band digits, symmetric RTP latching,
//! wrong SSRC / wrong source / garbage / huge datagrams ignored, no-media and max-duration
//! time-outs, RFC 4733 sending, direction (recvonly sends nothing), next deadline.
//! Not covered here: sockets (tests/loopback.rs).

use super::*;
use crate::dtmf::rfc4733::EventPayload;
use crate::g711::Codec;
use crate::rtp::RtpHeader;
use crate::sdp::Direction;

const PEER: &str = "192.0.2.7:4000";
const OTHER: &str = "192.0.2.8:4000";

fn negotiated() -> Negotiated {
    Negotiated {
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: Some(101),
        remote: Some(PEER.parse().unwrap()),
        remote_ptime: Some(20),
        direction: Direction::SendRecv,
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        no_media_timeout: Duration::from_secs(5),
        max_duration: Duration::from_secs(60),
        inband_dtmf: true,
    }
}

fn session(t0: Instant) -> Session {
    Session::new(t0, negotiated(), config(), 0xABCD, 65534, 4_294_967_000)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn prompt(amplitude: i16, samples: usize) -> Arc<Prompt> {
    Arc::new(Prompt::new("p", vec![amplitude; samples]))
}

/// Runs ticks at `t0 + k·20 ms + jitter(k)` and returns the packets sent.
fn run(s: &mut Session, t0: Instant, ticks: u64, jitter: impl Fn(u64) -> u64) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    let mut out = Vec::new();
    for k in 0..ticks {
        let now = t0 + ms(20 * k) + Duration::from_micros(jitter(k));
        s.handle_timeout(now);
        while s.poll_transmit(now, &mut out).is_some() {
            sent.push(out.clone());
        }
    }
    sent
}

fn events(s: &mut Session) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
    }
    .build(payload)
}

fn digit_event(code: u8, end: bool) -> [u8; 4] {
    EventPayload {
        event: code,
        end,
        volume: 10,
        duration: 160,
    }
    .to_bytes()
}

#[test]
fn rfc3550_one_packet_per_tick_with_jitter_and_wrapping_counters() {
    let t0 = Instant::now();
    let mut s = session(t0);
    // Ticks wander by up to 7 ms; still exactly one packet per tick.
    let sent = run(&mut s, t0, 50, |k| (k * 3_700) % 7_000);
    assert_eq!(sent.len(), 50);
    for (i, pair) in sent.windows(2).enumerate() {
        let a = RtpPacket::parse(&pair[0]).unwrap().header;
        let b = RtpPacket::parse(&pair[1]).unwrap().header;
        assert_eq!(b.sequence, a.sequence.wrapping_add(1), "packet {i}");
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(160), "packet {i}");
        assert_eq!((b.payload_type, b.ssrc), (0, 0xABCD));
    }
    let first = RtpPacket::parse(&sent[0]).unwrap();
    assert!(first.header.marker, "first packet starts a talkspurt");
    assert_eq!(first.payload.len(), 160);
    assert!(
        first.payload.iter().all(|b| *b == Codec::Pcmu.silence()),
        "idle is silence"
    );
    assert_eq!(s.stats().sent, 50);
}

#[test]
fn stalled_driver_skips_ahead_instead_of_bursting() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let mut out = Vec::new();
    assert!(s.poll_transmit(t0, &mut out).is_some());
    let before = RtpPacket::parse(&out).unwrap().header.timestamp;
    let later = t0 + ms(1000);
    let mut burst = 0;
    while s.poll_transmit(later, &mut out).is_some() {
        burst += 1;
    }
    assert!(burst <= 6, "sent {burst} packets at once after a 1 s stall");
    let after = RtpPacket::parse(&out).unwrap().header.timestamp;
    assert!(
        after.wrapping_sub(before) >= 7_000,
        "timestamps keep media time"
    );
    assert!(s.poll_timeout() > later);
}

#[test]
fn prompt_plays_then_silence_then_playback_done() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.play(7, vec![prompt(8000, 400)], true);
    let sent = run(&mut s, t0, 5, |_| 0);
    let payloads: Vec<_> = sent
        .iter()
        .map(|p| RtpPacket::parse(p).unwrap().payload.to_vec())
        .collect();
    assert!(
        payloads[0].iter().all(|b| Codec::Pcmu.decode(*b) > 7000),
        "prompt audio"
    );
    assert_eq!(
        Codec::Pcmu.decode(payloads[2][79]),
        Codec::Pcmu.decode(Codec::Pcmu.encode(8000))
    );
    assert_eq!(payloads[2][80], Codec::Pcmu.silence());
    assert!(payloads[3].iter().all(|b| *b == Codec::Pcmu.silence()));
    assert_eq!(
        events(&mut s),
        [SessionEvent::PlaybackDone {
            playback: 7,
            interrupted: false
        }]
    );
}

#[test]
fn rfc4733_digit_barges_in_once_despite_redundant_end_packets() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.play(1, vec![prompt(8000, 8000)], true);
    run(&mut s, t0, 3, |_| 0);
    let peer = PEER.parse().unwrap();
    for (seq, end) in [(10, false), (11, false), (12, true), (13, true), (14, true)] {
        s.handle_datagram(
            t0 + ms(60),
            peer,
            &rtp(101, seq, 5000, 77, &digit_event(5, end)),
        );
    }
    let five = Digit::from_char('5').unwrap();
    assert_eq!(
        events(&mut s),
        [
            SessionEvent::Digit {
                digit: five,
                source: DigitSource::Rfc4733
            },
            SessionEvent::PlaybackDone {
                playback: 1,
                interrupted: true
            },
        ]
    );
    let sent = run(&mut s, t0 + ms(60), 1, |_| 0);
    assert!(RtpPacket::parse(&sent[0])
        .unwrap()
        .payload
        .iter()
        .all(|b| *b == Codec::Pcmu.silence()));
}

#[test]
fn playback_without_barge_in_keeps_playing() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.play(2, vec![prompt(8000, 8000)], false);
    s.digit_from_signalling(Digit::from_char('#').unwrap());
    assert_eq!(events(&mut s).len(), 1, "digit only");
    let sent = run(&mut s, t0, 1, |_| 0);
    assert!(RtpPacket::parse(&sent[0])
        .unwrap()
        .payload
        .iter()
        .all(|b| *b != Codec::Pcmu.silence()));
}

#[test]
fn rfc4961_symmetric_rtp_latches_first_valid_source_and_ssrc() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let natted = OTHER.parse().unwrap();
    s.handle_datagram(t0, natted, b"garbage");
    assert_eq!(
        s.remote(),
        Some(PEER.parse().unwrap()),
        "garbage does not latch"
    );
    s.handle_datagram(t0, natted, &rtp(0, 1, 0, 42, &[0xFF; 160]));
    assert_eq!(s.remote(), Some(natted));
    // Now another source, or the same source with another SSRC, is ignored.
    s.handle_datagram(
        t0,
        PEER.parse().unwrap(),
        &rtp(101, 2, 9, 42, &digit_event(1, true)),
    );
    s.handle_datagram(t0, natted, &rtp(101, 2, 9, 43, &digit_event(1, true)));
    s.handle_datagram(t0, natted, &rtp(96, 2, 9, 42, &[0; 10]));
    s.handle_datagram(t0, natted, &vec![0x80; 3000]);
    assert!(events(&mut s).is_empty());
    assert_eq!(
        s.stats(),
        SessionStats {
            sent: 0,
            received: 1,
            ignored: 5
        }
    );
    let sent = run(&mut s, t0, 1, |_| 0);
    assert_eq!(sent.len(), 1);
}

#[test]
fn no_media_timeout_ends_and_valid_rtp_or_rtcp_postpones_it() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let peer = PEER.parse().unwrap();
    s.handle_timeout(t0 + ms(4_000));
    assert!(!s.is_ended());
    s.handle_datagram(t0 + ms(4_000), peer, &rtp(0, 1, 0, 42, &[0xFF; 160]));
    let mut rtcp = Vec::new();
    crate::rtp::rtcp::write_bye(42, &mut rtcp);
    s.handle_datagram(t0 + ms(8_000), peer, &rtcp);
    // Garbage does not count as media.
    for k in 0..100 {
        s.handle_datagram(t0 + ms(9_000 + k), peer, &[0xDE, 0xAD]);
    }
    s.handle_timeout(t0 + ms(12_999));
    assert!(!s.is_ended());
    s.handle_timeout(t0 + ms(13_000));
    assert!(s.is_ended());
    assert_eq!(events(&mut s), [SessionEvent::Ended(EndReason::NoMedia)]);
    let mut out = Vec::new();
    assert!(
        s.poll_transmit(t0 + ms(13_000), &mut out).is_none(),
        "ended sessions are silent"
    );
}

#[test]
fn max_duration_ends_a_session_that_keeps_sending() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let peer = PEER.parse().unwrap();
    for k in 0..=60u16 {
        let now = t0 + ms(u64::from(k) * 1000);
        s.handle_datagram(now, peer, &rtp(0, k, u32::from(k) * 8000, 42, &[0xFF; 160]));
        s.handle_timeout(now);
    }
    assert_eq!(
        events(&mut s),
        [SessionEvent::Ended(EndReason::MaxDuration)]
    );
}

#[test]
fn inband_digits_only_without_telephone_event() {
    let t0 = Instant::now();
    let mut n = negotiated();
    n.telephone_event = None;
    let mut s = Session::new(t0, n, config(), 1, 0, 0);
    let peer: SocketAddr = PEER.parse().unwrap();
    // 100 ms of '8' (852 + 1336 Hz) as PCMU, then silence.
    let tone: Vec<i16> = (0..800)
        .map(|i| {
            let t = f64::from(i) / 8000.0;
            (4000.0
                * ((2.0 * std::f64::consts::PI * 852.0 * t).sin()
                    + (2.0 * std::f64::consts::PI * 1336.0 * t).sin())) as i16
        })
        .chain(std::iter::repeat_n(0, 800))
        .collect();
    for (k, frame) in tone.chunks(160).enumerate() {
        let mut payload = Vec::new();
        Codec::Pcmu.encode_into(frame, &mut payload);
        s.handle_datagram(
            t0 + ms(20 * k as u64),
            peer,
            &rtp(0, k as u16, 160 * k as u32, 9, &payload),
        );
    }
    let eight = Digit::from_char('8').unwrap();
    assert_eq!(
        events(&mut s),
        [SessionEvent::Digit {
            digit: eight,
            source: DigitSource::InBand
        }]
    );
    // With telephone-event negotiated the same audio gives nothing (no double digits).
    let mut s = session(t0);
    for (k, frame) in tone.chunks(160).enumerate() {
        let mut payload = Vec::new();
        Codec::Pcmu.encode_into(frame, &mut payload);
        s.handle_datagram(t0, peer, &rtp(0, k as u16, 160 * k as u32, 9, &payload));
    }
    assert!(events(&mut s).is_empty());
}

#[test]
fn rfc4733_sending_replaces_audio_then_resumes_with_marker() {
    let t0 = Instant::now();
    let mut s = session(t0);
    assert!(s.send_digit(Digit::from_char('9').unwrap()));
    let sent = run(&mut s, t0, 10, |_| 0);
    let headers: Vec<_> = sent.iter().map(|p| RtpPacket::parse(p).unwrap()).collect();
    assert!(headers[..8]
        .iter()
        .all(|p| p.header.payload_type == 101 && p.payload[0] == 9));
    assert!(headers[0].header.marker);
    assert_eq!(headers[0].header.timestamp, headers[7].header.timestamp);
    assert_eq!(headers[8].header.payload_type, 0);
    assert!(
        headers[8].header.marker,
        "audio after an event starts a talkspurt"
    );
    let mut n = negotiated();
    n.telephone_event = None;
    let mut s = Session::new(t0, n, config(), 1, 0, 0);
    assert!(!s.send_digit(Digit::from_char('9').unwrap()));
}

#[test]
fn rfc3264_recvonly_and_unknown_remote_send_nothing_but_playback_completes() {
    let t0 = Instant::now();
    let mut n = negotiated();
    n.direction = Direction::RecvOnly;
    let mut s = Session::new(t0, n, config(), 1, 0, 0);
    s.play(3, vec![prompt(1000, 320)], true);
    assert!(run(&mut s, t0, 3, |_| 0).is_empty());
    assert_eq!(
        events(&mut s),
        [SessionEvent::PlaybackDone {
            playback: 3,
            interrupted: false
        }]
    );
    let mut n = negotiated();
    n.remote = None;
    let mut s = Session::new(t0, n, config(), 1, 0, 0);
    assert!(run(&mut s, t0, 3, |_| 0).is_empty());
    // The answer arrives: packets flow.
    s.set_negotiated(negotiated());
    assert_eq!(run(&mut s, t0 + ms(60), 2, |_| 0).len(), 2);
}

#[test]
fn next_deadline_is_the_next_packet_slot() {
    let t0 = Instant::now();
    let mut s = session(t0);
    assert_eq!(s.poll_timeout(), t0);
    run(&mut s, t0, 1, |_| 0);
    assert_eq!(s.poll_timeout(), t0 + ms(20));
}

#[test]
fn rfc4733_without_negotiation_is_accepted_and_silences_the_inband_detector() {
    let t0 = Instant::now();
    let mut n = negotiated();
    n.telephone_event = None;
    let mut s = Session::new(t0, n, config(), 1, 0, 0);
    let peer = PEER.parse().unwrap();
    s.handle_datagram(t0, peer, &rtp(101, 1, 800, 42, &digit_event(4, false)));
    s.handle_datagram(t0, peer, &rtp(101, 2, 800, 42, &digit_event(4, true)));
    let four = Digit::from_char('4').unwrap();
    assert_eq!(
        events(&mut s),
        [SessionEvent::Digit {
            digit: four,
            source: DigitSource::Rfc4733
        }]
    );
    assert!(s.inband.is_none());
    s.set_negotiated(n);
    assert!(s.inband.is_none(), "a renegotiation does not bring it back");
}

#[test]
fn other_payload_types_from_the_latched_peer_keep_the_session_alive() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let peer = PEER.parse().unwrap();
    s.handle_datagram(t0, peer, &rtp(0, 1, 0, 42, &[0xFF; 160]));
    // Comfort noise (PT 13) only, for longer than the time-out.
    for k in 1..=8u64 {
        s.handle_datagram(t0 + ms(k * 1000), peer, &rtp(13, k as u16, 0, 42, &[40]));
    }
    s.handle_timeout(t0 + ms(8_500));
    assert!(!s.is_ended());
}

#[test]
fn rfc4961_a_quiet_latched_stream_can_be_replaced() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let (peer, other) = (PEER.parse().unwrap(), OTHER.parse().unwrap());
    s.handle_datagram(t0, peer, &rtp(0, 1, 0, 42, &[0xFF; 160]));
    s.handle_datagram(t0 + ms(500), other, &rtp(0, 1, 0, 43, &[0xFF; 160]));
    s.handle_datagram(t0 + ms(500), peer, &rtp(0, 1, 0, 44, &[0xFF; 160]));
    assert_eq!(
        (s.remote(), s.stats().received),
        (Some(peer), 1),
        "busy stream keeps its latch"
    );
    s.handle_datagram(t0 + ms(1_600), other, b"\\x80 garbage does not take over");
    s.handle_datagram(t0 + ms(1_600), other, &rtp(0, 7, 0, 43, &[0xFF; 160]));
    assert_eq!(s.remote(), Some(other));
    s.handle_datagram(t0 + ms(1_700), peer, &rtp(0, 2, 160, 42, &[0xFF; 160]));
    assert_eq!((s.remote(), s.stats().received), (Some(other), 2));
}

#[test]
fn slots_aligned_on_the_tick_grid_survive_tick_jitter_around_half_a_slot() {
    // A session opened 10.1 ms after a tick: its slots sit half-way between ticks, where
    // 0–0.2 ms of tick jitter decides between two ticks. Aligned on the grid, every tick
    // sends exactly one packet.
    let t0 = Instant::now();
    let opened = t0 + Duration::from_micros(10_100);
    let jitter = |k: u64| (k * 37) % 200;
    let mut unaligned = session(opened);
    let mut counts = Vec::new();
    let mut out = Vec::new();
    for k in 1..100u64 {
        let now = t0 + ms(20 * k) + Duration::from_micros(jitter(k));
        let mut n = 0;
        while unaligned.poll_transmit(now, &mut out).is_some() {
            n += 1;
        }
        counts.push(n);
    }
    assert!(
        counts.contains(&0) && counts.contains(&2),
        "unaligned slots flip between ticks"
    );
    let mut aligned = session(opened);
    aligned.align(t0 + ms(20));
    for k in 1..100u64 {
        let now = t0 + ms(20 * k) + Duration::from_micros(jitter(k));
        let mut n = 0;
        while aligned.poll_transmit(now, &mut out).is_some() {
            n += 1;
        }
        assert_eq!(n, 1, "tick {k}");
    }
}
