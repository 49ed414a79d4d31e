//! Trunks on the call path (HD-ROUTE-9).
//!
//! Addresses: an IP (with or without port) is used as is; a name is located per RFC 3263
//! by background tasks that fill a small cache ([`TrunkNames`]) the dispatcher reads
//! without waiting. The sweep keeps every trunk name of every domain fresh; a call to a
//! name not resolved yet waits (parked, the caller has its 100 Trying) until the next sweep
//! after the answer, and gets 503 if none comes within [`PARK_LIMIT`].
//!
//! Challenges: a trunk answering our INVITE with 401/407 gets it again once with digest
//! credentials (MD5 or SHA-256, `hotdesk_sip::digest::authorize`), the trunk's sealed
//! password opened only then (HD-SEC-2).
//!
//! Inbound: a request from a trunk's exact address, or from any port of a trunk's IP when
//! its From user is not one of the domain's extensions (those are phones and authenticate;
//! a trunk sharing an IP with phones, as on loopback, must not let them skip that).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hotdesk_core::{DomainName, Extension, Trunk};
use hotdesk_sip::digest::{authorize, Challenge, ClientRequest};
use hotdesk_sip::endpoint::{new_tag, ServerTransaction};
use hotdesk_sip::transaction::TransactionKey;
use hotdesk_sip::transport::{HickoryLookup, Query, Resolver, Target, Transport};
use hotdesk_sip::{Response, StatusCode};

use super::call::{ForkState, Record};
use super::route::Contact;
use super::setup::respond;
use super::B2bua;
use crate::state::State;

/// How long a resolved name is used before it is looked up again.
const REFRESH: Duration = Duration::from_secs(60);
/// How long a call waits for its trunk's name to resolve.
const PARK_LIMIT: Duration = Duration::from_secs(10);
/// Most calls waiting for names at once; more get 503 at once.
const MAX_PARKED: usize = 1000;

/// The credentials a trunk fork answers one challenge with.
#[derive(Debug, Clone)]
pub(super) struct TrunkAuth {
    username: String,
    /// The password, sealed (opened only to answer).
    sealed: String,
    /// A challenge was answered already: a second one is a refusal.
    tried: bool,
}

impl TrunkAuth {
    /// The trunk's credentials, if it has both parts.
    pub(super) fn of(trunk: &Trunk) -> Option<Box<Self>> {
        Some(Box::new(Self {
            username: trunk.username.clone()?,
            sealed: trunk.secret.clone()?,
            tried: false,
        }))
    }
}

#[derive(Debug, Default)]
struct Entry {
    targets: Vec<Target>,
    resolved: Option<Instant>,
    pending: bool,
}

/// Trunk names and their RFC 3263 targets, shared with the resolving tasks.
#[derive(Debug, Default, Clone)]
pub(super) struct TrunkNames {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    resolver: Option<Arc<Resolver<HickoryLookup>>>,
}

/// A call waiting for its trunk's name.
#[derive(Debug)]
pub(super) struct Parked {
    transaction: ServerTransaction,
    trunk: Trunk,
    /// The number to send to the trunk (the dialled one, or a forward destination).
    number: String,
    emergency: bool,
    record: Record,
    domain: DomainName,
    since: Instant,
}

/// `host[:port]` of a trunk address (IPv6 in brackets).
fn split_address(address: &str) -> Option<(&str, Option<u16>)> {
    let address = address.trim();
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        return Some((host, port));
    }
    match address.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((address, None)),
    }
}

/// The target of an IP address (`None` for a name).
fn literal(address: &str) -> Option<Target> {
    let (host, port) = split_address(address)?;
    let ip: IpAddr = host.parse().ok()?;
    Some(Target::new(
        Transport::Udp,
        SocketAddr::new(ip, port.unwrap_or(5060)),
    ))
}

impl TrunkNames {
    /// Looks trunk names up on `servers` instead of `/etc/resolv.conf` (none: no change).
    pub(super) fn use_servers(&mut self, servers: &[SocketAddr]) {
        if !servers.is_empty() {
            self.resolver = Some(Arc::new(Resolver::new(HickoryLookup::with_servers(
                servers,
            ))));
        }
    }

    /// The best target of `address` now: an IP at once, a name once resolved.
    fn target(&self, address: &str, family_v4: bool) -> Option<Target> {
        if let Some(target) = literal(address) {
            return Some(target);
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(address.trim())?;
        entry
            .targets
            .iter()
            .find(|t| t.addr.is_ipv4() == family_v4)
            .or_else(|| entry.targets.first())
            .cloned()
    }

    /// Every IP a trunk address stands for (resolved names included).
    fn ips(&self, address: &str) -> Vec<IpAddr> {
        if let Some(target) = literal(address) {
            return vec![target.addr.ip()];
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(address.trim())
            .map(|e| e.targets.iter().map(|t| t.addr.ip()).collect())
            .unwrap_or_default()
    }

    /// Starts resolving `address` unless it is an IP, fresh, or under way.
    fn refresh(&mut self, address: &str, now: Instant) {
        if literal(address).is_some() {
            return;
        }
        let Some((host, port)) = split_address(address) else {
            return;
        };
        let key = address.trim().to_owned();
        {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let fresh = entries
                .get(&key)
                .is_some_and(|e| e.pending || e.resolved.is_some_and(|at| at + REFRESH > now));
            if fresh {
                return;
            }
        }
        if self.resolver.is_none() {
            match HickoryLookup::from_system() {
                Ok(lookup) => self.resolver = Some(Arc::new(Resolver::new(lookup))),
                Err(error) => {
                    tracing::warn!(%error, "no DNS resolver for trunk names");
                    return;
                }
            }
        }
        let Some(resolver) = self.resolver.clone() else {
            return;
        };
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .pending = true;
        let query = Query {
            host: host.to_owned(),
            port,
            transport: None,
            secure: false,
        };
        let entries = Arc::clone(&self.entries);
        tokio::spawn(async move {
            let result = resolver.resolve(&query).await;
            let mut entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = entries.entry(key.clone()).or_default();
            entry.pending = false;
            entry.resolved = Some(Instant::now());
            match result {
                // UDP or TCP (a connection of ours, reused for the dialog); not TLS: the
                // trunk leg has no client certificate settings.
                Ok(targets) => {
                    entry.targets = targets
                        .into_iter()
                        .filter(|t| matches!(t.transport, Transport::Udp | Transport::Tcp))
                        .collect();
                }
                Err(error) => {
                    tracing::warn!(name = %key, %error, "trunk name does not resolve");
                    entry.targets.clear();
                }
            }
        });
    }
}

/// Whether a request from `source` with From user `from_user` comes from one of the
/// domain's trunks (see the module notes).
pub(super) fn from_trunk(
    state: &State,
    names: &TrunkNames,
    domain: &DomainName,
    source: SocketAddr,
    from_user: Option<&str>,
) -> bool {
    let Some(tenant) = state.tenants.get(domain) else {
        return false;
    };
    let exact = tenant.trunks.values().any(|t| {
        literal(&t.address).is_some_and(|x| x.addr == source)
            || names
                .target(&t.address, source.is_ipv4())
                .is_some_and(|x| x.addr == source)
    });
    if exact {
        return true;
    }
    let extension = from_user.and_then(|u| Extension::new(u).ok());
    let is_phone =
        extension.is_some_and(|e| tenant.devices.contains_key(&e) || tenant.users.contains_key(&e));
    !is_phone
        && tenant
            .trunks
            .values()
            .any(|t| names.ips(&t.address).contains(&source.ip()))
}

impl B2bua {
    /// Sends the call to `trunk` (HD-ROUTE-9, HD-ROUTE-6), waiting for its name if needed.
    // The parts of a parked call, taken apart by both callers (set-up and the sweep).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn route_to_trunk(
        &mut self,
        transaction: ServerTransaction,
        trunk: Trunk,
        number: String,
        emergency: bool,
        record: Record,
        domain: DomainName,
        now: Instant,
    ) {
        let v4 = self.io.local(Transport::Udp).is_none_or(|a| a.is_ipv4());
        let Some(target) = self.trunk_names.target(&trunk.address, v4) else {
            self.trunk_names.refresh(&trunk.address, now);
            if self.parked.len() >= MAX_PARKED {
                let reason = "Trunk Address Not Resolved";
                return self.refuse_unsent(
                    transaction,
                    &record,
                    StatusCode::SERVICE_UNAVAILABLE,
                    reason,
                );
            }
            self.parked.push(Parked {
                transaction,
                trunk,
                number,
                emergency,
                record,
                domain,
                since: now,
            });
            return;
        };
        let uri = format!("sip:{number}@{}", trunk.address.trim());
        let geolocation = emergency
            .then(|| record.anchor.clone())
            .flatten()
            .map(|anchor| (domain.clone(), anchor));
        let auth = TrunkAuth::of(&trunk);
        self.start(
            transaction,
            vec![Contact { uri, target, auth }],
            &domain,
            record,
            geolocation,
            now,
        );
    }

    /// A trunk as the contact of a later stage (a forward destination off-net), with the
    /// trunk's credentials like a first-stage trunk call: `None` while its name is not
    /// resolved yet (the lookup is started; the stage is skipped).
    pub(super) fn trunk_contact(
        &mut self,
        trunk: &Trunk,
        number: &str,
        now: Instant,
    ) -> Option<Contact> {
        let v4 = self.io.local(Transport::Udp).is_none_or(|a| a.is_ipv4());
        let Some(target) = self.trunk_names.target(&trunk.address, v4) else {
            self.trunk_names.refresh(&trunk.address, now);
            return None;
        };
        let uri = format!("sip:{number}@{}", trunk.address.trim());
        let auth = TrunkAuth::of(trunk);
        Some(Contact { uri, target, auth })
    }

    /// From the sweep: keeps trunk names fresh and sends parked calls on (or refuses them).
    pub(super) fn trunk_sweep(&mut self, now: Instant) {
        let addresses: Vec<String> = {
            let state = self.app.read();
            state
                .tenants
                .iter()
                .flat_map(|t| t.trunks.values().map(|trunk| trunk.address.clone()))
                .collect()
        };
        for address in &addresses {
            self.trunk_names.refresh(address, now);
        }
        let v4 = self.io.local(Transport::Udp).is_none_or(|a| a.is_ipv4());
        for parked in std::mem::take(&mut self.parked) {
            let ready = self.trunk_names.target(&parked.trunk.address, v4).is_some();
            if ready {
                let Parked {
                    transaction,
                    trunk,
                    number,
                    emergency,
                    record,
                    domain,
                    ..
                } = parked;
                self.route_to_trunk(transaction, trunk, number, emergency, record, domain, now);
            } else if parked.since + PARK_LIMIT <= now {
                let reason = "Trunk Address Does Not Resolve";
                let status = StatusCode::SERVICE_UNAVAILABLE;
                self.refuse_unsent(parked.transaction, &parked.record, status, reason);
            } else {
                self.parked.push(parked);
            }
        }
    }

    /// A CANCEL of a call parked for its trunk's name: 487, and it never leaves. `false`
    /// if no parked call has that INVITE.
    pub(super) fn cancel_parked(&mut self, invite: &TransactionKey) -> bool {
        let Some(at) = self
            .parked
            .iter()
            .position(|p| p.transaction.key() == invite)
        else {
            return false;
        };
        let parked = self.parked.swap_remove(at);
        let status = StatusCode::REQUEST_TERMINATED;
        self.refuse_unsent(
            parked.transaction,
            &parked.record,
            status,
            "Request Terminated",
        );
        true
    }

    /// Answers a call that never left for its trunk with a failure (and writes its CDR).
    fn refuse_unsent(
        &self,
        transaction: ServerTransaction,
        record: &Record,
        status: StatusCode,
        reason: &str,
    ) {
        self.refused(record, transaction.request().call_id(), status);
        respond(transaction, status, reason);
    }

    /// A 401/407 from a trunk fork: the INVITE again with credentials, once (RFC 3261
    /// §22.2). `false` when the fork has none to give, or gave them already.
    pub(super) fn answer_challenge(&mut self, id: u64, index: usize, response: &Response) -> bool {
        let proxy = response.status() == StatusCode::PROXY_AUTHENTICATION_REQUIRED;
        let (challenge_name, answer_name) = if proxy {
            ("Proxy-Authenticate", "Proxy-Authorization")
        } else {
            ("WWW-Authenticate", "Authorization")
        };
        let Some(call) = self.calls.get_mut(&id).filter(|c| !c.cancelled) else {
            return false;
        };
        let Some(fork) = call.forks.get_mut(index) else {
            return false;
        };
        let Some(auth) = fork.auth.as_mut().filter(|a| !a.tried) else {
            return false;
        };
        auth.tried = true;
        let Ok(password) = self.app.server_key().open(&auth.sealed) else {
            tracing::warn!("cannot open a trunk password (server key changed?)");
            return false;
        };
        let Some(sent) = fork.invite.as_ref() else {
            return false;
        };
        let uri = sent.uri().as_str().to_owned();
        let cnonce = new_tag();
        // The first challenge we can answer (RFC 8760: SHA-256 may come before MD5).
        let value = response
            .headers()
            .get_named(challenge_name)
            .filter_map(|h| h.value_str().ok())
            .filter_map(|v| Challenge::parse(v).ok())
            .find_map(|challenge| {
                authorize(
                    &challenge,
                    &ClientRequest {
                        username: &auth.username,
                        password: password.expose(),
                        method: "INVITE",
                        uri: &uri,
                        cnonce: &cnonce,
                        nc: 1,
                    },
                )
                .ok()
            });
        let Some(value) = value else {
            return false;
        };
        let Some(via_value) = self.io.via(&fork.dialog.target) else {
            return false;
        };
        fork.dialog.cseq += 1;
        let cseq = fork.dialog.cseq;
        let cseq_value = format!("{cseq} INVITE");
        let Ok(invite) = sent
            .edit()
            .replace("Via", via_value.as_str())
            .replace("CSeq", cseq_value.as_str())
            .push_back(answer_name, value.as_str())
            .build()
        else {
            return false;
        };
        let target = fork.dialog.target.clone();
        let token = Self::token(id, index as u64 + 1);
        if self
            .io
            .endpoint
            .send_request_to(invite.clone(), target, &self.io.sink, token)
            .is_err()
        {
            return false;
        }
        fork.invite = Some(Box::new(invite));
        fork.invite_cseq = cseq;
        fork.via = via_value;
        fork.state = ForkState::Calling;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_route_9_trunk_addresses() {
        assert_eq!(
            split_address("sip.example.net"),
            Some(("sip.example.net", None))
        );
        assert_eq!(
            split_address("localhost:5070"),
            Some(("localhost", Some(5070)))
        );
        assert_eq!(split_address("[::1]:5080"), Some(("::1", Some(5080))));
        assert_eq!(split_address("host:port"), None);
        assert_eq!(
            literal("127.0.0.2").map(|t| t.addr),
            Some("127.0.0.2:5060".parse().unwrap())
        );
        assert!(literal("localhost:5070").is_none());
    }
}
