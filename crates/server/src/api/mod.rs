//! The REST API under `/api/v1` (SPEC §4): JSON, bearer tokens, errors as
//! `{"error":{"code","message"}}`; plus `/healthz` and `/metrics`.
//!
//! One file per resource; each route's handler sits in its resource's file.

pub mod associations;
pub mod audit;
pub mod auth;
pub mod cdrs;
pub mod cookie;
pub mod devices;
pub mod domains;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod keys;
pub mod location;
pub mod mailbox;
mod openapi;
pub mod queues;
pub mod templates;
pub mod trunks;
pub mod users;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

use crate::provisioning;
use axum::Router;

pub use error::ApiError;

use crate::state::App;

/// Largest JSON body.
pub const JSON_LIMIT: usize = 1024 * 1024;
/// Largest CSV import body (about 100,000 rows).
pub const IMPORT_LIMIT: usize = 20 * 1024 * 1024;

async fn not_found() -> ApiError {
    ApiError::not_found("resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this resource",
    )
}

/// The routes under `/api/v1`.
fn v1() -> Router<Arc<App>> {
    let d = "/domains/{d}";
    Router::new()
        .route("/domains", post(domains::create).get(domains::list))
        .route(
            d,
            get(domains::get)
                .patch(domains::patch)
                .delete(domains::delete),
        )
        .route(&format!("{d}/users"), post(users::create).get(users::list))
        .route(
            &format!("{d}/users:import"),
            post(users::import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route(
            &format!("{d}/users/{{ext}}"),
            get(users::get).patch(users::patch).delete(users::delete),
        )
        .route(
            &format!("{d}/users/{{ext}}/activate"),
            post(users::activate),
        )
        .route(
            &format!("{d}/users/{{ext}}/activations/{{id}}"),
            get(users::activation),
        )
        .route(&format!("{d}/users/{{ext}}/mailbox"), put(mailbox::put))
        .route(
            &format!("{d}/devices"),
            post(devices::create).get(devices::list),
        )
        .route(
            &format!("{d}/devices/{{ext}}"),
            get(devices::get)
                .patch(devices::patch)
                .delete(devices::delete),
        )
        .route(
            &format!("{d}/devices/{{ext}}/login"),
            post(associations::login),
        )
        .route(
            &format!("{d}/devices/{{ext}}/logout"),
            post(associations::logout),
        )
        .route(&format!("{d}/associations"), get(associations::list))
        .route(&format!("{d}/templates"), get(templates::list))
        .route(
            &format!("{d}/templates/{{name}}"),
            get(templates::get)
                .put(templates::put)
                .delete(templates::delete),
        )
        .route(
            &format!("{d}/templates/{{name}}/apply"),
            post(templates::apply),
        )
        .route(&format!("{d}/users/{{ext}}/keys"), get(keys::user_keys))
        .route(
            &format!("{d}/users/{{ext}}/keys/{{model}}"),
            put(keys::put_user_keys),
        )
        .route(
            &format!("{d}/devices/{{ext}}/soft_keys"),
            put(keys::put_soft_keys),
        )
        .route(
            &format!("{d}/devices/{{ext}}/provisioning"),
            get(keys::get_options).put(keys::put_options),
        )
        .route(&format!("{d}/devices/{{ext}}/notice"), post(keys::notice))
        .route(
            &format!("{d}/devices/{{ext}}/preview"),
            post(templates::preview),
        )
        .route(&format!("{d}/devices/{{ext}}/mwi"), get(keys::mwi))
        .route(
            &format!("{d}/devices/{{ext}}/mailbox"),
            put(mailbox::put_device),
        )
        .route(
            &format!("{d}/trunks"),
            post(trunks::create).get(trunks::list),
        )
        .route(
            &format!("{d}/queues"),
            post(queues::create).get(queues::list),
        )
        .route(
            &format!("{d}/queues/{{ext}}"),
            get(queues::get).patch(queues::patch).delete(queues::delete),
        )
        .route(
            &format!("{d}/queues/{{ext}}/members"),
            post(queues::add_member),
        )
        .route(
            &format!("{d}/queues/{{ext}}/members/{{kind}}/{{member}}"),
            axum::routing::delete(queues::remove_member),
        )
        .route(&format!("{d}/cdrs"), get(cdrs::list))
        .route("/location/{domain}/{file}", get(location::get))
        .route(&format!("{d}/audit"), get(audit::list))
        .route("/models", get(devices::models))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/events", get(events::stream))
        .route("/openapi.json", get(openapi::spec))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The whole HTTP API for `app`: `/api/v1/…`, `/healthz`, `/metrics`, and the portal. Serve it with
/// `axum::serve(listener, router(app).into_make_service_with_connect_info::<SocketAddr>())`
/// so audit rows record the caller's address.
pub fn router(app: Arc<App>) -> Router {
    router_with(app, crate::portal::PortalConfig::default())
}

/// [`router`] with the web portal configured (`/portal/…`, see [`crate::portal`]).
pub fn router_with(app: Arc<App>, portal: crate::portal::PortalConfig) -> Router {
    Router::new()
        .nest("/api/v1", v1())
        .merge(crate::portal::router(portal))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/provision/{file}", get(provisioning::http::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            health::count_requests,
        ))
        .with_state(app)
}
