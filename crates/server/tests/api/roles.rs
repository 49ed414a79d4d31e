//! HD-SEC-4 roles inside one domain (core's `authorize`): user (own account, sessions,
//! mailbox, activation), office manager (desks, devices, records; HD-LOGIN-11), domain
//! admin (users, settings, trunks), super admin (domains).

use axum::http::{Method, StatusCode};
use hotdesk_core::Scope;
use serde_json::{json, Value};

use crate::harness::Harness;

async fn office() -> Harness {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.user("acme.test", "1005", "1235").await;
    h.device("acme.test", "94001", 1).await;
    h.device("acme.test", "94002", 2).await;
    h
}

/// Calls and returns the status (and the body, for failures).
async fn status(
    h: &Harness,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> StatusCode {
    let reply = h
        .call(method, &format!("/api/v1{path}"), Some(token), body)
        .await;
    if reply.status.is_client_error() {
        assert!(reply.json["error"]["code"].is_string(), "{}", reply.text);
    }
    reply.status
}

#[tokio::test]
async fn hd_sec_4_user_acts_only_for_themself() {
    let h = office().await;
    let me = h.token(Scope::User, "acme.test", Some("1004")).await;
    let d = "/domains/acme.test";
    let forbidden = StatusCode::FORBIDDEN;
    let cases: Vec<(Method, String, Option<Value>, StatusCode)> = vec![
        (Method::GET, format!("{d}/users/1004"), None, StatusCode::OK),
        (Method::GET, format!("{d}/users/1005"), None, forbidden),
        (Method::GET, format!("{d}/users"), None, forbidden),
        (
            Method::POST,
            format!("{d}/users"),
            Some(json!({"extension": "1010", "first_name": "X"})),
            forbidden,
        ),
        (
            Method::PATCH,
            format!("{d}/users/1004"),
            Some(json!({"scope": "domain_admin"})),
            forbidden,
        ),
        (Method::DELETE, format!("{d}/users/1005"), None, forbidden),
        (
            Method::POST,
            format!("{d}/devices"),
            Some(json!({"mac": "0015650000a1", "model": "yealink-t46u", "extension": "94005"})),
            forbidden,
        ),
        (
            Method::PATCH,
            format!("{d}/devices/94001"),
            Some(json!({"site": "x"})),
            forbidden,
        ),
        (
            Method::DELETE,
            format!("{d}/devices/94001"),
            None,
            forbidden,
        ),
        (
            Method::POST,
            format!("{d}/devices/94001/login"),
            Some(json!({"extension": "1005"})),
            forbidden,
        ),
        (
            Method::POST,
            format!("{d}/devices/94001/login"),
            Some(json!({"extension": "1004"})),
            StatusCode::OK,
        ),
        (
            Method::PUT,
            format!("{d}/users/1004/mailbox"),
            Some(json!({"new": 1, "old": 2})),
            StatusCode::OK,
        ),
        (
            Method::PUT,
            format!("{d}/users/1005/mailbox"),
            Some(json!({"new": 1, "old": 2})),
            forbidden,
        ),
        (
            Method::POST,
            format!("{d}/users/1005/activate"),
            Some(json!({"device": "94001"})),
            forbidden,
        ),
        (
            Method::PATCH,
            d.to_owned(),
            Some(json!({"settings": {"time_zone": "Europe/Paris"}})),
            forbidden,
        ),
        (Method::DELETE, d.to_owned(), None, forbidden),
        (Method::GET, format!("{d}/audit"), None, forbidden),
        // Own calls only (the portal's "my recent calls"; see records.rs).
        (Method::GET, format!("{d}/cdrs"), None, StatusCode::OK),
        (Method::GET, format!("{d}/trunks"), None, forbidden),
        (
            Method::POST,
            "/domains".to_owned(),
            Some(json!({"name": "mine.test"})),
            forbidden,
        ),
        (Method::GET, format!("{d}/devices"), None, StatusCode::OK),
        (Method::GET, d.to_owned(), None, StatusCode::OK),
    ];
    for (method, path, body, expected) in cases {
        assert_eq!(
            status(&h, &me, method.clone(), &path, body).await,
            expected,
            "{method} {path}"
        );
    }
    // A user sees only their own sessions.
    h.login("acme.test", "94002", "1005")
        .await
        .ok(StatusCode::OK);
    let list = h
        .call(
            Method::GET,
            "/api/v1/domains/acme.test/associations",
            Some(&me),
            None,
        )
        .await;
    let users: Vec<&str> = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["1004"]);
}

#[tokio::test]
async fn hd_sec_4_office_manager_runs_desks_but_not_the_domain() {
    let h = office().await;
    let om = h.token(Scope::OfficeManager, "acme.test", None).await;
    let d = "/domains/acme.test";
    let cases: Vec<(Method, String, Option<Value>, StatusCode)> = vec![
        (
            Method::POST,
            format!("{d}/devices"),
            Some(json!({"mac": "0015650000a1", "model": "yealink-t46u", "extension": "94005"})),
            StatusCode::CREATED,
        ),
        (
            Method::PATCH,
            format!("{d}/devices/94005"),
            Some(json!({"site": "HQ"})),
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            format!("{d}/devices/94005"),
            None,
            StatusCode::NO_CONTENT,
        ),
        (Method::GET, format!("{d}/users"), None, StatusCode::OK),
        (
            Method::POST,
            format!("{d}/devices/94001/login"),
            Some(json!({"extension": "1005"})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{d}/devices/94001/logout"),
            None,
            StatusCode::OK,
        ),
        (Method::GET, format!("{d}/audit"), None, StatusCode::OK),
        (
            Method::POST,
            format!("{d}/users"),
            Some(json!({"extension": "1010", "first_name": "X"})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            format!("{d}/users/1004"),
            Some(json!({"first_name": "Y"})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            d.to_owned(),
            Some(json!({"settings": {"time_zone": "Europe/Paris"}})),
            StatusCode::FORBIDDEN,
        ),
        (Method::GET, format!("{d}/cdrs"), None, StatusCode::OK),
        (
            Method::POST,
            format!("{d}/trunks"),
            Some(json!({"name": "t", "address": "t.test"})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("{d}/users/1004/mailbox"),
            Some(json!({"new": 1, "old": 0})),
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("{d}/trunks"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("{d}/users/1005"),
            None,
            StatusCode::FORBIDDEN,
        ),
    ];
    for (method, path, body, expected) in cases {
        assert_eq!(
            status(&h, &om, method.clone(), &path, body).await,
            expected,
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn hd_sec_4_domain_admin_runs_the_domain_but_cannot_escalate() {
    let h = office().await;
    let admin = h.token(Scope::DomainAdmin, "acme.test", None).await;
    let d = "/domains/acme.test";
    let cases: Vec<(Method, String, Option<Value>, StatusCode)> = vec![
        (
            Method::POST,
            format!("{d}/users"),
            Some(json!({"extension": "1010", "first_name": "X", "scope": "office_manager"})),
            StatusCode::CREATED,
        ),
        (
            Method::POST,
            format!("{d}/users"),
            Some(json!({"extension": "1011", "first_name": "X", "scope": "super_admin"})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            format!("{d}/users/1004"),
            Some(json!({"scope": "super_admin"})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            d.to_owned(),
            Some(json!({"settings": {"time_zone": "Europe/Paris"}})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{d}/trunks"),
            Some(json!({"name": "t", "address": "t.test"})),
            StatusCode::CREATED,
        ),
        (Method::GET, format!("{d}/cdrs"), None, StatusCode::OK),
        (
            Method::PUT,
            format!("{d}/users/1004/mailbox"),
            Some(json!({"new": 1, "old": 0})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/domains".to_owned(),
            Some(json!({"name": "mine.test"})),
            StatusCode::FORBIDDEN,
        ),
        (Method::DELETE, d.to_owned(), None, StatusCode::FORBIDDEN),
    ];
    for (method, path, body, expected) in cases {
        assert_eq!(
            status(&h, &admin, method.clone(), &path, body).await,
            expected,
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn hd_sec_4_signed_in_manager_gets_their_scope() {
    let h = office().await;
    h.user_with(
        "acme.test",
        json!({"extension": "1020", "first_name": "Olga", "pin": "2580", "scope": "office_manager"}),
    )
    .await;
    let reply = h
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"domain": "acme.test", "extension": "1020", "pin": "2580"})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["scope"], "office_manager");
    let token = reply.json["token"].as_str().unwrap();
    let status = h
        .call(
            Method::POST,
            "/api/v1/domains/acme.test/devices/94001/login",
            Some(token),
            Some(json!({"extension": "1004"})),
        )
        .await
        .status;
    assert_eq!(status, StatusCode::OK);
}
