//! `PUT …/users/{ext}/mailbox` and `PUT …/devices/{ext}/mailbox` (HD-MWI-1).

use axum::http::{Method, StatusCode};
use hotdesk::provisioning::Job;
use hotdesk_core::{DomainName, Extension, Scope};
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

/// A free desk's light shows its anchor extension's own box; a user logged in replaces it
/// with theirs until they leave. Only a change to the box it shows re-notifies the phone.
#[tokio::test]
async fn hd_mwi_1_free_desk_shows_the_anchor_mailbox() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.device("acme.test", "94001", 1).await;
    let d = "/api/v1/domains/acme.test";
    let put = |path: String, new: u32, old: u32| {
        let h = &h;
        async move {
            h.call(
                Method::PUT,
                &path,
                Some(ADMIN),
                Some(json!({"new": new, "old": old})),
            )
            .await
        }
    };
    let shown = || async {
        let mwi = h.get(&format!("{d}/devices/94001/mwi")).await.json;
        (mwi["new"].as_u64(), mwi["old"].as_u64())
    };
    let mut jobs = h.app.provisioning().attach();
    let anchor_changed = Job::MailboxChanged {
        domain: DomainName::new("acme.test").expect("domain"),
        user: Extension::new("94001").expect("ext"),
    };
    assert_eq!(
        shown().await,
        (Some(0), Some(0)),
        "a new desk: an empty box"
    );

    let reply = put(format!("{d}/devices/94001/mailbox"), 1, 3)
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json, json!({"new": 1, "old": 3}));
    assert_eq!(shown().await, (Some(1), Some(3)));
    let device = h.get(&format!("{d}/devices/94001")).await.json;
    assert_eq!(device["mailbox"], json!({"new": 1, "old": 3}));
    assert_eq!(jobs.try_recv().ok(), Some(anchor_changed.clone()));

    put(format!("{d}/users/1004/mailbox"), 2, 0)
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    assert_eq!(shown().await, (Some(2), Some(0)), "the owner's box");
    // The anchor's box changes while Bob sits there: kept, but the phone is not told.
    while jobs.try_recv().is_ok() {}
    put(format!("{d}/devices/94001/mailbox"), 4, 3)
        .await
        .ok(StatusCode::OK);
    assert_eq!(shown().await, (Some(2), Some(0)));
    assert!(
        jobs.try_recv().is_err(),
        "no NOTIFY for a box the desk hides"
    );
    h.post(&format!("{d}/devices/94001/logout"), json!({}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        shown().await,
        (Some(4), Some(3)),
        "back to the anchor's box"
    );

    // Office manager and up; a user may not set a desk's box; unknown desks are named.
    let user = h.token(Scope::User, "acme.test", Some("1004")).await;
    h.call(
        Method::PUT,
        &format!("{d}/devices/94001/mailbox"),
        Some(&user),
        Some(json!({"new": 0, "old": 0})),
    )
    .await
    .error(StatusCode::FORBIDDEN, "forbidden");
    let manager = h.token(Scope::OfficeManager, "acme.test", None).await;
    h.call(
        Method::PUT,
        &format!("{d}/devices/94001/mailbox"),
        Some(&manager),
        Some(json!({"new": 5, "old": 3})),
    )
    .await
    .ok(StatusCode::OK);
    put(format!("{d}/devices/94999/mailbox"), 1, 0)
        .await
        .error(StatusCode::NOT_FOUND, "unknown_device");
    put(format!("{d}/devices/94001/mailbox"), 1, 0)
        .await
        .ok(StatusCode::OK);
    h.call(
        Method::PUT,
        &format!("{d}/devices/94001/mailbox"),
        Some(ADMIN),
        Some(json!({"new": -1, "old": 0})),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");

    // Kept in the store.
    let h = h.restart().await;
    let mwi = h.get(&format!("{d}/devices/94001/mwi")).await.json;
    assert_eq!(
        (mwi["new"].as_u64(), mwi["old"].as_u64()),
        (Some(1), Some(0))
    );
}
