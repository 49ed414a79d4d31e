//! The registrar (RFC 3261 §10.3), split as Kamailio splits it: REGISTER processing
//! ([`save`]), finding contacts ([`lookup`]), answers and the error mapping ([`reply`]), and
//! the bindings store in memory ([`bindings`], usrloc) written through to the database by
//! group commit ([`commit`]).
//!
//! A REGISTER goes: AOR and domain from To (an IP host means the default domain) → Require
//! check → digest authentication (HD-SEC-3) → the authenticated user must own the AOR →
//! contacts applied to the AOR's bindings in memory → the change, the 200 and the events
//! queued for the group commit, which answers only once the store has the change. A plain
//! refresh is answered at once and its row written behind ([`behind`]).
//!
//! 200s are sent statelessly (RFC 3261 §8.2.7), as Kamailio's registrar sends them: no
//! transaction waits out Timer J holding each one. A retransmitted REGISTER therefore comes
//! back here, its credentials right but used already (a nonce-count replay, or a nonce gone
//! stale). If it is one answered 200 in the last 64·T1 ([`answered`]), it is answered again
//! from the bindings as they are, changing nothing; anything else reusing credentials gets
//! a fresh challenge. REGISTER is a deferred method of the endpoint: it opens no server
//! transaction on arrival, so a challenge or a 200 costs none. Refusals open one as they
//! are sent, and a change waiting for the store opens one before it waits ([`hold`]); those
//! absorb their retransmissions, and a stateless answer to a copy of the request that
//! came meanwhile yields to them.
//!
//! [`hold`]: ServerTransaction::hold

pub mod answered;
pub mod behind;
pub mod bindings;
pub mod commit;
pub mod lookup;
pub mod reply;
pub mod save;
mod source;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::endpoint::{request_fingerprint, ServerTransaction};
use hotdesk_sip::{Request, Response};
use hotdesk_store::{Binding, BindingKey, StoreError};
use jiff::Timestamp;
use tokio::sync::mpsc;

use answered::Answered;
use bindings::stored_expiry;
pub use bindings::Bindings;
pub use lookup::{target_of, ContactView, RegistrationView};
pub use reply::RegError;

use crate::sip::auth::{Denial, Outcome};
use crate::sip::Context;
use crate::state::{App, AppEvent};
use bindings::Undo;
use commit::Pending;
use reply::OkOptions;
use save::{Aor, RegisterRequest, Removal, Saved};
use source::SourceText;

/// Option tags the registrar implements (RFC 3327 Path, RFC 5626 outbound).
const SUPPORTED: [&str; 2] = ["path", "outbound"];

/// Expiry bounds and the contact limit (RFC 3261 §10.2.1.1, §10.3 step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Non-zero expiries below this get 423 with Min-Expires.
    pub min_expires: u32,
    /// Expiry when the request names none.
    pub default_expires: u32,
    /// Longer expiries are shortened to this.
    pub max_expires: u32,
    /// Most contacts per AOR.
    pub max_contacts: usize,
}

impl Default for Policy {
    /// 60 s minimum (RFC 3261 §10.3 suggests 1 hour default; 423 below 60 s), 1 hour default,
    /// 2 hours maximum, 10 contacts.
    fn default() -> Self {
        Self {
            min_expires: 60,
            default_expires: 3600,
            max_expires: 7200,
            max_contacts: 10,
        }
    }
}

/// A REGISTER waiting for room in the commit queue (see [`Registrar::register`]).
pub type QueueWait<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What processing decided: answer now, or after the store has the change.
// A `Step` lives for one REGISTER on the stack; boxing `Pending` would add an allocation to
// the hot path for no saving.
#[allow(clippy::large_enum_variant)]
enum Step {
    /// A 200 to send statelessly, and the request's fingerprint to note in [`answered`].
    Reply(Response, u64),
    Denied(Denial),
    /// A change for the group commit, its 200, and the request's fingerprint.
    Commit(Pending, Response, u64),
}

/// The registrar's own state; owned by the dispatcher.
#[derive(Debug)]
pub struct Registrar {
    policy: Policy,
    /// The bindings, and the refreshed ones not yet written (see [`behind`]).
    bindings: Arc<Bindings>,
    /// REGISTERs answered 200 lately, to know their retransmissions (see [`answered`]).
    answered: Answered,
    commits: mpsc::Sender<Pending>,
}

fn supports(request: &Request, tag: &str) -> bool {
    request
        .headers()
        .supported()
        .any(|t| t.eq_ignore_ascii_case(tag))
}

/// Option tags in Require that we do not implement, comma-separated (§8.2.2.3).
fn unsupported(request: &Request) -> Option<String> {
    let unknown: Vec<&str> = request
        .headers()
        .require()
        .filter(|t| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
        .collect();
    (!unknown.is_empty()).then(|| unknown.join(", "))
}

/// Whether `put` only renews a binding of `before`: same contact, route and attributes;
/// only expiry, CSeq and Call-ID move.
fn is_refresh(before: &[Binding], put: &Binding) -> bool {
    before.iter().any(|b| {
        b.contact == put.contact
            && b.source == put.source
            && b.instance == put.instance
            && b.reg_id == put.reg_id
            && b.q == put.q
            && b.path == put.path
            && b.user_agent == put.user_agent
    })
}

impl Registrar {
    /// A registrar over `bindings`, committing through `commits`.
    pub fn new(policy: Policy, bindings: Arc<Bindings>, commits: mpsc::Sender<Pending>) -> Self {
        Self {
            policy,
            bindings,
            answered: Answered::default(),
            commits,
        }
    }

    /// Handles a REGISTER: answers at once, or queues the change and its answer for the
    /// group commit. Synchronous unless the commit queue is full; then the wait comes back
    /// boxed, so that the dispatcher's future (moved by value for every request) does not
    /// carry a REGISTER's state.
    pub fn register(
        &mut self,
        ctx: &mut Context,
        transaction: ServerTransaction,
    ) -> Option<QueueWait<'_>> {
        let now = ctx.app.now();
        let step = self.process(ctx, &transaction, now);
        match step {
            Ok(Step::Reply(response, fingerprint)) => {
                self.answered.record(fingerprint, now);
                let _ = transaction.respond_stateless(response);
            }
            Ok(Step::Denied(denial)) => denial.send(transaction),
            Ok(Step::Commit(mut pending, response, fingerprint)) => {
                // Noted now; until the commit answers, the transaction opened here absorbs
                // retransmissions, and a 500 after a failed write goes through it too.
                self.answered.record(fingerprint, now);
                transaction.hold();
                pending.reply = Some((transaction, response));
                return self.queue(pending);
            }
            Err(error) => {
                tracing::debug!(%error, source = %transaction.source(), "REGISTER refused");
                let response = error.response(transaction.request());
                let _ = transaction.respond(response);
            }
        }
        None
    }

    /// Hands `pending` to the group commit; the wait for room when its queue is full.
    fn queue(&self, pending: Pending) -> Option<QueueWait<'_>> {
        match self.commits.try_send(pending) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Closed(pending)) => {
                not_queued(pending);
                None
            }
            Err(mpsc::error::TrySendError::Full(pending)) => Some(Box::pin(async move {
                if let Err(mpsc::error::SendError(pending)) = self.commits.send(pending).await {
                    not_queued(pending);
                }
            })),
        }
    }

    fn process(
        &mut self,
        ctx: &mut Context,
        transaction: &ServerTransaction,
        now: Timestamp,
    ) -> Result<Step, RegError> {
        let request = transaction.request();
        // Steps 1–2: the AOR names a domain of ours.
        let to = request.to().map_err(|_| RegError::BadAor)?;
        let to_uri = to.uri();
        let to_sip = to_uri.as_sip().ok_or(RegError::BadAor)?;
        let user = to_sip.user().ok_or(RegError::BadAor)?;
        let domain = ctx
            .domain_of(to_sip.host())
            .ok_or(RegError::UnknownDomain)?;
        // Authentication reads the user's HA1 entry: its load starts now.
        ctx.auth.prefetch(&domain, user);
        if let Some(tags) = unsupported(request) {
            return Err(RegError::Unsupported { tags });
        }
        // Step 3: authentication.
        let source = transaction.source();
        let verified =
            match ctx
                .auth
                .authenticate(&ctx.app, request, &domain, source.ip(), Some(user), now)
            {
                Outcome::Verified { user } => user,
                Outcome::Denied(denial) => {
                    // The fingerprint only where a reuse is judged: not for the challenge
                    // that opens every pair.
                    let again = denial
                        .reused_by()
                        .filter(|reused| reused.as_str() == user)
                        .map(|reused| (reused, request_fingerprint(request)))
                        .filter(|&(_, fingerprint)| self.answered.contains(fingerprint, now))
                        .and_then(|(reused, fingerprint)| {
                            let source_text = SourceText::new(transaction.transport(), source);
                            let parsed =
                                RegisterRequest::parse(request, source_text.as_str()).ok()?;
                            let response = self.answer_again(
                                request,
                                fingerprint,
                                &parsed,
                                &domain,
                                reused,
                                now,
                            );
                            Some(Step::Reply(response, fingerprint))
                        });
                    return Ok(again.unwrap_or(Step::Denied(denial)));
                }
            };
        // Step 4: a user may register only their own AOR (HD-SEC-1: and only in its domain,
        // which the realm check already ensured).
        if verified.as_str() != user {
            return Err(RegError::NotOwner);
        }
        // Steps 5–7. The fingerprint tags the 200 and notes it (see [`answered`]).
        let fingerprint = request_fingerprint(request);
        // Noted once answered; the table's line is loaded while the answer is made.
        self.answered.prefetch(fingerprint);
        let source_text = SourceText::new(transaction.transport(), source);
        let parsed = RegisterRequest::parse(request, source_text.as_str())?;
        let echo_path = supports(request, "path");
        let outbound = supports(request, "outbound");
        let aor = Aor {
            domain: &domain,
            user: &verified,
        };
        let policy = self.policy;
        let announce = ctx.app.has_subscribers();
        let renewed = self
            .bindings
            .renew(domain.as_str(), verified.as_str(), now, |current| {
                let (index, flows) = save::renew(current, &parsed, &policy, now)?;
                let options = OkOptions {
                    path: if echo_path { &parsed.path } else { &[] },
                    outbound: flows && outbound,
                };
                let response = reply::ok(request, fingerprint, current, now, options);
                let event = announce.then(|| registered(&domain, &verified, &current[index]));
                Some(((response, event), index))
            });
        if let Some((response, event)) = renewed {
            if let Some(event) = event {
                ctx.app.publish(event);
            }
            return Ok(Step::Reply(response, fingerprint));
        }
        let updated = self
            .bindings
            .update(domain.as_str(), verified.as_str(), |current| {
                let Saved {
                    contacts,
                    puts,
                    removed,
                    outbound: flows,
                } = save::save(current, &parsed, aor, &policy, now)?;
                let options = OkOptions {
                    path: if echo_path { &parsed.path } else { &[] },
                    outbound: flows && outbound,
                };
                // Step 8: the 200 lists every current binding.
                let response = reply::ok(request, fingerprint, &contacts, now, options);
                let left_empty = contacts.is_empty();
                Ok::<_, RegError>((contacts, (response, puts, removed, left_empty)))
            });
        let updated = match updated {
            // A retransmission whose credentials passed again (RFC 2069 ones carry no nonce
            // count) meets the CSeq it set itself.
            Err(RegError::OutOfOrder) if self.answered.contains(fingerprint, now) => {
                let response =
                    self.answer_again(request, fingerprint, &parsed, &domain, &verified, now);
                return Ok(Step::Reply(response, fingerprint));
            }
            other => other?,
        };
        let (response, puts, removed, left_empty) = updated.value;
        if puts.is_empty() && removed.is_empty() {
            return Ok(Step::Reply(response, fingerprint));
        }
        if removed.is_empty() && puts.iter().all(|p| is_refresh(&updated.before, p)) {
            if let Some(stored) = stored_expiry(&updated.before) {
                self.bindings.mark_refreshed(
                    domain.as_str(),
                    verified.as_str(),
                    &puts,
                    now,
                    stored,
                );
                for put in &puts {
                    if ctx.app.has_subscribers() {
                        ctx.app.publish(registered(&domain, &verified, put));
                    }
                }
                return Ok(Step::Reply(response, fingerprint));
            }
        }
        let pending = Pending {
            reply: None,
            events: if ctx.app.has_subscribers() {
                events(&domain, &verified, &puts, &removed)
            } else {
                Vec::new()
            },
            puts,
            deletes: removed
                .into_iter()
                .map(|(b, _)| BindingKey::from(b))
                .collect(),
            written_behind: false,
            undo: Some(Undo {
                domain: domain.as_str().to_owned(),
                aor: verified.as_str().to_owned(),
                before: updated.before,
                behind: updated.behind,
                version: updated.version,
                left_empty,
            }),
        };
        Ok(Step::Commit(pending, response, fingerprint))
    }

    /// The 200 again for a retransmission of a REGISTER answered 200, from the bindings as
    /// they are: what it did was done the first time.
    fn answer_again(
        &self,
        request: &Request,
        fingerprint: u64,
        parsed: &RegisterRequest<'_>,
        domain: &DomainName,
        user: &Extension,
        now: Timestamp,
    ) -> Response {
        let contacts = self.bindings.contacts(domain.as_str(), user.as_str(), now);
        let options = OkOptions {
            path: if supports(request, "path") {
                &parsed.path
            } else {
                &[]
            },
            outbound: parsed.names_flows() && supports(request, "outbound"),
        };
        tracing::debug!(
            call_id = request.call_id(),
            "REGISTER retransmission answered again"
        );
        reply::ok(request, fingerprint, &contacts, now, options)
    }

    /// Removes lapsed bindings (deleted from the store and announced as expired), then
    /// queues the refreshed rows due to be written (and a few due soon: [`behind`]).
    pub async fn sweep(&mut self, now: Timestamp) {
        self.expire(now).await;
        let rows = self.bindings.take_behind(now, behind::EARLY_ROWS);
        self.queue_behind(rows).await;
    }

    /// Queues every refreshed row not yet written: at shutdown, so that what was answered
    /// is stored before the commit task ends.
    pub async fn write_behind(&mut self) {
        let rows = self.bindings.take_all_behind();
        self.queue_behind(rows).await;
    }

    /// Hands refreshed `rows` to the commit task as one write-behind item.
    async fn queue_behind(&self, rows: Vec<Binding>) {
        if rows.is_empty() {
            return;
        }
        let pending = Pending {
            puts: rows,
            written_behind: true,
            ..Pending::default()
        };
        // A closed queue means shutdown; the stored rows keep their older expiry.
        let _ = self.commits.send(pending).await;
    }

    async fn expire(&mut self, now: Timestamp) {
        let expired = self.bindings.take_expired(now);
        if expired.is_empty() {
            return;
        }
        tracing::debug!(count = expired.len(), "bindings expired");
        let events = expired
            .iter()
            .map(|b| AppEvent::Expired {
                domain: b.domain.clone(),
                aor: b.aor.clone(),
                contact: b.contact.clone(),
            })
            .collect();
        let pending = Pending {
            events,
            deletes: expired.into_iter().map(BindingKey::from).collect(),
            ..Pending::default()
        };
        // A closed queue means shutdown; the next start drops them from the store.
        let _ = self.commits.send(pending).await;
    }
}

/// The commit task is gone (shutting down): the change is not stored, and a REGISTER
/// waiting for it is answered 500 (a refresh, already answered, keeps its previous row).
fn not_queued(pending: Pending) {
    if let Some((transaction, _)) = pending.reply {
        let error = RegError::Store(StoreError::NotFound { entity: "store" });
        let response = error.response(transaction.request());
        let _ = transaction.respond(response);
    }
}

fn events(
    domain: &DomainName,
    aor: &Extension,
    puts: &[Binding],
    removed: &[(Binding, Removal)],
) -> Vec<AppEvent> {
    let removed = removed.iter().map(|(b, why)| match why {
        Removal::Expired => AppEvent::Expired {
            domain: domain.clone(),
            aor: aor.clone(),
            contact: b.contact.clone(),
        },
        Removal::Unregistered | Removal::Replaced => AppEvent::Unregistered {
            domain: domain.clone(),
            aor: aor.clone(),
            contact: b.contact.clone(),
        },
    });
    let added = puts.iter().map(|b| registered(domain, aor, b));
    removed.chain(added).collect()
}

fn registered(domain: &DomainName, aor: &Extension, binding: &Binding) -> AppEvent {
    AppEvent::Registered {
        domain: domain.clone(),
        aor: aor.clone(),
        contact: binding.contact.clone(),
        expires_at: binding.expires_at,
    }
}

/// Loads the stored bindings into `bindings` at start and deletes those that lapsed while
/// the server was down; returns how many are live.
pub async fn load(app: &App, bindings: &Bindings, now: Timestamp) -> Result<usize, StoreError> {
    let stored = app.store().bindings().await?;
    let expired: Vec<BindingKey> = bindings
        .load(stored, now)
        .into_iter()
        .map(BindingKey::from)
        .collect();
    if !expired.is_empty() {
        tracing::info!(
            count = expired.len(),
            "dropping bindings that lapsed while stopped"
        );
        app.store().apply_bindings(&[], &expired).await?;
    }
    Ok(bindings.len())
}
