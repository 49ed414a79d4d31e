//! `/domains/{d}/trunks` (HD-ROUTE-9).

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::Harness;

#[tokio::test]
async fn hd_route_9_trunks_are_created_listed_and_keep_their_password_secret() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let reply = h
        .post(
            "/api/v1/domains/acme.test/trunks",
            json!({"name": "carrier", "address": "sip.carrier.test:5060",
                   "username": "acme", "password": "Trunk-pass-1", "emergency": true}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(reply.json["name"], "carrier");
    assert_eq!(reply.json["has_password"], true);
    assert!(!reply.text.contains("Trunk-pass-1"));
    h.post(
        "/api/v1/domains/acme.test/trunks",
        json!({"name": "carrier", "address": "other.test"}),
    )
    .await
    .error(StatusCode::CONFLICT, "trunk_exists");
    for (body, field) in [
        (json!({"name": "bad name", "address": "x.test"}), "name"),
        (json!({"name": "t2", "address": "x.test:99999"}), "address"),
        (
            json!({"name": "t2", "address": "x'; DROP TABLE trunks;--"}),
            "address",
        ),
        (json!({"name": "t2"}), "address"),
    ] {
        let reply = h
            .post("/api/v1/domains/acme.test/trunks", body)
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        assert_eq!(reply.json["error"]["field"], field, "{}", reply.text);
    }
    let list = h
        .get("/api/v1/domains/acme.test/trunks")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    assert!(!list.text.contains("v1:"));
}
