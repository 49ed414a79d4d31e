//! PIN verification with lock-out (HD-SEC-2), the one entry point for every path (phone
//! codes, voice portal, API sign-in): core's `PinGuard` counts failures per user and per
//! device; this file runs argon2 off the runtime, persists the audit rows and publishes
//! lock-outs. Failures are audited, so a restart replays them and rebuilds the locks.

use std::collections::HashMap;

use hotdesk_core::command::Requester;
use hotdesk_core::domain::LockoutPolicy;
use hotdesk_core::{verify_pin, AuditRecord, DomainName, Extension, Pin, PinGuard, PinSubject};
use hotdesk_core::{Actor, Refusal};

use crate::secrets::SecretString;
use crate::state::metrics::Counters;
use crate::state::{blocking, App, AppError, AppEvent};

/// Audit kind of a wrong PIN (core writes it).
pub(crate) const PIN_FAILED: &str = "pin_failed";
/// Audit kind of a lock-out (core writes it).
pub(crate) const LOCKED_OUT: &str = "locked_out";

/// Where a PIN was entered, for counting and audit.
#[derive(Debug, Clone, Default)]
pub struct PinContext {
    /// The device the PIN was keyed on (phone paths); failures count against it too.
    pub device: Option<Extension>,
    /// `phone`, `voice_portal`, `api`, an IP address …
    pub source: Option<String>,
}

impl PinContext {
    fn requester(&self, user: &Extension) -> Requester {
        let actor = match &self.device {
            Some(device) => Actor::Device(device.clone()),
            None => Actor::User(user.clone()),
        };
        Requester {
            actor,
            scope: hotdesk_core::Scope::User,
            source: self.source.clone(),
        }
    }
}

/// Replays recent `pin_failed` rows (oldest first) into a fresh guard at start, so
/// counts and locks survive a restart.
pub(crate) fn replay(
    guard: &mut PinGuard,
    mut failures: Vec<AuditRecord>,
    policies: &HashMap<DomainName, LockoutPolicy>,
) {
    failures.sort_by_key(|r| r.at);
    for record in failures {
        let Some(policy) = policies.get(&record.domain) else {
            continue;
        };
        let subject = PinSubject {
            domain: &record.domain,
            user: record.user.as_ref(),
            device: record.device.as_ref(),
        };
        guard.record_failure(policy, subject, &Requester::system(), record.at);
    }
}

impl App {
    /// Checks `user`'s PIN under the lock-out (HD-SEC-2): `Ok` if it matches, else
    /// `WrongPin`, or `LockedOut { retry_after_secs }` (also on the failure that starts the
    /// lock). An unknown user answers `WrongPin` and counts against the device only, so
    /// PIN prompts reveal no extensions. Never acknowledges before the audit is written.
    pub async fn verify_pin(
        &self,
        domain: &DomainName,
        user: &Extension,
        pin: &SecretString,
        context: PinContext,
    ) -> Result<(), AppError> {
        let now = self.now();
        let (policy, stored, exists) = {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            let found = tenant.users.get(user);
            let subject = PinSubject {
                domain,
                user: found.map(|u| &u.extension),
                device: context.device.as_ref(),
            };
            state.pins.check(subject, now)?;
            (
                tenant.domain.settings.lockout,
                found.and_then(|u| u.pin_hash.clone()),
                found.is_some(),
            )
        };
        // A malformed PIN or stored hash is a mismatch: it never lets anyone in.
        let matched = match (Pin::new(pin.expose()), stored) {
            (Ok(pin), Some(hash)) => {
                blocking(move || verify_pin(&hash, &pin).unwrap_or(false)).await?
            }
            _ => false,
        };
        let subject = PinSubject {
            domain,
            user: exists.then_some(user),
            device: context.device.as_ref(),
        };
        if matched {
            self.write_state().pins.record_success(subject);
            return Ok(());
        }
        self.pin_failed(domain, subject, &policy, context.requester(user))
            .await
    }

    /// A PIN that matches nobody, keyed at a device (`980` + an unknown PIN, HD-LOGIN-2):
    /// counts against the device only (HD-SEC-2) and answers `WrongPin` or `LockedOut`.
    pub async fn unknown_pin_at_device(
        &self,
        domain: &DomainName,
        device: &Extension,
        source: Option<String>,
    ) -> Result<(), AppError> {
        let now = self.now();
        let policy = {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            let subject = PinSubject {
                domain,
                user: None,
                device: Some(device),
            };
            state.pins.check(subject, now)?;
            tenant.domain.settings.lockout
        };
        let subject = PinSubject {
            domain,
            user: None,
            device: Some(device),
        };
        let requester = Requester {
            actor: Actor::Device(device.clone()),
            scope: hotdesk_core::Scope::User,
            source,
        };
        self.pin_failed(domain, subject, &policy, requester).await
    }

    /// Counts a failure, audits it (and a lock-out it starts), publishes lock-outs.
    async fn pin_failed(
        &self,
        domain: &DomainName,
        subject: PinSubject<'_>,
        policy: &LockoutPolicy,
        requester: Requester,
    ) -> Result<(), AppError> {
        let now = self.now();
        let (audit, outcome) = {
            let mut state = self.write_state();
            let audit = state.pins.record_failure(policy, subject, &requester, now);
            let outcome = state.pins.check(subject, now).and(Err(Refusal::WrongPin));
            (audit, outcome)
        };
        Counters::add(&self.counters.pin_failures, 1);
        self.store.append_audit(&audit).await?;
        for row in audit.iter().filter(|r| r.kind == LOCKED_OUT) {
            Counters::add(&self.counters.lockouts, 1);
            let until = row
                .detail
                .get("until")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or(now);
            let locked_user = row.detail.get("locked").and_then(|v| v.as_str()) == Some("user");
            self.publish(AppEvent::LockedOut {
                domain: domain.clone(),
                user: if locked_user { row.user.clone() } else { None },
                device: if locked_user {
                    None
                } else {
                    row.device.clone()
                },
                until,
            });
        }
        outcome.map_err(AppError::from)
    }
}
