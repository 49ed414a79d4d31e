//! The server's own calls: feature codes dialled at a phone (`*44`, `*45`, `980`+PIN,
//! `*62`, HD-LOGIN-1, -2, -8, HD-LOGOUT-1), the voice portal's access number (HD-LOGIN-8)
//! and the "Activate Phone" call to a device (HD-LOGIN-9). The script is
//! `core::phone_menu` (pure); [`decide`] answers its requests through `App`; [`call`] is
//! the one task per call that joins SIP, media and script.
//!
//! The dispatcher hands over, in its one `match`: INVITEs whose Request-URI user is one
//! of the domain's feature codes ([`owns`]), requests inside dialogs we hold, and ACKs for
//! our 2xx ([`ack`]). Calls to the access number reach the B2BUA first, which alone knows
//! a trunk's call from a phone's, and it hands them over ([`answer_routed`]). The registry
//! maps Call-ID → the call task's inbox; a finished task drops its inbox, and its entry is
//! pruned on the next call.

pub mod activate;
mod call;
pub mod config;
pub mod decide;
pub mod dialog;
pub mod media;
pub mod rtp_address;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use hotdesk_core::phone_menu::Flow;
use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::endpoint::{new_tag, ServerTransaction};
use hotdesk_sip::transaction::Received;
use hotdesk_sip::{Method, Request, StatusCode};
use tokio::sync::mpsc;

pub use config::{IvrConfigError, IvrSettings};

use crate::sip::auth::Outcome;
use crate::sip::Context;
use call::{CallInput, Inbox};
use decide::Caller;

/// Call-ID → call task inbox, shared by the dispatcher and outgoing calls.
pub(crate) type Calls = Arc<Mutex<HashMap<String, Inbox>>>;

/// The IVR side of the dispatcher's context: settings, media engine and live calls.
#[derive(Debug)]
pub struct Ivr {
    settings: IvrSettings,
    media: Arc<media::Media>,
    calls: Calls,
}

impl Ivr {
    /// Starts the media engine (RTP port range, prompts) for the server's SIP address
    /// (`listen`; `rtp_address` is what SDP offers when set, see [`rtp_address`]), and lends it to "Activate Phone" (`activations`) with `endpoint`.
    pub fn start(
        settings: IvrSettings,
        listen: std::net::IpAddr,
        rtp_address: Option<std::net::IpAddr>,
        endpoint: &hotdesk_sip::endpoint::Endpoint,
        activations: &activate::Activations,
    ) -> Result<Self, media::MediaError> {
        let address =
            rtp_address::RtpAddress::choose(listen, rtp_address, rtp_address::routed_address)?;
        let media = Arc::new(media::Media::start(&settings, address)?);
        let calls = Calls::default();
        activations.set_dialer(activate::Dialer {
            endpoint: endpoint.clone(),
            media: Arc::clone(&media),
            calls: Arc::clone(&calls),
            timing: settings.timing,
        });
        Ok(Self {
            settings,
            media,
            calls,
        })
    }

    /// Calls in progress (bench, metrics).
    pub fn live_calls(&self) -> usize {
        let mut calls = self.lock();
        calls.retain(|_, inbox| !inbox.is_closed());
        calls.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Inbox>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, call_id: String, inbox: Inbox) {
        let mut calls = self.lock();
        calls.retain(|_, inbox| !inbox.is_closed());
        calls.insert(call_id, inbox);
    }

    fn inbox(&self, call_id: &str) -> Option<Inbox> {
        self.lock()
            .get(call_id)
            .filter(|inbox| !inbox.is_closed())
            .cloned()
    }
}

/// Whether the dispatcher should hand `request` to [`handle`]: an in-dialog request of a
/// call we hold, or a dialog-creating INVITE to one of the domain's feature codes.
pub fn owns(ctx: &Context, request: &Request) -> bool {
    let in_dialog = request.to().ok().and_then(|to| to.tag()).is_some();
    if in_dialog {
        return ctx.ivr.inbox(request.call_id()).is_some();
    }
    *request.method() == Method::Invite && feature_code(ctx, request).is_some()
}

/// The flow and domain a dialled Request-URI starts, if it is a feature code.
fn feature_code(ctx: &Context, request: &Request) -> Option<(Flow, DomainName)> {
    let uri = request.uri();
    let sip = uri.as_sip()?;
    let user = sip.user()?;
    let domain = ctx.domain_of(sip.host())?;
    let flow = {
        let state = ctx.app.read();
        let settings = &state.tenants.get(&domain)?.domain.settings;
        Flow::classify(&settings.codes, user)?
    };
    Some((flow, domain))
}

/// Handles a request [`owns`] accepted.
pub async fn handle(ctx: &mut Context, transaction: ServerTransaction) {
    let request = transaction.request();
    if request.to().ok().and_then(|to| to.tag()).is_some() {
        let call_id = request.call_id().to_owned();
        match ctx.ivr.inbox(&call_id) {
            Some(inbox) => {
                if let Err(mpsc::error::SendError(CallInput::Request(t))) =
                    inbox.send(CallInput::Request(Box::new(transaction)))
                {
                    reply(*t, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
                }
            }
            None => reply(transaction, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST),
        }
        return;
    }
    let Some((flow, domain)) = feature_code(ctx, request) else {
        reply(transaction, StatusCode::NOT_FOUND);
        return;
    };
    let now = ctx.app.now();
    let source = transaction.source();
    let user = match ctx
        .auth
        .authenticate(&ctx.app, request, &domain, source.ip(), None, now)
    {
        Outcome::Verified { user } => user,
        Outcome::Denied(denial) => {
            let response = denial.response(request);
            let _ = transaction.respond(response);
            return;
        }
    };
    let device = ctx
        .app
        .read()
        .tenants
        .get(&domain)
        .and_then(|t| t.devices.get(&user))
        .map(|d| d.extension.clone());
    answer_routed(ctx, transaction, domain, device, flow);
}

/// Answers a new call for `flow` in `domain`: from `device` (the calling device's anchor
/// extension), or from no device (the voice portal's access number dialled from the trunk,
/// or a user's own registration, HD-LOGIN-8). The caller is already trusted: digest-authenticated, or a
/// trunk recognised by its address (whose callers prove who they are by PIN only, under
/// the same lock-out as at a phone, HD-SEC-2).
pub fn answer_routed(
    ctx: &Context,
    transaction: ServerTransaction,
    domain: DomainName,
    device: Option<Extension>,
    flow: Flow,
) {
    let caller = Caller {
        domain,
        device,
        expected_user: None,
    };
    let call_id = transaction.request().call_id().to_owned();
    let inbox = call::answer(
        Arc::clone(&ctx.app),
        ctx.endpoint.clone(),
        Arc::clone(&ctx.ivr.media),
        ctx.ivr.settings.timing,
        transaction,
        caller,
        flow,
    );
    if let Some(inbox) = inbox {
        ctx.ivr.insert(call_id, inbox);
    }
}

/// An ACK outside any transaction: ours if it confirms one of our 2xx. Returns whether
/// it was ours.
pub fn ack(ctx: &mut Context, ack: &Received) -> bool {
    match ctx.ivr.inbox(ack.message.call_id()) {
        Some(inbox) => {
            let _ = inbox.send(CallInput::Ack);
            true
        }
        None => false,
    }
}

fn reply(transaction: ServerTransaction, status: StatusCode) {
    let response = transaction
        .request()
        .response(status)
        .to_tag(new_tag())
        .build();
    let _ = transaction.respond(response);
}
