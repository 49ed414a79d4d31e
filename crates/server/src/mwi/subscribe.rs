//! SUBSCRIBE for `message-summary` (RFC 3842, RFC 6665 §4.2.1): authenticated like
//! REGISTER (HD-SEC-3); a new subscription or a refresh gets 200 and at once a NOTIFY with
//! the mailbox the phone shows now; `Expires: 0` ends it with a terminated NOTIFY. The
//! subscription is always for the authenticated device (or user) itself, whatever URI it
//! names, so no one reads another's mailbox (HD-SEC-1).

use std::sync::Arc;

use hotdesk_sip::endpoint::{new_tag, ServerTransaction};
use hotdesk_sip::{Request, Response, StatusCode};
use jiff::SignedDuration;

use super::notifier::{notify_in_dialog, our_contact, SubState};
use super::{dialog_key, forget, persist, Subscription};
use crate::sip::auth::Outcome;
use crate::sip::Context;

/// The event package served.
pub const PACKAGE: &str = "message-summary";
/// Shortest subscription accepted (423 below, RFC 6665 §4.2.1.1).
pub const MIN_EXPIRES: u32 = 60;
/// Expiry when the SUBSCRIBE names none (RFC 3842 §6 suggests an hour).
pub const DEFAULT_EXPIRES: u32 = 3600;
/// Longest subscription granted.
pub const MAX_EXPIRES: u32 = 3600;

fn answer(transaction: ServerTransaction, response: Response) {
    // An endpoint gone means shutdown: nobody to answer.
    let _ = transaction.respond(response);
}

/// Answers with `status` and a reason phrase naming the problem.
pub(super) fn refuse(transaction: ServerTransaction, status: StatusCode, reason: &'static str) {
    let response = transaction
        .request()
        .response(status)
        .reason(reason)
        .to_tag(new_tag())
        .build();
    answer(transaction, response);
}

fn contact_uri(request: &Request) -> Option<String> {
    let contact = request.headers().contacts().next()?.ok()?;
    Some(contact.address()?.uri().as_str().to_owned())
}

/// Handles a SUBSCRIBE, in or out of a dialog.
pub async fn subscribe(ctx: &mut Context, transaction: ServerTransaction) {
    let request = transaction.request();
    let package = request
        .headers()
        .event()
        .ok()
        .flatten()
        .map(|e| e.package().to_owned());
    if !package.is_some_and(|p| p.eq_ignore_ascii_case(PACKAGE)) {
        let response = request
            .response(StatusCode::BAD_EVENT)
            .to_tag(new_tag())
            .header("Allow-Events", PACKAGE)
            .build();
        return answer(transaction, response);
    }
    // The resource is named by To (a refresh's Request-URI is our Contact, an address).
    let domain = request.to().ok().and_then(|to| {
        let uri = to.uri();
        uri.as_sip().and_then(|u| ctx.domain_of(u.host()))
    });
    let Some(domain) = domain else {
        return refuse(transaction, StatusCode::NOT_FOUND, "Unknown Domain");
    };
    let now = ctx.app.now();
    let source = transaction.source();
    let hint = request
        .from()
        .ok()
        .and_then(|f| f.uri().as_sip().and_then(|u| u.user()).map(str::to_owned));
    let subscriber = match ctx.auth.authenticate(
        &ctx.app,
        request,
        &domain,
        source.ip(),
        hint.as_deref(),
        now,
    ) {
        Outcome::Verified { user } => user,
        Outcome::Denied(denial) => {
            let response = denial.response(request);
            return answer(transaction, response);
        }
    };
    let expires = match request.headers().expires() {
        Ok(value) => value.unwrap_or(DEFAULT_EXPIRES),
        Err(_) => return refuse(transaction, StatusCode::BAD_REQUEST, "Bad Expires"),
    };
    if expires != 0 && expires < MIN_EXPIRES {
        let response = request
            .response(StatusCode::INTERVAL_TOO_BRIEF)
            .to_tag(new_tag())
            .header("Min-Expires", MIN_EXPIRES.to_string())
            .build();
        return answer(transaction, response);
    }
    let expires = expires.min(MAX_EXPIRES);
    let (Ok(from), Ok(to)) = (request.from(), request.to()) else {
        return refuse(transaction, StatusCode::BAD_REQUEST, "Bad From Or To");
    };
    let Some(remote_tag) = from.tag().map(str::to_owned) else {
        return refuse(transaction, StatusCode::BAD_REQUEST, "Missing From Tag");
    };
    let call_id = request.call_id().to_owned();
    let app = Arc::clone(&ctx.app);
    let prov = app.provisioning();
    let expires_at = now
        .checked_add(SignedDuration::from_secs(i64::from(expires)))
        .unwrap_or(now);
    let source_text = format!(
        "{}:{source}",
        transaction.transport().as_str().to_ascii_lowercase()
    );
    let contact = contact_uri(request);

    let (sub, fresh) = match to.tag() {
        Some(local_tag) => {
            let key = dialog_key(&call_id, local_tag, &remote_tag);
            let Some(mut sub) = prov.mwi.get(&key) else {
                return refuse(
                    transaction,
                    StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
                    "Subscription Does Not Exist",
                );
            };
            if sub.subscriber != subscriber || sub.domain != domain {
                return refuse(transaction, StatusCode::FORBIDDEN, "Not Your Subscription");
            }
            sub.expires_at = expires_at;
            sub.source = source_text;
            if let Some(contact) = contact {
                sub.contact = contact;
            }
            (sub, false)
        }
        None => {
            let Some(contact) = contact else {
                return refuse(transaction, StatusCode::BAD_REQUEST, "Missing Contact");
            };
            let sub = Subscription {
                domain: domain.clone(),
                subscriber,
                call_id,
                local_tag: new_tag(),
                remote_tag,
                local_uri: to.uri().as_str().to_owned(),
                remote_uri: from.uri().as_str().to_owned(),
                contact,
                source: source_text,
                expires_at,
                cseq: 0,
            };
            (sub, true)
        }
    };
    let target_transport = transaction.transport();
    let response = request
        .response(StatusCode::OK)
        .to_tag(sub.local_tag.clone())
        .header("Expires", expires.to_string())
        .header("Contact", our_contact(&ctx.endpoint, target_transport))
        .build();
    answer(transaction, response);

    let mut sub = sub;
    if expires == 0 {
        // Unsubscribe (or a one-time fetch): a final NOTIFY, then nothing is kept.
        if let Some(old) = prov.mwi.remove(&sub.key()) {
            forget(&app, &old);
            sub.cseq = old.cseq;
        }
        sub.cseq = sub.cseq.wrapping_add(1);
        notify_in_dialog(&app, &ctx.endpoint, &sub, SubState::Terminated("timeout"));
        return;
    }
    if !fresh {
        // Keep the CSeq the dialog has reached.
        if let Some(old) = prov.mwi.get(&sub.key()) {
            sub.cseq = old.cseq;
        }
    }
    sub.cseq = sub.cseq.wrapping_add(1);
    prov.mwi.put(sub.clone());
    persist(&app, &sub);
    notify_in_dialog(
        &app,
        &ctx.endpoint,
        &sub,
        SubState::Active(u64::from(expires)),
    );
}
