//! Message waiting (HD-MWI-1): `message-summary` subscriptions (RFC 3842 over RFC 6665),
//! the NOTIFYs that follow a desk's *current owner* — re-sent at log-in, log-out and every
//! mailbox change (API, or a trusted voicemail server's NOTIFY: [`voicemail`]) — and the
//! phone updates queued by provisioning (check-sync, notices),
//! all sent by one task ([`notifier`]).
//!
//! Subscriptions live in memory and are written through to the store, so after a restart
//! NOTIFYs still reach phones; a phone that lost its dialog re-subscribes on the 481 it gets.

pub mod notifier;
pub mod subscribe;
pub mod summary;
pub mod voicemail;
pub mod warning;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use hotdesk_core::{Device, DeviceKind, DomainName, Extension, Mailbox};
use hotdesk_store::{ProvRecord, Store, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::state::{App, State};

/// Store kind of subscriptions.
pub const KIND: &str = "mwi_subscription";

/// One subscription dialog (we are the notifier, RFC 6665 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Domain.
    pub domain: DomainName,
    /// The authenticated subscriber: a device anchor or a user extension.
    pub subscriber: Extension,
    /// Call-ID of the dialog.
    pub call_id: String,
    /// Our tag (To of the SUBSCRIBE, From of our NOTIFYs).
    pub local_tag: String,
    /// The subscriber's tag.
    pub remote_tag: String,
    /// Our URI (the SUBSCRIBE's To URI).
    pub local_uri: String,
    /// The subscriber's URI (its From URI).
    pub remote_uri: String,
    /// Remote target: the subscriber's Contact.
    pub contact: String,
    /// Where to send: `udp:IP:port` or `tcp:IP:port` (where the SUBSCRIBE came from).
    pub source: String,
    /// When the subscription lapses unless refreshed.
    pub expires_at: Timestamp,
    /// Our last CSeq in the dialog.
    pub cseq: u32,
}

impl Subscription {
    /// The key of the dialog: Call-ID and both tags.
    pub fn key(&self) -> String {
        dialog_key(&self.call_id, &self.local_tag, &self.remote_tag)
    }
}

/// Key of a dialog (RFC 3261 §12: Call-ID, local tag, remote tag).
pub fn dialog_key(call_id: &str, local_tag: &str, remote_tag: &str) -> String {
    format!("{call_id};{local_tag};{remote_tag}")
}

/// Every live subscription.
#[derive(Debug, Default)]
pub struct Subscriptions {
    table: Mutex<HashMap<String, Subscription>>,
}

impl Subscriptions {
    /// Loads the stored subscriptions.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut table = HashMap::new();
        for record in store.prov_records(KIND).await? {
            match serde_json::from_str::<Subscription>(&record.data) {
                Ok(sub) => {
                    table.insert(sub.key(), sub);
                }
                Err(error) => tracing::warn!(%error, "skipping unreadable MWI subscription"),
            }
        }
        Ok(Self {
            table: Mutex::new(table),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Subscription>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The subscription of a dialog.
    pub fn get(&self, key: &str) -> Option<Subscription> {
        self.lock().get(key).cloned()
    }

    /// Adds or refreshes.
    pub fn put(&self, sub: Subscription) {
        self.lock().insert(sub.key(), sub);
    }

    /// Removes one.
    pub fn remove(&self, key: &str) -> Option<Subscription> {
        self.lock().remove(key)
    }

    /// Takes the next CSeq of a dialog (and returns the subscription with it).
    pub fn next_cseq(&self, key: &str) -> Option<Subscription> {
        let mut table = self.lock();
        let sub = table.get_mut(key)?;
        sub.cseq = sub.cseq.wrapping_add(1);
        Some(sub.clone())
    }

    /// Subscriptions of a subscriber (a device anchor or a user).
    pub fn of(&self, domain: &DomainName, subscriber: &Extension) -> Vec<Subscription> {
        self.lock()
            .values()
            .filter(|s| &s.domain == domain && &s.subscriber == subscriber)
            .cloned()
            .collect()
    }

    /// Removes and returns the subscriptions lapsed at `now`.
    pub fn take_expired(&self, now: Timestamp) -> Vec<Subscription> {
        let mut table = self.lock();
        let keys: Vec<String> = table
            .iter()
            .filter(|(_, s)| s.expires_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().filter_map(|k| table.remove(k)).collect()
    }

    /// How many are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// Writes a subscription through, in the background (the dispatcher does not wait).
pub fn persist(app: &App, sub: &Subscription) {
    let record = ProvRecord {
        domain: sub.domain.clone(),
        kind: KIND.to_owned(),
        key: sub.key(),
        data: serde_json::to_string(sub).unwrap_or_else(|_| "{}".into()),
    };
    let store = std::sync::Arc::clone(app.store());
    tokio::spawn(async move {
        if let Err(error) = store.put_prov_record(&record).await {
            tracing::warn!(%error, "cannot store MWI subscription");
        }
    });
}

/// Deletes a stored subscription in the background.
pub fn forget(app: &App, sub: &Subscription) {
    let (domain, key) = (sub.domain.clone(), sub.key());
    let store = std::sync::Arc::clone(app.store());
    tokio::spawn(async move {
        if let Err(error) = store.delete_prov_record(&domain, KIND, &key).await {
            tracing::warn!(%error, "cannot delete MWI subscription");
        }
    });
}

/// The mailbox a subscriber's phone shows now (HD-MWI-1): for a device, its current
/// owner's (the logged-in user, a personal device's owner), else the anchor extension's
/// own box (`PUT …/devices/{ext}/mailbox`), so a free desk shows what waits for the desk
/// itself; for a user, their own.
pub fn mailbox_for(app: &App, domain: &DomainName, subscriber: &Extension) -> Mailbox {
    let state = app.read();
    let Some(tenant) = state.tenants.get(domain) else {
        return Mailbox::default();
    };
    let owner = match tenant.devices.get(subscriber) {
        Some(device) => match device_owner(&state, device) {
            Some(owner) => owner,
            None => return device.mailbox,
        },
        None => subscriber.clone(),
    };
    tenant
        .users
        .get(&owner)
        .map(|u| u.mailbox)
        .unwrap_or_default()
}

/// Whose mailbox a device shows: the user logged in to it, else a personal device's
/// owner; `None` when it shows the anchor's own box.
pub fn device_owner(state: &State, device: &Device) -> Option<Extension> {
    match state.desks.on_device(&device.domain, &device.extension) {
        Some(association) => Some(association.user.clone()),
        None if device.kind == DeviceKind::Personal => device.owner.clone(),
        None => None,
    }
}

/// Devices that show `user`'s mailbox now: hot desks they are logged in to, their personal
/// phones, and the user's own AOR (a softphone registered as them).
pub fn showing(app: &App, domain: &DomainName, user: &Extension) -> Vec<Extension> {
    let state = app.read();
    let mut list: Vec<Extension> = state.desks.devices_of(domain, user).to_vec();
    if let Some(tenant) = state.tenants.get(domain) {
        list.extend(
            tenant
                .devices
                .values()
                .filter(|d| d.kind == DeviceKind::Personal && d.owner.as_ref() == Some(user))
                .filter(|d| state.desks.on_device(domain, &d.extension).is_none())
                .map(|d| d.extension.clone()),
        );
    }
    if !list.contains(user) {
        list.push(user.clone());
    }
    list
}
