//! Finding contacts: where requests for an AOR go (call routing), and the registration
//! state the API shows beside a device.

use std::net::SocketAddr;

use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::transport::{Target, Transport};
use hotdesk_store::Binding;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::bindings::Bindings;
use super::reply::seconds_left;

/// Where to send requests for a binding: its `source` (`udp:192.0.2.10:5060`, as the
/// registrar writes it) as a send target; `None` for an address that does not parse or a
/// transport the endpoint cannot send over (SCTP, unknown).
pub fn target_of(source: &str) -> Option<Target> {
    let (transport, addr) = source.split_once(':')?;
    let addr: SocketAddr = addr.parse().ok()?;
    match Transport::from_token(transport) {
        t @ (Transport::Udp | Transport::Tcp | Transport::Tls | Transport::Ws | Transport::Wss) => {
            Some(Target::new(t, addr))
        }
        Transport::Sctp | Transport::TlsSctp | Transport::Unknown => None,
    }
}

/// One registered contact as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ContactView {
    /// Contact URI.
    pub contact: String,
    /// Where the REGISTER came from (`udp:192.0.2.10:5060`).
    pub source: String,
    /// User-Agent of the phone.
    pub user_agent: Option<String>,
    /// When the binding lapses unless refreshed (RFC 3339).
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    /// Seconds left.
    pub expires_in: u64,
}

/// An AOR's registration: the most recently refreshed contact first, then the others.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RegistrationView {
    /// Contact URI of the most recent registration.
    pub contact: String,
    /// Its User-Agent.
    pub user_agent: Option<String>,
    /// When it lapses.
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    /// Every live contact.
    pub contacts: Vec<ContactView>,
}

impl Bindings {
    /// Where requests for `aor` in `domain` go: live contacts, highest `q` first (RFC 3261
    /// §16.6 ordering by q; equal q: most recently refreshed first).
    pub fn lookup(&self, domain: &DomainName, aor: &Extension, now: Timestamp) -> Vec<Binding> {
        let mut contacts = self.contacts(domain.as_str(), aor.as_str(), now);
        contacts.sort_by(|a, b| {
            b.q.unwrap_or(1000)
                .cmp(&a.q.unwrap_or(1000))
                .then(b.expires_at.cmp(&a.expires_at))
        });
        contacts
    }

    /// The registration state of `aor`, `None` when nothing is registered.
    pub fn registration(
        &self,
        domain: &DomainName,
        aor: &Extension,
        now: Timestamp,
    ) -> Option<RegistrationView> {
        let mut contacts = self.contacts(domain.as_str(), aor.as_str(), now);
        contacts.sort_by_key(|b| std::cmp::Reverse(b.expires_at));
        let first = contacts.first()?;
        Some(RegistrationView {
            contact: first.contact.clone(),
            user_agent: first.user_agent.clone(),
            expires_at: first.expires_at,
            contacts: contacts
                .iter()
                .map(|b| ContactView {
                    contact: b.contact.clone(),
                    source: b.source.clone(),
                    user_agent: b.user_agent.clone(),
                    expires_at: b.expires_at,
                    expires_in: seconds_left(b, now),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_sources_become_targets() {
        let udp = target_of("udp:127.0.0.1:5070").expect("udp");
        assert_eq!(udp.transport, Transport::Udp);
        assert_eq!(udp.addr, SocketAddr::from(([127, 0, 0, 1], 5070)));
        assert_eq!(
            target_of("tcp:[::1]:5060").map(|t| t.transport),
            Some(Transport::Tcp)
        );
        assert!(target_of("sctp:1.2.3.4:1").is_none());
        assert!(target_of("carrier-pigeon:127.0.0.1:1").is_none());
        assert!(target_of("udp:nowhere").is_none());
        assert!(target_of("garbage").is_none());
    }
}
