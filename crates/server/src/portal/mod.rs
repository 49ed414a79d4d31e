//! The web portal (SPEC §1, issue 8): HTML pages, CSS and JavaScript modules embedded in
//! the binary and served under `/portal/`, on top of the REST API.
//!
//! Pages hold no data: their scripts call `/api/v1` with the cookie session made by
//! [`session`] (see [`crate::api::cookie`]), so every rule, role and tenant check is the
//! API's own. A page without a valid session redirects to the sign-in page; pages for
//! office managers answer 403 to plain users.

mod assets;
mod session;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use hotdesk_core::{DomainName, Scope};
use serde::Serialize;

use crate::api::cookie;
use crate::state::App;

/// What the portal needs besides the [`App`].
#[derive(Debug, Clone, Default)]
pub struct PortalConfig {
    /// Domain offered on the sign-in form (the server's default domain).
    pub default_domain: Option<DomainName>,
}

/// Scripts, styles and connections only from this server; no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The portal's routes, to merge into the API router.
pub fn router(config: PortalConfig) -> Router<Arc<App>> {
    let config = Arc::new(config);
    Router::new()
        .route("/", get(|| async { Redirect::to("/portal/") }))
        .route("/portal", get(|| async { Redirect::to("/portal/") }))
        .route("/portal/", get(phones))
        .route("/portal/board", get(board))
        .route("/portal/admin", get(admin))
        .route("/portal/signin", get(sign_in_page))
        .route(
            "/portal/config",
            get(move || {
                let config = Arc::clone(&config);
                async move { axum::Json(PublicConfig::new(&config)) }
            }),
        )
        .route(
            "/portal/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/portal/assets/{*name}", get(asset))
}

/// `GET /portal/config`: what the sign-in page may know before anyone signs in.
#[derive(Debug, Serialize)]
struct PublicConfig {
    default_domain: Option<String>,
}

impl PublicConfig {
    fn new(config: &PortalConfig) -> Self {
        Self {
            default_domain: config.default_domain.as_ref().map(ToString::to_string),
        }
    }
}

/// An HTML response with the portal's security headers; pages are never cached.
fn html(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure(headers);
    response
}

fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The session's role, or `None` without a valid session cookie.
async fn session_scope(app: &App, headers: &HeaderMap) -> Option<Scope> {
    let token = cookie::session_token(headers)?;
    app.authenticate(token).await.ok().map(|p| p.scope)
}

/// Serves `page` to sessions of at least `scope`; no session → the sign-in page.
async fn guarded(app: &App, headers: &HeaderMap, scope: Scope, page: &'static str) -> Response {
    match session_scope(app, headers).await {
        None => Redirect::to("/portal/signin").into_response(),
        Some(have) if have < scope => html(StatusCode::FORBIDDEN, assets::FORBIDDEN),
        Some(_) => html(StatusCode::OK, page),
    }
}

async fn phones(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    guarded(&app, &headers, Scope::User, assets::PHONES).await
}

async fn board(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    guarded(&app, &headers, Scope::OfficeManager, assets::BOARD).await
}

async fn admin(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    guarded(&app, &headers, Scope::OfficeManager, assets::ADMIN).await
}

async fn sign_in_page() -> Response {
    html(StatusCode::OK, assets::SIGN_IN)
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = assets::find(&name) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(headers);
    response
}
