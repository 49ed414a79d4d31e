//! The one task that tells phones about changes: drains provisioning's [`Job`] queue and
//! sends check-sync NOTIFYs (HD-PROV-2), message-summary NOTIFYs in each subscription's
//! dialog or unsolicited (HD-MWI-1), and notice MESSAGEs (HD-LOGOUT-2); it also ends lapsed
//! subscriptions with a terminated NOTIFY (RFC 6665 §4.2.2) and warns phones before an
//! automatic log-out ([`super::warning`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hotdesk_core::{DomainName, Extension, Mailbox};
use hotdesk_sip::endpoint::{new_branch, new_tag, ClientTransaction, Endpoint};
use hotdesk_sip::transport::{Target, Transport};
use hotdesk_sip::{Method, RequestBuilder};
use jiff::Timestamp;
use tokio::task::JoinHandle;

use super::{forget, mailbox_for, showing, summary, Subscription};
use crate::cli::serve::Shutdown;
use crate::provisioning::Job;
use crate::registrar::target_of;
use crate::state::App;

/// How often lapsed subscriptions are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Starts the notifier; it ends when `shutdown` fires.
pub fn spawn(app: Arc<App>, endpoint: Endpoint, mut shutdown: Shutdown) -> JoinHandle<()> {
    let mut jobs = app.provisioning().attach();
    tokio::spawn(async move {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        let mut warned = super::warning::Warned::new();
        loop {
            tokio::select! {
                () = shutdown.wait() => break,
                _ = sweep.tick() => {
                    expire(&app, &endpoint);
                    for job in super::warning::due(&app, app.now(), &mut warned) {
                        handle(&app, &endpoint, job);
                    }
                }
                job = jobs.recv() => match job {
                    Some(job) => handle(&app, &endpoint, job),
                    None => break,
                },
            }
        }
        tracing::debug!("MWI and provisioning notifier stopped");
    })
}

fn handle(app: &Arc<App>, endpoint: &Endpoint, job: Job) {
    match job {
        Job::DeviceChanged { domain, device } => {
            check_sync(app, endpoint, &domain, &device);
            notify_device(app, endpoint, &domain, &device);
        }
        Job::MailboxChanged { domain, user } => {
            for device in showing(app, &domain, &user) {
                notify_device(app, endpoint, &domain, &device);
            }
        }
        Job::Notice {
            domain,
            device,
            text,
        } => notice(app, endpoint, &domain, &device, &text),
    }
}

/// Our Contact for requests sent over `transport`.
pub fn our_contact(endpoint: &Endpoint, transport: Transport) -> String {
    match endpoint.local_addr(transport) {
        Some(addr) => format!(
            "<sip:hotdesk@{addr};transport={}>",
            transport.as_str().to_ascii_lowercase()
        ),
        None => "<sip:hotdesk@invalid>".to_owned(),
    }
}

/// Sends and logs the outcome in the background; `on_481` runs when the phone no longer
/// knows the dialog.
fn send(
    endpoint: &Endpoint,
    builder: RequestBuilder<'_>,
    target: Target,
    what: &'static str,
    on_481: Option<Box<dyn FnOnce() + Send>>,
) -> Option<ClientTransaction> {
    let request = match builder.build() {
        Ok(request) => request,
        Err(error) => {
            tracing::warn!(%error, what, "cannot build request");
            return None;
        }
    };
    match endpoint.send_request(request, target) {
        Ok(transaction) => {
            let handle = tokio::spawn(async move {
                match transaction.final_response().await {
                    Ok(response) if response.status().as_u16() == 481 => {
                        if let Some(f) = on_481 {
                            f();
                        }
                    }
                    Ok(response) => {
                        tracing::debug!(what, status = response.status().as_u16(), "answered");
                    }
                    Err(error) => tracing::debug!(what, %error, "no answer"),
                }
            });
            drop(handle);
            None
        }
        Err(error) => {
            tracing::debug!(what, %error, "cannot send");
            None
        }
    }
}

fn base<'a>(
    endpoint: &Endpoint,
    method: Method,
    uri: &'a str,
    transport: Transport,
) -> Option<RequestBuilder<'a>> {
    let via = endpoint.via(transport)?;
    Some(
        RequestBuilder::new(method, uri)
            .header("Via", via)
            .header("Max-Forwards", "70"),
    )
}

fn out_of_dialog<'a>(
    endpoint: &Endpoint,
    method: Method,
    uri: &'a str,
    target: &Target,
    domain: &DomainName,
    to_user: &Extension,
) -> Option<RequestBuilder<'a>> {
    let name = method.as_str().to_owned();
    Some(
        base(endpoint, method, uri, target.transport)?
            .header("From", format!("<sip:hotdesk@{domain}>;tag={}", new_tag()))
            .header("To", format!("<sip:{to_user}@{domain}>"))
            .header("Call-ID", format!("{}@hotdesk", new_branch()))
            .header("CSeq", format!("1 {name}"))
            .header("Contact", our_contact(endpoint, target.transport)),
    )
}

/// HD-PROV-2: `NOTIFY` with `Event: check-sync;reboot=false` to every registered contact
/// of the device, so it fetches its file again without rebooting.
pub fn check_sync(app: &App, endpoint: &Endpoint, domain: &DomainName, device: &Extension) {
    to_every_contact(
        app,
        endpoint,
        domain,
        device,
        Method::Notify,
        "check-sync",
        |builder| {
            builder
                .header("Event", "check-sync;reboot=false")
                .header("Subscription-State", "terminated;reason=noresource")
        },
    );
}

/// Sends an out-of-dialog `method` request, completed by `finish`, to every registered
/// contact of `device`; `what` names it in the logs.
fn to_every_contact(
    app: &App,
    endpoint: &Endpoint,
    domain: &DomainName,
    device: &Extension,
    method: Method,
    what: &'static str,
    finish: impl for<'b> Fn(RequestBuilder<'b>) -> RequestBuilder<'b>,
) {
    for binding in app.bindings().lookup(domain, device, app.now()) {
        let Some(target) = target_of(&binding.source) else {
            continue;
        };
        let builder = out_of_dialog(
            endpoint,
            method.clone(),
            &binding.contact,
            &target,
            domain,
            device,
        );
        if let Some(builder) = builder {
            send(endpoint, finish(builder), target, what, None);
        }
    }
}

/// HD-LOGOUT-2: a text the phone shows (SIP MESSAGE, `text/plain`).
pub fn notice(app: &App, endpoint: &Endpoint, domain: &DomainName, device: &Extension, text: &str) {
    to_every_contact(
        app,
        endpoint,
        domain,
        device,
        Method::Message,
        "notice",
        |builder| builder.body("text/plain;charset=utf-8", Bytes::from(text.to_owned())),
    );
}

/// The subscription state a NOTIFY announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubState {
    /// Active, with seconds left.
    Active(u64),
    /// Ended, with the RFC 6665 reason.
    Terminated(&'static str),
}

/// A message-summary NOTIFY in `sub`'s dialog (the caller has taken its CSeq).
pub fn notify_in_dialog(app: &Arc<App>, endpoint: &Endpoint, sub: &Subscription, state: SubState) {
    let Some(target) = target_of(&sub.source) else {
        return;
    };
    let Some(builder) = base(endpoint, Method::Notify, &sub.contact, target.transport) else {
        return;
    };
    let mailbox = mailbox_for(app, &sub.domain, &sub.subscriber);
    let account = format!("sip:{}@{}", sub.subscriber, sub.domain);
    let state_text = match state {
        SubState::Active(left) => format!("active;expires={left}"),
        SubState::Terminated(reason) => format!("terminated;reason={reason}"),
    };
    let builder = builder
        .header("From", format!("<{}>;tag={}", sub.local_uri, sub.local_tag))
        .header("To", format!("<{}>;tag={}", sub.remote_uri, sub.remote_tag))
        .header("Call-ID", sub.call_id.clone())
        .header("CSeq", format!("{} NOTIFY", sub.cseq))
        .header("Contact", our_contact(endpoint, target.transport))
        .header("Event", "message-summary")
        .header("Subscription-State", state_text)
        .body(
            summary::CONTENT_TYPE,
            Bytes::from(summary::body(&account, mailbox)),
        );
    // A phone that forgot the dialog (restart) answers 481: drop it; it re-subscribes.
    let on_481: Option<Box<dyn FnOnce() + Send>> = {
        let app = Arc::clone(app);
        let key = sub.key();
        Some(Box::new(move || {
            if let Some(sub) = app.provisioning().mwi.remove(&key) {
                forget(&app, &sub);
            }
        }))
    };
    send(endpoint, builder, target, "message-summary", on_481);
}

/// Seconds from `now` to `at`, at least 0.
pub fn seconds_left(at: Timestamp, now: Timestamp) -> u64 {
    u64::try_from(at.duration_since(now).as_secs()).unwrap_or(0)
}

/// Re-notifies every subscription of a device (or user), or sends an unsolicited NOTIFY
/// when it has none and the device is set up for it.
pub fn notify_device(app: &Arc<App>, endpoint: &Endpoint, domain: &DomainName, device: &Extension) {
    let prov = app.provisioning();
    let subs = prov.mwi.of(domain, device);
    let now = app.now();
    if subs.is_empty() {
        if prov.unsolicited_mwi(domain, device) {
            unsolicited(app, endpoint, domain, device);
        }
        return;
    }
    for sub in subs {
        if let Some(sub) = prov.mwi.next_cseq(&sub.key()) {
            let left = seconds_left(sub.expires_at, now);
            notify_in_dialog(app, endpoint, &sub, SubState::Active(left));
        }
    }
}

/// An out-of-dialog message-summary NOTIFY to every contact of the device.
fn unsolicited(app: &App, endpoint: &Endpoint, domain: &DomainName, device: &Extension) {
    let mailbox: Mailbox = mailbox_for(app, domain, device);
    let body = Bytes::from(summary::body(&format!("sip:{device}@{domain}"), mailbox));
    to_every_contact(
        app,
        endpoint,
        domain,
        device,
        Method::Notify,
        "unsolicited message-summary",
        |builder| {
            builder
                .header("Event", "message-summary")
                .header("Subscription-State", "terminated;reason=noresource")
                .body(summary::CONTENT_TYPE, body.clone())
        },
    );
}

/// Ends lapsed subscriptions with a terminated NOTIFY (RFC 6665 §4.2.2 `timeout`).
fn expire(app: &Arc<App>, endpoint: &Endpoint) {
    let prov = app.provisioning();
    for mut sub in prov.mwi.take_expired(app.now()) {
        forget(app, &sub);
        sub.cseq = sub.cseq.wrapping_add(1);
        notify_in_dialog(app, endpoint, &sub, SubState::Terminated("timeout"));
    }
}
