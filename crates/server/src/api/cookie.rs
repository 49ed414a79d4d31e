//! The portal's cookie session: the API's alternative to a bearer token.
//!
//! The cookie `hotdesk_session` holds an ordinary API token (issued at portal sign-in,
//! stored hashed like every token), so a cookie session has exactly the roles of the
//! token behind it (HD-SEC-4). It is `HttpOnly` (scripts never see it) and
//! `SameSite=Strict` (other sites' pages never send it). State-changing requests made with
//! the cookie must also carry `X-CSRF-Token`, a value derived from the session token that
//! only a page of ours can learn (from `GET /portal/session`); a request without it gets
//! 403 `csrf_failed`. Bearer requests need no CSRF token: browsers never add them.

use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use sha2::{Digest as _, Sha256};

/// Name of the session cookie.
pub const COOKIE: &str = "hotdesk_session";
/// Header carrying the CSRF token on state-changing cookie requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session token from the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The CSRF token belonging to a session token: a hash under its own label, so it
/// reveals nothing of the session token yet cannot be made without it.
pub fn csrf_token(session: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"hotdesk portal csrf\0");
    hash.update(session.as_bytes());
    hex::encode(hash.finalize())
}

/// Whether a request may change state (anything but GET, HEAD, OPTIONS).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request carries the right CSRF token for `session` (compared in constant
/// time, so the comparison leaks nothing by its duration).
pub fn csrf_ok(parts: &Parts, session: &str) -> bool {
    let Some(given) = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let expected = csrf_token(session);
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `Set-Cookie` value that starts a session.
pub fn set_cookie(session: &str, max_age_secs: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}"
    ))
    .ok()
}

/// `Set-Cookie` value that ends a session.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("hotdesk_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(cookie: &str, csrf: Option<&str>) -> Parts {
        let mut request = Request::post("/x").header(header::COOKIE, cookie);
        if let Some(csrf) = csrf {
            request = request.header(CSRF_HEADER, csrf);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn finds_the_session_among_other_cookies() {
        let p = parts("a=1; hotdesk_session=tok; b=2", None);
        assert_eq!(session_token(&p.headers), Some("tok"));
        let p = parts("hotdesk_session=", None);
        assert_eq!(session_token(&p.headers), None);
    }

    #[test]
    fn csrf_token_must_match_the_session() {
        let good = csrf_token("tok");
        assert!(csrf_ok(&parts("hotdesk_session=tok", Some(&good)), "tok"));
        assert!(!csrf_ok(&parts("hotdesk_session=tok", None), "tok"));
        let other = csrf_token("other");
        assert!(!csrf_ok(&parts("hotdesk_session=tok", Some(&other)), "tok"));
        assert!(!csrf_ok(
            &parts("hotdesk_session=tok", Some("short")),
            "tok"
        ));
        assert!(changes_state(&Method::POST) && !changes_state(&Method::GET));
    }
}
