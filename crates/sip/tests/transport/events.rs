//! What the application sees: CANCEL matched to its INVITE (RFC 3261 §9.2), and 503 when
//! the application falls behind.

use std::collections::HashMap;

use hotdesk_sip::endpoint::{Endpoint, EndpointConfig, EndpointEvent};
use hotdesk_sip::transport::Transport;
use hotdesk_sip::StatusCode;
use tokio::net::UdpSocket;

use crate::harness::*;

fn invite_dialog_request(method: &str, via: &str, cseq_method: &str) -> String {
    format!(
        "{method} sip:desk@hotdesk.test SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:caller@hotdesk.test>;tag=caller\r\n\
         To: <sip:desk@hotdesk.test>\r\n\
         Call-ID: cancel-test\r\n\
         CSeq: 1 {cseq_method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

#[tokio::test]
async fn rfc3261_9_2_cancel_reaches_the_application_with_its_invite() {
    let (server, mut events) = Endpoint::bind(EndpointConfig {
        transport: udp_tcp(),
        ..EndpointConfig::default()
    })
    .await
    .unwrap();
    // The application holds INVITEs unanswered; on CANCEL it answers 200 and then 487.
    tokio::spawn(async move {
        let mut held = HashMap::new();
        while let Some(event) = events.recv().await {
            match event {
                EndpointEvent::Request(tx) => {
                    held.insert(tx.key().clone(), tx);
                }
                EndpointEvent::Cancel { cancel, invite } => {
                    let _ = cancel.reply(StatusCode::OK);
                    if let Some(invite) = invite.and_then(|key| held.remove(&key)) {
                        let _ = invite.reply(StatusCode::REQUEST_TERMINATED);
                    }
                }
                _ => {}
            }
        }
    });
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let local = client.local_addr().unwrap();
    let addr = server.local_addr(Transport::Udp).unwrap();
    let via = format!("SIP/2.0/UDP {local};branch=z9hG4bKcancel1");
    client
        .send_to(
            invite_dialog_request("INVITE", &via, "INVITE").as_bytes(),
            addr,
        )
        .await
        .unwrap();
    // RFC 3261 §17.2.1: the layer says 100 Trying for the silent application.
    let trying = response(recv_datagram(&client, WAIT).await.unwrap());
    assert_eq!(trying.status(), StatusCode::TRYING);
    client
        .send_to(
            invite_dialog_request("CANCEL", &via, "CANCEL").as_bytes(),
            addr,
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let r = response(recv_datagram(&client, WAIT).await.unwrap());
        got.push((r.status().as_u16(), r.cseq().method.as_str().to_owned()));
    }
    got.sort();
    assert_eq!(
        got,
        [(200, "CANCEL".to_owned()), (487, "INVITE".to_owned())]
    );
}

#[tokio::test]
async fn rfc3261_21_5_4_application_behind_gets_503_not_a_queue() {
    // Room for 4 events, a quarter kept for transactions under way: 3 requests queue and the
    // rest are refused. The application never reads.
    let Raw {
        server,
        events: _events,
        client,
        addr,
        local,
    } = raw_client(EndpointConfig {
        event_queue: 4,
        ..EndpointConfig::default()
    })
    .await;
    for i in 0..6 {
        let via = format!("SIP/2.0/UDP {local};branch=z9hG4bKbusy{i}");
        client
            .send_to(options(&via, &format!("busy{i}")).as_bytes(), addr)
            .await
            .unwrap();
    }
    let mut refused = Vec::new();
    while let Some(bytes) = recv_datagram(&client, std::time::Duration::from_millis(300)).await {
        let r = response(bytes);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers().get_named("Retry-After").count(), 1);
        refused.push(r.call_id().to_owned());
    }
    assert_eq!(refused, ["busy3", "busy4", "busy5"]);
    assert_eq!(server.stats().overload_refused, 3);
}

fn register(via: &str, call_id: &str) -> String {
    format!(
        "REGISTER sip:hotdesk.test SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:201@hotdesk.test>;tag=phone\r\n\
         To: <sip:201@hotdesk.test>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:201@192.0.2.9>\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// The next event, which must be a request, or `None` if none comes within `wait`.
async fn next_request(
    events: &mut hotdesk_sip::endpoint::Events,
    wait: std::time::Duration,
) -> Option<hotdesk_sip::endpoint::ServerTransaction> {
    match tokio::time::timeout(wait, events.recv()).await {
        Ok(Some(EndpointEvent::Request(tx))) => Some(tx),
        Ok(other) => panic!("expected a request, got {other:?}"),
        Err(_) => None,
    }
}

// RFC 3261 §8.2.7 with a deferred method: a REGISTER answered statelessly leaves no
// transaction, so its retransmission after the answer reaches the application again (one
// before it is absorbed); one the application
// holds absorbs its retransmissions, and after its stateful answer gets that answer again
// (§17.2.2), over real sockets.
#[tokio::test]
async fn rfc3261_8_2_7_deferred_register_is_stateless_until_held() {
    let Raw {
        server,
        mut events,
        client,
        addr,
        local,
    } = raw_client(EndpointConfig {
        deferred: vec![hotdesk_sip::Method::Register],
        ..EndpointConfig::default()
    })
    .await;
    let challenged = register(&format!("SIP/2.0/UDP {local};branch=z9hG4bKdef1"), "def1");
    for _ in 0..2 {
        client.send_to(challenged.as_bytes(), addr).await.unwrap();
        let tx = next_request(&mut events, WAIT)
            .await
            .expect("each copy is new");
        assert_eq!(
            server.stats().layer.transactions,
            0,
            "none opened on arrival"
        );
        // A copy while the first waits for its answer is absorbed all the same.
        client.send_to(challenged.as_bytes(), addr).await.unwrap();
        let short = std::time::Duration::from_millis(300);
        assert!(next_request(&mut events, short).await.is_none());
        let response = tx
            .request()
            .response(StatusCode::UNAUTHORIZED)
            .to_tag("stateless")
            .build();
        tx.respond_stateless(response).unwrap();
        let r = response_of(&client).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(server.stats().layer.transactions, 0, "none kept after");
    }

    let short = std::time::Duration::from_millis(300);
    let held = register(&format!("SIP/2.0/UDP {local};branch=z9hG4bKdef2"), "def2");
    client.send_to(held.as_bytes(), addr).await.unwrap();
    let tx = next_request(&mut events, WAIT).await.expect("the request");
    assert!(tx.hold());
    assert_eq!(server.stats().layer.transactions, 1);
    client.send_to(held.as_bytes(), addr).await.unwrap();
    assert!(
        next_request(&mut events, short).await.is_none(),
        "absorbed while held"
    );
    assert!(recv_datagram(&client, short).await.is_none());
    tx.reply(StatusCode::OK).unwrap();
    assert_eq!(response_of(&client).await.status(), StatusCode::OK);
    client.send_to(held.as_bytes(), addr).await.unwrap();
    assert_eq!(response_of(&client).await.status(), StatusCode::OK);
    assert!(next_request(&mut events, short).await.is_none());
}

async fn response_of(client: &UdpSocket) -> hotdesk_sip::Response {
    response(recv_datagram(client, WAIT).await.expect("a response"))
}

/// A server on loopback UDP and TCP and a raw UDP socket to talk to it.
struct Raw {
    server: Endpoint,
    events: hotdesk_sip::endpoint::Events,
    client: UdpSocket,
    /// The server's UDP address.
    addr: std::net::SocketAddr,
    /// The client's address.
    local: std::net::SocketAddr,
}

/// Binds a server with `config` (its listeners replaced by loopback UDP and TCP) and a
/// client socket.
async fn raw_client(config: EndpointConfig) -> Raw {
    let (server, events) = Endpoint::bind(EndpointConfig {
        transport: udp_tcp(),
        ..config
    })
    .await
    .unwrap();
    let addr = server.local_addr(Transport::Udp).unwrap();
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let local = client.local_addr().unwrap();
    Raw {
        server,
        events,
        client,
        addr,
        local,
    }
}
