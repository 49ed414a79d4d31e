//! Sessions: `GET /domains/{d}/associations`, remote log-in and log-out
//! (HD-LOGIN-3, -4, -6, -7; HD-LOGOUT-4).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use hotdesk_core::command::Plan;
use hotdesk_core::{authz::Action, Association, DeskEvent, LoginMethod, LogoutReason, Scope};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{device_ext, domain_name, user_ext, ApiJson, ApiPath};
use crate::state::{App, AppError, SessionRequest};

/// A session as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssociationView {
    /// Domain.
    pub domain: String,
    /// Device anchor extension.
    pub device: String,
    /// Logged-in user's extension.
    pub user: String,
    /// Logged-in user's name.
    pub user_name: Option<String>,
    /// Since when.
    #[schema(value_type = String)]
    pub since: Timestamp,
    /// How it was made (`phone_code`, `voice_portal`, `activate_phone`, `admin`, `api`).
    #[schema(value_type = String)]
    pub method: LoginMethod,
    /// When it ends on its own, if ever.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
    /// Last call activity.
    #[schema(value_type = String)]
    pub last_activity: Timestamp,
}

impl AssociationView {
    /// The view of a session, with the user's display name.
    pub fn new(app: &App, association: &Association) -> Self {
        let user_name = app
            .user(&association.domain, &association.user)
            .map(|u| u.display_name());
        Self {
            domain: association.domain.to_string(),
            device: association.device.to_string(),
            user: association.user.to_string(),
            user_name,
            since: association.since,
            method: association.method,
            expires_at: association.expires_at,
            last_activity: association.last_activity,
        }
    }
}

/// A session that a change ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndedView {
    /// Device anchor extension.
    pub device: String,
    /// User who was there.
    pub user: String,
    /// Why (`takeover`, `moved_elsewhere`, `forced`, …).
    #[schema(value_type = String)]
    pub reason: LogoutReason,
}

/// Result of a log-in or log-out.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionChange {
    /// The new session (log-in only).
    pub association: Option<AssociationView>,
    /// Sessions ended by the change: the previous person on the device (HD-LOGIN-3), the
    /// user's previous desk (HD-LOGIN-4 with N = 1), or the one logged out.
    pub ended: Vec<EndedView>,
}

impl SessionChange {
    fn new(app: &App, plan: &Plan) -> Self {
        let mut change = Self {
            association: None,
            ended: Vec::new(),
        };
        for event in &plan.events {
            match event {
                DeskEvent::LoggedIn { association, .. } => {
                    change.association = Some(AssociationView::new(app, association));
                }
                DeskEvent::LoggedOut {
                    device,
                    user,
                    reason,
                    ..
                } => change.ended.push(EndedView {
                    device: device.to_string(),
                    user: user.to_string(),
                    reason: *reason,
                }),
            }
        }
        change
    }
}

/// Lists sessions: all of the domain for office managers and up, a user's own otherwise.
#[utoipa::path(get, path = "/api/v1/domains/{d}/associations", tag = "associations",
    params(("d" = String, Path)),
    responses((status = 200, body = [AssociationView])), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<Json<Vec<AssociationView>>, ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.member(&domain)?;
    if app.domain(&domain).is_none() {
        return Err(AppError::UnknownDomain.into());
    }
    let manager = caller.principal.scope >= Scope::OfficeManager;
    let own = caller.principal.user.clone();
    let list = app
        .associations(&domain)
        .iter()
        .filter(|a| manager || Some(&a.user) == own.as_ref())
        .map(|a| AssociationView::new(&app, a))
        .collect();
    Ok(Json(list))
}

/// `POST …/devices/{ext}/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The user to log in.
    pub extension: String,
}

/// Logs a user in to a device: the user themself or an office manager and up. Whoever
/// was there is logged out (HD-LOGIN-3); N = 1 users leave their previous desk, N > 1
/// users at their limit get 409 `allocation_full` (HD-LOGIN-4).
#[utoipa::path(post, path = "/api/v1/domains/{d}/devices/{ext}/login", tag = "associations",
    params(("d" = String, Path), ("ext" = String, Path, description = "device anchor")),
    request_body = LoginBody,
    responses((status = 200, body = SessionChange), (status = 409, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<SessionChange>, ApiError> {
    let domain = domain_name(&d)?;
    let device = device_ext(&e)?;
    let user = user_ext(&body.extension)?;
    caller.principal.allow(&domain, Action::ActAsUser(&user))?;
    let request = SessionRequest {
        domain,
        device,
        requester: caller.requester(),
    };
    let plan = app.login(request.clone(), user, LoginMethod::Api).await?;
    let mut change = SessionChange::new(&app, &plan);
    if change.association.is_none() {
        // Already logged in there: nothing changed, show the session as it is.
        change.association = app
            .association(&request.domain, &request.device)
            .map(|a| AssociationView::new(&app, &a));
    }
    Ok(Json(change))
}

/// Logs out whoever is on a device (the user on it, or an office manager and up);
/// audited as forced with the caller as actor (HD-LOGOUT-4).
#[utoipa::path(post, path = "/api/v1/domains/{d}/devices/{ext}/logout", tag = "associations",
    params(("d" = String, Path), ("ext" = String, Path, description = "device anchor")),
    responses((status = 200, body = SessionChange), (status = 409, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn logout(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<Json<SessionChange>, ApiError> {
    let domain = domain_name(&d)?;
    let device = device_ext(&e)?;
    caller.principal.member(&domain)?;
    let request = SessionRequest {
        domain,
        device,
        requester: caller.requester(),
    };
    let plan = app.logout(request).await?;
    Ok(Json(SessionChange::new(&app, &plan)))
}
