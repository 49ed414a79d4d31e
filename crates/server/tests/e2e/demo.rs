//! `hotdesk serve --demo` (SPEC §4): the demo domain is created, is usable through the API,
//! survives a second `--demo` start unchanged, and the printed instructions work.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use tokio::task::block_in_place;

use crate::harness::{field, Api, Options, Server};

fn demo(extra: Options) -> Server {
    block_in_place(|| {
        Server::with(Options {
            demo: true,
            ..extra
        })
    })
}

fn number(row: &Value, key: &str) -> u64 {
    row.get(key).and_then(Value::as_u64).unwrap_or_default()
}

/// Users, devices and settings of the demo domain as the API shows them.
struct Snapshot {
    users: Vec<Value>,
    devices: Vec<Value>,
    domain: Value,
}

async fn snapshot(api: &Api, domain: &str) -> Snapshot {
    Snapshot {
        users: api.list(&format!("/domains/{domain}/users")).await,
        devices: api.list(&format!("/domains/{domain}/devices")).await,
        domain: api.get(&format!("/domains/{domain}")).await,
    }
}

fn extensions(rows: &[Value]) -> BTreeSet<String> {
    rows.iter().map(|r| field(r, "extension")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_4_demo_creates_a_usable_domain_and_is_idempotent() {
    let mut server = demo(Options::default());
    let api = server.api();
    let first = snapshot(&api, "acme.test").await;

    // Ten users 1001–1010, one of them multi-desk with allocation 3 (HD-LOGIN-4).
    let users = extensions(&first.users);
    let expected: BTreeSet<String> = (1001..=1010).map(|n: u32| n.to_string()).collect();
    assert_eq!(users, expected);
    assert!(first.users.iter().any(|u| number(u, "max_devices") == 3));
    assert!(first
        .users
        .iter()
        .all(|u| !field(u, "first_name").is_empty()));
    assert!(first.users.iter().all(|u| !field(u, "did").is_empty()));

    // Hot desks in both default ranges (HD-LOGIN-11), Yealink and Polycom, plus one
    // location phone and one personal phone.
    let kind = |k: &str| -> Vec<&Value> {
        first
            .devices
            .iter()
            .filter(|d| field(d, "kind") == k)
            .collect()
    };
    let hot: Vec<u64> = kind("hotdesk")
        .iter()
        .filter_map(|d| field(d, "extension").parse().ok())
        .collect();
    assert!(hot.iter().any(|n| (94000..=94999).contains(n)), "{hot:?}");
    assert!(hot.iter().any(|n| (5400..=5499).contains(n)), "{hot:?}");
    assert_eq!(kind("location").len(), 1);
    assert_eq!(kind("personal").len(), 1);
    let models: Vec<String> = first.devices.iter().map(|d| field(d, "model")).collect();
    assert!(
        models.iter().any(|m| m.starts_with("yealink-")),
        "{models:?}"
    );
    assert!(
        models.iter().any(|m| m.starts_with("polycom-")),
        "{models:?}"
    );

    // HD-LOGIN-5: the seat pool covers every allocation handed out.
    let seats = &first.domain["settings"]["seats"];
    let pool = 5 * (number(seats, "standard") + number(seats, "advanced")) + number(seats, "basic");
    let used: u64 = first.users.iter().map(|u| number(u, "max_devices")).sum();
    assert!(used <= pool && pool > 0, "pool {pool}, used {used}");

    // The printed instructions carry the real API address, the token and a curl example.
    block_in_place(|| server.wait_for_line("curl "));
    let output = server.output();
    assert!(
        output.contains(&format!("{}/api/v1", server.url())),
        "{output}"
    );
    assert!(output.contains(server.admin_token()), "{output}");
    assert!(output.contains("curl "), "{output}");

    // The demo is usable at once: log the multi-desk user in to two desks.
    let multi = first
        .users
        .iter()
        .find(|u| number(u, "max_devices") == 3)
        .map(|u| field(u, "extension"))
        .unwrap_or_default();
    let mut desks = hot.iter().map(u64::to_string);
    let (a, b) = (
        desks.next().unwrap_or_default(),
        desks.next().unwrap_or_default(),
    );
    for desk in [&a, &b] {
        let path = format!("/domains/acme.test/devices/{desk}/login");
        api.post(&path, json!({ "extension": multi })).await;
    }

    // A second `--demo` start changes nothing and keeps the sessions.
    block_in_place(|| server.restart());
    let api = server.api();
    let second = snapshot(&api, "acme.test").await;
    assert_eq!(extensions(&second.users), users);
    assert_eq!(extensions(&second.devices), extensions(&first.devices));
    assert_eq!(second.domain["settings"], first.domain["settings"]);
    let sessions = api.list("/domains/acme.test/associations").await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_4_demo_uses_the_domain_flag_and_prints_a_working_token() {
    let server = demo(Options {
        args: vec!["--domain".into(), "demo.example".into()],
        // No admin token configured: the demo makes one and prints it.
        env: vec![("HOTDESK_ADMIN_TOKEN".into(), String::new())],
        ..Options::default()
    });
    let line = block_in_place(|| server.wait_for_line("HOTDESK_TOKEN="));
    let token = line
        .split("HOTDESK_TOKEN=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    assert!(token.starts_with("hd_"), "{line}");
    let api = Api::new(&server.url(), Some(token));
    let users = api.list("/domains/demo.example/users").await;
    assert_eq!(users.len(), 10);
    // The default acme.test was not created instead.
    let (status, _) = api
        .send(reqwest::Method::GET, "/domains/acme.test", None)
        .await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}
