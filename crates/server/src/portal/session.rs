//! `/portal/session`: sign in (sets the cookie), who am I (with the CSRF token), sign out.
//!
//! Users sign in with domain, extension and PIN, exactly like `POST /api/v1/auth/login`
//! (same lock-out, HD-SEC-2); their role is their user record's scope, so office managers
//! and domain administrators are users with that scope. Platform administrators sign in
//! with an API token (`HOTDESK_ADMIN_TOKEN`, or any other bearer token): the
//! portal checks it and issues a separate session token with the same role, so signing
//! out never revokes the administrator's own token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotdesk_core::{DomainName, Extension, Refusal};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::api::auth::{Caller, Source};
use crate::api::cookie;
use crate::api::error::ApiError;
use crate::api::extract::ApiJson;
use crate::secrets::SecretString;
use crate::state::{App, Principal};

/// Lifetime of a session made from an administrator token.
const ADMIN_SESSION: SignedDuration = SignedDuration::from_hours(12);

/// `POST /portal/session` body: `{domain, extension, pin}` for users, `{token}` for
/// administrators.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignInBody {
    domain: Option<String>,
    extension: Option<String>,
    pin: Option<SecretString>,
    token: Option<SecretString>,
}

/// What the portal's pages know about their session.
#[derive(Debug, Serialize)]
pub(crate) struct SessionView {
    /// Role: `user`, `office_manager`, `domain_admin`, `super_admin`.
    scope: String,
    /// Domain, absent for super admins.
    domain: Option<String>,
    /// The signed-in user's extension, for PIN sign-ins.
    user: Option<String>,
    /// Display name.
    name: String,
    /// Send as `X-CSRF-Token` on every state-changing request.
    csrf: Option<String>,
    /// When the session ends.
    expires_at: Option<Timestamp>,
}

impl SessionView {
    fn new(
        app: &App,
        principal: &Principal,
        csrf: Option<String>,
        expires_at: Option<Timestamp>,
    ) -> Self {
        let name = match (&principal.domain, &principal.user) {
            (Some(domain), Some(user)) => app
                .user(domain, user)
                .map_or_else(|| user.to_string(), |u| u.display_name()),
            _ => principal.name.clone(),
        };
        Self {
            scope: crate::api::users::scope_name(principal.scope).to_owned(),
            domain: principal.domain.as_ref().map(ToString::to_string),
            user: principal.user.as_ref().map(ToString::to_string),
            name,
            csrf,
            expires_at,
        }
    }
}

fn missing(field: &str) -> ApiError {
    ApiError::invalid_field(field, "required")
}

/// Signs in and sets the session cookie. JSON only: a cross-site form cannot send it
/// without a CORS preflight, which this server never grants (no login CSRF).
pub(crate) async fn sign_in(
    State(app): State<Arc<App>>,
    source: Source,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let (token, principal, expires_at) = match body.token {
        Some(admin) => {
            let principal = app.authenticate(admin.expose()).await?;
            let (token, record) = app
                .issue_token(
                    principal.scope,
                    principal.domain.clone(),
                    principal.user.clone(),
                    principal.name.clone(),
                    Some(ADMIN_SESSION),
                )
                .await?;
            (token, principal, record.expires_at)
        }
        None => {
            let domain = body.domain.ok_or_else(|| missing("domain"))?;
            let extension = body.extension.ok_or_else(|| missing("extension"))?;
            let pin = body.pin.ok_or_else(|| missing("pin"))?;
            // Malformed names answer like wrong PINs, as `/auth/login` does.
            let domain =
                DomainName::new(domain.trim()).map_err(|_| ApiError::from(Refusal::WrongPin))?;
            let extension =
                Extension::new(extension.trim()).map_err(|_| ApiError::from(Refusal::WrongPin))?;
            let signed = app.sign_in(&domain, &extension, &pin, source.0).await?;
            let principal = Principal {
                scope: signed.record.scope,
                domain: signed.record.domain.clone(),
                user: signed.record.user.clone(),
                name: signed.record.name.clone(),
            };
            (signed.token, principal, signed.record.expires_at)
        }
    };
    let max_age = expires_at.map_or(ADMIN_SESSION.as_secs(), |at| {
        (at - app.now()).get_seconds().max(0)
    });
    let csrf = cookie::csrf_token(token.expose());
    let view = SessionView::new(&app, &principal, Some(csrf), expires_at);
    let mut response = Json(view).into_response();
    if let Some(value) = cookie::set_cookie(token.expose(), max_age) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The current session and its CSRF token; 401 without one.
pub(crate) async fn current(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    caller: Caller,
) -> Json<SessionView> {
    let csrf = cookie::session_token(&headers).map(cookie::csrf_token);
    Json(SessionView::new(&app, &caller.principal, csrf, None))
}

/// Signs out: revokes the session token (CSRF-checked by [`Caller`]) and clears the cookie.
pub(crate) async fn sign_out(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    _caller: Caller,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie::session_token(&headers) {
        app.revoke_token(token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie::clear_cookie())],
    )
        .into_response())
}
