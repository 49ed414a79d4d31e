//! `GET /domains/{d}/cdrs`: call records, JSON or CSV (HD-CDR-1, -2).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotdesk_core::{authz::Action, Cdr};

use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{domain_name, ApiPath, ApiQuery, RecordQuery};
use crate::state::{App, AppError};

/// CSV header of the export.
const CSV_HEADER: [&str; 12] = [
    "domain",
    "call_id",
    "direction",
    "anchor",
    "user_name",
    "user_extension",
    "from",
    "to",
    "start",
    "answer",
    "end",
    "disposition",
];

fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

fn to_csv(cdrs: &[Cdr]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for cdr in cdrs {
        let opt = |v: Option<String>| v.unwrap_or_default();
        writer.write_record([
            cdr.domain.to_string(),
            cdr.call_id.clone(),
            wire(&cdr.direction),
            opt(cdr.anchor.as_ref().map(ToString::to_string)),
            opt(cdr.user_name.clone()),
            opt(cdr.user_extension.as_ref().map(ToString::to_string)),
            cdr.from.clone(),
            cdr.to.clone(),
            cdr.start.to_string(),
            opt(cdr.answer.map(|t| t.to_string())),
            cdr.end.to_string(),
            wire(&cdr.disposition),
        ])?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// Lists CDRs, newest first, filtered by user, device and time (office manager and up;
/// a user gets their own calls only);
/// `?format=csv` gives a CSV export.
#[utoipa::path(get, path = "/api/v1/domains/{d}/cdrs", tag = "records",
    params(("d" = String, Path), RecordQuery),
    responses((status = 200, body = [Object], description = "JSON, or text/csv with format=csv"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiPath(d): ApiPath<String>,
    ApiQuery(query): ApiQuery<RecordQuery>,
) -> Result<Response, ApiError> {
    let domain = domain_name(&d)?;
    // Office managers and up read the domain's records; a signed-in user reads only the
    // calls made as them (the portal's "my recent calls"), whatever `user=` says.
    let own = match caller.principal.allow(&domain, Action::ReadRecords) {
        Ok(()) => None,
        Err(refused) => match caller.principal.user.clone() {
            Some(me)
                if caller
                    .principal
                    .allow(&domain, Action::ActAsUser(&me))
                    .is_ok() =>
            {
                Some(me)
            }
            _ => return Err(refused.into()),
        },
    };
    if app.domain(&domain).is_none() {
        return Err(AppError::UnknownDomain.into());
    }
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid_field("format", "must be json or csv")),
    };
    let mut filter = query.filter()?;
    if own.is_some() {
        filter.user = own;
    }
    let cdrs = app
        .store()
        .cdrs(&domain, &filter)
        .await
        .map_err(AppError::from)?;
    if !csv {
        return Ok(Json(cdrs).into_response());
    }
    let body = to_csv(&cdrs).map_err(|err| {
        tracing::error!(error = %err, "CDR CSV export failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}
