//! `/domains/{d}/users…`: CRUD, CSV import, activation (HD-LOGIN-4, -5, -9, -11).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotdesk_core::queue::queue_status;
use hotdesk_core::{authz::Action, Mailbox, QueueStatus, Refusal, Scope, SeatType, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{body_rejection, device_ext, domain_name, user_ext, ApiJson, ApiPath};
use crate::ivr::activate::Activation;
use crate::registrar::RegistrationView;
use crate::state::{App, AppError, ImportReport, NewUser, UserPatch};

/// A user as the API shows it: never the PIN hash or the SIP secret (HD-SEC-2).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Domain.
    pub domain: String,
    /// Extension.
    pub extension: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// External number.
    pub did: Option<String>,
    /// Seat type.
    pub seat: String,
    /// Multi-desk allocation N.
    pub max_devices: u8,
    /// Role.
    pub scope: String,
    /// Forwarding destination.
    pub forward_to: Option<String>,
    /// Seconds the user's phones ring before `forward_to` takes the call.
    pub no_answer_secs: u32,
    /// A call-center agent (HD-LOGIN-10).
    pub agent: bool,
    /// Queue status (HD-LOGIN-10): `offline` until the first portal sign-in, then
    /// `logged_in` / `logged_out` following the user's hot-desk log-in.
    pub queue_status: String,
    /// Voicemail counts.
    pub mailbox: MailboxView,
    /// Whether a PIN is set.
    pub has_pin: bool,
    /// Whether a SIP password is set.
    pub has_sip_password: bool,
    /// Devices the user is logged in to, oldest first.
    pub devices: Vec<String>,
    /// The SIP registration of the user's own phone or softphone, if registered.
    pub registration: Option<RegistrationView>,
}

/// Voicemail counts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailboxView {
    /// Unheard messages.
    pub new: u32,
    /// Heard messages.
    pub old: u32,
}

impl From<Mailbox> for MailboxView {
    fn from(m: Mailbox) -> Self {
        Self {
            new: m.new,
            old: m.old,
        }
    }
}

impl From<MailboxView> for Mailbox {
    fn from(v: MailboxView) -> Self {
        Self {
            new: v.new,
            old: v.old,
        }
    }
}

/// Wire name of a role.
pub(crate) fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::User => "user",
        Scope::OfficeManager => "office_manager",
        Scope::DomainAdmin => "domain_admin",
        Scope::SuperAdmin => "super_admin",
    }
}

fn seat_name(seat: SeatType) -> &'static str {
    match seat {
        SeatType::Standard => "standard",
        SeatType::Advanced => "advanced",
        SeatType::Basic => "basic",
    }
}

pub(crate) fn queue_name(status: QueueStatus) -> &'static str {
    match status {
        QueueStatus::Offline => "offline",
        QueueStatus::LoggedIn => "logged_in",
        QueueStatus::LoggedOut => "logged_out",
    }
}

impl UserView {
    /// The view of `user`, with the devices it currently holds.
    pub fn new(app: &App, user: &User) -> Self {
        let (devices, status) = {
            let state = app.read();
            let devices = state
                .desks
                .devices_of(&user.domain, &user.extension)
                .iter()
                .map(|d| d.as_str().to_owned())
                .collect();
            (devices, queue_status(&state.desks, user))
        };
        Self {
            domain: user.domain.to_string(),
            extension: user.extension.to_string(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            did: user.did.clone(),
            seat: seat_name(user.seat).into(),
            max_devices: user.max_devices,
            scope: scope_name(user.scope).into(),
            forward_to: user.forward_to.clone(),
            no_answer_secs: user.no_answer_secs(),
            agent: user.agent,
            queue_status: queue_name(status).into(),
            mailbox: user.mailbox.into(),
            has_pin: user.pin_hash.is_some(),
            has_sip_password: user.sip_secret.is_some(),
            devices,
            registration: app
                .bindings()
                .registration(&user.domain, &user.extension, app.now()),
        }
    }
}

/// A caller may not hand out a role above its own.
fn check_grant(caller: &Caller, scope: Option<Scope>) -> Result<(), ApiError> {
    match scope {
        Some(scope) if scope > caller.principal.scope => Err(Refusal::Forbidden.into()),
        _ => Ok(()),
    }
}

/// Creates a user (domain admin).
#[utoipa::path(post, path = "/api/v1/domains/{d}/users", tag = "users",
    params(("d" = String, Path, description = "domain")),
    request_body = NewUser,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageUsers)?;
    check_grant(&caller, Some(new.scope))?;
    let user = app.create_user(&domain, new).await?;
    Ok((StatusCode::CREATED, Json(UserView::new(&app, &user))))
}

/// Lists the domain's users (office manager and up).
#[utoipa::path(get, path = "/api/v1/domains/{d}/users", tag = "users",
    params(("d" = String, Path, description = "domain")),
    responses((status = 200, body = [UserView])), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ReadRecords)?;
    let users = app.users(&domain).ok_or(AppError::UnknownDomain)?;
    Ok(Json(users.iter().map(|u| UserView::new(&app, u)).collect()))
}

/// One user (the user themself, or office manager and up).
#[utoipa::path(get, path = "/api/v1/domains/{d}/users/{ext}", tag = "users",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<Json<UserView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ActAsUser(&ext))?;
    let user = app
        .user(&domain, &ext)
        .ok_or_else(|| app.unknown_in(&domain, Refusal::UnknownUser))?;
    Ok(Json(UserView::new(&app, &user)))
}

/// Changes a user (domain admin).
#[utoipa::path(patch, path = "/api/v1/domains/{d}/users/{ext}", tag = "users",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn patch(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageUsers)?;
    check_grant(&caller, patch.scope)?;
    let user = app.update_user(&domain, &ext, patch).await?;
    Ok(Json(UserView::new(&app, &user)))
}

/// Deletes a user, logging them out everywhere (domain admin).
#[utoipa::path(delete, path = "/api/v1/domains/{d}/users/{ext}", tag = "users",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let domain = domain_name(&d)?;
    let ext = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageUsers)?;
    app.delete_user(&domain, &ext, caller.requester()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports users from CSV (`text/csv` body, up to 20 MiB), all or nothing: on any bad row
/// nothing is imported and the 422 error lists the rows (`error.rows`).
#[utoipa::path(post, path = "/api/v1/domains/{d}/users:import", tag = "users",
    params(("d" = String, Path)),
    request_body(content = String, content_type = "text/csv",
        description = "extension,first_name,last_name,did,pin,sip_password"),
    responses((status = 201, body = ImportReport), (status = 422, body = ErrorBody),
        (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn import(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    request: Request,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageUsers)?;
    let body = Bytes::from_request(request, &())
        .await
        .map_err(body_rejection)?;
    let report = app.import_users(&domain, &body).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// `POST …/users/{ext}/activate` body (HD-LOGIN-9).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// Anchor extension of the device to call.
    pub device: String,
}

/// Web "Activate Phone" (HD-LOGIN-9): the server calls the device; whoever answers
/// enters the user's extension and PIN. Answers 202 with the activation record and a
/// `Location` to poll; its state changes also go out on `/events` (`activation`). 501
/// when the SIP side is not running (API-only process).
#[utoipa::path(post, path = "/api/v1/domains/{d}/users/{ext}/activate", tag = "users",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = ActivateRequest,
    responses((status = 202, body = Activation), (status = 404, body = ErrorBody),
        (status = 501, body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn activate(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ActivateRequest>,
) -> Result<Response, ApiError> {
    let domain = domain_name(&d)?;
    let ext = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ActAsUser(&ext))?;
    let device = device_ext(&body.device)?;
    app.user(&domain, &ext)
        .ok_or_else(|| app.unknown_in(&domain, Refusal::UnknownUser))?;
    app.device(&domain, &device).ok_or(Refusal::UnknownDevice)?;
    let record = app
        .activations()
        .start(Arc::clone(&app), domain.clone(), ext.clone(), device)
        .ok_or(AppError::NotImplemented {
            feature: "Activate Phone without the SIP side (HD-LOGIN-9)",
        })?;
    let location = format!(
        "/api/v1/domains/{domain}/users/{ext}/activations/{}",
        record.id
    );
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(record),
    )
        .into_response())
}

/// One "Activate Phone" attempt (HD-LOGIN-9): `calling`, `ringing`, `answered`,
/// `activated`, or `failed` with a reason.
#[utoipa::path(get, path = "/api/v1/domains/{d}/users/{ext}/activations/{id}", tag = "users",
    params(("d" = String, Path), ("ext" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Activation), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn activation(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e, id)): ApiPath<(String, String, String)>,
) -> Result<Json<Activation>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ActAsUser(&ext))?;
    app.activations()
        .get(&domain, &id)
        .filter(|a| a.user == ext)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("activation"))
}
