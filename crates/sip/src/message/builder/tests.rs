use super::*;
use crate::header::Contact;
use crate::parse::tests::{request, INVITE, REGISTER};
use crate::Message;

/// The built response must read back the same when parsed from its bytes.
fn reparsed(r: &Response) -> Response {
    parse_message(r.as_bytes().clone())
        .ok()
        .and_then(Message::into_response)
        .unwrap_or_else(|| panic!("built response does not parse: {:?}", r.as_bytes()))
}

/// The INVITE as a proxy forwarded it: two Vias (one compact) and a Record-Route.
fn proxied_invite() -> Request {
    request(&INVITE.replace(
        "Via: SIP/2.0/UDP pc33.acme.test;branch=z9hG4bKnashds8\r\n",
        "Via: SIP/2.0/UDP proxy.acme.test;branch=z9hG4bKp1\r\nv: SIP/2.0/UDP pc33.acme.test;branch=z9hG4bKnashds8\r\nRecord-Route: <sip:proxy.acme.test;lr>\r\n",
    ))
}

#[test]
fn rfc3261_8_2_6_2_response_copies_dialog_headers_and_adds_to_tag() {
    let req = proxied_invite();
    let resp = req
        .response(StatusCode::RINGING)
        .to_tag("as7")
        .record_route()
        .header("Contact", "<sip:1004@192.0.2.20>")
        .build();
    for r in [&resp, &reparsed(&resp)] {
        assert_eq!(r.status(), StatusCode::RINGING);
        assert_eq!(r.reason(), "Ringing");
        let branches: Vec<_> = r
            .headers()
            .vias()
            .map(|v| v.unwrap().branch().unwrap().to_owned())
            .collect();
        assert_eq!(branches, ["z9hG4bKp1", "z9hG4bKnashds8"]);
        assert_eq!(r.to().unwrap().tag(), Some("as7"));
        assert_eq!(r.from().unwrap().tag(), Some("1928301774"));
        assert_eq!(r.call_id(), req.call_id());
        assert_eq!(r.cseq(), req.cseq());
        assert_eq!(r.headers().record_routes().count(), 1);
        assert!(matches!(
            r.headers().contacts().next(),
            Some(Ok(Contact::Address(_)))
        ));
        assert_eq!(r.headers().content_length(), Ok(Some(0)));
    }
}

#[test]
fn rfc3261_8_2_6_2_existing_to_tag_is_kept() {
    let text = INVITE.replace(
        "To: Bob <sip:1004@acme.test>",
        "To: Bob <sip:1004@acme.test>;tag=first",
    );
    let resp = request(&text)
        .response(StatusCode::OK)
        .to_tag("second")
        .build();
    assert_eq!(resp.to().unwrap().tag(), Some("first"));
    assert_eq!(reparsed(&resp).to().unwrap().params().iter().count(), 1);
}

#[test]
fn rfc3261_20_14_response_body_and_reason() {
    let req = request(REGISTER);
    let resp = req
        .response(StatusCode::UNAUTHORIZED)
        .reason("Auth Please")
        .header(
            "WWW-Authenticate",
            "Digest realm=\"acme.test\", nonce=\"n1\"",
        )
        .body("text/plain", Bytes::from_static(b"hi"))
        .build();
    let back = reparsed(&resp);
    assert_eq!(back.reason(), "Auth Please");
    assert_eq!(back.body(), b"hi");
    assert_eq!(resp.body(), b"hi");
    assert!(back
        .headers()
        .content_type()
        .unwrap()
        .unwrap()
        .is("text", "plain"));
    assert_eq!(back.headers().www_authenticates().count(), 1);
    assert_eq!(resp.start_line(), "SIP/2.0 401 Auth Please");
}

#[test]
fn rfc3261_8_1_1_request_builder_round_trip() {
    let req = RequestBuilder::new(Method::Notify, "sip:94001@192.0.2.10:5062")
        .header("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKn1")
        .header("Max-Forwards", "70")
        .header("From", "<sip:acme.test>;tag=s1")
        .header("To", "<sip:94001@acme.test>;tag=a")
        .header("Call-ID", "n-1")
        .header("CSeq", "7 NOTIFY")
        .header("Event", "check-sync")
        .body(
            "application/simple-message-summary",
            Bytes::from_static(b"Messages-Waiting: yes\r\n"),
        )
        .build()
        .unwrap();
    assert_eq!(req.method(), &Method::Notify);
    assert_eq!(req.cseq().seq, 7);
    assert_eq!(req.body(), b"Messages-Waiting: yes\r\n");
    assert_eq!(
        req.headers().event().unwrap().unwrap().package(),
        "check-sync"
    );
    let bad = RequestBuilder::new(Method::Notify, "sip:x@y")
        .header("CSeq", "7 INVITE")
        .build();
    assert!(bad.is_err());
}

#[test]
fn put_u32_writes_decimal() {
    for n in [0u32, 7, 10, 65535, u32::MAX] {
        let mut b = BytesMut::new();
        put_u32(&mut b, n);
        assert_eq!(&b[..], n.to_string().as_bytes());
    }
}

#[test]
fn rfc3261_8_1_1_trusted_build_reads_like_a_parsed_one() {
    let builder = RequestBuilder::new(Method::Invite, "sip:1004@192.0.2.10:5062;transport=udp")
        .header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKt1;rport")
        .header("Max-Forwards", "69")
        .header("From", "\"Ann\" <sip:1001@acme.test>;tag=f1")
        .header("To", "<sip:1004@acme.test>")
        .header("Call-ID", "c-1@acme")
        .header("CSeq", "1 INVITE")
        .header("Contact", "<sip:192.0.2.1:5060>")
        .body("application/sdp", Bytes::from_static(b"v=0\r\n"));
    let parsed = builder.clone().build().unwrap();
    let trusted = builder.build_trusted().unwrap();
    assert_eq!(trusted.as_bytes(), parsed.as_bytes());
    assert_eq!(trusted.method(), parsed.method());
    assert_eq!(trusted.uri_str(), parsed.uri_str());
    assert_eq!(trusted.start_line(), parsed.start_line());
    assert_eq!(trusted.cseq(), parsed.cseq());
    assert_eq!(trusted.call_id(), "c-1@acme");
    assert_eq!(trusted.via().unwrap().branch(), Some("z9hG4bKt1"));
    assert_eq!(trusted.from().unwrap().tag(), Some("f1"));
    assert_eq!(trusted.to().unwrap().tag(), None);
    assert_eq!(trusted.body(), b"v=0\r\n");
    let names = |r: &Request| {
        r.headers()
            .iter()
            .map(|h| (h.name(), h.value().to_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&trusted), names(&parsed));
}

#[test]
fn rfc3261_8_1_1_trusted_build_refuses_what_the_layer_needs() {
    let base = || {
        RequestBuilder::new(Method::Bye, "sip:x@y")
            .header("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKt2")
            .header("From", "<sip:a@y>;tag=1")
            .header("To", "<sip:x@y>;tag=2")
            .header("Call-ID", "c-2")
    };
    assert!(base().header("CSeq", "2 BYE").build_trusted().is_ok());
    assert!(matches!(
        base().header("CSeq", "2 INVITE").build_trusted(),
        Err(ParseError::CSeqMethodMismatch { .. })
    ));
    assert!(matches!(
        base().build_trusted(),
        Err(ParseError::MissingHeader {
            name: HeaderName::CSeq
        })
    ));
    let no_via = RequestBuilder::new(Method::Bye, "sip:x@y")
        .header("From", "<sip:a@y>;tag=1")
        .header("To", "<sip:x@y>;tag=2")
        .header("Call-ID", "c-2")
        .header("CSeq", "2 BYE")
        .build_trusted();
    assert!(matches!(
        no_via,
        Err(ParseError::MissingHeader {
            name: HeaderName::Via
        })
    ));
}

/// RFC 3261 §8.2.6: a response's buffer is planned to its exact size (every copied header,
/// a To tag added or kept, extra headers, a reason of any length, a body and its
/// Content-Length digits), so freezing it allocates nothing more.
#[test]
fn rfc3261_8_2_6_response_buffer_is_planned_exactly() {
    let req = proxied_invite();
    let tagged = request(&REGISTER.replace(
        "To: <sip:94001@acme.test>",
        "To: <sip:94001@acme.test>;tag=kept",
    ));
    let sdp = Bytes::from_static(b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n");
    let cases = [
        req.response(StatusCode::TRYING),
        req.response(StatusCode::OK).to_tag("abc").record_route(),
        req.response(StatusCode::UNAUTHORIZED)
            .reason("Unauthorized, with a longer reason")
            .to_tag("0123456789abcdef")
            .header("WWW-Authenticate", "Digest realm=\"a\", nonce=\"n\"")
            .header("X-Extension", ""),
        req.response(StatusCode::OK)
            .to_tag("t")
            .body("application/sdp", sdp),
        req.response(StatusCode::OK)
            .body("text/plain", Bytes::from(vec![b'x'; 12_345])),
        tagged.response(StatusCode::OK).to_tag("another"),
    ];
    for builder in cases {
        let (response, planned) = builder.build_planned();
        assert_eq!(response.as_bytes().len(), planned, "{response:?}");
    }
}
