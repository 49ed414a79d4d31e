//! `ApiError`: every failure as `{"error":{"code","message"}}` with its HTTP status.
//!
//! The one place where refusals and application errors become status codes (STYLE §4).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hotdesk_core::Refusal;
use hotdesk_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppError;

/// An error response: status, stable code, human message, optional field and extras.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after_secs: Option<u64>,
    extra: Option<serde_json::Value>,
}

/// The JSON body of every error (documented in OpenAPI).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// `error` member of an error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code (`Refusal::code()` for rule refusals).
    pub code: String,
    /// Human-readable explanation; never contains a secret.
    pub message: String,
    /// The input field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds until a lock-out lifts (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Per-row report of a rejected CSV import.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub rows: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
            extra: None,
        }
    }

    /// 422 for an invalid input field, naming it.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut err = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message);
        err.field = Some(field.into());
        err
    }

    /// 401 for a missing or bad bearer token.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "missing or invalid bearer token",
        )
    }

    /// 403 for a cookie-session request that changes state without the session's
    /// `X-CSRF-Token` (a forged cross-site request, or a stale page).
    pub fn csrf_failed() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "missing or wrong X-CSRF-Token for this session; reload the page",
        )
    }

    /// 404 for a path that names nothing (also unknown routes).
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// Status for each rule refusal: the single mapping from `Refusal` to HTTP (no `_` arm, so
/// a new refusal fails to compile until it is placed here).
fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::UnknownUser | Refusal::UnknownDevice => StatusCode::NOT_FOUND,
        Refusal::WrongPin => StatusCode::UNAUTHORIZED,
        Refusal::LockedOut { .. } => StatusCode::LOCKED,
        Refusal::ExcludedModel
        | Refusal::PersonalDevice
        | Refusal::LocationDevice
        | Refusal::Forbidden
        | Refusal::DeviceNotLoggedIn => StatusCode::FORBIDDEN,
        Refusal::AllocationFull { .. }
        | Refusal::PoolExceeded { .. }
        | Refusal::ExtensionInUse
        | Refusal::MacInUse
        | Refusal::PinInUse
        | Refusal::NotLoggedIn
        | Refusal::NotYourDevice => StatusCode::CONFLICT,
        Refusal::AllocationOutOfRange { .. }
        | Refusal::OutsideDeviceRange
        | Refusal::InsideDeviceRange
        | Refusal::UnknownModel => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The input field a refusal is about, where there is one.
fn refusal_field(refusal: &Refusal) -> Option<&'static str> {
    match refusal {
        Refusal::AllocationOutOfRange { .. } | Refusal::PoolExceeded { .. } => Some("max_devices"),
        Refusal::OutsideDeviceRange | Refusal::InsideDeviceRange | Refusal::ExtensionInUse => {
            Some("extension")
        }
        Refusal::MacInUse => Some("mac"),
        Refusal::PinInUse | Refusal::WrongPin => Some("pin"),
        Refusal::UnknownModel => Some("model"),
        Refusal::UnknownUser
        | Refusal::UnknownDevice
        | Refusal::LockedOut { .. }
        | Refusal::ExcludedModel
        | Refusal::PersonalDevice
        | Refusal::LocationDevice
        | Refusal::AllocationFull { .. }
        | Refusal::NotLoggedIn
        | Refusal::NotYourDevice
        | Refusal::Forbidden
        | Refusal::DeviceNotLoggedIn => None,
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let mut err = Self::new(
            refusal_status(&refusal),
            refusal.code(),
            refusal.to_string(),
        );
        err.field = refusal_field(&refusal).map(str::to_owned);
        if let Refusal::LockedOut { retry_after_secs } = refusal {
            err.retry_after_secs = Some(retry_after_secs);
        }
        err
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Refused(refusal) => refusal.into(),
            AppError::Invalid { field, message } => Self::invalid_field(field, message),
            AppError::UnknownModel { known } => {
                let mut api = Self::invalid_field(
                    "model",
                    format!("unknown model; known models: {}", known.join(", ")),
                );
                api.code = "unknown_model";
                api
            }
            AppError::UnknownDomain => {
                Self::new(StatusCode::NOT_FOUND, "unknown_domain", "no such domain")
            }
            AppError::UnknownTrunk => {
                Self::new(StatusCode::NOT_FOUND, "unknown_trunk", "no such trunk")
            }
            AppError::DomainExists => Self::new(
                StatusCode::CONFLICT,
                "domain_exists",
                "a domain with that name already exists",
            ),
            AppError::TrunkExists => Self::new(
                StatusCode::CONFLICT,
                "trunk_exists",
                "a trunk with that name already exists in the domain",
            ),
            AppError::Unauthenticated => Self::unauthenticated(),
            AppError::ImportRejected { report } => {
                let mut api = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "import_rejected",
                    format!(
                        "{} of {} rows are invalid; nothing was imported",
                        report.rejected.len(),
                        report.rows
                    ),
                );
                api.extra = serde_json::to_value(&report.rejected).ok();
                api
            }
            AppError::NotImplemented { feature } => Self::new(
                StatusCode::NOT_IMPLEMENTED,
                "not_implemented",
                format!("{feature} is not implemented yet"),
            ),
            AppError::Store(StoreError::Conflict { entity }) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{entity} already exists"),
            ),
            AppError::Store(StoreError::NotFound { entity }) => Self::not_found(entity),
            err @ (AppError::Store(_) | AppError::Secret(_) | AppError::Worker) => {
                // Internal detail stays in the log; the client gets a generic message.
                tracing::error!(error = %err, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal server error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::debug!(status = %self.status, code = self.code, "request refused");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
                retry_after_secs: self.retry_after_secs,
                rows: self.extra,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_sec_2_locked_out_is_423_with_retry_after() {
        let response = ApiError::from(Refusal::LockedOut {
            retry_after_secs: 840,
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::LOCKED);
        assert_eq!(response.headers()[header::RETRY_AFTER], "840");
    }

    #[test]
    fn conflicts_are_409() {
        for refusal in [
            Refusal::ExtensionInUse,
            Refusal::MacInUse,
            Refusal::AllocationFull { limit: 1 },
            Refusal::PoolExceeded {
                pool: 5,
                used: 5,
                requested: 1,
            },
        ] {
            assert_eq!(ApiError::from(refusal).status(), StatusCode::CONFLICT);
        }
    }
}
