//! Keys and per-device options (HD-PROV-3, -4): a user's line keys and speed dials per
//! model, which follow them to any phone of that model, and per-device provisioning
//! options (unsolicited MWI, idle-screen notice).

use std::sync::PoisonError;

use hotdesk_core::{DomainName, Extension, Key, ModelId};
use hotdesk_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{encode, Provisioning};

/// Store kind of a user's keys for one model (HD-PROV-4).
pub(super) const USER_KEYS: &str = "user_keys";
/// Store kind of per-device options.
pub(super) const DEVICE_OPTIONS: &str = "device_options";

/// Per-device provisioning options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceOptions {
    /// Send message-summary NOTIFYs without a subscription (phones that don't SUBSCRIBE).
    #[serde(default)]
    pub unsolicited_mwi: bool,
    /// Idle-screen notice rendered into the file (`notice`), e.g. a log-out warning.
    #[serde(default)]
    pub notice: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredKeys {
    pub(crate) keys: Vec<Key>,
}

impl Provisioning {
    /// A user's keys for a model (empty: the model's defaults, HD-PROV-4).
    pub fn user_keys(&self, domain: &DomainName, user: &Extension, model: &ModelId) -> Vec<Key> {
        self.read()
            .keys
            .get(&(domain.clone(), user.clone(), model.clone()))
            .cloned()
            .unwrap_or_default()
    }

    /// Every model a user has keys for, with the keys.
    pub fn user_key_sets(&self, domain: &DomainName, user: &Extension) -> Vec<(ModelId, Vec<Key>)> {
        let catalog = self.read();
        let mut sets: Vec<(ModelId, Vec<Key>)> = catalog
            .keys
            .iter()
            .filter(|((d, u, _), _)| d == domain && u == user)
            .map(|((_, _, m), keys)| (m.clone(), keys.clone()))
            .collect();
        sets.sort_by(|a, b| a.0.cmp(&b.0));
        sets
    }

    /// Replaces a user's keys for a model; an empty list returns to the model defaults.
    pub async fn set_user_keys(
        &self,
        store: &dyn Store,
        domain: &DomainName,
        user: &Extension,
        model: &ModelId,
        keys: Vec<Key>,
    ) -> Result<(), StoreError> {
        let record_key = format!("{user}/{model}");
        if keys.is_empty() {
            store
                .delete_prov_record(domain, USER_KEYS, &record_key)
                .await?;
        } else {
            let stored = StoredKeys { keys: keys.clone() };
            store
                .put_prov_record(&encode(domain, USER_KEYS, record_key, &stored))
                .await?;
        }
        let mut catalog = self.catalog.write().unwrap_or_else(PoisonError::into_inner);
        let key = (domain.clone(), user.clone(), model.clone());
        if keys.is_empty() {
            catalog.keys.remove(&key);
        } else {
            catalog.keys.insert(key, keys);
        }
        Ok(())
    }

    /// A device's options (defaults when never set).
    pub fn device_options(&self, domain: &DomainName, device: &Extension) -> DeviceOptions {
        self.read()
            .options
            .get(&(domain.clone(), device.clone()))
            .cloned()
            .unwrap_or_default()
    }

    /// Replaces a device's options.
    pub async fn set_device_options(
        &self,
        store: &dyn Store,
        domain: &DomainName,
        device: &Extension,
        options: DeviceOptions,
    ) -> Result<(), StoreError> {
        store
            .put_prov_record(&encode(
                domain,
                DEVICE_OPTIONS,
                device.to_string(),
                &options,
            ))
            .await?;
        self.catalog
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .options
            .insert((domain.clone(), device.clone()), options);
        Ok(())
    }

    /// Devices with unsolicited MWI switched on, in a domain.
    pub fn unsolicited_mwi(&self, domain: &DomainName, device: &Extension) -> bool {
        self.read()
            .options
            .get(&(domain.clone(), device.clone()))
            .is_some_and(|o| o.unsolicited_mwi)
    }
}
