//! The registrar end to end (RFC 3261 §10, HD-SEC-1, HD-SEC-3): SIPp registers against the
//! real binary, the API shows the result, `/events` announces it.
//!
//! Covered: digest REGISTER for 200 imported users (UDP) and over TCP, re-REGISTER,
//! unregister by Expires 0 and by `*`, a short expiry lapsing (gone from the API and, after a
//! restart, from the store), 423 with Min-Expires, wrong passwords refused and then locked
//! out per source address (audited), a user of one domain refused in another, unknown
//! domain 404, OPTIONS. Not covered here: the store batch itself (store battery), real
//! phones across a restart (`baresip.rs`), malformed traffic (`robustness.rs`).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::task::block_in_place;

use crate::harness::{field, rows, Api, Options, Server};
use crate::peers::{self, eventually, users_csv, Sipp};

pub(crate) const DOMAIN: &str = "reg.test";
pub(crate) const DEVICE: &str = "94001";
pub(crate) const DEVICE_PW: &str = "desk-secret-94001";

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

/// The domain, one hot-desk device with a SIP password, and `users` users (1000…) with
/// passwords `secret-<ext>`, imported as CSV.
pub(crate) async fn seed(api: &Api, domain: &str, users: usize) {
    api.post("/domains", json!({ "name": domain })).await;
    api.post(
        &format!("/domains/{domain}/devices"),
        json!({ "mac": "001565000001", "model": "yealink-t46u", "kind": "hotdesk",
                "extension": DEVICE, "sip_password": DEVICE_PW }),
    )
    .await;
    if users > 0 {
        let mut csv = String::from("extension,first_name,last_name,did,pin,sip_password\n");
        for i in 0..users {
            let ext = 1000 + i;
            csv.push_str(&format!("{ext},Reg,User{i},,,secret-{ext}\n"));
        }
        api.post_csv(&format!("/domains/{domain}/users:import"), &csv)
            .await;
    }
}

fn sipp(server: &Server, scenario: &str, users: String) -> Sipp {
    let target = server
        .sip_udp
        .unwrap_or_else(|| panic!("no SIP/UDP line:\n{}", server.output()));
    Sipp::new(target, scenario, DOMAIN, users)
}

fn device_csv() -> String {
    users_csv([(DEVICE, DEVICE_PW)])
}

fn run(server: &Server, sipp: &Sipp) -> peers::SippRun {
    let dir = peers::scratch(&server.dir(), "sipp");
    block_in_place(|| sipp.run(&dir))
}

pub(crate) async fn device_registration(api: &Api) -> Value {
    api.get(&format!("/domains/{DOMAIN}/devices/{DEVICE}"))
        .await
        .get("registration")
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_sec_3_sipp_registers_200_imported_users_with_digest() {
    if !peers::available("sipp") {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api, DOMAIN, 200).await;
    let passwords: Vec<(String, String)> = (1000..1200)
        .map(|e: u32| (e.to_string(), format!("secret-{e}")))
        .collect();
    let mut run_200 = sipp(
        &server,
        "register_auth.xml",
        users_csv(passwords.iter().map(|(e, p)| (e.as_str(), p.as_str()))),
    );
    run_200.calls = 200;
    run_200.rate = 100;
    let result = run(&server, &run_200);
    assert!(
        result.passed(),
        "SIPp failed:\n{}\n{}",
        result.output,
        result.logs
    );
    for ext in ["1000", "1099", "1199"] {
        let user = api.get(&format!("/domains/{DOMAIN}/users/{ext}")).await;
        let registration = &user["registration"];
        assert!(
            field(registration, "contact").starts_with(&format!("sip:{ext}@127.0.0.1:")),
            "{user}"
        );
        assert_eq!(field(registration, "user_agent"), "sipp-e2e");
    }
    // Over TCP too.
    let mut tcp = sipp(&server, "register_auth.xml", device_csv());
    tcp.target = server.sip_tcp.expect("SIP/TCP line");
    tcp.tcp = true;
    let result = run(&server, &tcp);
    assert!(result.passed(), "SIPp over TCP failed:\n{}", result.output);
    let registration = device_registration(&api).await;
    assert!(
        field(&registration, "contact")
            .to_lowercase()
            .ends_with(";transport=tcp"),
        "{registration}"
    );
    assert!(field(&registration["contacts"][0], "source").starts_with("tcp:127.0.0.1:"));
}

/// Reads `/events` until an event named `name` for `aor` arrives.
async fn next_event(
    stream: &mut reqwest::Response,
    buffer: &mut String,
    name: &str,
    aor: &str,
) -> Value {
    next_event_where(stream, buffer, name, |value| field(value, "aor") == aor).await
}

/// Reads `/events` until an event named `name` whose data `matches` arrives.
pub(crate) async fn next_event_where(
    stream: &mut reqwest::Response,
    buffer: &mut String,
    name: &str,
    matches: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = "";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if event == name {
                let value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                if matches(&value) {
                    return value;
                }
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {name} event within 30 s"))
            .unwrap_or_else(|e| panic!("event stream: {e}"))
            .unwrap_or_else(|| panic!("event stream ended before {name}"));
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Opens `/events` with the admin token.
pub(crate) async fn subscribe(server: &Server) -> reqwest::Response {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
        .get(format!("{}/api/v1/events", server.url()))
        .bearer_auth(server.admin_token())
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /events: {e}"));
    assert!(response.status().is_success());
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_10_2_register_refresh_and_unregister_show_in_api_and_events() {
    if !peers::available("sipp") {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api, DOMAIN, 0).await;
    let mut events = subscribe(&server).await;
    let mut buffer = String::new();
    let port = peers::free_port();
    let mut register = sipp(&server, "register_auth.xml", device_csv());
    register.port = port;

    assert!(device_registration(&api).await.is_null());
    assert!(run(&server, &register).passed());
    let first = device_registration(&api).await;
    assert_eq!(
        field(&first, "contact").to_lowercase(),
        format!("sip:{DEVICE}@127.0.0.1:{port};transport=udp")
    );
    assert_eq!(field(&first, "user_agent"), "sipp-e2e");
    let left = first["contacts"][0]["expires_in"].as_u64().unwrap_or(0);
    assert!(left > 0 && left <= 3600, "{first}");
    let event = next_event(&mut events, &mut buffer, "registered", DEVICE).await;
    assert_eq!(field(&event, "domain"), DOMAIN);

    // A re-REGISTER (new Call-ID) refreshes the same binding instead of adding one.
    assert!(run(&server, &register).passed());
    let refreshed = device_registration(&api).await;
    assert_eq!(rows(&refreshed["contacts"]).len(), 1, "{refreshed}");

    // Expires: 0 for the contact removes it (RFC 3261 §10.2.2).
    let mut unregister = sipp(&server, "unregister.xml", device_csv());
    unregister.port = port;
    assert!(run(&server, &unregister).passed());
    assert!(device_registration(&api).await.is_null());
    next_event(&mut events, &mut buffer, "unregistered", DEVICE).await;

    // Contact: * with Expires: 0 removes every binding, from any port.
    assert!(run(&server, &register).passed());
    assert!(!device_registration(&api).await.is_null());
    assert!(run(&server, &sipp(&server, "register_star.xml", device_csv())).passed());
    assert!(device_registration(&api).await.is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_10_2_1_short_expiry_lapses_from_api_and_store() {
    if !peers::available("sipp") {
        return;
    }
    let mut server = start(&[
        ("HOTDESK_REG_MIN_EXPIRES", "1"),
        ("HOTDESK_REG_DEFAULT_EXPIRES", "2"),
        ("HOTDESK_REG_MAX_EXPIRES", "2"),
    ]);
    let api = server.api();
    seed(&api, DOMAIN, 0).await;
    let mut events = subscribe(&server).await;
    let mut buffer = String::new();
    let result = run(&server, &sipp(&server, "register_auth.xml", device_csv()));
    assert!(result.passed(), "{}", result.output);
    // The 3600 s asked for was shortened to the maximum.
    assert!(result.logs.contains("expires=2"), "{}", result.logs);
    next_event(&mut events, &mut buffer, "registered", DEVICE).await;
    let expired = next_event(&mut events, &mut buffer, "expired", DEVICE).await;
    assert!(field(&expired, "contact").starts_with(&format!("sip:{DEVICE}@127.0.0.1:")));
    assert!(device_registration(&api).await.is_null());
    // The sweep deleted it from the store too: nothing comes back after a restart.
    block_in_place(|| server.restart());
    assert!(device_registration(&server.api()).await.is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_10_3_423_names_min_expires_and_options_answers() {
    if !peers::available("sipp") {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api, DOMAIN, 0).await;
    let result = run(
        &server,
        &sipp(&server, "register_too_brief.xml", device_csv()),
    );
    assert!(result.passed(), "{}\n{}", result.output, result.messages);
    assert!(result.logs.contains("Min-Expires 60"), "{}", result.logs);
    assert!(device_registration(&api).await.is_null());

    // RFC 3261 §11.2: OPTIONS to the server.
    let result = run(&server, &sipp(&server, "options.xml", device_csv()));
    assert!(result.passed(), "{}\n{}", result.output, result.messages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_sec_3_wrong_passwords_are_refused_then_locked_out_and_audited() {
    if !peers::available("sipp") {
        return;
    }
    let server = start(&[("HOTDESK_SIP_AUTH_MAX_FAILURES", "3")]);
    let api = server.api();
    seed(&api, DOMAIN, 0).await;
    let mut wrong = sipp(
        &server,
        "register_wrong_password.xml",
        users_csv([(DEVICE, "not-the-password")]),
    );
    wrong.calls = 3;
    wrong.rate = 5;
    let result = run(&server, &wrong);
    assert!(
        result.passed(),
        "wrong passwords must be refused:\n{}",
        result.output
    );

    // Locked: even the right password from this address is refused, without a challenge.
    let right = run(&server, &sipp(&server, "register_auth.xml", device_csv()));
    assert!(!right.passed());
    assert!(
        right.messages.contains("403 Too Many Failed Attempts"),
        "{}",
        right.messages
    );
    assert!(
        right.messages.contains("Retry-After:"),
        "{}",
        right.messages
    );
    assert!(device_registration(&api).await.is_null());

    let audit = eventually(Duration::from_secs(20), "audit rows", || async {
        let rows = api.list(&format!("/domains/{DOMAIN}/audit")).await;
        let kinds: Vec<String> = rows.iter().map(|r| field(r, "kind")).collect();
        (kinds.iter().filter(|k| *k == "sip_auth_failed").count() >= 3
            && kinds.iter().any(|k| k == "sip_locked_out"))
        .then_some(rows)
    })
    .await;
    let failed = audit
        .iter()
        .find(|r| field(r, "kind") == "sip_auth_failed")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(field(&failed, "source"), "127.0.0.1");
    assert_eq!(field(&failed, "device"), DEVICE);
    assert!(!failed.to_string().contains("not-the-password"), "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_sec_1_no_registering_across_domains_and_unknown_domain_is_404() {
    if !peers::available("sipp") {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api, DOMAIN, 0).await;
    api.post("/domains", json!({ "name": "other.test" })).await;

    // The device's own credentials, aimed at another tenant: refused.
    let mut elsewhere = sipp(&server, "register_auth.xml", device_csv());
    elsewhere.domain = "other.test".into();
    let result = run(&server, &elsewhere);
    assert!(!result.passed());
    assert!(
        result.messages.contains("SIP/2.0 403"),
        "{}",
        result.messages
    );
    let (status, _) = api
        .send(
            Method::GET,
            &format!("/domains/other.test/devices/{DEVICE}"),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);

    let mut nowhere = sipp(&server, "register_auth.xml", device_csv());
    nowhere.domain = "nowhere.test".into();
    let result = run(&server, &nowhere);
    assert!(!result.passed());
    assert!(
        result.messages.contains("SIP/2.0 404"),
        "{}",
        result.messages
    );
    assert!(device_registration(&api).await.is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_10_3_binding_acknowledged_with_200_survives_kill_9() {
    if !peers::available("sipp") {
        return;
    }
    let mut server = start(&[]);
    let api = server.api();
    seed(&api, DOMAIN, 0).await;
    assert!(run(&server, &sipp(&server, "register_auth.xml", device_csv())).passed());
    let before = device_registration(&api).await;
    assert!(!before.is_null());
    // No shutdown code runs: the 200 was only sent once the store had the binding.
    block_in_place(|| {
        server.kill9();
        server.start_again();
    });
    let after = device_registration(&server.api()).await;
    assert_eq!(field(&after, "contact"), field(&before, "contact"));
    assert_eq!(field(&after, "expires_at"), field(&before, "expires_at"));
}

/// A server with the desk registered from a port of its own: the server, the SIPp
/// registration (run it again to refresh) and that port.
async fn registered_desk() -> (Server, Sipp, u16) {
    let server = start(&[]);
    seed(&server.api(), DOMAIN, 0).await;
    let port = peers::free_port();
    let mut register = sipp(&server, "register_auth.xml", device_csv());
    register.port = port;
    assert!(run(&server, &register).passed());
    (server, register, port)
}

/// A refresh is answered at once and written behind (registrar/commit.rs): a clean stop
/// writes it, so the restarted server has the refreshed expiry, not the first one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_10_3_refresh_written_behind_is_kept_across_a_clean_restart() {
    if !peers::available("sipp") {
        return;
    }
    let (mut server, register, _) = registered_desk().await;
    let api = server.api();
    let first = device_registration(&api).await;
    // Expiry has one-second resolution: let it move before refreshing.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(run(&server, &register).passed());
    let refreshed = device_registration(&api).await;
    assert_ne!(
        field(&refreshed, "expires_at"),
        field(&first, "expires_at"),
        "the refresh must move the expiry"
    );
    block_in_place(|| server.restart());
    let after = device_registration(&server.api()).await;
    assert_eq!(field(&after, "expires_at"), field(&refreshed, "expires_at"));
}

/// An unregister right after a refresh wins over the refresh's pending write: the binding
/// does not come back from the store after a clean restart, which writes every refresh
/// still waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_10_3_unregister_after_refresh_is_not_undone_by_the_write_behind() {
    if !peers::available("sipp") {
        return;
    }
    let (mut server, register, port) = registered_desk().await;
    let api = server.api();
    assert!(run(&server, &register).passed());
    let mut unregister = sipp(&server, "unregister.xml", device_csv());
    unregister.port = port;
    assert!(run(&server, &unregister).passed());
    assert!(device_registration(&api).await.is_null());
    block_in_place(|| server.restart());
    assert!(device_registration(&server.api()).await.is_null());
}
