//! The dispatcher: one task, and for each request one `match` in a fixed order (STYLE §2) —
//! retransmissions never get here (the transaction layer absorbs them), then in-dialog
//! requests, REGISTER, SUBSCRIBE, INVITE, OPTIONS, and 405/501 for the rest. Every handler
//! is known at compile time and reads in order. The same task sweeps lapsed bindings, so
//! every change to the bindings table happens here, in order.

use std::time::{Duration, Instant};

use hotdesk_sip::endpoint::{new_tag, EndpointEvent, Events, ServerTransaction, SharedEvents};
use hotdesk_sip::{Method, StatusCode};
use tokio::time::MissedTickBehavior;

use super::options::{self, ALLOW};
use super::Context;
use crate::b2bua::B2bua;
use crate::cli::serve::Shutdown;
use crate::registrar::Registrar;

/// Runs until `shutdown` fires or the endpoint stops.
/// A deadline far enough away to mean "no timer".
const IDLE: Duration = Duration::from_secs(3600);

/// Events handled per turn of the loop before sweeps, timers and call events get a look.
const EVENT_BATCH: usize = 32;

/// What the dispatcher owns besides the context.
pub(super) struct Handlers {
    pub(super) registrar: Registrar,
    pub(super) b2bua: B2bua,
}

// The dispatcher's inputs, each a separate source the one task selects over.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    mut ctx: Context,
    registrar: Registrar,
    b2bua: B2bua,
    mut events: Events,
    mut call_events: SharedEvents,
    mut shutdown: Shutdown,
    sweep_every: Duration,
) {
    let mut handlers = Handlers { registrar, b2bua };
    let mut sweep = tokio::time::interval(sweep_every);
    sweep.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut armed = Instant::now() + IDLE;
    let timer = tokio::time::sleep_until(armed.into());
    tokio::pin!(timer);
    loop {
        // Re-arming costs a timer-wheel update: only when a call's deadline moved. With no
        // call deadline the timer is left where it is — far away, or at a deadline since
        // dropped, whose firing finds nothing due and moves the timer far away — so a
        // REGISTER's turn of this loop neither reads the clock nor touches the wheel.
        if let Some(deadline) = handlers.b2bua.next_deadline() {
            if deadline != armed {
                timer.as_mut().reset(deadline.into());
                armed = deadline;
            }
        }
        tokio::select! {
            // Sweeps and call timers before requests: under a flood requests are always
            // ready. Responses to our own requests come before new requests, so calls
            // under way finish before new ones are taken.
            biased;
            () = shutdown.wait() => break,
            _ = sweep.tick() => {
                let now = ctx.app.now();
                handlers.registrar.sweep(now).await;
                ctx.auth.prune(now);
                handlers.b2bua.sweep(Instant::now());
            }
            () = &mut timer => {
                handlers.b2bua.on_timer(Instant::now());
                // A fired timer is ready at once if polled again: park it far away (the
                // top of the loop brings it back to any deadline still pending).
                armed = Instant::now() + IDLE;
                timer.as_mut().reset(armed.into());
            }
            event = call_events.recv() => {
                // The B2BUA holds the sender, so the channel never closes before it.
                if let Some((token, event)) = event {
                    handlers.b2bua.client_event(token, event, Instant::now());
                }
            }
            event = events.recv() => match event {
                Some(event) => {
                    dispatch(&mut ctx, &mut handlers, event).await;
                    // Under load events queue up: take a few more per turn, so that the
                    // select above (five sources polled) is paid per batch, not per request.
                    for _ in 1..EVENT_BATCH {
                        let Some(event) = events.try_recv() else { break };
                        dispatch(&mut ctx, &mut handlers, event).await;
                    }
                }
                None => break,
            },
        }
    }
    // What was answered is stored before the commit task ends.
    handlers.registrar.write_behind().await;
    tracing::debug!("SIP dispatcher stopped");
}

async fn dispatch(ctx: &mut Context, handlers: &mut Handlers, event: EndpointEvent) {
    match event {
        EndpointEvent::Request(transaction) => request(ctx, handlers, transaction).await,
        // A CANCEL of a call being set up ends it; otherwise 200 if the INVITE is still
        // known (its final answer went out already), else 481.
        EndpointEvent::Cancel { cancel, invite } => {
            let cancel = match &invite {
                Some(key) => match handlers.b2bua.cancel(cancel, key, Instant::now()) {
                    None => return,
                    Some(cancel) => cancel,
                },
                None => cancel,
            };
            let status = match invite {
                Some(_) => StatusCode::OK,
                None => StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            };
            reply(cancel, status);
        }
        // ACKs for 2xx belong to dialogs: the IVR's calls, else the B2BUA's.
        EndpointEvent::Ack(received) => {
            if !crate::ivr::ack(ctx, &received) {
                handlers.b2bua.ack(&received);
            }
        }
        EndpointEvent::ServerTimeout { key, timer } => {
            tracing::debug!(?key, ?timer, "server transaction timed out");
        }
        EndpointEvent::ServerTransportError { key } => {
            tracing::debug!(?key, "transport failed while answering");
        }
    }
}

// The handlers that await (SUBSCRIBE, NOTIFY, the IVR) are rare and their futures large:
// they are boxed, so this future, built and moved for every request, stays small.
async fn request(ctx: &mut Context, handlers: &mut Handlers, transaction: ServerTransaction) {
    let request = transaction.request();
    let in_dialog = request.to().ok().and_then(|to| to.tag()).is_some();
    let method = request.method().clone();
    match method {
        // Message waiting, new or in its dialog (refresh, unsubscribe): HD-MWI-1.
        Method::Subscribe => Box::pin(crate::mwi::subscribe::subscribe(ctx, transaction)).await,
        // Inside a dialog: the IVR's calls, then the B2BUA's; any other dialog is unknown.
        _ if in_dialog => {
            if crate::ivr::owns(ctx, request) {
                Box::pin(crate::ivr::handle(ctx, transaction)).await;
            } else if let Some(transaction) = handlers.b2bua.in_dialog(transaction, Instant::now())
            {
                reply(transaction, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
            }
        }
        // Out of dialog: a voicemail server's message-summary (HD-MWI-1), trusted by address.
        Method::Notify => Box::pin(crate::mwi::voicemail::notify(ctx, transaction)).await,
        Method::Register => {
            if let Some(wait) = handlers.registrar.register(ctx, transaction) {
                wait.await;
            }
        }
        // Feature codes (*44, *45, 980+PIN, *62) are answered by the IVR; other calls routed.
        Method::Invite if crate::ivr::owns(ctx, request) => {
            Box::pin(crate::ivr::handle(ctx, transaction)).await;
        }
        Method::Invite => handlers.b2bua.invite(ctx, transaction, Instant::now()),
        Method::Options => options::answer(transaction),
        Method::Ack
        | Method::Bye
        | Method::Cancel
        | Method::Info
        | Method::Prack
        | Method::Update
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
