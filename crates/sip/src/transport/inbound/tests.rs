//! Receive-side Via handling (RFC 3261 §18.2.1, RFC 3581) and answers to malformed
//! requests (HD-SEC-5).

use super::*;

fn options(via: &str) -> Bytes {
    Bytes::from(format!(
        "OPTIONS sip:hotdesk.test SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:a@hotdesk.test>;tag=1\r\n\
         To: <sip:hotdesk.test>\r\n\
         Call-ID: c1@host\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

const POLICY: Policy = Policy {
    max_message_size: 64 * 1024,
    force_rport: false,
};

fn received(via: &str, remote: &str, transport: Transport, policy: Policy) -> Received {
    match accept(options(via), remote.parse().unwrap(), transport, policy) {
        Inbound::Message(r) => r,
        other => panic!("{other:?}"),
    }
}

fn top_via(r: &Received) -> String {
    let req = r.message.as_request().unwrap();
    req.via().unwrap().as_str().to_owned()
}

#[test]
fn rfc3261_18_2_1_received_added_when_sent_by_is_a_name() {
    let r = received(
        "SIP/2.0/UDP client.example.com:5070;branch=z9hG4bK1",
        "192.0.2.9:5070",
        Transport::Udp,
        POLICY,
    );
    assert_eq!(
        top_via(&r),
        "SIP/2.0/UDP client.example.com:5070;branch=z9hG4bK1;received=192.0.2.9"
    );
    assert_eq!(r.source, "192.0.2.9:5070".parse().unwrap());
}

#[test]
fn rfc3581_4_empty_rport_filled_and_received_added() {
    let r = received(
        "SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK2",
        "192.0.2.9:40000",
        Transport::Udp,
        POLICY,
    );
    assert_eq!(
        top_via(&r),
        "SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bK2;received=192.0.2.9"
    );
    assert_eq!(
        r.source,
        "192.0.2.9:40000".parse().unwrap(),
        "rport: answer the source"
    );
}

#[test]
fn rfc3261_18_2_1_matching_host_leaves_the_message_untouched() {
    let via = "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK3";
    let r = received(via, "192.0.2.9:5060", Transport::Udp, POLICY);
    assert_eq!(r.message.as_bytes(), &options(via));
}

#[test]
fn rfc3261_18_2_1_only_the_top_via_is_stamped() {
    let r = received(
        "SIP/2.0/UDP a.example.com;rport;branch=z9hG4bK4, SIP/2.0/UDP b.example.com;rport;branch=z9hG4bK5",
        "192.0.2.9:6000",
        Transport::Udp,
        POLICY,
    );
    let req = r.message.as_request().unwrap();
    let vias: Vec<String> = req
        .headers()
        .vias()
        .map(|v| v.unwrap().as_str().to_owned())
        .collect();
    assert_eq!(
        vias,
        [
            "SIP/2.0/UDP a.example.com;rport=6000;branch=z9hG4bK4;received=192.0.2.9",
            "SIP/2.0/UDP b.example.com;rport;branch=z9hG4bK5",
        ]
    );
}

#[test]
fn rfc5118_ipv6_received_is_written_without_brackets() {
    let r = received(
        "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK6",
        "[2001:db8::2]:40000",
        Transport::Tcp,
        POLICY,
    );
    assert_eq!(
        top_via(&r),
        "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK6;received=2001:db8::2"
    );
    let same = received(
        "SIP/2.0/TCP [2001:db8::2]:5060;branch=z9hG4bK7",
        "[2001:db8::2]:40000",
        Transport::Tcp,
        POLICY,
    );
    assert!(!top_via(&same).contains("received"));
}

#[test]
fn rfc3261_18_2_1_a_received_written_by_the_sender_is_replaced() {
    let r = received(
        "SIP/2.0/UDP host.example.com;received=10.9.9.9;branch=z9hG4bK8",
        "192.0.2.9:5060",
        Transport::Udp,
        POLICY,
    );
    assert_eq!(
        top_via(&r),
        "SIP/2.0/UDP host.example.com;received=192.0.2.9;branch=z9hG4bK8"
    );
}

#[test]
fn rfc3261_18_2_2_where_responses_go() {
    // (via, transport, force_rport, expected source)
    let cases = [
        (
            "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKa",
            Transport::Udp,
            false,
            "192.0.2.9:5070",
        ),
        (
            "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKb",
            Transport::Udp,
            false,
            "192.0.2.9:5060",
        ),
        (
            "SIP/2.0/UDP 192.0.2.9:5070;rport;branch=z9hG4bKc",
            Transport::Udp,
            false,
            "192.0.2.9:40000",
        ),
        (
            "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKd",
            Transport::Udp,
            true,
            "192.0.2.9:40000",
        ),
        (
            "SIP/2.0/TCP 192.0.2.9:5070;branch=z9hG4bKe",
            Transport::Tcp,
            false,
            "192.0.2.9:40000",
        ),
    ];
    for (via, transport, force_rport, want) in cases {
        let policy = Policy {
            force_rport,
            ..POLICY
        };
        let r = received(via, "192.0.2.9:40000", transport, policy);
        assert_eq!(
            r.source,
            want.parse().unwrap(),
            "{via} force_rport={force_rport}"
        );
    }
}

fn reply(raw: &str) -> Option<String> {
    let error = match parse_message(Bytes::copy_from_slice(raw.as_bytes())) {
        Err(e) => e,
        Ok(m) => panic!("parsed: {m:?}"),
    };
    reject(raw.as_bytes(), &error).map(|b| String::from_utf8(b.to_vec()).unwrap())
}

#[test]
fn hd_sec_5_malformed_request_gets_400_naming_the_fault() {
    let head = "INVITE sip:bob@hotdesk.test SIP/2.0\r\n\
                Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKbad\r\n\
                v: SIP/2.0/UDP proxy.example.com\r\n\
                From: <sip:a@hotdesk.test>;tag=1\r\n\
                To: <sip:bob@hotdesk.test>\r\n\
                Call-ID: bad1@host\r\n";
    // (the rest of the message, status, reason)
    let cases = [
        (
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
            400,
            "CSeq Method Mismatch",
        ),
        (
            "CSeq: 1 INVITE\r\nContent-Length: 0\r\nl: 0\r\n\r\n",
            400,
            "Multiple Content-Length",
        ),
        (
            "CSeq: 1 INVITE\r\nContent-Length: 10\r\n\r\nshort",
            400,
            "Content-Length Exceeds Body",
        ),
        (
            "CSeq: 1 INVITE\r\nContent-Length: abc\r\n\r\n",
            400,
            "Bad Content-Length",
        ),
    ];
    for (rest, status, reason) in cases {
        let raw = format!("\r\n{head}{rest}");
        let response = reply(&raw).unwrap_or_else(|| panic!("no response to {rest:?}"));
        let parsed = parse_message(Bytes::from(response.clone())).unwrap();
        let msg = parsed.as_response().unwrap();
        assert_eq!(
            (msg.status().as_u16(), msg.reason()),
            (status, reason),
            "{rest:?}"
        );
        assert!(response.contains("Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKbad\r\n"));
        assert!(response.contains("Via: SIP/2.0/UDP proxy.example.com\r\n"));
        assert!(response.contains("Call-ID: bad1@host\r\n"));
        assert!(
            msg.to().unwrap().tag().is_some(),
            "RFC 3261 §8.2.6.2: a To tag is added"
        );
    }
}

#[test]
fn hd_sec_5_unanswerable_messages_are_dropped() {
    let cases = [
        // A response with a fault.
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
         To: <sip:b@h>\r\nCall-ID: x\r\nCSeq: y OPTIONS\r\n\r\n",
        // ACK is never answered (RFC 3261 §17.2.3).
        "ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
         To: <sip:b@h>\r\nCall-ID: x\r\nCSeq: y ACK\r\n\r\n",
        // The fault is in a header the response must copy.
        "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
         To: <sip:b@h>\r\nCall-ID: x\r\nCSeq: x OPTIONS\r\n\r\n",
        // No Call-ID to copy.
        "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
         To: <sip:b@h>\r\nCSeq: 1 OPTIONS\r\n\r\n",
        // Binary garbage.
        "\u{1}\u{2}garbage without structure",
    ];
    for raw in cases {
        assert_eq!(reply(raw), None, "{raw:?}");
    }
}

#[test]
fn rfc3261_18_1_1_oversize_request_gets_513() {
    let policy = Policy {
        max_message_size: 100,
        ..POLICY
    };
    let bytes = options("SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKbig");
    let Inbound::Reject(response) = accept(
        bytes,
        "192.0.2.9:5060".parse().unwrap(),
        Transport::Udp,
        policy,
    ) else {
        panic!("oversize message accepted");
    };
    let parsed = parse_message(response).unwrap();
    assert_eq!(parsed.as_response().unwrap().status().as_u16(), 513);
}

#[test]
fn rfc3261_7_3_1_folded_header_lines_are_copied_whole() {
    let raw = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\n\
               From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n \
               body starting with a space";
    let response = reply(raw).unwrap();
    assert!(
        response.contains("Via: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\n"),
        "{response}"
    );
    assert!(
        response.starts_with("SIP/2.0 400 CSeq Method Mismatch\r\n"),
        "{response}"
    );
    assert!(!response.contains("body"));
}
