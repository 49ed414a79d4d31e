//! Password guessing on `/provision` (HD-SEC-3 applied to HTTP): wrong credentials are
//! counted per source address and per target — the MAC asked for, or for model files the
//! username claimed — with the SIP side's [`AuthGuard`] and the same limits
//! (`HOTDESK_SIP_AUTH_*`). While locked, requests get the very 401 any other failure gets,
//! unverified: the guesser learns nothing (not even that the lock started), a right
//! password is no better than a wrong one, and an unknown MAC locks exactly like a known
//! one, so the lock cannot be used to enumerate devices. A 429 would be equally blind to
//! enumeration, but phones do not understand it and it would tell a guesser to move on.

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use hotdesk_core::{Actor, AuditRecord, Device, Mac};
use jiff::Timestamp;
use serde_json::json;

use crate::sip::guard::{AuthGuard, GuardPolicy, Started};
use crate::state::App;

/// Audit kind of a wrong provisioning password for a known device.
pub const PROVISION_AUTH_FAILED: &str = "provision_auth_failed";
/// Audit kind of a provisioning lock-out started by repeated failures.
pub const PROVISION_LOCKED_OUT: &str = "provision_locked_out";

/// Longest claimed username kept as a counter key (it is whatever the client sent).
const MAX_KEY: usize = 64;
/// Counters kept before quiet ones are pruned (bounds memory under a spray of names).
const PRUNE_ABOVE: usize = 10_000;

/// What a request's failures count against besides its source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A phone's file: the MAC asked for (known or not).
    Mac(String),
    /// A model's file: the username the credentials claim.
    User(String),
    /// Nothing named (no credentials on a model file, an unparsable name).
    Nothing,
}

impl Target {
    /// The guard's (namespace, key) pair; the namespaces keep a MAC and a username of the
    /// same text apart.
    fn key(&self) -> Option<(&'static str, &str)> {
        let cut = |s: &str| -> usize { s.char_indices().nth(MAX_KEY).map_or(s.len(), |(i, _)| i) };
        match self {
            Self::Mac(mac) => Some(("mac", &mac[..cut(mac)])),
            Self::User(user) => Some(("user", &user[..cut(user)])),
            Self::Nothing => None,
        }
    }
}

/// Failure counters and locks for provisioning requests.
#[derive(Debug, Default)]
pub struct HttpGuard {
    guard: Mutex<AuthGuard>,
}

impl HttpGuard {
    /// A guard with the given limits.
    pub fn new(policy: GuardPolicy) -> Self {
        Self {
            guard: Mutex::new(AuthGuard::new(policy)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, AuthGuard> {
        self.guard.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `source` or `target` is locked at `now`.
    pub fn is_locked(&self, source: IpAddr, target: &Target, now: Timestamp) -> bool {
        let (space, key) = target.key().unzip();
        self.lock()
            .check(source, space.unwrap_or(""), key, now)
            .is_err()
    }

    /// Counts a wrong password; returns the locks it started.
    pub fn failed(&self, source: IpAddr, target: &Target, now: Timestamp) -> Started {
        let (space, key) = target.key().unzip();
        let mut guard = self.lock();
        if guard.tracked() > PRUNE_ABOVE {
            guard.prune(now);
        }
        guard.fail(source, space.unwrap_or(""), key, now)
    }

    /// A right password clears the target's count (not the source's, as on the SIP side).
    pub fn succeeded(&self, target: &Target) {
        if let Some((space, key)) = target.key() {
            self.lock().succeed(space, key);
        }
    }
}

/// Records a failure: an audit row in the domain of each device the target names (an
/// unknown MAC or name has no domain, so only the log sees it), plus one per lock started.
pub fn audit(app: &App, source: IpAddr, target: &Target, started: Started, now: Timestamp) {
    for (locked, until) in [("source", started.source), ("target", started.user)] {
        if let Some(until) = until {
            tracing::warn!(%source, ?target, locked, %until, "provisioning lock-out");
        }
    }
    let devices: Vec<Device> = match target {
        Target::Mac(mac) => Mac::new(mac)
            .ok()
            .and_then(|mac| app.device_by_mac(&mac))
            .into_iter()
            .collect(),
        Target::User(user) => {
            let state = app.read();
            state
                .tenants
                .iter()
                .flat_map(|t| t.devices.values())
                .filter(|d| d.extension.as_str() == user)
                .cloned()
                .collect()
        }
        Target::Nothing => Vec::new(),
    };
    let mut rows = Vec::new();
    for device in devices {
        let row = |kind: &str, detail| AuditRecord {
            domain: device.domain.clone(),
            at: now,
            kind: kind.to_owned(),
            actor: Actor::Device(device.extension.clone()),
            user: None,
            device: Some(device.extension.clone()),
            source: Some(source.to_string()),
            detail,
        };
        rows.push(row(
            PROVISION_AUTH_FAILED,
            json!({ "reason": "wrong_password" }),
        ));
        for (locked, until) in [("source", started.source), ("target", started.user)] {
            if let Some(until) = until {
                rows.push(row(
                    PROVISION_LOCKED_OUT,
                    json!({ "locked": locked, "until": until }),
                ));
            }
        }
    }
    if !rows.is_empty() {
        crate::sip::auth::persist(app, rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn hd_sec_3_mac_locks_and_a_username_of_the_same_text_does_not() {
        let guard = HttpGuard::new(GuardPolicy {
            max_failures: 2,
            window_secs: 60,
            lock_secs: 60,
        });
        let mac = Target::Mac("001565aa0001".into());
        let same_text = Target::User("001565aa0001".into());
        let (a, b) = (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]));
        guard.failed(a, &mac, t(0));
        let started = guard.failed(b, &mac, t(1));
        assert!(started.user.is_some(), "the MAC's second failure locks it");
        assert!(guard.is_locked(IpAddr::from([192, 0, 2, 3]), &mac, t(2)));
        assert!(!guard.is_locked(IpAddr::from([192, 0, 2, 3]), &same_text, t(2)));
        assert!(!guard.is_locked(a, &Target::Nothing, t(2)));
        assert!(!guard.is_locked(a, &mac, t(61)), "the lock lifts");
        let long = Target::User("x".repeat(10_000));
        assert_eq!(long.key().map(|(_, k)| k.len()), Some(MAX_KEY));
    }
}
