//! A restart (drop the App, reopen the same database) keeps everything: associations,
//! users, devices, trunks, settings, mailbox, tokens.

use axum::http::{Method, StatusCode};
use hotdesk_core::Scope;
use serde_json::{json, Value};

use crate::harness::{Harness, ADMIN};

async fn everything(h: &Harness) -> Vec<Value> {
    let mut all = Vec::new();
    for path in [
        "",
        "/users",
        "/devices",
        "/associations",
        "/trunks",
        "/audit",
    ] {
        let mut json = h
            .get(&format!("/api/v1/domains/acme.test{path}"))
            .await
            .json;
        millis(&mut json);
        all.push(json);
    }
    all
}

/// The store keeps `last_activity` to the millisecond (it is rewritten on every call);
/// compare it at that precision.
fn millis(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if key == "last_activity" => {
                        if let Ok(at) = text.parse::<jiff::Timestamp>() {
                            let ms = at.as_millisecond();
                            *text = jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
                        }
                    }
                    other => millis(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(millis),
        _ => {}
    }
}

pub(crate) async fn restart_keeps_state(h: Harness) {
    h.domain("acme.test").await;
    h.call(
        Method::PATCH,
        "/api/v1/domains/acme.test",
        Some(ADMIN),
        Some(json!({"settings": {"time_zone": "America/New_York", "end_of_day": "19:00"}})),
    )
    .await
    .ok(StatusCode::OK);
    for (ext, n) in [("94001", 1), ("94002", 2), ("94003", 3)] {
        h.device("acme.test", ext, n).await;
    }
    h.user("acme.test", "1004", "1234").await;
    h.user_with(
        "acme.test",
        json!({"extension": "1006", "first_name": "Multi", "max_devices": 2}),
    )
    .await;
    h.post(
        "/api/v1/domains/acme.test/trunks",
        json!({"name": "up", "address": "sip.up.test"}),
    )
    .await
    .ok(StatusCode::CREATED);
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94002", "1006")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94003", "1006")
        .await
        .ok(StatusCode::OK);
    h.call(
        Method::PUT,
        "/api/v1/domains/acme.test/users/1004/mailbox",
        Some(ADMIN),
        Some(json!({"new": 3, "old": 1})),
    )
    .await
    .ok(StatusCode::OK);
    let user_token = h.token(Scope::User, "acme.test", Some("1004")).await;
    let before = everything(&h).await;
    assert_eq!(before[3].as_array().unwrap().len(), 3);

    let h = h.restart().await;
    assert_eq!(everything(&h).await, before);
    h.call(Method::GET, "/api/v1/auth/me", Some(&user_token), None)
        .await
        .ok(StatusCode::OK);
    // The restored book still enforces HD-LOGIN-4: 1006 holds 2 of 2.
    h.device("acme.test", "94004", 4).await;
    h.login("acme.test", "94004", "1006")
        .await
        .error(StatusCode::CONFLICT, "allocation_full");
}

#[tokio::test]
async fn restart_keeps_associations_and_everything_else() {
    restart_keeps_state(Harness::sqlite().await).await;
}
