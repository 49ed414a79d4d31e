//! Provisioning records (HD-PROV, HD-MWI): a JSON document per (domain, kind, key), so
//! templates, a user's keys per model and MWI subscriptions survive a restart without one
//! table each.

use hotdesk_core::DomainName;
use serde::{Deserialize, Serialize};

/// One stored provisioning record; `data` is the server's JSON for `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvRecord {
    /// Owning domain; the record goes when the domain does.
    pub domain: DomainName,
    /// What the record is (`template`, `user_keys`, `mwi_subscription`, …).
    pub kind: String,
    /// Its name within the domain and kind.
    pub key: String,
    /// The record as JSON text.
    pub data: String,
}
