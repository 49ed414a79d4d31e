//! Deferred methods ([`TransactionLayer::defer`]): requests that open no server transaction
//! until the TU opens one, as a stateless UAS (RFC 3261 §8.2.7) answers them.
//!
//! Covered: a deferred request keeps nothing and its retransmission after the answer comes
//! up again, one before it is absorbed; an opened one absorbs retransmissions and resends
//! its stored final (§17.2.2); a stateless answer to a copy yields to the opened
//! transaction; INVITE, ACK and CANCEL are never
//! deferred; a provisional cannot be a stateless answer.
//! Not covered here: the endpoint's handles over real sockets (`tests/transport/events.rs`).

use std::net::SocketAddr;
use std::time::Instant;

use super::harness::request;
use crate::header::Transport;
use crate::message::{Response, StatusCode};
use crate::transaction::{Received, TransactionError, TransactionEvent, TransactionLayer};

const PEER: &str = "192.0.2.1:5060";

fn peer() -> SocketAddr {
    PEER.parse().unwrap()
}

fn register_layer() -> TransactionLayer {
    let mut layer = TransactionLayer::default();
    layer.defer("REGISTER");
    layer
}

fn arrival(method: &str, branch: &str) -> Received {
    Received {
        message: request(method, branch, Transport::Udp).into(),
        source: peer(),
        transport: Transport::Udp,
    }
}

fn answer(method: &str, branch: &str, status: u16) -> Response {
    request(method, branch, Transport::Udp)
        .response(StatusCode::new(status).unwrap())
        .to_tag("t1")
        .build()
}

// rfc3261_8_2_7: a deferred REGISTER answered statelessly leaves the table empty, and its
// retransmission is a new request for the TU, answered afresh.
#[test]
fn rfc3261_8_2_7_deferred_request_keeps_nothing_and_its_retransmission_is_new() {
    let mut layer = register_layer();
    let now = Instant::now();
    let first = layer.receive_now(now, arrival("REGISTER", "d1"));
    let Some(TransactionEvent::Deferred { key, request }) = first.event else {
        panic!("a deferred request is handed back as such: {first:?}");
    };
    assert_eq!(request.source, peer());
    assert!(first.transmit.is_none());
    assert!(!layer.contains(&key));
    assert_eq!(layer.stats().transactions, 0);
    let early = layer.receive_now(now, arrival("REGISTER", "d1"));
    assert!(
        early.event.is_none(),
        "a copy before the answer is absorbed: {early:?}"
    );
    let transmit = layer
        .respond_deferred(&key, peer(), Transport::Udp, answer("REGISTER", "d1", 401))
        .unwrap()
        .expect("the answer is sent");
    assert!(transmit.bytes.starts_with(b"SIP/2.0 401"));
    assert_eq!(transmit.destination, peer());
    assert!(transmit.key.is_none(), "nothing is left to fail");
    assert_eq!(layer.stats().transactions, 0);
    let again = layer.receive_now(now, arrival("REGISTER", "d1"));
    assert!(
        matches!(again.event, Some(TransactionEvent::Deferred { key: ref k, .. }) if *k == key),
        "the retransmission reaches the TU again: {again:?}"
    );
    assert_eq!(layer.stats().retransmissions, 0);
}

// rfc3261_17_2_2: once opened, a deferred request's transaction absorbs retransmissions
// while unanswered and resends its stored final after; a stateless answer to a copy of the
// request yields to it (nothing while it waits, the stored final once it has one).
#[test]
fn rfc3261_17_2_2_opened_deferred_request_absorbs_and_a_copy_yields_to_it() {
    let mut layer = register_layer();
    let now = Instant::now();
    let first = layer.receive_now(now, arrival("REGISTER", "d2"));
    let Some(TransactionEvent::Deferred { key, .. }) = first.event else {
        panic!("deferred: {first:?}");
    };
    // A copy that arrives while the first waits for the TU is absorbed.
    let copy = layer.receive_now(now, arrival("REGISTER", "d2"));
    assert!(copy.event.is_none() && copy.transmit.is_none(), "{copy:?}");
    assert!(layer.open(now, &key, peer(), Transport::Udp));
    assert!(layer.contains(&key));
    assert!(
        !layer.open(now, &key, peer(), Transport::Udp),
        "opened once; the copy's handle finds it open"
    );
    let absorbed = layer.receive_now(now, arrival("REGISTER", "d2"));
    assert!(absorbed.event.is_none() && absorbed.transmit.is_none());
    // A handle for a copy that got through (its waiting mark lost to another key) yields.
    let copy_answer = answer("REGISTER", "d2", 200);
    let pending = layer
        .respond_deferred(&key, peer(), Transport::Udp, copy_answer)
        .unwrap();
    assert!(pending.is_none(), "nothing sent while the opened one waits");
    let ok = answer("REGISTER", "d2", 200);
    let sent = layer.respond_now(now, &key, &ok, false).unwrap();
    let sent = sent.transmit.expect("the 200 goes out");
    let stored = layer
        .receive_now(now, arrival("REGISTER", "d2"))
        .transmit
        .expect("the stored 200 is re-sent");
    assert_eq!(stored.bytes, sent.bytes);
    let refused = answer("REGISTER", "d2", 401);
    let for_copy = layer
        .respond_deferred(&key, peer(), Transport::Udp, refused)
        .unwrap()
        .expect("the stored final goes out");
    assert_eq!(
        for_copy.bytes, sent.bytes,
        "the transaction's final, not the copy's"
    );
    assert_eq!(layer.stats().retransmissions, 2);
}

// rfc3261_17_2_1: INVITE (with its 100 Trying and Timer-driven state), ACK and CANCEL are
// matched and opened as always, whatever the TU deferred.
#[test]
fn rfc3261_17_2_1_invite_ack_and_cancel_are_never_deferred() {
    let mut layer = TransactionLayer::default();
    for method in ["INVITE", "ACK", "CANCEL", "REGISTER"] {
        layer.defer(method);
    }
    let now = Instant::now();
    let invite = layer.receive_now(now, arrival("INVITE", "d3"));
    let Some(TransactionEvent::Request { key, .. }) = invite.event else {
        panic!("an INVITE opens its transaction: {invite:?}");
    };
    assert!(layer.contains(&key));
    let cancel = layer.receive_now(now, arrival("CANCEL", "d3"));
    assert!(
        matches!(cancel.event, Some(TransactionEvent::Cancel { invite: Some(ref k), .. }) if *k == key),
        "{cancel:?}"
    );
    let options = layer.receive_now(now, arrival("OPTIONS", "d4"));
    assert!(matches!(
        options.event,
        Some(TransactionEvent::Request { .. })
    ));
}

// rfc3261_8_2_7: a stateless answer is a final one.
#[test]
fn rfc3261_8_2_7_a_deferred_request_takes_no_stateless_provisional() {
    let mut layer = register_layer();
    let now = Instant::now();
    let Some(TransactionEvent::Deferred { key, .. }) =
        layer.receive_now(now, arrival("REGISTER", "d5")).event
    else {
        panic!("deferred");
    };
    let ringing = answer("REGISTER", "d5", 180);
    assert!(matches!(
        layer.respond_deferred(&key, peer(), Transport::Udp, ringing),
        Err(TransactionError::NotFinal { status: 180 })
    ));
}
