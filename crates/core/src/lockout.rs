//! Wrong-PIN counting and lock-out, per user and per device (HD-SEC-2).
//!
//! Failures are counted in a sliding window, whatever the path (phone codes, voice
//! portal, portal/API sign-in with a PIN). `max_failures` within `window_secs` locks PIN
//! log-in for `lock_secs`: for the user everywhere, and for the device for everyone (so
//! one phone cannot be used to guess many users' PINs). State lives in memory only: a
//! restart forgets counts, which errs towards letting people in.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::command::Requester;
use crate::domain::LockoutPolicy;
use crate::event::AuditRecord;
use crate::ids::{DomainName, Extension, Pin};
use crate::pin::verify_pin;
use crate::refusal::Refusal;

/// Who a PIN attempt is for and where it was made. `user` is `None` when the PIN named
/// nobody (quick code with an unknown PIN); `device` is `None` for portal/API sign-in.
#[derive(Debug, Clone, Copy)]
pub struct PinSubject<'a> {
    /// Domain of both.
    pub domain: &'a DomainName,
    /// The user whose PIN was tried.
    pub user: Option<&'a Extension>,
    /// The device it was tried at.
    pub device: Option<&'a Extension>,
}

/// The result of [`PinGuard::attempt`]: the decision and the audit rows to persist.
#[derive(Debug, Clone, PartialEq)]
pub struct PinAttempt {
    /// `Ok` if the PIN matched; else `WrongPin` or `LockedOut`.
    pub outcome: Result<(), Refusal>,
    /// `pin_failed` and, when a lock starts, `locked_out` rows.
    pub audit: Vec<AuditRecord>,
}

/// One subject's failures in the sliding window and its lock, if any. Shared with the
/// server's guards against password guessing (SIP digest, provisioning), which key it by
/// source address and user name instead of extension.
#[derive(Debug, Clone, Default)]
pub struct FailureWindow {
    failures: VecDeque<Timestamp>,
    locked_until: Option<Timestamp>,
}

impl FailureWindow {
    /// How long the lock has left, if one is on.
    pub fn lock_left(&self, now: Timestamp) -> Option<SignedDuration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until.duration_since(now))
    }

    /// Counts a failure; returns the lock's end if this failure starts one.
    pub fn fail(&mut self, policy: &LockoutPolicy, now: Timestamp) -> Option<Timestamp> {
        if self.lock_left(now).is_some() {
            return None;
        }
        self.locked_until = None;
        let window = SignedDuration::from_secs(i64::from(policy.window_secs));
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if policy.max_failures == 0 || self.failures.len() < policy.max_failures as usize {
            return None;
        }
        self.failures.clear();
        let until = now
            .checked_add(SignedDuration::from_secs(i64::from(policy.lock_secs)))
            .unwrap_or(Timestamp::MAX);
        self.locked_until = Some(until);
        Some(until)
    }

    /// No lock and no failure within the window: the entry can be forgotten.
    pub fn is_stale(&self, policy: &LockoutPolicy, now: Timestamp) -> bool {
        let window = SignedDuration::from_secs(i64::from(policy.window_secs));
        self.lock_left(now).is_none()
            && self
                .failures
                .back()
                .is_none_or(|t| now.duration_since(*t) >= window)
    }
}

type Trackers = HashMap<DomainName, HashMap<Extension, FailureWindow>>;

fn tracker<'t>(
    map: &'t Trackers,
    domain: &DomainName,
    ext: Option<&Extension>,
) -> Option<&'t FailureWindow> {
    map.get(domain)?.get(ext?)
}

fn tracker_mut<'t>(
    map: &'t mut Trackers,
    domain: &DomainName,
    ext: &Extension,
) -> &'t mut FailureWindow {
    map.entry(domain.clone())
        .or_default()
        .entry(ext.clone())
        .or_default()
}

/// Failure counters and locks for all domains.
#[derive(Debug, Clone, Default)]
pub struct PinGuard {
    users: Trackers,
    devices: Trackers,
}

impl PinGuard {
    /// No failures anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// `LockedOut` with the longest time left if the user or the device is locked.
    pub fn check(&self, subject: PinSubject<'_>, now: Timestamp) -> Result<(), Refusal> {
        let left = [
            tracker(&self.users, subject.domain, subject.user),
            tracker(&self.devices, subject.domain, subject.device),
        ]
        .into_iter()
        .flatten()
        .filter_map(|t| t.lock_left(now))
        .max();
        match left {
            Some(left) => Err(Refusal::LockedOut {
                // Round up: "try again in 0 s" would invite an immediate, refused retry.
                retry_after_secs: u64::try_from(left.as_secs()).unwrap_or(0)
                    + u64::from(left.subsec_nanos() > 0),
            }),
            None => Ok(()),
        }
    }

    /// Counts a wrong PIN against the user and the device; returns `pin_failed` and, if a
    /// lock starts, a `locked_out` row per locked subject.
    pub fn record_failure(
        &mut self,
        policy: &LockoutPolicy,
        subject: PinSubject<'_>,
        requester: &Requester,
        now: Timestamp,
    ) -> Vec<AuditRecord> {
        let row = |kind: &str, detail| AuditRecord {
            domain: subject.domain.clone(),
            at: now,
            kind: kind.into(),
            actor: requester.actor.clone(),
            user: subject.user.cloned(),
            device: subject.device.cloned(),
            source: requester.source.clone(),
            detail,
        };
        let mut audit = vec![row("pin_failed", json!({}))];
        if let Some(user) = subject.user {
            if let Some(until) =
                tracker_mut(&mut self.users, subject.domain, user).fail(policy, now)
            {
                audit.push(row(
                    "locked_out",
                    json!({ "locked": "user", "until": until }),
                ));
            }
        }
        if let Some(device) = subject.device {
            if let Some(until) =
                tracker_mut(&mut self.devices, subject.domain, device).fail(policy, now)
            {
                audit.push(row(
                    "locked_out",
                    json!({ "locked": "device", "until": until }),
                ));
            }
        }
        audit
    }

    /// A correct PIN clears the user's count. The device's count stays: someone who knows
    /// their own PIN must not be able to reset a phone used for guessing others'.
    pub fn record_success(&mut self, subject: PinSubject<'_>) {
        if let Some(user) = subject.user {
            if let Some(map) = self.users.get_mut(subject.domain) {
                map.remove(user);
            }
        }
    }

    /// Check lock → verify against `stored` (the user's PHC string; `None` = no PIN set) →
    /// count. While locked the PIN is not even verified. Runs argon2 (tens of ms): callers
    /// sharing the guard behind a lock may instead call `check`, [`verify_pin`], then
    /// `record_failure`/`record_success` themselves.
    pub fn attempt(
        &mut self,
        policy: &LockoutPolicy,
        subject: PinSubject<'_>,
        stored: Option<&str>,
        pin: &Pin,
        requester: &Requester,
        now: Timestamp,
    ) -> PinAttempt {
        if let Err(refusal) = self.check(subject, now) {
            return PinAttempt {
                outcome: Err(refusal),
                audit: Vec::new(),
            };
        }
        // A malformed stored hash counts as a mismatch: it must never let anyone in.
        let matched = stored.is_some_and(|hash| verify_pin(hash, pin).unwrap_or(false));
        if matched {
            self.record_success(subject);
            return PinAttempt {
                outcome: Ok(()),
                audit: Vec::new(),
            };
        }
        let audit = self.record_failure(policy, subject, requester, now);
        // The failure that starts a lock already answers "locked", so the prompt says so.
        let outcome = self.check(subject, now).and(Err(Refusal::WrongPin));
        PinAttempt { outcome, audit }
    }

    /// Forgets counters with no failure inside the window and no lock (bounds memory).
    pub fn prune(&mut self, policy: &LockoutPolicy, now: Timestamp) {
        for map in [&mut self.users, &mut self.devices] {
            map.retain(|_, inner| {
                inner.retain(|_, t| !t.is_stale(policy, now));
                !inner.is_empty()
            });
        }
    }

    /// Number of users and devices with a live counter or lock.
    pub fn tracked(&self) -> usize {
        [&self.users, &self.devices]
            .into_iter()
            .flat_map(|m| m.values())
            .map(HashMap::len)
            .sum()
    }
}

#[cfg(test)]
mod tests;
