//! The desk book: every current association, with O(1) "who is on device X" and "which
//! devices does user Y hold", and the command → plan → apply cycle (STYLE §5).
//!
//! `plan` reads only; the caller persists `plan.events` and `plan.audit`, then calls
//! `apply(&plan.events)`. Nothing is acknowledged before it is written.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::json;

use crate::association::Association;
use crate::command::{Command, Plan, Requester};
use crate::directory::Directory;
use crate::event::{AuditRecord, DeskEvent, LogoutReason};
use crate::ids::{DomainName, Extension};
use crate::refusal::Refusal;

/// One domain's associations, indexed both ways.
#[derive(Debug, Clone, Default)]
struct Desks {
    /// Device anchor extension → its session.
    by_device: HashMap<Extension, Association>,
    /// User extension → devices held, oldest log-in first (at most the allocation, 1–5).
    by_user: HashMap<Extension, Vec<Extension>>,
}

/// Current associations of all domains, keyed by domain first (HD-SEC-1).
///
/// `Clone` copies everything (about 10 ms per 100,000 sessions); share it behind a lock.
#[derive(Debug, Clone, Default)]
pub struct DeskBook {
    domains: HashMap<DomainName, Desks>,
    len: usize,
}

impl DeskBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the book from persisted associations (restart). If two name the same
    /// device, the later log-in wins.
    pub fn from_associations(associations: impl IntoIterator<Item = Association>) -> Self {
        let mut all: Vec<Association> = associations.into_iter().collect();
        // Oldest first, so each user's device list keeps log-in order (HD-LOGIN-4 evicts the oldest).
        all.sort_by_key(|a| a.since);
        let mut book = Self::new();
        for association in all {
            book.insert(association);
        }
        book
    }

    /// Number of sessions in all domains.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no one is logged in anywhere.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The session on a device, if someone is logged in to it.
    pub fn on_device(&self, domain: &DomainName, device: &Extension) -> Option<&Association> {
        self.domains.get(domain)?.by_device.get(device)
    }

    /// The devices a user is logged in to, oldest log-in first; empty if none.
    pub fn devices_of(&self, domain: &DomainName, user: &Extension) -> &[Extension] {
        self.domains
            .get(domain)
            .and_then(|d| d.by_user.get(user))
            .map_or(&[], Vec::as_slice)
    }

    /// A user's sessions, oldest first.
    pub fn sessions_of<'a>(
        &'a self,
        domain: &DomainName,
        user: &Extension,
    ) -> impl Iterator<Item = &'a Association> + 'a {
        let desks = self.domains.get(domain);
        let devices = desks.and_then(|d| d.by_user.get(user));
        devices
            .into_iter()
            .flatten()
            .filter_map(move |device| desks.and_then(|d| d.by_device.get(device)))
    }

    /// All sessions of one domain, in no particular order (`GET …/associations`).
    pub fn associations<'a>(
        &'a self,
        domain: &DomainName,
    ) -> impl Iterator<Item = &'a Association> + 'a {
        self.domains
            .get(domain)
            .into_iter()
            .flat_map(|d| d.by_device.values())
    }

    /// All sessions of all domains, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Association> + '_ {
        self.domains.values().flat_map(|d| d.by_device.values())
    }

    /// Records call activity on a device's session for idle log-out (HD-LOGOUT-2).
    /// Returns `false` if nobody is logged in there. Not an event: losing it on a crash
    /// only makes an idle log-out come early, so the store may write it lazily.
    pub fn touch(&mut self, domain: &DomainName, device: &Extension, now: Timestamp) -> bool {
        let found = self
            .domains
            .get_mut(domain)
            .and_then(|d| d.by_device.get_mut(device));
        match found {
            Some(association) => {
                association.last_activity = association.last_activity.max(now);
                true
            }
            None => false,
        }
    }

    /// Decides a command against the current state and the directory's records. Reads
    /// only: the returned plan says what would change. `now` is the decision time.
    pub fn plan<D: Directory + ?Sized>(
        &self,
        directory: &D,
        command: &Command,
        now: Timestamp,
    ) -> Result<Plan, Refusal> {
        match command {
            Command::Login(login) => crate::login::plan_login(self, directory, login, now),
            Command::Logout(logout) => crate::logout::plan_logout(self, directory, logout, now),
            Command::Release(release) => Ok(crate::logout::plan_release(self, release, now)),
            Command::Sweep { domain } => {
                Ok(crate::logout::plan_sweep(self, directory, domain, now))
            }
        }
    }

    /// Applies persisted events. Idempotent: replaying an event already applied, or a
    /// log-out of a session that is gone, changes nothing.
    pub fn apply(&mut self, events: &[DeskEvent]) {
        for event in events {
            match event {
                DeskEvent::LoggedIn { association, .. } => self.insert(association.clone()),
                DeskEvent::LoggedOut {
                    domain,
                    device,
                    user,
                    ..
                } => self.remove(domain, device, Some(user)),
            }
        }
    }

    /// Forgets every session of a domain (domain deleted), returning them.
    pub fn remove_domain(&mut self, domain: &DomainName) -> Vec<Association> {
        let removed: Vec<Association> = self
            .domains
            .remove(domain)
            .map(|d| d.by_device.into_values().collect())
            .unwrap_or_default();
        self.len -= removed.len();
        removed
    }

    fn insert(&mut self, association: Association) {
        let domain = association.domain.clone();
        let device = association.device.clone();
        let user = association.user.clone();
        // A device holds one session: whoever was there is displaced.
        self.remove(&domain, &device, None);
        let desks = self.domains.entry(domain).or_default();
        let held = desks.by_user.entry(user).or_default();
        held.push(device.clone());
        desks.by_device.insert(device, association);
        self.len += 1;
    }

    /// Removes the session on `device`, only if it belongs to `user` when one is given.
    fn remove(&mut self, domain: &DomainName, device: &Extension, user: Option<&Extension>) {
        let Some(desks) = self.domains.get_mut(domain) else {
            return;
        };
        let matches = desks
            .by_device
            .get(device)
            .is_some_and(|a| user.is_none_or(|u| *u == a.user));
        if !matches {
            return;
        }
        if let Some(old) = desks.by_device.remove(device) {
            self.len -= 1;
            if let Some(held) = desks.by_user.get_mut(&old.user) {
                held.retain(|d| d != device);
                if held.is_empty() {
                    desks.by_user.remove(&old.user);
                }
            }
        }
    }
}

/// Builds a [`Plan`] while tracking how many devices each user gains or loses, so the
/// plan can name the users left with none (HD-LOGOUT-5).
pub(crate) struct Draft<'b> {
    book: &'b DeskBook,
    plan: Plan,
    delta: Vec<(DomainName, Extension, i64)>,
}

impl<'b> Draft<'b> {
    pub(crate) fn new(book: &'b DeskBook) -> Self {
        Self {
            book,
            plan: Plan {
                calls_continue: true,
                ..Plan::default()
            },
            delta: Vec::new(),
        }
    }

    pub(crate) fn plan_mut(&mut self) -> &mut Plan {
        &mut self.plan
    }

    fn count(&mut self, domain: &DomainName, user: &Extension, by: i64) {
        match self
            .delta
            .iter_mut()
            .find(|(d, u, _)| d == domain && u == user)
        {
            Some(entry) => entry.2 += by,
            None => self.delta.push((domain.clone(), user.clone(), by)),
        }
    }

    fn device_changed(&mut self, domain: &DomainName, device: &Extension) {
        let key = (domain.clone(), device.clone());
        if !self.plan.devices_changed.contains(&key) {
            self.plan.devices_changed.push(key);
        }
    }

    /// Ends `association` for `reason`.
    pub(crate) fn log_out(
        &mut self,
        association: &Association,
        reason: LogoutReason,
        requester: &Requester,
        now: Timestamp,
    ) {
        let Association {
            domain,
            device,
            user,
            since,
            ..
        } = association;
        self.plan.events.push(DeskEvent::LoggedOut {
            domain: domain.clone(),
            device: device.clone(),
            user: user.clone(),
            reason,
            actor: requester.actor.clone(),
            at: now,
        });
        self.plan.audit.push(AuditRecord {
            domain: domain.clone(),
            at: now,
            kind: reason.audit_kind().into(),
            actor: requester.actor.clone(),
            user: Some(user.clone()),
            device: Some(device.clone()),
            source: requester.source.clone(),
            detail: json!({ "reason": reason.code(), "since": since }),
        });
        self.device_changed(domain, device);
        self.count(domain, user, -1);
    }

    /// Starts `association`.
    pub(crate) fn log_in(&mut self, association: Association, requester: &Requester) {
        self.plan.audit.push(AuditRecord {
            domain: association.domain.clone(),
            at: association.since,
            kind: "login".into(),
            actor: requester.actor.clone(),
            user: Some(association.user.clone()),
            device: Some(association.device.clone()),
            source: requester.source.clone(),
            detail: json!({
                "method": association.method,
                "expires_at": association.expires_at,
            }),
        });
        self.device_changed(&association.domain, &association.device);
        self.count(&association.domain, &association.user, 1);
        self.plan.events.push(DeskEvent::LoggedIn {
            association,
            actor: requester.actor.clone(),
        });
    }

    pub(crate) fn finish(mut self) -> Plan {
        for (domain, user, delta) in self.delta {
            let held = self.book.devices_of(&domain, &user).len() as i64;
            if delta < 0 && held + delta <= 0 {
                self.plan
                    .users_released
                    .push((domain.clone(), user.clone()));
            }
            self.plan.users_changed.push((domain, user));
        }
        self.plan
    }
}

#[cfg(test)]
pub(crate) mod tests;
