//! Bad input: each is a clear 4xx in the error shape, and changes nothing.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::harness::{Harness, Reply, ADMIN};

async fn raw(
    h: &Harness,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Reply {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    if let Some(ct) = content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    h.send(builder.body(body.into()).unwrap()).await
}

async fn state(h: &Harness) -> Vec<Value> {
    let mut all = Vec::new();
    for path in ["", "/users", "/devices", "/associations"] {
        all.push(
            h.get(&format!("/api/v1/domains/acme.test{path}"))
                .await
                .json,
        );
    }
    all
}

async fn office() -> Harness {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.device("acme.test", "94001", 1).await;
    h
}

#[tokio::test]
async fn malformed_json_is_400_and_changes_nothing() {
    let h = office().await;
    let before = state(&h).await;
    for body in [
        "{",
        "{\"extension\": \"1005\",}",
        "not json",
        "",
        "{\"extension\":\"1005\",\"first_name\":\"A\"} trailing",
    ] {
        raw(
            &h,
            Method::POST,
            "/api/v1/domains/acme.test/users",
            Some("application/json"),
            body,
        )
        .await
        .error(StatusCode::BAD_REQUEST, "malformed_json");
    }
    assert_eq!(state(&h).await, before);
}

#[tokio::test]
async fn missing_content_type_is_415() {
    let h = office().await;
    raw(
        &h,
        Method::POST,
        "/api/v1/domains/acme.test/users",
        Some("text/plain"),
        r#"{"extension":"1005","first_name":"A"}"#,
    )
    .await
    .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    raw(
        &h,
        Method::POST,
        "/api/v1/domains/acme.test/users",
        None,
        "{}",
    )
    .await
    .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn unknown_fields_wrong_types_and_missing_fields_name_the_field() {
    let h = office().await;
    let before = state(&h).await;
    let cases = [
        (
            json!({"extension": "1005", "first_name": "A", "pin_hash": "x"}),
            "pin_hash",
        ),
        (
            json!({"extension": "1005", "first_name": "A", "max_devices": "two"}),
            "max_devices",
        ),
        (
            json!({"extension": "1005", "first_name": "A", "max_devices": 300}),
            "max_devices",
        ),
        (json!({"extension": 1005, "first_name": "A"}), "extension"),
        (json!({"extension": "1005"}), "first_name"),
        (
            json!({"extension": "1005", "first_name": "A", "scope": "god"}),
            "scope",
        ),
        (
            json!({"extension": "1005", "first_name": "A", "seat": 5}),
            "seat",
        ),
        (
            json!({"extension": "1005", "first_name": "A", "pin": "12ab"}),
            "pin",
        ),
        (
            json!({"extension": "1005", "first_name": "A", "sip_password": "short"}),
            "sip_password",
        ),
        (
            json!({"extension": "1005", "first_name": "A", "did": "call me"}),
            "did",
        ),
        (
            json!({"extension": "1005", "first_name": "A\u{0007}"}),
            "first_name",
        ),
        (
            json!({"extension": "1005", "first_name": "x".repeat(65)}),
            "first_name",
        ),
        (
            json!({"extension": "1'; DROP TABLE users;--", "first_name": "A"}),
            "extension",
        ),
        (json!([1, 2, 3]), "body"),
    ];
    for (body, field) in cases {
        let reply = h
            .post("/api/v1/domains/acme.test/users", body.clone())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_field");
        assert_eq!(
            reply.json["error"]["field"], field,
            "{body}: {}",
            reply.text
        );
    }
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/domains/acme.test/devices/94001",
            Some(ADMIN),
            Some(json!({"location": {"country": "US", "planet": "Mars"}})),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(reply.json["error"]["field"], "location.planet");
    assert_eq!(state(&h).await, before);
}

#[tokio::test]
async fn sql_looking_text_is_stored_verbatim_and_paths_with_it_are_404() {
    let h = office().await;
    let name = "Robert'); DROP TABLE users;--";
    h.user_with(
        "acme.test",
        json!({"extension": "1005", "first_name": name, "last_name": "\" OR 1=1 --"}),
    )
    .await;
    let reply = h
        .get("/api/v1/domains/acme.test/users/1005")
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["first_name"], name);
    assert_eq!(reply.json["last_name"], "\" OR 1=1 --");
    h.get("/api/v1/domains/acme.test/users/1005%27%20OR%201=1")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_user");
    h.get("/api/v1/domains/acme.test'--/users")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_domain");
    let users = h.get("/api/v1/domains/acme.test/users").await;
    assert_eq!(users.json.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let h = office().await;
    let before = state(&h).await;
    let big = format!(
        r#"{{"extension":"1005","first_name":"{}"}}"#,
        "a".repeat(1024 * 1024 + 10)
    );
    raw(
        &h,
        Method::POST,
        "/api/v1/domains/acme.test/users",
        Some("application/json"),
        big,
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let huge_csv = "1005,A\n".repeat(3 * 1024 * 1024);
    raw(
        &h,
        Method::POST,
        "/api/v1/domains/acme.test/users:import",
        Some("text/csv"),
        huge_csv,
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(state(&h).await, before);
}
