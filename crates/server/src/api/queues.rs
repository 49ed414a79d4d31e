//! `/domains/{d}/queues…`: queues and ring groups (HD-ROUTE-7), members as User or Phone,
//! with each user member's agent status (HD-LOGIN-10). Office manager and up, like devices.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hotdesk_core::queue::queue_status;
use hotdesk_core::{authz::Action, Extension, Queue, QueueMember, Strategy};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{domain_name, ApiJson, ApiPath};
use crate::api::users::queue_name;
use crate::state::{App, AppError, NewQueue, QueuePatch};

/// A queue as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// Domain.
    pub domain: String,
    /// The number callers dial.
    pub extension: String,
    /// Display name.
    pub name: String,
    /// `ring_all` or `round_robin`.
    pub strategy: String,
    /// Ring time per member (round-robin) or of all members (ring-all), seconds.
    pub ring_secs: u32,
    /// Members in hunting order.
    pub members: Vec<MemberView>,
    /// Number the call goes to when nobody answered.
    pub overflow: Option<String>,
}

/// One member of a queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// `user` or `phone`.
    pub kind: String,
    /// The user's extension or the device's anchor extension.
    pub extension: String,
    /// For users: a call-center agent (HD-LOGIN-10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<bool>,
    /// For users: `offline`, `logged_in` or `logged_out` (HD-LOGIN-10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_status: Option<String>,
}

impl QueueView {
    /// The view of `queue`, with its user members' current status.
    pub fn new(app: &App, queue: &Queue) -> Self {
        let state = app.read();
        let tenant = state.tenants.get(&queue.domain);
        let members = queue
            .members
            .iter()
            .map(|member| {
                let user = match member {
                    QueueMember::User(ext) => tenant.and_then(|t| t.users.get(ext)),
                    QueueMember::Phone(_) => None,
                };
                MemberView {
                    kind: match member {
                        QueueMember::User(_) => "user",
                        QueueMember::Phone(_) => "phone",
                    }
                    .into(),
                    extension: member.extension().to_string(),
                    agent: user.map(|u| u.agent),
                    queue_status: user
                        .map(|u| queue_name(queue_status(&state.desks, u)).to_owned()),
                }
            })
            .collect();
        Self {
            domain: queue.domain.to_string(),
            extension: queue.extension.to_string(),
            name: queue.name.clone(),
            strategy: match queue.strategy {
                Strategy::RingAll => "ring_all",
                Strategy::RoundRobin => "round_robin",
            }
            .into(),
            ring_secs: queue.ring_secs,
            members,
            overflow: queue.overflow.clone(),
        }
    }
}

/// A queue extension named in the path; malformed → 404.
fn queue_ext(text: &str) -> Result<Extension, ApiError> {
    Extension::new(text).map_err(|_| ApiError::not_found("queue"))
}

/// Creates a queue (office manager and up).
#[utoipa::path(post, path = "/api/v1/domains/{d}/queues", tag = "queues",
    params(("d" = String, Path)),
    request_body = NewQueue,
    responses((status = 201, body = QueueView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    ApiJson(new): ApiJson<NewQueue>,
) -> Result<(StatusCode, Json<QueueView>), ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let queue = app.create_queue(&domain, new).await?;
    Ok((StatusCode::CREATED, Json(QueueView::new(&app, &queue))))
}

/// Lists a domain's queues (office manager and up).
#[utoipa::path(get, path = "/api/v1/domains/{d}/queues", tag = "queues",
    params(("d" = String, Path)),
    responses((status = 200, body = [QueueView])), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<Json<Vec<QueueView>>, ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let queues = app.queues(&domain).ok_or(AppError::UnknownDomain)?;
    Ok(Json(
        queues.iter().map(|q| QueueView::new(&app, q)).collect(),
    ))
}

/// One queue (office manager and up).
#[utoipa::path(get, path = "/api/v1/domains/{d}/queues/{ext}", tag = "queues",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 200, body = QueueView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<Json<QueueView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = queue_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let queue = app.queue(&domain, &ext)?;
    Ok(Json(QueueView::new(&app, &queue)))
}

/// Changes a queue (office manager and up); `members` replaces the whole list.
#[utoipa::path(patch, path = "/api/v1/domains/{d}/queues/{ext}", tag = "queues",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = QueuePatch,
    responses((status = 200, body = QueueView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn patch(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(patch): ApiJson<QueuePatch>,
) -> Result<Json<QueueView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = queue_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let queue = app.update_queue(&domain, &ext, patch).await?;
    Ok(Json(QueueView::new(&app, &queue)))
}

/// Deletes a queue (office manager and up).
#[utoipa::path(delete, path = "/api/v1/domains/{d}/queues/{ext}", tag = "queues",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let domain = domain_name(&d)?;
    let ext = queue_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    app.delete_queue(&domain, &ext).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a member at the end: `{"user":"1004"}` or `{"phone":"94001"}` (office manager
/// and up).
#[utoipa::path(post, path = "/api/v1/domains/{d}/queues/{ext}/members", tag = "queues",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body(content = Object, description = r#"{"user":"1004"} or {"phone":"94001"}"#),
    responses((status = 200, body = QueueView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn add_member(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(member): ApiJson<QueueMember>,
) -> Result<Json<QueueView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = queue_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let queue = app.add_queue_member(&domain, &ext, member).await?;
    Ok(Json(QueueView::new(&app, &queue)))
}

/// Removes a member: `kind` is `user` or `phone` (office manager and up).
#[utoipa::path(delete, path = "/api/v1/domains/{d}/queues/{ext}/members/{kind}/{member}",
    tag = "queues",
    params(("d" = String, Path), ("ext" = String, Path), ("kind" = String, Path),
        ("member" = String, Path)),
    responses((status = 200, body = QueueView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn remove_member(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e, kind, m)): ApiPath<(String, String, String, String)>,
) -> Result<Json<QueueView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = queue_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let not_member = || ApiError::not_found("queue member");
    let member_ext = Extension::new(&m).map_err(|_| not_member())?;
    let member = match kind.as_str() {
        "user" => QueueMember::User(member_ext),
        "phone" => QueueMember::Phone(member_ext),
        _ => return Err(not_member()),
    };
    let queue = app.remove_queue_member(&domain, &ext, &member).await?;
    Ok(Json(QueueView::new(&app, &queue)))
}
