//! A registrar binding as persisted: AOR → contact, so registrations survive a restart.

use hotdesk_core::{DomainName, Extension};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One contact bound to an address of record (RFC 3261 §10, RFC 5626 instance/reg-id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Domain of the AOR.
    pub domain: DomainName,
    /// The AOR's user part: a device anchor or a user extension.
    pub aor: Extension,
    /// Contact URI as registered.
    pub contact: String,
    /// Where requests for this contact go (`udp:1.2.3.4:5060`, received/rport applied).
    pub source: String,
    /// When the binding lapses.
    pub expires_at: Timestamp,
    /// Call-ID of the REGISTER that made it.
    pub call_id: String,
    /// CSeq of that REGISTER.
    pub cseq: u32,
    /// `+sip.instance`, if given (RFC 5626).
    pub instance: Option<String>,
    /// `reg-id`, if given (RFC 5626).
    pub reg_id: Option<u32>,
    /// `q` value × 1000.
    pub q: Option<u16>,
    /// Path headers to reach it (RFC 3327), in order.
    pub path: Vec<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
}

/// Names one binding to delete: AOR + contact, the key a [`Binding`] is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindingKey {
    /// Domain of the AOR.
    pub domain: DomainName,
    /// The AOR's user part.
    pub aor: Extension,
    /// Contact URI as registered.
    pub contact: String,
}

impl From<Binding> for BindingKey {
    fn from(binding: Binding) -> Self {
        Self {
            domain: binding.domain,
            aor: binding.aor,
            contact: binding.contact,
        }
    }
}

impl From<&Binding> for BindingKey {
    fn from(binding: &Binding) -> Self {
        Self {
            domain: binding.domain.clone(),
            aor: binding.aor.clone(),
            contact: binding.contact.clone(),
        }
    }
}
