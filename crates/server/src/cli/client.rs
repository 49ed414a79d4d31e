//! A small REST client for the administrator commands: bearer token, JSON in and out, and
//! the API's `{"error":{"code","message"}}` turned into [`ClientError::Api`].

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::secrets::SecretString;

/// Why a command's API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error (printed as `error: <message> (<code>)`).
    #[error("{message} ({code})")]
    Api {
        /// HTTP status.
        status: StatusCode,
        /// The API's stable error code, e.g. `allocation_full`.
        code: String,
        /// Human-readable message, prefixed with the field at fault if the API named one.
        message: String,
        /// Further lines: the rejected rows of a CSV import.
        details: Vec<String>,
    },
    /// The server could not be reached or the exchange broke off.
    #[error("cannot reach {url}: {source} (unreachable)")]
    Transport {
        /// The URL requested.
        url: String,
        /// The transport failure.
        source: reqwest::Error,
    },
    /// A local file (CSV to import) could not be read.
    #[error("cannot read {path}: {source} (io)")]
    File {
        /// The file named on the command line.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
}

/// What a request sends as its body.
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// A JSON document.
    Json(Value),
    /// A CSV document (user import).
    Csv(String),
}

/// Client for one server and one token.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: Option<SecretString>,
}

impl ApiClient {
    /// A client for the server at `url` (`http://host:port`), sending `token` if given.
    pub fn new(url: &str, token: Option<SecretString>) -> Self {
        // Loopback administration must not wander through an HTTP proxy from the environment.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: format!("{}/api/v1", url.trim_end_matches('/')),
            token,
        }
    }

    /// `GET` an API path (relative to `/api/v1`).
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.send(Method::GET, path, Body::Empty).await
    }

    /// `POST` a JSON document.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, ClientError> {
        self.send(Method::POST, path, Body::Json(body)).await
    }

    /// `PATCH` a resource with a JSON document.
    pub async fn patch(&self, path: &str, body: Value) -> Result<Value, ClientError> {
        self.send(Method::PATCH, path, Body::Json(body)).await
    }

    /// `DELETE` a resource.
    pub async fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.send(Method::DELETE, path, Body::Empty).await
    }

    /// Sends one request; a 2xx answer's JSON (or `null` when empty) is returned.
    pub async fn send(&self, method: Method, path: &str, body: Body) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(&value),
            Body::Csv(text) => request.header("content-type", "text/csv").body(text),
        };
        let transport = |source| ClientError::Transport {
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        let value: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return Ok(value.unwrap_or(Value::Null));
        }
        Err(api_error(status, value.as_ref(), &bytes))
    }
}

/// Reads the API error shape; anything else becomes a code named after the status.
fn api_error(status: StatusCode, value: Option<&Value>, raw: &[u8]) -> ClientError {
    let error = value.and_then(|v| v.get("error"));
    let field = |name: &str| {
        error
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let fallback_message = || {
        let text = String::from_utf8_lossy(raw).trim().to_owned();
        if text.is_empty() {
            status.canonical_reason().unwrap_or("error").to_owned()
        } else {
            text
        }
    };
    let message = field("message").unwrap_or_else(fallback_message);
    let message = match field("field") {
        Some(name) if !message.starts_with(&name) => format!("{name}: {message}"),
        _ => message,
    };
    let details = error
        .and_then(|e| e.get("rows"))
        .and_then(Value::as_array)
        .map(|rows| rows.iter().map(row_detail).collect())
        .unwrap_or_default();
    ClientError::Api {
        status,
        code: field("code").unwrap_or_else(|| format!("http_{}", status.as_u16())),
        message,
        details,
    }
}

/// One rejected import row: `line 3 (1004): pin: must be 4 to 12 digits (invalid_field)`.
fn row_detail(row: &Value) -> String {
    let text = |key: &str| row.get(key).and_then(Value::as_str).unwrap_or_default();
    let line = row.get("line").and_then(Value::as_u64).unwrap_or_default();
    let extension = match text("extension") {
        "" => String::new(),
        ext => format!(" ({ext})"),
    };
    format!(
        "line {line}{extension}: {}: {} ({})",
        text("field"),
        text("message"),
        text("code")
    )
}

impl ClientError {
    /// Lines to print under the `error:` line.
    pub fn details(&self) -> &[String] {
        match self {
            Self::Api { details, .. } => details,
            Self::Transport { .. } | Self::File { .. } => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_4_api_error_shape_is_read() {
        let body = json!({"error": {"code": "allocation_full", "message": "already logged in to 1 devices"}});
        let error = api_error(StatusCode::CONFLICT, Some(&body), b"");
        assert_eq!(
            error.to_string(),
            "already logged in to 1 devices (allocation_full)"
        );
    }

    #[test]
    fn spec_4_field_and_rejected_rows_are_shown() {
        let body = json!({"error": {"code": "import_rejected", "message": "1 of 2 rows are invalid; nothing was imported",
            "rows": [{"line": 3, "extension": "1004", "field": "pin", "code": "invalid_field", "message": "PIN must be 4 to 12 digits"}]}});
        let error = api_error(StatusCode::UNPROCESSABLE_ENTITY, Some(&body), b"");
        assert_eq!(
            error.details(),
            ["line 3 (1004): pin: PIN must be 4 to 12 digits (invalid_field)"]
        );
        let body = json!({"error": {"code": "invalid_field", "field": "mac", "message": "must be 12 hex digits"}});
        let error = api_error(StatusCode::UNPROCESSABLE_ENTITY, Some(&body), b"");
        assert_eq!(
            error.to_string(),
            "mac: must be 12 hex digits (invalid_field)"
        );
    }

    #[test]
    fn non_api_error_bodies_still_give_a_code_and_message() {
        let error = api_error(StatusCode::NOT_FOUND, None, b"");
        assert_eq!(error.to_string(), "Not Found (http_404)");
        let error = api_error(StatusCode::BAD_GATEWAY, None, b"upstream down\n");
        assert_eq!(error.to_string(), "upstream down (http_502)");
    }
}
