//! Calls that ring in stages: queues and ring groups (HD-ROUTE-7: ring-all forks to every
//! member at once, round-robin rings one member at a time and starts one member further
//! with every call) and a user's forwarding (HD-ROUTE-1, HD-LOGOUT-5: when every phone of
//! the user is busy or nobody answers in time, the call goes to the forward destination).
//!
//! A stage ends when its ring time runs out (its forks are cancelled) or when all its forks
//! failed; the next stage's forks join the same call under a new B-side Call-ID and From
//! tag (RFC 3261 §8.1.1.4: a new request outside a dialog; a phone ringing in two stages,
//! or a fork of a cancelled stage answering late, must not be taken for this stage's).
//! When no stage is left the fallback number is routed like a dialled one (another user,
//! a queue, or the trunk); without one, the caller gets the best failure of the last stage
//! (a queue: 480 once every member was tried), or 480 when it timed out.

use std::time::Instant;

use hotdesk_core::{DomainName, Queue, Strategy};
use hotdesk_sip::endpoint::ServerTransaction;
use hotdesk_sip::StatusCode;

use super::call::{ForkState, Record, Side};
use super::route::{self, Decision, Hunt, Stage};
use super::setup::respond;
use super::B2bua;

/// Most fallbacks one call follows (forward to a user who forwards, overflow to a queue…).
const MAX_HOPS: usize = 3;

impl B2bua {
    /// HD-ROUTE-7: a call to `queue`. Round-robin starts at the member after the one the
    /// previous call started at.
    pub(super) fn start_queue(
        &mut self,
        transaction: ServerTransaction,
        queue: &Queue,
        domain: &DomainName,
        record: Record,
        now: Instant,
    ) {
        let hunt = self.queue_hunt(queue);
        tracing::debug!(queue = %queue.extension, stages = hunt.stages.len(), "queue call");
        self.start_hunt(transaction, hunt, domain, record, now);
    }

    /// The stages of one call to `queue`, moving the round-robin position on.
    fn queue_hunt(&mut self, queue: &Queue) -> Hunt {
        let key = (queue.domain.clone(), queue.extension.clone());
        let start = self.rotation.get(&key).copied().unwrap_or(0);
        if queue.strategy == Strategy::RoundRobin {
            let next = (start + 1) % queue.members.len().max(1);
            self.rotation.insert(key, next);
        }
        let state = self.app.read();
        route::queue_hunt(&state, self.app.bindings(), queue, start, self.app.now())
    }

    /// Starts a staged call with its first stage that has something to ring; with none,
    /// the fallback at once, else 480.
    pub(super) fn start_hunt(
        &mut self,
        transaction: ServerTransaction,
        mut hunt: Hunt,
        domain: &DomainName,
        record: Record,
        now: Instant,
    ) {
        let Some(stage) = self.next_stage(&mut hunt, domain, now) else {
            let status = StatusCode::TEMPORARILY_UNAVAILABLE;
            self.refused(&record, transaction.request().call_id(), status);
            return respond(transaction, status, "Nobody Available");
        };
        let id = self.next_id;
        self.start(transaction, stage.contacts, domain, record, None, now);
        let ring = stage.ring.min(self.policy.ring_timeout);
        if let Some(call) = self.calls.get_mut(&id) {
            call.ring_deadline = now + ring;
            call.hunt = Some(hunt);
            self.schedule(id);
        }
    }

    /// The next stage with contacts; when the stages are used up, the fallback number's
    /// route becomes the next stages (at most [`MAX_HOPS`] times).
    fn next_stage(&mut self, hunt: &mut Hunt, domain: &DomainName, now: Instant) -> Option<Stage> {
        loop {
            if let Some(stage) = hunt.stages.pop_front() {
                if stage.contacts.is_empty() {
                    continue;
                }
                return Some(stage);
            }
            let number = hunt.fallback.take()?;
            if hunt.hops >= MAX_HOPS {
                tracing::debug!(%number, "forwarding loop: fallback not followed");
                return None;
            }
            hunt.hops += 1;
            let decision = {
                let state = self.app.read();
                route::fallback(&state, self.app.bindings(), domain, &number, self.app.now())
            };
            tracing::debug!(%number, "staged call falls to its forward destination");
            let ring = self.policy.ring_timeout;
            match decision {
                Decision::Ring(contacts) => hunt.stages.push_back(Stage { contacts, ring }),
                Decision::Hunt(next) => {
                    hunt.stages.extend(next.stages);
                    hunt.fallback = next.fallback;
                }
                Decision::Queue(queue) => {
                    let next = self.queue_hunt(&queue);
                    hunt.stages.extend(next.stages);
                    hunt.fallback = next.fallback;
                    hunt.exhausted = next.exhausted;
                }
                Decision::Trunk { trunk, number, .. } => {
                    // HD-ROUTE-9: an off-net forward destination goes out through the trunk.
                    if let Some(contact) = self.trunk_contact(&trunk, &number, now) {
                        hunt.stages.push_back(Stage {
                            contacts: vec![contact],
                            ring,
                        });
                    }
                }
                Decision::Refuse(status, reason) => {
                    tracing::debug!(%number, %status, reason, "forward destination refused");
                }
                // A forward to a feature code or the voice portal rings nobody.
                Decision::Ivr(_) => {}
            }
        }
    }

    /// Whether the stage ringing now has failed entirely (every fork of it done, nobody
    /// answered, the caller still waiting) in a staged call.
    pub(super) fn stage_failed(&self, id: u64) -> bool {
        let Some(call) = self.calls.get(&id) else {
            return false;
        };
        let Some(hunt) = &call.hunt else {
            return false;
        };
        call.winner.is_none()
            && !call.cancelled
            && call.a_invite.is_some()
            && call
                .forks
                .iter()
                .skip(hunt.stage_start)
                .all(|f| f.state == ForkState::Done)
    }

    /// Moves a staged call to its next stage: what still rings is cancelled and the next
    /// stage's forks are sent. `false` when nothing is left to try (the caller gets the
    /// usual failure).
    pub(super) fn advance_hunt(&mut self, id: u64, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        if call.winner.is_some() || call.cancelled || call.a_invite.is_none() {
            return false;
        }
        // RFC 3261 §8.1.1.4, §12: every stage is a new INVITE with its own Call-ID and tag.
        let Some(template) = call.template.as_deref().map(|t| t.renewed()) else {
            return false;
        };
        let Some(mut hunt) = call.hunt.take() else {
            return false;
        };
        let domain = call.record.domain.clone();
        while let Some(stage) = self.next_stage(&mut hunt, &domain, now) {
            let Some(call) = self.calls.get(&id) else {
                return false;
            };
            let first = call.forks.len();
            let mut forks = Vec::with_capacity(stage.contacts.len());
            for contact in stage.contacts {
                if let Some(fork) = self.send_fork(id, first + forks.len(), &template, contact) {
                    forks.push(fork);
                }
            }
            if forks.is_empty() {
                continue;
            }
            self.link(&template.tag, id, Side::B);
            // The stage before stops ringing (HD-ROUTE-7: move on after the ring time).
            for index in hunt.stage_start..first {
                self.cancel_fork(id, index);
            }
            let Some(call) = self.calls.get_mut(&id) else {
                return false;
            };
            tracing::debug!(call = id, forks = forks.len(), "next stage rings");
            call.forks.extend(forks);
            call.best = None;
            call.min_se = None;
            call.template = Some(Box::new(template));
            call.ring_deadline = now + stage.ring.min(self.policy.ring_timeout);
            hunt.stage_start = first;
            call.hunt = Some(hunt);
            self.schedule(id);
            return true;
        }
        // Nothing left: later failures of the last stage still count for the caller.
        if let Some(call) = self.calls.get_mut(&id) {
            call.hunt = Some(hunt);
        }
        false
    }
}
