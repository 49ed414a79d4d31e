//! `/domains/{d}/trunks`: upstream SIP peers (HD-ROUTE-9).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hotdesk_core::{authz::Action, Trunk};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{domain_name, ApiJson, ApiPath};
use crate::state::{App, AppError, NewTrunk};

/// A trunk as the API shows it: never the password (HD-SEC-2).
#[derive(Debug, Serialize, ToSchema)]
pub struct TrunkView {
    /// Domain.
    pub domain: String,
    /// Name.
    pub name: String,
    /// `host[:port]`.
    pub address: String,
    /// Digest user name.
    pub username: Option<String>,
    /// Whether a password is set.
    pub has_password: bool,
    /// Carries emergency calls.
    pub emergency: bool,
}

impl From<&Trunk> for TrunkView {
    fn from(trunk: &Trunk) -> Self {
        Self {
            domain: trunk.domain.to_string(),
            name: trunk.name.clone(),
            address: trunk.address.clone(),
            username: trunk.username.clone(),
            has_password: trunk.secret.is_some(),
            emergency: trunk.emergency,
        }
    }
}

/// Creates a trunk (domain admin).
#[utoipa::path(post, path = "/api/v1/domains/{d}/trunks", tag = "trunks",
    params(("d" = String, Path)),
    request_body = NewTrunk,
    responses((status = 201, body = TrunkView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    ApiJson(new): ApiJson<NewTrunk>,
) -> Result<(StatusCode, Json<TrunkView>), ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageDomain)?;
    let trunk = app.create_trunk(&domain, new).await?;
    Ok((StatusCode::CREATED, Json(TrunkView::from(&trunk))))
}

/// Lists trunks (domain admin).
#[utoipa::path(get, path = "/api/v1/domains/{d}/trunks", tag = "trunks",
    params(("d" = String, Path)),
    responses((status = 200, body = [TrunkView])), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
) -> Result<Json<Vec<TrunkView>>, ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ManageDomain)?;
    let trunks = app.trunks(&domain).ok_or(AppError::UnknownDomain)?;
    Ok(Json(trunks.iter().map(TrunkView::from).collect()))
}
