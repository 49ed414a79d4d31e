//! `PUT …/users/{ext}/mailbox` (HD-MWI-1).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Harness, ADMIN};

#[tokio::test]
async fn hd_mwi_1_mailbox_counts_are_set_and_shown() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    let path = "/api/v1/domains/acme.test/users/1004/mailbox";
    let reply = h
        .call(
            Method::PUT,
            path,
            Some(ADMIN),
            Some(json!({"new": 2, "old": 5})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json, json!({"new": 2, "old": 5}));
    let user = h.get("/api/v1/domains/acme.test/users/1004").await;
    assert_eq!(user.json["mailbox"], json!({"new": 2, "old": 5}));

    for bad in [
        json!({"new": -1, "old": 0}),
        json!({"new": 1}),
        json!({"new": "2", "old": 0}),
    ] {
        h.call(Method::PUT, path, Some(ADMIN), Some(bad))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
    h.call(
        Method::PUT,
        "/api/v1/domains/acme.test/users/1999/mailbox",
        Some(ADMIN),
        Some(json!({"new": 1, "old": 0})),
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_user");
    let user = h.get("/api/v1/domains/acme.test/users/1004").await;
    assert_eq!(user.json["mailbox"], json!({"new": 2, "old": 5}));
}
