//! `/domains`: create, list, get, patch (merged and validated settings), delete.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Harness, ADMIN};

#[tokio::test]
async fn domain_create_get_list_and_delete() {
    let h = Harness::sqlite().await;
    let reply = h
        .post("/api/v1/domains", json!({"name": "Acme.TEST"}))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(reply.json["name"], "acme.test");
    assert_eq!(reply.json["settings"]["time_zone"], "UTC");
    assert_eq!(
        reply.json["settings"]["codes"]["login"],
        json!(["*44", "*88"])
    );
    assert_eq!(reply.json["counts"]["users"], 0);

    h.post("/api/v1/domains", json!({"name": "acme.test"}))
        .await
        .error(StatusCode::CONFLICT, "domain_exists");
    h.domain("beta.test").await;
    let list = h.get("/api/v1/domains").await.ok(StatusCode::OK);
    let names: Vec<&str> = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme.test", "beta.test"]);

    h.get("/api/v1/domains/acme.test").await.ok(StatusCode::OK);
    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test",
        Some(ADMIN),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    h.get("/api/v1/domains/acme.test")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_domain");
}

#[tokio::test]
async fn domain_bad_names_are_422_naming_the_field() {
    let h = Harness::sqlite().await;
    for name in ["bad name", "-x.test", "a..b", "x'; DROP TABLE domains;--"] {
        let reply = h
            .post("/api/v1/domains", json!({"name": name}))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        assert_eq!(reply.json["error"]["field"], "name");
    }
    assert_eq!(h.get("/api/v1/domains").await.json, json!([]));
}

#[tokio::test]
async fn domain_patch_merges_settings() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/domains/acme.test",
            Some(ADMIN),
            Some(
                json!({"settings": {"time_zone": "Europe/Paris", "lockout": {"max_failures": 3}}}),
            ),
        )
        .await
        .ok(StatusCode::OK);
    let settings = &reply.json["settings"];
    assert_eq!(settings["time_zone"], "Europe/Paris");
    assert_eq!(settings["lockout"]["max_failures"], 3);
    assert_eq!(settings["lockout"]["lock_secs"], 900);
    // Seats given at creation by the harness are kept.
    assert_eq!(settings["seats"]["standard"], 20);
}

#[tokio::test]
async fn domain_patch_refuses_bad_values_and_changes_nothing() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let before = h.get("/api/v1/domains/acme.test").await.json;
    let cases = [
        (json!({"time_zone": "Mars/Olympus"}), "settings.time_zone"),
        (
            json!({"device_ranges": [{"first": 500, "last": 400}]}),
            "settings.device_ranges",
        ),
        (json!({"codes": {"login": ["*4a"]}}), "settings.codes.login"),
        (json!({"codes": {"toggle": "*45"}}), "settings.codes.toggle"),
        (
            json!({"emergency_numbers": []}),
            "settings.emergency_numbers",
        ),
        (
            json!({"lockout": {"max_failures": "5"}}),
            "settings.lockout.max_failures",
        ),
        (json!({"colour": "blue"}), "settings.colour"),
    ];
    for (patch, field) in cases {
        let reply = h
            .call(
                Method::PATCH,
                "/api/v1/domains/acme.test",
                Some(ADMIN),
                Some(json!({"settings": patch})),
            )
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        assert_eq!(reply.json["error"]["field"], field, "{}", reply.text);
    }
    assert_eq!(h.get("/api/v1/domains/acme.test").await.json, before);
}

#[tokio::test]
async fn hd_login_5_shrinking_seats_below_allocations_is_refused() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user_with(
        "acme.test",
        json!({"extension": "1001", "first_name": "A", "max_devices": 5}),
    )
    .await;
    h.user_with(
        "acme.test",
        json!({"extension": "1002", "first_name": "B", "max_devices": 3}),
    )
    .await;
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/domains/acme.test",
            Some(ADMIN),
            Some(json!({"settings": {"seats": {"standard": 1}}})),
        )
        .await
        .error(StatusCode::CONFLICT, "pool_exceeded");
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("8 of 5"),
        "{}",
        reply.text
    );
    let now = h.get("/api/v1/domains/acme.test").await;
    assert_eq!(now.json["settings"]["seats"]["standard"], 20);
    assert_eq!(now.json["counts"]["allocations"], 8);
}
