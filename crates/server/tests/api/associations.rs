//! Sessions through the API: HD-LOGIN-3, -4, -6, -7 and HD-LOGOUT-4.

use axum::http::{Method, StatusCode};
use hotdesk_core::Scope;
use serde_json::json;

use crate::harness::{Harness, ADMIN};

fn pair(device: &str, user: &str) -> (String, String) {
    (device.to_owned(), user.to_owned())
}

async fn office() -> Harness {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    for (ext, n) in [("94001", 1), ("94002", 2), ("94003", 3)] {
        h.device("acme.test", ext, n).await;
    }
    h.user("acme.test", "1004", "1234").await;
    h.user("acme.test", "1005", "5678").await;
    h.user_with(
        "acme.test",
        json!({"extension": "1006", "first_name": "Multi", "max_devices": 2, "pin": "1111"}),
    )
    .await;
    h
}

#[tokio::test]
async fn login_creates_a_session_and_list_shows_it() {
    let h = office().await;
    let reply = h
        .login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["association"]["device"], "94001");
    assert_eq!(reply.json["association"]["user"], "1004");
    assert_eq!(reply.json["association"]["user_name"], "U 1004");
    assert_eq!(reply.json["association"]["method"], "api");
    assert_eq!(reply.json["ended"], json!([]));
    assert_eq!(h.sessions("acme.test").await, vec![pair("94001", "1004")]);
    let device = h.get("/api/v1/domains/acme.test/devices/94001").await;
    assert_eq!(device.json["session"]["user"], "1004");
    let user = h.get("/api/v1/domains/acme.test/users/1004").await;
    assert_eq!(user.json["devices"], json!(["94001"]));
    // Logging in again where you already are changes nothing.
    let again = h
        .login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    assert_eq!(again.json["association"]["user"], "1004");
    assert_eq!(h.sessions("acme.test").await, vec![pair("94001", "1004")]);
}

#[tokio::test]
async fn hd_login_3_logging_in_releases_the_previous_person() {
    let h = office().await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    let reply = h
        .login("acme.test", "94001", "1005")
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        reply.json["ended"],
        json!([{"device": "94001", "user": "1004", "reason": "takeover"}])
    );
    assert_eq!(h.sessions("acme.test").await, vec![pair("94001", "1005")]);
}

#[tokio::test]
async fn hd_login_4_allocation_one_moves_the_user() {
    let h = office().await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    let reply = h
        .login("acme.test", "94002", "1004")
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["ended"][0]["reason"], "moved_elsewhere");
    assert_eq!(h.sessions("acme.test").await, vec![pair("94002", "1004")]);
}

#[tokio::test]
async fn hd_login_4_beyond_allocation_is_409_and_changes_nothing() {
    let h = office().await;
    h.login("acme.test", "94001", "1006")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94002", "1006")
        .await
        .ok(StatusCode::OK);
    let reply = h
        .login("acme.test", "94003", "1006")
        .await
        .error(StatusCode::CONFLICT, "allocation_full");
    assert!(reply.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains('2'));
    assert_eq!(
        h.sessions("acme.test").await,
        vec![pair("94001", "1006"), pair("94002", "1006")]
    );
}

#[tokio::test]
async fn hd_logout_4_remote_logout_is_audited_with_the_actor() {
    let h = office().await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    let manager = h.token(Scope::OfficeManager, "acme.test", None).await;
    let reply = h
        .call(
            Method::POST,
            "/api/v1/domains/acme.test/devices/94001/logout",
            Some(&manager),
            None,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        reply.json["ended"],
        json!([{"device": "94001", "user": "1004", "reason": "forced"}])
    );
    assert!(h.sessions("acme.test").await.is_empty());
    let audit = h
        .get("/api/v1/domains/acme.test/audit?device=94001")
        .await
        .ok(StatusCode::OK);
    let forced = audit
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] != "login")
        .expect("log-out row");
    assert_eq!(forced["actor"], json!({"kind": "admin", "id": "test"}));
    assert_eq!(forced["user"], "1004");
    assert_eq!(forced["detail"]["reason"], "forced");
    // Nobody there any more.
    h.call(
        Method::POST,
        "/api/v1/domains/acme.test/devices/94001/logout",
        Some(ADMIN),
        None,
    )
    .await
    .error(StatusCode::CONFLICT, "not_logged_in");
}

#[tokio::test]
async fn hd_logout_4_user_logs_out_own_session_but_not_others() {
    let h = office().await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94002", "1005")
        .await
        .ok(StatusCode::OK);
    let bob = h.token(Scope::User, "acme.test", Some("1004")).await;
    h.call(
        Method::POST,
        "/api/v1/domains/acme.test/devices/94002/logout",
        Some(&bob),
        None,
    )
    .await
    .error(StatusCode::CONFLICT, "not_your_device");
    h.call(
        Method::POST,
        "/api/v1/domains/acme.test/devices/94001/logout",
        Some(&bob),
        None,
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(h.sessions("acme.test").await, vec![pair("94002", "1005")]);
    let audit = h.get("/api/v1/domains/acme.test/audit?user=1004").await;
    let row = audit
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] != "login")
        .cloned()
        .unwrap();
    assert_eq!(row["actor"], json!({"kind": "user", "id": "1004"}));
}

#[tokio::test]
async fn hd_login_6_excluded_model_refuses_user_login_via_api() {
    let h = office().await;
    h.post(
        "/api/v1/domains/acme.test/devices",
        json!({"mac": "0015650000d1", "model": "yealink-w56h", "extension": "94010"}),
    )
    .await
    .ok(StatusCode::CREATED);
    let bob = h.token(Scope::User, "acme.test", Some("1004")).await;
    h.call(
        Method::POST,
        "/api/v1/domains/acme.test/devices/94010/login",
        Some(&bob),
        Some(json!({"extension": "1004"})),
    )
    .await
    .error(StatusCode::FORBIDDEN, "excluded_model");
    assert!(h.sessions("acme.test").await.is_empty());
}

#[tokio::test]
async fn hd_login_7_location_phone_changes_only_by_a_manager() {
    let h = office().await;
    h.post(
        "/api/v1/domains/acme.test/devices",
        json!({"mac": "0015650000e1", "model": "yealink-t46u", "kind": "location", "extension": "3000"}),
    )
    .await
    .ok(StatusCode::CREATED);
    let bob = h.token(Scope::User, "acme.test", Some("1004")).await;
    let login = json!({"extension": "1004"});
    h.call(
        Method::POST,
        "/api/v1/domains/acme.test/devices/3000/login",
        Some(&bob),
        Some(login.clone()),
    )
    .await
    .error(StatusCode::FORBIDDEN, "location_device");
    h.login("acme.test", "3000", "1004")
        .await
        .ok(StatusCode::OK);
    h.call(
        Method::POST,
        "/api/v1/domains/acme.test/devices/3000/logout",
        Some(&bob),
        None,
    )
    .await
    .error(StatusCode::FORBIDDEN, "location_device");
    assert_eq!(h.sessions("acme.test").await, vec![pair("3000", "1004")]);
}

#[tokio::test]
async fn deleting_a_user_or_device_ends_their_sessions() {
    let h = office().await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94002", "1005")
        .await
        .ok(StatusCode::OK);
    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test/users/1004",
        Some(ADMIN),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test/devices/94002",
        Some(ADMIN),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    assert!(h.sessions("acme.test").await.is_empty());
    let audit = h.get("/api/v1/domains/acme.test/audit").await.json;
    let removed = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["detail"]["reason"] == "removed")
        .count();
    assert_eq!(removed, 2);
}

#[tokio::test]
async fn login_of_unknown_user_or_device_is_404() {
    let h = office().await;
    h.login("acme.test", "94001", "1999")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_user");
    h.login("acme.test", "94999", "1004")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_device");
    h.login("acme.test", "9x", "1004")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_device");
    let reply = h.login("acme.test", "94001", "10'04").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert!(h.sessions("acme.test").await.is_empty());
}
