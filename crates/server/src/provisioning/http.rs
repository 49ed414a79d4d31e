//! `GET /provision/{file}`: what phones fetch (HD-PROV-1). `{mac}.cfg` / `{mac}.xml` is the
//! per-phone file, `{model}.cfg` / `{model}.xml` (e.g. `yealink-t46u.cfg`) the model's
//! common file. Both need the credentials of a device — its anchor and SIP password — by
//! Digest or Basic; anything else gets the same 401, known MAC or not. Files carry a
//! strong ETag; `If-None-Match` with it gets 304.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hotdesk_core::{Device, Mac, ModelId};

use super::http_auth::{Check, Expected};
use super::templates::Format;
use super::{Provisioning, Rendered};
use crate::api::ApiError;
use crate::state::App;

/// What a file name asks for.
enum Wanted {
    Phone(Mac, Format),
    Common(ModelId, Format),
}

fn parse_name(file: &str) -> Option<Wanted> {
    let (stem, ext) = file.rsplit_once('.')?;
    let format = Format::parse(ext)?;
    // A MAC has only hex digits (and separators); a model ID has letters past `f`.
    if let Ok(mac) = Mac::new(stem) {
        return Some(Wanted::Phone(mac, format));
    }
    ModelId::new(stem).ok().map(|m| Wanted::Common(m, format))
}

fn unauthorized(prov: &Provisioning, stale: bool) -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "provisioning files need the device's SIP credentials",
    )
    .into_response();
    for value in prov.http_auth.challenges(SystemTime::now(), stale) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .append(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

fn file_response(rendered: Rendered, headers: &HeaderMap) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|tag| tag == rendered.etag || tag == "*")
        });
    let etag = HeaderValue::from_str(&rendered.etag).unwrap_or(HeaderValue::from_static("\"\""));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::ETAG, etag),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(rendered.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        rendered.body,
    )
        .into_response()
}

fn not_found() -> Response {
    ApiError::not_found("provisioning file").into_response()
}

fn internal(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "cannot render provisioning file");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the provisioning file could not be rendered",
    )
    .into_response()
}

/// The device's anchor and clear password, if it has one.
fn credentials_of(app: &App, device: &Device) -> Option<(String, String)> {
    let password = app.device_sip_password(device).ok().flatten()?;
    Some((device.extension.to_string(), password.expose().to_owned()))
}

/// Serves `/provision/{file}`.
pub async fn serve(
    State(app): State<Arc<App>>,
    method: Method,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let prov = app.provisioning();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let now = SystemTime::now();
    let method = method.as_str();
    let wanted = parse_name(&file);
    match wanted {
        Some(Wanted::Phone(mac, format)) => {
            let device = app.device_by_mac(&mac);
            let creds = device.as_ref().and_then(|d| credentials_of(&app, d));
            let expected = creds.as_ref().map(|(u, p)| Expected {
                username: u,
                password: p,
            });
            match prov.http_auth.check(now, method, authorization, expected) {
                Check::Challenge { stale } => unauthorized(prov, stale),
                Check::Allowed => {
                    let (Some(device), Some((_, password))) = (device, creds) else {
                        return unauthorized(prov, false);
                    };
                    match prov.render_device(&app, &device, &password) {
                        Ok(Some(rendered))
                            if Provisioning::format_of(app.models().get(&device.model))
                                == Some(format) =>
                        {
                            file_response(rendered, &headers)
                        }
                        Ok(_) => not_found(),
                        Err(error) => internal(&error),
                    }
                }
            }
        }
        Some(Wanted::Common(model, format)) => {
            // Any device of this model may fetch its common file.
            let candidates: Vec<(String, String)> = {
                let username = authorization.and_then(username_hint);
                let state = app.read();
                state
                    .tenants
                    .iter()
                    .flat_map(|t| t.devices.values())
                    .filter(|d| {
                        d.model == model && Some(d.extension.as_str()) == username.as_deref()
                    })
                    .cloned()
                    .collect::<Vec<Device>>()
            }
            .iter()
            .filter_map(|d| credentials_of(&app, d))
            .collect();
            let mut check = prov.http_auth.check(now, method, authorization, None);
            for (user, password) in &candidates {
                check = prov.http_auth.check(
                    now,
                    method,
                    authorization,
                    Some(Expected {
                        username: user,
                        password,
                    }),
                );
                if check == Check::Allowed {
                    break;
                }
            }
            match check {
                Check::Challenge { stale } => unauthorized(prov, stale),
                Check::Allowed => match app.models().get(&model).map(|m| prov.render_common(m)) {
                    Some(Ok(Some(rendered)))
                        if Provisioning::format_of(app.models().get(&model)) == Some(format) =>
                    {
                        file_response(rendered, &headers)
                    }
                    Some(Err(error)) => internal(&error),
                    _ => not_found(),
                },
            }
        }
        // A name that is neither: challenged like any other, so it reveals nothing.
        None => match prov.http_auth.check(now, method, authorization, None) {
            Check::Challenge { stale } => unauthorized(prov, stale),
            Check::Allowed => not_found(),
        },
    }
}

/// The username an `Authorization` header claims (Basic or Digest), to pick candidates.
fn username_hint(value: &str) -> Option<String> {
    use base64::Engine as _;
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("Basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return text.split_once(':').map(|(u, _)| u.to_owned());
    }
    hotdesk_sip::digest::Credentials::parse(value)
        .ok()
        .map(|c| c.username.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_prov_1_file_names() {
        assert!(matches!(
            parse_name("001565123456.cfg"),
            Some(Wanted::Phone(_, Format::Cfg))
        ));
        assert!(matches!(
            parse_name("001565123456.xml"),
            Some(Wanted::Phone(_, Format::Xml))
        ));
        assert!(matches!(
            parse_name("yealink-t46u.cfg"),
            Some(Wanted::Common(_, Format::Cfg))
        ));
        assert!(parse_name("001565123456.txt").is_none());
        assert!(parse_name("../etc/passwd").is_none());
    }
}
