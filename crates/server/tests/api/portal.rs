//! The portal's cookie session (`/portal/session`) and pages through `Router::oneshot`:
//! the API accepts the cookie with the same roles as a bearer token (HD-SEC-4), refuses a
//! state-changing cookie request without the CSRF token, keeps tenants apart (HD-SEC-1),
//! and pages need a session. The browser side is tested in `tests/e2e/portal.rs`.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::harness::{Harness, Reply, ADMIN};

/// A signed-in portal session: the cookie to send and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
    body: Value,
}

async fn sign_in(h: &Harness, body: Value) -> Reply {
    let request = Request::post("/portal/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    h.send(request).await
}

async fn session(h: &Harness, body: Value) -> Session {
    let reply = sign_in(h, body).await.ok(StatusCode::OK);
    let set = reply.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().expect("pair").to_owned();
    Session {
        cookie,
        csrf: reply.json["csrf"].as_str().expect("csrf").to_owned(),
        body: reply.json,
    }
}

async fn with_cookie(
    h: &Harness,
    s: &Session,
    method: Method,
    path: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, &s.cookie);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    h.send(request.body(body).expect("request")).await
}

async fn office() -> Harness {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user_with(
        "acme.test",
        json!({"extension": "1001", "first_name": "Alice", "last_name": "Adams",
               "pin": "2580", "scope": "office_manager"}),
    )
    .await;
    h.user("acme.test", "1004", "5813").await;
    h.device("acme.test", "94001", 1).await;
    h
}

#[tokio::test]
async fn hd_sec_4_cookie_session_has_the_users_role() {
    let h = office().await;
    let user = session(
        &h,
        json!({"domain": "acme.test", "extension": "1004", "pin": "5813"}),
    )
    .await;
    assert_eq!(user.body["scope"], "user");
    assert_eq!(user.body["user"], "1004");
    let d = "/api/v1/domains/acme.test";
    with_cookie(&h, &user, Method::GET, &format!("{d}/devices"), None, None)
        .await
        .ok(StatusCode::OK);
    with_cookie(&h, &user, Method::GET, &format!("{d}/audit"), None, None)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    // Own log-in with the CSRF token works; someone else's is refused.
    let login = format!("{d}/devices/94001/login");
    with_cookie(
        &h,
        &user,
        Method::POST,
        &login,
        Some(&user.csrf),
        Some(json!({"extension": "1004"})),
    )
    .await
    .ok(StatusCode::OK);
    with_cookie(
        &h,
        &user,
        Method::POST,
        &login,
        Some(&user.csrf),
        Some(json!({"extension": "1001"})),
    )
    .await
    .error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn hd_sec_4_cookie_post_without_csrf_token_is_refused() {
    let h = office().await;
    let manager = session(
        &h,
        json!({"domain": "acme.test", "extension": "1001", "pin": "2580"}),
    )
    .await;
    let login = "/api/v1/domains/acme.test/devices/94001/login";
    let body = Some(json!({"extension": "1004"}));
    with_cookie(&h, &manager, Method::POST, login, None, body.clone())
        .await
        .error(StatusCode::FORBIDDEN, "csrf_failed");
    with_cookie(&h, &manager, Method::POST, login, Some("00"), body.clone())
        .await
        .error(StatusCode::FORBIDDEN, "csrf_failed");
    assert!(h
        .get("/api/v1/domains/acme.test/associations")
        .await
        .json
        .as_array()
        .is_some_and(Vec::is_empty));
    with_cookie(&h, &manager, Method::POST, login, Some(&manager.csrf), body)
        .await
        .ok(StatusCode::OK);
    // Sign-out is state-changing too.
    with_cookie(&h, &manager, Method::DELETE, "/portal/session", None, None)
        .await
        .error(StatusCode::FORBIDDEN, "csrf_failed");
    let out = with_cookie(
        &h,
        &manager,
        Method::DELETE,
        "/portal/session",
        Some(&manager.csrf),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    assert!(out.headers[header::SET_COOKIE]
        .to_str()
        .is_ok_and(|c| c.contains("Max-Age=0")));
    // The revoked session no longer opens anything.
    with_cookie(&h, &manager, Method::GET, "/portal/session", None, None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn hd_sec_1_cookie_session_stays_in_its_domain() {
    let h = office().await;
    h.domain("beta.test").await;
    h.user_with(
        "beta.test",
        json!({"extension": "2001", "first_name": "Olga", "last_name": "Other",
               "pin": "4826", "scope": "office_manager"}),
    )
    .await;
    let beta = session(
        &h,
        json!({"domain": "beta.test", "extension": "2001", "pin": "4826"}),
    )
    .await;
    for path in ["devices", "associations", "audit"] {
        with_cookie(
            &h,
            &beta,
            Method::GET,
            &format!("/api/v1/domains/acme.test/{path}"),
            None,
            None,
        )
        .await
        .error(StatusCode::NOT_FOUND, "unknown_domain");
    }
}

#[tokio::test]
async fn admin_token_sign_in_makes_a_separate_session() {
    let h = office().await;
    sign_in(&h, json!({"token": "not-a-token"}))
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let admin = session(&h, json!({"token": ADMIN})).await;
    assert_eq!(admin.body["scope"], "super_admin");
    assert!(
        !admin.cookie.contains(ADMIN),
        "the admin token is not the cookie"
    );
    with_cookie(
        &h,
        &admin,
        Method::DELETE,
        "/portal/session",
        Some(&admin.csrf),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    // Signing out of the portal leaves the administrator's own token working.
    h.get("/api/v1/domains").await.ok(StatusCode::OK);
}

#[tokio::test]
async fn hd_sec_2_wrong_pin_at_portal_sign_in_is_refused_without_cookie() {
    let h = office().await;
    let reply = sign_in(
        &h,
        json!({"domain": "acme.test", "extension": "1004", "pin": "0000"}),
    )
    .await
    .error(StatusCode::UNAUTHORIZED, "wrong_pin");
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
    sign_in(&h, json!({"domain": "acme.test", "extension": "1004"}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
}

#[tokio::test]
async fn pages_need_a_session_and_the_role() {
    let h = office().await;
    for path in ["/portal/", "/portal/board", "/portal/admin", "/"] {
        let reply = h
            .send(Request::get(path).body(Body::empty()).expect("request"))
            .await;
        assert!(reply.status.is_redirection(), "{path}: {}", reply.status);
        let to = reply.headers[header::LOCATION].to_str().unwrap_or("");
        assert!(to.starts_with("/portal/"), "{path} → {to}");
    }
    let signin = h
        .send(
            Request::get("/portal/signin")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .ok(StatusCode::OK);
    assert!(signin.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .is_ok_and(|c| c.contains("script-src 'self'")));
    let user = session(
        &h,
        json!({"domain": "acme.test", "extension": "1004", "pin": "5813"}),
    )
    .await;
    with_cookie(&h, &user, Method::GET, "/portal/", None, None)
        .await
        .ok(StatusCode::OK);
    with_cookie(&h, &user, Method::GET, "/portal/board", None, None)
        .await
        .ok(StatusCode::FORBIDDEN);
    let js = h
        .send(
            Request::get("/portal/assets/js/api.js")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .ok(StatusCode::OK);
    assert!(js.headers[header::CONTENT_TYPE]
        .to_str()
        .is_ok_and(|c| c.starts_with("text/javascript")));
    h.send(
        Request::get("/portal/assets/../Cargo.toml")
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .ok(StatusCode::NOT_FOUND);
}

/// What a hostile page can send without CORS: an HTML form (urlencoded, multipart or
/// text/plain, the browser adding the victim's cookie where SameSite allows). Sign-in takes
/// JSON only, so no form can sign a victim in to the attacker's account (login CSRF), and a
/// form with the victim's cookie but no CSRF header changes nothing.
#[tokio::test]
async fn hd_sec_4_cross_site_forms_are_refused() {
    let h = office().await;
    let form = |path: &str, content_type: &str, body: &str, cookie: Option<&str>| {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, content_type);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::from(body.to_owned())).expect("request")
    };
    let json_text = r#"{"domain":"acme.test","extension":"1004","pin":"5813"}"#;
    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            "domain=acme.test&extension=1004&pin=5813",
        ),
        ("text/plain", json_text),
        ("multipart/form-data; boundary=x", json_text),
    ] {
        let reply = h
            .send(form("/portal/session", content_type, body, None))
            .await
            .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        assert!(
            reply.headers.get(header::SET_COOKIE).is_none(),
            "{content_type}: no session cookie"
        );
    }

    let manager = session(
        &h,
        json!({"domain": "acme.test", "extension": "1001", "pin": "2580"}),
    )
    .await;
    let login = "/api/v1/domains/acme.test/devices/94001/login";
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let reply = h
            .send(form(
                login,
                content_type,
                r#"{"extension":"1004"}"#,
                Some(&manager.cookie),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        assert_eq!(reply.code(), "csrf_failed");
    }
    assert!(h
        .get("/api/v1/domains/acme.test/associations")
        .await
        .json
        .as_array()
        .is_some_and(Vec::is_empty));
}
