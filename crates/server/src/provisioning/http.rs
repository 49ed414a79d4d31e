//! `GET /provision/{file}`: what phones fetch (HD-PROV-1). `{mac}.cfg` / `{mac}.xml` is the
//! per-phone file, `{model}.cfg` / `{model}.xml` (e.g. `yealink-t46u.cfg`) the model's
//! common file. Both need the credentials of a device — its anchor and SIP password — by
//! Digest or Basic; anything else gets the same 401, known MAC or not. Files carry a
//! strong ETag; `If-None-Match` with it gets 304.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hotdesk_core::{Device, Mac, ModelId};

use super::http_auth::{Check, Expected};
use super::lockout::{self, Target};
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

/// Where an in-process caller (no socket, so no `ConnectInfo`) is counted from.
const UNKNOWN_SOURCE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// Serves `/provision/{file}`; wrong passwords are counted and locked out ([`lockout`]).
pub async fn serve(
    State(app): State<Arc<App>>,
    method: Method,
    Path(file): Path<String>,
    extensions: Extensions,
    headers: HeaderMap,
) -> Response {
    let prov = app.provisioning();
    let source = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(UNKNOWN_SOURCE, |ConnectInfo(addr)| addr.ip());
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let wanted = parse_name(&file);
    let target = match &wanted {
        Some(Wanted::Phone(mac, _)) => Target::Mac(mac.to_string()),
        _ => authorization
            .and_then(username_hint)
            .map_or(Target::Nothing, Target::User),
    };
    let now = app.now();
    if prov.guard.is_locked(source, &target, now) {
        tracing::debug!(%source, ?target, "provisioning request refused: locked out");
        return unauthorized(prov, false);
    }
    let (response, check) = answer(&app, method.as_str(), wanted, authorization, &headers);
    match check {
        Check::Allowed => prov.guard.succeeded(&target),
        // A guess: credentials that prove no device at all. A phone with its own right
        // credentials asking for a file it may not have (another MAC, a model file the
        // server lacks) is not guessing, and must not lock out its office's address.
        Check::Challenge { stale: false }
            if authorization.is_some()
                && !proves_a_device(&app, method.as_str(), authorization) =>
        {
            let started = prov.guard.failed(source, &target, now);
            lockout::audit(&app, source, &target, started, now);
        }
        Check::Challenge { .. } => {}
    }
    response
}

/// Whether the credentials are right for some device whose anchor they name.
fn proves_a_device(app: &App, method: &str, authorization: Option<&str>) -> bool {
    let username = authorization.and_then(username_hint);
    let now = SystemTime::now();
    devices_named(app, username.as_deref(), None)
        .iter()
        .any(|(user, password)| {
            let expected = Expected {
                username: user,
                password,
            };
            app.provisioning()
                .http_auth
                .check(now, method, authorization, Some(expected))
                == Check::Allowed
        })
}

/// Anchor and password of every device named `username` (anchors repeat across domains),
/// of `model` when given.
fn devices_named(
    app: &App,
    username: Option<&str>,
    model: Option<&ModelId>,
) -> Vec<(String, String)> {
    let Some(username) = username else {
        return Vec::new();
    };
    let devices: Vec<Device> = {
        let state = app.read();
        state
            .tenants
            .iter()
            .flat_map(|t| t.devices.values())
            .filter(|d| d.extension.as_str() == username && model.is_none_or(|m| &d.model == m))
            .cloned()
            .collect()
    };
    devices
        .iter()
        .filter_map(|d| credentials_of(app, d))
        .collect()
}

/// The response to a request, with what its credentials proved.
fn answer(
    app: &App,
    method: &str,
    wanted: Option<Wanted>,
    authorization: Option<&str>,
    headers: &HeaderMap,
) -> (Response, Check) {
    let prov = app.provisioning();
    let now = SystemTime::now();
    match wanted {
        Some(Wanted::Phone(mac, format)) => {
            let device = app.device_by_mac(&mac);
            let creds = device.as_ref().and_then(|d| credentials_of(app, d));
            let expected = creds.as_ref().map(|(u, p)| Expected {
                username: u,
                password: p,
            });
            let check = prov.http_auth.check(now, method, authorization, expected);
            let response = match check {
                Check::Challenge { stale } => unauthorized(prov, stale),
                Check::Allowed => {
                    let (Some(device), Some((_, password))) = (device, creds) else {
                        return (unauthorized(prov, false), check);
                    };
                    match prov.render_device(app, &device, &password) {
                        Ok(Some(rendered))
                            if Provisioning::format_of(app.models().get(&device.model))
                                == Some(format) =>
                        {
                            file_response(rendered, headers)
                        }
                        Ok(_) => not_found(),
                        Err(error) => internal(&error),
                    }
                }
            };
            (response, check)
        }
        Some(Wanted::Common(model, format)) => {
            // Any device of this model may fetch its common file.
            let username = authorization.and_then(username_hint);
            let candidates = devices_named(app, username.as_deref(), Some(&model));
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
            let response = match check {
                Check::Challenge { stale } => unauthorized(prov, stale),
                Check::Allowed => match app.models().get(&model).map(|m| prov.render_common(m)) {
                    Some(Ok(Some(rendered)))
                        if Provisioning::format_of(app.models().get(&model)) == Some(format) =>
                    {
                        file_response(rendered, headers)
                    }
                    Some(Err(error)) => internal(&error),
                    _ => not_found(),
                },
            };
            (response, check)
        }
        // A name that is neither: challenged like any other, so it reveals nothing.
        None => {
            let check = prov.http_auth.check(now, method, authorization, None);
            let response = match check {
                Check::Challenge { stale } => unauthorized(prov, stale),
                Check::Allowed => not_found(),
            };
            (response, check)
        }
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
