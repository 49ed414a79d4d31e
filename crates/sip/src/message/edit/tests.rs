use super::*;
use crate::parse::tests::{request, INVITE};

#[test]
fn rfc3261_16_6_proxy_style_edits() {
    let text = INVITE.replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nRoute: <sip:b2bua.acme.test;lr>\r\nX-Keep: 1\r\n",
    );
    let req = request(&text);
    let out = req
        .edit()
        .uri("sip:1004@192.0.2.20:5062")
        .push_front("Via", "SIP/2.0/UDP b2bua.acme.test;branch=z9hG4bKb2")
        .remove_first("Route")
        .replace("Max-Forwards", "69")
        .push_back("X-Added", "yes")
        .build()
        .unwrap();
    assert_eq!(out.uri_str(), "sip:1004@192.0.2.20:5062");
    let branches: Vec<_> = out
        .headers()
        .vias()
        .map(|v| v.unwrap().branch().unwrap().to_owned())
        .collect();
    assert_eq!(branches, ["z9hG4bKb2", "z9hG4bKnashds8"]);
    assert_eq!(out.headers().routes().count(), 0);
    assert_eq!(out.headers().max_forwards(), Ok(Some(69)));
    assert_eq!(out.headers().get_named("x-keep").count(), 1);
    assert_eq!(out.headers().get_named("X-Added").count(), 1);
    assert_eq!(out.body(), req.body());
    assert_eq!(
        out.headers().content_length(),
        Ok(Some(req.body().len() as u32))
    );
}

#[test]
fn rfc3261_20_14_body_replacement_rewrites_content_headers() {
    let req = request(INVITE);
    let out = req
        .edit()
        .body(Some("application/sdp"), Bytes::from_static(b"v=0\r\n"))
        .build()
        .unwrap();
    assert_eq!(out.body(), b"v=0\r\n");
    assert_eq!(out.headers().content_length(), Ok(Some(5)));
    assert_eq!(out.headers().get_all(HeaderName::ContentType).count(), 1);
    let none = req.edit().body(None, Bytes::new()).build().unwrap();
    assert!(!none.headers().contains(HeaderName::ContentType));
    assert!(none.body().is_empty());
}

#[test]
fn rfc3261_edit_remove_all_and_replace_absent() {
    let req = request(INVITE);
    let out = req
        .edit()
        .remove("contact")
        .replace("Subject", "hi")
        .build()
        .unwrap();
    assert!(!out.headers().contains(HeaderName::Contact));
    assert_eq!(
        out.headers().get(HeaderName::Subject).map(|h| h.value()),
        Some(&b"hi"[..])
    );
    let broken = req.edit().remove("Call-ID").build();
    assert_eq!(
        broken.unwrap_err(),
        ParseError::MissingHeader {
            name: HeaderName::CallId
        }
    );
}
