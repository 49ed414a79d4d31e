//! `GET /domains/{d}/audit`: log-ins, log-outs, failed PINs, lock-outs, forced log-outs.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use hotdesk_core::{authz::Action, AuditRecord};

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{domain_name, ApiPath, ApiQuery, RecordQuery};
use crate::state::{App, AppError};

/// Lists the domain's audit trail, newest first (office manager and up).
#[utoipa::path(get, path = "/api/v1/domains/{d}/audit", tag = "records",
    params(("d" = String, Path), RecordQuery),
    responses((status = 200, body = [Object]), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    ApiQuery(query): ApiQuery<RecordQuery>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    let domain = domain_name(&d)?;
    caller.principal.allow(&domain, Action::ReadRecords)?;
    if app.domain(&domain).is_none() {
        return Err(AppError::UnknownDomain.into());
    }
    if query.format.as_deref().is_some_and(|f| f != "json") {
        return Err(ApiError::invalid_field(
            "format",
            "audit is available as json only",
        ));
    }
    let filter = query.filter()?;
    let records = app
        .store()
        .audit(&domain, &filter)
        .await
        .map_err(AppError::from)?;
    Ok(Json(records))
}
