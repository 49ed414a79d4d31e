//! `/domains/{d}/devices` and `/models`: HD-LOGIN-11 range, HD-PROV-5 catalogue, MACs.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Harness, ADMIN};

#[tokio::test]
async fn device_crud_round_trip_without_secrets() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let reply = h
        .post(
            "/api/v1/domains/acme.test/devices",
            json!({
                "mac": "00:15:65:AB:CD:EF", "model": "polycom-vvx-450", "kind": "hotdesk",
                "extension": "94001", "sip_password": "Device-pass-1",
                "location": {"country": "us", "city": "Springfield", "floor": "2", "room": "2.14"}
            }),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(reply.json["mac"], "001565abcdef");
    assert_eq!(reply.json["kind"], "hotdesk");
    assert_eq!(reply.json["location"]["country"], "US");
    assert_eq!(reply.json["has_sip_password"], true);
    assert_eq!(reply.json["session"], json!(null));
    assert!(!reply.text.contains("Device-pass-1") && !reply.text.contains("v1:"));

    let got = h
        .get("/api/v1/domains/acme.test/devices/94001")
        .await
        .ok(StatusCode::OK);
    assert_eq!(got.json["model"], "polycom-vvx-450");
    let patched = h
        .call(
            Method::PATCH,
            "/api/v1/domains/acme.test/devices/94001",
            Some(ADMIN),
            Some(json!({"model": "yealink-t54w", "location": null, "site": "HQ"})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(patched.json["model"], "yealink-t54w");
    assert_eq!(patched.json["location"], json!(null));
    assert_eq!(patched.json["site"], "HQ");
    let list = h
        .get("/api/v1/domains/acme.test/devices")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list.json.as_array().unwrap().len(), 1);

    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test/devices/94001",
        Some(ADMIN),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    h.get("/api/v1/domains/acme.test/devices/94001")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_device");
}

#[tokio::test]
async fn hd_prov_5_unknown_model_is_refused_with_known_models() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let reply = h
        .post(
            "/api/v1/domains/acme.test/devices",
            json!({"mac": "001565000001", "model": "acme-phone-9", "extension": "94001"}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_model");
    assert_eq!(reply.json["error"]["field"], "model");
    let message = reply.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("yealink-t46u") && message.contains("polycom-vvx-250"),
        "{message}"
    );
    let models = h.get("/api/v1/models").await.ok(StatusCode::OK);
    assert!(models
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "softphone"));
    assert_eq!(
        h.get("/api/v1/domains/acme.test/devices").await.json,
        json!([])
    );
}

#[tokio::test]
async fn hd_login_11_hotdesk_anchor_must_lie_in_the_device_range() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let reply = h
        .post(
            "/api/v1/domains/acme.test/devices",
            json!({"mac": "001565000001", "model": "yealink-t46u", "kind": "hotdesk", "extension": "1004"}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "outside_device_range");
    assert_eq!(reply.json["error"]["field"], "extension");
    // A configured range is honoured.
    h.call(
        Method::PATCH,
        "/api/v1/domains/acme.test",
        Some(ADMIN),
        Some(json!({"settings": {"device_ranges": [{"first": 7000, "last": 7099}]}})),
    )
    .await
    .ok(StatusCode::OK);
    h.post(
        "/api/v1/domains/acme.test/devices",
        json!({"mac": "001565000001", "model": "yealink-t46u", "extension": "94001"}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "outside_device_range");
    h.device("acme.test", "7001", 1).await;
}

#[tokio::test]
async fn mac_is_unique_across_domains_and_bad_macs_are_422() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.domain("beta.test").await;
    let body =
        |ext: &str, mac: &str| json!({"mac": mac, "model": "yealink-t46u", "extension": ext});
    h.post(
        "/api/v1/domains/acme.test/devices",
        body("94001", "001565000001"),
    )
    .await
    .ok(StatusCode::CREATED);
    let reply = h
        .post(
            "/api/v1/domains/beta.test/devices",
            body("94001", "00-15-65-00-00-01"),
        )
        .await
        .error(StatusCode::CONFLICT, "mac_in_use");
    assert_eq!(reply.json["error"]["field"], "mac");
    h.post(
        "/api/v1/domains/acme.test/devices",
        body("94001", "001565000002"),
    )
    .await
    .error(StatusCode::CONFLICT, "extension_in_use");
    for mac in [
        "00:15:65",
        "zz1565000001",
        "0015:6500:0001",
        "001565000001'--",
    ] {
        let reply = h
            .post("/api/v1/domains/beta.test/devices", body("94002", mac))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        assert_eq!(reply.json["error"]["field"], "mac");
    }
    assert_eq!(
        h.get("/api/v1/domains/beta.test/devices").await.json,
        json!([])
    );
}

#[tokio::test]
async fn personal_device_belongs_to_its_user_and_location_needs_country() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    let reply = h
        .post(
            "/api/v1/domains/acme.test/devices",
            json!({"mac": "001565000009", "model": "softphone", "kind": "personal", "extension": "1004"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(reply.json["owner"], "1004");
    h.post(
        "/api/v1/domains/acme.test/devices",
        json!({"mac": "00156500000a", "model": "softphone", "kind": "personal", "extension": "1005"}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_user");
    let reply = h
        .post(
            "/api/v1/domains/acme.test/devices",
            json!({"mac": "00156500000b", "model": "yealink-t46u", "kind": "location",
                   "extension": "3000", "location": {"country": "France"}}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(reply.json["error"]["field"], "location.country");
    let reply = h
        .post(
            "/api/v1/domains/acme.test/devices",
            json!({"mac": "00156500000b", "model": "yealink-t46u", "kind": "location",
                   "extension": "3000", "location": {"city": "Paris"}}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(reply.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("country"));
}
