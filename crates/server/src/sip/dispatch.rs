//! The dispatcher: one task, and for each request one `match` in a fixed order (STYLE §2) —
//! retransmissions never get here (the transaction layer absorbs them), then in-dialog
//! requests, REGISTER, SUBSCRIBE, INVITE, OPTIONS, and 405/501 for the rest. Every handler
//! is known at compile time and reads in order. The same task sweeps lapsed bindings, so
//! every change to the bindings table happens here, in order.

use std::time::Duration;

use hotdesk_sip::endpoint::{new_tag, EndpointEvent, Events, ServerTransaction};
use hotdesk_sip::{Method, StatusCode};
use tokio::time::MissedTickBehavior;

use super::options::{self, ALLOW};
use super::Context;
use crate::cli::serve::Shutdown;
use crate::registrar::Registrar;

/// Runs until `shutdown` fires or the endpoint stops.
pub(super) async fn run(
    mut ctx: Context,
    mut registrar: Registrar,
    mut events: Events,
    mut shutdown: Shutdown,
    sweep_every: Duration,
) {
    let mut sweep = tokio::time::interval(sweep_every);
    sweep.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // Sweeps before requests: under a flood requests are always ready.
            biased;
            () = shutdown.wait() => break,
            _ = sweep.tick() => {
                let now = ctx.app.now();
                registrar.sweep(now).await;
                ctx.auth.prune(now);
            }
            event = events.recv() => match event {
                Some(event) => dispatch(&mut ctx, &mut registrar, event).await,
                None => break,
            },
        }
    }
    tracing::debug!("SIP dispatcher stopped");
}

async fn dispatch(ctx: &mut Context, registrar: &mut Registrar, event: EndpointEvent) {
    match event {
        EndpointEvent::Request(transaction) => request(ctx, registrar, transaction).await,
        // No INVITE is ever left unanswered yet, so there is nothing to cancel: 200 if the
        // transaction is still known (its final answer went out already), else 481.
        EndpointEvent::Cancel { cancel, invite } => {
            let status = match invite {
                Some(_) => StatusCode::OK,
                None => StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            };
            reply(cancel, status);
        }
        // ACKs for 2xx belong to dialogs, and there are none yet.
        EndpointEvent::Ack(_) => {}
        EndpointEvent::ServerTimeout { key, timer } => {
            tracing::debug!(?key, ?timer, "server transaction timed out");
        }
        EndpointEvent::ServerTransportError { key } => {
            tracing::debug!(?key, "transport failed while answering");
        }
    }
}

async fn request(ctx: &mut Context, registrar: &mut Registrar, transaction: ServerTransaction) {
    let request = transaction.request();
    let in_dialog = request.to().ok().and_then(|to| to.tag()).is_some();
    let method = request.method().clone();
    match method {
        // Message waiting, new or in its dialog (refresh, unsubscribe): HD-MWI-1.
        Method::Subscribe => crate::mwi::subscribe::subscribe(ctx, transaction).await,
        // No dialog state yet: any request inside one refers to something we do not know.
        _ if in_dialog => reply(transaction, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST),
        Method::Register => registrar.register(ctx, transaction).await,
        // Calls arrive with the B2BUA.
        Method::Invite => reply(transaction, StatusCode::NOT_IMPLEMENTED),
        Method::Options => options::answer(transaction),
        Method::Ack
        | Method::Bye
        | Method::Cancel
        | Method::Info
        | Method::Prack
        | Method::Update
        | Method::Notify
        | Method::Refer
        | Method::Message
        | Method::Publish => {
            let response = transaction
                .request()
                .response(StatusCode::METHOD_NOT_ALLOWED)
                .to_tag(new_tag())
                .header("Allow", ALLOW)
                .build();
            let _ = transaction.respond(response);
        }
        Method::Extension(_) => reply(transaction, StatusCode::NOT_IMPLEMENTED),
    }
}

fn reply(transaction: ServerTransaction, status: StatusCode) {
    // The endpoint being gone means we are shutting down: no one to answer.
    let _ = transaction.reply(status);
}
