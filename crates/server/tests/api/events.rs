//! `GET /events` (SSE): log-ins reach subscribers, filtered by domain (HD-SEC-1).

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hotdesk_core::Scope;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::harness::Harness;

/// Opens the stream with `token`; returns the body to read frames from.
async fn subscribe(h: &Harness, token: &str) -> Body {
    let request = Request::builder()
        .uri("/api/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = h.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    response.into_body()
}

/// The next SSE event (name, JSON data), skipping comments.
async fn next_event(body: &mut Body) -> (String, Value) {
    let mut buffer = String::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("an event within 5 s")
            .expect("stream open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !name.is_empty() {
                return (name, serde_json::from_str(&data).expect("JSON data"));
            }
        }
    }
}

#[tokio::test]
async fn sse_delivers_logins_of_the_callers_domain_only() {
    let h = Harness::sqlite().await;
    for d in ["acme.test", "beta.test"] {
        h.domain(d).await;
        h.user(d, "1004", "1234").await;
        h.device(d, "94001", 1).await;
    }
    let acme = h.token(Scope::DomainAdmin, "acme.test", None).await;
    let mut stream = subscribe(&h, &acme).await;
    // Beta's log-in first: it must not reach acme's subscriber.
    h.login("beta.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    let (name, data) = next_event(&mut stream).await;
    assert_eq!(name, "logged_in");
    assert_eq!(data["type"], "logged_in");
    assert_eq!(data["domain"], "acme.test");
    assert_eq!(data["device"], "94001");
    assert_eq!(data["user"], "1004");
    assert_eq!(data["method"], "api");

    h.post(
        "/api/v1/domains/acme.test/devices/94001/logout",
        serde_json::json!({}),
    )
    .await;
    let (name, data) = next_event(&mut stream).await;
    assert_eq!(name, "logged_out");
    assert_eq!(data["reason"], "forced");
}

#[tokio::test]
async fn sse_user_token_sees_only_its_own_events() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.user("acme.test", "1005", "1235").await;
    h.device("acme.test", "94001", 1).await;
    h.device("acme.test", "94002", 2).await;
    let bob = h.token(Scope::User, "acme.test", Some("1004")).await;
    let mut stream = subscribe(&h, &bob).await;
    h.login("acme.test", "94002", "1005")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    let (_, data) = next_event(&mut stream).await;
    assert_eq!(data["user"], "1004");
}

#[tokio::test]
async fn sse_needs_a_token() {
    let h = Harness::sqlite().await;
    h.call(axum::http::Method::GET, "/api/v1/events", None, None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthenticated");
}
