//! Message waiting end to end (HD-MWI-1, RFC 3842, RFC 6665): a SIPp phone subscribes to
//! message-summary as the hot desk (digest auth), and its NOTIFYs follow the desk's owner —
//! free desk (the anchor extension's own box, `PUT …/devices/{ext}/mailbox`), user A with 2
//! new messages logs in, A logs out (the anchor's box again), user B logs in, B's mailbox
//! changes — then it unsubscribes and gets a terminated NOTIFY; and the subscription
//! outlives a server restart (kept in the store); and an external voicemail server's
//! NOTIFY changes a user's or the anchor's mailbox only from the configured trust.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::task::block_in_place;

use crate::harness::{Api, Options, Server};
use crate::peers::{self, eventually, users_csv, Sipp, SippRun};

const DOMAIN: &str = "acme.test";
const DEVICE: &str = "94001";
const PASSWORD: &str = "Device-pass-1";

/// `Voice-Message` values of the NOTIFYs the phone received, in order, with their
/// Subscription-State.
fn notifies(trace: &str) -> Vec<(String, String)> {
    trace
        .split("----------------------------------------------- ")
        .filter(|m| m.contains("message received") && m.contains("NOTIFY sip:"))
        .map(|m| {
            let value = |name: &str| {
                m.lines()
                    .find_map(|l| l.trim().strip_prefix(name))
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default()
            };
            let state = value("Subscription-State:");
            let state = state.split(';').next().unwrap_or_default().to_owned();
            (value("Voice-Message:"), state)
        })
        .collect()
}

async fn mwi_state(api: &Api) -> serde_json::Value {
    api.get(&format!("/domains/{DOMAIN}/devices/{DEVICE}/mwi"))
        .await
}

/// The subscriber's run, once it ended; it must have passed.
async fn finished(run: tokio::task::JoinHandle<SippRun>) -> SippRun {
    let result = run.await.expect("SIPp thread");
    assert!(
        result.passed(),
        "SIPp failed:\n{}\n{}",
        result.output,
        result.messages
    );
    result
}

/// Waits until the device's subscription is known to the server.
async fn subscribed(api: &Api) {
    eventually(Duration::from_secs(20), "the subscription", || {
        let api = api.clone();
        async move {
            let state = mwi_state(&api).await;
            (state["subscriptions"]
                .as_array()
                .is_some_and(|s| !s.is_empty()))
            .then_some(())
        }
    })
    .await;
}

async fn shows(api: &Api, new: u32, old: u32) {
    eventually(Duration::from_secs(10), "the device's mailbox", || {
        let api = api.clone();
        async move {
            let state = mwi_state(&api).await;
            (state["new"] == new && state["old"] == old).then_some(())
        }
    })
    .await;
    // The NOTIFY leaves from the notifier task right after the change; give it its turn.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_mwi_1_subscriber_on_a_hot_desk_follows_the_owner() {
    if !peers::available("sipp") {
        return;
    }
    let server = block_in_place(Server::start);
    let api = server.api();
    crate::prov::office(&api).await;
    // The desk's anchor extension has a box of its own: what the free desk shows.
    api.send(
        Method::PUT,
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/mailbox"),
        Some(&json!({"new": 1, "old": 0})),
    )
    .await;
    api.send(
        Method::PUT,
        &format!("/domains/{DOMAIN}/users/1004/mailbox"),
        Some(&json!({"new": 2, "old": 1})),
    )
    .await;
    api.send(
        Method::PUT,
        &format!("/domains/{DOMAIN}/users/1005/mailbox"),
        Some(&json!({"new": 0, "old": 4})),
    )
    .await;

    let target = server.sip_udp.expect("SIP/UDP");
    let mut sipp = Sipp::new(
        target,
        "subscribe_mwi.xml",
        DOMAIN,
        users_csv([(DEVICE, PASSWORD)]),
    );
    sipp.calls = 1;
    let dir = peers::scratch(&server.dir(), "mwi");
    // The subscriber holds for 12 s (-d) with -aa answering the NOTIFYs meanwhile.
    let run = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || sipp.run_with(&dir, &["-d", "12000", "-aa"]))
    };
    subscribed(&api).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let login = |user: &'static str| {
        let api = api.clone();
        async move {
            api.post(
                &format!("/domains/{DOMAIN}/devices/{DEVICE}/login"),
                json!({ "extension": user }),
            )
            .await;
        }
    };
    login("1004").await;
    shows(&api, 2, 1).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/logout"),
        json!({}),
    )
    .await;
    shows(&api, 1, 0).await;
    login("1005").await;
    shows(&api, 0, 4).await;
    api.send(
        Method::PUT,
        &format!("/domains/{DOMAIN}/users/1005/mailbox"),
        Some(&json!({"new": 1, "old": 4})),
    )
    .await;
    shows(&api, 1, 4).await;

    let result = finished(run).await;
    // The first NOTIFY, logged by the scenario: a free desk shows the anchor's own box.
    assert!(
        result
            .logs
            .contains("NOTIFY 94001 state=active waiting=yes voice=1/0"),
        "{}",
        result.logs
    );
    let seen = notifies(&result.messages);
    let voices: Vec<&str> = seen.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(
        voices,
        [
            "1/0 (0/0)",
            "2/1 (0/0)",
            "1/0 (0/0)",
            "0/4 (0/0)",
            "1/4 (0/0)",
            "1/4 (0/0)"
        ],
        "{}",
        result.messages
    );
    assert!(seen[..5].iter().all(|(_, state)| state == "active"));
    assert_eq!(
        seen[5].1, "terminated",
        "unsubscribe ends with a terminated NOTIFY"
    );
    assert!(result.messages.contains("Messages-Waiting: yes"));
    // Gone after the unsubscribe.
    let state = mwi_state(&api).await;
    assert_eq!(state["subscriptions"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_mwi_1_subscription_survives_a_server_restart() {
    if !peers::available("sipp") {
        return;
    }
    let mut server = block_in_place(|| {
        Server::with(Options {
            keep_ports: true,
            ..Options::default()
        })
    });
    let api = server.api();
    crate::prov::office(&api).await;
    api.send(
        Method::PUT,
        &format!("/domains/{DOMAIN}/users/1004/mailbox"),
        Some(&json!({"new": 2, "old": 1})),
    )
    .await;
    let mut sipp = Sipp::new(
        server.sip_udp.expect("SIP/UDP"),
        "subscribe_mwi.xml",
        DOMAIN,
        users_csv([(DEVICE, PASSWORD)]),
    );
    sipp.calls = 1;
    let dir = peers::scratch(&server.dir(), "mwi-restart");
    let run = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || sipp.run_with(&dir, &["-d", "15000", "-aa"]))
    };
    subscribed(&api).await;
    // The subscription is written in the background; let it land, then restart.
    tokio::time::sleep(Duration::from_millis(500)).await;
    block_in_place(|| server.restart());
    let api = server.api();
    let state = mwi_state(&api).await;
    assert_eq!(
        state["subscriptions"].as_array().map(Vec::len),
        Some(1),
        "{state}"
    );
    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/login"),
        json!({ "extension": "1004" }),
    )
    .await;
    shows(&api, 2, 1).await;

    let result = finished(run).await;
    let seen = notifies(&result.messages);
    let voices: Vec<&str> = seen.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(
        voices,
        ["0/0 (0/0)", "2/1 (0/0)", "2/1 (0/0)"],
        "{}",
        result.messages
    );
    assert_eq!(seen[2].1, "terminated");
}

/// A voicemail server run: SIPp sends one message-summary NOTIFY for `user` with counts
/// `new/old` from `ip`; returns the answer's status line.
fn voicemail_notify(server: &Server, ip: &str, user: &str, new: &str, old: &str) -> String {
    let sipp = Sipp::new(
        server.sip_udp.expect("SIP/UDP"),
        "voicemail_notify.xml",
        DOMAIN,
        format!("SEQUENTIAL\n{user};{new};{old}\n"),
    );
    let dir = peers::scratch(&server.dir(), "voicemail");
    // A later `-i` wins over the harness's 127.0.0.1: 127.0.0.x are all loopback.
    let run = sipp.run_with(&dir, &["-i", ip]);
    assert!(
        run.passed(),
        "SIPp failed:\n{}\n{}",
        run.output,
        run.messages
    );
    run.messages
        .split("----------------------------------------------- ")
        .filter(|m| m.contains("message received"))
        .filter_map(|m| m.lines().find(|l| l.starts_with("SIP/2.0 ")))
        .map(str::to_owned)
        .find(|l| !l.starts_with("SIP/2.0 100"))
        .unwrap_or_else(|| panic!("no final answer:\n{}", run.messages))
}

async fn mailbox_of(api: &Api, user: &str) -> (u64, u64) {
    let user = api.get(&format!("/domains/{DOMAIN}/users/{user}")).await;
    let count = |k: &str| user["mailbox"][k].as_u64().unwrap_or(u64::MAX);
    (count("new"), count("old"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_mwi_1_voicemail_server_notify_on_the_trust_reaches_the_desk() {
    if !peers::available("sipp") {
        return;
    }
    let server = block_in_place(|| {
        Server::with(Options {
            env: vec![("HOTDESK_VOICEMAIL_TRUST".into(), "127.0.0.1/32,::1".into())],
            ..Options::default()
        })
    });
    let api = server.api();
    crate::prov::office(&api).await;
    let mut subscriber = Sipp::new(
        server.sip_udp.expect("SIP/UDP"),
        "subscribe_mwi.xml",
        DOMAIN,
        users_csv([(DEVICE, PASSWORD)]),
    );
    subscriber.calls = 1;
    let dir = peers::scratch(&server.dir(), "mwi-voicemail");
    let run =
        tokio::task::spawn_blocking(move || subscriber.run_with(&dir, &["-d", "14000", "-aa"]));
    subscribed(&api).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/login"),
        json!({ "extension": "1004" }),
    )
    .await;
    shows(&api, 0, 0).await;

    // Outside the trust: refused, nothing changes.
    let answer = block_in_place(|| voicemail_notify(&server, "127.0.0.2", "1004", "5", "0"));
    assert_eq!(answer, "SIP/2.0 403 Source Not Trusted");
    assert_eq!(mailbox_of(&api, "1004").await, (0, 0));
    // On the trust: the mailbox is set and the desk where 1004 is logged in hears of it.
    let answer = block_in_place(|| voicemail_notify(&server, "127.0.0.1", "1004", "2", "1"));
    assert_eq!(answer, "SIP/2.0 200 OK");
    assert_eq!(mailbox_of(&api, "1004").await, (2, 1));
    shows(&api, 2, 1).await;
    // A user the domain does not have.
    let answer = block_in_place(|| voicemail_notify(&server, "127.0.0.1", "1099", "1", "0"));
    assert_eq!(answer, "SIP/2.0 404 Unknown Mailbox");
    // A body that is not RFC 3842: refused, naming the problem; the mailbox stays.
    let answer = block_in_place(|| voicemail_notify(&server, "127.0.0.1", "1004", "two", "1"));
    assert_eq!(answer, "SIP/2.0 400 Bad Voice-Message");
    assert_eq!(mailbox_of(&api, "1004").await, (2, 1));
    // The desk's anchor extension: its own box, kept while 1004 sits there (no NOTIFY),
    // shown once the desk is free.
    let answer = block_in_place(|| voicemail_notify(&server, "127.0.0.1", DEVICE, "3", "0"));
    assert_eq!(answer, "SIP/2.0 200 OK");
    let device = api
        .get(&format!("/domains/{DOMAIN}/devices/{DEVICE}"))
        .await;
    assert_eq!(device["mailbox"], json!({"new": 3, "old": 0}));
    shows(&api, 2, 1).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/logout"),
        json!({}),
    )
    .await;
    shows(&api, 3, 0).await;

    let result = finished(run).await;
    let seen = notifies(&result.messages);
    let voices: Vec<&str> = seen.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(
        voices,
        [
            "0/0 (0/0)",
            "0/0 (0/0)",
            "2/1 (0/0)",
            "3/0 (0/0)",
            "3/0 (0/0)"
        ],
        "subscribe, log-in, the voicemail server's change, log-out to the anchor's box \
         (set while hidden), unsubscribe:\n{}",
        result.messages
    );
}
