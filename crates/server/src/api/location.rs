//! `GET /api/v1/location/{domain}/{anchor}.xml`: a device's emergency location as PIDF-LO
//! (RFC 4119 with the RFC 5139 civic address), the document an emergency call's
//! `Geolocation` header points at (HD-ROUTE-6, RFC 6442 location by reference). It is read
//! without a token: the emergency network dereferencing it holds none.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hotdesk_core::{CivicAddress, Extension};

use crate::api::error::ApiError;
use crate::api::extract::domain_name;
use crate::state::App;

/// Media type of PIDF-LO documents (RFC 3863 §8).
const PIDF: &str = "application/pidf+xml";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The PIDF-LO document for `entity` at `address`.
pub fn pidf_lo(entity: &str, address: &CivicAddress, now: jiff::Timestamp) -> String {
    let mut civic = String::new();
    let fields = [
        ("country", Some(&address.country)),
        ("A1", address.state.as_ref()),
        ("A3", address.city.as_ref()),
        ("RD", address.street.as_ref()),
        ("HNO", address.number.as_ref()),
        ("FLR", address.floor.as_ref()),
        ("ROOM", address.room.as_ref()),
        ("LOC", address.description.as_ref()),
    ];
    for (element, value) in fields {
        if let Some(value) = value {
            let _ = write!(civic, "<ca:{element}>{}</ca:{element}>", escape(value));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
         xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" \
         xmlns:ca=\"urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr\" \
         entity=\"pres:{entity}\">\n\
         <tuple id=\"device\"><status><gp:geopriv><gp:location-info>\
         <ca:civicAddress>{civic}</ca:civicAddress></gp:location-info>\
         <gp:usage-rules/><gp:method>Manual</gp:method></gp:geopriv></status>\
         <timestamp>{now}</timestamp></tuple>\n</presence>\n",
        entity = escape(entity)
    )
}

/// The location of device `anchor` (file name `ANCHOR.xml`) in `domain`.
#[utoipa::path(get, path = "/api/v1/location/{domain}/{file}", tag = "records",
    params(("domain" = String, Path), ("file" = String, Path, description = "ANCHOR.xml")),
    responses((status = 200, content_type = "application/pidf+xml", body = String),
        (status = 404, body = crate::api::error::ErrorBody)))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    Path((domain, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_location",
            "no location for this device",
        )
    };
    let domain = domain_name(&domain)?;
    let anchor = file.strip_suffix(".xml").unwrap_or(&file);
    let anchor = Extension::new(anchor).map_err(|_| not_found())?;
    let address = {
        let state = app.read();
        state
            .tenants
            .get(&domain)
            .and_then(|t| t.devices.get(&anchor))
            .and_then(|d| d.location.clone())
    }
    .ok_or_else(not_found)?;
    let body = pidf_lo(&format!("{anchor}@{domain}"), &address, app.now());
    Ok(([(header::CONTENT_TYPE, PIDF)], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_route_6_pidf_lo_carries_the_civic_address() {
        let address = CivicAddress {
            country: "US".into(),
            state: Some("TX".into()),
            city: Some("Austin".into()),
            street: Some("Main <St>".into()),
            number: Some("12".into()),
            floor: Some("3".into()),
            room: None,
            description: None,
        };
        let doc = pidf_lo("94001@acme.test", &address, jiff::Timestamp::UNIX_EPOCH);
        assert!(doc.contains("<ca:country>US</ca:country>"));
        assert!(doc.contains("<ca:RD>Main &lt;St&gt;</ca:RD>"));
        assert!(doc.contains("<ca:FLR>3</ca:FLR>"));
        assert!(!doc.contains("ROOM"));
        assert!(doc.contains("entity=\"pres:94001@acme.test\""));
    }
}
