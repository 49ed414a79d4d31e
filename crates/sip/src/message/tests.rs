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
