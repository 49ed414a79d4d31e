//! `GET /events`: server-sent events of log-ins, log-outs, registrations, calls, mailbox
//! changes and lock-outs — the caller's domain only unless super admin (HD-SEC-1), and a
//! `user` token sees only events about itself (HD-SEC-4).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use hotdesk_core::Scope;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt as _;

use crate::api::auth::Caller;
use crate::state::{App, AppEvent, Principal};

/// Whether `principal` may see `event`.
pub(crate) fn visible(principal: &Principal, event: &AppEvent) -> bool {
    if principal.is_super() {
        return true;
    }
    if principal.domain.as_ref() != Some(event.domain()) {
        return false;
    }
    principal.scope >= Scope::OfficeManager
        || (principal.user.is_some() && event.user() == principal.user.as_ref())
}

/// Streams live events as SSE (`event:` = type, `data:` = JSON).
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    responses((status = 200, content_type = "text/event-stream",
        description = "logged_in, logged_out, registered, unregistered, call, mailbox_changed, locked_out")),
    security(("bearer" = [])))]
pub(crate) async fn stream(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let principal = caller.principal;
    let events = BroadcastStream::new(app.subscribe()).filter_map(move |item| match item {
        Ok(event) if visible(&principal, &event) => Event::default()
            .event(event.name())
            .json_data(&event)
            .ok()
            .map(Ok),
        Ok(_) => None,
        // A slow reader skipped some events; say so rather than pretend nothing happened.
        Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Ok(Event::default()
            .event("lagged")
            .data(missed.to_string()))),
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
