//! Matching and misuse (RFC 3261 §17.1.3, §17.2.3, §9.2, §17.1.4).
//!
//! Covered: CANCEL matched to its INVITE server transaction (and to none), the 487 path
//! with the client's automatic ACK; RFC 2543 fallback keys: retransmission absorption and
//! ACK matching for a request without a `z9hG4bK` branch; the same branch from another
//! sent-by is another transaction; stray responses counted and dropped; transport failure ends the transaction; TU misuse errors (unknown key, second
//! final, ACK as a transaction, duplicate branch, response through a client transaction).
//! Not covered: requests without Via/From (the parser refuses them before the layer sees
//! them; the layer still drops and counts them); CANCEL of a 2543 INVITE arriving with a different top Via (matches only
//! when the Via is identical, as the RFC requires).

use std::time::Duration;

use super::harness::{request, request_text, Pair, Side};
use crate::header::Transport;
use crate::message::StatusCode;
use crate::transaction::{Input, Outgoing, TransactionError, TransactionEvent, TransactionKey};

#[test]
fn rfc3261_9_2_cancel_matches_invite_and_487_is_acked() {
    let mut pair = Pair::new(Transport::Udp);
    let invite_key = pair.uac_send(request("INVITE", "c1", Transport::Udp));
    let server_invite = pair.first_server_key();
    pair.uas_respond(&server_invite, 180);
    let cancel_key = pair.uac_send(request("CANCEL", "c1", Transport::Udp));
    assert_ne!(invite_key, cancel_key);
    let cancels: Vec<_> = pair
        .uas
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            TransactionEvent::Cancel { key, invite, .. } => Some((key.clone(), invite.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(cancels.len(), 1);
    let (server_cancel, matched) = &cancels[0];
    assert_eq!(matched.as_ref(), Some(&server_invite));
    // The TU answers the CANCEL with 200 and the INVITE with 487.
    pair.uas_respond(server_cancel, 200);
    pair.uas_respond(&server_invite, 487);
    pair.run_until(Duration::from_secs(1));
    let ack = pair
        .wire
        .iter()
        .find(|w| w.start_line().starts_with("ACK"))
        .unwrap();
    assert!(ack.text().contains("branch=z9hG4bKc1"));
    let uac_responses: Vec<_> = pair
        .uac
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            TransactionEvent::Response { key, response } => Some((
                key.clone(),
                response.message.as_response().map(|r| r.status().as_u16()),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        uac_responses,
        [
            (invite_key.clone(), Some(180)),
            (cancel_key, Some(200)),
            (invite_key, Some(487))
        ]
    );
}

#[test]
fn rfc3261_9_2_cancel_without_invite_has_no_match() {
    let mut pair = Pair::new(Transport::Udp);
    pair.uac_send(request("CANCEL", "orphan", Transport::Udp));
    let matched: Vec<_> = pair
        .uas
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            TransactionEvent::Cancel { invite, .. } => Some(invite.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(matched, [None]);
}

#[test]
fn rfc3261_17_2_3_rfc2543_fallback_absorbs_retransmission_and_matches_ack() {
    let mut pair = Pair::new(Transport::Udp);
    // An RFC 2543 client: branch without the magic cookie.
    let invite = request_text("INVITE", "old1", Transport::Udp);
    pair.inject(Side::Uas, &invite);
    pair.inject(Side::Uas, &invite);
    let requests = pair.events(Side::Uas, |e| matches!(e, TransactionEvent::Request { .. }));
    assert_eq!(requests.len(), 1, "the retransmission matched the first");
    let server = pair.first_server_key();
    pair.uas_respond(&server, 404);
    // Its ACK: same Via, Request-URI, From tag, Call-ID and CSeq number, To with our tag.
    let ack = request_text("ACK", "old1", Transport::Udp).replace(
        "To: <sip:bob@example.com>",
        "To: <sip:bob@example.com>;tag=uas-tag",
    );
    pair.inject(Side::Uas, &ack);
    pair.run_until(Duration::from_secs(40));
    // The ACK stopped Timer G (no 404 retransmission) and never reached the TU.
    assert_eq!(pair.sent_at(Side::Uas, "SIP/2.0 404"), [0.0]);
    assert!(pair
        .events(Side::Uas, |e| matches!(e, TransactionEvent::Ack { .. }))
        .is_empty());
    assert!(pair
        .events(Side::Uas, |e| matches!(e, TransactionEvent::Timeout { .. }))
        .is_empty());
    // A request with no branch at all also falls back.
    let no_branch = request_text("OPTIONS", "x", Transport::Udp).replace(";branch=x", "");
    pair.inject(Side::Uas, &no_branch);
    pair.inject(Side::Uas, &no_branch);
    let options = pair.events(Side::Uas, |e| {
        matches!(e, TransactionEvent::Request { request, .. }
            if request.message.as_request().is_some_and(|r| r.method().as_str() == "OPTIONS"))
    });
    assert_eq!(options.len(), 1);
}

#[test]
fn rfc3261_17_2_3_same_branch_from_another_sent_by_is_another_transaction() {
    let mut pair = Pair::new(Transport::Udp);
    let text = request_text("OPTIONS", "z9hG4bKsame", Transport::Udp);
    pair.inject(Side::Uas, &text);
    pair.inject(
        Side::Uas,
        &text.replace("192.0.2.1:5060;", "192.0.2.9:5060;"),
    );
    pair.inject(Side::Uas, &text.replace("192.0.2.1:5060;", "192.0.2.1;"));
    // The third omits the port, which defaults to 5060: a retransmission of the first.
    let requests = pair.events(Side::Uas, |e| matches!(e, TransactionEvent::Request { .. }));
    assert_eq!(requests.len(), 2);
}

#[test]
fn rfc3261_17_1_3_stray_response_is_dropped() {
    let mut pair = Pair::new(Transport::Udp);
    let request = request("OPTIONS", "s1", Transport::Udp);
    let response = request.response(StatusCode::OK).to_tag("t").build();
    pair.inject(Side::Uac, std::str::from_utf8(response.as_bytes()).unwrap());
    assert_eq!(pair.uac.layer.stats().stray_responses, 1);
    assert!(pair.uac.events.is_empty());
    assert!(pair.uas.events.is_empty());
}

#[test]
fn rfc3261_17_1_4_transport_failure_ends_transaction() {
    let mut pair = Pair::new(Transport::Tcp);
    let key = pair.uac_send(request("INVITE", "f1", Transport::Tcp));
    let now = pair.now;
    pair.uac
        .layer
        .handle(now, Input::TransportFailed(key.clone()))
        .unwrap();
    pair.settle();
    let kinds: Vec<_> = pair
        .uac
        .events
        .iter()
        .map(|(_, e)| match e {
            TransactionEvent::TransportError { key: k } => Some(("error", k == &key)),
            TransactionEvent::Terminated { key: k } => Some(("terminated", k == &key)),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, [Some(("error", true)), Some(("terminated", true))]);
    assert_eq!(
        pair.uac.layer.handle(now, Input::TransportFailed(key)),
        Err(TransactionError::NoTransaction)
    );
}

#[test]
fn tu_misuse_is_reported() {
    let mut pair = Pair::new(Transport::Udp);
    let key = pair.uac_send(request("OPTIONS", "m1", Transport::Udp));
    let server = pair.first_server_key();
    pair.uas_respond(&server, 200);
    let req = pair.uas_request(&server);
    let again = req.response(StatusCode::new(500).unwrap()).build();
    assert_eq!(
        pair.send(
            Side::Uas,
            Outgoing::Response {
                key: server.clone(),
                response: again.clone()
            }
        ),
        Err(TransactionError::AlreadyFinal { status: 500 })
    );
    assert_eq!(
        pair.send(
            Side::Uas,
            Outgoing::Response {
                key: TransactionKey::server("z9hG4bKnone", "x", 5060, "OPTIONS"),
                response: again.clone()
            }
        ),
        Err(TransactionError::NoTransaction)
    );
    assert_eq!(
        pair.send(
            Side::Uac,
            Outgoing::Response {
                key,
                response: again
            }
        ),
        Err(TransactionError::NotServer)
    );
    let destination = pair.uas.addr;
    let send = |r| Outgoing::Request {
        request: r,
        destination,
        transport: Transport::Udp,
    };
    assert_eq!(
        pair.send(Side::Uac, send(request("ACK", "m2", Transport::Udp))),
        Err(TransactionError::AckNotAllowed)
    );
    pair.send(Side::Uac, send(request("INFO", "m3", Transport::Udp)))
        .unwrap();
    assert_eq!(
        pair.send(Side::Uac, send(request("INFO", "m3", Transport::Udp))),
        Err(TransactionError::Duplicate)
    );
}
