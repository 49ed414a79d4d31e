//! HD-SEC-1: no route crosses domains. Another domain's resources answer exactly like a
//! domain that does not exist (404 `unknown_domain`), and nothing in it changes.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use hotdesk_core::Scope;
use serde_json::{json, Value};

use crate::harness::{Harness, Reply};

/// Every domain-scoped route, with a body that would succeed for an insider.
fn routes(d: &str) -> Vec<(Method, String, Option<Value>)> {
    let p = |s: &str| format!("/api/v1/domains/{d}{s}");
    vec![
        (Method::GET, p(""), None),
        (
            Method::PATCH,
            p(""),
            Some(json!({"settings": {"time_zone": "Europe/Paris"}})),
        ),
        (Method::DELETE, p(""), None),
        (Method::GET, p("/users"), None),
        (
            Method::POST,
            p("/users"),
            Some(json!({"extension": "2002", "first_name": "X"})),
        ),
        (Method::GET, p("/users/2001"), None),
        (
            Method::PATCH,
            p("/users/2001"),
            Some(json!({"first_name": "Mallory"})),
        ),
        (Method::DELETE, p("/users/2001"), None),
        (
            Method::POST,
            p("/users/2001/activate"),
            Some(json!({"device": "94001"})),
        ),
        (
            Method::PUT,
            p("/users/2001/mailbox"),
            Some(json!({"new": 9, "old": 9})),
        ),
        (Method::GET, p("/devices"), None),
        (
            Method::POST,
            p("/devices"),
            Some(json!({"mac": "0015650000f1", "model": "yealink-t46u", "extension": "94009"})),
        ),
        (Method::GET, p("/devices/94001"), None),
        (
            Method::PATCH,
            p("/devices/94001"),
            Some(json!({"site": "Evil"})),
        ),
        (Method::DELETE, p("/devices/94001"), None),
        (
            Method::POST,
            p("/devices/94001/login"),
            Some(json!({"extension": "2001"})),
        ),
        (Method::POST, p("/devices/94001/logout"), None),
        (
            Method::PUT,
            p("/devices/94001/mailbox"),
            Some(json!({"new": 9, "old": 0})),
        ),
        (Method::GET, p("/associations"), None),
        (Method::GET, p("/trunks"), None),
        (
            Method::POST,
            p("/trunks"),
            Some(json!({"name": "evil", "address": "evil.test"})),
        ),
        (Method::GET, p("/cdrs"), None),
        (Method::GET, p("/cdrs?format=csv"), None),
        (Method::GET, p("/audit"), None),
    ]
}

async fn import(h: &Harness, token: &str, d: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/domains/{d}/users:import"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from("2003,Imported\n"))
        .unwrap();
    h.send(request).await
}

/// Everything an admin of beta.test can see of it.
async fn snapshot(h: &Harness) -> Vec<Value> {
    let mut all = Vec::new();
    for path in ["", "/users", "/devices", "/associations", "/trunks"] {
        all.push(
            h.get(&format!("/api/v1/domains/beta.test{path}"))
                .await
                .json,
        );
    }
    all
}

async fn two_tenants() -> Harness {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.domain("beta.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.user("beta.test", "2001", "1234").await;
    h.device("beta.test", "94001", 1).await;
    h.post(
        "/api/v1/domains/beta.test/trunks",
        json!({"name": "up", "address": "sip.beta.test"}),
    )
    .await
    .ok(StatusCode::CREATED);
    h.login("beta.test", "94001", "2001")
        .await
        .ok(StatusCode::OK);
    h
}

#[tokio::test]
async fn hd_sec_1_other_domains_are_invisible_on_every_route() {
    let h = two_tenants().await;
    let before = snapshot(&h).await;
    let acme_admin = h.token(Scope::DomainAdmin, "acme.test", None).await;
    let acme_user = h.token(Scope::User, "acme.test", Some("1004")).await;
    for token in [&acme_admin, &acme_user] {
        for (method, path, body) in routes("beta.test") {
            let reply = h
                .call(method.clone(), &path, Some(token), body.clone())
                .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {}",
                reply.text
            );
            assert_eq!(
                reply.code(),
                "unknown_domain",
                "{method} {path}: {}",
                reply.text
            );
            // Indistinguishable from a domain that does not exist.
            let ghost = path.replace("beta.test", "ghost.test");
            let other = h.call(method.clone(), &ghost, Some(token), body).await;
            assert_eq!(other.text, reply.text, "{method} {path} leaks existence");
        }
        import(&h, token, "beta.test")
            .await
            .error(StatusCode::NOT_FOUND, "unknown_domain");
    }
    assert_eq!(snapshot(&h).await, before);
}

#[tokio::test]
async fn hd_sec_1_domain_list_shows_only_your_domain() {
    let h = two_tenants().await;
    let acme_admin = h.token(Scope::DomainAdmin, "acme.test", None).await;
    let reply = h
        .call(Method::GET, "/api/v1/domains", Some(&acme_admin), None)
        .await;
    let names: Vec<&str> = reply
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme.test"]);
}

#[tokio::test]
async fn hd_sec_1_cross_domain_login_is_impossible() {
    let h = two_tenants().await;
    // An acme user cannot be put on a beta desk, from either side.
    h.login("beta.test", "94001", "1004")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_user");
    h.login("acme.test", "94001", "1004")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_device");
    assert!(h.sessions("acme.test").await.is_empty());
}

#[tokio::test]
async fn hd_sec_1_same_extension_lives_in_two_domains() {
    let h = two_tenants().await;
    h.user("acme.test", "2001", "2468").await;
    h.device("acme.test", "94001", 9).await;
    h.login("acme.test", "94001", "2001")
        .await
        .ok(StatusCode::OK);
    assert_eq!(h.sessions("acme.test").await.len(), 1);
    assert_eq!(h.sessions("beta.test").await.len(), 1);
}
