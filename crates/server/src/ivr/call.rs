//! One IVR call as one task: the dialog (2xx retransmission until ACK, BYE either way,
//! INFO digits), the media leg (prompts out, RTP digits in) and the phone menu (pure, fed
//! with `now`). Whatever the caller does, the menu's session limit ends the call, the leg
//! is dropped and its RTP port returns to the pool.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hotdesk_core::phone_menu::{Action, Answer, Flow, Input, PhoneMenu, Timing};
use hotdesk_sip::endpoint::{new_tag, Endpoint, ServerTransaction};
use hotdesk_sip::transport::{Target, Transport};
use hotdesk_sip::{Method, StatusCode};
use tokio::sync::mpsc;
use tokio::time::sleep_until;

use super::decide::{self, Caller};
use super::dialog::{retransmit_intervals, Dialog};
use super::media::{Leg, LegEvent, Media};
use crate::state::{App, AppEvent};

/// What the dispatcher passes to a call task.
#[derive(Debug)]
pub(crate) enum CallInput {
    /// A request inside the dialog (BYE, INFO, re-INVITE, …).
    Request(Box<ServerTransaction>),
    /// The ACK confirming our 2xx.
    Ack,
}

/// A call task's inbox.
pub(crate) type Inbox = mpsc::UnboundedSender<CallInput>;

/// Methods allowed inside an IVR dialog (Allow header).
const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, INFO, OPTIONS";

/// How a call ended, for the activation record and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The script logged someone in (Activate Phone's success).
    LoggedIn,
    /// The script ended otherwise; the last refusal code, if any.
    Other(Option<String>),
}

/// Everything a running call needs.
pub(crate) struct Running {
    pub(crate) app: Arc<App>,
    pub(crate) endpoint: Endpoint,
    pub(crate) caller: Caller,
    pub(crate) flow: Flow,
    pub(crate) dialog: Dialog,
    pub(crate) leg: Leg,
    pub(crate) timing: Timing,
    /// Our 2xx, retransmitted over UDP until the ACK comes (RFC 3261 §13.3.1.4).
    pub(crate) unacked: Option<Bytes>,
    /// The SDP we answered with, repeated in answers to a re-INVITE.
    pub(crate) local_sdp: Bytes,
}

/// Answers a feature-code or voice-portal INVITE: the task sets up media, sends the 200
/// and runs the script. Returns its inbox for the registry.
pub(crate) fn answer(
    app: Arc<App>,
    endpoint: Endpoint,
    media: Arc<Media>,
    timing: Timing,
    transaction: ServerTransaction,
    caller: Caller,
    flow: Flow,
) -> Option<Inbox> {
    let (inbox, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let Some(running) = accept(app, endpoint, &media, timing, transaction, caller, flow).await
        else {
            return;
        };
        run(running, rx).await;
    });
    Some(inbox)
}

async fn accept(
    app: Arc<App>,
    endpoint: Endpoint,
    media: &Media,
    timing: Timing,
    transaction: ServerTransaction,
    caller: Caller,
    flow: Flow,
) -> Option<Running> {
    let request = transaction.request();
    let (leg, sdp) = match media.answer(request.body()).await {
        Ok(answered) => answered,
        Err(error) => {
            tracing::debug!(%error, "IVR call refused: media");
            let response = request
                .response(error.status())
                .reason(error.reason())
                .to_tag(new_tag())
                .build();
            let _ = transaction.respond(response);
            return None;
        }
    };
    let tag = new_tag();
    let target = Target::new(transaction.transport(), transaction.source());
    let dialog = match Dialog::uas(request, &tag, target.clone()) {
        Ok(dialog) => dialog,
        Err(error) => {
            tracing::debug!(%error, "IVR call refused: dialog");
            let response = request
                .response(StatusCode::BAD_REQUEST)
                .reason("Missing Contact")
                .to_tag(tag)
                .build();
            let _ = transaction.respond(response);
            return None;
        }
    };
    let contact = contact(&endpoint, transaction.transport());
    let local_sdp = Bytes::from(sdp);
    let response = request
        .response(StatusCode::OK)
        .to_tag(tag.as_str())
        .record_route()
        .header("Contact", contact)
        .header("Allow", ALLOW)
        .body("application/sdp", local_sdp.clone())
        .build();
    let bytes = response.as_bytes().clone();
    if transaction.respond(response).is_err() {
        return None;
    }
    tracing::info!(call_id = %dialog.call_id, flow = flow.name(), "IVR call answered");
    Some(Running {
        app,
        endpoint,
        caller,
        flow,
        dialog,
        leg,
        timing,
        // Reliable transports carry the 2xx once; only UDP needs retransmission.
        unacked: (target.transport == Transport::Udp).then_some(bytes),
        local_sdp,
    })
}

/// Our Contact for a dialog over `transport`.
pub(crate) fn contact(endpoint: &Endpoint, transport: Transport) -> String {
    let addr = endpoint
        .local_addr(transport)
        .or_else(|| endpoint.local_addrs().first().map(|(_, a)| *a));
    let param = match transport {
        Transport::Udp => "",
        Transport::Tcp => ";transport=tcp",
        _ => "",
    };
    match addr {
        Some(addr) => format!("<sip:ivr@{addr}{param}>"),
        None => "<sip:ivr@127.0.0.1>".to_owned(),
    }
}

/// Runs the script until it or the peer hangs up; returns how it ended.
pub(crate) async fn run(mut call: Running, mut rx: mpsc::UnboundedReceiver<CallInput>) -> Ending {
    let precheck = decide::precheck(&call.app, &call.caller, &call.flow);
    let settings = call.app.domain(&call.caller.domain).map(|d| d.settings);
    let confirm = settings.as_ref().is_none_or(|s| s.confirm_owner);
    call.leg
        .set_language(settings.as_ref().and_then(|s| s.prompt_language.as_deref()));
    let mut menu = PhoneMenu::new(
        call.flow.clone(),
        confirm,
        call.caller.device.is_some(),
        call.timing,
        precheck,
        Instant::now(),
    );
    let mut ending = Ending::Other(None);
    let mut retransmits = retransmit_intervals();
    let mut next_retransmit = call
        .unacked
        .as_ref()
        .and_then(|_| retransmits.next())
        .map(|d| tokio::time::Instant::now() + d);
    let mut peer_hung_up = false;
    'call: loop {
        while let Some(action) = menu.poll_action() {
            match action {
                Action::Play(prompts) => {
                    let names: Vec<&'static str> = prompts.iter().map(|p| p.name()).collect();
                    let language = call.leg.play(&names);
                    tracing::info!(call_id = %call.dialog.call_id, %language, prompts = %names.join(","), "IVR prompt");
                    call.app.publish(AppEvent::Ivr {
                        domain: call.caller.domain.clone(),
                        device: call.caller.device.clone(),
                        call_id: call.dialog.call_id.clone(),
                        prompts: names,
                    });
                }
                Action::Stop => call.leg.stop(),
                Action::Ask(request) => {
                    let answer = decide::decide(&call.app, &call.caller, &call.flow, request).await;
                    match &answer {
                        Answer::LoggedIn { .. } => ending = Ending::LoggedIn,
                        Answer::Refused(refusal) if ending != Ending::LoggedIn => {
                            ending = Ending::Other(Some(refusal.code().to_owned()));
                        }
                        _ => {}
                    }
                    menu.handle(Instant::now(), Input::Answer(answer));
                }
                Action::HangUp => break 'call,
            }
        }
        if menu.is_ended() {
            break;
        }
        let deadline = menu
            .deadline()
            .map_or_else(far_future, tokio::time::Instant::from_std);
        let retransmit_at = next_retransmit.unwrap_or_else(far_future);
        tokio::select! {
            input = rx.recv() => match input {
                None => break,
                Some(CallInput::Ack) => {
                    call.unacked = None;
                    next_retransmit = None;
                }
                Some(CallInput::Request(transaction)) => {
                    if in_dialog(&call, &mut menu, *transaction) {
                        peer_hung_up = true;
                    }
                }
            },
            event = call.leg.next() => match event {
                LegEvent::Digit(digit) => menu.handle(Instant::now(), Input::Digit(digit)),
                LegEvent::PlaybackDone => menu.handle(Instant::now(), Input::PlaybackDone),
                // No RTP for the time-out (a vanished caller): end the call.
                LegEvent::Ended => break,
            },
            () = sleep_until(deadline) => menu.handle(Instant::now(), Input::Timeout),
            () = sleep_until(retransmit_at), if next_retransmit.is_some() => {
                if let Some(bytes) = &call.unacked {
                    let _ = call.endpoint.send_stateless(bytes.clone(), call.dialog.target.clone());
                }
                next_retransmit = retransmits.next().map(|d| tokio::time::Instant::now() + d);
                if next_retransmit.is_none() {
                    // §13.3.1.4: no ACK within 64·T1: end the session.
                    tracing::debug!(call_id = %call.dialog.call_id, "no ACK for the 2xx");
                    break;
                }
            }
        }
    }
    if !peer_hung_up {
        bye(&call);
    }
    tracing::info!(call_id = %call.dialog.call_id, ?ending, "IVR call ended");
    ending
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(86_400)
}

/// Handles a request inside the dialog; returns whether the peer hung up.
fn in_dialog(call: &Running, menu: &mut PhoneMenu, transaction: ServerTransaction) -> bool {
    let request = transaction.request();
    match request.method() {
        Method::Bye => {
            let _ = transaction.reply(StatusCode::OK);
            menu.handle(Instant::now(), Input::HangUp);
            true
        }
        Method::Info => {
            let content_type = request
                .headers()
                .content_type()
                .ok()
                .flatten()
                .map(|t| format!("{}/{}", t.ty(), t.subtype()))
                .unwrap_or_default();
            match super::media::info_digit(&content_type, request.body()) {
                // Through the media engine, so it barges in like an RTP digit.
                Ok(Some(digit)) => {
                    let _ = transaction.reply(StatusCode::OK);
                    call.leg.inject(digit);
                }
                // Other INFO packages are acknowledged and ignored.
                Ok(None) => {
                    let _ = transaction.reply(StatusCode::OK);
                }
                Err(status) => {
                    let _ = transaction.reply(status);
                }
            }
            false
        }
        // A session refresh: same media, same answer.
        Method::Invite => {
            let response = request
                .response(StatusCode::OK)
                .header("Contact", contact(&call.endpoint, transaction.transport()))
                .header("Allow", ALLOW)
                .body("application/sdp", call.local_sdp.clone())
                .build();
            let _ = transaction.respond(response);
            false
        }
        Method::Options => {
            let response = request
                .response(StatusCode::OK)
                .header("Allow", ALLOW)
                .build();
            let _ = transaction.respond(response);
            false
        }
        _ => {
            let response = request
                .response(StatusCode::METHOD_NOT_ALLOWED)
                .header("Allow", ALLOW)
                .build();
            let _ = transaction.respond(response);
            false
        }
    }
}

/// Sends our BYE; its answer only gets logged.
fn bye(call: &Running) {
    let mut dialog = call.dialog.clone();
    let request = match dialog.request(&call.endpoint, Method::Bye) {
        Ok(request) => request,
        Err(error) => {
            tracing::debug!(%error, "cannot build BYE");
            return;
        }
    };
    match call.endpoint.send_request(request, dialog.target.clone()) {
        Ok(transaction) => {
            let call_id = dialog.call_id.clone();
            tokio::spawn(async move {
                if let Err(error) = transaction.final_response().await {
                    tracing::debug!(%call_id, %error, "BYE unanswered");
                }
            });
        }
        Err(error) => tracing::debug!(%error, "cannot send BYE"),
    }
}
