//! Key scenarios again on PostgreSQL (skipped with a notice when it is unreachable;
//! `HOTDESK_REQUIRE_PG=1` makes that a failure).

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::Harness;

#[tokio::test]
async fn postgres_restart_keeps_associations_and_everything_else() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    crate::restart::restart_keeps_state(h).await;
}

#[tokio::test]
async fn postgres_hd_login_3_and_4_through_the_api() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    h.domain("acme.test").await;
    h.device("acme.test", "94001", 1).await;
    h.device("acme.test", "94002", 2).await;
    h.user("acme.test", "1004", "1234").await;
    h.user("acme.test", "1005", "1235").await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    let reply = h
        .login("acme.test", "94001", "1005")
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["ended"][0]["reason"], "takeover");
    let reply = h
        .login("acme.test", "94002", "1005")
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["ended"][0]["reason"], "moved_elsewhere");
    assert_eq!(
        h.sessions("acme.test").await,
        vec![("94002".to_owned(), "1005".to_owned())]
    );
}

#[tokio::test]
async fn postgres_hd_sec_2_lockout_and_conflicts() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "4321").await;
    h.post(
        "/api/v1/domains/acme.test/users",
        json!({"extension": "1004", "first_name": "Dup"}),
    )
    .await
    .error(StatusCode::CONFLICT, "extension_in_use");
    let body = json!({"domain": "acme.test", "extension": "1004", "pin": "0000"});
    for _ in 0..4 {
        h.call(
            axum::http::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(body.clone()),
        )
        .await
        .error(StatusCode::UNAUTHORIZED, "wrong_pin");
    }
    h.call(
        axum::http::Method::POST,
        "/api/v1/auth/login",
        None,
        Some(body),
    )
    .await
    .error(StatusCode::LOCKED, "locked_out");
}

#[tokio::test]
async fn postgres_hd_route_7_deleted_user_and_device_leave_their_queues() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    crate::queues::deleted_user_and_device_leave_their_queues(h).await;
}
