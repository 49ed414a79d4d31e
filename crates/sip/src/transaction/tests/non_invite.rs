//! Non-INVITE transactions (RFC 3261 §17.1.2, §17.2.2).
//!
//! Covered: Timer E instants (0.5, 1, 2, 4, 4 s … over UDP) and Timer F timeout event at
//! 32 s; retransmission every T2 in Proceeding; server absorption in Trying and re-sending
//! of the last provisional / the final; client absorbs final retransmissions (delivered
//! once); Timers J and K end the transactions; an unanswered server transaction is dropped
//! after 64·T1; over TCP: no retransmission, J = K = 0;
//! custom T1/T2; a stateless final (§8.2.7) keeps nothing and a retransmission is new.
//! Not covered: T1 estimation from RTT (we use fixed values), 3xx–6xx differing from 2xx
//! (the machine treats all finals alike, by the RFC).

use std::time::Duration;

use super::harness::{request, Pair, Side};
use crate::header::Transport;
use crate::message::StatusCode;
use crate::transaction::{Outgoing, Timer, TimerConfig, TransactionEvent, TransactionKey};

fn is_timeout(e: &TransactionEvent) -> bool {
    matches!(e, TransactionEvent::Timeout { .. })
}

fn is_response(e: &TransactionEvent) -> bool {
    matches!(e, TransactionEvent::Response { .. })
}

fn is_terminated(e: &TransactionEvent) -> bool {
    matches!(e, TransactionEvent::Terminated { .. })
}

#[test]
fn rfc3261_17_1_2_2_timer_e_doubles_to_t2_then_timer_f_times_out() {
    let mut pair = Pair::new(Transport::Udp);
    let key = pair.uac_send(request("OPTIONS", "e1", Transport::Udp));
    // The UAS's TU never answers.
    pair.run_until(Duration::from_secs(40));
    let sent = pair.sent_at(Side::Uac, "OPTIONS");
    let expect = [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5];
    assert_eq!(sent, expect);
    let timeouts = pair.events(Side::Uac, is_timeout);
    assert_eq!(timeouts.len(), 1);
    assert_eq!(timeouts[0].0, 32.0);
    assert!(
        matches!(&timeouts[0].1, TransactionEvent::Timeout { key: k, timer: Timer::F } if *k == key)
    );
    assert!(!pair.uac.layer.contains(&key));
    // The server saw eleven copies and told its TU once.
    let requests = pair.events(Side::Uas, |e| matches!(e, TransactionEvent::Request { .. }));
    assert_eq!(requests.len(), 1);
    // Our guard drops the unanswered server transaction once the client has given up.
    let uas_end = pair.events(Side::Uas, is_terminated);
    assert_eq!(uas_end.len(), 1);
    assert_eq!(uas_end[0].0, 32.0);
}

#[test]
fn rfc3261_17_1_2_2_proceeding_retransmits_every_t2_and_server_resends_provisional() {
    let mut pair = Pair::new(Transport::Udp);
    let key = pair.uac_send(request("REGISTER", "p1", Transport::Udp));
    let server = pair.first_server_key();
    pair.uas_respond(&server, 100);
    pair.run_until(Duration::from_secs(10));
    // In Proceeding the client retransmits every T2 from the moment the 1xx came.
    assert_eq!(pair.sent_at(Side::Uac, "REGISTER"), [0.0, 4.0, 8.0]);
    // Each retransmission got the provisional again; the TU saw each (1xx are not absorbed).
    assert_eq!(pair.sent_at(Side::Uas, "SIP/2.0 100"), [0.0, 4.0, 8.0]);
    pair.uas_respond(&server, 200);
    pair.run_until(Duration::from_secs(60));
    let finals: Vec<_> = pair
        .events(Side::Uac, is_response)
        .into_iter()
        .filter(|(_, e)| {
            matches!(e, TransactionEvent::Response { response, .. }
            if response.message.as_response().is_some_and(|r| r.status().as_u16() == 200))
        })
        .collect();
    assert_eq!(finals.len(), 1);
    assert!(pair.events(Side::Uac, is_timeout).is_empty());
    assert!(!pair.uac.layer.contains(&key));
}

#[test]
fn rfc3261_17_2_2_lost_final_is_resent_on_retransmission_and_absorbed_by_client() {
    let mut pair = Pair::new(Transport::Udp);
    let mut finals_seen = 0;
    // Lose the first 200 OK only.
    pair.set_loss(move |w| {
        if w.start_line().starts_with("SIP/2.0 200") {
            finals_seen += 1;
            return finals_seen == 1;
        }
        false
    });
    let key = pair.uac_send(request("OPTIONS", "l1", Transport::Udp));
    let server = pair.first_server_key();
    pair.uas_respond(&server, 200);
    pair.run_until(Duration::from_secs(2));
    assert_eq!(pair.sent_at(Side::Uac, "OPTIONS"), [0.0, 0.5]);
    assert_eq!(pair.sent_at(Side::Uas, "SIP/2.0 200"), [0.0, 0.5]);
    assert_eq!(pair.events(Side::Uac, is_response).len(), 1);
    // Timer K (T4 = 5 s) ends the client 5 s after the final; Timer J (64·T1) the server
    // 32 s after it sent the final, silently (no TU holds an answered server transaction).
    pair.run_until(Duration::from_secs(31));
    assert!(pair.uas.layer.contains(&server));
    assert_eq!(pair.uas.layer.stats().transactions, 1);
    pair.run_until(Duration::from_secs(40));
    let uac_end = pair.events(Side::Uac, is_terminated);
    assert_eq!(uac_end.len(), 1);
    assert_eq!(uac_end[0].0, 5.5);
    assert!(pair.events(Side::Uas, is_terminated).is_empty());
    assert!(!pair.uas.layer.contains(&server));
    assert!(!pair.uac.layer.contains(&key));
    assert_eq!(pair.uas.layer.stats().transactions, 0);
}

// rfc3261_17_2_2: a completed server non-INVITE transaction over UDP keeps only its final
// response: a second final is refused as before, a retransmission gets the stored bytes
// until Timer J and opens a new transaction after it, and a transport failure ends it.
#[test]
fn rfc3261_17_2_2_completed_keeps_the_final_until_timer_j() {
    use std::time::Instant;

    use crate::transaction::{Input, Received, TransactionError, TransactionLayer};

    let mut layer = TransactionLayer::default();
    let start = Instant::now();
    let received = || Received {
        message: request("OPTIONS", "cj1", Transport::Udp).into(),
        source: "192.0.2.1:5060".parse().unwrap(),
        transport: Transport::Udp,
    };
    let Some(TransactionEvent::Request { key, .. }) = layer.receive_now(start, received()).event
    else {
        panic!("a new request is handed back");
    };
    let ok = request("OPTIONS", "cj1", Transport::Udp)
        .response(StatusCode::OK)
        .to_tag("t1")
        .build();
    let sent = layer.respond_now(start, &key, &ok, false).unwrap();
    let first = sent.transmit.expect("the 200 is sent").bytes;
    assert_eq!(
        layer.respond_now(start, &key, &ok, false).unwrap_err(),
        TransactionError::AlreadyFinal { status: 200 }
    );
    assert_eq!(
        layer.respond_now(start, &key, &ok, true).unwrap_err(),
        TransactionError::AlreadyFinal { status: 200 }
    );
    let later = start + Duration::from_secs(31);
    let again = layer.receive_now(later, received());
    assert!(again.event.is_none());
    assert_eq!(again.transmit.expect("the stored 200").bytes, first);
    // Timer J has passed: the request is new again.
    let after = start + Duration::from_secs(33);
    assert!(matches!(
        layer.poll_output(after),
        crate::transaction::Output::Timeout(_)
    ));
    assert!(!layer.contains(&key));
    assert_eq!(layer.stats().transactions, 0);
    let reopened = layer.receive_now(after, received());
    assert!(matches!(
        reopened.event,
        Some(TransactionEvent::Request { .. })
    ));
    // rfc3261_17_2_4: a transport failure ends a completed transaction at once.
    layer.respond_now(after, &key, &ok, false).unwrap();
    layer
        .handle(after, Input::TransportFailed(key.clone()))
        .unwrap();
    assert!(!layer.contains(&key));
    let mut ended = Vec::new();
    while let crate::transaction::Output::Event(e) = layer.poll_output(after) {
        ended.push(e);
    }
    assert!(matches!(
        ended.as_slice(),
        [
            TransactionEvent::TransportError { .. },
            TransactionEvent::Terminated { .. }
        ]
    ));
    assert_eq!(
        layer.handle(after, Input::TransportFailed(key)),
        Err(TransactionError::NoTransaction)
    );
}

#[test]
fn rfc3261_17_1_2_2_reliable_transport_no_retransmission_and_zero_k_j() {
    let mut pair = Pair::new(Transport::Tcp);
    let key = pair.uac_send(request("OPTIONS", "t1", Transport::Tcp));
    pair.run_until(Duration::from_secs(10));
    assert_eq!(pair.sent_at(Side::Uac, "OPTIONS"), [0.0]);
    let server = pair.first_server_key();
    pair.uas_respond(&server, 200);
    // Timers K and J are zero over TCP: both transactions end at once.
    let uac_end = pair.events(Side::Uac, is_terminated);
    assert_eq!(uac_end.len(), 1);
    assert_eq!(uac_end[0].0, 10.0);
    assert_eq!(pair.events(Side::Uas, is_terminated).len(), 1);
    assert!(!pair.uac.layer.contains(&key));
    // Timer F still bounds a request that is never answered.
    let mut pair = Pair::new(Transport::Tcp);
    pair.uac_send(request("OPTIONS", "t2", Transport::Tcp));
    pair.run_until(Duration::from_secs(40));
    assert_eq!(pair.sent_at(Side::Uac, "OPTIONS"), [0.0]);
    let timeouts = pair.events(Side::Uac, is_timeout);
    assert_eq!(timeouts.len(), 1);
    assert_eq!(timeouts[0].0, 32.0);
}

#[test]
fn rfc3261_17_1_1_1_configured_t1_t2_scale_the_timers() {
    let timers = TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_millis(400),
        ..TimerConfig::default()
    };
    let mut pair = Pair::with_timers(Transport::Udp, timers);
    pair.uac_send(request("OPTIONS", "c1", Transport::Udp));
    pair.run_until(Duration::from_secs(10));
    let sent = pair.sent_at(Side::Uac, "OPTIONS");
    let gaps: Vec<u64> = sent
        .windows(2)
        .map(|w| ((w[1] - w[0]) * 1000.0).round() as u64)
        .collect();
    assert_eq!(&gaps[..5], [100, 200, 400, 400, 400]);
    let timeouts = pair.events(Side::Uac, is_timeout);
    assert_eq!(timeouts.len(), 1);
    // Timer F = 64·T1 = 6.4 s.
    assert!((timeouts[0].0 - 6.4).abs() < 1e-9);
}

/// RFC 3261 §8.2.7: a challenge sent statelessly ends the server transaction at once; the
/// lost 401's retransmitted request opens a new transaction and reaches the TU again, and
/// nothing is left in the table.
#[test]
fn rfc3261_8_2_7_stateless_final_keeps_no_state_and_retransmission_is_a_new_request() {
    let mut pair = Pair::new(Transport::Udp);
    let mut challenges_seen = 0;
    // Lose the first 401 only.
    pair.set_loss(move |w| {
        if w.start_line().starts_with("SIP/2.0 401") {
            challenges_seen += 1;
            return challenges_seen == 1;
        }
        false
    });
    pair.uac_send(request("REGISTER", "s1", Transport::Udp));
    let answer = |pair: &mut Pair, key: &TransactionKey| {
        let response = pair
            .uas_request(key)
            .response(StatusCode::new(401).unwrap())
            .to_tag("stateless")
            .build();
        pair.send(
            Side::Uas,
            Outgoing::StatelessResponse {
                key: key.clone(),
                response,
            },
        )
    };
    let first = pair.first_server_key();
    assert!(answer(&mut pair, &first).is_ok());
    assert_eq!(pair.uas.layer.stats().transactions, 0, "no state kept");
    assert!(!pair.uas.layer.contains(&first));
    // Timer E retransmits the REGISTER at 0.5 s: a new request for the TU.
    pair.run_until(Duration::from_millis(600));
    let requests = pair.events(Side::Uas, |e| matches!(e, TransactionEvent::Request { .. }));
    assert_eq!(requests.len(), 2);
    assert!(answer(&mut pair, &first).is_ok());
    pair.run_until(Duration::from_secs(2));
    // Only the TU's two answers went out (the second when it answered, at 0.6 s): the layer
    // retransmits nothing.
    assert_eq!(pair.sent_at(Side::Uas, "SIP/2.0 401"), [0.0, 0.6]);
    assert_eq!(pair.events(Side::Uac, is_response).len(), 1);
    assert_eq!(pair.uas.layer.stats().transactions, 0);
    // A provisional cannot end a transaction this way.
    pair.uac_send(request("OPTIONS", "s2", Transport::Udp));
    let key = pair
        .events(Side::Uas, |e| matches!(e, TransactionEvent::Request { .. }))
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            TransactionEvent::Request { key, .. } => Some(key.clone()),
            _ => None,
        })
        .unwrap();
    let trying = pair
        .uas_request(&key)
        .response(StatusCode::new(180).unwrap())
        .build();
    let refused = pair.send(
        Side::Uas,
        Outgoing::StatelessResponse {
            key: key.clone(),
            response: trying,
        },
    );
    assert_eq!(
        refused,
        Err(crate::transaction::TransactionError::NotFinal { status: 180 })
    );
    assert!(pair.uas.layer.contains(&key));
}

// rfc3261_17_2_2: a request fed from the reader's task (`receive_now`) opens the same
// server transaction as the queued path; its retransmission after the final response gets
// the stored response back as the one transmit, and nothing is left queued.
#[test]
fn rfc3261_17_2_2_receive_now_opens_and_absorbs_like_the_queued_path() {
    use std::time::Instant;

    use crate::transaction::{Received, TransactionLayer};

    let mut layer = TransactionLayer::default();
    let now = Instant::now();
    let received = || Received {
        message: request("REGISTER", "rn1", Transport::Udp).into(),
        source: "192.0.2.1:5060".parse().unwrap(),
        transport: Transport::Udp,
    };
    let arrival = layer.receive_now(now, received());
    let Some(TransactionEvent::Request { key, .. }) = arrival.event else {
        panic!("a new request is handed back: {arrival:?}");
    };
    assert!(arrival.transmit.is_none());
    assert!(layer.contains(&key));
    // Absorbed while unanswered: no event, nothing to send.
    let again = layer.receive_now(now, received());
    assert!(again.event.is_none() && again.transmit.is_none());
    let ok = request("REGISTER", "rn1", Transport::Udp)
        .response(StatusCode::OK)
        .to_tag("t1")
        .build();
    let sent = layer.respond_now(now, &key, &ok, false).unwrap();
    assert!(sent.transmit.is_some());
    let retransmitted = layer.receive_now(now, received());
    assert!(retransmitted.event.is_none());
    let stored = retransmitted.transmit.expect("the stored 200 is re-sent");
    assert!(stored.bytes.starts_with(b"SIP/2.0 200"));
    assert!(layer.stats().retransmissions >= 1);
}
