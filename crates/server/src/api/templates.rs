//! `/domains/{d}/templates…`: provisioning templates administrators add and edit without
//! code (HD-PROV-1, -5), and "apply" / "apply and resync" to selected devices (HD-PROV-2).
//! A template that does not parse, or names an unknown token, is refused here with its
//! line and column — never at the phone.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotdesk_core::authz::Action;
use hotdesk_core::{DomainName, Extension, Refusal};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{device_ext, domain_name, ApiJson, ApiPath};
use crate::provisioning::{
    Format, Job, PreviewError, ProvError, Provisioning, Template, TemplateError, TemplateInput,
};
use crate::state::App;

/// Body of an apply request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Anchor extensions of the devices.
    pub devices: Vec<String>,
    /// Also send check-sync so the phones fetch the new file now.
    #[serde(default)]
    pub resync: bool,
}

/// What an apply did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplyResult {
    /// The template applied.
    pub template: String,
    /// Devices now using it.
    pub applied: Vec<String>,
    /// Devices sent check-sync.
    pub resynced: usize,
}

/// The problem JSON for a refused template: code `invalid_template`, the field at fault
/// and where (`line`, `column`, and `token` for an unknown one).
fn template_problem(field: &str, error: &TemplateError) -> Response {
    let (line, column, token) = match error {
        TemplateError::Syntax { line, column, .. } | TemplateError::Render { line, column, .. } => {
            (*line, *column, None)
        }
        TemplateError::UnknownToken {
            token,
            line,
            column,
        } => (*line, *column, Some(token.clone())),
    };
    let body = json!({"error": {
        "code": "invalid_template",
        "message": format!("{field}: {error}"),
        "field": field,
        "line": line,
        "column": column,
        "token": token,
    }});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Body of a preview request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The name the edited template would be saved under: it takes that template's place
    /// for the device (`default` is the domain's fallback). Without one, the draft is
    /// previewed as if applied to the device.
    #[serde(default)]
    pub name: Option<String>,
    /// The template as edited, not saved; without it, the device's file as it is now.
    #[serde(default)]
    pub template: Option<TemplateInput>,
}

/// A rendered phone file, as the device would fetch it but with its password masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewResult {
    /// The device's anchor extension.
    pub device: String,
    /// Its model.
    pub model: String,
    /// The file's format.
    pub format: Format,
    /// The file.
    pub file: String,
}

/// The name a nameless draft is previewed under: not a valid template name, so it never
/// stands in for a saved one.
const UNNAMED_DRAFT: &str = "(draft)";

fn prov_error(error: ProvError) -> Response {
    match error {
        ProvError::Body(e) => template_problem("body", &e),
        ProvError::Label(e) => template_problem("line_label", &e),
        ProvError::BadName => ApiError::invalid_field("name", error.to_string()).into_response(),
        ProvError::FormatMismatch { .. } => {
            ApiError::invalid_field("format", error.to_string()).into_response()
        }
        ProvError::ModelTaken { .. } => {
            ApiError::new(StatusCode::CONFLICT, "model_taken", error.to_string()).into_response()
        }
        ProvError::UnknownTemplate(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "unknown_template", error.to_string())
                .into_response()
        }
        ProvError::Store(e) => ApiError::from(crate::state::AppError::from(e)).into_response(),
    }
}

fn known_domain(app: &App, domain: &DomainName) -> Result<(), ApiError> {
    if app.read().tenants.get(domain).is_none() {
        return Err(crate::state::AppError::UnknownDomain.into());
    }
    Ok(())
}

fn allowed(app: &App, caller: &Caller, d: &str) -> Result<DomainName, ApiError> {
    let domain = domain_name(d)?;
    caller.principal.allow(&domain, Action::ManageDevices)?;
    known_domain(app, &domain)?;
    Ok(domain)
}

/// Lists a domain's templates.
#[utoipa::path(get, path = "/api/v1/domains/{d}/templates", tag = "provisioning",
    params(("d" = String, Path)),
    responses((status = 200, body = [Template]), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<Json<Vec<Template>>, ApiError> {
    let domain = allowed(&app, &caller, &d)?;
    Ok(Json(app.provisioning().templates(&domain)))
}

/// One template.
#[utoipa::path(get, path = "/api/v1/domains/{d}/templates/{name}", tag = "provisioning",
    params(("d" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, name)): ApiPath<(String, String)>,
) -> Result<Json<Template>, Response> {
    let domain = allowed(&app, &caller, &d).map_err(IntoResponse::into_response)?;
    app.provisioning()
        .template(&domain, &name)
        .map(Json)
        .ok_or_else(|| prov_error(ProvError::UnknownTemplate(name)))
}

/// Creates or replaces a template; checked first (422 `invalid_template` with line and
/// column). With `model` set it becomes the domain's template for that model; the name
/// `default` is the domain's fallback.
#[utoipa::path(put, path = "/api/v1/domains/{d}/templates/{name}", tag = "provisioning",
    params(("d" = String, Path), ("name" = String, Path)),
    request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, name)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<Template>, Response> {
    let domain = allowed(&app, &caller, &d).map_err(IntoResponse::into_response)?;
    let model_format = match &input.model {
        Some(model) => match app.models().get(model) {
            Some(found) => Provisioning::format_of(Some(found)),
            None => return Err(ApiError::from(Refusal::UnknownModel).into_response()),
        },
        None => None,
    };
    let template = app
        .provisioning()
        .put_template(app.store().as_ref(), &domain, &name, input, model_format)
        .await
        .map_err(prov_error)?;
    Ok(Json(template))
}

/// Deletes a template; devices it was applied to fall back to the model or domain default.
#[utoipa::path(delete, path = "/api/v1/domains/{d}/templates/{name}", tag = "provisioning",
    params(("d" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, Response> {
    let domain = allowed(&app, &caller, &d).map_err(IntoResponse::into_response)?;
    app.provisioning()
        .delete_template(app.store().as_ref(), &domain, &name)
        .await
        .map_err(prov_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies a template to the listed devices; with `"resync": true` each gets check-sync
/// at once (HD-PROV-2). All devices are checked before any is changed.
#[utoipa::path(post, path = "/api/v1/domains/{d}/templates/{name}/apply", tag = "provisioning",
    params(("d" = String, Path), ("name" = String, Path)),
    request_body = ApplyRequest,
    responses((status = 200, body = ApplyResult), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn apply(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ApplyRequest>,
) -> Result<Json<ApplyResult>, Response> {
    let domain = allowed(&app, &caller, &d).map_err(IntoResponse::into_response)?;
    if app.provisioning().template(&domain, &name).is_none() {
        return Err(prov_error(ProvError::UnknownTemplate(name)));
    }
    let mut devices: Vec<Extension> = Vec::with_capacity(body.devices.len());
    for text in &body.devices {
        let ext = device_ext(text).map_err(IntoResponse::into_response)?;
        if app.device(&domain, &ext).is_none() {
            return Err(ApiError::from(Refusal::UnknownDevice).into_response());
        }
        devices.push(ext);
    }
    app.set_devices_template(&domain, &devices, Some(name.clone()))
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let applied: Vec<String> = devices.iter().map(ToString::to_string).collect();
    // Every file is in place before the first phone is told: one burst of check-syncs.
    if body.resync {
        for ext in devices {
            app.provisioning().queue(Job::DeviceChanged {
                domain: domain.clone(),
                device: ext,
            });
        }
    }
    Ok(Json(ApplyResult {
        template: name,
        resynced: if body.resync { applied.len() } else { 0 },
        applied,
    }))
}

/// Renders a device's phone file — as it is, or with an edited template in place — so an
/// administrator sees the result before saving (HD-PROV-5). The draft is checked as an
/// upload is (422 `invalid_template` with line and column); the SIP password is masked.
#[utoipa::path(post, path = "/api/v1/domains/{d}/devices/{ext}/preview", tag = "provisioning",
    params(("d" = String, Path), ("ext" = String, Path)),
    request_body = PreviewRequest,
    responses((status = 200, body = PreviewResult), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn preview(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath((d, e)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewResult>, Response> {
    let domain = allowed(&app, &caller, &d).map_err(IntoResponse::into_response)?;
    let ext = device_ext(&e).map_err(IntoResponse::into_response)?;
    let device = app.device(&domain, &ext).ok_or_else(|| {
        ApiError::from(app.unknown_in(&domain, Refusal::UnknownDevice)).into_response()
    })?;
    if let Some(name) = body.name.as_deref() {
        if body.template.is_some() && !crate::provisioning::templates::valid_name(name) {
            return Err(prov_error(ProvError::BadName));
        }
    }
    let name = body.name.as_deref().unwrap_or(UNNAMED_DRAFT);
    let draft = body.template.as_ref().map(|input| (name, input));
    let rendered = app
        .provisioning()
        .preview_device(&app, &device, draft)
        .map_err(|error| match error {
            PreviewError::Draft(e) => prov_error(e),
            PreviewError::Stored(e) => {
                tracing::error!(%e, device = %ext, "saved template fails to render");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "render_failed",
                    e.to_string(),
                )
                .into_response()
            }
        })?
        .ok_or_else(|| {
            ApiError::invalid_field(
                "device",
                format!("model {} has no provisioning file", device.model),
            )
            .into_response()
        })?;
    let format = Provisioning::format_of(app.models().get(&device.model)).unwrap_or(Format::Cfg);
    Ok(Json(PreviewResult {
        device: device.extension.to_string(),
        model: device.model.to_string(),
        format,
        file: rendered.body,
    }))
}
