//! Extractors whose rejections are [`ApiError`]s, so malformed JSON, unknown fields, wrong
//! types, bad query strings and oversized bodies answer in the same error shape.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use hotdesk_core::{DomainName, Extension, Refusal};
use hotdesk_store::RecordFilter;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::error::ApiError;
use crate::state::AppError;

/// A JSON request body: `Content-Type: application/json`, parsed with the failing field
/// named (`max_devices: invalid type: string "x", expected u8`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body into `T`, naming the field at fault. Syntax is checked first (400);
/// only a well-formed document is then matched against `T` (422), because serde_json
/// reports some type mismatches (a number for an enum) as syntax errors.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let document: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("request body is not valid JSON: {err}"),
        )
    })?;
    // Every request body of this API is an object.
    if !document.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(document).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = crate::state::error::field_name(&path, &message);
        ApiError::invalid_field(field, message)
    })
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
}

/// Maps a body-reading failure (usually the size limit) to the error shape.
pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "request body is too large",
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "request body could not be read",
        )
    }
}

/// A query string parsed into `T`, rejecting with the field named.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|err| {
                let message = err.to_string();
                let field = crate::state::error::field_name("query", &message);
                ApiError::invalid_field(field, message)
            })
    }
}

/// Path parameters parsed into `T`, rejecting in the error shape.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_path", rejection.body_text())
            })
    }
}

/// A domain named in the path; a malformed name names no domain (404, HD-SEC-1).
pub(crate) fn domain_name(text: &str) -> Result<DomainName, ApiError> {
    DomainName::new(text).map_err(|_| AppError::UnknownDomain.into())
}

/// A user extension named in the path; malformed → 404 `unknown_user`.
pub(crate) fn user_ext(text: &str) -> Result<Extension, ApiError> {
    Extension::new(text).map_err(|_| Refusal::UnknownUser.into())
}

/// A device extension named in the path; malformed → 404 `unknown_device`.
pub(crate) fn device_ext(text: &str) -> Result<Extension, ApiError> {
    Extension::new(text).map_err(|_| Refusal::UnknownDevice.into())
}

/// Largest page of records.
const MAX_LIMIT: u32 = 10_000;

/// Filters shared by audit and CDR listings (HD-CDR-2).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordQuery {
    /// Only records about this user extension.
    pub user: Option<String>,
    /// Only records about this device anchor extension.
    pub device: Option<String>,
    /// Only records at or after this RFC 3339 instant.
    pub from: Option<String>,
    /// Only records before this RFC 3339 instant.
    pub until: Option<String>,
    /// At most this many records, newest first (1–10000, default 1000).
    pub limit: Option<String>,
    /// `json` (default) or `csv` (CDRs only).
    pub format: Option<String>,
}

fn ext(field: &str, value: Option<&str>) -> Result<Option<Extension>, ApiError> {
    value
        .map(|v| Extension::new(v).map_err(|e| ApiError::invalid_field(field, e.to_string())))
        .transpose()
}

fn instant(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|v| {
            v.parse::<Timestamp>()
                .map_err(|_| ApiError::invalid_field(field, "must be an RFC 3339 timestamp"))
        })
        .transpose()
}

impl RecordQuery {
    /// The store filter these parameters describe.
    pub(crate) fn filter(&self) -> Result<RecordFilter, ApiError> {
        let limit = match self.limit.as_deref() {
            None => 1000,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_field("limit", format!("must be 1 to {MAX_LIMIT}"))
                })?,
        };
        Ok(RecordFilter {
            user: ext("user", self.user.as_deref())?,
            device: ext("device", self.device.as_deref())?,
            from: instant("from", self.from.as_deref())?,
            until: instant("until", self.until.as_deref())?,
            limit: Some(limit),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u8,
    }

    #[test]
    fn syntax_errors_are_400_and_field_errors_422_naming_the_field() {
        let err = parse_json::<Body>(b"{\"name\":").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), "malformed_json");

        let err = parse_json::<Body>(br#"{"name":"a","count":"x"}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(format!("{err:?}").contains("count"));

        let err = parse_json::<Body>(br#"{"name":"a","count":1,"evil":1}"#).unwrap_err();
        assert!(format!("{err:?}").contains("Some(\"evil\")"));

        assert!(parse_json::<Body>(br#"{"name":"a","count":1} x"#).is_err());
        assert!(parse_json::<Body>(br#"{"name":"a","count":1}"#).is_ok());
    }
}
