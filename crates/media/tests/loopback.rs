//! The engine with real UDP sockets on loopback, a test socket playing the phone.
//! Covered: answer SDP, paced prompt audio with the negotiated PT (sequence/timestamp steps,
//! audio not silence), RFC 4733 digits → events with barge-in, SIP INFO injection, garbage /
//! wrong SSRC / huge datagrams do not wedge a session, no-RTP time-out frees the port, close
//! frees the port, 488 for an offer without G.711, our own offer + answer.
//! Spacing in wall-clock time is measured by the benchmark, never asserted here.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use hotdesk_media::dtmf::rfc4733::EventPayload;
use hotdesk_media::rtp::{RtpHeader, RtpPacket};
use hotdesk_media::sdp::SessionDescription;
use hotdesk_media::{
    digit_prompts, Codec, Digit, DigitSource, EndReason, MediaConfig, MediaEngine, MediaError,
    MediaEvent, PortRange, PromptSet, SessionConfig,
};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

/// Hang guard only: generous, never a measurement.
const PATIENCE: Duration = Duration::from_secs(10);

fn engine(
    first_port: u16,
    no_media_timeout: Duration,
) -> (MediaEngine, UnboundedReceiver<MediaEvent>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts");
    let config = MediaConfig {
        bind_ip: "127.0.0.1".parse().unwrap(),
        ports: PortRange {
            first: first_port,
            last: first_port + 40,
        },
        prompts: PromptSet::load(&root).unwrap(),
        session: SessionConfig {
            no_media_timeout,
            ..SessionConfig::default()
        },
        ..MediaConfig::default()
    };
    MediaEngine::start(config).unwrap()
}

fn offer(port: u16, formats: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {formats}\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"
    )
}

fn media_addr(answer: &str) -> SocketAddr {
    let sdp = SessionDescription::parse(answer).unwrap();
    SocketAddr::new(sdp.connection.unwrap(), sdp.media[0].port)
}

async fn next_packet(phone: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let (len, _) = timeout(PATIENCE, phone.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf.truncate(len);
    buf
}

async fn next_event(events: &mut UnboundedReceiver<MediaEvent>) -> MediaEvent {
    timeout(PATIENCE, events.recv()).await.unwrap().unwrap()
}

async fn send_digit(
    phone: &UdpSocket,
    to: SocketAddr,
    ssrc: u32,
    code: u8,
    timestamp: u32,
    seq: u16,
) {
    for (i, end) in [false, false, true, true, true].into_iter().enumerate() {
        let payload = EventPayload {
            event: code,
            end,
            volume: 10,
            duration: 160 * (i as u16 + 1),
        }
        .to_bytes();
        let header = RtpHeader {
            marker: i == 0,
            payload_type: 101,
            sequence: seq + i as u16,
            timestamp,
            ssrc,
        };
        phone.send_to(&header.build(&payload), to).await.unwrap();
    }
}

async fn wait_ports_free(engine: &MediaEngine) {
    timeout(PATIENCE, async {
        while engine.ports_in_use() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn prompt_audio_is_paced_pcmu_and_rfc4733_digits_barge_in() {
    let (engine, mut events) = engine(43000, Duration::from_secs(20));
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let answered = engine
        .open(&offer(phone.local_addr().unwrap().port(), "0 8 101"))
        .unwrap();
    assert!(answered.sdp.contains("RTP/AVP 0 101"), "{}", answered.sdp);
    let media = media_addr(&answered.sdp);
    let mut names = vec!["user".to_owned()];
    names.extend(digit_prompts("1004"));
    let playback = engine.play(answered.id, &names).unwrap();

    // Skip packets sent before play() took effect (silence), then check 25 packets of audio.
    let mut packets = Vec::new();
    while packets.len() < 25 {
        let bytes = next_packet(&phone).await;
        let packet = RtpPacket::parse(&bytes).unwrap();
        let silent = packet.payload.iter().all(|b| *b == Codec::Pcmu.silence());
        if !packets.is_empty() || !silent {
            packets.push((packet.header, packet.payload.to_vec()));
        }
    }
    for pair in packets.windows(2) {
        let (a, b) = (pair[0].0, pair[1].0);
        assert_eq!(b.payload_type, 0);
        assert_eq!(b.ssrc, a.ssrc);
        assert_eq!(b.sequence, a.sequence.wrapping_add(1));
        // One 20 ms slot per packet; a driver starved of CPU for over 100 ms skips whole
        // slots (the timestamp keeps media time) rather than bursting.
        let step = b.timestamp.wrapping_sub(a.timestamp);
        assert!(
            step >= 160 && step % 160 == 0 && step < 8000 * 5,
            "timestamp step {step}"
        );
        assert_eq!(pair[1].1.len(), 160);
    }
    let energy: f64 = packets
        .iter()
        .flat_map(|(_, payload)| {
            payload
                .iter()
                .map(|b| f64::from(Codec::Pcmu.decode(*b)).powi(2))
        })
        .sum::<f64>()
        / (25.0 * 160.0);
    assert!(
        energy.sqrt() > 500.0,
        "speech expected, RMS {}",
        energy.sqrt()
    );

    // Key '1' pressed mid-prompt: one digit (despite 3 end packets), playback cut.
    send_digit(&phone, media, 0x1234, 1, 8000, 100).await;
    let one = Digit::from_char('1').unwrap();
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::Digit {
            id: answered.id,
            digit: one,
            source: DigitSource::Rfc4733
        }
    );
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::PlaybackDone {
            id: answered.id,
            playback,
            interrupted: true
        }
    );
    // Same key again (new timestamp) is a second digit.
    send_digit(&phone, media, 0x1234, 1, 16000, 200).await;
    assert!(
        matches!(next_event(&mut events).await, MediaEvent::Digit { digit, .. } if digit == one)
    );

    engine.close(answered.id).unwrap();
    wait_ports_free(&engine).await;
}

// HD-SEC-5: malformed media neither crashes nor wedges a session.
#[tokio::test]
async fn garbage_wrong_ssrc_and_huge_packets_do_not_wedge_a_session() {
    let (engine, mut events) = engine(43100, Duration::from_secs(20));
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let answered = engine
        .open(&offer(phone.local_addr().unwrap().port(), "8 101"))
        .unwrap();
    let media = media_addr(&answered.sdp);
    // The first valid packet latches SSRC 7.
    let audio = RtpHeader {
        marker: false,
        payload_type: 8,
        sequence: 1,
        timestamp: 0,
        ssrc: 7,
    }
    .build(&[0xD5; 160]);
    phone.send_to(&audio, media).await.unwrap();
    let mut junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xFF; 7],
        vec![0x80; 9000],
        b"INVITE sip:x SIP/2.0\r\n\r\n".to_vec(),
    ];
    let mut x = 0x9E37_79B9u32;
    for len in [12usize, 13, 16, 40, 172, 1400] {
        junk.push(
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect(),
        );
    }
    for bytes in &junk {
        phone.send_to(bytes, media).await.unwrap();
    }
    // A digit from another SSRC is ignored; the right SSRC gets through.
    send_digit(&phone, media, 999, 5, 1600, 10).await;
    send_digit(&phone, media, 7, 11, 3200, 20).await;
    let pound = Digit::from_char('#').unwrap();
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::Digit {
            id: answered.id,
            digit: pound,
            source: DigitSource::Rfc4733
        }
    );
    // Still sending PCMA.
    let packet = next_packet(&phone).await;
    assert_eq!(RtpPacket::parse(&packet).unwrap().header.payload_type, 8);
    // SIP INFO digits come back through the same event stream.
    engine
        .digit(answered.id, Digit::from_char('9').unwrap())
        .unwrap();
    assert!(matches!(
        next_event(&mut events).await,
        MediaEvent::Digit {
            source: DigitSource::SipInfo,
            ..
        }
    ));
    engine.close(answered.id).unwrap();
    wait_ports_free(&engine).await;
}

#[tokio::test]
async fn silent_caller_times_out_and_frees_its_port() {
    let (engine, mut events) = engine(43200, Duration::from_millis(300));
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let answered = engine
        .open(&offer(phone.local_addr().unwrap().port(), "0"))
        .unwrap();
    assert_eq!(engine.ports_in_use(), 1);
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::Ended {
            id: answered.id,
            reason: EndReason::NoMedia
        }
    );
    wait_ports_free(&engine).await;
    // Later commands for the ended session are harmless.
    engine.play(answered.id, &["goodbye"]).unwrap();
    engine.close(answered.id).unwrap();
}

#[tokio::test]
async fn offers_without_g711_are_488_and_unknown_prompts_are_errors() {
    let (engine, _events) = engine(43300, Duration::from_secs(20));
    let err = engine.open(&offer(4000, "18 9")).unwrap_err();
    assert_eq!(err.status(), 488);
    assert_eq!(
        engine.ports_in_use(),
        0,
        "the port is not kept after a refusal"
    );
    let answered = engine.open(&offer(4000, "0")).unwrap();
    assert!(matches!(
        engine.play(answered.id, &["no-such-prompt"]),
        Err(MediaError::UnknownPrompt { .. })
    ));
    // Every name core::phone_menu::Prompt::name() can return is shipped in prompts/en.
    let mut names: Vec<String> = [
        "enter-extension",
        "enter-pin",
        "press-2-to-confirm-user",
        "is-the-device-owner",
        "logged-in",
        "logged-out",
        "thank-you",
        "wrong-pin",
        "locked",
        "model-excluded",
        "personal-phone",
        "location-phone",
        "allocation-full",
        "not-logged-in",
        "not-your-phone",
        "code-unavailable",
        "invalid-entry",
        "goodbye",
        "service-unavailable",
        "portal-menu",
        "enter-device",
        "host-not-logged-in",
        "host-logged-in-as",
        "until",
        "queue-offline",
        "user",
    ]
    .map(str::to_owned)
    .to_vec();
    names.extend(digit_prompts("0123456789*#"));
    for name in &names {
        assert!(engine.has_prompt("en", name), "{name}");
    }
}

#[tokio::test]
async fn our_offer_then_the_phone_answer_starts_media() {
    let (engine, _events) = engine(43400, Duration::from_secs(20));
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (id, ours) = engine.offer().unwrap();
    assert!(ours.contains("RTP/AVP 0 8 101"));
    let answer = offer(phone.local_addr().unwrap().port(), "8 101");
    engine.answer(id, &answer).unwrap();
    let packet = next_packet(&phone).await;
    assert_eq!(RtpPacket::parse(&packet).unwrap().header.payload_type, 8);
    drop(engine);
}

#[tokio::test]
async fn inband_tones_give_digits_when_no_telephone_event_is_negotiated() {
    let (engine, mut events) = engine(43500, Duration::from_secs(20));
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let answered = engine
        .open(&offer(phone.local_addr().unwrap().port(), "8"))
        .unwrap();
    assert_eq!(answered.negotiated.telephone_event, None);
    let media = media_addr(&answered.sdp);
    // 120 ms of key '6' (770 + 1477 Hz) then 100 ms of silence, as PCMA, 20 ms per packet.
    let samples: Vec<i16> = (0..1760)
        .map(|n| {
            if n >= 960 {
                return 0;
            }
            let t = f64::from(n) / 8000.0;
            let tone = (2.0 * std::f64::consts::PI * 770.0 * t).sin()
                + (2.0 * std::f64::consts::PI * 1477.0 * t).sin();
            (5000.0 * tone) as i16
        })
        .collect();
    for (k, frame) in samples.chunks(160).enumerate() {
        let mut payload = Vec::new();
        Codec::Pcma.encode_into(frame, &mut payload);
        let header = RtpHeader {
            marker: k == 0,
            payload_type: 8,
            sequence: k as u16,
            timestamp: 160 * k as u32,
            ssrc: 3,
        };
        phone.send_to(&header.build(&payload), media).await.unwrap();
    }
    let six = Digit::from_char('6').unwrap();
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::Digit {
            id: answered.id,
            digit: six,
            source: DigitSource::InBand
        }
    );
    engine.close(answered.id).unwrap();
}

#[tokio::test]
async fn rfc3264_8_reoffer_on_the_same_port_and_unknown_sessions() {
    let (engine, _events) = engine(43600, Duration::from_secs(20));
    let answered = engine.open(&offer(4000, "0 101")).unwrap();
    let hold = offer(4000, "0 101").replace("a=ptime:20\r\n", "a=ptime:20\r\na=sendonly\r\n");
    let again = engine.update(answered.id, &hold).unwrap();
    assert_eq!(
        media_addr(&again.sdp),
        media_addr(&answered.sdp),
        "same port"
    );
    assert!(again.sdp.contains(" 2 IN IP4 "), "{}", again.sdp);
    assert!(again.sdp.contains("a=recvonly\r\n"));
    engine.close(answered.id).unwrap();
    let err = engine.update(answered.id, &hold).unwrap_err();
    assert_eq!(
        (err.clone(), err.status()),
        (MediaError::UnknownSession(answered.id), 481)
    );
}

#[test]
fn an_unspecified_sdp_address_is_refused_at_start() {
    // c=0.0.0.0 would put every call on hold.
    let config = MediaConfig {
        bind_ip: "0.0.0.0".parse().unwrap(),
        ..MediaConfig::default()
    };
    assert!(matches!(
        MediaEngine::start(config),
        Err(MediaError::Start(_))
    ));
}
