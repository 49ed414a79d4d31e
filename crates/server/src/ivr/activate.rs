//! Web "Activate Phone" (HD-LOGIN-9): the server calls a device at its registered contact,
//! and whoever answers goes through the log-in prompts for the user who asked. Each
//! attempt is a record (`GET …/activations/{id}`) whose state also goes out on `/events`:
//! `calling` → `ringing` → `answered` → `activated`, or `failed` with a reason
//! (`not_registered`, `no_answer`, `sip_486`, a refusal code, `not_completed`).

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use hotdesk_core::phone_menu::{Flow, Timing};
use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::endpoint::{new_tag, ClientEvent, Endpoint};
use hotdesk_sip::message::RequestBuilder;
use hotdesk_sip::transport::Target;
use hotdesk_sip::{Method, Request};
use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::mpsc;

use super::call::{self, Ending, Running};
use super::decide::Caller;
use super::dialog::Dialog;
use super::media::Media;
use super::Calls;
use crate::registrar::target_of;
use crate::state::{App, AppEvent};

/// How long the device may ring before the call is cancelled.
const RING_TIMEOUT: Duration = Duration::from_secs(30);
/// Records kept for polling; the oldest go first.
const KEEP: usize = 1024;

/// One "Activate Phone" attempt, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Activation {
    /// Opaque id.
    pub id: String,
    /// Domain of the user and device.
    #[schema(value_type = String)]
    pub domain: DomainName,
    /// The user to log in.
    #[schema(value_type = String)]
    pub user: Extension,
    /// The device called.
    #[schema(value_type = String)]
    pub device: Extension,
    /// `calling`, `ringing`, `answered`, `activated` or `failed`.
    pub state: String,
    /// Why it failed, if it did.
    pub reason: Option<String>,
    /// When it was asked for.
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

/// What the SIP side lends for outgoing calls once it has started.
#[derive(Debug)]
pub(crate) struct Dialer {
    pub(crate) endpoint: Endpoint,
    pub(crate) media: Arc<Media>,
    pub(crate) calls: Calls,
    pub(crate) timing: Timing,
}

/// The activation records and, once SIP is up, the dialer.
#[derive(Debug, Default)]
pub struct Activations {
    dialer: OnceLock<Arc<Dialer>>,
    records: Mutex<Vec<Activation>>,
}

impl Activations {
    pub(crate) fn set_dialer(&self, dialer: Dialer) {
        let _ = self.dialer.set(Arc::new(dialer));
    }

    /// RTP ports held by IVR sessions (0 without the SIP side).
    pub fn ports_in_use(&self) -> usize {
        self.dialer.get().map_or(0, |d| d.media.ports_in_use())
    }

    /// The media driver's RTP pacing counters, once SIP is up.
    pub fn pacing(&self) -> Option<hotdesk_media::PacingStats> {
        self.dialer.get().map(|d| d.media.pacing())
    }

    /// Whether the SIP side can place calls.
    pub fn available(&self) -> bool {
        self.dialer.get().is_some()
    }

    /// A record by id, within a domain (HD-SEC-1).
    pub fn get(&self, domain: &DomainName, id: &str) -> Option<Activation> {
        self.lock()
            .iter()
            .find(|a| a.id == id && &a.domain == domain)
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Activation>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, app: &App, id: &str, state: &str, reason: Option<String>) {
        let changed = {
            let mut records = self.lock();
            let Some(record) = records.iter_mut().find(|a| a.id == id) else {
                return;
            };
            record.state = state.to_owned();
            record.reason = reason;
            record.clone()
        };
        tracing::info!(id, state, reason = ?changed.reason, "activation");
        app.publish(AppEvent::Activation {
            domain: changed.domain,
            id: changed.id,
            user: changed.user,
            device: changed.device,
            state: changed.state,
            reason: changed.reason,
        });
    }

    /// Starts calling `device` for `user`; `None` when the SIP side is not running.
    pub fn start(
        self: &Arc<Self>,
        app: Arc<App>,
        domain: DomainName,
        user: Extension,
        device: Extension,
    ) -> Option<Activation> {
        let dialer = Arc::clone(self.dialer.get()?);
        let record = Activation {
            id: format!("{:016x}", rand::random::<u64>()),
            domain,
            user,
            device,
            state: "calling".into(),
            reason: None,
            created_at: app.now(),
        };
        {
            let mut records = self.lock();
            if records.len() >= KEEP {
                records.remove(0);
            }
            records.push(record.clone());
        }
        let this = Arc::clone(self);
        let started = record.clone();
        tokio::spawn(async move {
            let outcome = dial(&this, &app, &dialer, &started).await;
            let (state, reason) = match outcome {
                Ok(()) => ("activated", None),
                Err(reason) => ("failed", Some(reason)),
            };
            this.update(&app, &started.id, state, reason);
        });
        Some(record)
    }
}

/// Places the call and runs the log-in prompts; `Err` holds the failure reason.
async fn dial(
    activations: &Activations,
    app: &Arc<App>,
    dialer: &Dialer,
    record: &Activation,
) -> Result<(), String> {
    let binding = app
        .bindings()
        .contacts(record.domain.as_str(), record.device.as_str(), app.now())
        .into_iter()
        .next()
        .ok_or("not_registered")?;
    let target = target_of(&binding.source).ok_or("not_registered")?;
    let (offered, sdp) = dialer
        .media
        .offer()
        .await
        .map_err(|_| "media_unavailable")?;
    let call_id = format!(
        "{:016x}{:08x}@hotdesk",
        rand::random::<u64>(),
        rand::random::<u32>()
    );
    let via = dialer
        .endpoint
        .via(target.transport)
        .ok_or("no_transport")?;
    let from = format!(
        "\"Activate Phone\" <sip:activate@{}>;tag={}",
        record.domain,
        new_tag()
    );
    let to = format!("<sip:{}@{}>", record.device, record.domain);
    let contact = call::contact(&dialer.endpoint, target.transport);
    let invite = RequestBuilder::new(Method::Invite, binding.contact.as_str())
        .header("Via", via.as_str())
        .header("Max-Forwards", "70")
        .header("From", from.as_str())
        .header("To", to.as_str())
        .header("Call-ID", call_id.as_str())
        .header("CSeq", "1 INVITE")
        .header("Contact", contact)
        .header("Allow", "INVITE, ACK, BYE, CANCEL, INFO, OPTIONS")
        .body("application/sdp", bytes::Bytes::from(sdp))
        .build()
        .map_err(|_| "bad_contact")?;
    let (inbox, rx) = mpsc::unbounded_channel();
    dialer
        .calls
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(call_id.clone(), inbox);
    let mut transaction = dialer
        .endpoint
        .send_request(invite, target.clone())
        .map_err(|_| "send_failed")?;
    let ring_until = tokio::time::Instant::now() + RING_TIMEOUT;
    let mut ringing = false;
    let response = loop {
        let event = tokio::select! {
            event = transaction.next() => event,
            () = tokio::time::sleep_until(ring_until) => {
                cancel(dialer, &via, &binding.contact, &from, &to, &call_id, &target);
                return Err("no_answer".into());
            }
        };
        match event {
            Some(ClientEvent::Response(received)) => {
                let hotdesk_sip::Message::Response(response) = received.message else {
                    continue;
                };
                let status = response.status();
                if status.is_provisional() {
                    if !ringing && status.as_u16() > 100 {
                        ringing = true;
                        activations.update(app, &record.id, "ringing", None);
                    }
                    continue;
                }
                if !status.is_success() {
                    return Err(format!("sip_{}", status.as_u16()));
                }
                break response;
            }
            Some(ClientEvent::Timeout(_)) | None => return Err("no_answer".into()),
            Some(ClientEvent::TransportError) | Some(ClientEvent::Refused(_)) => {
                return Err("send_failed".into());
            }
        }
    };
    let dialog = Dialog::uac(&response, 1, target.clone()).map_err(|_| "bad_answer")?;
    if let Ok(ack) = dialog.ack(&dialer.endpoint) {
        let _ = dialer
            .endpoint
            .send_stateless(ack.as_bytes().clone(), target.clone());
    }
    let Ok(leg) = offered.answered(response.body()) else {
        hang_up(dialer, &dialog);
        return Err("media_refused".into());
    };
    activations.update(app, &record.id, "answered", None);
    let running = Running {
        app: Arc::clone(app),
        endpoint: dialer.endpoint.clone(),
        caller: Caller {
            domain: record.domain.clone(),
            device: Some(record.device.clone()),
            expected_user: Some(record.user.clone()),
        },
        flow: Flow::Activate,
        dialog,
        leg,
        timing: dialer.timing,
        unacked: None,
        local_sdp: bytes::Bytes::new(),
    };
    match call::run(running, rx).await {
        Ending::LoggedIn => Ok(()),
        Ending::Other(reason) => Err(reason.unwrap_or_else(|| "not_completed".into())),
    }
}

/// CANCEL for an INVITE still ringing (RFC 3261 §9.1: same Via branch, CSeq number).
fn cancel(
    dialer: &Dialer,
    via: &str,
    uri: &str,
    from: &str,
    to: &str,
    call_id: &str,
    target: &Target,
) {
    let cancel: Result<Request, _> = RequestBuilder::new(Method::Cancel, uri)
        .header("Via", via)
        .header("Max-Forwards", "70")
        .header("From", from)
        .header("To", to)
        .header("Call-ID", call_id)
        .header("CSeq", "1 CANCEL")
        .build();
    if let Ok(cancel) = cancel {
        let _ = dialer.endpoint.send_request(cancel, target.clone());
    }
}

fn hang_up(dialer: &Dialer, dialog: &Dialog) {
    let mut dialog = dialog.clone();
    if let Ok(bye) = dialog.request(&dialer.endpoint, Method::Bye) {
        let _ = dialer.endpoint.send_request(bye, dialog.target.clone());
    }
}
