//! `PUT /domains/{d}/users/{ext}/mailbox` and `PUT /domains/{d}/devices/{ext}/mailbox`:
//! voicemail counts for message waiting (HD-MWI-1) — a user's box follows them to the desks
//! they log in to; a device's is its anchor extension's own, shown while the desk is free.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use hotdesk_core::authz::Action;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{device_ext, domain_name, user_ext, ApiJson, ApiPath};
use crate::api::users::MailboxView;
use crate::state::App;

/// Sets a mailbox's counts (the user themself, or domain admin — e.g. the voicemail
/// server's token); the phones the user holds get a new NOTIFY.
#[utoipa::path(put, path = "/api/v1/domains/{d}/users/{ext}/mailbox", tag = "users",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = MailboxView,
    responses((status = 200, body = MailboxView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MailboxView>,
) -> Result<Json<MailboxView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ActAsUser(&ext))?;
    let user = app.set_mailbox(&domain, &ext, body.into()).await?;
    Ok(Json(user.mailbox.into()))
}

/// Sets the counts of a device's anchor mailbox (office manager and up, or the voicemail
/// server's token); the desk's phones are re-notified while nobody is logged in to it.
#[utoipa::path(put, path = "/api/v1/domains/{d}/devices/{ext}/mailbox", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = MailboxView,
    responses((status = 200, body = MailboxView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put_device(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MailboxView>,
) -> Result<Json<MailboxView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = device_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let device = app.set_device_mailbox(&domain, &ext, body.into()).await?;
    Ok(Json(device.mailbox.into()))
}
