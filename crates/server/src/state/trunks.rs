//! Trunks: a domain's upstream SIP peers for off-net numbers (HD-ROUTE-9).

use hotdesk_core::{DomainName, Trunk};
use hotdesk_store::StoreError;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::secrets::SecretString;
use crate::state::{validate, App, AppError};

/// A trunk to create (`POST /domains/{d}/trunks`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrunk {
    /// Name, unique in the domain: letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// `host[:port]` of the peer.
    pub address: String,
    /// Digest user name, if the peer challenges.
    #[serde(default)]
    pub username: Option<String>,
    /// Digest password; stored encrypted (HD-SEC-2).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretString>,
    /// Whether emergency calls use this trunk.
    #[serde(default)]
    pub emergency: bool,
}

fn check_trunk_name(name: &str) -> Result<String, AppError> {
    let ok = (1..=validate::MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(AppError::invalid(
            "name",
            "must be 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// `host[:port]`: a DNS name or IPv4 (or `[IPv6]`), optional port 1–65535.
fn check_address(address: &str) -> Result<String, AppError> {
    let bad = || AppError::invalid("address", "must be host[:port]");
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
        v6.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
        (None, after.strip_prefix(':'))
    } else {
        match address.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(address), None),
        }
    };
    if let Some(host) = host {
        let ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !ok {
            return Err(bad());
        }
    }
    if let Some(port) = port {
        if !port.parse::<u16>().is_ok_and(|p| p > 0) {
            return Err(bad());
        }
    }
    Ok(address.to_owned())
}

impl App {
    /// Creates a trunk.
    pub async fn create_trunk(
        &self,
        domain: &DomainName,
        new: NewTrunk,
    ) -> Result<Trunk, AppError> {
        let name = check_trunk_name(&new.name)?;
        let address = check_address(&new.address)?;
        let username = new
            .username
            .as_deref()
            .map(|u| validate::name("username", u, true))
            .transpose()?;
        let secret = new
            .password
            .as_ref()
            .map(|p| {
                validate::sip_password("password", p)?;
                self.key.seal(p.expose()).map_err(AppError::from)
            })
            .transpose()?;
        let trunk = Trunk {
            domain: domain.clone(),
            name,
            address,
            username,
            secret,
            emergency: new.emergency,
        };
        let _write = self.writes.lock().await;
        {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            if tenant.trunks.contains_key(&trunk.name) {
                return Err(AppError::TrunkExists);
            }
        }
        self.store
            .create_trunk(&trunk)
            .await
            .map_err(|err| match err {
                StoreError::Conflict { .. } => AppError::TrunkExists,
                other => other.into(),
            })?;
        self.write_state().tenants.put_trunk(trunk.clone());
        Ok(trunk)
    }

    /// A domain's trunks sorted by name; `None` if the domain is unknown.
    pub fn trunks(&self, domain: &DomainName) -> Option<Vec<Trunk>> {
        let state = self.read();
        let tenant = state.tenants.get(domain)?;
        Some(tenant.trunks.values().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_route_9_trunk_addresses_are_host_port() {
        assert!(check_address("sip.carrier.test").is_ok());
        assert!(check_address("203.0.113.5:5060").is_ok());
        assert!(check_address("[2001:db8::1]:5061").is_ok());
        assert!(check_address("host:0").is_err());
        assert!(check_address("host:99999").is_err());
        assert!(check_address("bad host").is_err());
        assert!(check_address("x'; DROP TABLE trunks;--").is_err());
        assert!(check_trunk_name("carrier-1").is_ok());
        assert!(check_trunk_name("a b").is_err());
    }
}
