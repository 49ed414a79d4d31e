//! TCP through the endpoint: framing across split writes and pipelined messages, RFC 5626
//! keep-alive, oversize messages, connection reuse, and the peers that must not hurt
//! others: slow-loris, idlers, too many connections.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use hotdesk_sip::transport::{Limits, Target, Transport, TransportConfig};
use hotdesk_sip::{Method, RequestBuilder, StatusCode};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::harness::*;

async fn connect(server: &hotdesk_sip::endpoint::Endpoint) -> (TcpStream, String) {
    let stream = TcpStream::connect(server.local_addr(Transport::Tcp).unwrap())
        .await
        .unwrap();
    let local = stream.local_addr().unwrap();
    (stream, format!("SIP/2.0/TCP {local}"))
}

#[tokio::test]
async fn rfc3261_18_3_split_writes_and_pipelined_messages() {
    let server = uas(udp_tcp()).await;
    let (mut stream, via) = connect(&server).await;
    let first = options(&format!("{via};branch=z9hG4bKsplit"), "split");
    let bytes = first.as_bytes();
    // One message in three writes, cut inside the start line and inside a header.
    for part in [&bytes[..5], &bytes[5..60], &bytes[60..]] {
        stream.write_all(part).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let mut buf = BytesMut::new();
    let r = read_message(&mut stream, &mut buf).await.unwrap();
    assert_eq!(r.call_id(), "split");
    // Three messages in one write.
    let batch: String = (0..3)
        .map(|i| options(&format!("{via};branch=z9hG4bKpipe{i}"), &format!("pipe{i}")))
        .collect();
    stream.write_all(batch.as_bytes()).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let m = read_message(&mut stream, &mut buf).await.unwrap();
        assert_eq!(m.as_response().unwrap().status(), StatusCode::OK);
        ids.push(m.call_id().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["pipe0", "pipe1", "pipe2"]);
}

#[tokio::test]
async fn rfc5626_3_5_1_crlf_ping_gets_crlf_pong() {
    let server = uas(udp_tcp()).await;
    let (mut stream, _) = connect(&server).await;
    stream.write_all(b"\r\n\r\n").await.unwrap();
    assert_eq!(
        read_exact(&mut stream, 2).await.as_deref(),
        Some(&b"\r\n"[..])
    );
    // The connection still carries SIP afterwards.
    let local = stream.local_addr().unwrap();
    let req = options(
        &format!("SIP/2.0/TCP {local};branch=z9hG4bKafterping"),
        "after",
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = BytesMut::new();
    let m = read_message(&mut stream, &mut buf).await.unwrap();
    assert_eq!(m.call_id(), "after");
}

#[tokio::test]
async fn rfc3261_18_3_oversize_body_gets_513_and_the_connection_closes() {
    let server = uas(udp_tcp()).await;
    let (mut stream, via) = connect(&server).await;
    let big = options(&format!("{via};branch=z9hG4bKhuge"), "huge")
        .replace("Content-Length: 0", "Content-Length: 70000");
    stream.write_all(big.as_bytes()).await.unwrap();
    let mut buf = BytesMut::new();
    let r = read_message(&mut stream, &mut buf)
        .await
        .expect("an answer");
    assert_eq!(
        r.as_response().unwrap().status(),
        StatusCode::MESSAGE_TOO_LARGE
    );
    assert!(
        closed_within(&mut stream, WAIT).await,
        "framing is lost: close"
    );
}

#[tokio::test]
async fn rfc3261_18_2_2_response_and_new_request_reuse_the_inbound_connection() {
    // On REGISTER the UAS answers and then sends OPTIONS back to the source over TCP: both
    // must arrive on the client's connection (its port accepts no new connection).
    let server = uas_with(udp_tcp(), |endpoint, tx| {
        let source = tx.source();
        let transport = tx.transport();
        let _ = tx.reply(StatusCode::OK);
        let request = RequestBuilder::new(Method::Options, format!("sip:{source}"))
            .header("Via", endpoint.via(transport).unwrap())
            .header("From", "<sip:hotdesk.test>;tag=s")
            .header("To", "<sip:client@hotdesk.test>")
            .header("Call-ID", "server-initiated")
            .header("CSeq", "1 OPTIONS")
            .build()
            .unwrap();
        let _ = endpoint.send_request(request, Target::new(transport, source));
    })
    .await;
    let (mut stream, via) = connect(&server).await;
    let register =
        options(&format!("{via};branch=z9hG4bKreuse"), "reuse").replace("OPTIONS", "REGISTER");
    stream.write_all(register.as_bytes()).await.unwrap();
    let mut buf = BytesMut::new();
    let mut saw_response = false;
    let mut saw_request = false;
    for _ in 0..2 {
        match read_message(&mut stream, &mut buf).await.unwrap() {
            hotdesk_sip::Message::Response(r) => {
                assert_eq!(r.status(), StatusCode::OK);
                saw_response = true;
            }
            hotdesk_sip::Message::Request(r) => {
                assert_eq!(r.call_id(), "server-initiated");
                saw_request = true;
            }
        }
    }
    assert!(saw_response && saw_request);
    assert_eq!(
        server.stats().transport.connections,
        1,
        "no second connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_client_is_cut_off_while_good_clients_get_answers() {
    let transport = TransportConfig {
        limits: quick_limits(),
        ..udp_tcp()
    };
    let server = uas(transport).await;
    let (mut loris, via) = connect(&server).await;
    let request = options(&format!("{via};branch=z9hG4bKloris"), "loris");
    // Half a header, then a byte now and then: never a whole message.
    loris.write_all(&request.as_bytes()[..40]).await.unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for b in request.as_bytes()[40..50].iter() {
            if loris.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        closed_within(&mut loris, Duration::from_secs(2)).await
    });
    // Meanwhile good clients, over UDP and TCP, are answered promptly.
    for i in 0..5 {
        let r = udp_options(
            server.local_addr(Transport::Udp).unwrap(),
            &format!("ok{i}"),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let (mut good, via) = connect(&server).await;
        let req = options(&format!("{via};branch=z9hG4bKgood{i}"), &format!("good{i}"));
        good.write_all(req.as_bytes()).await.unwrap();
        let mut buf = BytesMut::new();
        let m = read_message(&mut good, &mut buf).await.unwrap();
        assert_eq!(m.as_response().unwrap().status(), StatusCode::OK);
    }
    assert!(trickle.await.unwrap(), "the slow client was disconnected");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "cut after {took:?}");
    assert!(server.stats().transport.connections_timed_out >= 1);
}

#[tokio::test]
async fn idle_connection_is_closed_after_the_idle_timeout() {
    let transport = TransportConfig {
        limits: quick_limits(),
        ..udp_tcp()
    };
    let server = uas(transport).await;
    let (mut stream, _) = connect(&server).await;
    let started = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "not before the idle timeout"
    );
}

#[tokio::test]
async fn connection_limit_refuses_extra_connections() {
    let transport = TransportConfig {
        limits: Limits {
            max_connections: 2,
            ..Limits::default()
        },
        ..udp_tcp()
    };
    let server = uas(transport).await;
    let (_a, _) = connect(&server).await;
    let (_b, _) = connect(&server).await;
    let (mut c, _) = connect(&server).await;
    assert!(
        closed_within(&mut c, WAIT).await,
        "third connection closed at once"
    );
    assert_eq!(server.stats().transport.connections_refused, 1);
    assert_eq!(server.stats().transport.connections, 2);
}

#[tokio::test]
async fn port_0_gives_udp_and_tcp_one_port() {
    // SPEC §4: `--sip 127.0.0.1:0` serves UDP and TCP on the address it reports.
    let server = uas(udp_tcp()).await;
    let udp = server.local_addr(Transport::Udp).unwrap();
    let tcp = server.local_addr(Transport::Tcp).unwrap();
    assert_ne!(udp.port(), 0);
    assert_eq!(udp, tcp);
}
