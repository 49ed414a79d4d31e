//! Provisioning end to end (HD-PROV-1, HD-PROV-2): a phone's file fetched over real HTTP
//! with and without its credentials, before and after a log-in (compared with the files in
//! `tests/fixtures/provision/`), a new ETag when the owner changes, and a check-sync NOTIFY
//! reaching a registered SIPp phone at every log-in and log-out and at "apply and resync"
//! (not at a plain "apply"); the same file over HTTPS
//! (`--https`, a certificate made at test time), and locked after repeated wrong passwords.
//!
//! Not covered here: template upload errors and keys (API tests, `tests/api/provision.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::json;
use tokio::task::block_in_place;

use crate::harness::{listening, Api, Options, Server};
use crate::peers::{self, eventually, users_csv, Peer, Sipp};

const DOMAIN: &str = "acme.test";
const DEVICE: &str = "94001";
const MAC: &str = "001565aa0001";
const PASSWORD: &str = "Device-pass-1";

/// The same office as the API tests, so the same fixture files apply.
pub(crate) async fn office(api: &Api) {
    api.post(
        "/domains",
        json!({ "name": DOMAIN, "settings": {"seats": {"standard": 20}} }),
    )
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

/// A raw HTTP/1.1 GET over TLS to `addr`, trusting only `root` (DER); returns the status
/// code, the header block and the body.
async fn https_get(
    addr: std::net::SocketAddr,
    root: &[u8],
    path: &str,
    authorization: Option<&str>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::rustls::{self, pki_types};

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(pki_types::CertificateDer::from(root.to_vec()))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = pki_types::ServerName::IpAddress(addr.ip().into());
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    tls.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    // A peer closing without close_notify ends the read with an error; keep what came.
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a whole response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_prov_1_phone_fetches_its_file_over_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("cert file");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("key file");
    let args = ["--https", "127.0.0.1:0", "--tls-cert"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([cert.display().to_string(), "--tls-key".into()])
        .chain([key.display().to_string()])
        .collect();
    let server = block_in_place(|| {
        Server::with(Options {
            args,
            // HD-SEC-3: two wrong passwords lock out (the SIP digest limits apply).
            env: vec![("HOTDESK_SIP_AUTH_MAX_FAILURES".into(), "2".into())],
            ..Options::default()
        })
    });
    let https = server
        .output()
        .lines()
        .find_map(|l| listening(l, "HTTPS"))
        .expect("listening for HTTPS line");
    office(&server.api()).await;
    let path = format!("/provision/{MAC}.cfg");
    let root = made.cert.der().to_vec();

    let (status, head, body) = https_get(https, &root, &path, None).await;
    assert_eq!(status, 401, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: digest"),
        "{head}"
    );
    assert!(!body.contains(PASSWORD));
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{DEVICE}:{PASSWORD}"))
    );
    let (status, head, body) = https_get(https, &root, &path, Some(&basic)).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, fixture("yealink-t46u-free.cfg"));

    // Guessing over HTTPS locks the MAC: then even the right password gets the same 401.
    let guess = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{DEVICE}:guess"))
    );
    for _ in 0..2 {
        let (status, ..) = https_get(https, &root, &path, Some(&guess)).await;
        assert_eq!(status, 401);
    }
    let (status, _, locked) = https_get(https, &root, &path, Some(&basic)).await;
    assert_eq!(status, 401, "locked out");
    assert!(!locked.contains(PASSWORD));
    let over_http = fetch(&server, Some((DEVICE, PASSWORD)), None).await;
    assert_eq!(
        over_http.status,
        StatusCode::UNAUTHORIZED,
        "the same lock on HTTP"
    );
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
        .filter(|m| {
            m.lines()
                .any(|l| l.trim() == "Event: check-sync;reboot=false")
        })
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
    // HD-MWI-1 for phones that don't subscribe: unsolicited message-summary NOTIFYs.
    api.send(
        reqwest::Method::PUT,
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/provisioning"),
        Some(&json!({"unsolicited_mwi": true})),
    )
    .await;
    api.send(
        reqwest::Method::PUT,
        &format!("/domains/{DOMAIN}/users/1004/mailbox"),
        Some(&json!({"new": 3, "old": 0})),
    )
    .await;
    api.send(
        reqwest::Method::PUT,
        &format!("/domains/{DOMAIN}/devices/{DEVICE}/mailbox"),
        Some(&json!({"new": 1, "old": 2})),
    )
    .await;
    let dir = peers::scratch(&server.dir(), "phone");
    let (mut peer, messages) = phone(&server, &dir, Duration::from_secs(12));
    eventually(Duration::from_secs(20), "the phone's registration", || {
        let api = api.clone();
        async move {
            let device = api
                .get(&format!("/domains/{DOMAIN}/devices/{DEVICE}"))
                .await;
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
    // "Apply" alone changes the file but tells nobody; "apply and resync" sends check-sync.
    api.send(
        reqwest::Method::PUT,
        &format!("/domains/{DOMAIN}/templates/lobby"),
        Some(&json!({"format": "cfg", "line_label": "Lobby [[extension]]"})),
    )
    .await;
    let apply = |resync: bool| {
        let api = api.clone();
        async move {
            api.post(
                &format!("/domains/{DOMAIN}/templates/lobby/apply"),
                json!({"devices": [DEVICE], "resync": resync}),
            )
            .await
        }
    };
    assert_eq!(apply(false).await["resynced"], 0);
    let applied = fetch(&server, Some((DEVICE, PASSWORD)), None).await;
    assert!(applied.body.contains("linekey.1.label = Lobby 94001\n"));
    assert_eq!(apply(true).await["resynced"], 1);

    // SIPp writes its trace when it exits (after the hold and its unregistration).
    let code = block_in_place(|| peer.wait(Duration::from_secs(60)));
    let trace = std::fs::read_to_string(&messages).unwrap_or_default();
    assert_eq!(code, Some(0), "phone scenario failed:\n{trace}");
    assert_eq!(
        check_syncs(&trace),
        3,
        "one check-sync per log-in, log-out and apply-and-resync, none for a plain apply:\n{trace}"
    );
    let summaries: Vec<&str> = trace
        .split("----------------------------------------------- ")
        .filter(|m| m.contains("message received") && m.contains("NOTIFY sip:"))
        .filter(|m| m.contains("Event: message-summary"))
        .filter_map(|m| m.lines().find(|l| l.starts_with("Voice-Message:")))
        .collect();
    assert_eq!(
        summaries,
        [
            "Voice-Message: 3/0 (0/0)",
            "Voice-Message: 1/2 (0/0)",
            "Voice-Message: 1/2 (0/0)"
        ],
        "unsolicited MWI at log-in (Bob's box), log-out and resync (the anchor's):\n{trace}"
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
            let device = api
                .get(&format!("/domains/{DOMAIN}/devices/{DEVICE}"))
                .await;
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

/// Answers every request arriving on `socket` with 200 (headers copied as RFC 3261 §8.2.6
/// asks) until `expected` check-sync NOTIFYs came; returns when the first and the last came.
fn answer_check_syncs(
    socket: &std::net::UdpSocket,
    expected: usize,
) -> (
    usize,
    Option<std::time::Instant>,
    Option<std::time::Instant>,
) {
    let mut buf = vec![0u8; 65_536];
    let (mut count, mut first, mut last) = (0, None, None);
    while count < expected {
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            break;
        };
        let text = String::from_utf8_lossy(&buf[..len]).into_owned();
        if !text.starts_with("NOTIFY ") {
            continue;
        }
        let now = std::time::Instant::now();
        first.get_or_insert(now);
        last = Some(now);
        if text.contains("Event: check-sync") {
            count += 1;
        }
        let mut reply = String::from("SIP/2.0 200 OK\r\n");
        for line in text.lines() {
            if ["Via:", "From:", "To:", "Call-ID:", "CSeq:"]
                .iter()
                .any(|h| line.starts_with(h))
            {
                reply.push_str(line);
                reply.push_str("\r\n");
            }
        }
        reply.push_str("Content-Length: 0\r\n\r\n");
        let _ = socket.send_to(reply.as_bytes(), from);
    }
    (count, first, last)
}

/// Benchmark (not a test): 1,000 registered devices get a template applied with resync at
/// once; how long until every check-sync NOTIFY reached them. Run with
/// `cargo test --release -p hotdesk --test e2e bench_hd_prov_2 -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run explicitly with --ignored --nocapture"]
async fn bench_hd_prov_2_check_sync_fan_out_to_1000_devices() {
    if !peers::available("sipp") {
        return;
    }
    const DEVICES: u32 = 1000;
    let server = block_in_place(Server::start);
    let api = server.api();
    api.post("/domains", json!({ "name": DOMAIN })).await;
    let mut rows = Vec::new();
    for i in 0..DEVICES {
        let ext = format!("{}", 94000 + i);
        api.post(
            &format!("/domains/{DOMAIN}/devices"),
            json!({"mac": format!("0015650{i:05x}"), "model": "yealink-t46u",
                   "extension": ext, "sip_password": PASSWORD}),
        )
        .await;
        rows.push(ext);
    }
    let port = peers::free_port();
    let mut sipp = Sipp::new(
        server.sip_udp.expect("SIP/UDP"),
        "register_auth.xml",
        DOMAIN,
        users_csv(rows.iter().map(|e| (e.as_str(), PASSWORD))),
    );
    sipp.port = port;
    sipp.calls = DEVICES;
    sipp.rate = 200;
    let dir = peers::scratch(&server.dir(), "fanout");
    let run = block_in_place(|| sipp.run(&dir));
    assert!(run.passed(), "registration failed:\n{}", run.output);
    api.send(
        reqwest::Method::PUT,
        &format!("/domains/{DOMAIN}/templates/bulk"),
        Some(&json!({"format": "cfg", "line_label": "desk [[extension]]"})),
    )
    .await;

    let socket = std::net::UdpSocket::bind(("127.0.0.1", port)).expect("phones' port");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let phones = std::thread::spawn(move || answer_check_syncs(&socket, DEVICES as usize));
    let started = std::time::Instant::now();
    let reply = api
        .post(
            &format!("/domains/{DOMAIN}/templates/bulk/apply"),
            json!({"devices": rows, "resync": true}),
        )
        .await;
    let answered = started.elapsed();
    let (count, first, last) = phones.join().expect("phones");
    assert_eq!(reply["resynced"], DEVICES);
    assert_eq!(count, DEVICES as usize, "every device got check-sync");
    let (first, last) = (first.expect("first"), last.expect("last"));
    println!(
        "apply+resync {DEVICES} devices: API answered in {answered:.2?}; first check-sync after \
         {:.2?}, last after {:.2?}; fan-out (first to last NOTIFY) {:.2?}",
        first - started,
        last - started,
        last - first
    );
}
