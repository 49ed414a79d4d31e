//! Calls through the B2BUA end to end (SPEC §2 Routing, HD-LOGOUT-3, HD-CDR-1/2): SIPp
//! phones register as hot-desk devices (or as a user's personal phone) and answer, SIPp
//! callers dial through the real binary, the API logs people in and out meanwhile.
//!
//! Covered: a call to 1004 rings the desk 1004 is logged in to and not their personal
//! phone (HD-ROUTE-1, -2 `unreachable`), the caller's identity follows who is logged in at
//! the calling desk (HD-ROUTE-3), a free desk gets 403 (HD-ROUTE-5) but its log-in codes
//! reach the IVR, a log-out mid-call leaves the call up until BYE (HD-LOGOUT-3), the CDR
//! (HD-CDR-1, -2), unregistered 480 and unknown 404 (HD-ROUTE-9). Faults: a callee that
//! never answers (ring timeout → 480, CANCEL to the phone), a callee that vanishes
//! mid-call, two desks answering one forked call; off-net calls through the trunk with the
//! user's DID and emergency calls with their location and callback (HD-ROUTE-6, -9). Every
//! test waits for the call and dialog gauges in `/metrics` to return to 0 (no leaked
//! dialog). Trunk digest, DNS and failures are in `trunks.rs`; re-INVITE, PRACK, UPDATE
//! and session timers in `dialogs.rs`; queues and forwarding in `queues.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::task::block_in_place;

use crate::harness::{Api, Options, Server};
use crate::peers::{self, eventually, free_port, scenario, users_csv};

pub(crate) const DOMAIN: &str = "calls.test";

pub(crate) fn start(env: &[(&str, &str)]) -> Server {
    block_in_place(|| {
        Server::with(Options {
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Options::default()
        })
    })
}

pub(crate) fn pw(ext: &str) -> String {
    format!("secret-pw-{ext}")
}

/// Users 1004 (Alice Able), 1005 (Bob Baker), 1006 (Carol Cole, two desks), each with a
/// SIP password; hot desks 94001..94003.
pub(crate) async fn seed(api: &Api) {
    api.post("/domains", json!({ "name": DOMAIN })).await;
    for (ext, first, last, max) in [
        ("1004", "Alice", "Able", 1),
        ("1005", "Bob", "Baker", 1),
        ("1006", "Carol", "Cole", 2),
    ] {
        api.post(
            &format!("/domains/{DOMAIN}/users"),
            json!({ "extension": ext, "first_name": first, "last_name": last,
                    "pin": format!("24{}", &ext[2..]), "sip_password": pw(ext), "max_devices": max }),
        )
        .await;
    }
    for (i, ext) in ["94001", "94002", "94003"].into_iter().enumerate() {
        api.post(
            &format!("/domains/{DOMAIN}/devices"),
            json!({ "mac": format!("0015650000{i:02}"), "model": "yealink-t46u",
                    "kind": "hotdesk", "extension": ext, "sip_password": pw(ext) }),
        )
        .await;
    }
}

/// Changes user `ext` of [`DOMAIN`] (`PATCH`), expecting 200.
pub(crate) async fn patch_user(api: &Api, ext: &str, body: Value) {
    let (status, answer) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/domains/{DOMAIN}/users/{ext}"),
            Some(&body),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
}

pub(crate) async fn login(api: &Api, device: &str, user: &str) {
    api.post(
        &format!("/domains/{DOMAIN}/devices/{device}/login"),
        json!({ "extension": user }),
    )
    .await;
}

pub(crate) async fn logout(api: &Api, device: &str) {
    api.post(
        &format!("/domains/{DOMAIN}/devices/{device}/logout"),
        json!({}),
    )
    .await;
}

/// A SIPp phone: registers as `ext` and answers calls with `ooc` until stopped.
pub(crate) struct Phone {
    child: Option<Child>,
    messages: PathBuf,
}

impl Phone {
    pub(crate) fn start(server: &Server, dir: &Path, ext: &str, ooc: &str) -> Self {
        let port = free_port();
        let inf = dir.join(format!("phone-{ext}-{port}.csv"));
        fs::write(&inf, users_csv([(ext, pw(ext).as_str())])).unwrap();
        let messages = dir.join(format!("phone-{ext}-{port}.msg"));
        let logs = dir.join(format!("phone-{ext}-{port}.log"));
        let out = fs::File::create(dir.join(format!("phone-{ext}-{port}.out"))).unwrap();
        let target = server.sip_udp.expect("SIP/UDP address").to_string();
        let child = Command::new("sipp")
            .arg(&target)
            .args(["-sf", &scenario("uas_register_then_answer.xml")])
            .args(["-oocsf", &scenario(ooc)])
            .arg("-inf")
            .arg(&inf)
            .args(["-key", "domain", DOMAIN, "-auth_uri", DOMAIN])
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", "1", "-d", "120000", "-timeout", "150s", "-nostdin"])
            .args(["-trace_msg", "-trace_logs"])
            .arg("-message_file")
            .arg(&messages)
            .arg("-log_file")
            .arg(&logs)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("spawn sipp");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !fs::read_to_string(&logs).is_ok_and(|l| l.contains("registered at")) {
            assert!(Instant::now() < deadline, "{ext} did not register");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child: Some(child),
            messages,
        }
    }

    /// Everything the phone sent and received so far.
    pub(crate) fn messages(&self) -> String {
        fs::read_to_string(&self.messages).unwrap_or_default()
    }

    /// Requests of `method` the phone received.
    pub(crate) fn received(&self, method: &str) -> usize {
        requests_received(&self.messages(), method)
    }

    /// Waits until the phone has received `count` requests of `method`, then checks it got
    /// no more: the B2BUA answers one side's BYE before the other side's copy is in SIPp's
    /// trace, so a count read at once can be short.
    pub(crate) async fn wait_received(&self, method: &str, count: usize) {
        eventually(Duration::from_secs(10), method, || {
            let seen = self.received(method);
            async move { (seen >= count).then_some(()) }
        })
        .await;
        assert_eq!(self.received(method), count, "{method} at the phone");
    }

    /// Gone without a word: SIGKILL (its binding stays).
    fn vanish(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.vanish();
    }
}

/// Requests of `method` received in a SIPp `-trace_msg` trace.
pub(crate) fn requests_received(trace: &str, method: &str) -> usize {
    let mut count = 0;
    let mut received = false;
    for line in trace.lines() {
        if line.contains("message received") {
            received = true;
        } else if line.contains("message sent") {
            received = false;
        } else if received && line.starts_with(&format!("{method} sip:")) {
            count += 1;
        }
    }
    count
}

/// One call from `caller` to `callee` (`uac_invite.xml`, held `hold_ms`, or
/// `uac_invite_refused.xml` expecting a failure). Returns (passed, message trace).
pub(crate) fn call(
    server: &Server,
    dir: &Path,
    caller: &str,
    callee: &str,
    xml: &str,
    hold_ms: u32,
) -> (bool, String) {
    CallTarget {
        sip: server.sip_udp,
        port: None,
    }
    .call(dir, caller, callee, xml, hold_ms)
}

pub(crate) async fn metric(api_url: &str, name: &str) -> Option<u64> {
    let text = reqwest::get(format!("{api_url}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// No call and no dialog left (no leak).
pub(crate) async fn no_calls_left(server: &Server) {
    let url = server.url();
    eventually(
        Duration::from_secs(45),
        "calls and dialogs back to 0",
        || {
            let url = url.clone();
            async move {
                let calls = metric(&url, "hotdesk_calls_active").await?;
                let dialogs = metric(&url, "hotdesk_dialogs_active").await?;
                (calls == 0 && dialogs == 0).then_some(())
            }
        },
    )
    .await;
}

/// Waits until exactly `n` calls are up (answered or ringing) on the server.
pub(crate) async fn calls_up(server: &Server, n: u64) {
    let url = server.url();
    eventually(Duration::from_secs(15), "the call to be up", || {
        let url = url.clone();
        async move { (metric(&url, "hotdesk_calls_active").await? == n).then_some(()) }
    })
    .await;
}

/// Headers (and the start of the body) of the first INVITE of a trace.
pub(crate) fn first_invite(trace: &str) -> String {
    let start = trace.find("INVITE sip:").unwrap_or(0);
    trace[start..]
        .split("-----------")
        .next()
        .unwrap_or_default()
        .lines()
        .take(40)
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) async fn cdrs(api: &Api) -> Vec<Value> {
    let value = api.get(&format!("/domains/{DOMAIN}/cdrs")).await;
    match value {
        Value::Array(rows) => rows,
        other => other
            .get("items")
            .or_else(|| other.get("cdrs"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    }
}

pub(crate) fn skip() -> bool {
    !peers::available("sipp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_1_2_3_call_rings_the_desk_the_user_is_logged_in_to_with_callers_identity() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "route1");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    // 1004's own phone: under the default `unreachable` policy it must not ring (HD-ROUTE-2).
    let personal = block_in_place(|| Phone::start(&server, &dir, "1004", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 500));
    assert!(passed, "call failed:\n{trace}\n{}", server.output());
    assert!(trace.contains("m=audio"), "SDP answer passed through");
    let invite = first_invite(&desk.messages());
    // HD-ROUTE-3: on-net, the caller is the person logged in at the calling desk.
    assert!(
        invite.contains("From: \"Bob Baker\" <sip:1005@calls.test>"),
        "{invite}"
    );
    assert!(
        invite.contains("P-Asserted-Identity: \"Bob Baker\" <sip:1005@calls.test>"),
        "{invite}"
    );
    assert!(invite.contains("m=audio"), "offer passed through: {invite}");
    assert_eq!(
        personal.received("INVITE"),
        0,
        "personal phone rang under unreachable"
    );
    desk.wait_received("BYE", 1).await;
    no_calls_left(&server).await;

    // HD-CDR-1: anchor number, user name and extension; HD-CDR-2: CSV export.
    let rows = eventually(Duration::from_secs(10), "the CDR", || {
        let api = api.clone();
        async move {
            let rows = cdrs(&api).await;
            (!rows.is_empty()).then_some(rows)
        }
    })
    .await;
    let cdr = &rows[0];
    assert_eq!(cdr["anchor"], "94002", "{cdr}");
    assert_eq!(cdr["user_name"], "Bob Baker", "{cdr}");
    assert_eq!(cdr["user_extension"], "1005", "{cdr}");
    assert_eq!(cdr["to"], "1004", "{cdr}");
    assert_eq!(cdr["disposition"], "answered", "{cdr}");
    assert!(cdr["answer"].is_string(), "{cdr}");
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/domains/{DOMAIN}/cdrs?format=csv",
            server.url()
        ))
        .bearer_auth(server.admin_token())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("94002") && csv.contains("Bob Baker"), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_5_free_desk_gets_403_and_identity_follows_log_in() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    let dir = peers::scratch(&server.dir(), "route5");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    // HD-ROUTE-5: nobody at 94003: 403 with a reason phrase.
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "94003", "1004", "uac_invite_refused.xml", 0));
    assert!(refused, "{trace}");
    assert!(
        trace.contains("SIP/2.0 403 This Phone Is Not Logged In"),
        "{trace}"
    );
    assert_eq!(desk.received("INVITE"), 0);
    // HD-ROUTE-5: log-in codes go to the IVR, not refused as "not logged in". Match the
    // status line: a bare "403" also turns up in nonces and digests of the trace.
    let (_, trace) =
        block_in_place(|| call(&server, &dir, "94003", "*44", "uac_invite_refused.xml", 0));
    assert!(!trace.contains("SIP/2.0 403"), "{trace}");
    // HD-ROUTE-3: once Carol logs in there, the same desk calls as Carol.
    login(&api, "94003", "1006").await;
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94003", "1004", "uac_invite.xml", 200));
    assert!(passed, "{trace}");
    let invite = first_invite(&desk.messages());
    assert!(
        invite.contains("From: \"Carol Cole\" <sip:1006@calls.test>"),
        "{invite}"
    );
    // HD-ROUTE-9 (on-net half): unknown extension 404; HD-ROUTE-1: nobody registered 480.
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "94003", "1999", "uac_invite_refused.xml", 0));
    assert!(refused && trace.contains("SIP/2.0 404"), "{trace}");
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "94003", "1005", "uac_invite_refused.xml", 0));
    assert!(refused && trace.contains("SIP/2.0 480"), "{trace}");
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_logout_3_log_out_mid_call_keeps_the_call_until_bye() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "logout3");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let caller = {
        let dir = dir.clone();
        let target = CallTarget {
            sip: server.sip_udp,
            port: None,
        };
        std::thread::spawn(move || target.call(&dir, "94002", "1004", "uac_invite.xml", 5000))
    };
    calls_up(&server, 1).await;
    eventually(Duration::from_secs(15), "the ACK at the desk", || {
        let acked = desk.received("ACK") > 0;
        async move { acked.then_some(()) }
    })
    .await;
    // Both ends log out while talking: the call stays up (HD-LOGOUT-3).
    logout(&api, "94001").await;
    logout(&api, "94002").await;
    let (passed, trace) = block_in_place(|| caller.join().unwrap());
    assert!(passed, "call cut by the log-out:\n{trace}");
    // The caller's ACK stopped our 2xx retransmissions (RFC 3261 §13.3.1.4): one 200 for
    // the INVITE, one for the BYE, though the call was up for seconds.
    assert_eq!(trace.matches("SIP/2.0 200 OK").count(), 2, "{trace}");
    // The call ended by the caller's BYE.
    desk.wait_received("BYE", 1).await;
    no_calls_left(&server).await;
    // New calls follow the new state at once: 94002 is free now (HD-ROUTE-5).
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite_refused.xml", 0));
    assert!(refused && trace.contains("SIP/2.0 403"), "{trace}");
    // The CDR keeps who was logged in when the call started.
    let rows = cdrs(&api).await;
    assert!(
        rows.iter()
            .any(|r| r["user_name"] == "Bob Baker" && r["disposition"] == "answered"),
        "{rows:?}"
    );
}

/// A call runner usable from another thread (the server handle stays with the test).
struct CallTarget {
    sip: Option<std::net::SocketAddr>,
    /// Local port; `None` picks a free one.
    port: Option<u16>,
}

impl CallTarget {
    fn call(
        &self,
        dir: &Path,
        caller: &str,
        callee: &str,
        xml: &str,
        hold_ms: u32,
    ) -> (bool, String) {
        let port = self.port.unwrap_or_else(free_port);
        let inf = dir.join(format!("caller-{caller}-{port}.csv"));
        fs::write(&inf, users_csv([(caller, pw(caller).as_str())])).unwrap();
        let messages = dir.join(format!("caller-{caller}-{port}.msg"));
        let out = dir.join(format!("caller-{caller}-{port}.out"));
        let mut command = Command::new("sipp");
        command
            .arg(self.sip.expect("SIP/UDP address").to_string())
            .args(["-sf", &scenario(xml)])
            .arg("-inf")
            .arg(&inf)
            .args(["-key", "domain", DOMAIN, "-auth_uri", DOMAIN, "-s", callee])
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", "1", "-d", &hold_ms.to_string()])
            .args([
                "-timeout",
                "40s",
                "-timeout_error",
                "-nostdin",
                "-trace_msg",
            ])
            .arg("-message_file")
            .arg(&messages)
            .current_dir(dir);
        let mut peer = peers::Peer::spawn("sipp", command, &out);
        let code = peer.wait(Duration::from_secs(60));
        (
            code == Some(0),
            fs::read_to_string(&messages).unwrap_or_default(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_callee_never_answers_caller_gets_480_and_phone_gets_cancel() {
    if skip() {
        return;
    }
    let server = start(&[("HOTDESK_CALL_RING_TIMEOUT", "2")]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "noanswer");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_ring_only.xml"));
    let (refused, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite_refused.xml", 0));
    assert!(refused, "{trace}");
    assert!(trace.contains("SIP/2.0 480 No Answer"), "{trace}");
    assert!(trace.contains("SIP/2.0 180"), "ringing relayed: {trace}");
    eventually(Duration::from_secs(10), "the CANCEL at the desk", || {
        let cancelled = desk.received("CANCEL") > 0;
        async move { cancelled.then_some(()) }
    })
    .await;
    no_calls_left(&server).await;
    let rows = cdrs(&api).await;
    assert!(
        rows.iter().any(|r| r["disposition"] == "no_answer"),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_callee_vanishes_mid_call_caller_still_hangs_up_cleanly() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "vanish");
    let mut desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let caller = {
        let target = CallTarget {
            sip: server.sip_udp,
            port: None,
        };
        let dir = dir.clone();
        std::thread::spawn(move || target.call(&dir, "94002", "1004", "uac_invite.xml", 3000))
    };
    eventually(Duration::from_secs(15), "the ACK at the desk", || {
        let acked = desk.received("ACK") > 0;
        async move { acked.then_some(()) }
    })
    .await;
    block_in_place(|| desk.vanish());
    let (passed, trace) = block_in_place(|| caller.join().unwrap());
    assert!(passed, "{trace}");
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_1_fork_to_two_desks_both_answer_one_wins() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    // Carol multi-desks on 94001 and 94003 (HD-LOGIN-4, allocation 2).
    login(&api, "94001", "1006").await;
    login(&api, "94003", "1006").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "fork");
    let one = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let two = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1006", "uac_invite.xml", 500));
    assert!(passed, "{trace}\n{}", server.output());
    assert_eq!(
        one.received("INVITE") + two.received("INVITE"),
        2,
        "both desks rang"
    );
    // The winner gets the caller's BYE; the loser a CANCEL or, having answered, a BYE.
    eventually(Duration::from_secs(10), "both desks released", || {
        let released = one.received("BYE") + one.received("CANCEL") >= 1
            && two.received("BYE") + two.received("CANCEL") >= 1;
        async move { released.then_some(()) }
    })
    .await;
    no_calls_left(&server).await;
}

/// A SIPp peer standing in for a trunk on 127.0.0.1: plays `xml` for one call, no REGISTER
/// (`extra`: more SIPp arguments, e.g. the `-key`s of `uas_trunk_auth.xml`).
pub(crate) struct TrunkPeer {
    pub(crate) peer: peers::Peer,
    pub(crate) port: u16,
    messages: PathBuf,
}

impl TrunkPeer {
    pub(crate) fn start(dir: &Path, xml: &str, extra: &[&str]) -> Self {
        let port = free_port();
        let messages = dir.join(format!("trunk-{port}.msg"));
        let mut command = Command::new("sipp");
        command
            .args(["-sf", &scenario(xml)])
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", "1", "-timeout", "60s", "-nostdin", "-trace_msg"])
            .args(extra)
            .arg("-message_file")
            .arg(&messages)
            .current_dir(dir);
        let peer = peers::Peer::spawn("sipp", command, &dir.join(format!("trunk-{port}.out")));
        Self {
            peer,
            port,
            messages,
        }
    }

    /// Everything the trunk sent and received so far.
    pub(crate) fn messages(&self) -> String {
        fs::read_to_string(&self.messages).unwrap_or_default()
    }
}

/// Adds the domain's trunk `upstream` at `address`, with digest credentials if given.
pub(crate) async fn add_trunk(api: &Api, address: &str, credentials: Option<(&str, &str)>) {
    let mut body = json!({ "name": "upstream", "address": address });
    if let Some((user, password)) = credentials {
        body["username"] = json!(user);
        body["password"] = json!(password);
    }
    api.post(&format!("/domains/{DOMAIN}/trunks"), body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_9_off_net_calls_go_to_the_trunk_as_the_users_did_and_hd_route_6_emergency() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    patch_user(&api, "1005", json!({ "did": "+15550001005" })).await;
    api.send(
        reqwest::Method::PATCH,
        &format!("/domains/{DOMAIN}/devices/94003"),
        Some(&json!({ "did": "+15550094003",
                     "location": { "country": "US", "city": "Austin", "street": "Main St",
                                   "number": "12", "floor": "3" } })),
    )
    .await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "trunk");
    let trunk = block_in_place(|| TrunkPeer::start(&dir, "uas_answer.xml", &[]));
    let e911 = block_in_place(|| TrunkPeer::start(&dir, "uas_answer.xml", &[]));
    add_trunk(&api, &format!("127.0.0.1:{}", trunk.port), None).await;
    api.post(
        &format!("/domains/{DOMAIN}/trunks"),
        json!({ "name": "e911", "address": format!("127.0.0.1:{}", e911.port), "emergency": true }),
    )
    .await;
    // HD-ROUTE-9 + HD-ROUTE-3 off-net: the user's DID goes out.
    let (passed, trace) = block_in_place(|| {
        call(
            &server,
            &dir,
            "94002",
            "+15551234567",
            "uac_invite.xml",
            200,
        )
    });
    assert!(passed, "{trace}\n{}", server.output());
    let invite = first_invite(&trunk.messages());
    assert!(
        invite.contains("INVITE sip:+15551234567@127.0.0.1"),
        "{invite}"
    );
    assert!(invite.contains("<sip:+15550001005@"), "{invite}");
    // HD-ROUTE-6: a free desk reaches 911 with its location by reference and callback number.
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94003", "911", "uac_invite.xml", 200));
    assert!(passed, "{trace}\n{}", server.output());
    let invite = first_invite(&e911.messages());
    assert!(
        invite.contains("<sip:+15550094003@"),
        "callback number: {invite}"
    );
    let url = invite
        .lines()
        .find_map(|l| l.strip_prefix("Geolocation: <"))
        .and_then(|l| l.strip_suffix('>'))
        .unwrap_or_else(|| panic!("no Geolocation header: {invite}"))
        .to_owned();
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    let doc = response.text().await.unwrap();
    assert!(
        doc.contains("<ca:country>US</ca:country>") && doc.contains("<ca:FLR>3</ca:FLR>"),
        "{doc}"
    );

    // HD-ROUTE-6 callback: someone else logs in at 94003 (its anchor is now not reachable,
    // HD-ROUTE-4), yet the PSAP calling back the callback number rings that desk.
    let mut e911 = e911;
    block_in_place(|| e911.peer.wait(Duration::from_secs(20)));
    login(&api, "94003", "1004").await;
    let desk = block_in_place(|| Phone::start(&server, &dir, "94003", "uas_answer.xml"));
    let psap = CallTarget {
        sip: server.sip_udp,
        port: Some(e911.port),
    };
    let (passed, trace) =
        block_in_place(|| psap.call(&dir, "5550911", "+15550094003", "uac_invite.xml", 200));
    assert!(passed, "callback failed: {trace}\n{}", server.output());
    let invite = first_invite(&desk.messages());
    assert!(
        invite.contains("<sip:5550911@"),
        "PSAP's number passed through (HD-ROUTE-8): {invite}"
    );
    drop(trunk.peer);
    no_calls_left(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_2_ring_both_rings_the_personal_phone_too() {
    if skip() {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    api.send(
        reqwest::Method::PATCH,
        &format!("/domains/{DOMAIN}"),
        Some(&json!({ "settings": { "primary_while_away": "ring_both" } })),
    )
    .await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let dir = peers::scratch(&server.dir(), "ringboth");
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let personal = block_in_place(|| Phone::start(&server, &dir, "1004", "uas_answer.xml"));
    let (passed, trace) =
        block_in_place(|| call(&server, &dir, "94002", "1004", "uac_invite.xml", 300));
    assert!(passed, "{trace}");
    assert_eq!(desk.received("INVITE"), 1, "the desk rang");
    assert_eq!(
        personal.received("INVITE"),
        1,
        "the personal phone rang too"
    );
    no_calls_left(&server).await;
}
