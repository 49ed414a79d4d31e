//! `/domains/{d}/devices…` and `/models`: phones (HD-LOGIN-6, -7, -11; HD-PROV-5).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hotdesk_core::{authz::Action, CivicAddress, Device, DeviceKind, Key, Refusal};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::associations::AssociationView;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{device_ext, domain_name, ApiJson, ApiPath};
use crate::api::users::MailboxView;
use crate::registrar::RegistrationView;
use crate::state::{App, AppError, DevicePatch, NewDevice, PhoneModel};

/// A device as the API shows it: never the SIP secret (HD-SEC-2).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// Domain.
    pub domain: String,
    /// Anchor extension.
    pub extension: String,
    /// MAC, 12 lower-case hex digits.
    pub mac: String,
    /// Model ID.
    pub model: String,
    /// `hotdesk`, `personal` or `location`.
    pub kind: String,
    /// Owner of a personal device.
    pub owner: Option<String>,
    /// DID used when nobody is logged in.
    pub did: Option<String>,
    /// Civic address (HD-ROUTE-6).
    #[schema(value_type = Option<Object>)]
    pub location: Option<CivicAddress>,
    /// Association lifetime in seconds.
    pub association_secs: Option<u32>,
    /// Site label.
    pub site: Option<String>,
    /// Whether a SIP password is set.
    pub has_sip_password: bool,
    /// The anchor extension's own mailbox, shown by the desk while it is free (HD-MWI-1).
    pub mailbox: MailboxView,
    /// Soft keys: the phone's own, whoever is logged in (HD-PROV-3).
    #[schema(value_type = Vec<Object>)]
    pub soft_keys: Vec<Key>,
    /// Template applied to this phone (HD-PROV-2); none: its model's or the domain's.
    pub template: Option<String>,
    /// Who is logged in, if anyone.
    pub session: Option<AssociationView>,
    /// The phone's SIP registration (contact, user agent, expiry), if registered.
    pub registration: Option<RegistrationView>,
}

pub(crate) fn kind_name(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Hotdesk => "hotdesk",
        DeviceKind::Personal => "personal",
        DeviceKind::Location => "location",
    }
}

impl DeviceView {
    fn new(app: &App, device: &Device) -> Self {
        let session = app
            .association(&device.domain, &device.extension)
            .map(|a| AssociationView::new(app, &a));
        Self {
            domain: device.domain.to_string(),
            extension: device.extension.to_string(),
            mac: device.mac.to_string(),
            model: device.model.to_string(),
            kind: kind_name(device.kind).into(),
            owner: device.owner.as_ref().map(ToString::to_string),
            did: device.did.clone(),
            location: device.location.clone(),
            association_secs: device.association_secs,
            site: device.site.clone(),
            has_sip_password: device.sip_secret.is_some(),
            mailbox: device.mailbox.into(),
            soft_keys: device.soft_keys.clone(),
            template: device.template.clone(),
            session,
            registration: app
                .bindings()
                .registration(&device.domain, &device.extension, app.now()),
        }
    }
}

/// Creates a device (office manager and up, HD-LOGIN-11). Unknown models are refused
/// with the list of known ones.
#[utoipa::path(post, path = "/api/v1/domains/{d}/devices", tag = "devices",
    params(("d" = String, Path)),
    request_body = NewDevice,
    responses((status = 201, body = DeviceView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    ApiJson(new): ApiJson<NewDevice>,
) -> Result<(StatusCode, Json<DeviceView>), ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let device = app.create_device(&domain, new).await?;
    Ok((StatusCode::CREATED, Json(DeviceView::new(&app, &device))))
}

/// Lists the domain's devices (any member: users need anchors for Activate Phone).
#[utoipa::path(get, path = "/api/v1/domains/{d}/devices", tag = "devices",
    params(("d" = String, Path)),
    responses((status = 200, body = [DeviceView])), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<Json<Vec<DeviceView>>, ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.member(&domain)?;
    let devices = app.devices(&domain).ok_or(AppError::UnknownDomain)?;
    Ok(Json(
        devices.iter().map(|d| DeviceView::new(&app, d)).collect(),
    ))
}

/// One device.
#[utoipa::path(get, path = "/api/v1/domains/{d}/devices/{ext}", tag = "devices",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 200, body = DeviceView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<Json<DeviceView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = device_ext(&e)?;
    caller.principal.member(&domain)?;
    let device = app
        .device(&domain, &ext)
        .ok_or_else(|| app.unknown_in(&domain, Refusal::UnknownDevice))?;
    Ok(Json(DeviceView::new(&app, &device)))
}

/// Changes a device (office manager and up).
#[utoipa::path(patch, path = "/api/v1/domains/{d}/devices/{ext}", tag = "devices",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = DevicePatch,
    responses((status = 200, body = DeviceView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn patch(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(patch): ApiJson<DevicePatch>,
) -> Result<Json<DeviceView>, ApiError> {
    let domain = domain_name(&d)?;
    let ext = device_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let device = app.update_device(&domain, &ext, patch).await?;
    Ok(Json(DeviceView::new(&app, &device)))
}

/// Deletes a device, logging out whoever is on it (office manager and up).
#[utoipa::path(delete, path = "/api/v1/domains/{d}/devices/{ext}", tag = "devices",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let domain = domain_name(&d)?;
    let ext = device_ext(&e)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    app.delete_device(&domain, &ext, caller.requester()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The phone model catalogue (HD-PROV-5).
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelView {
    /// Model ID.
    pub id: String,
    /// Vendor.
    pub vendor: String,
    /// Model name.
    pub name: String,
    /// Provisioning format.
    pub format: String,
    /// Form factor.
    pub kind: String,
}

impl From<&PhoneModel> for ModelView {
    fn from(model: &PhoneModel) -> Self {
        Self {
            id: model.id.to_string(),
            vendor: model.vendor.clone(),
            name: model.name.clone(),
            format: model.format.clone(),
            kind: model.kind.clone(),
        }
    }
}

/// Lists known phone models.
#[utoipa::path(get, path = "/api/v1/models", tag = "devices",
    responses((status = 200, body = [ModelView])), security(("bearer" = [])))]
pub(crate) async fn models(State(app): State<Arc<App>>, _caller: Caller) -> Json<Vec<ModelView>> {
    Json(app.models().all().map(ModelView::from).collect())
}
