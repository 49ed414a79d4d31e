//! Inside a call through the B2BUA, end to end (issue 5 "Dialogs and B2BUA"): re-INVITE from
//! either side (RFC 3261 §14), reliable provisionals and PRACK (RFC 3262), UPDATE before
//! the answer (RFC 3311), session timers with 422 and the reaping of a session nobody
//! refreshes (RFC 4028). SIPp plays the caller
//! and the callee's registered desk over loopback; the scenarios check the SIP details
//! (SDP versions, RSeq/RAck, Session-Expires) and the tests the traces. Every test waits
//! for the call and dialog gauges in `/metrics` to return to 0 (no leaked dialog).

use std::path::Path;

use tokio::task::block_in_place;

use crate::calls::{
    cdrs, first_invite, login, no_calls_left, pw, seed, skip, start, Phone, DOMAIN,
};
use crate::harness::Server;
use crate::peers::{self, eventually, users_csv, Sipp, SippRun};

/// One SIPp caller run: `caller` (a desk, or any name with a throw-away password) dials
/// `callee` with `xml` and `extra` arguments.
pub(crate) fn dial(
    server: &Server,
    dir: &Path,
    caller: &str,
    callee: &str,
    xml: &str,
    extra: &[&str],
) -> SippRun {
    let target = server.sip_udp.expect("SIP/UDP address");
    let users = users_csv([(caller, pw(caller).as_str())]);
    let args: Vec<&str> = ["-s", callee]
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect();
    Sipp::new(target, xml, DOMAIN, users).run_with(dir, &args)
}

/// Received messages of a `-trace_msg` file that start with `first` and contain `with`.
fn received(trace: &str, first: &str, with: &str) -> usize {
    trace
        .split("message received")
        .skip(1)
        .filter(|block| {
            let message = block.split("-----------").next().unwrap_or_default();
            let start = message.find(|c: char| c.is_ascii_uppercase()).unwrap_or(0);
            message[start..].starts_with(first) && message.contains(with)
        })
        .count()
}

/// The values of `names` (header names, first occurrence) in each received message of a
/// `-trace_msg` file that starts with `first`, in order.
pub(crate) fn received_header(trace: &str, first: &str, names: &[&str]) -> Vec<Vec<String>> {
    trace
        .split("message received")
        .skip(1)
        .filter_map(|block| {
            let message = block.split("-----------").next().unwrap_or_default();
            let start = message.find(|c: char| c.is_ascii_uppercase()).unwrap_or(0);
            let message = &message[start..];
            message.starts_with(first).then(|| {
                names
                    .iter()
                    .map(|name| {
                        message
                            .lines()
                            .find_map(|line| {
                                let (n, v) = line.split_once(':')?;
                                n.trim()
                                    .eq_ignore_ascii_case(name)
                                    .then(|| v.trim().to_owned())
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
        })
        .collect()
}

fn failed(run: &SippRun, server: &Server) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        run.output,
        run.messages,
        run.logs,
        server.output()
    )
}

/// Two logged-in desks: 94002 (Bob, 1005) calls 1004 (Alice at 94001), whose desk plays
/// `desk_xml`; the caller plays `caller_xml` with `extra` SIPp arguments. Files go to a
/// scratch folder `name`.
async fn desk_call(
    server: &Server,
    name: &str,
    desk_xml: &str,
    caller_xml: &str,
    extra: &[&str],
) -> (Phone, SippRun) {
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), name);
    block_in_place(|| {
        let desk = Phone::start(server, &dir, "94001", desk_xml);
        let run = dial(server, &dir, "94002", "1004", caller_xml, extra);
        (desk, run)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_14_reinvite_from_either_side_reaches_the_other_and_its_2xx_is_resent_until_ack() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let (desk, run) = desk_call(
        &server,
        "reinvite",
        "uas_reinvite.xml",
        "uac_reinvite.xml",
        &["-d", "300"],
    )
    .await;
    // The scenarios check each side got the other's new SDP version (o=- 1 2 at the desk,
    // o=- 2 3 and o=- 2 4 at the caller) and its ACK came.
    assert!(run.passed(), "{}", failed(&run, &server));
    let at_desk = desk.messages();
    assert_eq!(
        received(&at_desk, "INVITE ", "o=- 1 2 "),
        1,
        "the caller's re-INVITE with its SDP: {at_desk}"
    );
    // The caller held its ACK for 1.7 s: our 200 to its re-INVITE came again meanwhile
    // (§13.3.1.4), and stopped once the ACK came (the desk answered once).
    let copies = received(&run.messages, "SIP/2.0 200", "CSeq: 3 INVITE");
    assert!(
        copies >= 2,
        "the re-INVITE's 200 was not re-sent: {}",
        run.messages
    );
    assert_eq!(received(&at_desk, "ACK ", "CSeq: 2 ACK"), 1, "{at_desk}");
    eventually(
        std::time::Duration::from_secs(10),
        "the BYE at the desk",
        || {
            let done = desk.received("BYE") == 1;
            async move { done.then_some(()) }
        },
    )
    .await;
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3262_reliable_183_goes_reliably_to_a_100rel_caller_and_its_prack_to_the_callee() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let (desk, run) = desk_call(
        &server,
        "prack",
        "uas_100rel.xml",
        "uac_100rel.xml",
        &["-d", "300"],
    )
    .await;
    assert!(run.passed(), "{}", failed(&run, &server));
    // Our own RSeq toward the caller (§3), its PRACK carried to the desk (RAck checked
    // there against the desk's RSeq and INVITE CSeq). Held 1.2 s before its PRACK, the
    // caller got our 183 again: re-sent until the PRACK.
    assert!(
        received(&run.messages, "SIP/2.0 183", "RSeq: 1") >= 2,
        "{}",
        run.messages
    );
    let at_desk = desk.messages();
    assert!(first_invite(&at_desk).contains("100rel"), "{at_desk}");
    assert_eq!(
        received(&at_desk, "PRACK ", "RAck: 1 1 INVITE"),
        1,
        "{at_desk}"
    );
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3311_5_1_update_in_the_early_dialog_reaches_the_ringing_callee() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let (desk, run) = desk_call(
        &server,
        "early-update",
        "uas_early_update.xml",
        "uac_early_update.xml",
        &["-d", "300"],
    )
    .await;
    // The scenarios check the offer (o=- 1 2) at the desk and its answer (o=- 2 3) back.
    assert!(run.passed(), "{}", failed(&run, &server));
    let at_desk = desk.messages();
    assert_eq!(received(&at_desk, "UPDATE ", "o=- 1 2 "), 1, "{at_desk}");
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3262_caller_without_100rel_gets_a_plain_183_and_the_server_pracks_the_callee() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let (desk, run) = desk_call(
        &server,
        "prack-local",
        "uas_100rel.xml",
        "uac_invite.xml",
        &["-d", "300"],
    )
    .await;
    assert!(run.passed(), "{}", failed(&run, &server));
    assert!(
        received(&run.messages, "SIP/2.0 183", "") >= 1,
        "{}",
        run.messages
    );
    assert_eq!(
        received(&run.messages, "SIP/2.0 183", "RSeq"),
        0,
        "an unreliable 183 for a caller without 100rel: {}",
        run.messages
    );
    let at_desk = desk.messages();
    assert_eq!(
        received(&at_desk, "PRACK ", "RAck: 1 1 INVITE"),
        1,
        "{at_desk}"
    );
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4028_8_1_interval_below_min_se_gets_422_with_our_minimum() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let (desk, run) = desk_call(
        &server,
        "se-small",
        "uas_answer.xml",
        "uac_session_too_small.xml",
        &["-key", "se", "60"],
    )
    .await;
    assert!(run.passed(), "{}", failed(&run, &server));
    assert!(run.logs.contains("422 with Min-SE 90"), "{}", run.logs);
    assert_eq!(desk.received("INVITE"), 0, "refused before any fork");
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4028_7_4_callees_422_reaches_the_caller_with_the_callees_min_se() {
    if skip() {
        return;
    }
    let server = start(&[]);
    // 90 s passes our minimum; the desk wants 1800 s and says so in its 422.
    let (desk, run) = desk_call(
        &server,
        "se-callee-small",
        "uas_interval_too_small.xml",
        "uac_session_too_small.xml",
        &["-key", "se", "90"],
    )
    .await;
    assert!(run.passed(), "{}", failed(&run, &server));
    assert!(run.logs.contains("422 with Min-SE 1800"), "{}", run.logs);
    assert_eq!(desk.received("INVITE"), 1);
    no_calls_left(&server).await;
}

/// RFC 4028 §7.4, §8.1: a 422 from one device while another still rings is not lost: when
/// no device answers (here the other's ring time runs out), the caller gets 422 with the
/// largest Min-SE a callee asked for, not 480.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4028_7_4_callees_422_while_another_fork_rings_reaches_the_caller_with_its_min_se() {
    if skip() {
        return;
    }
    let server = start(&[("HOTDESK_CALL_RING_TIMEOUT", "2")]);
    let api = server.api();
    seed(&api).await;
    // Carol (1006) on two desks: one wants 1800 s at least, the other only rings.
    login(&api, "94001", "1006").await;
    login(&api, "94003", "1006").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "se-422-forked");
    let (strict, ringing, run) = block_in_place(|| {
        let strict = Phone::start(&server, &dir, "94001", "uas_interval_too_small.xml");
        let ringing = Phone::start(&server, &dir, "94003", "uas_ring_only.xml");
        let run = dial(
            &server,
            &dir,
            "94002",
            "1006",
            "uac_session_too_small.xml",
            &["-key", "se", "90"],
        );
        (strict, ringing, run)
    });
    assert!(run.passed(), "{}", failed(&run, &server));
    assert!(run.logs.contains("422 with Min-SE 1800"), "{}", run.logs);
    assert_eq!(strict.received("INVITE"), 1);
    assert_eq!(ringing.received("INVITE"), 1);
    eventually(
        std::time::Duration::from_secs(10),
        "the CANCEL at the ringing desk",
        || {
            let done = ringing.received("CANCEL") == 1;
            async move { done.then_some(()) }
        },
    )
    .await;
    no_calls_left(&server).await;
}

/// A call from 94002 (no session timer asked) to 1004 at 94001 playing `desk_xml`, held
/// 9 s, with our interval set to 4 s: over two intervals. Unrefreshed, the sweep would clear
/// it at 4 s and the caller's scenario (which sends the BYE itself) would fail. Returns the
/// desk's and the caller's traces.
async fn our_timer_call(name: &str, desk_xml: &str) -> (String, String) {
    let server = start(&[
        ("HOTDESK_CALL_MIN_SE", "4"),
        ("HOTDESK_CALL_SESSION_EXPIRES", "4"),
    ]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), name);
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", desk_xml));
    let (passed, trace) = block_in_place(|| {
        crate::calls::call(&server, &dir, "94002", "1004", "uac_invite.xml", 9000)
    });
    assert!(passed, "{trace}\n{}", server.output());
    // One BYE, the caller's: had our timer lapsed we would have sent one before it.
    desk.wait_received("BYE", 1).await;
    let at_desk = desk.messages();
    let invite = first_invite(&at_desk);
    assert!(
        invite.contains("Session-Expires: 4;refresher=uac"),
        "{invite}"
    );
    assert!(invite.contains("timer"), "Supported: timer: {invite}");
    let answers = received_header(&trace, "SIP/2.0 200", &["Session-Expires"]);
    assert!(
        answers.iter().all(|v| v[0].is_empty()),
        "no timer toward a caller that asked for none: {trace}"
    );
    no_calls_left(&server).await;
    (at_desk, trace)
}

/// RFC 4028 §8: a caller that asks for no session timer still gets its call guarded: the
/// callee's INVITE asks for our interval with us as refresher, the caller's 2xx carries no
/// Session-Expires, and we refresh the callee's leg at half the interval — with a re-INVITE
/// repeating the last SDP when the callee allows no UPDATE (RFC 3264 §8: an unchanged
/// offer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4028_8_b2bua_adds_and_refreshes_a_timer_the_caller_did_not_ask_for() {
    if skip() {
        return;
    }
    let (at_desk, _) = our_timer_call("se-ours", "uas_session_timer.xml").await;
    let refreshes = received(&at_desk, "INVITE ", "Session-Expires: 4;refresher=uac");
    assert!(
        refreshes >= 3,
        "the first INVITE and at least two refreshes: {at_desk}"
    );
    assert!(
        received(&at_desk, "INVITE ", "m=audio") >= 3,
        "refreshes repeat the SDP: {at_desk}"
    );
    assert_eq!(received(&at_desk, "UPDATE ", ""), 0, "{at_desk}");
}

/// RFC 4028 §7.4: a callee's 422 to the interval we added (the caller asked for none and
/// could not act on it) gets the INVITE again, in the same call with the next CSeq and our
/// interval raised to its Min-SE; the caller sees only the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4028_7_4_callees_422_to_our_timer_gets_the_invite_again_with_its_min_se() {
    if skip() {
        return;
    }
    // We ask for 900 s; the desk wants 1800 s at least.
    let server = start(&[("HOTDESK_CALL_SESSION_EXPIRES", "900")]);
    let (desk, run) = desk_call(
        &server,
        "se-ours-422",
        "uas_interval_too_small_then_answer.xml",
        "uac_invite.xml",
        &[],
    )
    .await;
    assert!(run.passed(), "{}", failed(&run, &server));
    let at_desk = desk.messages();
    let invites = received_header(&at_desk, "INVITE ", &["Call-ID", "CSeq", "Session-Expires"]);
    assert_eq!(invites.len(), 2, "{at_desk}");
    assert_eq!(invites[0][0], invites[1][0], "same Call-ID");
    assert_eq!(invites[0][1], "1 INVITE");
    assert_eq!(invites[1][1], "2 INVITE");
    assert_eq!(invites[0][2], "900;refresher=uac", "our interval");
    assert_eq!(invites[1][2], "1800;refresher=uac", "raised to the Min-SE");
    assert!(!run.messages.contains("SIP/2.0 422"), "{}", run.messages);
    no_calls_left(&server).await;
}

/// RFC 4028 §8, RFC 3311: the same with a callee that allows UPDATE: the refreshes are
/// UPDATEs without a body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4028_8_our_refresh_is_an_update_when_the_callee_allows_it() {
    if skip() {
        return;
    }
    let (at_desk, _) = our_timer_call("se-ours-update", "uas_session_timer_update.xml").await;
    let updates = received(&at_desk, "UPDATE ", "Session-Expires: 4;refresher=uac");
    assert!(updates >= 2, "at least two UPDATE refreshes: {at_desk}");
    assert_eq!(
        received(&at_desk, "UPDATE ", "m=audio"),
        0,
        "no SDP: {at_desk}"
    );
    assert_eq!(received(&at_desk, "INVITE ", ""), 1, "{at_desk}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4028_10_refreshed_session_stays_up_and_an_unrefreshed_one_is_cleared_with_bye() {
    if skip() {
        return;
    }
    // Min-SE 4 s for the test (HOTDESK_CALL_MIN_SE; 90 by default, the RFC's floor).
    let server = start(&[("HOTDESK_CALL_MIN_SE", "4")]);
    // The caller refreshes at 2.5 s (re-INVITE) and 5 s (UPDATE), past one 4 s interval,
    // then stops: the scenario passes only if the server's BYE ends it.
    let (desk, run) = desk_call(
        &server,
        "se-reap",
        "uas_session_timer.xml",
        "uac_session_timer.xml",
        &["-key", "se", "4"],
    )
    .await;
    assert!(run.passed(), "{}", failed(&run, &server));
    let invite = first_invite(&desk.messages());
    assert!(
        invite.contains("Session-Expires: 4;refresher=uac"),
        "{invite}"
    );
    assert!(invite.contains("Min-SE: 4"), "{invite}");
    // Both refreshes (a re-INVITE, then an UPDATE) reached the desk, then our BYE (hung
    // dialog reaped on both legs).
    let at_desk = desk.messages();
    assert_eq!(
        received(&at_desk, "INVITE ", "Session-Expires"),
        2,
        "{at_desk}"
    );
    assert_eq!(
        received(&at_desk, "UPDATE ", "Session-Expires"),
        1,
        "{at_desk}"
    );
    eventually(
        std::time::Duration::from_secs(10),
        "the BYE at the desk",
        || {
            let done = desk.received("BYE") == 1;
            async move { done.then_some(()) }
        },
    )
    .await;
    no_calls_left(&server).await;
    let api = server.api();
    let rows = cdrs(&api).await;
    assert!(
        rows.iter().any(|r| r["disposition"] == "answered"),
        "{rows:?}"
    );
}
