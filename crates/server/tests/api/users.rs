//! `/domains/{d}/users`: CRUD, no secrets in responses (HD-SEC-2), HD-LOGIN-4/5/11.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Harness, ADMIN};

#[tokio::test]
async fn user_crud_round_trip_without_secrets() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let reply = h
        .post(
            "/api/v1/domains/acme.test/users",
            json!({
                "extension": "1004", "first_name": "Bob", "last_name": "Smith",
                "did": "+15550001004", "pin": "4321", "sip_password": "Sip-secret-99",
                "seat": "advanced", "max_devices": 2, "scope": "office_manager"
            }),
        )
        .await
        .ok(StatusCode::CREATED);
    let user = &reply.json;
    assert_eq!(user["extension"], "1004");
    assert_eq!(user["seat"], "advanced");
    assert_eq!(user["scope"], "office_manager");
    assert_eq!(user["queue_status"], "offline");
    assert_eq!(user["has_pin"], true);
    assert_eq!(user["has_sip_password"], true);
    // HD-SEC-2: no secret, hashed or not, leaves the server.
    for secret in [
        "4321",
        "Sip-secret-99",
        "argon2",
        "pin_hash",
        "sip_secret",
        "v1:",
    ] {
        assert!(
            !reply.text.contains(secret),
            "{secret} leaked: {}",
            reply.text
        );
    }

    let list = h
        .get("/api/v1/domains/acme.test/users")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    assert!(!list.text.contains("argon2"));

    let patched = h
        .call(
            Method::PATCH,
            "/api/v1/domains/acme.test/users/1004",
            Some(ADMIN),
            Some(json!({"first_name": "Robert", "did": null, "pin": "9999"})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(patched.json["first_name"], "Robert");
    assert_eq!(patched.json["last_name"], "Smith");
    assert_eq!(patched.json["did"], json!(null));

    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test/users/1004",
        Some(ADMIN),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    h.get("/api/v1/domains/acme.test/users/1004")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_user");
    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test/users/1004",
        Some(ADMIN),
        None,
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_user");
}

#[tokio::test]
async fn hd_sec_2_pin_is_stored_as_argon2_and_sip_password_sealed() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user_with(
        "acme.test",
        json!({"extension": "1004", "first_name": "B", "pin": "4321", "sip_password": "Sip-secret-99"}),
    )
    .await;
    let domain = hotdesk_core::DomainName::new("acme.test").unwrap();
    let ext = hotdesk_core::Extension::new("1004").unwrap();
    let stored = h
        .app
        .store()
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.domain == domain && u.extension == ext)
        .unwrap();
    assert!(stored
        .pin_hash
        .as_deref()
        .unwrap()
        .starts_with("$argon2id$"));
    let sealed = stored.sip_secret.unwrap();
    assert!(!sealed.contains("Sip-secret-99"));
    assert_eq!(
        h.app.server_key().open(&sealed).unwrap().expose(),
        "Sip-secret-99"
    );
}

#[tokio::test]
async fn hd_login_11_users_may_not_sit_in_the_device_range() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    for ext in ["5400", "94001"] {
        let reply = h
            .post(
                "/api/v1/domains/acme.test/users",
                json!({"extension": ext, "first_name": "X"}),
            )
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "inside_device_range");
        assert_eq!(reply.json["error"]["field"], "extension");
    }
    assert_eq!(
        h.get("/api/v1/domains/acme.test/users").await.json,
        json!([])
    );
}

#[tokio::test]
async fn user_extension_taken_by_user_or_device_is_409() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.post(
        "/api/v1/domains/acme.test/users",
        json!({"extension": "1004", "first_name": "Dup"}),
    )
    .await
    .error(StatusCode::CONFLICT, "extension_in_use");
    // A location phone outside the range takes an extension too.
    h.post(
        "/api/v1/domains/acme.test/devices",
        json!({"mac": "001565aabbcc", "model": "yealink-t46u", "kind": "location", "extension": "2000"}),
    )
    .await
    .ok(StatusCode::CREATED);
    h.post(
        "/api/v1/domains/acme.test/users",
        json!({"extension": "2000", "first_name": "X"}),
    )
    .await
    .error(StatusCode::CONFLICT, "extension_in_use");
}

#[tokio::test]
async fn hd_login_4_allocation_must_fit_the_seat() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    for (seat, n) in [("standard", 6), ("basic", 2), ("standard", 0)] {
        h.post(
            "/api/v1/domains/acme.test/users",
            json!({"extension": "1001", "first_name": "A", "seat": seat, "max_devices": n}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "allocation_out_of_range");
    }
    h.user_with(
        "acme.test",
        json!({"extension": "1001", "first_name": "A", "max_devices": 5}),
    )
    .await;
    h.call(
        Method::PATCH,
        "/api/v1/domains/acme.test/users/1001",
        Some(ADMIN),
        Some(json!({"seat": "basic"})),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "allocation_out_of_range");
}

#[tokio::test]
async fn hd_login_5_pool_is_never_exceeded_and_error_names_figures() {
    let h = Harness::sqlite().await;
    h.post(
        "/api/v1/domains",
        json!({"name": "small.test", "settings": {"seats": {"standard": 1, "basic": 1}}}),
    )
    .await
    .ok(StatusCode::CREATED);
    h.user_with(
        "small.test",
        json!({"extension": "1001", "first_name": "A", "max_devices": 5}),
    )
    .await;
    h.user_with(
        "small.test",
        json!({"extension": "1002", "first_name": "B", "max_devices": 1}),
    )
    .await;
    let reply = h
        .post(
            "/api/v1/domains/small.test/users",
            json!({"extension": "1003", "first_name": "C"}),
        )
        .await
        .error(StatusCode::CONFLICT, "pool_exceeded");
    let message = reply.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("1 requested, 6 of 6"), "{message}");
    // Raising an existing allocation beyond the pool is refused too.
    h.call(
        Method::PATCH,
        "/api/v1/domains/small.test/users/1002",
        Some(ADMIN),
        Some(json!({"max_devices": 2})),
    )
    .await
    .error(StatusCode::CONFLICT, "pool_exceeded");
    let users = h.get("/api/v1/domains/small.test/users").await.json;
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert_eq!(users[1]["max_devices"], 1);
}

#[tokio::test]
async fn hd_login_9_activate_needs_the_sip_side() {
    // The in-process API has no SIP endpoint to call the phone with: 501. The call itself
    // is tested end to end (tests/e2e/ivr.rs).
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.device("acme.test", "94001", 1).await;
    h.post(
        "/api/v1/domains/acme.test/users/1004/activate",
        json!({"device": "94001"}),
    )
    .await
    .error(StatusCode::NOT_IMPLEMENTED, "not_implemented");
    h.post(
        "/api/v1/domains/acme.test/users/1004/activate",
        json!({"device": "94999"}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_device");
}

#[tokio::test]
async fn hd_login_2_pin_shared_with_another_user_is_refused() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    // `980` + PIN must name one person: a second user with the same PIN is refused.
    h.post(
        "/api/v1/domains/acme.test/users",
        json!({"extension": "1005", "first_name": "B", "pin": "1234"}),
    )
    .await
    .error(StatusCode::CONFLICT, "pin_in_use");
    h.post(
        "/api/v1/domains/acme.test/users",
        json!({"extension": "1005", "first_name": "B", "pin": "5678"}),
    )
    .await
    .ok(StatusCode::CREATED);
    h.call(
        Method::PATCH,
        "/api/v1/domains/acme.test/users/1005",
        Some(ADMIN),
        Some(json!({"pin": "1234"})),
    )
    .await
    .error(StatusCode::CONFLICT, "pin_in_use");
    // Setting your own PIN again is fine, and other domains are separate (HD-SEC-1).
    h.call(
        Method::PATCH,
        "/api/v1/domains/acme.test/users/1004",
        Some(ADMIN),
        Some(json!({"pin": "1234"})),
    )
    .await
    .ok(StatusCode::OK);
    h.domain("beta.test").await;
    h.user("beta.test", "2001", "1234").await;
}
