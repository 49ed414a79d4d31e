use bytes::Bytes;

use super::*;
use crate::message::{Method, StatusCode};

pub(crate) const REGISTER: &str = "REGISTER sip:acme.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK74bf9;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:94001@acme.test>;tag=456248\r\n\
To: <sip:94001@acme.test>\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:94001@192.0.2.10:5062;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1\r\n\
Expires: 7200\r\n\
Supported: path, outbound\r\n\
Content-Length: 0\r\n\r\n";

pub(crate) const INVITE: &str = "INVITE sip:1004@acme.test SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.acme.test;branch=z9hG4bKnashds8\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:1004@acme.test>\r\n\
From: \"Alice\" <sip:1001@acme.test>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.acme.test\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:1001@pc33.acme.test>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 139\r\n\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 pc33.acme.test\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

fn parse(text: &str) -> Result<Message, ParseError> {
    parse_message(Bytes::copy_from_slice(text.as_bytes()))
}

/// Parses `text` as a request (shared by the message tests).
pub(crate) fn request(text: &str) -> Request {
    match parse(text) {
        Ok(Message::Request(r)) => *r,
        other => panic!("not a request: {other:?}"),
    }
}

#[test]
fn rfc3261_7_typical_register_and_invite_parse() {
    let reg = request(REGISTER);
    assert_eq!(reg.method(), &Method::Register);
    assert_eq!(reg.uri_str(), "sip:acme.test");
    assert_eq!(reg.call_id(), "843817637684230@998sdasdh09");
    assert_eq!(
        (reg.cseq().seq, &reg.cseq().method),
        (1826, &Method::Register)
    );
    assert_eq!(reg.headers().len(), 10);
    assert!(reg.body().is_empty());

    let inv = request(INVITE);
    assert_eq!(inv.body().len(), 139);
    assert!(inv.body().starts_with(b"v=0\r\n"));
    assert_eq!(inv.via().unwrap().branch(), Some("z9hG4bKnashds8"));
    assert_eq!(inv.from().unwrap().tag(), Some("1928301774"));
    assert_eq!(inv.to().unwrap().display_name().as_deref(), Some("Bob"));
    assert_eq!(inv.as_bytes().len(), INVITE.len());
}

#[test]
fn rfc3261_7_3_3_compact_forms_and_folding() {
    let text = "MESSAGE sip:a@acme.test SIP/2.0\r\n\
v: SIP/2.0/TCP h.acme.test\r\n ;branch=z9hG4bK1\r\n\
f: sip:b@acme.test;tag=x\r\n\
t: sip:a@acme.test\r\n\
i: cid-1\r\n\
CSeq: 2\r\n\tMESSAGE\r\n\
c: text/plain\r\n\
l: 5\r\n\r\nhello";
    let m = request(text);
    assert_eq!(m.via().unwrap().branch(), Some("z9hG4bK1"));
    assert_eq!(m.call_id(), "cid-1");
    assert_eq!(m.cseq().seq, 2);
    assert_eq!(m.body(), b"hello");
    assert!(m
        .headers()
        .content_type()
        .unwrap()
        .unwrap()
        .is("text", "plain"));
}

#[test]
fn rfc3261_7_2_response_parses() {
    let text = "SIP/2.0 401 Unauthorized\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK74bf9;received=192.0.2.10;rport=5062\r\n\
From: <sip:94001@acme.test>;tag=456248\r\n\
To: <sip:94001@acme.test>;tag=srv1\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"acme.test\", nonce=\"abc\", algorithm=MD5, qop=\"auth\"\r\n\
Content-Length: 0\r\n\r\n";
    let Ok(Message::Response(r)) = parse(text) else {
        panic!("response expected")
    };
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.reason(), "Unauthorized");
    assert_eq!(r.via().unwrap().rport(), Some(5062));
    let challenges: Vec<&str> = r.headers().www_authenticates().collect();
    assert_eq!(
        challenges,
        ["Digest realm=\"acme.test\", nonce=\"abc\", algorithm=MD5, qop=\"auth\""]
    );
}

#[test]
fn rfc3261_18_3_content_length_and_datagram_body_table() {
    let base = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n";
    // (extra headers, body on the wire, expected body or error)
    let cases: [(&str, &str, Result<&str, ParseError>); 6] = [
        ("Content-Length: 4\r\n", "abcdXYZ", Ok("abcd")),
        ("", "rest of datagram", Ok("rest of datagram")),
        ("Content-Length: 0\r\n", "", Ok("")),
        (
            "Content-Length: 10\r\n",
            "short",
            Err(ParseError::BodyTooShort {
                expected: 10,
                actual: 5,
            }),
        ),
        (
            "Content-Length: -1\r\n",
            "",
            Err(ParseError::BadHeader {
                name: HeaderName::ContentLength,
                offset: 144,
            }),
        ),
        (
            "Content-Length: 1\r\nl: 1\r\n",
            "x",
            Err(ParseError::DuplicateHeader {
                name: HeaderName::ContentLength,
                offset: 150,
            }),
        ),
    ];
    for (extra, body, want) in cases {
        let text = format!("{base}{extra}\r\n{body}");
        let got = parse(&text).map(|m| String::from_utf8_lossy(m.body()).into_owned());
        assert_eq!(got, want.map(str::to_owned), "{extra:?} {body:?}");
    }
}

#[test]
fn rfc3261_8_1_1_mandatory_header_faults_table() {
    let lines = [
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
        "From: <sip:x@y>;tag=1",
        "To: <sip:a@b>",
        "Call-ID: c",
        "CSeq: 1 OPTIONS",
    ];
    let names = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ];
    for (skip, name) in names.iter().enumerate() {
        let mut text = String::from("OPTIONS sip:a@b SIP/2.0\r\n");
        for (i, l) in lines.iter().enumerate() {
            if i != skip {
                text.push_str(l);
                text.push_str("\r\n");
            }
        }
        text.push_str("\r\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(err, ParseError::MissingHeader { name: *name });
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
}

#[test]
fn rfc4475_3_1_2_message_faults_table() {
    let ok = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n";
    let cases: [(String, u16, &str); 7] = [
        (
            format!("OPTIONS sip:a@b SIP/2.0\r\n{ok}CSeq: 1 INVITE\r\n\r\n"),
            400,
            "CSeq Method Mismatch",
        ),
        (
            format!("OPTIONS sip:a@b SIP/2.0\r\n{ok}CSeq: 4294967296 OPTIONS\r\n\r\n"),
            400,
            "Bad CSeq",
        ),
        (
            format!("OPTIONS sip:a@b SIP/2.0\r\n{ok}CSeq: 1 OPTIONS\r\nCall-ID: d\r\n\r\n"),
            400,
            "Multiple Call-ID",
        ),
        (
            format!(
                "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;;\r\n{ok}CSeq: 1 OPTIONS\r\n\r\n"
            ),
            400,
            "Bad Via",
        ),
        (
            format!("OPTIONS sip:a@b SIP/3.0\r\n{ok}CSeq: 1 OPTIONS\r\n\r\n"),
            505,
            "Version Not Supported",
        ),
        (
            format!("OPTIONS urn:x:y SIP/2.0\r\n{ok}CSeq: 1 OPTIONS\r\n\r\n"),
            416,
            "Unsupported URI Scheme",
        ),
        (
            format!("OPTIONS sip:a@b SIP/2.0\r\n{ok}CSeq: 1 OPTIONS\r\nbad line\r\n\r\n"),
            400,
            "Malformed Header Line",
        ),
    ];
    for (text, status, reason) in cases {
        let err = parse(&text).unwrap_err();
        assert_eq!(
            (err.status().as_u16(), err.reason().as_ref()),
            (status, reason),
            "{text:?}"
        );
    }
}

#[test]
fn rfc5626_3_5_1_keepalives_are_not_messages() {
    assert!(is_keepalive(b"\r\n\r\n"));
    assert!(is_keepalive(b"\r\n"));
    assert!(!is_keepalive(b""));
    assert!(!is_keepalive(REGISTER.as_bytes()));
    assert_eq!(parse("\r\n\r\n").unwrap_err(), ParseError::Empty);
    let after_crlf = parse(&format!("\r\n\r\n{REGISTER}")).unwrap();
    assert_eq!(after_crlf.as_bytes().len(), REGISTER.len());
}

#[test]
fn rfc3261_7_3_1_unknown_headers_pass_through_untouched() {
    let text = INVITE.replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nX-Weird:   a,,b;;\r\n  continued\r\n",
    );
    let m = request(&text);
    let h = m.headers().get_named("x-weird").next().unwrap();
    assert_eq!(h.value(), b"a,,b;;\r\n  continued");
    assert_eq!(h.raw_name(), "X-Weird");
}
