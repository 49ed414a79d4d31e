//! Start-up: load every record from the store into memory (restart in < 2 s with 100,000
//! users and associations) and rebuild PIN lock-outs from recent audit rows (HD-SEC-2).

use std::collections::HashMap;

use hotdesk_core::{DeskBook, PinGuard};
use hotdesk_store::Store;
use jiff::{SignedDuration, Timestamp};

use crate::state::pins::{replay, PIN_FAILED};
use crate::state::{AppError, State, Tenants};

/// Longest lock-out window or lock period a domain may set (`settings.rs` caps both).
const MAX_LOCK_LOOKBACK: SignedDuration = SignedDuration::from_hours(24 * 7);

/// Reads the store into a fresh [`State`].
pub(crate) async fn load(store: &dyn Store, now: Timestamp) -> Result<State, AppError> {
    let (domains, users, devices, trunks, queues, associations) = tokio::try_join!(
        store.domains(),
        store.users(),
        store.devices(),
        store.trunks(),
        store.queues(),
        store.associations(),
    )?;
    let mut tenants = Tenants::default();
    for domain in domains {
        tenants.insert_domain(domain);
    }
    for user in users {
        tenants.put_user(user);
    }
    for device in devices {
        tenants.put_device(device);
    }
    for trunk in trunks {
        tenants.put_trunk(trunk);
    }
    for queue in queues {
        tenants.put_queue(queue);
    }
    let desks = DeskBook::from_associations(associations);

    let since = now - MAX_LOCK_LOOKBACK;
    let failures = store.audit_since(PIN_FAILED, since).await?;
    let policies: HashMap<_, _> = tenants
        .iter()
        .map(|t| (t.domain.name.clone(), t.domain.settings.lockout))
        .collect();
    let mut pins = PinGuard::new();
    replay(&mut pins, failures, &policies);
    Ok(State {
        tenants,
        desks,
        pins,
    })
}
