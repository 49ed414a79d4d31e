use std::net::Ipv4Addr;

use super::*;

/// (input, user, password, host, port, number of URI params, headers)
type SipCase<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    Option<u16>,
    usize,
    Option<&'a str>,
);

#[test]
fn rfc3261_19_1_1_sip_uri_components_table() {
    let cases: [SipCase<'_>; 9] = [
        ("sip:alice@atlanta.com", Some("alice"), None, "atlanta.com", None, 0, None),
        ("sip:alice:secretword@atlanta.com;transport=tcp", Some("alice"), Some("secretword"), "atlanta.com", None, 1, None),
        ("sips:alice@atlanta.com?subject=project%20x&priority=urgent", Some("alice"), None, "atlanta.com", None, 0, Some("subject=project%20x&priority=urgent")),
        ("sip:+1-212-555-1212:1234@gateway.com;user=phone", Some("+1-212-555-1212"), Some("1234"), "gateway.com", None, 1, None),
        ("sip:alice@192.0.2.4:5070", Some("alice"), None, "192.0.2.4", Some(5070), 0, None),
        ("sip:[2001:db8::10]:5061;transport=tls", None, None, "[2001:db8::10]", Some(5061), 1, None),
        ("sip:user;par=u%40example.net@example.com", Some("user;par=u%40example.net"), None, "example.com", None, 0, None),
        ("sip:services.example.com;lr;unknownwith=value;unknown-no-value", None, None, "services.example.com", None, 3, None),
        (
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"),
            Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"),
            "example.com",
            None,
            0,
            None,
        ),
    ];
    for (input, user, password, host, port, nparams, headers) in cases {
        let uri = SipUri::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(uri.user(), user, "{input}");
        assert_eq!(uri.password(), password, "{input}");
        assert_eq!(uri.host_str(), host, "{input}");
        assert_eq!(uri.port(), port, "{input}");
        assert_eq!(uri.params().iter().count(), nparams, "{input}");
        assert_eq!(uri.headers(), headers, "{input}");
        assert_eq!(uri.as_str(), input);
    }
}

#[test]
fn rfc3261_19_1_1_malformed_uris_table() {
    let cases: [(&str, UriError); 11] = [
        ("<sip:user@example.com>", UriError::BadScheme),
        ("user@example.com", UriError::BadScheme),
        ("1sip:x", UriError::BadScheme),
        ("sip:@example.com", UriError::BadChar { offset: 4 }),
        ("sip:us er@example.com", UriError::BadChar { offset: 6 }),
        ("sip:a%4@example.com", UriError::BadEscape { offset: 5 }),
        ("sip:alice@", UriError::BadHost { offset: 10 }),
        ("sip:alice@host:99999", UriError::BadPort { offset: 15 }),
        ("sip:alice@host:", UriError::BadPort { offset: 15 }),
        (
            "sip:user@example.com; lr",
            UriError::BadParam { offset: 21 },
        ),
        ("sip:alice@[::1", UriError::BadHost { offset: 14 }),
    ];
    for (input, want) in cases {
        assert_eq!(Uri::parse(input), Err(want), "{input}");
    }
}

#[test]
fn rfc4475_3_3_2_unknown_and_tel_schemes() {
    match Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent").unwrap() {
        Uri::Other { scheme, raw } => {
            assert_eq!(scheme, "nobodyKnowsThisScheme");
            assert_eq!(raw, "nobodyKnowsThisScheme:totallyopaquecontent");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Uri::parse("soap.beep://192.0.2.103:3002"),
        Ok(Uri::Other {
            scheme: "soap.beep",
            ..
        })
    ));
    match Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap() {
        Uri::Tel(t) => {
            assert_eq!(t.number(), "+1-201-555-0123");
            assert_eq!(t.params().get("phone-context"), Some("example.com"));
        }
        other => panic!("{other:?}"),
    }
    assert!(Uri::parse("tel:").is_err());
    assert!(Uri::parse("name:").is_err());
}

#[test]
fn rfc3261_19_1_4_equivalence_table() {
    let same = [
        (
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp",
        ),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
        (
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
        ),
        (
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        ),
    ];
    for (a, b) in same {
        let (ua, ub) = (SipUri::parse(a).unwrap(), SipUri::parse(b).unwrap());
        assert!(ua.equivalent(&ub), "{a} == {b}");
        assert!(ub.equivalent(&ua), "{b} == {a}");
    }
    // Repeated parameters (fuzz find): still equivalent to itself, compared by first value.
    let dup = SipUri::parse("sip:+1303@ift.example.net;user=phone.x;user=phone").unwrap();
    assert!(dup.equivalent(&dup));
    let first_differs = SipUri::parse("sip:+1303@ift.example.net;user=phone;user=phone.x").unwrap();
    assert!(!dup.equivalent(&first_differs) && !first_differs.equivalent(&dup));
    let differ = [
        (
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP",
        ),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
        (
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off",
        ),
        ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
        (
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting",
        ),
    ];
    for (a, b) in differ {
        let (ua, ub) = (SipUri::parse(a).unwrap(), SipUri::parse(b).unwrap());
        assert!(!ua.equivalent(&ub), "{a} != {b}");
    }
}

#[test]
fn rfc3261_10_3_aor_key_table() {
    let cases = [
        ("sip:1004@Acme.Test;transport=udp", "sip:1004@acme.test"),
        ("sip:%31004@acme.test", "sip:1004@acme.test"),
        (
            "sip:null-%00-null@example.com",
            "sip:null-%00-null@example.com",
        ),
        ("sips:bob@Biloxi.com:5061?x=y", "sips:bob@biloxi.com:5061"),
        ("sip:192.0.2.1", "sip:192.0.2.1"),
        ("sip:u@[2001:DB8::1]", "sip:u@[2001:db8::1]"),
    ];
    for (input, want) in cases {
        assert_eq!(SipUri::parse(input).unwrap().aor(), want, "{input}");
    }
}

#[test]
fn rfc3261_19_1_1_host_kinds_and_flags() {
    let uri = SipUri::parse("sip:alice@192.0.2.4;lr;transport=tcp").unwrap();
    assert_eq!(uri.host(), Host::Ipv4(Ipv4Addr::new(192, 0, 2, 4)));
    assert!(uri.is_loose_route());
    assert_eq!(uri.transport(), Some("tcp"));
    assert!(!uri.is_secure());
    assert!(SipUri::parse("tel:+123").is_err());
}
