//! UDP through the endpoint: request/response, RFC 3581 and §18.2.1 Via handling, §18.2.2
//! response addressing, IPv6, malformed and oversize datagrams, a flood of garbage.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hotdesk_sip::endpoint::{ClientError, Endpoint, EndpointConfig};
use hotdesk_sip::transaction::{Timer, TimerConfig};
use hotdesk_sip::transport::{Limits, Target, Transport, TransportConfig};
use hotdesk_sip::{Method, RequestBuilder, StatusCode};
use tokio::net::UdpSocket;

use crate::harness::*;

#[tokio::test]
async fn rfc3581_udp_options_answered_with_received_and_rport() {
    let server = uas(udp_tcp()).await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let port = client.local_addr().unwrap().port();
    // A sent-by name that is not the source IP, and an empty rport.
    let via = "SIP/2.0/UDP client.invalid:5999;rport;branch=z9hG4bKudp1";
    client
        .send_to(options(via, "udp1").as_bytes(), addr)
        .await
        .unwrap();
    let bytes = recv_datagram(&client, WAIT)
        .await
        .expect("the response comes back to the source port (rport)");
    let r = response(bytes);
    assert_eq!(r.status(), StatusCode::OK);
    let via = r.via().unwrap();
    assert_eq!(via.received(), Some("127.0.0.1"));
    assert_eq!(via.rport(), Some(port));
    assert_eq!(via.branch(), Some("z9hG4bKudp1"));
    assert!(server.stats().transport.received >= 1);
}

#[tokio::test]
async fn rfc3261_18_2_2_without_rport_the_response_goes_to_the_sent_by_port() {
    let server = uas(udp_tcp()).await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    let listener = UdpSocket::bind(loopback()).await.unwrap();
    let sender = UdpSocket::bind(loopback()).await.unwrap();
    let sent_by = listener.local_addr().unwrap();
    let via = format!("SIP/2.0/UDP {sent_by};branch=z9hG4bKsentby");
    sender
        .send_to(options(&via, "sentby").as_bytes(), addr)
        .await
        .unwrap();
    let r = response(recv_datagram(&listener, WAIT).await.expect("at sent-by"));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.via().unwrap().received(),
        None,
        "sent-by host is the source IP"
    );
    assert!(recv_datagram(&sender, Duration::from_millis(200))
        .await
        .is_none());
}

#[tokio::test]
async fn rfc5118_ipv6_loopback_round_trip() {
    let v6: SocketAddr = "[::1]:0".parse().unwrap();
    if std::net::UdpSocket::bind(v6).is_err() {
        eprintln!("SKIPPED rfc5118_ipv6_loopback_round_trip: no IPv6 loopback on this machine");
        return;
    }
    let server = uas(TransportConfig::udp_tcp(v6)).await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    assert!(addr.is_ipv6());
    let r = udp_options(addr, "v6").await.expect("answer over [::1]");
    assert_eq!(r.status(), StatusCode::OK);
    // And TCP over IPv6.
    let tcp = server.local_addr(Transport::Tcp).unwrap();
    let mut stream = tokio::net::TcpStream::connect(tcp).await.unwrap();
    let local = stream.local_addr().unwrap();
    let via = format!("SIP/2.0/TCP {local};branch=z9hG4bKv6tcp");
    tokio::io::AsyncWriteExt::write_all(&mut stream, options(&via, "v6tcp").as_bytes())
        .await
        .unwrap();
    let mut buf = bytes::BytesMut::new();
    let m = read_message(&mut stream, &mut buf).await.unwrap();
    assert_eq!(m.as_response().unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn hd_sec_5_malformed_datagram_gets_400_with_the_reason() {
    let server = uas(udp_tcp()).await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let local = client.local_addr().unwrap();
    let bad = options(&format!("SIP/2.0/UDP {local};branch=z9hG4bKbad"), "bad")
        .replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    client.send_to(bad.as_bytes(), addr).await.unwrap();
    let r = response(recv_datagram(&client, WAIT).await.expect("a 400"));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.reason(), "CSeq Method Mismatch");
    assert_eq!(server.stats().transport.malformed, 1);
}

#[tokio::test]
async fn rfc3261_18_1_1_oversize_datagram_gets_513() {
    let transport = TransportConfig {
        limits: Limits {
            max_message_size: 1024,
            ..Limits::default()
        },
        ..udp_tcp()
    };
    let server = uas(transport).await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let local = client.local_addr().unwrap();
    let padding = "x".repeat(2000);
    let big = options(&format!("SIP/2.0/UDP {local};branch=z9hG4bKbig"), "big").replace(
        "Content-Length: 0\r\n\r\n",
        &format!("Content-Length: 2000\r\n\r\n{padding}"),
    );
    client.send_to(big.as_bytes(), addr).await.unwrap();
    let r = response(recv_datagram(&client, WAIT).await.expect("a 513"));
    assert_eq!(r.status(), StatusCode::MESSAGE_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_sec_5_malformed_flood_does_not_starve_a_good_client() {
    let server = uas(udp_tcp()).await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = Arc::clone(&stop);
    // Bursts of 30 every 50 ms (600/s) so that a debug build on a busy machine reads it all
    // (the release build's capacity is measured with SIPp, not here): beyond what the
    // reader can take, the socket buffer fills and good datagrams wait behind garbage or are
    // dropped by the kernel, which no application can prevent.
    let flood = tokio::spawn(async move {
        let socket = UdpSocket::bind(loopback()).await.unwrap();
        let local = socket.local_addr().unwrap();
        // Garbage, and requests with faults that earn a 400 (the costlier kind).
        let answered = options(&format!("SIP/2.0/UDP {local};branch=z9hG4bKf"), "flood")
            .replace("CSeq: 1 OPTIONS", "CSeq: 1 BYE");
        let junk: &[&[u8]] = &[
            b"\x00\x01garbage",
            answered.as_bytes(),
            b"INVITE nothing\r\n\r\n",
        ];
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let mut sent = 0u64;
        while !flooding.load(Ordering::Relaxed) {
            tick.tick().await;
            for _ in 0..10 {
                for j in junk {
                    let _ = socket.send_to(j, addr).await;
                    sent += 1;
                }
            }
        }
        sent
    });
    // Every good request is answered (the client retransmits like Timer E, as a UA would),
    // while the flood goes on.
    let mut slowest = Duration::ZERO;
    for i in 0..10 {
        let call_id = format!("good{i}");
        let asked = std::time::Instant::now();
        let r = udp_options(addr, &call_id).await;
        let stats = server.stats();
        let r = r.unwrap_or_else(|| panic!("{call_id} unanswered during the flood: {stats:?}"));
        assert_eq!(r.status(), StatusCode::OK);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let sent = flood.await.unwrap();
    let stats = server.stats().transport;
    eprintln!("flood: {sent} sent, {stats:?}, slowest good answer {slowest:?}");
    assert!(
        stats.malformed > 100,
        "the flood reached the server: {stats:?} of {sent}"
    );
}

/// Two endpoints: a client transaction over UDP and over TCP (the client opens the
/// connection) gets the UAS's final response.
#[tokio::test]
async fn rfc3261_17_1_endpoint_client_transaction_over_udp_and_tcp() {
    let server = uas(udp_tcp()).await;
    let (client, _events) = Endpoint::bind(EndpointConfig {
        transport: udp_tcp(),
        ..EndpointConfig::default()
    })
    .await
    .unwrap();
    for transport in [Transport::Udp, Transport::Tcp] {
        let target = Target::new(transport, server.local_addr(transport).unwrap());
        let request = RequestBuilder::new(Method::Options, "sip:hotdesk.test")
            .header("Via", client.via(transport).unwrap())
            .header("Max-Forwards", "70")
            .header("From", "<sip:client@hotdesk.test>;tag=c")
            .header("To", "<sip:hotdesk.test>")
            .header("Call-ID", format!("e2e-{}", transport.as_str()))
            .header("CSeq", "7 OPTIONS")
            .build()
            .unwrap();
        let tx = client.send_request(request, target).unwrap();
        let r = tokio::time::timeout(WAIT, tx.final_response())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{transport:?}");
        assert_eq!(r.cseq().seq, 7);
    }
}

#[tokio::test]
async fn rfc3261_17_1_2_2_timer_f_ends_an_unanswered_request() {
    let silent = UdpSocket::bind(loopback()).await.unwrap();
    let (client, _events) = Endpoint::bind(EndpointConfig {
        transport: udp_tcp(),
        timers: TimerConfig {
            t1: Duration::from_millis(5),
            t2: Duration::from_millis(40),
            ..TimerConfig::default()
        },
        ..EndpointConfig::default()
    })
    .await
    .unwrap();
    let request = RequestBuilder::new(Method::Options, "sip:nobody.test")
        .header("Via", client.via(Transport::Udp).unwrap())
        .header("From", "<sip:client@hotdesk.test>;tag=c")
        .header("To", "<sip:nobody.test>")
        .header("Call-ID", "timer-f")
        .header("CSeq", "1 OPTIONS")
        .build()
        .unwrap();
    let target = Target::new(Transport::Udp, silent.local_addr().unwrap());
    let tx = client.send_request(request, target).unwrap();
    let result = tokio::time::timeout(WAIT, tx.final_response())
        .await
        .unwrap();
    assert!(
        matches!(result, Err(ClientError::Timeout(Timer::F))),
        "{result:?}"
    );
    // Timer E retransmitted it meanwhile.
    let mut copies = 0;
    while recv_datagram(&silent, Duration::from_millis(50))
        .await
        .is_some()
    {
        copies += 1;
    }
    assert!(copies > 2, "{copies} copies");
}

#[tokio::test]
async fn style_4_a_dropped_server_transaction_answers_500() {
    let server = uas_with(udp_tcp(), |_, tx| drop(tx)).await;
    let r = udp_options(server.local_addr(Transport::Udp).unwrap(), "dropped")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVER_INTERNAL_ERROR);
}

/// Sends `request` from `client` to `server` and waits for one datagram.
async fn exchange(client: &UdpSocket, server: SocketAddr, request: &str) -> bytes::Bytes {
    client.send_to(request.as_bytes(), server).await.unwrap();
    recv_datagram(client, WAIT).await.expect("an answer")
}

/// RFC 3261 §17.2.2: the application's final response is sent from its own task (not via
/// the endpoint task), yet the server transaction keeps it: a retransmitted request is
/// answered with the very same bytes and never reaches the application again.
#[tokio::test]
async fn rfc3261_17_2_2_retransmission_gets_the_response_sent_from_the_application_task() {
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let server = uas_with(udp_tcp(), move |_, tx| {
        counter.fetch_add(1, Ordering::SeqCst);
        // A fresh To tag per answer: a second answer would differ.
        let _ = tx.reply(StatusCode::OK);
    })
    .await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let local = client.local_addr().unwrap();
    let request = options(
        &format!("SIP/2.0/UDP {local};branch=z9hG4bKdirect1"),
        "direct1",
    );
    let first = exchange(&client, addr, &request).await;
    assert_eq!(response(first.clone()).status(), StatusCode::OK);
    for _ in 0..2 {
        let again = exchange(&client, addr, &request).await;
        assert_eq!(again, first, "the stored response, byte for byte");
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "retransmissions are absorbed"
    );
    assert!(server.stats().layer.retransmissions >= 2);
    // A new transaction (new branch) reaches the application and gets its own answer.
    let other = options(
        &format!("SIP/2.0/UDP {local};branch=z9hG4bKdirect2"),
        "direct1",
    );
    let second = response(exchange(&client, addr, &other).await);
    assert_eq!(second.status(), StatusCode::OK);
    assert_ne!(
        second.to().unwrap().tag(),
        response(first).to().unwrap().tag()
    );
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

/// RFC 3261 §8.2.7: a stateless answer (challenges) keeps no transaction, so each
/// retransmission reaches the application and is answered afresh, with the same To tag
/// ([`hotdesk_sip::endpoint::stateless_tag`]).
#[tokio::test]
async fn rfc3261_8_2_7_stateless_answer_keeps_no_transaction() {
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let server = uas_with(udp_tcp(), move |_, tx| {
        counter.fetch_add(1, Ordering::SeqCst);
        let tag = hotdesk_sip::endpoint::stateless_tag(tx.request());
        let challenge = tx
            .request()
            .response(StatusCode::UNAUTHORIZED)
            .to_tag(tag.as_str())
            .build();
        let _ = tx.respond_stateless(challenge);
    })
    .await;
    let addr = server.local_addr(Transport::Udp).unwrap();
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let local = client.local_addr().unwrap();
    let request = options(&format!("SIP/2.0/UDP {local};branch=z9hG4bKsl1"), "sl1");
    let first = response(exchange(&client, addr, &request).await);
    let again = response(exchange(&client, addr, &request).await);
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(first.to().unwrap().tag(), again.to().unwrap().tag());
    assert_eq!(seen.load(Ordering::SeqCst), 2, "nothing kept to absorb it");
    assert_eq!(server.stats().layer.transactions, 0);
}
