//! Queues and forwarding end to end (HD-ROUTE-7, HD-LOGIN-10, HD-ROUTE-1 "busy / no
//! answer / unregistered fall to the user's forwarding", HD-LOGOUT-5), with the SIPp phones
//! and callers of `calls.rs` against the real binary.
//!
//! Covered: ring-all rings a User member on their hot desk and a Phone member at once,
//! the first answer wins and the other gets CANCEL; round-robin starts one member further
//! with every call, moves on after a member's ring time and after a busy member, and
//! answers 480 once every member was tried; an agent is not offered queue calls before their first sign-in and is
//! after; a busy desk, an unanswered desk and a user logged out of every desk each fall to
//! the forward destination (on-net, and off-net through the trunk). Every test waits for
//! the call and dialog gauges to return to 0.
//! A queue whose members all fail goes to its overflow number.
//! Not covered here: the spoken HD-LOGIN-10 notice (core `phone_menu` tests and the IVR
//! wiring in `ivr/decide.rs`).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::task::block_in_place;

use crate::calls::{
    add_trunk, call, login, logout, no_calls_left, patch_user, seed, skip, start, Phone, TrunkPeer,
    DOMAIN,
};
use crate::dialogs::received_header;
use crate::harness::Api;
use crate::peers::{self, eventually};

async fn queue(api: &Api, body: Value) -> Value {
    api.post(&format!("/domains/{DOMAIN}/queues"), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_7_ring_all_rings_user_on_hot_desk_and_phone_member_first_answer_wins() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    queue(
        &api,
        json!({ "extension": "7000", "name": "Sales", "strategy": "ring_all",
                "members": [{ "user": "1004" }, { "phone": "94003" }] }),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "ring-all");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let phone = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_ring_only.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "7000", "uac_invite.xml", 500));
    assert!(passed, "{trace}\n{}", server.output());
    assert_eq!(
        desk.received("INVITE"),
        1,
        "the User member's hot desk rang"
    );
    assert_eq!(phone.received("INVITE"), 1, "the Phone member rang");
    eventually(
        Duration::from_secs(10),
        "the CANCEL at the Phone member",
        || {
            let cancelled = phone.received("CANCEL") == 1;
            async move { cancelled.then_some(()) }
        },
    )
    .await;
    assert_eq!(desk.received("CANCEL"), 0, "the winner is not cancelled");
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_7_round_robin_starts_one_member_further_with_every_call() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94002", "1005").await;
    queue(
        &api,
        json!({ "extension": "7001", "name": "Support", "strategy": "round_robin",
                "ring_secs": 10, "members": [{ "phone": "94001" }, { "phone": "94003" }] }),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "round-robin");
    let first = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let second = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    for (n, expect) in [(1, [1, 0]), (2, [1, 1]), (3, [2, 1])] {
        let (passed, trace) =
            block_in_place(|| call(&server, &dir, "94002", "7001", "uac_invite.xml", 200));
        assert!(passed, "call {n}: {trace}\n{}", server.output());
        no_calls_left(&server).await;
        assert_eq!(
            [first.received("INVITE"), second.received("INVITE")],
            expect,
            "after call {n}: one member at a time, in turn"
        );
    }
}

/// RFC 3261 §8.1.1.4, §12, §8.2.2.2: every stage of a hunt is a new INVITE outside any
/// dialog, with its own Call-ID and From tag, so that a device ringing in two stages (or
/// a late answer of a cancelled stage) is not taken for the same request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_8_1_1_4_each_hunt_stage_has_its_own_call_id_and_from_tag() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94002", "1005").await;
    queue(
        &api,
        json!({ "extension": "7004", "name": "Stages", "strategy": "round_robin", "ring_secs": 5,
                "members": [{ "phone": "94001" }, { "phone": "94003" }] }),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "stage-call-ids");
    let silent = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_ring_only.xml"));
    let answers = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "7004", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    let first = received_header(&silent.messages(), "INVITE ", &["Call-ID", "From"]);
    let second = received_header(&answers.messages(), "INVITE ", &["Call-ID", "From"]);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(second.len(), 1, "{second:?}");
    let (first, second) = (&first[0], &second[0]);
    assert!(!first[0].is_empty(), "{first:?}");
    assert_ne!(first[0], second[0], "a new Call-ID for the second stage");
    let tag = |from: &str| from.split(";tag=").nth(1).unwrap_or_default().to_owned();
    assert!(!tag(&first[1]).is_empty(), "{first:?}");
    assert_ne!(tag(&first[1]), tag(&second[1]), "a new From tag");
    // The caller's own leg is neither of them (the legs are apart, HD-ROUTE-1).
    assert!(!trace.contains(&first[0]) && !trace.contains(&second[0]));
    no_calls_left(&server).await;
}

/// HD-ROUTE-7: round-robin moves on after a member's ring time and after a busy member,
/// and the caller gets 480 once every member was tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_7_round_robin_moves_on_after_ring_time_and_busy_then_480() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    queue(
        &api,
        json!({ "extension": "7003", "name": "Hunt", "strategy": "round_robin", "ring_secs": 5,
                "members": [{ "phone": "94001" }, { "phone": "94002" }, { "phone": "94003" }] }),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "round-robin-move-on");
    let silent = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_ring_only.xml"));
    let busy = block_in_place(|| Phone::start(&server, &dir, "94002", "uas_busy.xml"));
    let answers = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    // The caller is 1005 on their own credentials (a softphone).
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "1005", "7003", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    assert_eq!(silent.received("INVITE"), 1);
    assert_eq!(
        silent.received("CANCEL"),
        1,
        "cancelled after its ring time"
    );
    assert_eq!(busy.received("INVITE"), 1, "then the next member, busy");
    assert_eq!(answers.received("INVITE"), 1, "then the third, who answers");
    no_calls_left(&server).await;
    // Only the busy member left: every member tried, 480 (not the member's 486).
    let (status, body) = api
        .send(
            Method::PATCH,
            &format!("/domains/{DOMAIN}/queues/7003"),
            Some(&json!({ "members": [{ "phone": "94002" }] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "1005", "7003", "uac_invite_refused.xml", 0));
    assert!(refused && trace.contains("SIP/2.0 480"), "{trace}");
    assert_eq!(busy.received("INVITE"), 2);
    no_calls_left(&server).await;
}

/// HD-ROUTE-7: a queue whose members all fail (one busy, one unanswered until the ring
/// time, a user logged in nowhere) sends the call to its overflow number, here a user on a hot
/// desk; the caller sees neither the 486 nor a 480.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_7_queue_whose_members_all_fail_goes_to_its_overflow_number() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94003", "1006").await;
    queue(
        &api,
        json!({ "extension": "7004", "name": "Support", "strategy": "ring_all", "ring_secs": 5,
                "members": [{ "phone": "94001" }, { "phone": "94002" }, { "user": "1004" }],
                "overflow": "1006" }),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "overflow");
    let busy = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_busy.xml"));
    let silent = block_in_place(|| Phone::start(&server, &dir, "94002", "uas_ring_only.xml"));
    let overflow = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "1005", "7004", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    assert!(
        !trace.contains("SIP/2.0 486") && !trace.contains("SIP/2.0 480"),
        "the caller sees no member's failure: {trace}"
    );
    assert_eq!(busy.received("INVITE"), 1, "every member was tried");
    assert_eq!(silent.received("INVITE"), 1);
    assert_eq!(
        silent.received("CANCEL"),
        1,
        "cancelled after the ring time"
    );
    assert_eq!(
        overflow.received("INVITE"),
        1,
        "then the overflow number 1006 rang and answered"
    );
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_10_agent_gets_queue_calls_only_after_first_portal_sign_in() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    patch_user(&api, "1004", json!({ "agent": true })).await;
    // A phone log-in works for calls, but the agent has never signed in: offline.
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let user = api.get(&format!("/domains/{DOMAIN}/users/1004")).await;
    assert_eq!(user["queue_status"], "offline", "{user}");
    queue(
        &api,
        json!({ "extension": "7002", "name": "Agents", "members": [{ "user": "1004" }] }),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "agent");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "94002", "7002", "uac_invite_refused.xml", 0));
    assert!(refused && trace.contains("SIP/2.0 480"), "{trace}");
    assert_eq!(
        desk.received("INVITE"),
        0,
        "an offline agent is not offered the call"
    );
    // Calls to the agent's own number still ring the desk.
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 200));
    assert!(passed, "{trace}");
    assert_eq!(desk.received("INVITE"), 1);
    no_calls_left(&server).await;

    // First sign-in (extension + PIN, as the portal does): logged in, offered.
    let (status, body) = api
        .send(
            Method::POST,
            "/auth/login",
            Some(&json!({ "domain": DOMAIN, "extension": "1004", "pin": "2404" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = api.get(&format!("/domains/{DOMAIN}/users/1004")).await;
    assert_eq!(user["queue_status"], "logged_in", "{user}");
    let q = api.get(&format!("/domains/{DOMAIN}/queues/7002")).await;
    assert_eq!(q["members"][0]["queue_status"], "logged_in", "{q}");
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "7002", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    assert_eq!(desk.received("INVITE"), 2, "the agent now gets queue calls");
    no_calls_left(&server).await;
    // Logged out of the desk: `logged_out`, and no queue calls.
    logout(&api, "94001").await;
    let user = api.get(&format!("/domains/{DOMAIN}/users/1004")).await;
    assert_eq!(user["queue_status"], "logged_out", "{user}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_1_busy_desk_falls_to_the_users_forwarding() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    patch_user(&api, "1004", json!({ "forward_to": "1006" })).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    login(&api, "94003", "1006").await;
    let dir = peers::scratch(&server.dir(), "busy");
    let busy = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_busy.xml"));
    let other = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    assert!(
        !trace.contains("SIP/2.0 486"),
        "the caller never sees the busy: {trace}"
    );
    assert_eq!(busy.received("INVITE"), 1, "1004's desk was tried first");
    assert_eq!(
        other.received("INVITE"),
        1,
        "then the forward destination 1006"
    );
    no_calls_left(&server).await;
    // Without forwarding, busy stays busy.
    patch_user(&api, "1004", json!({ "forward_to": null })).await;
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite_refused.xml", 0));
    assert!(refused && trace.contains("SIP/2.0 486"), "{trace}");
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_1_no_answer_falls_to_forwarding_after_no_answer_secs() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    patch_user(
        &api,
        "1004",
        json!({ "forward_to": "1006", "no_answer_secs": 5 }),
    )
    .await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    login(&api, "94003", "1006").await;
    let dir = peers::scratch(&server.dir(), "no-answer");
    let ringing = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_ring_only.xml"));
    let other = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    assert_eq!(ringing.received("INVITE"), 1);
    eventually(Duration::from_secs(10), "the CANCEL at 1004's desk", || {
        let cancelled = ringing.received("CANCEL") == 1;
        async move { cancelled.then_some(()) }
    })
    .await;
    assert_eq!(other.received("INVITE"), 1, "the forward destination rang");
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_logout_5_unregistered_user_falls_to_off_net_forwarding_through_the_trunk() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    let dir = peers::scratch(&server.dir(), "unregistered");
    let trunk = block_in_place(|| TrunkPeer::start(&dir, "uas_answer.xml", &[]));
    add_trunk(&api, &format!("127.0.0.1:{}", trunk.port), None).await;
    patch_user(&api, "1004", json!({ "forward_to": "+15557770000" })).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 200));
    assert!(passed, "{trace}");
    assert_eq!(desk.received("INVITE"), 1, "logged in: the desk rings");
    no_calls_left(&server).await;
    // HD-LOGOUT-5: logged out of every desk and no personal phone registered: the
    // forwarding applies at once, off-net through the trunk.
    logout(&api, "94001").await;
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    assert_eq!(
        desk.received("INVITE"),
        1,
        "the released desk does not ring"
    );
    let upstream = trunk.messages();
    assert!(
        upstream.contains("INVITE sip:+15557770000@127.0.0.1"),
        "{upstream}"
    );
    no_calls_left(&server).await;
}
