//! `POST …/users:import`: CSV, all or nothing, bad rows reported by line and field.

use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::harness::{Harness, Reply, ADMIN};

async fn import(h: &Harness, domain: &str, csv: String) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/domains/{domain}/users:import"))
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv))
        .unwrap();
    h.send(request).await
}

#[tokio::test]
async fn import_creates_users_whose_pins_work() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let csv = "extension,first_name,last_name,did,pin,sip_password\n\
               2001,Ann,Lee,+15550002001,1357,Sip-pass-2001\n\
               2002,Bo,\"Smith, Jr\",,,\n\
               2003,Cy,Day,,8642,\n"
        .to_owned();
    let reply = import(&h, "acme.test", csv).await.ok(StatusCode::CREATED);
    assert_eq!(
        reply.json,
        json!({"rows": 3, "imported": 3, "rejected": []})
    );
    let users = h.get("/api/v1/domains/acme.test/users").await.json;
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert_eq!(users[1]["last_name"], "Smith, Jr");
    assert_eq!(users[0]["has_sip_password"], true);
    assert_eq!(users[1]["has_pin"], false);
    h.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"domain": "acme.test", "extension": "2003", "pin": "8642"})),
    )
    .await
    .ok(StatusCode::OK);
}

#[tokio::test]
async fn import_with_bad_rows_reports_them_and_imports_nothing() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "2005", "1234").await;
    let csv = "2001,Ann,Lee,,1357,\n\
               20x2,Bo,,,,\n\
               2003,Cy,,,12,\n\
               2001,Again,,,,\n\
               2005,Taken,,,,\n\
               94001,InRange,,,,\n\
               2007,Gi,,,,short\n\
               2008,Ok,,,,\n"
        .to_owned();
    let reply = import(&h, "acme.test", csv)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
    let rows: Vec<(u64, String, String)> = reply.json["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        (2, "extension", "invalid_field"),
        (3, "pin", "invalid_field"),
        (4, "extension", "invalid_field"),
        (5, "extension", "extension_in_use"),
        (6, "extension", "inside_device_range"),
        (7, "sip_password", "invalid_field"),
    ];
    let expected: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(l, f, c)| (*l, (*f).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(rows, expected, "{}", reply.text);
    assert!(reply.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("6 of 8"));
    let users = h.get("/api/v1/domains/acme.test/users").await.json;
    assert_eq!(users.as_array().unwrap().len(), 1, "nothing imported");
}

#[tokio::test]
async fn hd_login_5_import_beyond_the_pool_is_refused() {
    let h = Harness::sqlite().await;
    h.post(
        "/api/v1/domains",
        json!({"name": "tiny.test", "settings": {"seats": {"basic": 2}}}),
    )
    .await
    .ok(StatusCode::CREATED);
    let reply = import(&h, "tiny.test", "2001,A\n2002,B\n2003,C\n".into())
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
    assert_eq!(reply.json["error"]["rows"][0]["code"], "pool_exceeded");
    assert_eq!(
        h.get("/api/v1/domains/tiny.test/users").await.json,
        json!([])
    );
}

/// Measures a 100,000-user import with PINs; run in release:
/// `cargo test -p hotdesk --release --test api import_100k -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark; see BENCHMARKS.md"]
async fn import_100k_users_with_pins() {
    let h = Harness::sqlite().await;
    h.post(
        "/api/v1/domains",
        json!({"name": "big.test", "settings": {"seats": {"standard": 20000}}}),
    )
    .await
    .ok(StatusCode::CREATED);
    let mut csv = String::from("extension,first_name,last_name,did,pin,sip_password\n");
    for i in 0..100_000u32 {
        let ext = 200_000 + i;
        csv.push_str(&format!(
            "{ext},First{i},Last{i},+1555{ext},{:06},Sip-pass-{ext}\n",
            i * 7 % 1_000_000
        ));
    }
    let size = csv.len();
    let started = Instant::now();
    let reply = import(&h, "big.test", csv).await.ok(StatusCode::CREATED);
    let elapsed = started.elapsed();
    assert_eq!(reply.json["imported"], 100_000);
    let h = h.restart_timed().await;
    assert_eq!(
        h.app.users(&"big.test".parse().unwrap()).unwrap().len(),
        100_000
    );
    println!("import of 100,000 users with PINs ({size} bytes of CSV): {elapsed:.2?}");
}

/// Prints the per-hash cost of argon2id PIN parameters (chooses `secrets::PIN_PARAMS`):
/// `cargo test -p hotdesk --release --test api pin_hash_cost -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; see BENCHMARKS.md"]
fn pin_hash_cost() {
    let pin = hotdesk_core::Pin::new("4321").unwrap();
    for memory_kib in [8, 64, 256, 1024] {
        let hasher = hotdesk_core::PinHasher::new(memory_kib, 1, 1).unwrap();
        let started = Instant::now();
        let rounds = 2_000u32;
        for i in 0..rounds {
            let mut salt = [0u8; 16];
            salt[..4].copy_from_slice(&i.to_le_bytes());
            let hash = hasher.hash(&pin, &salt).unwrap();
            assert!(hash.starts_with("$argon2id$"));
        }
        let each = started.elapsed() / rounds;
        println!("argon2id m={memory_kib} KiB t=1 p=1: {each:.2?} per hash on one core");
    }
}

/// The same import without PINs: what the store and the checks cost alone.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark; see BENCHMARKS.md"]
async fn import_100k_users_without_pins() {
    let h = Harness::sqlite().await;
    h.post("/api/v1/domains", json!({"name": "big.test"}))
        .await
        .ok(StatusCode::CREATED);
    let mut csv = String::new();
    for i in 0..100_000u32 {
        csv.push_str(&format!("{},First{i},Last{i},,,\n", 200_000 + i));
    }
    let started = Instant::now();
    let reply = import(&h, "big.test", csv).await;
    assert_eq!(reply.json["imported"], 100_000, "{}", reply.text);
    println!(
        "import of 100,000 users without PINs: {:.2?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn hd_login_2_import_refuses_shared_pins_by_line() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "2005", "1234").await;
    let csv = "2001,Ann,,,1234,\n\
               2002,Bo,,,5555,\n\
               2003,Cy,,,5555,\n\
               2004,Di,,,6666,\n"
        .to_owned();
    let reply = import(&h, "acme.test", csv)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
    let rows: Vec<(u64, String, String)> = reply.json["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String, String)> = [(1, "pin", "pin_in_use"), (3, "pin", "pin_in_use")]
        .iter()
        .map(|(l, f, c)| (*l, (*f).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(rows, expected, "{}", reply.text);
}
