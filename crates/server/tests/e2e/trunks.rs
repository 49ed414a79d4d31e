//! Trunks through the B2BUA, end to end (HD-ROUTE-9): a trunk that challenges gets digest
//! credentials, for a dialled number and for a call forwarded off-net in a later stage; a
//! trunk named by a DNS name is located per RFC 3263 (`localhost` through /etc/hosts, and
//! NAPTR, SRV and A records of a DNS server the test runs, `dns.rs`, over UDP or TCP as the
//! NAPTR offers); a trunk's call from another port of its IP is taken as inbound; and a
//! trunk that is down (503, or silent until Timer B) is a clear failure for the caller.
//! SIPp plays the desks, the callers and the trunks; every test waits for the call and
//! dialog gauges to return to 0.

use std::net::Ipv4Addr;
use std::path::Path;

use hickory_resolver::proto::rr::RecordType;
use serde_json::json;
use tokio::task::block_in_place;

use crate::calls::{
    add_trunk, call, first_invite, login, no_calls_left, patch_user, seed, skip, start, Phone,
    TrunkPeer,
};
use crate::dialogs;
use crate::dns::{Answer, DnsServer};
use crate::harness::{Api, Server};
use crate::peers::{self, free_port, SippRun};

/// `caller` dials `callee`, holding an answered call 200 ms.
fn dial(server: &Server, dir: &Path, caller: &str, callee: &str, xml: &str) -> SippRun {
    dialogs::dial(server, dir, caller, callee, xml, &["-d", "200"])
}

/// The domain's trunk: a SIPp peer that challenges the INVITE and answers 403 unless its
/// verifyauth accepts our digest for `trunkuser` / `Trunk-Secret-42`.
async fn challenging_trunk(api: &Api, dir: &Path) -> TrunkPeer {
    let keys = [
        "-key",
        "user",
        "trunkuser",
        "-key",
        "pass",
        "Trunk-Secret-42",
    ];
    let trunk = TrunkPeer::start(dir, "uas_trunk_auth.xml", &keys);
    let address = format!("127.0.0.1:{}", trunk.port);
    add_trunk(api, &address, Some(("trunkuser", "Trunk-Secret-42"))).await;
    trunk
}

/// Bob (1005) logged in at desk 94002, the off-net caller of these tests.
async fn bob_at_his_desk(server: &Server) -> Api {
    let api = server.api();
    seed(&api).await;
    login(&api, "94002", "1005").await;
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_9_challenging_trunk_gets_digest_credentials() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = bob_at_his_desk(&server).await;
    let dir = peers::scratch(&server.dir(), "trunk-auth");
    let trunk = challenging_trunk(&api, &dir).await;
    // The trunk answers 403 unless SIPp's verifyauth accepts our digest response.
    let run = block_in_place(|| dial(&server, &dir, "94002", "+15551234567", "uac_invite.xml"));
    assert!(
        run.passed(),
        "{}\n{}\n{}",
        run.messages,
        trunk.messages(),
        server.output()
    );
    let at_trunk = trunk.messages();
    assert!(
        at_trunk.contains("Authorization: Digest username=\"trunkuser\""),
        "{at_trunk}"
    );
    assert!(
        at_trunk.contains("CSeq: 2 INVITE"),
        "retried with the next CSeq: {at_trunk}"
    );
    drop(trunk.peer);
    no_calls_left(&server).await;
}

/// HD-ROUTE-1 + HD-ROUTE-9: a call that falls to an off-net forward destination in a later
/// stage (1004's desk is busy) goes out through the trunk with the trunk's credentials
/// too, like a dialled off-net number: the trunk challenges, the retry carries them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_9_forwarded_call_through_a_challenging_trunk_gets_digest_credentials() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = bob_at_his_desk(&server).await;
    patch_user(&api, "1004", json!({ "forward_to": "+15557770000" })).await;
    login(&api, "94001", "1004").await;
    let dir = peers::scratch(&server.dir(), "trunk-forward-auth");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_busy.xml"));
    let trunk = challenging_trunk(&api, &dir).await;
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 200));
    let at_trunk = trunk.messages();
    assert!(passed, "{trace}\n{at_trunk}\n{}", server.output());
    assert_eq!(desk.received("INVITE"), 1, "1004's desk was tried first");
    assert!(
        at_trunk.contains("INVITE sip:+15557770000@127.0.0.1"),
        "{at_trunk}"
    );
    assert!(
        at_trunk.contains("Authorization: Digest username=\"trunkuser\""),
        "{at_trunk}"
    );
    drop(trunk.peer);
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3263_trunk_given_by_name_is_resolved_without_blocking_calls() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = bob_at_his_desk(&server).await;
    let dir = peers::scratch(&server.dir(), "trunk-dns");
    let trunk = TrunkPeer::start(&dir, "uas_answer.xml", &[]);
    // `localhost` resolves through /etc/hosts (A record path of RFC 3263 §4.2: a port is
    // given, so no NAPTR/SRV); the first call waits for the answer, parked, not refused.
    add_trunk(&api, &format!("localhost:{}", trunk.port), None).await;
    let run = block_in_place(|| dial(&server, &dir, "94002", "+15551234567", "uac_invite.xml"));
    assert!(run.passed(), "{}\n{}", run.messages, server.output());
    let invite = first_invite(&trunk.messages());
    assert!(
        invite.contains(&format!(
            "INVITE sip:+15551234567@localhost:{} ",
            trunk.port
        )),
        "{invite}"
    );
    drop(trunk.peer);
    no_calls_left(&server).await;
}

/// RFC 3263 §4.1–4.2 over real DNS messages: a trunk named without a port is located by
/// NAPTR (SIP+D2U), then SRV (lowest priority first), then A, asked of the site's own DNS
/// server (`HOTDESK_DNS_SERVERS`), and the call reaches the SRV target's port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3263_trunk_name_is_located_by_naptr_srv_and_a_on_the_configured_dns_server() {
    if skip() {
        return;
    }
    call_trunk_named_in_dns("SIP+D2U", "_sip._udp.trunk.test.", &[]).await;
}

/// RFC 3263 §4.1: a NAPTR record offering only TCP (SIP+D2T) puts the trunk leg on TCP;
/// the SIPp trunk listens on TCP only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3263_trunk_whose_naptr_offers_tcp_gets_the_call_over_tcp() {
    if skip() {
        return;
    }
    let invite = call_trunk_named_in_dns("SIP+D2T", "_sip._tcp.trunk.test.", &["-t", "t1"]).await;
    assert!(invite.contains("Via: SIP/2.0/TCP "), "{invite}");
}

/// Bob dials an off-net number; the domain's trunk is `trunk.test`, whose NAPTR names
/// `service` → SRV `srv` (with its trailing dot; priority 10: the SIPp trunk, priority 20:
/// nobody) → A records, served by a DNS server of the test's. Returns the INVITE the trunk
/// received.
async fn call_trunk_named_in_dns(
    service: &'static str,
    srv: &'static str,
    sipp: &[&str],
) -> String {
    let trunk_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let trunk = TrunkPeer::start(trunk_dir.path(), "uas_answer.xml", sipp);
    let dns = DnsServer::start(vec![
        (
            "trunk.test.",
            Answer::Naptr {
                order: 10,
                service,
                replacement: srv,
            },
        ),
        (
            srv,
            Answer::Srv {
                priority: 20,
                port: free_port(),
                target: "pbx-b.trunk.test.",
            },
        ),
        (
            srv,
            Answer::Srv {
                priority: 10,
                port: trunk.port,
                target: "pbx-a.trunk.test.",
            },
        ),
        ("pbx-a.trunk.test.", Answer::A(Ipv4Addr::LOCALHOST)),
        ("pbx-b.trunk.test.", Answer::A(Ipv4Addr::new(127, 0, 0, 2))),
    ])
    .await;
    let server = start(&[("HOTDESK_DNS_SERVERS", &dns.addr.to_string())]);
    let api = bob_at_his_desk(&server).await;
    let dir = peers::scratch(&server.dir(), "trunk-naptr");
    add_trunk(&api, "trunk.test", None).await;
    let run = block_in_place(|| dial(&server, &dir, "94002", "+15551230000", "uac_invite.xml"));
    let asked = dns.asked();
    assert!(
        run.passed(),
        "{}\nasked: {asked:?}\ntrunk: {}\n{}",
        run.messages,
        trunk.messages(),
        server.output()
    );
    let invite = first_invite(&trunk.messages());
    assert!(
        invite.starts_with("INVITE sip:+15551230000@trunk.test"),
        "{invite}"
    );
    for (name, kind) in [
        ("trunk.test", RecordType::NAPTR),
        (srv.trim_end_matches('.'), RecordType::SRV),
        ("pbx-a.trunk.test", RecordType::A),
    ] {
        assert!(
            asked.iter().any(|(n, k)| n == name && *k == kind),
            "{name} {kind} not asked: {asked:?}"
        );
    }
    drop(trunk.peer);
    no_calls_left(&server).await;
    invite
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_9_inbound_call_from_another_port_of_the_trunks_ip_is_a_trunk_call() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    patch_user(&api, "1004", json!({ "did": "+15550001004" })).await;
    login(&api, "94001", "1004").await;
    // The trunk sends to us from a port other than the one we send to (its address).
    add_trunk(&api, &format!("127.0.0.1:{}", free_port()), None).await;
    let dir = peers::scratch(&server.dir(), "trunk-in");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let run = block_in_place(|| dial(&server, &dir, "5550123", "+15550001004", "uac_invite.xml"));
    assert!(run.passed(), "{}\n{}", run.messages, server.output());
    assert!(
        !run.messages.contains("SIP/2.0 401"),
        "a trunk is not challenged"
    );
    let invite = first_invite(&desk.messages());
    assert!(
        invite.contains("<sip:5550123@"),
        "caller passed through: {invite}"
    );
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_trunk_down_503_reaches_the_caller_as_a_clear_failure() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = bob_at_his_desk(&server).await;
    let dir = peers::scratch(&server.dir(), "trunk-503");
    let trunk = TrunkPeer::start(&dir, "uas_unavailable.xml", &[]);
    add_trunk(&api, &format!("127.0.0.1:{}", trunk.port), None).await;
    let run = block_in_place(|| {
        dial(
            &server,
            &dir,
            "94002",
            "+15551234567",
            "uac_invite_refused.xml",
        )
    });
    assert!(run.passed(), "{}\n{}", run.messages, server.output());
    assert!(run.messages.contains("SIP/2.0 503"), "{}", run.messages);
    drop(trunk.peer);
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_silent_trunk_ends_in_408_for_the_caller_after_timer_b() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = bob_at_his_desk(&server).await;
    let dir = peers::scratch(&server.dir(), "trunk-silent");
    // Nobody listens there: no answer at all, until Timer B (64·T1, RFC 3261 §17.1.1.2).
    add_trunk(&api, &format!("127.0.0.1:{}", free_port()), None).await;
    let run = block_in_place(|| {
        dialogs::dial(
            &server,
            &dir,
            "94002",
            "+15551234567",
            "uac_invite_refused.xml",
            &["-timeout", "55s"],
        )
    });
    assert!(run.passed(), "{}\n{}", run.messages, server.output());
    assert!(run.messages.contains("SIP/2.0 408"), "{}", run.messages);
    no_calls_left(&server).await;
}
