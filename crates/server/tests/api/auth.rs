//! `/auth/*`: PIN sign-in (HD-SEC-2 lock-out on every path, HD-LOGIN-10), tokens (HD-SEC-4).

use axum::http::{header, Method, StatusCode};
use hotdesk::secrets::SecretString;
use hotdesk::state::{AppError, PinContext};
use hotdesk_core::{DomainName, Extension, Refusal};
use serde_json::json;

use crate::harness::{Harness, Reply};

async fn sign_in(h: &Harness, domain: &str, ext: &str, pin: &str) -> Reply {
    h.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"domain": domain, "extension": ext, "pin": pin})),
    )
    .await
}

async fn office() -> Harness {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "4321").await;
    h.device("acme.test", "94001", 1).await;
    h.device("acme.test", "94002", 2).await;
    h
}

/// A PIN typed at a phone, as the SIP features will do it.
async fn phone_pin(h: &Harness, device: &str, user: &str, pin: &str) -> Result<(), AppError> {
    h.app
        .verify_pin(
            &DomainName::new("acme.test").unwrap(),
            &Extension::new(user).unwrap(),
            &SecretString::new(pin),
            PinContext {
                device: Some(Extension::new(device).unwrap()),
                source: Some("phone".into()),
            },
        )
        .await
}

#[tokio::test]
async fn sign_in_gives_a_user_token_and_hd_login_10_leaves_offline() {
    let h = office().await;
    let reply = sign_in(&h, "acme.test", "1004", "4321")
        .await
        .ok(StatusCode::OK);
    let token = reply.json["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("hd_"));
    assert_eq!(reply.json["scope"], "user");
    assert!(reply.json["expires_at"].is_string());
    assert_eq!(reply.json["user"]["queue_status"], "logged_out");
    assert!(!reply.text.contains("4321"));

    let me = h
        .call(Method::GET, "/api/v1/auth/me", Some(&token), None)
        .await
        .ok(StatusCode::OK);
    assert_eq!(me.json["user"], "1004");
    assert_eq!(me.json["domain"], "acme.test");
    // The token works for the user's own things…
    h.call(
        Method::GET,
        "/api/v1/domains/acme.test/users/1004",
        Some(&token),
        None,
    )
    .await
    .ok(StatusCode::OK);
    // …and signing out ends it.
    h.call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await
        .ok(StatusCode::NO_CONTENT);
    h.call(Method::GET, "/api/v1/auth/me", Some(&token), None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn hd_sec_4_no_or_bad_token_is_401() {
    let h = office().await;
    h.call(Method::GET, "/api/v1/domains", None, None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthenticated");
    h.call(Method::GET, "/api/v1/domains", Some("hd_not-a-token"), None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let request = axum::http::Request::builder()
        .uri("/api/v1/domains")
        .header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=")
        .body(axum::body::Body::empty())
        .unwrap();
    h.send(request)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn wrong_pin_and_unknown_user_look_the_same() {
    let h = office().await;
    sign_in(&h, "acme.test", "1004", "0000")
        .await
        .error(StatusCode::UNAUTHORIZED, "wrong_pin");
    sign_in(&h, "acme.test", "1999", "0000")
        .await
        .error(StatusCode::UNAUTHORIZED, "wrong_pin");
    sign_in(&h, "nowhere.test", "1004", "4321")
        .await
        .error(StatusCode::UNAUTHORIZED, "wrong_pin");
    sign_in(&h, "acme.test", "1004", "12")
        .await
        .error(StatusCode::UNAUTHORIZED, "wrong_pin");
}

#[tokio::test]
async fn hd_sec_2_five_wrong_pins_lock_with_time_left() {
    let h = office().await;
    for _ in 0..4 {
        sign_in(&h, "acme.test", "1004", "0000")
            .await
            .error(StatusCode::UNAUTHORIZED, "wrong_pin");
    }
    let reply = sign_in(&h, "acme.test", "1004", "0000")
        .await
        .error(StatusCode::LOCKED, "locked_out");
    let left: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((890..=900).contains(&left), "{left}");
    assert_eq!(reply.json["error"]["retry_after_secs"], left);
    // The right PIN does not get in while locked.
    sign_in(&h, "acme.test", "1004", "4321")
        .await
        .error(StatusCode::LOCKED, "locked_out");
    // HD-SEC-2: the lock applies on every path and device.
    for device in ["94001", "94002"] {
        let result = phone_pin(&h, device, "1004", "4321").await;
        assert!(
            matches!(result, Err(AppError::Refused(Refusal::LockedOut { .. }))),
            "{result:?}"
        );
    }
    let audit = h
        .get("/api/v1/domains/acme.test/audit?user=1004")
        .await
        .json;
    let kinds: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "pin_failed").count(), 5);
    assert_eq!(kinds.iter().filter(|k| **k == "locked_out").count(), 1);
}

#[tokio::test]
async fn hd_sec_2_failures_count_across_phone_and_api_paths() {
    let h = office().await;
    for device in ["94001", "94002", "94001"] {
        let result = phone_pin(&h, device, "1004", "9999").await;
        assert!(
            matches!(result, Err(AppError::Refused(Refusal::WrongPin))),
            "{result:?}"
        );
    }
    sign_in(&h, "acme.test", "1004", "9999")
        .await
        .error(StatusCode::UNAUTHORIZED, "wrong_pin");
    sign_in(&h, "acme.test", "1004", "9999")
        .await
        .error(StatusCode::LOCKED, "locked_out");
}

#[tokio::test]
async fn hd_sec_2_one_phone_guessing_many_users_is_locked() {
    let h = office().await;
    for ext in ["1005", "1006", "1007", "1008"] {
        // HD-LOGIN-2: PINs are unique per domain.
        h.user("acme.test", ext, &format!("24{ext}")).await;
    }
    for ext in ["1004", "1005", "1006", "1007"] {
        let result = phone_pin(&h, "94001", ext, "1111").await;
        assert!(
            matches!(result, Err(AppError::Refused(Refusal::WrongPin))),
            "{result:?}"
        );
    }
    let result = phone_pin(&h, "94001", "1008", "1111").await;
    assert!(
        matches!(result, Err(AppError::Refused(Refusal::LockedOut { .. }))),
        "{result:?}"
    );
    // The device is locked, the users are not: 1008 signs in elsewhere.
    sign_in(&h, "acme.test", "1008", "241008")
        .await
        .ok(StatusCode::OK);
    assert!(phone_pin(&h, "94002", "1008", "241008").await.is_ok());
}

#[tokio::test]
async fn hd_sec_2_lockout_survives_a_restart() {
    let h = office().await;
    for _ in 0..5 {
        sign_in(&h, "acme.test", "1004", "0000").await;
    }
    let h = h.restart().await;
    sign_in(&h, "acme.test", "1004", "4321")
        .await
        .error(StatusCode::LOCKED, "locked_out");
}

#[tokio::test]
async fn sign_in_body_is_checked() {
    let h = office().await;
    let reply = h
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"domain": "acme.test", "extension": "1004", "pin": "4321", "admin": true})),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(reply.json["error"]["field"], "admin");
    h.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"domain": "acme.test", "extension": "1004", "pin": 4321})),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
}
