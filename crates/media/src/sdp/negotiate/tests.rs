//! Offer/answer cases (RFC 3264). Covered: preference order, static PTs without rtpmap,
//! dynamic PT for G.711, telephone-event under any PT, hold, direction, extra streams,
//! rejection (488), our own offer read back. Not covered: re-offers (handled as new offers).

use super::*;

fn local() -> SocketAddr {
    "203.0.113.5:30000".parse().unwrap()
}

fn offer(media: &str) -> SessionDescription {
    let text =
        format!("v=0\r\no=- 9 9 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{media}");
    SessionDescription::parse(&text).unwrap()
}

#[test]
fn rfc3264_6_1_offerer_preference_and_its_event_pt() {
    let o = offer("m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n");
    let (n, answer) = build_answer(&o, local(), 77).unwrap();
    assert_eq!(
        (n.codec, n.payload_type, n.telephone_event),
        (Codec::Pcma, 8, Some(96))
    );
    assert_eq!(n.remote, Some("192.0.2.1:4000".parse().unwrap()));
    assert!(
        answer.contains("m=audio 30000 RTP/AVP 8 96\r\n"),
        "{answer}"
    );
    assert!(answer.contains("a=rtpmap:96 telephone-event/8000\r\n"));
    assert!(answer.contains("c=IN IP4 203.0.113.5\r\n"));
    assert!(answer.contains("a=ptime:20\r\n"));
    // The answer is itself valid SDP that negotiates to the same thing.
    let back = Negotiated::from_answer(&SessionDescription::parse(&answer).unwrap()).unwrap();
    assert_eq!(
        (back.codec, back.payload_type, back.telephone_event),
        (Codec::Pcma, 8, Some(96))
    );
}

#[test]
fn rfc3264_static_pt_without_rtpmap_and_unsupported_first() {
    let o = offer("m=audio 4000 RTP/AVP 18 9 0\r\na=rtpmap:18 G729/8000\r\n");
    let (n, answer) = build_answer(&o, local(), 1).unwrap();
    assert_eq!(
        (n.codec, n.payload_type, n.telephone_event),
        (Codec::Pcmu, 0, None)
    );
    assert!(answer.contains("m=audio 30000 RTP/AVP 0\r\n"));
    assert!(!answer.contains("telephone-event"));
}

#[test]
fn rfc3264_g711_under_a_dynamic_pt() {
    let o = offer("m=audio 4000 RTP/AVP 110\r\na=rtpmap:110 pcmu/8000\r\n");
    let (n, _) = build_answer(&o, local(), 1).unwrap();
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 110));
}

#[test]
fn rfc3264_no_usable_codec_is_488() {
    let o = offer("m=audio 4000 RTP/AVP 9 18\r\n");
    let err = build_answer(&o, local(), 1).unwrap_err();
    assert_eq!(err, SdpError::NoCommonCodec);
    assert_eq!(err.status(), 488);
    let o = offer("m=video 4000 RTP/AVP 96\r\n");
    assert_eq!(build_answer(&o, local(), 1).unwrap_err(), SdpError::NoAudio);
    let o = offer("m=audio 4000 RTP/SAVP 0\r\n");
    assert_eq!(build_answer(&o, local(), 1).unwrap_err().status(), 488);
    // PCMU at the wrong clock rate is not PCMU.
    let o = offer("m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/16000\r\n");
    assert_eq!(
        build_answer(&o, local(), 1).unwrap_err(),
        SdpError::NoCommonCodec
    );
}

#[test]
fn rfc3264_8_4_hold_and_direction() {
    let text = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
    let (n, answer) = build_answer(&SessionDescription::parse(text).unwrap(), local(), 1).unwrap();
    assert_eq!(n.remote, None);
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(answer.contains("a=recvonly\r\n"));
}

#[test]
fn rfc3264_6_other_streams_are_refused_in_place() {
    let o = offer("m=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 0 RTP/AVP 8\r\n");
    let (_, answer) = build_answer(&o, local(), 1).unwrap();
    let m_lines: Vec<_> = answer.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        m_lines,
        [
            "m=video 0 RTP/AVP 96",
            "m=audio 30000 RTP/AVP 0",
            "m=audio 0 RTP/AVP 8"
        ]
    );
}

#[test]
fn media_level_connection_wins_and_missing_is_an_error() {
    let text = "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.2\r\n";
    let (n, _) = build_answer(&SessionDescription::parse(text).unwrap(), local(), 1).unwrap();
    assert_eq!(n.remote, Some("192.0.2.2:4000".parse().unwrap()));
    let text = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let err = build_answer(&SessionDescription::parse(text).unwrap(), local(), 1).unwrap_err();
    assert_eq!(err, SdpError::MissingConnection { index: 0 });
}

#[test]
fn our_offer_parses_and_a_phone_answer_negotiates() {
    let ours = build_offer("[2001:db8::5]:30002".parse().unwrap(), 5);
    let parsed = SessionDescription::parse(&ours).unwrap();
    assert_eq!(
        parsed.media[0].payload_types().collect::<Vec<_>>(),
        vec![0, 8, 101]
    );
    assert!(ours.contains("c=IN IP6 2001:db8::5\r\n"));
    let answer = "v=0\r\nc=IN IP4 192.0.2.9\r\nm=audio 7078 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    let n = Negotiated::from_answer(&SessionDescription::parse(answer).unwrap()).unwrap();
    assert_eq!((n.codec, n.telephone_event), (Codec::Pcma, Some(101)));
    assert_eq!(n.remote, Some("192.0.2.9:7078".parse().unwrap()));
}

#[test]
fn rfc4566_5_2_reanswer_bumps_the_origin_version() {
    let o = offer("m=audio 4000 RTP/AVP 0\r\n");
    let (_, first) = build_answer(&o, local(), 9).unwrap();
    let (_, second) = build_answer_version(&o, local(), 9, 2).unwrap();
    assert!(first.contains("o=hotdesk 9 1 IN IP4 203.0.113.5\r\n"));
    assert!(second.contains("o=hotdesk 9 2 IN IP4 203.0.113.5\r\n"));
}
