//! Bearer-token (or portal cookie session, [`cookie`]) authentication (HD-SEC-4) and `/auth/login`, `/auth/logout`, `/auth/me`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use hotdesk_core::{DomainName, Extension};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::cookie;
use crate::api::error::ApiError;
use crate::api::extract::ApiJson;
use crate::api::users::UserView;
use crate::secrets::SecretString;
use crate::state::{App, Principal};

/// The authenticated caller of a request, and where it came from.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, with which role and domain.
    pub principal: Principal,
    /// Peer address, when the server was started with connect info.
    pub source: Option<String>,
}

impl Caller {
    /// The core requester for desk decisions (audited with this caller as actor).
    pub fn requester(&self) -> hotdesk_core::command::Requester {
        self.principal.requester(self.source.clone())
    }
}

/// The peer address of a request, if the server records it.
pub(crate) fn source_of(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        // A bearer token wins; otherwise the portal's cookie session, whose
        // state-changing requests must prove they come from our pages (CSRF).
        let token = match bearer(parts) {
            Some(token) => token,
            None => {
                let token =
                    cookie::session_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
                if cookie::changes_state(&parts.method) && !cookie::csrf_ok(parts, token) {
                    return Err(ApiError::csrf_failed());
                }
                token
            }
        };
        let principal = app.authenticate(token).await?;
        Ok(Self {
            principal,
            source: source_of(parts),
        })
    }
}

/// `POST /auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user's domain.
    pub domain: String,
    /// The user's extension.
    pub extension: String,
    /// The user's PIN.
    #[schema(value_type = String)]
    pub pin: SecretString,
}

/// A freshly issued token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Bearer token; shown once, stored only hashed.
    pub token: String,
    /// Role it grants.
    pub scope: String,
    /// When it stops working.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
    /// The signed-in user.
    pub user: UserView,
}

/// Signs a user in with extension and PIN; wrong PINs count toward the lock-out
/// (HD-SEC-2); the first sign-in moves queue status offline → logged_out (HD-LOGIN-10).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong PIN or unknown user", body = crate::api::error::ErrorBody),
        (status = 423, description = "locked out; Retry-After gives seconds left", body = crate::api::error::ErrorBody),
    ))]
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    source: Source,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    // Malformed names answer like wrong PINs: no hint which part was wrong.
    let domain = DomainName::new(&body.domain).map_err(|_| wrong_pin())?;
    let extension = Extension::new(&body.extension).map_err(|_| wrong_pin())?;
    let signed = app
        .sign_in(&domain, &extension, &body.pin, source.0)
        .await?;
    let user = UserView::new(&app, &signed.user);
    Ok(Json(TokenResponse {
        token: signed.token.expose().to_owned(),
        scope: crate::api::users::scope_name(signed.record.scope).to_owned(),
        expires_at: signed.record.expires_at,
        user,
    }))
}

fn wrong_pin() -> ApiError {
    hotdesk_core::Refusal::WrongPin.into()
}

/// Revokes the token used for this request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = crate::api::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn logout(
    State(app): State<Arc<App>>,
    _caller: Caller,
    parts: RawBearer,
) -> Result<StatusCode, ApiError> {
    app.revoke_token(&parts.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Role.
    pub scope: String,
    /// Domain, absent for super admins.
    pub domain: Option<String>,
    /// User extension, for sign-in tokens.
    pub user: Option<String>,
    /// Token label.
    pub name: String,
}

/// Describes the caller's token.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = crate::api::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn me(caller: Caller) -> Json<MeResponse> {
    let p = caller.principal;
    Json(MeResponse {
        scope: crate::api::users::scope_name(p.scope).to_owned(),
        domain: p.domain.map(String::from),
        user: p.user.map(String::from),
        name: p.name,
    })
}

/// The request's peer address, if known (never rejects).
#[derive(Debug)]
pub(crate) struct Source(pub(crate) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(source_of(parts)))
    }
}

/// The raw bearer token of the request (for revoking it).
#[derive(Debug)]
pub(crate) struct RawBearer(String);

impl<S: Send + Sync> FromRequestParts<S> for RawBearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        bearer(parts)
            .map(|t| Self(t.to_owned()))
            .ok_or_else(ApiError::unauthenticated)
    }
}
