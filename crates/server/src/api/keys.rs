//! Keys and per-device provisioning settings: a user's line keys and speed dials per model
//! ("My Phones", HD-PROV-4), a device's soft keys (HD-PROV-3), its provisioning options
//! (unsolicited MWI, idle-screen notice) and a notice sent to it now (HD-LOGOUT-2).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use hotdesk_core::authz::Action;
use hotdesk_core::{DomainName, Extension, Key, ModelId, Refusal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{device_ext, domain_name, user_ext, ApiJson, ApiPath};
use crate::provisioning::{DeviceOptions, Job};
use crate::state::App;

/// Most keys in one list.
const MAX_KEYS: usize = 100;

/// A list of keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyList {
    /// The keys, by position.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Key>,
}

/// A user's keys, per model.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserKeys {
    /// Model ID → keys; models without an entry use their defaults.
    #[schema(value_type = Object)]
    pub models: BTreeMap<String, Vec<Key>>,
}

/// A text to show on a phone now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    /// The text (at most 200 characters).
    pub text: String,
}

fn check_keys(keys: &[Key]) -> Result<(), ApiError> {
    if keys.len() > MAX_KEYS {
        return Err(ApiError::invalid_field(
            "keys",
            format!("at most {MAX_KEYS} keys"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for key in keys {
        if key.position == 0 || !seen.insert(key.position) {
            return Err(ApiError::invalid_field(
                "keys",
                format!(
                    "key positions must be unique and from 1 (position {})",
                    key.position
                ),
            ));
        }
        for (name, text) in [
            ("kind", &key.kind),
            ("value", &key.value),
            ("label", &key.label),
        ] {
            if text.len() > 128 || text.chars().any(char::is_control) {
                return Err(ApiError::invalid_field(
                    format!("keys.{name}"),
                    "at most 128 characters, no control characters",
                ));
            }
        }
    }
    Ok(())
}

/// Devices where `user` is logged in now, of `model` when given.
fn devices_of(
    app: &App,
    domain: &DomainName,
    user: &Extension,
    model: Option<&ModelId>,
) -> Vec<Extension> {
    let state = app.read();
    state
        .desks
        .devices_of(domain, user)
        .iter()
        .filter(|ext| {
            model.is_none_or(|m| {
                state
                    .tenants
                    .get(domain)
                    .and_then(|t| t.devices.get(*ext))
                    .is_some_and(|d| &d.model == m)
            })
        })
        .cloned()
        .collect()
}

fn resync(app: &App, domain: &DomainName, devices: Vec<Extension>) {
    for device in devices {
        app.provisioning().queue(Job::DeviceChanged {
            domain: domain.clone(),
            device,
        });
    }
}

fn known_user(app: &App, domain: &DomainName, user: &Extension) -> Result<(), ApiError> {
    if app.user(domain, user).is_none() {
        return Err(app.unknown_in(domain, Refusal::UnknownUser).into());
    }
    Ok(())
}

/// A user's keys for every model they programmed.
#[utoipa::path(get, path = "/api/v1/domains/{d}/users/{ext}/keys", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 200, body = UserKeys), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn user_keys(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<Json<UserKeys>, ApiError> {
    let domain = domain_name(&d)?;
    let user = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ActAsUser(&user))?;
    known_user(&app, &domain, &user)?;
    let models = app
        .provisioning()
        .user_key_sets(&domain, &user)
        .into_iter()
        .map(|(m, keys)| (m.to_string(), keys))
        .collect();
    Ok(Json(UserKeys { models }))
}

/// Sets a user's line keys and speed dials for one model (HD-PROV-4); an empty list goes
/// back to the model's defaults. Phones of that model the user is logged in to resync.
#[utoipa::path(put, path = "/api/v1/domains/{d}/users/{ext}/keys/{model}", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path), ("model" = String, Path)),
    request_body = KeyList,
    responses((status = 200, body = KeyList), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put_user_keys(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e, m)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<KeyList>,
) -> Result<Json<KeyList>, ApiError> {
    let domain = domain_name(&d)?;
    let user = user_ext(&e)?;
    caller.principal.allow(&domain, Action::ActAsUser(&user))?;
    known_user(&app, &domain, &user)?;
    let model = ModelId::new(&m)
        .ok()
        .filter(|m| app.models().get(m).is_some())
        .ok_or_else(|| ApiError::from(Refusal::UnknownModel))?;
    check_keys(&body.keys)?;
    app.provisioning()
        .set_user_keys(
            app.store().as_ref(),
            &domain,
            &user,
            &model,
            body.keys.clone(),
        )
        .await
        .map_err(|e| ApiError::from(crate::state::AppError::from(e)))?;
    resync(
        &app,
        &domain,
        devices_of(&app, &domain, &user, Some(&model)),
    );
    Ok(Json(body))
}

/// Replaces a device's soft keys (HD-PROV-3) and resyncs it.
#[utoipa::path(put, path = "/api/v1/domains/{d}/devices/{ext}/soft_keys", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = KeyList,
    responses((status = 200, body = KeyList), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put_soft_keys(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<KeyList>,
) -> Result<Json<KeyList>, ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let device = device_ext(&e)?;
    check_keys(&body.keys)?;
    app.set_soft_keys(&domain, &device, body.keys.clone())
        .await?;
    resync(&app, &domain, vec![device]);
    Ok(Json(body))
}

/// The domain and device a device-management request names: the caller may manage the
/// domain's devices and the device exists (404 `unknown_device` otherwise).
fn managed_device(
    app: &App,
    caller: &Caller,
    d: &str,
    e: &str,
) -> Result<(DomainName, Extension), ApiError> {
    let domain = domain_name(d)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    let device = device_ext(e)?;
    if app.device(&domain, &device).is_none() {
        return Err(app.unknown_in(&domain, Refusal::UnknownDevice).into());
    }
    Ok((domain, device))
}

/// A device's provisioning options.
#[utoipa::path(get, path = "/api/v1/domains/{d}/devices/{ext}/provisioning", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 200, body = DeviceOptions), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_options(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<Json<DeviceOptions>, ApiError> {
    let (domain, device) = managed_device(&app, &caller, &d, &e)?;
    Ok(Json(app.provisioning().device_options(&domain, &device)))
}

/// Replaces a device's provisioning options (unsolicited MWI, idle notice) and resyncs it.
#[utoipa::path(put, path = "/api/v1/domains/{d}/devices/{ext}/provisioning", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = DeviceOptions,
    responses((status = 200, body = DeviceOptions), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put_options(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<DeviceOptions>,
) -> Result<Json<DeviceOptions>, ApiError> {
    let (domain, device) = managed_device(&app, &caller, &d, &e)?;
    if body
        .notice
        .as_ref()
        .is_some_and(|n| n.chars().count() > 200)
    {
        return Err(ApiError::invalid_field("notice", "at most 200 characters"));
    }
    app.provisioning()
        .set_device_options(app.store().as_ref(), &domain, &device, body.clone())
        .await
        .map_err(|e| ApiError::from(crate::state::AppError::from(e)))?;
    resync(&app, &domain, vec![device]);
    Ok(Json(body))
}

/// Shows a text on the phone now (SIP MESSAGE), e.g. "you will be logged out at 18:00"
/// (HD-LOGOUT-2).
#[utoipa::path(post, path = "/api/v1/domains/{d}/devices/{ext}/notice", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = NoticeRequest,
    responses((status = 202), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn notice(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<NoticeRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    let (domain, device) = managed_device(&app, &caller, &d, &e)?;
    if body.text.is_empty() || body.text.chars().count() > 200 {
        return Err(ApiError::invalid_field("text", "1 to 200 characters"));
    }
    app.provisioning().queue(Job::Notice {
        domain,
        device,
        text: body.text,
    });
    Ok(axum::http::StatusCode::ACCEPTED)
}

/// What a phone's message-waiting light shows and who is subscribed (HD-MWI-1).
#[derive(Debug, Serialize, ToSchema)]
pub struct MwiView {
    /// Unheard messages of the mailbox the phone shows now.
    pub new: u32,
    /// Heard messages.
    pub old: u32,
    /// Live message-summary subscriptions of the device: contact and expiry (RFC 3339).
    pub subscriptions: Vec<SubscriptionView>,
    /// Whether unsolicited NOTIFYs are sent when it has no subscription.
    pub unsolicited: bool,
}

/// One subscription as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    /// The subscriber's Contact.
    pub contact: String,
    /// When it lapses unless refreshed.
    pub expires_at: String,
}

/// The mailbox a device shows now and its subscriptions.
#[utoipa::path(get, path = "/api/v1/domains/{d}/devices/{ext}/mwi", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    responses((status = 200, body = MwiView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn mwi(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
) -> Result<Json<MwiView>, ApiError> {
    let (domain, device) = managed_device(&app, &caller, &d, &e)?;
    let mailbox = crate::mwi::mailbox_for(&app, &domain, &device);
    let mut subscriptions: Vec<SubscriptionView> = app
        .provisioning()
        .mwi
        .of(&domain, &device)
        .into_iter()
        .map(|s| SubscriptionView {
            contact: s.contact,
            expires_at: s.expires_at.to_string(),
        })
        .collect();
    subscriptions.sort_by(|a, b| a.contact.cmp(&b.contact));
    Ok(Json(MwiView {
        new: mailbox.new,
        old: mailbox.old,
        subscriptions,
        unsolicited: app.provisioning().unsolicited_mwi(&domain, &device),
    }))
}
