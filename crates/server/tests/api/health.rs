//! `/healthz`, `/metrics`, `/api/v1/openapi.json`, unknown routes and methods.

use axum::http::{Method, StatusCode};

use crate::harness::{Harness, ADMIN};

#[tokio::test]
async fn healthz_answers_without_a_token() {
    let h = Harness::sqlite().await;
    let reply = h
        .call(Method::GET, "/healthz", None, None)
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["status"], "ok");
}

#[tokio::test]
async fn metrics_count_things_and_requests() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.device("acme.test", "94001", 1).await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    h.call(Method::GET, "/api/v1/domains", None, None).await;
    let reply = h
        .call(Method::GET, "/metrics", None, None)
        .await
        .ok(StatusCode::OK);
    let value = |name: &str| -> u64 {
        reply
            .text
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{name} missing in:\n{}", reply.text))
    };
    assert_eq!(value("hotdesk_domains "), 1);
    assert_eq!(value("hotdesk_users "), 1);
    assert_eq!(value("hotdesk_devices "), 1);
    assert_eq!(value("hotdesk_associations "), 1);
    assert_eq!(value("hotdesk_logins_total "), 1);
    assert_eq!(value("hotdesk_http_requests_total{class=\"4xx\"} "), 1);
    assert!(value("hotdesk_http_requests_total{class=\"2xx\"} ") >= 4);
    assert!(reply.text.contains("# TYPE hotdesk_logins_total counter"));
}

#[tokio::test]
async fn openapi_describes_every_resource() {
    let h = Harness::sqlite().await;
    let reply = h
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .ok(StatusCode::OK);
    assert!(reply.json["openapi"].as_str().unwrap().starts_with("3."));
    let paths = reply.json["paths"].as_object().unwrap();
    for path in [
        "/api/v1/domains",
        "/api/v1/domains/{d}",
        "/api/v1/domains/{d}/users",
        "/api/v1/domains/{d}/users:import",
        "/api/v1/domains/{d}/users/{ext}",
        "/api/v1/domains/{d}/users/{ext}/mailbox",
        "/api/v1/domains/{d}/users/{ext}/activate",
        "/api/v1/domains/{d}/devices",
        "/api/v1/domains/{d}/devices/{ext}",
        "/api/v1/domains/{d}/devices/{ext}/login",
        "/api/v1/domains/{d}/devices/{ext}/logout",
        "/api/v1/domains/{d}/associations",
        "/api/v1/domains/{d}/trunks",
        "/api/v1/domains/{d}/cdrs",
        "/api/v1/domains/{d}/audit",
        "/api/v1/auth/login",
        "/api/v1/events",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let schemas = reply.json["components"]["schemas"].as_object().unwrap();
    for schema in [
        "NewUser",
        "UserView",
        "NewDevice",
        "DeviceView",
        "ErrorBody",
        "SessionChange",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
    assert!(reply.json["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let h = Harness::sqlite().await;
    h.call(Method::GET, "/api/v1/nothing-here", Some(ADMIN), None)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    h.call(Method::GET, "/elsewhere", None, None)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    h.call(Method::PUT, "/api/v1/domains", Some(ADMIN), None)
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}
