//! Provisioning end to end (HD-PROV-1, HD-PROV-2): a phone's file fetched over real HTTP
//! with and without its credentials, before and after a log-in (compared with the files in
//! `tests/fixtures/provision/`), a new ETag when the owner changes, and a check-sync NOTIFY
//! reaching a registered SIPp phone at every log-in and log-out.
//!
//! Not covered here: template upload errors and keys (API tests, `tests/api/provision.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::json;
use tokio::task::block_in_place;

use crate::harness::{Api, Server};
use crate::peers::{self, eventually, users_csv, Peer};

const DOMAIN: &str = "acme.test";
const DEVICE: &str = "94001";
const MAC: &str = "001565aa0001";
const PASSWORD: &str = "Device-pass-1";

/// The same office as the API tests, so the same fixture files apply.
pub(crate) async fn office(api: &Api) {
    api.post("/domains", json!({ "name": DOMAIN, "settings": {"seats": {"standard": 20}} }))
        .await;
    api.post(
        &format!("/domains/{DOMAIN}/users"),
        json!({"extension": "1004", "first_name": "Bob", "last_name": "Smith", "pin": "1234"}),
    )
    .await;
    api.post(
        &format!("/domains/{DOMAIN}/users"),
        json!({"extension": "1005", "first_name": "Ann", "last_name": "Lee", "pin": "5678"}),
    )
    .await;
    api.post(
        &format!("/domains/{DOMAIN}/devices"),
        json!({"mac": MAC, "model": "yealink-t46u", "extension": DEVICE, "sip_password": PASSWORD}),
    )
    .await;
}

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/provision")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Fetched {
    status: StatusCode,
    etag: Option<String>,
    body: String,
}

async fn fetch(server: &Server, credentials: Option<(&str, &str)>, etag: Option<&str>) -> Fetched {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut request = client.get(format!("{}/provision/{MAC}.cfg", server.url()));
    if let Some((user, password)) = credentials {
        request = request.basic_auth(user, Some(password));
    }
    if let Some(tag) = etag {
        request = request.header(header::IF_NONE_MATCH, tag);
    }
    let response = request.send().await.expect("provisioning request");
    Fetched {
        status: response.status(),
        etag: response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: response.text().await.unwrap_or_default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_prov_1_phone_fetches_its_file_over_http_before_and_after_log_in() {
    let server = block_in_place(Server::start);
    let api = server.api();
    office(&api).await;

    for creds in [None, Some((DEVICE, "wrong")), Some(("94002", PASSWORD))] {
        let denied = fetch(&server, creds, None).await;
        assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
        assert!(!denied.body.contains(PASSWORD));
    }
    let free = fetch(&server, Some((DEVICE, PASSWORD)), None).await;
    assert_eq!(free.status, StatusCode::OK);
    assert_eq!(free.body, fixture("yealink-t46u-free.cfg"));
    let free_tag = free.etag.expect("ETag");
    let same = fetch(&server, Some((DEVICE, PASSWORD)), Some(&free_tag)).await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);

    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/login"),
        json!({"extension": "1004"}),
    )
    .await;
    let bob = fetch(&server, Some((DEVICE, PASSWORD)), Some(&free_tag)).await;
    assert_eq!(bob.status, StatusCode::OK);
    assert_eq!(bob.body, fixture("yealink-t46u-bob.cfg"));
    assert_ne!(bob.etag.as_deref(), Some(free_tag.as_str()));
}

/// A registered phone: SIPp registers as the device and answers whatever comes out of call
/// (check-sync NOTIFYs) with 200, for `hold`, then unregisters and exits.
fn phone(server: &Server, dir: &Path, hold: Duration) -> (Peer, PathBuf) {
    let target = server.sip_udp.expect("SIP/UDP");
    let inf = dir.join("device.csv");
    std::fs::write(&inf, users_csv([(DEVICE, PASSWORD)])).expect("csv");
    let messages = dir.join("phone.msg");
    let mut command = Command::new("sipp");
    command
        .arg(target.to_string())
        .args(["-sf", &peers::scenario("uas_register_then_answer.xml")])
        .args(["-oocsf", &peers::scenario("uas_answer.xml")])
        .arg("-inf")
        .arg(&inf)
        .args(["-key", "domain", DOMAIN, "-auth_uri", DOMAIN])
        .args(["-i", "127.0.0.1", "-p", &peers::free_port().to_string()])
        .args(["-m", "1", "-d", &hold.as_millis().to_string()])
        .args(["-timeout", "90s", "-nostdin", "-trace_msg"])
        .arg("-message_file")
        .arg(&messages)
        .current_dir(dir);
    let peer = Peer::spawn("sipp phone", command, &dir.join("phone.out"));
    (peer, messages)
}

/// Out-of-dialog NOTIFYs the phone received with `Event: check-sync`.
fn check_syncs(trace: &str) -> usize {
    trace
        .split("----------------------------------------------- ")
        .filter(|m| m.contains("message received") && m.contains("NOTIFY sip:"))
        .filter(|m| m.lines().any(|l| l.trim() == "Event: check-sync;reboot=false"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_prov_2_check_sync_reaches_the_phone_at_log_in_and_log_out() {
    if !peers::available("sipp") {
        return;
    }
    let server = block_in_place(Server::start);
    let api = server.api();
    office(&api).await;
    let dir = peers::scratch(&server.dir(), "phone");
    let (mut peer, messages) = phone(&server, &dir, Duration::from_secs(12));
    eventually(Duration::from_secs(20), "the phone's registration", || {
        let api = api.clone();
        async move {
            let device = api.get(&format!("/domains/{DOMAIN}/devices/{DEVICE}")).await;
            (!device["registration"].is_null()).then_some(())
        }
    })
    .await;
    let before = fetch(&server, Some((DEVICE, PASSWORD)), None).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/login"),
        json!({"extension": "1004"}),
    )
    .await;
    let after_login = fetch(&server, Some((DEVICE, PASSWORD)), None).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/logout"),
        json!({}),
    )
    .await;
    let after_logout = fetch(&server, Some((DEVICE, PASSWORD)), None).await;
    assert_ne!(before.etag, after_login.etag, "log-in changes the file");
    assert_eq!(before.etag, after_logout.etag, "log-out restores it");

    // SIPp writes its trace when it exits (after the hold and its unregistration).
    let code = block_in_place(|| peer.wait(Duration::from_secs(60)));
    let trace = std::fs::read_to_string(&messages).unwrap_or_default();
    assert_eq!(code, Some(0), "phone scenario failed:\n{trace}");
    assert_eq!(
        check_syncs(&trace),
        2,
        "one check-sync per log-in and log-out:\n{trace}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_logout_2_phone_is_warned_before_automatic_log_out() {
    if !peers::available("sipp") {
        return;
    }
    let server = block_in_place(Server::start);
    let api = server.api();
    office(&api).await;
    // A 2-minute session under the default 300 s warning lead: warned as soon as it starts.
    api.send(
        reqwest::Method::PATCH,
        &format!("/domains/{DOMAIN}/devices/{DEVICE}"),
        Some(&json!({"association_secs": 120})),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "warned");
    let (mut peer, messages) = phone(&server, &dir, Duration::from_secs(12));
    eventually(Duration::from_secs(20), "the phone's registration", || {
        let api = api.clone();
        async move {
            let device = api.get(&format!("/domains/{DOMAIN}/devices/{DEVICE}")).await;
            (!device["registration"].is_null()).then_some(())
        }
    })
    .await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/login"),
        json!({"extension": "1004"}),
    )
    .await;
    let code = block_in_place(|| peer.wait(Duration::from_secs(60)));
    let trace = std::fs::read_to_string(&messages).unwrap_or_default();
    assert_eq!(code, Some(0), "phone scenario failed:\n{trace}");
    let warnings = trace
        .split("----------------------------------------------- ")
        .filter(|m| m.contains("message received") && m.contains("MESSAGE sip:"))
        .filter(|m| m.contains("You will be logged out at") && m.contains("session time limit"))
        .count();
    assert_eq!(warnings, 1, "one warning per deadline:\n{trace}");
}
