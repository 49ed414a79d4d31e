use super::*;
use crate::header::{Contact, Transport, Q};
use crate::parse::tests::{request, INVITE, REGISTER};

#[test]
fn rfc3261_10_3_register_typed_accessors() {
    let r = request(REGISTER);
    let h = r.headers();
    let contacts: Vec<Contact<'_>> = h.contacts().collect::<Result<_, _>>().unwrap();
    assert_eq!(contacts.len(), 1);
    let c = contacts[0].address().unwrap();
    assert_eq!(c.uri().as_str(), "sip:94001@192.0.2.10:5062;transport=udp");
    assert_eq!(c.expires(), Ok(Some(3600)));
    assert_eq!(c.reg_id(), Ok(Some(1)));
    assert_eq!(
        c.sip_instance(),
        Some("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>")
    );
    assert_eq!(h.expires(), Ok(Some(7200)));
    assert_eq!(h.max_forwards(), Ok(Some(70)));
    assert_eq!(h.content_length(), Ok(Some(0)));
    assert_eq!(h.supported().collect::<Vec<_>>(), ["path", "outbound"]);
    let to = r.to().unwrap();
    assert_eq!(to.uri().as_sip().unwrap().aor(), "sip:94001@acme.test");
    let via = r.via().unwrap();
    assert_eq!(
        (via.transport(), via.host_str(), via.port()),
        (Transport::Udp, "192.0.2.10", Some(5062))
    );
    assert!(via.has_rport());
}

#[test]
fn rfc3261_7_3_1_lists_split_across_lines_and_commas() {
    let text = REGISTER.replace(
        "Contact: <sip:94001@192.0.2.10:5062;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1\r\n",
        "Contact: \"A, B\" <sip:a@h1>;q=0.5, <sip:b@h2>;expires=0\r\nm: sip:c@h3;q=1\r\n",
    );
    let r = request(&text);
    let contacts: Vec<Contact<'_>> = r.headers().contacts().collect::<Result<_, _>>().unwrap();
    let uris: Vec<&str> = contacts
        .iter()
        .map(|c| c.address().unwrap().uri().as_str())
        .collect();
    assert_eq!(uris, ["sip:a@h1", "sip:b@h2", "sip:c@h3"]);
    assert_eq!(
        contacts[0].address().unwrap().display_name().as_deref(),
        Some("A, B")
    );
    assert_eq!(contacts[0].address().unwrap().q(), Ok(Some(Q(500))));
    assert_eq!(contacts[1].address().unwrap().expires(), Ok(Some(0)));
    assert_eq!(contacts[2].address().unwrap().q(), Ok(Some(Q(1000))));
    assert_eq!(r.headers().get_all(HeaderName::Contact).count(), 2);
    assert_eq!(r.headers().get_named("m").count(), 2);
}

#[test]
fn rfc3261_16_12_route_record_route_path_order() {
    let text = INVITE.replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nRoute: <sip:p1.acme.test;lr>, <sip:p2.acme.test;lr>\r\nRoute: <sip:p3.acme.test;lr>\r\nRecord-Route: <sip:rr.acme.test;lr>\r\nPath: <sip:edge.acme.test;lr;ob>\r\n",
    );
    let r = request(&text);
    let h = r.headers();
    let routes: Vec<String> = h
        .routes()
        .map(|n| n.unwrap().uri().as_str().to_owned())
        .collect();
    assert_eq!(
        routes,
        [
            "sip:p1.acme.test;lr",
            "sip:p2.acme.test;lr",
            "sip:p3.acme.test;lr"
        ]
    );
    let rr = h.record_routes().next().unwrap().unwrap();
    assert!(rr.uri().as_sip().unwrap().is_loose_route());
    let path = h.paths().next().unwrap().unwrap();
    assert!(path.uri().as_sip().unwrap().params().contains("ob"));
}

#[test]
fn rfc3261_20_lazy_accessor_errors_carry_name_and_message_offset() {
    let text = REGISTER.replace("Expires: 7200", "Expires: 72x0");
    let r = request(&text);
    let at = text.find("72x0").unwrap() + 2;
    assert_eq!(
        r.headers().expires(),
        Err(ParseError::BadHeader {
            name: HeaderName::Expires,
            offset: at
        })
    );
    let text = REGISTER.replace("Max-Forwards: 70", "Max-Forwards: 300");
    assert!(request(&text).headers().max_forwards().is_err());
    let text = REGISTER.replace(";reg-id=1", ";reg-id=1;;");
    let err = request(&text)
        .headers()
        .contacts()
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.reason(), "Bad Contact");
}

#[test]
fn rfc6665_event_require_and_auth_values() {
    let text = "SUBSCRIBE sip:94001@acme.test SIP/2.0\r\n\
Via: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKsub\r\n\
From: <sip:94001@acme.test>;tag=a\r\nTo: <sip:94001@acme.test>\r\nCall-ID: s1\r\nCSeq: 5 SUBSCRIBE\r\n\
o: message-summary;id=7\r\n\
Require: 100rel, , timer\r\nProxy-Require: sec-agree\r\n\
Authorization: Digest username=\"94001\", realm=\"acme.test\", uri=\"sip:acme.test\"\r\n\
Content-Length: 0\r\n\r\n";
    let r = request(text);
    let h = r.headers();
    let e = h.event().unwrap().unwrap();
    assert_eq!((e.package(), e.id()), ("message-summary", Some("7")));
    assert_eq!(h.require().collect::<Vec<_>>(), ["100rel", "timer"]);
    assert_eq!(h.proxy_require().collect::<Vec<_>>(), ["sec-agree"]);
    assert_eq!(
        h.authorizations().count(),
        1,
        "commas inside credentials do not split"
    );
    assert!(h.value_bytes(HeaderName::CallId).is_some_and(|b| b == "s1"));
}

/// The parsed top Via, From and To kept by the parser (`message::cache`) read back exactly
/// what parsing the header lines again gives: compact names, folding, a second Via line
/// and a list in the first, IPv6 and tel: values included (RFC 3261 §7.3.1, §20.42).
#[test]
fn rfc3261_7_3_cached_via_from_to_match_a_fresh_parse() {
    let text = "REGISTER sip:acme.test SIP/2.0\r\n\
        v: SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKc1;rport, SIP/2.0/TCP proxy.test\r\n\
        Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKlast\r\n\
        f: \"A \\\"B\\\"\"\r\n <sip:94001@acme.test;transport=udp>;tag=t9\r\n\
        t: <tel:+1-555-0100;phone-context=acme.test>\r\n\
        i: c1@acme\r\n\
        CSeq: 1 REGISTER\r\n\
        l: 0\r\n\r\n";
    let r = request(text);
    assert!(r.cache.is_some(), "a parsed request carries its cache");
    let h = r.headers();
    assert_eq!(r.via().unwrap(), h.via().unwrap());
    assert_eq!(r.from().unwrap(), h.from().unwrap());
    assert_eq!(r.to().unwrap(), h.to().unwrap());
    let via = r.via().unwrap();
    assert_eq!(via.host_str(), "[2001:db8::10]");
    assert_eq!(via.branch(), Some("z9hG4bKc1"));
    assert!(via.has_rport());
    let from = r.from().unwrap();
    assert_eq!(from.display_name().as_deref(), Some("A \"B\""));
    assert_eq!(from.tag(), Some("t9"));
    assert_eq!(
        from.uri().as_sip().unwrap().params().get("transport"),
        Some("udp")
    );
    assert_eq!(
        r.to().unwrap().uri().as_str(),
        "tel:+1-555-0100;phone-context=acme.test"
    );
}

/// An edited request is a new message: its accessors see the changed headers, never the
/// original's cached ones; a built response has no cache and still answers (parsed on
/// demand).
#[test]
fn rfc3261_7_3_cache_follows_edits_and_built_responses_parse_on_demand() {
    let r = request(REGISTER);
    let edited = r
        .edit()
        .push_front("Via", "SIP/2.0/TCP edge.acme.test:5070;branch=z9hG4bKnew")
        .replace("From", "<sip:94002@acme.test>;tag=other")
        .replace("To", "<sip:94002@acme.test>;tag=dialog")
        .build()
        .unwrap();
    let via = edited.via().unwrap();
    assert_eq!(
        (via.transport(), via.host_str(), via.port(), via.branch()),
        (
            Transport::Tcp,
            "edge.acme.test",
            Some(5070),
            Some("z9hG4bKnew")
        )
    );
    assert_eq!(edited.from().unwrap().tag(), Some("other"));
    assert_eq!(edited.to().unwrap().tag(), Some("dialog"));
    // The original is untouched.
    assert_eq!(r.via().unwrap().branch(), Some("z9hG4bK74bf9"));
    assert_eq!(r.to().unwrap().tag(), None);

    let response = r.response(StatusCode::OK).to_tag("x1").build();
    assert!(response.cache.is_none());
    assert_eq!(response.via().unwrap().branch(), Some("z9hG4bK74bf9"));
    assert_eq!(response.to().unwrap().tag(), Some("x1"));
    let reparsed = crate::parse_message(response.as_bytes().clone()).unwrap();
    assert_eq!(
        reparsed.as_response().unwrap().to().unwrap().tag(),
        Some("x1")
    );
}
