//! `/domains`: tenants and their settings (HD-SEC-1).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hotdesk_core::{authz::Action, Domain, DomainName, DomainSettings};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{domain_name, ApiJson, ApiPath};
use crate::state::{App, AppError};

/// A domain as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainView {
    /// SIP domain name.
    pub name: String,
    /// Settings (codes, ranges, time zone, policies, seats, lock-out …).
    #[schema(value_type = Object)]
    pub settings: DomainSettings,
    /// Live counts.
    pub counts: DomainCounts,
}

/// Numbers of things in a domain.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainCounts {
    /// Users.
    pub users: usize,
    /// Devices.
    pub devices: usize,
    /// Current sessions.
    pub associations: usize,
    /// Sum of users' multi-desk allocations (HD-LOGIN-5).
    pub allocations: u64,
    /// Allocation pool from seats; 0 = no seats configured, no limit.
    pub pool: u64,
}

impl DomainView {
    fn new(app: &App, domain: Domain) -> Self {
        let state = app.read();
        let tenant = state.tenants.get(&domain.name);
        let counts = DomainCounts {
            users: tenant.map_or(0, |t| t.users.len()),
            devices: tenant.map_or(0, |t| t.devices.len()),
            associations: state.desks.associations(&domain.name).count(),
            allocations: tenant.map_or(0, |t| {
                hotdesk_core::seats::allocation_in_use(t.users.values())
            }),
            pool: domain.settings.seats.pool(),
        };
        Self {
            name: domain.name.to_string(),
            settings: domain.settings,
            counts,
        }
    }
}

/// `POST /domains` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    /// SIP domain name (`acme.test`).
    pub name: String,
    /// Optional settings; defaults otherwise.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

/// `PATCH /domains/{d}` body: a JSON merge patch of the settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainPatch {
    /// Fields to change; `null` resets a field to its default.
    #[schema(value_type = Object)]
    pub settings: Value,
}

/// Creates a domain (super admin).
#[utoipa::path(post, path = "/api/v1/domains", tag = "domains",
    request_body = NewDomain,
    responses((status = 201, body = DomainView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiJson(body): ApiJson<NewDomain>,
) -> Result<(StatusCode, Json<DomainView>), ApiError> {
    caller.principal.require_super()?;
    let name = DomainName::new(&body.name).map_err(AppError::from)?;
    let settings = match &body.settings {
        Some(patch) => Some(crate::state::merge_settings(
            &DomainSettings::default(),
            patch,
        )?),
        None => None,
    };
    let domain = app.create_domain(name, settings).await?;
    Ok((StatusCode::CREATED, Json(DomainView::new(&app, domain))))
}

/// Lists the domains the caller may see (all for super admins, else its own).
#[utoipa::path(get, path = "/api/v1/domains", tag = "domains",
    responses((status = 200, body = [DomainView])), security(("bearer" = [])))]
pub(crate) async fn list(State(app): State<Arc<App>>, caller: Caller) -> Json<Vec<DomainView>> {
    let domains = app
        .domains()
        .into_iter()
        .filter(|d| caller.principal.sees(&d.name))
        .map(|d| DomainView::new(&app, d))
        .collect();
    Json(domains)
}

/// One domain (any member of it).
#[utoipa::path(get, path = "/api/v1/domains/{d}", tag = "domains",
    params(("d" = String, Path)),
    responses((status = 200, body = DomainView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<Json<DomainView>, ApiError> {
    let name = domain_name(&d)?;
    caller.principal.member(&name)?;
    let domain = app.domain(&name).ok_or(AppError::UnknownDomain)?;
    Ok(Json(DomainView::new(&app, domain)))
}

/// Changes settings (domain admin): merged, then validated as a whole.
#[utoipa::path(patch, path = "/api/v1/domains/{d}", tag = "domains",
    params(("d" = String, Path)),
    request_body = DomainPatch,
    responses((status = 200, body = DomainView), (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn patch(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    ApiJson(body): ApiJson<DomainPatch>,
) -> Result<Json<DomainView>, ApiError> {
    let name = domain_name(&d)?;
    caller.principal.allow(&name, Action::ManageDomain)?;
    if !body.settings.is_object() {
        return Err(ApiError::invalid_field("settings", "must be an object"));
    }
    let domain = app.patch_domain_settings(&name, &body.settings).await?;
    Ok(Json(DomainView::new(&app, domain)))
}

/// Deletes a domain and everything in it (super admin).
#[utoipa::path(delete, path = "/api/v1/domains/{d}", tag = "domains",
    params(("d" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let name = domain_name(&d)?;
    caller.principal.member(&name)?;
    caller.principal.allow(&name, Action::ManageDomains)?;
    app.delete_domain(&name, caller.requester()).await?;
    Ok(StatusCode::NO_CONTENT)
}
