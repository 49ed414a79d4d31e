//! Call set-up: a new INVITE is authenticated (HD-SEC-3), routed ([`super::route`]) and
//! forked; the forks' provisionals reach the caller, the first 2xx wins and the others are
//! cancelled (HD-ROUTE-1), and when every fork failed the caller gets the best failure.

use std::time::Instant;

use hotdesk_core::routing::CallerIdentity;
use hotdesk_core::{Cdr, Direction, Disposition, DomainName};
use hotdesk_sip::endpoint::{new_tag, ServerTransaction};
use hotdesk_sip::transport::Target;
use hotdesk_sip::{HeaderName, Method, Request, Response, StatusCode};

use super::call::{Call, Fork, ForkState, Record, Side};
use super::dialog::{contact_uri, Dialog};
use super::prack::Reliable;
use super::route::{self, Contact, Decision};
use super::session;
use super::trunk;
use super::{keys, B2bua};
use crate::sip::auth::Outcome;
use crate::sip::Context;

/// Headers of the caller's INVITE copied onto the forks.
const COPIED: [&str; 2] = ["Allow", "Accept"];

/// Quotes a display name for a From header.
fn quoted(name: &str) -> String {
    let clean: String = name.chars().filter(|c| *c != '"' && *c != '\\').collect();
    format!("\"{clean}\" ")
}

/// The From / P-Asserted-Identity value of an identity (HD-ROUTE-3).
pub(super) fn identity_uri(identity: &CallerIdentity, host: &str) -> String {
    let name = identity.name.as_deref().map(quoted).unwrap_or_default();
    format!("{name}<sip:{}@{host}>", identity.number)
}

/// Answers `transaction` with `status`, `reason` and a fresh To tag.
pub(super) fn respond(transaction: ServerTransaction, status: StatusCode, reason: &str) {
    let response = transaction
        .request()
        .response(status)
        .reason(reason)
        .to_tag(new_tag())
        .build();
    let _ = transaction.respond(response);
}

impl B2bua {
    /// A new INVITE (no To tag).
    pub fn invite(&mut self, ctx: &mut Context, transaction: ServerTransaction, now: Instant) {
        let request = transaction.request();
        let uri = request.uri();
        let Some(sip) = uri.as_sip() else {
            return respond(
                transaction,
                StatusCode::UNSUPPORTED_URI_SCHEME,
                "Not A SIP URI",
            );
        };
        let Some(dialled) = sip.user().map(str::to_owned) else {
            return respond(transaction, StatusCode::NOT_FOUND, "No User In Request-URI");
        };
        let Some(domain) = ctx.domain_of(sip.host()) else {
            return respond(transaction, StatusCode::NOT_FOUND, "Unknown Domain");
        };
        if matches!(request.headers().max_forwards(), Ok(Some(0))) {
            return respond(transaction, StatusCode::TOO_MANY_HOPS, "Too Many Hops");
        }
        let stamp = ctx.app.now();
        let from_trunk = {
            let state = ctx.app.read();
            let from = request.from().ok();
            let from_user = from.as_ref().and_then(|f| f.uri().as_sip()?.user());
            trunk::from_trunk(
                &state,
                &self.trunk_names,
                &domain,
                transaction.source(),
                from_user,
            )
        };
        if from_trunk {
            return self.inbound(ctx, transaction, &domain, dialled, now);
        }
        let source = transaction.source().ip();
        let user = match ctx
            .auth
            .authenticate(&ctx.app, request, &domain, source, None, stamp)
        {
            Outcome::Verified { user } => user,
            // A challenge goes out statelessly, as for REGISTER (RFC 3261 §8.2.7): no INVITE
            // server transaction waits for its ACK, which the dialogs then ignore.
            Outcome::Denied(denial) => {
                denial.send(transaction);
                return;
            }
        };
        let routed = {
            let state = ctx.app.read();
            route::route(&state, ctx.app.bindings(), &domain, &user, &dialled, stamp)
        };
        let record = Record {
            domain: domain.clone(),
            direction: if routed.off_net {
                Direction::Outbound
            } else {
                Direction::Internal
            },
            anchor: routed.caller.anchor.clone(),
            identity: routed.caller.identity.clone(),
            dialled,
            start: stamp,
            answer: None,
        };
        match routed.decision {
            Decision::Refuse(status, reason) => {
                tracing::debug!(%status, reason, "call refused");
                self.refused(&record, transaction.request().call_id(), status);
                respond(transaction, status, reason);
            }
            // The voice portal's access number dialled on-net (HD-LOGIN-8); feature codes
            // mostly reach the IVR before the B2BUA, and are answered alike here.
            Decision::Ivr(flow) => {
                crate::ivr::answer_routed(ctx, transaction, domain, routed.caller.anchor, flow);
            }
            Decision::Ring(contacts) => {
                self.start(transaction, contacts, &domain, record, None, now);
            }
            Decision::Hunt(hunt) => self.start_hunt(transaction, hunt, &domain, record, now),
            Decision::Queue(queue) => self.start_queue(transaction, &queue, &domain, record, now),
            Decision::Trunk {
                trunk,
                number,
                emergency,
            } => {
                if emergency {
                    self.open_callback_window(ctx, &domain, &record, now);
                }
                self.route_to_trunk(transaction, trunk, number, emergency, record, domain, now);
            }
        }
    }

    /// HD-ROUTE-6: for the domain's callback period, a call from the trunk to the number an
    /// emergency call presented rings that device, whoever is logged in.
    fn open_callback_window(
        &mut self,
        ctx: &Context,
        domain: &DomainName,
        record: &Record,
        now: Instant,
    ) {
        let Some(anchor) = record.anchor.clone() else {
            return;
        };
        let secs = {
            let state = ctx.app.read();
            state
                .tenants
                .get(domain)
                .map_or(0, |t| t.domain.settings.emergency_callback_secs)
        };
        let until = now + std::time::Duration::from_secs(u64::from(secs));
        self.callbacks.retain(|_, (_, at)| *at > now);
        self.callbacks.insert(
            (domain.clone(), record.identity.number.clone()),
            (anchor, until),
        );
    }

    /// A call from a trunk (HD-ROUTE-9 inbound): trusted by its address, the caller's
    /// From and P-Asserted-Identity passed through (HD-ROUTE-8).
    fn inbound(
        &mut self,
        ctx: &Context,
        transaction: ServerTransaction,
        domain: &DomainName,
        dialled: String,
        now: Instant,
    ) {
        let request = transaction.request();
        let (number, name) = match request.from() {
            Ok(from) => (
                from.uri()
                    .as_sip()
                    .and_then(|u| u.user())
                    .unwrap_or("anonymous")
                    .to_owned(),
                from.display_name().map(|n| n.into_owned()),
            ),
            Err(_) => ("anonymous".to_owned(), None),
        };
        let callback = self
            .callbacks
            .get(&(domain.clone(), dialled.clone()))
            .filter(|(_, until)| *until > now)
            .map(|(anchor, _)| anchor.clone());
        let stamp = ctx.app.now();
        let decision = {
            let state = ctx.app.read();
            route::inbound(
                &state,
                ctx.app.bindings(),
                domain,
                &dialled,
                callback.as_ref(),
                stamp,
            )
        };
        let record = Record {
            domain: domain.clone(),
            direction: Direction::Inbound,
            anchor: callback,
            identity: CallerIdentity {
                number,
                name,
                user: None,
            },
            dialled,
            start: stamp,
            answer: None,
        };
        match decision {
            Decision::Ring(contacts) => {
                self.start(transaction, contacts, domain, record, None, now);
            }
            Decision::Hunt(hunt) => self.start_hunt(transaction, hunt, domain, record, now),
            Decision::Queue(queue) => self.start_queue(transaction, &queue, domain, record, now),
            Decision::Refuse(status, reason) => {
                self.refused(&record, transaction.request().call_id(), status);
                respond(transaction, status, reason);
            }
            // HD-LOGIN-8: the access number from outside; the caller has no device and
            // proves who they are by extension and PIN (HD-SEC-2 lock-out applies).
            Decision::Ivr(flow) => {
                tracing::info!(%domain, "trunk call to the voice portal");
                crate::ivr::answer_routed(ctx, transaction, domain.clone(), None, flow);
            }
            Decision::Trunk { .. } => {
                respond(
                    transaction,
                    StatusCode::FORBIDDEN,
                    "Not Routed From A Trunk",
                );
            }
        }
    }

    /// The CDR of a call refused before any fork (HD-CDR-1: refused calls count too).
    pub(super) fn refused(&self, record: &Record, call_id: &str, status: StatusCode) {
        let disposition = match status.as_u16() {
            486 | 600 => Disposition::Busy,
            480 | 408 => Disposition::NoAnswer,
            _ => Disposition::Failed,
        };
        let now = self.app.now();
        let _ = self.cdrs.send(Cdr {
            domain: record.domain.clone(),
            call_id: call_id.to_owned(),
            direction: record.direction,
            anchor: record.anchor.clone(),
            user_name: record.identity.name.clone(),
            user_extension: record.identity.user.clone(),
            from: record.identity.number.clone(),
            to: record.dialled.clone(),
            start: record.start,
            answer: None,
            end: now,
            disposition,
        });
    }

    /// Creates the call and sends one INVITE per contact; its id, if any fork went out.
    pub(super) fn start(
        &mut self,
        transaction: ServerTransaction,
        contacts: Vec<Contact>,
        domain: &DomainName,
        record: Record,
        geolocation: Option<(DomainName, hotdesk_core::Extension)>,
        now: Instant,
    ) -> Option<u64> {
        let request = transaction.request();
        if session::too_small(request, self.policy.min_se) {
            // RFC 4028 §8.1: the caller retries with at least our minimum.
            self.refused(
                &record,
                request.call_id(),
                StatusCode::SESSION_INTERVAL_TOO_SMALL,
            );
            let min_se = self.policy.min_se.to_string();
            let response = request
                .response(StatusCode::SESSION_INTERVAL_TOO_SMALL)
                .to_tag(new_tag())
                .header("Min-SE", min_se)
                .build();
            let _ = transaction.respond(response);
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let reliable = Reliable::of(request);
        let a_timer = session::supports_timer(request);
        let a = a_dialog(
            request,
            &transaction,
            self.io.contact(transaction.transport()),
        );
        let from = identity_uri(&record.identity, domain.as_str());
        let to_host = contacts
            .first()
            .filter(|_| record.direction == Direction::Outbound)
            .and_then(|c| c.uri.split_once('@').map(|(_, h)| h.to_owned()))
            .unwrap_or_else(|| domain.to_string());
        let body = request.body_bytes();
        let content_type = request
            .headers()
            .get(HeaderName::ContentType)
            .and_then(|h| h.value_str().ok())
            .map(str::to_owned);
        let max_forwards = match request.headers().max_forwards() {
            Ok(Some(n)) => n.saturating_sub(1).to_string(),
            _ => "70".to_owned(),
        };
        let mut extra: Vec<(&'static str, String)> = vec![
            ("Max-Forwards", max_forwards),
            ("P-Asserted-Identity", from.clone()),
        ];
        extra.extend(COPIED.iter().filter_map(|name| {
            let value = request.headers().get_named(name).next()?;
            Some((*name, value.value_str().ok()?.to_owned()))
        }));
        // 100rel toward the callee when its reliable 18x can be relayed or PRACKed by us
        // without an answer of our own (the caller made the offer); timers if the caller
        // supports them, or when we add a timer of our own (then we may be the refresher).
        let ours =
            session::requested(request.headers()).is_none() && self.policy.session_expires > 0;
        let supported = [
            (reliable.supported || !body.is_empty()).then_some("100rel"),
            (a_timer || ours).then_some("timer"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        if !supported.is_empty() {
            extra.push(("Supported", supported));
        }
        extra.extend(session::offer_headers(
            request,
            self.policy.min_se,
            self.policy.session_expires,
        ));
        if let Some((d, anchor)) = geolocation {
            extra.push(("Geolocation", self.geolocation_url(&d, &anchor)));
            extra.push(("Geolocation-Routing", "yes".to_owned()));
        }
        let template = ForkTemplate::new(
            from,
            format!("<sip:{}@{to_host}>", record.dialled),
            extra,
            content_type
                .filter(|_| !body.is_empty())
                .map(|ct| (ct, body.clone())),
        );
        let mut forks = Vec::with_capacity(contacts.len());
        for contact in contacts {
            if let Some(fork) = self.send_fork(id, forks.len(), &template, contact) {
                forks.push(fork);
            }
        }
        if forks.is_empty() {
            self.refused(&record, request.call_id(), StatusCode::SERVICE_UNAVAILABLE);
            respond(transaction, StatusCode::SERVICE_UNAVAILABLE, "No Route");
            return None;
        }
        tracing::debug!(call = id, forks = forks.len(), to = %record.dialled, "call forked");
        self.link(&a.local_tag, id, Side::A);
        self.link(&template.tag, id, Side::B);
        self.invites.insert(transaction.key().clone(), id);
        let call = Call {
            a,
            a_invite_key: transaction.key().clone(),
            a_offer: !body.is_empty(),
            a_invite: Some(Box::new(transaction)),
            a_ok: None,
            forks,
            winner: None,
            best: None,
            min_se: None,
            cancelled: false,
            ended: None,
            ring_deadline: now + self.policy.ring_timeout,
            end_deadline: now + self.policy.max_duration,
            record,
            scheduled: None,
            template: Some(Box::new(template)),
            hunt: None,
            reliable,
            reinvite: None,
            session: None,
            refresher: None,
        };
        self.calls.insert(id, Box::new(call));
        self.schedule(id);
        Some(id)
    }
}

/// What every INVITE of one call carries toward the callee's devices; later forks of a
/// staged call (queues, forwarding) are built from it too, each stage under a Call-ID and
/// From tag of its own ([`ForkTemplate::renewed`]).
#[derive(Debug, Clone)]
pub(super) struct ForkTemplate {
    /// From value (identity, without our tag).
    from: String,
    /// To value.
    remote: String,
    /// Call-ID of the B side (this stage's).
    call_id: String,
    /// Our tag on the B side (this stage's): how requests of the callee's dialog find the
    /// call.
    pub(super) tag: String,
    /// Max-Forwards, P-Asserted-Identity, copied and Geolocation headers.
    extra: Vec<(&'static str, String)>,
    /// The caller's offer, if any.
    body: Option<(String, bytes::Bytes)>,
}

/// Header (name, value) pairs and the body (Content-Type, bytes) of an INVITE to build.
pub(super) type InviteParts<'t> = (Vec<(&'t str, &'t str)>, Option<(&'t str, bytes::Bytes)>);

impl ForkTemplate {
    fn new(
        from: String,
        remote: String,
        extra: Vec<(&'static str, String)>,
        body: Option<(String, bytes::Bytes)>,
    ) -> Self {
        Self {
            from,
            remote,
            call_id: new_call_id(),
            tag: keys::new_tag(),
            extra,
            body,
        }
    }

    /// The same INVITE under a fresh Call-ID and From tag, for a later hunt stage: each
    /// stage is a new request outside any dialog (RFC 3261 §8.1.1.4, §12), so a phone that
    /// saw an earlier stage's INVITE takes it neither for a retransmission nor for a merged
    /// request (§8.2.2.2), and a 2xx of a cancelled stage cannot pass for this one's.
    pub(super) fn renewed(&self) -> Self {
        Self {
            call_id: new_call_id(),
            tag: keys::new_tag(),
            ..self.clone()
        }
    }

    /// The headers and body of the forks' INVITE, Session-Expires and Min-SE as `interval`
    /// and `min` (a retry after a callee's 422 to a timer of ours, RFC 4028 §7.4).
    pub(super) fn with_interval<'t>(&'t self, interval: &'t str, min: &'t str) -> InviteParts<'t> {
        let extra = self
            .extra
            .iter()
            .map(|(name, value)| match *name {
                "Session-Expires" => (*name, interval),
                "Min-SE" => (*name, min),
                _ => (*name, value.as_str()),
            })
            .collect();
        let body = self.body.as_ref().map(|(ct, b)| (ct.as_str(), b.clone()));
        (extra, body)
    }

    /// The caller's offer the forks carry, if any.
    pub(super) fn offer(&self) -> Option<(String, bytes::Bytes)> {
        self.body.clone()
    }
}

/// A Call-ID for the B side, unrelated to the caller's (HD-ROUTE-1: the legs are apart).
fn new_call_id() -> String {
    format!("{}{}@hotdesk", new_tag(), new_tag())
}

impl B2bua {
    /// Sends fork `index` of call `id` to `contact`.
    pub(super) fn send_fork(
        &self,
        id: u64,
        index: usize,
        template: &ForkTemplate,
        contact: Contact,
    ) -> Option<Fork> {
        let slot = index as u64 + 1;
        if slot >= super::SLOT_REFRESH {
            return None;
        }
        let via_value = self.io.via(&contact.target)?;
        let mut dialog = Dialog {
            call_id: template.call_id.clone(),
            local_tag: template.tag.clone(),
            local: format!("{};tag={}", template.from, template.tag),
            remote: template.remote.clone(),
            remote_target: contact.uri.clone(),
            route: Vec::new(),
            target: contact.target.clone(),
            cseq: 0,
            contact: self.io.contact(contact.target.transport),
        };
        let extra: Vec<(&str, &str)> = template
            .extra
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .collect();
        let body = template
            .body
            .as_ref()
            .map(|(ct, b)| (ct.as_str(), b.clone()));
        let invite = dialog.request(Method::Invite, via_value.clone(), None, &extra, body)?;
        // Only a trunk's challenge needs the INVITE again (HD-ROUTE-9).
        let kept = contact.auth.is_some().then(|| Box::new(invite.clone()));
        self.io
            .endpoint
            .send_request_to(
                invite,
                contact.target.clone(),
                &self.io.sink,
                Self::token(id, slot),
            )
            .ok()?;
        Some(Fork {
            dialog,
            via: via_value,
            uri: contact.uri,
            state: ForkState::Calling,
            cancel_pending: false,
            ack: None,
            rseq: None,
            early: None,
            invite: kept,
            invite_cseq: 1,
            auth: contact.auth,
            interval_retried: false,
        })
    }
}

/// The dialog toward the caller, from its INVITE (RFC 3261 §12.1.1).
fn a_dialog(
    request: &Request,
    transaction: &ServerTransaction,
    contact: std::sync::Arc<str>,
) -> Dialog {
    let local_tag = keys::new_tag();
    let to = request
        .to()
        .map(|t| t.as_str().to_owned())
        .unwrap_or_default();
    let from = request
        .from()
        .map(|f| f.as_str().to_owned())
        .unwrap_or_default();
    let remote_target = request
        .headers()
        .get(HeaderName::Contact)
        .and_then(|h| h.value_str().ok())
        .and_then(contact_uri)
        .or_else(|| request.from().ok().map(|f| f.uri().as_str().to_owned()))
        .unwrap_or_default();
    let route = request
        .headers()
        .get_all(HeaderName::RecordRoute)
        .filter_map(|h| h.value_str().ok().map(str::to_owned))
        .collect();
    Dialog {
        call_id: request.call_id().to_owned(),
        local: format!("{to};tag={local_tag}"),
        local_tag,
        remote: from,
        remote_target,
        route,
        target: Target::new(transaction.transport(), transaction.source()),
        cseq: 0,
        contact,
    }
}

pub(super) fn content_type(message: &Response) -> Option<&str> {
    message
        .headers()
        .get(HeaderName::ContentType)
        .and_then(|h| h.value_str().ok())
}
